use bytes::Bytes;

use super::plan::{pqsort, weight, window, Pattern};
use super::*;
use crate::cmd::test_util::TestDb;

/// One keyspace: every step runs on the test database.
struct Local<'a, 'b>(&'a mut Ks<'b>);

impl Keyspace for Local<'_, '_> {
    async fn load(&mut self, key: Bytes, o: LoadOpts) -> Result<Loaded, OpError> {
        load_key(self.0, &key, o)
    }

    async fn fetch(&mut self, lookups: Vec<Lookup>) -> Vec<Option<Bytes>> {
        lookups.iter().map(|(k, f)| lookup(self.0, k, f.as_deref())).collect()
    }

    async fn store(&mut self, dst: Bytes, rows: Vec<Option<Bytes>>) {
        store_rows(self.0, &dst, &rows)
    }
}

/// Runs a future that never waits (every step of [`Local`] is immediate).
fn now<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a local SORT step waited"),
    }
}

fn sort_local(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    now(sort(&mut Local(ks), args, out, false))
}

fn sort_ro_local(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    now(sort(&mut Local(ks), args, out, true))
}

/// Fixtures, built with the types' own API.
fn list(t: &mut TestDb, key: &str, items: &[&str]) {
    let mut l = List::new();
    for i in items {
        l.push_back(i.as_bytes(), &t.limits);
    }
    t.db.insert(Entry::new_obj(key.as_bytes(), Value::List(l), None));
}

fn string(t: &mut TestDb, key: &str, v: &str, expire_at: Option<u64>) {
    let v = v.as_bytes();
    t.db.insert(Entry::new_string(key.as_bytes(), v, crate::db::StrEncoding::for_value(v), expire_at));
}

fn hash(t: &mut TestDb, key: &str, pairs: &[(&str, &str)]) {
    let mut h = crate::types::Hash::new();
    for (f, v) in pairs {
        h.insert(f.as_bytes(), v.as_bytes(), &t.limits);
    }
    t.db.insert(Entry::new_obj(key.as_bytes(), Value::Hash(h), None));
}

fn set(t: &mut TestDb, key: &str, members: &[&str]) {
    let mut s = crate::types::Set::new();
    for m in members {
        s.insert(m.as_bytes(), &t.limits);
    }
    t.db.insert(Entry::new_obj(key.as_bytes(), Value::Set(s), None));
}

/// An array reply of bulk strings (nulls as "nil"), for readable assertions.
fn strings(reply: &str) -> Vec<String> {
    let mut lines = reply.split("\r\n");
    let head = lines.next().unwrap_or_default();
    assert!(head.starts_with('*'), "not an array: {reply:?}");
    let mut v = Vec::new();
    while let Some(l) = lines.next() {
        if l == "$-1" {
            v.push("nil".to_string());
        } else if l.starts_with('$') {
            v.push(lines.next().unwrap_or_default().to_string());
        }
    }
    v
}

#[test]
fn patterns_read_as_c_strings() {
    let p = |s: &[u8]| Pattern::parse(s);
    assert_eq!(p(b"#"), Pattern::Elem);
    assert_eq!(p(b"#\0x*"), Pattern::Elem);
    assert_eq!(p(b"nosort"), Pattern::Fixed);
    assert_eq!(p(b"a\0*"), Pattern::Fixed);
    assert_eq!(p(b"w_*"), Pattern::Key { prefix: b"w_".to_vec(), suffix: vec![], field: None });
    assert_eq!(
        p(b"h_*_x->f->g"),
        Pattern::Key { prefix: b"h_".to_vec(), suffix: b"_x".to_vec(), field: Some(Bytes::from_static(b"f->g")) }
    );
    // An empty field name is no field: the arrow is part of the key name.
    assert_eq!(p(b"h_*->"), Pattern::Key { prefix: b"h_".to_vec(), suffix: b"->".to_vec(), field: None });
    assert_eq!(p(b"a->b*c"), Pattern::Key { prefix: b"a->b".to_vec(), suffix: b"c".to_vec(), field: None });
    assert_eq!(p(b"*->\0f"), Pattern::Key { prefix: vec![], suffix: b"->\0f".to_vec(), field: None });
    let Some((key, field)) = p(b"o_*->name").lookup(b"7") else { panic!() };
    assert_eq!((&key[..], field.as_deref()), (&b"o_7"[..], Some(&b"name"[..])));
    assert_eq!(p(b"#").lookup(b"7"), None);
}

