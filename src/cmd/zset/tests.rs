//! Unit tests of the sorted set commands on a bare database.

use super::algebra::*;
use super::basic::*;
use super::pop::*;
use super::range::*;
use super::scan::zscan;
use crate::cmd::test_util::{KsFn, TestDb};
use crate::db::{Entry, StrEncoding};
use crate::resp::Proto;
use crate::types::{Set, Value};

fn put_string(t: &mut TestDb, key: &str) {
    t.db.insert(Entry::new_string(key.as_bytes(), b"v", StrEncoding::for_value(b"v"), None));
}

fn put_set(t: &mut TestDb, key: &str, members: &[&str]) {
    let mut s = Set::new();
    for m in members {
        s.insert(m.as_bytes(), &t.limits);
    }
    t.db.insert(Entry::new_obj(key.as_bytes(), Value::Set(s), None));
}

/// A reply in short form: arrays as `[a b]`, bulk strings and doubles as
/// their text, integers as `:n`, nulls as `nil`, errors as their text.
fn show(reply: &str) -> String {
    fn one(lines: &mut std::iter::Peekable<std::str::Split<'_, &str>>) -> String {
        let line = lines.next().unwrap_or_default();
        let (t, rest) = line.split_at(1.min(line.len()));
        match t {
            "+" | "," => rest.to_string(),
            "-" => rest.to_string(),
            ":" => format!(":{rest}"),
            "_" => "nil".into(),
            "$" if rest == "-1" => "nil".into(),
            "*" if rest == "-1" => "nil".into(),
            "$" => lines.next().unwrap_or_default().to_string(),
            "*" | "~" => {
                let n: usize = rest.parse().unwrap_or(0);
                let items: Vec<String> = (0..n).map(|_| one(lines)).collect();
                format!("[{}]", items.join(" "))
            }
            _ => format!("?{line}"),
        }
    }
    let mut lines = reply.split("\r\n").peekable();
    let mut parts = Vec::new();
    while lines.peek().is_some_and(|l| !l.is_empty()) {
        parts.push(one(&mut lines));
    }
    parts.join(" ")
}

fn run(t: &mut TestDb, f: KsFn, args: &[&str]) -> String {
    show(&t.run(f, args))
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn zadd_options_and_replies() {
    let mut t = TestDb::default();
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "1", "a", "2", "b"]), ":2");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "1", "a", "3", "c"]), ":1");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "ch", "5", "a", "3", "c", "0", "d"]), ":2");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "nx", "9", "a", "9", "e"]), ":1");
    assert_eq!(run(&mut t, zscore, &["zscore", "z", "a"]), "5");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "xx", "ch", "6", "a", "9", "f"]), ":1");
    assert_eq!(run(&mut t, zscore, &["zscore", "z", "f"]), "nil");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "gt", "ch", "1", "a", "7", "b"]), ":1");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "lt", "ch", "1", "a", "8", "b"]), ":1");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "incr", "2.5", "a"]), "3.5");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "incr", "nx", "2.5", "a"]), "nil");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "incr", "gt", "-1", "a"]), "nil");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "incr", "0", "a"]), "3.5");
    assert_eq!(run(&mut t, zadd, &["zadd", "nokey", "xx", "1", "a"]), ":0");
    assert_eq!(run(&mut t, zadd, &["zadd", "nokey", "xx", "incr", "1", "a"]), "nil");
    assert_eq!(t.encoding("nokey"), None);
    assert_eq!(run(&mut t, zincrby, &["zincrby", "z", "1e2", "new"]), "100");
    assert_eq!(run(&mut t, zincrby, &["zincrby", "z", "inf", "new"]), "inf");
    assert_eq!(run(&mut t, zincrby, &["zincrby", "z", "-inf", "new"]), "ERR resulting score is not a number (NaN)");
    assert_eq!(run(&mut t, zscore, &["zscore", "z", "new"]), "inf");
}

