//! RENAME, RENAMENX, COPY and MOVE.
//!
//! When source and destination keys live on different shards, the coordinator
//! takes the entry out of the source shard as owned data ([`OwnedValue`]) and
//! inserts it on the destination shard.

use bytes::Bytes;

use super::{int32_arg, OwnedValue};
use crate::cmd::{args, CmdError, CmdResult, Ctx, OpError, Session};
use crate::db::{Clock, Db, DbStats};
use crate::resp::Out;
use crate::shard::signal::{self, class};
use crate::shard::{Core, ShardState};

/// Renames `src` to `dst` in one database, as Redis's `renameGenericCommand`:
/// `Ok(true)` when renamed (or, for RENAME, when both names are the same key),
/// `Ok(false)` when RENAMENX found the destination taken.
pub(crate) fn op_rename(
    db: &mut Db,
    src: &[u8],
    dst: &[u8],
    nx: bool,
    clock: Clock,
    st: &mut DbStats,
) -> Result<bool, OpError> {
    if db.lookup_write(src, clock, st).is_none() {
        return Err(OpError::NoSuchKey);
    }
    if src == dst {
        return Ok(!nx);
    }
    if db.lookup_write(dst, clock, st).is_some() && nx {
        return Ok(false);
    }
    let Some(old) = db.remove(src, clock, st) else {
        return Err(OpError::NoSuchKey);
    };
    let at = old.expire_at();
    db.insert(old.rebuild(dst, at));
    Ok(true)
}

fn rename_reply(r: Result<bool, OpError>, nx: bool, out: &mut Out) -> CmdResult {
    match (r?, nx) {
        (_, false) => out.ok(),
        (done, true) => out.int(done as i64),
    }
    Ok(())
}

fn rename_generic(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out, nx: bool) -> CmdResult {
    let clock = ctx.clock;
    let (db, st) = ctx.db_stats();
    let r = op_rename(db, &args[1], &args[2], nx, clock, st);
    if r == Ok(true) && args[1] != args[2] {
        signal::notify(ctx.state, class::NEW, "new", ctx.db, &args[2]);
        renamed(ctx.state, ctx.db, &args[1], "rename_from");
        renamed(ctx.state, ctx.db, &args[2], "rename_to");
    }
    rename_reply(r, nx, out)
}

/// One side of RENAME, MOVE or COPY: `signalModifiedKey` and its generic event.
fn renamed(st: &mut ShardState, db: usize, key: &[u8], event: &'static str) {
    signal::modified(st, db, key);
    signal::notify(st, class::GENERIC, event, db, key);
}

/// The destination side: "new" (Redis's `dbAdd`), then [`renamed`].
fn arrived(st: &mut ShardState, db: usize, key: &[u8], event: &'static str) {
    signal::notify(st, class::NEW, "new", db, key);
    renamed(st, db, key, event);
}

/// RENAME key newkey — O(1).
pub(super) fn cmd_rename(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    rename_generic(ctx, args, out, false)
}

/// RENAMENX key newkey — O(1).
pub(super) fn cmd_renamenx(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    rename_generic(ctx, args, out, true)
}

/// Runs `f` on the shard's database `db` with its stats and the shard clock.
fn with_db<T>(core: &Core, db: usize, f: impl FnOnce(&mut Db, Clock, &mut DbStats) -> T) -> T {
    let clock = core.clock();
    let mut state = core.state.borrow_mut();
    let ShardState { dbs, stats, .. } = &mut *state;
    f(&mut dbs[db], clock, stats)
}

/// RENAME/RENAMENX whose keys live on two shards.
///
/// Not atomic yet: between taking the source and inserting the destination
/// another client can observe neither key (and RENAMENX's destination check can
/// race with a concurrent write). Multi-shard transactions will close that gap.
async fn cross_rename_generic(s: &mut Session, args: &[Bytes], out: &mut Out, nx: bool) -> CmdResult {
    let db = s.db;
    let (src, dst) = (args[1].clone(), args[2].clone());
    let (src_shard, dst_shard) = (s.shard_of(&src), s.shard_of(&dst));
    let dst_taken = if nx {
        let d = dst.clone();
        s.core.call(dst_shard, move |core| with_db(core, db, |db, c, st| db.lookup_write(&d, c, st).is_some())).await
    } else {
        false
    };
    let taken: Result<Option<OwnedValue>, OpError> = s
        .core
        .call(src_shard, move |core| {
            let taken = with_db(core, db, |db, c, st| {
                if db.lookup_write(&src, c, st).is_none() {
                    return Err(OpError::NoSuchKey);
                }
                if dst_taken {
                    return Ok(None);
                }
                Ok(db.remove(&src, c, st).map(OwnedValue::take))
            });
            if let Ok(Some(_)) = &taken {
                renamed(&mut core.state.borrow_mut(), db, &src, "rename_from");
            }
            taken
        })
        .await;
    let Some(value) = taken? else {
        return rename_reply(Ok(false), nx, out);
    };
    s.core
        .call(dst_shard, move |core| {
            with_db(core, db, |db, c, st| {
                // Count a lazily expired destination as Redis's lookupKeyWrite would.
                db.expire_if_needed(&dst, c, st);
                db.insert(value.into_entry(&dst));
            });
            arrived(&mut core.state.borrow_mut(), db, &dst, "rename_to");
        })
        .await;
    rename_reply(Ok(true), nx, out)
}

