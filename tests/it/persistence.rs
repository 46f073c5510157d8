//! Persistence over real restarts: snapshots (SAVE, BGSAVE, SHUTDOWN SAVE)
//! loaded with other shard counts, point-in-time snapshots under cross-shard
//! writes, append-only files surviving kill -9 with `appendfsync always`,
//! torn tails, corrupt files and the check tools.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{against_redis, data_dir, query, run_tessera, spread_keys, wait_until, Server};

/// Writes one key of every type, some with expiries, in two databases.
fn fill(s: &Server) {
    let mut c = s.client();
    for i in 0..500 {
        let _: () = query(&mut c, &["SET", &format!("s{i}"), &format!("v{i}")]);
    }
    let _: i64 = query(&mut c, &["RPUSH", "list", "a", "b", "c"]);
    let _: i64 = query(&mut c, &["HSET", "hash", "f1", "v1", "f2", "v2"]);
    let _: i64 = query(&mut c, &["SADD", "set", "1", "2", "3"]);
    let _: i64 = query(&mut c, &["ZADD", "zset", "1.5", "m1", "2", "m2"]);
    let _: () = query(&mut c, &["SET", "ttl", "x", "EX", "1000"]);
    let _: () = query(&mut c, &["SET", "gone", "x", "PX", "1"]);
    let _: () = query(&mut c, &["SELECT", "5"]);
    let _: () = query(&mut c, &["SET", "in5", "five"]);
}

/// Checks what `fill` wrote.
fn check(s: &Server) {
    let mut c = s.client();
    let n: i64 = query(&mut c, &["DBSIZE"]);
    assert_eq!(n, 505, "keys in db 0");
    for i in [0, 77, 499] {
        let v: String = query(&mut c, &["GET", &format!("s{i}")]);
        assert_eq!(v, format!("v{i}"));
    }
    let l: Vec<String> = query(&mut c, &["LRANGE", "list", "0", "-1"]);
    assert_eq!(l, ["a", "b", "c"]);
    let h: Vec<String> = query(&mut c, &["HMGET", "hash", "f1", "f2"]);
    assert_eq!(h, ["v1", "v2"]);
    let mut m: Vec<String> = query(&mut c, &["SMEMBERS", "set"]);
    m.sort();
    assert_eq!(m, ["1", "2", "3"]);
    let z: Vec<String> = query(&mut c, &["ZRANGE", "zset", "0", "-1", "WITHSCORES"]);
    assert_eq!(z, ["m1", "1.5", "m2", "2"]);
    let ttl: i64 = query(&mut c, &["TTL", "ttl"]);
    assert!((900..=1000).contains(&ttl), "{ttl}");
    let e: i64 = query(&mut c, &["EXISTS", "gone"]);
    assert_eq!(e, 0);
    let _: () = query(&mut c, &["SELECT", "5"]);
    let v: String = query(&mut c, &["GET", "in5"]);
    assert_eq!(v, "five");
}

