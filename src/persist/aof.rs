//! The append-only file's record codec and `tessera check-aof`.
//!
//! A shard's AOF is a sequence of RESP multibulk commands, as Redis's AOF is,
//! so `cat` and `redis-cli --pipe` still make sense of it. Three commands frame
//! the others and never reach replay as commands:
//! - `SELECT db` sets the database of the commands after it; the encoder writes
//!   it whenever the database changes and before the first command of a file.
//! - `MULTI` ... `EXEC` is a single-file transaction (a script's effects, a
//!   MULTI/EXEC on one shard): replay applies it whole or not at all.
//! - `MULTI <seq> <nparts>` ... `EXEC` is one shard's part of a cross-shard
//!   transaction: `seq` is its global sequence number, `nparts` how many shards
//!   log a part. Replay applies a part only when all `nparts` parts are complete.
//!
//! A file that ends inside a record or a transaction, or whose tail is zero
//! padding, has a torn tail ([`End::Truncated`]): what comes before is loaded,
//! as Redis's `aof-load-truncated`. Bad bytes followed by more non-zero data are
//! corruption ([`AofError::Corrupt`]). RESP cannot see a flipped byte inside a
//! bulk payload (the file has no per-record checksum): that reads as other data.
//! See docs/persistence.md, "Append-only file format".

use bytes::Bytes;

/// Database indexes above this are corrupt, whatever `databases` says
/// (Redis's `databases` is an `int`).
const MAX_DB: usize = i32::MAX as usize;
/// The most arguments one record may declare (Redis's multibulk limit).
const MAX_ARGS: u64 = i32::MAX as u64;
/// The smallest encoding of one argument, `$0\r\n\r\n`: caps preallocation.
const MIN_ARG_LEN: usize = 6;

