//! `used_memory` as Redis means it: bytes the allocator handed out. A wrapper
//! around the global allocator adds each block's usable size to a per-thread
//! counter (a cache line of its own, so cores never contend); INFO sums them.
//!
//! Free memory goes back to the OS. mimalloc purges (decommits) free pages a
//! delay after they were freed, but only when the thread calls into it again;
//! a shard that deleted a lot and then went idle would keep the pages. So when
//! a thread's count falls well below its recent high (a net shrink, not the
//! churn of overwrites), the wrapper has mimalloc collect that thread's heap
//! after each step of max(8 MiB, an eighth of the high): empty pages go back to
//! mimalloc's arenas, which purge them after their delay as the shrink goes on
//! (a shard emptying 10 GB collects a few dozen times, not a thousand). Once the
//! thread has not shrunk for a second, one forced collect purges whatever is
//! left at once (checked on every 16th allocation or free while one is pending:
//! each shard's cron allocates too), so an idle shard does not keep the pages.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use libmimalloc_sys as mi;

const SLOTS: usize = 256;

#[repr(align(64))]
struct Slot(AtomicI64);

static COUNTERS: [Slot; SLOTS] = [const { Slot(AtomicI64::new(0)) }; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

/// A thread's counter slot and the high-water mark of its count since its
/// heap was last collected.
struct Me {
    slot: usize,
    high: Cell<i64>,
    /// When the last shrink collect ran (coarse monotonic ms), while the
    /// final one is pending; 0 otherwise.
    pending_since: Cell<u64>,
    calls: Cell<u32>,
}

thread_local! {
    static ME: Me = Me {
        slot: NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS,
        high: Cell::new(0),
        pending_since: Cell::new(0),
        calls: Cell::new(0),
    };
}

/// Quiet time after a shrink before the final collect.
const QUIET_MS: u64 = 1000;

/// A cheap monotonic clock in ms (the vDSO's coarse clock, a few ns).
fn coarse_ms() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime fills a caller-owned timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000 + 1
}

/// Collects triggered by shrinking, process-wide.
static SHRINK_COLLECTS: AtomicUsize = AtomicUsize::new(0);

/// How many times a shrinking thread had its free pages returned to the OS.
pub fn shrink_collects() -> usize {
    SHRINK_COLLECTS.load(Ordering::Relaxed)
}

/// A net shrink below the high-water mark that returns free pages to the OS.
const SHRINK_MIN: i64 = 8 << 20;

fn shrink_step(high: i64) -> i64 {
    (high / 8).max(SHRINK_MIN)
}

/// Adjusts the count by `delta` bytes: the entry slab reports live slots
/// instead of the whole pages it took from the allocator.
#[inline]
pub fn adjust(delta: i64) {
    add(delta)
}

#[inline]
fn add(delta: i64) {
    let shrunk = ME.try_with(|me| {
        let now = COUNTERS[me.slot].0.fetch_add(delta, Ordering::Relaxed) + delta;
        let high = me.high.get();
        if now > high {
            me.high.set(now);
        } else if high - now > shrink_step(high) {
            me.high.set(now);
            me.pending_since.set(coarse_ms());
            return Some(false);
        }
        let since = me.pending_since.get();
        if since != 0 {
            let calls = me.calls.get().wrapping_add(1);
            me.calls.set(calls);
            if calls.is_multiple_of(16) && coarse_ms() >= since + QUIET_MS {
                me.pending_since.set(0);
                return Some(true);
            }
        }
        None
    });
    match shrunk {
        Ok(Some(force)) => {
            SHRINK_COLLECTS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: collecting the calling thread's own heap has no preconditions.
            unsafe { mi::mi_collect(force) };
        }
        Ok(None) => {}
        // During thread teardown the slot may be gone; count on slot 0 then.
        Err(_) => {
            COUNTERS[0].0.fetch_add(delta, Ordering::Relaxed);
        }
    }
}

