//! A connection's mailbox: its subscriptions, and the push messages delivered
//! to it (already encoded in its protocol) until its task writes them.
//!
//! Deliveries happen synchronously on the connection's shard, from whatever
//! task runs there (a command, a cross-shard job); they append to the buffer,
//! wake the connection task, and enforce `client-output-buffer-limit`.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};

use bytes::{Bytes, BytesMut};

use super::Kind;
use crate::config::ObufLimit;
use crate::db::Map;
use crate::resp::Out;
use crate::server::client::ClientInfo;

/// The client classes of `client-output-buffer-limit`, as indexed in the config.
const CLASS_NORMAL: usize = 0;
const CLASS_PUBSUB: usize = 2;

/// One connection's subscriptions, each with the order it was made in.
#[derive(Default)]
struct Subs {
    sets: [Map<Bytes, u64>; 3],
    seq: u64,
}

#[derive(Default)]
pub struct Mailbox {
    /// Encoded push messages not yet handed to the connection's writer.
    buf: RefCell<BytesMut>,
    /// Messages in `buf`.
    queued: Cell<usize>,
    /// Bytes the connection is writing right now (counted against the limits).
    inflight: Cell<usize>,
    waker: RefCell<Option<Waker>>,
    /// When (unix seconds) the output first went over the soft limit.
    soft_since: Cell<Option<u64>>,
    /// Over its output buffer limit: nothing more is queued, the connection closes.
    cut: Cell<bool>,
    subs: RefCell<Subs>,
}

impl Mailbox {
    /// Subscribed to any channel, pattern or shard channel (Redis's CLIENT_PUBSUB).
    pub fn subscribed(&self) -> bool {
        self.subs.borrow().sets.iter().any(|s| !s.is_empty())
    }

    /// Channels, patterns and shard channels subscribed to (CLIENT LIST sub/psub/ssub).
    pub fn counts(&self) -> [usize; 3] {
        let s = self.subs.borrow();
        [s.sets[0].len(), s.sets[1].len(), s.sets[2].len()]
    }

    /// Redis's clientSubscriptionsCount (channels + patterns) or, for shard
    /// channels, clientShardSubscriptionsCount: the number (un)subscribe replies carry.
    pub fn reply_count(&self, kind: Kind) -> i64 {
        let [c, p, s] = self.counts();
        match kind {
            Kind::Shard => s as i64,
            _ => (c + p) as i64,
        }
    }

    /// Records a subscription; false when it already existed.
    pub fn add(&self, kind: Kind, name: &Bytes) -> bool {
        let mut s = self.subs.borrow_mut();
        if s.sets[kind as usize].contains_key(name) {
            return false;
        }
        s.seq += 1;
        let seq = s.seq;
        s.sets[kind as usize].insert(name.clone(), seq);
        true
    }

    /// Drops a subscription; false when there was none.
    pub fn remove(&self, kind: Kind, name: &[u8]) -> bool {
        self.subs.borrow_mut().sets[kind as usize].remove(name).is_some()
    }

    /// The subscriptions of one kind, oldest first.
    pub fn list(&self, kind: Kind) -> Vec<Bytes> {
        let s = self.subs.borrow();
        let mut v: Vec<(&Bytes, &u64)> = s.sets[kind as usize].iter().collect();
        v.sort_unstable_by_key(|(_, seq)| **seq);
        v.into_iter().map(|(b, _)| b.clone()).collect()
    }

    /// Push messages waiting to be written (CLIENT LIST oll).
    pub fn pending_messages(&self) -> usize {
        self.queued.get()
    }

    /// Output bytes held for this client: queued pushes plus what is being
    /// written (CLIENT LIST omem, and what the limits are checked against).
    pub fn output_bytes(&self) -> usize {
        self.buf.borrow().len() + self.inflight.get()
    }

    pub fn set_inflight(&self, n: usize) {
        self.inflight.set(n);
    }

    /// The connection went over its output buffer limit and is being closed.
    pub fn is_cut(&self) -> bool {
        self.cut.get()
    }

