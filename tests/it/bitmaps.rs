//! Bitmap commands: BITOP with its keys on three different shards, inside
//! MULTI and pipelined; large bitmaps grown bit by bit; keyspace events
//! compared with a real redis-server; and random command sequences compared
//! with redis-server byte for byte (1 and 3 shards).

use std::time::Duration;

use crate::differential::{random_seeds_with, seed_count, Cmp, Rng};
use crate::support::resp::Reply;
use crate::support::{each_shards, query, spread_keys, start_redis, Raw};

fn bytes(c: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    query(c, &["GET", key])
}

#[test]
fn bitop_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        // With 3 shards: a, b and x on shards 0, 1 and 2, d on shard 0, e on shard 1.
        let k = spread_keys("bm", 5);
        let (a, b, x, d, e) = (&k[0], &k[1], &k[2], &k[3], &k[4]);
        let _: () = query(&mut c, &["SET", a, "foobar"]);
        let _: () = query(&mut c, &["SET", b, "abcdef"]);
        let _: () = query(&mut c, &["SET", x, "12"]);
        let model = |f: fn(u8, u8) -> u8, srcs: &[&[u8]]| -> Vec<u8> {
            let n = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
            (0..n)
                .map(|i| {
                    let at = |s: &[u8]| s.get(i).copied().unwrap_or(0);
                    srcs[1..].iter().fold(at(srcs[0]), |acc, s| f(acc, at(s)))
                })
                .collect()
        };
        let srcs: [&[u8]; 3] = [b"foobar", b"abcdef", b"12"];
        for (op, f) in [("AND", (|p, q| p & q) as fn(u8, u8) -> u8), ("OR", |p, q| p | q), ("XOR", |p, q| p ^ q)] {
            for dst in [d, e] {
                assert_eq!(query::<i64>(&mut c, &["BITOP", op, dst, a, b, x]), 6, "{op}");
                assert_eq!(bytes(&mut c, dst), Some(model(f, &srcs)), "BITOP {op} into {dst}");
                assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", dst]), "raw");
            }
        }
        assert_eq!(query::<i64>(&mut c, &["BITOP", "NOT", e, x]), 2);
        assert_eq!(bytes(&mut c, e), Some(vec![!b'1', !b'2']));
        // Missing sources read as empty strings; an empty result deletes the destination.
        assert_eq!(query::<i64>(&mut c, &["BITOP", "AND", e, a, "nokey"]), 6);
        assert_eq!(bytes(&mut c, e), Some(vec![0; 6]));
        assert_eq!(query::<i64>(&mut c, &["BITOP", "OR", e, "nokey", "{x}nokey"]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", e]), 0);
        // The result replaces a value of another type and drops its TTL.
        let _: i64 = query(&mut c, &["RPUSH", e, "v"]);
        let _: i64 = query(&mut c, &["EXPIRE", e, "100"]);
        assert_eq!(query::<i64>(&mut c, &["BITOP", "OR", e, x, a]), 6);
        assert_eq!(query::<String>(&mut c, &["TYPE", e]), "string");
        assert_eq!(query::<i64>(&mut c, &["TTL", e]), -1);
        // The destination may be a source.
        assert_eq!(query::<i64>(&mut c, &["BITOP", "XOR", x, x, x]), 2);
        assert_eq!(bytes(&mut c, x), Some(vec![0, 0]));
        // A source of another type fails the whole command, leaving the destination alone.
        let _: i64 = query(&mut c, &["DEL", b]);
        let _: i64 = query(&mut c, &["SADD", b, "m"]);
        let mut r = s.raw();
        let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
        assert_eq!(r.err(&["BITOP", "OR", d, a, b]), wrong);
        assert_eq!(r.err(&["BITOP", "OR", e, b, a]), wrong);
        assert_eq!(bytes(&mut c, e), Some(model(|p, q| p | q, &[b"12", b"foobar"])));
    });
}

