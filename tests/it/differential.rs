//! Differential tests: the same commands go to a real redis-server and to
//! Tessera with 1 and with 3 shards, and the reply bytes must be identical.
//!
//! Sources of commands: the hand-written corpus in tests/it/corpus/*.txt, the
//! arity and metadata checks generated from scripts/commands.txt, raw protocol
//! inputs, and a seeded random generator over string and key commands with a
//! small key set so that commands collide. Replies that legitimately differ
//! (KEYS order, TTLs read a few milliseconds apart) are compared after sorting
//! or within a tolerance; INFO, CLIENT LIST, TIME, RANDOMKEY values, SCAN
//! order and DEBUG are never compared byte-wise.

use crate::support::{encode, show, start_redis, Proc, Raw, Reply, Server};
use tessera::resp::parse::split_args;

/// How the replies to one command are compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cmp {
    /// Byte for byte.
    Exact,
    /// Aggregates compared as multisets (KEYS, CONFIG GET with patterns).
    Sorted,
    /// Integers may differ by this much (TTLs read at slightly different times).
    Near(i64),
    /// Only the reply type must agree.
    Type,
    /// Sent to both, not compared.
    Skip,
}

/// One server under comparison and a connection to it.
struct Target {
    name: String,
    port: u16,
    conn: Raw,
}

/// redis-server (target 0) and Tessera with 1 and 3 shards.
struct Diff {
    _redis: Proc,
    _tessera: Vec<Server>,
    targets: Vec<Target>,
    resp3: bool,
}

type Answer = Result<(Reply, Vec<u8>), String>;

impl Diff {
    fn start() -> Diff {
        let redis = start_redis();
        // Redis 7.0 has no packed encoding for sets of strings (7.2 added it):
        // with none, OBJECT ENCODING answers as 7.0 does.
        let opts: &[&str] = if crate::support::against_redis() { &[] } else { &["--set-max-listpack-entries", "0"] };
        let tessera = vec![Server::start_with(1, opts), Server::start_with(3, opts)];
        let mut targets = vec![Target { name: "redis".into(), port: redis.port, conn: redis.raw() }];
        for s in &tessera {
            targets.push(Target { name: format!("tessera --shards {}", s.shards), port: s.port, conn: s.raw() });
        }
        Diff { _redis: redis, _tessera: tessera, targets, resp3: false }
    }

    /// New connections, empty databases and (if asked) RESP3 on every target.
    fn fresh(&mut self, resp3: bool) {
        self.resp3 = resp3;
        for t in &mut self.targets {
            t.conn = Raw::connect(t.port);
            match t.conn.try_reply_to(&encode(&["FLUSHALL"])) {
                Ok((Reply::Simple(s), _)) if s == b"OK" => {}
                other => panic!("FLUSHALL on {} failed: {}", t.name, describe(&other)),
            }
            if resp3 {
                match t.conn.try_reply_to(&encode(&["HELLO", "3"])) {
                    Ok((Reply::Map(_), _)) => {}
                    other => panic!("HELLO 3 on {} failed: {}", t.name, describe(&other)),
                }
            }
        }
    }

    /// After a target failed to answer, a new connection in the same mode.
    fn reconnect(&mut self, i: usize) {
        let t = &mut self.targets[i];
        t.conn = Raw::connect(t.port);
        if self.resp3 {
            let _ = t.conn.try_reply_to(&encode(&["HELLO", "3"]));
        }
    }

    /// Sends one command everywhere; `Err` describes a mismatch.
    fn run<A: AsRef<[u8]>>(&mut self, args: &[A], cmp: Cmp) -> Result<(), String> {
        self.run_batch(&[args.iter().map(|a| a.as_ref().to_vec()).collect()], &[cmp])
    }