    /// Appends one push message written by `f` in the client's protocol, wakes
    /// the connection, and closes it if that takes it over its limit.
    pub fn deliver(&self, client: &ClientInfo, limits: &[ObufLimit; 3], now_s: u64, f: impl FnOnce(&mut Out)) {
        if self.cut.get() {
            return;
        }
        {
            let mut buf = self.buf.borrow_mut();
            let mut out = Out { buf: std::mem::take(&mut *buf), proto: client.proto.get() };
            let start = out.buf.len();
            let pushed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut out)));
            if let Err(p) = pushed {
                out.buf.truncate(start);
                tracing::error!(client = client.id, "push message panicked: {}", crate::shard::panic_message(&p));
            }
            let wrote = out.buf.len() > start;
            *buf = out.buf;
            if !wrote {
                return;
            }
        }
        self.queued.set(self.queued.get() + 1);
        let class = if self.subscribed() { CLASS_PUBSUB } else { CLASS_NORMAL };
        if self.over_limit(&limits[class], now_s) {
            self.cut_off(client);
        }
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Redis's checkClientOutputBufferLimits: over the hard limit, or over the
    /// soft limit for longer than its seconds.
    fn over_limit(&self, limit: &ObufLimit, now_s: u64) -> bool {
        let used = self.output_bytes() as u64;
        let hard = limit.hard != 0 && used >= limit.hard;
        let soft = limit.soft != 0 && used >= limit.soft;
        if !soft {
            self.soft_since.set(None);
            return hard;
        }
        let soft_expired = match self.soft_since.get() {
            None => {
                self.soft_since.set(Some(now_s));
                false
            }
            Some(since) => now_s.saturating_sub(since) > limit.soft_secs,
        };
        hard || soft_expired
    }

    /// Drops what is queued and closes the connection, as Redis's
    /// closeClientOnOutputBufferLimitReached does.
    fn cut_off(&self, client: &ClientInfo) {
        self.cut.set(true);
        *self.buf.borrow_mut() = BytesMut::new();
        self.queued.set(0);
        tracing::warn!(
            client = client.id,
            addr = %client.addr,
            "client closed for overcoming of output buffer limits"
        );
        // The client is in its shard's registry and this runs on its shard.
        crate::runtime::shutdown_fd(client.fd);
    }

    /// Returns output taken with [`Mailbox::take_into`] that could not be
    /// written yet, ahead of anything queued since, and wakes the connection.
    pub fn put_back(&self, bytes: &[u8]) {
        {
            let mut buf = self.buf.borrow_mut();
            let queued = buf.split();
            buf.extend_from_slice(bytes);
            buf.extend_from_slice(&queued);
        }
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Moves the queued push messages to the end of `out`.
    pub fn take_into(&self, out: &mut Out) {
        let mut buf = self.buf.borrow_mut();
        if buf.is_empty() {
            return;
        }
        if out.buf.is_empty() && buf.capacity() <= 1 << 20 {
            std::mem::swap(&mut out.buf, &mut *buf);
        } else {
            out.buf.extend_from_slice(&buf);
            buf.clear();
            if buf.capacity() > 1 << 20 {
                *buf = BytesMut::new();
            }
        }
        self.queued.set(0);
    }

    /// Resolves once there is something to write or the connection was cut off.
    pub async fn ready(&self) {
        poll_fn(|cx| {
            if self.cut.get() || !self.buf.borrow().is_empty() {
                return Poll::Ready(());
            }
            let mut w = self.waker.borrow_mut();
            match &*w {
                Some(old) if old.will_wake(cx.waker()) => {}
                _ => *w = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_limits_like_redis() {
        let m = Mailbox::default();
        m.buf.borrow_mut().extend_from_slice(&[b'x'; 100]);
        assert!(!m.over_limit(&ObufLimit::default(), 0), "0 means no limit");
        assert!(m.over_limit(&ObufLimit { hard: 100, soft: 0, soft_secs: 0 }, 0));
        assert!(!m.over_limit(&ObufLimit { hard: 101, soft: 0, soft_secs: 0 }, 0));
        // The soft limit must hold for more than its seconds.
        let soft = ObufLimit { hard: 0, soft: 50, soft_secs: 10 };
        assert!(!m.over_limit(&soft, 1000));
        assert!(!m.over_limit(&soft, 1010));
        assert!(m.over_limit(&soft, 1011));
        // Dropping under it starts the count again.
        m.buf.borrow_mut().clear();
        assert!(!m.over_limit(&soft, 1012));
        m.set_inflight(60);
        assert!(!m.over_limit(&soft, 1013));
        assert!(m.over_limit(&soft, 1024));
    }

    #[test]
    fn subscriptions_in_order_and_counted() {
        let m = Mailbox::default();
        for name in ["b", "a", "c"] {
            assert!(m.add(Kind::Channel, &Bytes::from(name)));
        }
        assert!(!m.add(Kind::Channel, &Bytes::from("a")));
        assert!(m.add(Kind::Pattern, &Bytes::from("a*")));
        assert!(m.add(Kind::Shard, &Bytes::from("s")));
        assert_eq!(m.list(Kind::Channel), ["b", "a", "c"]);
        assert_eq!(m.counts(), [3, 1, 1]);
        assert_eq!((m.reply_count(Kind::Channel), m.reply_count(Kind::Shard)), (4, 1));
        assert!(m.remove(Kind::Channel, b"a") && !m.remove(Kind::Channel, b"a"));
        assert_eq!(m.list(Kind::Channel), ["b", "c"]);
        assert!(m.subscribed());
    }
}
