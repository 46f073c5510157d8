//! Set tests: behaviour against a `HashSet` model under random limits, and
//! every encoding transition.

use std::collections::HashSet;

use proptest::prelude::*;

use super::*;

fn lim(intset: usize, lp_entries: usize, lp_value: usize) -> Limits {
    Limits {
        set_max_intset_entries: intset,
        set_max_listpack_entries: lp_entries,
        set_max_listpack_value: lp_value,
        ..Limits::default()
    }
}

fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn members(s: &Set) -> HashSet<Vec<u8>> {
    s.iter().map(|m| m.into_owned()).collect()
}

#[test]
fn integers_are_canonical_decimals() {
    assert_eq!(parse_int(b"0"), Some(0));
    assert_eq!(parse_int(b"-1"), Some(-1));
    assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [&b""[..], b"-", b"-0", b"01", b"+1", b" 1", b"1 ", b"1.0", b"9223372036854775808", b"1e3"] {
        assert_eq!(parse_int(bad), None, "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn intset_to_listpack_to_hashtable() {
    let l = lim(512, 4, 10);
    let mut s = Set::new();
    assert_eq!(s.encoding(), "intset");
    assert!(s.insert(b"3", &l) && s.insert(b"-1", &l) && !s.insert(b"3", &l));
    assert_eq!(s.ints(), Some(vec![-1, 3]));
    assert!(s.insert(b"a", &l));
    assert_eq!(s.encoding(), "listpack");
    // Integers stay in the listpack from now on, in insertion order.
    assert!(s.insert(b"7", &l));
    assert_eq!(s.ints(), None);
    assert_eq!(s.iter().collect::<Vec<_>>(), [&b"-1"[..], b"3", b"a", b"7"]);
    assert!(s.insert(b"b", &l));
    assert_eq!(s.encoding(), "hashtable");
    assert_eq!(members(&s).len(), 5);
    // Never back down, even when empty again.
    for m in ["-1", "3", "a", "7", "b"] {
        assert!(s.remove(m.as_bytes()));
    }
    assert!(s.is_empty());
    assert_eq!(s.encoding(), "hashtable");
}

#[test]
fn intset_to_hashtable_by_count() {
    let l = lim(3, 128, 64);
    let mut s = Set::from_members(["1", "2", "3"], &l);
    assert_eq!(s.encoding(), "intset");
    s.insert(b"4", &l);
    assert_eq!(s.encoding(), "hashtable");
    assert!(s.contains(b"4") && s.contains(b"1") && !s.contains(b"5"));
}

#[test]
fn intset_to_hashtable_when_a_string_would_not_fit_a_listpack() {
    // Too many integers already.
    let l = lim(512, 2, 64);
    let mut s = Set::from_members(["1", "2"], &l);
    s.insert(b"x", &l);
    assert_eq!(s.encoding(), "hashtable");
    // The string is too long.
    let l = lim(512, 128, 3);
    let mut s = Set::from_members(["1"], &l);
    s.insert(b"long", &l);
    assert_eq!(s.encoding(), "hashtable");
    // An integer is too long as text.
    let mut s = Set::from_members(["-1234"], &l);
    s.insert(b"x", &l);
    assert_eq!(s.encoding(), "hashtable");
    let mut s = Set::from_members(["123"], &l);
    s.insert(b"x", &l);
    assert_eq!(s.encoding(), "listpack");
}

#[test]
fn listpack_to_hashtable_by_length() {
    let l = lim(512, 128, 5);
    let mut s = Set::from_members(["a", "bb"], &l);
    assert_eq!(s.encoding(), "listpack");
    s.insert(b"cccccc", &l);
    assert_eq!(s.encoding(), "hashtable");
    assert_eq!(s.len(), 3);
}

#[test]
fn without_listpacks_sets_are_redis_7_0s() {
    let l = lim(512, 0, 64);
    let mut s = Set::from_members(["1", "2"], &l);
    assert_eq!(s.encoding(), "intset");
    s.insert(b"a", &l);
    assert_eq!(s.encoding(), "hashtable");
    assert_eq!(Set::from_members(["a"], &l).encoding(), "hashtable");
    assert_eq!(Set::from_members(["5", "a"], &l).encoding(), "hashtable");
}

#[test]
fn built_from_scratch_all_integers_is_an_intset() {
    let l = Limits::default();
    let big: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    assert_eq!(Set::from_members(&big[..512], &l).encoding(), "intset");
    assert_eq!(Set::from_members(&big, &l).encoding(), "hashtable");
    let strs: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    assert_eq!(Set::from_members(&strs[..128], &l).encoding(), "listpack");
    assert_eq!(Set::from_members(&strs, &l).encoding(), "hashtable");
}

#[test]
fn intset_capacity_is_capped() {
    assert_eq!(intset_max(&lim(usize::MAX, 0, 0)), 1 << 30);
}

#[test]
fn random_members_and_pops_in_every_encoding() {
    let l = Limits::default();
    let sets = [
        Set::from_members((0..20).map(|i| i.to_string()), &l),
        Set::from_members((0..20).map(|i| format!("m{i}")), &l),
        Set::from_members((0..300).map(|i| format!("m{i}")), &l),
    ];
    for mut s in sets {
        let enc = s.encoding();
        let all = members(&s);
        let mut r = rng(99);
        let seen: HashSet<Vec<u8>> = (0..5000).map(|_| s.random(&mut r).unwrap().into_owned()).collect();
        assert_eq!(seen, all, "{enc}: random covers the set");
        for count in [0, 1, 5, 15, 19, 100, 299, 300, 1000] {
            let got = s.sample(count, &mut r);
            let distinct: HashSet<Vec<u8>> = got.iter().map(|m| m.to_vec()).collect();
            assert_eq!(got.len(), count.min(all.len()), "{enc}: sample {count}");
            assert_eq!(distinct.len(), got.len());
            assert!(distinct.is_subset(&all));
        }
        let mut popped = HashSet::new();
        while let Some(m) = s.pop_random(&mut r) {
            assert!(all.contains(&m) && popped.insert(m));
        }
        assert_eq!(popped, all);
        assert_eq!(s.encoding(), enc);
        assert!(s.random(&mut r).is_none());
    }
}

#[test]
fn packed_scans_answer_at_once() {
    let l = Limits::default();
    let s = Set::from_members(["3", "1", "2"], &l);
    let mut got = Vec::new();
    assert_eq!(s.scan(12345, 1, |m| got.push(m.to_vec())), 0);
    assert_eq!(got, [b"1", b"2", b"3"]);
}

#[test]
fn hashtable_scan_covers_ten_thousand() {
    let l = Limits::default();
    let s = Set::from_members((0..10_000).map(|i| format!("member:{i}")), &l);
    let mut seen = HashSet::new();
    let mut cursor = 0;
    loop {
        cursor = s.scan(cursor, 10, |m| {
            seen.insert(m.to_vec());
        });
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen, members(&s));
}

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<u8>),
    Remove(Vec<u8>),
    Pop(u64),
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-40i64..40).prop_map(|v| v.to_string().into_bytes()),
        any::<i64>().prop_map(|v| v.to_string().into_bytes()),
        prop_oneof![Just("01"), Just("+1"), Just("-0"), Just(""), Just("a"), Just("b"), Just("1.5")]
            .prop_map(|s| s.as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => member().prop_map(Op::Add),
        2 => member().prop_map(Op::Remove),
        1 => any::<u64>().prop_map(Op::Pop),
    ]
}

