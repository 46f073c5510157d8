//! Server and connection commands: INFO, CONFIG, CLIENT, COMMAND, SELECT,
//! SHUTDOWN, idle timeout and maxclients, with 1 and 3 shards.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::keys::info_field;
use crate::support::{each_shards, query, show, spread_keys, wait_until, Raw, Reply, Server};

#[test]
fn ping_echo_time_lastsave() {
    each_shards(|s| {
        let mut r = s.raw();
        assert_eq!(r.cmd(&["PING"]), b"+PONG\r\n");
        assert_eq!(r.cmd(&["PING", "hi"]), b"$2\r\nhi\r\n");
        assert_eq!(r.cmd(&["ECHO", "a\r\nb"]), b"$4\r\na\r\nb\r\n");
        assert_eq!(r.err(&["PING", "a", "b"]), "ERR wrong number of arguments for 'ping' command");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
        let Reply::Array(t) = r.call(&["TIME"]) else { panic!("TIME is not an array") };
        let secs: i64 = t[0].text().and_then(|s| s.parse().ok()).expect("TIME seconds");
        let micros: i64 = t[1].text().and_then(|s| s.parse().ok()).expect("TIME micros");
        assert!((secs - now).abs() <= 2, "TIME {secs} vs {now}");
        assert!((0..1_000_000).contains(&micros));
        let last = r.call(&["LASTSAVE"]).int().expect("LASTSAVE integer");
        assert!(last <= now + 2 && last > now - 3600, "LASTSAVE {last}");
    });
}

#[test]
fn info_sections() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["SET", "a", "1"]);
        let _: () = query(&mut c, &["SET", "b", "2", "EX", "1000"]);
        let _: Option<String> = query(&mut c, &["GET", "a"]);
        let _: Option<String> = query(&mut c, &["GET", "missing"]);
        let _ = s.raw().err(&["INCR", "nosuchcmd", "x"]);
        let info: String = query(&mut c, &["INFO"]);
        for section in
            ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Keyspace"]
        {
            assert!(info.contains(section), "INFO lacks {section}:\n{info}");
        }
        assert!(!info.contains("# Commandstats"), "plain INFO has no commandstats");
        let port = s.port.to_string();
        assert_eq!(info_field(&info, "tcp_port"), Some(port.as_str()));
        assert_eq!(info_field(&info, "redis_version").map(|v| v.starts_with("7.")), Some(true), "redis_version");
        for f in [
            "redis_mode",
            "os",
            "arch_bits",
            "process_id",
            "run_id",
            "uptime_in_seconds",
            "uptime_in_days",
            "connected_clients",
            "used_memory",
            "used_memory_human",
            "maxmemory",
            "total_connections_received",
            "total_commands_processed",
            "instantaneous_ops_per_sec",
            "rejected_connections",
            "expired_keys",
            "evicted_keys",
            "keyspace_hits",
            "keyspace_misses",
            "role",
            "used_cpu_sys",
            "used_cpu_user",
            "rdb_last_save_time",
            "aof_enabled",
        ] {
            assert!(info_field(&info, f).is_some(), "INFO lacks field {f}:\n{info}");
        }
        assert_eq!(info_field(&info, "role"), Some("master"));
        assert_eq!(info_field(&info, "keyspace_hits"), Some("1"));
        assert_eq!(info_field(&info, "keyspace_misses"), Some("1"));
        let db0 = info_field(&info, "db0").unwrap_or_default();
        assert!(db0.starts_with("keys=2,expires=1,avg_ttl="), "INFO keyspace db0: {db0}");
        let used: i64 = info_field(&info, "used_memory").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!(used > 0, "used_memory {used}");
        // Single sections, several sections, and the special names.
        let server: String = query(&mut c, &["INFO", "server"]);
        assert!(server.contains("# Server") && !server.contains("# Clients"), "INFO server:\n{server}");
        let two: String = query(&mut c, &["INFO", "clients", "KEYSPACE"]);
        assert!(two.contains("# Clients") && two.contains("# Keyspace") && !two.contains("# Server"), "{two}");
        let cmdstats: String = query(&mut c, &["INFO", "commandstats"]);
        let get = info_field(&cmdstats, "cmdstat_get").unwrap_or_default();
        assert!(get.starts_with("calls=2,usec="), "cmdstat_get: {cmdstats}");
        assert!(get.contains("rejected_calls=0,failed_calls=0"), "cmdstat_get: {get}");
        let errstats: String = query(&mut c, &["INFO", "errorstats"]);
        assert!(info_field(&errstats, "errorstat_ERR").is_some(), "errorstats:\n{errstats}");
        let all: String = query(&mut c, &["INFO", "all"]);
        assert!(all.contains("# Commandstats") && all.contains("# Errorstats"), "INFO all");
        let every: String = query(&mut c, &["INFO", "everything"]);
        assert!(every.contains("# Commandstats"), "INFO everything");
        let none: String = query(&mut c, &["INFO", "nosuchsection"]);
        assert!(none.trim().is_empty(), "INFO of an unknown section: {none:?}");
    });
}

