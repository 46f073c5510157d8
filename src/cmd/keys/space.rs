//! Keyspace-wide commands, run on every shard: KEYS, SCAN, RANDOMKEY, DBSIZE,
//! FLUSHDB, FLUSHALL and SWAPDB.
//!
//! A SCAN cursor names a shard and a position in that shard's table: the shard
//! index sits above the table's [`CURSOR_BITS`]-bit position, so one cursor walks
//! the shards in order and `0` both starts and ends a full iteration.

use bytes::{Bytes, BytesMut};

use super::glob::string_match;
use super::{int32_arg, read_notouch};
use crate::cmd::{args, CmdError, CmdResult, OpError, Session};
use crate::db::table::CURSOR_BITS;
use crate::db::{Clock, Db, DbStats};
use crate::resp::{Out, Proto};
use crate::shard::ShardState;

const POS_MASK: u64 = (1 << CURSOR_BITS) - 1;

/// A SCAN cursor from a shard index and a table position.
pub(crate) fn encode_cursor(shard: usize, pos: u64) -> u64 {
    ((shard as u64) << CURSOR_BITS) | (pos & POS_MASK)
}

/// The shard index and table position a SCAN cursor names.
pub(crate) fn decode_cursor(cursor: u64) -> (u64, u64) {
    (cursor >> CURSOR_BITS, cursor & POS_MASK)
}

/// KEYS's per-shard part: the live keys matching `pattern`, encoded as bulk
/// strings (their encoding is the same in RESP2 and RESP3), and how many.
pub(crate) fn op_keys(db: &Db, pattern: &[u8], clock: Clock) -> (usize, BytesMut) {
    let all = pattern == b"*";
    let mut out = Out::new(Proto::Resp2);
    let mut n = 0;
    for e in db.table().iter() {
        // KEYS skips expired keys without deleting them.
        let live = e.expire_at().is_none_or(|at| at > clock.now_ms);
        if live && (all || string_match(pattern, e.key(), false)) {
            out.bulk(e.key());
            n += 1;
        }
    }
    (n, out.buf)
}

/// KEYS pattern — O(N) in the number of keys.
pub(super) async fn cmd_keys(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (db, pattern) = (s.db, args[1].clone());
    let parts = s.core.call_all(move |core| op_keys(&core.state.borrow().dbs[db], &pattern, core.clock())).await;
    out.array(parts.iter().map(|(n, _)| n).sum());
    for (_, buf) in &parts {
        out.raw(buf);
    }
    Ok(())
}

/// SCAN's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanOpts {
    pub count: usize,
    pub pattern: Option<Bytes>,
    pub typ: Option<Bytes>,
}

