//! What a shard knows about each of its connections, for CLIENT LIST/INFO/KILL
//! and INFO clients. The connection task and the registry share one `ClientInfo`.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;

use crate::resp::Proto;

/// Redis's client types, for CLIENT LIST TYPE and CLIENT KILL TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

impl ClientType {
    /// Redis's getClientTypeByName (case-insensitive; `slave` is `replica`).
    pub fn by_name(name: &[u8]) -> Option<ClientType> {
        let is = |kw: &str| name.eq_ignore_ascii_case(kw.as_bytes());
        if is("normal") {
            Some(ClientType::Normal)
        } else if is("slave") || is("replica") {
            Some(ClientType::Replica)
        } else if is("pubsub") {
            Some(ClientType::PubSub)
        } else if is("master") {
            Some(ClientType::Master)
        } else {
            None
        }
    }
}

pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: i32,
    pub created_ms: u64,
    pub last_ms: Cell<u64>,
    pub name: RefCell<Vec<u8>>,
    pub lib_name: RefCell<Vec<u8>>,
    pub lib_ver: RefCell<Vec<u8>>,
    pub db: Cell<usize>,
    pub proto: Cell<Proto>,
    pub last_cmd: Cell<&'static str>,
    pub qbuf: Cell<usize>,
    pub qbuf_free: Cell<usize>,
    pub no_evict: Cell<bool>,
    /// Set by CLIENT KILL; the connection closes once it notices.
    pub killed: Cell<bool>,
    /// Connections opened by the server for itself are never listed as normal.
    pub flags: Cell<&'static str>,
    /// Pub/sub subscriptions and the push messages waiting to be written.
    pub push: crate::pubsub::Mailbox,
    /// Commands queued since MULTI (None outside MULTI), for CLIENT LIST.
    pub multi: Cell<Option<usize>>,
    /// Client-side caching settings (CLIENT TRACKING).
    pub tracking: crate::notify::ClientTracking,
    /// Waiting for input with nothing buffered, authenticated, outside MULTI
    /// and RESP2 subscribed mode: a busy script's shard may answer it
    /// (`server::busy`).
    pub awaiting: Cell<bool>,
}

impl ClientInfo {
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr, fd: i32, now_ms: u64) -> Self {
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created_ms: now_ms,
            last_ms: Cell::new(now_ms),
            name: RefCell::new(Vec::new()),
            lib_name: RefCell::new(Vec::new()),
            lib_ver: RefCell::new(Vec::new()),
            db: Cell::new(0),
            proto: Cell::new(Proto::Resp2),
            last_cmd: Cell::new("NULL"),
            qbuf: Cell::new(0),
            qbuf_free: Cell::new(0),
            no_evict: Cell::new(false),
            killed: Cell::new(false),
            flags: Cell::new("N"),
            push: crate::pubsub::Mailbox::default(),
            multi: Cell::new(None),
            tracking: Default::default(),
            awaiting: Cell::new(false),
        }
    }

    /// Redis's getClientType, from the flag letters.
    pub fn client_type(&self) -> ClientType {
        let f = self.flags.get();
        if f.contains('M') {
            ClientType::Master
        } else if f.contains('S') {
            ClientType::Replica
        } else if f.contains('P') || self.push.subscribed() {
            ClientType::PubSub
        } else {
            ClientType::Normal
        }
    }

    /// The CLIENT LIST `flags` field: the connection's letters plus `e` for
    /// CLIENT NO-EVICT, `N` when there are none.
    pub fn flag_letters(&self) -> String {
        let mut f: String = self.flags.get().chars().filter(|&c| c != 'N').collect();
        if self.push.subscribed() && !f.contains('P') {
            f.insert(0, 'P');
        }
        if self.multi.get().is_some() {
            f.push('x');
        }
        f.push_str(self.tracking.letters());
        if self.no_evict.get() {
            f.push('e');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// One CLIENT LIST line, in Redis 7.0's field order.
    pub fn describe(&self, now_ms: u64) -> String {
        let name = String::from_utf8_lossy(&self.name.borrow()).into_owned();
        let subs = self.push.counts();
        let resp = match self.proto.get() {
            Proto::Resp2 => 2,
            Proto::Resp3 => 3,
        };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll={} omem={} tot-mem={} events=r cmd={} user=default redir={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            name,
            now_ms.saturating_sub(self.created_ms) / 1000,
            now_ms.saturating_sub(self.last_ms.get()) / 1000,
            self.flag_letters(),
            self.db.get(),
            subs[0],
            subs[1],
            subs[2],
            self.multi.get().map_or(-1, |n| n as i64),
            self.qbuf.get(),
            self.qbuf_free.get(),
            self.push.pending_messages(),
            self.push.output_bytes(),
            16384 + self.qbuf.get() + self.qbuf_free.get() + self.push.output_bytes(),
            self.last_cmd.get(),
            self.tracking.redir(),
            resp,
        )
    }
}

/// The connections living on one shard.
#[derive(Default)]
pub struct Registry {
    pub clients: crate::db::Map<u64, Rc<ClientInfo>>,
}

impl Registry {
    pub fn add(&mut self, c: Rc<ClientInfo>) {
        self.clients.insert(c.id, c);
    }

    pub fn remove(&mut self, id: u64) {
        self.clients.remove(&id);
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}