#[test]
fn zadd_errors_in_redis_order() {
    let mut t = TestDb::default();
    put_string(&mut t, "s");
    assert_eq!(
        run(&mut t, zadd, &["zadd", "z", "nx", "xx", "1", "a"]),
        "ERR XX and NX options at the same time are not compatible"
    );
    assert_eq!(
        run(&mut t, zadd, &["zadd", "z", "gt", "lt", "1", "a"]),
        "ERR GT, LT, and/or NX options at the same time are not compatible"
    );
    assert_eq!(
        run(&mut t, zadd, &["zadd", "z", "nx", "gt", "1", "a"]),
        "ERR GT, LT, and/or NX options at the same time are not compatible"
    );
    assert_eq!(
        run(&mut t, zadd, &["zadd", "z", "incr", "1", "a", "2", "b"]),
        "ERR INCR option supports a single increment-element pair"
    );
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "1", "a", "2"]), "ERR syntax error");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "nx", "xx"]), "ERR syntax error");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "x", "a"]), "ERR value is not a valid float");
    assert_eq!(run(&mut t, zadd, &["zadd", "z", "nan", "a"]), "ERR value is not a valid float");
    assert_eq!(run(&mut t, zadd, &["zadd", "s", "1", "a"]), WRONGTYPE);
    assert_eq!(run(&mut t, zadd, &["zadd", "s", "x", "a"]), "ERR value is not a valid float");
    assert_eq!(run(&mut t, zincrby, &["zincrby", "z", "nx", "a"]), "ERR syntax error");
    assert_eq!(run(&mut t, zcard, &["zcard", "s"]), WRONGTYPE);
    assert_eq!(run(&mut t, zscore, &["zscore", "s", "a"]), WRONGTYPE);
    assert_eq!(run(&mut t, zmscore, &["zmscore", "s", "a"]), WRONGTYPE);
    assert_eq!(run(&mut t, zrange, &["zrange", "s", "0", "-1"]), WRONGTYPE);
    assert_eq!(run(&mut t, zrange, &["zrange", "s", "0", "x"]), "ERR value is not an integer or out of range");
    assert_eq!(run(&mut t, zpopmin, &["zpopmin", "s"]), WRONGTYPE);
    assert_eq!(run(&mut t, zpopmin, &["zpopmin", "s", "0"]), WRONGTYPE);
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "s"]), WRONGTYPE);
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "s", "1"]), WRONGTYPE);
    assert_eq!(run(&mut t, zscan, &["zscan", "s", "0"]), WRONGTYPE);
    assert_eq!(run(&mut t, zrem, &["zrem", "s", "a"]), WRONGTYPE);
    assert_eq!(run(&mut t, zremrangebyrank, &["zremrangebyrank", "s", "0", "1"]), WRONGTYPE);
    assert_eq!(run(&mut t, zmpop, &["zmpop", "2", "nokey", "s", "min"]), WRONGTYPE);
    assert_eq!(run(&mut t, zunionstore, &["zunionstore", "d", "1", "s"]), WRONGTYPE);
}

#[test]
fn reads_and_ranks() {
    let mut t = TestDb::default();
    run(&mut t, zadd, &["zadd", "z", "1", "a", "2", "b", "2", "c", "-1", "d"]);
    assert_eq!(run(&mut t, zcard, &["zcard", "z"]), ":4");
    assert_eq!(run(&mut t, zcard, &["zcard", "nokey"]), ":0");
    assert_eq!(run(&mut t, zmscore, &["zmscore", "z", "a", "x", "d"]), "[1 nil -1]");
    assert_eq!(run(&mut t, zmscore, &["zmscore", "nokey", "a"]), "[nil]");
    assert_eq!(run(&mut t, zrank, &["zrank", "z", "c"]), ":3");
    assert_eq!(run(&mut t, zrevrank, &["zrevrank", "z", "c"]), ":0");
    assert_eq!(run(&mut t, zrank, &["zrank", "z", "x"]), "nil");
    assert_eq!(run(&mut t, zrank, &["zrank", "nokey", "x"]), "nil");
    assert_eq!(run(&mut t, zcount, &["zcount", "z", "(1", "+inf"]), ":2");
    assert_eq!(run(&mut t, zcount, &["zcount", "z", "-inf", "(2"]), ":2");
    assert_eq!(run(&mut t, zcount, &["zcount", "z", "3", "1"]), ":0");
    assert_eq!(run(&mut t, zcount, &["zcount", "z", "x", "1"]), "ERR min or max is not a float");
    run(&mut t, zadd, &["zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d"]);
    assert_eq!(run(&mut t, zlexcount, &["zlexcount", "l", "-", "+"]), ":4");
    assert_eq!(run(&mut t, zlexcount, &["zlexcount", "l", "(a", "[c"]), ":2");
    assert_eq!(run(&mut t, zlexcount, &["zlexcount", "l", "a", "[c"]), "ERR min or max not valid string range item");
}

