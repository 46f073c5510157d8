//! Set commands: multi-key commands whose keys sit on different shards (1 and
//! 3 shards), SSCAN over a large set, and random command sequences compared
//! with redis-server.

use std::collections::HashSet;

use crate::differential::{random_seeds_with, seed_count, Cmp, Rng};
use crate::support::{each_shards, query, spread_keys};

fn members(c: &mut redis::Connection, args: &[&str]) -> HashSet<String> {
    query::<Vec<String>>(c, args).into_iter().collect()
}

fn set(v: &[&str]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn algebra_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        // With 3 shards these keys live on shards 0, 1, 2 and 0.
        let k = spread_keys("set", 4);
        let (a, b, x, d) = (&k[0], &k[1], &k[2], &k[3]);
        let _: i64 = query(&mut c, &["SADD", a, "1", "2", "3", "4"]);
        let _: i64 = query(&mut c, &["SADD", b, "3", "4", "5", "y"]);
        let _: i64 = query(&mut c, &["SADD", x, "4", "z"]);
        assert_eq!(members(&mut c, &["SUNION", a, b, x, "nokey"]), set(&["1", "2", "3", "4", "5", "y", "z"]));
        assert_eq!(members(&mut c, &["SINTER", a, b]), set(&["3", "4"]));
        assert_eq!(members(&mut c, &["SINTER", a, b, x]), set(&["4"]));
        assert_eq!(members(&mut c, &["SINTER", a, "nokey"]), set(&[]));
        assert_eq!(members(&mut c, &["SDIFF", a, b]), set(&["1", "2"]));
        assert_eq!(members(&mut c, &["SDIFF", b, a, x]), set(&["5", "y"]));
        assert_eq!(query::<i64>(&mut c, &["SINTERCARD", "3", a, b, x]), 1);
        assert_eq!(query::<i64>(&mut c, &["SINTERCARD", "2", a, b, "LIMIT", "1"]), 1);
        assert_eq!(query::<i64>(&mut c, &["SINTERCARD", "2", a, b]), 2);

        assert_eq!(query::<i64>(&mut c, &["SUNIONSTORE", d, a, b]), 6);
        assert_eq!(members(&mut c, &["SMEMBERS", d]), set(&["1", "2", "3", "4", "5", "y"]));
        assert_eq!(query::<i64>(&mut c, &["SINTERSTORE", d, a, b]), 2);
        assert_eq!(members(&mut c, &["SMEMBERS", d]), set(&["3", "4"]));
        // An intersection of integers is stored as an intset, wherever its sources were.
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", d]), "intset");
        assert_eq!(query::<i64>(&mut c, &["SDIFFSTORE", d, a, b]), 2);
        assert_eq!(members(&mut c, &["SMEMBERS", d]), set(&["1", "2"]));
        assert_eq!(query::<i64>(&mut c, &["SINTERSTORE", d, a, "nokey"]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", d]), 0);
        // A store replaces a value of another type and its TTL.
        let _: () = query(&mut c, &["SET", d, "v", "EX", "100"]);
        assert_eq!(query::<i64>(&mut c, &["SUNIONSTORE", d, x]), 2);
        assert_eq!(query::<String>(&mut c, &["TYPE", d]), "set");
        assert_eq!(query::<i64>(&mut c, &["TTL", d]), -1);
        // The destination may also be a source.
        assert_eq!(query::<i64>(&mut c, &["SUNIONSTORE", a, a, x]), 5);
        assert_eq!(members(&mut c, &["SMEMBERS", a]), set(&["1", "2", "3", "4", "z"]));

        let _: () = query(&mut c, &["SET", b, "string"]);
        let mut r = s.raw();
        let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
        assert_eq!(r.err(&["SUNION", a, b]), wrong);
        assert_eq!(r.err(&["SINTER", "nokey", b]), wrong);
        assert_eq!(r.err(&["SDIFF", a, x, b]), wrong);
        assert_eq!(r.err(&["SINTERCARD", "2", a, b]), wrong);
        assert_eq!(r.err(&["SDIFFSTORE", d, a, b]), wrong);
        assert_eq!(r.err(&["SINTERCARD", "3", a, b]), "ERR Number of keys can't be greater than number of args");
    });
}

