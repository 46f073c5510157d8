//! Unit tests of the geohash arithmetic and the geo commands on a bare
//! database. Expected values are redis-server 7.0's replies.

use super::basic::*;
use super::hash::{self, Bits, Kind, Shape};
use super::search::*;
use super::{f64_to_ld, parse_double};
use crate::cmd::string::ld;
use crate::cmd::test_util::TestDb;
use crate::db::{Entry, StrEncoding};
use crate::resp::Proto;

fn text(reply: &str) -> String {
    reply.replace("\r\n", " ").trim_end().to_string()
}

/// Runs a handler; `args` leave out the command name.
fn run(t: &mut TestDb, f: crate::cmd::test_util::KsFn, args: &[&str]) -> String {
    let mut argv = vec!["cmd"];
    argv.extend_from_slice(args);
    text(&t.run(f, &argv))
}

const PALERMO: f64 = 3479099956230698.0;
const CATANIA: f64 = 3479447370796909.0;

#[test]
fn encodes_and_decodes_as_redis() {
    assert_eq!(hash::score_of(13.361389, 38.115556), PALERMO);
    assert_eq!(hash::score_of(15.087269, 37.502669), CATANIA);
    assert_eq!(hash::score_of(179.9999, 0.0), 4128299658422434.0);
    assert_eq!(hash::score_of(-180.0, -85.05112878), 0.0);
    // The top corner overflows 52 bits, as in Redis.
    assert_eq!(hash::score_of(180.0, 85.05112878), 13510798882111488.0);
    let [lon, lat] = hash::decode_score(PALERMO);
    let human = |v: f64| String::from_utf8(ld::format_human(f64_to_ld(v))).unwrap();
    assert_eq!(human(lon), "13.36138933897018433");
    assert_eq!(human(lat), "38.11555639549629859");
    let [lon, lat] = hash::decode_score(4128299658422434.0);
    assert_eq!((human(lon).as_str(), human(lat).as_str()), ("179.99990075826644897", "0.00000126736058093"));
    // Scores no GEOADD writes decode as C's (uint64_t) cast makes them.
    let pos = |s: f64| hash::decode_score(s).map(human);
    assert_eq!(pos(-1.0), ["180".to_string(), "85.0511287799999991".to_string()]);
    assert_eq!(pos(1e300), ["-179.99999731779098511".to_string(), "-85.05112751263942528".to_string()]);
    assert_eq!(pos(f64::INFINITY), pos(1e300));
    assert_eq!(pos(f64::NEG_INFINITY), ["180".to_string(), "-85.05112751263942528".to_string()]);
    assert_eq!(hash::score_bits(-1.0), u64::MAX);
    assert_eq!(hash::score_bits(f64::NEG_INFINITY), 1 << 63);
    assert_eq!(hash::score_bits(1e300), 0);
    assert_eq!(hash::score_bits(1e19), 10_000_000_000_000_000_000);
}

#[test]
fn standard_geohash_strings() {
    let g = |s: f64| String::from_utf8(hash::standard_geohash(s).to_vec()).unwrap();
    assert_eq!(g(PALERMO), "sqc8b49rny0");
    assert_eq!(g(hash::score_of(179.9999, 0.0)), "xbpbpbpbj80");
    assert_eq!(g(hash::score_of(-179.9999, 0.0)), "80000000420");
    assert_eq!(g(hash::score_of(0.0, 85.0)), "up0581b0bh0");
    assert_eq!(g(hash::score_of(90.0, -85.0)), "n0bh2n0p050");
    assert_eq!(g(0.0), "00bh0hbj200");
    assert_eq!(g(-1.0), "bp05b5048p0");
}

