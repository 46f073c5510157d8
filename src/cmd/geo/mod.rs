//! Geo commands over sorted sets: GEOADD, GEODIST, GEOHASH, GEOPOS, the
//! GEORADIUS family and GEOSEARCH/GEOSEARCHSTORE.
//!
//! A geo member is a sorted-set member whose score is the 52-bit
//! interleaved geohash of its point, exactly as Redis stores it (`hash`
//! holds that arithmetic). The single-key commands live in `basic`; the
//! searches in `search`, which scans the nine cells Redis scans, in its
//! order, and sorts with Redis's own algorithms (SORT's `pqsort` for COUNT) so
//! replies match Redis's element for element.
//!
//! GEORADIUS and GEORADIUSBYMEMBER may STORE into a key named among their
//! options (Redis's movable keys), so they run as coordinators: the search
//! runs on the source's shard and the result is stored on the
//! destination's. GEOSEARCHSTORE names both keys up front: it runs on one
//! shard when they share it, and as a coordinator otherwise.

mod basic;
pub(crate) mod hash;
mod search;
#[cfg(test)]
mod tests;

use bytes::Bytes;

use super::string::ld::Ld;
use super::{CmdError, Handler};
use crate::resp::{Out, Proto};
use crate::{async_handler, on_shard};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("geoadd", Handler::Sync(on_shard!(basic::geoadd))),
    ("geodist", Handler::Sync(on_shard!(basic::geodist))),
    ("geohash", Handler::Sync(on_shard!(basic::geohash))),
    ("geopos", Handler::Sync(on_shard!(basic::geopos))),
    ("georadius", Handler::Async(async_handler!(search::cmd_georadius))),
    ("georadiusbymember", Handler::Async(async_handler!(search::cmd_georadiusbymember))),
    ("georadius_ro", Handler::Sync(on_shard!(search::georadius_ro))),
    ("georadiusbymember_ro", Handler::Sync(on_shard!(search::georadiusbymember_ro))),
    ("geosearch", Handler::Sync(on_shard!(search::geosearch))),
    (
        "geosearchstore",
        Handler::SyncCross(on_shard!(search::geosearchstore), async_handler!(search::cross_geosearchstore)),
    ),
];

/// Redis's `getDoubleFromObject` (`string2d`): the whole argument must be
/// one `strtod` number, without leading space, not NaN, and neither
/// overflowing to infinity nor underflowing to zero.
pub(crate) fn parse_double(arg: &[u8]) -> Option<f64> {
    super::zset::parse::string2d(arg)
}

/// A double exactly as an x87 long double.
fn f64_to_ld(v: f64) -> Ld {
    if v.is_nan() {
        return Ld::Nan;
    }
    let neg = v.is_sign_negative();
    if v.is_infinite() {
        return Ld::Inf { neg };
    }
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 { (frac, -1074) } else { (frac | (1 << 52), biased - 1075) };
    if m == 0 {
        return Ld::Finite { neg, mant: 0, exp: 0 };
    }
    let lz = m.leading_zeros();
    Ld::Finite { neg, mant: m << lz, exp: e - lz as i64 }
}

/// Redis's `addReplyHumanLongDouble` of a double: `%.17Lf` trimmed, as a
/// bulk string in RESP2 and a RESP3 double.
fn reply_coord(out: &mut Out, v: f64) {
    let text = super::string::ld::format_human(f64_to_ld(v));
    match out.proto {
        Proto::Resp2 => out.bulk(&text),
        Proto::Resp3 => {
            out.raw(b",");
            out.raw(&text);
            out.raw(b"\r\n");
        }
    }
}

/// Redis's `addReplyDoubleDistance`: `%.4f` as a bulk string.
fn reply_distance(out: &mut Out, d: f64) {
    out.bulk(format!("{d:.4}").as_bytes());
}

/// Redis's `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    let a = super::args::is;
    if a(arg, "m") {
        Ok(1.0)
    } else if a(arg, "km") {
        Ok(1000.0)
    } else if a(arg, "ft") {
        Ok(0.3048)
    } else if a(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(CmdError::err("unsupported unit provided. please use M, KM, FT, MI"))
    }
}

/// A float argument (`msg`, or "value is not a valid float").
fn double_arg(arg: &[u8], msg: Option<&'static str>) -> Result<f64, CmdError> {
    parse_double(arg).ok_or_else(|| CmdError::err(msg.unwrap_or("value is not a valid float")))
}

/// Redis's `extractLongLatOrReply`: a longitude and a latitude in range.
fn lon_lat(args: &[Bytes]) -> Result<[f64; 2], CmdError> {
    let lon = double_arg(&args[0], None)?;
    let lat = double_arg(&args[1], None)?;
    if !(hash::LONG_MIN..=hash::LONG_MAX).contains(&lon) || !(hash::LAT_MIN..=hash::LAT_MAX).contains(&lat) {
        return Err(CmdError::err(format_args!("invalid longitude,latitude pair {lon:.6},{lat:.6}")));
    }
    Ok([lon, lat])
}