#[test]
fn bitop_in_transactions_and_pipelines() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("tx", 3);
        let mut p = redis::pipe();
        p.atomic();
        p.cmd("SETBIT").arg(&k[0]).arg(0).arg(1);
        p.cmd("SETBIT").arg(&k[1]).arg(9).arg(1);
        p.cmd("BITOP").arg("OR").arg(&k[2]).arg(&k[0]).arg(&k[1]);
        p.cmd("BITCOUNT").arg(&k[2]);
        p.cmd("BITPOS").arg(&k[2]).arg(1).arg(1);
        let got: (i64, i64, i64, i64, i64) = p.query(&mut c).expect("MULTI/EXEC");
        assert_eq!(got, (0, 0, 2, 2, 9));
        let mut p = redis::pipe();
        for i in 0..20 {
            p.cmd("SETBIT").arg(&k[i % 2]).arg(i * 3).arg(1);
            p.cmd("BITOP").arg("XOR").arg(&k[2]).arg(&k[0]).arg(&k[1]);
            p.cmd("BITCOUNT").arg(&k[2]);
        }
        let got: Vec<i64> = p.query(&mut c).expect("pipeline");
        let counts: Vec<i64> = got.chunks(3).map(|r| r[2]).collect();
        // The model sets the same bits and counts the XOR after each step.
        let (mut m0, mut m1) = (vec![0u8; 8], vec![0u8; 8]);
        m0[0] = 0x80;
        m1[1] = 0x40;
        let mut want = Vec::new();
        for i in 0..20usize {
            let m = if i % 2 == 0 { &mut m0 } else { &mut m1 };
            let bit = i * 3;
            m[bit / 8] |= 0x80 >> (bit % 8);
            want.push(m0.iter().zip(&m1).map(|(x, y)| (x ^ y).count_ones() as i64).sum::<i64>());
        }
        assert_eq!(counts, want);
    });
}

#[test]
fn large_bitmaps_grow_and_scan() {
    each_shards(|s| {
        let mut c = s.client();
        // Rising offsets, as a bitmap of user ids fills: the string grows in place.
        let mut model = Vec::new();
        let mut p = redis::pipe();
        let mut off = 3u64;
        while off < 2_000_000 {
            p.cmd("SETBIT").arg("big").arg(off).arg(1).ignore();
            let byte = (off / 8) as usize;
            if model.len() <= byte {
                model.resize(byte + 1, 0u8);
            }
            model[byte] |= 0x80 >> (off % 8);
            off += 1 + off / 50;
        }
        let _: () = p.query(&mut c).expect("SETBITs");
        let _: () = query(&mut c, &["PING"]);
        let _: i64 = query(&mut c, &["SETBIT", "big", "3", "1"]);
        assert_eq!(query::<i64>(&mut c, &["STRLEN", "big"]), model.len() as i64);
        let ones: i64 = model.iter().map(|b| b.count_ones() as i64).sum();
        assert_eq!(query::<i64>(&mut c, &["BITCOUNT", "big"]), ones);
        assert_eq!(bytes(&mut c, "big"), Some(model.clone()));
        // BITPOS over long runs of zeros, from a few starting points.
        for start in [0usize, 100, 10_000, model.len() - 3] {
            let want = model[start..].iter().position(|&b| b != 0).map_or(-1, |i| {
                let i = start + i;
                (i * 8) as i64 + model[i].leading_zeros() as i64
            });
            assert_eq!(query::<i64>(&mut c, &["BITPOS", "big", "1", &start.to_string()]), want, "from {start}");
        }
        let _: () = query(&mut c, &["SET", "ones", "\u{7f}"]);
        let _: i64 = query(&mut c, &["SETBIT", "ones", "0", "1"]);
        let _: i64 = query(&mut c, &["SETBIT", "ones", "100000", "1"]);
        let _: i64 = query(&mut c, &["BITOP", "NOT", "ones", "ones"]);
        // Now "\x00", then 12,500 bytes of ones but for bit 100,000.
        assert_eq!(query::<i64>(&mut c, &["BITPOS", "ones", "0"]), 0);
        assert_eq!(query::<i64>(&mut c, &["BITPOS", "ones", "0", "1"]), 100_000);
        assert_eq!(query::<i64>(&mut c, &["BITPOS", "ones", "1"]), 8);
        assert_eq!(query::<i64>(&mut c, &["BITCOUNT", "ones", "1", "-1"]), 99_999);
        assert_eq!(query::<i64>(&mut c, &["BITCOUNT", "ones", "8", "-1", "BIT"]), 99_999);
    });
}

