//! Sorted sets in RDB form: a listpack of member/score pairs for a small set,
//! members with binary scores from the highest down for a large one (the
//! order Redis 7.0 saves its skiplist in, so the payload is the same).

use super::codec;
use super::rdb::{save_len, save_string};
use crate::types::{Limits, Value, ZSet};

const RDB_TYPE_ZSET_2: u8 = 5;
const RDB_TYPE_ZSET_LISTPACK: u8 = 17;

/// A score as Redis 7.0's `zzlInsertAt` writes it into a packed sorted set:
/// an integer when `double2ll` takes it (integral, within ±2^62; -0 is 0),
/// else `d2string` (`%.17g`, `inf`, `-inf`).
pub(super) fn packed_score(v: f64) -> String {
    const LIMIT: f64 = 4_611_686_018_427_387_904.0; // (double)(LLONG_MAX / 2)
    if (-LIMIT..=LIMIT).contains(&v) && v == (v as i64) as f64 {
        (v as i64).to_string()
    } else if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        crate::resp::write::format_g17(v)
    }
}

/// DUMP of a sorted set.
pub(super) fn dump_zset(z: &ZSet, out: &mut Vec<u8>) {
    if z.encoding() == "listpack" {
        out.push(RDB_TYPE_ZSET_LISTPACK);
        let mut w = codec::LpWriter::new();
        for (m, s) in z.iter() {
            w.push(m);
            w.push(packed_score(s).as_bytes());
        }
        save_string(out, &w.finish());
    } else {
        out.push(RDB_TYPE_ZSET_2);
        save_len(out, z.len() as u64);
        let top = z.len().saturating_sub(1);
        for (m, s) in z.range(top, true).take(z.len()) {
            save_string(out, m);
            out.extend_from_slice(&s.to_le_bytes());
        }
    }
}

/// Builds a sorted set from (member, score) pairs; `None` for none, a
/// repeated member or a NaN score.
pub(super) fn zset_of<'a>(items: impl IntoIterator<Item = Option<(&'a [u8], f64)>>, lim: &Limits) -> Option<Value> {
    let mut z = ZSet::new();
    for it in items {
        let (m, s) = it?;
        if s.is_nan() || z.score(m).is_some() {
            return None;
        }
        z.insert(m, s, lim);
    }
    (!z.is_empty()).then_some(Value::ZSet(z))
}

/// The members of a sorted set as `member=score`, in order (for tests).
#[cfg(test)]
pub(super) fn members(z: &ZSet) -> Vec<Vec<u8>> {
    z.iter().map(|(m, s)| [m, b"=", packed_score(s).as_bytes()].concat()).collect()
}