    /// Sends several commands in one write to every target, then compares the
    /// replies one by one. `Err` describes the first mismatch.
    fn run_batch(&mut self, cmds: &[Vec<Vec<u8>>], cmps: &[Cmp]) -> Result<(), String> {
        let wire: Vec<u8> = cmds.iter().flat_map(|c| encode(c)).collect();
        for t in &mut self.targets {
            t.conn.send(&wire);
        }
        let mut answers: Vec<Vec<Answer>> = Vec::new();
        for i in 0..self.targets.len() {
            let mut mine = Vec::new();
            let mut broken = false;
            for _ in cmds {
                if broken {
                    mine.push(Err("<no reply: connection lost earlier in the batch>".to_string()));
                    continue;
                }
                let a = match self.targets[i].conn.try_reply() {
                    Ok(Some(r)) => Ok(r),
                    Ok(None) => Err("<connection closed>".to_string()),
                    Err(e) => Err(format!("<{e}>")),
                };
                broken = a.is_err();
                mine.push(a);
            }
            if broken {
                assert!(i != 0, "redis-server did not answer {}: {:?}", show_cmd(&cmds[0]), mine.last());
                self.reconnect(i);
            }
            answers.push(mine);
        }
        for (j, cmd) in cmds.iter().enumerate() {
            let want = &answers[0][j];
            let bad: Vec<usize> = (1..self.targets.len()).filter(|&i| !same(cmps[j], want, &answers[i][j])).collect();
            if !bad.is_empty() {
                let mut msg = format!(
                    "{}{}",
                    show_cmd(cmd),
                    if cmps[j] == Cmp::Exact { String::new() } else { format!(" ({:?})", cmps[j]) }
                );
                for (i, t) in self.targets.iter().enumerate() {
                    let mark = if bad.contains(&i) { "≠" } else { " " };
                    msg.push_str(&format!("\n      {mark} {:<20} {}", t.name, describe(&answers[i][j])));
                }
                return Err(msg);
            }
        }
        Ok(())
    }
}

impl Raw {
    /// Sends bytes and returns the reply, or a description of what went wrong.
    fn try_reply_to(&mut self, wire: &[u8]) -> Answer {
        self.send(wire);
        match self.try_reply() {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err("<connection closed>".into()),
            Err(e) => Err(e),
        }
    }
}

fn same(cmp: Cmp, a: &Answer, b: &Answer) -> bool {
    let (Ok((ra, ba)), Ok((rb, bb))) = (a, b) else {
        return false;
    };
    match cmp {
        Cmp::Exact => ba == bb,
        Cmp::Sorted => ra.sorted() == rb.sorted(),
        Cmp::Near(n) => match (ra, rb) {
            (Reply::Int(x), Reply::Int(y)) => x.abs_diff(*y) <= n as u64,
            _ => ba == bb,
        },
        Cmp::Type => ba.first() == bb.first(),
        Cmp::Skip => true,
    }
}

fn describe(a: &Answer) -> String {
    match a {
        Ok((_, bytes)) => {
            let s = show(bytes);
            if s.len() > 600 {
                format!("{}... ({} bytes)", &s[..600], bytes.len())
            } else {
                s
            }
        }
        Err(e) => e.clone(),
    }
}

