//! Unit tests of the list commands on a bare database with a fixed clock.
//! Expected replies were taken from redis-server 7.0.15.

use super::*;
use crate::cmd::args::{mpop, Mpop};
use crate::cmd::test_util::{b, TestDb};
use crate::resp::Proto;
use index::{self, lindex, lrange};
use moves::{self, lmove, rpoplpush};

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

fn arr(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&bulk(i));
    }
    s
}

fn ints(items: &[i64]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&format!(":{i}\r\n"));
    }
    s
}

/// A database holding list `l` = [a b c d e] and the string `s`.
fn db() -> TestDb {
    let mut t = TestDb::default();
    assert_eq!(t.run(rpush, &["RPUSH", "l", "a", "b", "c", "d", "e"]), ":5\r\n");
    t.db.insert(crate::db::Entry::new_string(b"s", b"v", crate::db::StrEncoding::Embstr, None));
    t
}

fn all(t: &mut TestDb, key: &str) -> String {
    t.run(lrange, &["LRANGE", key, "0", "-1"])
}

#[test]
fn pushes() {
    let mut t = TestDb::default();
    assert_eq!(t.run(lpush, &["LPUSH", "k", "a", "b"]), ":2\r\n");
    assert_eq!(t.run(rpush, &["RPUSH", "k", "c"]), ":3\r\n");
    assert_eq!(all(&mut t, "k"), arr(&["b", "a", "c"]));
    assert_eq!(t.run(lpushx, &["LPUSHX", "nope", "a"]), ":0\r\n");
    assert_eq!(t.run(rpushx, &["RPUSHX", "nope", "a", "b"]), ":0\r\n");
    assert!(t.db.table().get(b"nope").is_none());
    assert_eq!(t.run(lpushx, &["LPUSHX", "k", "x", "y"]), ":5\r\n");
    assert_eq!(t.run(rpushx, &["RPUSHX", "k", "z"]), ":6\r\n");
    assert_eq!(all(&mut t, "k"), arr(&["y", "x", "b", "a", "c", "z"]));
    assert_eq!(t.run(llen, &["LLEN", "k"]), ":6\r\n");
    assert_eq!(t.run(llen, &["LLEN", "nope"]), ":0\r\n");
    assert_eq!(t.encoding("k"), Some("listpack"));
}

#[test]
fn wrong_type() {
    let mut t = db();
    for (f, args) in [
        (lpush as crate::cmd::test_util::KsFn, &["LPUSH", "s", "a"][..]),
        (rpushx, &["RPUSHX", "s", "a"]),
        (lpop, &["LPOP", "s"]),
        (rpop, &["RPOP", "s", "0"]),
        (llen, &["LLEN", "s"]),
        (lrange, &["LRANGE", "s", "0", "1"]),
        (lindex, &["LINDEX", "s", "x"]),
        (index::lset, &["LSET", "s", "x", "v"]),
        (index::linsert, &["LINSERT", "s", "BEFORE", "a", "b"]),
        (index::lrem, &["LREM", "s", "0", "a"]),
        (index::ltrim, &["LTRIM", "s", "0", "1"]),
        (index::lpos, &["LPOS", "s", "a", "COUNT", "0"]),
        (lmove, &["LMOVE", "s", "l", "LEFT", "LEFT"]),
        (lmove, &["LMOVE", "l", "s", "LEFT", "LEFT"]),
        (rpoplpush, &["RPOPLPUSH", "l", "s"]),
        (moves::lmpop, &["LMPOP", "2", "nope", "s", "LEFT"]),
    ] {
        assert_eq!(t.run(f, args), WRONGTYPE, "{args:?}");
    }
    // The failed moves left the source alone.
    assert_eq!(t.run(llen, &["LLEN", "l"]), ":5\r\n");
    // A missing source answers null before the destination is looked at.
    assert_eq!(t.run(lmove, &["LMOVE", "nope", "s", "LEFT", "LEFT"]), "$-1\r\n");
}