#[test]
fn info_counts_across_shards() {
    let s = Server::start(3);
    let mut c = s.client();
    let keys = spread_keys("ic", 9);
    for k in &keys {
        let _: () = query(&mut c, &["SET", k, "v"]);
        let _: String = query(&mut c, &["GET", k]);
    }
    let info: String = query(&mut c, &["INFO", "keyspace"]);
    assert_eq!(info_field(&info, "db0"), Some("keys=9,expires=0,avg_ttl=0"), "{info}");
    let stats: String = query(&mut c, &["INFO", "stats"]);
    assert_eq!(info_field(&stats, "keyspace_hits"), Some("9"), "{stats}");
    let cmd: String = query(&mut c, &["INFO", "commandstats"]);
    let set = info_field(&cmd, "cmdstat_set").unwrap_or_default();
    assert!(set.starts_with("calls=9,"), "cmdstat_set summed over shards: {set}");
    let clients: String = query(&mut c, &["INFO", "clients"]);
    let _others: Vec<Raw> = (0..6).map(|_| s.raw()).collect();
    assert!(
        wait_until(Duration::from_secs(3), || {
            let clients: String = query(&mut c, &["INFO", "clients"]);
            info_field(&clients, "connected_clients") == Some("7")
        }),
        "connected_clients counts clients on every shard: {clients}"
    );
}

