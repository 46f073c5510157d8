//! Transactions and cross-shard atomicity: MULTI/EXEC/WATCH against Redis byte
//! for byte, and concurrency tests that would catch a torn read: writers
//! changing keys on every shard at once while readers check that they always
//! see all of a change or none of it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::differential::run_corpus;
use crate::support::{each_shards, query, spread_keys, Server};

#[test]
fn corpus_transactions() {
    run_corpus("corpus/transactions.txt", include_str!("corpus/transactions.txt"), false);
}

#[test]
fn corpus_transactions_in_resp3() {
    run_corpus("corpus/transactions.txt", include_str!("corpus/transactions.txt"), true);
}

/// Runs `readers` checking threads and `writers` changing threads for
/// `rounds` writes each, and fails if a reader saw a torn state.
fn race(
    s: &Server,
    writers: usize,
    rounds: usize,
    write: impl Fn(&mut redis::Connection, usize, usize) + Send + Sync + 'static,
    readers: usize,
    read: impl Fn(&mut redis::Connection) -> Result<(), String> + Send + Sync + 'static,
) {
    let write = Arc::new(write);
    let read = Arc::new(read);
    let stop = Arc::new(AtomicBool::new(false));
    let mut checks = Vec::new();
    for _ in 0..readers {
        let (mut con, read, stop) = (s.client(), read.clone(), stop.clone());
        checks.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                read(&mut con)?;
                n += 1;
            }
            Ok::<u64, String>(n)
        }));
    }
    let mut ws = Vec::new();
    for w in 0..writers {
        let (mut con, write) = (s.client(), write.clone());
        ws.push(std::thread::spawn(move || (0..rounds).for_each(|i| write(&mut con, w, i))));
    }
    for w in ws {
        w.join().expect("writer");
    }
    stop.store(true, Ordering::Relaxed);
    for c in checks {
        let n = c.join().expect("reader").unwrap_or_else(|e| panic!("torn read: {e}"));
        assert!(n > 0, "a reader ran");
    }
}

/// Every value equal: the readers' invariant for writers that set all keys at once.
fn all_equal(vals: &[Option<String>]) -> Result<(), String> {
    if vals.windows(2).all(|w| w[0] == w[1]) {
        Ok(())
    } else {
        Err(format!("{vals:?}"))
    }
}

#[test]
fn mset_and_mget_never_tear_across_shards() {
    each_shards(|s| {
        let keys = spread_keys("mm", 6);
        let k2 = keys.clone();
        race(
            s,
            3,
            300,
            move |con, w, i| {
                let v = format!("{w}-{i}");
                let args: Vec<String> = k2.iter().flat_map(|k| [k.clone(), v.clone()]).collect();
                let mut c = redis::cmd("MSET");
                c.arg(&args);
                let _: () = c.query(con).unwrap();
            },
            2,
            move |con| {
                let vals: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(con).unwrap();
                all_equal(&vals)
            },
        );
    });
}

#[test]
fn exec_is_isolated_across_shards() {
    each_shards(|s| {
        let keys = spread_keys("ex", 4);
        let (k2, k3) = (keys.clone(), keys.clone());
        race(
            s,
            2,
            200,
            move |con, w, i| {
                let mut p = redis::pipe();
                p.atomic();
                for k in &k2 {
                    p.cmd("SET").arg(k).arg(format!("{w}-{i}")).ignore();
                }
                p.cmd("INCR").arg(&k2[0]).ignore(); // a runtime error inside EXEC
                let _: () = p.query(con).unwrap_or(());
            },
            2,
            move |con| {
                // Readers in transactions too, and plain cross-shard reads.
                let mut p = redis::pipe();
                p.atomic();
                for k in &k3 {
                    p.cmd("GET").arg(k);
                }
                let vals: Vec<Option<String>> = p.query(con).map_err(|e| e.to_string())?;
                all_equal(&vals)?;
                let vals: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(con).unwrap();
                all_equal(&vals)
            },
        );
    });
}

