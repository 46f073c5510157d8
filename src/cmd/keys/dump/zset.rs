//! Sorted sets in RDB form: a listpack of member/score pairs for a small set,
//! members with binary scores from the highest down for a large one (the
//! order Redis 7.0 saves its skiplist in, so the payload is the same).

use super::codec;
use super::rdb::{save_len, save_string};
use crate::types::{Limits, Value, ZSet};

const RDB_TYPE_ZSET_2: u8 = 5;
const RDB_TYPE_ZSET_LISTPACK: u8 = 17;

/// Redis 7.0's `d2string`, which writes the scores of a packed sorted set:
/// integral values in a safe range as integers, others as `%.17g`.
pub(super) fn d2string(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else if v == 0.0 {
        if v.is_sign_negative() { "-0" } else { "0" }.into()
    } else if v > -4_503_599_627_370_495.0 && v < 4_503_599_627_370_496.0 && v == (v as i64) as f64 {
        (v as i64).to_string()
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
            w.push(d2string(s).as_bytes());
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
    z.iter().map(|(m, s)| [m, b"=", d2string(s).as_bytes()].concat()).collect()
}