/// Appends commands to an in-memory AOF buffer, with `SELECT` when the
/// database changes and `MULTI`/`EXEC` frames. No I/O: the caller writes
/// [`Encoder::buf`] out and then [`Encoder::take`]s or clears it.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
    /// The database of the last command written to the current file, `None`
    /// at the start of a file.
    db: Option<usize>,
    in_tx: bool,
    /// Arguments still owed by the command [`Encoder::start`] opened.
    owed: usize,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Appends one command (`args[0]` is its name) run in database `db`.
    pub fn command(&mut self, db: usize, args: &[&[u8]]) {
        self.write_command(db, args);
    }

    /// [`Encoder::command`] for arguments as the parser hands them over.
    pub fn command_bytes(&mut self, db: usize, args: &[Bytes]) {
        self.write_command(db, args);
    }

    /// Opens a command of `argc` arguments run in database `db`, to be
    /// followed by exactly `argc` calls of [`Encoder::arg`] or
    /// [`Encoder::arg_int`]: for effects assembled from parts (`SET key value
    /// PXAT ms`) without building an argument list.
    pub fn start(&mut self, db: usize, argc: usize) {
        debug_assert_eq!(self.owed, 0, "previous command is missing arguments");
        self.select(db);
        self.array(argc);
        self.owed = argc;
    }

    /// One argument of the command [`Encoder::start`] opened.
    pub fn arg(&mut self, arg: &[u8]) {
        debug_assert!(self.owed > 0, "more arguments than start() declared");
        self.owed = self.owed.saturating_sub(1);
        self.bulk(arg);
    }

    /// One integer argument, written in decimal, of the command
    /// [`Encoder::start`] opened.
    pub fn arg_int(&mut self, v: i64) {
        let mut digits = itoa::Buffer::new();
        self.arg(digits.format(v).as_bytes());
    }

    /// Opens a transaction: plain `MULTI` for `None`, `MULTI seq nparts` for
    /// one shard's part of cross-shard transaction `seq`.
    pub fn begin(&mut self, tx: Option<(u64, u32)>) {
        debug_assert!(!self.in_tx, "nested MULTI");
        debug_assert_eq!(self.owed, 0, "previous command is missing arguments");
        self.in_tx = true;
        match tx {
            None => self.buf.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n"),
            Some((seq, nparts)) => {
                self.buf.extend_from_slice(b"*3\r\n$5\r\nMULTI\r\n");
                let mut digits = itoa::Buffer::new();
                self.bulk(digits.format(seq).as_bytes());
                self.bulk(digits.format(nparts).as_bytes());
            }
        }
    }

    /// Appends the commands another encoder wrote (a transaction's part
    /// inside its frame); the current database is forgotten, since they may
    /// have changed it.
    pub fn append_commands(&mut self, other: &Encoder) {
        self.buf.extend_from_slice(&other.buf);
        if !other.buf.is_empty() {
            self.db = None;
        }
    }

    /// Closes the transaction [`Encoder::begin`] opened.
    pub fn end(&mut self) {
        debug_assert!(self.in_tx, "EXEC without MULTI");
        debug_assert_eq!(self.owed, 0, "previous command is missing arguments");
        self.in_tx = false;
        self.buf.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
    }

    /// The bytes appended since the last [`Encoder::take`].
    pub fn buf(&self) -> &[u8] {
        &self.buf
    }

    /// Hands the buffered bytes over and leaves the buffer empty; the
    /// current database is kept (the bytes continue the same file).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Empties the buffer but keeps its capacity, for a caller that has
    /// written [`Encoder::buf`] out.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets the current database, so the next command writes `SELECT`:
    /// call it when a new file starts.
    pub fn reset_db(&mut self) {
        self.db = None;
    }

    fn write_command<A: AsRef<[u8]>>(&mut self, db: usize, args: &[A]) {
        debug_assert!(!args.is_empty());
        debug_assert_eq!(self.owed, 0, "previous command is missing arguments");
        self.select(db);
        // One reservation per command: payloads plus `$<len>\r\n...\r\n`.
        let payload: usize = args.iter().map(|a| a.as_ref().len() + 16).sum();
        self.buf.reserve(payload + 16);
        self.array(args.len());
        for a in args {
            self.bulk(a.as_ref());
        }
    }

    fn select(&mut self, db: usize) {
        if self.db != Some(db) {
            self.db = Some(db);
            self.buf.extend_from_slice(b"*2\r\n$6\r\nSELECT\r\n");
            let mut digits = itoa::Buffer::new();
            self.bulk(digits.format(db).as_bytes());
        }
    }

    fn array(&mut self, n: usize) {
        let mut digits = itoa::Buffer::new();
        self.buf.push(b'*');
        self.buf.extend_from_slice(digits.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    fn bulk(&mut self, arg: &[u8]) {
        let mut digits = itoa::Buffer::new();
        self.buf.push(b'$');
        self.buf.extend_from_slice(digits.format(arg.len()).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(arg);
        self.buf.extend_from_slice(b"\r\n");
    }
}

/// What a scan hands to replay, in file order. `SELECT`, `MULTI` and `EXEC`
/// are consumed by the scanner: each command carries its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A command outside any transaction.
    Command { db: usize, args: Vec<Bytes> },
    /// A complete transaction. `seq` is `Some((seq, nparts))` for one shard's
    /// part of a cross-shard transaction; `offset` is where its `MULTI` starts.
    Tx { seq: Option<(u64, u32)>, commands: Vec<(usize, Vec<Bytes>)>, offset: u64 },
}

/// How a file ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// After a complete record, outside any transaction.
    Clean,
    /// A torn tail: an incomplete last record, a `MULTI` without `EXEC` at the
    /// end, or zero padding. Everything before `offset` was handed over; the
    /// bytes from `offset` on are what `tessera check-aof --fix` cuts.
    Truncated { offset: u64, why: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AofError {
    /// Bad bytes with more non-zero data after them. `offset` is where the bad
    /// record starts; `why` names the exact byte.
    #[error("corrupt record at offset {offset}: {why}")]
    Corrupt { offset: u64, why: String },
}

/// Scans a whole file, handing each command and complete transaction to `f`
/// in order. Items before a corruption have been handed over by the time the
/// error returns. Never panics; preallocation is capped by the bytes left.
pub fn scan(bytes: &[u8], f: impl FnMut(Item)) -> Result<End, AofError> {
    finish(Scanner::new().scan_source(&Copied(bytes), true, f))
}

/// [`scan`] over shared bytes: arguments are slices of `bytes`, not copies.
pub fn scan_shared(bytes: &Bytes, f: impl FnMut(Item)) -> Result<End, AofError> {
    finish(Scanner::new().scan_source(&Shared(bytes), true, f))
}

fn finish(r: Result<Progress, Failure>) -> Result<End, AofError> {
    match r {
        Ok(Progress::Done(end)) => Ok(end),
        // Unreachable with `eof`: nothing is left to wait for.
        Ok(Progress::More(n)) => {
            Ok(End::Truncated { offset: n as u64, why: "the last record is incomplete".to_string() })
        }
        Err(f) => Err(f.error),
    }
}

/// What [`Scanner::feed`] got through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// This many bytes of the chunk are done with (complete records and
    /// transactions, or zero padding); feed the rest again with more bytes
    /// after it. `More(0)` means the next record or transaction is larger than
    /// the chunk: read more before feeding again (growing the read size
    /// geometrically keeps the rescans linear).
    More(usize),
    /// The file ends here (only when `eof` was given).
    Done(End),
}

/// An incremental [`scan`], for files read in chunks: the same items, ends
/// and errors as one [`scan`] of the whole file, however it is split.
#[derive(Debug, Clone, Default)]
pub struct Scanner {
    /// The database of the next command, as the last `SELECT` consumed said.
    db: usize,
    /// The file offset of the next chunk's first byte.
    offset: u64,
    /// Set once a bad byte turned out to be zero padding so far: the rest of
    /// the file decides between a torn tail and corruption, and the padding
    /// need not be kept in memory.
    zeros: Option<ZeroTail>,
}

/// Where a possible zero-padded tail started.
#[derive(Debug, Clone)]
struct ZeroTail {
    /// The bad record, the first zero byte, and what was expected there.
    record: u64,
    at: u64,
    why: &'static str,
    /// What a torn tail would cut: the record or its open `MULTI`.
    cut: u64,
    tx: Option<u64>,
}

impl ZeroTail {
    /// The end of the file was reached with only zeros since `at`.
    fn torn(&self, end: u64) -> End {
        End::Truncated { offset: self.cut, why: torn_why(self.record, Some(self.at), end, self.tx) }
    }

    /// A non-zero byte came after the zeros.
    fn corrupt(&self) -> Failure {
        let why = format!("at byte {}: {}", self.at, self.why);
        Failure { error: AofError::Corrupt { offset: self.record, why }, cut: self.cut }
    }
}

/// Why a tail is torn: the record at `record` runs past `end`, or from `zeros`
/// on the file holds only zero bytes; `tx` is the open `MULTI`.
fn torn_why(record: u64, zeros: Option<u64>, end: u64, tx: Option<u64>) -> String {
    let why = match zeros {
        None => format!("the record at offset {record} is incomplete"),
        Some(z) if z == record => format!("{} bytes of zero padding at offset {record}", end - record),
        Some(_) => format!("the record at offset {record} ends in zero padding"),
    };
    match tx {
        Some(t) => format!("{why}, inside the MULTI at offset {t}"),
        None => why,
    }
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// The file offset the next [`Scanner::feed`] chunk must start at.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Scans `chunk`, which starts at [`Scanner::offset`]; `eof` says no bytes
    /// follow it. On `More(n)` the caller drops `n` bytes and feeds the rest
    /// again with the next bytes appended.
    pub fn feed(&mut self, chunk: &[u8], eof: bool, f: impl FnMut(Item)) -> Result<Progress, AofError> {
        self.scan_source(&Copied(chunk), eof, f).map_err(|e| e.error)
    }

    fn scan_source<S: Source>(&mut self, src: &S, eof: bool, mut f: impl FnMut(Item)) -> Result<Progress, Failure> {
        let b = src.bytes();
        let base = self.offset;
        if let Some(z) = &self.zeros {
            if b.iter().any(|&c| c != 0) {
                return Err(z.corrupt());
            }
            if eof {
                return Ok(Progress::Done(z.torn(base + b.len() as u64)));
            }
            self.offset += b.len() as u64;
            return Ok(Progress::More(b.len()));
        }
        let at = |pos: usize| base + pos as u64;
        let mut pos = 0;
        let mut tx: Option<OpenTx> = None;
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        // Where the bytes not yet handed over start, and the database there.
        let mut done = 0;
        let mut done_db = self.db;
        let commit = |s: &mut Scanner, done: usize, db: usize| {
            s.offset = base + done as u64;
            s.db = db;
        };
        loop {
            // The start of the bytes a torn tail would cut: the open MULTI, or this record.
            let cut = tx.as_ref().map_or(pos, |t| t.start);
            if pos == b.len() {
                if !eof {
                    commit(self, done, done_db);
                    return Ok(Progress::More(done));
                }
                commit(self, pos, self.db);
                return Ok(Progress::Done(match tx {
                    None => End::Clean,
                    Some(t) => End::Truncated {
                        offset: at(t.start),
                        why: format!("MULTI at offset {} has no EXEC before the end of the file", at(t.start)),
                    },
                }));
            }
            let record = pos;
            match parse_record(b, pos, &mut ranges) {
                Ok(next) => pos = next,
                Err(bad) => {
                    let tx_start = tx.as_ref().map(|t| at(t.start));
                    if bad.at >= b.len() {
                        // Ran out inside a record.
                        if !eof {
                            commit(self, done, done_db);
                            return Ok(Progress::More(done));
                        }
                        let why = torn_why(at(record), None, at(b.len()), tx_start);
                        commit(self, b.len(), done_db);
                        return Ok(Progress::Done(End::Truncated { offset: at(cut), why }));
                    }
                    let z = ZeroTail { record: at(record), at: at(bad.at), why: bad.why, cut: at(cut), tx: tx_start };
                    if b[bad.at..].iter().any(|&c| c != 0) {
                        return Err(z.corrupt());
                    }
                    commit(self, b.len(), done_db);
                    if eof {
                        return Ok(Progress::Done(z.torn(at(b.len()))));
                    }
                    // Zeros so far: later bytes decide, and need not be kept.
                    self.zeros = Some(z);
                    return Ok(Progress::More(b.len()));
                }
            }
            let corrupt = |why: String| Failure { error: AofError::Corrupt { offset: at(record), why }, cut: at(cut) };
            let arg = |i: usize| ranges.get(i).map_or(&b[..0], |&(s, e)| &b[s..e]);
            let name = arg(0);
            let argc = ranges.len();
            if name.eq_ignore_ascii_case(b"SELECT") {
                let db = (argc == 2).then(|| parse_decimal(arg(1))).flatten().filter(|&d| d <= MAX_DB as u64);
                match db {
                    Some(d) => self.db = d as usize,
                    None => return Err(corrupt("SELECT with a bad database index".to_string())),
                }
            } else if name.eq_ignore_ascii_case(b"MULTI") {
                if let Some(t) = &tx {
                    return Err(corrupt(format!("MULTI inside the transaction started at offset {}", at(t.start))));
                }
                let seq = match argc {
                    1 => None,
                    3 => match (parse_decimal(arg(1)), parse_decimal(arg(2))) {
                        (Some(seq), Some(n)) if n >= 1 && n <= u32::MAX as u64 => Some((seq, n as u32)),
                        _ => return Err(corrupt("MULTI with a bad sequence number or part count".to_string())),
                    },
                    _ => return Err(corrupt(format!("MULTI with {} arguments", argc - 1))),
                };
                tx = Some(OpenTx { start: record, seq, commands: Vec::new() });
            } else if name.eq_ignore_ascii_case(b"EXEC") {
                if argc != 1 {
                    return Err(corrupt(format!("EXEC with {} arguments", argc - 1)));
                }
                let Some(t) = tx.take() else {
                    return Err(corrupt("EXEC without MULTI".to_string()));
                };
                f(Item::Tx { seq: t.seq, commands: t.commands, offset: at(t.start) });
            } else {
                let args: Vec<Bytes> = ranges.iter().map(|&(s, e)| src.slice(s, e)).collect();
                match &mut tx {
                    Some(t) => t.commands.push((self.db, args)),
                    None => f(Item::Command { db: self.db, args }),
                }
            }
            if tx.is_none() {
                done = pos;
                done_db = self.db;
            }
        }
    }
}

/// A transaction whose `EXEC` has not been read yet.
struct OpenTx {
    /// Where its `MULTI` starts, in the chunk.
    start: usize,
    seq: Option<(u64, u32)>,
    commands: Vec<(usize, Vec<Bytes>)>,
}

/// A scan error with the point `check-aof --fix` cuts at (the bad record, or
/// the open `MULTI` it belongs to).
#[derive(Debug)]
struct Failure {
    error: AofError,
    cut: u64,
}

/// A byte that does not fit RESP at `at` (`at == len` when the bytes ran out).
struct Bad {
    at: usize,
    why: &'static str,
}

/// Where the bytes being scanned come from: copied or shared.
trait Source {
    fn bytes(&self) -> &[u8];
    fn slice(&self, start: usize, end: usize) -> Bytes;
}

struct Copied<'a>(&'a [u8]);