#[test]
fn smove_and_rename_keep_one_copy() {
    each_shards(|s| {
        let keys = spread_keys("mv", 2);
        let (a, b) = (keys[0].clone(), keys[1].clone());
        let mut con = s.client();
        let _: () = query(&mut con, &["SADD", &a, "m"]);
        let (wa, wb) = (a.clone(), b.clone());
        race(
            s,
            1,
            400,
            move |con, _, i| {
                let (from, to) = if i % 2 == 0 { (&wa, &wb) } else { (&wb, &wa) };
                let moved: i64 = redis::cmd("SMOVE").arg(from).arg(to).arg("m").query(con).unwrap();
                assert_eq!(moved, 1);
            },
            2,
            move |con| {
                let mut p = redis::pipe();
                p.atomic().cmd("SCARD").arg(&a).cmd("SCARD").arg(&b);
                let (x, y): (i64, i64) = p.query(con).map_err(|e| e.to_string())?;
                let both: i64 = redis::cmd("EXISTS").arg(&a).arg(&b).query(con).unwrap();
                if x + y == 1 && both == 1 {
                    Ok(())
                } else {
                    Err(format!("SCARD {x}+{y}, EXISTS {both}"))
                }
            },
        );
        let _: () = query(&mut con, &["FLUSHALL"]);
        let keys = spread_keys("rn", 2);
        let (a, b) = (keys[0].clone(), keys[1].clone());
        let _: () = query(&mut con, &["SET", &a, "v"]);
        let (wa, wb) = (a.clone(), b.clone());
        race(
            s,
            1,
            400,
            move |con, _, i| {
                let (from, to) = if i % 2 == 0 { (&wa, &wb) } else { (&wb, &wa) };
                let _: () = redis::cmd("RENAME").arg(from).arg(to).query(con).unwrap();
            },
            2,
            move |con| {
                let n: i64 = redis::cmd("EXISTS").arg(&a).arg(&b).query(con).unwrap();
                let size: i64 = redis::cmd("DBSIZE").query(con).unwrap();
                if n == 1 && size == 1 {
                    Ok(())
                } else {
                    Err(format!("EXISTS {n}, DBSIZE {size}"))
                }
            },
        );
    });
}

