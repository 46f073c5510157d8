//! Hashes with 1 and 3 shards: HSCAN over a large hash, hashes spread over
//! shards in pipelines, and random hash command sequences compared with
//! redis-server byte for byte.

use std::collections::HashMap;

use crate::differential::{random_seeds_with, seed_count, Cmp, Rng};
use crate::support::{each_shards, query, spread_keys};

#[test]
fn hscan_returns_every_field_of_a_large_hash() {
    each_shards(|s| {
        let mut c = s.client();
        let n = 10_000;
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut args = vec!["HSET".to_string(), "big".to_string()];
            for i in chunk {
                args.push(format!("field:{i}"));
                args.push(format!("value:{i}"));
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _: i64 = query(&mut c, &args);
        }
        assert_eq!(query::<i64>(&mut c, &["HLEN", "big"]), n);
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "big"]), "hashtable");
        for count in ["10", "1", "1000"] {
            let mut seen: HashMap<String, String> = HashMap::new();
            let mut cursor = "0".to_string();
            let mut calls = 0;
            loop {
                let (next, items): (String, Vec<String>) = query(&mut c, &["HSCAN", "big", &cursor, "COUNT", count]);
                assert!(items.len().is_multiple_of(2));
                for p in items.chunks(2) {
                    assert_eq!(p[0]["field:".len()..], p[1]["value:".len()..], "a field comes with its value");
                    seen.insert(p[0].clone(), p[1].clone());
                }
                calls += 1;
                cursor = next;
                if cursor == "0" {
                    break;
                }
                assert!(calls < 100_000, "the scan ends");
            }
            assert_eq!(seen.len(), n as usize, "COUNT {count}: every field at least once");
            if count == "10" {
                assert!(calls > 100, "COUNT bounds each call: {calls} calls");
            }
        }
        // MATCH filters what each step gathered.
        let mut matched = 0;
        let mut cursor = "0".to_string();
        loop {
            let (next, items): (String, Vec<String>) =
                query(&mut c, &["HSCAN", "big", &cursor, "MATCH", "field:99*", "COUNT", "100"]);
            assert!(items.chunks(2).all(|p| p[0].starts_with("field:99")));
            matched += items.len() / 2;
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(matched, 111);
    });
}

#[test]
fn hashes_on_every_shard_in_one_pipeline() {
    each_shards(|s| {
        let mut c = s.client();
        let keys = spread_keys("hk", 9);
        let mut p = redis::pipe();
        for (i, k) in keys.iter().enumerate() {
            p.cmd("HSET").arg(k).arg("f").arg(i).arg("g").arg("x");
            p.cmd("HINCRBY").arg(k).arg("f").arg(10);
            p.cmd("HGET").arg(k).arg("f");
        }
        let replies: Vec<redis::Value> = p.query(&mut c).unwrap();
        for (i, chunk) in replies.chunks(3).enumerate() {
            assert_eq!(redis::from_redis_value::<i64>(&chunk[0]).unwrap(), 2);
            assert_eq!(redis::from_redis_value::<i64>(&chunk[1]).unwrap(), i as i64 + 10);
            assert_eq!(redis::from_redis_value::<String>(&chunk[2]).unwrap(), (i + 10).to_string());
        }
        for (i, k) in keys.iter().enumerate() {
            let all: HashMap<String, String> = query(&mut c, &["HGETALL", k]);
            assert_eq!(all.len(), 2);
            assert_eq!(all["f"], (i + 10).to_string());
            assert_eq!(query::<i64>(&mut c, &["HDEL", k, "f", "g"]), 2);
            assert_eq!(query::<i64>(&mut c, &["EXISTS", k]), 0);
        }
    });
}

