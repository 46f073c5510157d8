//! Collection values in RDB form: what DUMP writes for each type and
//! encoding, and what RESTORE reads for every list, hash, set and sorted-set
//! RDB type Redis 7.0 (and its RDB ancestors) can produce, plus Redis 7.2's
//! listpack set (which RDB import meets; RESTORE refuses RDB 11 payloads).

use std::borrow::Cow;

use super::codec::{self, Ent, LpWriter};
use super::rdb::{save_len, save_string, Reader};
use crate::types::{Hash, Limits, List, Set, Value};

pub(super) const RDB_TYPE_STRING: u8 = 0;
const RDB_TYPE_LIST: u8 = 1;
const RDB_TYPE_SET: u8 = 2;
const RDB_TYPE_ZSET: u8 = 3;
const RDB_TYPE_HASH: u8 = 4;
const RDB_TYPE_ZSET_2: u8 = 5;
const RDB_TYPE_HASH_ZIPMAP: u8 = 9;
const RDB_TYPE_LIST_ZIPLIST: u8 = 10;
const RDB_TYPE_SET_INTSET: u8 = 11;
const RDB_TYPE_ZSET_ZIPLIST: u8 = 12;
const RDB_TYPE_HASH_ZIPLIST: u8 = 13;
const RDB_TYPE_LIST_QUICKLIST: u8 = 14;
const RDB_TYPE_HASH_LISTPACK: u8 = 16;
const RDB_TYPE_ZSET_LISTPACK: u8 = 17;
const RDB_TYPE_LIST_QUICKLIST_2: u8 = 18;
/// Redis 7.2 (RDB 11): a small set of strings as one listpack.
const RDB_TYPE_SET_LISTPACK: u8 = 20;

const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// Elements this long get a quicklist node of their own (`packed_threshold`).
const PACKED_THRESHOLD: usize = 1 << 30;
/// Node size limits of `list-max-listpack-size` -1..-5, and the cap on a node
/// limited by count (`optimization_level`, `SIZE_SAFETY_LIMIT`).
const NODE_SIZES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
const SIZE_SAFETY_LIMIT: usize = 8192;
/// What quicklist assumes one more entry may add to a node beyond its bytes.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

/// Redis's `_quicklistNodeAllowInsert`: whether a node of `bytes` and `count`
/// entries takes one more element of `len` bytes when pushed at the tail.
fn node_takes(bytes: usize, count: usize, len: usize, fill: i64) -> bool {
    let new = bytes + len + SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 {
        new <= NODE_SIZES[((-fill - 1) as usize).min(NODE_SIZES.len() - 1)]
    } else {
        new <= SIZE_SAFETY_LIMIT && (count as i64) < fill.min(i16::MAX as i64)
    }
}

/// DUMP of a list: a quicklist of listpack nodes cut where Redis's quicklist
/// cuts a list built by pushes at the tail, so RPUSH-built lists come out
/// byte for byte as Redis 7.0 dumps them.
fn dump_list(l: &List, lim: &Limits, out: &mut Vec<u8>) {
    enum Node<'a> {
        Packed(Vec<u8>),
        Plain(&'a [u8]),
    }
    let mut nodes = Vec::new();
    let mut cur: Option<LpWriter> = None;
    for e in l.iter() {
        if e.len() >= PACKED_THRESHOLD {
            nodes.extend(cur.take().map(|w| Node::Packed(w.finish())));
            nodes.push(Node::Plain(e));
            continue;
        }
        match &mut cur {
            Some(w) if node_takes(w.bytes(), w.count(), e.len(), lim.list_max_listpack_size) => w.push(e),
            _ => {
                nodes.extend(cur.take().map(|w| Node::Packed(w.finish())));
                let mut w = LpWriter::new();
                w.push(e);
                cur = Some(w);
            }
        }
    }
    nodes.extend(cur.map(|w| Node::Packed(w.finish())));
    out.push(RDB_TYPE_LIST_QUICKLIST_2);
    save_len(out, nodes.len() as u64);
    for n in &nodes {
        match n {
            Node::Packed(lp) => {
                save_len(out, QUICKLIST_NODE_PACKED);
                save_string(out, lp);
            }
            Node::Plain(e) => {
                save_len(out, QUICKLIST_NODE_PLAIN);
                save_string(out, e);
            }
        }
    }
}

