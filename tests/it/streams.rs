//! Streams over real sockets: blocking XREAD on 1 and 3 shards (XADD to a
//! stream that exists wakes readers, `$`, non-FIFO waiters, timeouts, CLIENT
//! UNBLOCK, RESP3), DUMP/RESTORE against a real redis-server byte for byte,
//! and AOF replay of XADD with `*` and `~` trims.

use std::thread;
use std::time::Duration;

use redis::Value;

use crate::keys::info_field;
use crate::support::{against_redis, data_dir, each_shards, query, spread_keys, start_redis, wait_until, Server};

pub(crate) fn blocked(s: &Server) -> usize {
    let info: String = query(&mut s.client(), &["INFO", "clients"]);
    info_field(&info, "blocked_clients").and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[track_caller]
pub(crate) fn until_blocked(s: &Server, n: usize) {
    assert!(wait_until(Duration::from_secs(10), || blocked(s) == n), "expected {n} blocked, saw {}", blocked(s));
}

pub(crate) type Waiting = thread::JoinHandle<redis::RedisResult<Value>>;

pub(crate) fn spawn_on(mut con: redis::Connection, args: &[&str]) -> Waiting {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    thread::spawn(move || {
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        cmd.query::<Value>(&mut con)
    })
}

pub(crate) fn bulk(v: &str) -> Value {
    Value::BulkString(v.as_bytes().to_vec())
}

/// `[[key, [[id, [f, v]]...]]]` as XREAD and XREADGROUP reply in RESP2.
pub(crate) fn read_reply(key: &str, entries: &[(&str, &[&str])]) -> Value {
    let es = entries
        .iter()
        .map(|(id, fv)| Value::Array(vec![bulk(id), Value::Array(fv.iter().map(|x| bulk(x)).collect())]))
        .collect();
    Value::Array(vec![Value::Array(vec![bulk(key), Value::Array(es)])])
}

#[test]
fn xadd_wakes_blocked_readers_across_shards() {
    each_shards(|s| {
        let keys = spread_keys("stream", 3);
        let (a, b, c) = (keys[0].as_str(), keys[1].as_str(), keys[2].as_str());
        let mut con = s.client();
        // b exists with an entry before the reader blocks: `$` skips it.
        let _: String = query(&mut con, &["XADD", b, "1-1", "old", "x"]);
        let w = spawn_on(s.client(), &["XREAD", "BLOCK", "0", "STREAMS", a, b, c, "$", "$", "$"]);
        until_blocked(s, 1);
        let _: String = query(&mut con, &["XADD", b, "2-1", "f", "v"]);
        assert_eq!(w.join().unwrap().unwrap(), read_reply(b, &[("2-1", &["f", "v"])]));
        until_blocked(s, 0);

        // Creating the key serves too, with COUNT applied.
        let w = spawn_on(s.client(), &["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", c, "0-0"]);
        until_blocked(s, 1);
        let _: Value = redis::pipe()
            .atomic()
            .cmd("XADD")
            .arg(c)
            .arg("5-1")
            .arg("x")
            .arg("1")
            .cmd("XADD")
            .arg(c)
            .arg("5-2")
            .arg("x")
            .arg("2")
            .query(&mut con)
            .unwrap();
        assert_eq!(w.join().unwrap().unwrap(), read_reply(c, &[("5-1", &["x", "1"])]));

        // A waiter whose ID is past the new entry does not hold up the next.
        let far = spawn_on(s.client(), &["XREAD", "BLOCK", "0", "STREAMS", a, "100-0"]);
        until_blocked(s, 1);
        let near = spawn_on(s.client(), &["XREAD", "BLOCK", "0", "STREAMS", a, "$"]);
        until_blocked(s, 2);
        let _: String = query(&mut con, &["XADD", a, "50-0", "n", "1"]);
        assert_eq!(near.join().unwrap().unwrap(), read_reply(a, &[("50-0", &["n", "1"])]));
        until_blocked(s, 1);
        let _: String = query(&mut con, &["XADD", a, "100-1", "n", "2"]);
        assert_eq!(far.join().unwrap().unwrap(), read_reply(a, &[("100-1", &["n", "2"])]));
        until_blocked(s, 0);
        // Every waiter of one key is served by one XADD.
        let ws: Vec<Waiting> = (0..3)
            .map(|i| {
                let w = spawn_on(s.client(), &["XREAD", "BLOCK", "0", "STREAMS", b, "$"]);
                until_blocked(s, i + 1);
                w
            })
            .collect();
        let _: String = query(&mut con, &["XADD", b, "9-9", "all", "1"]);
        for w in ws {
            assert_eq!(w.join().unwrap().unwrap(), read_reply(b, &[("9-9", &["all", "1"])]));
        }
    });
}

#[test]
fn blocked_reads_time_out_and_unblock() {
    each_shards(|s| {
        let keys = spread_keys("tstream", 2);
        let mut con = s.client();
        let w = spawn_on(s.client(), &["XREAD", "BLOCK", "150", "STREAMS", &keys[0], &keys[1], "$", "$"]);
        assert_eq!(w.join().unwrap().unwrap(), Value::Nil);
        until_blocked(s, 0);

        let mut victim = s.client();
        let id: i64 = query(&mut victim, &["CLIENT", "ID"]);
        let w = spawn_on(victim, &["XREAD", "BLOCK", "0", "STREAMS", &keys[0], "$"]);
        until_blocked(s, 1);
        let n: i64 = query(&mut con, &["CLIENT", "UNBLOCK", &id.to_string(), "ERROR"]);
        assert_eq!(n, 1);
        let err = w.join().unwrap().unwrap_err();
        assert!(err.to_string().contains("UNBLOCKED"), "{err}");

        let mut victim = s.client();
        let id: i64 = query(&mut victim, &["CLIENT", "ID"]);
        let w = spawn_on(victim, &["XREAD", "BLOCK", "0", "STREAMS", &keys[1], "$"]);
        until_blocked(s, 1);
        let n: i64 = query(&mut con, &["CLIENT", "UNBLOCK", &id.to_string()]);
        assert_eq!(n, 1);
        assert_eq!(w.join().unwrap().unwrap(), Value::Nil);
        until_blocked(s, 0);
        // Nothing stays queued: a later XADD has nobody to serve.
        let _: String = query(&mut con, &["XADD", &keys[1], "1-1", "f", "v"]);
        let len: i64 = query(&mut con, &["XLEN", &keys[1]]);
        assert_eq!(len, 1);
    });
}

#[test]
fn served_read_in_resp3_is_a_map() {
    each_shards(|s| {
        let mut raw = s.raw();
        raw.cmd(&["HELLO", "3"]);
        raw.send(&crate::support::resp::encode(&["XREAD", "BLOCK", "0", "STREAMS", "r3", "$"]));
        until_blocked(s, 1);
        let _: String = query(&mut s.client(), &["XADD", "r3", "7-7", "f", "v"]);
        let got = raw.reply_bytes();
        assert_eq!(
            String::from_utf8_lossy(&got),
            "%1\r\n$2\r\nr3\r\n*1\r\n*2\r\n$3\r\n7-7\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        );
    });
}

/// Commands building the same stream on both servers (explicit IDs).
fn build_stream(con: &mut redis::Connection, key: &str) {
    let _: Value = query(con, &["CONFIG", "SET", "stream-node-max-entries", "7"]);
    for i in 1..=40u64 {
        let id = format!("{}-{}", 1_000 + i / 3, i % 3);
        let fields: Vec<String> = match i % 5 {
            0 => vec!["other".into(), format!("{}", i * 1_000_003)],
            1 => vec!["name".into(), format!("value-{i}"), "n".into(), i.to_string()],
            _ => vec!["name".into(), "x".repeat(i as usize * 3), "n".into(), (-(i as i64)).to_string()],
        };
        let mut args = vec!["XADD", key, &id];
        args.extend(fields.iter().map(String::as_str));
        let _: String = query(con, &args);
    }
    let _: i64 = query(con, &["XDEL", key, "1001-0", "1005-1", "1013-1"]);
    let _: i64 = query(con, &["XTRIM", key, "MAXLEN", "33"]);
    let _: i64 = query(con, &["XTRIM", key, "MINID", "~", "1003-0"]);
    let _: Value = query(con, &["CONFIG", "SET", "stream-node-max-entries", "100"]);
}

fn dump(con: &mut redis::Connection, key: &str) -> Vec<u8> {
    query(con, &["DUMP", key])
}

fn entries(con: &mut redis::Connection, key: &str) -> Value {
    query(con, &["XRANGE", key, "-", "+"])
}

#[test]
fn dump_matches_redis_and_restores_both_ways() {
    if against_redis() {
        return;
    }
    let redis = start_redis();
    each_shards(|s| {
        let mut r = redis.client();
        let mut c = s.client();
        let _: Value = query(&mut r, &["FLUSHALL"]);
        build_stream(&mut r, "st");
        build_stream(&mut c, "st");
        let (want, got) = (dump(&mut r, "st"), dump(&mut c, "st"));
        assert_eq!(got, want, "DUMP differs from Redis's");
        // Redis's payload into Tessera, and back.
        restore(&mut c, "copy", &want);
        assert_eq!(entries(&mut c, "copy"), entries(&mut r, "st"));
        assert_eq!(dump(&mut c, "copy"), want);
        restore(&mut r, "back", &got);
        assert_eq!(entries(&mut r, "back"), entries(&mut c, "st"));
        // An empty stream with counters.
        for con in [&mut r, &mut c] {
            let _: String = query(con, &["XADD", "e", "5-5", "f", "v"]);
            let _: i64 = query(con, &["XDEL", "e", "5-5"]);
        }
        assert_eq!(dump(&mut c, "e"), dump(&mut r, "e"));
    });
}

pub(crate) fn restore(con: &mut redis::Connection, key: &str, payload: &[u8]) {
    let _: () = redis::cmd("RESTORE").arg(key).arg(0).arg(payload).query(con).expect("RESTORE");
}

#[test]
fn aof_replay_reproduces_streams() {
    if against_redis() {
        return;
    }
    for shards in [1, 3] {
        let dir = data_dir(&format!("streams-aof-{shards}"));
        let s = Server::start_in(
            shards,
            &dir,
            &["--appendonly", "yes", "--appendfsync", "always", "--stream-node-max-entries", "5"],
        );
        let mut c = s.client();
        let keys = spread_keys("aofstream", 3);
        for (n, k) in keys.iter().enumerate() {
            for i in 0..60 {
                let v = format!("v{i}");
                let _: String = match i % 4 {
                    0 => query(&mut c, &["XADD", k, "MAXLEN", "~", "23", "*", "f", &v]),
                    1 => query(&mut c, &["XADD", k, "MINID", "~", "0-1", "LIMIT", "10", "*", "f", &v, "g", "1"]),
                    2 => query(&mut c, &["XADD", k, &format!("{}-*", 9_000_000_000_000u64 + i), "f", &v]),
                    _ => query(&mut c, &["XADD", k, "*", "h", &v]),
                };
            }
            let _: i64 = query(&mut c, &["XTRIM", k, "MAXLEN", "~", &(10 + n).to_string()]);
            let first: Vec<Value> = query(&mut c, &["XRANGE", k, "-", "+", "COUNT", "2"]);
            if let Some(Value::Array(e)) = first.get(1) {
                if let Some(Value::BulkString(id)) = e.first() {
                    let _: i64 = query(&mut c, &["XDEL", k, std::str::from_utf8(id).unwrap()]);
                }
            }
        }
        let before: Vec<Vec<u8>> = keys.iter().map(|k| dump(&mut c, k)).collect();
        drop(c);
        drop(s);
        let s = Server::start_in(
            shards,
            &dir,
            &["--appendonly", "yes", "--appendfsync", "always", "--stream-node-max-entries", "5"],
        );
        let mut c = s.client();
        let after: Vec<Vec<u8>> = keys.iter().map(|k| dump(&mut c, k)).collect();
        assert_eq!(before, after, "{shards} shards: streams differ after AOF replay");
        // What was logged is deterministic: no `*` ID, no `~`.
        let aof = dir.join("appendonlydir");
        for f in std::fs::read_dir(&aof).unwrap() {
            let p = f.unwrap().path();
            if p.to_string_lossy().contains(".incr.") {
                let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                assert!(!text.contains("\r\n~\r\n") && !text.contains("\r\n*\r\n"), "{}: {text}", p.display());
                assert!(!text.to_ascii_uppercase().contains("LIMIT"), "{}", p.display());
            }
        }
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
