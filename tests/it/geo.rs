//! Geo commands end to end: the STORE forms with source and destination on
//! different shards (GEORADIUS STORE/STOREDIST, GEORADIUSBYMEMBER,
//! GEOSEARCHSTORE), in and out of MULTI, and after an append-only file
//! restart; and a seeded random comparison of search replies with a real
//! redis-server over many random points, centres, radii and boxes.

use std::time::Duration;

use crate::support::{against_redis, data_dir, show, spread_keys, start_redis, Raw, Server};

/// Sends each command to every connection and asserts identical reply
/// bytes; returns how many replies were non-empty arrays.
fn same_replies(conns: &mut [(&str, Raw)], cmds: &[Vec<String>]) -> usize {
    let mut found = 0;
    for cmd in cmds {
        let replies: Vec<Vec<u8>> = conns.iter_mut().map(|(_, c)| c.cmd(cmd.as_slice())).collect();
        for (i, r) in replies.iter().enumerate().skip(1) {
            assert_eq!(show(r), show(&replies[0]), "{} differs from {} on {}", conns[i].0, conns[0].0, cmd.join(" "));
        }
        if replies[0].starts_with(b"*") && !replies[0].starts_with(b"*0\r\n") {
            found += 1;
        }
    }
    found
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

/// The commands of the cross-shard test: `src` and the destinations land on
/// different shards when there are 3.
fn store_script(src: &str, d1: &str, d2: &str) -> Vec<Vec<String>> {
    let lines = [
        format!("GEOADD {src} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1"),
        format!("GEOADD {src} 17.241510 38.788135 edge2 179.9 -85 far"),
        format!("GEORADIUS {src} 15 37 200 km STORE {d1}"),
        format!("ZRANGE {d1} 0 -1 WITHSCORES"),
        format!("GEORADIUS {src} 15 37 400 km STOREDIST {d2} DESC COUNT 3"),
        format!("ZRANGE {d2} 0 -1 WITHSCORES"),
        format!("GEORADIUSBYMEMBER {src} Palermo 300 mi STORE {d1} STOREDIST {d2} ASC COUNT 2"),
        format!("ZRANGE {d1} 0 -1 WITHSCORES"),
        format!("ZRANGE {d2} 0 -1 WITHSCORES"),
        format!("GEOSEARCHSTORE {d1} {src} FROMMEMBER Catania BYBOX 500 300 km ASC STOREDIST"),
        format!("ZRANGE {d1} 0 -1 WITHSCORES"),
        format!("GEOSEARCHSTORE {d2} {src} FROMLONLAT 15 37 BYRADIUS 1000 km COUNT 2 ANY"),
        format!("ZRANGE {d2} 0 -1 WITHSCORES"),
        format!("GEOSEARCH {d2} FROMLONLAT 15 37 BYRADIUS 1000 km ASC WITHCOORD WITHDIST WITHHASH"),
        format!("OBJECT ENCODING {d2}"),
        // An empty result deletes the destination.
        format!("GEOSEARCHSTORE {d2} {src} FROMLONLAT 0 0 BYRADIUS 1 km"),
        format!("EXISTS {d2}"),
        format!("GEORADIUS nosuchkey 0 0 1 km STORE {d1}"),
        format!("EXISTS {d1}"),
        // Errors come from the source's shard, before anything is stored.
        format!("GEORADIUS {src} 15 37 200 km STORE {d1} WITHDIST"),
        format!("GEORADIUSBYMEMBER {src} nobody 200 km STORE {d1}"),
        format!("SET {d1} string"),
        format!("GEORADIUS {d1} 15 37 200 km STORE {d2}"),
        format!("GEOSEARCHSTORE {d2} {d1} FROMLONLAT 15 37 BYRADIUS 200 km"),
        format!("GEORADIUS {src} 15 37 200 km STORE {d1}"),
        format!("TYPE {d1}"),
        // Inside a transaction.
        "MULTI".to_string(),
        format!("GEORADIUS {src} 15 37 200 km STOREDIST {d1} ASC"),
        format!("GEOSEARCHSTORE {d2} {src} FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1"),
        format!("ZRANGE {d1} 0 -1 WITHSCORES"),
        format!("ZRANGE {d2} 0 -1 WITHSCORES"),
        "EXEC".to_string(),
    ];
    lines.iter().map(|l| words(l)).collect()
}

#[test]
fn store_forms_across_shards() {
    let keys = spread_keys("geo:", 3);
    let (src, d1, d2) = (&keys[0], &keys[1], &keys[2]);
    let script = store_script(src, d1, d2);
    let redis = start_redis();
    let one = Server::start(1);
    let three = Server::start(3);
    let mut conns = [("redis", redis.raw()), ("tessera 1 shard", one.raw()), ("tessera 3 shards", three.raw())];
    same_replies(&mut conns, &script);
}

const AOF_ALWAYS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

#[test]
fn store_forms_survive_aof_restart() {
    if against_redis() {
        return;
    }
    let dir = data_dir("geo-aof");
    let keys = spread_keys("geoaof:", 4);
    let (src, d1, d2, d3) = (&keys[0], &keys[1], &keys[2], &keys[3]);
    let read = |c: &mut Raw| {
        [d1, d2, d3, src]
            .iter()
            .map(|k| show(&c.cmd(&["ZRANGE", k.as_str(), "0", "-1", "WITHSCORES"])))
            .collect::<Vec<_>>()
    };
    let before = {
        let s = Server::start_in(3, &dir, AOF_ALWAYS);
        let mut c = s.raw();
        let cmds = [
            format!("GEOADD {src} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1"),
            format!("GEORADIUS {src} 15 37 200 km STOREDIST {d1}"),
            format!("GEORADIUSBYMEMBER {src} Palermo 100 km STORE {d2}"),
            format!("GEOSEARCHSTORE {d3} {src} FROMLONLAT 15 37 BYBOX 400 400 km DESC COUNT 2"),
            format!("GEOSEARCHSTORE {{{src}}}x {src} FROMLONLAT 15 37 BYBOX 400 400 km"),
        ];
        for cmd in &cmds {
            let r = show(&c.cmd(words(cmd).as_slice()));
            assert!(!r.starts_with('-'), "{cmd}: {r}");
        }
        let before = read(&mut c);
        assert!(before.iter().all(|r| r.contains("Palermo") || r.contains("Catania")), "{before:?}");
        before
    };
    // The same data after a restart, with the same and with another shard count.
    for shards in [3, 1] {
        let s = Server::start_in(shards, &dir, AOF_ALWAYS);
        assert_eq!(read(&mut s.raw()), before, "after a restart with {shards} shard(s)");
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }

    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}

/// A random point, often near the poles, the antimeridian or another point.
fn point(rng: &mut Rng, near: &[(f64, f64)]) -> (f64, f64) {
    match rng.below(6) {
        0 => (rng.range(-180.0, 180.0), rng.range(80.0, 85.05112878)),
        1 => (rng.range(-180.0, 180.0), rng.range(-85.05112878, -80.0)),
        2 => {
            let off = rng.range(0.0, 1.0);
            (if rng.below(2) == 0 { 180.0 - off } else { -180.0 + off }, rng.range(-85.0, 85.0))
        }
        3 if !near.is_empty() => {
            let (x, y) = near[rng.below(near.len() as u64) as usize];
            (
                (x + rng.range(-0.5, 0.5)).clamp(-180.0, 180.0),
                (y + rng.range(-0.5, 0.5)).clamp(-85.05112878, 85.05112878),
            )
        }
        _ => (rng.range(-180.0, 180.0), rng.range(-85.05112878, 85.05112878)),
    }
}

/// One random search command over key `k` with members `m0..`.
fn random_search(rng: &mut Rng, k: &str, members: usize, near: &[(f64, f64)]) -> String {
    let unit = rng.pick(&["m", "km", "ft", "mi", "KM"]);
    let scale = match unit {
        "m" => 1.0,
        "ft" => 0.3048,
        "mi" => 1609.34,
        _ => 1000.0,
    };
    // Log-uniform sizes from 100 m to 20000 km, in the unit.
    let size = |rng: &mut Rng| format!("{:.3}", 10f64.powf(rng.range(2.0, 7.3)) / scale);
    let (x, y) = point(rng, near);
    let from = if rng.below(3) == 0 {
        format!("FROMMEMBER m{}", rng.below(members as u64 + 1))
    } else {
        format!("FROMLONLAT {x} {y}")
    };
    let by = if rng.below(2) == 0 {
        format!("BYRADIUS {} {unit}", size(rng))
    } else {
        format!("BYBOX {} {} {unit}", size(rng), size(rng))
    };
    let mut opts = Vec::new();
    match rng.below(3) {
        0 => opts.push("ASC".to_string()),
        1 => opts.push("DESC".to_string()),
        _ => {}
    }
    if rng.below(2) == 0 {
        opts.push(format!("COUNT {}", 1 + rng.below(40)));
        if rng.below(3) == 0 {
            opts.push("ANY".to_string());
        }
    }
    for w in ["WITHDIST", "WITHCOORD", "WITHHASH"] {
        if rng.below(2) == 0 {
            opts.push(w.to_string());
        }
    }
    let opts = opts.join(" ");
    match rng.below(10) {
        // The older forms of the same search.
        0 if by.starts_with("BYRADIUS") && from.starts_with("FROMLONLAT") => {
            format!("GEORADIUS_RO {k} {x} {y} {} {opts}", &by["BYRADIUS ".len()..])
        }
        1 if by.starts_with("BYRADIUS") && from.starts_with("FROMMEMBER") => {
            format!("GEORADIUSBYMEMBER {k} {} {} {opts}", &from["FROMMEMBER ".len()..], &by["BYRADIUS ".len()..])
        }
        _ => format!("GEOSEARCH {k} {from} {by} {opts}"),
    }
}

#[test]
fn random_searches_match_redis() {
    let redis = start_redis();
    let one = Server::start(1);
    let three = Server::start(3);
    let mut conns = [("redis", redis.raw()), ("tessera 1 shard", one.raw()), ("tessera 3 shards", three.raw())];
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for round in 0..6 {
        let k = format!("geo:{round}");
        // Rounds alternate packed (listpack) and indexed (skiplist) sets.
        let members = if round % 2 == 0 { 100 } else { 400 };
        let mut cmds = Vec::new();
        let mut near = Vec::new();
        for chunk in 0..members / 50 {
            let mut add = vec!["GEOADD".to_string(), k.clone()];
            for i in chunk * 50..(chunk + 1) * 50 {
                let (x, y) = point(&mut rng, &near);
                near.push((x, y));
                add.extend([format!("{x}"), format!("{y}"), format!("m{i}")]);
            }
            cmds.push(add);
        }
        cmds.push(words(&format!("OBJECT ENCODING {k}")));
        for _ in 0..150 {
            cmds.push(words(&random_search(&mut rng, &k, members, &near)));
        }
        // A few STORE forms, read back.
        for _ in 0..10 {
            let (x, y) = point(&mut rng, &near);
            let r = 10f64.powf(rng.range(4.0, 7.0)) as u64;
            cmds.push(words(&format!("GEORADIUS {k} {x} {y} {r} m STOREDIST dst:{round} DESC COUNT 20")));
            cmds.push(words(&format!("ZRANGE dst:{round} 0 -1 WITHSCORES")));
            cmds.push(words(&format!("GEOSEARCHSTORE dst2:{round} {k} FROMLONLAT {x} {y} BYBOX {r} {r} m")));
            cmds.push(words(&format!("ZRANGE dst2:{round} 0 -1 WITHSCORES")));
        }
        let found = same_replies(&mut conns, &cmds);
        // Most searches find something, so the comparison covers real results.
        assert!(found > cmds.len() / 3, "only {found} of {} replies found points", cmds.len());
    }
}

/// A subscriber to every keyspace and keyevent channel (and `marker`).
fn listener(p: &crate::support::Proc) -> Raw {
    let mut r = p.raw();
    r.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    r.cmd(&["SUBSCRIBE", "marker"]);
    r
}

/// The `(channel, message)` of a pub/sub message, `None` for the marker.
fn event(reply: &crate::support::resp::Reply) -> Option<(String, String)> {
    let items = reply.items()?;
    let text = |i: usize| items.get(i).and_then(|r| r.text()).unwrap_or_default();
    (items.len() == 4).then(|| (text(2), text(3)))
}

#[test]
fn store_events_across_shards() {
    let keys = spread_keys("geoev:", 3);
    let (src, d1, d2) = (&keys[0], &keys[1], &keys[2]);
    let script: Vec<Vec<String>> = [
        format!("GEOADD {src} 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"),
        format!("GEORADIUS {src} 15 37 200 km STORE {d1}"),
        format!("GEORADIUSBYMEMBER {src} Palermo 200 km STOREDIST {d1}"),
        format!("GEOSEARCHSTORE {d2} {src} FROMLONLAT 15 37 BYRADIUS 200 km"),
        format!("GEORADIUS {src} 0 0 1 km STORE {d1}"),
        format!("GEOSEARCHSTORE {d2} nokey FROMLONLAT 15 37 BYRADIUS 200 km"),
        format!("GEOADD {src} XX 1 1 nobody"),
    ]
    .iter()
    .map(|l| words(l))
    .collect();
    // What Redis publishes for each command, up to a marker published after it.
    let redis = start_redis();
    let mut want = Vec::new();
    {
        let mut c = redis.raw();
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        let mut l = listener(&redis);
        for cmd in &script {
            c.cmd(cmd.as_slice());
            c.cmd(&["PUBLISH", "marker", "x"]);
            let mut got = Vec::new();
            while let Some(e) = event(&l.reply()) {
                got.push(e);
            }
            got.sort();
            want.push(got);
        }
    }
    let s = Server::start(3);
    let mut c = s.raw();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut l = listener(&s);
    for (cmd, want) in script.iter().zip(&want) {
        c.cmd(cmd.as_slice());
        // Events of several shards may arrive in any order: compared as a set.
        let mut got: Vec<(String, String)> = (0..want.len()).filter_map(|_| event(&l.reply())).collect();
        got.sort();
        assert_eq!(&got, want, "events of {}", cmd.join(" "));
        assert!(l.pending_within(Duration::from_millis(50)).is_empty(), "extra events after {}", cmd.join(" "));
    }
}