fn dump_hash(h: &Hash, out: &mut Vec<u8>) {
    if h.encoding() == "listpack" {
        out.push(RDB_TYPE_HASH_LISTPACK);
        save_string(out, &codec::listpack(h.iter().flat_map(|(f, v)| [f, v])));
    } else {
        out.push(RDB_TYPE_HASH);
        save_len(out, h.len() as u64);
        for (f, v) in h.iter() {
            save_string(out, f);
            save_string(out, v);
        }
    }
}

fn dump_set(s: &Set, out: &mut Vec<u8>) {
    if let Some(ints) = s.ints() {
        out.push(RDB_TYPE_SET_INTSET);
        save_string(out, &codec::intset(&ints));
    } else {
        // Redis 7.0 has no packed set of strings (7.2's type 20 is RDB 11).
        out.push(RDB_TYPE_SET);
        save_len(out, s.len() as u64);
        for m in s.iter() {
            save_string(out, &m);
        }
    }
}

/// The RDB type and value of a collection, as DUMP writes them.
pub(super) fn dump_value(v: &Value, lim: &Limits, out: &mut Vec<u8>) {
    match v {
        Value::List(l) => dump_list(l, lim, out),
        Value::Hash(h) => dump_hash(h, out),
        Value::Set(s) => dump_set(s, out),
        Value::ZSet(z) => super::zset::dump_zset(z, out),
        Value::Stream(s) => super::stream::dump_stream(s, out),
    }
}

/// Builds a list; `None` for no elements (Redis refuses an empty key).
fn list_of<'a>(items: impl IntoIterator<Item = Cow<'a, [u8]>>, lim: &Limits) -> Option<Value> {
    let mut l = List::new();
    for i in items {
        l.push_back(&i, lim);
    }
    (!l.is_empty()).then_some(Value::List(l))
}

/// Builds a hash from pairs; `None` for none or a repeated field.
fn hash_of<'a, I>(pairs: I, lim: &Limits) -> Option<Value>
where
    I: IntoIterator<Item = Option<(Cow<'a, [u8]>, Cow<'a, [u8]>)>>,
{
    let mut h = Hash::new();
    for p in pairs {
        let (f, v) = p?;
        if !h.insert(&f, &v, lim) {
            return None;
        }
    }
    (!h.is_empty()).then_some(Value::Hash(h))
}

/// Builds a set; `None` for no members or a repeated one.
fn set_of<'a, I>(members: I, lim: &Limits) -> Option<Value>
where
    I: IntoIterator<Item = Option<Cow<'a, [u8]>>>,
{
    let mut s = Set::new();
    for m in members {
        if !s.insert(&m?, lim) {
            return None;
        }
    }
    (!s.is_empty()).then_some(Value::Set(s))
}

