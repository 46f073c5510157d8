//! List commands over 1 and 3 shards: moves between keys that live on
//! different shards, encodings, and random command sequences compared with
//! redis-server byte for byte.

use crate::differential::{random_seeds_with, seed_count, Cmp, Rng};
use crate::support::{against_redis, each_shards, query, spread_keys};

fn range(c: &mut redis::Connection, key: &str) -> Vec<String> {
    query(c, &["LRANGE", key, "0", "-1"])
}

#[test]
fn lmove_and_rpoplpush_between_shards() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("lm", 3);
        let _: i64 = query(&mut c, &["RPUSH", &k[0], "a", "b", "c", "d"]);
        assert_eq!(query::<String>(&mut c, &["LMOVE", &k[0], &k[1], "LEFT", "RIGHT"]), "a");
        assert_eq!(query::<String>(&mut c, &["LMOVE", &k[0], &k[1], "RIGHT", "LEFT"]), "d");
        assert_eq!(query::<String>(&mut c, &["RPOPLPUSH", &k[0], &k[2]]), "c");
        assert_eq!(range(&mut c, &k[0]), ["b"]);
        assert_eq!(range(&mut c, &k[1]), ["d", "a"]);
        assert_eq!(range(&mut c, &k[2]), ["c"]);
        // The last element moves and the source disappears.
        assert_eq!(query::<String>(&mut c, &["LMOVE", &k[0], &k[2], "LEFT", "LEFT"]), "b");
        assert_eq!(query::<i64>(&mut c, &["EXISTS", &k[0]]), 0);
        assert_eq!(range(&mut c, &k[2]), ["b", "c"]);
        // A missing source answers null, whatever the destination holds.
        let _: () = query(&mut c, &["SET", &k[0], "string"]);
        assert_eq!(query::<Option<String>>(&mut c, &["LMOVE", "nothing-here", &k[0], "LEFT", "LEFT"]), None);
        // A destination of another type is refused before the source is popped.
        let mut r = s.raw();
        let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
        assert_eq!(r.err(&["LMOVE", &k[1], &k[0], "LEFT", "LEFT"]), wrongtype);
        assert_eq!(r.err(&["RPOPLPUSH", &k[1], &k[0]]), wrongtype);
        assert_eq!(r.err(&["RPOPLPUSH", &k[0], &k[1]]), wrongtype);
        assert_eq!(range(&mut c, &k[1]), ["d", "a"]);
        assert_eq!(r.err(&["LMOVE", &k[1], &k[2], "UP", "LEFT"]), "ERR syntax error");
        // Round trips keep every element exactly once.
        for _ in 0..30 {
            let _: Option<String> = query(&mut c, &["RPOPLPUSH", &k[1], &k[2]]);
            let _: Option<String> = query(&mut c, &["LMOVE", &k[2], &k[1], "LEFT", "RIGHT"]);
        }
        let mut all = range(&mut c, &k[1]);
        all.extend(range(&mut c, &k[2]));
        all.sort();
        assert_eq!(all, ["a", "b", "c", "d"]);
    });
}

#[test]
fn lmpop_takes_the_first_non_empty_list_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("mp", 6);
        let _: i64 = query(&mut c, &["RPUSH", &k[2], "x", "y", "z"]);
        let _: i64 = query(&mut c, &["RPUSH", &k[4], "p", "q"]);
        let keys: Vec<&str> = k.iter().map(String::as_str).collect();
        let mut cmd = vec!["LMPOP", "6"];
        cmd.extend(&keys);
        cmd.extend(["LEFT", "COUNT", "2"]);
        let got: (String, Vec<String>) = query(&mut c, &cmd);
        assert_eq!(got, (k[2].clone(), vec!["x".to_string(), "y".to_string()]));
        let got: (String, Vec<String>) = query(&mut c, &cmd);
        assert_eq!(got, (k[2].clone(), vec!["z".to_string()]));
        assert_eq!(query::<i64>(&mut c, &["EXISTS", &k[2]]), 0);
        let mut right = cmd.clone();
        right[8] = "RIGHT";
        right[10] = "5";
        let got: (String, Vec<String>) = query(&mut c, &right);
        assert_eq!(got, (k[4].clone(), vec!["q".to_string(), "p".to_string()]));
        let none: Option<(String, Vec<String>)> = query(&mut c, &cmd);
        assert_eq!(none, None);
        // A key of another type before the first list is an error; after it, it is never looked at.
        let _: () = query(&mut c, &["SET", &k[3], "v"]);
        let _: i64 = query(&mut c, &["RPUSH", &k[5], "last"]);
        let mut r = s.raw();
        assert_eq!(r.err(&cmd), "WRONGTYPE Operation against a key holding the wrong kind of value");
        let _: i64 = query(&mut c, &["RPUSH", &k[1], "first"]);
        let got: (String, Vec<String>) = query(&mut c, &cmd);
        assert_eq!(got, (k[1].clone(), vec!["first".to_string()]));
    });
}

