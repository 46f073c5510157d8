//! Blocking pops over real sockets, on 1 and 3 shards: wake-up order, timeouts,
//! disconnects, CLIENT UNBLOCK and keys on several shards.

use std::thread;
use std::time::Duration;

use redis::Value;

use crate::keys::info_field;
use crate::support::{each_shards, query, spread_keys, wait_until, Server};

/// INFO's blocked_clients.
fn blocked(s: &Server) -> usize {
    let info: String = query(&mut s.client(), &["INFO", "clients"]);
    info_field(&info, "blocked_clients").and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Waits until `n` clients are blocked.
fn until_blocked(s: &Server, n: usize) {
    assert!(
        wait_until(Duration::from_secs(10), || blocked(s) == n),
        "expected {n} blocked clients, saw {}",
        blocked(s)
    );
}

/// Runs a blocking command on its own connection; join the handle for the reply.
fn spawn_blocking(s: &Server, args: &[&str]) -> Waiting {
    let mut con = s.client();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    thread::spawn(move || {
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        cmd.query::<Value>(&mut con).expect("blocking call")
    })
}

type Waiting = thread::JoinHandle<Value>;

fn bulk(v: &str) -> Value {
    Value::BulkString(v.as_bytes().to_vec())
}

#[test]
fn push_serves_waiters_in_fifo_order() {
    each_shards(|s| {
        let mut c = s.client();
        let mut waiters = Vec::new();
        for i in 0..3 {
            waiters.push(spawn_blocking(s, &["BLPOP", "q", "0"]));
            until_blocked(s, i + 1);
        }
        let n: i64 = query(&mut c, &["RPUSH", "q", "a", "b", "c", "d"]);
        assert_eq!(n, 4, "the push replies with the length before waiters pop");
        let got: Vec<Value> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        assert_eq!(got, ["a", "b", "c"].map(|v| Value::Array(vec![bulk("q"), bulk(v)])), "first blocked, first served");
        let rest: Vec<String> = query(&mut c, &["LRANGE", "q", "0", "-1"]);
        assert_eq!(rest, ["d"]);
        assert_eq!(blocked(s), 0);
    });
}

#[test]
fn timeout_replies_null_and_leaves_nothing() {
    each_shards(|s| {
        let w = spawn_blocking(s, &["BLPOP", "never", "0.2"]);
        assert_eq!(w.join().unwrap(), Value::Nil);
        let w = spawn_blocking(s, &["BZPOPMIN", "never", "0.1"]);
        assert_eq!(w.join().unwrap(), Value::Nil);
        let w = spawn_blocking(s, &["BLMOVE", "never", "dst", "LEFT", "RIGHT", "0.1"]);
        assert_eq!(w.join().unwrap(), Value::Nil);
        assert_eq!(blocked(s), 0);
        let mut c = s.client();
        let _: i64 = query(&mut c, &["LPUSH", "never", "x"]);
        let n: i64 = query(&mut c, &["LLEN", "never"]);
        assert_eq!(n, 1, "a timed-out call pops nothing later");
    });
}

#[test]
fn disconnected_waiter_leaves_nothing_behind() {
    each_shards(|s| {
        let mut raw = s.raw();
        raw.send(b"*3\r\n$5\r\nBLPOP\r\n$4\r\ngone\r\n$1\r\n0\r\n");
        until_blocked(s, 1);
        drop(raw);
        until_blocked(s, 0);
        let mut c = s.client();
        let _: i64 = query(&mut c, &["RPUSH", "gone", "v"]);
        let n: i64 = query(&mut c, &["LLEN", "gone"]);
        assert_eq!(n, 1, "the element stays for the next reader");
    });
}

#[test]
fn keys_on_several_shards_are_served_once() {
    each_shards(|s| {
        let keys = spread_keys("bk", 3);
        let mut c = s.client();
        let w = spawn_blocking(s, &["BLPOP", &keys[0], &keys[1], &keys[2], "0"]);
        until_blocked(s, 1);
        // Both pushes arrive in one pipeline; exactly one element is taken.
        let mut p = redis::pipe();
        p.cmd("RPUSH").arg(&keys[2]).arg("x").cmd("RPUSH").arg(&keys[1]).arg("y");
        let _: Vec<i64> = p.query(&mut c).unwrap();
        // With 3 shards the two pushes run in parallel: either may serve it.
        let got = w.join().unwrap();
        let x = Value::Array(vec![bulk(&keys[2]), bulk("x")]);
        let y = Value::Array(vec![bulk(&keys[1]), bulk("y")]);
        assert!(got == x || got == y, "{got:?}");
        let left: i64 = query(&mut c, &["LLEN", &keys[1]]);
        let right: i64 = query(&mut c, &["LLEN", &keys[2]]);
        assert_eq!(left + right, 1, "served exactly once");
        until_blocked(s, 0);
        // The call's waiters on the other keys are gone.
        let _: i64 = query(&mut c, &["RPUSH", &keys[0], "z"]);
        let n: i64 = query(&mut c, &["LLEN", &keys[0]]);
        assert_eq!(n, 1);
    });
}

#[test]
fn first_key_with_data_in_argument_order_wins() {
    each_shards(|s| {
        let keys = spread_keys("ord", 3);
        let mut c = s.client();
        let _: i64 = query(&mut c, &["RPUSH", &keys[2], "c"]);
        let _: i64 = query(&mut c, &["RPUSH", &keys[1], "b"]);
        let got: Vec<String> = query(&mut c, &["BLPOP", &keys[0], &keys[1], &keys[2], "1"]);
        assert_eq!(got, [keys[1].clone(), "b".into()]);
        let _: () = query(&mut c, &["SET", &keys[0], "str"]);
        let err = redis::cmd("BLPOP").arg(&keys[0]).arg(&keys[2]).arg("1").query::<Value>(&mut c).unwrap_err();
        assert_eq!(err.code(), Some("WRONGTYPE"));
    });
}

#[test]
fn client_unblock_timeout_and_error() {
    each_shards(|s| {
        let mut victim = s.client();
        let id: i64 = query(&mut victim, &["CLIENT", "ID"]);
        let mut c = s.client();
        let n: i64 = query(&mut c, &["CLIENT", "UNBLOCK", &id.to_string()]);
        assert_eq!(n, 0, "not blocked");
        let w = thread::spawn(move || redis::cmd("BRPOP").arg("u").arg("0").query::<Value>(&mut victim));
        until_blocked(s, 1);
        let n: i64 = query(&mut c, &["CLIENT", "UNBLOCK", &id.to_string(), "TIMEOUT"]);
        assert_eq!(n, 1);
        assert_eq!(w.join().unwrap().unwrap(), Value::Nil);

        let mut victim = s.client();
        let id: i64 = query(&mut victim, &["CLIENT", "ID"]);
        let w = thread::spawn(move || redis::cmd("BZPOPMAX").arg("z").arg("0").query::<Value>(&mut victim));
        until_blocked(s, 1);
        let n: i64 = query(&mut c, &["CLIENT", "UNBLOCK", &id.to_string(), "ERROR"]);
        assert_eq!(n, 1);
        let err = w.join().unwrap().unwrap_err();
        assert_eq!(err.code(), Some("UNBLOCKED"));
        assert_eq!(blocked(s), 0);
    });
}

#[test]
fn blmove_and_zset_pops_across_shards() {
    each_shards(|s| {
        let keys = spread_keys("mv", 2);
        let (src, dst) = (&keys[0], &keys[1]);
        let mut c = s.client();
        let w = spawn_blocking(s, &["BLMOVE", src, dst, "RIGHT", "LEFT", "0"]);
        until_blocked(s, 1);
        let _: i64 = query(&mut c, &["RPUSH", src, "a", "b"]);
        assert_eq!(w.join().unwrap(), bulk("b"));
        let moved: Vec<String> = query(&mut c, &["LRANGE", dst, "0", "-1"]);
        assert_eq!(moved, ["b"]);
        let rest: Vec<String> = query(&mut c, &["LRANGE", src, "0", "-1"]);
        assert_eq!(rest, ["a"]);

        let zk = spread_keys("z", 2);
        let w = spawn_blocking(s, &["BZMPOP", "0", "2", &zk[0], &zk[1], "MAX", "COUNT", "2"]);
        until_blocked(s, 1);
        let _: i64 = query(&mut c, &["ZADD", &zk[1], "1", "one", "2", "two", "3", "three"]);
        let got = w.join().unwrap();
        assert_eq!(
            got,
            Value::Array(vec![
                bulk(&zk[1]),
                Value::Array(vec![
                    Value::Array(vec![bulk("three"), bulk("3")]),
                    Value::Array(vec![bulk("two"), bulk("2")]),
                ]),
            ])
        );
    });
}

#[test]
fn key_created_by_rename_or_restore_wakes() {
    each_shards(|s| {
        let mut c = s.client();
        let w = spawn_blocking(s, &["BRPOP", "target", "0"]);
        until_blocked(s, 1);
        let _: i64 = query(&mut c, &["RPUSH", "tmp", "r"]);
        let _: () = query(&mut c, &["RENAME", "tmp", "target"]);
        assert_eq!(w.join().unwrap(), Value::Array(vec![bulk("target"), bulk("r")]));
    });
}

#[test]
fn swapdb_serves_clients_blocked_on_the_swapped_in_keys() {
    each_shards(|s| {
        let mut c = s.client();
        let w = spawn_blocking(s, &["BLPOP", "sw", "0"]);
        until_blocked(s, 1);
        let _: () = query(&mut c, &["SELECT", "1"]);
        let _: i64 = query(&mut c, &["RPUSH", "sw", "from-db1"]);
        let _: () = query(&mut c, &["SWAPDB", "0", "1"]);
        assert_eq!(w.join().unwrap(), Value::Array(vec![bulk("sw"), bulk("from-db1")]));
        until_blocked(s, 0);
    });
}
