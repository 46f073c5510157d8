//! Unit tests of the HyperLogLog commands on a bare database; replies and
//! events as redis-server 7.0 gives them.

use super::*;
use crate::cmd::test_util::TestDb;

fn add(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    pfadd_in(ks, args, 3000, out)
}

fn merge(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    pfmerge_in(ks, args, 3000, out)
}

fn value(t: &TestDb, key: &str) -> Vec<u8> {
    t.db.table().get(key.as_bytes()).map(|e| e.value().to_vec()).unwrap_or_default()
}

fn set_raw(t: &mut TestDb, key: &str, v: &[u8], enc: StrEncoding) {
    t.db.insert(Entry::new_string(key.as_bytes(), v, enc, None));
}

const NOT_HLL: &str = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
const CORRUPT: &str = "-INVALIDOBJ Corrupted HLL object detected\r\n";

#[test]
fn pfadd_and_pfcount() {
    let mut t = TestDb::default();
    t.signals.logging = true;
    assert_eq!(t.run(add, &["pfadd", "h", "a", "b", "c"]), ":1\r\n");
    assert_eq!(t.run(add, &["pfadd", "h", "a"]), ":0\r\n");
    assert_eq!(t.run(add, &["pfadd", "e"]), ":1\r\n", "no elements: created");
    assert_eq!(t.run(add, &["pfadd", "e"]), ":0\r\n");
    assert_eq!(t.encoding("h"), Some("raw"));
    assert!(hll::cached(&value(&t, "h")).is_none());
    assert_eq!(t.run(pfcount, &["pfcount", "h"]), ":3\r\n");
    // The estimate is cached in the value, as Redis caches it.
    assert_eq!(hll::cached(&value(&t, "h")), Some(3));
    assert_eq!(t.signals.modified.len(), 3, "pfadd, pfadd and pfcount's cache");
    assert_eq!(t.run(pfcount, &["pfcount", "h"]), ":3\r\n");
    assert_eq!(t.signals.modified.len(), 3, "a valid cache is not a change");
    assert_eq!(t.run(pfcount, &["pfcount", "nokey"]), ":0\r\n");
    assert_eq!(t.run(pfcount, &["pfcount", "h", "e", "nokey"]), ":3\r\n");
    assert_eq!(
        value(&t, "h"),
        b"HYLL\x01\0\0\0\x03\0\0\0\0\0\0\0\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a".to_vec()
    );
}

#[test]
fn dense_values_change_in_place() {
    let mut t = TestDb::default();
    for i in 0..40 {
        let args: Vec<String> = (0..100).map(|j| format!("e:{}", i * 100 + j)).collect();
        let mut all = vec!["pfadd", "d"];
        all.extend(args.iter().map(String::as_str));
        t.run(add, &all);
    }
    assert_eq!(t.run(pfdebug, &["pfdebug", "encoding", "d"]), "+dense\r\n");
    assert_eq!(t.run(pfcount, &["pfcount", "d"]), ":4005\r\n");
    assert_eq!(t.run(add, &["pfadd", "d", "e:0"]), ":0\r\n");
    assert_eq!(t.run(pfcount, &["pfcount", "d"]), ":4005\r\n");
}