#[test]
fn neighbours_move_one_cell() {
    let h = hash::encode_wgs84(13.361389, 38.115556, 10).unwrap();
    let n = hash::neighbors(h);
    let area = |b: Bits| {
        let r = hash::Range { min: -180.0, max: 180.0 };
        let l = hash::Range { min: hash::LAT_MIN, max: hash::LAT_MAX };
        hash::decode(r, l, b).unwrap()
    };
    let c = area(h);
    assert_eq!(area(n.east).longitude.min, c.longitude.max);
    assert_eq!(area(n.west).longitude.max, c.longitude.min);
    assert_eq!(area(n.north).latitude.min, c.latitude.max);
    assert_eq!(area(n.south).latitude.max, c.latitude.min);
    assert_eq!(area(n.north_east).latitude.min, c.latitude.max);
    assert_eq!(area(n.north_east).longitude.min, c.longitude.max);
    assert_eq!(area(n.south_west).latitude.max, c.latitude.min);
    assert_eq!(area(n.south_west).longitude.max, c.longitude.min);
    // Moving east from the last column wraps to the first, as in Redis.
    let edge = hash::encode_wgs84(179.9, 0.0, 4).unwrap();
    assert_eq!(area(hash::neighbors(edge).east).longitude.min, -180.0);
    assert_eq!(hash::estimate_steps(0.0, 0.0), 26);
    assert_eq!(hash::estimate_steps(200_000.0, 0.0), 6);
    assert_eq!(hash::estimate_steps(200_000.0, 70.0), 5);
    assert_eq!(hash::estimate_steps(200_000.0, -81.0), 4);
    assert_eq!(hash::estimate_steps(f64::INFINITY, 0.0), 1);
}

#[test]
fn distances_at_poles_and_antimeridian() {
    // Each against redis-server 7.0's GEODIST of the same GEOADDed points.
    let d = |a: (f64, f64), b: (f64, f64), unit: f64| {
        let [x1, y1] = hash::decode_score(hash::score_of(a.0, a.1));
        let [x2, y2] = hash::decode_score(hash::score_of(b.0, b.1));
        format!("{:.4}", hash::distance(x1, y1, x2, y2) / unit)
    };
    assert_eq!(d((179.9999, 0.0), (-179.9999, 0.0), 1.0), "22.0766");
    assert_eq!(d((0.0, 85.0), (180.0, 85.0), 1000.0), "1112.2631");
    assert_eq!(d((0.0, -85.0), (90.0, -85.0), 1609.34), "488.3921");
    assert_eq!(d((179.9999, 0.0), (-180.0, -85.05112878), 0.3048), "31036490.6989");
    assert_eq!(d((0.0, 85.0), (0.0, -85.0), 1000.0), "18908.4709");
    assert_eq!(d((13.361389, 38.115556), (15.087269, 37.502669), 1.0), "166274.1516");
}

#[test]
fn search_cells_and_shapes() {
    let shape = Shape { kind: Kind::Circle { radius: 200.0 }, xy: [15.0, 37.0], conversion: 1000.0 };
    let cells = shape.areas();
    assert!(!cells[0].is_zero());
    let (min, max) = hash::score_span(cells[0]);
    assert!(min < max);
    assert!(shape.contains(hash::decode_score(CATANIA)).is_some());
    let b = Shape { kind: Kind::Box { width: 400.0, height: 400.0 }, xy: [15.0, 37.0], conversion: 1000.0 };
    assert!(b.contains(hash::decode_score(PALERMO)).is_some());
    let small = Shape { kind: Kind::Box { width: 100.0, height: 400.0 }, xy: [15.0, 37.0], conversion: 1000.0 };
    assert!(small.contains(hash::decode_score(PALERMO)).is_none());
}

#[test]
fn doubles_as_redis_reads_them() {
    assert_eq!(parse_double(b"1.5"), Some(1.5));
    assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_double(b"0x10"), Some(16.0));
    assert_eq!(parse_double(b"0x1p-2"), Some(0.25));
    assert_eq!(parse_double(b".5"), Some(0.5));
    assert_eq!(parse_double(b"0e10"), Some(0.0));
    for bad in ["1e400", "1e-400", "nan", " 1", "1 ", "", ".", "1e", "abc", "0x", "+"] {
        assert_eq!(parse_double(bad.as_bytes()), None, "{bad:?}");
    }
}