pub(super) async fn cross_rename(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross_rename_generic(s, args, out, false).await
}

pub(super) async fn cross_renamenx(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross_rename_generic(s, args, out, true).await
}

/// Parses a database index argument and checks its range (MOVE, COPY's DB).
fn db_index(arg: &[u8], ndbs: usize) -> Result<usize, CmdError> {
    let id = int32_arg(arg, None)?;
    usize::try_from(id).ok().filter(|&i| i < ndbs).ok_or_else(|| OpError::InvalidDb.into())
}

/// COPY's options: (destination db, REPLACE).
fn parse_copy(args: &[Bytes], db: usize, ndbs: usize) -> Result<(usize, bool), CmdError> {
    let mut cur = args::Cursor::new(args, 3);
    let (mut dst_db, mut replace) = (db, false);
    while let Some(a) = cur.next() {
        if args::is(a, "replace") {
            replace = true;
        } else if args::is(a, "db") && cur.remaining() >= 1 {
            dst_db = db_index(cur.value()?, ndbs)?;
        } else {
            return Err(CmdError::syntax());
        }
    }
    if dst_db == db && args[1] == args[2] {
        return Err(OpError::SameObject.into());
    }
    Ok((dst_db, replace))
}

/// The source of a COPY, read as Redis's `lookupKeyRead` does (hit, access
/// time). The copy is a new object: its access time is now.
fn copy_source(db: &mut Db, key: &[u8], clock: Clock, st: &mut DbStats) -> Option<OwnedValue> {
    db.lookup_read(key, clock, st).map(|e| OwnedValue { access: clock.fresh_access(), ..OwnedValue::of(e) })
}

/// Stores a COPY's value at `dst` unless it exists and `replace` is off.
fn copy_store(db: &mut Db, dst: &[u8], value: &OwnedValue, replace: bool, clock: Clock, st: &mut DbStats) -> bool {
    if db.lookup_write(dst, clock, st).is_some() && !replace {
        return false;
    }
    db.insert(value.to_entry(dst));
    true
}

/// COPY source destination [DB destination-db] [REPLACE] — O(N) in the value size.
pub(super) fn cmd_copy(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (dst_db, replace) = parse_copy(args, ctx.db, ctx.state.dbs.len())?;
    let clock = ctx.clock;
    let ShardState { dbs, stats, .. } = &mut *ctx.state;
    let Some(value) = copy_source(&mut dbs[ctx.db], &args[1], clock, stats) else {
        signal::notify(ctx.state, class::KEY_MISS, "keymiss", ctx.db, &args[1]);
        out.int(0);
        return Ok(());
    };
    let done = copy_store(&mut dbs[dst_db], &args[2], &value, replace, clock, stats);
    if done {
        arrived(ctx.state, dst_db, &args[2], "copy_to");
    }
    out.int(done as i64);
    Ok(())
}

/// COPY whose source and destination live on different shards.
pub(super) async fn cross_copy(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let ndbs = s.core.state.borrow().dbs.len();
    let db = s.db;
    let (dst_db, replace) = parse_copy(args, db, ndbs)?;
    let (src, dst) = (args[1].clone(), args[2].clone());
    let (src_shard, dst_shard) = (s.shard_of(&src), s.shard_of(&dst));
    let value = s
        .core
        .call(src_shard, move |core| {
            let v = with_db(core, db, |db, c, st| copy_source(db, &src, c, st));
            if v.is_none() {
                signal::notify(&mut core.state.borrow_mut(), class::KEY_MISS, "keymiss", db, &src);
            }
            v
        })
        .await;
    let Some(value) = value else {
        out.int(0);
        return Ok(());
    };
    let done = s
        .core
        .call(dst_shard, move |core| {
            let done = with_db(core, dst_db, |db, c, st| copy_store(db, &dst, &value, replace, c, st));
            if done {
                arrived(&mut core.state.borrow_mut(), dst_db, &dst, "copy_to");
            }
            done
        })
        .await;
    out.int(done as i64);
    Ok(())
}

/// Moves `key` from database `from` to `to` of one shard; false if it is
/// missing or already present in `to`.
pub(crate) fn op_move(dbs: &mut [Db], from: usize, to: usize, key: &[u8], clock: Clock, st: &mut DbStats) -> bool {
    if dbs[from].lookup_write(key, clock, st).is_none() || dbs[to].lookup_write(key, clock, st).is_some() {
        return false;
    }
    match dbs[from].remove(key, clock, st) {
        Some(e) => {
            dbs[to].insert(e);
            true
        }
        None => false,
    }
}