#[test]
fn hrandfield_distinct_and_repeated() {
    each_shards(|s| {
        let mut c = s.client();
        for size in [10usize, 1000] {
            let key = format!("r{size}");
            let mut args = vec!["HSET".to_string(), key.clone()];
            for i in 0..size {
                args.extend([format!("f{i}"), format!("v{i}")]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _: i64 = query(&mut c, &args);
            for n in [1, 3, size / 2, size - 1, size, size + 5] {
                let got: Vec<String> = query(&mut c, &["HRANDFIELD", &key, &n.to_string()]);
                let distinct: std::collections::HashSet<&String> = got.iter().collect();
                assert_eq!(got.len(), n.min(size));
                assert_eq!(distinct.len(), got.len(), "a positive count gives distinct fields");
            }
            let got: Vec<String> = query(&mut c, &["HRANDFIELD", &key, "-30", "WITHVALUES"]);
            assert_eq!(got.len(), 60);
            for p in got.chunks(2) {
                assert_eq!(p[0][1..], p[1][1..]);
            }
        }
        // Sampling with repetition returns every field eventually.
        let got: Vec<String> = query(&mut c, &["HRANDFIELD", "r10", "-2000"]);
        let distinct: std::collections::HashSet<&String> = got.iter().collect();
        assert_eq!(distinct.len(), 10);
    });
}

const KEYS: &[&str] = &["h0", "h1", "h2", "{t}h", "x"];
const FIELDS: &[&str] = &["f0", "f1", "f2", "f3", "a", "b", "n", ""];
const VALUES: &[&str] = &["1", "-3", "10", "0", "abc", "1.5", "", "007", "9223372036854775807", "hello world"];
const INCRS: &[&str] = &["1", "-1", "5", "100", "-9223372036854775808", "9223372036854775807", "x", "1.5"];
const FLOAT_INCRS: &[&str] = &["0.5", "1.25", "-2.75", "3", "-0.125", "10", "inf", "abc", "1e3"];

/// One random hash command and how to compare its replies.
fn gen(rng: &mut Rng) -> (Vec<String>, Cmp) {
    let k = rng.pick(KEYS).to_string();
    let f = |rng: &mut Rng| rng.pick(FIELDS).to_string();
    let v = |rng: &mut Rng| {
        // Now and then a value too long for the packed encoding.
        if rng.chance(3) {
            "v".repeat(70)
        } else {
            rng.pick(VALUES).to_string()
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let mut cmp = Cmp::Exact;
    let cmd = match rng.below(30) {
        0..=3 => {
            let mut c = s(&[rng.pick(&["HSET", "HSET", "HMSET"]), &k]);
            for _ in 0..rng.range(1, 3) {
                c.push(f(rng));
                c.push(v(rng));
            }
            c
        }
        4 => s(&["HSETNX", &k, &f(rng), &v(rng)]),
        5 | 6 => s(&["HGET", &k, &f(rng)]),
        7 => s(&["HMGET", &k, &f(rng), &f(rng), &f(rng)]),
        8 | 9 => {
            let mut c = s(&["HDEL", &k]);
            for _ in 0..rng.range(1, 3) {
                c.push(f(rng));
            }
            c
        }
        10 => s(&["HLEN", &k]),
        11 => s(&["HSTRLEN", &k, &f(rng)]),
        12 => s(&["HEXISTS", &k, &f(rng)]),
        13 => {
            cmp = Cmp::Sorted;
            s(&[rng.pick(&["HKEYS", "HVALS", "HGETALL"]), &k])
        }
        14 | 15 => s(&["HINCRBY", &k, &f(rng), rng.pick(INCRS)]),
        16 | 17 => s(&["HINCRBYFLOAT", &k, &f(rng), rng.pick(FLOAT_INCRS)]),
        18 => {
            cmp = Cmp::Sorted;
            let mut c = s(&["HRANDFIELD", &k, rng.pick(&["100", "8", "9223372036854775807"])]);
            if rng.chance(50) {
                c.push("WITHVALUES".into());
            }
            c
        }
        19 => {
            cmp = Cmp::Type;
            match rng.below(3) {
                0 => s(&["HRANDFIELD", &k]),
                1 => s(&["HRANDFIELD", &k, "-5", "WITHVALUES"]),
                _ => s(&["HRANDFIELD", &k, "2"]),
            }
        }
        20 => {
            cmp = Cmp::Sorted;
            let mut c = s(&["HSCAN", &k, "0", "COUNT", "1000"]);
            if rng.chance(50) {
                c.extend(s(&["MATCH", rng.pick(&["f*", "*", "?", "a"])]));
            }
            c
        }
        21 | 22 => s(&["OBJECT", "ENCODING", &k]),
        23 => s(&["DEL", &k]),
        24 => s(&["TYPE", &k]),
        25 => s(&["SET", "x", "string"]),
        26 => s(&["EXISTS", &k]),
        27 => s(&[
            "CONFIG",
            "SET",
            rng.pick(&["hash-max-listpack-entries", "hash-max-ziplist-entries"]),
            rng.pick(&["2", "4", "512"]),
        ]),
        28 => s(&["CONFIG", "SET", "hash-max-listpack-value", rng.pick(&["3", "64", "64", "64"])]),
        _ => match rng.below(4) {
            0 => s(&["HSET", &k, &f(rng)]),
            1 => s(&["HRANDFIELD", &k, "1", "WITHVALUE"]),
            2 => s(&["HSCAN", &k, "x"]),
            _ => s(&["HSCAN", &k, "0", "COUNT", "0"]),
        },
    };
    (cmd, cmp)
}

#[test]
fn random_sequences() {
    random_seeds_with("hashes random (one command per write)", gen, 1..=seed_count(6), 400, 1, false);
}

#[test]
fn random_sequences_pipelined() {
    random_seeds_with("hashes random (pipelined)", gen, (1..=seed_count(6)).map(|s| 500_000 + s), 400, 40, false);
}

#[test]
fn random_sequences_resp3() {
    random_seeds_with("hashes random (RESP3)", gen, (1..=seed_count(3)).map(|s| 510_000 + s), 300, 10, true);
}
