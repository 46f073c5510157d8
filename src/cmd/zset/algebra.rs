//! ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis's
//! `zunionInterDiffGenericCommand`). Sources may be sorted sets or plain sets
//! (whose members score 1).
//!
//! One computation serves both paths: on one shard it reads the sources in
//! place; across shards the coordinator fetches owned copies of them from
//! their shards (in parallel), computes on the connection's shard and stores
//! the result on the destination's shard. Not atomic across shards yet:
//! another client may change a source between the fetches (the transactions
//! of DESIGN.md §3 will close that window).
//!
//! Scores are combined in Redis's order (sources sorted by size, stably), so
//! floating-point sums come out bit for bit the same.

use std::borrow::Cow;

use bytes::Bytes;
use hashbrown::hash_map::Entry as MapEntry;

use super::parse::string2d;
use super::{reply_entries, store};
use crate::cmd::{args, by_shard, on_shards, CmdError, CmdResult, Ks, OpError, Session};
use crate::db::Map;
use crate::resp::Out;
use crate::types::zset::before;
use crate::types::{Set, Value, ZSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// What the command is: which operation, where its numkeys sits, whether it
/// stores or only counts, and its name for errors.
#[derive(Debug, Clone, Copy)]
struct Cmd {
    op: Op,
    name: &'static str,
    store: bool,
    card: bool,
}

impl Cmd {
    /// Index of the numkeys argument.
    fn numkeys_at(self) -> usize {
        if self.store {
            2
        } else {
            1
        }
    }
}

/// Options after the keys.
#[derive(Debug, Clone)]
struct Opts {
    weights: Vec<f64>,
    agg: Agg,
    withscores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: usize,
}

/// The source keys (Redis checks numkeys before looking anything up).
fn parse_keys(args: &[Bytes], cmd: Cmd) -> Result<&[Bytes], CmdError> {
    let at = cmd.numkeys_at();
    let n = args::int(&args[at])?;
    if n < 1 {
        return Err(CmdError::err(format_args!("at least 1 input key is needed for '{}' command", cmd.name)));
    }
    let avail = (args.len() - at - 1) as i64;
    if n > avail {
        return Err(CmdError::syntax());
    }
    Ok(&args[at + 1..at + 1 + n as usize])
}

/// The options after the keys (Redis reads them once the keys are looked up).
fn parse_opts(args: &[Bytes], cmd: Cmd, nkeys: usize) -> Result<Opts, CmdError> {
    let mut o = Opts { weights: vec![1.0; nkeys], agg: Agg::Sum, withscores: false, limit: 0 };
    let mut j = cmd.numkeys_at() + 1 + nkeys;
    let algebra = cmd.op != Op::Diff && !cmd.card;
    while j < args.len() {
        let left = args.len() - j;
        let a = &args[j];
        if algebra && left > nkeys && args::is(a, "weights") {
            for (i, w) in args[j + 1..j + 1 + nkeys].iter().enumerate() {
                o.weights[i] = string2d(w).ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + nkeys;
        } else if algebra && left >= 2 && args::is(a, "aggregate") {
            let v = &args[j + 1];
            o.agg = if args::is(v, "sum") {
                Agg::Sum
            } else if args::is(v, "min") {
                Agg::Min
            } else if args::is(v, "max") {
                Agg::Max
            } else {
                return Err(CmdError::syntax());
            };
            j += 2;
        } else if !cmd.store && !cmd.card && args::is(a, "withscores") {
            o.withscores = true;
            j += 1;
        } else if cmd.card && left >= 2 && args::is(a, "limit") {
            o.limit = args::range(&args[j + 1], 0, i64::MAX, Some("LIMIT can't be negative"))? as usize;
            j += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok(o)
}

/// A source: a sorted set, a set (members score 1) or a missing key.
#[derive(Clone, Copy)]
enum Src<'a> {
    None,
    Z(&'a ZSet),
    S(&'a Set),
}

impl<'a> Src<'a> {
    fn of(v: Option<&'a Value>) -> Result<Src<'a>, OpError> {
        match v {
            None => Ok(Src::None),
            Some(Value::ZSet(z)) => Ok(Src::Z(z)),
            Some(Value::Set(s)) => Ok(Src::S(s)),
            Some(_) => Err(OpError::WrongType),
        }
    }

    fn len(self) -> usize {
        match self {
            Src::None => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn each(self, mut f: impl FnMut(Cow<'a, [u8]>, f64)) {
        match self {
            Src::None => {}
            Src::Z(z) => z.iter().for_each(|(m, s)| f(Cow::Borrowed(m), s)),
            Src::S(s) => s.iter().for_each(|m| f(m, 1.0)),
        }
    }

    fn find(self, m: &[u8]) -> Option<f64> {
        match self {
            Src::None => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }
}

/// A weighted score; Redis turns the NaN of `0 * inf` into 0.
fn weigh(w: f64, s: f64) -> f64 {
    let v = w * s;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Redis's `zunionInterAggregate`.
fn aggregate(target: &mut f64, v: f64, agg: Agg) {
    match agg {
        Agg::Sum => {
            *target += v;
            // inf + -inf: Redis keeps the convention of 0.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Agg::Min => {
            if v < *target {
                *target = v
            }
        }
        Agg::Max => {
            if v > *target {
                *target = v
            }
        }
    }
}

/// Source positions sorted by size, stably, as Redis's qsort leaves them.
fn by_size(srcs: &[Src<'_>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..srcs.len()).collect();
    order.sort_by_key(|&i| srcs[i].len());
    order
}

/// Calls `f` with each member of the intersection and its combined score
/// until `f` returns false.
fn inter_each<'a>(srcs: &[Src<'a>], o: &Opts, mut f: impl FnMut(Cow<'a, [u8]>, f64) -> bool) {
    let order = by_size(srcs);
    let first = srcs[order[0]];
    let mut go = true;
    first.each(|m, s| {
        if !go {
            return;
        }
        let mut score = weigh(o.weights[order[0]], s);
        for &j in &order[1..] {
            match srcs[j].find(&m) {
                Some(v) => aggregate(&mut score, v * o.weights[j], o.agg),
                None => return,
            }
        }
        go = f(m, score);
    });
}

/// The result entries, sorted by score then member.
fn compute<'a>(op: Op, keys: &[Bytes], srcs: &[Src<'a>], o: &Opts) -> Vec<(Cow<'a, [u8]>, f64)> {
    let mut out: Vec<(Cow<'a, [u8]>, f64)> = Vec::new();
    match op {
        Op::Inter => inter_each(srcs, o, |m, s| {
            out.push((m, s));
            true
        }),
        Op::Union => {
            let mut acc: Map<Cow<'a, [u8]>, f64> = Map::default();
            for i in by_size(srcs) {
                let w = o.weights[i];
                srcs[i].each(|m, s| {
                    let v = weigh(w, s);
                    match acc.entry(m) {
                        MapEntry::Occupied(mut e) => aggregate(e.get_mut(), v, o.agg),
                        MapEntry::Vacant(e) => {
                            e.insert(v);
                        }
                    }
                });
            }
            out = acc.into_iter().collect();
        }
        Op::Diff => {
            // A later key naming the first one leaves nothing.
            if keys[1..].iter().all(|k| *k != keys[0]) {
                let others = &srcs[1..];
                srcs[0].each(|m, s| {
                    if others.iter().all(|x| x.find(&m).is_none()) {
                        out.push((m, s));
                    }
                });
            }
        }
    }
    out.sort_by(
        |a, b| {
            if before(a.1, &a.0, b.1, &b.0) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        },
    );
    out
}

/// The sources at `keys` on this shard, or WRONGTYPE at the first key of
/// another type (each key is looked up in order, as Redis does).
fn gather<'a>(ks: &'a mut Ks<'_>, keys: &[Bytes]) -> Result<Vec<Src<'a>>, OpError> {
    for k in keys {
        if let Some(e) = ks.read(k) {
            if e.is_obj() {
                Src::of(e.obj())?;
            } else {
                return Err(OpError::WrongType);
            }
        }
    }
    // Lazy expiry ran above: what the table holds now is live.
    let table = ks.db.table();
    Ok(keys.iter().map(|k| table.get(k).and_then(|e| Src::of(e.obj()).ok()).unwrap_or(Src::None)).collect())
}

/// An owned copy of a source, for the trip between shards.
enum Owned {
    None,
    Z(ZSet),
    S(Set),
}

impl Owned {
    fn src(&self) -> Src<'_> {
        match self {
            Owned::None => Src::None,
            Owned::Z(z) => Src::Z(z),
            Owned::S(s) => Src::S(s),
        }
    }
}

/// Owned copies of the sources at `keys`, fetched from their shards.
async fn fetch(s: &Session, keys: &[Bytes]) -> Result<Vec<Owned>, OpError> {
    let groups = by_shard(s, keys.iter().cloned().enumerate().map(|(i, k)| (k, i)));
    let found = on_shards(s, groups, |ks, items: Vec<(Bytes, usize)>| {
        let copy = |ks: &mut Ks<'_>, k: &[u8]| match ks.read(k) {
            None => Ok(Owned::None),
            Some(e) => match e.obj() {
                Some(Value::ZSet(z)) => Ok(Owned::Z(z.clone())),
                Some(Value::Set(s)) => Ok(Owned::S(s.clone())),
                _ => Err(OpError::WrongType),
            },
        };
        items.into_iter().map(|(k, i)| (i, copy(ks, &k))).collect::<Vec<_>>()
    })
    .await;
    let mut slots: Vec<Option<Result<Owned, OpError>>> = (0..keys.len()).map(|_| None).collect();
    for (i, r) in found.into_iter().flatten() {
        slots[i] = Some(r);
    }
    // The first key of another type, in key order, is the error.
    slots.into_iter().map(|r| r.unwrap_or(Ok(Owned::None))).collect()
}

/// Replies to the reading forms, or builds the result to store.
fn finish(cmd: Cmd, keys: &[Bytes], srcs: &[Src<'_>], o: &Opts, out: &mut Out) -> Option<Vec<(Vec<u8>, f64)>> {
    if cmd.card {
        let mut n = 0usize;
        if srcs.iter().all(|s| s.len() > 0) {
            inter_each(srcs, o, |_, _| {
                n += 1;
                o.limit == 0 || n < o.limit
            });
        }
        out.int(n as i64);
        return None;
    }
    let result = compute(cmd.op, keys, srcs, o);
    if cmd.store {
        return Some(result.into_iter().map(|(m, s)| (m.into_owned(), s)).collect());
    }
    let items: Vec<(&[u8], f64)> = result.iter().map(|(m, s)| (&m[..], *s)).collect();
    reply_entries(out, o.withscores, &items);
    None
}

fn local(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, cmd: Cmd) -> CmdResult {
    let keys = parse_keys(args, cmd)?;
    let lim = ks.limits;
    let srcs = gather(ks, keys)?;
    let o = parse_opts(args, cmd, keys.len())?;
    if let Some(result) = finish(cmd, keys, &srcs, &o, out) {
        drop(srcs);
        out.int(store(ks, &args[1], ZSet::from_sorted(&result, &lim), cmd.name) as i64);
    }
    Ok(())
}

async fn cross(s: &mut Session, args: &[Bytes], out: &mut Out, cmd: Cmd) -> CmdResult {
    let keys = parse_keys(args, cmd)?;
    let owned = fetch(s, keys).await?;
    let o = parse_opts(args, cmd, keys.len())?;
    let srcs: Vec<Src<'_>> = owned.iter().map(Owned::src).collect();
    if let Some(result) = finish(cmd, keys, &srcs, &o, out) {
        let dst = args[1].clone();
        let job = vec![(s.shard_of(&dst), (dst, result))];
        let event = cmd.name;
        let n = on_shards(s, job, move |ks, (dst, result): (Bytes, Vec<(Vec<u8>, f64)>)| {
            let lim = ks.limits;
            store(ks, &dst, ZSet::from_sorted(&result, &lim), event)
        })
        .await;
        out.int(n.into_iter().next().unwrap_or(0) as i64);
    }
    Ok(())
}

const ZUNION: Cmd = Cmd { op: Op::Union, name: "zunion", store: false, card: false };
const ZUNIONSTORE: Cmd = Cmd { op: Op::Union, name: "zunionstore", store: true, card: false };
const ZINTER: Cmd = Cmd { op: Op::Inter, name: "zinter", store: false, card: false };
const ZINTERSTORE: Cmd = Cmd { op: Op::Inter, name: "zinterstore", store: true, card: false };
const ZINTERCARD: Cmd = Cmd { op: Op::Inter, name: "zintercard", store: false, card: true };
const ZDIFF: Cmd = Cmd { op: Op::Diff, name: "zdiff", store: false, card: false };
const ZDIFFSTORE: Cmd = Cmd { op: Op::Diff, name: "zdiffstore", store: true, card: false };

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
/// [WITHSCORES] — O(N) + O(M log M).
pub(super) fn zunion(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, ZUNION)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...]
/// [AGGREGATE SUM|MIN|MAX] — O(N) + O(M log M).
pub(super) fn zunionstore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, ZUNIONSTORE)
}

/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
/// [WITHSCORES] — O(N*K) + O(M log M).
pub(super) fn zinter(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, ZINTER)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...]
/// [AGGREGATE SUM|MIN|MAX] — O(N*K) + O(M log M).
pub(super) fn zinterstore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, ZINTERSTORE)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit] — O(N*K).
pub(super) fn zintercard(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, ZINTERCARD)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES] — O(L + (N-K) log N).
pub(super) fn zdiff(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, ZDIFF)
}

/// ZDIFFSTORE destination numkeys key [key ...] — O(L + (N-K) log N).
pub(super) fn zdiffstore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, ZDIFFSTORE)
}

pub(super) async fn cross_zunion(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross(s, args, out, ZUNION).await
}

pub(super) async fn cross_zunionstore(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross(s, args, out, ZUNIONSTORE).await
}

pub(super) async fn cross_zinter(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross(s, args, out, ZINTER).await
}

pub(super) async fn cross_zinterstore(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross(s, args, out, ZINTERSTORE).await
}

pub(super) async fn cross_zintercard(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross(s, args, out, ZINTERCARD).await
}

pub(super) async fn cross_zdiff(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross(s, args, out, ZDIFF).await
}

pub(super) async fn cross_zdiffstore(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross(s, args, out, ZDIFFSTORE).await
}