#[test]
fn wrong_types_and_corruption() {
    let mut t = TestDb::default();
    let mut set = crate::types::Set::new();
    set.insert(b"x", &t.limits);
    t.db.insert(Entry::new_obj(b"s", crate::types::Value::Set(set), None));
    set_raw(&mut t, "str", b"hello", StrEncoding::Embstr);
    let wrong = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    assert_eq!(t.run(add, &["pfadd", "s", "a"]), wrong);
    assert_eq!(t.run(pfcount, &["pfcount", "s"]), wrong);
    assert_eq!(t.run(add, &["pfadd", "str", "a"]), NOT_HLL);
    assert_eq!(t.run(pfcount, &["pfcount", "str"]), NOT_HLL);
    assert_eq!(t.run(pfcount, &["pfcount", "nokey", "str", "s"]), NOT_HLL);
    assert_eq!(t.run(merge, &["pfmerge", "d", "s"]), wrong);
    assert_eq!(t.run(pfdebug, &["pfdebug", "encoding", "str"]), NOT_HLL);
    assert_eq!(t.run(pfdebug, &["pfdebug", "encoding", "nokey"]), "-ERR The specified key does not exist\r\n");
    // A sparse body that covers too few registers.
    set_raw(&mut t, "bad", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f", StrEncoding::Embstr);
    assert_eq!(t.run(pfcount, &["pfcount", "bad"]), CORRUPT);
    assert_eq!(t.encoding("bad"), Some("raw"), "unshared as Redis's dbUnshareStringValue does");
    assert_eq!(t.run(pfcount, &["pfcount", "bad", "nokey"]), CORRUPT);
    assert_eq!(t.run(merge, &["pfmerge", "d", "bad"]), CORRUPT);
    assert_eq!(t.run(pfdebug, &["pfdebug", "todense", "bad"]), CORRUPT);
    assert_eq!(t.run(pfdebug, &["pfdebug", "decode", "bad"]), "$7\r\nZ:16129\r\n");
    assert_eq!(t.run(add, &["pfadd", "bad", "a"]), ":1\r\n");
    set_raw(&mut t, "hdr", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80", StrEncoding::Embstr);
    assert_eq!(t.run(add, &["pfadd", "hdr", "a"]), CORRUPT);
    assert_eq!(t.run(pfdebug, &["pfdebug", "decode", "hdr"]), "$0\r\n\r\n");
}

#[test]
fn pfmerge_rules() {
    let mut t = TestDb::notifying();
    t.run(add, &["pfadd", "a", "1", "2", "3"]);
    t.run(add, &["pfadd", "b", "3", "4"]);
    t.events();
    assert_eq!(t.run(merge, &["pfmerge", "d", "a", "b", "nokey"]), "+OK\r\n");
    assert_eq!(t.events(), ["keymiss d", "keymiss nokey", "new d", "pfadd d"]);
    assert_eq!(t.run(pfcount, &["pfcount", "d"]), ":4\r\n");
    assert_eq!(t.run(pfdebug, &["pfdebug", "encoding", "d"]), "+sparse\r\n");
    // A dense input makes the destination dense.
    assert_eq!(t.run(pfdebug, &["pfdebug", "todense", "b"]), ":1\r\n");
    assert_eq!(t.run(pfdebug, &["pfdebug", "todense", "b"]), ":0\r\n");
    assert_eq!(t.run(merge, &["pfmerge", "d2", "a", "b"]), "+OK\r\n");
    assert_eq!(t.run(pfdebug, &["pfdebug", "encoding", "d2"]), "+dense\r\n");
    assert_eq!(t.run(pfcount, &["pfcount", "d2"]), ":4\r\n");
    // No sources: the destination alone (created empty when missing).
    assert_eq!(t.run(merge, &["pfmerge", "d3"]), "+OK\r\n");
    assert_eq!(t.run(pfcount, &["pfcount", "d3"]), ":0\r\n");
    assert_eq!(value(&t, "d3"), {
        let mut v = hll::new_empty();
        hll::invalidate(&mut v);
        hll::set_cached(&mut v, 0);
        v
    });
}

#[test]
fn pfdebug_subcommands() {
    let mut t = TestDb::default();
    t.run(add, &["pfadd", "h", "a", "b", "c"]);
    assert_eq!(t.run(pfdebug, &["pfdebug", "decode", "h"]), "$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n");
    assert_eq!(t.run(pfdebug, &["pfdebug", "ENCODING", "h"]), "+sparse\r\n");
    assert_eq!(t.run(pfdebug, &["pfdebug", "foo", "h"]), "-ERR Unknown PFDEBUG subcommand 'foo'\r\n");
    let regs = t.run(pfdebug, &["pfdebug", "getreg", "h"]);
    assert!(regs.starts_with("*16384\r\n:0\r\n"));
    assert_eq!(regs.matches(":1\r\n").count(), 2);
    assert_eq!(regs.matches(":2\r\n").count(), 1);
    assert_eq!(t.run(pfdebug, &["pfdebug", "encoding", "h"]), "+dense\r\n", "GETREG leaves it dense");
    assert_eq!(t.run(pfdebug, &["pfdebug", "decode", "h"]), "-ERR HLL encoding is not sparse\r\n");
    assert_eq!(t.run(pfcount, &["pfcount", "h"]), ":3\r\n");
}

#[test]
fn pfadd_keeps_the_ttl() {
    let mut t = TestDb::default();
    let v = hll::new_empty();
    t.db.insert(Entry::new_string(b"h", &v, StrEncoding::Raw, Some(t.now + 100_000)));
    assert_eq!(t.run(add, &["pfadd", "h", "x"]), ":1\r\n");
    assert_eq!(t.db.table().get(&b"h"[..]).and_then(|e| e.expire_at()), Some(t.now + 100_000));
}

#[test]
fn keyspace_events() {
    let mut t = TestDb::notifying();
    t.expect_events(&[
        (add, "pfadd h a", &["new h", "pfadd h"]),
        (add, "pfadd h a", &[]),
        (add, "pfadd h b", &["pfadd h"]),
        (pfcount, "pfcount h", &[]),
        (pfcount, "pfcount nokey", &["keymiss nokey"]),
        (pfcount, "pfcount h nokey", &["keymiss nokey"]),
        (merge, "pfmerge h", &["pfadd h"]),
        (pfdebug, "pfdebug todense h", &[]),
    ]);
}
