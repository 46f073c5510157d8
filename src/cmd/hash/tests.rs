//! Unit tests of the hash commands on a bare `Db` with a fixed clock.
//! Expected replies were taken from redis-server 7.0.15.

use super::incr;
use super::random::hrandfield;
use super::scan::hscan;
use super::*;
use crate::cmd::args::cursor as parse_cursor;
use crate::cmd::test_util::TestDb;
use crate::resp::Proto;

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// A database with a string at `s` and the hash `h` = {a: 1, b: 2}.
fn setup() -> TestDb {
    let mut t = TestDb::default();
    t.db.insert(Entry::new_string(b"s", b"v", crate::db::StrEncoding::Raw, None));
    assert_eq!(t.run(hset, &["hset", "h", "a", "1", "b", "2"]), ":2\r\n");
    t
}

/// The elements of a flat RESP2 array of bulk strings, in order.
fn bulks(reply: &str) -> Vec<String> {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    lines.iter().enumerate().filter(|(_, l)| l.starts_with('$')).map(|(i, _)| lines[i + 1].to_string()).collect()
}

#[test]
fn hset_and_hmset() {
    let mut t = setup();
    assert_eq!(t.run(hset, &["hset", "h", "a", "x", "c", "3"]), ":1\r\n");
    assert_eq!(t.run(hget, &["hget", "h", "a"]), "$1\r\nx\r\n");
    assert_eq!(t.run(hset, &["hset", "h", "a"]), "-ERR wrong number of arguments for 'hset' command\r\n");
    assert_eq!(t.run(hset, &["hset", "n", "a", "1", "b"]), "-ERR wrong number of arguments for 'hset' command\r\n");
    assert_eq!(t.run(hmset, &["HMSET", "n", "a", "1", "b"]), "-ERR wrong number of arguments for 'hmset' command\r\n");
    assert!(t.encoding("n").is_none(), "an arity error creates nothing");
    assert_eq!(t.run(hmset, &["hmset", "n", "a", "1", "a", "2"]), "+OK\r\n");
    assert_eq!(t.run(hget, &["hget", "n", "a"]), "$1\r\n2\r\n");
    assert_eq!(t.run(hset, &["hset", "s", "a", "1"]), WRONGTYPE);
    assert_eq!(t.run(hmset, &["hmset", "s", "a", "1"]), WRONGTYPE);
    assert_eq!(t.run(hset, &["hset", "h", "", ""]), ":1\r\n");
    assert_eq!(t.run(hget, &["hget", "h", ""]), "$0\r\n\r\n");
}

#[test]
fn hsetnx() {
    let mut t = setup();
    assert_eq!(t.run(super::hsetnx, &["hsetnx", "h", "a", "9"]), ":0\r\n");
    assert_eq!(t.run(hget, &["hget", "h", "a"]), "$1\r\n1\r\n");
    assert_eq!(t.run(super::hsetnx, &["hsetnx", "h", "z", "9"]), ":1\r\n");
    assert_eq!(t.run(super::hsetnx, &["hsetnx", "new", "f", "v"]), ":1\r\n");
    assert_eq!(t.run(super::hsetnx, &["hsetnx", "s", "f", "v"]), WRONGTYPE);
    // A long value for a field that exists changes nothing, not even the encoding.
    let long = "x".repeat(65);
    assert_eq!(t.run(super::hsetnx, &["hsetnx", "h", "a", &long]), ":0\r\n");
    assert_eq!(t.encoding("h"), Some("listpack"));
    assert_eq!(t.run(super::hsetnx, &["hsetnx", "h", "long", &long]), ":1\r\n");
    assert_eq!(t.encoding("h"), Some("hashtable"));
}

