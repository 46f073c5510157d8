//! Keyspace commands with 1 and 3 shards: existence, renames, TTLs and expiry
//! (lazy and active), KEYS/SCAN/RANDOMKEY across shards, databases, OBJECT,
//! DUMP/RESTORE.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::support::{each_shards, query, spread_keys, wait_until, Server};

#[test]
fn del_unlink_exists_type_touch() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("dk", 6);
        for key in &k {
            let _: () = query(&mut c, &["SET", key, "v"]);
        }
        assert_eq!(query::<i64>(&mut c, &["EXISTS", &k[0], &k[1], &k[2], "nope", &k[0]]), 4);
        assert_eq!(query::<i64>(&mut c, &["TOUCH", &k[0], &k[1], "nope"]), 2);
        assert_eq!(query::<String>(&mut c, &["TYPE", &k[0]]), "string");
        assert_eq!(query::<String>(&mut c, &["TYPE", "nope"]), "none");
        assert_eq!(query::<i64>(&mut c, &["DEL", &k[0], &k[1], "nope", &k[0]]), 2);
        assert_eq!(query::<i64>(&mut c, &["UNLINK", &k[2], &k[3], &k[3]]), 2);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", &k[0], &k[1], &k[2], &k[3]]), 0);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 2);
    });
}

#[test]
fn rename_and_renamenx_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("rn", 3);
        let _: () = query(&mut c, &["SET", &k[0], "v0", "EX", "1000"]);
        let _: () = query(&mut c, &["RENAME", &k[0], &k[1]]);
        assert_eq!(query::<Option<String>>(&mut c, &["GET", &k[0]]), None);
        assert_eq!(query::<String>(&mut c, &["GET", &k[1]]), "v0");
        let ttl: i64 = query(&mut c, &["TTL", &k[1]]);
        assert!((990..=1000).contains(&ttl), "RENAME keeps the TTL: {ttl}");
        let _: () = query(&mut c, &["SET", &k[2], "v2"]);
        assert_eq!(query::<i64>(&mut c, &["RENAMENX", &k[1], &k[2]]), 0);
        assert_eq!(query::<String>(&mut c, &["GET", &k[2]]), "v2");
        // RENAME over an existing key replaces it and its TTL.
        let _: () = query(&mut c, &["RENAME", &k[2], &k[1]]);
        assert_eq!(query::<String>(&mut c, &["GET", &k[1]]), "v2");
        assert_eq!(query::<i64>(&mut c, &["TTL", &k[1]]), -1);
        assert_eq!(query::<i64>(&mut c, &["RENAMENX", &k[1], &k[0]]), 1);
        assert_eq!(query::<String>(&mut c, &["GET", &k[0]]), "v2");
        let _: () = query(&mut c, &["RENAME", &k[0], &k[0]]);
        assert_eq!(query::<String>(&mut c, &["GET", &k[0]]), "v2");
        assert_eq!(query::<i64>(&mut c, &["RENAMENX", &k[0], &k[0]]), 0);
        let mut r = s.raw();
        assert_eq!(r.err(&["RENAME", "nokey", "x"]), "ERR no such key");
        assert_eq!(r.err(&["RENAMENX", "nokey", "x"]), "ERR no such key");
    });
}

