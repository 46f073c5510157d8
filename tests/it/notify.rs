//! Keyspace notifications over real sockets, 1 and 3 shards: the events of
//! every command family compared with a real redis-server command by command
//! (exact order on one shard, as a multiset when the keys of one command live
//! on several shards), expiry (lazy and active), key misses and new keys,
//! listeners on every shard, and the `notify-keyspace-events` flag letters.

use std::time::Duration;

use crate::support::resp::Reply;
use crate::support::{each_shards, spread_keys, start_redis, Proc, Raw, Server};

/// A subscriber to every keyspace and keyevent channel.
fn listener(p: &Proc) -> Raw {
    let mut r = p.raw();
    r.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    r
}

/// The next `n` notifications as (channel, message) pairs.
fn next_events(r: &mut Raw, n: usize) -> Vec<(String, String)> {
    next_events_of(r, n, "")
}

/// As [`next_events`], naming `what` caused them in a failure.
fn next_events_of(r: &mut Raw, n: usize, what: &str) -> Vec<(String, String)> {
    let mut got = Vec::new();
    for _ in 0..n {
        match r.try_reply() {
            Ok(Some((Reply::Array(v) | Reply::Push(v), _))) if v.len() == 4 => got.push((text(&v[2]), text(&v[3]))),
            other => panic!("{what}: expected {n} events, got {got:?} then {other:?}"),
        }
    }
    got
}

fn text(r: &Reply) -> String {
    r.text().unwrap_or_else(|| panic!("not text: {r:?}"))
}

