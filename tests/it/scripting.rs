//! Lua scripting: EVAL/EVALSHA/FCALL over real sockets on 1 and 3 shards,
//! the shared script cache and libraries seen from every shard, BUSY and
//! SCRIPT KILL from other clients (on the script's shard too), and the
//! differential corpus.

use std::time::{Duration, Instant};

use crate::support::{each_shards, query, spread_keys, Raw, Reply, Server};

#[test]
fn corpus_scripting() {
    crate::differential::run_corpus("corpus/scripting.txt", include_str!("corpus/scripting.txt"), false);
}

#[test]
fn corpus_scripting_resp3() {
    crate::differential::run_corpus("corpus/scripting.txt", include_str!("corpus/scripting.txt"), true);
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

#[test]
fn scripts_run_where_their_keys_are() {
    each_shards(|s| {
        let mut c = s.client();
        // One script per shard: its declared keys share a hash tag.
        for tag in spread_keys("tag", 3) {
            let (a, b) = (format!("{{{tag}}}a"), format!("{{{tag}}}b"));
            let r: Vec<String> = redis::cmd("EVAL")
                .arg("redis.call('set', KEYS[1], ARGV[1]) redis.call('rpush', KEYS[2], ARGV[2]) return {redis.call('get', KEYS[1]), redis.call('lpop', KEYS[2])}")
                .arg(2)
                .arg(&a)
                .arg(&b)
                .arg("one")
                .arg("two")
                .query(&mut c)
                .unwrap();
            assert_eq!(r, vec!["one", "two"]);
            let v: String = query(&mut c, &["GET", &a]);
            assert_eq!(v, "one");
        }
        // Scripts without keys run on the connection's shard.
        let n: i64 = query(&mut c, &["EVAL", "return 41 + 1", "0"]);
        assert_eq!(n, 42);
    });
}

#[test]
fn cache_and_libraries_are_shared_by_every_shard() {
    each_shards(|s| {
        let mut loader = s.raw();
        let sha = match loader.call(&["SCRIPT", "LOAD", "return 'cached ' .. KEYS[1]"]) {
            Reply::Bulk(b) => String::from_utf8(b).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            loader.call(&["FUNCTION", "LOAD", "#!lua name=shared\nredis.register_function('who', function(keys) return redis.call('get', keys[1]) end)"]),
            bulk("shared")
        );
        // Many connections (spread over the shards by the kernel), keys on every shard.
        let keys = spread_keys("k", 6);
        for (i, k) in keys.iter().enumerate() {
            let mut c = s.raw();
            assert_eq!(c.call(&["EVALSHA", &sha, "1", k]), bulk(&format!("cached {k}")));
            assert_eq!(c.call(&["SET", k, &i.to_string()]), Reply::Simple(b"OK".to_vec()));
            assert_eq!(c.call(&["FCALL", "who", "1", k]), bulk(&i.to_string()));
            assert!(matches!(c.call(&["FCALL_RO", "who", "1", k]), Reply::Error(_)));
        }
        // SCRIPT FLUSH and FUNCTION DELETE reach every shard.
        assert_eq!(loader.call(&["SCRIPT", "FLUSH"]), Reply::Simple(b"OK".to_vec()));
        assert_eq!(loader.call(&["FUNCTION", "DELETE", "shared"]), Reply::Simple(b"OK".to_vec()));
        for k in &keys {
            let mut c = s.raw();
            assert_eq!(c.err(&["EVALSHA", &sha, "1", k]), "NOSCRIPT No matching script. Please use EVAL.");
            assert_eq!(c.err(&["FCALL", "who", "1", k]), "ERR Function not found");
        }
    });
}

#[test]
fn function_dump_restores_on_another_server() {
    let a = Server::start(3);
    let b = Server::start(1);
    let mut ca = a.raw();
    let lib = "#!lua name=mylib\nredis.register_function{function_name='hello', callback=function(keys, args) return 'hello ' .. args[1] end, description='greets', flags={'no-writes'}}";
    assert_eq!(ca.call(&["FUNCTION", "LOAD", lib]), bulk("mylib"));
    let payload = match ca.call(&["FUNCTION", "DUMP"]) {
        Reply::Bulk(p) => p,
        other => panic!("{other:?}"),
    };
    let mut cb = b.raw();
    assert_eq!(cb.call(&[b"FUNCTION".as_slice(), b"RESTORE", &payload]), Reply::Simple(b"OK".to_vec()));
    assert_eq!(cb.call(&["FCALL_RO", "hello", "0", "you"]), bulk("hello you"));
    assert_eq!(cb.err(&[b"FUNCTION".as_slice(), b"RESTORE", &payload]), "ERR Library mylib already exists");
    assert_eq!(cb.call(&[b"FUNCTION".as_slice(), b"RESTORE", &payload, b"REPLACE"]), Reply::Simple(b"OK".to_vec()));
}

/// A new connection once the script is busy: it answers PING with BUSY,
/// whichever shard the kernel gave it to (before the threshold, another
/// shard still answers PONG).
fn busy_client(s: &Server) -> Raw {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = s.raw();
        match c.call(&["PING"]) {
            Reply::Error(e) if e.starts_with(b"BUSY Redis is busy running a script.") => return c,
            Reply::Simple(p) if p == b"PONG" => {}
            r => panic!("{r:?}"),
        }
        assert!(Instant::now() < deadline, "the script never became busy");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn busy_script_is_killed_by_another_client() {
    for shards in [1, 3] {
        busy_script_is_killed(shards);
    }
}

fn busy_script_is_killed(shards: usize) {
    let s = Server::start_with(shards, &["--busy-reply-threshold", "100"]);
    let mut runner = s.raw();
    runner.send(&crate::support::encode(&["EVAL", "local i = 0 while true do i = i + 1 end", "1", "spin"]));
    let mut other = busy_client(&s);
    assert_eq!(
        other.err(&["GET", "x"]),
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    );
    assert_eq!(
        other.err(&["FUNCTION", "KILL"]),
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    );
    assert_eq!(other.call(&["SCRIPT", "KILL"]), Reply::Simple(b"OK".to_vec()));
    let e = match runner.reply() {
        Reply::Error(e) => String::from_utf8(e).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(e.starts_with("ERR Script killed by user with SCRIPT KILL... script: "), "{e}");
    assert!(e.ends_with(", on @user_script:1."), "{e}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match other.call(&["SCRIPT", "KILL"]) {
            Reply::Error(e) if e == b"NOTBUSY No scripts in execution right now." => break,
            r => assert!(Instant::now() < deadline, "still busy: {r:?}"),
        }
    }
    assert_eq!(other.call(&["PING"]), Reply::Simple(b"PONG".to_vec()));

    // A script that wrote cannot be killed; FUNCTION KILL stops functions.
    assert_eq!(
        runner.call(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=spin\nredis.register_function('spin', function() while true do end end)"
        ]),
        bulk("spin")
    );
    runner.send(&crate::support::encode(&["FCALL", "spin", "1", "spin"]));
    let mut other = busy_client(&s);
    assert_eq!(
        other.err(&["PING"]),
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    );
    assert_eq!(other.call(&["FUNCTION", "KILL"]), Reply::Simple(b"OK".to_vec()));
    let e = match runner.reply() {
        Reply::Error(e) => String::from_utf8(e).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(e, "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.");

    runner.send(&crate::support::encode(&[
        "EVAL",
        "redis.call('set', KEYS[1], 'v') local t = tonumber(redis.call('time')[1]) local i = 0 \
         while true do i = i + 1 if i % 10000 == 0 and tonumber(redis.call('time')[1]) >= t + 2 then break end end \
         return 'done'",
        "1",
        "spin",
    ]));
    let mut other = busy_client(&s);
    assert!(other.err(&["SCRIPT", "KILL"]).starts_with("UNKILLABLE Sorry the script already executed write commands"));
    assert_eq!(runner.reply(), bulk("done"));
}

/// On one shard, the script's own shard answers everyone else while it runs:
/// connections open before it, pipelines, inline commands, SHUTDOWN; a
/// command that needs its connection's state waits for the script.
#[test]
fn busy_shard_answers_its_own_clients() {
    let mut s = Server::start_with(1, &["--busy-reply-threshold", "100"]);
    let mut early = s.raw();
    assert_eq!(early.call(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    let mut runner = s.raw();
    runner.send(&crate::support::encode(&["EVAL", "while true do end", "0"]));
    let mut late = busy_client(&s);
    // A pipeline in one write: unknown command first (checked before BUSY), inline, multibulk.
    early.send(b"NOSUCH a\r\nGET x\r\n*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n");
    assert_eq!(early.reply(), Reply::Error(b"ERR unknown command 'NOSUCH', with args beginning with: 'a' ".to_vec()));
    let busy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    assert_eq!(early.reply(), Reply::Error(busy.as_bytes().to_vec()));
    assert_eq!(early.reply(), Reply::Error(busy.as_bytes().to_vec()));
    assert_eq!(late.err(&["SHUTDOWN"]), busy);
    assert_eq!(late.err(&["SHUTDOWN", "bogus"]), "ERR syntax error");
    assert_eq!(late.err(&["FUNCTION", "KILL"]), busy);
    // MULTI needs the connection's state: it is answered after the script
    // (Redis answers it at once; docs/compatibility.md).
    let mut waiting = s.raw();
    waiting.send(&crate::support::encode(&["MULTI"]));
    if !crate::support::against_redis() {
        assert!(waiting.pending_within(Duration::from_millis(300)).is_empty());
    }
    assert_eq!(early.call(&["SCRIPT", "KILL"]), Reply::Simple(b"OK".to_vec()));
    let e = match runner.reply() {
        Reply::Error(e) => String::from_utf8(e).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(e.starts_with("ERR Script killed by user with SCRIPT KILL... script: "), "{e}");
    assert_eq!(waiting.reply(), Reply::Simple(b"OK".to_vec()));
    assert_eq!(waiting.call(&["EXEC"]), Reply::Array(vec![]));
    assert_eq!(late.call(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(early.err(&["SCRIPT", "KILL"]), "NOTBUSY No scripts in execution right now.");

    // A script that wrote cannot be killed, but SHUTDOWN NOSAVE stops the server.
    runner.send(&crate::support::encode(&["EVAL", "redis.call('set', 'k', 'v') while true do end", "0"]));
    let mut last = busy_client(&s);
    assert!(last.err(&["SCRIPT", "KILL"]).starts_with("UNKILLABLE Sorry the script already executed write commands"));
    last.send(&crate::support::encode(&["SHUTDOWN", "NOSAVE"]));
    assert!(
        crate::support::wait_until(Duration::from_secs(10), || s.exited()),
        "SHUTDOWN NOSAVE did not stop the server"
    );
}