#[test]
fn weights_like_strtod() {
    let ok: &[(&[u8], f64)] = &[
        (b"", 0.0),
        (b" 5", 5.0),
        (b"  +3", 3.0),
        (b".5", 0.5),
        (b"5.", 5.0),
        (b"-2.5e3", -2500.0),
        (b"0x1p3", 8.0),
        (b"0X1A", 26.0),
        (b"-0x.8", -0.5),
        (b"infinity", f64::INFINITY),
        (b"-Inf", f64::NEG_INFINITY),
        (b"2.2250738585072014e-308", f64::MIN_POSITIVE),
        (b"1.7976931348623157e308", f64::MAX),
        (b"7\0garbage", 7.0),
        (b"\0", 0.0),
        (b"0e999", 0.0),
    ];
    for (s, want) in ok {
        assert_eq!(weight(s), Some(*want), "{:?}", String::from_utf8_lossy(s));
    }
    let bad: &[&[u8]] = &[
        b"1e",
        b"5 ",
        b" ",
        b"-",
        b"--5",
        b"+-5",
        b"nan",
        b"-nan",
        b"nan(123)",
        b"0x",
        b"0x1p",
        b"1_0",
        b"abc",
        b"2.2250738585072011e-308",
        b"4.9e-324",
        b"1e-400",
        b"1.7976931348623159e308",
        b"1e400",
        b"infinit",
        b"\xc3\xa9",
    ];
    for s in bad {
        assert_eq!(weight(s), None, "{:?}", String::from_utf8_lossy(s));
    }
}

#[test]
fn limit_windows() {
    // (offset, count, len) -> (start, end), as Redis 7.0 clamps them.
    let cases = [
        ((0, -1), 5, (0, 4)),
        ((1, i64::MAX), 5, (1, 4)),
        ((-5, 2), 5, (0, 1)),
        ((2, -3), 5, (2, 4)),
        ((5, 1), 5, (4, 3)),
        ((0, 0), 5, (0, -1)),
        ((i64::MAX, i64::MAX), 5, (4, 3)),
        ((i64::MIN, i64::MIN), 5, (0, 4)),
        ((0, -1), 0, (-1, -2)),
        ((3, 2), 0, (-1, -2)),
    ];
    for (limit, len, want) in cases {
        assert_eq!(window(limit, len), want, "{limit:?} over {len}");
    }
}

/// The plain Bentley-McIlroy quicksort sorts whatever the range, and a
/// partial one gets the range right.
#[test]
fn pqsort_sorts_its_range() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for n in [0usize, 1, 2, 6, 7, 8, 40, 41, 100, 1000] {
        for _ in 0..20 {
            let v: Vec<u64> = (0..n).map(|_| next() % (n as u64 / 2 + 1)).collect();
            let mut full = v.clone();
            pqsort(&mut full, &|a: &u64, b: &u64| a.cmp(b), 0, n as i64 - 1);
            let mut want = v.clone();
            want.sort();
            assert_eq!(full, want);
            if n > 2 {
                let lo = (next() % n as u64) as usize;
                let hi = lo + (next() % (n - lo) as u64) as usize;
                let mut part = v.clone();
                pqsort(&mut part, &|a: &u64, b: &u64| a.cmp(b), lo as i64, hi as i64);
                assert_eq!(part[lo..=hi], want[lo..=hi], "n {n} range {lo}..={hi}");
            }
        }
    }
}

