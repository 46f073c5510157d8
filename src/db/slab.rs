//! A per-thread slab for keyspace entries: 2-byte size classes up to 256 bytes
//! carved from 1 MiB pages, so a 38-byte entry takes 38 bytes instead of the
//! general allocator's 48. Entries are read unaligned, so slots need no
//! alignment. Each shard thread has its own slab; entries are not `Send`, so a
//! block is always freed on the thread that allocated it.
//!
//! A page starts with its header; a freed slot stores the next free slot in its
//! first 8 bytes (unaligned), so the smallest slot is 8 bytes. Pages with free slots sit on a per-class list; a page that
//! becomes empty goes back to the allocator unless it is its class's last one.
//! `used_memory` counts the bytes of live slots, not whole pages.

use std::alloc::{alloc, dealloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;

/// Pages are aligned to their size so a block finds its page by masking. mimalloc
/// serves 1 MiB-aligned 1 MiB blocks exactly (a 64 KiB-aligned 64 KiB block costs
/// it 128 KiB), and untouched parts of a page take no RSS.
const PAGE: usize = 1024 * 1024;
const GRAIN: usize = 2;
/// The smallest slot: a free slot holds the free list's next pointer.
const MIN_SLOT: usize = 8;
/// Largest block the slab serves; larger ones go to the global allocator.
pub const MAX_SMALL: usize = 256;
const CLASSES: usize = MAX_SMALL / GRAIN;
/// Slots start after the header.
const HEADER: usize = 64;

#[repr(C)]
struct Page {
    slot: usize,
    live: usize,
    free: *mut u8,
    bump: *mut u8,
    end: *mut u8,
    prev: *mut Page,
    next: *mut Page,
    listed: bool,
}

const _: () = assert!(std::mem::size_of::<Page>() <= HEADER && MIN_SLOT.is_multiple_of(GRAIN));

struct Slab {
    /// Per class, the pages that have a free slot.
    partial: [*mut Page; CLASSES],
}

thread_local! {
    static SLAB: UnsafeCell<Slab> = const { UnsafeCell::new(Slab { partial: [ptr::null_mut(); CLASSES] }) };
}

fn page_layout() -> Layout {
    // PAGE is a power of two, so this cannot fail.
    Layout::from_size_align(PAGE, PAGE).unwrap_or(Layout::new::<u8>())
}

fn class_of(size: usize) -> usize {
    size.max(MIN_SLOT).div_ceil(GRAIN) - 1
}

/// Bytes a block of `size` occupies.
pub fn block_size(size: usize) -> usize {
    if size > MAX_SMALL {
        size
    } else {
        (class_of(size) + 1) * GRAIN
    }
}

impl Slab {
    /// SAFETY: `p` is a live page of this slab not currently on a list.
    unsafe fn push(&mut self, c: usize, p: *mut Page) {
        unsafe {
            (*p).prev = ptr::null_mut();
            (*p).next = self.partial[c];
            if !self.partial[c].is_null() {
                (*self.partial[c]).prev = p;
            }
            self.partial[c] = p;
            (*p).listed = true;
        }
    }

    /// SAFETY: `p` is a live page of this slab on class `c`'s list.
    unsafe fn unlink(&mut self, c: usize, p: *mut Page) {
        unsafe {
            if (*p).prev.is_null() {
                self.partial[c] = (*p).next;
            } else {
                (*(*p).prev).next = (*p).next;
            }
            if !(*p).next.is_null() {
                (*(*p).next).prev = (*p).prev;
            }
            (*p).listed = false;
        }
    }

    fn alloc(&mut self, size: usize) -> *mut u8 {
        let c = class_of(size);
        let slot = (c + 1) * GRAIN;
        // SAFETY: pages come from `alloc` with the page layout and are only
        // touched through this thread's slab; slots lie between HEADER and `end`.
        unsafe {
            let mut p = self.partial[c];
            if p.is_null() {
                let base = alloc(page_layout());
                if base.is_null() {
                    std::alloc::handle_alloc_error(page_layout());
                }
                crate::alloc::adjust(-(PAGE as i64));
                p = base as *mut Page;
                let usable = (PAGE - HEADER) / slot * slot;
                p.write(Page {
                    slot,
                    live: 0,
                    free: ptr::null_mut(),
                    bump: base.add(HEADER),
                    end: base.add(HEADER + usable),
                    prev: ptr::null_mut(),
                    next: ptr::null_mut(),
                    listed: false,
                });
                self.push(c, p);
            }
            let block = if !(*p).free.is_null() {
                let b = (*p).free;
                (*p).free = (b as *mut *mut u8).read_unaligned();
                b
            } else {
                let b = (*p).bump;
                (*p).bump = b.add(slot);
                b
            };
            (*p).live += 1;
            if (*p).free.is_null() && ((*p).end as usize - (*p).bump as usize) < slot {
                self.unlink(c, p);
            }
            crate::alloc::adjust(slot as i64);
            block
        }
    }

    /// SAFETY: `block` came from `alloc` of this slab with a size of class `size`.
    unsafe fn free(&mut self, block: *mut u8, size: usize) {
        let c = class_of(size);
        unsafe {
            let p = (block as usize & !(PAGE - 1)) as *mut Page;
            (block as *mut *mut u8).write_unaligned((*p).free);
            (*p).free = block;
            (*p).live -= 1;
            crate::alloc::adjust(-((*p).slot as i64));
            if !(*p).listed {
                self.push(c, p);
            }
            // Keep a class's last page; give empty ones back otherwise.
            if (*p).live == 0 && !((*p).prev.is_null() && (*p).next.is_null()) {
                self.unlink(c, p);
                crate::alloc::adjust(PAGE as i64);
                dealloc(p as *mut u8, page_layout());
            }
        }
    }
}

/// Allocates a block of `size` bytes (alignment 1) for an entry.
pub fn alloc_block(size: usize) -> *mut u8 {
    if size > MAX_SMALL {
        let layout = Layout::from_size_align(size, 1).unwrap_or(Layout::new::<u8>());
        // SAFETY: size > 0.
        let p = unsafe { alloc(layout) };
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        return p;
    }
    // SAFETY: the slab is only reached through this thread's TLS slot and no
    // reference to it outlives this call.
    SLAB.with(|s| unsafe { (*s.get()).alloc(size) })
}

/// Frees a block from [`alloc_block`] with the same `size`, on the same thread.
///
/// # Safety
/// `block` was returned by `alloc_block(size)` on this thread and is not used again.
pub unsafe fn free_block(block: *mut u8, size: usize) {
    if size > MAX_SMALL {
        let layout = Layout::from_size_align(size, 1).unwrap_or(Layout::new::<u8>());
        // SAFETY: allocated above with this layout.
        unsafe { dealloc(block, layout) };
        return;
    }
    // After the thread's slab is gone (thread exit) the block is simply left.
    let _ = SLAB.try_with(|s| unsafe { (*s.get()).free(block, size) });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(block_size(1), 8);
        assert_eq!(block_size(9), 10);
        assert_eq!(block_size(37), 38);
        assert_eq!(block_size(38), 38);
        assert_eq!(block_size(256), 256);
        assert_eq!(block_size(257), 257);
    }

    #[test]
    fn random_alloc_free_keeps_blocks_distinct_and_intact() {
        let mut live: Vec<(*mut u8, usize, u8)> = Vec::new();
        let mut x: u64 = 12345;
        for round in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if live.len() < 20_000 && (!x.is_multiple_of(3) || live.is_empty()) {
                let size = (x % 300) as usize + 1;
                let p = alloc_block(size);
                let fill = round as u8;
                // SAFETY: a fresh block of `size` bytes.
                unsafe { ptr::write_bytes(p, fill, size) };
                live.push((p, size, fill));
            } else {
                let i = (x as usize / 3) % live.len();
                let (p, size, fill) = live.swap_remove(i);
                // SAFETY: a live block of `size` bytes from alloc_block.
                unsafe {
                    assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == fill), "block overwritten");
                    free_block(p, size);
                }
            }
        }
        for (p, size, fill) in live {
            // SAFETY: as above.
            unsafe {
                assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == fill));
                free_block(p, size);
            }
        }
    }
}
