//! GEOADD, GEODIST, GEOHASH and GEOPOS.

use bytes::Bytes;

use super::{hash, lon_lat, reply_coord, reply_distance, unit};
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::zset::{AddFlags, Added};
use crate::types::{Value, ZSet};

/// GEOADD key [NX|XX] [CH] longitude latitude member [...] — O(log N) per
/// member. As Redis, it is ZADD of the members' geohash scores: the reply,
/// the "zadd" event and the encoding are ZADD's.
pub(super) fn geoadd(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut at = 2;
    while at < args.len() {
        let a = &args[at];
        if args::is(a, "nx") {
            nx = true;
        } else if args::is(a, "xx") {
            xx = true;
        } else if args::is(a, "ch") {
            ch = true;
        } else {
            break;
        }
        at += 1;
    }
    let rest = &args[at..];
    if !rest.len().is_multiple_of(3) || (nx && xx) {
        return Err(CmdError::syntax());
    }
    // Every point is checked before anything is added.
    let mut pairs = Vec::with_capacity(rest.len() / 3);
    for p in rest.chunks_exact(3) {
        let [lon, lat] = lon_lat(&p[..2])?;
        pairs.push((hash::score_of(lon, lat), &p[2][..]));
    }
    if pairs.is_empty() {
        // ZADD of no pairs: Redis's zadd refuses it as a syntax error.
        return Err(CmdError::syntax());
    }
    let key = &args[1];
    let lim = ks.limits;
    let flags = AddFlags { nx, xx, ..Default::default() };
    let (mut added, mut updated) = (0i64, 0i64);
    let mut apply = |z: &mut ZSet| {
        for &(score, member) in &pairs {
            match z.add(member, score, flags, &lim) {
                Ok(Added::New(_)) => added += 1,
                Ok(Added::Updated(_)) => updated += 1,
                _ => {}
            }
        }
    };
    match ks.write_as::<ZSet>(key)? {
        Some(z) => apply(z),
        None if xx => {}
        None => {
            let mut z = ZSet::new();
            apply(&mut z);
            if !z.is_empty() {
                ks.insert(Entry::new_obj(key, Value::ZSet(z), None));
            }
        }
    }
    if added + updated > 0 {
        ks.changed(class::ZSET, "zadd", key);
    }
    out.int(if ch { added + updated } else { added });
    Ok(())
}

/// GEODIST key member1 member2 [M|KM|FT|MI] — O(log N).
pub(super) fn geodist(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let to_meter = match args.len() {
        5 => unit(&args[4])?,
        n if n > 5 => return Err(CmdError::syntax()),
        _ => 1.0,
    };
    let Some(z) = ks.read_as::<ZSet>(&args[1])? else {
        out.null();
        return Ok(());
    };
    match (z.score(&args[2]), z.score(&args[3])) {
        (Some(s1), Some(s2)) => {
            let [x1, y1] = hash::decode_score(s1);
            let [x2, y2] = hash::decode_score(s2);
            reply_distance(out, hash::distance(x1, y1, x2, y2) / to_meter);
        }
        _ => out.null(),
    }
    Ok(())
}

/// GEOHASH key [member ...] — O(log N) per member: 11-character standard
/// geohashes, nil for missing members.
pub(super) fn geohash(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let z = ks.read_as::<ZSet>(&args[1])?;
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.bulk(&hash::standard_geohash(s)),
            None => out.null(),
        }
    }
    Ok(())
}

/// GEOPOS key [member ...] — O(log N) per member: `[longitude, latitude]`
/// pairs, a nil array for missing members.
pub(super) fn geopos(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let z = ks.read_as::<ZSet>(&args[1])?;
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => {
                let [lon, lat] = hash::decode_score(s);
                out.array(2);
                reply_coord(out, lon);
                reply_coord(out, lat);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}
