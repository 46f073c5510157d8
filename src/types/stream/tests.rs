//! Stream node layout: appends, iteration both ways, deletes, trims, and
//! random operations against a `BTreeMap` model.

use std::collections::BTreeMap;

use super::*;

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn lim(bytes: usize, entries: usize) -> Limits {
    Limits { stream_node_max_bytes: bytes, stream_node_max_entries: entries, ..Limits::default() }
}

fn fv(f: &str, v: &str) -> Fields {
    vec![(f.as_bytes().to_vec(), v.as_bytes().to_vec())]
}

/// Structure invariants: counters true, lengths add up, IDs ascending.
fn check(s: &Stream) {
    let mut live = 0u64;
    let mut prev: Option<StreamId> = None;
    for (mid, lp) in s.nodes() {
        assert!(lp::validate(lp).is_some());
        let m = master(lp).unwrap();
        let (mut l, mut d) = (0, 0);
        for r in raw_entries(lp, mid, &m) {
            assert!(prev.is_none_or(|p| r.id > p));
            prev = Some(r.id);
            if r.flags & FLAG_DELETED != 0 {
                d += 1;
            } else {
                l += 1;
            }
        }
        assert_eq!((l, d), (m.count, m.deleted));
        assert!(l > 0 || d > 0);
        live += l as u64;
    }
    assert_eq!(live, s.len());
    if s.is_empty() {
        assert_eq!(s.first_id, StreamId::MIN);
    } else {
        assert_eq!(Some(s.first_id), s.first_entry_id());
    }
}

#[test]
fn append_and_read_both_ways() {
    let l = Limits::default();
    let mut s = Stream::new();
    assert_eq!(s.add(NewId::Given(id(1, 1)), &["a", "1", "b", "x"], 0, &l), Ok(id(1, 1)));
    assert_eq!(s.add(NewId::Given(id(1, 2)), &["a", "2", "b", "y"], 0, &l), Ok(id(1, 2)));
    // Other fields: stored with their names.
    assert_eq!(s.add(NewId::Given(id(2, 0)), &["c", "3"], 0, &l), Ok(id(2, 0)));
    assert_eq!(s.add(NewId::Given(id(2, 0)), &["c", "3"], 0, &l), Err(AddError::NotGreater));
    assert_eq!(s.add(NewId::AutoSeq(2), &["c", "4"], 0, &l), Ok(id(2, 1)));
    assert_eq!(s.add(NewId::AutoSeq(5), &["c", "5"], 0, &l), Ok(id(5, 0)));
    assert_eq!(s.add(NewId::Auto, &["c", "6"], 3, &l), Ok(id(5, 1)));
    assert_eq!(s.add(NewId::Auto, &["c", "7"], 9, &l), Ok(id(9, 0)));
    assert_eq!(s.len(), 7);
    assert_eq!(s.entries_added, 7);
    check(&s);
    let all = s.range(StreamId::MIN, StreamId::MAX, 0, false);
    assert_eq!(
        all.iter().map(|e| e.id).collect::<Vec<_>>(),
        [id(1, 1), id(1, 2), id(2, 0), id(2, 1), id(5, 0), id(5, 1), id(9, 0)]
    );
    assert_eq!(all[1].fields, vec![(b"a".to_vec(), b"2".to_vec()), (b"b".to_vec(), b"y".to_vec())]);
    assert_eq!(all[2].fields, fv("c", "3"));
    let rev = s.range(StreamId::MIN, StreamId::MAX, 3, true);
    assert_eq!(rev.iter().map(|e| e.id).collect::<Vec<_>>(), [id(9, 0), id(5, 1), id(5, 0)]);
    assert_eq!(s.range(id(2, 0), id(5, 0), 0, false).len(), 3);
    assert_eq!(s.range(id(2, 0), id(5, 0), 0, true).len(), 3);
    assert_eq!(s.range(id(6, 0), id(5, 0), 0, false).len(), 0);
    assert_eq!(s.get(id(5, 1)).unwrap().fields, fv("c", "6"));
    assert_eq!(s.get(id(5, 2)), None);
    // Exhausted sequence of one ms.
    let mut t = Stream::new();
    t.add(NewId::Given(id(1, u64::MAX)), &["f", "v"], 0, &l).unwrap();
    assert_eq!(t.add(NewId::AutoSeq(1), &["f", "v"], 0, &l), Err(AddError::TooLarge));
    assert_eq!(t.add(NewId::Auto, &["f", "v"], 0, &l), Ok(id(2, 0)));
}

