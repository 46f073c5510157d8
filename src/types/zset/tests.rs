//! Sorted sets against a model: a map of member -> score, ordered on demand.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// The model: every member and its score.
#[derive(Default, Debug)]
struct Model(BTreeMap<Vec<u8>, f64>);

impl Model {
    fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = self.0.iter().map(|(m, s)| (m.clone(), *s)).collect();
        v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
        v
    }
}

fn owned<'a>(it: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<(Vec<u8>, f64)> {
    it.map(|(m, s)| (m.to_vec(), s)).collect()
}

fn check(z: &ZSet, m: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(z.len(), m.0.len());
    let want = m.sorted();
    prop_assert_eq!(owned(z.iter()), want.clone());
    for (i, (member, s)) in want.iter().enumerate() {
        prop_assert_eq!(z.score(member), Some(*s));
        prop_assert_eq!(z.rank(member), Some(i));
    }
    if let Repr::Indexed(x) = &z.repr {
        x.check();
    }
    Ok(())
}

const SCORES: &[f64] = &[0.0, -0.0, 1.0, 1.5, -2.0, 3.0, 1e300, f64::INFINITY, f64::NEG_INFINITY, 7.0, 0.25];

#[derive(Debug, Clone)]
enum Op {
    Add(u8, usize, u8),
    Remove(u8),
    Rank(u8),
    Range(u8, bool, u8),
    Score(usize, usize, bool, bool),
    RemoveScore(usize, usize, bool, bool),
    RemoveRanks(u8, u8),
    Pop(bool),
    Random(u64),
}

fn member(i: u8) -> Vec<u8> {
    // A few members are long enough to leave the packed encoding.
    if i % 17 == 16 {
        format!("long-member-{i}-{}", "x".repeat(70)).into_bytes()
    } else {
        format!("m{}", i % 60).into_bytes()
    }
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0..SCORES.len();
    prop_oneof![
        8 => (any::<u8>(), s.clone(), 0..32u8).prop_map(|(m, s, f)| Op::Add(m, s, f)),
        3 => any::<u8>().prop_map(Op::Remove),
        1 => any::<u8>().prop_map(Op::Rank),
        2 => (any::<u8>(), any::<bool>(), any::<u8>()).prop_map(|(a, r, n)| Op::Range(a, r, n)),
        2 => (s.clone(), s.clone(), any::<bool>(), any::<bool>()).prop_map(|(a, b, x, y)| Op::Score(a, b, x, y)),
        1 => (s.clone(), s, any::<bool>(), any::<bool>()).prop_map(|(a, b, x, y)| Op::RemoveScore(a, b, x, y)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::RemoveRanks(a, b)),
        2 => any::<bool>().prop_map(Op::Pop),
        1 => any::<u64>().prop_map(Op::Random),
    ]
}

fn flags(f: u8) -> AddFlags {
    // Only the combinations ZADD accepts.
    let mut a = AddFlags { incr: f & 1 != 0, ..Default::default() };
    match (f >> 1) % 8 {
        1 => a.nx = true,
        2 => a.xx = true,
        3 => a.gt = true,
        4 => a.lt = true,
        5 => {
            a.xx = true;
            a.gt = true
        }
        6 => {
            a.xx = true;
            a.lt = true
        }
        _ => {}
    }
    a
}

/// What `zsetAdd` does, on the model.
fn model_add(m: &mut Model, member: &[u8], score: f64, f: AddFlags) -> Result<Added, NanScore> {
    match m.0.get(member).copied() {
        None if f.xx => Ok(Added::Skipped),
        None => {
            m.0.insert(member.to_vec(), score);
            Ok(Added::New(score))
        }
        Some(_) if f.nx => Ok(Added::Skipped),
        Some(cur) => {
            let s = if f.incr { score + cur } else { score };
            if s.is_nan() {
                return Err(NanScore);
            }
            if (f.lt && s >= cur) || (f.gt && s <= cur) {
                return Ok(Added::Skipped);
            }
            if s == cur {
                return Ok(Added::Same(s));
            }
            m.0.insert(member.to_vec(), s);
            Ok(Added::Updated(s))
        }
    }
}

fn range_of(a: usize, b: usize, minex: bool, maxex: bool) -> ScoreRange {
    ScoreRange { min: SCORES[a], max: SCORES[b], minex, maxex }
}