/// Field/value (or member/score) pairs of a packed blob's entries.
fn pairs<'a>(ents: &[Ent<'a>]) -> Option<Vec<(Ent<'a>, Ent<'a>)>> {
    ents.len().is_multiple_of(2).then(|| ents.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

fn hash_of_ents(ents: &[Ent<'_>], lim: &Limits) -> Option<Value> {
    hash_of(pairs(ents)?.into_iter().map(|(f, v)| Some((f.bytes(), v.bytes()))), lim)
}

/// Reads `n` elements with `f`, failing at the first failure.
fn read_n<'a, T>(r: &mut Reader<'a>, n: u64, mut f: impl FnMut(&mut Reader<'a>) -> Option<T>) -> Option<Vec<T>> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(f(r)?);
    }
    Some(v)
}

/// Reads a value of RDB type `t` (not a string); `None` is Redis's "Bad data
/// format": a malformed value, an empty one, a repeated member or field, a
/// NaN score, or a type Tessera does not have (modules).
pub(super) fn load_value(t: u8, r: &mut Reader<'_>, lim: &Limits) -> Option<Value> {
    match t {
        RDB_TYPE_LIST => {
            let n = r.len()?;
            list_of(read_n(r, n, |r| r.string())?.into_iter().map(Cow::Owned), lim)
        }
        RDB_TYPE_SET => {
            let n = r.len()?;
            set_of(read_n(r, n, |r| r.string())?.into_iter().map(|m| Some(Cow::Owned(m))), lim)
        }
        RDB_TYPE_HASH => {
            let n = r.len()?;
            let pairs = read_n(r, n, |r| Some((r.string()?, r.string()?)))?;
            hash_of(pairs.into_iter().map(|(f, v)| Some((Cow::Owned(f), Cow::Owned(v)))), lim)
        }
        RDB_TYPE_ZSET | RDB_TYPE_ZSET_2 => {
            let n = r.len()?;
            let binary = t == RDB_TYPE_ZSET_2;
            let items = read_n(r, n, |r| {
                let m = r.string()?;
                let score = if binary { r.binary_double()? } else { r.text_double()? };
                Some((m, score))
            })?;
            super::zset::zset_of(items.iter().map(|(m, s)| Some((&m[..], *s))), lim)
        }
        RDB_TYPE_HASH_ZIPMAP => {
            let blob = r.string()?;
            let pairs = codec::zipmap_pairs(&blob)?;
            hash_of(pairs.into_iter().map(|(f, v)| Some((Cow::Borrowed(f), Cow::Borrowed(v)))), lim)
        }
        RDB_TYPE_LIST_ZIPLIST => {
            let blob = r.string()?;
            list_of(codec::ziplist_entries(&blob)?.into_iter().map(Ent::bytes), lim)
        }
        RDB_TYPE_SET_INTSET => {
            let blob = r.string()?;
            let mut buf = itoa::Buffer::new();
            let members: Vec<Vec<u8>> =
                codec::intset_values(&blob)?.into_iter().map(|v| buf.format(v).as_bytes().to_vec()).collect();
            set_of(members.into_iter().map(|m| Some(Cow::Owned(m))), lim)
        }
        RDB_TYPE_SET_LISTPACK => {
            let blob = r.string()?;
            set_of(codec::listpack_entries(&blob)?.into_iter().map(|e| Some(e.bytes())), lim)
        }
        RDB_TYPE_ZSET_ZIPLIST | RDB_TYPE_ZSET_LISTPACK => {
            let blob = r.string()?;
            let ents = if t == RDB_TYPE_ZSET_ZIPLIST {
                codec::ziplist_entries(&blob)?
            } else {
                codec::listpack_entries(&blob)?
            };
            let members: Vec<(Cow<'_, [u8]>, Option<f64>)> =
                pairs(&ents)?.into_iter().map(|(m, s)| (m.bytes(), score_of(s))).collect();
            super::zset::zset_of(members.iter().map(|(m, s)| Some((&m[..], (*s)?))), lim)
        }
        RDB_TYPE_HASH_ZIPLIST | RDB_TYPE_HASH_LISTPACK => {
            let blob = r.string()?;
            let ents = if t == RDB_TYPE_HASH_ZIPLIST {
                codec::ziplist_entries(&blob)?
            } else {
                codec::listpack_entries(&blob)?
            };
            hash_of_ents(&ents, lim)
        }
        RDB_TYPE_LIST_QUICKLIST | RDB_TYPE_LIST_QUICKLIST_2 => {
            let n = r.len()?;
            let mut l = List::new();
            for _ in 0..n {
                let container = if t == RDB_TYPE_LIST_QUICKLIST { QUICKLIST_NODE_PACKED } else { r.len()? };
                let blob = r.string()?;
                match container {
                    QUICKLIST_NODE_PLAIN => l.push_back(&blob, lim),
                    QUICKLIST_NODE_PACKED => {
                        let ents = if t == RDB_TYPE_LIST_QUICKLIST {
                            codec::ziplist_entries(&blob)?
                        } else {
                            codec::listpack_entries(&blob)?
                        };
                        // Empty nodes are skipped, as Redis does; an empty list is refused below.
                        for e in ents {
                            l.push_back(&e.bytes(), lim);
                        }
                    }
                    _ => return None,
                }
            }
            (!l.is_empty()).then_some(Value::List(l))
        }
        t if super::stream::is_stream_type(t) => super::stream::load_stream(t, r),
        _ => None,
    }
}

/// A score stored in a packed sorted set: an integer, or text `strtod` reads
/// whole (Redis writes `%.17g`, `inf`, `-inf`). NaN is refused.
fn score_of(e: Ent<'_>) -> Option<f64> {
    match e {
        Ent::Int(v) => Some(v as f64),
        Ent::Str(s) => crate::cmd::args::parse_float(s).filter(|v| !v.is_nan()),
    }
}