#[test]
fn reads() {
    let mut t = setup();
    assert_eq!(t.run(hget, &["hget", "h", "zz"]), "$-1\r\n");
    assert_eq!(t.run(hget, &["hget", "nokey", "a"]), "$-1\r\n");
    assert_eq!(t.run(hget, &["hget", "s", "a"]), WRONGTYPE);
    assert_eq!(t.run(hmget, &["hmget", "h", "a", "zz", "b"]), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
    assert_eq!(t.run(hmget, &["hmget", "nokey", "a", "b"]), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(t.run(hmget, &["hmget", "s", "a"]), WRONGTYPE);
    assert_eq!(t.run(hlen, &["hlen", "h"]), ":2\r\n");
    assert_eq!(t.run(hlen, &["hlen", "nokey"]), ":0\r\n");
    assert_eq!(t.run(hlen, &["hlen", "s"]), WRONGTYPE);
    assert_eq!(t.run(hstrlen, &["hstrlen", "h", "a"]), ":1\r\n");
    assert_eq!(t.run(hstrlen, &["hstrlen", "h", "zz"]), ":0\r\n");
    assert_eq!(t.run(hstrlen, &["hstrlen", "nokey", "a"]), ":0\r\n");
    assert_eq!(t.run(hstrlen, &["hstrlen", "s", "a"]), WRONGTYPE);
    assert_eq!(t.run(hexists, &["hexists", "h", "a"]), ":1\r\n");
    assert_eq!(t.run(hexists, &["hexists", "h", "zz"]), ":0\r\n");
    assert_eq!(t.run(hexists, &["hexists", "nokey", "a"]), ":0\r\n");
    assert_eq!(t.run(hexists, &["hexists", "s", "a"]), WRONGTYPE);
}

#[test]
fn whole_hash_replies() {
    let mut t = setup();
    assert_eq!(t.run(hkeys, &["hkeys", "h"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(t.run(hvals, &["hvals", "h"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(t.run(hgetall, &["hgetall", "h"]), "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(t.run(hgetall, &["hgetall", "nokey"]), "*0\r\n");
    assert_eq!(t.run(hkeys, &["hkeys", "s"]), WRONGTYPE);
    assert_eq!(t.run(hvals, &["hvals", "s"]), WRONGTYPE);
    assert_eq!(t.run(hgetall, &["hgetall", "s"]), WRONGTYPE);
    t.proto = Proto::Resp3;
    assert_eq!(t.run(hgetall, &["hgetall", "h"]), "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(t.run(hgetall, &["hgetall", "nokey"]), "%0\r\n");
    assert_eq!(t.run(hkeys, &["hkeys", "nokey"]), "*0\r\n");
    assert_eq!(t.run(hget, &["hget", "h", "zz"]), "_\r\n");
}

#[test]
fn hdel_deletes_the_key_with_its_last_field() {
    let mut t = setup();
    assert_eq!(t.run(hdel, &["hdel", "h", "zz"]), ":0\r\n");
    assert_eq!(t.run(hdel, &["hdel", "nokey", "a"]), ":0\r\n");
    assert_eq!(t.run(hdel, &["hdel", "s", "a"]), WRONGTYPE);
    assert_eq!(t.run(hdel, &["hdel", "h", "a", "a", "zz"]), ":1\r\n");
    assert_eq!(t.encoding("h"), Some("listpack"));
    assert_eq!(t.run(hdel, &["hdel", "h", "b", "c"]), ":1\r\n");
    assert_eq!(t.encoding("h"), None);
}

#[test]
fn encoding_transitions() {
    let mut t = TestDb::default();
    t.limits.hash_max_listpack_entries = 3;
    t.limits.hash_max_listpack_value = 5;
    t.run(hset, &["hset", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(t.encoding("h"), Some("listpack"));
    t.run(hset, &["hset", "h", "d", "4"]);
    assert_eq!(t.encoding("h"), Some("hashtable"));
    t.run(hdel, &["hdel", "h", "a", "b", "c"]);
    assert_eq!(t.encoding("h"), Some("hashtable"), "never back");
    t.run(hset, &["hset", "v", "a", "12345"]);
    assert_eq!(t.encoding("v"), Some("listpack"));
    t.run(hset, &["hset", "v", "a", "123456"]);
    assert_eq!(t.encoding("v"), Some("hashtable"));
    t.run(hset, &["hset", "f", "123456", "1"]);
    assert_eq!(t.encoding("f"), Some("hashtable"));
    // HINCRBY and HINCRBYFLOAT convert on a long field too.
    t.run(incr::hincrby, &["hincrby", "i", "123456", "1"]);
    assert_eq!(t.encoding("i"), Some("hashtable"));
    t.run(incr::hincrbyfloat, &["hincrbyfloat", "j", "123456", "1.5"]);
    assert_eq!(t.encoding("j"), Some("hashtable"));
    t.run(incr::hincrbyfloat, &["hincrbyfloat", "k", "f", "0.1"]);
    t.run(incr::hincrbyfloat, &["hincrbyfloat", "k", "f", "0.1"]);
    assert_eq!(t.encoding("k"), Some("listpack"), "0.2 fits");
    t.run(incr::hincrbyfloat, &["hincrbyfloat", "k", "f", "0.0001"]);
    assert_eq!(t.encoding("k"), Some("hashtable"), "0.2001 does not");
    t.limits.hash_max_listpack_entries = 0;
    t.run(hset, &["hset", "z", "a", "1"]);
    assert_eq!(t.encoding("z"), Some("hashtable"));
}

#[test]
fn hincrby_counts() {
    let mut t = setup();
    assert_eq!(t.run(incr::hincrby, &["hincrby", "h", "a", "10"]), ":11\r\n");
    assert_eq!(t.run(incr::hincrby, &["hincrby", "h", "new", "-5"]), ":-5\r\n");
    assert_eq!(t.run(incr::hincrby, &["hincrby", "nokey", "f", "3"]), ":3\r\n");
    assert_eq!(t.run(incr::hincrby, &["hincrby", "h", "a", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(t.run(incr::hincrby, &["hincrby", "s", "a", "1"]), WRONGTYPE);
    assert_eq!(t.run(incr::hincrby, &["hincrby", "s", "a", "x"]), "-ERR value is not an integer or out of range\r\n");
    t.run(hset, &["hset", "h", "t", "abc", "big", "9223372036854775807", "sp", " 1"]);
    assert_eq!(t.run(incr::hincrby, &["hincrby", "h", "t", "1"]), "-ERR hash value is not an integer\r\n");
    assert_eq!(t.run(incr::hincrby, &["hincrby", "h", "sp", "1"]), "-ERR hash value is not an integer\r\n");
    assert_eq!(t.run(incr::hincrby, &["hincrby", "h", "big", "1"]), "-ERR increment or decrement would overflow\r\n");
    assert_eq!(t.run(incr::hincrby, &["hincrby", "h", "big", "-1"]), ":9223372036854775806\r\n");
    assert_eq!(t.run(hget, &["hget", "h", "big"]), "$19\r\n9223372036854775806\r\n");
}

#[test]
fn hincrbyfloat_like_long_double() {
    let mut t = setup();
    let f = incr::hincrbyfloat;
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "a", "0.5"]), "$3\r\n1.5\r\n");
    t.run(hset, &["hset", "h", "x", "10.5"]);
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "x", "0.1"]), "$4\r\n10.6\r\n");
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "n", "5.0e3"]), "$4\r\n5000\r\n");
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "n", "-5000"]), "$1\r\n0\r\n");
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "a", "inf"]), "-ERR value is NaN or Infinity\r\n");
    assert_eq!(t.run(f, &["hincrbyfloat", "nokey", "a", "-inf"]), "-ERR value is NaN or Infinity\r\n");
    assert!(t.encoding("nokey").is_none());
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "a", "nan"]), "-ERR value is not a valid float\r\n");
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "a", "abc"]), "-ERR value is not a valid float\r\n");
    assert_eq!(t.run(f, &["hincrbyfloat", "s", "a", "1"]), WRONGTYPE);
    t.run(hset, &["hset", "h", "t", "abc", "huge", "1e4932"]);
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "t", "1"]), "-ERR hash value is not a float\r\n");
    assert_eq!(t.run(f, &["hincrbyfloat", "h", "huge", "1e4932"]), "-ERR increment would produce NaN or Infinity\r\n");
}