/// What Redis publishes after each command of `script`, read up to a marker
/// published after the command (Redis is single-threaded, so the marker comes last).
fn redis_events(script: &[Vec<String>]) -> Vec<Vec<(String, String)>> {
    let redis = start_redis();
    let mut c = redis.raw();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAmn"]);
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let mut l = listener(&redis);
    l.cmd(&["SUBSCRIBE", "marker"]);
    let mut all = Vec::new();
    for cmd in script {
        run(&mut c, cmd);
        c.cmd(&["PUBLISH", "marker", "x"]);
        let mut got = Vec::new();
        loop {
            match l.reply() {
                Reply::Array(v) if v.len() == 4 => got.push((text(&v[2]), text(&v[3]))),
                Reply::Array(v) if v.len() == 3 => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        all.push(got);
    }
    all
}

/// Commands split at spaces; `""` is an empty argument, `SLEEP` a pause.
fn script(lines: &[&str]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| l.split(' ').map(|a| if a == "\"\"" { String::new() } else { a.to_string() }).collect())
        .collect()
}

/// Sends one script command (or pauses for `SLEEP`).
fn run(c: &mut Raw, cmd: &[String]) {
    if cmd[0] == "SLEEP" {
        std::thread::sleep(Duration::from_millis(50));
    } else {
        c.call(cmd);
    }
}

/// Commands of every family, with keys spread over the shards.
fn family_script() -> Vec<Vec<String>> {
    let k = spread_keys("ev", 6);
    let lines = [
        format!("SET {} v", k[0]),
        format!("SET {} v EX 100", k[0]),
        format!("SET {} v NX", k[0]),
        format!("SETEX {} 10 v", k[1]),
        format!("GETEX {} PERSIST", k[1]),
        format!("GETEX {} PERSIST", k[1]),
        format!("GETEX {} PX 5000", k[1]),
        format!("GETDEL {}", k[1]),
        format!("GET {}", k[1]),
        format!("APPEND {} x", k[2]),
        format!("SETRANGE {} 3 abc", k[2]),
        format!("SETRANGE {} 0 \"\"", k[3]),
        format!("INCR {}", k[3]),
        format!("INCRBYFLOAT {} 1.5", k[3]),
        format!("MSET {} a {} b {} c", k[0], k[4], k[5]),
        format!("MSETNX {} a {} b", k[0], k[4]),
        format!("DEL {} {} {}", k[3], k[4], k[5]),
        format!("RPUSH {} a b c d", k[3]),
        format!("LPUSHX {} z", k[4]),
        format!("LPOP {}", k[3]),
        format!("RPOP {} 2", k[3]),
        format!("LINSERT {} BEFORE a q", k[3]),
        format!("LSET {} 0 w", k[3]),
        format!("LREM {} 0 a", k[3]),
        format!("LMOVE {} {} LEFT RIGHT", k[3], k[4]),
        format!("LMOVE {} {} RIGHT LEFT", k[4], k[4]),
        format!("LTRIM {} 1 0", k[4]),
        format!("RPUSH {} a b", k[3]),
        format!("LMPOP 2 {} {} LEFT COUNT 5", k[5], k[3]),
        format!("HSET {} f v g w", k[0]),
        format!("DEL {}", k[0]),
        format!("HSET {} f v g w", k[0]),
        format!("HSETNX {} f x", k[0]),
        format!("HSETNX {} h x", k[0]),
        format!("HINCRBY {} n 2", k[0]),
        format!("HINCRBYFLOAT {} m 2.5", k[0]),
        format!("HDEL {} f g zz", k[0]),
        format!("HDEL {} h n m", k[0]),
        format!("SADD {} a b c", k[1]),
        format!("SADD {} a", k[1]),
        format!("SREM {} a zz", k[1]),
        format!("SMOVE {} {} b", k[1], k[2]),
        format!("DEL {}", k[2]),
        format!("SMOVE {} {} b", k[1], k[2]),
        format!("SMOVE {} {} c", k[1], k[2]),
        format!("SADD {} 1 2 3", k[1]),
        format!("SUNIONSTORE {} {} {}", k[3], k[1], k[2]),
        format!("SINTERSTORE {} {} {}", k[4], k[1], k[2]),
        format!("SDIFFSTORE {} {} {}", k[3], k[1], k[1]),
        format!("SPOP {}", k[1]),
        format!("SPOP {} 10", k[1]),
        format!("ZADD {} 1 a 2 b 3 c", k[5]),
        format!("ZADD {} XX 1 zz", k[5]),
        format!("ZADD {} 1 a", k[5]),
        format!("ZINCRBY {} 5 a", k[5]),
        format!("ZREM {} b", k[5]),
        format!("ZPOPMIN {}", k[5]),
        format!("ZADD {} 1 a 2 b 3 c 4 d", k[5]),
        format!("ZREMRANGEBYSCORE {} 0 1", k[5]),
        format!("ZREMRANGEBYRANK {} 0 0", k[5]),
        format!("ZREMRANGEBYLEX {} - +", k[5]),
        format!("ZADD {} 1 a 2 b", k[5]),
        format!("ZUNIONSTORE {} 2 {} {}", k[0], k[5], k[4]),
        format!("ZINTERSTORE {} 2 {} {}", k[0], k[5], k[4]),
        format!("ZRANGESTORE {} {} 0 -1", k[2], k[5]),
        format!("ZDIFFSTORE {} 1 {}", k[2], k[4]),
        format!("ZMPOP 1 {} MAX COUNT 5", k[5]),
        format!("RPUSH {} 3 1 2", k[5]),
        format!("SORT {} STORE {}", k[5], k[4]),
        format!("SORT {} STORE {}", k[3], k[4]),
        format!("SET {} v", k[0]),
        format!("EXPIRE {} 100", k[0]),
        format!("EXPIRE {} 100 NX", k[0]),
        format!("PERSIST {}", k[0]),
        format!("PEXPIREAT {} 1", k[0]),
        format!("SET {} v", k[0]),
        format!("RENAME {} {}", k[0], k[1]),
        format!("RENAME {} {}", k[1], k[1]),
        format!("SET {} v", k[2]),
        format!("RENAMENX {} {}", k[1], k[2]),
        format!("RENAME {} {}", k[1], k[2]),
        format!("COPY {} {}", k[2], k[3]),
        format!("COPY {} {} REPLACE", k[2], k[3]),
        format!("COPY {} {} DB 3", k[2], k[2]),
        format!("MOVE {} 5", k[3]),
        format!("TYPE {}", k[4]),
        format!("EXISTS {} {}", k[4], k[5]),
        format!("TTL {}", k[4]),
        format!("STRLEN {}", k[4]),
        format!("LRANGE {} 0 -1", k[4]),
        format!("SMEMBERS {}", k[4]),
        format!("HGETALL {}", k[4]),
        format!("ZRANGE {} 0 -1", k[4]),
        format!("MGET {} {} {}", k[0], k[1], k[2]),
        // An expiry already past is kept until the key is next touched.
        format!("SET {} v PXAT 1000", k[5]),
        format!("GET {}", k[5]),
    ];
    script(&lines.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Runs `script` on `s` and checks each command's events against Redis's.
fn check_against(s: &Server, script: &[Vec<String>], expected: &[Vec<(String, String)>]) {
    let mut c = s.raw();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAmn"]);
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let mut l = listener(s);
    for (cmd, want) in script.iter().zip(expected) {
        run(&mut c, cmd);
        let mut got = next_events_of(&mut l, want.len(), &format!("{cmd:?} (expected {want:?})"));
        let mut want = want.clone();
        if s.shards > 1 {
            // Events of keys on different shards travel on different queues.
            got.sort();
            want.sort();
        }
        assert_eq!(got, want, "events of {cmd:?}");
    }
    assert!(l.pending_within(Duration::from_millis(200)).is_empty(), "no event beyond Redis's");
}

#[test]
fn every_family_publishes_the_events_redis_publishes() {
    let script = family_script();
    let expected = redis_events(&script);
    assert!(expected.iter().map(Vec::len).sum::<usize>() > 200, "the script exercises many events");
    each_shards(|s| check_against(s, &script, &expected));
}

#[test]
fn blocked_pops_publish_when_served() {
    each_shards(|s| {
        let mut c = s.raw();
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEl"]);
        let mut l = listener(s);
        let mut b = s.raw();
        b.send(&crate::support::encode(&["BLMOVE", "bl", "bz", "LEFT", "RIGHT", "10"]));
        assert!(crate::support::wait_until(Duration::from_secs(5), || {
            c.call(&["CLIENT", "LIST"]).text().is_some_and(|t| t.contains("cmd=blmove"))
        }));
        c.cmd(&["RPUSH", "bl", "a"]);
        assert_eq!(b.reply_bytes(), b"$1\r\na\r\n");
        let mut got = next_events(&mut l, 6);
        let mut want: Vec<(String, String)> = [
            ("__keyspace@0__:bl", "rpush"),
            ("__keyevent@0__:rpush", "bl"),
            ("__keyspace@0__:bz", "rpush"),
            ("__keyevent@0__:rpush", "bz"),
            ("__keyspace@0__:bl", "lpop"),
            ("__keyevent@0__:lpop", "bl"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        if s.shards > 1 {
            got.sort();
            want.sort();
        }
        assert_eq!(got, want);
    });
}

#[test]
fn active_expiry_publishes_expired_from_every_shard() {
    each_shards(|s| {
        let mut c = s.raw();
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
        let mut l = listener(s);
        let keys = spread_keys("ttl", 6);
        for k in &keys {
            c.cmd(&["SET", k, "v", "PX", "30"]);
        }
        let mut got: Vec<String> = next_events(&mut l, keys.len())
            .into_iter()
            .map(|(ch, k)| {
                assert_eq!(ch, "__keyevent@0__:expired");
                k
            })
            .collect();
        got.sort();
        let mut want = keys.clone();
        want.sort();
        assert_eq!(got, want);
    });
}

#[test]
fn listeners_on_every_shard_receive_each_event_once() {
    each_shards(|s| {
        let mut c = s.raw();
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "K$"]);
        // Enough listeners that, with 3 shards, some live on each shard.
        let mut ls: Vec<Raw> = (0..6).map(|_| listener(s)).collect();
        let keys = spread_keys("fan", 9);
        for k in &keys {
            c.cmd(&["INCR", k]);
        }
        for l in &mut ls {
            let mut got = next_events(l, keys.len());
            got.sort();
            let mut want: Vec<(String, String)> =
                keys.iter().map(|k| (format!("__keyspace@0__:{k}"), "incrby".to_string())).collect();
            want.sort();
            assert_eq!(got, want);
            assert!(l.pending_within(Duration::from_millis(50)).is_empty());
        }
    });
}

#[test]
fn classes_and_channels_follow_the_flags() {
    each_shards(|s| {
        let mut c = s.raw();
        let mut l = listener(s);
        // Nothing without K or E, whatever the classes.
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "A"]);
        c.cmd(&["SET", "a", "1"]);
        // Only list events, only on keyevent channels; other databases say so.
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "El"]);
        c.cmd(&["SET", "a", "2"]);
        c.cmd(&["SELECT", "9"]);
        c.cmd(&["RPUSH", "l", "x"]);
        assert_eq!(next_events(&mut l, 1), [("__keyevent@9__:rpush".to_string(), "l".to_string())]);
        // Key misses and new keys only when asked for, even with A.
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KA"]);
        c.cmd(&["GET", "nokey"]);
        c.cmd(&["SET", "fresh", "v"]);
        assert_eq!(next_events(&mut l, 1), [("__keyspace@9__:fresh".to_string(), "set".to_string())]);
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Kmn"]);
        c.cmd(&["GET", "nokey"]);
        c.cmd(&["SET", "fresh2", "v"]);
        assert_eq!(
            next_events(&mut l, 2),
            [
                ("__keyspace@9__:nokey".to_string(), "keymiss".to_string()),
                ("__keyspace@9__:fresh2".to_string(), "new".to_string())
            ]
        );
        assert!(l.pending_within(Duration::from_millis(100)).is_empty());
    });
}

