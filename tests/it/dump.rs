//! DUMP/RESTORE of lists, hashes, sets and sorted sets between redis-server
//! 7.0 and Tessera (1 and 3 shards), both ways: the same contents and
//! encodings, byte-identical payloads where Redis's are deterministic, TTL
//! and REPLACE options, bad payloads, and a RESTORE waking a blocked client.

use std::time::Duration;

use crate::support::{against_redis, encode, start_redis, wait_until, Reply, Server};

/// A raw command with binary arguments.
fn call(c: &mut redis::Connection, args: &[&[u8]]) -> redis::Value {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap_or("?"));
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap_or_else(|e| redis::Value::SimpleString(format!("error: {e}")))
}

fn bulks(v: redis::Value) -> Vec<Vec<u8>> {
    match v {
        redis::Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                redis::Value::BulkString(b) => b,
                other => format!("{other:?}").into_bytes(),
            })
            .collect(),
        other => vec![format!("{other:?}").into_bytes()],
    }
}

/// A key's type and contents: lists in order, sorted sets in order with
/// scores, hashes and sets sorted.
fn contents(c: &mut redis::Connection, key: &str) -> (String, Vec<Vec<u8>>) {
    let k = key.as_bytes();
    let t: String = redis::cmd("TYPE").arg(key).query(c).unwrap_or_default();
    let mut items = match t.as_str() {
        "list" => return (t, bulks(call(c, &[b"LRANGE", k, b"0", b"-1"]))),
        "zset" => return (t, bulks(call(c, &[b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"]))),
        "hash" => bulks(call(c, &[b"HGETALL", k])).chunks(2).map(|p| p.concat()).collect(),
        "set" => bulks(call(c, &[b"SMEMBERS", k])),
        _ => vec![],
    };
    items.sort();
    (t, items)
}

fn encoding(c: &mut redis::Connection, key: &str) -> String {
    redis::cmd("OBJECT").arg("ENCODING").arg(key).query(c).unwrap_or_default()
}

fn dump(c: &mut redis::Connection, key: &str) -> Vec<u8> {
    match call(c, &[b"DUMP", key.as_bytes()]) {
        redis::Value::BulkString(p) => p,
        other => panic!("DUMP {key}: {other:?}"),
    }
}

fn restore(c: &mut redis::Connection, key: &str, payload: &[u8], extra: &[&str]) -> redis::Value {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), b"0", payload];
    args.extend(extra.iter().map(|e| e.as_bytes()));
    call(c, &args)
}

fn ok() -> redis::Value {
    redis::Value::Okay
}

/// The values: (key, commands that build it, whether Redis's DUMP of it is
/// deterministic, so that Tessera's must be the same bytes).
fn fixtures() -> Vec<(String, Vec<Vec<String>>, bool)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let with = |head: &[&str], tail: Vec<String>| [s(head), tail].concat();
    let n = |count: usize, f: &dyn Fn(usize) -> String| (0..count).map(f).collect::<Vec<String>>();
    let pairs = |count: usize, f: &dyn Fn(usize) -> (String, String)| {
        (0..count)
            .flat_map(|i| {
                let (a, b) = f(i);
                [a, b]
            })
            .collect::<Vec<String>>()
    };
    vec![
        (
            "list-small".into(),
            vec![s(&["RPUSH", "list-small", "a", "1", "-1", "200", "", "007", "-9223372036854775808"])],
            true,
        ),
        (
            "list-ints".into(),
            vec![with(&["RPUSH", "list-ints"], n(300, &|i| (i as i64 * 7919 - 1_000_000).to_string()))],
            true,
        ),
        ("list-big".into(), vec![with(&["RPUSH", "list-big"], n(5000, &|i| format!("element-{i}")))], true),
        (
            "list-long-elements".into(),
            vec![with(&["RPUSH", "list-long-elements"], n(40, &|i| "x".repeat(i * 500)))],
            true,
        ),
        ("list-pushed-left".into(), vec![with(&["LPUSH", "list-pushed-left"], n(3000, &|i| format!("v{i}")))], false),
        (
            "hash-small".into(),
            vec![with(&["HSET", "hash-small"], pairs(20, &|i| (format!("f{i}"), (i * 37).to_string())))],
            true,
        ),
        (
            "hash-big".into(),
            vec![with(&["HSET", "hash-big"], pairs(1000, &|i| (format!("field:{i}"), format!("value:{i}"))))],
            false,
        ),
        ("hash-long-value".into(), vec![s(&["HSET", "hash-long-value", "f", &"v".repeat(100), "g", "1"])], false),
        ("set-ints".into(), vec![s(&["SADD", "set-ints", "5", "-3", "100000", "70000", "0"])], true),
        ("set-int64".into(), vec![s(&["SADD", "set-int64", "1", "-5000000000", "9223372036854775807"])], true),
        ("set-many-ints".into(), vec![with(&["SADD", "set-many-ints"], n(600, &|i| (i * 3).to_string()))], false),
        ("set-one-string".into(), vec![s(&["SADD", "set-one-string", "member"])], true),
        ("set-strings".into(), vec![with(&["SADD", "set-strings"], n(200, &|i| format!("m{i}")))], false),
        (
            "zset-small".into(),
            vec![s(&[
                "ZADD",
                "zset-small",
                "0.1",
                "a",
                "1",
                "b",
                "-2.5",
                "c",
                "1e20",
                "d",
                "inf",
                "e",
                "-inf",
                "f",
                "3",
                "7",
            ])],
            true,
        ),
        (
            "zset-big".into(),
            vec![with(&["ZADD", "zset-big"], pairs(500, &|i| ((i % 50).to_string() + ".5", format!("m{i}"))))],
            true,
        ),
        (
            "zset-integral-scores".into(),
            vec![s(&[
                "ZADD",
                "zset-integral-scores",
                "1e17",
                "a",
                "4.7e18",
                "b",
                "-0",
                "c",
                "5e18",
                "d",
                "123456789012345678",
                "e",
            ])],
            true,
        ),
        ("zset-long-member".into(), vec![s(&["ZADD", "zset-long-member", "1", &"m".repeat(80), "2", "short"])], true),
    ]
}

fn setup(c: &mut redis::Connection, cmds: &[Vec<String>]) {
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        if let redis::Value::SimpleString(e) = call(c, &args) {
            panic!("{cmd:?}: {e}");
        }
    }
}

