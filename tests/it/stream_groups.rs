//! Stream consumer groups over real sockets: blocking XREADGROUP on 1 and 3
//! shards (woken by XADD, NOACK, timeouts, a group destroyed meanwhile),
//! claim flows (XCLAIM, XAUTOCLAIM with its cursor), XINFO STREAM FULL, and
//! DUMP/RESTORE of streams with groups against a real redis-server both ways.

use redis::Value;

use crate::streams::{bulk, read_reply, restore, spawn_on, until_blocked};
use crate::support::{against_redis, data_dir, each_shards, query, spread_keys, start_redis, Server};

fn pending_count(con: &mut redis::Connection, key: &str, group: &str) -> i64 {
    let v: Value = query(con, &["XPENDING", key, group]);
    match v {
        Value::Array(items) => match items.first() {
            Some(Value::Int(n)) => *n,
            other => panic!("XPENDING summary: {other:?}"),
        },
        other => panic!("XPENDING summary: {other:?}"),
    }
}

#[test]
fn xadd_wakes_blocked_group_readers_across_shards() {
    each_shards(|s| {
        let keys = spread_keys("gs", 3);
        let (a, b, c) = (keys[0].as_str(), keys[1].as_str(), keys[2].as_str());
        let mut con = s.client();
        for k in [a, b, c] {
            let _: String = query(&mut con, &["XGROUP", "CREATE", k, "g", "$", "MKSTREAM"]);
        }
        // Nothing new: the reader blocks on all three.
        let w = spawn_on(
            s.client(),
            &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", a, b, c, ">", ">", ">"],
        );
        until_blocked(s, 1);
        let _: String = query(&mut con, &["XADD", c, "5-1", "f", "v"]);
        assert_eq!(w.join().unwrap().unwrap(), read_reply(c, &[("5-1", &["f", "v"])]));
        // Delivered to alice: pending, and the group moved on.
        assert_eq!(pending_count(&mut con, c, "g"), 1);
        let again: Value = query(&mut con, &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", c, ">"]);
        assert_eq!(again, Value::Nil);
        // NOACK: served, nothing pending.
        let w = spawn_on(
            s.client(),
            &["XREADGROUP", "GROUP", "g", "bob", "NOACK", "BLOCK", "0", "STREAMS", a, b, ">", ">"],
        );
        until_blocked(s, 1);
        let _: String = query(&mut con, &["XADD", b, "7-1", "x", "y"]);
        assert_eq!(w.join().unwrap().unwrap(), read_reply(b, &[("7-1", &["x", "y"])]));
        assert_eq!(pending_count(&mut con, b, "g"), 0);
        // Two readers of one group: one entry goes to one of them only.
        let w1 = spawn_on(s.client(), &["XREADGROUP", "GROUP", "g", "r1", "BLOCK", "0", "STREAMS", a, ">"]);
        until_blocked(s, 1);
        let w2 = spawn_on(s.client(), &["XREADGROUP", "GROUP", "g", "r2", "BLOCK", "300", "STREAMS", a, ">"]);
        until_blocked(s, 2);
        let _: String = query(&mut con, &["XADD", a, "9-1", "k", "v"]);
        let (r1, r2) = (w1.join().unwrap().unwrap(), w2.join().unwrap().unwrap());
        assert_eq!(r1, read_reply(a, &[("9-1", &["k", "v"])]));
        assert_eq!(r2, Value::Nil, "the second reader times out");
        // A timeout with nothing: a null reply.
        let v: Value = query(&mut con, &["XREADGROUP", "GROUP", "g", "r3", "BLOCK", "50", "STREAMS", a, ">"]);
        assert_eq!(v, Value::Nil);
    });
}

#[test]
fn blocked_reader_learns_its_group_is_gone() {
    each_shards(|s| {
        let mut con = s.client();
        let _: String = query(&mut con, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
        let w = spawn_on(s.client(), &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]);
        until_blocked(s, 1);
        let n: i64 = query(&mut con, &["XGROUP", "DESTROY", "s", "g"]);
        assert_eq!(n, 1);
        let err = w.join().unwrap().unwrap_err();
        assert_eq!(err.code(), Some("NOGROUP"), "{err:?}");
        assert!(err.to_string().contains("no longer exists"), "{err}");
    });
}

#[test]
fn claim_flows() {
    each_shards(|s| {
        let mut con = s.client();
        for i in 1..=5 {
            let _: String = query(&mut con, &["XADD", "s", &format!("{i}-1"), "n", &i.to_string()]);
        }
        let _: String = query(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]);
        let _: Value = query(&mut con, &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
        // Too recent for a one-hour idle claim.
        let v: Value = query(&mut con, &["XCLAIM", "s", "g", "bob", "3600000", "1-1"]);
        assert_eq!(v, Value::Array(vec![]));
        // Made idle with IDLE, then claimed: count 2, owner bob.
        let _: Value = query(&mut con, &["XCLAIM", "s", "g", "alice", "0", "1-1", "IDLE", "7200000", "JUSTID"]);
        let v: Value = query(&mut con, &["XCLAIM", "s", "g", "bob", "3600000", "1-1"]);
        assert_eq!(v, Value::Array(vec![Value::Array(vec![bulk("1-1"), Value::Array(vec![bulk("n"), bulk("1")])])]));
        let v: Value = query(&mut con, &["XPENDING", "s", "g", "-", "+", "10", "bob"]);
        let Value::Array(rows) = v else { panic!() };
        assert_eq!(rows.len(), 1);
        let Value::Array(row) = &rows[0] else { panic!() };
        assert_eq!(row[1], bulk("bob"));
        assert_eq!(row[3], Value::Int(2));
        // XAUTOCLAIM walks the PEL with its cursor, two at a time.
        let mut cursor = "0".to_string();
        let mut got = Vec::new();
        for _ in 0..10 {
            let v: Value = query(&mut con, &["XAUTOCLAIM", "s", "g", "carol", "0", &cursor, "COUNT", "2", "JUSTID"]);
            let Value::Array(parts) = v else { panic!() };
            let Value::BulkString(next) = &parts[0] else { panic!() };
            let Value::Array(ids) = &parts[1] else { panic!() };
            got.extend(ids.iter().cloned());
            cursor = String::from_utf8(next.clone()).unwrap();
            if cursor == "0-0" {
                break;
            }
        }
        assert_eq!(got, ["1-1", "2-1", "3-1", "4-1", "5-1"].map(bulk).to_vec());
        assert_eq!(pending_count(&mut con, "s", "g"), 5);
        // Deleted entries leave the PEL when met.
        let _: i64 = query(&mut con, &["XDEL", "s", "2-1", "3-1"]);
        let v: Value = query(&mut con, &["XAUTOCLAIM", "s", "g", "dave", "0", "0", "JUSTID"]);
        assert_eq!(
            v,
            Value::Array(vec![
                bulk("0-0"),
                Value::Array(["1-1", "4-1", "5-1"].map(bulk).to_vec()),
                Value::Array(["2-1", "3-1"].map(bulk).to_vec()),
            ])
        );
        assert_eq!(pending_count(&mut con, "s", "g"), 3);
        // XACK removes them for good.
        let n: i64 = query(&mut con, &["XACK", "s", "g", "1-1", "4-1", "5-1", "5-1"]);
        assert_eq!(n, 3);
        assert_eq!(pending_count(&mut con, "s", "g"), 0);
    });
}

/// The value of `field` in a RESP2 map reply (a flat array).
fn field<'a>(map: &'a Value, name: &str) -> &'a Value {
    let Value::Array(items) = map else { panic!("not a map: {map:?}") };
    items.chunks(2).find(|kv| kv[0] == bulk(name)).map(|kv| &kv[1]).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn xinfo_stream_full() {
    each_shards(|s| {
        let mut con = s.client();
        for i in 1..=3 {
            let _: String = query(&mut con, &["XADD", "s", &format!("{i}-1"), "n", &i.to_string()]);
        }
        let _: String = query(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]);
        let _: Value = query(&mut con, &["XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"]);
        let _: Value = query(&mut con, &["XCLAIM", "s", "g", "c", "0", "1-1", "2-1", "TIME", "1000", "JUSTID"]);
        let info: Value = query(&mut con, &["XINFO", "STREAM", "s", "FULL"]);
        assert_eq!(field(&info, "length"), &Value::Int(3));
        assert_eq!(field(&info, "entries-added"), &Value::Int(3));
        let Value::Array(groups) = field(&info, "groups") else { panic!() };
        let g = &groups[0];
        assert_eq!(field(g, "name"), &bulk("g"));
        assert_eq!(field(g, "last-delivered-id"), &bulk("2-1"));
        assert_eq!(field(g, "entries-read"), &Value::Int(2));
        assert_eq!(field(g, "lag"), &Value::Int(1));
        assert_eq!(field(g, "pel-count"), &Value::Int(2));
        assert_eq!(
            field(g, "pending"),
            &Value::Array(vec![
                Value::Array(vec![bulk("1-1"), bulk("c"), Value::Int(1000), Value::Int(1)]),
                Value::Array(vec![bulk("2-1"), bulk("c"), Value::Int(1000), Value::Int(1)]),
            ])
        );
        let Value::Array(consumers) = field(g, "consumers") else { panic!() };
        assert_eq!(field(&consumers[0], "name"), &bulk("c"));
        assert_eq!(field(&consumers[0], "pel-count"), &Value::Int(2));
        let Value::Array(own) = field(&consumers[0], "pending") else { panic!() };
        assert_eq!(own[0], Value::Array(vec![bulk("1-1"), Value::Int(1000), Value::Int(1)]));
        // COUNT limits the entries and both pending lists.
        let info: Value = query(&mut con, &["XINFO", "STREAM", "s", "FULL", "COUNT", "1"]);
        let Value::Array(entries) = field(&info, "entries") else { panic!() };
        assert_eq!(entries.len(), 1);
        let Value::Array(groups) = field(&info, "groups") else { panic!() };
        let Value::Array(pel) = field(&groups[0], "pending") else { panic!() };
        assert_eq!(pel.len(), 1);
    });
}