fn info_field(s: &Server, field: &str) -> String {
    let mut c = s.client();
    let info: String = query(&mut c, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {info}"))
        .to_string()
}

#[test]
fn snapshots_load_with_any_shard_count() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-snap");
    let s = Server::start_in(3, &dir, &[]);
    fill(&s);
    let mut c = s.client();
    let before: i64 = query(&mut c, &["LASTSAVE"]);
    std::thread::sleep(Duration::from_millis(1100));
    let _: () = query(&mut c, &["SAVE"]);
    let after: i64 = query(&mut c, &["LASTSAVE"]);
    assert!(after > before);
    assert_eq!(info_field(&s, "rdb_saves"), "1");
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&s, "rdb_changes_since_last_save"), "0");
    drop(s);
    // 3 -> 1: every part is read, every key kept.
    let s = Server::start_in(1, &dir, &[]);
    check(&s);
    let mut c = s.client();
    let r: String = query(&mut c, &["BGSAVE"]);
    assert_eq!(r, "Background saving started");
    assert!(wait_until(Duration::from_secs(10), || info_field(&s, "rdb_bgsave_in_progress") == "0"));
    drop(s);
    // 1 -> 2: each shard keeps the keys of its slots.
    let s = Server::start_in(2, &dir, &[]);
    check(&s);
    let mut c = s.client();
    let dbsize: i64 = query(&mut c, &["DBSIZE"]);
    assert_eq!(dbsize, 505);
    // SHUTDOWN SAVE writes the snapshot the next start loads.
    let _: i64 = query(&mut c, &["DEL", "list"]);
    let _ = redis::cmd("SHUTDOWN").arg("SAVE").query::<()>(&mut c);
    drop(s);
    let s = Server::start_in(2, &dir, &[]);
    let mut c = s.client();
    let e: i64 = query(&mut c, &["EXISTS", "list"]);
    assert_eq!(e, 0);
    let n: i64 = query(&mut c, &["DBSIZE"]);
    assert_eq!(n, 504);
}

#[test]
fn bgsave_errors_and_schedule() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-bgsave");
    let s = Server::start_in(2, &dir, &[]);
    let mut r = s.raw();
    assert_eq!(r.err(&["BGSAVE", "NOW"]), "ERR syntax error");
    assert_eq!(r.err(&["SAVE", "x"]), "ERR wrong number of arguments for 'save' command");
    // The save schedule: one change within a second triggers a save.
    let mut c = s.client();
    let _: () = query(&mut c, &["CONFIG", "SET", "save", "1 1"]);
    let _: () = query(&mut c, &["SET", "k", "v"]);
    assert!(wait_until(Duration::from_secs(10), || info_field(&s, "rdb_saves") == "1"), "no scheduled save");
    drop(s);
    let s = Server::start_in(1, &dir, &[]);
    let mut c = s.client();
    let v: String = query(&mut c, &["GET", "k"]);
    assert_eq!(v, "v");
}

/// A snapshot started while clients run cross-shard MSETs holds each MSET
/// whole or not at all: it is one instant across every shard.
#[test]
fn bgsave_is_point_in_time_across_shards() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-pit");
    let s = Server::start_in(3, &dir, &[]);
    let keys = spread_keys("pit", 6);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (stop, keys, mut c) = (stop.clone(), keys.clone(), s.client());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let v = format!("{w}-{i}");
                    let mut cmd = redis::cmd("MSET");
                    for k in &keys {
                        cmd.arg(k).arg(&v);
                    }
                    let _: () = cmd.query(&mut c).unwrap();
                    i += 1;
                }
            })
        })
        .collect();
    let mut c = s.client();
    for _ in 0..5 {
        let _: String = query(&mut c, &["BGSAVE"]);
        assert!(wait_until(Duration::from_secs(10), || info_field(&s, "rdb_bgsave_in_progress") == "0"));
        let s2 = Server::start_in(1, &dir, &[]);
        let mut c2 = s2.client();
        let mut cmd = redis::cmd("MGET");
        for k in &keys {
            cmd.arg(k);
        }
        let vals: Vec<Option<String>> = cmd.query(&mut c2).unwrap();
        assert!(vals.iter().all(|v| v == &vals[0]), "a torn snapshot: {vals:?}");
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
}

#[test]
fn corrupt_snapshot_stops_start_naming_the_file() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-corrupt");
    let s = Server::start_in(1, &dir, &[]);
    fill(&s);
    let mut c = s.client();
    let _: () = query(&mut c, &["SAVE"]);
    drop(s);
    let part = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "tsnap"))
        .expect("a snapshot part");
    let (code, out, _) = run_tessera(&["check-snapshot", part.to_str().unwrap()], Duration::from_secs(20));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("snapshot OK"), "{out}");
    let mut bytes = std::fs::read(&part).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&part, &bytes).unwrap();
    let (code, _, err) = run_tessera(&["check-snapshot", part.to_str().unwrap()], Duration::from_secs(20));
    assert_eq!(code, Some(1), "{err}");
    let (code, _, err) =
        run_tessera(&["--port", "0", "--shards", "1", "--dir", dir.to_str().unwrap()], Duration::from_secs(20));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(part.file_name().unwrap().to_str().unwrap()) && err.contains("check-snapshot"), "{err}");
}

