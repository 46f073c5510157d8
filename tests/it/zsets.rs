//! Sorted set commands: multi-key commands whose keys sit on different
//! shards (1 and 3 shards), ZSCAN over a large sorted set, and random command
//! sequences compared with redis-server.

use std::collections::HashSet;

use crate::differential::{random_seeds_with, seed_count, Cmp, Rng};
use crate::support::{each_shards, query, spread_keys};

/// A WITHSCORES reply as (member, score) pairs.
fn entries(c: &mut redis::Connection, args: &[&str]) -> Vec<(String, String)> {
    let flat: Vec<String> = query(c, args);
    flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(m, s)| (m.to_string(), s.to_string())).collect()
}

#[test]
fn store_commands_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        // With 3 shards these keys live on shards 0, 1, 2, 0, 1.
        let k = spread_keys("zset", 5);
        let (a, b, x, d, st) = (&k[0], &k[1], &k[2], &k[3], &k[4]);
        let _: i64 = query(&mut c, &["ZADD", a, "1", "p", "2", "q", "3", "r"]);
        let _: i64 = query(&mut c, &["ZADD", b, "10", "q", "20", "r", "30", "s"]);
        let _: i64 = query(&mut c, &["SADD", x, "r", "t"]);

        assert_eq!(query::<i64>(&mut c, &["ZUNIONSTORE", d, "3", a, b, x]), 5);
        let want = [("p", "1"), ("t", "1"), ("q", "12"), ("r", "24"), ("s", "30")];
        assert_eq!(entries(&mut c, &["ZRANGE", d, "0", "-1", "WITHSCORES"]), pairs(&want));
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", d]), "listpack");
        let got = entries(&mut c, &["ZUNION", "2", a, b, "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX", "WITHSCORES"]);
        assert_eq!(got, pairs(&[("p", "2"), ("q", "5"), ("r", "10"), ("s", "15")]));

        assert_eq!(query::<i64>(&mut c, &["ZINTERSTORE", d, "3", a, b, x, "WEIGHTS", "1", "1", "100"]), 1);
        assert_eq!(entries(&mut c, &["ZRANGE", d, "0", "-1", "WITHSCORES"]), pairs(&[("r", "123")]));
        assert_eq!(query::<i64>(&mut c, &["ZINTERCARD", "2", a, b]), 2);
        assert_eq!(query::<i64>(&mut c, &["ZINTERCARD", "2", a, b, "LIMIT", "1"]), 1);
        assert_eq!(query::<i64>(&mut c, &["ZINTERSTORE", d, "2", a, "nokey"]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", d]), 0);

        assert_eq!(query::<i64>(&mut c, &["ZDIFFSTORE", d, "2", b, a]), 1);
        assert_eq!(entries(&mut c, &["ZRANGE", d, "0", "-1", "WITHSCORES"]), pairs(&[("s", "30")]));
        assert_eq!(query::<Vec<String>>(&mut c, &["ZDIFF", "3", a, b, x]), vec!["p"]);

        assert_eq!(query::<i64>(&mut c, &["ZRANGESTORE", d, b, "15", "+inf", "BYSCORE"]), 2);
        assert_eq!(entries(&mut c, &["ZRANGE", d, "0", "-1", "WITHSCORES"]), pairs(&[("r", "20"), ("s", "30")]));
        assert_eq!(query::<i64>(&mut c, &["ZRANGESTORE", d, "nokey", "0", "-1"]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", d]), 0);

        // A store replaces a value of another type and its TTL.
        let _: () = query(&mut c, &["SET", st, "v", "EX", "100"]);
        assert_eq!(query::<i64>(&mut c, &["ZUNIONSTORE", st, "1", a]), 3);
        assert_eq!(query::<String>(&mut c, &["TYPE", st]), "zset");
        assert_eq!(query::<i64>(&mut c, &["TTL", st]), -1);
        // The destination may also be a source.
        assert_eq!(query::<i64>(&mut c, &["ZINTERSTORE", a, "2", a, b]), 2);
        assert_eq!(entries(&mut c, &["ZRANGE", a, "0", "-1", "WITHSCORES"]), pairs(&[("q", "12"), ("r", "23")]));

        let _: () = query(&mut c, &["SET", x, "string"]);
        let mut r = s.raw();
        let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
        assert_eq!(r.err(&["ZUNION", "2", a, x]), wrong);
        assert_eq!(r.err(&["ZINTERSTORE", d, "2", "nokey", x]), wrong);
        assert_eq!(r.err(&["ZDIFFSTORE", d, "2", a, x]), wrong);
        assert_eq!(r.err(&["ZINTERCARD", "2", x, a]), wrong);
        assert_eq!(r.err(&["ZRANGESTORE", d, x, "0", "-1"]), wrong);
        assert_eq!(r.err(&["ZUNION", "2", a, x, "WEIGHTS", "nope"]), wrong, "key types are checked before options");
        assert_eq!(r.err(&["ZUNION", "2", a, b, "WEIGHTS", "nope", "1"]), "ERR weight value is not a float");
        assert_eq!(query::<i64>(&mut c, &["EXISTS", d]), 0, "failed stores leave the destination alone");
    });
}

#[test]
fn zmpop_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("zmpop", 3);
        let _: i64 = query(&mut c, &["ZADD", &k[2], "1", "a", "2", "b", "3", "c"]);
        let mut r = s.raw();
        let got = r.cmd(&["ZMPOP", "3", &k[0], &k[1], &k[2], "MAX", "COUNT", "2"]);
        let want = format!(
            "*2\r\n${}\r\n{}\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
            k[2].len(),
            k[2]
        );
        assert_eq!(String::from_utf8_lossy(&got), want);
        assert_eq!(r.cmd(&["ZMPOP", "2", &k[0], &k[1], "MIN"]), b"*-1\r\n");
        let _: () = query(&mut c, &["SET", &k[1], "v"]);
        assert_eq!(
            r.err(&["ZMPOP", "3", &k[0], &k[1], &k[2], "MIN"]),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(query::<i64>(&mut c, &["ZCARD", &k[2]]), 1, "nothing popped past a key of another type");
        let got = r.cmd(&["ZMPOP", "2", &k[0], &k[2], "MIN", "COUNT", "10"]);
        assert!(String::from_utf8_lossy(&got).ends_with("$1\r\na\r\n$1\r\n1\r\n"));
        assert_eq!(query::<i64>(&mut c, &["EXISTS", &k[2]]), 0, "an emptied sorted set is deleted");
    });
}

