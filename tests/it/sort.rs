//! SORT with BY and GET patterns whose keys live on other shards than the
//! sorted key, STORE to another shard (waking a client blocked there), and
//! random SORT sequences compared with redis-server.

use std::time::Duration;

use crate::differential::{random_seeds_with, seed_count, Cmp, Rng};
use crate::support::{each_shards, query, spread_keys, Reply};

/// Elements whose `w_`, `h_` and `v_` keys are spread over the 3 shards.
fn spread_elements(n: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while out.len() < n {
        let e = format!("e{i}");
        let shard = |p: &str| tessera::shard::key_shard(format!("{p}{e}").as_bytes(), 3);
        // Cycle the weight keys over shards 0, 1, 2 and keep the hash keys elsewhere.
        if shard("w_") == out.len() % 3 && shard("h_") != shard("w_") {
            out.push(e);
        }
        i += 1;
    }
    out
}

fn strings(c: &mut redis::Connection, args: &[&str]) -> Vec<Option<String>> {
    query(c, args)
}

fn some(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|s| if *s == "nil" { None } else { Some(s.to_string()) }).collect()
}

#[test]
fn patterns_on_other_shards() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("sortsrc", 3);
        let (src, dst, other) = (&k[0], &k[1], &k[2]);
        let e = spread_elements(6);
        let weights = ["5", "3", "-1", "10", "2.5", "0"];
        let _: i64 = query(&mut c, &["RPUSH", src, &e[0], &e[1], &e[2], &e[3], &e[4], &e[5]]);
        for (el, w) in e.iter().zip(weights) {
            let _: () = query(&mut c, &["SET", &format!("w_{el}"), w]);
        }
        let _: i64 = query(&mut c, &["HSET", &format!("h_{}", e[0]), "name", "zed", "rank", "2"]);
        let _: i64 = query(&mut c, &["HSET", &format!("h_{}", e[3]), "name", "amy", "rank", "1"]);
        let _: () = query(&mut c, &["SET", &format!("v_{}", e[1]), "vee"]);

        // By weight: e2 (-1), e5 (0), e4 (2.5), e1 (3), e0 (5), e3 (10).
        let by_weight = [&e[2], &e[5], &e[4], &e[1], &e[0], &e[3]];
        let want: Vec<Option<String>> = by_weight.iter().map(|s| Some(s.to_string())).collect();
        assert_eq!(strings(&mut c, &["SORT", src, "BY", "w_*"]), want);
        let rev: Vec<Option<String>> = want.iter().rev().cloned().collect();
        assert_eq!(strings(&mut c, &["SORT_RO", src, "BY", "w_*", "DESC"]), rev);
        assert_eq!(strings(&mut c, &["SORT", src, "BY", "w_*", "LIMIT", "1", "3"]), want[1..4].to_vec());
        assert_eq!(
            strings(&mut c, &["SORT", src, "BY", "w_*", "GET", "#", "GET", "w_*", "LIMIT", "4", "2"]),
            some(&[&e[0], "5", &e[3], "10"])
        );
        assert_eq!(
            strings(&mut c, &["SORT", src, "BY", "w_*", "GET", "h_*->name", "GET", "v_*", "LIMIT", "3", "3"]),
            some(&["nil", "vee", "zed", "nil", "amy", "nil"])
        );
        // By hash field, numerically and alphabetically (missing fields first).
        assert_eq!(strings(&mut c, &["SORT", src, "BY", "h_*->rank", "LIMIT", "4", "2"]), some(&[&e[3], &e[0]]));
        assert_eq!(
            strings(&mut c, &["SORT", src, "BY", "h_*->name", "ALPHA", "DESC", "LIMIT", "0", "2"]),
            some(&[&e[0], &e[3]])
        );
        // A weight that is not a number fails the whole sort, wherever it lives.
        let _: () = query(&mut c, &["SET", &format!("w_{}", e[4]), "oops"]);
        let mut r = s.raw();
        assert_eq!(r.err(&["SORT", src, "BY", "w_*"]), "ERR One or more scores can't be converted into double");
        let _: () = query(&mut c, &["SET", &format!("w_{}", e[4]), "2.5"]);
        // An expired weight counts as missing (0).
        let _: () = query(&mut c, &["SET", &format!("w_{}", e[3]), "100", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(strings(&mut c, &["SORT", src, "BY", "w_*", "LIMIT", "1", "2"]), some(&[&e[3], &e[5]]));
        let _: () = query(&mut c, &["SET", &format!("w_{}", e[3]), "10"]);

        // STORE on another shard, over a value of another type and its TTL.
        let _: () = query(&mut c, &["SET", dst, "old", "EX", "100"]);
        assert_eq!(query::<i64>(&mut c, &["SORT", src, "BY", "w_*", "GET", "v_*", "STORE", dst]), 6);
        assert_eq!(query::<String>(&mut c, &["TYPE", dst]), "list");
        assert_eq!(query::<i64>(&mut c, &["TTL", dst]), -1);
        assert_eq!(
            query::<Vec<String>>(&mut c, &["LRANGE", dst, "0", "-1"]),
            ["", "", "", "vee", "", ""].map(String::from).to_vec()
        );
        assert_eq!(query::<i64>(&mut c, &["SORT", src, "BY", "w_*", "LIMIT", "0", "2", "STORE", dst]), 2);
        assert_eq!(query::<Vec<String>>(&mut c, &["LRANGE", dst, "0", "-1"]), [e[2].clone(), e[5].clone()].to_vec());
        // Nothing to store deletes the destination.
        assert_eq!(query::<i64>(&mut c, &["SORT", other, "STORE", dst]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", dst]), 0);
        // The source may be the destination.
        assert_eq!(query::<i64>(&mut c, &["SORT", src, "BY", "w_*", "STORE", src]), 6);
        assert_eq!(strings(&mut c, &["LRANGE", src, "0", "1"]), want[..2].to_vec());
    });
}

#[test]
fn store_wakes_a_client_blocked_on_another_shard() {
    each_shards(|s| {
        let k = spread_keys("sortwake", 2);
        let (src, dst) = (&k[0], &k[1]);
        let mut c = s.client();
        let _: i64 = query(&mut c, &["RPUSH", src, "3", "1", "2"]);
        let mut blocked = s.raw();
        blocked.send(&crate::support::encode(&["BLPOP", dst, "10"]));
        // Wait until the server has parked the client.
        assert!(crate::support::wait_until(Duration::from_secs(5), || {
            let info: String = query(&mut c, &["INFO", "clients"]);
            info.contains("blocked_clients:1")
        }));
        assert_eq!(query::<i64>(&mut c, &["SORT", src, "STORE", dst]), 3);
        let want = Reply::Array(vec![Reply::Bulk(dst.as_bytes().to_vec()), Reply::Bulk(b"1".to_vec())]);
        assert_eq!(blocked.reply(), want);
        assert_eq!(query::<Vec<String>>(&mut c, &["LRANGE", dst, "0", "-1"]), ["2", "3"].map(String::from).to_vec());
    });
}

/// Source keys: lists, sets and a sorted set; no hash tags, so with 3 shards
/// they and the pattern keys spread over the shards.
const LISTS: &[&str] = &["l1", "l2"];
const SETS: &[&str] = &["s1", "s2"];
const ELEMS: &[&str] = &["a", "b", "c", "d", "e", "1", "2", "10", "-3", "2.5", "07"];
const WEIGHTS: &[&str] = &["1", "2", "-1", "3.5", "10", "0", "", "2.50", "x"];
const BYS: &[&str] = &["w_*", "h_*->f", "nosort", "nokey_*", "w_*->f"];
const GETS: &[&str] = &["#", "w_*", "h_*->f", "h_*->g", "nostar"];

/// One random command for the SORT differential run.
fn gen(rng: &mut Rng) -> (Vec<String>, Cmp) {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let elems = |rng: &mut Rng| (0..1 + rng.below(4)).map(|_| rng.pick(ELEMS).to_string()).collect::<Vec<_>>();
    let mut cmp = Cmp::Exact;
    let cmd = match rng.below(24) {
        0..=2 => [s(&[rng.pick(&["RPUSH", "LPUSH"]), rng.pick(LISTS)]), elems(rng)].concat(),
        3 | 4 => [s(&["SADD", rng.pick(SETS)]), elems(rng)].concat(),
        5 => s(&["ZADD", "z1", &rng.range(-2, 3).to_string(), rng.pick(ELEMS)]),
        6 | 7 => s(&["SET", &format!("w_{}", rng.pick(ELEMS)), rng.pick(WEIGHTS)]),
        8 => s(&["HSET", &format!("h_{}", rng.pick(ELEMS)), rng.pick(&["f", "g"]), rng.pick(WEIGHTS)]),
        9 => s(&["DEL", rng.pick(&["l1", "l2", "s1", "s2", "z1", "d1", "w_a", "w_1", "h_b", "h_2"])]),
        10 => s(&["LRANGE", rng.pick(&["d1", "d2"]), "0", "-1"]),
        11 => s(&["SREM", rng.pick(SETS), rng.pick(ELEMS)]),
        12 => s(&["LPOP", rng.pick(LISTS)]),
        _ => {
            let src = rng.pick(&["l1", "l2", "l1", "s1", "s2", "z1", "missing", "w_a"]);
            let list = src.starts_with('l');
            let set = src.starts_with('s');
            let by = if rng.chance(60) { Some(rng.pick(BYS)) } else { None };
            let store = rng.chance(20);
            // ALPHA with a BY pattern leaves ties in input order: only a list's
            // order is the same on both servers.
            let alpha = rng.chance(40) && (list || !by.is_some_and(|b| b.contains('*')));
            // A set's own order shows when it is not sorted (and not stored).
            let unsorted_set = set && by == Some("nosort") && !store;
            let mut c = s(&[if store || rng.chance(70) { "SORT" } else { "SORT_RO" }, src]);
            if let Some(b) = by {
                c.extend(s(&["BY", b]));
            }
            if rng.chance(40) && !unsorted_set {
                c.extend(s(&["LIMIT", &rng.range(-1, 5).to_string(), &rng.range(-1, 5).to_string()]));
            }
            for _ in 0..rng.below(3) {
                c.extend(s(&["GET", rng.pick(GETS)]));
            }
            if rng.chance(40) {
                c.push(rng.pick(&["ASC", "DESC"]).to_string());
            }
            if alpha {
                c.push("ALPHA".to_string());
            }
            if store {
                c.extend(s(&["STORE", rng.pick(&["d1", "d2"])]));
            }
            if unsorted_set {
                cmp = Cmp::Sorted;
            }
            c
        }
    };
    (cmd, cmp)
}

#[test]
fn random_sort_sequences() {
    random_seeds_with("SORT random sequences", gen, 1..=seed_count(6), 400, 1, false);
}

#[test]
fn random_sort_sequences_pipelined() {
    random_seeds_with(
        "SORT random sequences (pipelined)",
        gen,
        (1..=seed_count(4)).map(|s| 700_000 + s),
        400,
        40,
        false,
    );
}