#[test]
fn config_get_set() {
    each_shards(|s| {
        let mut c = s.client();
        let v: Vec<String> = query(&mut c, &["CONFIG", "GET", "databases"]);
        assert_eq!(v, vec!["databases", "16"]);
        let port: Vec<String> = query(&mut c, &["CONFIG", "GET", "port"]);
        assert_eq!(port, vec!["port".to_string(), s.port.to_string()]);
        let all: Vec<String> = query(&mut c, &["CONFIG", "GET", "*"]);
        let names: BTreeSet<&str> = all.iter().step_by(2).map(String::as_str).collect();
        for n in [
            "port",
            "bind",
            "databases",
            "timeout",
            "maxclients",
            "requirepass",
            "save",
            "appendonly",
            "dir",
            "dbfilename",
        ] {
            assert!(names.contains(n), "CONFIG GET * lacks {n}: {names:?}");
        }
        let pat: Vec<String> = query(&mut c, &["CONFIG", "GET", "max*"]);
        assert!(
            pat.iter().step_by(2).all(|n| n.starts_with("max")) && pat.contains(&"maxclients".to_string()),
            "{pat:?}"
        );
        let multi: Vec<String> = query(&mut c, &["CONFIG", "GET", "timeout", "databases"]);
        assert_eq!(multi.len(), 4, "CONFIG GET with two names: {multi:?}");
        let none: Vec<String> = query(&mut c, &["CONFIG", "GET", "nosuchparam"]);
        assert!(none.is_empty());
        let _: () = query(&mut c, &["CONFIG", "SET", "timeout", "100"]);
        assert_eq!(query::<Vec<String>>(&mut c, &["CONFIG", "GET", "timeout"]), vec!["timeout", "100"]);
        let _: () = query(&mut c, &["CONFIG", "SET", "timeout", "0", "maxclients", "500"]);
        assert_eq!(query::<Vec<String>>(&mut c, &["CONFIG", "GET", "maxclients"]), vec!["maxclients", "500"]);
        // Every shard sees the change, whichever shard the next connection lands on.
        for _ in 0..6 {
            let mut other = s.client();
            assert_eq!(query::<Vec<String>>(&mut other, &["CONFIG", "GET", "maxclients"]), vec!["maxclients", "500"]);
        }
        let mut r = s.raw();
        assert_eq!(
            r.err(&["CONFIG", "SET", "foo", "1"]),
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        assert_eq!(
            r.err(&["CONFIG", "SET", "timeout", "abc"]),
            "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"
        );
        assert_eq!(
            r.err(&["CONFIG", "SET", "timeout", "10", "timeout", "20"]),
            "ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter"
        );
        assert_eq!(
            r.err(&["CONFIG", "SET", "timeout", "10", "databases", "3"]),
            "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
        );
        assert_eq!(r.err(&["CONFIG", "REWRITE"]), "ERR The server is running without a config file");
        let help = r.call(&["CONFIG", "HELP"]);
        assert!(help.items().is_some_and(|h| h.len() > 4), "CONFIG HELP: {help:?}");
    });
}

#[test]
fn config_resetstat() {
    each_shards(|s| {
        let mut c = s.client();
        let _: Option<String> = query(&mut c, &["GET", "missing"]);
        let _ = s.raw().err(&["GET"]);
        let _: () = query(&mut c, &["CONFIG", "RESETSTAT"]);
        let info: String = query(&mut c, &["INFO", "everything"]);
        assert_eq!(info_field(&info, "keyspace_misses"), Some("0"), "{info}");
        assert!(info_field(&info, "cmdstat_get").is_none(), "commandstats reset: {info}");
        assert!(info_field(&info, "errorstat_ERR").is_none(), "errorstats reset");
    });
}

#[test]
fn config_rewrite_with_file() {
    let dir = crate::support::scratch_dir();
    let path = dir.join(format!("rewrite-{}.conf", crate::support::free_port()));
    std::fs::write(&path, "# my config\ntimeout 5\n").expect("write config");
    let file = path.to_string_lossy().to_string();
    let s = Server::start_with_file(&file, 1, &[]);
    let mut c = s.client();
    let _: () = query(&mut c, &["CONFIG", "SET", "timeout", "77"]);
    let _: () = query(&mut c, &["CONFIG", "REWRITE"]);
    let text = std::fs::read_to_string(&path).expect("read config");
    assert!(text.contains("# my config"), "comments kept:\n{text}");
    assert!(text.lines().any(|l| l.trim() == "timeout 77"), "timeout rewritten:\n{text}");
    assert!(!text.lines().any(|l| l.trim() == "timeout 5"), "old line replaced:\n{text}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn client_id_name_list_info() {
    each_shards(|s| {
        let mut r = s.raw();
        let id = r.call(&["CLIENT", "ID"]).int().expect("CLIENT ID");
        assert!(id > 0);
        assert_eq!(r.cmd(&["CLIENT", "GETNAME"]), b"$-1\r\n");
        assert_eq!(r.cmd(&["CLIENT", "SETNAME", "worker-1"]), b"+OK\r\n");
        assert_eq!(r.cmd(&["CLIENT", "GETNAME"]), b"$8\r\nworker-1\r\n");
        assert_eq!(
            r.err(&["CLIENT", "SETNAME", "a b"]),
            "ERR Client names cannot contain spaces, newlines or special characters."
        );
        let info = r.call(&["CLIENT", "INFO"]).text().expect("CLIENT INFO is a bulk string");
        for field in
            [format!("id={id} "), "name=worker-1 ".into(), "db=0 ".into(), "cmd=client|info ".into(), "resp=2".into()]
        {
            assert!(info.contains(&field), "CLIENT INFO lacks {field:?}: {info}");
        }
        assert!(info.starts_with(&format!("id={id} addr=127.0.0.1:")) && info.ends_with('\n'), "CLIENT INFO: {info:?}");
        // CLIENT LIST shows clients of every shard.
        let mut others: Vec<Raw> = (0..8).map(|_| s.raw()).collect();
        let mut ids = vec![id];
        for (i, o) in others.iter_mut().enumerate() {
            assert_eq!(o.cmd(&["CLIENT", "SETNAME", &format!("other-{i}")]), b"+OK\r\n");
            ids.push(o.call(&["CLIENT", "ID"]).int().expect("CLIENT ID"));
        }
        let list = r.call(&["CLIENT", "LIST"]).text().expect("CLIENT LIST is a bulk string");
        for i in 0..8 {
            assert!(list.contains(&format!("name=other-{i} ")), "CLIENT LIST lacks other-{i}:\n{list}");
        }
        for id in &ids {
            let n = list.lines().filter(|l| l.starts_with(&format!("id={id} "))).count();
            assert_eq!(n, 1, "CLIENT LIST shows client {id} once:\n{list}");
        }
        let only =
            r.call(&["CLIENT", "LIST", "ID", &ids[3].to_string(), &ids[5].to_string()]).text().unwrap_or_default();
        assert_eq!(only.lines().count(), 2, "CLIENT LIST ID: {only}");
        let normal = r.call(&["CLIENT", "LIST", "TYPE", "normal"]).text().unwrap_or_default();
        assert!(ids.iter().all(|id| normal.contains(&format!("id={id} "))), "CLIENT LIST TYPE normal:\n{normal}");
        let ids_sorted: BTreeSet<i64> = ids.iter().copied().collect();
        assert_eq!(ids_sorted.len(), 9, "client ids are unique across shards: {ids:?}");
    });
}

#[test]
fn client_kill() {
    each_shards(|s| {
        let mut r = s.raw();
        let mut victims: Vec<Raw> = (0..4).map(|_| s.raw()).collect();
        let ids: Vec<i64> = victims.iter_mut().map(|v| v.call(&["CLIENT", "ID"]).int().expect("id")).collect();
        assert_eq!(r.cmd(&["CLIENT", "KILL", "ID", &ids[0].to_string()]), b":1\r\n");
        assert!(victims[0].read_to_close().is_empty(), "killed client is closed");
        assert_eq!(r.cmd(&["CLIENT", "KILL", "ID", &ids[0].to_string()]), b":0\r\n");
        // The old form takes the peer address.
        let info = victims[1].call(&["CLIENT", "INFO"]).text().unwrap_or_default();
        let addr = info.split(' ').find_map(|f| f.strip_prefix("addr=")).expect("addr field").to_string();
        assert_eq!(r.cmd(&["CLIENT", "KILL", &addr]), b"+OK\r\n");
        victims[1].read_to_close();
        assert_eq!(r.err(&["CLIENT", "KILL", "1.2.3.4:5"]), "ERR No such client");
        assert_eq!(r.cmd(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"]), b":0\r\n");
        assert_eq!(r.err(&["CLIENT", "KILL", "FOO", "bar"]), "ERR syntax error");
        // SKIPME yes (the default) spares the caller.
        let me = r.call(&["CLIENT", "ID"]).int().expect("id");
        assert_eq!(r.cmd(&["CLIENT", "KILL", "ID", &me.to_string()]), b":0\r\n");
        // Wait until only this client and the two remaining victims are left
        // (closed connections leave the list asynchronously).
        let settled = wait_until(Duration::from_secs(3), || {
            r.call(&["CLIENT", "LIST"]).text().is_some_and(|l| l.lines().count() == 3)
        });
        assert!(settled, "CLIENT LIST: {:?}", r.call(&["CLIENT", "LIST"]).text());
        assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "normal"]), b":2\r\n");
        victims[2].read_to_close();
        victims[3].read_to_close();
        assert_eq!(r.cmd(&["PING"]), b"+PONG\r\n");
    });
}

#[test]
fn client_reply_modes() {
    each_shards(|s| {
        let mut r = s.raw();
        r.send(b"CLIENT REPLY OFF\r\nSET a 1\r\nGET a\r\nCLIENT REPLY ON\r\nGET a\r\n");
        assert_eq!(r.reply_bytes(), b"+OK\r\n", "only CLIENT REPLY ON answers");
        assert_eq!(r.reply_bytes(), b"$1\r\n1\r\n");
        r.send(b"CLIENT REPLY SKIP\r\nGET a\r\nPING\r\n");
        assert_eq!(r.reply_bytes(), b"+PONG\r\n", "SKIP drops its own reply and the next one");
        assert_eq!(r.err(&["CLIENT", "REPLY", "FOO"]), "ERR syntax error");
    });
}

#[test]
fn client_pause_and_no_evict() {
    each_shards(|s| {
        let mut r = s.raw();
        assert_eq!(r.cmd(&["CLIENT", "NO-EVICT", "on"]), b"+OK\r\n");
        assert_eq!(r.cmd(&["CLIENT", "NO-EVICT", "off"]), b"+OK\r\n");
        assert_eq!(r.err(&["CLIENT", "NO-EVICT", "maybe"]), "ERR syntax error");
        assert_eq!(r.err(&["CLIENT", "PAUSE", "abc"]), "ERR timeout is not an integer or out of range");
        assert_eq!(r.err(&["CLIENT", "PAUSE", "10", "FOO"]), "ERR CLIENT PAUSE mode must be WRITE or ALL");
        assert_eq!(r.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), b"+OK\r\n");
        let mut w = s.raw();
        assert_eq!(w.cmd(&["GET", "k"]), b"$-1\r\n", "reads pass a WRITE pause");
        w.send(b"SET k v\r\n");
        assert!(w.pending_within(Duration::from_millis(300)).is_empty(), "a write is held during CLIENT PAUSE WRITE");
        assert_eq!(r.cmd(&["CLIENT", "UNPAUSE"]), b"+OK\r\n");
        assert_eq!(w.reply_bytes(), b"+OK\r\n", "the held write runs after UNPAUSE");
    });
}