#[test]
fn copy_move_swapdb_select() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("cp", 3);
        let _: () = query(&mut c, &["SET", &k[0], "v", "EX", "1000"]);
        assert_eq!(query::<i64>(&mut c, &["COPY", &k[0], &k[1]]), 1);
        assert_eq!(query::<String>(&mut c, &["GET", &k[1]]), "v");
        assert!(query::<i64>(&mut c, &["TTL", &k[1]]) > 990, "COPY keeps the TTL");
        assert_eq!(query::<i64>(&mut c, &["COPY", &k[0], &k[1]]), 0);
        let _: () = query(&mut c, &["SET", &k[0], "w"]);
        assert_eq!(query::<i64>(&mut c, &["COPY", &k[0], &k[1], "REPLACE"]), 1);
        assert_eq!(query::<String>(&mut c, &["GET", &k[1]]), "w");
        assert_eq!(query::<i64>(&mut c, &["COPY", &k[0], &k[2], "DB", "3"]), 1);
        assert_eq!(query::<i64>(&mut c, &["COPY", "nokey", &k[2]]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", &k[2]]), 0);
        let _: () = query(&mut c, &["SELECT", "3"]);
        assert_eq!(query::<String>(&mut c, &["GET", &k[2]]), "w");
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 1);
        assert_eq!(query::<i64>(&mut c, &["MOVE", &k[2], "0"]), 1);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 0);
        let _: () = query(&mut c, &["SELECT", "0"]);
        assert_eq!(query::<i64>(&mut c, &["MOVE", &k[2], "3"]), 1);
        assert_eq!(query::<i64>(&mut c, &["MOVE", "nokey", "3"]), 0);
        let _: () = query(&mut c, &["SET", &k[2], "again"]);
        let _: () = query(&mut c, &["SELECT", "3"]);
        let _: () = query(&mut c, &["SELECT", "0"]);
        assert_eq!(query::<i64>(&mut c, &["MOVE", &k[2], "3"]), 0, "MOVE fails when the target has the key");
        // SWAPDB is seen by other connections at once.
        let mut other = s.client();
        let _: () = query(&mut other, &["SELECT", "3"]);
        let before: i64 = query(&mut other, &["DBSIZE"]);
        let mine: i64 = query(&mut c, &["DBSIZE"]);
        let _: () = query(&mut c, &["SWAPDB", "0", "3"]);
        assert_eq!(query::<i64>(&mut other, &["DBSIZE"]), mine);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), before);
        let mut r = s.raw();
        assert_eq!(r.err(&["SELECT", "16"]), "ERR DB index is out of range");
        assert_eq!(r.err(&["SELECT", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(r.err(&["MOVE", "a", "0"]), "ERR source and destination objects are the same");
        assert_eq!(r.err(&["COPY", "a", "a"]), "ERR source and destination objects are the same");
        assert_eq!(r.err(&["COPY", "a", "b", "DB", "99"]), "ERR DB index is out of range");
        assert_eq!(r.err(&["SWAPDB", "0", "99"]), "ERR DB index is out of range");
        assert_eq!(r.err(&["SWAPDB", "a", "1"]), "ERR invalid first DB index");
        assert_eq!(r.err(&["SWAPDB", "1", "b"]), "ERR invalid second DB index");
    });
}

#[test]
fn expire_family() {
    each_shards(|s| {
        let mut c = s.client();
        assert_eq!(query::<i64>(&mut c, &["TTL", "k"]), -2);
        assert_eq!(query::<i64>(&mut c, &["PTTL", "k"]), -2);
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "100"]), 0);
        let _: () = query(&mut c, &["SET", "k", "v"]);
        assert_eq!(query::<i64>(&mut c, &["TTL", "k"]), -1);
        assert_eq!(query::<i64>(&mut c, &["EXPIRETIME", "k"]), -1);
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "100", "GT"]), 0, "GT on a key without TTL");
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "100", "XX"]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "100", "NX"]), 1);
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "200", "NX"]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "50", "GT"]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "200", "GT"]), 1);
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "300", "LT"]), 0);
        assert_eq!(query::<i64>(&mut c, &["PEXPIRE", "k", "150000", "LT"]), 1);
        let pttl: i64 = query(&mut c, &["PTTL", "k"]);
        assert!((148_000..=150_000).contains(&pttl), "PTTL {pttl}");
        assert_eq!(query::<i64>(&mut c, &["EXPIREAT", "k", "4102444800"]), 1);
        assert_eq!(query::<i64>(&mut c, &["EXPIRETIME", "k"]), 4102444800);
        assert_eq!(query::<i64>(&mut c, &["PEXPIRETIME", "k"]), 4102444800000);
        assert_eq!(query::<i64>(&mut c, &["PEXPIREAT", "k", "4102444800555"]), 1);
        assert_eq!(query::<i64>(&mut c, &["PEXPIRETIME", "k"]), 4102444800555);
        assert_eq!(query::<i64>(&mut c, &["EXPIRETIME", "k"]), 4102444801, "EXPIRETIME rounds to the nearest second");
        assert_eq!(query::<i64>(&mut c, &["PERSIST", "k"]), 1);
        assert_eq!(query::<i64>(&mut c, &["PERSIST", "k"]), 0);
        assert_eq!(query::<i64>(&mut c, &["PERSIST", "nokey"]), 0);
        assert_eq!(query::<i64>(&mut c, &["TTL", "k"]), -1);
        assert_eq!(query::<i64>(&mut c, &["EXPIRE", "k", "-1"]), 1, "a negative TTL deletes");
        assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]), 0);
        let _: () = query(&mut c, &["SET", "k", "v"]);
        assert_eq!(query::<i64>(&mut c, &["EXPIREAT", "k", "1"]), 1, "a past EXPIREAT deletes");
        assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]), 0);
        let mut r = s.raw();
        let _ = r.call(&["SET", "k", "v"]);
        assert_eq!(
            r.err(&["EXPIRE", "k", "100", "NX", "XX"]),
            "ERR NX and XX, GT or LT options at the same time are not compatible"
        );
        assert_eq!(
            r.err(&["EXPIRE", "k", "100", "GT", "LT"]),
            "ERR GT and LT options at the same time are not compatible"
        );
        assert_eq!(r.err(&["EXPIRE", "k", "100", "FOO"]), "ERR Unsupported option FOO");
        assert_eq!(r.err(&["EXPIRE", "k", "abc"]), "ERR value is not an integer or out of range");
        assert_eq!(r.err(&["EXPIRE", "k", "9223372036854775807"]), "ERR invalid expire time in 'expire' command");
        assert_eq!(r.err(&["PEXPIRE", "k", "9223372036854775807"]), "ERR invalid expire time in 'pexpire' command");
        assert_eq!(r.err(&["EXPIREAT", "k", "9223372036854775807"]), "ERR invalid expire time in 'expireat' command");
    });
}

