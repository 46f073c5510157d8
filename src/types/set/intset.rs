//! Sorted distinct integers in one buffer, each in the narrowest of 16, 32 or
//! 64 bits that holds them all, as Redis's intset keeps small integer sets.
//! Lookups are binary searches; inserts and removals shift the tail.

use crate::types::pack::Buf;

/// A sorted set of distinct `i64`s stored little-endian at a common width.
/// The buffer's one header byte is that width: 2, 4 or 8 (0 while nothing
/// was ever added).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct IntSet {
    data: Buf<1>,
}

/// The narrowest width (in bytes) that holds `v`.
fn width_for(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl IntSet {
    pub fn new() -> IntSet {
        IntSet::default()
    }

    fn width(&self) -> u8 {
        self.data.header()[0]
    }

    fn w(&self) -> usize {
        self.width().max(2) as usize
    }

    pub fn len(&self) -> usize {
        self.data.len() / self.w()
    }

    /// Bytes of the element buffer.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Bytes the allocator holds for the element buffer (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        self.data.heap_bytes()
    }

    /// The element at `i` (must be in range).
    pub fn get(&self, i: usize) -> i64 {
        let w = self.w();
        let b = &self.data.data()[i * w..i * w + w];
        match w {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }

    fn encode(v: i64, w: usize, out: &mut [u8]) {
        match w {
            2 => out.copy_from_slice(&(v as i16).to_le_bytes()),
            4 => out.copy_from_slice(&(v as i32).to_le_bytes()),
            _ => out.copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// `Ok(position)` of `v`, or `Err(position)` where it would go.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let n = self.len();
        if n == 0 {
            return Err(0);
        }
        // A value wider than the elements lies outside their range.
        if width_for(v) as usize > self.w() {
            return Err(if v < 0 { 0 } else { n });
        }
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Re-encodes every element at width `w` (wider than the current one).
    fn upgrade(&mut self, w: u8) {
        let n = self.len();
        let mut data = vec![0u8; n * w as usize];
        for i in 0..n {
            let v = self.get(i);
            Self::encode(v, w as usize, &mut data[i * w as usize..(i + 1) * w as usize]);
        }
        self.data.edit([w], data.len(), |b| {
            b.truncate(1);
            b.extend_from_slice(&data);
        });
    }

    /// Adds `v`; false if it was there already.
    pub fn insert(&mut self, v: i64) -> bool {
        let need = width_for(v);
        let mut width = self.width();
        if need > width {
            if width != 0 && need as usize > self.w() {
                self.upgrade(need);
            }
            width = width.max(need);
        }
        let Err(pos) = self.search(v) else {
            return false;
        };
        let w = width.max(2) as usize;
        let at = pos * w;
        self.data.edit([width], w, |b| {
            b.splice(1 + at..1 + at, std::iter::repeat_n(0, w));
            Self::encode(v, w, &mut b[1 + at..1 + at + w]);
        });
        true
    }

    /// Removes `v`; false if it was not there.
    pub fn remove(&mut self, v: i64) -> bool {
        let Ok(pos) = self.search(v) else {
            return false;
        };
        let w = self.w();
        self.data.edit([self.width()], 0, |b| {
            b.drain(1 + pos * w..1 + (pos + 1) * w);
        });
        true
    }

    pub fn min(&self) -> Option<i64> {
        (self.len() > 0).then(|| self.get(0))
    }

    pub fn max(&self) -> Option<i64> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl std::fmt::Debug for IntSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn widths_grow_as_values_need() {
        let mut s = IntSet::new();
        assert!(s.insert(5));
        assert!(!s.insert(5));
        assert_eq!((s.width(), s.bytes()), (2, 2));
        assert!(s.insert(70_000));
        assert_eq!((s.width(), s.bytes()), (4, 8));
        assert!(s.insert(i64::MIN));
        assert_eq!((s.width(), s.bytes()), (8, 24));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, 5, 70_000]);
        assert!(s.contains(70_000) && !s.contains(6) && !s.contains(i64::MAX));
        assert!(s.remove(5) && !s.remove(5));
        assert_eq!((s.min(), s.max()), (Some(i64::MIN), Some(70_000)));
    }

    #[test]
    fn narrow_set_answers_wide_lookups() {
        let mut s = IntSet::new();
        s.insert(-3);
        s.insert(7);
        assert!(!s.contains(1 << 40));
        assert!(!s.contains(-(1 << 40)));
        assert!(!s.remove(1 << 40));
        assert_eq!(s.len(), 2);
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec((any::<bool>(), prop_oneof![
            -300i64..300,
            any::<i16>().prop_map(i64::from),
            any::<i32>().prop_map(i64::from),
            any::<i64>(),
        ]), 0..200)) {
            let mut s = IntSet::new();
            let mut m = BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.insert(v), m.insert(v));
                } else {
                    prop_assert_eq!(s.remove(v), m.remove(&v));
                }
                prop_assert_eq!(s.len(), m.len());
            }
            prop_assert!(s.iter().eq(m.iter().copied()));
            for v in &m {
                prop_assert!(s.contains(*v));
            }
        }
    }
}