#[test]
fn command_count_info_docs_list() {
    if crate::support::against_redis() {
        return; // Redis has every command, Tessera the ones in commands.txt.
    }
    let expected: BTreeSet<&str> = include_str!("../../scripts/commands.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('|').next().unwrap_or(l))
        .collect();
    each_shards(|s| {
        let mut r = s.raw();
        let count = r.call(&["COMMAND", "COUNT"]).int().expect("COMMAND COUNT");
        assert_eq!(count as usize, expected.len(), "COMMAND COUNT vs scripts/commands.txt");
        // COMMAND LIST names containers and their subcommands ("client|kill").
        let list = r.call(&["COMMAND", "LIST"]);
        let names: BTreeSet<String> = list.items().unwrap_or_default().iter().filter_map(Reply::text).collect();
        let top: BTreeSet<String> = names.iter().filter(|n| !n.contains('|')).cloned().collect();
        let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(top, want, "COMMAND LIST top-level names vs scripts/commands.txt");
        // CLIENT SETINFO is Redis 7.2: the 7.0 metadata Tessera is generated from lacks it.
        let subs =
            include_str!("../../scripts/commands.txt").lines().filter(|l| l.contains('|') && !l.starts_with('#'));
        for sub in subs.filter(|l| l.trim() != "client|setinfo") {
            assert!(names.contains(sub.trim()), "COMMAND LIST lacks {sub}");
        }
        let g = r.call(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "get*"]);
        let g: BTreeSet<String> = g.items().unwrap_or_default().iter().filter_map(Reply::text).collect();
        assert_eq!(
            g,
            ["get", "getbit", "getdel", "getex", "getrange", "getset"].iter().map(|s| s.to_string()).collect()
        );
        let info = r.cmd(&["COMMAND", "INFO", "get", "nosuch"]);
        let text = show(&info);
        assert!(
            text.starts_with(
                "*2\\r\\n*10\\r\\n$3\\r\\nget\\r\\n:2\\r\\n*2\\r\\n+readonly\\r\\n+fast\\r\\n:1\\r\\n:1\\r\\n:1\\r\\n"
            ),
            "COMMAND INFO get: {text}"
        );
        assert!(text.ends_with("$-1\\r\\n"), "COMMAND INFO of an unknown command is nil: {text}");
        let Reply::Array(info) = r.call(&["COMMAND", "INFO"]) else { panic!("COMMAND INFO is an array") };
        assert_eq!(info.len(), expected.len(), "COMMAND INFO without names lists every command");
        let docs = r.call(&["COMMAND", "DOCS", "get"]);
        let Reply::Array(d) = &docs else { panic!("COMMAND DOCS: {docs:?}") };
        assert_eq!(d.first().and_then(Reply::text).as_deref(), Some("get"));
        let Some(Reply::Array(fields)) = d.get(1) else { panic!("COMMAND DOCS get: {docs:?}") };
        assert_eq!(fields.first().and_then(Reply::text).as_deref(), Some("summary"));
        assert_eq!(fields.get(1).and_then(Reply::text).as_deref(), Some("Get the value of a key"));
        let whole = r.call(&["COMMAND"]);
        assert_eq!(whole.items().map(<[Reply]>::len), Some(expected.len()), "COMMAND");
    });
}