fn sicily(t: &mut TestDb) {
    run(t, geoadd, &["Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]);
}

#[test]
fn geoadd_options_and_errors() {
    let mut t = TestDb::notifying();
    assert_eq!(run(&mut t, geoadd, &["k", "13.361389", "38.115556", "Palermo"]), ":1");
    assert_eq!(t.events(), ["new k", "zadd k"]);
    assert_eq!(run(&mut t, geoadd, &["k", "nx", "1", "1", "Palermo"]), ":0");
    assert_eq!(run(&mut t, geoadd, &["k", "xx", "ch", "1", "1", "Palermo", "2", "2", "x"]), ":1");
    assert_eq!(run(&mut t, geoadd, &["k", "ch", "1", "1", "Palermo"]), ":0");
    assert_eq!(t.events(), ["zadd k"]);
    assert_eq!(run(&mut t, geoadd, &["nokey", "xx", "1", "1", "a"]), ":0");
    assert_eq!(run(&mut t, geoadd, &["k", "nx", "xx", "1", "1", "a"]), "-ERR syntax error");
    assert_eq!(run(&mut t, geoadd, &["k", "1", "1", "a", "2"]), "-ERR syntax error");
    assert_eq!(run(&mut t, geoadd, &["k", "nx", "ch", "ch"]), "-ERR syntax error");
    assert_eq!(
        run(&mut t, geoadd, &["k", "0.0078125", "91", "a"]),
        "-ERR invalid longitude,latitude pair 0.007812,91.000000"
    );
    assert_eq!(run(&mut t, geoadd, &["k", "1", "x", "a"]), "-ERR value is not a valid float");
    t.db.insert(Entry::new_string(b"s", b"v", StrEncoding::for_value(b"v"), None));
    assert!(run(&mut t, geoadd, &["s", "1", "1", "a"]).starts_with("-WRONGTYPE"));
    // Coordinates are checked before the key's type.
    assert!(run(&mut t, geoadd, &["s", "1", "100", "a"]).starts_with("-ERR invalid"));
}

#[test]
fn geodist_geohash_geopos() {
    let mut t = TestDb::default();
    sicily(&mut t);
    assert_eq!(run(&mut t, geodist, &["Sicily", "Palermo", "Catania"]), "$11 166274.1516");
    assert_eq!(run(&mut t, geodist, &["Sicily", "Palermo", "Catania", "KM"]), "$8 166.2742");
    assert_eq!(run(&mut t, geodist, &["Sicily", "Palermo", "Catania", "mi"]), "$8 103.3182");
    assert_eq!(run(&mut t, geodist, &["Sicily", "Palermo", "x"]), "$-1");
    assert_eq!(run(&mut t, geodist, &["nokey", "Palermo", "x"]), "$-1");
    assert_eq!(
        run(&mut t, geodist, &["nokey", "a", "b", "yd"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI"
    );
    assert_eq!(run(&mut t, geodist, &["nokey", "a", "b", "m", "x"]), "-ERR syntax error");
    assert_eq!(run(&mut t, geohash, &["Sicily", "Palermo", "x"]), "*2 $11 sqc8b49rny0 $-1");
    assert_eq!(run(&mut t, geohash, &["nokey", "x"]), "*1 $-1");
    assert_eq!(
        run(&mut t, geopos, &["Sicily", "Palermo", "x"]),
        "*2 *2 $20 13.36138933897018433 $20 38.11555639549629859 *-1"
    );
    t.proto = Proto::Resp3;
    assert_eq!(run(&mut t, geopos, &["Sicily", "Palermo", "x"]), "*2 *2 ,13.36138933897018433 ,38.11555639549629859 _");
    assert_eq!(run(&mut t, geodist, &["nokey", "Palermo", "x"]), "_");
}

#[test]
fn searches_reply_as_redis() {
    let mut t = TestDb::default();
    sicily(&mut t);
    assert_eq!(
        run(&mut t, geosearch, &["Sicily", "fromlonlat", "15", "37", "byradius", "200", "km", "asc", "withdist"]),
        "*2 *2 $7 Catania $7 56.4413 *2 $7 Palermo $8 190.4424"
    );
    assert_eq!(
        run(&mut t, georadius_ro, &["Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"]),
        "*2 *4 $7 Palermo $8 190.4424 :3479099956230698 *2 $20 13.36138933897018433 $20 38.11555639549629859 \
         *4 $7 Catania $7 56.4413 :3479447370796909 *2 $20 15.08726745843887329 $20 37.50266842333162032"
    );
    assert_eq!(
        run(&mut t, georadiusbymember_ro, &["Sicily", "Palermo", "200", "km", "desc", "count", "1"]),
        "*1 $7 Catania"
    );
    assert_eq!(
        run(&mut t, geosearch, &["Sicily", "frommember", "Palermo", "bybox", "400", "400", "km", "count", "1", "any"]),
        "*1 $7 Palermo"
    );
    assert_eq!(run(&mut t, geosearch, &["nokey", "frommember", "x", "byradius", "1", "m"]), "*0");
    assert_eq!(run(&mut t, georadiusbymember_ro, &["nokey", "x", "-1", "m"]), "*0");
}

#[test]
fn search_errors_in_redis_order() {
    let mut t = TestDb::default();
    sicily(&mut t);
    let cases: &[(&[&str], &str)] = &[
        (&["Sicily", "frommember", "x", "byradius", "1", "km"], "-ERR could not decode requested zset member"),
        (&["Sicily", "fromlonlat", "1", "1", "byradius", "1", "km", "bybox", "1", "1", "km"], "-ERR syntax error"),
        (&["Sicily", "fromlonlat", "1", "1", "byradius", "1", "km", "store", "x"], "-ERR syntax error"),
        (&["Sicily", "fromlonlat", "1", "1", "byradius", "1", "km", "storedist"], "-ERR syntax error"),
        (&["Sicily", "fromlonlat", "1", "1", "byradius", "1", "km", "count", "0"], "-ERR COUNT must be > 0"),
        (
            &["Sicily", "fromlonlat", "1", "1", "byradius", "1", "km", "any"],
            "-ERR the ANY argument requires COUNT argument",
        ),
        (&["Sicily", "fromlonlat", "1", "1", "byradius", "-1", "km"], "-ERR radius cannot be negative"),
        (&["Sicily", "fromlonlat", "1", "1", "byradius", "x", "km"], "-ERR need numeric radius"),
        (&["Sicily", "fromlonlat", "1", "1", "bybox", "1", "-1", "km"], "-ERR height or width cannot be negative"),
        (&["Sicily", "fromlonlat", "1", "1", "bybox", "1", "x", "km"], "-ERR need numeric height"),
        (
            &["Sicily", "fromlonlat", "1", "1", "bybox", "1", "1", "xx"],
            "-ERR unsupported unit provided. please use M, KM, FT, MI",
        ),
        (
            &["Sicily", "fromlonlat", "1", "1", "withdist", "count", "1"],
            "-ERR exactly one of BYRADIUS and BYBOX can be specified for GeoSearch",
        ),
        (
            &["Sicily", "byradius", "1", "m", "asc", "desc"],
            "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch",
        ),
    ];
    for (a, want) in cases {
        let mut args = vec!["GeoSearch"];
        args.extend_from_slice(a);
        let reply = {
            let argv = crate::cmd::test_util::b(&args);
            let mut ks = t.ks();
            let mut out = crate::resp::Out::new(Proto::Resp2);
            if let Err(e) = geosearch(&mut ks, &argv, &mut out) {
                out.error(&e.0);
            }
            text(&String::from_utf8_lossy(&out.buf))
        };
        assert_eq!(&reply, want, "{a:?}");
    }
    assert_eq!(
        run(&mut t, geosearchstore, &["d", "Sicily", "fromlonlat", "1", "1", "byradius", "1", "km", "withcoord"]),
        "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    );
    assert_eq!(run(&mut t, georadius_ro, &["Sicily", "1", "1", "1", "km", "store", "x"]), "-ERR syntax error");
}

#[test]
fn geosearchstore_stores_and_deletes() {
    let mut t = TestDb::notifying();
    sicily(&mut t);
    t.events();
    let args = ["d", "Sicily", "fromlonlat", "15", "37", "byradius", "200", "km", "asc", "count", "1"];
    assert_eq!(run(&mut t, geosearchstore, &args), ":1");
    assert_eq!(t.events(), ["new d", "geosearchstore d"]);
    let mut dist = args.to_vec();
    dist.push("storedist");
    assert_eq!(run(&mut t, geosearchstore, &dist), ":1");
    assert_eq!(t.encoding("d"), Some("listpack"));
    assert_eq!(run(&mut t, geosearchstore, &["d", "nokey", "fromlonlat", "15", "37", "byradius", "1", "km"]), ":0");
    assert_eq!(t.events(), ["geosearchstore d", "keymiss nokey", "del d"]);
    assert!(t.db.table().get(b"d").is_none());
}