#[test]
fn lazy_expiry() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("lazy", 3);
        for key in &k {
            let _: () = query(&mut c, &["SET", key, "v", "PX", "50"]);
        }
        let _: () = query(&mut c, &["SET", "stays", "v"]);
        let gone = || {
            let mut c = s.client();
            move || k.iter().all(|key| query::<i64>(&mut c, &["EXISTS", key]) == 0)
        };
        assert!(wait_until(Duration::from_secs(3), gone()), "keys set with PX 50 still exist after 3 s");
        assert_eq!(query::<Option<String>>(&mut c, &["GET", &spread_keys("lazy", 1)[0]]), None);
        assert_eq!(query::<i64>(&mut c, &["TTL", &spread_keys("lazy", 1)[0]]), -2);
        assert_eq!(query::<String>(&mut c, &["GET", "stays"]), "v");
    });
}

#[test]
fn active_expiry_removes_unread_keys() {
    each_shards(|s| {
        let mut c = s.client();
        let mut pipe = redis::pipe();
        for i in 0..300 {
            pipe.cmd("SET").arg(format!("ae:{i}")).arg("v").arg("PX").arg(30).ignore();
        }
        for i in 0..20 {
            pipe.cmd("SET").arg(format!("keep:{i}")).arg("v").ignore();
        }
        let _: () = pipe.query(&mut c).expect("pipeline of SETs");
        // Nobody reads the volatile keys: only active expiry can drop DBSIZE to 20.
        let mut size = 0;
        let ok = wait_until(Duration::from_secs(10), || {
            size = query::<i64>(&mut c, &["DBSIZE"]);
            size == 20
        });
        assert!(ok, "DBSIZE still {size} 10 s after 300 keys expired (active expiry)");
        let info: String = query(&mut c, &["INFO", "stats"]);
        let expired = info_field(&info, "expired_keys").and_then(|v| v.parse::<i64>().ok());
        assert_eq!(expired, Some(300), "INFO stats expired_keys:\n{info}");
    });
}

pub fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|l| l.trim_end().strip_prefix(name)?.strip_prefix(':'))
}

#[test]
fn keys_patterns_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        let names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "other", "{tag}a", "{tag}b"];
        for n in names {
            let _: () = query(&mut c, &["SET", n, "v"]);
        }
        let keys = |c: &mut redis::Connection, p: &str| -> BTreeSet<String> {
            let v: Vec<String> = query(c, &["KEYS", p]);
            let set: BTreeSet<String> = v.iter().cloned().collect();
            assert_eq!(set.len(), v.len(), "KEYS {p} returned duplicates: {v:?}");
            set
        };
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(keys(&mut c, "*"), set(&names));
        assert_eq!(keys(&mut c, "h?llo"), set(&["hello", "hallo", "hxllo", "h*llo", "h?llo"]));
        assert_eq!(keys(&mut c, "h*llo"), set(&["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo"]));
        assert_eq!(keys(&mut c, "h[ae]llo"), set(&["hello", "hallo"]));
        assert_eq!(keys(&mut c, "h[^e]llo"), set(&["hallo", "hxllo", "h*llo", "h?llo"]));
        assert_eq!(keys(&mut c, "h[a-b]llo"), set(&["hallo"]));
        assert_eq!(keys(&mut c, "h\\*llo"), set(&["h*llo"]));
        assert_eq!(keys(&mut c, "{tag}*"), set(&["{tag}a", "{tag}b"]));
        assert_eq!(keys(&mut c, "nomatch*"), set(&[]));
    });
}