#[test]
fn pops() {
    let mut t = db();
    assert_eq!(t.run(lpop, &["LPOP", "l"]), bulk("a"));
    assert_eq!(t.run(rpop, &["RPOP", "l"]), bulk("e"));
    assert_eq!(t.run(lpop, &["LPOP", "l", "0"]), "*0\r\n");
    assert_eq!(t.run(rpop, &["RPOP", "l", "2"]), arr(&["d", "c"]));
    assert_eq!(t.run(lpop, &["LPOP", "l", "5"]), arr(&["b"]));
    assert!(t.db.table().get(b"l").is_none(), "an emptied list is deleted");
    assert_eq!(t.run(lpop, &["LPOP", "l"]), "$-1\r\n");
    assert_eq!(t.run(lpop, &["LPOP", "l", "0"]), "*-1\r\n");
    assert_eq!(t.run(rpop, &["RPOP", "l", "3"]), "*-1\r\n");
    let range = "-ERR value is out of range, must be positive\r\n";
    assert_eq!(t.run(lpop, &["LPOP", "l", "-1"]), range);
    assert_eq!(t.run(lpop, &["LPOP", "s", "x"]), range, "the count is checked before the type");
    assert_eq!(t.run(lpop, &["LPOP", "l", "1", "2"]), "-ERR wrong number of arguments for 'lpop' command\r\n");
    t.proto = Proto::Resp3;
    assert_eq!(t.run(lpop, &["LPOP", "l"]), "_\r\n");
    assert_eq!(t.run(lpop, &["LPOP", "l", "1"]), "_\r\n");
}

#[test]
fn lindex_and_lrange() {
    let mut t = db();
    assert_eq!(t.run(lindex, &["LINDEX", "l", "0"]), bulk("a"));
    assert_eq!(t.run(lindex, &["LINDEX", "l", "-1"]), bulk("e"));
    assert_eq!(t.run(lindex, &["LINDEX", "l", "5"]), "$-1\r\n");
    assert_eq!(t.run(lindex, &["LINDEX", "l", "-6"]), "$-1\r\n");
    assert_eq!(t.run(lindex, &["LINDEX", "l", "-9223372036854775808"]), "$-1\r\n");
    assert_eq!(t.run(lindex, &["LINDEX", "l", "x"]), NOT_INT);
    assert_eq!(t.run(lindex, &["LINDEX", "nope", "x"]), "$-1\r\n", "the key is looked up first");
    assert_eq!(t.run(lrange, &["LRANGE", "l", "1", "2"]), arr(&["b", "c"]));
    assert_eq!(t.run(lrange, &["LRANGE", "l", "-2", "100"]), arr(&["d", "e"]));
    assert_eq!(t.run(lrange, &["LRANGE", "l", "3", "1"]), "*0\r\n");
    assert_eq!(t.run(lrange, &["LRANGE", "nope", "0", "-1"]), "*0\r\n");
    assert_eq!(t.run(lrange, &["LRANGE", "nope", "x", "-1"]), NOT_INT, "the range is parsed first");
}

#[test]
fn lset_replies() {
    let mut t = db();
    assert_eq!(t.run(index::lset, &["LSET", "l", "-1", "z"]), "+OK\r\n");
    assert_eq!(t.run(index::lset, &["LSET", "l", "5", "z"]), "-ERR index out of range\r\n");
    assert_eq!(t.run(index::lset, &["LSET", "l", "x", "z"]), NOT_INT);
    assert_eq!(t.run(index::lset, &["LSET", "nope", "x", "z"]), "-ERR no such key\r\n");
    assert_eq!(all(&mut t, "l"), arr(&["a", "b", "c", "d", "z"]));
}