impl Source for Copied<'_> {
    fn bytes(&self) -> &[u8] {
        self.0
    }
    fn slice(&self, start: usize, end: usize) -> Bytes {
        Bytes::copy_from_slice(&self.0[start..end])
    }
}

struct Shared<'a>(&'a Bytes);

impl Source for Shared<'_> {
    fn bytes(&self) -> &[u8] {
        self.0
    }
    fn slice(&self, start: usize, end: usize) -> Bytes {
        self.0.slice(start..end)
    }
}

/// Parses the multibulk record at `pos` into `ranges` (its arguments' byte
/// ranges) and returns where the next record starts.
fn parse_record(b: &[u8], mut pos: usize, ranges: &mut Vec<(usize, usize)>) -> Result<usize, Bad> {
    ranges.clear();
    pos = expect(b, pos, b'*', "expected '*' at the start of a record")?;
    let (argc, next) = parse_len(b, pos)?;
    if argc == 0 || argc > MAX_ARGS {
        return Err(Bad { at: pos, why: "a record must have between 1 and 2^31-1 arguments" });
    }
    pos = next;
    let room = b.len().saturating_sub(pos) / MIN_ARG_LEN;
    ranges.reserve((argc as usize).min(room));
    for _ in 0..argc {
        pos = expect(b, pos, b'$', "expected '$' before an argument")?;
        let (len, next) = parse_len(b, pos)?;
        // Ran out: the payload and its CRLF go past the end.
        let Some(end) = usize::try_from(len).ok().and_then(|l| next.checked_add(l)).filter(|&e| e <= b.len()) else {
            return Err(Bad { at: b.len(), why: "" });
        };
        ranges.push((next, end));
        pos = expect(b, end, b'\r', "expected CRLF after an argument")?;
        pos = expect(b, pos, b'\n', "expected CRLF after an argument")?;
    }
    Ok(pos)
}

