//! DUMP/RESTORE payloads: strings, every collection type and encoding, payloads
//! captured from Redis 7.0.15, and corrupted payloads.

use super::rdb::{finish_payload, save_len, CRC64};
use super::*;
use crate::cmd::test_util::b;

fn load_string(p: &[u8]) -> Option<Vec<u8>> {
    match load_payload(p, &Limits::default())? {
        Restored::String(s) => Some(s),
        Restored::Value(_) => None,
    }
}

#[test]
fn crc_is_redis_jones() {
    assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
}

#[test]
fn dumps_match_redis_byte_for_byte() {
    // Payloads captured from redis-server 7.0.15 (SET k <value>; DUMP k).
    let cases: &[(&[u8], &[u8])] = &[
        (b"", b"\x00\x00\n\x00]\x9b\\@\x0f\x7f\xa2\xda"),
        (b"hello", b"\x00\x05hello\n\x00cr\xdfve4 \n"),
        (b"0", b"\x00\xc0\x00\n\x00\x98@\xa7x\xf8P\x03\x08"),
        (b"-1", b"\x00\xc0\xff\n\x00\x0c\x93~$\x85\x08\x9d\xc5"),
        (b"128", b"\x00\xc1\x80\x00\n\x00\xebz\xb3\xb5\x10\xcfKe"),
        (b"32768", b"\x00\xc2\x00\x80\x00\x00\n\x00E\xd8.\xed\xd5\xbd\xa9\x10"),
        (b"2147483648", b"\x00\n2147483648\n\x00\xe7\xb1)\xa3L\x1dv\xee"),
        (b"-0", b"\x00\x02-0\n\x00\xd5A\x1f\xd9\xd6\xd0P\xcc"),
        (b"aaaaaaaaaaaaaaaaaaaaa", b"\x00\xc3\x06\x15\x01aa\xe0\n\x00\n\x00\xfd\x0c\xb3h\x07A?h"),
        (
            b"hello world hello world hello world",
            b"\x00\xc3\x14#\x0chello world h\xe0\x0b\x0b\x01ld\n\x00w\x83\x90ii4\xac\xb7",
        ),
        (b"abcdefghijklmnopqrstuvwxyz", b"\x00\x1aabcdefghijklmnopqrstuvwxyz\n\x00\x9e\x1b?4\xab\xfc_y"),
    ];
    for (v, want) in cases {
        assert_eq!(&dump_string(v)[..], *want, "{}", String::from_utf8_lossy(v));
        assert!(verify_payload(want));
        assert_eq!(load_string(want).as_deref(), Some(*v));
    }
}

#[test]
fn lengths_round_trip() {
    for len in [0usize, 63, 64, 16383, 16384, 70_000] {
        let v: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let p = dump_string(&v);
        assert!(verify_payload(&p));
        assert_eq!(load_string(&p), Some(v));
    }
    let mut out = Vec::new();
    save_len(&mut out, 1 << 33);
    assert_eq!(out, b"\x81\x00\x00\x00\x02\x00\x00\x00\x00");
}

#[test]
fn bad_payloads() {
    let good = dump_string(b"hello");
    let mut v11 = good.clone();
    let n = v11.len();
    v11[n - 10] = 11;
    assert!(!verify_payload(&v11), "newer RDB version");
    let mut flipped = good.clone();
    flipped[n - 1] ^= 1;
    assert!(!verify_payload(&flipped));
    assert!(!verify_payload(b"123456789"));
    // A list (type 1) checks out but is not a string.
    assert!(matches!(
        load_payload(&finish_payload(b"\x01\x01\x01a".to_vec()), &Limits::default()),
        Some(Restored::Value(_))
    ));
    // Unknown string encoding, length past the end, corrupt LZF.
    assert_eq!(load_string(&finish_payload(b"\x00\xc4".to_vec())), None);
    assert_eq!(load_string(&finish_payload(b"\x00\x3f".to_vec())), None);
    assert_eq!(load_string(&finish_payload(b"\x00\xc3\x02\x10\x01a".to_vec())), None);
    assert_eq!(load_string(&finish_payload(b"\x00\x82".to_vec())), None);
    // Hand-made LZF and integer payloads Redis would accept.
    assert_eq!(load_string(&finish_payload(b"\x00\xc3\x06\x15\x01aa\xe0\n\x00".to_vec())), Some(vec![b'a'; 21]));
    assert_eq!(load_string(&finish_payload(b"\x00\xc2\x00\x00\x00\x80".to_vec())), Some(b"-2147483648".to_vec()));
}