#[test]
fn scan_returns_every_key_once() {
    each_shards(|s| {
        let mut c = s.client();
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.cmd("SET").arg(format!("scan:{i}")).arg(i).ignore();
        }
        let _: () = pipe.query(&mut c).expect("1000 SETs");
        for count in ["10", "100", "1000"] {
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut cursor = "0".to_string();
            let mut rounds = 0;
            loop {
                let (next, batch): (String, Vec<String>) = query(&mut c, &["SCAN", &cursor, "COUNT", count]);
                for k in batch {
                    *seen.entry(k).or_default() += 1;
                }
                rounds += 1;
                assert!(rounds < 5000, "SCAN COUNT {count} does not terminate");
                if next == "0" {
                    break;
                }
                cursor = next;
            }
            assert_eq!(seen.len(), 1000, "SCAN COUNT {count} returned {} distinct keys", seen.len());
            let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
            assert!(dups.is_empty(), "SCAN COUNT {count} returned keys more than once: {dups:?}");
        }
        // MATCH and TYPE filter what is returned, not what is visited.
        let mut matched = BTreeSet::new();
        let mut cursor = "0".to_string();
        loop {
            let (next, batch): (String, Vec<String>) =
                query(&mut c, &["SCAN", &cursor, "MATCH", "scan:99*", "TYPE", "string"]);
            matched.extend(batch);
            if next == "0" {
                break;
            }
            cursor = next;
        }
        let want: BTreeSet<String> = [
            "scan:99", "scan:990", "scan:991", "scan:992", "scan:993", "scan:994", "scan:995", "scan:996", "scan:997",
            "scan:998", "scan:999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(matched, want);
        let (next, batch): (String, Vec<String>) = query(&mut c, &["SCAN", "0", "TYPE", "list", "COUNT", "2000"]);
        assert!(batch.is_empty(), "SCAN TYPE list found strings: {batch:?} (cursor {next})");
        let mut r = s.raw();
        assert_eq!(r.err(&["SCAN", "x"]), "ERR invalid cursor");
        assert_eq!(r.err(&["SCAN", "0", "COUNT", "0"]), "ERR syntax error");
        assert_eq!(r.err(&["SCAN", "0", "COUNT", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(r.err(&["SCAN", "0", "FOO", "bar"]), "ERR syntax error");
    });
}

#[test]
fn scan_sees_keys_present_throughout() {
    // Keys that exist for the whole iteration are returned even while others come and go.
    let s = Server::start(3);
    let mut c = s.client();
    let mut w = s.client();
    for i in 0..500 {
        let _: () = query(&mut c, &["SET", &format!("stable:{i}"), "v"]);
    }
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut n = 0;
    loop {
        let (next, batch): (String, Vec<String>) = query(&mut c, &["SCAN", &cursor, "COUNT", "20"]);
        seen.extend(batch.into_iter().filter(|k| k.starts_with("stable:")));
        for _ in 0..10 {
            let _: () = query(&mut w, &["SET", &format!("churn:{n}"), "v"]);
            n += 1;
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 500, "SCAN missed stable keys while others were added");
}

#[test]
fn randomkey_and_dbsize() {
    each_shards(|s| {
        let mut c = s.client();
        assert_eq!(query::<Option<String>>(&mut c, &["RANDOMKEY"]), None);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 0);
        let k = spread_keys("rk", 3);
        for key in &k {
            let _: () = query(&mut c, &["SET", key, "v"]);
        }
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 3);
        let mut seen = BTreeSet::new();
        for _ in 0..300 {
            let got: String = query(&mut c, &["RANDOMKEY"]);
            assert!(k.contains(&got), "RANDOMKEY returned {got:?}");
            seen.insert(got);
        }
        assert_eq!(seen.len(), 3, "300 RANDOMKEY calls only returned {seen:?}");
    });
}

#[test]
fn flushdb_and_flushall() {
    each_shards(|s| {
        let mut c = s.client();
        for key in spread_keys("fl", 6) {
            let _: () = query(&mut c, &["SET", &key, "v"]);
        }
        let _: () = query(&mut c, &["SELECT", "1"]);
        let _: () = query(&mut c, &["SET", "db1key", "v"]);
        let _: () = query(&mut c, &["FLUSHDB"]);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 0);
        let _: () = query(&mut c, &["SET", "db1key", "v"]);
        let _: () = query(&mut c, &["SELECT", "0"]);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 6, "FLUSHDB only empties the selected database");
        let _: () = query(&mut c, &["FLUSHDB", "ASYNC"]);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 0);
        let _: () = query(&mut c, &["SET", "x", "v"]);
        let _: () = query(&mut c, &["FLUSHALL", "SYNC"]);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 0);
        let _: () = query(&mut c, &["SELECT", "1"]);
        assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 0, "FLUSHALL empties every database");
        assert_eq!(s.raw().err(&["FLUSHALL", "FOO"]), "ERR syntax error");
    });
}

