//! A shard: one pinned core's share of the keyspace, its cross-shard channels,
//! and the calls that run work on other shards. Only this module and `runtime`
//! touch queues and executors.

pub mod block;
pub mod evict;
pub mod hop;
pub mod signal;
pub mod slot;
pub mod tx;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

pub use slot::{key_shard, key_slot, ShardId};

use crate::config::Config;
use crate::db::{Clock, Db, DbStats};
use crate::runtime::{Receiver, Sender};
use crate::server::client::Registry;
use crate::server::Shared;
use hop::{Job, Pending, Reply, Request, Response};
use std::any::Any;

/// Per-command counters, indexed like the command table.
#[derive(Debug, Default, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    /// Time spent running the command (INFO shows it in microseconds).
    pub nanos: u64,
    pub rejected: u64,
    pub failed: u64,
}

/// The data a shard owns: its databases, counters and its copy of the config.
pub struct ShardState {
    pub dbs: Vec<Db>,
    pub stats: DbStats,
    pub cmd_stats: Vec<CmdStat>,
    pub error_stats: crate::db::Map<String, u64>,
    /// Commands refused before running (unknown, arity, auth), for INFO stats.
    pub rejected_calls: u64,
    /// Bytes read from and written to clients, and the reads and writes, for INFO stats.
    pub net_in: u64,
    pub net_out: u64,
    pub reads: u64,
    pub writes: u64,
    pub config: Config,
    /// Active expiry can be switched off by DEBUG SET-ACTIVE-EXPIRE.
    pub active_expire: bool,
    /// Next database the active-expiry cycle looks at.
    pub expire_db: usize,
    pub rng: u64,
    /// When the last command run here ended (or its batch began): one clock
    /// read per command times it for INFO commandstats.
    pub lap: std::time::Instant,
    /// Per-key FIFOs of calls blocked on this shard's keys, and their count.
    pub blocked: block::Queues,
    pub waiters: usize,
    /// Keys changed by commands, for WATCH, tracking and notifications.
    pub signals: signal::Signals,
    /// Cross-shard transactions' lock requests on this shard's keys.
    pub locks: tx::Locks,
    /// Running a transaction's commands: blocked clients wait for its end.
    pub hold_ready: bool,
    /// Connections WATCHing this shard's keys.
    pub watchers: crate::cmd::transaction::Watchers,
    /// Write commands run here, and their count when the last snapshot began
    /// (Redis's `dirty`, for the `save` schedule).
    pub dirty: u64,
    pub dirty_at_save: u64,
    /// This shard's append-only file buffer, with `appendonly yes`.
    pub aof: Option<Box<crate::persist::log::Log>>,
    /// maxmemory: the eviction pool and counters.
    pub evictions: evict::Evictions,
}

impl ShardState {
    pub fn new(config: Config, ncommands: usize, seed: u64) -> Self {
        ShardState {
            dbs: (0..config.databases).map(|_| Db::new()).collect(),
            stats: DbStats::default(),
            cmd_stats: vec![CmdStat::default(); ncommands],
            error_stats: crate::db::Map::default(),
            rejected_calls: 0,
            net_in: 0,
            net_out: 0,
            reads: 0,
            writes: 0,
            config,
            active_expire: true,
            expire_db: 0,
            rng: seed | 1,
            lap: std::time::Instant::now(),
            blocked: block::Queues::default(),
            waiters: 0,
            signals: signal::Signals::default(),
            locks: tx::Locks::default(),
            hold_ready: false,
            watchers: Default::default(),
            dirty: 0,
            dirty_at_save: 0,
            aof: None,
            evictions: evict::Evictions::default(),
        }
    }

    pub fn random(&mut self) -> u64 {
        xorshift(&mut self.rng)
    }
}

/// xorshift64*: cheap randomness for RANDOMKEY and sampling.
pub fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Everything one executor owns. Reached through `Rc<Core>` on its own thread.
pub struct Core {
    pub id: ShardId,
    /// This core, for tasks it spawns for itself.
    me: std::rc::Weak<Core>,
    /// Blocked calls of this shard's connections.
    pub slots: RefCell<block::Slots>,
    pub nshards: usize,
    pub state: RefCell<ShardState>,
    pub shared: Arc<Shared>,
    pub clients: RefCell<Registry>,
    /// This shard's pub/sub subscribers and its queues of messages to other shards.
    pub pubsub: crate::pubsub::ShardPubSub,
    /// Cached clock, refreshed once per batch of commands.
    clock: Cell<Clock>,
    /// How accesses update keys' access fields, from `maxmemory-policy`.
    access: Cell<crate::db::evict::Access>,
    req_tx: Vec<Option<Sender<Request>>>,
    rep_tx: Vec<Option<Sender<Response>>>,
    pending: Rc<RefCell<Pending>>,
    /// Jobs from other shards waiting for a lock release: (from, token, job).
    parked: RefCell<Vec<(ShardId, u32, hop::Job)>>,
    /// Local tasks waiting for a lock release.
    unlock_wakers: RefCell<Vec<std::task::Waker>>,
    /// Calls to other shards complete before returning (the caller's thread
    /// waits for the answer): set while a script runs with every shard locked.
    pub sync_calls: Cell<bool>,
}