#[test]
fn linsert_replies() {
    let mut t = db();
    assert_eq!(t.run(index::linsert, &["LINSERT", "l", "BEFORE", "a", "x"]), ":6\r\n");
    assert_eq!(t.run(index::linsert, &["LINSERT", "l", "after", "e", "y"]), ":7\r\n");
    assert_eq!(t.run(index::linsert, &["LINSERT", "l", "AFTER", "c", "m"]), ":8\r\n");
    assert_eq!(t.run(index::linsert, &["LINSERT", "l", "AFTER", "q", "m"]), ":-1\r\n");
    assert_eq!(t.run(index::linsert, &["LINSERT", "nope", "AFTER", "q", "m"]), ":0\r\n");
    assert_eq!(t.run(index::linsert, &["LINSERT", "s", "MID", "q", "m"]), "-ERR syntax error\r\n");
    assert_eq!(all(&mut t, "l"), arr(&["x", "a", "b", "c", "m", "d", "e", "y"]));
}

#[test]
fn lrem_and_ltrim() {
    let mut t = TestDb::default();
    t.run(rpush, &["RPUSH", "l", "a", "b", "a", "c", "a"]);
    assert_eq!(t.run(index::lrem, &["LREM", "l", "-1", "a"]), ":1\r\n");
    assert_eq!(all(&mut t, "l"), arr(&["a", "b", "a", "c"]));
    assert_eq!(t.run(index::lrem, &["LREM", "l", "1", "a"]), ":1\r\n");
    assert_eq!(t.run(index::lrem, &["LREM", "l", "0", "a"]), ":1\r\n");
    assert_eq!(t.run(index::lrem, &["LREM", "l", "x", "a"]), NOT_INT);
    assert_eq!(t.run(index::lrem, &["LREM", "nope", "0", "a"]), ":0\r\n");
    assert_eq!(t.run(index::lrem, &["LREM", "l", "-9223372036854775808", "b"]), ":1\r\n");
    assert_eq!(t.run(index::ltrim, &["LTRIM", "l", "0", "0"]), "+OK\r\n");
    assert_eq!(all(&mut t, "l"), arr(&["c"]));
    assert_eq!(t.run(index::lrem, &["LREM", "l", "0", "c"]), ":1\r\n");
    assert!(t.db.table().get(b"l").is_none());
    t.run(rpush, &["RPUSH", "l", "a", "b", "c", "d"]);
    assert_eq!(t.run(index::ltrim, &["LTRIM", "l", "1", "-2"]), "+OK\r\n");
    assert_eq!(all(&mut t, "l"), arr(&["b", "c"]));
    assert_eq!(t.run(index::ltrim, &["LTRIM", "l", "2", "1"]), "+OK\r\n");
    assert!(t.db.table().get(b"l").is_none());
    assert_eq!(t.run(index::ltrim, &["LTRIM", "nope", "0", "1"]), "+OK\r\n");
    assert_eq!(t.run(index::ltrim, &["LTRIM", "nope", "x", "1"]), NOT_INT);
}

