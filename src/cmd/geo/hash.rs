//! Redis's geohash arithmetic, bit for bit: the 52-bit interleaved hash a
//! geo member's score holds (26 steps of longitude and latitude each, over
//! ±180 and the Mercator limits ±85.05112878), its decoding to the centre of
//! its cell, the neighbours of a cell, the nine cells that cover a search
//! shape (with Redis's step estimate and its edge fixes), and the haversine
//! distance on Redis's earth radius. Every operation is done in the same
//! order as Redis's C so that results agree to the last bit.

/// Steps of a stored score: 26 bits of longitude and 26 of latitude.
pub const STEP_MAX: u8 = 26;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;

/// Redis's `EARTH_RADIUS_IN_METERS`.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
/// Redis's `MERCATOR_MAX`, half the equator.
const MERCATOR_MAX: f64 = 20037726.37;
/// Redis's `D_R` (`M_PI / 180.0`).
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A cell: `step` bits of each coordinate, interleaved into `bits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bits {
    pub bits: u64,
    pub step: u8,
}

impl Bits {
    /// Redis's `HASHISZERO`: a cell the area computation dropped.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The bounds of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

const WGS84_LONG: Range = Range { min: LONG_MIN, max: LONG_MAX };
const WGS84_LAT: Range = Range { min: LAT_MIN, max: LAT_MAX };

/// Interleaves the low 32 bits of `x` (even bits) and `y` (odd bits).
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (xlo as u64, ylo as u64);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of [`interleave64`]: even bits in the low half, odd bits in
/// the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (interleaved, interleaved >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// Redis's `geohashEncode`: `None` outside the WGS84 limits or the ranges.
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<Bits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    Some(Bits { bits: interleave64(lat_offset as u32, long_offset as u32), step })
}

/// Redis's `geohashEncodeWGS84`.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<Bits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// Redis's `geohashDecode`: the bounds of a cell.
pub fn decode(long_range: Range, lat_range: Range, hash: Bits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let step = hash.step as u32;
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    // `ilato + 1` wraps in 32 bits, as in Redis.
    let cells = (1u64 << step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (ilato as f64 * 1.0 / cells) * lat_scale,
            max: lat_range.min + (ilato.wrapping_add(1) as f64 * 1.0 / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (ilono as f64 * 1.0 / cells) * long_scale,
            max: long_range.min + (ilono.wrapping_add(1) as f64 * 1.0 / cells) * long_scale,
        },
    })
}

/// Redis's `geohashDecodeToLongLatWGS84`: the centre of a cell, clamped
/// to the WGS84 limits.
pub fn decode_to_lonlat(hash: Bits) -> Option<[f64; 2]> {
    let area = decode(WGS84_LONG, WGS84_LAT, hash)?;
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some([lon, lat])
}

/// C's `(uint64_t)d` as gcc compiles it for x86-64 (`cvttsd2si`, with the
/// 2^63 adjustment): what Redis's `decodeGeohash` makes of any score.
pub fn score_bits(d: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    let cvtt = |x: f64| -> u64 {
        if x.is_nan() || !(-TWO63..TWO63).contains(&x) {
            1u64 << 63
        } else {
            x as i64 as u64
        }
    };
    if d < TWO63 {
        cvtt(d)
    } else {
        cvtt(d - TWO63) ^ (1u64 << 63)
    }
}

/// Redis's `decodeGeohash`: the point a member's score stands for.
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = Bits { bits: score_bits(score), step: STEP_MAX };
    decode_to_lonlat(hash).unwrap_or([0.0, 0.0])
}

/// Redis's `geohashAlign52Bits`: a cell's hash as a 52-bit score prefix.
pub fn align52(hash: Bits) -> u64 {
    hash.bits << (52 - hash.step as u32 * 2)
}

/// The score GEOADD stores for a point (already checked to be in range).
pub fn score_of(longitude: f64, latitude: f64) -> f64 {
    encode_wgs84(longitude, latitude, STEP_MAX).map_or(0.0, |h| align52(h) as f64)
}

/// Redis's 11-character GEOHASH string: the decoded point encoded again
/// over the standard latitude range ±90.
pub fn standard_geohash(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score);
    let r_lon = Range { min: -180.0, max: 180.0 };
    let r_lat = Range { min: -90.0, max: 90.0 };
    let bits = encode(r_lon, r_lat, lon, lat, 26).map_or(0, |h| h.bits);
    let mut buf = [b'0'; 11];
    for (i, b) in buf.iter_mut().enumerate().take(10) {
        *b = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    buf
}

fn move_x(hash: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - hash.step as u32 * 2;
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        x = x.wrapping_add(zz.wrapping_add(1));
    } else {
        x |= zz;
        x = x.wrapping_sub(zz.wrapping_add(1));
    }
    x &= 0xaaaaaaaaaaaaaaaau64.checked_shr(shift).unwrap_or(0);
    hash.bits = x | y;
}

fn move_y(hash: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - hash.step as u32 * 2;
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        y = y.wrapping_add(zz.wrapping_add(1));
    } else {
        y |= zz;
        y = y.wrapping_sub(zz.wrapping_add(1));
    }
    y &= 0x5555555555555555u64.checked_shr(shift).unwrap_or(0);
    hash.bits = x | y;
}

/// The eight neighbours of a cell, in Redis's scan order after the cell
/// itself: north, south, east, west, north-east, north-west, south-east,
/// south-west.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Neighbors {
    pub north: Bits,
    pub south: Bits,
    pub east: Bits,
    pub west: Bits,
    pub north_east: Bits,
    pub north_west: Bits,
    pub south_east: Bits,
    pub south_west: Bits,
}

/// Redis's `geohashNeighbors`.
pub fn neighbors(hash: Bits) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

/// Redis's `geohashGetDistance`: haversine on Redis's earth radius, meters.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lat1r = deg_rad(lat1d);
    let lon1r = deg_rad(lon1d);
    let lat2r = deg_rad(lat2d);
    let lon2r = deg_rad(lon2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let v = ((lon2r - lon1r) / 2.0).sin();
    2.0 * EARTH_RADIUS_IN_METERS * (u * u + lat1r.cos() * lat2r.cos() * v * v).sqrt().asin()
}

/// Redis's `geohashEstimateStepsByRadius`.
pub fn estimate_steps(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// A search area: a circle of `radius` or an axis-aligned box, in the
/// request's unit (`conversion` meters each), around `xy`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub kind: Kind,
    pub xy: [f64; 2],
    pub conversion: f64,
}

impl Shape {
    /// Redis's `geohashBoundingBox`: `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (height, width) = match self.kind {
            Kind::Circle { radius } => (self.conversion * radius, self.conversion * radius),
            Kind::Box { width, height } => (self.conversion * (height / 2.0), self.conversion * (width / 2.0)),
        };
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
        let southern = latitude < 0.0;
        [
            if southern { longitude - long_delta_bottom } else { longitude - long_delta_top },
            latitude - lat_delta,
            if southern { longitude + long_delta_bottom } else { longitude + long_delta_top },
            latitude + lat_delta,
        ]
    }

    /// Whether the point at `xy` is in the shape, and its distance from the
    /// centre in meters (Redis's `geohashGetDistanceIfInRadiusWGS84` and
    /// `geohashGetDistanceIfInRectangle`).
    pub fn contains(&self, xy: [f64; 2]) -> Option<f64> {
        let [x1, y1] = self.xy;
        let [x2, y2] = xy;
        match self.kind {
            Kind::Circle { radius } => {
                let d = distance(x1, y1, x2, y2);
                (d <= radius * self.conversion).then_some(d)
            }
            Kind::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                let lon_distance = distance(x2, y2, x1, y2);
                let lat_distance = distance(x2, y2, x2, y1);
                if lon_distance > width_m / 2.0 || lat_distance > height_m / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, x2, y2))
            }
        }
    }

    /// Redis's `geohashCalculateAreasByShapeWGS84`: the cells to scan, in
    /// scan order (the centre cell, then its neighbours as [`Neighbors`]
    /// lists them); a dropped neighbour is a zero cell.
    pub fn areas(&self) -> [Bits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let [longitude, latitude] = self.xy;
        let radius_meters = match self.kind {
            Kind::Circle { radius } => radius,
            Kind::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
        } * self.conversion;
        let mut steps = estimate_steps(radius_meters, latitude);
        let cell = |steps: u8| encode(WGS84_LONG, WGS84_LAT, longitude, latitude, steps).unwrap_or_default();
        let mut hash = cell(steps);
        let mut n = neighbors(hash);
        let dec = |h: Bits| decode(WGS84_LONG, WGS84_LAT, h).unwrap_or_default();
        let mut area = dec(hash);
        // The estimated step can leave a side of the search area outside
        // the neighbours; one step larger cells cover it.
        let decrease_step = dec(n.north).latitude.max < max_lat
            || dec(n.south).latitude.min > min_lat
            || dec(n.east).longitude.max < max_lon
            || dec(n.west).longitude.min > min_lon;
        if steps > 1 && decrease_step {
            steps -= 1;
            hash = cell(steps);
            n = neighbors(hash);
            area = dec(hash);
        }
        // Neighbours on a side the search area does not reach are dropped.
        if steps >= 2 {
            let zero = Bits::default();
            if area.latitude.min < min_lat {
                (n.south, n.south_west, n.south_east) = (zero, zero, zero);
            }
            if area.latitude.max > max_lat {
                (n.north, n.north_east, n.north_west) = (zero, zero, zero);
            }
            if area.longitude.min < min_lon {
                (n.west, n.south_west, n.north_west) = (zero, zero, zero);
            }
            if area.longitude.max > max_lon {
                (n.east, n.south_east, n.north_east) = (zero, zero, zero);
            }
        }
        [hash, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west]
    }
}

/// Redis's `scoresOfGeoHashBox`: the scores `min <= s < max` of the points
/// in a cell.
pub fn score_span(hash: Bits) -> (f64, f64) {
    let min = align52(hash);
    let max = align52(Bits { bits: hash.bits.wrapping_add(1), step: hash.step });
    (min as f64, max as f64)
}
