//! Publish/subscribe: per-shard subscriber registries and cross-shard fan-out.
//!
//! A subscription is recorded on the shard of the subscribing connection only.
//! A message is delivered to the publishing shard's subscribers at once, and
//! travels to every other shard as part of one batch per target shard: each
//! shard keeps an outbox per peer, drained by one task that sends everything
//! queued as a single cross-shard job and waits for it before sending the next.
//! The target delivers to its local subscribers and reports how many received.
//!
//! ```text
//!   PUBLISH on shard 1 ──► deliver to shard 1's subscribers (n1)
//!        │
//!        ├─► outbox[0] ──► flusher ──► job on shard 0: deliver, count n0
//!        └─► outbox[2] ──► flusher ──► job on shard 2: deliver, count n2
//!   reply n0 + n1 + n2
//! ```
//!
//! One outbox per (sender, target) pair and one job in flight at a time keep
//! every message from one shard in order at every other shard, whichever
//! connection or command published it (PUBLISH, keyspace notifications,
//! pushes to one client). Each delivery encodes the message into the
//! subscriber's [`Mailbox`] in its protocol; the connection task writes it.

pub mod mailbox;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use bytes::Bytes;

pub use mailbox::Mailbox;

use crate::cmd::keys::glob::string_match;
use crate::config::ObufLimit;
use crate::db::Map;
use crate::resp::Out;
use crate::server::client::ClientInfo;
use crate::shard::{Core, ShardId};

/// The three subscription namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel = 0,
    Pattern = 1,
    Shard = 2,
}

/// A push message written by the closure in the receiving client's protocol.
pub type PushFn = Box<dyn FnOnce(&mut Out) + Send>;

/// What one shard sends another.
enum Msg {
    Publish { shard: bool, channel: Bytes, message: Bytes },
    Push { client: u64, push: PushFn },
}

type Subscribers = Map<u64, Rc<ClientInfo>>;

/// Messages queued for one peer shard and the task that drains them.
#[derive(Default)]
struct Outbox {
    queue: RefCell<VecDeque<(Msg, Option<Rc<Tally>>)>>,
    waker: RefCell<Option<Waker>>,
}

/// The receivers of one PUBLISH, added up as the other shards report.
struct Tally {
    pending: Cell<usize>,
    sum: Cell<u64>,
    waker: RefCell<Option<Waker>>,
}