#[test]
fn object_subcommands() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["SET", "k", "hello"]);
        let _: () = query(&mut c, &["SET", "n", "1"]);
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "k"]), "embstr");
        assert_eq!(query::<Option<String>>(&mut c, &["OBJECT", "ENCODING", "nokey"]), None);
        assert_eq!(query::<i64>(&mut c, &["OBJECT", "REFCOUNT", "k"]), 1);
        assert_eq!(query::<i64>(&mut c, &["OBJECT", "REFCOUNT", "n"]), 2147483647, "shared small integers");
        let idle: i64 = query(&mut c, &["OBJECT", "IDLETIME", "k"]);
        assert!((0..=2).contains(&idle), "OBJECT IDLETIME {idle}");
        let help: Vec<String> = query(&mut c, &["OBJECT", "HELP"]);
        assert_eq!(
            help.first().map(String::as_str),
            Some("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(help.len(), 15);
        let mut r = s.raw();
        assert!(r.err(&["OBJECT", "FREQ", "k"]).starts_with("ERR An LFU maxmemory policy is not selected"));
    });
}

#[test]
fn dump_and_restore() {
    each_shards(|s| {
        let mut c = s.client();
        let values = ["12345", "hello", &"x".repeat(100), &"abc".repeat(50)];
        for (i, v) in values.iter().enumerate() {
            let key = format!("d{i}");
            let _: () = query(&mut c, &["SET", &key, v]);
            let payload: Vec<u8> = redis::cmd("DUMP").arg(&key).query(&mut c).expect("DUMP");
            let _: () = redis::cmd("RESTORE").arg(format!("r{i}")).arg(0).arg(&payload).query(&mut c).expect("RESTORE");
            assert_eq!(query::<String>(&mut c, &["GET", &format!("r{i}")]), *v);
            let err = redis::cmd("RESTORE").arg(format!("r{i}")).arg(0).arg(&payload).query::<()>(&mut c);
            assert!(err.is_err(), "RESTORE over an existing key must fail");
            let _: () = redis::cmd("RESTORE")
                .arg(format!("r{i}"))
                .arg(100_000)
                .arg(&payload)
                .arg("REPLACE")
                .query(&mut c)
                .expect("RESTORE REPLACE");
            let pttl: i64 = query(&mut c, &["PTTL", &format!("r{i}")]);
            assert!((98_000..=100_000).contains(&pttl), "RESTORE ttl: PTTL {pttl}");
            let _: () = redis::cmd("RESTORE")
                .arg(format!("a{i}"))
                .arg(4102444800000u64)
                .arg(&payload)
                .arg("ABSTTL")
                .query(&mut c)
                .expect("RESTORE ABSTTL");
            assert_eq!(query::<i64>(&mut c, &["PEXPIRETIME", &format!("a{i}")]), 4102444800000);
        }
        assert_eq!(query::<Option<Vec<u8>>>(&mut c, &["DUMP", "nokey"]), None);
        let mut r = s.raw();
        assert_eq!(r.err(&["RESTORE", "bad", "0", "abc"]), "ERR DUMP payload version or checksum are wrong");
        assert_eq!(r.err(&["RESTORE", "d0", "0", "abc"]), "BUSYKEY Target key name already exists.");
    });
}
