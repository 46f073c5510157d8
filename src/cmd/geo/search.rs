//! GEORADIUS, GEORADIUSBYMEMBER, their _RO forms, GEOSEARCH and
//! GEOSEARCHSTORE: one parser and one search, as Redis's
//! `georadiusGeneric`, with its errors in its order.
//!
//! The search scans the score ranges of the nine cells Redis computes for
//! the shape (`hash::Shape::areas`), in Redis's order, keeping the points
//! inside the shape; without ASC/DESC the reply is in that scan order.
//! Sorting is Redis's: a stable sort for the whole result, `pqsort` when
//! COUNT asks for fewer, so ties between equal distances fall as in Redis.

use std::cmp::Ordering;

use bytes::Bytes;

use super::hash::{self, Kind, Shape};
use super::{double_arg, lon_lat, reply_coord, reply_distance, unit};
use crate::cmd::sort::plan::pqsort;
use crate::cmd::{args, on_shards, CmdError, CmdResult, Ks, Session};
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::zset::ScoreRange;
use crate::types::{Value, ZSet};

/// Which command is parsing (Redis's `RADIUS_*` / `GEOSEARCH*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// GEORADIUS[_RO]: around a longitude and latitude.
    Coords { store: bool },
    /// GEORADIUSBYMEMBER[_RO]: around a member.
    Member { store: bool },
    /// GEOSEARCH, or GEOSEARCHSTORE (`store`).
    Search { store: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A point found inside the shape.
struct Point {
    member: Vec<u8>,
    xy: [f64; 2],
    /// Meters from the centre.
    dist: f64,
    score: f64,
}

/// What a store form leaves to do on the destination's shard.
pub(super) struct Store {
    dst: Bytes,
    /// `(member, score)` to store; `None` when the source does not exist.
    items: Option<Vec<(Vec<u8>, f64)>>,
    event: &'static str,
}

/// The outcome of a search: the reply is written, or a result to store.
enum Found {
    Replied,
    Store(Store),
}

/// Redis's `extractDistanceOrReply`: a radius and its unit.
fn radius_arg(args: &[Bytes]) -> Result<(f64, f64), CmdError> {
    let r = double_arg(&args[0], Some("need numeric radius"))?;
    if r < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((r, unit(&args[1])?))
}

/// Redis's `extractBoxOrReply`: width, height and their unit.
fn box_arg(args: &[Bytes]) -> Result<(f64, f64, f64), CmdError> {
    let w = double_arg(&args[0], Some("need numeric width"))?;
    let h = double_arg(&args[1], Some("need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((w, h, unit(&args[2])?))
}

fn member_xy(z: &ZSet, member: &[u8]) -> Result<[f64; 2], CmdError> {
    z.score(member).map(hash::decode_score).ok_or_else(|| CmdError::err("could not decode requested zset member"))
}

/// Redis's `sort_gp_asc`.
fn asc(a: &Point, b: &Point) -> Ordering {
    if a.dist > b.dist {
        Ordering::Greater
    } else if a.dist == b.dist {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

fn desc(a: &Point, b: &Point) -> Ordering {
    asc(a, b).reverse()
}

/// Redis's `geoGetPointsInRange` over one cell: scores `min <= s < max`,
/// stopping once `limit` (nonzero) points were found.
fn scan_cell(z: &ZSet, cell: hash::Bits, shape: &Shape, points: &mut Vec<Point>, limit: usize) {
    let (min, max) = hash::score_span(cell);
    let range = ScoreRange { min, max, minex: false, maxex: true };
    let Some(first) = z.first_in_score(&range) else { return };
    for (member, score) in z.range(first, false) {
        if score >= max {
            break;
        }
        let xy = hash::decode_score(score);
        if let Some(dist) = shape.contains(xy) {
            points.push(Point { member: member.to_vec(), xy, dist, score });
        }
        if limit > 0 && points.len() >= limit {
            break;
        }
    }
}

/// Redis's `membersOfAllNeighbors`: the cells in order, skipping dropped
/// ones and a cell equal to the last one scanned (large radii make
/// neighbours coincide).
fn scan(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = shape.areas();
    let mut points = Vec::new();
    let mut last = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // As Redis, the centre cell (index 0) never counts as "last".
        if last != 0 && *cell == cells[last] {
            continue;
        }
        if !points.is_empty() && limit > 0 && points.len() >= limit {
            break;
        }
        scan_cell(z, *cell, shape, &mut points, limit);
        last = i;
    }
    points
}

/// Redis's `georadiusGeneric` up to the reply or the result to store.
/// `src` is the index of the source key.
fn run(ks: &mut Ks<'_>, args: &[Bytes], src: usize, mode: Mode, out: &mut Out) -> Result<Found, CmdError> {
    let z = ks.read_as::<ZSet>(&args[src])?;
    let mut xy = [0.0, 0.0];
    let mut kind = Kind::Circle { radius: 0.0 };
    let mut conversion = 0.0;
    let mut store: Option<Bytes> = None;
    let mut storedist = false;
    let base = match mode {
        Mode::Coords { .. } => {
            xy = lon_lat(&args[2..4])?;
            let (radius, conv) = radius_arg(&args[4..6])?;
            (kind, conversion) = (Kind::Circle { radius }, conv);
            6
        }
        Mode::Member { .. } => {
            // Without a source only the options are parsed, for the reply's kind.
            if let Some(z) = z {
                xy = member_xy(z, &args[2])?;
                let (radius, conv) = radius_arg(&args[3..5])?;
                (kind, conversion) = (Kind::Circle { radius }, conv);
            }
            5
        }
        Mode::Search { store: false } => 2,
        Mode::Search { store: true } => {
            store = Some(args[1].clone());
            3
        }
    };
    let (search, search_store, may_store) = match mode {
        Mode::Search { store } => (true, store, false),
        Mode::Coords { store } | Mode::Member { store } => (false, false, store),
    };
    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let remaining = args.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let at = base + i;
        let a = &args[at];
        if args::is(a, "withdist") {
            withdist = true;
        } else if args::is(a, "withhash") {
            withhash = true;
        } else if args::is(a, "withcoord") {
            withcoords = true;
        } else if args::is(a, "any") {
            any = true;
        } else if args::is(a, "asc") {
            sort = Sort::Asc;
        } else if args::is(a, "desc") {
            sort = Sort::Desc;
        } else if args::is(a, "count") && i + 1 < remaining {
            count = args::int(&args[at + 1])?;
            if count <= 0 {
                return Err(CmdError::err("COUNT must be > 0"));
            }
            i += 1;
        } else if (args::is(a, "store") || args::is(a, "storedist")) && i + 1 < remaining && may_store {
            store = Some(args[at + 1].clone());
            storedist = args::is(a, "storedist");
            i += 1;
        } else if args::is(a, "storedist") && search_store {
            storedist = true;
        } else if args::is(a, "frommember") && i + 1 < remaining && search && !fromloc {
            if let Some(z) = z {
                xy = member_xy(z, &args[at + 1])?;
            }
            frommember = true;
            i += 1;
        } else if args::is(a, "fromlonlat") && i + 2 < remaining && search && !frommember {
            xy = lon_lat(&args[at + 1..at + 3])?;
            fromloc = true;
            i += 2;
        } else if args::is(a, "byradius") && i + 2 < remaining && search && !bybox {
            let (radius, conv) = radius_arg(&args[at + 1..at + 3])?;
            (kind, conversion) = (Kind::Circle { radius }, conv);
            byradius = true;
            i += 2;
        } else if args::is(a, "bybox") && i + 3 < remaining && search && !byradius {
            let (width, height, conv) = box_arg(&args[at + 1..at + 4])?;
            (kind, conversion) = (Kind::Box { width, height }, conv);
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoords) {
        let what = if search_store { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(CmdError::err(format_args!(
            "{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = || String::from_utf8_lossy(&args[0]).into_owned();
    if search && !(frommember || fromloc) {
        return Err(CmdError::err(format_args!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            name()
        )));
    }
    if search && !(byradius || bybox) {
        return Err(CmdError::err(format_args!("exactly one of BYRADIUS and BYBOX can be specified for {}", name())));
    }
    if any && count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }
    let event = if search { "geosearchstore" } else { "georadiusstore" };
    let Some(z) = z else {
        return Ok(match store {
            Some(dst) => Found::Store(Store { dst, items: None, event }),
            None => {
                out.array(0);
                Found::Replied
            }
        });
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape { kind, xy, conversion };
    let limit = if any { count as usize } else { 0 };
    let mut points = scan(z, &shape, limit);
    if points.is_empty() && store.is_none() {
        out.array(0);
        return Ok(Found::Replied);
    }
    let total = points.len();
    let returned = if count == 0 || (total as i64) < count { total } else { count as usize };
    let cmp: fn(&Point, &Point) -> Ordering = match sort {
        Sort::None => |_, _| Ordering::Equal,
        Sort::Asc => asc,
        Sort::Desc => desc,
    };
    if sort != Sort::None {
        if returned == total {
            // glibc's qsort is a stable merge sort for arrays this size.
            points.sort_by(cmp);
        } else {
            pqsort(&mut points, &cmp, 0, returned as i64 - 1);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }
    if let Some(dst) = store {
        let items = points.into_iter().map(|p| (p.member, if storedist { p.dist } else { p.score })).collect();
        return Ok(Found::Store(Store { dst, items: Some(items), event }));
    }
    let options = withdist as usize + withhash as usize + withcoords as usize;
    out.array(points.len());
    for p in &points {
        if options > 0 {
            out.array(options + 1);
        }
        out.bulk(&p.member);
        if withdist {
            reply_distance(out, p.dist);
        }
        if withhash {
            out.int(p.score as i64);
        }
        if withcoords {
            out.array(2);
            reply_coord(out, p.xy[0]);
            reply_coord(out, p.xy[1]);
        }
    }
    Ok(Found::Replied)
}

/// Stores a search result at `dst` as a new sorted set (no TTL), or
/// deletes `dst` when there is nothing to store. Returns the stored size.
fn store(ks: &mut Ks<'_>, st: Store) -> usize {
    let Store { dst, items, event } = st;
    let mut items = items.unwrap_or_default();
    if items.is_empty() {
        if ks.remove(&dst).is_some() {
            ks.changed(class::GENERIC, "del", &dst);
        }
        return 0;
    }
    items.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
    let z = ZSet::from_sorted(&items, &ks.limits);
    // A lazily expired destination counts as Redis's lookupKeyWrite counts it.
    ks.db.expire_if_needed(&dst, ks.clock, ks.stats);
    ks.insert(Entry::new_obj(&dst, Value::ZSet(z), None));
    ks.changed(class::ZSET, event, &dst);
    items.len()
}

/// A search whose keys are all on this shard.
fn local(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out, src: usize, mode: Mode) -> CmdResult {
    if let Found::Store(st) = run(ks, args, src, mode, out)? {
        let n = store(ks, st);
        out.int(n as i64);
    }
    Ok(())
}

/// A search run from the connection's shard: the search on the source's
/// shard (storing there too when the destination is on it), then, for a
/// destination elsewhere, the store on the destination's shard.
async fn coordinate(s: &mut Session, args: &[Bytes], out: &mut Out, src: usize, mode: Mode) -> CmdResult {
    let nshards = s.core.nshards;
    let shard = s.shard_of(&args[src]);
    let proto = out.proto;
    let job = vec![(shard, args.to_vec())];
    let ran = on_shards(s, job, move |ks, args: Vec<Bytes>| -> Result<(Vec<u8>, Option<Store>), CmdError> {
        let mut o = Out::new(proto);
        match run(ks, &args, src, mode, &mut o)? {
            Found::Replied => Ok((o.buf.to_vec(), None)),
            Found::Store(st) if crate::shard::key_shard(&st.dst, nshards) == shard => {
                o.int(store(ks, st) as i64);
                Ok((o.buf.to_vec(), None))
            }
            Found::Store(st) => Ok((Vec::new(), Some(st))),
        }
    })
    .await;
    let (reply, rest) = ran.into_iter().next().unwrap_or_else(|| Ok((Vec::new(), None)))?;
    out.raw(&reply);
    if let Some(st) = rest {
        let job = vec![(s.shard_of(&st.dst), st)];
        let n = on_shards(s, job, store).await;
        out.int(n.into_iter().next().unwrap_or(0) as i64);
    }
    Ok(())
}

/// GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
/// [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key] —
/// O(N+log(M)): N points in the cells scanned, M members.
pub(super) async fn cmd_georadius(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    coordinate(s, args, out, 1, Mode::Coords { store: true }).await
}

/// GEORADIUSBYMEMBER key member radius M|KM|FT|MI [options as GEORADIUS] —
/// O(N+log(M)).
pub(super) async fn cmd_georadiusbymember(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    coordinate(s, args, out, 1, Mode::Member { store: true }).await
}

/// GEORADIUS_RO key longitude latitude radius unit [options without STORE]
/// — O(N+log(M)).
pub(super) fn georadius_ro(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, 1, Mode::Coords { store: false })
}

/// GEORADIUSBYMEMBER_RO key member radius unit [options without STORE] —
/// O(N+log(M)).
pub(super) fn georadiusbymember_ro(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, 1, Mode::Member { store: false })
}

/// GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude
/// BYRADIUS radius unit|BYBOX width height unit [ASC|DESC] [COUNT count
/// [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] — O(N+log(M)).
pub(super) fn geosearch(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, 1, Mode::Search { store: false })
}

/// GEOSEARCHSTORE destination source FROMMEMBER|FROMLONLAT ...
/// BYRADIUS|BYBOX ... [ASC|DESC] [COUNT count [ANY]] [STOREDIST] —
/// O(N+log(M)).
pub(super) fn geosearchstore(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    local(ks, args, out, 2, Mode::Search { store: true })
}

/// GEOSEARCHSTORE with source and destination on different shards.
pub(super) async fn cross_geosearchstore(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    coordinate(s, args, out, 2, Mode::Search { store: true }).await
}
