//! Unit tests of the set commands on a bare database.

use super::algebra::*;
use super::random::{spop, srandmember};
use super::scan::sscan;
use super::smove::smove;
use super::*;
use crate::cmd::test_util::TestDb;
use crate::resp::Proto;

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

fn set_of_strings(t: &mut TestDb, key: &str, n: usize) {
    for i in 0..n {
        t.run(sadd, &["sadd", key, &format!("m{i}")]);
    }
}

/// The members of an array or set reply, sorted.
fn members(reply: &str) -> Vec<String> {
    let mut v: Vec<String> =
        reply.split("\r\n").skip(1).filter(|l| !l.starts_with('$') && !l.is_empty()).map(String::from).collect();
    v.sort();
    v
}

#[test]
fn sadd_srem_scard_and_deletion() {
    let mut t = TestDb::default();
    assert_eq!(t.run(sadd, &["sadd", "s", "1", "2", "2", "3"]), ":3\r\n");
    assert_eq!(t.encoding("s"), Some("intset"));
    assert_eq!(t.run(sadd, &["sadd", "s", "3", "a"]), ":1\r\n");
    assert_eq!(t.encoding("s"), Some("listpack"));
    assert_eq!(t.run(scard, &["scard", "s"]), ":4\r\n");
    assert_eq!(t.run(scard, &["scard", "nokey"]), ":0\r\n");
    assert_eq!(t.run(srem, &["srem", "s", "1", "x", "a"]), ":2\r\n");
    assert_eq!(t.run(srem, &["srem", "nokey", "1"]), ":0\r\n");
    assert_eq!(t.run(srem, &["srem", "s", "2", "3", "2"]), ":2\r\n");
    assert_eq!(t.encoding("s"), None, "an emptied set is deleted");
}