#[test]
fn zrem_deletes_emptied_keys() {
    let mut t = TestDb::default();
    run(&mut t, zadd, &["zadd", "z", "1", "a", "2", "b"]);
    assert_eq!(run(&mut t, zrem, &["zrem", "z", "a", "x", "a"]), ":1");
    assert_eq!(run(&mut t, zrem, &["zrem", "z", "b", "c"]), ":1");
    assert_eq!(t.encoding("z"), None);
    assert_eq!(run(&mut t, zrem, &["zrem", "z", "b"]), ":0");
}

#[test]
fn zrange_forms() {
    let mut t = TestDb::default();
    run(&mut t, zadd, &["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "0", "-1"]), "[a b c d]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "1", "2", "withscores"]), "[b 2 c 3]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "0", "1", "rev"]), "[d c]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "-100", "100"]), "[a b c d]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "3", "1"]), "[]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "(1", "3", "byscore"]), "[b c]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "3", "(1", "byscore", "rev"]), "[c b]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "-inf", "inf", "byscore", "limit", "1", "2"]), "[b c]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "-inf", "inf", "byscore", "limit", "1", "-1"]), "[b c d]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "-inf", "inf", "byscore", "limit", "-1", "2"]), "[]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "-inf", "inf", "byscore", "limit", "9", "2"]), "[]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "[b", "(d", "bylex"]), "[b c]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "+", "-", "bylex", "rev", "limit", "0", "2"]), "[d c]");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "0", "-1", "limit", "0", "-1"]), "[a b c d]");
    assert_eq!(
        run(&mut t, zrange, &["zrange", "z", "0", "-1", "limit", "0", "1"]),
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    );
    assert_eq!(
        run(&mut t, zrange, &["zrange", "z", "-", "+", "bylex", "withscores"]),
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    );
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "0", "1", "rev", "rev"]), "ERR syntax error");
    assert_eq!(run(&mut t, zrange, &["zrange", "nokey", "0", "1"]), "[]");
    assert_eq!(run(&mut t, zrevrange, &["zrevrange", "z", "0", "0", "withscores"]), "[d 4]");
    assert_eq!(run(&mut t, zrangebyscore, &["zrangebyscore", "z", "2", "3", "withscores"]), "[b 2 c 3]");
    assert_eq!(run(&mut t, zrevrangebyscore, &["zrevrangebyscore", "z", "3", "2"]), "[c b]");
    assert_eq!(run(&mut t, zrangebyscore, &["zrangebyscore", "z", "2", "3", "rev"]), "ERR syntax error");
    assert_eq!(run(&mut t, zrangebylex, &["zrangebylex", "z", "-", "[b"]), "[a b]");
    assert_eq!(run(&mut t, zrevrangebylex, &["zrevrangebylex", "z", "[b", "-"]), "[b a]");
    t.proto = Proto::Resp3;
    assert_eq!(t.run(zrange, &["zrange", "z", "0", "0", "withscores"]), "*1\r\n*2\r\n$1\r\na\r\n,1\r\n");
    assert_eq!(t.run(zrange, &["zrange", "z", "0", "0"]), "*1\r\n$1\r\na\r\n");
}

#[test]
fn zrangestore_and_encodings() {
    let mut t = TestDb::default();
    t.limits.zset_max_listpack_entries = 3;
    run(&mut t, zadd, &["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(t.encoding("z"), Some("skiplist"));
    assert_eq!(run(&mut t, zrangestore, &["zrangestore", "d", "z", "0", "1"]), ":2");
    assert_eq!(t.encoding("d"), Some("listpack"));
    assert_eq!(run(&mut t, zrangestore, &["zrangestore", "d", "z", "+inf", "-inf", "byscore", "rev"]), ":4");
    assert_eq!(t.encoding("d"), Some("skiplist"));
    assert_eq!(run(&mut t, zrange, &["zrange", "d", "0", "-1", "withscores"]), "[a 1 b 2 c 3 d 4]");
    assert_eq!(run(&mut t, zrangestore, &["zrangestore", "d", "z", "5", "6", "byscore"]), ":0");
    assert_eq!(t.encoding("d"), None);
    assert_eq!(run(&mut t, zrangestore, &["zrangestore", "d", "z", "0", "-1", "withscores"]), "ERR syntax error");
    assert_eq!(run(&mut t, zrangestore, &["zrangestore", "z", "z", "0", "0"]), ":1");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "0", "-1"]), "[a]");
}