#[test]
fn smove_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("mv", 3);
        let (src, dst, other) = (&k[0], &k[1], &k[2]);
        let _: i64 = query(&mut c, &["SADD", src, "a", "b"]);
        assert_eq!(query::<i64>(&mut c, &["SMOVE", src, dst, "a"]), 1);
        assert_eq!(members(&mut c, &["SMEMBERS", src]), set(&["b"]));
        assert_eq!(members(&mut c, &["SMEMBERS", dst]), set(&["a"]));
        assert_eq!(query::<i64>(&mut c, &["SMOVE", src, dst, "nope"]), 0);
        assert_eq!(query::<i64>(&mut c, &["SMOVE", "nokey", dst, "a"]), 0);
        let _: () = query(&mut c, &["SET", other, "v"]);
        let mut r = s.raw();
        let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
        assert_eq!(r.err(&["SMOVE", src, other, "b"]), wrong);
        assert_eq!(r.err(&["SMOVE", other, src, "b"]), wrong);
        assert_eq!(members(&mut c, &["SMEMBERS", src]), set(&["b"]), "a failed move leaves the source alone");
        // Moving the last member deletes the source; the destination keeps its TTL.
        let _: i64 = query(&mut c, &["EXPIRE", dst, "100"]);
        assert_eq!(query::<i64>(&mut c, &["SMOVE", src, dst, "b"]), 1);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", src]), 0);
        assert_eq!(members(&mut c, &["SMEMBERS", dst]), set(&["a", "b"]));
        assert!(query::<i64>(&mut c, &["TTL", dst]) > 0);
        // The member is already in the destination: still a move.
        let _: i64 = query(&mut c, &["SADD", src, "a"]);
        assert_eq!(query::<i64>(&mut c, &["SMOVE", src, dst, "a"]), 1);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", src]), 0);
        assert_eq!(query::<i64>(&mut c, &["SCARD", dst]), 2);
    });
}

#[test]
fn pipelined_cross_shard_commands_keep_order() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("pipe", 3);
        let mut p = redis::pipe();
        p.cmd("SADD").arg(&k[0]).arg(1).arg(2).arg(3);
        p.cmd("SADD").arg(&k[1]).arg(2).arg(3).arg(4);
        p.cmd("SINTERSTORE").arg(&k[2]).arg(&k[0]).arg(&k[1]);
        p.cmd("SCARD").arg(&k[2]);
        p.cmd("SMOVE").arg(&k[0]).arg(&k[2]).arg(1);
        p.cmd("SCARD").arg(&k[2]);
        p.cmd("SINTERCARD").arg(2).arg(&k[0]).arg(&k[2]);
        let got: Vec<i64> = p.query(&mut c).expect("pipeline");
        assert_eq!(got, vec![3, 3, 2, 2, 1, 3, 2]);
    });
}

#[test]
fn sscan_returns_every_member_of_a_large_set() {
    each_shards(|s| {
        let mut c = s.client();
        for chunk in (0..10_000).collect::<Vec<u32>>().chunks(1000) {
            let mut cmd = redis::cmd("SADD");
            cmd.arg("big");
            for i in chunk {
                cmd.arg(format!("member:{i}"));
            }
            let _: i64 = cmd.query(&mut c).expect("SADD");
        }
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let (next, batch): (String, Vec<String>) =
                redis::cmd("SSCAN").arg("big").arg(&cursor).arg("COUNT").arg(100).query(&mut c).expect("SSCAN");
            seen.extend(batch);
            calls += 1;
            cursor = next;
            if cursor == "0" {
                break;
            }
            assert!(calls < 10_000, "SSCAN does not finish");
        }
        assert_eq!(seen.len(), 10_000);
        assert!(calls > 1);
        // MATCH filters what each step visits.
        let mut matched = HashSet::new();
        let mut cursor = "0".to_string();
        loop {
            let (next, batch): (String, Vec<String>) = redis::cmd("SSCAN")
                .arg("big")
                .arg(&cursor)
                .arg("MATCH")
                .arg("member:99*")
                .query(&mut c)
                .expect("SSCAN");
            matched.extend(batch);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(matched.len(), 111);
    });
}