/// The next `n` keyspace notifications as (channel, message) pairs.
fn next_events(r: &mut Raw, n: usize, what: &str) -> Vec<(String, String)> {
    let text = |r: &Reply| r.text().unwrap_or_default();
    (0..n)
        .map(|_| match r.try_reply() {
            Ok(Some((Reply::Array(v) | Reply::Push(v), _))) if v.len() == 4 => (text(&v[2]), text(&v[3])),
            other => panic!("{what}: expected {n} events, got {other:?}"),
        })
        .collect()
}

#[test]
fn events_match_redis() {
    let k = spread_keys("ev", 3);
    let script: Vec<Vec<String>> = [
        "SETBIT {0} 7 1",
        "SETBIT {0} 7 1",
        "SETBIT {0} 3 0",
        "SETBIT {0} 40 0",
        "SET {1} 12",
        "SETBIT {1} 0 0",
        "GETBIT {1} 0",
        "GETBIT nokey 0",
        "BITCOUNT nokey",
        "BITPOS nokey 1",
        "BITFIELD {1} GET u8 0",
        "BITFIELD {1} SET u8 0 49",
        "BITFIELD {1} SET u8 0 50",
        "BITFIELD {1} INCRBY u8 0 0",
        "BITFIELD {1} OVERFLOW FAIL SET u2 100 5",
        "BITFIELD {2} OVERFLOW FAIL SET u2 0 5",
        "BITFIELD {2} SET u2 100 0",
        "BITFIELD_RO nokey GET u8 0",
        "BITOP OR {2} {0} {1}",
        "BITOP AND {2} {0} nokey",
        "BITOP AND {2} nokey",
        "BITOP NOT {0} {0}",
    ]
    .iter()
    .map(|l| l.replace("{0}", &k[0]).replace("{1}", &k[1]).replace("{2}", &k[2]))
    .map(|l| l.split(' ').map(String::from).collect())
    .collect();

    let redis = start_redis();
    let mut c = redis.raw();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAmn"]);
    let mut l = redis.raw();
    l.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    l.cmd(&["SUBSCRIBE", "marker"]);
    let mut expected = Vec::new();
    for cmd in &script {
        c.call(cmd);
        c.cmd(&["PUBLISH", "marker", "x"]);
        let mut got = Vec::new();
        loop {
            match l.reply() {
                Reply::Array(v) if v.len() == 4 => {
                    got.push((v[2].text().unwrap_or_default(), v[3].text().unwrap_or_default()))
                }
                _ => break,
            }
        }
        expected.push(got);
    }
    assert!(expected.iter().any(Vec::is_empty) && expected.iter().map(Vec::len).sum::<usize>() > 20);

    each_shards(|s| {
        let mut c = s.raw();
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAmn"]);
        let mut l = s.raw();
        l.cmd(&["PSUBSCRIBE", "__key*__:*"]);
        for (cmd, want) in script.iter().zip(&expected) {
            c.call(cmd);
            let mut got = next_events(&mut l, want.len(), &format!("{cmd:?} (expected {want:?})"));
            let mut want = want.clone();
            if s.shards > 1 {
                // Events of keys on different shards travel on different queues.
                got.sort();
                want.sort();
            }
            assert_eq!(got, want, "events of {cmd:?}");
        }
        assert!(l.pending_within(Duration::from_millis(200)).is_empty(), "no event beyond Redis's");
    });
}

