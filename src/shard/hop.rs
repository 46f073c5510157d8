//! Cross-shard calls: an owned job travels to the owning shard over a lock-free
//! channel, runs there synchronously, and its owned result comes back over a
//! second channel. Requests and replies use separate channels so a shard busy
//! sending replies can never deadlock against one sending requests.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::Core;

/// Work for another shard. `None` means "not yet": the shard parks the job
/// and runs it again after its next lock release (see `tx`).
pub type Job = Box<dyn FnMut(&Core) -> Option<Box<dyn Any + Send>> + Send>;

pub struct Request {
    pub token: u32,
    pub job: Job,
}

/// What a job produced: its result, or the message of its panic.
pub type Outcome = Result<Box<dyn Any + Send>, String>;

pub struct Response {
    pub token: u32,
    /// `Err` when the job panicked on the remote shard.
    pub result: Result<Box<dyn Any + Send>, String>,
}

#[derive(Default)]
struct Slot {
    result: Option<Result<Box<dyn Any + Send>, String>>,
    waker: Option<Waker>,
    abandoned: bool,
}

/// Calls waiting for their replies on this shard.
#[derive(Default)]
pub struct Pending {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Pending {
    pub fn open(&mut self) -> u32 {
        match self.free.pop() {
            Some(t) => t,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, token: u32) {
        self.slots[token as usize] = Slot::default();
        self.free.push(token);
    }

    /// Stores a reply and wakes its waiter.
    pub fn complete(&mut self, token: u32, result: Result<Box<dyn Any + Send>, String>) {
        let Some(slot) = self.slots.get_mut(token as usize) else {
            return;
        };
        if slot.abandoned {
            self.release(token);
            return;
        }
        slot.result = Some(result);
        if let Some(w) = slot.waker.take() {
            w.wake();
        }
    }
}

/// Resolves to a call's result once the owning shard replies.
pub struct Reply<T> {
    pending: Rc<RefCell<Pending>>,
    token: u32,
    done: bool,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T> Reply<T> {
    pub fn new(pending: Rc<RefCell<Pending>>, token: u32) -> Self {
        Reply { pending, token, done: false, _t: std::marker::PhantomData }
    }
}

impl<T: 'static> Future for Reply<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut p = self.pending.borrow_mut();
        let slot = &mut p.slots[self.token as usize];
        match slot.result.take() {
            Some(r) => {
                p.release(self.token);
                drop(p);
                self.done = true;
                match r.map(|r| r.downcast::<T>()) {
                    Ok(Ok(v)) => Poll::Ready(*v),
                    // A job's result type is fixed by the closure that built it.
                    Ok(Err(_)) => unreachable!("hop result of unexpected type"),
                    // Re-raise here so the caller's connection is the one that fails.
                    Err(msg) => panic!("cross-shard call failed on the remote shard: {msg}"),
                }
            }
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        if !self.done {
            let mut p = self.pending.borrow_mut();
            let slot = &mut p.slots[self.token as usize];
            if slot.result.is_some() {
                p.release(self.token);
            } else {
                slot.abandoned = true;
                slot.waker = None;
            }
        }
    }
}
