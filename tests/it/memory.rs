//! Memory accounting: INFO memory, MEMORY USAGE / STATS / DOCTOR / PURGE /
//! MALLOC-STATS / HELP, with 1 and 3 shards, and reply shapes next to Redis.

use crate::keys::info_field;
use crate::support::{against_redis, each_shards, query, start_redis, Raw, Reply, Server};

fn info_memory(r: &mut Raw) -> String {
    match r.call(&["INFO", "memory"]) {
        Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO memory: {other:?}"),
    }
}

fn field(info: &str, name: &str) -> i64 {
    info_field(info, name).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("INFO lacks {name}:\n{info}"))
}

/// `count` keys of `size`-byte values, pipelined.
fn fill(r: &mut Raw, prefix: &str, count: usize, size: usize) {
    let value = "v".repeat(size);
    let mut batch = Vec::new();
    for i in 0..count {
        batch.extend(crate::support::encode(&["SET", &format!("{prefix}{i}"), &value]));
    }
    r.send(&batch);
    for _ in 0..count {
        assert_eq!(r.reply(), Reply::Simple("OK".into()));
    }
}

#[test]
fn used_memory_rises_with_data_and_returns_after_flushall() {
    each_shards(|s| {
        let mut r = s.raw();
        let start = field(&info_memory(&mut r), "used_memory");
        fill(&mut r, "k", 4000, 1000);
        let full = field(&info_memory(&mut r), "used_memory");
        assert!(full - start > 4_000_000, "4 MB of values: used_memory {start} -> {full}");
        assert!(full - start < 6_000_000, "4 MB of values: used_memory {start} -> {full}");
        assert_eq!(r.call(&["FLUSHALL"]), Reply::Simple("OK".into()));
        let after = field(&info_memory(&mut r), "used_memory");
        assert!(after - start < (full - start) / 10, "after FLUSHALL: {start} -> {full} -> {after}");
    });
}

#[test]
fn info_memory_fields_are_present_and_consistent() {
    each_shards(|s| {
        let mut r = s.raw();
        fill(&mut r, "k", 1000, 100);
        assert_eq!(r.call(&["HSET", "h", "f", "v"]), Reply::Int(1));
        let info = info_memory(&mut r);
        for f in [
            "used_memory",
            "used_memory_human",
            "used_memory_rss",
            "used_memory_rss_human",
            "used_memory_peak",
            "used_memory_peak_human",
            "used_memory_peak_perc",
            "used_memory_overhead",
            "used_memory_startup",
            "used_memory_dataset",
            "used_memory_dataset_perc",
            "allocator_allocated",
            "allocator_active",
            "allocator_resident",
            "total_system_memory",
            "total_system_memory_human",
            "used_memory_lua",
            "used_memory_scripts",
            "number_of_cached_scripts",
            "number_of_functions",
            "number_of_libraries",
            "maxmemory",
            "maxmemory_human",
            "maxmemory_policy",
            "allocator_frag_ratio",
            "allocator_frag_bytes",
            "allocator_rss_ratio",
            "allocator_rss_bytes",
            "rss_overhead_ratio",
            "rss_overhead_bytes",
            "mem_fragmentation_ratio",
            "mem_fragmentation_bytes",
            "mem_not_counted_for_evict",
            "mem_clients_normal",
            "mem_aof_buffer",
            "mem_allocator",
            "lazyfree_pending_objects",
            "lazyfreed_objects",
        ] {
            assert!(info_field(&info, f).is_some(), "INFO memory lacks {f}:\n{info}");
        }
        let used = field(&info, "used_memory");
        let overhead = field(&info, "used_memory_overhead");
        let dataset = field(&info, "used_memory_dataset");
        let startup = field(&info, "used_memory_startup");
        assert!(field(&info, "used_memory_rss") > 0);
        assert!(overhead >= startup, "overhead {overhead} < startup {startup}");
        assert_eq!(info_field(&info, "maxmemory_policy"), Some("noeviction"));
        assert!(info_field(&info, "used_memory_peak_perc").is_some_and(|p| p.ends_with('%')));
        // Redis computes used_memory and the overhead report at two moments.
        assert!((dataset + overhead - used).abs() <= used / 100, "{dataset} + {overhead} vs {used}");
        assert!(dataset > 100_000, "1000 values of 100 B: dataset {dataset}");

        assert_eq!(r.call(&["CONFIG", "SET", "maxmemory", "100mb"]), Reply::Simple("OK".into()));
        let info = info_memory(&mut r);
        assert_eq!(info_field(&info, "maxmemory"), Some("104857600"));
        assert_eq!(info_field(&info, "maxmemory_human"), Some("100.00M"));
        assert_eq!(r.call(&["CONFIG", "SET", "maxmemory", "0"]), Reply::Simple("OK".into()));
        if against_redis() {
            // Redis 7.0 updates the peak in its cron only.
            return;
        }
        let used = field(&info, "used_memory");
        assert!(field(&info, "used_memory_peak") >= used, "peak below used:\n{info}");
        assert_eq!(field(&info, "used_memory_dataset") + field(&info, "used_memory_overhead"), used);
        assert_eq!(info_field(&info, "mem_allocator"), Some("mimalloc"));
        // Redis 7.0 refreshes its client memory figures in clientsCron.
        assert!(field(&info, "mem_clients_normal") > 0, "this client's buffers");
    });
}