proptest! {
    #[test]
    fn behaves_like_a_hashset(
        ops in proptest::collection::vec(op(), 0..300),
        intset in 0usize..40,
        lp_entries in 0usize..30,
        lp_value in 0usize..24,
    ) {
        let l = lim(intset, lp_entries, lp_value);
        let mut s = Set::new();
        let mut m: HashSet<Vec<u8>> = HashSet::new();
        let rank = |e: &str| ["intset", "listpack", "hashtable"].iter().position(|x| *x == e).unwrap();
        let mut last = rank(s.encoding());
        for o in ops {
            match o {
                Op::Add(v) => prop_assert_eq!(s.insert(&v, &l), m.insert(v)),
                Op::Remove(v) => prop_assert_eq!(s.remove(&v), m.remove(&v)),
                Op::Pop(seed) => {
                    let got = s.pop_random(&mut rng(seed));
                    prop_assert_eq!(got.is_some(), !m.is_empty());
                    if let Some(v) = got {
                        prop_assert!(m.remove(&v));
                    }
                }
            }
            prop_assert_eq!(s.len(), m.len());
            let now = rank(s.encoding());
            prop_assert!(now >= last, "encodings only move up");
            last = now;
            // Each encoding holds only what it may.
            match s.encoding() {
                "intset" => {
                    prop_assert!(m.iter().all(|v| parse_int(v).is_some()));
                    prop_assert!(m.len() <= intset);
                    let ints = s.ints().unwrap();
                    prop_assert!(ints.windows(2).all(|w| w[0] < w[1]));
                }
                "listpack" => prop_assert!(m.len() <= lp_entries && m.iter().all(|v| v.len() <= lp_value)),
                _ => {}
            }
        }
        prop_assert_eq!(members(&s), m.clone());
        for v in &m {
            prop_assert!(s.contains(v));
        }
        let cloned = s.clone();
        prop_assert_eq!(members(&cloned), m);
    }
}