fn show_cmd<A: AsRef<[u8]>>(args: &[A]) -> String {
    args.iter()
        .map(|a| {
            let s = show(a.as_ref());
            if s.is_empty() || s.contains(' ') || s.contains('\\') {
                format!("\"{s}\"")
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fails the test with every collected mismatch.
fn report(what: &str, failures: &[String]) {
    if failures.is_empty() {
        return;
    }
    let shown: Vec<&String> = failures.iter().take(80).collect();
    panic!(
        "{what}: {} command(s) replied differently from redis-server:\n{}{}",
        failures.len(),
        shown.iter().map(|s| format!("  {s}")).collect::<Vec<_>>().join("\n"),
        if failures.len() > shown.len() {
            format!("\n  ... and {} more", failures.len() - shown.len())
        } else {
            String::new()
        }
    );
}

/// Splits a corpus line into its comparison prefix and the command.
fn parse_line(line: &str) -> (Cmp, &str) {
    if let Some(rest) = line.strip_prefix("sort:") {
        return (Cmp::Sorted, rest.trim_start());
    }
    if let Some(rest) = line.strip_prefix("type:") {
        return (Cmp::Type, rest.trim_start());
    }
    if let Some(rest) = line.strip_prefix("skip:") {
        return (Cmp::Skip, rest.trim_start());
    }
    if let Some(rest) = line.strip_prefix("near ") {
        if let Some((n, cmd)) = rest.split_once(':') {
            if let Ok(n) = n.trim().parse() {
                return (Cmp::Near(n), cmd.trim_start());
            }
        }
    }
    (Cmp::Exact, line)
}

/// Runs a corpus file; every section starts on fresh, flushed connections.
pub(crate) fn run_corpus(name: &str, text: &str, resp3: bool) {
    let mut d = Diff::start();
    d.fresh(resp3);
    let mut section = "(top)".to_string();
    let mut failures = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(s) = line.strip_prefix("== ") {
            section = s.to_string();
            d.fresh(resp3);
            continue;
        }
        let (cmp, cmd) = parse_line(line);
        let args = split_args(cmd.as_bytes()).unwrap_or_else(|| panic!("{name}:{}: unbalanced quotes", i + 1));
        if let Err(e) = d.run(&args, cmp) {
            failures.push(format!("{name}:{} [{section}] {e}", i + 1));
        }
    }
    report(name, &failures);
}

#[test]
fn corpus_strings() {
    run_corpus("corpus/strings.txt", include_str!("corpus/strings.txt"), false);
}

#[test]
fn corpus_keys() {
    run_corpus("corpus/keys.txt", include_str!("corpus/keys.txt"), false);
}

#[test]
fn corpus_server() {
    run_corpus("corpus/server.txt", include_str!("corpus/server.txt"), false);
}

#[test]
fn corpus_lists() {
    run_corpus("corpus/lists.txt", include_str!("corpus/lists.txt"), false);
}

#[test]
fn corpus_hashes() {
    run_corpus("corpus/hashes.txt", include_str!("corpus/hashes.txt"), false);
}

#[test]
fn corpus_sets() {
    run_corpus("corpus/sets.txt", include_str!("corpus/sets.txt"), false);
}

#[test]
fn corpus_zsets() {
    run_corpus("corpus/zsets.txt", include_str!("corpus/zsets.txt"), false);
}

#[test]
fn corpus_streams() {
    run_corpus("corpus/streams.txt", include_str!("corpus/streams.txt"), false);
    run_corpus("corpus/streams.txt", include_str!("corpus/streams.txt"), true);
}

#[test]
fn corpus_sort() {
    run_corpus("corpus/sort.txt", include_str!("corpus/sort.txt"), false);
}

#[test]
fn corpus_bitmaps() {
    run_corpus("corpus/bitmaps.txt", include_str!("corpus/bitmaps.txt"), false);
    run_corpus("corpus/bitmaps.txt (RESP3)", include_str!("corpus/bitmaps.txt"), true);
}

#[test]
fn corpus_geo() {
    run_corpus("corpus/geo.txt", include_str!("corpus/geo.txt"), false);
    run_corpus("corpus/geo.txt (RESP3)", include_str!("corpus/geo.txt"), true);
}

#[test]
fn corpus_hll() {
    run_corpus("corpus/hll.txt", include_str!("corpus/hll.txt"), false);
    run_corpus("corpus/hll.txt (RESP3)", include_str!("corpus/hll.txt"), true);
}

#[test]
fn corpus_blocking() {
    run_corpus("corpus/blocking.txt", include_str!("corpus/blocking.txt"), false);
    run_corpus("corpus/blocking.txt (RESP3)", include_str!("corpus/blocking.txt"), true);
}

#[test]
fn corpus_collections_in_resp3() {
    // Maps, doubles and nulls of the collection commands differ in RESP3.
    let text = ["lists", "hashes", "sets", "zsets", "sort"]
        .map(|f| std::fs::read_to_string(format!("{}/tests/it/corpus/{f}.txt", env!("CARGO_MANIFEST_DIR"))).unwrap())
        .join("\n");
    run_corpus("corpus/{lists,hashes,sets,zsets,sort}.txt (RESP3)", &text, true);
}

#[test]
fn corpus_resp3() {
    run_corpus("corpus/resp3.txt", include_str!("corpus/resp3.txt"), true);
}

#[test]
fn corpus_strings_and_keys_in_resp3() {
    // The same string and key corpus again in RESP3: nulls, maps and doubles differ there.
    let text = format!("{}\n{}", include_str!("corpus/strings.txt"), include_str!("corpus/keys.txt"));
    run_corpus("corpus/strings.txt + keys.txt (RESP3)", &text, true);
}

/// The commands Tessera serves: (container or command, optional subcommand).
fn command_names() -> Vec<(String, Option<String>)> {
    include_str!("../../scripts/commands.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('|') {
            Some((c, s)) => (c.to_string(), Some(s.to_string())),
            None => (l.to_string(), None),
        })
        .collect()
}

/// Commands that Redis 7.0 does not have (added in later versions).
const NOT_IN_REDIS_7_0: &[&str] = &["client|setinfo"];

#[test]
fn arity_errors() {
    // With no arguments and with too many, every command must fail (or
    // succeed) exactly as Redis does.
    let skip_bare = ["hello", "info", "time", "lastsave", "quit", "shutdown", "command", "reset"];
    let skip_bare_sub =
        ["client|id", "client|info", "client|list", "command|count", "command|list", "command|info", "command|docs"]
            .into_iter()
            // Their replies are this server's memory figures and allocator report.
            .chain(["memory|stats", "memory|doctor", "memory|malloc-stats"])
            .collect::<Vec<_>>();
    let skip_extra = ["quit", "shutdown", "debug"];
    let mut d = Diff::start();
    d.fresh(false);
    let mut failures = Vec::new();
    for (cmd, sub) in command_names() {
        let full = match &sub {
            Some(s) => format!("{cmd}|{s}"),
            None => cmd.clone(),
        };
        if NOT_IN_REDIS_7_0.contains(&full.as_str()) {
            continue;
        }
        let mut base = vec![cmd.to_uppercase()];
        base.extend(sub.iter().map(|s| s.to_uppercase()));
        let bare_ok = match &sub {
            Some(_) => !skip_bare_sub.contains(&full.as_str()),
            None => !skip_bare.contains(&cmd.as_str()),
        };
        if bare_ok {
            if let Err(e) = d.run(&base, Cmp::Exact) {
                failures.push(e);
            }
        }
        if !skip_extra.contains(&cmd.as_str()) {
            let mut extra = base.clone();
            extra.extend(std::iter::repeat_n("a".to_string(), 5));
            if let Err(e) = d.run(&extra, Cmp::Exact) {
                failures.push(e);
            }
        }
    }
    report("arity and bare calls", &failures);
}

#[test]
fn command_metadata() {
    // COMMAND INFO and COMMAND DOCS come from Redis's own metadata: every
    // command must describe itself byte for byte as Redis 7.0 does. Containers
    // are compared per subcommand (Tessera lists only the subcommands it has).
    let mut d = Diff::start();
    d.fresh(false);
    let mut failures = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (cmd, sub) in command_names() {
        let full = match &sub {
            Some(s) => format!("{cmd}|{s}"),
            None => cmd.clone(),
        };
        if !NOT_IN_REDIS_7_0.contains(&full.as_str()) {
            names.push(full);
        }
    }
    for n in &names {
        for what in ["INFO", "DOCS"] {
            if let Err(e) = d.run(&["COMMAND", what, n], Cmp::Exact) {
                failures.push(e);
            }
        }
    }
    if let Err(e) = d.run(&["COMMAND", "INFO", "get", "nosuchcommand", "set"], Cmp::Exact) {
        failures.push(e);
    }
    d.fresh(true);
    for n in ["get", "set", "config|get", "lcs"] {
        if let Err(e) = d.run(&["COMMAND", "DOCS", n], Cmp::Exact) {
            failures.push(format!("(RESP3) {e}"));
        }
    }
    report("COMMAND INFO/DOCS", &failures);
}

#[test]
fn dump_payloads_are_interchangeable() {
    // DUMP output must be byte-identical to Redis's, and payloads made by
    // Redis must RESTORE into Tessera.
    let mut d = Diff::start();
    d.fresh(false);
    let values: Vec<Vec<u8>> = vec![
        b"0".to_vec(),
        b"-1".to_vec(),
        b"127".to_vec(),
        b"-32768".to_vec(),
        b"2147483647".to_vec(),
        b"-2147483649".to_vec(),
        b"9223372036854775807".to_vec(),
        b"12345678901234567890".to_vec(),
        b"007".to_vec(),
        b"".to_vec(),
        b"hello".to_vec(),
        vec![b'a'; 20],
        vec![b'a'; 21],
        b"abc".repeat(100),
        (0..=255u8).collect(),
        (0..5000u32).map(|i| (i * 7 % 251) as u8).collect(),
        b"x".repeat(70_000),
    ];
    let mut failures = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let key = format!("d{i}");
        if let Err(e) = d.run(&[b"SET".to_vec(), key.clone().into_bytes(), v.clone()], Cmp::Exact) {
            failures.push(e);
        }
        if let Err(e) = d.run(&["DUMP", &key], Cmp::Exact) {
            failures.push(e);
        }
        let payload = match d.targets[0].conn.call(&["DUMP", &key]) {
            Reply::Bulk(p) => p,
            other => panic!("redis DUMP {key}: {other:?}"),
        };
        for t in d.targets.iter_mut().skip(1) {
            let restored = t.conn.call(&[&b"RESTORE"[..], format!("r{i}").as_bytes(), b"0", &payload]);
            let got = t.conn.call(&["GET", &format!("r{i}")]);
            if restored != Reply::Simple(b"OK".to_vec()) || got != Reply::Bulk(v.clone()) {
                failures.push(format!(
                    "RESTORE of Redis's DUMP of {:?} on {}: RESTORE replied {restored:?}, GET replied {got:?}",
                    show(&v[..v.len().min(40)]),
                    t.name
                ));
            }
        }
    }
    report("DUMP/RESTORE", &failures);
}

#[test]
fn protocol_streams() {
    // Raw byte streams, read until the server closes the connection.
    let cases: Vec<Vec<u8>> = vec![
        b"*a\r\n".to_vec(),
        b"*1\r\n$a\r\n".to_vec(),
        b"*1\r\nx\r\n".to_vec(),
        b"*1\r\n$-1\r\n".to_vec(),
        b"*1\r\n\r\nx".to_vec(),
        b"*2\r\n$1\r\na\r\n\n\r\n".to_vec(),
        b"*1\r\n\xff\r\n".to_vec(),
        b"*-1\r\n*0\r\n\r\n\n  \r\nPING\r\nQUIT\r\n".to_vec(),
        b"set a \"b\r\n".to_vec(),
        b"set a 'b'c\r\n".to_vec(),
        b"PING\r\nSET a b\r\nGET a\r\n*2\r\n$3\r\nGET\r\n*x\r\n".to_vec(),
        b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPINGyyQUIT\r\n".to_vec(),
        b"ECHO \"a\\x41\\n\" 'b'\r\nECHO \"a\\x41\\n\"\r\nQUIT\r\n".to_vec(),
        b"FOO a b\r\nget\r\nCONFIG foo\r\nQUIT\r\n".to_vec(),
        b"*3000000000\r\n".to_vec(),
        b"*2\r\n$3\r\nGET\r\n$600000000\r\n".to_vec(),
        [b"*1\r\n$".to_vec(), vec![b'9'; 70_000]].concat(),
        vec![b'x'; 70_000],
        b"HELLO 3\r\nGET missing\r\nHELLO 2\r\nGET missing\r\nQUIT\r\n".to_vec(),
        b"SET k 1\r\nINCR k\r\nINCRBY k x\r\nQUIT\r\nINCR k\r\n".to_vec(),
    ];
    let mut d = Diff::start();
    let mut failures = Vec::new();
    for input in cases {
        let mut outs = Vec::new();
        for t in &d.targets {
            let mut c = Raw::connect(t.port);
            c.send(&input);
            outs.push(
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.read_to_close()))
                    .map_err(|_| "<not closed>"),
            );
        }
        let hello_free = |o: &Result<Vec<u8>, &str>| -> Result<Vec<u8>, String> {
            // HELLO's id and server fields differ by nature: compare what follows it.
            o.clone().map(|b| strip_hello(&b)).map_err(|e| e.to_string())
        };
        let want = hello_free(&outs[0]);
        assert!(want.is_ok(), "redis-server kept the connection open for {:?}", show(&input));
        for (i, t) in d.targets.iter().enumerate().skip(1) {
            let got = hello_free(&outs[i]);
            if got != want {
                failures.push(format!(
                    "{}\n        redis:  {}\n      ≠ {}: {}",
                    show(&input[..input.len().min(80)]),
                    want.as_ref().map(|b| show(b)).unwrap_or_default(),
                    t.name,
                    got.map(|b| show(&b)).unwrap_or_else(|e| e)
                ));
            }
        }
    }
    d.fresh(false);
    report("protocol streams", &failures);
}