/// The replies of `cmds` from Redis and from Tessera (1 and 3 shards) must be
/// byte-identical; `Some(kind)` compares only the reply type.
#[test]
fn memory_reply_shapes_match_redis() {
    let redis = start_redis();
    let servers = [Server::start(1), Server::start(3)];
    let mut conns: Vec<(String, Raw)> = vec![("redis".into(), redis.raw())];
    for s in &servers {
        conns.push((format!("tessera --shards {}", s.shards), s.raw()));
    }
    let cases: &[(&[&str], bool)] = &[
        (&["SET", "str", "hello"], true),
        (&["RPUSH", "list", "a", "b", "c"], true),
        (&["HSET", "hash", "f1", "v1", "f2", "v2"], true),
        (&["SADD", "set", "1", "2", "x"], true),
        (&["ZADD", "zset", "1", "a", "2", "b"], true),
        (&["MEMORY", "USAGE", "missing"], true),
        (&["MEMORY", "USAGE", "missing", "SAMPLES", "0"], true),
        (&["MEMORY", "USAGE", "str"], false),
        (&["MEMORY", "USAGE", "list", "SAMPLES", "0"], false),
        (&["MEMORY", "USAGE", "hash", "samples", "2"], false),
        (&["MEMORY", "USAGE", "set"], false),
        (&["MEMORY", "USAGE", "zset", "SAMPLES", "1", "SAMPLES", "5"], false),
        (&["MEMORY", "USAGE", "str", "SAMPLES", "-1"], true),
        (&["MEMORY", "USAGE", "missing", "SAMPLES", "-1"], true),
        (&["MEMORY", "USAGE", "str", "SAMPLES", "x"], true),
        (&["MEMORY", "USAGE", "str", "SAMPLES", "99999999999999999999"], true),
        (&["MEMORY", "USAGE", "str", "SAMPLES"], true),
        (&["MEMORY", "USAGE", "str", "FOO"], true),
        (&["MEMORY", "USAGE", "str", "FOO", "1"], true),
        (&["MEMORY", "USAGE"], true),
        (&["MEMORY"], true),
        (&["MEMORY", "FOO"], true),
        (&["MEMORY", "STATS", "x"], true),
        (&["MEMORY", "DOCTOR", "x"], true),
        (&["MEMORY", "PURGE", "x"], true),
        (&["MEMORY", "MALLOC-STATS", "x"], true),
        (&["MEMORY", "HELP", "x"], true),
        (&["MEMORY", "HELP"], true),
        (&["MEMORY", "help"], true),
        (&["MEMORY", "PURGE"], true),
        (&["MEMORY", "DOCTOR"], false),
        (&["MEMORY", "MALLOC-STATS"], false),
        (&["MEMORY", "STATS"], false),
    ];
    for (cmd, exact) in cases {
        let replies: Vec<(String, Vec<u8>)> = conns.iter_mut().map(|(n, c)| (n.clone(), c.cmd(cmd))).collect();
        let (_, want) = &replies[0];
        for (name, got) in &replies[1..] {
            if *exact {
                assert_eq!(
                    String::from_utf8_lossy(got),
                    String::from_utf8_lossy(want),
                    "{cmd:?}: {name} differs from redis"
                );
            } else {
                assert_eq!(got.first(), want.first(), "{cmd:?}: reply type of {name} differs from redis");
            }
        }
    }
}