#[test]
fn select_isolates_databases() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("sel", 3);
        for key in &k {
            let _: () = query(&mut c, &["SET", key, "db0"]);
        }
        let _: () = query(&mut c, &["SELECT", "15"]);
        for key in &k {
            assert_eq!(query::<Option<String>>(&mut c, &["GET", key]), None);
            let _: () = query(&mut c, &["SET", key, "db15"]);
        }
        let mut other = s.client();
        for key in &k {
            assert_eq!(query::<String>(&mut other, &["GET", key]), "db0");
        }
        let info: String = query(&mut other, &["INFO", "keyspace"]);
        assert!(info.contains("db0:keys=3") && info.contains("db15:keys=3"), "{info}");
    });
}

#[test]
fn databases_directive() {
    let s = Server::start_with(3, &["--databases", "4"]);
    let mut r = s.raw();
    assert_eq!(r.cmd(&["SELECT", "3"]), b"+OK\r\n");
    assert_eq!(r.err(&["SELECT", "4"]), "ERR DB index is out of range");
}

#[test]
fn shutdown_stops_the_server() {
    for n in [1, 3] {
        let mut s = Server::start(n);
        let mut r = s.raw();
        assert_eq!(r.err(&["SHUTDOWN", "FOO"]), "ERR syntax error");
        r.send(b"SHUTDOWN NOSAVE\r\n");
        let _ = r.read_to_close();
        assert!(
            wait_until(Duration::from_secs(10), || s.exited()),
            "server with {n} shards still running after SHUTDOWN"
        );
    }
}