fn run(ops: Vec<Op>, lim: Limits) -> Result<(), TestCaseError> {
    let mut z = ZSet::new();
    let mut m = Model::default();
    for o in ops {
        match o {
            Op::Add(i, s, f) => {
                let member = member(i);
                let f = flags(f);
                let was = (z.encoding(), z.len());
                let got = z.add(&member, SCORES[s], f, &lim);
                prop_assert_eq!(got, model_add(&mut m, &member, SCORES[s], f));
                // Packed until a new member crosses a limit; never back.
                let must_index = was.0 == "skiplist"
                    || (matches!(got, Ok(Added::New(_)))
                        && (was.1 + 1 > lim.zset_max_listpack_entries || member.len() > lim.zset_max_listpack_value));
                prop_assert_eq!(z.encoding(), if must_index { "skiplist" } else { "listpack" });
            }
            Op::Remove(i) => {
                let member = member(i);
                prop_assert_eq!(z.remove(&member), m.0.remove(&member).is_some());
            }
            Op::Rank(i) => {
                let member = member(i);
                let want = m.sorted().iter().position(|(x, _)| *x == member);
                prop_assert_eq!(z.rank(&member), want);
            }
            Op::Range(a, rev, n) => {
                let a = a as usize;
                let sorted = m.sorted();
                let want: Vec<(Vec<u8>, f64)> = if rev {
                    let end = (a + 1).min(sorted.len());
                    sorted[..end].iter().rev().take(n as usize).cloned().collect()
                } else {
                    sorted.iter().skip(a).take(n as usize).cloned().collect()
                };
                prop_assert_eq!(owned(z.range(a, rev).take(n as usize)), want);
            }
            Op::Score(a, b, minex, maxex) => {
                let r = range_of(a, b, minex, maxex);
                let sorted = m.sorted();
                let inside: Vec<usize> =
                    (0..sorted.len()).filter(|&i| r.gte_min(sorted[i].1) && r.lte_max(sorted[i].1)).collect();
                prop_assert_eq!(z.first_in_score(&r), inside.first().copied());
                prop_assert_eq!(z.last_in_score(&r), inside.last().copied());
                prop_assert_eq!(z.count_in_score(&r), inside.len());
            }
            Op::RemoveScore(a, b, minex, maxex) => {
                let r = range_of(a, b, minex, maxex);
                let before = m.0.len();
                m.0.retain(|_, s| !(r.gte_min(*s) && r.lte_max(*s)));
                prop_assert_eq!(z.remove_in_score(&r), before - m.0.len());
            }
            Op::RemoveRanks(a, b) => {
                let (a, b) = (a as usize % 70, b as usize % 70);
                let sorted = m.sorted();
                let end = b.min(sorted.len());
                for (member, _) in sorted.get(a..end).unwrap_or(&[]) {
                    m.0.remove(member);
                }
                prop_assert_eq!(z.remove_ranks(a, b), end.saturating_sub(a));
            }
            Op::Pop(max) => {
                let sorted = m.sorted();
                let want = if max { sorted.last().cloned() } else { sorted.first().cloned() };
                if let Some((member, _)) = &want {
                    m.0.remove(member);
                }
                prop_assert_eq!(if max { z.pop_max() } else { z.pop_min() }, want);
            }
            Op::Random(r) => {
                if !z.is_empty() {
                    let (member, s) = z.random(r);
                    prop_assert_eq!(m.0.get(member), Some(&s));
                }
            }
        }
        prop_assert_eq!(z.len(), m.0.len());
    }
    check(&z, &m)?;
    // A scan in any encoding returns each member once, with its score.
    let mut seen = BTreeMap::new();
    let mut cursor = 0;
    loop {
        cursor = z.scan(cursor, 3, |member, s| {
            seen.insert(member.to_vec(), s);
        });
        if cursor == 0 {
            break;
        }
    }
    prop_assert_eq!(seen, m.0.clone());
    // A copy and a set rebuilt whole hold the same entries.
    let copy = z.clone();
    check(&copy, &m)?;
    let rebuilt = ZSet::from_sorted(&m.sorted(), &lim);
    check(&rebuilt, &m)?;
    Ok(())
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![Just(0usize), Just(1), Just(5), Just(16), Just(128)]
        .prop_map(|n| Limits { zset_max_listpack_entries: n, ..Limits::default() })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn behaves_like_the_model(ops in proptest::collection::vec(op(), 0..400), lim in limits()) {
        run(ops, lim)?;
    }
}

