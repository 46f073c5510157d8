//! RDB import: a real redis-server fills every type and encoding it has,
//! saves, and `tessera::persist::rdb::load_values` must read back every key,
//! value, expiry and database Redis answers with.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tessera::persist::rdb::{load_values, RdbValue, Summary};
use tessera::types::{Limits, Value};

use crate::support::{against_redis, free_port, query, redis_server_path, scratch_dir, wait_until, Server};

/// A redis-server with its own data directory (so SAVE writes where this
/// test reads), killed and cleaned up on drop.
struct RedisDir {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisDir {
    fn start() -> RedisDir {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let dir = scratch_dir().join(format!("rdb-import-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("create redis dir");
            let log = dir.join("redis.log");
            let child = Command::new(redis_server_path())
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--daemonize", "no", "--protected-mode", "no", "--enable-debug-command", "yes"])
                .args(["--dbfilename", "dump.rdb", "--logfile"])
                .arg(&log)
                .arg("--dir")
                .arg(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            let mut r = RedisDir { child, port, dir };
            let up = wait_until(Duration::from_secs(20), || {
                TcpStream::connect(("127.0.0.1", port)).is_ok() || matches!(r.child.try_wait(), Ok(Some(_)))
            });
            if up && matches!(r.child.try_wait(), Ok(None)) {
                return r;
            }
            last = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("redis-server did not start: {last}");
    }

    fn client(&self) -> redis::Connection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("redis url");
        let con = c.get_connection_with_timeout(Duration::from_secs(10)).expect("connect to redis-server");
        con.set_read_timeout(Some(Duration::from_secs(60))).expect("set_read_timeout");
        con
    }

    fn rdb_path(&self) -> PathBuf {
        self.dir.join("dump.rdb")
    }
}

impl Drop for RedisDir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A value in a form both sides can be compared in.
#[derive(Debug, Clone, PartialEq)]
enum View {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    ZSet(Vec<(Vec<u8>, f64)>),
    /// Entries as XRANGE gives them: ID and the flat fields and values.
    Stream(Vec<(Vec<u8>, Vec<Vec<u8>>)>),
}

fn view(v: RdbValue) -> View {
    match v {
        RdbValue::String(s) => View::String(s),
        RdbValue::Collection(Value::List(l)) => View::List(l.iter().map(<[u8]>::to_vec).collect()),
        RdbValue::Collection(Value::Hash(h)) => View::Hash(h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()),
        RdbValue::Collection(Value::Set(s)) => View::Set(s.iter().map(|m| m.to_vec()).collect()),
        RdbValue::Collection(Value::ZSet(z)) => View::ZSet(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
        RdbValue::Collection(Value::Stream(s)) => View::Stream(
            s.range(Default::default(), tessera::types::stream::StreamId::MAX, 0, false)
                .into_iter()
                .map(|e| (e.id.to_string().into_bytes(), e.fields.into_iter().flat_map(|(f, v)| [f, v]).collect()))
                .collect(),
        ),
    }
}

fn cmd(con: &mut redis::Connection, args: &[&[u8]]) -> redis::Value {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).expect("command name"));
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{:?} failed: {e}", String::from_utf8_lossy(args[0])))
}

fn bulks(v: redis::Value) -> Vec<Vec<u8>> {
    redis::from_redis_value(&v).expect("array of bulk strings")
}

/// What redis-server answers for `key` in the selected database.
fn redis_view(con: &mut redis::Connection, key: &[u8]) -> Option<View> {
    let t: String = redis::from_redis_value(&cmd(con, &[b"TYPE", key])).expect("TYPE");
    Some(match t.as_str() {
        "string" => View::String(redis::from_redis_value(&cmd(con, &[b"GET", key])).expect("GET")),
        "list" => View::List(bulks(cmd(con, &[b"LRANGE", key, b"0", b"-1"]))),
        "hash" => {
            let flat = bulks(cmd(con, &[b"HGETALL", key]));
            View::Hash(flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
        }
        "set" => View::Set(bulks(cmd(con, &[b"SMEMBERS", key])).into_iter().collect()),
        "zset" => {
            let flat = bulks(cmd(con, &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]));
            View::ZSet(
                flat.chunks(2)
                    .map(|p| {
                        let score = std::str::from_utf8(&p[1]).ok().and_then(|s| s.parse::<f64>().ok());
                        (p[0].clone(), score.expect("score"))
                    })
                    .collect(),
            )
        }
        "stream" => {
            let entries: Vec<(Vec<u8>, Vec<Vec<u8>>)> =
                redis::from_redis_value(&cmd(con, &[b"XRANGE", key, b"-", b"+"])).expect("XRANGE");
            View::Stream(entries)
        }
        _ => return None,
    })
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as u64
}

/// Fills redis-server with every type and encoding Redis 7.0 has, across
/// databases 0, 3 and 15, and returns the OBJECT ENCODINGs it reports.
fn fill(r: &mut redis::Connection, now: u64) -> BTreeSet<String> {
    let q = |r: &mut redis::Connection, args: &[&str]| {
        let _: redis::Value = query(r, args);
    };
    q(r, &["SELECT", "0"]);
    // Strings: int, embstr, raw, LZF-compressible, binary, big integers.
    q(r, &["SET", "s:int", "12345"]);
    q(r, &["SET", "s:neg", "-7"]);
    q(r, &["SET", "s:int64", "-9223372036854775808"]);
    q(r, &["SET", "s:embstr", "hello world"]);
    let raw: String = (0..120).map(|i| char::from(b'!' + (i * 37 % 90) as u8)).collect();
    q(r, &["SET", "s:raw", &raw]);
    q(r, &["SET", "s:lzf", &"abcdefgh".repeat(20_000)]);
    q(r, &["SET", "s:empty", ""]);
    let _: () =
        redis::cmd("SET").arg(&b"s:bin\x00\xff"[..]).arg(&b"\x00\x01\xfe\xff\r\n"[..]).query(r).expect("SET binary");
    // Lists: one listpack node; many 8 KiB nodes; nodes cut by count; plain nodes.
    q(r, &["RPUSH", "l:small", "a", "1", "-2", "bb", "300000", "x"]);
    let big: Vec<String> = (0..3000).map(|i| format!("element-{i}-{}", "z".repeat(i % 17))).collect();
    let mut args = vec!["RPUSH", "l:big"];
    args.extend(big.iter().map(String::as_str));
    q(r, &args);
    q(r, &["CONFIG", "SET", "list-max-listpack-size", "3"]);
    let counted: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let mut args = vec!["RPUSH", "l:count3"];
    args.extend(counted.iter().map(String::as_str));
    q(r, &args);
    q(r, &["CONFIG", "SET", "list-max-listpack-size", "-2"]);
    q(r, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"]);
    q(r, &["RPUSH", "l:plain", "small", &"P".repeat(150), "tail", &"Q".repeat(500)]);
    q(r, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1073741824"]);
    // Hashes: listpack; hashtable by count and by value length.
    q(r, &["HSET", "h:small", "f1", "v1", "f2", "2", "f3", "-3"]);
    let fields: Vec<String> = (0..600).map(|i| format!("field{i}")).collect();
    let mut args = vec!["HSET", "h:big"];
    for f in &fields {
        args.push(f);
        args.push(f);
    }
    q(r, &args);
    q(r, &["HSET", "h:longval", "f", &"v".repeat(100)]);

    q(r, &["SELECT", "3"]);
    // Sets: intset (16, 32 and 64-bit), hashtable of integers by count, strings.
    q(r, &["SADD", "set:ints", "1", "-5", "300"]);
    q(r, &["SADD", "set:ints64", "1", "5000000000", "-9223372036854775808"]);
    let ints: Vec<String> = (0..600).map(|i| (i * 7).to_string()).collect();
    let mut args = vec!["SADD", "set:manyints"];
    args.extend(ints.iter().map(String::as_str));
    q(r, &args);
    q(r, &["SADD", "set:strs", "a", "b", "c", "1"]);
    let strs: Vec<String> = (0..300).map(|i| format!("member:{i}")).collect();
    let mut args = vec!["SADD", "set:big"];
    args.extend(strs.iter().map(String::as_str));
    q(r, &args);
    // Sorted sets: listpack; skiplist by count and by member length; odd scores.
    q(r, &["ZADD", "z:small", "1", "a", "2.5", "b", "-3", "c", "1e20", "d", "inf", "e", "-inf", "f", "0.1", "g"]);
    let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let mut args = vec!["ZADD", "z:big"];
    let scores: Vec<String> = (0..200).map(|i| format!("{}", i as f64 / 3.0)).collect();
    for (m, s) in members.iter().zip(&scores) {
        args.push(s);
        args.push(m);
    }
    q(r, &args);
    q(r, &["ZADD", "z:longmember", "1", &"m".repeat(100)]);
    // Expiries: relative, absolute in the far future, one that expires before
    // the load's clock (an hour from now), and one that keeps a TTL past it.
    q(r, &["SET", "e:ttl", "v", "EX", "86400"]);
    q(r, &["RPUSH", "e:list", "a", "b"]);
    q(r, &["PEXPIREAT", "e:list", &(now + 10 * 86_400_000).to_string()]);
    q(r, &["SET", "e:soon", "v", "PX", "60000"]);
    q(r, &["HSET", "e:soonhash", "f", "v"]);
    q(r, &["PEXPIRE", "e:soonhash", "120000"]);
    // A stream, with a consumer group and a pending entry: skipped.
    q(r, &["XADD", "stream", "*", "f", "v"]);
    q(r, &["XGROUP", "CREATE", "stream", "g", "0"]);
    q(r, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "stream", ">"]);

    q(r, &["SELECT", "15"]);
    q(r, &["SET", "s:int", "db15"]);
    q(r, &["HSET", "h:small", "only", "here"]);
    q(
        r,
        &["FUNCTION", "LOAD", "#!lua name=importlib\nredis.register_function('imported', function() return 'ok' end)"],
    );

    let mut encodings = BTreeSet::new();
    for db in ["0", "3", "15"] {
        q(r, &["SELECT", db]);
        let keys: Vec<Vec<u8>> = bulks(cmd(r, &[b"KEYS", b"*"]));
        for k in keys {
            let e: String = redis::from_redis_value(&cmd(r, &[b"OBJECT", b"ENCODING", &k])).expect("OBJECT ENCODING");
            encodings.insert(e);
        }
    }
    encodings
}

type Keys = BTreeMap<(usize, Vec<u8>), (View, Option<u64>)>;

/// Every key redis-server holds, with its value and absolute expiry, except
/// streams (returned apart).
fn redis_keys(r: &mut redis::Connection) -> (Keys, Vec<(usize, Vec<u8>)>) {
    let (mut keys, mut streams) = (Keys::new(), Vec::new());
    for db in 0..16usize {
        let _: redis::Value = query(r, &["SELECT", &db.to_string()]);
        for k in bulks(cmd(r, &[b"KEYS", b"*"])) {
            let at: i64 = redis::from_redis_value(&cmd(r, &[b"PEXPIRETIME", &k])).expect("PEXPIRETIME");
            match redis_view(r, &k) {
                Some(v) => {
                    keys.insert((db, k), (v, u64::try_from(at).ok()));
                }
                None => streams.push((db, k)),
            }
        }
    }
    (keys, streams)
}

fn load_file(bytes: &[u8], now: u64) -> (Summary, Keys) {
    let mut got = Keys::new();
    let sum = load_values(bytes, &Limits::default(), now, |db, k, at, v| {
        let old = got.insert((db, k.to_vec()), (view(v), at));
        assert!(old.is_none(), "key {:?} in db {db} handed out twice", String::from_utf8_lossy(k));
    })
    .unwrap_or_else(|e| panic!("loading Redis's dump.rdb: {e}"));
    (sum, got)
}

#[test]
fn loads_what_redis_7_saved() {
    if against_redis() {
        return; // Tessera's own reader, nothing to run against Redis.
    }
    let redis = RedisDir::start();
    let mut r = redis.client();
    let now = now_ms();
    let encodings = fill(&mut r, now);
    for e in ["int", "embstr", "raw", "listpack", "quicklist", "hashtable", "intset", "skiplist", "stream"] {
        assert!(encodings.contains(e), "Redis wrote no {e} value: {encodings:?}");
    }
    let _: redis::Value = query(&mut r, &["SAVE"]);
    let (want, streams) = redis_keys(&mut r);
    assert!(streams.is_empty(), "{streams:?}");
    assert_eq!(want.len(), 30);
    let bytes = std::fs::read(redis.rdb_path()).expect("read dump.rdb");
    assert!(tessera::persist::rdb::is_rdb(&bytes));
    // The quicklists have the nodes the thresholds call for: two plain nodes
    // between two packed ones, and nodes of 3 elements (RDB type 18, key, count).
    let nodes = |key: &[u8]| {
        let head = [&[18u8, key.len() as u8][..], key].concat();
        let at = bytes.windows(head.len()).position(|w| w == head).expect("list key in the file");
        bytes[at + head.len()]
    };
    assert_eq!(nodes(b"l:plain"), 4);
    assert_eq!(nodes(b"l:count3"), 4);
    assert!(nodes(b"l:big") > 4);

    // Loaded now: every key, value, expiry and database as Redis answers.
    let (sum, got) = load_file(&bytes, now_ms());
    assert_eq!(sum.version, 10, "Redis 7.0 writes RDB 10");
    assert_eq!(got.len(), want.len());
    for (k, v) in &want {
        assert_eq!(got.get(k), Some(v), "db {} key {:?}", k.0, String::from_utf8_lossy(&k.1));
    }
    assert_eq!((sum.keys, sum.expired), (want.len() as u64, 0));
    assert!(sum.skipped.is_empty(), "{:?}", sum.skipped);
    assert_eq!(
        sum.functions,
        [b"#!lua name=importlib\nredis.register_function('imported', function() return 'ok' end)".to_vec()]
    );
    let aux: BTreeMap<&str, &str> = sum.aux.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let info: String = query(&mut r, &["INFO", "server"]);
    let ver = info.lines().find_map(|l| l.strip_prefix("redis_version:")).expect("redis_version");
    assert_eq!(aux.get("redis-ver"), Some(&ver.trim()));
    assert!(aux.contains_key("ctime") && aux.contains_key("used-mem"), "{aux:?}");

    // Loaded an hour later: the keys with a minute or two to live are gone.
    let later = now + 3_600_000;
    let (sum, got) = load_file(&bytes, later);
    let live: Keys = want
        .iter()
        .filter(|(_, (_, at))| at.is_none_or(|at| at > later))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(live.len(), want.len() - 2);
    assert_eq!(got, live);
    assert_eq!(sum.expired, 2);

    // The same file, damaged: a flipped byte is a checksum error, a cut file truncated.
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x20;
    let mut n = 0;
    let err = load_values(&bad, &Limits::default(), now, |_, _, _, _| n += 1).unwrap_err();
    assert_eq!(n, 0, "no key is handed out from a damaged file ({err})");
    for cut in (0..bytes.len()).step_by(bytes.len() / 500 + 1) {
        let err = load_values(&bytes[..cut], &Limits::default(), now, |_, _, _, _| n += 1).unwrap_err();
        assert!(matches!(err, tessera::persist::rdb::RdbError::Truncated { .. }), "cut at {cut}: {err}");
    }
    assert_eq!(n, 0);
}

/// The end-to-end path: Tessera started on a copy of Redis's data directory
/// (`--dir`, `--dbfilename`) answers for every key as Redis did, on 1 and 3 shards.
#[test]
fn serves_a_redis_data_directory() {
    if against_redis() {
        return;
    }
    let redis = RedisDir::start();
    let mut r = redis.client();
    fill(&mut r, now_ms());
    let _: redis::Value = query(&mut r, &["SAVE"]);
    let (want, _) = redis_keys(&mut r);
    for shards in [1, 3] {
        let dir = scratch_dir().join(format!("rdb-serve-{}-{}-{shards}", std::process::id(), redis.port));
        std::fs::create_dir_all(&dir).expect("create data dir");
        std::fs::copy(redis.rdb_path(), dir.join("dump.rdb")).expect("copy dump.rdb");
        let t = Server::start_with(shards, &["--dir", dir.to_str().expect("utf-8 path"), "--dbfilename", "dump.rdb"]);
        let mut c = t.client();
        let loaded = wait_until(Duration::from_secs(30), || redis::cmd("PING").query::<String>(&mut c).is_ok());
        assert!(loaded, "{shards} shards: still loading after 30 s");
        let (got, streams) = redis_keys(&mut c);
        assert!(streams.is_empty(), "{shards} shards: {streams:?}");
        assert_eq!(got.len(), want.len(), "{shards} shards");
        for (k, v) in &want {
            assert_eq!(got.get(k), Some(v), "{shards} shards: db {} key {:?}", k.0, String::from_utf8_lossy(&k.1));
        }
        let ok: String = query(&mut c, &["FCALL", "imported", "0"]);
        assert_eq!(ok, "ok", "{shards} shards: the function library loads with the data");
        drop(t);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