/// The channel ends one shard gets: to and from every other shard.
pub struct Links {
    pub req_tx: Vec<Option<crate::runtime::ChannelTx<Request>>>,
    pub req_rx: Vec<Option<crate::runtime::ChannelRx<Request>>>,
    pub rep_tx: Vec<Option<crate::runtime::ChannelTx<Response>>>,
    pub rep_rx: Vec<Option<crate::runtime::ChannelRx<Response>>>,
}

/// Builds the full mesh of request and reply channels for `n` shards.
pub fn mesh(n: usize, capacity: usize) -> Vec<Links> {
    let mut links: Vec<Links> = (0..n)
        .map(|_| Links {
            req_tx: (0..n).map(|_| None).collect(),
            req_rx: (0..n).map(|_| None).collect(),
            rep_tx: (0..n).map(|_| None).collect(),
            rep_rx: (0..n).map(|_| None).collect(),
        })
        .collect();
    for a in 0..n {
        for b in 0..n {
            if a == b {
                continue;
            }
            let (tx, rx) = crate::runtime::channel(capacity);
            links[a].req_tx[b] = Some(tx);
            links[b].req_rx[a] = Some(rx);
            let (tx, rx) = crate::runtime::channel(capacity);
            links[a].rep_tx[b] = Some(tx);
            links[b].rep_rx[a] = Some(rx);
        }
    }
    links
}

impl Core {
    /// Connects this shard's channel ends (every peer must do the same
    /// concurrently) and starts the tasks that serve other shards' calls.
    pub async fn start(id: ShardId, links: Links, state: ShardState, shared: Arc<Shared>) -> Rc<Core> {
        let n = links.req_tx.len();
        let mut waits = Vec::new();
        for (to, tx) in links.req_tx.into_iter().enumerate() {
            if let Some(tx) = tx {
                waits.push((to, crate::runtime::spawn_joinable(async move { Conn::Req(tx.connect().await) })));
            }
        }
        for (to, tx) in links.rep_tx.into_iter().enumerate() {
            if let Some(tx) = tx {
                waits.push((to, crate::runtime::spawn_joinable(async move { Conn::Rep(tx.connect().await) })));
            }
        }
        let mut req_rx_w = Vec::new();
        for (from, rx) in links.req_rx.into_iter().enumerate() {
            if let Some(rx) = rx {
                req_rx_w.push((from, crate::runtime::spawn_joinable(async move { rx.connect().await })));
            }
        }
        let mut rep_rx_w = Vec::new();
        for rx in links.rep_rx.into_iter().flatten() {
            rep_rx_w.push(crate::runtime::spawn_joinable(async move { rx.connect().await }));
        }
        let mut req_tx: Vec<Option<Sender<Request>>> = (0..n).map(|_| None).collect();
        let mut rep_tx: Vec<Option<Sender<Response>>> = (0..n).map(|_| None).collect();
        for (to, w) in waits {
            match w.await {
                Conn::Req(s) => req_tx[to] = Some(s),
                Conn::Rep(s) => rep_tx[to] = Some(s),
            }
        }
        let access = Cell::new(crate::db::evict::Access::of(&state.config));
        let core = Rc::new_cyclic(|me| Core {
            id,
            me: me.clone(),
            slots: RefCell::new(block::Slots::default()),
            nshards: n,
            state: RefCell::new(state),
            shared,
            clients: RefCell::new(Registry::default()),
            pubsub: crate::pubsub::ShardPubSub::new(n),
            clock: Cell::new(Clock { access: access.get(), ..Clock::now() }),
            access,
            req_tx,
            rep_tx,
            pending: Rc::new(RefCell::new(Pending::default())),
            parked: RefCell::new(Vec::new()),
            unlock_wakers: RefCell::new(Vec::new()),
            sync_calls: Cell::new(false),
        });
        for (from, w) in req_rx_w {
            let rx = w.await;
            let core = core.clone();
            crate::runtime::spawn(async move { core.serve_requests(from, rx).await });
        }
        for w in rep_rx_w {
            let rx = w.await;
            let pending = core.pending.clone();
            crate::runtime::spawn(async move {
                while let Some(r) = rx.recv().await {
                    pending.borrow_mut().complete(r.token, r.result);
                }
            });
        }
        crate::pubsub::start(&core);
        core
    }