#[test]
fn hrandfield_counts() {
    let mut t = setup();
    assert_eq!(t.run(hrandfield, &["hrandfield", "nokey"]), "$-1\r\n");
    assert_eq!(t.run(hrandfield, &["hrandfield", "nokey", "5"]), "*0\r\n");
    assert_eq!(t.run(hrandfield, &["hrandfield", "nokey", "-5", "withvalues"]), "*0\r\n");
    assert_eq!(t.run(hrandfield, &["hrandfield", "s"]), WRONGTYPE);
    assert_eq!(t.run(hrandfield, &["hrandfield", "s", "1"]), WRONGTYPE);
    assert_eq!(t.run(hrandfield, &["hrandfield", "s", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(t.run(hrandfield, &["hrandfield", "h", "1", "withvalue"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(hrandfield, &["hrandfield", "h", "1", "withvalues", "x"]), "-ERR syntax error\r\n");
    assert_eq!(
        t.run(hrandfield, &["hrandfield", "h", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(
        t.run(hrandfield, &["hrandfield", "h", "4611686018427387904", "withvalues"]),
        "-ERR value is out of range\r\n"
    );
    assert_eq!(t.run(hrandfield, &["hrandfield", "h", "0"]), "*0\r\n");
    assert_eq!(t.run(hrandfield, &["hrandfield", "h", "10"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(
        t.run(hrandfield, &["hrandfield", "h", "10", "WITHVALUES"]),
        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    let one = t.run(hrandfield, &["hrandfield", "h"]);
    assert!(one == "$1\r\na\r\n" || one == "$1\r\nb\r\n", "{one}");
    let many = bulks(&t.run(hrandfield, &["hrandfield", "h", "-50"]));
    assert_eq!(many.len(), 50);
    assert!(many.iter().all(|f| f == "a" || f == "b"));
    assert!(many.iter().any(|f| f == "a") && many.iter().any(|f| f == "b"));
    let pairs = bulks(&t.run(hrandfield, &["hrandfield", "h", "-7", "withvalues"]));
    assert_eq!(pairs.len(), 14);
    for p in pairs.chunks(2) {
        assert_eq!(p[1], if p[0] == "a" { "1" } else { "2" });
    }
    t.proto = Proto::Resp3;
    assert_eq!(t.run(hrandfield, &["hrandfield", "nokey"]), "_\r\n");
    let r = t.run(hrandfield, &["hrandfield", "h", "-3", "withvalues"]);
    assert!(r.starts_with("*3\r\n*2\r\n$1\r\n"), "{r}");
    assert_eq!(
        t.run(hrandfield, &["hrandfield", "h", "5", "withvalues"]),
        "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
}

#[test]
fn hrandfield_distinct_in_both_encodings() {
    for entries in [512, 4] {
        let mut t = TestDb::default();
        t.limits.hash_max_listpack_entries = entries;
        for i in 0..100 {
            t.run(hset, &["hset", "h", &format!("f{i}"), &format!("v{i}")]);
        }
        for n in [2, 10, 40, 90, 99] {
            let fields = bulks(&t.run(hrandfield, &["hrandfield", "h", &n.to_string()]));
            assert_eq!(fields.len(), n);
            let distinct: std::collections::HashSet<_> = fields.iter().collect();
            assert_eq!(distinct.len(), n, "encoding limit {entries}, count {n}");
            let pairs = bulks(&t.run(hrandfield, &["hrandfield", "h", &n.to_string(), "withvalues"]));
            for p in pairs.chunks(2) {
                assert_eq!(p[0][1..], p[1][1..]);
            }
        }
    }
}

#[test]
fn cursors_like_strtoul() {
    assert_eq!(parse_cursor(b"0"), Ok(0));
    assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
    assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
    assert_eq!(parse_cursor(b""), Ok(0));
    assert!(parse_cursor(b"18446744073709551616").is_err());
    assert!(parse_cursor(b" 1").is_err());
    assert!(parse_cursor(b"1x").is_err());
    assert!(parse_cursor(b"-").is_err());
}

#[test]
fn hscan_packed_and_errors() {
    let mut t = setup();
    assert_eq!(
        t.run(hscan, &["hscan", "h", "0"]),
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        t.run(hscan, &["hscan", "h", "77", "match", "b*", "count", "1"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(t.run(hscan, &["hscan", "h", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(t.run(hscan, &["hscan", "s", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(t.run(hscan, &["hscan", "s", "0"]), WRONGTYPE);
    assert_eq!(t.run(hscan, &["hscan", "nokey", "0", "count", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(t.run(hscan, &["hscan", "h", "0", "count", "0"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(hscan, &["hscan", "h", "0", "count"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(hscan, &["hscan", "h", "0", "count", "x"]), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(t.run(hscan, &["hscan", "h", "0", "type", "string"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(hscan, &["hscan", "h", "0", "match"]), "-ERR syntax error\r\n");
}

#[test]
fn hscan_walks_a_table() {
    let mut t = TestDb::default();
    for i in 0..2000 {
        t.run(hset, &["hset", "h", &format!("f{i}"), &format!("v{i}")]);
    }
    assert_eq!(t.encoding("h"), Some("hashtable"));
    let mut seen = std::collections::HashMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = t.run(hscan, &["hscan", "h", &cursor, "count", "50"]);
        let items = bulks(&r);
        cursor = items[0].clone();
        assert!(!items.len().is_multiple_of(2));
        for p in items[1..].chunks(2) {
            assert_eq!(p[0][1..], p[1][1..]);
            seen.insert(p[0].clone(), p[1].clone());
        }
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 2000);
    assert!(calls > 10, "COUNT bounds each call ({calls} calls)");
    let r = t.run(hscan, &["hscan", "h", "0", "match", "f1*", "count", "100000"]);
    let items = bulks(&r);
    assert_eq!(items[0], "0");
    assert_eq!(items.len() - 1, 2 * 1111);
}

#[test]
fn events_are_redis_events() {
    TestDb::notifying().expect_events(&[
        (hset, "HSET h f v g w", &["new h", "hset h"]),
        (super::hsetnx, "HSETNX h f x", &[]),
        (super::hsetnx, "HSETNX h n 1", &["hset h"]),
        (incr::hincrby, "HINCRBY h n 2", &["hincrby h"]),
        (incr::hincrbyfloat, "HINCRBYFLOAT h n 0.5", &["hincrbyfloat h"]),
        (hdel, "HDEL h zz", &[]),
        (hdel, "HDEL h f g n", &["hdel h", "del h"]),
        (hget, "HGET h f", &["keymiss h"]),
    ]);
}