pub(crate) fn parse_scan(args: &[Bytes]) -> Result<(u64, ScanOpts), CmdError> {
    let cursor = args::cursor(&args[1])?;
    let mut opts = ScanOpts { count: 10, pattern: None, typ: None };
    let mut cur = args::Cursor::new(args, 2);
    while let Some(a) = cur.next() {
        if cur.remaining() < 1 {
            return Err(CmdError::syntax());
        }
        if args::is(a, "count") {
            let n = args::int(cur.value()?)?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            opts.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args::is(a, "match") {
            let p = cur.value()?;
            // `*` matches everything: skip matching altogether, as Redis does.
            opts.pattern = (&p[..] != b"*").then(|| p.clone());
        } else if args::is(a, "type") {
            opts.typ = Some(cur.value()?.clone());
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok((cursor, opts))
}

/// One shard's step of SCAN from table position `pos`: the next position (or
/// `None` once the shard is covered), entries visited, and the keys that pass
/// MATCH, TYPE and expiry, in Redis's filter order.
pub(crate) fn op_scan(
    db: &mut Db,
    pos: u64,
    opts: &ScanOpts,
    clock: Clock,
    st: &mut DbStats,
) -> (Option<u64>, usize, Vec<Vec<u8>>) {
    let mut keys = Vec::new();
    let mut visited = 0;
    let next = db.table().scan(pos, opts.count, opts.count.saturating_mul(10), |e| {
        visited += 1;
        if opts.pattern.as_ref().is_none_or(|p| string_match(p, e.key(), false)) {
            keys.push(e.key().to_vec());
        }
    });
    keys.retain(|k| {
        if let Some(t) = &opts.typ {
            // Redis looks the key up to learn its type (a hit or miss, and a
            // lazy expiry that makes it "none").
            let name = read_notouch(db, k, clock, st).map_or("none", |e| e.kind().name());
            if !t.eq_ignore_ascii_case(name.as_bytes()) {
                return false;
            }
        }
        !db.expire_if_needed(k, clock, st)
    });
    (next, visited, keys)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] — O(1) a call, O(N) a full iteration.
pub(super) async fn cmd_scan(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (cursor, opts) = parse_scan(args)?;
    let db = s.db;
    let nshards = s.core.nshards;
    let (shard, mut pos) = decode_cursor(cursor);
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut next_cursor = 0;
    let mut shard = usize::try_from(shard).unwrap_or(usize::MAX);
    let mut visited = 0;
    // A cursor naming a shard we do not have ends the iteration.
    while shard < nshards {
        let o = opts.clone();
        let (next, seen, mut found) = s
            .core
            .call(shard, move |core| {
                let clock = core.clock();
                let mut state = core.state.borrow_mut();
                let ShardState { dbs, stats, .. } = &mut *state;
                op_scan(&mut dbs[db], pos, &o, clock, stats)
            })
            .await;
        keys.append(&mut found);
        visited += seen;
        match next {
            Some(p) => {
                next_cursor = encode_cursor(shard, p);
                break;
            }
            None => {
                shard += 1;
                pos = 0;
                if shard < nshards && visited >= opts.count {
                    next_cursor = encode_cursor(shard, 0);
                    break;
                }
            }
        }
    }
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next_cursor).as_bytes());
    out.array(keys.len());
    for k in &keys {
        out.bulk(k);
    }
    Ok(())
}

/// A live random key of `db`, deleting expired keys it draws (as Redis's
/// `dbRandomKey`); `None` once the database is empty.
pub(crate) fn op_random_key(db: &mut Db, rng: &mut u64, clock: Clock, st: &mut DbStats) -> Option<Vec<u8>> {
    loop {
        let key = db.table().random_entry(|| xorshift(rng))?.key().to_vec();
        if !db.expire_if_needed(&key, clock, st) {
            return Some(key);
        }
    }
}

/// The shard's xorshift64* step (as `ShardState::random`), on a borrowed seed.
fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// The shard holding the `r`-th key when keys are counted shard by shard.
fn pick_weighted(sizes: &[usize], mut r: u64) -> Option<usize> {
    for (i, &n) in sizes.iter().enumerate() {
        if r < n as u64 {
            return Some(i);
        }
        r -= n as u64;
    }
    None
}

/// RANDOMKEY — O(1).
pub(super) async fn cmd_randomkey(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let db = s.db;
    let mut sizes = s.core.call_all(move |core| core.state.borrow().dbs[db].len()).await;
    loop {
        let total: usize = sizes.iter().sum();
        if total == 0 {
            out.null();
            return Ok(());
        }
        let r = s.core.state.borrow_mut().random() % total as u64;
        let Some(shard) = pick_weighted(&sizes, r) else {
            out.null();
            return Ok(());
        };
        let key = s
            .core
            .call(shard, move |core| {
                let clock = core.clock();
                let mut state = core.state.borrow_mut();
                let ShardState { dbs, stats, rng, .. } = &mut *state;
                op_random_key(&mut dbs[db], rng, clock, stats)
            })
            .await;
        match key {
            Some(k) => {
                out.bulk(&k);
                return Ok(());
            }
            // That shard held only expired keys, now gone: draw among the others.
            None => sizes[shard] = 0,
        }
    }
}

/// DBSIZE — O(1).
pub(super) async fn cmd_dbsize(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let db = s.db;
    let sizes = s.core.call_all(move |core| core.state.borrow().dbs[db].len()).await;
    out.int(sizes.iter().sum::<usize>() as i64);
    Ok(())
}

/// FLUSHDB/FLUSHALL's optional argument: ASYNC or SYNC (both free memory
/// right away here), anything else a syntax error.
fn check_flush_args(args: &[Bytes]) -> CmdResult {
    match args.len() {
        1 => Ok(()),
        2 if args::is(&args[1], "async") || args::is(&args[1], "sync") => Ok(()),
        _ => Err(CmdError::syntax()),
    }
}

/// FLUSHDB [ASYNC | SYNC] — O(N) in the number of keys of the database.
pub(super) async fn cmd_flushdb(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    check_flush_args(args)?;
    let db = s.db;
    s.core
        .call_all(move |core| {
            let mut st = core.state.borrow_mut();
            crate::cmd::transaction::flushing(&mut st, Some(db), None);
            st.dbs[db].clear();
            st.signals.flushed(Some(db));
        })
        .await;
    out.ok();
    Ok(())
}

/// FLUSHALL [ASYNC | SYNC] — O(N) in the number of keys.
pub(super) async fn cmd_flushall(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    check_flush_args(args)?;
    s.core
        .call_all(|core| {
            let mut st = core.state.borrow_mut();
            crate::cmd::transaction::flushing(&mut st, None, None);
            st.dbs.iter_mut().for_each(Db::clear);
            st.signals.flushed(None);
        })
        .await;
    out.ok();
    Ok(())
}

/// SWAPDB's indexes, with Redis's errors.
pub(crate) fn parse_swapdb(args: &[Bytes], ndbs: usize) -> Result<(usize, usize), CmdError> {
    let a = int32_arg(&args[1], Some("invalid first DB index"))?;
    let b = int32_arg(&args[2], Some("invalid second DB index"))?;
    let ok = |i: i32| usize::try_from(i).ok().filter(|&i| i < ndbs);
    match (ok(a), ok(b)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(OpError::InvalidDb.into()),
    }
}

/// SWAPDB index1 index2 — O(N) in the number of shards: every shard swaps its two databases.
pub(super) async fn cmd_swapdb(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let ndbs = s.core.state.borrow().dbs.len();
    let (a, b) = parse_swapdb(args, ndbs)?;
    if a != b {
        s.core
            .call_all(move |core| {
                let mut st = core.state.borrow_mut();
                crate::cmd::transaction::flushing(&mut st, Some(a), Some(b));
                crate::cmd::transaction::flushing(&mut st, Some(b), Some(a));
                let (lo, hi) = (a.min(b), a.max(b));
                let (left, right) = st.dbs.split_at_mut(hi);
                crate::db::Db::swap_data(&mut left[lo], &mut right[0]);
                let (la, lb) = (a.to_string(), b.to_string());
                crate::persist::log::command(&mut st, 0, &[b"SWAPDB", la.as_bytes(), lb.as_bytes()]);
            })
            .await;
    }
    out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_util::b;
    use crate::db::{Entry, StrEncoding};
    use std::collections::HashSet;

    fn put(db: &mut Db, k: &str, exp: Option<u64>) {
        db.insert(Entry::new_string(k.as_bytes(), b"v", StrEncoding::Embstr, exp));
    }

    #[test]
    fn cursors_like_strtoul() {
        assert_eq!(args::parse_cursor(b"0"), Some(0));
        assert_eq!(args::parse_cursor(b""), Some(0));
        assert_eq!(args::parse_cursor(b"+5"), Some(5));
        assert_eq!(args::parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(args::parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(args::parse_cursor(b"18446744073709551616"), None);
        assert_eq!(args::parse_cursor(b" 1"), None);
        assert_eq!(args::parse_cursor(b"1 "), None);
        assert_eq!(args::parse_cursor(b"abc"), None);
        assert_eq!(args::parse_cursor(b"-"), None);
        assert_eq!(args::parse_cursor(b"12\0x"), Some(12));
    }

    #[test]
    fn cursor_round_trip() {
        for (shard, pos) in [(0usize, 0u64), (0, 5), (2, 0), (7, POS_MASK), (1 << 20, 12345)] {
            let c = encode_cursor(shard, pos);
            assert_eq!(decode_cursor(c), (shard as u64, pos));
        }
        assert_eq!(encode_cursor(0, 0), 0);
        assert_ne!(encode_cursor(1, 0), 0, "only the very start is cursor 0");
    }

    #[test]
    fn scan_options() {
        let (c, o) = parse_scan(&b(&["scan", "7", "match", "a*", "COUNT", "100", "type", "string"])).unwrap();
        assert_eq!(
            (c, o.count, o.pattern.as_deref(), o.typ.as_deref()),
            (7, 100, Some(&b"a*"[..]), Some(&b"string"[..]))
        );
        assert_eq!(parse_scan(&b(&["scan", "0", "match", "*"])).unwrap().1.pattern, None);
        assert_eq!(parse_scan(&b(&["scan", "x"])).unwrap_err().0, "ERR invalid cursor");
        assert_eq!(parse_scan(&b(&["scan", "0", "count", "0"])), Err(CmdError::syntax()));
        assert_eq!(parse_scan(&b(&["scan", "0", "count"])), Err(CmdError::syntax()));
        assert_eq!(
            parse_scan(&b(&["scan", "0", "count", "x"])).unwrap_err().0,
            "ERR value is not an integer or out of range"
        );
        assert_eq!(parse_scan(&b(&["scan", "0", "foo", "bar"])), Err(CmdError::syntax()));
    }

    #[test]
    fn scan_covers_live_keys_once() {
        let mut db = Db::new();
        let mut st = DbStats::default();
        let c = Clock::at(1_000);
        for i in 0..5000 {
            put(&mut db, &format!("k{i}"), (i % 10 == 0).then_some(500));
        }
        put(&mut db, "other", None);
        let opts = ScanOpts { count: 10, pattern: Some(Bytes::from_static(b"k*")), typ: None };
        let mut seen = HashSet::new();
        let mut pos = 0;
        loop {
            let (next, _, keys) = op_scan(&mut db, pos, &opts, c, &mut st);
            for k in keys {
                assert!(seen.insert(k));
            }
            match next {
                Some(p) => pos = p,
                None => break,
            }
        }
        assert_eq!(seen.len(), 4500);
        assert_eq!(st.expired, 500);
        let typed = ScanOpts { count: 100_000, pattern: None, typ: Some(Bytes::from_static(b"LIST")) };
        assert!(op_scan(&mut db, 0, &typed, c, &mut st).2.is_empty());
    }

    #[test]
    fn keys_skip_expired_without_deleting() {
        let mut db = Db::new();
        put(&mut db, "a1", None);
        put(&mut db, "a2", Some(10));
        put(&mut db, "b", None);
        let (n, buf) = op_keys(&db, b"a*", Clock::at(100));
        assert_eq!((n, &buf[..]), (1, &b"$2\r\na1\r\n"[..]));
        assert_eq!(op_keys(&db, b"*", Clock::at(5)).0, 3);
        assert_eq!(db.len(), 3);
    }

    #[test]
    fn random_keys_and_weights() {
        let mut db = Db::new();
        let mut st = DbStats::default();
        let mut rng = 0x1234_5678_9abc_def1;
        let c = Clock::at(1_000);
        assert_eq!(op_random_key(&mut db, &mut rng, c, &mut st), None);
        put(&mut db, "dead", Some(1));
        assert_eq!(op_random_key(&mut db, &mut rng, c, &mut st), None);
        assert_eq!(st.expired, 1);
        put(&mut db, "live", None);
        assert_eq!(op_random_key(&mut db, &mut rng, c, &mut st), Some(b"live".to_vec()));
        assert_eq!(pick_weighted(&[0, 3, 2], 0), Some(1));
        assert_eq!(pick_weighted(&[0, 3, 2], 3), Some(2));
        assert_eq!(pick_weighted(&[0, 3, 2], 5), None);
    }

    #[test]
    fn swapdb_errors() {
        assert_eq!(parse_swapdb(&b(&["swapdb", "0", "1"]), 16), Ok((0, 1)));
        assert_eq!(parse_swapdb(&b(&["swapdb", "a", "1"]), 16).unwrap_err().0, "ERR invalid first DB index");
        assert_eq!(parse_swapdb(&b(&["swapdb", "1", "b"]), 16).unwrap_err().0, "ERR invalid second DB index");
        assert_eq!(parse_swapdb(&b(&["swapdb", "4294967296", "1"]), 16).unwrap_err().0, "ERR invalid first DB index");
        assert_eq!(parse_swapdb(&b(&["swapdb", "0", "16"]), 16).unwrap_err().0, "ERR DB index is out of range");
        assert_eq!(parse_swapdb(&b(&["swapdb", "-1", "0"]), 16).unwrap_err().0, "ERR DB index is out of range");
    }
}