#[test]
fn encodings_switch_at_the_configured_size() {
    if against_redis() {
        return; // Redis 7.0 has no listpack-encoded lists.
    }
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "4"]);
        let _: i64 = query(&mut c, &["RPUSH", "l", "1", "2", "3", "4"]);
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "l"]), "listpack");
        let _: i64 = query(&mut c, &["RPUSH", "l", "5"]);
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "l"]), "quicklist");
        let _: Vec<String> = query(&mut c, &["RPOP", "l", "3"]);
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "l"]), "listpack");
        let _: () = query(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "-2"]);
        let big = "x".repeat(9000);
        let _: i64 = query(&mut c, &["RPUSH", "big", &big]);
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "big"]), "quicklist");
        let many: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
        let mut cmd = vec!["RPUSH", "many"];
        cmd.extend(many.iter().map(String::as_str));
        let _: i64 = query(&mut c, &cmd);
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "many"]), "quicklist");
        assert_eq!(query::<String>(&mut c, &["LINDEX", "many", "1234"]), "1234");
        let _: () = query(&mut c, &["LTRIM", "many", "0", "9"]);
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "many"]), "listpack");
    });
}

const KEYS: &[&str] = &["l0", "l1", "l2", "l3", "{t}a", "{t}b", "s"];
const VALUES: &[&str] =
    &["a", "b", "c", "", "0", "-1", "10", "hello world", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"];
const INDEXES: &[&str] = &["0", "1", "2", "-1", "-2", "5", "-6", "100", "-100", "x"];
const ENDS: &[&str] = &["LEFT", "RIGHT"];

/// One random list command over a small key set (so commands collide), with
/// `s` sometimes holding a string for WRONGTYPE paths.
fn gen(rng: &mut Rng) -> (Vec<String>, Cmp) {
    let k = rng.pick(KEYS).to_string();
    let k2 = rng.pick(KEYS).to_string();
    let v = rng.pick(VALUES).to_string();
    let i = rng.pick(INDEXES).to_string();
    let j = rng.pick(INDEXES).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let cmd = match rng.below(31) {
        0..=3 => {
            let mut c = s(&[rng.pick(&["LPUSH", "RPUSH"]), &k]);
            for _ in 0..=rng.below(4) {
                c.push(rng.pick(VALUES).to_string());
            }
            c
        }
        4 => s(&[rng.pick(&["LPUSHX", "RPUSHX"]), &k, &v]),
        5 | 6 => s(&[rng.pick(&["LPOP", "RPOP"]), &k]),
        7 => s(&[rng.pick(&["LPOP", "RPOP"]), &k, rng.pick(&["0", "1", "2", "10", "-1"])]),
        8 => s(&["LLEN", &k]),
        9 | 10 => s(&["LRANGE", &k, &i, &j]),
        11 => s(&["LINDEX", &k, &i]),
        12 => s(&["LSET", &k, &i, &v]),
        13 => s(&["LINSERT", &k, rng.pick(&["BEFORE", "AFTER"]), rng.pick(VALUES), &v]),
        14 => s(&["LREM", &k, rng.pick(&["0", "1", "-1", "2", "-2"]), &v]),
        15 => s(&["LTRIM", &k, &i, &j]),
        16 | 17 => {
            let mut c = s(&["LPOS", &k, &v]);
            if rng.chance(40) {
                c.extend(s(&["RANK", rng.pick(&["1", "2", "-1", "-2", "0"])]));
            }
            if rng.chance(40) {
                c.extend(s(&["COUNT", rng.pick(&["0", "1", "2"])]));
            }
            if rng.chance(30) {
                c.extend(s(&["MAXLEN", rng.pick(&["0", "1", "3"])]));
            }
            c
        }
        18..=20 => s(&["LMOVE", &k, &k2, rng.pick(ENDS), rng.pick(ENDS)]),
        21 => s(&["RPOPLPUSH", &k, &k2]),
        22 | 23 => {
            let n = 1 + rng.below(3);
            let mut c = s(&["LMPOP", &n.to_string()]);
            for _ in 0..n {
                c.push(rng.pick(KEYS).to_string());
            }
            c.push(rng.pick(ENDS).to_string());
            if rng.chance(50) {
                c.extend(s(&["COUNT", rng.pick(&["1", "2", "5"])]));
            }
            c
        }
        24 => s(&["SET", "s", &v]),
        25 => s(&["DEL", &k]),
        26 => s(&["TYPE", &k]),
        27 => s(&["EXISTS", &k, &k2]),
        28 => s(&["RENAME", &k, &k2]),
        29 => s(&["LRANGE", &k, "0", "-1"]),
        // Small nodes, so that lists of a few elements take the quicklist paths.
        _ => s(&["CONFIG", "SET", "list-max-listpack-size", rng.pick(&["1", "2", "3", "-1", "-2", "0"])]),
    };
    (cmd, Cmp::Exact)
}

#[test]
fn random_list_sequences() {
    random_seeds_with("lists random (one command per write)", gen, 1..=seed_count(6), 400, 1, false);
}

#[test]
fn random_list_sequences_pipelined() {
    random_seeds_with("lists random (pipelined)", gen, (1..=seed_count(6)).map(|s| 200_000 + s), 400, 40, false);
}

#[test]
fn random_list_sequences_resp3() {
    random_seeds_with("lists random (RESP3)", gen, (1..=seed_count(3)).map(|s| 300_000 + s), 400, 10, true);
}
