//! Generic keyspace commands: deletion and existence, expiry, renaming and
//! copying, keyspace-wide iteration, OBJECT introspection and DUMP/RESTORE.
//!
//! Per-key commands run on the shard that owns the key. Commands over several
//! keys (DEL, UNLINK, EXISTS, TOUCH) add up per-shard counts when the keys span
//! shards; RENAME/RENAMENX/COPY move an owned copy of the entry between shards;
//! keyspace-wide commands (KEYS, SCAN, DBSIZE, ...) visit every shard.

pub(crate) mod dump;
mod expire;
pub mod glob;
pub(crate) mod lzf;
mod object;
mod rename;
mod space;

use bytes::Bytes;

use super::{CmdResult, Ctx, Handler, Ks, Session};
use crate::db::{Clock, Db, DbStats, Entry, StrEncoding};
use crate::resp::Out;
use crate::shard::signal::class;
use crate::shard::Core;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("del", Handler::SyncCross(cmd_del, crate::async_handler!(cross_del))),
    ("unlink", Handler::SyncCross(cmd_del, crate::async_handler!(cross_del))),
    ("exists", Handler::SyncCross(cmd_exists, crate::async_handler!(cross_exists))),
    ("touch", Handler::SyncCross(cmd_touch, crate::async_handler!(cross_touch))),
    ("type", Handler::Sync(cmd_type)),
    ("expire", Handler::Sync(expire::cmd_expire)),
    ("pexpire", Handler::Sync(expire::cmd_pexpire)),
    ("expireat", Handler::Sync(expire::cmd_expireat)),
    ("pexpireat", Handler::Sync(expire::cmd_pexpireat)),
    ("ttl", Handler::Sync(expire::cmd_ttl)),
    ("pttl", Handler::Sync(expire::cmd_pttl)),
    ("expiretime", Handler::Sync(expire::cmd_expiretime)),
    ("pexpiretime", Handler::Sync(expire::cmd_pexpiretime)),
    ("persist", Handler::Sync(expire::cmd_persist)),
    ("rename", Handler::SyncCross(rename::cmd_rename, crate::async_handler!(rename::cross_rename))),
    ("renamenx", Handler::SyncCross(rename::cmd_renamenx, crate::async_handler!(rename::cross_renamenx))),
    ("copy", Handler::SyncCross(rename::cmd_copy, crate::async_handler!(rename::cross_copy))),
    ("move", Handler::Sync(rename::cmd_move)),
    ("keys", Handler::Async(crate::async_handler!(space::cmd_keys))),
    ("scan", Handler::Async(crate::async_handler!(space::cmd_scan))),
    ("randomkey", Handler::Async(crate::async_handler!(space::cmd_randomkey))),
    ("dbsize", Handler::Async(crate::async_handler!(space::cmd_dbsize))),
    ("flushdb", Handler::Async(crate::async_handler!(space::cmd_flushdb))),
    ("flushall", Handler::Async(crate::async_handler!(space::cmd_flushall))),
    ("swapdb", Handler::Async(crate::async_handler!(space::cmd_swapdb))),
    ("object|encoding", Handler::Sync(object::cmd_encoding)),
    ("object|freq", Handler::Sync(object::cmd_freq)),
    ("object|idletime", Handler::Sync(object::cmd_idletime)),
    ("object|refcount", Handler::Sync(object::cmd_refcount)),
    ("object|help", Handler::Sync(object::cmd_help)),
    ("dump", Handler::Sync(dump::cmd_dump)),
    ("restore", Handler::Sync(dump::cmd_restore)),
];