#[derive(Debug, Clone)]
enum LexOp {
    Add(u8),
    Remove(u8),
    Query(u8, u8, u8, u8),
    RemoveRange(u8, u8, u8, u8),
}

fn bound(kind: u8, v: u8) -> (LexBound, bool) {
    match kind % 4 {
        0 => (LexBound::Min, true),
        1 => (LexBound::Max, true),
        2 => (LexBound::Member(vec![b'a' + v % 26]), false),
        _ => (LexBound::Member(vec![b'a' + v % 26]), true),
    }
}

fn lex_range(a: u8, av: u8, b: u8, bv: u8) -> LexRange {
    let (min, minex) = bound(a, av);
    let (max, maxex) = bound(b, bv);
    LexRange { min, max, minex, maxex }
}

fn lex_op() -> impl Strategy<Value = LexOp> {
    prop_oneof![
        4 => any::<u8>().prop_map(LexOp::Add),
        1 => any::<u8>().prop_map(LexOp::Remove),
        3 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c, d)| LexOp::Query(a, b, c, d)),
        1 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c, d)| LexOp::RemoveRange(a, b, c, d)),
    ]
}

fn lex_member(i: u8) -> Vec<u8> {
    let a = b'a' + i % 26;
    match i % 3 {
        0 => vec![a],
        1 => vec![a, a],
        _ => vec![a, b'0' + i % 10],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Lexicographic ranges over members that all share one score.
    #[test]
    fn lex_ranges_like_the_model(ops in proptest::collection::vec(lex_op(), 0..300), lim in limits()) {
        let mut z = ZSet::new();
        let mut m = Model::default();
        for o in ops {
            match o {
                LexOp::Add(i) => {
                    let member = lex_member(i);
                    prop_assert_eq!(z.insert(&member, 0.0, &lim), m.0.insert(member, 0.0).is_none());
                }
                LexOp::Remove(i) => {
                    let member = lex_member(i);
                    prop_assert_eq!(z.remove(&member), m.0.remove(&member).is_some());
                }
                LexOp::Query(a, av, b, bv) => {
                    let r = lex_range(a, av, b, bv);
                    let sorted = m.sorted();
                    let inside: Vec<usize> =
                        (0..sorted.len()).filter(|&i| r.gte_min(&sorted[i].0) && r.lte_max(&sorted[i].0)).collect();
                    prop_assert_eq!(z.first_in_lex(&r), inside.first().copied());
                    prop_assert_eq!(z.last_in_lex(&r), inside.last().copied());
                    prop_assert_eq!(z.count_in_lex(&r), inside.len());
                }
                LexOp::RemoveRange(a, av, b, bv) => {
                    let r = lex_range(a, av, b, bv);
                    let before = m.0.len();
                    m.0.retain(|k, _| !(r.gte_min(k) && r.lte_max(k)));
                    prop_assert_eq!(z.remove_in_lex(&r), before - m.0.len());
                }
            }
        }
        check(&z, &m)?;
    }
}

#[test]
fn lex_range_emptiness_follows_redis() {
    let r = |min, minex, max, maxex| LexRange { min, max, minex, maxex };
    assert!(!r(LexBound::Min, true, LexBound::Max, true).is_empty());
    assert!(r(LexBound::Min, true, LexBound::Min, true).is_empty());
    assert!(r(LexBound::Max, true, LexBound::Min, true).is_empty());
    assert!(!r(LexBound::Member(b"a".to_vec()), false, LexBound::Member(b"a".to_vec()), false).is_empty());
    assert!(r(LexBound::Member(b"a".to_vec()), true, LexBound::Member(b"a".to_vec()), false).is_empty());
    assert!(r(LexBound::Member(b"b".to_vec()), false, LexBound::Member(b"a".to_vec()), false).is_empty());
}

#[test]
fn conversion_happens_before_the_insert_that_crosses_a_limit() {
    let lim = Limits { zset_max_listpack_entries: 2, zset_max_listpack_value: 4, ..Limits::default() };
    let mut z = ZSet::new();
    z.insert(b"a", 1.0, &lim);
    z.insert(b"b", 2.0, &lim);
    assert_eq!(z.encoding(), "listpack");
    // Updating keeps the encoding; a third member converts.
    z.insert(b"b", 5.0, &lim);
    assert_eq!(z.encoding(), "listpack");
    z.insert(b"c", 3.0, &lim);
    assert_eq!(z.encoding(), "skiplist");
    let mut z = ZSet::new();
    z.insert(b"abcde", 1.0, &lim);
    assert_eq!(z.encoding(), "skiplist");
    assert_eq!(owned(z.iter()), vec![(b"abcde".to_vec(), 1.0)]);
    // Results built whole: packed when they fit.
    assert_eq!(ZSet::from_sorted(&[(b"a", 1.0), (b"b", 2.0)], &lim).encoding(), "listpack");
    assert_eq!(ZSet::from_sorted(&[(b"a", 1.0), (b"b", 2.0), (b"c", 3.0)], &lim).encoding(), "skiplist");
    assert_eq!(ZSet::from_sorted(&[(&b"abcde"[..], 1.0)], &lim).encoding(), "skiplist");
    let none: &[(&[u8], f64)] = &[];
    assert_eq!(ZSet::from_sorted(none, &Limits { zset_max_listpack_entries: 0, ..lim }).encoding(), "listpack");
}

#[test]
fn large_sets_stay_compact_and_consistent() {
    let lim = Limits::default();
    let mut z = ZSet::new();
    let n = 100_000u32;
    for i in 0..n {
        z.insert(format!("member:{i}").as_bytes(), (i % 1000) as f64, &lim);
    }
    assert_eq!(z.encoding(), "skiplist");
    let per = z.heap_bytes() / n as usize;
    // Blob (~14 B rounded by the allocator) + slab and score (16) + table (~5-10)
    // + tree (~16): far below Redis's ~100 B a member.
    assert!(per < 64, "{per} bytes a member");
    if let Repr::Indexed(x) = &z.repr {
        x.check();
    }
    for i in (0..n).step_by(3) {
        assert!(z.remove(format!("member:{i}").as_bytes()));
    }
    for i in (0..n).step_by(7) {
        z.insert(format!("member:{i}").as_bytes(), -(i as f64), &lim);
    }
    if let Repr::Indexed(x) = &z.repr {
        x.check();
    }
    let mut prev: Option<(Vec<u8>, f64)> = None;
    for (m, s) in z.iter() {
        if let Some((pm, ps)) = &prev {
            assert!(before(*ps, pm, s, m));
        }
        prev = Some((m.to_vec(), s));
    }
    while z.pop_min().is_some() {}
    assert!(z.is_empty());
}

#[test]
fn small_indexed_sets_stay_small() {
    // Sets indexed early (a long member, or zset-max-listpack-entries 0)
    // reserve no full-size tree node.
    let lim = Limits { zset_max_listpack_entries: 0, ..Limits::default() };
    let mut z = ZSet::new();
    z.insert(b"a", 1.0, &lim);
    z.insert(b"b", 2.0, &lim);
    assert_eq!(z.encoding(), "skiplist");
    assert!(z.heap_bytes() < 400, "{} bytes", z.heap_bytes());
}

#[test]
fn index_resizes_incrementally_both_ways_and_scans_through_it() {
    let lim = Limits::default();
    let mut z = ZSet::new();
    let full_scan = |z: &ZSet| {
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = z.scan(cursor, 7, |m, _| {
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                return seen.len();
            }
        }
    };
    for i in 0..3000u32 {
        z.insert(format!("m{i}").as_bytes(), (i % 13) as f64, &lim);
        if i % 211 == 0 {
            assert_eq!(full_scan(&z), z.len());
        }
    }
    for i in 0..2990u32 {
        assert!(z.remove(format!("m{i}").as_bytes()));
        if i % 307 == 0 {
            assert_eq!(full_scan(&z), z.len());
            if let Repr::Indexed(x) = &z.repr {
                x.check();
            }
        }
    }
    assert_eq!(full_scan(&z), 10);
    if let Repr::Indexed(x) = &z.repr {
        x.check();
        assert!(x.heap_bytes() < 4000, "{} bytes after shrinking", x.heap_bytes());
    }
}