#[test]
fn membership_replies() {
    let mut t = TestDb::default();
    t.run(sadd, &["sadd", "s", "a", "b"]);
    assert_eq!(t.run(sismember, &["sismember", "s", "a"]), ":1\r\n");
    assert_eq!(t.run(sismember, &["sismember", "s", "z"]), ":0\r\n");
    assert_eq!(t.run(sismember, &["sismember", "nokey", "a"]), ":0\r\n");
    assert_eq!(t.run(smismember, &["smismember", "s", "a", "z", "b"]), "*3\r\n:1\r\n:0\r\n:1\r\n");
    assert_eq!(t.run(smismember, &["smismember", "nokey", "a"]), "*1\r\n:0\r\n");
    assert_eq!(t.run(smembers, &["smembers", "nokey"]), "*0\r\n");
    t.run(sadd, &["sadd", "i", "3", "-1", "2"]);
    assert_eq!(t.run(smembers, &["smembers", "i"]), "*3\r\n$2\r\n-1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    t.proto = Proto::Resp3;
    assert_eq!(t.run(smembers, &["smembers", "nokey"]), "~0\r\n");
    assert_eq!(t.run(smembers, &["smembers", "s"]), "~2\r\n$1\r\na\r\n$1\r\nb\r\n");
}

#[test]
fn wrong_types() {
    let mut t = TestDb::default();
    t.db.insert(crate::db::Entry::new_string(b"str", b"v", crate::db::StrEncoding::Embstr, None));
    t.run(sadd, &["sadd", "s", "a"]);
    for args in [
        &["sadd", "str", "a"][..],
        &["srem", "str", "a"],
        &["scard", "str"],
        &["sismember", "str", "a"],
        &["smismember", "str", "a"],
        &["smembers", "str"],
        &["spop", "str"],
        &["spop", "str", "2"],
        &["srandmember", "str"],
        &["srandmember", "str", "2"],
        &["sscan", "str", "0"],
    ] {
        let f: crate::cmd::test_util::KsFn = match args[0] {
            "sadd" => sadd,
            "srem" => srem,
            "scard" => scard,
            "sismember" => sismember,
            "smismember" => smismember,
            "smembers" => smembers,
            "spop" => spop,
            "srandmember" => srandmember,
            _ => sscan,
        };
        assert_eq!(t.run(f, args), WRONGTYPE, "{args:?}");
    }
    assert_eq!(t.run(sunion, &["sunion", "s", "str"]), WRONGTYPE);
    assert_eq!(t.run(sinter, &["sinter", "nokey", "str"]), WRONGTYPE, "a missing key does not stop the type checks");
    assert_eq!(t.run(sdiff, &["sdiff", "nokey", "str"]), WRONGTYPE);
    assert_eq!(t.run(sintercard, &["sintercard", "2", "s", "str"]), WRONGTYPE);
    assert_eq!(t.run(sinterstore, &["sinterstore", "d", "s", "str"]), WRONGTYPE);
    assert_eq!(t.run(smove, &["smove", "str", "s", "a"]), WRONGTYPE);
    assert_eq!(t.run(smove, &["smove", "s", "str", "a"]), WRONGTYPE);
    assert_eq!(t.run(smove, &["smove", "nokey", "str", "a"]), ":0\r\n", "a missing source answers first");
    // A store overwrites a destination of any type.
    assert_eq!(t.run(sunionstore, &["sunionstore", "str", "s"]), ":1\r\n");
    assert_eq!(t.encoding("str"), Some("listpack"));
}

#[test]
fn spop_and_srandmember_counts() {
    let mut t = TestDb::default();
    assert_eq!(t.run(spop, &["spop", "nokey"]), "$-1\r\n");
    assert_eq!(t.run(spop, &["spop", "nokey", "3"]), "*0\r\n");
    assert_eq!(t.run(srandmember, &["srandmember", "nokey"]), "$-1\r\n");
    assert_eq!(t.run(srandmember, &["srandmember", "nokey", "3"]), "*0\r\n");
    let positive = "-ERR value is out of range, must be positive\r\n";
    assert_eq!(t.run(spop, &["spop", "nokey", "-1"]), positive);
    assert_eq!(t.run(spop, &["spop", "nokey", "x"]), positive);
    assert_eq!(t.run(spop, &["spop", "s", "1", "2"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(srandmember, &["srandmember", "s", "1", "2"]), "-ERR syntax error\r\n");
    assert_eq!(
        t.run(srandmember, &["srandmember", "s", "-9223372036854775808"]),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(t.run(srandmember, &["srandmember", "s", "x"]), "-ERR value is not an integer or out of range\r\n");

    t.run(sadd, &["sadd", "s", "1", "2", "3", "4", "5"]);
    assert_eq!(t.run(spop, &["spop", "s", "0"]), "*0\r\n");
    assert_eq!(t.run(srandmember, &["srandmember", "s", "0"]), "*0\r\n");
    let r = t.run(srandmember, &["srandmember", "s", "-8"]);
    assert!(r.starts_with("*8\r\n"), "{r}");
    assert_eq!(members(&t.run(srandmember, &["srandmember", "s", "9"])), ["1", "2", "3", "4", "5"]);
    let three = members(&t.run(srandmember, &["srandmember", "s", "3"]));
    assert_eq!(three.len(), 3);
    assert!(three.windows(2).all(|w| w[0] != w[1]));
    let popped = members(&t.run(spop, &["spop", "s", "2"]));
    assert_eq!(popped.len(), 2);
    assert_eq!(t.run(scard, &["scard", "s"]), ":3\r\n");
    let one = t.run(spop, &["spop", "s"]);
    assert!(one.starts_with("$1\r\n"), "{one}");
    assert_eq!(members(&t.run(spop, &["spop", "s", "10"])).len(), 2);
    assert_eq!(t.encoding("s"), None);
    t.proto = Proto::Resp3;
    assert_eq!(t.run(spop, &["spop", "nokey", "3"]), "~0\r\n");
    assert_eq!(t.run(srandmember, &["srandmember", "nokey", "3"]), "*0\r\n");
    assert_eq!(t.run(spop, &["spop", "nokey"]), "_\r\n");
}

#[test]
fn spop_most_members_rebuilds_the_survivors() {
    let mut t = TestDb::default();
    let many: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let mut args = vec!["sadd", "s"];
    args.extend(many.iter().map(String::as_str));
    t.run(sadd, &args);
    assert_eq!(t.encoding("s"), Some("hashtable"));
    let r = t.run(spop, &["spop", "s", "590"]);
    assert!(r.starts_with("*590\r\n"));
    // Ten integers left, rebuilt from scratch: an intset, as in Redis 7.0.
    assert_eq!(t.encoding("s"), Some("intset"));
    assert_eq!(t.run(scard, &["scard", "s"]), ":10\r\n");
    let mut t = TestDb::default();
    set_of_strings(&mut t, "h", 300);
    let r = t.run(spop, &["spop", "h", "100"]);
    assert!(r.starts_with("*100\r\n"));
    assert_eq!(t.encoding("h"), Some("hashtable"), "popping in place keeps the encoding");
}

#[test]
fn algebra_replies_and_store_encodings() {
    let mut t = TestDb::default();
    t.run(sadd, &["sadd", "a", "1", "2", "3", "4"]);
    t.run(sadd, &["sadd", "b", "3", "4", "5"]);
    t.run(sadd, &["sadd", "c", "4", "x"]);
    let bulk = |v: &[&str]| v.iter().map(|m| format!("${}\r\n{m}\r\n", m.len())).collect::<String>();
    assert_eq!(t.run(sunion, &["sunion", "a", "b", "nokey"]), format!("*5\r\n{}", bulk(&["1", "2", "3", "4", "5"])));
    assert_eq!(t.run(sinter, &["sinter", "a", "b"]), format!("*2\r\n{}", bulk(&["3", "4"])));
    assert_eq!(t.run(sinter, &["sinter", "a", "nokey"]), "*0\r\n");
    assert_eq!(t.run(sdiff, &["sdiff", "a", "b", "nokey"]), format!("*2\r\n{}", bulk(&["1", "2"])));
    assert_eq!(t.run(sdiff, &["sdiff", "nokey", "a"]), "*0\r\n");
    assert_eq!(t.run(sdiff, &["sdiff", "a", "a"]), "*0\r\n");
    assert_eq!(t.run(sdiff, &["sdiff", "a"]), format!("*4\r\n{}", bulk(&["1", "2", "3", "4"])));
    assert_eq!(t.run(sinter, &["sinter", "a", "b", "c"]), format!("*1\r\n{}", bulk(&["4"])));

    assert_eq!(t.run(sinterstore, &["sinterstore", "d", "a", "c"]), ":1\r\n");
    assert_eq!(t.encoding("d"), Some("intset"), "an intersection of integers is an intset");
    assert_eq!(t.run(sunionstore, &["sunionstore", "d", "a", "c"]), ":5\r\n");
    assert_eq!(t.encoding("d"), Some("listpack"));
    assert_eq!(t.run(sdiffstore, &["sdiffstore", "d", "c", "a"]), ":1\r\n");
    assert_eq!(t.run(smembers, &["smembers", "d"]), format!("*1\r\n{}", bulk(&["x"])));
    assert_eq!(t.run(sdiffstore, &["sdiffstore", "d", "a", "a"]), ":0\r\n");
    assert_eq!(t.encoding("d"), None, "an empty result deletes the destination");
    assert_eq!(t.run(sinterstore, &["sinterstore", "d", "a", "nokey"]), ":0\r\n");

    // Without listpacks (Redis 7.0), an intersection of two hash tables that
    // holds only integers is stored as an intset.
    t.limits.set_max_listpack_entries = 0;
    t.run(sadd, &["sadd", "h1", "1", "2", "a"]);
    t.run(sadd, &["sadd", "h2", "1", "2", "b"]);
    assert_eq!(t.encoding("h1"), Some("hashtable"));
    assert_eq!(t.run(sinterstore, &["sinterstore", "d", "h1", "h2"]), ":2\r\n");
    assert_eq!(t.encoding("d"), Some("intset"));
    // SDIFF's first algorithm adds only the survivors ...
    t.run(sadd, &["sadd", "big", "1", "2", "3", "4", "5", "6", "7", "8", "9", "z"]);
    t.run(sadd, &["sadd", "z", "z"]);
    t.run(sadd, &["sadd", "w", "9"]);
    assert_eq!(t.run(sdiffstore, &["sdiffstore", "d", "big", "z"]), ":9\r\n");
    assert_eq!(t.encoding("d"), Some("intset"));
    // ... the second, chosen when the first set outweighs the others, copies
    // it whole and then removes, so the result stays a hash table.
    assert_eq!(t.run(sdiffstore, &["sdiffstore", "d", "big", "z", "w"]), ":8\r\n");
    assert_eq!(t.encoding("d"), Some("hashtable"));
}

#[test]
fn sintercard_arguments() {
    let mut t = TestDb::default();
    t.run(sadd, &["sadd", "a", "1", "2", "3", "4"]);
    t.run(sadd, &["sadd", "b", "2", "3", "4", "5"]);
    assert_eq!(t.run(sintercard, &["sintercard", "2", "a", "b"]), ":3\r\n");
    assert_eq!(t.run(sintercard, &["sintercard", "2", "a", "b", "LIMIT", "2"]), ":2\r\n");
    assert_eq!(t.run(sintercard, &["sintercard", "2", "a", "b", "limit", "0"]), ":3\r\n");
    assert_eq!(t.run(sintercard, &["sintercard", "1", "nokey"]), ":0\r\n");
    let e = |m: &str| format!("-ERR {m}\r\n");
    assert_eq!(t.run(sintercard, &["sintercard", "0", "a"]), e("numkeys should be greater than 0"));
    assert_eq!(t.run(sintercard, &["sintercard", "x", "a"]), e("numkeys should be greater than 0"));
    assert_eq!(
        t.run(sintercard, &["sintercard", "3", "a", "b"]),
        e("Number of keys can't be greater than number of args")
    );
    assert_eq!(t.run(sintercard, &["sintercard", "1", "a", "LIMIT", "-1"]), e("LIMIT can't be negative"));
    assert_eq!(t.run(sintercard, &["sintercard", "1", "a", "LIMIT", "x"]), e("LIMIT can't be negative"));
    assert_eq!(t.run(sintercard, &["sintercard", "1", "a", "LIMIT"]), e("syntax error"));
    assert_eq!(t.run(sintercard, &["sintercard", "1", "a", "b"]), e("syntax error"));
}

#[test]
fn smove_cases() {
    let mut t = TestDb::default();
    t.run(sadd, &["sadd", "a", "1", "2"]);
    assert_eq!(t.run(smove, &["smove", "a", "b", "1"]), ":1\r\n");
    assert_eq!(t.encoding("b"), Some("intset"));
    assert_eq!(t.run(smove, &["smove", "a", "b", "9"]), ":0\r\n");
    assert_eq!(t.run(smove, &["smove", "a", "a", "2"]), ":1\r\n");
    assert_eq!(t.run(smove, &["smove", "a", "a", "9"]), ":0\r\n");
    assert_eq!(t.run(smove, &["smove", "nokey", "b", "1"]), ":0\r\n");
    t.run(sadd, &["sadd", "b", "2"]);
    assert_eq!(t.run(smove, &["smove", "a", "b", "2"]), ":1\r\n", "moved even if already in the destination");
    assert_eq!(t.encoding("a"), None);
    assert_eq!(t.run(scard, &["scard", "b"]), ":2\r\n");
}

#[test]
fn sscan_packed_and_errors() {
    let mut t = TestDb::default();
    t.run(sadd, &["sadd", "s", "3", "1", "2"]);
    let all = "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n";
    assert_eq!(t.run(sscan, &["sscan", "s", "0"]), all);
    assert_eq!(t.run(sscan, &["sscan", "s", "77", "COUNT", "1"]), all, "a packed set ignores the cursor");
    assert_eq!(t.run(sscan, &["sscan", "s", "0", "MATCH", "[12]"]), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(t.run(sscan, &["sscan", "nokey", "0", "COUNT", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(t.run(sscan, &["sscan", "s", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(t.run(sscan, &["sscan", "s", "0", "COUNT", "0"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(sscan, &["sscan", "s", "0", "COUNT"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(sscan, &["sscan", "s", "0", "TYPE", "set"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(sscan, &["sscan", "s", "0", "COUNT", "x"]), "-ERR value is not an integer or out of range\r\n");
}

#[test]
fn sscan_walks_a_hash_table() {
    let mut t = TestDb::default();
    set_of_strings(&mut t, "h", 1000);
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = t.run(sscan, &["sscan", "h", &cursor, "COUNT", "20"]);
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        for m in lines[4..].iter().filter(|l| l.starts_with('m')) {
            seen.insert(m.to_string());
        }
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(calls > 10, "a hash table is walked in steps");
}

#[test]
fn events_are_redis_events() {
    TestDb::notifying().expect_events(&[
        (sadd, "SADD s a b c", &["new s", "sadd s"]),
        (sadd, "SADD s a", &[]),
        (srem, "SREM s c zz", &["srem s"]),
        (smove, "SMOVE s d a", &["srem s", "new d", "sadd d"]),
        (sunionstore, "SUNIONSTORE u s d", &["new u", "sunionstore u"]),
        (sinterstore, "SINTERSTORE u s d", &["del u"]),
        (sinterstore, "SINTERSTORE u s nope", &["keymiss nope"]),
        (spop, "SPOP s", &["spop s", "del s"]),
        (spop, "SPOP d 5", &["spop d", "del d"]),
    ]);
}