#[test]
fn idle_timeout_closes_clients() {
    let s = Server::start_with(3, &["--timeout", "1"]);
    let mut idle = s.raw();
    assert_eq!(idle.cmd(&["PING"]), b"+PONG\r\n");
    // Closed between 1 and a few seconds later, without any request.
    let bytes = idle.read_to_close();
    assert!(bytes.is_empty(), "idle client got {:?}", show(&bytes));
}

#[test]
fn maxclients_rejects_extra_connections() {
    let s = Server::start_with(3, &["--maxclients", "3"]);
    // The start-up probe connection may not be released yet: retry until a slot is free.
    let mut kept: Vec<Raw> = Vec::new();
    for _ in 0..3 {
        let ok = wait_until(Duration::from_secs(3), || {
            let mut c = s.raw();
            c.send(b"PING\r\n");
            let pong = matches!(c.try_reply(), Ok(Some((Reply::Simple(_), _))));
            if pong {
                kept.push(c);
            }
            pong
        });
        assert!(ok, "could not open {} connections with maxclients 3", kept.len() + 1);
    }
    let mut extra = s.raw();
    assert_eq!(extra.read_to_close(), b"-ERR max number of clients reached\r\n");
    drop(kept.pop());
    assert!(
        wait_until(Duration::from_secs(3), || {
            let mut c = s.raw();
            c.send(b"PING\r\n");
            matches!(c.try_reply(), Ok(Some((Reply::Simple(_), _))))
        }),
        "a slot frees up when a client leaves"
    );
}