/// Keys spread over the shards, and members that keep sets as intsets or not.
const KEYS: &[&str] = &["s0", "s1", "s2", "s3", "{t}a", "{t}b", "i0", "i1"];
const INTS: &[&str] = &["0", "1", "2", "3", "5", "8", "13", "-1", "-7", "40000", "-3000000000"];
const STRS: &[&str] = &["a", "b", "c", "hello", "", "01", "x y", "9223372036854775808"];

fn gen(rng: &mut Rng) -> (Vec<String>, Cmp) {
    let key = |rng: &mut Rng| rng.pick(KEYS).to_string();
    let member = |rng: &mut Rng| if rng.chance(70) { rng.pick(INTS) } else { rng.pick(STRS) }.to_string();
    let keys = |rng: &mut Rng, n: usize| (0..n).map(|_| rng.pick(KEYS).to_string()).collect::<Vec<_>>();
    let k = key(rng);
    let mut cmp = Cmp::Exact;
    let cmd: Vec<String> = match rng.below(30) {
        0..=5 => {
            let mut c = vec!["SADD".into(), k];
            let n = 1 + rng.below(4);
            c.extend((0..n).map(|_| member(rng)));
            c
        }
        6 | 7 => {
            let mut c = vec!["SREM".into(), k];
            let n = 1 + rng.below(3);
            c.extend((0..n).map(|_| member(rng)));
            c
        }
        8 => vec!["SCARD".into(), k],
        9 => vec!["SISMEMBER".into(), k, member(rng)],
        10 => vec!["SMISMEMBER".into(), k, member(rng), member(rng)],
        11 => {
            cmp = Cmp::Sorted;
            vec!["SMEMBERS".into(), k]
        }
        12 => {
            // Only a pop of everything is deterministic.
            cmp = Cmp::Sorted;
            vec!["SPOP".into(), k, "100".into()]
        }
        13 => {
            cmp = Cmp::Type;
            let count = rng.range(-5, 5).to_string();
            if rng.chance(30) {
                vec!["SRANDMEMBER".into(), k]
            } else {
                vec!["SRANDMEMBER".into(), k, count]
            }
        }
        14 => {
            cmp = Cmp::Sorted;
            vec!["SRANDMEMBER".into(), k, "100".into()]
        }
        15 | 16 => vec!["SMOVE".into(), k, key(rng), member(rng)],
        17 => {
            cmp = Cmp::Sorted;
            let mut c = vec![rng.pick(&["SUNION", "SINTER", "SDIFF"]).to_string()];
            let n = 1 + rng.below(3);
            c.extend(keys(rng, n));
            c
        }
        18 | 19 => {
            let mut c = vec![rng.pick(&["SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"]).to_string(), k];
            let n = 1 + rng.below(3);
            c.extend(keys(rng, n));
            c
        }
        20 => {
            let n = 1 + rng.below(3);
            let mut c = vec!["SINTERCARD".into(), n.to_string()];
            c.extend(keys(rng, n));
            if rng.chance(40) {
                c.extend(["LIMIT".into(), rng.range(0, 3).to_string()]);
            }
            c
        }
        21 => {
            cmp = Cmp::Sorted;
            let mut c = vec!["SSCAN".into(), k, "0".into(), "COUNT".into(), "1000".into()];
            if rng.chance(30) {
                c.extend(["MATCH".into(), rng.pick(&["*1*", "[a-c]", "-*", "?"]).to_string()]);
            }
            c
        }
        22 | 23 => vec!["OBJECT".into(), "ENCODING".into(), k],
        24 => vec!["TYPE".into(), k],
        25 => vec!["DEL".into(), k],
        26 => vec!["SET".into(), k, "str".into()],
        27 => vec!["EXISTS".into(), k],
        28 => vec!["RENAME".into(), k, key(rng)],
        _ => {
            cmp = Cmp::Sorted;
            vec!["SINTER".into(), k]
        }
    };
    (cmd, cmp)
}

#[test]
fn random_sequences() {
    random_seeds_with("sets random (one command per write)", gen, 1..=seed_count(6), 400, 1, false);
}

#[test]
fn random_sequences_pipelined() {
    random_seeds_with("sets random (pipelined)", gen, (1..=seed_count(6)).map(|s| 400_000 + s), 400, 40, false);
}

#[test]
fn random_sequences_resp3() {
    random_seeds_with("sets random (RESP3)", gen, (1..=seed_count(3)).map(|s| 500_000 + s), 400, 10, true);
}