/// `appendfsync always`: every write acknowledged before a kill -9 is there
/// after the restart, with another shard count.
#[test]
fn aof_always_keeps_every_acknowledged_write() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-always");
    let s = Server::start_in(3, &dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let acked: Vec<Arc<AtomicU64>> = (0..3).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|w| {
            let (stop, acked, mut c) = (stop.clone(), acked[w].clone(), s.client());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let ok = match i % 3 {
                        0 => redis::cmd("INCR").arg(format!("ctr{w}")).query::<i64>(&mut c).is_ok(),
                        1 => redis::cmd("RPUSH").arg(format!("list{w}")).arg(i).query::<i64>(&mut c).is_ok(),
                        _ => redis::cmd("SET")
                            .arg(format!("last{w}"))
                            .arg(i)
                            .arg("EX")
                            .arg(1000)
                            .query::<()>(&mut c)
                            .is_ok(),
                    };
                    if !ok {
                        break;
                    }
                    i += 1;
                    acked.store(i, Ordering::Release);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    drop(s); // SIGKILL
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let s = Server::start_in(2, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    for (w, a) in acked.iter().enumerate() {
        let n = a.load(Ordering::Acquire);
        assert!(n > 3, "client {w} made no progress");
        let incrs = n.div_ceil(3);
        let ctr: i64 = query(&mut c, &["GET", &format!("ctr{w}")]);
        assert!(ctr as u64 >= incrs, "client {w}: counter {ctr} < {incrs} acknowledged");
        let len: i64 = query(&mut c, &["LLEN", &format!("list{w}")]);
        assert!(len as u64 >= n / 3, "client {w}: list {len} < {} acknowledged", n / 3);
        let ttl: i64 = query(&mut c, &["TTL", &format!("last{w}")]);
        assert!(ttl > 900, "client {w}: ttl {ttl}");
    }
}

/// Replaying the files rebuilds exactly what the server held, for a seeded
/// random mix of commands of every kind.
#[test]
fn aof_replay_rebuilds_the_same_data() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-replay");
    let s = Server::start_in(3, &dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.client();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    for _ in 0..3000 {
        let k = format!("k{}", next(40));
        let k2 = format!("k{}", next(40));
        let v = next(1000).to_string();
        let args: Vec<String> = match next(16) {
            0 => vec!["SET".into(), k, v],
            1 => vec!["INCRBY".into(), k, v],
            2 => vec!["RPUSH".into(), k, v.clone(), v],
            3 => vec!["LPOP".into(), k],
            4 => vec!["SADD".into(), k, v],
            5 => vec!["SPOP".into(), k],
            6 => vec!["ZADD".into(), k, v.clone(), v],
            7 => vec!["HSET".into(), k, v.clone(), v],
            8 => vec!["DEL".into(), k, k2],
            9 => vec!["EXPIRE".into(), k, "1000".into()],
            10 => vec!["MSET".into(), k, v.clone(), k2, v],
            11 => vec!["RENAME".into(), k, k2],
            12 => vec!["SETEX".into(), k, "500".into(), v],
            13 => vec![
                "EVAL".into(),
                "redis.call('incr', KEYS[1]) return redis.call('rpush', KEYS[2], 'x')".into(),
                "2".into(),
                format!("{{t}}{k}"),
                format!("{{t}}{k2}"),
            ],
            14 => vec!["APPEND".into(), k, v],
            _ => vec!["PERSIST".into(), k],
        };
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        let _ = cmd.query::<redis::Value>(&mut c);
    }
    let dump = |c: &mut redis::Connection| {
        let mut keys: Vec<String> = query(c, &["KEYS", "*"]);
        keys.sort();
        keys.into_iter()
            .map(|k| {
                let d: Vec<u8> = query(c, &["DUMP", &k]);
                let ttl: i64 = query(c, &["TTL", &k]);
                (k, d, ttl > 0)
            })
            .collect::<Vec<_>>()
    };
    let before = dump(&mut c);
    assert!(before.len() > 10);
    drop(s);
    let s = Server::start_in(3, &dir, &["--appendonly", "yes"]);
    let after = dump(&mut s.client());
    assert_eq!(before, after);
    drop(s);
    let s = Server::start_in(1, &dir, &["--appendonly", "yes"]);
    assert_eq!(before, dump(&mut s.client()));
}

/// The incremental file of the only shard, per the manifest.
fn incr_file(dir: &Path) -> PathBuf {
    let aof = dir.join("appendonlydir");
    let m = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).unwrap();
    aof.join(m.lines().find_map(|l| l.strip_prefix("incr ")).unwrap())
}

#[test]
fn aof_torn_tail_loads_and_corruption_stops_start() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-torn");
    let s = Server::start_in(1, &dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.client();
    let _: () = query(&mut c, &["SET", "a", "1"]);
    let _: () = query(&mut c, &["SET", "b", "2"]);
    drop(s);
    // A crash in the middle of a write: a partial record and zero padding.
    let f = incr_file(&dir);
    let mut bytes = std::fs::read(&f).unwrap();
    bytes.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1");
    bytes.extend_from_slice(&[0; 100]);
    std::fs::write(&f, &bytes).unwrap();
    let (code, out, _) = run_tessera(&["check-aof", f.to_str().unwrap()], Duration::from_secs(20));
    assert_eq!(code, Some(1), "{out}");
    let (_, _, err) = run_tessera(
        &[
            "--port",
            "0",
            "--shards",
            "1",
            "--dir",
            dir.to_str().unwrap(),
            "--appendonly",
            "yes",
            "--aof-load-truncated",
            "no",
        ],
        Duration::from_secs(20),
    );
    assert!(err.contains("check-aof"), "{err}");
    let s = Server::start_in(1, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    let v: Vec<Option<String>> = query(&mut c, &["MGET", "a", "b", "c"]);
    assert_eq!(v, [Some("1".to_string()), Some("2".to_string()), None]);
    let _: () = query(&mut c, &["CONFIG", "SET", "appendfsync", "always"]);
    let _: () = query(&mut c, &["SET", "d", "4"]);
    drop(s);
    // Bad bytes in the middle stop the start with the file and the fix.
    let f = incr_file(&dir);
    let mut bytes = std::fs::read(&f).unwrap();
    assert!(bytes.len() > 4);
    bytes.splice(0..0, b"*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n!!garbage!!\r\n".iter().copied());
    std::fs::write(&f, &bytes).unwrap();
    let (code, _, err) = run_tessera(
        &["--port", "0", "--shards", "1", "--dir", dir.to_str().unwrap(), "--appendonly", "yes"],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(f.file_name().unwrap().to_str().unwrap()) && err.contains("check-aof --fix"), "{err}");
    let (code, out, _) = run_tessera(&["check-aof", "--fix", f.to_str().unwrap()], Duration::from_secs(20));
    assert_eq!(code, Some(0), "{out}");
    let s = Server::start_in(1, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    let v: Vec<Option<String>> = query(&mut c, &["MGET", "a", "b"]);
    assert_eq!(v, [Some("1".to_string()), Some("2".to_string())]);
}

/// CONFIG SET appendonly yes starts the files from the data as it is; no stops them.
#[test]
fn appendonly_switched_on_at_runtime() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-runtime");
    let s = Server::start_in(2, &dir, &[]);
    let mut c = s.client();
    let _: () = query(&mut c, &["SET", "before", "1"]);
    let _: () = query(&mut c, &["CONFIG", "SET", "appendonly", "yes"]);
    let _: () = query(&mut c, &["CONFIG", "SET", "appendfsync", "always"]);
    let manifest = dir.join("appendonlydir").join("appendonly.aof.manifest");
    assert!(wait_until(Duration::from_secs(10), || manifest.is_file()), "no manifest");
    let _: () = query(&mut c, &["SET", "after", "2"]);
    assert_eq!(info_field(&s, "aof_enabled"), "1");
    drop(s);
    let s = Server::start_in(1, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    let v: Vec<Option<String>> = query(&mut c, &["MGET", "before", "after"]);
    assert_eq!(v, [Some("1".to_string()), Some("2".to_string())]);
}

/// BGREWRITEAOF under writes: nothing logged before, during or after it is lost.
#[test]
fn bgrewriteaof_loses_nothing() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-rewrite");
    let s = Server::start_in(3, &dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, acked, mut c) = (stop.clone(), acked.clone(), s.client());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _: i64 = redis::cmd("RPUSH").arg("log").arg(i).query(&mut c).unwrap();
                i += 1;
                acked.store(i, Ordering::Release);
            }
        })
    };
    let mut c = s.client();
    for round in 1..=3 {
        let r: String = query(&mut c, &["BGREWRITEAOF"]);
        assert!(r.starts_with("Background append only file rewriting"), "{r}");
        assert!(wait_until(Duration::from_secs(10), || info_field(&s, "aof_rewrites") == round.to_string()));
        assert_eq!(info_field(&s, "aof_last_bgrewrite_status"), "ok");
    }
    std::thread::sleep(Duration::from_millis(200));
    drop(s); // SIGKILL, the writer still writing
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    let n = acked.load(Ordering::Acquire);
    let s = Server::start_in(2, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    let len: i64 = query(&mut c, &["LLEN", "log"]);
    assert!(len as u64 >= n, "{len} < {n} acknowledged");
    let items: Vec<u64> = query(&mut c, &["LRANGE", "log", "0", "-1"]);
    assert!(items.iter().enumerate().all(|(i, &v)| i as u64 == v), "a gap or a repeat");
    // Only the files the manifest names are left.
    let names: Vec<String> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1 + 2 * 2, "{names:?}");
}