#[test]
fn zremrange_forms() {
    let mut t = TestDb::default();
    let fill = |t: &mut TestDb| run(t, zadd, &["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
    fill(&mut t);
    assert_eq!(run(&mut t, zremrangebyrank, &["zremrangebyrank", "z", "1", "-2"]), ":3");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "0", "-1"]), "[a e]");
    assert_eq!(run(&mut t, zremrangebyrank, &["zremrangebyrank", "z", "5", "10"]), ":0");
    fill(&mut t);
    assert_eq!(run(&mut t, zremrangebyscore, &["zremrangebyscore", "z", "(1", "3"]), ":2");
    assert_eq!(run(&mut t, zremrangebylex, &["zremrangebylex", "z", "[d", "+"]), ":2");
    assert_eq!(run(&mut t, zrange, &["zrange", "z", "0", "-1"]), "[a]");
    assert_eq!(run(&mut t, zremrangebyrank, &["zremrangebyrank", "z", "0", "-1"]), ":1");
    assert_eq!(t.encoding("z"), None);
    assert_eq!(
        run(&mut t, zremrangebyrank, &["zremrangebyrank", "z", "x", "1"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn pops() {
    let mut t = TestDb::default();
    run(&mut t, zadd, &["zadd", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(run(&mut t, zpopmin, &["zpopmin", "z"]), "[a 1]");
    assert_eq!(run(&mut t, zpopmax, &["zpopmax", "z", "5"]), "[c 3 b 2]");
    assert_eq!(t.encoding("z"), None);
    assert_eq!(run(&mut t, zpopmin, &["zpopmin", "z"]), "[]");
    assert_eq!(run(&mut t, zpopmin, &["zpopmin", "z", "-1"]), "ERR value is out of range, must be positive");
    assert_eq!(run(&mut t, zpopmin, &["zpopmin", "z", "1", "2"]), "ERR syntax error");
    run(&mut t, zadd, &["zadd", "z", "1", "a", "2", "b"]);
    assert_eq!(run(&mut t, zpopmin, &["zpopmin", "z", "0"]), "[]");
    t.proto = Proto::Resp3;
    assert_eq!(t.run(zpopmin, &["zpopmin", "z", "1"]), "*1\r\n*2\r\n$1\r\na\r\n,1\r\n");
    assert_eq!(t.run(zpopmin, &["zpopmin", "z"]), "*2\r\n$1\r\nb\r\n,2\r\n");
    assert_eq!(t.run(zmpop, &["zmpop", "1", "z", "min"]), "_\r\n");
    t.proto = Proto::Resp2;
    assert_eq!(t.run(zmpop, &["zmpop", "1", "z", "min"]), "*-1\r\n");
    run(&mut t, zadd, &["zadd", "y", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(run(&mut t, zmpop, &["zmpop", "2", "z", "y", "max", "count", "2"]), "[y [[c 3] [b 2]]]");
    assert_eq!(run(&mut t, zmpop, &["zmpop", "0", "y", "max"]), "ERR numkeys should be greater than 0");
    assert_eq!(run(&mut t, zmpop, &["zmpop", "2", "y", "max"]), "ERR syntax error");
    assert_eq!(run(&mut t, zmpop, &["zmpop", "1", "y", "max", "count", "0"]), "ERR count should be greater than 0");
    assert_eq!(run(&mut t, zmpop, &["zmpop", "1", "y", "max", "count", "1", "count", "1"]), "ERR syntax error");
}

#[test]
fn zrandmember_counts() {
    let mut t = TestDb::default();
    run(&mut t, zadd, &["zadd", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "z", "10"]), "[c b a]");
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "z", "3", "withscores"]), "[c 3 b 2 a 1]");
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "z", "0"]), "[]");
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "nokey", "5"]), "[]");
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "nokey"]), "nil");
    let r = run(&mut t, zrandmember, &["zrandmember", "z", "-7"]);
    assert_eq!(r.split(' ').count(), 7, "{r}");
    let r = run(&mut t, zrandmember, &["zrandmember", "z", "2"]);
    let picked: Vec<&str> = r.trim_matches(['[', ']']).split(' ').collect();
    assert!(picked.len() == 2 && picked[0] != picked[1], "{r}");
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "z", "1", "x"]), "ERR syntax error");
    assert_eq!(run(&mut t, zrandmember, &["zrandmember", "z", "x"]), "ERR value is not an integer or out of range");
    // Unique picks from a large set: distinct members.
    let mut args = vec!["zadd".to_string(), "big".into()];
    for i in 0..300 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&mut t, zadd, &args);
    for n in ["50", "250"] {
        let r = run(&mut t, zrandmember, &["zrandmember", "big", n]);
        let mut v: Vec<&str> = r.trim_matches(['[', ']']).split(' ').collect();
        v.sort();
        v.dedup();
        assert_eq!(v.len().to_string(), n);
    }
}