/// MOVE key db — O(1).
pub(super) fn cmd_move(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let to = db_index(&args[2], ctx.state.dbs.len())?;
    if to == ctx.db {
        return Err(OpError::SameObject.into());
    }
    let clock = ctx.clock;
    let ShardState { dbs, stats, .. } = &mut *ctx.state;
    let moved = op_move(dbs, ctx.db, to, &args[1], clock, stats);
    if moved {
        signal::notify(ctx.state, class::NEW, "new", to, &args[1]);
        signal::modified(ctx.state, ctx.db, &args[1]);
        signal::modified(ctx.state, to, &args[1]);
        signal::notify(ctx.state, class::GENERIC, "move_from", ctx.db, &args[1]);
        signal::notify(ctx.state, class::GENERIC, "move_to", to, &args[1]);
    }
    out.int(moved as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_util::b;
    use crate::db::{Entry, StrEncoding};

    fn put(db: &mut Db, k: &str, v: &str, exp: Option<u64>) {
        db.insert(Entry::new_string(k.as_bytes(), v.as_bytes(), StrEncoding::for_value(v.as_bytes()), exp));
    }

    fn val(db: &Db, k: &str) -> Option<Vec<u8>> {
        db.table().get(k.as_bytes()).map(|e| e.value().to_vec())
    }

    #[test]
    fn rename_keeps_value_ttl_and_encoding() {
        let mut db = Db::new();
        let mut st = DbStats::default();
        let c = Clock::at(1_000);
        put(&mut db, "a", "123", Some(50_000));
        put(&mut db, "b", "x", None);
        assert_eq!(op_rename(&mut db, b"zz", b"a", false, c, &mut st), Err(OpError::NoSuchKey));
        assert_eq!(op_rename(&mut db, b"a", b"a", false, c, &mut st), Ok(true));
        assert_eq!(op_rename(&mut db, b"a", b"a", true, c, &mut st), Ok(false));
        assert_eq!(op_rename(&mut db, b"a", b"b", true, c, &mut st), Ok(false));
        assert_eq!(op_rename(&mut db, b"a", b"b", false, c, &mut st), Ok(true));
        let e = db.table().get(b"b").unwrap();
        assert_eq!((e.value(), e.expire_at(), e.encoding()), (&b"123"[..], Some(50_000), StrEncoding::Int));
        assert_eq!(val(&db, "a"), None);
        assert_eq!(op_rename(&mut db, b"b", b"c", true, c, &mut st), Ok(true));
        assert_eq!(db.len(), 1);
    }

    #[test]
    fn copy_options_and_errors() {
        assert_eq!(parse_copy(&b(&["copy", "a", "b"]), 0, 16), Ok((0, false)));
        assert_eq!(parse_copy(&b(&["copy", "a", "b", "REPLACE", "db", "3"]), 0, 16), Ok((3, true)));
        assert_eq!(
            parse_copy(&b(&["copy", "a", "a"]), 0, 16).unwrap_err().0,
            "ERR source and destination objects are the same"
        );
        assert_eq!(parse_copy(&b(&["copy", "a", "a", "db", "1"]), 0, 16), Ok((1, false)));
        assert_eq!(parse_copy(&b(&["copy", "a", "b", "db"]), 0, 16), Err(CmdError::syntax()));
        assert_eq!(
            parse_copy(&b(&["copy", "a", "b", "db", "16"]), 0, 16).unwrap_err().0,
            "ERR DB index is out of range"
        );
        assert_eq!(
            parse_copy(&b(&["copy", "a", "b", "db", "x"]), 0, 16).unwrap_err().0,
            "ERR value is not an integer or out of range"
        );
    }

    #[test]
    fn copy_and_move_between_databases() {
        let mut dbs = vec![Db::new(), Db::new()];
        let mut st = DbStats::default();
        let c = Clock::at(1_000);
        put(&mut dbs[0], "k", "v", Some(9_000));
        let v = copy_source(&mut dbs[0], b"k", c, &mut st).unwrap();
        assert!(copy_store(&mut dbs[1], b"k2", &v, false, c, &mut st));
        assert!(!copy_store(&mut dbs[1], b"k2", &v, false, c, &mut st));
        assert!(copy_store(&mut dbs[1], b"k2", &v, true, c, &mut st));
        assert_eq!(dbs[1].table().get(b"k2").unwrap().expire_at(), Some(9_000));
        assert!(op_move(&mut dbs, 0, 1, b"k", c, &mut st));
        assert!(!op_move(&mut dbs, 0, 1, b"k", c, &mut st));
        put(&mut dbs[0], "k2", "w", None);
        assert!(!op_move(&mut dbs, 0, 1, b"k2", c, &mut st), "destination exists");
        assert_eq!(val(&dbs[1], "k"), Some(b"v".to_vec()));
        assert_eq!(dbs[1].table().get(b"k").unwrap().expire_at(), Some(9_000));
    }

    #[test]
    fn db_indexes() {
        assert_eq!(db_index(b"15", 16), Ok(15));
        assert_eq!(db_index(b"16", 16).unwrap_err().0, "ERR DB index is out of range");
        assert_eq!(db_index(b"-1", 16).unwrap_err().0, "ERR DB index is out of range");
        assert!(db_index(b"4294967296", 16).unwrap_err().0.starts_with("ERR value is out of range"));
    }
}