/// Ties in a partial sort come out in the order Redis's pqsort leaves them,
/// and in a full sort in list order (glibc's merge sort is stable). Captured
/// from redis-server 7.0.15: a list e0..e59 where every fourth element has no
/// weight and the others weigh (i * 7) % 5, sorted by ALPHA weight.
#[test]
fn ties_come_out_as_in_redis() {
    let mut t = TestDb::default();
    let elems: Vec<String> = (0..60).map(|i| format!("e{i}")).collect();
    list(&mut t, "l", &elems.iter().map(String::as_str).collect::<Vec<_>>());
    for i in (0..60).filter(|i| i % 4 != 0) {
        string(&mut t, &format!("w_e{i}"), &((i * 7) % 5).to_string(), None);
    }
    let cases: &[(&[&str], &str)] = &[
        (&["LIMIT", "5", "10"], "e56 e36 e20 e32 e24 e28 e4 e52 e8 e48"),
        (&["LIMIT", "0", "20", "DESC"], "e27 e57 e7 e2 e47 e17 e42 e22 e37 e9 e49 e14 e34 e29 e59 e19 e39 e54 e41 e51"),
        (&["LIMIT", "40", "15"], "e41 e21 e39 e59 e54 e29 e19 e34 e14 e9 e49 e22 e37 e17 e42"),
        (
            &[],
            "e0 e4 e8 e12 e16 e20 e24 e28 e32 e36 e40 e44 e48 e52 e56 e5 e10 e15 e25 e30 e35 e45 e50 e55 e3 e13 \
             e18 e23 e33 e38 e43 e53 e58 e1 e6 e11 e21 e26 e31 e41 e46 e51 e9 e14 e19 e29 e34 e39 e49 e54 e59 e2 \
             e7 e17 e22 e27 e37 e42 e47 e57",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec!["SORT", "l", "BY", "w_*", "ALPHA"];
        args.extend_from_slice(extra);
        assert_eq!(strings(&t.run(sort_local, &args)).join(" "), *want, "{extra:?}");
    }
    let got = strings(&t.run(sort_local, &["SORT", "l", "BY", "nokey_*", "ALPHA", "LIMIT", "0", "10"]));
    assert_eq!(got.join(" "), "e59 e1 e2 e3 e4 e5 e6 e7 e8 e9");
}

#[test]
fn sorts_lists_numerically_and_alphabetically() {
    let mut t = TestDb::default();
    list(&mut t, "l", &["3", "10", "1", "2.5", "-1", "1e1"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "l"])), ["-1", "1", "2.5", "3", "10", "1e1"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "l", "DESC"])), ["1e1", "10", "3", "2.5", "1", "-1"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "l", "ALPHA"])), ["-1", "1", "10", "1e1", "2.5", "3"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "l", "LIMIT", "1", "2"])), ["1", "2.5"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "l", "BY", "nosort", "LIMIT", "1", "2", "DESC"])), ["-1", "2.5"]);
    list(&mut t, "bad", &["1", "x"]);
    assert_eq!(t.run(sort_local, &["SORT", "bad"]), "-ERR One or more scores can't be converted into double\r\n");
    assert_eq!(strings(&t.run(sort_local, &["SORT", "bad", "ALPHA"])), ["1", "x"]);
    assert_eq!(t.run(sort_local, &["SORT", "missing"]), "*0\r\n");
    string(&mut t, "s", "v", None);
    assert_eq!(
        t.run(sort_local, &["SORT", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
}

#[test]
fn by_and_get_patterns() {
    let mut t = TestDb::default();
    list(&mut t, "l", &["a", "b", "c", "d"]);
    string(&mut t, "w_a", "3", None);
    string(&mut t, "w_b", "1", None);
    string(&mut t, "w_c", "2", None);
    hash(&mut t, "h_a", &[("n", "A")]);
    hash(&mut t, "h_c", &[("n", "C")]);
    string(&mut t, "v_b", "B", None);
    // d has no weight: 0, first.
    assert_eq!(strings(&t.run(sort_local, &["SORT", "l", "BY", "w_*"])), ["d", "b", "c", "a"]);
    assert_eq!(
        strings(&t.run(sort_local, &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->n", "GET", "v_*", "GET", "k"])),
        ["d", "nil", "nil", "nil", "b", "nil", "B", "nil", "c", "C", "nil", "nil", "a", "A", "nil", "nil"]
    );
    // ALPHA BY: a missing weight sorts first; ties keep their order.
    assert_eq!(strings(&t.run(sort_local, &["SORT", "l", "BY", "h_*->n", "ALPHA", "DESC"])), ["c", "a", "b", "d"]);
    assert_eq!(t.run(sort_local, &["SORT", "l", "BY", "w_*", "GET", "v_*", "STORE", "dst"]), ":4\r\n");
    string(&mut t, "w_d", "oops", None);
    assert_eq!(
        t.run(sort_local, &["SORT", "l", "BY", "w_*"]),
        "-ERR One or more scores can't be converted into double\r\n"
    );
}

#[test]
fn store_creates_a_list_or_deletes() {
    let mut t = TestDb::default();
    list(&mut t, "l", &["2", "1"]);
    let at = t.now + 100_000;
    string(&mut t, "dst", "x", Some(at));
    assert_eq!(t.run(sort_local, &["SORT", "l", "STORE", "dst"]), ":2\r\n");
    assert_eq!(t.encoding("dst"), Some("listpack"));
    assert_eq!(t.db.table().get(b"dst").and_then(|e| e.expire_at()), None);
    assert_eq!(t.run(sort_local, &["SORT", "missing", "STORE", "dst"]), ":0\r\n");
    assert!(t.db.table().get(b"dst").is_none());
    assert_eq!(t.run(sort_ro_local, &["SORT_RO", "l", "STORE", "dst"]), "-ERR syntax error\r\n");
}

#[test]
fn option_errors() {
    let mut t = TestDb::default();
    let syntax = "-ERR syntax error\r\n";
    assert_eq!(t.run(sort_local, &["SORT", "l", "LIMIT", "1"]), syntax);
    assert_eq!(t.run(sort_local, &["SORT", "l", "BY"]), syntax);
    assert_eq!(t.run(sort_local, &["SORT", "l", "foo"]), syntax);
    assert_eq!(
        t.run(sort_local, &["SORT", "l", "LIMIT", "x", "1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    // Options are checked before the key's type.
    string(&mut t, "s", "v", None);
    assert_eq!(t.run(sort_local, &["SORT", "s", "foo"]), syntax);
}

#[test]
fn sets_and_sorted_sets() {
    let mut t = TestDb::default();
    set(&mut t, "s", &["pear", "apple", "fig"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "s", "ALPHA"])), ["apple", "fig", "pear"]);
    // Unsorted, a set comes out in its own order; stored, it is sorted ALPHA.
    let mut own = strings(&t.run(sort_local, &["SORT", "s", "BY", "nosort"]));
    own.sort();
    assert_eq!(own, ["apple", "fig", "pear"]);
    assert_eq!(t.run(sort_local, &["SORT", "s", "BY", "nosort", "DESC", "STORE", "d"]), ":3\r\n");
    let Some(Value::List(l)) = t.db.table().get(b"d").and_then(|e| e.obj()) else { panic!("no list stored") };
    assert_eq!(l.iter().collect::<Vec<_>>(), [&b"pear"[..], b"fig", b"apple"]);
    let mut z = crate::types::ZSet::new();
    for (m, s) in [("c", 3.0), ("a", 1.0), ("b", 2.0), ("e", 5.0), ("d", 4.0)] {
        z.insert(m.as_bytes(), s, &t.limits);
    }
    t.db.insert(Entry::new_obj(b"z", Value::ZSet(z), None));
    assert_eq!(t.encoding("z"), Some("listpack"));
    assert_eq!(strings(&t.run(sort_local, &["SORT", "z", "BY", "nosort", "LIMIT", "1", "2", "DESC"])), ["d", "c"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "z", "BY", "nosort", "LIMIT", "4", "9", "DESC"])), ["a"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "z", "BY", "nosort", "LIMIT", "3", "9"])), ["d", "e"]);
    assert_eq!(strings(&t.run(sort_local, &["SORT", "z", "ALPHA", "DESC", "LIMIT", "0", "2"])), ["e", "d"]);
    assert_eq!(t.run(sort_local, &["SORT", "z"]), "-ERR One or more scores can't be converted into double\r\n");
    // As in Redis, sorting converts a packed sorted set for good.
    assert_eq!(t.encoding("z"), Some("skiplist"));
}

#[test]
fn pqsort_ties_fall_as_in_redis() {
    // Weights with ties, in list order, and the first nine that redis-server
    // 7.0.15 returns for SORT l BY w_* LIMIT 0 9 (GEOSEARCH ... COUNT sorts
    // its matches with the same pqsort).
    let mut v = vec![
        ("m49", 17119101.4547),
        ("m41", 11409977.4296),
        ("m56", 31275203.6421),
        ("m16", 11646711.8780),
        ("m31", 11391305.7418),
        ("m44", 11391305.7418),
        ("m46", 1210912.1387),
        ("m19", 0.0),
        ("m42", 0.0),
        ("m52", 11824633.9807),
        ("m43", 12763765.4561),
        ("m48", 14240730.5701),
        ("m11", 10689351.6460),
        ("m22", 10689351.6460),
        ("m58", 10689351.6460),
        ("m53", 10702265.2568),
        ("m57", 14266295.5135),
        ("m32", 15376559.6868),
        ("m12", 15479954.3249),
        ("m54", 25546487.3215),
        ("m36", 15556327.6962),
        ("m33", 16747893.7887),
        ("m25", 21351246.4725),
        ("m2", 15488815.6858),
        ("m29", 15520575.5585),
        ("m47", 18325411.9854),
        ("m51", 20494395.5898),
        ("m24", 24199317.6869),
        ("m3", 24199317.6869),
        ("m9", 36671008.4093),
        ("m50", 31606816.0673),
    ];
    let asc = |a: &(&str, f64), b: &(&str, f64)| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal);
    pqsort(&mut v, &asc, 0, 8);
    let names: Vec<&str> = v[..9].iter().map(|p| p.0).collect();
    assert_eq!(names, ["m19", "m42", "m46", "m11", "m22", "m58", "m53", "m31", "m44"]);
}