#[test]
fn algebra_with_sets_weights_and_aggregates() {
    let mut t = TestDb::default();
    run(&mut t, zadd, &["zadd", "a", "1", "x", "2", "y", "3", "z"]);
    run(&mut t, zadd, &["zadd", "b", "10", "y", "20", "z", "30", "w"]);
    put_set(&mut t, "s", &["z", "q"]);
    assert_eq!(run(&mut t, zunion, &["zunion", "2", "a", "b", "withscores"]), "[x 1 y 12 z 23 w 30]");
    assert_eq!(
        run(&mut t, zunion, &["zunion", "2", "a", "b", "weights", "2", "0.5", "aggregate", "max", "withscores"]),
        "[x 2 y 5 z 10 w 15]"
    );
    assert_eq!(run(&mut t, zinter, &["zinter", "3", "a", "b", "s", "withscores"]), "[z 24]");
    assert_eq!(run(&mut t, zinter, &["zinter", "2", "a", "b", "aggregate", "min", "withscores"]), "[y 2 z 3]");
    assert_eq!(run(&mut t, zdiff, &["zdiff", "2", "a", "b", "withscores"]), "[x 1]");
    assert_eq!(run(&mut t, zdiff, &["zdiff", "2", "a", "a"]), "[]");
    assert_eq!(run(&mut t, zintercard, &["zintercard", "2", "a", "b"]), ":2");
    assert_eq!(run(&mut t, zintercard, &["zintercard", "2", "a", "b", "limit", "1"]), ":1");
    assert_eq!(run(&mut t, zintercard, &["zintercard", "2", "a", "b", "limit", "-1"]), "ERR LIMIT can't be negative");
    assert_eq!(run(&mut t, zunionstore, &["zunionstore", "d", "2", "a", "s"]), ":4");
    assert_eq!(run(&mut t, zrange, &["zrange", "d", "0", "-1", "withscores"]), "[q 1 x 1 y 2 z 4]");
    assert_eq!(t.encoding("d"), Some("listpack"));
    assert_eq!(run(&mut t, zinterstore, &["zinterstore", "d", "2", "a", "nokey"]), ":0");
    assert_eq!(t.encoding("d"), None);
    assert_eq!(run(&mut t, zdiffstore, &["zdiffstore", "d", "1", "b"]), ":3");
    assert_eq!(run(&mut t, zunion, &["zunion", "0", "a"]), "ERR at least 1 input key is needed for 'zunion' command");
    assert_eq!(
        run(&mut t, zunionstore, &["zunionstore", "d", "0", "a"]),
        "ERR at least 1 input key is needed for 'zunionstore' command"
    );
    assert_eq!(run(&mut t, zunion, &["zunion", "3", "a"]), "ERR syntax error");
    assert_eq!(run(&mut t, zunion, &["zunion", "1", "a", "weights", "x"]), "ERR weight value is not a float");
    assert_eq!(run(&mut t, zunion, &["zunion", "1", "a", "aggregate", "avg"]), "ERR syntax error");
    assert_eq!(run(&mut t, zunionstore, &["zunionstore", "d", "1", "a", "withscores"]), "ERR syntax error");
    assert_eq!(run(&mut t, zdiff, &["zdiff", "1", "a", "weights", "1"]), "ERR syntax error");
    // inf * 0 and inf + -inf both read as 0.
    run(&mut t, zadd, &["zadd", "i", "inf", "x"]);
    run(&mut t, zadd, &["zadd", "j", "-inf", "x"]);
    assert_eq!(run(&mut t, zunion, &["zunion", "2", "i", "j", "withscores"]), "[x 0]");
    assert_eq!(run(&mut t, zunion, &["zunion", "1", "i", "weights", "0", "withscores"]), "[x 0]");
    put_string(&mut t, "str");
    assert_eq!(run(&mut t, zunion, &["zunion", "2", "a", "str", "weights", "x"]), WRONGTYPE);
}