#[test]
fn collections_move_between_redis_and_tessera() {
    let redis = start_redis();
    let mut r = redis.client();
    let fx = fixtures();
    for (_, cmds, _) in &fx {
        setup(&mut r, cmds);
    }
    // Redis 7.0 has no packed set of strings: compare encodings with none.
    for shards in [1, 3] {
        let t = Server::start_with(shards, if against_redis() { &[] } else { &["--set-max-listpack-entries", "0"] });
        let mut c = t.client();
        for (key, cmds, deterministic) in &fx {
            setup(&mut c, cmds);
            let want = contents(&mut r, key);
            assert_eq!(contents(&mut c, key), want, "{key} built on {shards} shards");
            let from_redis = dump(&mut r, key);
            let from_tessera = dump(&mut c, key);
            if *deterministic {
                assert!(from_tessera == from_redis, "DUMP {key} differs from Redis's ({shards} shards)");
            }
            // Redis -> Tessera, into a key on any shard.
            let copy = format!("{key}:from-redis");
            assert_eq!(restore(&mut c, &copy, &from_redis, &[]), ok(), "RESTORE {copy} ({shards} shards)");
            assert_eq!(contents(&mut c, &copy), want, "{copy} ({shards} shards)");
            // Lists: Redis 7.0 says quicklist for every list, Tessera listpack for small ones.
            if !key.starts_with("list") {
                assert_eq!(encoding(&mut c, &copy), encoding(&mut r, key), "encoding of {copy}");
            }
            // Tessera -> Redis.
            let back = format!("{key}:from-tessera-{shards}");
            assert_eq!(restore(&mut r, &back, &from_tessera, &[]), ok(), "RESTORE {back} into Redis");
            assert_eq!(contents(&mut r, &back), want, "{back}");
            assert_eq!(encoding(&mut r, &back), encoding(&mut r, key), "encoding of {back}");
        }
    }
}

#[test]
fn restore_options_with_collections() {
    crate::support::each_shards(|s| {
        let mut c = s.client();
        setup(&mut c, &[vec!["RPUSH".into(), "l".into(), "a".into(), "b".into()]]);
        let p = dump(&mut c, "l");
        let mut raw = s.raw();
        assert_eq!(raw.err(&[&b"RESTORE"[..], b"l", b"0", &p]), "BUSYKEY Target key name already exists.");
        assert_eq!(restore(&mut c, "l", &p, &["REPLACE"]), ok());
        let mut args: Vec<&[u8]> = vec![b"RESTORE", b"t", b"100000", &p, b"IDLETIME", b"50"];
        assert_eq!(call(&mut c, &args), ok());
        let ttl: i64 = redis::cmd("PTTL").arg("t").query(&mut c).unwrap_or(-9);
        assert!((90_000..=100_000).contains(&ttl), "PTTL {ttl}");
        let idle: i64 = redis::cmd("OBJECT").arg("IDLETIME").arg("t").query(&mut c).unwrap_or(-1);
        assert!((50..60).contains(&idle), "IDLETIME {idle}");
        // An absolute time in the past: nothing is created, an old key is replaced away.
        args = vec![b"RESTORE", b"t", b"1000", &p, b"ABSTTL", b"REPLACE"];
        assert_eq!(call(&mut c, &args), ok());
        assert_eq!(redis::cmd("EXISTS").arg("t").query::<i64>(&mut c).ok(), Some(0));
        assert_eq!(contents(&mut c, "l").1, vec![b"a".to_vec(), b"b".to_vec()]);
    });
}