/// Bytes currently allocated by the whole process.
pub fn used_memory() -> usize {
    let slots = NEXT_SLOT.load(Ordering::Relaxed).clamp(1, SLOTS);
    COUNTERS[..slots].iter().map(|s| s.0.load(Ordering::Relaxed)).sum::<i64>().max(0) as usize
}

/// The calling thread's own counter: what it allocated minus what it freed
/// (negative when it frees blocks other threads allocated). Cheap: one load
/// of a line no other thread writes.
pub fn thread_used() -> i64 {
    let slot = ME.try_with(|me| me.slot).unwrap_or(0);
    COUNTERS[slot].0.load(Ordering::Relaxed)
}

/// Bytes the allocator really holds for a request of `n` bytes: mimalloc's
/// size class for it (what `mi_usable_size` of such a block reports).
pub fn block_bytes(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // SAFETY: a pure computation on mimalloc's size classes.
    unsafe { mi::mi_good_size(n) }
}

/// What mimalloc itself reports about the memory it took from the OS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Bytes mimalloc has committed (read/write accessible pages it keeps):
    /// its own measure of what it holds, live blocks plus free space in its pages.
    pub committed: usize,
    /// The highest `committed` so far.
    pub peak_committed: usize,
}

/// mimalloc's process-wide counters (`mi_process_info`).
pub fn allocator_stats() -> AllocatorStats {
    let (mut committed, mut peak_committed) = (0usize, 0usize);
    let null = std::ptr::null_mut();
    // SAFETY: every out-parameter is either null (not wanted) or a valid
    // pointer to a local usize.
    unsafe { mi::mi_process_info(null, null, null, null, null, &mut committed, &mut peak_committed, null) };
    AllocatorStats { committed, peak_committed }
}

/// Returns the free memory of this thread's mimalloc heap to the OS at once
/// (`mi_collect(true)`): empty pages are freed and their memory purged
/// without waiting for mimalloc's purge delay. Each shard runs it for its own
/// heap (MEMORY PURGE).
pub fn purge_thread() {
    // SAFETY: collecting the calling thread's own heap has no preconditions.
    unsafe { mi::mi_collect(true) }
}

/// mimalloc's statistics report as text (`mi_stats_print_out`).
pub fn allocator_report() -> String {
    unsafe extern "C" fn append(msg: *const std::ffi::c_char, arg: *mut std::ffi::c_void) {
        if msg.is_null() || arg.is_null() {
            return;
        }
        // SAFETY: `arg` is the `String` passed below, alive for the whole
        // call; mimalloc hands NUL-terminated messages.
        unsafe {
            let out = &mut *(arg as *mut String);
            out.push_str(&std::ffi::CStr::from_ptr(msg).to_string_lossy());
        }
    }
    let mut out = String::new();
    // SAFETY: the callback only appends to `out`, which outlives the call.
    unsafe { mi::mi_stats_print_out(Some(append), &mut out as *mut String as *mut std::ffi::c_void) };
    out
}

/// A global allocator that counts usable sizes. The inner allocator must
/// report usable sizes; mimalloc does.
pub struct Counting<A> {
    inner: A,
}

impl<A> Counting<A> {
    pub const fn new(inner: A) -> Self {
        Counting { inner }
    }
}

/// The usable size of a block the allocator handed out.
pub trait UsableSize {
    /// # Safety
    /// `ptr` was returned by this allocator and is still live.
    unsafe fn usable(&self, ptr: *mut u8, layout: Layout) -> usize;
}

/// mimalloc as a global allocator.
///
/// Alignments of at most 8, which every mimalloc block has, go to the plain
/// `mi_malloc` family. The `mimalloc` crate sends every request to
/// `mi_malloc_aligned`, whose fallback, taken whenever the size class's
/// current page has no free block left, over-allocates `size + align - 1`
/// bytes from the next size class; and since that fallback never refills
/// the page, a growing heap keeps taking it: 48-byte requests get 56 or 64.
pub struct Mimalloc;