#[test]
fn watch_races_lose_no_increment() {
    each_shards(|s| {
        let keys = spread_keys("wr", 2);
        let total = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut threads = Vec::new();
        for _ in 0..4 {
            let (mut con, keys, total) = (s.client(), keys.clone(), total.clone());
            threads.push(std::thread::spawn(move || {
                for _ in 0..50 {
                    loop {
                        let _: () = redis::cmd("WATCH").arg(&keys).query(&mut con).unwrap();
                        let v: Option<i64> = redis::cmd("GET").arg(&keys[0]).query(&mut con).unwrap();
                        let v = v.unwrap_or(0);
                        let mut p = redis::pipe();
                        p.atomic().cmd("SET").arg(&keys[0]).arg(v + 1).cmd("SET").arg(&keys[1]).arg(v + 1);
                        let r: Option<Vec<String>> = p.query(&mut con).unwrap();
                        if r.is_some() {
                            total.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        let mut con = s.client();
        let vals: Vec<i64> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
        assert_eq!(vals, vec![200, 200]);
        assert_eq!(total.load(Ordering::Relaxed), 200);
    });
}

#[test]
fn watch_sees_writes_from_other_clients_and_expiry() {
    each_shards(|s| {
        let mut a = s.client();
        let mut b = s.client();
        let keys = spread_keys("wx", 2);
        let _: () = query(&mut a, &["SET", &keys[0], "1"]);
        let _: () = query(&mut a, &["WATCH", &keys[0], &keys[1]]);
        let _: () = query(&mut b, &["SET", &keys[1], "x"]);
        let mut p = redis::pipe();
        p.atomic().cmd("GET").arg(&keys[0]);
        let r: Option<Vec<String>> = p.query(&mut a).unwrap();
        assert_eq!(r, None, "a write by another client fails EXEC");

        // An expiry between WATCH and EXEC fails it too.
        let _: () = query(&mut a, &["SET", &keys[0], "1", "PX", "30"]);
        let _: () = query(&mut a, &["WATCH", &keys[0]]);
        std::thread::sleep(Duration::from_millis(80));
        let r: Option<Vec<String>> = p.query(&mut a).unwrap();
        assert_eq!(r, None, "an expired key fails EXEC");

        // A write of a key nobody watches does not.
        let _: () = query(&mut a, &["WATCH", &keys[0]]);
        let _: () = query(&mut b, &["SET", "unwatched", "x"]);
        let r: Option<Vec<Option<String>>> = p.query(&mut a).unwrap();
        assert_eq!(r, Some(vec![None]));
    });
}

#[test]
fn client_list_shows_a_transaction() {
    let s = Server::start(1);
    let mut raw = s.raw();
    raw.cmd(&["MULTI"]);
    raw.cmd(&["SET", "a", "1"]);
    raw.cmd(&["SET", "b", "1"]);
    let mut con = s.client();
    let list: String = query(&mut con, &["CLIENT", "LIST"]);
    assert!(list.lines().any(|l| l.contains(" flags=x ") && l.contains(" multi=2 ")), "{list}");
    assert!(list.lines().any(|l| l.contains(" multi=-1 ")), "{list}");
}

#[test]
fn dbsize_never_sees_half_an_mset() {
    each_shards(|s| {
        let keys = spread_keys("ds", 4);
        let k2 = keys.clone();
        race(
            s,
            1,
            300,
            move |con, _, i| {
                if i % 2 == 0 {
                    let args: Vec<String> = k2.iter().flat_map(|k| [k.clone(), "v".into()]).collect();
                    let _: () = redis::cmd("MSET").arg(&args).query(con).unwrap();
                } else {
                    let _: () = redis::cmd("DEL").arg(&k2).query(con).unwrap();
                }
            },
            2,
            move |con| {
                let n: i64 = redis::cmd("DBSIZE").query(con).unwrap();
                let k: Vec<String> = redis::cmd("KEYS").arg("ds*").query(con).unwrap();
                if (n == 0 || n == 4) && (k.is_empty() || k.len() == keys.len()) {
                    Ok(())
                } else {
                    Err(format!("DBSIZE {n}, KEYS {k:?}"))
                }
            },
        );
    });
}

#[test]
fn blocked_clients_are_served_after_exec() {
    each_shards(|s| {
        let keys = spread_keys("bq", 2);
        let (q, other) = (keys[0].clone(), keys[1].clone());
        let mut blocked = s.raw();
        blocked.send(format!("*3\r\n$5\r\nBLPOP\r\n${}\r\n{q}\r\n$1\r\n0\r\n", q.len()).as_bytes());
        let mut con = s.client();
        assert!(crate::support::wait_until(Duration::from_secs(5), || {
            let info: String = query(&mut con, &["INFO", "clients"]);
            info.contains("blocked_clients:1")
        }));
        // Both on one shard (the queue alone) and across shards.
        let mut p = redis::pipe();
        p.atomic().cmd("RPUSH").arg(&q).arg("a").arg("b").cmd("LLEN").arg(&q).cmd("SET").arg(&other).arg("x");
        let (pushed, len, _): (i64, i64, String) = p.query(&mut con).unwrap();
        assert_eq!((pushed, len), (2, 2), "the blocked client waits for EXEC to end");
        let reply = blocked.reply_bytes();
        assert_eq!(reply, format!("*2\r\n${}\r\n{q}\r\n$1\r\na\r\n", q.len()).into_bytes());
        let left: i64 = query(&mut con, &["LLEN", &q]);
        assert_eq!(left, 1);
    });
}