/// Keys on every shard (and two sharing one), and values of several encodings.
const KEYS: &[&str] = &["b0", "b1", "b2", "b3", "{t}a", "{t}b"];
const VALUES: &[&str] = &["", "0", "12", "-5", "foobar", "\u{7f}", "hello world, a longer value of 48 bytes...."];

fn gen(rng: &mut Rng) -> (Vec<String>, Cmp) {
    let key = |rng: &mut Rng| rng.pick(KEYS).to_string();
    let k = key(rng);
    let n = |rng: &mut Rng, lo: i64, hi: i64| rng.range(lo, hi).to_string();
    let unit = |rng: &mut Rng| rng.pick(&["BIT", "BYTE", "bit"]).to_string();
    let cmd: Vec<String> = match rng.below(24) {
        0..=3 => vec!["SETBIT".into(), k, n(rng, 0, 200), n(rng, 0, 1)],
        4 | 5 => vec!["GETBIT".into(), k, n(rng, 0, 220)],
        6 => vec!["BITCOUNT".into(), k],
        7 | 8 => {
            let mut c = vec!["BITCOUNT".into(), k, n(rng, -30, 30), n(rng, -30, 30)];
            if rng.chance(60) {
                c.push(unit(rng));
            }
            c
        }
        9..=11 => {
            let mut c = vec!["BITPOS".into(), k, n(rng, 0, 1)];
            let extra = rng.below(4);
            if extra >= 1 {
                c.push(n(rng, -30, 30));
            }
            if extra >= 2 {
                c.push(n(rng, -30, 30));
            }
            if extra == 3 {
                c.push(unit(rng));
            }
            c
        }
        12 | 13 => {
            let op = rng.pick(&["AND", "OR", "XOR", "NOT"]);
            let srcs = if op == "NOT" { 1 } else { 1 + rng.below(3) };
            let mut c = vec!["BITOP".into(), op.into(), k];
            c.extend((0..srcs).map(|_| key(rng)));
            c
        }
        14..=17 => {
            let mut c = vec![rng.pick(&["BITFIELD", "BITFIELD", "BITFIELD_RO"]).to_string(), k];
            for _ in 0..1 + rng.below(3) {
                let signed = rng.chance(50);
                let ty = format!("{}{}", if signed { "i" } else { "u" }, rng.range(1, if signed { 64 } else { 63 }));
                let off = if rng.chance(20) { format!("#{}", rng.range(0, 6)) } else { n(rng, 0, 120) };
                if rng.chance(25) {
                    c.extend(["OVERFLOW".into(), rng.pick(&["WRAP", "SAT", "FAIL"]).into()]);
                }
                let v = match rng.below(3) {
                    0 => n(rng, -300, 300),
                    1 => rng.pick(&["9223372036854775807", "-9223372036854775808", "-1"]).to_string(),
                    _ => n(rng, -5_000_000_000, 5_000_000_000),
                };
                match rng.below(3) {
                    0 => c.extend(["GET".into(), ty, off]),
                    1 => c.extend(["SET".into(), ty, off, v]),
                    _ => c.extend(["INCRBY".into(), ty, off, v]),
                }
            }
            c
        }
        18 => vec!["SET".into(), k, rng.pick(VALUES).into()],
        19 => vec!["GET".into(), k],
        20 => vec!["OBJECT".into(), "ENCODING".into(), k],
        21 => vec!["DEL".into(), k],
        22 => vec!["HSET".into(), k, "f".into(), "v".into()],
        _ => vec!["APPEND".into(), k, "ab".into()],
    };
    (cmd, Cmp::Exact)
}

#[test]
fn random_sequences() {
    random_seeds_with("bitmaps random (one command per write)", gen, 1..=seed_count(6), 400, 1, false);
}

#[test]
fn random_sequences_pipelined() {
    random_seeds_with("bitmaps random (pipelined)", gen, (1..=seed_count(4)).map(|s| 700_000 + s), 400, 40, false);
}

#[test]
fn random_sequences_resp3() {
    random_seeds_with("bitmaps random (RESP3)", gen, (1..=seed_count(3)).map(|s| 800_000 + s), 300, 10, true);
}