#[test]
fn node_layout_is_redis() {
    // XADD s 1-1 a 1 ; XADD s 1-2 a 22 ; XADD s 3-0 b xyz in Redis 7.0.
    let mut s = Stream::new();
    let l = Limits::default();
    s.add(NewId::Given(id(1, 1)), &["a", "1"], 0, &l).unwrap();
    s.add(NewId::Given(id(1, 2)), &["a", "22"], 0, &l).unwrap();
    s.add(NewId::Given(id(3, 0)), &["b", "xyz"], 0, &l).unwrap();
    let (_, lp) = s.nodes().next().unwrap();
    let mut p = lp::HDR;
    let mut got = Vec::new();
    while let Some((e, n)) = lp::decode(lp, p) {
        got.push(String::from_utf8(e.bytes().into_owned()).unwrap());
        p = n;
    }
    let want = "3 0 1 a 0 2 0 0 1 4 2 0 1 22 4 0 2 -1 1 b xyz 6";
    assert_eq!(got.join(" "), want);
    assert_eq!(lp::header_count(lp) as usize, got.len());
}

#[test]
fn nodes_split_at_the_limits() {
    let mut s = Stream::new();
    let l = lim(4096, 10);
    for i in 1..=25 {
        s.add(NewId::Given(id(i, 0)), &["f", "v"], 0, &l).unwrap();
    }
    assert_eq!(s.node_count(), 3);
    assert_eq!(s.nodes().map(|(k, _)| k.ms).collect::<Vec<_>>(), [1, 11, 21]);
    let l = lim(100, 0);
    let mut s = Stream::new();
    for i in 1..=25 {
        s.add(NewId::Given(id(i, 0)), &["field", "value-value"], 0, &l).unwrap();
    }
    assert!(s.node_count() > 3);
    for (_, lp) in s.nodes() {
        assert!(lp.len() < 100 + 16 + 32);
    }
    check(&s);
}

#[test]
fn delete_marks_and_drops_empty_nodes() {
    let mut s = Stream::new();
    let l = lim(4096, 3);
    for i in 1..=7 {
        s.add(NewId::Given(id(i, 0)), &["f", "v"], 0, &l).unwrap();
    }
    assert_eq!(s.node_count(), 3);
    assert_eq!(s.delete_ids(&[id(1, 0), id(1, 0), id(9, 9)]), 1);
    assert_eq!(s.first_id, id(2, 0));
    assert_eq!(s.max_deleted_entry_id, id(1, 0));
    check(&s);
    assert_eq!(s.delete_ids(&[id(2, 0), id(3, 0)]), 2);
    assert_eq!(s.node_count(), 2);
    assert_eq!(s.delete_ids(&[id(5, 0)]), 1);
    assert_eq!(s.range(StreamId::MIN, StreamId::MAX, 0, true).len(), 3);
    assert_eq!(s.first_id, id(4, 0));
    assert_eq!(s.delete_ids(&[id(4, 0), id(6, 0), id(7, 0)]), 3);
    assert!(s.is_empty());
    assert_eq!(s.node_count(), 0);
    assert_eq!(s.first_id, StreamId::MIN);
    assert_eq!(s.last_id, id(7, 0));
    check(&s);
}

