//! SORT and SORT_RO.
//!
//! SORT reads keys named by its BY and GET patterns, which may live on any
//! shard, and may STORE on yet another, so it always runs as a coordinator on
//! the connection's shard: it loads the vector from the source key's shard,
//! looks the BY keys up (one batch per shard, in parallel), sorts, looks the
//! GET keys of the output window up the same way, then replies or stores the
//! list on the destination's shard. Like other multi-shard commands it is not
//! atomic across shards yet (a write between the steps can be seen).

pub(crate) mod plan;
#[cfg(test)]
mod tests;

use bytes::Bytes;

use plan::{LoadOpts, Loaded, Lookup, Opts, Plan};

use super::{by_shard, on_shards, CmdResult, Handler, Ks, OpError, Session};
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::{List, Value, ZSet};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("sort", Handler::Async(crate::async_handler!(cmd_sort))),
    ("sort_ro", Handler::Async(crate::async_handler!(cmd_sort_ro))),
];

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
/// [ALPHA] [STORE destination] — O(N+M*log(M)): N elements, M returned.
async fn cmd_sort(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    sort(&mut Shards(s), args, out, false).await
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
/// [ALPHA] — SORT without STORE.
async fn cmd_sort_ro(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    sort(&mut Shards(s), args, out, true).await
}

/// Where SORT's keys are read and written: the shards of a session, or one
/// keyspace in unit tests.
trait Keyspace {
    async fn load(&mut self, key: Bytes, o: LoadOpts) -> Result<Loaded, OpError>;
    async fn fetch(&mut self, lookups: Vec<Lookup>) -> Vec<Option<Bytes>>;
    async fn store(&mut self, dst: Bytes, rows: Vec<Option<Bytes>>);
}

/// The sorting steps, in Redis's order: options (syntax errors first), the
/// source key (WRONGTYPE), weights (conversion error), output.
async fn sort(ks: &mut impl Keyspace, args: &[Bytes], out: &mut Out, readonly: bool) -> CmdResult {
    let opts = Opts::parse(args, readonly)?;
    let store = opts.store.clone();
    let loaded = ks.load(args[1].clone(), opts.load_opts()).await?;
    let mut plan = Plan::new(opts, loaded);
    let lookups = plan.by_lookups();
    let weights = if lookups.is_empty() { Vec::new() } else { ks.fetch(lookups).await };
    plan.sort(weights)?;
    let lookups = plan.get_lookups();
    let got = if lookups.is_empty() { Vec::new() } else { ks.fetch(lookups).await };
    let rows = plan.rows(got);
    match store {
        Some(dst) => {
            out.int(rows.len() as i64);
            ks.store(dst, rows).await;
        }
        None => {
            out.array(rows.len());
            for r in &rows {
                match r {
                    Some(v) => out.bulk(v),
                    None => out.null(),
                }
            }
        }
    }
    Ok(())
}

/// Loads the vector to sort from `key` (read as Redis's `lookupKeyRead`).
/// Like Redis, SORT leaves a packed sorted set in the indexed encoding.
fn load_key(ks: &mut Ks<'_>, key: &[u8], o: LoadOpts) -> Result<Loaded, OpError> {
    let packed_zset = match ks.read(key) {
        None => return plan::load(None, o),
        Some(e) => match e.obj() {
            None => return Err(OpError::WrongType),
            Some(Value::ZSet(z)) => z.encoding() == "listpack",
            Some(_) => false,
        },
    };
    let lim = ks.limits;
    let Some(e) = ks.write(key) else { return plan::load(None, o) };
    if packed_zset {
        if let Some(Value::ZSet(z)) = e.obj_mut() {
            let mut indexed = ZSet::new_indexed();
            for (m, s) in z.iter() {
                indexed.insert(m, s, &lim);
            }
            *z = indexed;
        }
    }
    plan::load(e.obj(), o)
}

/// A BY/GET lookup: a string key's value, or a hash field's; nothing for a
/// missing key or one of another type.
fn lookup(ks: &mut Ks<'_>, key: &[u8], field: Option<&[u8]>) -> Option<Bytes> {
    let e = ks.read(key)?;
    match (field, e.obj()) {
        (None, None) => Some(Bytes::copy_from_slice(e.value())),
        (Some(f), Some(Value::Hash(h))) => h.get(f).map(Bytes::copy_from_slice),
        _ => None,
    }
}

/// STORE: the rows as a new list (a missing GET value stored as ""), or no
/// key at all when there are none. The destination loses any TTL.
fn store_rows(ks: &mut Ks<'_>, dst: &[u8], rows: &[Option<Bytes>]) {
    if rows.is_empty() {
        if ks.remove(dst).is_some() {
            ks.changed(class::GENERIC, "del", dst);
        }
        return;
    }
    let mut list = List::new();
    for r in rows {
        list.push_back(r.as_deref().unwrap_or(b""), &ks.limits);
    }
    ks.insert(Entry::new_obj(dst, Value::List(list), None));
    ks.changed(class::LIST, "sortstore", dst);
}

/// The shards of the connection's session.
struct Shards<'a>(&'a Session);

impl Keyspace for Shards<'_> {
    async fn load(&mut self, key: Bytes, o: LoadOpts) -> Result<Loaded, OpError> {
        let shard = self.0.shard_of(&key);
        let mut r = on_shards(self.0, vec![(shard, key)], move |ks, key: Bytes| load_key(ks, &key, o)).await;
        r.pop().unwrap_or(Err(OpError::NoSuchKey))
    }

    async fn fetch(&mut self, lookups: Vec<Lookup>) -> Vec<Option<Bytes>> {
        let n = lookups.len();
        let groups = by_shard(self.0, lookups.into_iter().enumerate().map(|(i, (k, f))| (k, (i, f))));
        let found = on_shards(self.0, groups, |ks, items: Vec<(Bytes, (usize, Option<Bytes>))>| {
            items.into_iter().map(|(k, (i, f))| (i, lookup(ks, &k, f.as_deref()))).collect::<Vec<_>>()
        })
        .await;
        let mut values = vec![None; n];
        for (i, v) in found.into_iter().flatten() {
            values[i] = v;
        }
        values
    }

    async fn store(&mut self, dst: Bytes, rows: Vec<Option<Bytes>>) {
        let shard = self.0.shard_of(&dst);
        on_shards(self.0, vec![(shard, (dst, rows))], |ks, (dst, rows): (Bytes, Vec<Option<Bytes>>)| {
            store_rows(ks, &dst, &rows)
        })
        .await;
    }
}
