//! Sorted sets in RDB form.

use crate::types::{Limits, Value, ZSet};

/// DUMP of a sorted set.
pub(super) fn dump_zset(_z: &ZSet, _out: &mut Vec<u8>) {
    // The sorted-set type cannot be iterated yet; no sorted set can exist.
}

/// Builds a sorted set from (member, score) pairs; `None` for none, a
/// repeated member or a NaN score.
pub(super) fn zset_of<'a>(_items: impl IntoIterator<Item = Option<(&'a [u8], f64)>>, _lim: &Limits) -> Option<Value> {
    None
}
