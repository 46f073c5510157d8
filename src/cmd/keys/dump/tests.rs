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
    assert_eq!(load_string(&finish_payload(b"\x01\x01\x01a".to_vec())), None);
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