    async fn serve_requests(self: Rc<Self>, from: ShardId, rx: Receiver<Request>) {
        while let Some(req) = rx.recv().await {
            self.refresh_clock();
            let mut job = req.job;
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&self)));
            self.serve_blocked();
            let result = match result {
                Ok(Some(r)) if r.is::<NoReply>() => continue,
                Ok(Some(r)) => Ok(r),
                Ok(None) => {
                    self.parked.borrow_mut().push((from, req.token, job));
                    continue;
                }
                Err(p) => Err(panic_message(&p)),
            };
            if let Some(tx) = &self.rep_tx[from] {
                if tx.send(Response { token: req.token, result }).await.is_err() {
                    return;
                }
            }
        }
    }

    /// Releases transaction `seq`'s locks on this shard and lets whatever
    /// waited for them try again.
    pub fn unlock(&self, seq: u64) {
        {
            let mut st = self.state.borrow_mut();
            // The transaction's logged effects here go to the file as one frame.
            if let Some(n) = st.locks.frame(seq) {
                crate::persist::log::end_frame(&mut st, seq, n);
            }
            if !st.locks.release(seq) {
                return;
            }
        }
        for w in self.unlock_wakers.borrow_mut().drain(..) {
            w.wake();
        }
        let parked = std::mem::take(&mut *self.parked.borrow_mut());
        for (from, token, mut job) in parked {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(self)));
            let result = match result {
                Ok(Some(r)) => Ok(r),
                Ok(None) => {
                    self.parked.borrow_mut().push((from, token, job));
                    continue;
                }
                Err(p) => Err(panic_message(&p)),
            };
            let Some(me) = self.me.upgrade() else { return };
            crate::runtime::spawn(async move {
                if let Some(tx) = &me.rep_tx[from] {
                    let _ = tx.send(Response { token, result }).await;
                }
            });
        }
        self.serve_blocked();
    }

    /// This core, shared (for tasks a job spawns on its shard).
    pub fn rc(&self) -> Option<Rc<Core>> {
        self.me.upgrade()
    }

    /// Whether transaction `seq` holds all its locks on this shard.
    pub fn granted(&self, seq: u64) -> bool {
        self.state.borrow().locks.granted(seq)
    }

    /// Runs `f` on this shard until it returns `Some`, trying again after
    /// each lock release.
    pub async fn until<T>(&self, mut f: impl FnMut(&Core) -> Option<T>) -> T {
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            let mut waiting = false;
            std::future::poll_fn(|cx| {
                if waiting {
                    return std::task::Poll::Ready(());
                }
                waiting = true;
                self.unlock_wakers.borrow_mut().push(cx.waker().clone());
                std::task::Poll::Pending
            })
            .await;
        }
    }

    /// Runs `f` on shard `target` until it returns `Some` (trying again after
    /// each lock release there) and returns that.
    pub async fn call_when<T, F>(&self, target: ShardId, f: F) -> T
    where
        T: Send + 'static,
        F: FnMut(&Core) -> Option<T> + Send + 'static,
    {
        if target == self.id {
            return self.until(f).await;
        }
        let mut f = f;
        self.send_job(target, Box::new(move |core| f(core).map(|v| Box::new(v) as Box<dyn Any + Send>))).await.await
    }

    pub fn clock(&self) -> Clock {
        self.clock.get()
    }

    /// The configuration changed how accesses are recorded.
    pub fn set_access(&self, access: crate::db::evict::Access) {
        self.access.set(access);
        self.clock.set(Clock { access, ..self.clock.get() });
    }

    pub fn refresh_clock(&self) -> Clock {
        let c = Clock { access: self.access.get(), ..Clock::now() };
        self.clock.set(c);
        c
    }

    /// Runs `f` on shard `target` and returns its result. Runs inline when the
    /// target is this shard.
    pub async fn call<T, F>(&self, target: ShardId, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Core) -> T + Send + 'static,
    {
        if target == self.id {
            let r = f(self);
            self.serve_blocked();
            return r;
        }
        self.send(target, f).await.await
    }

    /// Serves clients blocked on keys that the last job created.
    pub fn serve_blocked(&self) {
        let mut st = self.state.borrow_mut();
        block::serve_ready(self, &mut st);
        signal::hand_on(self, &mut st);
    }

    /// Sends `f` to another shard without waiting for the result; await the
    /// returned reply later, so calls to several shards overlap.
    pub async fn send<T, F>(&self, target: ShardId, f: F) -> Reply<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core) -> T + Send + 'static,
    {
        let mut f = Some(f);
        let job: Job = Box::new(move |core| f.take().map(|f| Box::new(f(core)) as Box<dyn Any + Send>));
        self.send_job(target, job).await
    }

    /// As [`Core::call_when`], without waiting: await the reply later.
    pub async fn send_when<T, F>(&self, target: ShardId, f: F) -> Reply<T>
    where
        T: Send + 'static,
        F: FnMut(&Core) -> Option<T> + Send + 'static,
    {
        let mut f = f;
        self.send_job(target, Box::new(move |core| f(core).map(|v| Box::new(v) as Box<dyn Any + Send>))).await
    }

    async fn send_job<T>(&self, target: ShardId, job: Job) -> Reply<T> {
        if self.sync_calls.get() {
            return self.send_job_now(target, job);
        }
        let token = self.pending.borrow_mut().open();
        let tx = self.req_tx[target].as_ref().expect("a channel to every other shard");
        // A send fails only when the peer executor is gone, i.e. at shutdown.
        if tx.send(Request { token, job }).await.is_err() {
            tracing::warn!(shard = target, "peer shard is gone");
            self.pending.borrow_mut().complete(token, Err(format!("shard {target} is gone")));
        }
        Reply::new(self.pending.clone(), token)
    }

    /// Runs `f` with each group's payload on the group's shard (others in
    /// parallel, this one inline) and returns the results in the order of `groups`.
    pub async fn call_each<G, T, F>(&self, groups: Vec<(ShardId, G)>, f: F) -> Vec<T>
    where
        G: Send + 'static,
        T: Send + 'static,
        F: Fn(&Core, G) -> T + Send + Clone + 'static,
    {
        let mut remote = Vec::new();
        let mut local = Vec::new();
        for (i, (shard, g)) in groups.into_iter().enumerate() {
            if shard == self.id {
                local.push((i, g));
            } else {
                let f = f.clone();
                remote.push((i, self.send(shard, move |core: &Core| f(core, g)).await));
            }
        }
        let mut results: Vec<Option<T>> = Vec::new();
        results.resize_with(local.len() + remote.len(), || None);
        for (i, g) in local {
            results[i] = Some(f(self, g));
        }
        self.serve_blocked();
        for (i, reply) in remote {
            results[i] = Some(reply.await);
        }
        results.into_iter().flatten().collect()
    }

    /// Runs `f` on every shard (others in parallel, this one inline) and returns
    /// the results in shard order.
    pub async fn call_all<T, F>(&self, f: F) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(&Core) -> T + Send + Clone + 'static,
    {
        let mut replies = Vec::with_capacity(self.nshards);
        for s in 0..self.nshards {
            if s != self.id {
                replies.push(Some(self.send(s, f.clone()).await));
            } else {
                replies.push(None);
            }
        }
        let mut local = Some(f(self));
        self.serve_blocked();
        let mut out = Vec::with_capacity(self.nshards);
        for r in replies {
            match r {
                Some(r) => out.push(r.await),
                None => out.extend(local.take()),
            }
        }
        out
    }
}