#[test]
fn config_letters_parse_and_print_as_redis() {
    each_shards(|s| {
        let mut c = s.raw();
        for (set, get) in [
            ("KEA", "AKE"),
            ("Kgx", "gxK"),
            ("KEAmn", "AKEm"),
            ("Elgn$", "g$lnE"),
            ("$lshzxetd", "$lshzxetd"),
            ("gz", "gz"),
            ("", ""),
        ] {
            assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", set]), b"+OK\r\n", "{set}");
            let want = Reply::Array(vec![
                Reply::Bulk(b"notify-keyspace-events".to_vec()),
                Reply::Bulk(get.as_bytes().to_vec()),
            ]);
            assert_eq!(c.call(&["CONFIG", "GET", "notify-keyspace-events"]), want, "{set}");
        }
        assert_eq!(
            c.err(&["CONFIG", "SET", "notify-keyspace-events", "Kq"]),
            "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - \
             Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
        );
    });
}

#[test]
fn command_line_sets_the_flags() {
    let s = Server::start_with(3, &["--notify-keyspace-events", "KEA"]);
    let mut c = s.raw();
    let want = Reply::Array(vec![Reply::Bulk(b"notify-keyspace-events".to_vec()), Reply::Bulk(b"AKE".to_vec())]);
    assert_eq!(c.call(&["CONFIG", "GET", "notify-keyspace-events"]), want);
    let mut l = listener(&s);
    c.cmd(&["DEL", "x"]);
    c.cmd(&["LPUSH", "x", "1"]);
    let mut got = next_events(&mut l, 2);
    got.sort();
    assert_eq!(got, [("__keyevent@0__:lpush".into(), "x".into()), ("__keyspace@0__:x".into(), "lpush".into())]);
}
