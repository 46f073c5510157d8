//! Scripts whose keys live on several shards: declared keys that span shards,
//! keys the script never declared (as queue libraries do), and commands that
//! reach the whole keyspace. Every run must be atomic: concurrent readers
//! never see half of a script's writes, and a run that has to start over on
//! every shard leaves no trace of its first attempt.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::support::{each_shards, query, spread_keys};

const SET_ALL: &str = "for i = 1, #ARGV - 1 do redis.call('SET', ARGV[i], ARGV[#ARGV]) end return #ARGV - 1";

#[test]
fn declared_keys_on_several_shards() {
    each_shards(|s| {
        let mut con = s.client();
        let keys = spread_keys("sd", 3);
        let script = "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', KEYS[2], ARGV[1]) \
                      return redis.call('MGET', KEYS[1], KEYS[2], KEYS[3])";
        let r: Vec<Option<String>> = redis::cmd("EVAL").arg(script).arg(3).arg(&keys).arg("v").query(&mut con).unwrap();
        assert_eq!(r, vec![Some("v".into()), Some("v".into()), None]);
    });
}

#[test]
fn undeclared_keys_work_and_stay_atomic() {
    each_shards(|s| {
        let keys = spread_keys("su", 6);
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..2 {
            let (mut con, keys, stop) = (s.client(), keys.clone(), stop.clone());
            readers.push(std::thread::spawn(move || {
                let mut seen = 0;
                while !stop.load(Ordering::Relaxed) {
                    let vals: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
                    assert!(vals.windows(2).all(|w| w[0] == w[1]), "torn read: {vals:?}");
                    seen += 1;
                }
                seen
            }));
        }
        let mut con = s.client();
        for i in 0..300 {
            let n: i64 = redis::cmd("EVAL").arg(SET_ALL).arg(0).arg(&keys).arg(i).query(&mut con).unwrap();
            assert_eq!(n, 6);
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
        let vals: Vec<String> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
        assert!(vals.iter().all(|v| v == "299"));
    });
}

#[test]
fn a_restarted_run_leaves_no_trace() {
    each_shards(|s| {
        let mut con = s.client();
        let keys = spread_keys("sr", 2);
        // Declares one key, writes it, then reads a key it did not declare
        // (on another shard when there are several).
        let script = "redis.call('INCR', KEYS[1]) redis.call('RPUSH', KEYS[1] .. 'list', 'x') \
                      return redis.call('GET', ARGV[1])";
        for round in 1..=3 {
            let _: () = query(&mut con, &["SET", &keys[1], &format!("other{round}")]);
            let r: String = redis::cmd("EVAL").arg(script).arg(1).arg(&keys[0]).arg(&keys[1]).query(&mut con).unwrap();
            assert_eq!(r, format!("other{round}"));
            let n: i64 = query(&mut con, &["GET", &keys[0]]);
            assert_eq!(n, round, "the counter was incremented once per call");
            let len: i64 = query(&mut con, &["LLEN", &format!("{}list", keys[0])]);
            assert_eq!(len, round);
        }
    });
}

#[test]
fn scripts_reach_the_whole_keyspace() {
    each_shards(|s| {
        let mut con = s.client();
        let keys = spread_keys("sk", 4);
        for k in &keys {
            let _: () = query(&mut con, &["SET", k, "1"]);
        }
        let n: i64 = redis::cmd("EVAL").arg("return redis.call('DBSIZE')").arg(0).query(&mut con).unwrap();
        assert_eq!(n, 4);
        let mut found: Vec<String> =
            redis::cmd("EVAL").arg("return redis.call('KEYS', 'sk*')").arg(0).query(&mut con).unwrap();
        found.sort();
        let mut want = keys.clone();
        want.sort();
        assert_eq!(found, want);
        // Scripts inside MULTI/EXEC, across shards.
        let mut p = redis::pipe();
        p.atomic().cmd("EVAL").arg(SET_ALL).arg(0).arg(&keys).arg("t").cmd("MGET").arg(&keys);
        let (n, vals): (i64, Vec<String>) = p.query(&mut con).unwrap();
        assert_eq!(n, 4);
        assert!(vals.iter().all(|v| v == "t"));
    });
}