#[test]
fn restore_options() {
    let p = |v: &[&str]| {
        let mut a = b(&["restore", "k", "0", "payload"]);
        a.extend(b(v));
        parse_restore(&a)
    };
    assert_eq!(
        p(&["REPLACE", "absttl", "idletime", "5"]),
        Ok(RestoreOpts { replace: true, absttl: true, idletime: Some(5), freq: None })
    );
    assert_eq!(p(&["freq", "255"]).unwrap().freq, Some(255));
    assert_eq!(p(&["idletime"]), Err(CmdError::syntax()));
    assert_eq!(p(&["freq", "5", "idletime", "5"]), Err(CmdError::syntax()));
    assert_eq!(p(&["idletime", "5", "freq", "5"]), Err(CmdError::syntax()));
    assert_eq!(p(&["idletime", "-1"]).unwrap_err().0, "ERR Invalid IDLETIME value, must be >= 0");
    assert_eq!(p(&["freq", "256"]).unwrap_err().0, "ERR Invalid FREQ value, must be >= 0 and <= 255");
    assert_eq!(p(&["freq", "x"]).unwrap_err().0, "ERR value is not an integer or out of range");
    assert_eq!(p(&["foo"]), Err(CmdError::syntax()));
}

#[test]
fn idle_times_like_redis_7_0_15() {
    // Observed with the LRU clock at 130368.
    let clock = Clock::at(130_368_000);
    let idle = |lru| super::super::object::idle_seconds(130_368, lru);
    assert_eq!(idle(lru_for_idle(clock, 100)), 100);
    assert_eq!(idle(lru_for_idle(clock, 1_000_000_000)), 10_144_256);
    assert_eq!(idle(lru_for_idle(clock, 100_000_000_000_000_000)), 11_057_233);
}

/// A collection's contents in a comparable form: lists in order, hashes and
/// sets sorted (their iteration order depends on the encoding).
fn contents(v: &Value) -> (&'static str, Vec<Vec<u8>>) {
    let mut out: Vec<Vec<u8>> = match v {
        Value::List(l) => return ("list", l.iter().map(<[u8]>::to_vec).collect()),
        Value::Hash(h) => h.iter().map(|(f, v)| [f, b"=", v].concat()).collect(),
        Value::Set(s) => s.iter().map(|m| m.to_vec()).collect(),
        Value::ZSet(z) => return ("zset", super::zset::members(z)),
        Value::Stream(s) => return ("stream", s.fingerprint()),
    };
    out.sort();
    (v.kind().name(), out)
}

fn load_value(p: &[u8], lim: &Limits) -> Option<Value> {
    assert!(verify_payload(p), "checksum of {p:?}");
    match load_payload(p, lim)? {
        Restored::Value(v) => Some(v),
        Restored::String(_) => None,
    }
}