/// Builds the same stream with groups on either server: delivery times are
/// set with XCLAIM ... TIME so they do not depend on the clock.
fn build_groups(con: &mut redis::Connection, key: &str) {
    for i in 1..=6 {
        let _: String = query(con, &["XADD", key, &format!("{i}-1"), "field", &format!("value-{i}")]);
    }
    let _: String = query(con, &["XGROUP", "CREATE", key, "g1", "0"]);
    let _: String = query(con, &["XGROUP", "CREATE", key, "g0", "$", "ENTRIESREAD", "6"]);
    let _: String = query(con, &["XGROUP", "CREATE", key, "g2", "3-1"]);
    let _: Value = query(con, &["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", key, ">"]);
    let _: Value = query(con, &["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", key, ">"]);
    let _: Value = query(
        con,
        &["XCLAIM", key, "g1", "alice", "0", "1-1", "2-1", "3-1", "TIME", "1000", "RETRYCOUNT", "3", "JUSTID"],
    );
    let _: Value = query(con, &["XCLAIM", key, "g1", "bob", "0", "4-1", "5-1", "TIME", "2000", "JUSTID"]);
    let _: i64 = query(con, &["XGROUP", "CREATECONSUMER", key, "g2", "idle"]);
    let _: i64 = query(con, &["XDEL", key, "2-1"]);
}