fn expect(b: &[u8], pos: usize, want: u8, why: &'static str) -> Result<usize, Bad> {
    match b.get(pos) {
        None => Err(Bad { at: pos, why: "" }),
        Some(&c) if c == want => Ok(pos + 1),
        Some(_) => Err(Bad { at: pos, why }),
    }
}

/// A length line: decimal digits then CRLF. Returns the value and where the
/// line ends.
fn parse_len(b: &[u8], mut pos: usize) -> Result<(u64, usize), Bad> {
    let start = pos;
    let mut v: u64 = 0;
    loop {
        match b.get(pos) {
            None => return Err(Bad { at: pos, why: "" }),
            Some(&c @ b'0'..=b'9') => {
                v = v
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(c - b'0')))
                    .ok_or(Bad { at: pos, why: "length overflows" })?;
            }
            Some(b'\r') if pos > start => break,
            Some(_) => return Err(Bad { at: pos, why: "expected a decimal length" }),
        }
        pos += 1;
    }
    pos = expect(b, pos + 1, b'\n', "expected CRLF after a length")?;
    Ok((v, pos))
}

/// A canonical non-negative decimal (no sign, no leading zeros), as the
/// encoder writes them.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || (s.len() > 1 && s[0] == b'0') {
        return None;
    }
    s.iter().try_fold(
        0u64,
        |v, &c| {
            if c.is_ascii_digit() {
                v.checked_mul(10)?.checked_add(u64::from(c - b'0'))
            } else {
                None
            }
        },
    )
}

/// What a whole-file check found, for `check-aof`.
struct Report {
    commands: u64,
    txs: u64,
    cross_shard: u64,
    /// `Ok(End)` or the corruption, with the offset `--fix` cuts at.
    result: Result<End, Failure>,
}

/// Checks a file read in chunks, so a large file is not held in memory (only
/// its largest record or transaction is). Returns the report and the size read.
fn check(mut file: impl std::io::Read) -> std::io::Result<(Report, u64)> {
    use std::io::Read as _;
    const CHUNK: usize = 1 << 20;
    let (mut commands, mut txs, mut cross_shard) = (0, 0, 0);
    let mut scanner = Scanner::new();
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut size = 0u64;
    let mut eof = false;
    loop {
        // Top the buffer up by a chunk beyond what is left over.
        if !eof {
            // At least as much as is left over: a record or transaction much
            // larger than a chunk is rescanned a logarithmic number of times.
            let want = CHUNK.max(buf.len());
            let n = file.by_ref().take(want as u64).read_to_end(&mut buf)?;
            size += n as u64;
            eof = n < want;
        }
        let progress = scanner.scan_source(&Copied(&buf), eof, |item| match item {
            Item::Command { .. } => commands += 1,
            Item::Tx { seq, commands: c, .. } => {
                txs += 1;
                commands += c.len() as u64;
                cross_shard += u64::from(seq.is_some());
            }
        });
        let result = match progress {
            Ok(Progress::More(n)) => {
                buf.drain(..n);
                continue;
            }
            Ok(Progress::Done(end)) => Ok(end),
            Err(f) => Err(f),
        };
        return Ok((Report { commands, txs, cross_shard, result }, size));
    }
}

const USAGE: &str = "Usage: tessera check-aof [--fix] PATH

Checks one Tessera append-only file. With --fix, truncates it to the last good
offset (before a torn tail or a corrupt record), without asking.
Exit codes: 0 valid or fixed, 1 not valid (without --fix), 2 usage or I/O error.";