#[test]
fn pipelined_cross_shard_commands_keep_order() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("zpipe", 3);
        let mut p = redis::pipe();
        p.cmd("ZADD").arg(&k[0]).arg(1).arg("a").arg(2).arg("b");
        p.cmd("ZADD").arg(&k[1]).arg(3).arg("b").arg(4).arg("c");
        p.cmd("ZUNIONSTORE").arg(&k[2]).arg(2).arg(&k[0]).arg(&k[1]);
        p.cmd("ZCARD").arg(&k[2]);
        p.cmd("ZINTERSTORE").arg(&k[2]).arg(2).arg(&k[0]).arg(&k[1]);
        p.cmd("ZCARD").arg(&k[2]);
        p.cmd("ZINTERCARD").arg(2).arg(&k[0]).arg(&k[2]);
        p.cmd("ZRANGESTORE").arg(&k[0]).arg(&k[1]).arg(0).arg(0);
        p.cmd("ZCARD").arg(&k[0]);
        let got: Vec<i64> = p.query(&mut c).expect("pipeline");
        assert_eq!(got, vec![2, 2, 3, 3, 1, 1, 1, 1, 1]);
    });
}

#[test]
fn zscan_and_ranges_over_a_large_sorted_set() {
    each_shards(|s| {
        let mut c = s.client();
        for chunk in (0..20_000).collect::<Vec<u32>>().chunks(1000) {
            let mut cmd = redis::cmd("ZADD");
            cmd.arg("big");
            for i in chunk {
                cmd.arg(i).arg(format!("member:{i}"));
            }
            let _: i64 = cmd.query(&mut c).expect("ZADD");
        }
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "big"]), "skiplist");
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let (next, batch): (String, Vec<String>) =
                redis::cmd("ZSCAN").arg("big").arg(&cursor).arg("COUNT").arg(100).query(&mut c).expect("ZSCAN");
            for p in batch.chunks(2) {
                assert_eq!(p[0], format!("member:{}", p[1]));
                seen.insert(p[0].clone());
            }
            calls += 1;
            cursor = next;
            if cursor == "0" {
                break;
            }
            assert!(calls < 20_000, "ZSCAN does not finish");
        }
        assert_eq!(seen.len(), 20_000);
        assert!(calls > 1);
        assert_eq!(query::<i64>(&mut c, &["ZRANK", "big", "member:12345"]), 12345);
        assert_eq!(query::<i64>(&mut c, &["ZCOUNT", "big", "(100", "200"]), 100);
        let got: Vec<String> = query(&mut c, &["ZRANGE", "big", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "5", "2"]);
        assert_eq!(got, vec!["member:19994", "member:19993"]);
        assert_eq!(query::<i64>(&mut c, &["ZREMRANGEBYSCORE", "big", "1000", "(19000"]), 18_000);
        assert_eq!(query::<i64>(&mut c, &["ZCARD", "big"]), 2000);
        assert_eq!(query::<i64>(&mut c, &["ZRANK", "big", "member:19000"]), 1000);
    });
}

