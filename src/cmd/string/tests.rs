//! Unit tests of the string commands, run on a bare `Db` with a fixed clock.
//! Expected replies were taken from redis-server 7.0.15.

use bytes::Bytes;

use super::ld;
use super::{counter, lcs, multi, range, Ks};
use crate::cmd::CmdResult;
use crate::db::{Clock, Db, DbStats, StrEncoding};
use crate::resp::{Out, Proto};

type KsFn = fn(&mut Ks<'_>, &[Bytes], &mut Out) -> CmdResult;

const NOW: u64 = 1_700_000_000_000;

/// A database, its counters and a fixed clock: what one shard gives a command.
struct Shard {
    db: Db,
    stats: DbStats,
    now: u64,
    max_len: i64,
    proto: Proto,
    rng: u64,
    signals: crate::shard::signal::Signals,
}

impl Shard {
    fn new() -> Shard {
        Shard {
            db: Db::new(),
            stats: DbStats::default(),
            now: NOW,
            max_len: 512 << 20,
            proto: Proto::Resp2,
            rng: 1,
            signals: Default::default(),
        }
    }

    /// Runs one command and returns its reply bytes as text (errors included).
    fn run(&mut self, f: KsFn, args: &[&str]) -> String {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let mut ks = Ks {
            db: &mut self.db,
            stats: &mut self.stats,
            clock: Clock::at(self.now),
            max_len: self.max_len,
            limits: Default::default(),
            rng: &mut self.rng,
            db_index: 0,
            signals: &mut self.signals,
            notify: 0,
        };
        let mut out = Out::new(self.proto);
        if let Err(e) = f(&mut ks, &args, &mut out) {
            out.error(&e.0);
        }
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    fn ttl_ms(&self, key: &str) -> Option<u64> {
        self.db.table().get(key.as_bytes()).and_then(|e| e.expire_at())
    }

    fn enc(&self, key: &str) -> StrEncoding {
        self.db.table().get(key.as_bytes()).map(|e| e.encoding()).unwrap_or(StrEncoding::Raw)
    }
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

const NIL: &str = "$-1\r\n";
const OK: &str = "+OK\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

#[test]
fn set_and_get() {
    let mut s = Shard::new();
    assert_eq!(s.run(super::get, &["get", "k"]), NIL);
    assert_eq!(s.run(super::set, &["set", "k", "v"]), OK);
    assert_eq!(s.run(super::get, &["get", "k"]), bulk("v"));
    assert_eq!((s.stats.hits, s.stats.misses), (1, 1));
    s.proto = Proto::Resp3;
    assert_eq!(s.run(super::get, &["get", "nope"]), "_\r\n");
}

#[test]
fn set_encodings() {
    let mut s = Shard::new();
    for (v, enc) in [
        ("123", StrEncoding::Int),
        ("012", StrEncoding::Embstr),
        (&"x".repeat(44), StrEncoding::Embstr),
        (&"x".repeat(45), StrEncoding::Raw),
    ] {
        s.run(super::set, &["set", "k", v]);
        assert_eq!(s.enc("k"), enc, "{v}");
    }
}

#[test]
fn set_option_errors_match_redis() {
    let mut s = Shard::new();
    let inval = "-ERR invalid expire time in 'set' command\r\n";
    for (args, want) in [
        (&["set", "k", "v", "EX", "9223372036854775807"][..], inval),
        (&["set", "k", "v", "PX", "0"], inval),
        (&["set", "k", "v", "EX", "-1"], inval),
        (&["set", "k", "v", "EX", "9223372036854775"], inval),
        (&["set", "k", "v", "PX", "9223372036854775807"], inval),
        (&["set", "k", "v", "EXAT", "9223372036854775807"], inval),
        (&["set", "k", "v", "EX", "abc"], NOT_INT),
        (&["set", "k", "v", "EX", "abc", "NX", "XX"], SYNTAX),
        (&["set", "k", "v", "EX", "10", "PX", "20"], SYNTAX),
        (&["set", "k", "v", "KEEPTTL", "EX", "5"], SYNTAX),
        (&["set", "k", "v", "EX", "5", "KEEPTTL"], SYNTAX),
        (&["set", "k", "v", "EX"], SYNTAX),
        (&["set", "k", "v", "PERSIST"], SYNTAX),
        (&["set", "k", "v", ""], SYNTAX),
    ] {
        assert_eq!(s.run(super::set, args), want, "{args:?}");
    }
    assert_eq!(s.run(super::get, &["get", "k"]), NIL);
    // The same expiry option twice is accepted; the last one wins.
    assert_eq!(s.run(super::set, &["set", "k", "v", "EX", "10", "ex", "20"]), OK);
    assert_eq!(s.ttl_ms("k"), Some(NOW + 20_000));
    // PXAT is not added to the clock, so it cannot overflow.
    assert_eq!(s.run(super::set, &["set", "k", "v", "PXAT", "9223372036854775807"]), OK);
    // Keywords compare as C strings: up to a NUL byte.
    assert_eq!(s.run(super::set, &["set", "k", "w", "nx\0zz"]), NIL);
}

#[test]
fn set_nx_xx_get_keepttl() {
    let mut s = Shard::new();
    assert_eq!(s.run(super::set, &["set", "k", "v", "XX", "GET"]), NIL);
    assert_eq!(s.run(super::set, &["set", "k", "v", "XX"]), NIL);
    assert_eq!(s.run(super::set, &["set", "k", "v", "NX", "GET"]), NIL);
    assert_eq!(s.run(super::set, &["set", "k", "w", "NX", "GET"]), bulk("v"));
    assert_eq!(s.run(super::set, &["set", "k", "w", "NX"]), NIL);
    assert_eq!(s.run(super::set, &["set", "k", "w", "XX", "GET", "EX", "100"]), bulk("v"));
    assert_eq!(s.ttl_ms("k"), Some(NOW + 100_000));
    assert_eq!(s.run(super::set, &["set", "k", "x", "KEEPTTL"]), OK);
    assert_eq!(s.ttl_ms("k"), Some(NOW + 100_000));
    assert_eq!(s.run(super::set, &["set", "k", "y"]), OK);
    assert_eq!(s.ttl_ms("k"), None);
    assert_eq!(s.run(super::setnx, &["setnx", "k", "z"]), ":0\r\n");
    assert_eq!(s.run(super::setnx, &["setnx", "k2", "z"]), ":1\r\n");
}

#[test]
fn past_absolute_expiry_is_stored_then_expires() {
    let mut s = Shard::new();
    assert_eq!(s.run(super::set, &["set", "k", "v", "EXAT", "1"]), OK);
    assert_eq!(s.db.len(), 1);
    assert_eq!(s.run(super::get, &["get", "k"]), NIL);
    assert_eq!((s.db.len(), s.stats.expired), (0, 1));
}

#[test]
fn setex_psetex() {
    let mut s = Shard::new();
    assert_eq!(s.run(super::setex, &["setex", "k", "0", "v"]), "-ERR invalid expire time in 'setex' command\r\n");
    assert_eq!(s.run(super::setex, &["setex", "k", "-5", "v"]), "-ERR invalid expire time in 'setex' command\r\n");
    assert_eq!(s.run(super::psetex, &["psetex", "k", "0", "v"]), "-ERR invalid expire time in 'psetex' command\r\n");
    assert_eq!(s.run(super::setex, &["setex", "k", "x", "v"]), NOT_INT);
    assert_eq!(s.run(super::setex, &["setex", "k", "10", "v"]), OK);
    assert_eq!(s.ttl_ms("k"), Some(NOW + 10_000));
    assert_eq!(s.run(super::psetex, &["psetex", "k", "1500", "12"]), OK);
    assert_eq!((s.ttl_ms("k"), s.enc("k")), (Some(NOW + 1500), StrEncoding::Int));
}

#[test]
fn getset_getdel() {
    let mut s = Shard::new();
    assert_eq!(s.run(super::getset, &["getset", "k", "1"]), NIL);
    s.run(super::set, &["set", "k", "v", "EX", "100"]);
    assert_eq!(s.run(super::getset, &["getset", "k", "2"]), bulk("v"));
    assert_eq!((s.ttl_ms("k"), s.enc("k")), (None, StrEncoding::Int));
    assert_eq!(s.run(super::getdel, &["getdel", "k"]), bulk("2"));
    assert_eq!(s.run(super::getdel, &["getdel", "k"]), NIL);
    assert!(s.db.is_empty());
}

#[test]
fn getex_options() {
    let mut s = Shard::new();
    // A missing key answers null even with an invalid expiry.
    assert_eq!(s.run(super::getex, &["getex", "k", "EX", "0"]), NIL);
    assert_eq!(s.run(super::getex, &["getex", "k", "EX", "x"]), NIL);
    assert_eq!(s.run(super::getex, &["getex", "k", "KEEPTTL"]), SYNTAX);
    s.run(super::set, &["set", "k", "v"]);
    assert_eq!(s.run(super::getex, &["getex", "k", "EX", "0"]), "-ERR invalid expire time in 'getex' command\r\n");
    assert_eq!(s.run(super::getex, &["getex", "k", "PERSIST", "EX", "1"]), SYNTAX);
    assert_eq!(s.run(super::getex, &["getex", "k", "NX"]), SYNTAX);
    assert_eq!(s.run(super::getex, &["getex", "k", "EX", "100"]), bulk("v"));
    assert_eq!(s.ttl_ms("k"), Some(NOW + 100_000));
    assert_eq!(s.run(super::getex, &["getex", "k"]), bulk("v"));
    assert_eq!(s.ttl_ms("k"), Some(NOW + 100_000));
    assert_eq!(s.run(super::getex, &["getex", "k", "PERSIST"]), bulk("v"));
    assert_eq!(s.ttl_ms("k"), None);
    // An absolute time in the past deletes the key at once, without counting an expiry.
    assert_eq!(s.run(super::getex, &["getex", "k", "PXAT", "1"]), bulk("v"));
    assert_eq!((s.db.len(), s.stats.expired), (0, 0));
}

#[test]
fn integer_counters() {
    let mut s = Shard::new();
    assert_eq!(s.run(counter::incr, &["incr", "i"]), ":1\r\n");
    assert_eq!(s.enc("i"), StrEncoding::Int);
    assert_eq!(s.run(counter::decrby, &["decrby", "i", "11"]), ":-10\r\n");
    assert_eq!(s.run(counter::incrby, &["incrby", "i", "x"]), NOT_INT);
    assert_eq!(s.run(counter::decrby, &["decrby", "i", "-9223372036854775808"]), "-ERR decrement would overflow\r\n");
    s.run(super::set, &["set", "i", "9223372036854775807", "EX", "100"]);
    assert_eq!(s.run(counter::incr, &["incr", "i"]), "-ERR increment or decrement would overflow\r\n");
    assert_eq!(s.run(counter::decr, &["decr", "i"]), ":9223372036854775806\r\n");
    assert_eq!(s.ttl_ms("i"), Some(NOW + 100_000));
    for bad in [" 1", "01", "-0", "1 ", "abc", ""] {
        s.run(super::set, &["set", "i", bad]);
        assert_eq!(s.run(counter::incr, &["incr", "i"]), NOT_INT, "{bad:?}");
    }
    // A raw numeric string becomes an int again.
    s.run(range::setrange, &["setrange", "r", "0", "12"]);
    assert_eq!(s.enc("r"), StrEncoding::Raw);
    assert_eq!(s.run(counter::incr, &["incr", "r"]), ":13\r\n");
    assert_eq!(s.enc("r"), StrEncoding::Int);
}

#[test]
fn incrbyfloat_like_redis() {
    let mut s = Shard::new();
    s.run(super::set, &["set", "f", "10.5", "EX", "100"]);
    assert_eq!(s.run(counter::incrbyfloat, &["incrbyfloat", "f", "0.1"]), bulk("10.6"));
    assert_eq!((s.ttl_ms("f"), s.enc("f")), (Some(NOW + 100_000), StrEncoding::Embstr));
    assert_eq!(s.run(counter::incrbyfloat, &["incrbyfloat", "f", "-5"]), bulk("5.6"));
    s.run(super::set, &["set", "f", "5.0e3"]);
    assert_eq!(s.run(counter::incrbyfloat, &["incrbyfloat", "f", "2.0e2"]), bulk("5200"));
    assert_eq!(s.run(counter::incrbyfloat, &["incrbyfloat", "g", "1e-20"]), bulk("0"));
    assert_eq!(
        s.run(counter::incrbyfloat, &["incrbyfloat", "f", "inf"]),
        "-ERR increment would produce NaN or Infinity\r\n"
    );
    assert_eq!(s.run(counter::incrbyfloat, &["incrbyfloat", "f", "nan"]), "-ERR value is not a valid float\r\n");
    s.run(super::set, &["set", "f", "1e400"]);
    let big = s.run(counter::incrbyfloat, &["incrbyfloat", "f", "1"]);
    assert!(big.starts_with("$401\r\n10000000000000000000281880683947586514586"), "{big}");
    assert_eq!(s.enc("f"), StrEncoding::Raw);
    s.run(super::set, &["set", "f", " 1"]);
    assert_eq!(s.run(counter::incrbyfloat, &["incrbyfloat", "f", "1"]), "-ERR value is not a valid float\r\n");
}

#[test]
fn long_double_parse_and_format() {
    let fmt = |a: &str, b: &str| -> Option<String> {
        let v = ld::parse(a.as_bytes())?.add(ld::parse(b.as_bytes())?);
        Some(String::from_utf8(ld::format_human(v)).unwrap_or_default())
    };
    for (a, b, want) in [
        ("0.1", "0.2", "0.3"),
        ("1e20", "0", "100000000000000000000"),
        ("0x10", "1", "17"),
        ("1", "0x1p-3", "1.125"),
        ("17179869184", "1.5", "17179869185.5"),
        ("-0", "0", "0"),
        ("123456789012345678901234567890", "1", "123456789012345678899921813504"),
        ("1.23456789012345678", "0", "1.23456789012345678"),
        ("0.0000000000000000051", "0", "0.00000000000000001"),
        ("0.000000000000000005", "0", "0"),
        ("-0.000000000000000015", "0", "-0.00000000000000002"),
        ("3.6e-4951", "0", "0"),
        (".5", "1.", "1.5"),
        ("0e-99999999999", "0", "0"),
    ] {
        assert_eq!(fmt(a, b).as_deref(), Some(want), "{a} + {b}");
    }
    for bad in [
        "",
        " 1",
        "1 ",
        "1\x001",
        "nan",
        "1e",
        "0x",
        "0x1p",
        "-",
        ".",
        "1e-5000",
        "1e5000",
        "1e99999999999",
        "0x1.fffffffffffffffffp16383",
        "1_0",
    ] {
        assert_eq!(ld::parse(bad.as_bytes()), None, "{bad:?}");
    }
    let max = ld::parse(b"1.18973149535723176502e+4932").map(ld::format_human).unwrap_or_default();
    assert_eq!(max.len(), 4933);
    assert!(ld::parse(b"1.18973149535723176508e+4932").is_none());
    assert!(ld::parse(b"-Infinity").is_some_and(|v| !v.is_finite()));
}

#[test]
fn append_and_strlen() {
    let mut s = Shard::new();
    assert_eq!(s.run(range::append, &["append", "k", "123"]), ":3\r\n");
    assert_eq!(s.enc("k"), StrEncoding::Int);
    assert_eq!(s.run(range::append, &["append", "k", ""]), ":3\r\n");
    assert_eq!(s.enc("k"), StrEncoding::Raw);
    s.run(super::set, &["set", "t", "a", "EX", "100"]);
    assert_eq!(s.run(range::append, &["append", "t", "bc"]), ":3\r\n");
    assert_eq!(s.ttl_ms("t"), Some(NOW + 100_000));
    assert_eq!(s.run(range::strlen, &["strlen", "t"]), ":3\r\n");
    assert_eq!(s.run(range::strlen, &["strlen", "nope"]), ":0\r\n");
    s.max_len = 4;
    assert_eq!(
        s.run(range::append, &["append", "t", "xy"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
}

#[test]
fn getrange_indexes() {
    let mut s = Shard::new();
    s.run(super::set, &["set", "k", "ohmytext"]);
    for (a, b, want) in [
        ("0", "-1", "ohmytext"),
        ("-3", "-1", "ext"),
        ("-1", "-3", ""),
        ("5", "2", ""),
        ("-100", "100", "ohmytext"),
        ("8", "8", ""),
        ("9223372036854775807", "-9223372036854775808", ""),
        ("-9223372036854775808", "9223372036854775807", "ohmytext"),
    ] {
        assert_eq!(s.run(range::getrange, &["getrange", "k", a, b]), bulk(want), "{a} {b}");
    }
    assert_eq!(s.run(range::getrange, &["getrange", "nope", "0", "1"]), bulk(""));
    assert_eq!(s.run(range::getrange, &["getrange", "nope", "x", "1"]), NOT_INT);
}

#[test]
fn setrange_rules() {
    let mut s = Shard::new();
    assert_eq!(s.run(range::setrange, &["setrange", "k", "-1", "x"]), "-ERR offset is out of range\r\n");
    assert_eq!(s.run(range::setrange, &["setrange", "k", "x", "x"]), NOT_INT);
    assert_eq!(s.run(range::setrange, &["setrange", "k", "5", ""]), ":0\r\n");
    assert!(s.db.is_empty());
    assert_eq!(s.run(range::setrange, &["setrange", "k", "2", "ab"]), ":4\r\n");
    assert_eq!(s.run(super::get, &["get", "k"]), bulk("\0\0ab"));
    assert_eq!(s.enc("k"), StrEncoding::Raw);
    assert_eq!(s.run(range::setrange, &["setrange", "k", "0", "Z"]), ":4\r\n");
    assert_eq!(s.run(range::setrange, &["setrange", "k", "100", ""]), ":4\r\n");
    s.run(super::set, &["set", "i", "12", "EX", "100"]);
    assert_eq!(s.run(range::setrange, &["setrange", "i", "0", "3"]), ":2\r\n");
    assert_eq!((s.enc("i"), s.ttl_ms("i")), (StrEncoding::Raw, Some(NOW + 100_000)));
    assert_eq!(
        s.run(range::setrange, &["setrange", "i", "536870912", "x"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
    assert_eq!(
        s.run(range::setrange, &["setrange", "n", "9223372036854775807", "x"]),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
}

#[test]
fn mget_mset_msetnx_on_one_shard() {
    let mut s = Shard::new();
    assert_eq!(s.run(multi::mset, &["mset", "a", "1", "b", "2", "a", "3"]), OK);
    assert_eq!(
        s.run(multi::mget, &["mget", "b", "a", "nope", "a"]),
        format!("*4\r\n{}{}{NIL}{}", bulk("2"), bulk("3"), bulk("3"))
    );
    assert_eq!(s.run(multi::mset, &["mset", "a", "1", "b"]), "-ERR wrong number of arguments for 'mset' command\r\n");
    assert_eq!(
        s.run(multi::msetnx, &["msetnx", "a", "1", "b"]),
        "-ERR wrong number of arguments for 'msetnx' command\r\n"
    );
    assert_eq!(s.run(multi::msetnx, &["msetnx", "c", "1", "a", "2"]), ":0\r\n");
    assert_eq!(s.run(multi::msetnx, &["msetnx", "c", "1", "c", "2"]), ":1\r\n");
    assert_eq!(s.run(super::get, &["get", "c"]), bulk("2"));
    s.proto = Proto::Resp3;
    assert_eq!(s.run(multi::mget, &["mget", "nope"]), "*1\r\n_\r\n");
}

#[test]
fn lcs_replies() {
    let mut s = Shard::new();
    s.run(multi::mset, &["mset", "k1", "ohmytext", "k2", "mynewtext"]);
    assert_eq!(s.run(lcs::lcs, &["lcs", "k1", "k2"]), bulk("mytext"));
    assert_eq!(s.run(lcs::lcs, &["lcs", "k1", "k2", "LEN"]), ":6\r\n");
    assert_eq!(
        s.run(lcs::lcs, &["lcs", "k1", "k2", "IDX"]),
        "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"
    );
    s.proto = Proto::Resp3;
    assert_eq!(
        s.run(lcs::lcs, &["lcs", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
        "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
    );
    assert_eq!(s.run(lcs::lcs, &["lcs", "no1", "no2", "IDX"]), "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
    assert_eq!(
        s.run(lcs::lcs, &["lcs", "k1", "k2", "IDX", "LEN"]),
        "-ERR If you want both the length and indexes, please just use IDX.\r\n"
    );
    assert_eq!(s.run(lcs::lcs, &["lcs", "k1", "k2", "MINMATCHLEN"]), SYNTAX);
    assert_eq!(s.run(lcs::lcs, &["lcs", "k1", "k2", "MINMATCHLEN", "x"]), NOT_INT);
    s.max_len = 80;
    assert_eq!(
        s.run(lcs::lcs, &["lcs", "k1", "k2"]),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
}

#[test]
fn events_are_redis_events() {
    use crate::cmd::test_util::TestDb;
    TestDb::notifying().expect_events(&[
        (super::set, "SET k v EX 10", &["new k", "set k", "expire k"]),
        (super::set, "SET k v NX", &[]),
        (super::set, "SET k w KEEPTTL GET", &["set k"]),
        (super::getex, "GETEX k PERSIST", &["persist k"]),
        (super::getex, "GETEX k PERSIST", &[]),
        (super::getex, "GETEX k PXAT 1", &["del k"]),
        (super::get, "GET k", &["keymiss k"]),
        (counter::incr, "INCR n", &["new n", "incrby n"]),
        (counter::incrbyfloat, "INCRBYFLOAT n 1.5", &["incrbyfloat n"]),
        (range::append, "APPEND n x", &["append n"]),
        (range::setrange, "SETRANGE n 0 y", &["setrange n"]),
        (super::getset, "GETSET n z", &["set n"]),
        (super::getdel, "GETDEL n", &["del n"]),
        (multi::mset, "MSET a 1 b 2", &["new a", "set a", "new b", "set b"]),
        (multi::msetnx, "MSETNX a 1 c 2", &[]),
        (multi::mget, "MGET a zz", &["keymiss zz"]),
    ]);
}