/// The top-level keys of MEMORY STATS, in order, with `db.N` for databases
/// holding keys.
fn stats_keys(r: &mut Raw) -> (Vec<String>, Vec<Reply>) {
    let Reply::Array(items) = r.call(&["MEMORY", "STATS"]) else { panic!("MEMORY STATS is not a map") };
    let keys = items.iter().step_by(2).map(|k| k.text().expect("a key")).collect();
    let values = items.iter().skip(1).step_by(2).cloned().collect();
    (keys, values)
}

#[test]
fn memory_stats_keys_and_values() {
    let redis = start_redis();
    let mut rr = redis.raw();
    assert_eq!(rr.call(&["FLUSHALL"]), Reply::Simple("OK".into()));
    assert_eq!(rr.call(&["SET", "a", "1"]), Reply::Simple("OK".into()));
    assert_eq!(rr.call(&["SELECT", "2"]), Reply::Simple("OK".into()));
    assert_eq!(rr.call(&["SET", "b", "1"]), Reply::Simple("OK".into()));
    let (want, _) = stats_keys(&mut rr);
    each_shards(|s| {
        let mut r = s.raw();
        assert_eq!(r.call(&["FLUSHALL"]), Reply::Simple("OK".into()));
        fill(&mut r, "k", 300, 50);
        assert_eq!(r.call(&["SELECT", "2"]), Reply::Simple("OK".into()));
        assert_eq!(r.call(&["SET", "b", "1"]), Reply::Simple("OK".into()));
        let (keys, values) = stats_keys(&mut r);
        assert_eq!(keys, want, "MEMORY STATS keys");
        let get = |name: &str| -> Reply {
            values[keys.iter().position(|k| k == name).unwrap_or_else(|| panic!("no {name}"))].clone()
        };
        let int = |name: &str| get(name).int().unwrap_or_else(|| panic!("{name} is not an integer"));
        assert_eq!(int("keys.count"), 301);
        assert!(int("peak.allocated") >= int("total.allocated"));
        assert!(int("total.allocated") >= int("startup.allocated"));
        assert!(int("overhead.total") >= int("startup.allocated"));
        assert!(int("dataset.bytes") > 300 * 50);
        assert!(int("keys.bytes-per-key") > 50);
        let Reply::Array(db0) = get("db.0") else { panic!("db.0 is not a map") };
        assert_eq!(db0[0].text().as_deref(), Some("overhead.hashtable.main"));
        assert!(db0[1].int().is_some_and(|n| n > 0));
        let pct: f64 = get("dataset.percentage").text().and_then(|t| t.parse().ok()).expect("a double");
        assert!(pct > 0.0 && pct <= 100.0, "dataset.percentage {pct}");
    });
}