impl Tally {
    fn add(&self, n: u64) {
        self.sum.set(self.sum.get() + n);
        self.pending.set(self.pending.get().saturating_sub(1));
        if self.pending.get() == 0 {
            if let Some(w) = self.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }

    async fn wait(&self) -> u64 {
        poll_fn(|cx| {
            if self.pending.get() == 0 {
                return Poll::Ready(self.sum.get());
            }
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// One shard's pub/sub state.
pub struct ShardPubSub {
    /// Channel, pattern and shard-channel name -> this shard's subscribers.
    subs: [RefCell<Map<Bytes, Subscribers>>; 3],
    outboxes: Vec<Outbox>,
    /// `client-output-buffer-limit`, cached for deliveries made while a
    /// command holds the shard state.
    limits: Cell<[ObufLimit; 3]>,
}

impl ShardPubSub {
    pub fn new(nshards: usize) -> Self {
        ShardPubSub {
            subs: Default::default(),
            outboxes: (0..nshards).map(|_| Outbox::default()).collect(),
            limits: Cell::new(crate::config::Config::default().client_output_buffer_limit),
        }
    }

    fn limits(&self, core: &Core) -> [ObufLimit; 3] {
        if let Ok(st) = core.state.try_borrow() {
            self.limits.set(st.config.client_output_buffer_limit);
        }
        self.limits.get()
    }

    /// Names with at least one subscriber here, matching `pattern` if given.
    pub fn names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let subs = self.subs[kind as usize].borrow();
        subs.keys().filter(|n| pattern.is_none_or(|p| string_match(p, n, false))).cloned().collect()
    }

    /// Subscribers here of each name.
    pub fn numsub(&self, kind: Kind, names: &[Bytes]) -> Vec<u64> {
        let subs = self.subs[kind as usize].borrow();
        names.iter().map(|n| subs.get(n).map_or(0, |s| s.len() as u64)).collect()
    }
}

/// Starts the tasks that carry this shard's messages to each other shard.
pub fn start(core: &Rc<Core>) {
    core.pubsub.limits.set(core.state.borrow().config.client_output_buffer_limit);
    for target in (0..core.nshards).filter(|&t| t != core.id) {
        let core = core.clone();
        crate::runtime::spawn(async move { flush(core, target).await });
    }
}

/// Sends everything queued for `target`, one batch (one job) at a time.
async fn flush(core: Rc<Core>, target: ShardId) {
    loop {
        poll_fn(|cx| {
            let ob = &core.pubsub.outboxes[target];
            if !ob.queue.borrow().is_empty() {
                return Poll::Ready(());
            }
            *ob.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        let batch: Vec<_> = core.pubsub.outboxes[target].queue.borrow_mut().drain(..).collect();
        let (msgs, tallies): (Vec<Msg>, Vec<Option<Rc<Tally>>>) = batch.into_iter().unzip();
        let counts = core.call(target, move |c| deliver_batch(c, msgs)).await;
        for (t, n) in tallies.into_iter().zip(counts) {
            if let Some(t) = t {
                t.add(n);
            }
        }
    }
}

fn enqueue(core: &Core, target: ShardId, msg: Msg, tally: Option<Rc<Tally>>) {
    let ob = &core.pubsub.outboxes[target];
    ob.queue.borrow_mut().push_back((msg, tally));
    if let Some(w) = ob.waker.borrow_mut().take() {
        w.wake();
    }
}

/// Runs on the target shard: delivers a batch in order, returning each
/// message's receivers.
fn deliver_batch(core: &Core, msgs: Vec<Msg>) -> Vec<u64> {
    msgs.into_iter()
        .map(|m| match m {
            Msg::Publish { shard, channel, message } => deliver(core, shard, &channel, &message),
            Msg::Push { client, push } => {
                push_here(core, client, push);
                0
            }
        })
        .collect()
}

/// Delivers a message to this shard's subscribers; returns how many received it
/// (one per channel subscriber and one per matching client-pattern pair).
pub fn deliver(core: &Core, shard: bool, channel: &[u8], message: &[u8]) -> u64 {
    let ps = &core.pubsub;
    let limits = ps.limits(core);
    let now_s = core.clock().now_ms / 1000;
    let mut n = 0;
    let (kind, head): (Kind, &[u8]) = if shard { (Kind::Shard, b"smessage") } else { (Kind::Channel, b"message") };
    if let Some(subs) = ps.subs[kind as usize].borrow().get(channel) {
        for c in subs.values() {
            n += 1;
            c.push.deliver(c, &limits, now_s, |out| {
                out.push(3);
                out.bulk(head);
                out.bulk(channel);
                out.bulk(message);
            });
        }
    }
    if !shard {
        for (pattern, subs) in ps.subs[Kind::Pattern as usize].borrow().iter() {
            if !string_match(pattern, channel, false) {
                continue;
            }
            for c in subs.values() {
                n += 1;
                c.push.deliver(c, &limits, now_s, |out| {
                    out.push(4);
                    out.bulk(b"pmessage");
                    out.bulk(pattern);
                    out.bulk(channel);
                    out.bulk(message);
                });
            }
        }
    }
    n
}

/// Publishes from inside a command on any shard (keyspace notifications):
/// delivers to this shard's subscribers now and queues one message for each
/// other shard, sent in order after what this shard queued before.
pub fn publish_nowait(core: &Core, channel: &[u8], message: &[u8]) {
    publish_queued(core, false, channel, message);
}

/// PUBLISH (or SPUBLISH, `shard`) from code that cannot wait, such as a
/// script running on this shard: delivers here now, queues for every other
/// shard in order, and returns the receivers on this shard only.
pub fn publish_queued(core: &Core, shard: bool, channel: &[u8], message: &[u8]) -> u64 {
    let n = deliver(core, shard, channel, message);
    if core.nshards > 1 {
        let (channel, message) = (Bytes::copy_from_slice(channel), Bytes::copy_from_slice(message));
        for t in (0..core.nshards).filter(|&t| t != core.id) {
            let msg = Msg::Publish { shard, channel: channel.clone(), message: message.clone() };
            enqueue(core, t, msg, None);
        }
    }
    n
}

/// PUBLISH / SPUBLISH: delivers everywhere and returns the number of receivers.
pub async fn publish(core: &Core, shard: bool, channel: &[u8], message: &[u8]) -> u64 {
    let mut n = deliver(core, shard, channel, message);
    if core.nshards > 1 {
        let tally =
            Rc::new(Tally { pending: Cell::new(core.nshards - 1), sum: Cell::new(0), waker: RefCell::default() });
        let (channel, message) = (Bytes::copy_from_slice(channel), Bytes::copy_from_slice(message));
        for t in (0..core.nshards).filter(|&t| t != core.id) {
            let msg = Msg::Publish { shard, channel: channel.clone(), message: message.clone() };
            enqueue(core, t, msg, Some(tally.clone()));
        }
        n += tally.wait().await;
    }
    n
}

/// Delivers one push message (the closure writes all of it, e.g. `out.push(2)`
/// and its elements) to client `client` on shard `shard`, fire-and-forget.
/// Pushes from one shard arrive in the order they were made, interleaved in
/// order with that shard's published messages. A client that is gone is skipped.
pub fn push_to_client(core: &Core, shard: ShardId, client: u64, push: PushFn) {
    if shard == core.id {
        push_here(core, client, push);
    } else if shard < core.nshards {
        enqueue(core, shard, Msg::Push { client, push }, None);
    }
}

fn push_here(core: &Core, client: u64, push: PushFn) {
    let Some(c) = core.clients.borrow().clients.get(&client).cloned() else { return };
    let limits = core.pubsub.limits(core);
    c.push.deliver(&c, &limits, core.clock().now_ms / 1000, push);
}

/// Subscribes `client` (a connection of this shard); false if it already was.
pub fn subscribe(core: &Core, client: &Rc<ClientInfo>, kind: Kind, name: &[u8]) -> bool {
    // An own copy: the argument may share the connection's whole read buffer.
    let name = Bytes::copy_from_slice(name);
    if !client.push.add(kind, &name) {
        return false;
    }
    let mut subs = core.pubsub.subs[kind as usize].borrow_mut();
    subs.entry(name).or_default().insert(client.id, client.clone());
    true
}

/// Unsubscribes `client`; false if it was not subscribed.
pub fn unsubscribe(core: &Core, client: &ClientInfo, kind: Kind, name: &[u8]) -> bool {
    if !client.push.remove(kind, name) {
        return false;
    }
    let mut subs = core.pubsub.subs[kind as usize].borrow_mut();
    if let Some(set) = subs.get_mut(name) {
        set.remove(&client.id);
        if set.is_empty() {
            subs.remove(name);
        }
    }
    true
}

/// Drops every subscription of `client` without replies (RESET, disconnect).
pub fn unsubscribe_all(core: &Core, client: &ClientInfo) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in client.push.list(kind) {
            unsubscribe(core, client, kind, &name);
        }
    }
}

/// Distinct channels, patterns and shard channels with subscribers on any
/// shard (INFO stats pubsub_channels, pubsub_patterns, pubsubshard_channels).
pub async fn totals(core: &Core) -> [usize; 3] {
    let per_shard =
        core.call_all(|c| [Kind::Channel, Kind::Pattern, Kind::Shard].map(|k| c.pubsub.names(k, None))).await;
    let mut out = [0; 3];
    for (k, slot) in out.iter_mut().enumerate() {
        let mut all: std::collections::HashSet<&Bytes> = std::collections::HashSet::new();
        for names in &per_shard {
            all.extend(names[k].iter());
        }
        *slot = all.len();
    }
    out
}
