//! The list type against a `VecDeque` model, and its encoding conversions.

use super::*;
use proptest::prelude::*;

fn lim(fill: i64) -> Limits {
    Limits { list_max_listpack_size: fill, ..Limits::default() }
}

/// Structure invariants: node counts add up, no empty quicklist node, no
/// node of several elements past the limit, a listpack within the limit.
fn check(l: &List, lim: &Limits) {
    let nl = NodeLimit::of(lim);
    match &l.repr {
        Repr::Listpack(p) => {
            assert!(p.len() <= 1 || !nl.exceeds(p.bytes(), p.len()), "listpack over the limit");
        }
        Repr::Quicklist(q) => {
            assert_eq!(q.nodes.iter().map(Pack::len).sum::<usize>(), q.len);
            for n in &q.nodes {
                assert!(!n.is_empty(), "empty quicklist node");
                assert!(n.len() == 1 || !nl.exceeds(n.bytes(), n.len()), "node over the limit");
            }
        }
    }
}

fn same(l: &List, m: &VecDeque<Vec<u8>>) {
    assert_eq!(l.len(), m.len());
    assert!(l.iter().eq(m.iter().map(|v| &v[..])), "iter differs");
    assert!(l.rev_iter().eq(m.iter().rev().map(|v| &v[..])), "rev_iter differs");
}