/// XPENDING rows without the idle time (the clock's).
fn pending_rows(con: &mut redis::Connection, key: &str, group: &str) -> Vec<Value> {
    let v: Value = query(con, &["XPENDING", key, group, "-", "+", "100"]);
    let Value::Array(rows) = v else { panic!() };
    rows.into_iter()
        .map(|r| match r {
            Value::Array(mut f) => {
                f.remove(2);
                Value::Array(f)
            }
            other => other,
        })
        .collect()
}

#[test]
fn dump_restore_with_groups_against_redis() {
    if against_redis() {
        return;
    }
    let redis = start_redis();
    each_shards(|s| {
        let mut r = redis.client();
        let mut c = s.client();
        let _: Value = query(&mut r, &["FLUSHALL"]);
        build_groups(&mut r, "st");
        build_groups(&mut c, "st");
        // Redis's payload into Tessera: the same groups, times and all.
        let theirs: Vec<u8> = query(&mut r, &["DUMP", "st"]);
        restore(&mut c, "copy", &theirs);
        let want: Value = query(&mut r, &["XINFO", "STREAM", "st", "FULL"]);
        let got: Value = query(&mut c, &["XINFO", "STREAM", "copy", "FULL"]);
        assert_eq!(got, want, "XINFO STREAM FULL of Redis's stream restored in Tessera");
        let want: Value = query(&mut r, &["XINFO", "GROUPS", "st"]);
        let got: Value = query(&mut c, &["XINFO", "GROUPS", "copy"]);
        assert_eq!(got, want);
        for g in ["g0", "g1", "g2"] {
            assert_eq!(pending_rows(&mut c, "copy", g), pending_rows(&mut r, "st", g));
            let want: Value = query(&mut r, &["XPENDING", "st", g]);
            let got: Value = query(&mut c, &["XPENDING", "copy", g]);
            assert_eq!(got, want);
        }
        // Tessera's payload is byte for byte Redis's re-dump of it.
        let ours: Vec<u8> = query(&mut c, &["DUMP", "copy"]);
        assert_eq!(ours, theirs, "DUMP of the restored stream differs from Redis's");
        // Tessera's own stream into Redis.
        let ours: Vec<u8> = query(&mut c, &["DUMP", "st"]);
        let _: Value = query(&mut r, &["DEL", "back"]);
        restore(&mut r, "back", &ours);
        let want: Value = query(&mut c, &["XINFO", "STREAM", "st", "FULL"]);
        let got: Value = query(&mut r, &["XINFO", "STREAM", "back", "FULL"]);
        assert_eq!(got, want, "XINFO STREAM FULL of Tessera's stream restored in Redis");
        for g in ["g0", "g1", "g2"] {
            assert_eq!(pending_rows(&mut r, "back", g), pending_rows(&mut c, "st", g));
        }
        let _: Value = query(&mut c, &["FLUSHALL"]);
    });
}