/// A keyspace op over some keys of one shard's database, returning a count.
type CountOp = fn(&mut Ks<'_>, &[Bytes]) -> i64;

/// DEL key [key ...] / UNLINK key [key ...] — O(N) in the number of keys.
fn cmd_del(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(ctx.count_op(&args[1..], op_del));
    Ok(())
}

/// EXISTS key [key ...] — O(N); a key named twice counts twice.
fn cmd_exists(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(ctx.count_op(&args[1..], op_exists));
    Ok(())
}

/// TOUCH key [key ...] — O(N); updates the keys' access time.
fn cmd_touch(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(ctx.count_op(&args[1..], op_touch));
    Ok(())
}

async fn cross_del(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(sum_over_shards(s, &args[1..], op_del).await);
    Ok(())
}

async fn cross_exists(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(sum_over_shards(s, &args[1..], op_exists).await);
    Ok(())
}

async fn cross_touch(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(sum_over_shards(s, &args[1..], op_touch).await);
    Ok(())
}

/// TYPE key — O(1).
fn cmd_type(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let name = Ks::of(ctx).read_notouch(&args[1]).map_or("none", |e| e.kind().name());
    out.simple(name);
    Ok(())
}

/// DEL/UNLINK on one shard: a "del" event per key deleted (Redis's `delGenericCommand`).
pub(crate) fn op_del(ks: &mut Ks<'_>, keys: &[Bytes]) -> i64 {
    let mut n = 0;
    for k in keys {
        if ks.remove(k).is_some() {
            ks.changed(class::GENERIC, "del", k);
            n += 1;
        }
    }
    n
}

/// Redis's EXISTS looks keys up without touching them but counts hits and misses.
pub(crate) fn op_exists(ks: &mut Ks<'_>, keys: &[Bytes]) -> i64 {
    keys.iter().filter(|k| ks.read_notouch(k).is_some()).count() as i64
}

pub(crate) fn op_touch(ks: &mut Ks<'_>, keys: &[Bytes]) -> i64 {
    keys.iter().filter(|k| ks.read(k).is_some()).count() as i64
}

/// A read lookup that counts a keyspace hit or miss but leaves the access time
/// alone (Redis's `LOOKUP_NOTOUCH`, used by TYPE, EXISTS, TTL, OBJECT).
pub(crate) fn read_notouch<'a>(db: &'a mut Db, key: &[u8], clock: Clock, st: &mut DbStats) -> Option<&'a Entry> {
    let found = db.peek(key, clock, st).is_some();
    if found {
        st.hits += 1;
    } else {
        st.misses += 1;
    }
    db.table().get(key)
}

impl Ks<'_> {
    /// [`read_notouch`] with Redis's "keymiss" event on a miss.
    pub(crate) fn read_notouch(&mut self, key: &[u8]) -> Option<&Entry> {
        let found = read_notouch(self.db, key, self.clock, self.stats).is_some();
        if !found {
            self.notify(class::KEY_MISS, "keymiss", key);
            return None;
        }
        self.db.table().get(key)
    }
}

impl Ctx<'_> {
    fn count_op(&mut self, keys: &[Bytes], op: CountOp) -> i64 {
        op(&mut Ks::of(self), keys)
    }

    pub(crate) fn read_notouch(&mut self, key: &[u8]) -> Option<&Entry> {
        let clock = self.clock;
        let (db, st) = self.db_stats();
        read_notouch(db, key, clock, st)
    }
}

/// Runs `op` on every shard owning some of `keys` (in parallel) and adds the counts.
async fn sum_over_shards(s: &mut Session, keys: &[Bytes], op: CountOp) -> i64 {
    let db = s.db;
    let mut pending = Vec::new();
    let mut local = None;
    for (shard, keys) in group_by_shard(s, keys) {
        if shard == s.core.id {
            local = Some(keys);
        } else {
            pending.push(s.core.send(shard, move |core| run_count(core, db, &keys, op)).await);
        }
    }
    let mut total = local.map_or(0, |keys| run_count(&s.core, db, &keys, op));
    for reply in pending {
        total += reply.await;
    }
    total
}

fn run_count(core: &Core, db: usize, keys: &[Bytes], op: CountOp) -> i64 {
    let clock = core.clock();
    let mut st = core.state.borrow_mut();
    op(&mut Ks::from_state(&mut st, db, clock), keys)
}

/// Splits keys by owning shard, keeping each shard's keys in request order.
pub fn group_by_shard(s: &Session, keys: &[Bytes]) -> Vec<(usize, Vec<Bytes>)> {
    crate::shard::slot::group_by_shard(s.core.nshards, keys.iter().cloned(), |k| k)
}