#[test]
fn memory_usage_tracks_what_a_value_takes() {
    each_shards(|s| {
        let mut c = s.client();
        let mut r = s.raw();
        // Strings: the value's bytes plus a few bytes of entry and table.
        let _: () = query(&mut c, &["SET", "s", &"x".repeat(1000)]);
        let n: i64 = query(&mut c, &["MEMORY", "USAGE", "s"]);
        assert!((1000..1100).contains(&n), "1000-byte string: {n}");
        let _: () = query(&mut c, &["SET", "t", "x"]);
        let small: i64 = query(&mut c, &["MEMORY", "USAGE", "t"]);
        assert!(small > 0 && small <= 64, "1-byte string: {small}");
        // A big hash: SAMPLES 0 counts every field; it matches what the
        // allocator handed out for it (the growth of the dataset: client
        // buffers are overhead) within 15%.
        let before = field(&info_memory(&mut r), "used_memory_dataset");
        for batch in 0..40 {
            let mut args = vec!["HSET".to_string(), "big".to_string()];
            for i in batch * 500..(batch + 1) * 500 {
                args.push(format!("field:{i}"));
                args.push(format!("value:{i}:{}", "y".repeat(i % 40)));
            }
            let added: i64 = query(&mut c, &args.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(added, 500);
        }
        let after = field(&info_memory(&mut r), "used_memory_dataset");
        let exact: i64 = query(&mut c, &["MEMORY", "USAGE", "big", "SAMPLES", "0"]);
        let sampled: i64 = query(&mut c, &["MEMORY", "USAGE", "big"]);
        let grew = after - before;
        if !crate::support::against_redis() {
            assert!((exact - grew).abs() < grew * 15 / 100, "MEMORY USAGE {exact} vs used_memory growth {grew}");
        }
        // The default samples 5 fields and extrapolates: same order of size.
        assert!(sampled > exact / 2 && sampled < exact * 2, "sampled {sampled} vs exact {exact}");
        let _: i64 = query(&mut c, &["DEL", "big"]);
    });
}

/// 500 pipelined `XADD key <i+1>-1 field <i>` from `i = from`.
fn xadd_batch(r: &mut Raw, key: &str, from: usize) {
    let mut out = Vec::new();
    for i in from..from + 500 {
        out.extend(crate::support::encode(&["XADD", key, &format!("{}-1", i + 1), "field", &i.to_string()]));
    }
    r.send(&out);
    for _ in 0..500 {
        assert!(matches!(r.reply(), Reply::Bulk(_)));
    }
}

#[test]
fn memory_usage_of_a_stream_is_its_nodes_and_index() {
    each_shards(|s| {
        let mut r = s.raw();
        let usage = |r: &mut Raw| match r.call(&["MEMORY", "USAGE", "st", "SAMPLES", "0"]) {
            Reply::Int(n) => n,
            other => panic!("MEMORY USAGE: {other:?}"),
        };
        // The first batch also grows the connection's buffers and the
        // keyspace: measured from after it, the growth is the stream's.
        xadd_batch(&mut r, "st", 0);
        let (before, usage_before) = (field(&info_memory(&mut r), "used_memory"), usage(&mut r));
        // To 30,000 entries (300 nodes): MEMORY USAGE SAMPLES 0 counts every
        // node and the node index as the allocator does (within what other
        // shards allocate meanwhile).
        for batch in 1..60 {
            xadd_batch(&mut r, "st", batch * 500);
        }
        let grew = field(&info_memory(&mut r), "used_memory") - before;
        let counted = usage(&mut r) - usage_before;
        if !against_redis() {
            assert!((counted - grew).abs() < grew * 3 / 100, "MEMORY USAGE grew {counted}, used_memory {grew}");
        }
        assert_eq!(r.call(&["DEL", "st"]), Reply::Int(1));
    });
}

#[test]
fn doctor_purge_malloc_stats_and_help() {
    each_shards(|s| {
        let mut r = s.raw();
        let Reply::Bulk(doctor) = r.call(&["MEMORY", "DOCTOR"]) else { panic!("MEMORY DOCTOR is not a bulk string") };
        let doctor = String::from_utf8_lossy(&doctor).into_owned();
        assert!(doctor.starts_with("Hi Sam, this instance is empty"), "empty instance: {doctor}");
        assert_eq!(r.call(&["MEMORY", "PURGE"]), Reply::Simple("OK".into()));
        let Reply::Bulk(stats) = r.call(&["MEMORY", "MALLOC-STATS"]) else { panic!("MALLOC-STATS is not text") };
        assert!(!stats.is_empty());
        let Reply::Array(help) = r.call(&["MEMORY", "HELP"]) else { panic!("MEMORY HELP is not an array") };
        assert!(help[0].text().is_some_and(|t| t.starts_with("MEMORY <subcommand>")));
        // 10 MB of data: past the "empty" threshold, the report has a verdict.
        fill(&mut r, "k", 10_000, 1000);
        let Reply::Bulk(doctor) = r.call(&["MEMORY", "DOCTOR"]) else { panic!("MEMORY DOCTOR is not a bulk string") };
        let doctor = String::from_utf8_lossy(&doctor).into_owned();
        assert!(
            doctor.starts_with("Hi Sam, I can't find any memory issue")
                || doctor.starts_with("Sam, I detected a few issues"),
            "{doctor}"
        );
        // Emptied again: free pages go back (PURGE forces what is left).
        assert_eq!(r.call(&["FLUSHALL"]), Reply::Simple("OK".into()));
        assert_eq!(r.call(&["MEMORY", "PURGE"]), Reply::Simple("OK".into()));
    });
}