#[test]
fn large_results_convert_and_store() {
    let mut t = TestDb::default();
    let mut args = vec!["zadd".to_string(), "big".into()];
    for i in 0..200 {
        args.push((i % 7).to_string());
        args.push(format!("m{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run(&mut t, zadd, &args), ":200");
    assert_eq!(t.encoding("big"), Some("skiplist"));
    assert_eq!(run(&mut t, zunionstore, &["zunionstore", "d", "1", "big"]), ":200");
    assert_eq!(t.encoding("d"), Some("skiplist"));
    assert_eq!(run(&mut t, zremrangebyrank, &["zremrangebyrank", "d", "0", "150"]), ":151");
    assert_eq!(t.encoding("d"), Some("skiplist"));
    assert_eq!(run(&mut t, zunionstore, &["zunionstore", "d", "1", "d"]), ":49");
    assert_eq!(t.encoding("d"), Some("listpack"));
    assert_eq!(run(&mut t, zcount, &["zcount", "big", "3", "3"]), ":29");
    // Score 0 holds m0, m7, ... m196, ordered by member bytes.
    assert_eq!(run(&mut t, zrank, &["zrank", "big", "m105"]), ":1");
    assert_eq!(run(&mut t, zrank, &["zrank", "big", "m7"]), ":23");
}

#[test]
fn zscan_packed_and_indexed() {
    let mut t = TestDb::default();
    run(&mut t, zadd, &["zadd", "z", "1", "a", "2.5", "b"]);
    assert_eq!(run(&mut t, zscan, &["zscan", "z", "0"]), "[0 [a 1 b 2.5]]");
    assert_eq!(run(&mut t, zscan, &["zscan", "z", "0", "match", "b*"]), "[0 [b 2.5]]");
    assert_eq!(run(&mut t, zscan, &["zscan", "nokey", "0"]), "[0 []]");
    assert_eq!(run(&mut t, zscan, &["zscan", "z", "x"]), "ERR invalid cursor");
    assert_eq!(run(&mut t, zscan, &["zscan", "z", "0", "count", "0"]), "ERR syntax error");
    t.proto = Proto::Resp3;
    assert_eq!(t.run(zscan, &["zscan", "z", "0", "match", "a"]), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    t.proto = Proto::Resp2;
    t.limits.zset_max_listpack_entries = 0;
    for i in 0..500 {
        run(&mut t, zadd, &["zadd", "big", &i.to_string(), &format!("m{i}")]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let r = t.run(zscan, &["zscan", "big", &cursor, "count", "20"]);
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        for pair in lines[4..].chunks(4) {
            if pair.len() == 4 {
                seen.insert(pair[1].to_string());
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
}

#[test]
fn events_are_redis_events() {
    TestDb::notifying().expect_events(&[
        (zadd, "ZADD z 1 a 2 b 3 c", &["new z", "zadd z"]),
        (zadd, "ZADD z XX 1 zz", &[]),
        (zadd, "ZADD z 1 a", &[]),
        (zincrby, "ZINCRBY z 1 a", &["zincr z"]),
        (zrem, "ZREM z zz", &[]),
        (zrem, "ZREM z b", &["zrem z"]),
        (zremrangebyscore, "ZREMRANGEBYSCORE z 0 0", &[]),
        (zrangestore, "ZRANGESTORE d z 0 -1", &["new d", "zrangestore d"]),
        (zunionstore, "ZUNIONSTORE u 2 z d", &["new u", "zunionstore u"]),
        (zdiffstore, "ZDIFFSTORE u 2 z d", &["del u"]),
        (zpopmin, "ZPOPMIN z 5", &["zpopmin z", "del z"]),
        (zremrangebyrank, "ZREMRANGEBYRANK d 0 -1", &["zremrangebyrank d", "del d"]),
        (zscore, "ZSCORE d a", &["keymiss d"]),
    ]);
}