/// `appendfsync everysec`: what was acknowledged more than a second before a
/// kill -9 is there after it.
#[test]
fn aof_everysec_loses_at_most_about_a_second() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-everysec");
    let s = Server::start_in(2, &dir, &["--appendonly", "yes", "--appendfsync", "everysec"]);
    let mut c = s.client();
    for i in 0..300 {
        let _: () = query(&mut c, &["SET", &format!("k{i}"), &i.to_string()]);
    }
    std::thread::sleep(Duration::from_millis(2500));
    drop(s);
    let s = Server::start_in(1, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    let n: i64 = query(&mut c, &["DBSIZE"]);
    assert_eq!(n, 300);
}

/// Cross-shard MSETs and MULTI/EXECs under kill -9 with `appendfsync
/// always`: each is whole after the restart, and the last acknowledged one
/// is there.
#[test]
fn aof_cross_shard_writes_are_whole_after_a_crash() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-tx");
    let s = Server::start_in(3, &dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let keys = spread_keys("tx", 3);
    let acked = Arc::new(AtomicU64::new(0));
    let writer = {
        let (keys, acked, mut c) = (keys.clone(), acked.clone(), s.client());
        std::thread::spawn(move || {
            for i in 1u64.. {
                // MSET and MULTI/EXEC in turn, each over keys on every shard.
                let ok = if i % 2 == 0 {
                    let mut cmd = redis::cmd("MSET");
                    for k in &keys {
                        cmd.arg(k).arg(i);
                    }
                    cmd.query::<()>(&mut c).is_ok()
                } else {
                    let mut p = redis::pipe();
                    p.atomic();
                    for k in &keys {
                        p.cmd("SET").arg(k).arg(i).ignore();
                    }
                    p.query::<()>(&mut c).is_ok()
                };
                if !ok {
                    break;
                }
                acked.store(i, Ordering::Release);
            }
        })
    };
    std::thread::sleep(Duration::from_millis(800));
    drop(s);
    let _ = writer.join();
    let last = acked.load(Ordering::Acquire);
    assert!(last > 0);
    let s = Server::start_in(2, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    let mut cmd = redis::cmd("MGET");
    for k in &keys {
        cmd.arg(k);
    }
    let vals: Vec<u64> = cmd.query(&mut c).unwrap();
    assert!(vals.iter().all(|v| *v == vals[0]), "a torn MSET: {vals:?}");
    assert!(vals[0] >= last, "{} < {last} acknowledged", vals[0]);
}

/// Replay applies a cross-shard transaction's frames only when every shard's
/// part is in the files.
#[test]
fn aof_replay_skips_incomplete_cross_shard_transactions() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-frames");
    let aof = dir.join("appendonlydir");
    std::fs::create_dir_all(&aof).unwrap();
    let cmd = |args: &[&str]| crate::support::encode(args);
    let mut f0 = Vec::new();
    f0.extend(cmd(&["SELECT", "0"]));
    f0.extend(cmd(&["MULTI", "7", "2"]));
    f0.extend(cmd(&["SET", "torn", "1"]));
    f0.extend(cmd(&["EXEC"]));
    f0.extend(cmd(&["SET", "plain", "1"]));
    f0.extend(cmd(&["MULTI", "8", "2"]));
    f0.extend(cmd(&["SET", "whole-a", "1"]));
    f0.extend(cmd(&["EXEC"]));
    let mut f1 = Vec::new();
    f1.extend(cmd(&["SELECT", "0"]));
    f1.extend(cmd(&["MULTI", "8", "2"]));
    f1.extend(cmd(&["SET", "whole-b", "1"]));
    f1.extend(cmd(&["EXEC"]));
    std::fs::write(aof.join("appendonly.aof.1.0-of-2.incr.aof"), f0).unwrap();
    std::fs::write(aof.join("appendonly.aof.1.1-of-2.incr.aof"), f1).unwrap();
    std::fs::write(
        aof.join("appendonly.aof.manifest"),
        "tessera-aof 1\nshards 2\ngeneration 1\nincr appendonly.aof.1.0-of-2.incr.aof\nincr appendonly.aof.1.1-of-2.incr.aof\n",
    )
    .unwrap();
    let s = Server::start_in(1, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    let v: Vec<Option<String>> = query(&mut c, &["MGET", "torn", "plain", "whole-a", "whole-b"]);
    assert_eq!(v, [None, Some("1".into()), Some("1".into()), Some("1".into())]);
}

/// auto-aof-rewrite-percentage / -min-size start a rewrite once the files grew enough.
#[test]
fn aof_rewrites_itself_when_it_grows() {
    if against_redis() {
        return;
    }
    let dir = data_dir("persist-aof-auto");
    let s = Server::start_in(
        2,
        &dir,
        &["--appendonly", "yes", "--auto-aof-rewrite-min-size", "1kb", "--auto-aof-rewrite-percentage", "50"],
    );
    let mut c = s.client();
    let big = "x".repeat(200);
    for i in 0..200 {
        let _: () = query(&mut c, &["SET", &format!("k{}", i % 10), &big]);
    }
    assert!(
        wait_until(Duration::from_secs(10), || info_field(&s, "aof_rewrites").parse::<u64>().unwrap() >= 1),
        "no automatic rewrite"
    );
    drop(s);
    let s = Server::start_in(1, &dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    let n: i64 = query(&mut c, &["DBSIZE"]);
    assert_eq!(n, 10);
}