/// `tessera check-aof [--fix] PATH`: the process exit code.
pub fn check_main(args: &[String]) -> i32 {
    let mut fix = false;
    let mut path = None;
    for a in args {
        match a.as_str() {
            "--fix" => fix = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            s if s.starts_with('-') && s.len() > 1 => {
                eprintln!("tessera check-aof: unknown option {s}\n{USAGE}");
                return 2;
            }
            s if path.is_none() => path = Some(s),
            _ => {
                eprintln!("tessera check-aof: one file at a time\n{USAGE}");
                return 2;
            }
        }
    }
    let Some(path) = path else {
        eprintln!("{USAGE}");
        return 2;
    };
    let checked = std::fs::File::open(path).and_then(check);
    let (report, size) = match checked {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera check-aof: cannot read {path}: {e}");
            return 2;
        }
    };
    let (ok_up_to, problem) = match &report.result {
        Ok(End::Clean) => (size, None),
        Ok(End::Truncated { offset, why }) => (*offset, Some(format!("torn tail at offset {offset}: {why}"))),
        Err(f) => (f.cut, Some(f.error.to_string())),
    };
    println!("AOF analyzed: filename={path}, size={size}, ok_up_to={ok_up_to}, diff={}", size - ok_up_to);
    println!(
        "Good records: commands={}, transactions={}, cross_shard_parts={}",
        report.commands, report.txs, report.cross_shard
    );
    let Some(problem) = problem else {
        println!("AOF is valid");
        return 0;
    };
    println!("{problem}");
    if !fix {
        println!(
            "AOF is not valid: --fix would cut {} bytes from offset {ok_up_to}. Use `tessera check-aof --fix {path}`.",
            size - ok_up_to
        );
        return 1;
    }
    match truncate(path, size, ok_up_to) {
        Ok(()) => {
            println!(
                "Successfully truncated AOF {path} from {size} to {ok_up_to} bytes ({} bytes cut)",
                size - ok_up_to
            );
            0
        }
        Err(e) => {
            eprintln!("tessera check-aof: cannot truncate {path}: {e}");
            2
        }
    }
}