#[test]
fn trims_like_redis() {
    let build = || {
        let mut s = Stream::new();
        let l = lim(4096, 10);
        for i in 1..=35 {
            s.add(NewId::Given(id(i, 0)), &["f", "v"], 0, &l).unwrap();
        }
        s
    };
    let mut s = build();
    // Approximate: whole nodes only.
    assert_eq!(s.trim(&TrimArgs { trim: Trim::MaxLen(22), approx: true, limit: 0 }), 10);
    assert_eq!(s.len(), 25);
    assert_eq!(s.first_id, id(11, 0));
    // LIMIT: no node fits under it.
    assert_eq!(s.trim(&TrimArgs { trim: Trim::MaxLen(0), approx: true, limit: 5 }), 0);
    assert_eq!(s.trim(&TrimArgs { trim: Trim::MaxLen(0), approx: true, limit: 15 }), 10);
    let mut s = build();
    assert_eq!(s.trim(&TrimArgs { trim: Trim::MaxLen(22), approx: false, limit: 0 }), 13);
    assert_eq!(s.len(), 22);
    assert_eq!(s.first_id, id(14, 0));
    check(&s);
    let mut s = build();
    assert_eq!(s.trim(&TrimArgs { trim: Trim::MinId(id(15, 0)), approx: false, limit: 0 }), 14);
    assert_eq!(s.first_id, id(15, 0));
    assert_eq!(s.trim(&TrimArgs { trim: Trim::MinId(id(35, 0)), approx: true, limit: 0 }), 16);
    check(&s);
    assert_eq!(s.trim(&TrimArgs { trim: Trim::MaxLen(0), approx: false, limit: 0 }), 5);
    assert!(s.is_empty());
    assert_eq!(s.first_id, StreamId::MIN);
    check(&s);
}

#[test]
fn load_node_checks_everything() {
    let mut s = Stream::new();
    let l = lim(4096, 4);
    for i in 1..=10 {
        s.add(NewId::Given(id(i, 0)), &["f", "v", "g", &i.to_string()], 0, &l).unwrap();
    }
    s.delete(id(3, 0));
    let mut t = Stream::new();
    for (k, lp) in s.nodes() {
        assert!(t.load_node(k, lp.to_vec()).is_some());
    }
    assert_eq!(t.len(), s.len());
    assert_eq!(t.range(StreamId::MIN, StreamId::MAX, 0, false), s.range(StreamId::MIN, StreamId::MAX, 0, false));
    // Out of order, or corrupt: refused.
    let (k, lp) = s.nodes().next().unwrap();
    assert!(t.load_node(k, lp.to_vec()).is_none());
    for i in 0..lp.len() {
        let mut bad = lp.to_vec();
        bad[i] = bad[i].wrapping_add(1);
        let _ = Stream::new().load_node(k, bad);
    }
}

#[test]
fn random_ops_match_a_model() {
    let mut x = 0x9e3779b97f4a7c15u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..40 {
        let l = lim([0, 60, 200, 4096][round % 4], [0, 1, 3, 100][(round / 4) % 4]);
        let mut s = Stream::new();
        let mut model: BTreeMap<StreamId, Fields> = BTreeMap::new();
        let mut ms = 1u64;
        for _ in 0..400 {
            match rnd() % 10 {
                0..=4 => {
                    ms += rnd() % 3;
                    let nf = 1 + (rnd() % 3) as usize;
                    let mut fields = Vec::new();
                    for j in 0..nf {
                        let name = if rnd() % 4 == 0 { format!("x{j}") } else { format!("f{j}") };
                        fields.push(name);
                        fields.push((rnd() % 1000).to_string() + if rnd() % 2 == 0 { "v" } else { "" });
                    }
                    let new = if rnd() % 2 == 0 { NewId::AutoSeq(ms) } else { NewId::Auto };
                    let got = s.add(new, &fields, ms, &l).unwrap();
                    let pairs =
                        fields.chunks(2).map(|c| (c[0].as_bytes().to_vec(), c[1].as_bytes().to_vec())).collect();
                    model.insert(got, pairs);
                }
                5 | 6 if !model.is_empty() => {
                    let keys: Vec<_> = model.keys().copied().collect();
                    let k = keys[(rnd() % keys.len() as u64) as usize];
                    assert_eq!(s.delete_ids(&[k]), 1);
                    model.remove(&k);
                }
                7 => {
                    let max = rnd() % (model.len() as u64 + 5);
                    let approx = rnd() % 2 == 0;
                    let n = s.trim(&TrimArgs { trim: Trim::MaxLen(max), approx, limit: 0 });
                    for _ in 0..n {
                        model.pop_first();
                    }
                    if !approx {
                        assert!(model.len() as u64 <= max);
                    }
                }
                8 if !model.is_empty() => {
                    let keys: Vec<_> = model.keys().copied().collect();
                    let min = keys[(rnd() % keys.len() as u64) as usize];
                    let approx = rnd() % 2 == 0;
                    let n = s.trim(&TrimArgs { trim: Trim::MinId(min), approx, limit: 0 });
                    let before = model.len();
                    model.retain(|k, _| *k >= min || approx);
                    if approx {
                        for _ in 0..n {
                            model.pop_first();
                        }
                    }
                    assert_eq!(before - model.len(), n as usize);
                }
                _ => {
                    let keys: Vec<_> = model.keys().copied().collect();
                    if keys.is_empty() {
                        continue;
                    }
                    let a = keys[(rnd() % keys.len() as u64) as usize];
                    let b = keys[(rnd() % keys.len() as u64) as usize];
                    let (a, b) = (a.min(b), a.max(b));
                    let count = (rnd() % 5) as usize;
                    let rev = rnd() % 2 == 0;
                    let got = s.range(a, b, count, rev);
                    let mut want: Vec<Entry> =
                        model.range(a..=b).map(|(k, f)| Entry { id: *k, fields: f.clone() }).collect();
                    if rev {
                        want.reverse();
                    }
                    if count > 0 {
                        want.truncate(count);
                    }
                    assert_eq!(got, want);
                }
            }
            assert_eq!(s.len(), model.len() as u64);
        }
        check(&s);
        let all: Vec<Entry> = model.iter().map(|(k, f)| Entry { id: *k, fields: f.clone() }).collect();
        assert_eq!(s.range(StreamId::MIN, StreamId::MAX, 0, false), all);
    }
}

