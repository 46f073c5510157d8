//! Geo commands over sorted sets: GEOADD, GEODIST, GEOHASH, GEOPOS, the
//! GEORADIUS family and GEOSEARCH/GEOSEARCHSTORE.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