/// Replaces each HELLO map/array reply with a marker.
fn strip_hello(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match crate::support::parse(rest) {
            Ok(Some((r, n))) => {
                let is_hello = match &r {
                    Reply::Map(m) => m.first().is_some_and(|(k, _)| k.text().as_deref() == Some("server")),
                    Reply::Array(a) => a.first().and_then(Reply::text).as_deref() == Some("server"),
                    _ => false,
                };
                if is_hello {
                    out.extend_from_slice(b"<HELLO>");
                } else {
                    out.extend_from_slice(&rest[..n]);
                }
                rest = &rest[n..];
            }
            _ => {
                out.extend_from_slice(rest);
                break;
            }
        }
    }
    out
}

/// A small deterministic PRNG (xorshift64*), so a seed always makes the same sequence.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }

    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// Keys holding arbitrary strings, and keys holding small numbers (so that
/// INCRBYFLOAT stays exact and Redis's long double arithmetic is not at stake).
const STR_KEYS: &[&str] = &["k0", "k1", "k2", "k3", "{t}a", "{t}b", "x"];
const NUM_KEYS: &[&str] = &["n0", "n1", "{t}n"];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "10",
    "abc",
    "hello world",
    "9223372036854775807",
    "-9223372036854775808",
    "3.5",
    "12345678901234567890",
    "ohmytext",
    "mynewtext",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];
