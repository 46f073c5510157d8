//! `used_memory` as Redis means it: bytes the allocator handed out. A wrapper
//! around the global allocator adds each block's usable size to a per-thread
//! counter (a cache line of its own, so cores never contend); INFO sums them.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

const SLOTS: usize = 256;

#[repr(align(64))]
struct Slot(AtomicI64);

static COUNTERS: [Slot; SLOTS] = [const { Slot(AtomicI64::new(0)) }; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MY_SLOT: usize = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
}

/// Adjusts the count by `delta` bytes: the entry slab reports live slots
/// instead of the whole pages it took from the allocator.
#[inline]
pub fn adjust(delta: i64) {
    add(delta)
}

#[inline]
fn add(delta: i64) {
    // During thread teardown the slot may be gone; count on slot 0 then.
    let slot = MY_SLOT.try_with(|s| *s).unwrap_or(0);
    COUNTERS[slot].0.fetch_add(delta, Ordering::Relaxed);
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
    let slot = MY_SLOT.try_with(|s| *s).unwrap_or(0);
    COUNTERS[slot].0.load(Ordering::Relaxed)
}

/// Bytes the allocator really holds for a request of `n` bytes: mimalloc's
/// size class for it (what `mi_usable_size` of such a block reports).
pub fn block_bytes(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    // SAFETY: a pure computation on mimalloc's size classes.
    unsafe { libmimalloc_sys::mi_good_size(n) }
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
    unsafe {
        libmimalloc_sys::mi_process_info(null, null, null, null, null, &mut committed, &mut peak_committed, null)
    };
    AllocatorStats { committed, peak_committed }
}

/// Returns the free memory of this thread's mimalloc heap to the OS at once
/// (`mi_collect(true)`): empty pages are freed and their memory purged
/// without waiting for mimalloc's purge delay. Each shard runs it for its own
/// heap (MEMORY PURGE).
pub fn purge_thread() {
    // SAFETY: collecting the calling thread's own heap has no preconditions.
    unsafe { libmimalloc_sys::mi_collect(true) }
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
    unsafe { libmimalloc_sys::mi_stats_print_out(Some(append), &mut out as *mut String as *mut std::ffi::c_void) };
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

impl UsableSize for mimalloc::MiMalloc {
    unsafe fn usable(&self, ptr: *mut u8, _layout: Layout) -> usize {
        // SAFETY: forwarded from the caller's contract.
        unsafe { self.usable_size(ptr) }
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
        add(-(unsafe { self.inner.usable(ptr, layout) } as i64));
        unsafe { self.inner.dealloc(ptr, layout) }
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