fn strs(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn list_of(items: &[Vec<u8>], lim: &Limits) -> Value {
    let mut l = List::new();
    for i in items {
        l.push_back(i, lim);
    }
    Value::List(l)
}

fn hash_of(pairs: &[(&str, &str)], lim: &Limits) -> Value {
    let mut h = Hash::new();
    for (f, v) in pairs {
        h.insert(f.as_bytes(), v.as_bytes(), lim);
    }
    Value::Hash(h)
}

fn set_of(members: &[&str], lim: &Limits) -> Value {
    let mut s = Set::new();
    for m in members {
        s.insert(m.as_bytes(), lim);
    }
    Value::Set(s)
}

fn zset_of(items: &[(&str, f64)], lim: &Limits) -> Value {
    let mut z = ZSet::new();
    for (m, s) in items {
        z.insert(m.as_bytes(), *s, lim);
    }
    Value::ZSet(z)
}

use crate::types::{Hash, List, Set, ZSet};

/// Values built as Redis builds them (RPUSH, HSET, SADD; default limits but
/// `list-max-listpack-size 2` for the last list) and their DUMP payloads
/// captured from redis-server 7.0.15.
fn redis_payloads() -> Vec<(Value, Limits, &'static [u8])> {
    let d = Limits::default();
    let nodes_of_2 = Limits { list_max_listpack_size: 2, ..d };
    let one_packed = Limits { zset_max_listpack_entries: 1, ..d };
    let ints = strs(&[
        "127",
        "128",
        "-4096",
        "4095",
        "4096",
        "-4097",
        "32767",
        "-32768",
        "32768",
        "8388607",
        "-8388608",
        "8388608",
        "2147483647",
        "-2147483648",
        "2147483648",
        "9223372036854775807",
        "-9223372036854775808",
        "007",
        "-0",
        "",
    ]);
    let ints = [ints, vec![vec![b'x'; 63], vec![b'y'; 64], vec![b'z'; 100]]].concat();
    vec![
        (
            list_of(&strs(&["a", "1", "-1", "200"]), &d),
            d,
            b"\x12\x01\x02\x12\x12\x00\x00\x00\x04\x00\x81a\x02\x01\x01\xdf\xff\x02\xc0\xc8\x02\xff\x0a\x00\xa9\xd8or)U\x14|",
        ),
        (
            list_of(&ints, &d),
            d,
            b"\x12\x01\x02\xc3@}AW\x17W\x01\x00\x00\x17\x00\x7f\x01\xc0\x80\x02\xd0\x00\x02\xcf\xff\x02\xf1\x00\x10\x03\
              \xf1\xff\xef \x03\x15\x7f\x03\xf1\x00\x80\x03\xf2\x00\x80\x00\x04\xf2\xff\xff\x7f\x04\xf2\x00\x00\x80\x04\
              \xf3 \x04\x03\x00\x05\xf3\xff \x10\x00\x05 \x0b\x03\x00\x80\x05\xf4@\x05 \x03\x02\x00\x09\xf4 \x15@\x00\x01\
              \x7f\x09@\x13@\x00\x0e\x80\x09\x83007\x04\x82-0\x03\x80\x01\xbfx\xe05\x00\x03@\xe0@y\xe06\x00\x03B\xe0dz\
              \xe0Z\x00\x01f\xff\x0a\x00\xf1_\x9f'\xb8\x1d\x97Q",
        ),
        (
            list_of(&[vec![b'w'; 5000]], &d),
            d,
            b"\x12\x01\x02\xc3@JS\x96\x07\x96\x13\x00\x00\x01\x00\xf0\x88 \x06\x00w\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\
              \xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\
              \xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xff\x00\xe0\xee\x00\x02'\x8d\xff\x0a\x00\
              \xa2O,%4\xe1`\x98",
        ),
        (
            list_of(&strs(&["a", "b", "c", "d", "e"]), &nodes_of_2),
            nodes_of_2,
            b"\x12\x03\x02\x0d\x0d\x00\x00\x00\x02\x00\x81a\x02\x81b\x02\xff\x02\x0d\x0d\x00\x00\x00\x02\x00\x81c\x02\x81d\
              \x02\xff\x02\x0a\x0a\x00\x00\x00\x01\x00\x81e\x02\xff\x0a\x00\xecR6\xa7` \xa1\xdb",
        ),
        (
            hash_of(&[("f", "1"), ("g", "hello"), ("100000", "x")], &d),
            d,
            b"\x10\x1e\x1e\x00\x00\x00\x06\x00\x81f\x02\x01\x01\x81g\x02\x85hello\x06\xf2\xa0\x86\x01\x04\x81x\x02\xff\
              \x0a\x00\xc5P(O\xe3\xa0\xae\x19",
        ),
        (
            set_of(&["1", "-2", "300"], &d),
            d,
            b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\xfe\xff\x01\x00,\x01\x0a\x00[\x0a\xa8b\xf7\x94`\x0a",
        ),
        (
            set_of(&["1", "70000"], &d),
            d,
            b"\x0b\x10\x04\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00p\x11\x01\x00\x0a\x00'5Cn\xfdfV\xc4",
        ),
        (
            set_of(&["-5", "5000000000"], &d),
            d,
            b"\x0b\x18\x08\x00\x00\x00\x02\x00\x00\x00\xfb\xff\xff\xff\xff\xff\xff\xff\x00\xf2\x05*\x01\x00\x00\x00\x0a\
              \x00\xc2\x01\x10\x15\xe3\x1b\xc2.",
        ),
        (set_of(&["a"], &d), d, b"\x02\x01\x01a\x0a\x00b\x96\xe9~D\xd2\x1am"),
        (
            zset_of(&[("a", 0.1), ("b", 1.0), ("c", -2.5), ("d", 1e20), ("e", f64::INFINITY), ("f", f64::NEG_INFINITY), ("7", 3.0)], &d),
            d,
            b"\x11\xc3@C@L\x10L\x00\x00\x00\x0e\x00\x81f\x02\x84-inf\x05\x81c \x08\x0b2.5\x05\x81a\x02\x930.10\xe0\x05\
              \x00\x181\x14\x81b\x02\x01\x01\x07\x01\x03\x01\x81d\x02\x851e+20\x06\x81e\x02\x83 ;\x01\x04\xff\x0a\x00\xd0\
              \x17\xb3\xfa\x97g\xa0\xcf",
        ),
        (
            zset_of(&[("a", 1.5), ("b", 2.0), ("c", -3.0)], &one_packed),
            one_packed,
            b"\x05\x03\x01b\x00\x00\x00\x00\x00\x00\x00@\x01a\x00\x00\x00\x00\x00\x00\xf8?\x01c\x00\x00\x00\x00\x00\x00\x08\
              \xc0\x0a\x00\x96\x9f\xf1d\xea\xb7\xe0\xd5",
        ),
    ]
}

#[test]
fn collections_dump_as_redis_does() {
    for (v, lim, want) in redis_payloads() {
        assert_eq!(dump_collection(&v, &lim), want, "{:?}", contents(&v));
    }
}

#[test]
fn redis_payloads_restore_to_the_same_value() {
    for (v, lim, p) in redis_payloads() {
        let got = load_value(p, &lim).unwrap_or_else(|| panic!("payload of {:?} refused", contents(&v)));
        assert_eq!(contents(&got), contents(&v));
        assert_eq!(got.encoding(), v.encoding(), "{:?}", contents(&v));
        // And back, byte for byte.
        assert_eq!(dump_collection(&got, &lim), p);
    }
}

/// Round trips across encodings: small and large, packed and indexed, with
/// limits that force conversions on load.
#[test]
fn round_trips_every_encoding() {
    let d = Limits::default();
    let tiny = Limits {
        list_max_listpack_size: 1,
        hash_max_listpack_entries: 2,
        hash_max_listpack_value: 4,
        set_max_intset_entries: 2,
        set_max_listpack_entries: 2,
        set_max_listpack_value: 4,
        zset_max_listpack_entries: 2,
        zset_max_listpack_value: 4,
        ..d
    };
    let big: Vec<Vec<u8>> = (0..3000).map(|i| format!("element-{i}").into_bytes()).collect();
    let mixed: Vec<Vec<u8>> =
        (0..700).map(|i| if i % 3 == 0 { i.to_string().into_bytes() } else { vec![b'v'; i] }).collect();
    let nums: Vec<String> = (0..600).map(|i| (i * 1_000_003 - 300_000_000i64).to_string()).collect();
    let nums: Vec<&str> = nums.iter().map(String::as_str).collect();
    let words: Vec<String> = (0..600).map(|i| format!("w{i}")).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let pairs: Vec<(&str, &str)> = words.iter().zip(nums.iter()).map(|(a, b)| (*a, *b)).collect();
    let values = vec![
        list_of(&strs(&["x"]), &d),
        list_of(&big, &d),
        list_of(&mixed, &d),
        list_of(&big[..10], &Limits { list_max_listpack_size: -1, ..d }),
        hash_of(&pairs[..3], &d),
        hash_of(&pairs, &d),
        hash_of(&[("k", &"long".repeat(40))], &d),
        set_of(&nums[..5], &d),
        set_of(&nums, &d),
        set_of(&words[..5], &d),
        set_of(&words, &d),
        zset_of(&[("a", 1.0)], &d),
        zset_of(&[("a", -0.0), ("b", 0.0), ("c", 1.0 / 3.0), ("d", -1e300), ("e", 4503599627370496.0)], &d),
        zset_of(&pairs.iter().enumerate().map(|(i, (m, _))| (*m, (i % 7) as f64 * 0.25)).collect::<Vec<_>>(), &d),
    ];
    for v in &values {
        for lim in [&d, &tiny] {
            let p = dump_collection(v, &d);
            let got = load_value(&p, lim).unwrap_or_else(|| panic!("{:?} refused", v.kind()));
            assert_eq!(contents(&got), contents(v));
            let again = dump_collection(&got, lim);
            assert_eq!(contents(&load_value(&again, &d).unwrap_or_else(|| panic!("re-dump refused"))), contents(v));
        }
    }
    // Limits pick the encoding of what RESTORE builds.
    let p = dump_collection(&hash_of(&pairs[..3], &d), &d);
    assert_eq!(load_value(&p, &d).map(|v| v.encoding()), Some("listpack"));
    assert_eq!(load_value(&p, &tiny).map(|v| v.encoding()), Some("hashtable"));
    let p = dump_collection(&set_of(&nums[..3], &d), &d);
    assert_eq!(load_value(&p, &d).map(|v| v.encoding()), Some("intset"));
    assert_eq!(load_value(&p, &tiny).map(|v| v.encoding()), Some("hashtable"));
}

/// A ziplist of `items` as Redis 6 wrote them (integers in binary).
fn ziplist(items: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    let (mut prev, mut tail) = (0usize, 10usize);
    for it in items {
        let start = body.len();
        tail = 10 + start;
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(0xfe);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match rdb::canonical_int(it) {
            Some(v @ 0..=12) => body.push(0xf1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => body.extend_from_slice(&[0xfe, v as u8]),
            Some(v) if i16::try_from(v).is_ok() => {
                body.push(0xc0);
                body.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-(1 << 23)..1 << 23).contains(&v) => {
                body.push(0xf0);
                body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                body.push(0xd0);
                body.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                body.push(0xe0);
                body.extend_from_slice(&v.to_le_bytes());
            }
            None if it.len() < 64 => body.push(it.len() as u8),
            None if it.len() < 16384 => body.extend_from_slice(&[0x40 | (it.len() >> 8) as u8, it.len() as u8]),
            None => {
                body.push(0x80);
                body.extend_from_slice(&(it.len() as u32).to_be_bytes());
            }
        }
        if rdb::canonical_int(it).is_none() {
            body.extend_from_slice(it);
        }
        prev = body.len() - start;
    }
    let mut zl = Vec::new();
    zl.extend_from_slice(&((body.len() + 11) as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(items.len().min(65535) as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(0xff);
    zl
}

fn payload(t: u8, body: &[u8]) -> Vec<u8> {
    finish_payload([&[t][..], body].concat())
}

fn blob(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    save_string(&mut out, b);
    out
}

#[test]
fn ziplists_decode() {
    // The example in Redis's ziplist.c: the integers 2 and 5.
    let zl = b"\x0f\x00\x00\x00\x0c\x00\x00\x00\x02\x00\x00\xf3\x02\xf6\xff";
    assert_eq!(codec::ziplist_entries(zl), Some(vec![codec::Ent::Int(2), codec::Ent::Int(5)]));
    assert_eq!(ziplist(&[b"2", b"5"]), zl);
    let items: Vec<Vec<u8>> = [
        strs(&[
            "0",
            "12",
            "13",
            "-1",
            "127",
            "-129",
            "32767",
            "40000",
            "8388608",
            "-2147483648",
            "2147483648",
            "hello",
        ]),
        vec![vec![b'a'; 300], vec![b'b'; 20000], b"007".to_vec(), b"".to_vec()],
    ]
    .concat();
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    let zl = ziplist(&refs);
    let got = codec::ziplist_entries(&zl).expect("valid ziplist");
    assert_eq!(got.into_iter().map(|e| e.bytes().into_owned()).collect::<Vec<_>>(), items);
    // Every truncation, and a wrong previous-entry length, tail or count, is refused.
    let zl = ziplist(&refs[..5]);
    for n in 0..zl.len() {
        assert_eq!(codec::ziplist_entries(&zl[..n]), None);
    }
    for (at, v) in [(4, 0u8), (8, 9), (12, 1)] {
        let mut bad = zl.clone();
        bad[at] = v;
        assert_eq!(codec::ziplist_entries(&bad), None, "byte {at} = {v}");
    }
}

#[test]
fn old_rdb_types_restore() {
    let d = Limits::default();
    let abc = strs(&["a", "1", "c"]);
    // 1: a linked list, element by element.
    let mut body = vec![3];
    for i in &abc {
        save_string(&mut body, i);
    }
    assert_eq!(load_value(&payload(1, &body), &d).map(|v| contents(&v)), Some(("list", abc.clone())));
    // 10: one ziplist; 14: a quicklist of ziplists (an empty node is skipped).
    let zl = ziplist(&[b"a", b"1", b"c"]);
    assert_eq!(load_value(&payload(10, &blob(&zl)), &d).map(|v| contents(&v)), Some(("list", abc.clone())));
    let body = [&[3u8][..], &blob(&ziplist(&[b"a"])), &blob(&ziplist(&[])), &blob(&ziplist(&[b"1", b"c"]))].concat();
    assert_eq!(load_value(&payload(14, &body), &d).map(|v| contents(&v)), Some(("list", abc.clone())));
    // 18 with a plain node.
    let body = [&[2u8, 1][..], &blob(b"a"), &[2], &blob(&codec::listpack([&b"1"[..], b"c"]))].concat();
    assert_eq!(load_value(&payload(18, &body), &d).map(|v| contents(&v)), Some(("list", abc.clone())));
    // 4: a hash field by field; 13: a ziplist of pairs; 9: a zipmap.
    let mut body = vec![2];
    for s in [&b"f"[..], b"1", b"g", b"2"] {
        save_string(&mut body, s);
    }
    let fg = Some(("hash", strs(&["f=1", "g=2"])));
    assert_eq!(load_value(&payload(4, &body), &d).map(|v| contents(&v)), fg);
    let zl = ziplist(&[b"f", b"1", b"g", b"2"]);
    assert_eq!(load_value(&payload(13, &blob(&zl)), &d).map(|v| contents(&v)), fg);
    let zm = b"\x02\x01f\x01\x001\x01g\x01\x022xx\xff";
    assert_eq!(load_value(&payload(9, &blob(zm)), &d).map(|v| contents(&v)), fg);
    // 3: a sorted set with scores as text; 12: a ziplist of pairs.
    let mut body = vec![4];
    for (m, s) in [(&b"a"[..], &b"\x031.5"[..]), (b"b", b"\xfe"), (b"c", b"\xff"), (b"d", b"\x017")] {
        save_string(&mut body, m);
        body.extend_from_slice(s);
    }
    let zs = Some(("zset", strs(&["c=-inf", "a=1.5", "d=7", "b=inf"])));
    assert_eq!(load_value(&payload(3, &body), &d).map(|v| contents(&v)), zs);
    let zl = ziplist(&[b"a", b"1.5", b"b", b"inf", b"c", b"-inf", b"d", b"7"]);
    assert_eq!(load_value(&payload(12, &blob(&zl)), &d).map(|v| contents(&v)), zs);
    // 2: a set member by member.
    let mut body = vec![2];
    save_string(&mut body, b"x");
    save_string(&mut body, b"7");
    assert_eq!(load_value(&payload(2, &body), &d).map(|v| contents(&v)), Some(("set", strs(&["7", "x"]))));
}

#[test]
fn bad_collections_are_bad_data() {
    let d = Limits::default();
    let refused = |t: u8, body: &[u8]| load_value(&payload(t, body), &d).is_none();
    // Empty values.
    assert!(refused(1, &[0]));
    assert!(refused(2, &[0]));
    assert!(refused(4, &[0]));
    assert!(refused(18, &[0]));
    assert!(refused(18, &[&[1u8, 2][..], &blob(&codec::listpack([]))].concat()));
    assert!(refused(16, &blob(&codec::listpack([]))));
    assert!(refused(11, &blob(&codec::intset(&[]))));
    // Repeated members and fields; an odd listpack of pairs.
    assert!(refused(2, &[&[2u8][..], &blob(b"a"), &blob(b"a")].concat()));
    assert!(refused(16, &blob(&codec::listpack([&b"f"[..], b"1", b"f", b"2"]))));
    assert!(refused(16, &blob(&codec::listpack([&b"f"[..], b"1", b"g"]))));
    assert!(refused(17, &blob(&codec::listpack([&b"m"[..], b"1", b"m", b"2"]))));
    assert!(refused(17, &blob(&codec::listpack([&b"m"[..], b"nan"]))));
    assert!(refused(17, &blob(&codec::listpack([&b"m"[..], b"x"]))));
    assert!(refused(5, &[&[1u8][..], &blob(b"m"), &f64::NAN.to_le_bytes()].concat()));
    assert!(refused(3, &[&[1u8][..], &blob(b"m"), &[253]].concat()));
    assert!(refused(5, &[0]));
    // An intset out of order, of a bad width, or of the wrong size.
    assert!(refused(11, &blob(b"\x02\x00\x00\x00\x02\x00\x00\x00\x05\x00\x01\x00")));
    assert!(refused(11, &blob(b"\x03\x00\x00\x00\x01\x00\x00\x00\x05\x00\x00")));
    assert!(refused(11, &blob(b"\x02\x00\x00\x00\x02\x00\x00\x00\x05\x00")));
    // A quicklist node of an unknown container; streams and modules.
    assert!(refused(18, &[&[1u8, 3][..], &blob(&codec::listpack([&b"a"[..]]))].concat()));
    for t in [6u8, 7, 8, 15, 19, 20, 21, 200] {
        assert!(refused(t, &[1, 1, 1]), "type {t}");
    }
    // A listpack with a wrong count, back-length or total size.
    let lp = codec::listpack([&b"a"[..], b"b"]);
    for (at, v) in [(4, 3u8), (8, 9), (0, 0x20)] {
        let mut bad = lp.clone();
        bad[at] = v;
        assert_eq!(codec::listpack_entries(&bad), None, "byte {at} = {v}");
    }
}

/// Every truncation and every single-byte change of every payload (with the
/// checksum fixed up, as an attacker would) is either refused or loads
/// something; nothing panics.
#[test]
fn corrupt_payloads_never_panic() {
    let tiny = Limits { hash_max_listpack_entries: 1, set_max_intset_entries: 1, ..Limits::default() };
    let mut payloads: Vec<Vec<u8>> = redis_payloads().into_iter().map(|(_, _, p)| p.to_vec()).collect();
    payloads.push(payload(14, &[&[1u8][..], &blob(&ziplist(&[b"a", b"1", b"c"]))].concat()));
    payloads.push(payload(13, &blob(&ziplist(&[b"f", b"1", b"g", b"2"]))));
    payloads.push(payload(9, &blob(b"\x02\x01f\x01\x001\x01g\x01\x022xx\xff")));
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for p in &payloads {
        let body = &p[..p.len() - 10];
        for n in 0..body.len() {
            for lim in [Limits::default(), tiny] {
                let _ = load_payload(&payload(body[0], &body[1..n.max(1)]), &lim);
            }
        }
        for i in 1..body.len() {
            for delta in [1u8, 0x80, 0xff] {
                let mut b = body.to_vec();
                b[i] = b[i].wrapping_add(delta);
                let _ = load_payload(&finish_payload(b), &tiny);
            }
        }
        for _ in 0..200 {
            let mut b = body.to_vec();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = 1 + (seed as usize) % (b.len() - 1);
                b[i] = (seed >> 32) as u8;
            }
            let _ = load_payload(&finish_payload(b), &Limits::default());
        }
    }
    // A checksum or version problem is found before any parsing.
    let mut p = redis_payloads()[0].2.to_vec();
    let n = p.len();
    p[n - 1] ^= 1;
    assert!(!verify_payload(&p));
}

#[test]
fn scores_print_as_redis_7_0() {
    use super::zset::packed_score;
    // Checked against the listpacks of redis-server 7.0.15's DUMPs.
    let cases = [
        (0.1, "0.10000000000000001"),
        (1.0, "1"),
        (-2.5, "-2.5"),
        (1e20, "1e+20"),
        (-0.0, "0"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (1e15, "1000000000000000"),
        (1e17, "100000000000000000"),
        (9007199254740993.0, "9007199254740992"),
        (4.611686018427387e18, "4611686018427386880"),
        (4611686018427387904.0, "4611686018427387904"),
        (4.7e18, "4.7e+18"),
        (-5e18, "-5e+18"),
        (-4e18, "-4000000000000000000"),
        (1.0 / 3.0, "0.33333333333333331"),
    ];
    for (v, want) in cases {
        assert_eq!(packed_score(v), want, "{v}");
    }
}