const SMALL_NUMS: &[&str] = &["0", "1", "-7", "42", "2.5", "-0.5", "100"];
const FLOAT_STEPS: &[&str] = &["0.5", "1.25", "-2.75", "3", "-0.125", "10"];
const TTLS: &[&str] = &["1000", "2000", "3000"];
const ABS_TIMES: &[&str] = &["4102444800", "4102448400", "4102452000"];

/// One random command and how to compare its replies.
fn random_command(rng: &mut Rng) -> (Vec<String>, Cmp) {
    let numeric = rng.chance(30);
    let pool = if numeric { NUM_KEYS } else { STR_KEYS };
    let k = rng.pick(pool).to_string();
    let k2 = rng.pick(pool).to_string();
    let v = if numeric { rng.pick(SMALL_NUMS) } else { rng.pick(VALUES) }.to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let mut cmp = Cmp::Exact;
    let cmd: Vec<String> = if numeric {
        match rng.below(16) {
            0 | 1 => s(&["INCR", &k]),
            2 => s(&["DECR", &k]),
            3 => s(&["INCRBY", &k, &rng.range(-1000, 1000).to_string()]),
            4 => s(&["DECRBY", &k, &rng.range(-1000, 1000).to_string()]),
            5 | 6 => s(&["INCRBYFLOAT", &k, rng.pick(FLOAT_STEPS)]),
            7 => s(&["SET", &k, &v]),
            8 => s(&["GET", &k]),
            9 => s(&["GETSET", &k, &v]),
            10 => s(&["MGET", &k, &k2, rng.pick(STR_KEYS)]),
            11 => s(&["OBJECT", "ENCODING", &k]),
            12 => s(&["STRLEN", &k]),
            13 => s(&["DEL", &k]),
            14 => s(&["RENAME", &k, &k2]),
            _ => s(&["EXPIRE", &k, rng.pick(TTLS)]),
        }
    } else {
        match rng.below(44) {
            0..=3 => {
                let mut c = s(&["SET", &k, &v]);
                match rng.below(6) {
                    0 => c.push("NX".into()),
                    1 => c.push("XX".into()),
                    _ => {}
                }
                if rng.chance(25) {
                    c.push("GET".into());
                }
                match rng.below(8) {
                    0 => c.extend(s(&["EX", rng.pick(TTLS)])),
                    1 => c.extend(s(&["PX", "5000000"])),
                    2 => c.extend(s(&["EXAT", rng.pick(ABS_TIMES)])),
                    3 => c.push("KEEPTTL".into()),
                    _ => {}
                }
                c
            }
            4 | 5 => s(&["GET", &k]),
            6 => s(&["APPEND", &k, rng.pick(&["x", "", "123", " tail"])]),
            7 => s(&["STRLEN", &k]),
            8 => s(&["GETRANGE", &k, &rng.range(-6, 8).to_string(), &rng.range(-6, 12).to_string()]),
            9 => s(&["SETRANGE", &k, &rng.range(0, 12).to_string(), rng.pick(&["", "Z", "abc"])]),
            10 => s(&["SUBSTR", &k, &rng.range(-3, 3).to_string(), &rng.range(-3, 10).to_string()]),
            11 => s(&["GETSET", &k, &v]),
            12 => s(&["GETDEL", &k]),
            13 => match rng.below(4) {
                0 => s(&["GETEX", &k]),
                1 => s(&["GETEX", &k, "PERSIST"]),
                2 => s(&["GETEX", &k, "EX", rng.pick(TTLS)]),
                _ => s(&["GETEX", &k, "EXAT", rng.pick(ABS_TIMES)]),
            },
            14 => s(&["SETNX", &k, &v]),
            15 => s(&["SETEX", &k, rng.pick(TTLS), &v]),
            16 => s(&["PSETEX", &k, "5000000", &v]),
            17 => {
                let k3 = rng.pick(STR_KEYS);
                s(&["MSET", &k, &v, &k2, rng.pick(VALUES), k3, "m"])
            }
            18 => s(&["MSETNX", &k, &v, &k2, rng.pick(VALUES)]),
            19 => s(&["MGET", &k, &k2, rng.pick(STR_KEYS), rng.pick(NUM_KEYS)]),
            20 => match rng.below(3) {
                0 => s(&["LCS", &k, &k2]),
                1 => s(&["LCS", &k, &k2, "LEN"]),
                _ => s(&["LCS", &k, &k2, "IDX", "MINMATCHLEN", &rng.range(0, 3).to_string(), "WITHMATCHLEN"]),
            },
            21 => s(&["DEL", &k, &k2]),
            22 => s(&["UNLINK", &k]),
            23 => s(&["EXISTS", &k, &k2, &k]),
            24 => s(&["TOUCH", &k, &k2]),
            25 => s(&["TYPE", &k]),
            26 => s(&["RENAME", &k, &k2]),
            27 => s(&["RENAMENX", &k, &k2]),
            28 => {
                let mut c = s(&["COPY", &k, &k2]);
                if rng.chance(50) {
                    c.push("REPLACE".into());
                }
                c
            }
            29 => {
                let mut c = s(&[rng.pick(&["EXPIRE", "PEXPIRE"]), &k]);
                let t = rng.pick(TTLS);
                c.push(if c[0] == "PEXPIRE" { format!("{t}000") } else { t.to_string() });
                // GT/LT between two relative TTLs of the same length depends on
                // the milliseconds between the commands: only EXPIREAT uses them.
                if rng.chance(50) {
                    c.push(rng.pick(&["NX", "XX"]).to_string());
                }
                c
            }
            30 => {
                let mut c = s(&["EXPIREAT", &k, rng.pick(ABS_TIMES)]);
                if rng.chance(40) {
                    c.push(rng.pick(&["NX", "XX", "GT", "LT"]).to_string());
                }
                c
            }
            31 => s(&["PERSIST", &k]),
            32 => {
                cmp = Cmp::Near(1);
                s(&["TTL", &k])
            }
            33 => {
                cmp = Cmp::Near(1000);
                s(&["PTTL", &k])
            }
            34 => {
                cmp = Cmp::Near(1);
                s(&["EXPIRETIME", &k])
            }
            35 => {
                cmp = Cmp::Near(1000);
                s(&["PEXPIRETIME", &k])
            }
            36 => s(&["DBSIZE"]),
            37 => {
                cmp = Cmp::Sorted;
                s(&["KEYS", rng.pick(&["*", "k*", "{t}*", "?"])])
            }
            38 => s(&["OBJECT", "ENCODING", &k]),
            39 => s(&["DUMP", &k]),
            40 => s(&["INCR", &k]),
            41 => s(&["EXPIRE", &k, rng.pick(&["-1", "0"])]),
            42 => match rng.below(4) {
                0 => s(&["MOVE", &k, "1"]),
                1 => s(&["SELECT", rng.pick(&["0", "1"])]),
                2 => s(&["SWAPDB", "0", "1"]),
                _ => s(&["COPY", &k, &k2, "DB", "1"]),
            },
            _ => match rng.below(5) {
                0 => s(&["SET", &k, &v, "EX", "0"]),
                1 => s(&["INCRBY", &k, "abc"]),
                2 => s(&["GETRANGE", &k, "a", "1"]),
                3 => s(&["SET", &k]),
                _ => s(&["EXPIRE", &k, "10", "NX", "XX"]),
            },
        }
    };
    (cmd, cmp)
}