#[derive(Debug, Clone)]
enum Op {
    Push(bool, Vec<u8>),
    Pop(bool),
    PopMany(bool, usize),
    Insert(usize, Vec<u8>),
    Set(usize, Vec<u8>),
    Remove(usize, usize),
    RemoveValue(Vec<u8>, usize, bool),
    Range(usize, usize),
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(vec!["a", "b", "c", "", "hello"]).prop_map(|s| s.as_bytes().to_vec()),
        3 => prop::collection::vec(any::<u8>(), 0..400),
        1 => prop::collection::vec(any::<u8>(), 1000..5000),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (any::<bool>(), value()).prop_map(|(f, v)| Op::Push(f, v)),
        3 => any::<bool>().prop_map(Op::Pop),
        1 => (any::<bool>(), 0..40usize).prop_map(|(f, n)| Op::PopMany(f, n)),
        3 => (0..200usize, value()).prop_map(|(i, v)| Op::Insert(i, v)),
        2 => (0..200usize, value()).prop_map(|(i, v)| Op::Set(i, v)),
        1 => (0..200usize, 0..60usize).prop_map(|(i, n)| Op::Remove(i, n)),
        1 => (value(), 0..4usize, any::<bool>()).prop_map(|(v, n, b)| Op::RemoveValue(v, n, b)),
        2 => (0..200usize, 0..100usize).prop_map(|(i, n)| Op::Range(i, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn behaves_like_a_deque(
        fill in prop::sample::select(vec![-5i64, -2, -1, 0, 1, 2, 3, 8, 128]),
        ops in prop::collection::vec(op(), 0..250),
    ) {
        let lim = lim(fill);
        let mut l = List::new();
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for o in ops {
            match o {
                Op::Push(front, v) => {
                    l.push(&v, front, &lim);
                    if front { m.push_front(v) } else { m.push_back(v) }
                }
                Op::Pop(front) => {
                    let got = if front { l.pop_front(&lim) } else { l.pop_back(&lim) };
                    let want = if front { m.pop_front() } else { m.pop_back() };
                    prop_assert_eq!(got, want);
                }
                Op::PopMany(front, n) => {
                    let got = l.pop_many(front, n, &lim);
                    let n = n.min(m.len());
                    let want: Vec<Vec<u8>> = if front {
                        m.drain(..n).collect()
                    } else {
                        m.drain(m.len() - n..).rev().collect()
                    };
                    prop_assert_eq!(got, want);
                }
                Op::Insert(i, v) => {
                    l.insert(i, &v, &lim);
                    m.insert(i.min(m.len()), v);
                }
                Op::Set(i, v) => {
                    let ok = l.set(i, &v, &lim);
                    prop_assert_eq!(ok, i < m.len());
                    if i < m.len() { m[i] = v; }
                }
                Op::Remove(i, n) => {
                    l.remove_range(i, n);
                    l.shrink_encoding(&lim);
                    let end = (i + n).min(m.len());
                    if i < end { m.drain(i..end); }
                }
                Op::RemoveValue(v, n, back) => {
                    let got = l.remove_value(&v, n, back);
                    let budget = if n == 0 { usize::MAX } else { n };
                    let mut removed = 0;
                    if back {
                        let mut i = m.len();
                        while i > 0 && removed < budget {
                            i -= 1;
                            if m[i] == v { m.remove(i); removed += 1; }
                        }
                    } else {
                        let mut i = 0;
                        while i < m.len() && removed < budget {
                            if m[i] == v { m.remove(i); removed += 1; } else { i += 1; }
                        }
                    }
                    prop_assert_eq!(got, removed);
                }
                Op::Range(i, n) => {
                    let got: Vec<&[u8]> = l.range(i, n).collect();
                    let want: Vec<&[u8]> = m.iter().skip(i).take(n).map(|v| &v[..]).collect();
                    prop_assert_eq!(l.range(i, n).len(), want.len());
                    prop_assert_eq!(got, want);
                }
            }
            check(&l, &lim);
            same(&l, &m);
        }
        for (i, v) in m.iter().enumerate() {
            prop_assert_eq!(l.get(i), Some(&v[..]));
        }
        prop_assert_eq!(l.get(m.len()), None);
    }
}

#[test]
fn converts_at_the_count_limit_and_back_below_half() {
    let lim = lim(4);
    let mut l = List::new();
    for v in ["a", "b", "c", "d"] {
        l.push_back(v.as_bytes(), &lim);
    }
    assert_eq!(l.encoding(), "listpack");
    l.push_back(b"e", &lim);
    assert_eq!(l.encoding(), "quicklist");
    assert_eq!(l.node_stats().0, 2);
    // Two nodes: no conversion until one node is left.
    l.pop_back(&lim);
    assert_eq!(l.encoding(), "quicklist");
    // One node of 4 elements, then 3: above half of 4.
    l.pop_front(&lim);
    assert_eq!(l.encoding(), "quicklist");
    l.pop_front(&lim);
    assert_eq!(l.encoding(), "listpack");
    assert!(l.iter().eq([&b"c"[..], b"d"]));
}

#[test]
fn converts_at_the_size_limit_and_back_below_half() {
    let lim = lim(-1); // 4 KiB nodes
    let mut l = List::new();
    let v = vec![b'x'; 1000];
    for _ in 0..4 {
        l.push_back(&v, &lim);
    }
    assert_eq!(l.encoding(), "listpack"); // 4 * 1002 bytes
    l.push_back(&v, &lim);
    assert_eq!(l.encoding(), "quicklist");
    l.pop_back(&lim);
    l.pop_back(&lim);
    assert_eq!(l.encoding(), "quicklist", "3006 bytes is above half of 4096");
    l.pop_back(&lim);
    assert_eq!(l.encoding(), "listpack");
    // An element past the limit is alone in its node.
    let big = vec![b'y'; 5000];
    l.push_front(&big, &lim);
    assert_eq!(l.encoding(), "quicklist");
    l.push_front(b"a", &lim);
    assert_eq!(l.node_stats().0, 3);
    assert_eq!(l.get(1), Some(&big[..]));
}

#[test]
fn multi_push_checks_all_values_first() {
    let lim = lim(3);
    let mut l = List::new();
    l.grow_for([&b"a"[..], b"b", b"c", b"d"], &lim);
    assert_eq!(l.encoding(), "quicklist");
    for v in ["a", "b", "c", "d"] {
        l.push_back(v.as_bytes(), &lim);
    }
    assert_eq!(l.len(), 4);
    let mut l2 = List::new();
    l2.grow_for([&b"a"[..], b"b", b"c"], &lim);
    assert_eq!(l2.encoding(), "listpack");
}

#[test]
fn lset_counts_the_new_value_as_an_addition() {
    let lim = lim(2);
    let mut l = List::new();
    l.push_back(b"a", &lim);
    l.push_back(b"b", &lim);
    assert!(l.set(0, b"z", &lim));
    assert_eq!(l.encoding(), "quicklist");
    assert!(l.iter().eq([&b"z"[..], b"b"]));
    assert!(!l.set(2, b"z", &lim));
}

#[test]
fn fit_encoding_packs_a_small_list_built_as_quicklist() {
    let lim = lim(8);
    let mut l = List::new();
    l.grow_for([&b"0123456789"[..]; 9], &lim);
    for i in 0..6 {
        l.push_back(i.to_string().as_bytes(), &lim);
    }
    assert_eq!(l.encoding(), "quicklist");
    l.shrink_encoding(&lim);
    assert_eq!(l.encoding(), "quicklist", "6 is above half of 8");
    l.fit_encoding(&lim);
    assert_eq!(l.encoding(), "listpack");
}

#[test]
fn large_list_indexing() {
    let lim = Limits::default();
    let mut l = List::new();
    for i in 0..100_000 {
        l.push_back(i.to_string().as_bytes(), &lim);
    }
    assert_eq!(l.encoding(), "quicklist");
    assert!(l.node_stats().0 > 50);
    assert_eq!(l.get(54_321), Some(&b"54321"[..]));
    assert_eq!(l.range(99_998, 10).collect::<Vec<_>>(), [&b"99998"[..], b"99999"]);
    l.remove_range(10, 99_980);
    assert_eq!(l.len(), 20);
    assert_eq!(l.get(10), Some(&b"99990"[..]));
    // Two nodes are left (deletions do not merge nodes, as in Redis).
    l.shrink_encoding(&lim);
    assert_eq!(l.encoding(), "quicklist");
    l.remove_range(0, 10);
    l.shrink_encoding(&lim);
    assert_eq!(l.encoding(), "listpack");
    assert!(l.iter().map(|v| v.to_vec()).eq((99_990..100_000).map(|i: i32| i.to_string().into_bytes())));
}