#[test]
fn lpos_replies() {
    let mut t = TestDb::default();
    t.run(rpush, &["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    let run = |t: &mut TestDb, args: &[&str]| t.run(index::lpos, &[&["LPOS", "l"][..], args].concat());
    assert_eq!(run(&mut t, &["c"]), ":2\r\n");
    assert_eq!(run(&mut t, &["c", "RANK", "-1"]), ":7\r\n");
    assert_eq!(run(&mut t, &["c", "RANK", "2"]), ":6\r\n");
    assert_eq!(run(&mut t, &["c", "RANK", "4"]), "$-1\r\n");
    assert_eq!(run(&mut t, &["c", "COUNT", "0"]), ints(&[2, 6, 7]));
    assert_eq!(run(&mut t, &["c", "RANK", "-1", "COUNT", "2"]), ints(&[7, 6]));
    assert_eq!(run(&mut t, &["c", "MAXLEN", "3"]), ":2\r\n");
    assert_eq!(run(&mut t, &["c", "RANK", "-1", "MAXLEN", "2", "COUNT", "0"]), ints(&[7, 6]));
    assert_eq!(run(&mut t, &["x", "COUNT", "0"]), "*0\r\n");
    assert_eq!(run(&mut t, &["c", "RANK", "-9223372036854775808"]), ":7\r\n");
    assert_eq!(run(&mut t, &["c", "RANK", "9223372036854775807"]), "$-1\r\n");
    assert!(run(&mut t, &["c", "RANK", "0"]).starts_with("-ERR RANK can't be zero"));
    assert_eq!(run(&mut t, &["c", "COUNT", "x"]), "-ERR COUNT can't be negative\r\n");
    assert_eq!(run(&mut t, &["c", "MAXLEN", "-1"]), "-ERR MAXLEN can't be negative\r\n");
    assert_eq!(run(&mut t, &["c", "RANK"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(index::lpos, &["LPOS", "nope", "c", "COUNT", "1"]), "*0\r\n");
    assert_eq!(t.run(index::lpos, &["LPOS", "nope", "c"]), "$-1\r\n");
}

#[test]
fn lmove_and_rpoplpush() {
    let mut t = db();
    assert_eq!(t.run(lmove, &["LMOVE", "l", "d", "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(t.run(lmove, &["LMOVE", "l", "d", "right", "left"]), bulk("e"));
    assert_eq!(t.run(rpoplpush, &["RPOPLPUSH", "l", "d"]), bulk("d"));
    assert_eq!(all(&mut t, "d"), arr(&["d", "e", "a"]));
    assert_eq!(all(&mut t, "l"), arr(&["b", "c"]));
    // The same list: a rotation.
    assert_eq!(t.run(lmove, &["LMOVE", "d", "d", "LEFT", "RIGHT"]), bulk("d"));
    assert_eq!(all(&mut t, "d"), arr(&["e", "a", "d"]));
    assert_eq!(t.run(lmove, &["LMOVE", "l", "d", "UP", "LEFT"]), "-ERR syntax error\r\n");
    assert_eq!(t.run(lmove, &["LMOVE", "nope", "d", "LEFT", "LEFT"]), "$-1\r\n");
    t.run(lmove, &["LMOVE", "l", "d", "LEFT", "LEFT"]);
    t.run(lmove, &["LMOVE", "l", "d", "LEFT", "LEFT"]);
    assert!(t.db.table().get(b"l").is_none(), "the emptied source is deleted");
    assert_eq!(t.run(lmove, &["LMOVE", "d", "new", "LEFT", "LEFT"]), bulk("c"));
    assert_eq!(all(&mut t, "new"), arr(&["c"]));
}

#[test]
fn lmpop_replies() {
    let mut t = db();
    t.run(rpush, &["RPUSH", "m", "x", "y"]);
    assert_eq!(
        t.run(moves::lmpop, &["LMPOP", "2", "nope", "l", "LEFT"]),
        format!("*2\r\n{}{}", bulk("l"), arr(&["a"]))
    );
    assert_eq!(
        t.run(moves::lmpop, &["LMPOP", "2", "m", "l", "RIGHT", "COUNT", "5"]),
        format!("*2\r\n{}{}", bulk("m"), arr(&["y", "x"]))
    );
    assert!(t.db.table().get(b"m").is_none());
    assert_eq!(t.run(moves::lmpop, &["LMPOP", "1", "nope", "LEFT"]), "*-1\r\n");
    assert_eq!(t.run(moves::lmpop, &["LMPOP", "2", "l", "s", "LEFT"]), format!("*2\r\n{}{}", bulk("l"), arr(&["b"])));
    assert_eq!(t.run(moves::lmpop, &["LMPOP", "0", "l", "LEFT"]), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(t.run(moves::lmpop, &["LMPOP", "2", "l", "LEFT"]), "-ERR syntax error\r\n");
    assert_eq!(
        t.run(moves::lmpop, &["LMPOP", "1", "l", "LEFT", "COUNT", "0"]),
        "-ERR count should be greater than 0\r\n"
    );
    t.proto = Proto::Resp3;
    assert_eq!(t.run(moves::lmpop, &["LMPOP", "1", "nope", "LEFT"]), "_\r\n");
}

#[test]
fn mpop_arguments() {
    let args = b(&["BLMPOP", "0", "2", "a", "b", "right", "count", "3"]);
    assert_eq!(mpop(&args, 2, ("left", "right")), Ok(Mpop { keys: 3..5, first: false, count: 3 }));
    let args = b(&["LMPOP", "1", "a", "LEFT"]);
    assert_eq!(mpop(&args, 1, ("left", "right")), Ok(Mpop { keys: 2..3, first: true, count: 1 }));
    let args = b(&["LMPOP", "9223372036854775807", "a", "LEFT"]);
    assert_eq!(mpop(&args, 1, ("left", "right")), Err(CmdError::syntax()));
    let mut out = Out::new(Proto::Resp2);
    moves::write_mpop_reply(&mut out, b"k", &[b"x".to_vec()]);
    assert_eq!(&out.buf[..], b"*2\r\n$1\r\nk\r\n*1\r\n$1\r\nx\r\n");
}

#[test]
fn push_to_checks_the_type() {
    let mut t = db();
    let mut ks = t.ks();
    assert_eq!(push_to(&mut ks, b"s", b"x", true), Err(OpError::WrongType));
    assert_eq!(push_to(&mut ks, b"new", b"x", true), Ok(()));
    assert_eq!(push_to(&mut ks, b"new", b"y", true), Ok(()));
    assert_eq!(push_to(&mut ks, b"new", b"z", false), Ok(()));
    assert_eq!(all(&mut t, "new"), arr(&["y", "x", "z"]));
}

#[test]
fn encodings_follow_the_limit() {
    let mut t = TestDb::default();
    t.limits.list_max_listpack_size = 4;
    t.run(rpush, &["RPUSH", "l", "1", "2", "3", "4"]);
    assert_eq!(t.encoding("l"), Some("listpack"));
    t.run(rpush, &["RPUSH", "l", "5"]);
    assert_eq!(t.encoding("l"), Some("quicklist"));
    // Nodes [1 2 3 4] [5]: one node of 2 (half the limit) is left.
    t.run(lpop, &["LPOP", "l", "3"]);
    assert_eq!(t.encoding("l"), Some("quicklist"), "two nodes are left");
    t.run(rpop, &["RPOP", "l"]);
    assert_eq!(t.encoding("l"), Some("listpack"));
    // A multi-element push converts first if all of it would not fit.
    t.run(rpush, &["RPUSH", "m", "1", "2", "3", "4", "5"]);
    assert_eq!(t.encoding("m"), Some("quicklist"));
    // LINSERT converts even when the pivot is missing, as Redis 7.2.
    t.run(rpush, &["RPUSH", "i", "1", "2", "3", "4"]);
    assert_eq!(t.run(index::linsert, &["LINSERT", "i", "BEFORE", "x", "y"]), ":-1\r\n");
    assert_eq!(t.encoding("i"), Some("quicklist"));
    t.run(index::ltrim, &["LTRIM", "i", "0", "1"]);
    assert_eq!(t.encoding("i"), Some("listpack"));
}

#[test]
fn events_are_redis_events() {
    TestDb::notifying().expect_events(&[
        (rpush, "RPUSH l a b c", &["new l", "rpush l"]),
        (lpushx, "LPUSHX nope a", &[]),
        (lmove, "LMOVE l l2 RIGHT LEFT", &["new l2", "lpush l2", "rpop l"]),
        (rpoplpush, "RPOPLPUSH l l", &["lpush l", "rpop l"]),
        (index::lset, "LSET l 0 x", &["lset l"]),
        (index::linsert, "LINSERT l BEFORE x y", &["linsert l"]),
        (index::lrem, "LREM l 0 zz", &[]),
        (index::lrem, "LREM l 1 y", &["lrem l"]),
        (lpop, "LPOP l 5", &["lpop l", "del l"]),
        (index::ltrim, "LTRIM l2 1 0", &["ltrim l2", "del l2"]),
        (lrange, "LRANGE l 0 -1", &["keymiss l"]),
        (rpush, "RPUSH m a", &["new m", "rpush m"]),
        (moves::lmpop, "LMPOP 2 l m RIGHT", &["rpop m", "del m"]),
    ]);
}