/// Recomputes the footer of a payload whose body was changed.
fn refooter(body: &[u8]) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn bad_collection_payloads() {
    crate::support::each_shards(|s| {
        let mut c = s.raw();
        let bad = "ERR Bad data format";
        let restore =
            |c: &mut crate::support::Raw, key: &str, p: &[u8]| c.err(&[&b"RESTORE"[..], key.as_bytes(), b"0", p]);
        c.cmd(&["RPUSH", "l", "a", "b"]);
        let Reply::Bulk(p) = c.call(&["DUMP", "l"]) else { panic!("DUMP l") };
        let mut flipped = p.clone();
        let n = flipped.len();
        flipped[n - 3] ^= 1;
        assert_eq!(restore(&mut c, "x", &flipped), "ERR DUMP payload version or checksum are wrong");
        // A listpack whose size field disagrees with its length (Redis checks
        // that much of every listpack).
        let mut body = p[..p.len() - 10].to_vec();
        assert_eq!(body[..5], *b"\x12\x01\x02\x0d\x0d", "one 13-byte listpack node");
        body[4] = 0x0c;
        assert_eq!(restore(&mut c, "x", &refooter(&body)), bad);
        // A quicklist without nodes, a set member twice, a type Tessera does not know.
        assert_eq!(restore(&mut c, "x", &refooter(b"\x12\x00")), bad);
        assert_eq!(restore(&mut c, "x", &refooter(b"\x02\x02\x01a\x01a")), bad);
        assert_eq!(restore(&mut c, "x", &refooter(b"\x14\x01\x01a")), bad);
        assert_eq!(c.call(&["EXISTS", "x"]), Reply::Int(0));
    });
}

#[test]
fn restore_wakes_a_blocked_client() {
    crate::support::each_shards(|s| {
        let mut c = s.client();
        setup(&mut c, &[vec!["RPUSH".into(), "src".into(), "x".into(), "y".into()]]);
        let p = dump(&mut c, "src");
        let mut blocked = s.raw();
        blocked.send(&encode(&["BLPOP", "woken", "10"]));
        assert!(wait_until(Duration::from_secs(5), || {
            let info: String = redis::cmd("INFO").arg("clients").query(&mut c).unwrap_or_default();
            info.contains("blocked_clients:1")
        }));
        assert_eq!(restore(&mut c, "woken", &p, &[]), ok());
        assert_eq!(blocked.reply(), Reply::Array(vec![Reply::Bulk(b"woken".to_vec()), Reply::Bulk(b"x".to_vec())]));
        assert_eq!(contents(&mut c, "woken").1, vec![b"y".to_vec()]);
    });
}

/// Lists are cut into quicklist nodes where Redis cuts them, whatever
/// `list-max-listpack-size` says (by bytes or by count).
#[test]
fn list_nodes_follow_the_configured_size() {
    let redis = start_redis();
    let mut r = redis.client();
    let t = Server::start(3);
    let mut c = t.client();
    let items: Vec<String> = (0..3000)
        .map(|i| if i % 5 == 0 { i.to_string() } else { format!("item:{i}:{}", "p".repeat(i % 90)) })
        .collect();
    for (n, size) in ["-1", "-3", "-5", "3", "100", "0"].iter().enumerate() {
        let key = format!("nodes{n}");
        for conn in [&mut r, &mut c] {
            let _: () =
                redis::cmd("CONFIG").arg("SET").arg("list-max-listpack-size").arg(*size).query(conn).unwrap_or(());
            let _: i64 = redis::cmd("RPUSH").arg(&key).arg(&items).query(conn).unwrap_or(0);
        }
        assert!(
            dump(&mut c, &key) == dump(&mut r, &key),
            "DUMP with list-max-listpack-size {size} differs from Redis's"
        );
    }
}