/// The answer of a job whose caller waits for it in place (see `sync_calls`):
/// the serving shard sends no reply message for it.
struct NoReply;

impl Core {
    /// Runs `job` on `target` and waits for it on this thread, then hands the
    /// result over as an already completed reply. Only safe while no other
    /// shard can be waiting the same way for this one: with every shard
    /// locked by this caller's transaction.
    fn send_job_now<T>(&self, target: ShardId, mut job: Job) -> Reply<T> {
        let token = self.pending.borrow_mut().open();
        let result = if target == self.id {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(self))) {
                Ok(Some(r)) => Ok(r),
                Ok(None) => Err("a job waited for a lock its own transaction holds".to_string()),
                Err(p) => Err(panic_message(&p)),
            }
        } else {
            let slot: Arc<std::sync::Mutex<Option<hop::Outcome>>> = Arc::default();
            let answer = slot.clone();
            let mut job = Some(job);
            let wrapped: Job = Box::new(move |core| {
                let mut j = job.take()?;
                let r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| j(core))) {
                    Ok(Some(r)) => Ok(r),
                    Ok(None) => Err("a job waited for a lock its own transaction holds".to_string()),
                    Err(p) => Err(panic_message(&p)),
                };
                *answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                Some(Box::new(NoReply))
            });
            let mut req = Request { token: u32::MAX, job: wrapped };
            let tx = self.req_tx[target].as_ref().expect("a channel to every other shard");
            let mut spins = 0u32;
            let sent = loop {
                match tx.try_send(req) {
                    Ok(()) => break true,
                    Err(Some(r)) => req = r,
                    Err(None) => break false,
                }
                pause(&mut spins);
            };
            if sent {
                loop {
                    if let Some(r) = slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
                        break r;
                    }
                    pause(&mut spins);
                }
            } else {
                Err(format!("shard {target} is gone"))
            }
        };
        self.pending.borrow_mut().complete(token, result);
        Reply::new(self.pending.clone(), token)
    }
}

/// Busy-waits a little, then gives the CPU away between checks.
fn pause(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// The text of a caught panic, for logs and error replies.
pub fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

enum Conn {
    Req(Sender<Request>),
    Rep(Sender<Response>),
}