/// An entry's contents as owned data, to carry between shards or databases.
#[derive(Debug, Clone)]
pub(crate) struct OwnedValue {
    pub payload: Payload,
    pub expire_at: Option<u64>,
    pub access: u32,
}

/// A string with its encoding, or a collection.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    Str(Vec<u8>, StrEncoding),
    Obj(crate::types::Value),
}

impl OwnedValue {
    /// A copy of the entry's contents.
    pub fn of(e: &Entry) -> Self {
        let payload = match e.obj() {
            Some(v) => Payload::Obj(v.clone()),
            None => Payload::Str(e.value().to_vec(), e.encoding()),
        };
        OwnedValue { payload, expire_at: e.expire_at(), access: e.access() }
    }

    /// The entry's contents, moved out without copying a collection.
    pub fn take(e: Entry) -> Self {
        let (expire_at, access) = (e.expire_at(), e.access());
        let payload = if e.is_obj() {
            Payload::Obj(e.into_obj().expect("an object entry holds a value"))
        } else {
            Payload::Str(e.value().to_vec(), e.encoding())
        };
        OwnedValue { payload, expire_at, access }
    }

    /// The entry under `key`, keeping encoding, expiry and access time.
    pub fn to_entry(&self, key: &[u8]) -> Entry {
        self.clone().into_entry(key)
    }

    /// As `to_entry`, consuming the value.
    pub fn into_entry(self, key: &[u8]) -> Entry {
        let mut e = match self.payload {
            Payload::Str(v, enc) => Entry::new_string(key, &v, enc, self.expire_at),
            Payload::Obj(v) => Entry::new_obj(key, v, self.expire_at),
        };
        e.set_access(self.access);
        e
    }
}

/// Redis's `getIntFromObjectOrReply`: an i64 that must also fit an `int`;
/// `msg` replaces both default texts when given.
pub(crate) fn int32_arg(arg: &[u8], msg: Option<&'static str>) -> Result<i32, super::CmdError> {
    use super::CmdError;
    let v = crate::resp::parse::parse_i64(arg)
        .ok_or_else(|| msg.map_or_else(|| super::OpError::NotInteger.into(), CmdError::err))?;
    i32::try_from(v).map_err(|_| {
        msg.map_or_else(
            || CmdError::err("value is out of range, value must between -2147483648 and 2147483647"),
            CmdError::err,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_util::b;

    fn put(db: &mut Db, k: &str, exp: Option<u64>) {
        db.insert(Entry::new_string(k.as_bytes(), b"v", StrEncoding::Embstr, exp));
    }

    #[test]
    fn del_exists_touch_count_like_redis() {
        let mut t = crate::cmd::test_util::TestDb { now: 1000, ..Default::default() };
        let c = Clock::at(1000);
        put(&mut t.db, "a", None);
        put(&mut t.db, "b", Some(500));
        put(&mut t.db, "c", Some(5000));
        assert_eq!(op_exists(&mut t.ks(), &b(&["a", "a", "b", "c", "zz"])), 3);
        assert_eq!((t.stats.hits, t.stats.misses, t.stats.expired), (3, 2, 1));
        assert_eq!(op_touch(&mut t.ks(), &b(&["a", "c", "zz"])), 2);
        assert_eq!(t.db.table().get(b"a").unwrap().access(), c.lru());
        assert_eq!(op_del(&mut t.ks(), &b(&["a", "a", "c", "zz"])), 2);
        assert!(t.db.is_empty());
    }

    #[test]
    fn int32_args() {
        assert_eq!(int32_arg(b"15", None), Ok(15));
        assert_eq!(int32_arg(b"x", None).unwrap_err().0, "ERR value is not an integer or out of range");
        assert_eq!(
            int32_arg(b"4294967296", None).unwrap_err().0,
            "ERR value is out of range, value must between -2147483648 and 2147483647"
        );
        assert_eq!(
            int32_arg(b"4294967296", Some("invalid first DB index")).unwrap_err().0,
            "ERR invalid first DB index"
        );
    }
}