/// Keys spread over the shards. `l*` keys only ever hold members scored 0
/// (lexicographic ranges over a skiplist of mixed scores are not comparable);
/// `s0` is a plain set, `str` a string.
const ZKEYS: &[&str] = &["z0", "z1", "z2", "z3", "{t}a", "{t}b"];
const LKEYS: &[&str] = &["l0", "l1"];
const MEMBERS: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "h", "", "1", "10", "x y", "\u{e9}"];
/// Scores with exact binary sums, so any summing order agrees.
const SCORES: &[&str] = &["0", "1", "-1", "2.5", "0.5", "-0.25", "3", "1e3", "inf", "-inf", "-0", "7"];
const MINS: &[&str] = &["-inf", "0", "(0", "1", "(1", "2.5", "(-1", "-0.25", "+inf", "(3"];
const LEX: &[&str] = &["-", "+", "[a", "(a", "[c", "(c", "[x y", "[", "(1", "[h"];

fn gen(rng: &mut Rng) -> (Vec<String>, Cmp) {
    let zkey = |rng: &mut Rng| rng.pick(ZKEYS).to_string();
    let src =
        |rng: &mut Rng| rng.pick(&["z0", "z1", "z2", "z3", "{t}a", "{t}b", "l0", "l1", "s0", "nokey"]).to_string();
    let member = |rng: &mut Rng| rng.pick(MEMBERS).to_string();
    let score = |rng: &mut Rng| rng.pick(SCORES).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let k = zkey(rng);
    let mut cmp = Cmp::Exact;
    let cmd: Vec<String> = match rng.below(46) {
        0..=6 => {
            let mut c = s(&["ZADD", &k]);
            let flags = ["NX", "XX", "GT", "LT", "CH", "INCR"];
            for f in flags {
                if rng.chance(12) {
                    c.push(f.to_string());
                }
            }
            let n = if c.iter().any(|f| f == "INCR") { 1 } else { 1 + rng.below(4) };
            for _ in 0..n {
                c.push(score(rng));
                c.push(member(rng));
            }
            c
        }
        7 => {
            let mut c = s(&["ZADD", rng.pick(LKEYS)]);
            if rng.chance(30) {
                c.push(rng.pick(&["NX", "XX", "CH"]).to_string());
            }
            for _ in 0..1 + rng.below(4) {
                c.push("0".into());
                c.push(member(rng));
            }
            c
        }
        8 => s(&["ZINCRBY", &k, &score(rng), &member(rng)]),
        9 => {
            let mut c = s(&["ZREM", &src(rng)]);
            c.extend((0..1 + rng.below(3)).map(|_| member(rng)));
            c
        }
        10 => s(&["ZCARD", &src(rng)]),
        11 => s(&["ZSCORE", &src(rng), &member(rng)]),
        12 => s(&["ZMSCORE", &src(rng), &member(rng), &member(rng)]),
        13 => s(&[rng.pick(&["ZRANK", "ZREVRANK"]), &src(rng), &member(rng)]),
        14 => s(&["ZCOUNT", &src(rng), rng.pick(MINS), rng.pick(MINS)]),
        15 => s(&["ZLEXCOUNT", rng.pick(LKEYS), rng.pick(LEX), rng.pick(LEX)]),
        16..=18 => {
            let mut c = s(&["ZRANGE", &src(rng)]);
            match rng.below(3) {
                0 => {
                    c.push(rng.range(-6, 6).to_string());
                    c.push(rng.range(-6, 6).to_string());
                }
                1 => {
                    c.push(rng.pick(MINS).to_string());
                    c.push(rng.pick(MINS).to_string());
                    c.push("BYSCORE".into());
                }
                _ => {
                    c[1] = rng.pick(LKEYS).to_string();
                    c.push(rng.pick(LEX).to_string());
                    c.push(rng.pick(LEX).to_string());
                    c.push("BYLEX".into());
                }
            }
            if rng.chance(40) {
                c.push("REV".into());
            }
            if c.len() > 4 && rng.chance(40) {
                c.extend(["LIMIT".into(), rng.range(-1, 4).to_string(), rng.range(-1, 4).to_string()]);
            }
            if !c.iter().any(|a| a == "BYLEX") && rng.chance(50) {
                c.push("WITHSCORES".into());
            }
            c
        }
        19 => {
            let mut c =
                s(&[rng.pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), &src(rng), rng.pick(MINS), rng.pick(MINS)]);
            if rng.chance(50) {
                c.push("WITHSCORES".into());
            }
            if rng.chance(30) {
                c.extend(["LIMIT".into(), rng.range(0, 3).to_string(), rng.range(-1, 3).to_string()]);
            }
            c
        }
        20 => s(&[rng.pick(&["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), rng.pick(LKEYS), rng.pick(LEX), rng.pick(LEX)]),
        21 => {
            let mut c = s(&["ZREVRANGE", &src(rng), &rng.range(-4, 4).to_string(), &rng.range(-4, 4).to_string()]);
            if rng.chance(50) {
                c.push("WITHSCORES".into());
            }
            c
        }
        22 => {
            let mut c = s(&["ZRANGESTORE", &k, &src(rng)]);
            if rng.chance(50) {
                c.extend(s(&[&rng.range(-4, 4).to_string(), &rng.range(-4, 4).to_string()]));
            } else {
                c.extend(s(&[rng.pick(MINS), rng.pick(MINS), "BYSCORE"]));
            }
            if rng.chance(30) {
                c.push("REV".into());
            }
            c
        }
        23 => s(&["ZREMRANGEBYRANK", &k, &rng.range(-4, 4).to_string(), &rng.range(-4, 4).to_string()]),
        24 => s(&["ZREMRANGEBYSCORE", &k, rng.pick(MINS), rng.pick(MINS)]),
        25 => s(&["ZREMRANGEBYLEX", rng.pick(LKEYS), rng.pick(LEX), rng.pick(LEX)]),
        26 | 27 => {
            let mut c = s(&[rng.pick(&["ZPOPMIN", "ZPOPMAX"]), &src(rng)]);
            if rng.chance(50) {
                c.push(rng.range(0, 4).to_string());
            }
            c
        }
        28 => {
            let n = 1 + rng.below(3);
            let mut c = s(&["ZMPOP", &n.to_string()]);
            c.extend((0..n).map(|_| src(rng)));
            c.push(rng.pick(&["MIN", "MAX"]).to_string());
            if rng.chance(50) {
                c.extend(["COUNT".into(), (1 + rng.below(4)).to_string()]);
            }
            c
        }
        29 => {
            // Counts at least the set's size list it whole, in a fixed order.
            let mut c = s(&["ZRANDMEMBER", &src(rng), "50"]);
            if rng.chance(50) {
                c.push("WITHSCORES".into());
            }
            c
        }
        30 => {
            cmp = Cmp::Type;
            let mut c = s(&["ZRANDMEMBER", &src(rng)]);
            if rng.chance(70) {
                c.push(rng.range(-4, 4).to_string());
                if rng.chance(50) {
                    c.push("WITHSCORES".into());
                }
            }
            c
        }
        31..=34 => {
            let op = rng.pick(&["ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]);
            let store = op.ends_with("STORE");
            let mut c = s(&[op]);
            if store {
                c.push(k.clone());
            }
            let n = 1 + rng.below(3);
            c.push(n.to_string());
            c.extend((0..n).map(|_| src(rng)));
            if !op.starts_with("ZDIFF") {
                if rng.chance(40) {
                    c.push("WEIGHTS".into());
                    c.extend((0..n).map(|_| rng.pick(&["1", "2", "-1", "0", "0.5"]).to_string()));
                }
                if rng.chance(40) {
                    c.extend(["AGGREGATE".into(), rng.pick(&["SUM", "MIN", "MAX"]).to_string()]);
                }
            }
            if !store && rng.chance(60) {
                c.push("WITHSCORES".into());
            }
            c
        }
        35 => {
            let n = 1 + rng.below(3);
            let mut c = s(&["ZINTERCARD", &n.to_string()]);
            c.extend((0..n).map(|_| src(rng)));
            if rng.chance(40) {
                c.extend(["LIMIT".into(), rng.range(0, 3).to_string()]);
            }
            c
        }
        36 => {
            // Skiplist buckets are walked in a different order: compare the shape.
            cmp = Cmp::Type;
            s(&["ZSCAN", &src(rng), "0", "COUNT", "100"])
        }
        37 | 38 => s(&["OBJECT", "ENCODING", &src(rng)]),
        39 => s(&["SADD", "s0", &member(rng), &member(rng)]),
        40 => s(&["DEL", &src(rng)]),
        41 => s(&["TYPE", &src(rng)]),
        42 => s(&["SET", "str", "v"]),
        43 => s(&[rng.pick(&["ZADD", "ZRANGE", "ZUNIONSTORE", "ZPOPMIN"]), "str", "0", "1"]),
        44 => s(&["CONFIG", "SET", "zset-max-listpack-entries", rng.pick(&["2", "5", "128"])]),
        _ => s(&["CONFIG", "SET", "zset-max-listpack-value", rng.pick(&["1", "64"])]),
    };
    (cmd, cmp)
}

#[test]
fn random_sequences() {
    random_seeds_with("zsets random (one command per write)", gen, 1..=seed_count(6), 400, 1, false);
}

#[test]
fn random_sequences_pipelined() {
    random_seeds_with("zsets random (pipelined)", gen, (1..=seed_count(6)).map(|s| 600_000 + s), 400, 40, false);
}

#[test]
fn random_sequences_resp3() {
    random_seeds_with("zsets random (RESP3)", gen, (1..=seed_count(3)).map(|s| 700_000 + s), 400, 10, true);
}