#[test]
fn node_index_grows_and_shrinks_in_small_steps() {
    let l = lim(4096, 10);
    let mut s = Stream::new();
    for i in 1..=20_000 {
        s.add(NewId::Given(id(i, 0)), &["f", "v"], 0, &l).unwrap();
        let (n, cap) = (s.nodes.len(), s.nodes.capacity());
        assert!(cap >= n && cap - n <= (n / 8).max(INDEX_MIN_STEP), "{n} nodes in {cap} slots");
        // The tail node stays a valid listpack as it is reallocated.
        assert!(s.nodes.back().is_some_and(|(_, lp)| lp::validate(lp).is_some()));
    }
    assert_eq!(s.node_count(), 2_000);
    let index = crate::alloc::block_bytes(s.nodes.capacity() * 32);
    assert_eq!(std::mem::size_of::<(StreamId, Box<[u8]>)>(), 32);
    let nodes: usize = s.nodes().map(|(_, lp)| crate::alloc::block_bytes(lp.len())).sum();
    let base = crate::alloc::block_bytes(std::mem::size_of::<Stream>());
    assert_eq!(s.mem_usage(usize::MAX), base + index + nodes);
    // Lookups by ID find the right node at every position.
    for i in [1, 2, 10, 11, 12, 9_999, 10_000, 10_001, 19_991, 20_000] {
        assert_eq!(s.get(id(i, 0)).map(|e| e.id), Some(id(i, 0)));
        assert_eq!(s.range(id(i, 0), id(i + 1, 0), 0, true).first().map(|e| e.id), Some(id((i + 1).min(20_000), 0)));
    }
    assert!(s.get(id(20_001, 0)).is_none());
    // A trim to a few nodes gives the slack back; XDEL of whole nodes too.
    s.trim(&TrimArgs { trim: Trim::MaxLen(95), approx: true, limit: 0 });
    assert_eq!(s.node_count(), 10);
    assert!(s.nodes.capacity() <= 2 * 10 + INDEX_MIN_STEP, "{} slots", s.nodes.capacity());
    let ids: Vec<StreamId> = (19_901..=19_990).map(|i| id(i, 0)).collect();
    assert_eq!(s.delete_ids(&ids), 90);
    assert_eq!(s.node_count(), 1);
    assert!(s.nodes.capacity() <= 2 + INDEX_MIN_STEP);
    check(&s);
    assert_eq!(s.first_id, id(19_991, 0));
}