/// Makes one random command and says how to compare its replies.
pub(crate) type Gen = fn(&mut Rng) -> (Vec<String>, Cmp);

/// Runs `count` random commands for one seed, `batch` commands per write; stops
/// at the first mismatch (the states diverge after it).
fn random_run(d: &mut Diff, gen: Gen, seed: u64, count: usize, batch: usize, resp3: bool) -> Result<(), String> {
    d.fresh(resp3);
    let mut rng = Rng::new(seed);
    let mut history: Vec<String> = Vec::new();
    let mut done = 0;
    while done < count {
        let n = batch.min(count - done);
        let (cmds, cmps): (Vec<Vec<String>>, Vec<Cmp>) = (0..n).map(|_| gen(&mut rng)).unzip();
        let bytes: Vec<Vec<Vec<u8>>> =
            cmds.iter().map(|c| c.iter().map(|a| a.clone().into_bytes()).collect()).collect();
        let result = d.run_batch(&bytes, &cmps);
        history.extend(cmds.iter().map(|c| show_cmd(c)));
        if let Err(e) = result {
            let from = history.len().saturating_sub(n + 15);
            return Err(format!(
                "seed {seed} ({}, batches of {batch}), around command #{}: {e}\n    commands sent up to this point (last {}):\n{}",
                if resp3 { "RESP3" } else { "RESP2" },
                done + 1,
                history.len() - from,
                history[from..].iter().map(|h| format!("      {h}")).collect::<Vec<_>>().join("\n")
            ));
        }
        done += n;
    }
    Ok(())
}