const AOF_ALWAYS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

#[test]
fn aof_replay_reproduces_groups() {
    if against_redis() {
        return;
    }
    for shards in [1, 3] {
        let dir = data_dir(&format!("stream-groups-aof-{shards}"));
        let s = Server::start_in(shards, &dir, AOF_ALWAYS);
        let mut c = s.client();
        let keys = spread_keys("aofgroups", 3);
        for k in &keys {
            for i in 1..=6 {
                let _: String = query(&mut c, &["XADD", k, &format!("{i}-1"), "f", &i.to_string()]);
            }
            let _: String = query(&mut c, &["XGROUP", "CREATE", k, "g", "0"]);
            let _: String = query(&mut c, &["XGROUP", "CREATE", k, "g2", "$", "ENTRIESREAD", "6"]);
            let _: Value = query(&mut c, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", k, ">"]);
            let _: Value =
                query(&mut c, &["XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "1", "STREAMS", k, ">"]);
            let _: Value = query(&mut c, &["XCLAIM", k, "g", "carol", "0", "1-1", "IDLE", "5000"]);
            let _: i64 = query(&mut c, &["XACK", k, "g", "2-1"]);
            let _: i64 = query(&mut c, &["XDEL", k, "3-1"]);
            let _: Value = query(&mut c, &["XAUTOCLAIM", k, "g", "dave", "0", "0"]);
            let _: String = query(&mut c, &["XGROUP", "SETID", k, "g2", "4-1"]);
            let _: Value = query(&mut c, &["XREADGROUP", "GROUP", "g2", "erin", "STREAMS", k, ">"]);
            let _: Value = query(&mut c, &["XREADGROUP", "GROUP", "g2", "erin", "STREAMS", k, "0"]);
        }
        // One read over keys of every shard.
        let mut args = vec!["XREADGROUP", "GROUP", "g", "frank", "STREAMS"];
        args.extend(keys.iter().map(String::as_str));
        args.extend([">", ">", ">"]);
        let _: Value = query(&mut c, &args);
        // XREADGROUP is logged as Redis propagates it (XCLAIMs and XGROUP
        // SETID), so consumers replayed have the replay's seen-time; all
        // else (entries, groups, read counters, pending entries with their
        // delivery times and counts) is the same.
        drop(c);
        assert_replays(s, shards, &dir, &keys, "groups differ after AOF replay");
    }
}

/// Restarts `s` (whose files are in `dir`) and checks that every stream
/// of `keys` replays to the same XINFO STREAM FULL, consumers' seen-time
/// aside; then removes `dir`.
fn assert_replays(s: Server, shards: usize, dir: &std::path::Path, keys: &[String], what: &str) {
    let state = |c: &mut redis::Connection| -> Vec<Value> {
        keys.iter().map(|k| without_seen_time(query(c, &["XINFO", "STREAM", k, "FULL"]))).collect()
    };
    let before = state(&mut s.client());
    drop(s);
    let s = Server::start_in(shards, dir, AOF_ALWAYS);
    assert_eq!(state(&mut s.client()), before, "{shards} shards: {what}");
    drop(s);
    let _ = std::fs::remove_dir_all(dir);
}

/// XINFO STREAM FULL's reply with every consumer's seen-time blanked.
fn without_seen_time(v: Value) -> Value {
    match v {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut blank = false;
            for item in items {
                out.push(if blank { Value::Nil } else { without_seen_time(item.clone()) });
                blank = matches!(&item, Value::BulkString(b) if b == b"seen-time");
            }
            Value::Array(out)
        }
        v => v,
    }
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Reading from a large stream logs what the read changed, not the stream:
/// 50 reads of one entry each from a stream of ~260 KB add a few KB to the
/// append-only file (logging the stream's state each time would add 13 MB).
#[test]
fn aof_logs_group_reads_not_the_stream() {
    if against_redis() {
        return;
    }
    let dir = data_dir("stream-groups-aof-size");
    let s = Server::start_in(1, &dir, AOF_ALWAYS);
    let mut c = s.client();
    let value = "v".repeat(100);
    for chunk in 0..20 {
        let mut p = redis::pipe();
        for i in 0..100 {
            p.cmd("XADD").arg("big").arg(format!("{}-1", chunk * 100 + i + 1)).arg("f").arg(&value).ignore();
        }
        let () = p.query(&mut c).unwrap();
    }
    let _: String = query(&mut c, &["XGROUP", "CREATE", "big", "g", "0"]);
    let before = dir_bytes(&dir);
    for i in 0..50 {
        let consumer = format!("c{}", i % 3);
        let _: Value = query(&mut c, &["XREADGROUP", "GROUP", "g", &consumer, "COUNT", "1", "STREAMS", "big", ">"]);
    }
    let _: Value = query(&mut c, &["XREADGROUP", "GROUP", "g", "c0", "STREAMS", "big", "0"]);
    let grown = dir_bytes(&dir) - before;
    assert!(grown < 40_000, "the append-only file grew by {grown} bytes");
    let want = without_seen_time(query(&mut c, &["XINFO", "STREAM", "big", "FULL"]));
    drop(c);
    drop(s);
    let s = Server::start_in(1, &dir, AOF_ALWAYS);
    let mut c = s.client();
    assert_eq!(without_seen_time(query(&mut c, &["XINFO", "STREAM", "big", "FULL"])), want);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Random consumer-group traffic (reads new and old entries, NOACK, claims
/// of every form, acks, deletions, trims, ID changes, some of it inside
/// MULTI) with the append-only file on: after a restart every stream
/// replays to the same XINFO STREAM FULL (consumers' seen-time aside).
#[test]
fn aof_replay_of_random_group_traffic() {
    if against_redis() {
        return;
    }
    use crate::differential::Rng;
    for (shards, seed) in [(1, 11u64), (3, 12)] {
        let dir = data_dir(&format!("stream-groups-aof-random-{shards}"));
        let s = Server::start_in(shards, &dir, AOF_ALWAYS);
        let mut c = s.client();
        let keys = spread_keys("aofrandom", 3);
        let mut rng = Rng::new(seed);
        let mut next_ms = 1u64;
        for k in &keys {
            let _: String = query(&mut c, &["XGROUP", "CREATE", k, "g", "0", "MKSTREAM"]);
            let _: String = query(&mut c, &["XGROUP", "CREATE", k, "h", "$"]);
        }
        for _ in 0..600 {
            let k = &keys[rng.below(keys.len())];
            let group = rng.pick(&["g", "g", "h"]);
            let consumer = rng.pick(&["alice", "bob", "carol"]);
            let id = format!("{}-1", rng.range(1, next_ms as i64));
            let count = rng.range(1, 4).to_string();
            let cmd: Vec<String> = match rng.below(11) {
                0..=2 => {
                    next_ms += 1;
                    vec!["XADD".into(), k.clone(), format!("{next_ms}-1"), "f".into(), next_ms.to_string()]
                }
                3 | 4 => {
                    let mut v: Vec<String> = vec!["XREADGROUP", "GROUP", group, consumer, "COUNT", &count]
                        .into_iter()
                        .map(String::from)
                        .collect();
                    if rng.chance(25) {
                        v.push("NOACK".into());
                    }
                    v.extend(["STREAMS".into(), k.clone(), rng.pick(&[">", ">", "0"]).into()]);
                    v
                }
                5 => vec!["XACK".into(), k.clone(), group.into(), id],
                6 => {
                    let mut v = vec!["XCLAIM".into(), k.clone(), group.into(), consumer.into(), "0".into(), id];
                    for opt in [&["IDLE", "100"][..], &["RETRYCOUNT", "7"], &["FORCE"], &["JUSTID"], &["LASTID", "3-1"]]
                    {
                        if rng.chance(30) {
                            v.extend(opt.iter().map(|s| s.to_string()));
                        }
                    }
                    v
                }
                7 => vec![
                    "XAUTOCLAIM".into(),
                    k.clone(),
                    group.into(),
                    consumer.into(),
                    "0".into(),
                    "0".into(),
                    "COUNT".into(),
                    count,
                ],
                8 => vec!["XDEL".into(), k.clone(), id],
                9 => match rng.below(3) {
                    0 => vec!["XGROUP".into(), "SETID".into(), k.clone(), group.into(), id],
                    1 => vec!["XGROUP".into(), "DELCONSUMER".into(), k.clone(), group.into(), consumer.into()],
                    _ => vec!["XTRIM".into(), k.clone(), "MAXLEN".into(), "20".into()],
                },
                _ => vec!["XGROUP".into(), "CREATECONSUMER".into(), k.clone(), group.into(), consumer.into()],
            };
            let mut command = redis::cmd(&cmd[0]);
            for a in &cmd[1..] {
                command.arg(a);
            }
            if rng.chance(15) {
                // The same command inside a transaction, after a read-group.
                let mut p = redis::pipe();
                p.atomic().add_command(command).ignore();
                p.cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg("g")
                    .arg("dave")
                    .arg("COUNT")
                    .arg(1)
                    .arg("STREAMS")
                    .arg(k)
                    .arg(">");
                let _: redis::RedisResult<Value> = p.query(&mut c);
            } else {
                let _: redis::RedisResult<Value> = command.query(&mut c);
            }
        }
        drop(c);
        assert_replays(s, shards, &dir, &keys, "random group traffic replayed differently");
    }
}