#[test]
fn auth_and_requirepass() {
    let s = Server::start_with(3, &["--requirepass", "secret"]);
    let mut r = s.raw();
    assert_eq!(r.err(&["SET", "k", "v"]), "NOAUTH Authentication required.");
    assert!(r.err(&["HELLO", "3"]).starts_with("NOAUTH HELLO must be called with the client already authenticated"));
    assert_eq!(r.err(&["AUTH", "wrong"]), "WRONGPASS invalid username-password pair or user is disabled.");
    assert_eq!(r.cmd(&["AUTH", "secret"]), b"+OK\r\n");
    assert_eq!(r.cmd(&["SET", "k", "v"]), b"+OK\r\n");
    let mut h = s.raw();
    let hello = h.cmd(&["HELLO", "3", "AUTH", "default", "secret"]);
    assert!(hello.starts_with(b"%7\r\n"), "HELLO 3 AUTH: {}", show(&hello));
    assert_eq!(h.cmd(&["GET", "k"]), b"$1\r\nv\r\n");
    let unprotected = Server::start(1);
    let mut open = unprotected.raw();
    assert_eq!(
        open.err(&["AUTH", "x"]),
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
    );
}

#[test]
fn auth_pipelined_with_commands() {
    // Redis checks authentication as each command runs: commands pipelined
    // after AUTH in the same packet run, and after RESET they are refused.
    let s = Server::start_with(2, &["--requirepass", "pw"]);
    let mut r = s.raw();
    r.send(b"AUTH pw\r\nSET k v\r\nGET k\r\nRESET\r\nGET k\r\n");
    let want = b"+OK\r\n+OK\r\n$1\r\nv\r\n+RESET\r\n-NOAUTH Authentication required.\r\n";
    let got = r.read_bytes(want.len());
    assert_eq!(got, want, "AUTH, SET, GET, RESET, GET in one write: {}", show(&got));
}

#[test]
fn redis_crate_over_resp3() {
    each_shards(|s| {
        let mut c = s.client_resp3();
        let _: () = query(&mut c, &["SET", "k", "v"]);
        assert_eq!(query::<String>(&mut c, &["GET", "k"]), "v");
        assert_eq!(query::<Option<String>>(&mut c, &["GET", "missing"]), None);
        let v: redis::Value = query(&mut c, &["CONFIG", "GET", "databases"]);
        let want = redis::Value::Map(vec![(
            redis::Value::BulkString(b"databases".to_vec()),
            redis::Value::BulkString(b"16".to_vec()),
        )]);
        assert_eq!(v, want, "CONFIG GET is a map in RESP3");
    });
}