/// How many seeds each random test runs: `TESSERA_DIFF_SEEDS=N` for a longer soak.
pub(crate) fn seed_count(default: u64) -> u64 {
    std::env::var("TESSERA_DIFF_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Random sequences for each seed against every target, reported together.
fn random_seeds(what: &str, seeds: impl Iterator<Item = u64>, count: usize, batch: usize, resp3: bool) {
    random_seeds_with(what, random_command, seeds, count, batch, resp3);
}

/// As `random_seeds`, with commands from `gen` (each data type has its own).
pub(crate) fn random_seeds_with(
    what: &str,
    gen: Gen,
    seeds: impl Iterator<Item = u64>,
    count: usize,
    batch: usize,
    resp3: bool,
) {
    let mut d = Diff::start();
    let failures: Vec<String> =
        seeds.filter_map(|seed| random_run(&mut d, gen, seed, count, batch, resp3).err()).collect();
    report(what, &failures);
}

#[test]
fn random_sequences() {
    random_seeds("random sequences (one command per write)", 1..=seed_count(8), 500, 1, false);
}

#[test]
fn random_sequences_pipelined() {
    // Pipelines of 40 commands: with 3 shards most of them hop, in batches.
    random_seeds("random sequences (pipelined)", (1..=seed_count(6)).map(|s| 100_000 + s), 500, 40, false);
}

#[test]
fn random_sequences_resp3() {
    random_seeds("random sequences (RESP3)", (1..=seed_count(4)).map(|s| 200_000 + s), 400, 10, true);
}

#[test]
fn corpus_stream_groups() {
    run_corpus("corpus/stream_groups.txt", include_str!("corpus/stream_groups.txt"), false);
    run_corpus("corpus/stream_groups.txt (RESP3)", include_str!("corpus/stream_groups.txt"), true);
}