/// The alignment of every mimalloc block (sizes are multiples of 8).
const MI_MIN_ALIGN: usize = 8;

// SAFETY: each method forwards to the mimalloc call for its layout; blocks
// are freed with `mi_free`, which takes blocks of any of them.
unsafe impl GlobalAlloc for Mimalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = if layout.align() <= MI_MIN_ALIGN {
            unsafe { mi::mi_malloc(layout.size()) }
        } else {
            unsafe { mi::mi_malloc_aligned(layout.size(), layout.align()) }
        };
        p.cast()
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = if layout.align() <= MI_MIN_ALIGN {
            unsafe { mi::mi_zalloc(layout.size()) }
        } else {
            unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()) }
        };
        p.cast()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { mi::mi_free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = if layout.align() <= MI_MIN_ALIGN {
            unsafe { mi::mi_realloc(ptr.cast(), new_size) }
        } else {
            unsafe { mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()) }
        };
        p.cast()
    }
}

impl UsableSize for Mimalloc {
    unsafe fn usable(&self, ptr: *mut u8, _layout: Layout) -> usize {
        // SAFETY: forwarded from the caller's contract.
        unsafe { mi::mi_usable_size(ptr.cast()) }
    }
}

impl UsableSize for std::alloc::System {
    unsafe fn usable(&self, _ptr: *mut u8, layout: Layout) -> usize {
        layout.size()
    }
}

// SAFETY: every call is forwarded to the inner allocator unchanged; the
// counters only observe sizes.
unsafe impl<A: GlobalAlloc + UsableSize> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            add(unsafe { self.inner.usable(p, layout) } as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null() {
            add(unsafe { self.inner.usable(p, layout) } as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let size = unsafe { self.inner.usable(ptr, layout) } as i64;
        unsafe { self.inner.dealloc(ptr, layout) };
        // Counted after the block is free, so a collect it triggers sees it.
        add(-size);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = unsafe { self.inner.usable(ptr, layout) } as i64;
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let new_layout = Layout::from_size_align(new_size, layout.align()).unwrap_or(layout);
            add(unsafe { self.inner.usable(p, new_layout) } as i64 - old);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_mimalloc_classes() {
        assert_eq!(block_bytes(0), 0);
        for n in [1, 7, 9, 24, 100, 1000, 5000, 70_000] {
            let b = block_bytes(n);
            assert!(b >= n && b <= n + n / 4 + 8, "{n} -> {b}");
        }
    }

    #[test]
    fn a_net_shrink_collects_and_churn_does_not() {
        std::thread::spawn(|| {
            let high = || ME.with(|me| me.high.get());
            // Growth, then churn within a step: the mark stays at the high.
            adjust(64 << 20);
            let top = thread_used();
            for _ in 0..100 {
                adjust(-(4 << 20));
                adjust(4 << 20);
            }
            assert_eq!(high(), top);
            // Freeing more than a step below the high collects, and the mark
            // follows the count down; a smaller drop after that does not.
            let before = shrink_collects();
            adjust(-(9 << 20));
            assert!(shrink_collects() > before);
            assert_eq!(high(), thread_used());
            adjust(-(4 << 20));
            assert_eq!(high(), thread_used() + (4 << 20));
            // Once the thread stopped shrinking for a while, one last collect
            // catches what was freed after the step.
            assert_ne!(ME.with(|me| me.pending_since.get()), 0);
            std::thread::sleep(std::time::Duration::from_millis(QUIET_MS + 50));
            let before = shrink_collects();
            for _ in 0..16 {
                adjust(0);
            }
            assert!(shrink_collects() > before);
            assert_eq!(ME.with(|me| me.pending_since.get()), 0);
            adjust(-(51 << 20));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn allocator_reports() {
        let s = allocator_stats();
        assert!(s.peak_committed >= s.committed);
        assert!(!allocator_report().is_empty());
        purge_thread();
    }
}