/// Cuts the file at `len`, refusing if it changed size since it was read (a
/// server still appending to it).
fn truncate(path: &str, read_size: u64, len: u64) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    let now = file.metadata()?.len();
    if now != read_size {
        return Err(std::io::Error::other(format!(
            "its size changed from {read_size} to {now} bytes while it was checked; stop the server first"
        )));
    }
    file.set_len(len)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn cmd(db: usize, args: &[&str]) -> Item {
        Item::Command { db, args: args.iter().map(|a| b(a)).collect() }
    }

    fn items(bytes: &[u8]) -> (Vec<Item>, Result<End, AofError>) {
        let mut v = Vec::new();
        let r = scan(bytes, |i| v.push(i));
        (v, r)
    }

    /// A small file with every kind of record, and the items it holds.
    fn sample() -> (Vec<u8>, Vec<Item>) {
        let mut e = Encoder::new();
        let mut want = Vec::new();
        e.command(0, &[b"SET", b"k", b"v"]);
        want.push(cmd(0, &["SET", "k", "v"]));
        e.command(3, &[b"SET", b"bin\r\n*1\r\n$4\r\n", b"\0\r\n"]);
        want.push(Item::Command {
            db: 3,
            args: vec![b("SET"), Bytes::from_static(b"bin\r\n*1\r\n$4\r\n"), Bytes::from_static(b"\0\r\n")],
        });
        let offset = e.len() as u64;
        e.begin(None);
        e.command(3, &[b"INCR", b"n"]);
        e.command(0, &[b"DEL", b"k"]);
        e.end();
        want.push(Item::Tx {
            seq: None,
            commands: vec![(3, vec![b("INCR"), b("n")]), (0, vec![b("DEL"), b("k")])],
            offset,
        });
        e.command_bytes(0, &[b("RPUSH"), b("l"), b("a"), b("")]);
        want.push(cmd(0, &["RPUSH", "l", "a", ""]));
        let offset = e.len() as u64;
        e.begin(Some((18446744073709551615, 3)));
        e.start(15, 5);
        e.arg(b"SET");
        e.arg(b"x");
        e.arg(b"1");
        e.arg(b"PXAT");
        e.arg_int(1_700_000_000_123);
        e.end();
        want.push(Item::Tx {
            seq: Some((u64::MAX, 3)),
            commands: vec![(15, vec![b("SET"), b("x"), b("1"), b("PXAT"), b("1700000000123")])],
            offset,
        });
        e.command(15, &[b"PERSIST", b"x"]);
        want.push(cmd(15, &["PERSIST", "x"]));
        (e.take(), want)
    }

    #[test]
    fn encoder_round_trip() {
        let (bytes, want) = sample();
        let (got, end) = items(&bytes);
        assert_eq!(end, Ok(End::Clean));
        assert_eq!(got, want);
        let mut shared = Vec::new();
        assert_eq!(scan_shared(&Bytes::from(bytes.clone()), |i| shared.push(i)), Ok(End::Clean));
        assert_eq!(shared, want);
        // Readable RESP, SELECT only when the database changes.
        assert!(bytes.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n"));
        let selects = bytes.windows(6).filter(|w| w == b"SELECT").count();
        assert_eq!(selects, 4);
        let cross = b"*3\r\n$5\r\nMULTI\r\n$20\r\n18446744073709551615\r\n$1\r\n3\r\n";
        assert!(bytes.windows(cross.len()).any(|w| w == cross));
    }

    #[test]
    fn encoder_take_keeps_db_and_reset_db_forgets_it() {
        let mut e = Encoder::new();
        e.command(2, &[b"PING"]);
        let first = e.take();
        assert!(e.is_empty());
        e.command(2, &[b"PING"]);
        assert_eq!(e.buf(), b"*1\r\n$4\r\nPING\r\n");
        e.clear();
        e.reset_db();
        e.command(2, &[b"PING"]);
        assert_eq!(e.buf(), first.as_slice());
        assert_eq!(items(&first).0, vec![cmd(2, &["PING"])]);
    }

    #[test]
    fn commands_before_any_select_are_in_db_0() {
        let (got, end) = items(b"*1\r\n$4\r\nPING\r\n*2\r\n$6\r\nselect\r\n$2\r\n12\r\n*1\r\n$1\r\nX\r\n");
        assert_eq!(end, Ok(End::Clean));
        assert_eq!(got, vec![cmd(0, &["PING"]), cmd(12, &["X"])]);
        assert_eq!(items(b""), (vec![], Ok(End::Clean)));
    }

    #[test]
    fn every_truncation_is_clean_or_truncated_never_partial() {
        let (bytes, want) = sample();
        let mut clean_points = 0;
        for k in 0..=bytes.len() {
            let (got, end) = items(&bytes[..k]);
            assert!(got.len() <= want.len() && got[..] == want[..got.len()], "cut at {k}: not a prefix");
            match end {
                Ok(End::Clean) => clean_points += 1,
                Ok(End::Truncated { offset, .. }) => {
                    assert!(offset < k as u64, "cut at {k}");
                    // Everything before the cut point is what was handed over.
                    let (before, end) = items(&bytes[..offset as usize]);
                    assert_eq!(end, Ok(End::Clean), "cut at {k}");
                    assert_eq!(before, got, "cut at {k}");
                }
                Err(e) => panic!("cut at {k}: {e}"),
            }
        }
        // Clean exactly at the ends of the items and of the two SELECTs
        // outside transactions.
        assert_eq!(clean_points, 1 + want.len() + 2);
    }

    #[test]
    fn zero_padding_is_a_torn_tail() {
        let (bytes, want) = sample();
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 4096]);
        let (got, end) = items(&padded);
        assert_eq!(got, want);
        assert!(matches!(end, Ok(End::Truncated { offset, .. }) if offset == bytes.len() as u64));
        // A torn record followed by padding: cut at the record (or its MULTI).
        for k in 0..bytes.len() {
            let mut torn = bytes[..k].to_vec();
            torn.extend_from_slice(&[0; 64]);
            let (got, end) = items(&torn);
            let (unpadded, unpadded_end) = items(&bytes[..k]);
            assert_eq!(got, unpadded, "cut at {k}");
            let offset = match (end, unpadded_end) {
                (Ok(End::Truncated { offset, .. }), Ok(End::Clean)) => {
                    assert_eq!(offset, k as u64);
                    continue;
                }
                (Ok(End::Truncated { offset, .. }), Ok(End::Truncated { offset: o2, .. })) => {
                    assert_eq!(offset, o2, "cut at {k}");
                    offset
                }
                other => panic!("cut at {k}: {other:?}"),
            };
            assert!(offset <= k as u64);
        }
        assert!(matches!(items(&[0; 10]).1, Ok(End::Truncated { offset: 0, .. })));
    }

    #[test]
    fn zeros_followed_by_data_are_corrupt() {
        let (bytes, _) = sample();
        let mut v = bytes.clone();
        v.extend_from_slice(&[0; 10]);
        v.extend_from_slice(&bytes);
        let (_, end) = items(&v);
        assert!(matches!(end, Err(AofError::Corrupt { offset, .. }) if offset == bytes.len() as u64));
    }

    #[test]
    fn unterminated_multi_is_a_torn_tail() {
        let mut e = Encoder::new();
        e.command(0, &[b"SET", b"a", b"1"]);
        let multi = e.len() as u64;
        e.begin(Some((7, 2)));
        e.command(0, &[b"SET", b"b", b"2"]);
        let (got, end) = items(e.buf());
        assert_eq!(got, vec![cmd(0, &["SET", "a", "1"])]);
        match end {
            Ok(End::Truncated { offset, why }) => {
                assert_eq!(offset, multi);
                assert!(why.contains("MULTI"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    fn corrupt_at(bytes: &[u8]) -> u64 {
        match items(bytes).1 {
            Err(AofError::Corrupt { offset, .. }) => offset,
            other => panic!("{other:?} for {:?}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn framing_errors_are_corrupt() {
        let ping = b"*1\r\n$4\r\nPING\r\n";
        let multi = b"*1\r\n$5\r\nMULTI\r\n";
        let exec = b"*1\r\n$4\r\nEXEC\r\n";
        let cat = |parts: &[&[u8]]| parts.concat();
        // Nested MULTI, EXEC without MULTI.
        assert_eq!(corrupt_at(&cat(&[ping, multi, ping, multi, ping, exec])), 43);
        assert_eq!(corrupt_at(&cat(&[ping, exec, ping])), 14);
        assert_eq!(corrupt_at(&cat(&[multi, exec, exec])), 29);
        assert_eq!(corrupt_at(b"*2\r\n$4\r\nEXEC\r\n$1\r\nx\r\n"), 0);
        // SELECT with a bad index.
        for bad in ["-1", "x", "01", "", "2147483648", "99999999999999999999999"] {
            let rec = format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{bad}\r\n", bad.len());
            assert_eq!(corrupt_at(&cat(&[ping, rec.as_bytes(), ping])), 14, "SELECT {bad}");
        }
        assert_eq!(corrupt_at(b"*1\r\n$6\r\nSELECT\r\n"), 0);
        // MULTI with bad sequence arguments.
        for bad in ["*2\r\n$5\r\nMULTI\r\n$1\r\n1\r\n", "*3\r\n$5\r\nMULTI\r\n$1\r\n1\r\n$1\r\n0\r\n"] {
            assert_eq!(corrupt_at(&cat(&[bad.as_bytes(), exec])), 0, "{bad:?}");
        }
        let big_n = "*3\r\n$5\r\nMULTI\r\n$1\r\n1\r\n$10\r\n4294967296\r\n";
        assert_eq!(corrupt_at(&cat(&[big_n.as_bytes(), exec])), 0);
        // RESP errors: empty record, negative count, a missing CRLF, a bad length.
        assert_eq!(corrupt_at(&cat(&[ping, b"*0\r\n", ping])), 14);
        assert_eq!(corrupt_at(&cat(&[b"*-1\r\n", ping])), 0);
        assert_eq!(corrupt_at(&cat(&[b"*1\r\n$4\r\nPINGxx", ping])), 0);
        assert_eq!(corrupt_at(&cat(&[b"*1\r\n$4x\r\nPING\r\n", ping])), 0);
        assert_eq!(corrupt_at(&cat(&[b"*1\r\n$\r\n\r\n", ping])), 0);
        assert_eq!(corrupt_at(&cat(&[b"PING\r\n", ping])), 0);
        // A non-zero bad byte is corruption even as the last byte of the file.
        assert_eq!(corrupt_at(&cat(&[ping, b"*1\r\n$4\r\nPINGx"])), 14);
        assert_eq!(corrupt_at(&cat(&[ping, b"\x01"])), 14);
    }

    #[test]
    fn huge_lengths_do_not_allocate() {
        // A count or length far beyond the file reads as a torn tail, with
        // nothing preallocated from it; past 64 bits it is corrupt.
        let (_, end) = items(b"*2147483647\r\n$1\r\nx\r\n");
        assert!(matches!(end, Ok(End::Truncated { offset: 0, .. })), "{end:?}");
        let (_, end) = items(b"*1\r\n$18446744073709551615\r\nxyz");
        assert!(matches!(end, Ok(End::Truncated { offset: 0, .. })), "{end:?}");
        assert_eq!(corrupt_at(b"*1\r\n$18446744073709551616\r\nxyz"), 0);
        assert_eq!(corrupt_at(b"*2147483648\r\n$1\r\nx\r\n"), 0);
        let mut many = b"*100000000\r\n".to_vec();
        many.extend(std::iter::repeat_n(b"$0\r\n\r\n".as_slice(), 1000).flatten());
        assert!(matches!(items(&many).1, Ok(End::Truncated { offset: 0, .. })));
    }

    /// The byte positions of argument payloads in a valid file.
    fn payload_positions(bytes: &[u8]) -> Vec<bool> {
        let mut mask = vec![false; bytes.len()];
        let mut pos = 0;
        let mut ranges = Vec::new();
        while pos < bytes.len() {
            pos = parse_record(bytes, pos, &mut ranges).ok().unwrap();
            for &(s, e) in &ranges {
                mask[s..e].iter_mut().for_each(|m| *m = true);
            }
        }
        mask
    }

    #[test]
    fn flipped_bytes_are_corrupt_or_different_data() {
        let (bytes, want) = sample();
        let payload = payload_positions(&bytes);
        let mut detected = 0;
        for p in 0..bytes.len() {
            for mask in [0x01u8, 0x20, 0x80, 0xff] {
                let mut v = bytes.clone();
                v[p] ^= mask;
                let (got, end) = items(&v);
                let same = end == Ok(End::Clean) && got == want;
                if payload[p] {
                    // RESP has no checksum: a payload flip is other data
                    // (or, in a command name, maybe a framing error).
                    continue;
                }
                assert!(!same, "flip {mask:#x} at {p} went unnoticed");
                detected += u32::from(end.is_err());
            }
        }
        assert!(detected > 0);
        // A record start in the middle of the file.
        let mut v = bytes.clone();
        let second = bytes.windows(4).position(|w| w == b"*3\r\n").unwrap();
        v[second] = b'+';
        assert_eq!(corrupt_at(&v), second as u64);
    }

    fn scan_in_chunks(bytes: &[u8], chunk: usize) -> (Vec<Item>, Result<End, AofError>) {
        let mut s = Scanner::new();
        let mut got = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut read = 0;
        loop {
            let n = chunk.min(bytes.len() - read);
            buf.extend_from_slice(&bytes[read..read + n]);
            read += n;
            let eof = read == bytes.len();
            let before = s.offset();
            match s.feed(&buf, eof, |i| got.push(i)) {
                Ok(Progress::More(n)) => {
                    assert!(!eof);
                    assert_eq!(s.offset(), before + n as u64);
                    buf.drain(..n);
                }
                Ok(Progress::Done(end)) => return (got, Ok(end)),
                Err(e) => return (got, Err(e)),
            }
        }
    }

    #[test]
    fn chunked_scan_matches_whole_scan() {
        let (bytes, _) = sample();
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 40]);
        let mut corrupt = padded.clone();
        corrupt.extend_from_slice(b"*1\r\n");
        let mut torn_tx = bytes.clone();
        torn_tx.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n9\r\n*1\r\n$1\r\nX\r\n");
        for file in [&bytes, &padded, &corrupt, &torn_tx] {
            let whole = items(file);
            for chunk in 1..=file.len() {
                assert_eq!(scan_in_chunks(file, chunk), whole, "chunk {chunk}");
            }
        }
    }

    /// Redis's own checker agrees with ours on where every truncation of a
    /// file holding commands and plain transactions stops being good (it
    /// reads `MULTI seq nparts` as a MULTI too). Skipped without Redis.
    #[test]
    fn redis_check_aof_agrees_on_truncations() {
        if std::process::Command::new("redis-check-aof").arg("--help").output().is_err() {
            return;
        }
        let (bytes, _) = sample();
        let path = temp_file("redis", &bytes);
        // Every third cut (a process each) and all of the last records.
        let cuts = (0..=bytes.len()).step_by(3).chain(bytes.len().saturating_sub(60)..=bytes.len());
        for k in cuts {
            std::fs::write(&path, &bytes[..k]).unwrap();
            let out = std::process::Command::new("redis-check-aof").arg(&path).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let redis_ok: u64 = match text.split("ok_up_to=").nth(1) {
                Some(s) => s.split(',').next().and_then(|s| s.parse().ok()).unwrap(),
                None if text.contains("is empty") => 0,
                None => panic!("cut at {k}: {text}"),
            };
            let ours = match items(&bytes[..k]).1 {
                Ok(End::Clean) => k as u64,
                Ok(End::Truncated { offset, .. }) => offset,
                Err(e) => panic!("cut at {k}: {e}"),
            };
            assert_eq!(ours, redis_ok, "cut at {k}: {text}");
        }
        let _ = std::fs::remove_file(path);
    }

    type Op = (usize, Vec<Vec<u8>>);
    /// `None`: top-level commands; `Some(seq)`: a transaction.
    type Group = (Option<Option<(u64, u32)>>, Vec<Op>);

    /// A random log: top-level commands, and transactions (plain or a
    /// cross-shard part) of a few commands each, over a few databases.
    fn log_strategy() -> impl proptest::strategy::Strategy<Value = Vec<Group>> {
        use proptest::prelude::*;
        let arg = proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(0u8), any::<u8>()], 0..12);
        let command = (0usize..4, proptest::collection::vec(arg, 1..4));
        let tx = prop_oneof![Just(None), Just(Some(None)), (any::<u64>(), 1u32..8).prop_map(|t| Some(Some(t)))];
        proptest::collection::vec((tx, proptest::collection::vec(command, 0..4)), 0..12)
    }

    fn encode(log: &[Group]) -> (Vec<u8>, Vec<Item>) {
        let mut e = Encoder::new();
        let mut want = Vec::new();
        let bytes = |a: &[Vec<u8>]| a.iter().map(|x| Bytes::copy_from_slice(x)).collect::<Vec<_>>();
        for (tx, commands) in log {
            match tx {
                None => {
                    for (db, args) in commands {
                        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                        e.command(*db, &refs);
                        want.push(Item::Command { db: *db, args: bytes(args) });
                    }
                }
                Some(seq) => {
                    let offset = e.len() as u64;
                    e.begin(*seq);
                    for (db, args) in commands {
                        e.command_bytes(*db, &bytes(args));
                    }
                    e.end();
                    let commands = commands.iter().map(|(db, a)| (*db, bytes(a))).collect();
                    want.push(Item::Tx { seq: *seq, commands, offset });
                }
            }
        }
        (e.take(), want)
    }

    proptest::proptest! {
        #[test]
        fn random_logs_round_trip_and_tear_cleanly(log in log_strategy(), cut in 0.0f64..1.0, chunk in 1usize..64) {
            let (bytes, want) = encode(&log);
            let (got, end) = items(&bytes);
            proptest::prop_assert_eq!(end, Ok(End::Clean));
            proptest::prop_assert_eq!(&got, &want);
            proptest::prop_assert_eq!(scan_in_chunks(&bytes, chunk), (want.clone(), Ok(End::Clean)));
            let k = (bytes.len() as f64 * cut) as usize;
            let (got, end) = items(&bytes[..k]);
            proptest::prop_assert!(got.len() <= want.len() && got[..] == want[..got.len()]);
            match end {
                Ok(End::Clean) => {}
                Ok(End::Truncated { offset, .. }) => {
                    proptest::prop_assert_eq!(items(&bytes[..offset as usize]), (got, Ok(End::Clean)));
                }
                Err(e) => proptest::prop_assert!(false, "{}", e),
            }
        }
    }

    /// check-aof reads in 1 MiB chunks: records across chunk boundaries and
    /// a record larger than a chunk give what one whole-file scan gives.
    #[test]
    fn check_reads_large_files_in_chunks() {
        let mut e = Encoder::new();
        for i in 0..40_000u32 {
            e.start((i % 3) as usize, 3);
            e.arg(b"SET");
            e.arg_int(i64::from(i));
            e.arg(&[b'v'; 20]);
        }
        e.command(1, &[b"SET", b"big", &vec![b'\r'; 2_500_000]]);
        e.begin(Some((9, 2)));
        e.command(2, &[b"SET", b"big", &vec![0; 1_500_000]]);
        e.end();
        let good = e.take();
        let mut torn = good.clone();
        torn.extend_from_slice(&good[..1_200_000]);
        let mut corrupt = torn.clone();
        corrupt.extend_from_slice(&[0; 3_000_000]);
        corrupt.extend_from_slice(b"\x01");
        for file in [&good, &torn, &corrupt] {
            let (items, whole) = items(file);
            let (report, size) = check(&file[..]).unwrap();
            assert_eq!(size, file.len() as u64);
            let commands: usize = items
                .iter()
                .map(|i| match i {
                    Item::Command { .. } => 1,
                    Item::Tx { commands, .. } => commands.len(),
                })
                .sum();
            assert_eq!(report.commands, commands as u64);
            assert_eq!(report.result.map_err(|f| f.error), whole);
        }
    }

    fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("tessera-aof-{}-{name}.aof", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn check_args(args: &[&str], path: &std::path::Path) -> i32 {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.push(path.to_string_lossy().into_owned());
        check_main(&v)
    }

    #[test]
    fn check_main_verifies_and_fixes() {
        let (bytes, _) = sample();
        let valid = temp_file("valid", &bytes);
        assert_eq!(check_args(&[], &valid), 0);
        assert_eq!(check_args(&["--fix"], &valid), 0);
        assert_eq!(std::fs::read(&valid).unwrap(), bytes);

        // A torn tail: reported without --fix, cut with it.
        let mut torn = bytes.clone();
        torn.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nEX");
        let path = temp_file("torn", &torn);
        assert_eq!(check_args(&[], &path), 1);
        assert_eq!(std::fs::read(&path).unwrap(), torn);
        assert_eq!(check_args(&["--fix"], &path), 0);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(check_args(&[], &path), 0);

        // Corruption inside a transaction: cut at its MULTI.
        let mut bad = bytes.clone();
        bad.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n?garbage");
        bad.extend_from_slice(&bytes);
        let path2 = temp_file("corrupt", &bad);
        assert_eq!(check_args(&[], &path2), 1);
        assert_eq!(check_args(&["--fix"], &path2), 0);
        assert_eq!(std::fs::read(&path2).unwrap(), bytes);

        // Usage and I/O errors.
        assert_eq!(check_main(&[]), 2);
        assert_eq!(check_args(&["--bogus"], &valid), 2);
        assert_eq!(check_main(&["a".to_string(), "b".to_string()]), 2);
        let missing = std::env::temp_dir().join("tessera-aof-does-not-exist.aof");
        assert_eq!(check_args(&[], &missing), 2);
        for p in [valid, path, path2] {
            let _ = std::fs::remove_file(p);
        }
    }
}
