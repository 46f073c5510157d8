//! HyperLogLog in Redis 7.0's string representation (hyperloglog.c), byte
//! for byte: the 16-byte "HYLL" header with the cached cardinality, the
//! sparse run-length encoding (ZERO, XZERO and VAL opcodes) and the dense
//! array of 16384 6-bit registers, MurmurHash64A with Redis's seed, and the
//! cardinality estimator of Otmar Ertl's "New cardinality estimation
//! algorithms for HyperLogLog sketches" that Redis uses. Values are plain
//! strings: an HLL written by Redis reads back here with the same counts, and
//! the same commands leave the same bytes.
//!
//! Nothing here trusts its input: a value that came from SET, RESTORE or an
//! RDB file may be any bytes, and every walk over it is bounded.

/// Bits of the hash that index a register.
pub const P: u32 = 14;
/// Bits of the hash left to count the run of zeroes in.
pub const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = (REGISTERS - 1) as u64;
const BITS: usize = 6;
const REGISTER_MAX: u32 = (1 << BITS) - 1;
pub const HDR_SIZE: usize = 16;
/// Length of a dense value: header plus 12288 bytes of registers.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;

/// 0.5 / ln(2), the estimator's constant for an unbounded number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// Redis's seed for MurmurHash64A in HyperLogLogs.
const SEED: u64 = 0xadc8_3b19;

/// A value's representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    /// The name PFDEBUG ENCODING replies with.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// A sparse representation that does not describe exactly 16384 registers
/// (Redis's "INVALIDOBJ Corrupted HLL object detected").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Redis's `isHLLObjectOrReply` on a string: the encoding when `v` has the
/// HYLL magic, a known encoding and, if dense, exactly the dense length.
pub fn check(v: &[u8]) -> Option<Encoding> {
    if v.len() < HDR_SIZE || &v[..4] != b"HYLL" || v[4] > MAX_ENCODING {
        return None;
    }
    if v[4] == DENSE {
        return (v.len() == DENSE_SIZE).then_some(Encoding::Dense);
    }
    Some(Encoding::Sparse)
}

/// A new, empty HLL as Redis's `createHLLObject` makes it: sparse, one XZERO
/// opcode per 16384 registers, the cached cardinality zero and valid.
pub fn new_empty() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        v.extend_from_slice(&xzero(n));
        left -= n;
    }
    v
}

/// The cached cardinality, when the header says it is valid.
pub fn cached(v: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(v.get(8..16)?.try_into().ok()?);
    (card >> 63 == 0).then_some(card)
}

/// Stores `card` as the cached cardinality (a value with the top bit set,
/// which only an overflowing estimate gives, stays invalid as in Redis).
pub fn set_cached(v: &mut [u8], card: u64) {
    if let Some(h) = v.get_mut(8..16) {
        h.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale (`HLL_INVALIDATE_CACHE`).
pub fn invalidate(v: &mut [u8]) {
    if let Some(b) = v.get_mut(15) {
        *b |= 0x80;
    }
}

/// MurmurHash2, 64-bit version, as Redis has it (endian neutral, the length
/// taken as a C `int`).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let len = key.len() as i32 as i64 as u64;
    let mut h = seed ^ len.wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate().rev() {
            h ^= u64::from(*b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Redis 7.0's `hllPatLen`: the register `ele` falls in (the hash's low 14
/// bits) and the length of the run of zeroes ending in a one above them,
/// counting the one (1..=51).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Register `i` of dense `registers` (the bytes after the header).
pub fn dense_get(registers: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u32::from(registers.get(byte).copied().unwrap_or(0));
    let b1 = u32::from(registers.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX) as u8
}

/// Sets register `i` of dense `registers` to `val` (< 64).
pub fn dense_set_raw(registers: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let fb8 = 8 - fb;
    let v = u32::from(val);
    if let Some(b) = registers.get_mut(byte) {
        *b &= !((REGISTER_MAX << fb) as u8);
        *b |= (v << fb) as u8;
    }
    // The last register never reaches the byte after it; Redis writes its
    // (unchanged) sds terminator there.
    if let Some(b) = registers.get_mut(byte + 1) {
        *b &= !((REGISTER_MAX >> fb8) as u8);
        *b |= (v >> fb8) as u8;
    }
}

/// Redis's `hllDenseSet`: raises register `i` to `count`; whether it changed.
pub fn dense_set(registers: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(registers, i) {
        dense_set_raw(registers, i, count);
        return true;
    }
    false
}

/// Redis's `hllDenseAdd` on the registers of a dense value.
pub fn dense_add(registers: &mut [u8], ele: &[u8]) -> bool {
    let (index, count) = pat_len(ele);
    dense_set(registers, index, count)
}

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

fn zero_len(b: u8) -> usize {
    usize::from(b & 0x3f) + 1
}

/// An XZERO's run; a truncated one reads its second byte as the zero that
/// terminates Redis's sds strings.
fn xzero_len(b: u8, next: Option<u8>) -> usize {
    ((usize::from(b & 0x3f) << 8) | usize::from(next.unwrap_or(0))) + 1
}

fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

fn val_len(b: u8) -> usize {
    usize::from(b & 0x3) + 1
}

fn val(value: u8, len: usize) -> u8 {
    ((value - 1) << 2 | (len as u8 - 1)) | 0x80
}

fn zero(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// One decoded sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `n` registers at zero (ZERO or XZERO: `long` is XZERO).
    Zero { n: usize, long: bool },
    /// `n` registers at `value`.
    Val { value: u8, n: usize },
}

/// The opcodes of a sparse body, as Redis's loops read them (a truncated
/// final XZERO included).
pub fn ops(body: &[u8]) -> impl Iterator<Item = Op> + '_ {
    let mut p = 0;
    std::iter::from_fn(move || {
        let b = *body.get(p)?;
        if is_zero(b) {
            p += 1;
            Some(Op::Zero { n: zero_len(b), long: false })
        } else if is_xzero(b) {
            let n = xzero_len(b, body.get(p + 1).copied());
            p += 2;
            Some(Op::Zero { n, long: true })
        } else {
            p += 1;
            Some(Op::Val { value: val_value(b), n: val_len(b) })
        }
    })
}

/// Walks a sparse body, calling `f(first_register, run, value)` for each
/// opcode; fails as Redis does when a run would pass register 16383 or the
/// runs do not cover all registers.
fn walk(body: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut idx = 0;
    for op in ops(body) {
        let (n, value) = match op {
            Op::Zero { n, .. } => (n, 0),
            Op::Val { value, n } => (n, value),
        };
        if n + idx > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, n, value);
        idx += n;
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

/// Redis's `hllSparseToDense`: the dense form of a sparse value (the header
/// copied, cached cardinality included); a dense value is returned as is.
pub fn to_dense(v: &[u8]) -> Result<Vec<u8>, Corrupt> {
    if v.get(4) == Some(&DENSE) {
        return Ok(v.to_vec());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(v.get(..HDR_SIZE).ok_or(Corrupt)?);
    dense[4] = DENSE;
    let (_, regs) = dense.split_at_mut(HDR_SIZE);
    walk(&v[HDR_SIZE..], |first, n, value| {
        if value != 0 {
            for i in first..first + n {
                dense_set_raw(regs, i, value);
            }
        }
    })?;
    Ok(dense)
}

/// Redis's `hllSparseSet`: raises register `index` of the sparse value `v`
/// to `count`, splitting and re-merging opcodes in place exactly as Redis
/// does, and promoting `v` to dense when `count` is over 32 or the value
/// would grow past `max_bytes` (`hll-sparse-max-bytes`). Whether the
/// register changed; `Corrupt` when the opcodes do not reach `index` or a
/// promotion finds them invalid.
pub fn sparse_set(v: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Step 1: the opcode that covers `index`.
    let end = v.len();
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev = None;
    let mut span = 0usize;
    while p < end {
        let b = v[p];
        let oplen;
        (span, oplen) = if is_zero(b) {
            (zero_len(b), 1)
        } else if is_val(b) {
            (val_len(b), 1)
        } else {
            (xzero_len(b, v.get(p + 1).copied()), 2)
        };
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let b = v[p];
    let oldlen = if is_xzero(b) { 2 } else { 1 };
    let next = (p + oldlen < end).then_some(p + oldlen);
    let runlen = span;

    // Step 2: the cases that change one byte in place.
    if is_val(b) {
        if val_value(b) >= count {
            return Ok(false);
        }
        if runlen == 1 {
            v[p] = val(count, 1);
            return Ok(updated(v, prev));
        }
    }
    if is_zero(b) && runlen == 1 {
        v[p] = val(count, 1);
        return Ok(updated(v, prev));
    }

    // The general case: the opcode splits in up to three.
    let mut seq = [0u8; 5];
    let mut n = 0;
    let last = first + span - 1;
    if !is_val(b) {
        if index != first {
            zeros(&mut seq, &mut n, index - first);
        }
        seq[n] = val(count, 1);
        n += 1;
        if index != last {
            zeros(&mut seq, &mut n, last - index);
        }
    } else {
        let cur = val_value(b);
        if index != first {
            seq[n] = val(cur, index - first);
            n += 1;
        }
        seq[n] = val(count, 1);
        n += 1;
        if index != last {
            seq[n] = val(cur, last - index);
            n += 1;
        }
    }

    // Step 3: the new opcodes replace the old one.
    let new_len = (end + n).saturating_sub(oldlen);
    if n > oldlen && new_len > max_bytes {
        return promote(v, index, count);
    }
    let mut out = Vec::with_capacity(new_len.max(p + n));
    out.extend_from_slice(&v[..p]);
    out.extend_from_slice(&seq[..n]);
    if let Some(next) = next {
        out.extend_from_slice(&v[next..]);
    }
    // A truncated XZERO counted two bytes where one was: Redis's length
    // arithmetic cuts the last byte written, and so does this.
    out.resize(new_len, 0);
    *v = out;
    Ok(updated(v, prev))
}

/// Appends a ZERO, or an XZERO past 64 registers, for `len` zeroes.
fn zeros(seq: &mut [u8; 5], n: &mut usize, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        seq[*n..*n + 2].copy_from_slice(&xzero(len));
        *n += 2;
    } else {
        seq[*n] = zero(len);
        *n += 1;
    }
}

/// Step 4 of `hllSparseSet`: merges adjacent VAL opcodes of equal value,
/// looking at most five opcodes from `prev`, then invalidates the cache.
fn updated(v: &mut Vec<u8>, prev: Option<usize>) -> bool {
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        let b = v[p];
        if is_xzero(b) {
            p += 2;
            continue;
        } else if is_zero(b) {
            p += 1;
            continue;
        }
        if let Some(&b2) = v.get(p + 1) {
            if is_val(b2) && val_value(b) == val_value(b2) {
                let len = val_len(b) + val_len(b2);
                if len <= SPARSE_VAL_MAX_LEN {
                    v[p + 1] = val(val_value(b), len);
                    v.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate(v);
    true
}

/// Promotes `v` to dense and sets the register there.
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    *v = to_dense(v)?;
    Ok(dense_set(&mut v[HDR_SIZE..], index, count))
}

/// Redis's `hllAdd`: adds `ele` to the (checked) value `v` of either encoding.
pub fn add(v: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    match v.get(4) {
        Some(&DENSE) if v.len() == DENSE_SIZE => Ok(dense_set(&mut v[HDR_SIZE..], index, count)),
        Some(&SPARSE) => sparse_set(v, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

/// Sets each non-zero register of `max` into the value `v` as PFMERGE writes
/// its destination: through `hllSparseSet` while sparse (which may promote),
/// directly once dense. Errors of the sparse sets are ignored, as Redis does.
pub fn set_registers(v: &mut Vec<u8>, max: &[u8; REGISTERS], max_bytes: usize) {
    for (i, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if v.get(4) == Some(&DENSE) {
            if let Some(regs) = v.get_mut(HDR_SIZE..) {
                dense_set(regs, i, m);
            }
        } else {
            let _ = sparse_set(v, i, m, max_bytes);
        }
    }
}

/// Redis's `hllMerge`: raises each `max[i]` to register `i` of `v` (checked).
pub fn merge_into(max: &mut [u8; REGISTERS], v: &[u8]) -> Result<(), Corrupt> {
    if v.get(4) == Some(&DENSE) {
        let regs = v.get(HDR_SIZE..).unwrap_or(&[]);
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    walk(v.get(HDR_SIZE..).ok_or(Corrupt)?, |first, n, value| {
        for m in &mut max[first..first + n] {
            *m = (*m).max(value);
        }
    })
}

/// The histogram of register values of a checked value; for a sparse one,
/// whether its opcodes were valid (Redis counts what it read either way).
pub fn histogram(v: &[u8]) -> ([u32; 64], bool) {
    let mut h = [0u32; 64];
    if v.get(4) == Some(&DENSE) {
        let regs = v.get(HDR_SIZE..).unwrap_or(&[]);
        for i in 0..REGISTERS {
            h[usize::from(dense_get(regs, i))] += 1;
        }
        return (h, true);
    }
    let valid = walk(v.get(HDR_SIZE..).unwrap_or(&[]), |_, n, value| h[usize::from(value)] += n as u32).is_ok();
    (h, valid)
}

/// The histogram of a plain array of register values (multi-key PFCOUNT).
pub fn histogram_raw(max: &[u8; REGISTERS]) -> [u32; 64] {
    let mut h = [0u32; 64];
    for &m in max {
        h[usize::from(m & 63)] += 1;
    }
    h
}

/// Redis's `hllCount` of a checked value: the estimate, `Corrupt` for a
/// sparse value whose opcodes are invalid.
pub fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let (h, valid) = histogram(v);
    if !valid {
        return Err(Corrupt);
    }
    Ok(estimate(&h))
}

/// Ertl's sigma function, as Redis computes it.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

/// Ertl's tau function, as Redis computes it.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram, with Redis's
/// arithmetic step for step (so the same registers give the same count).
/// An estimate past i64 (registers no hash can produce) comes out as
/// x86's `llroundl` makes it: 2^63.
pub fn estimate(h: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(h[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(h[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(h[0]) / m);
    let e = ALPHA_INF * m * m / z;
    if e.is_nan() || e.abs() >= 2f64.powi(63) {
        return 1 << 63;
    }
    // llroundl rounds halves away from zero, as f64::round does.
    e.round() as i64 as u64
}

/// PFDEBUG DECODE's text for a sparse value: "z:n", "Z:n" and "v:value,n"
/// separated by spaces.
pub fn decode(v: &[u8]) -> String {
    let mut s = String::new();
    for op in ops(v.get(HDR_SIZE..).unwrap_or(&[])) {
        if !s.is_empty() {
            s.push(' ');
        }
        match op {
            Op::Zero { n, long: false } => s.push_str(&format!("z:{n}")),
            Op::Zero { n, long: true } => s.push_str(&format!("Z:{n}")),
            Op::Val { value, n } => s.push_str(&format!("v:{value},{n}")),
        }
    }
    s
}

/// Redis's `pfselftestCommand`: register access of the dense encoding over
/// 1000 rounds of random values, then ten million additions to a dense and
/// a sparse HLL whose counts must agree and stay within six standard errors
/// at each power of ten. `rand` supplies random numbers. The error text on
/// failure (without its "ERR " prefix).
pub fn selftest(mut rand: impl FnMut() -> u64, max_bytes: usize) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (rand() & u64::from(REGISTER_MAX)) as u8;
            *b = r;
            dense_set_raw(&mut dense[HDR_SIZE..], i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = dense_get(&dense[HDR_SIZE..], i);
            if got != b {
                return Err(format!("TESTFAILED Register {i} should be {b} but is {got}"));
            }
        }
    }

    dense[HDR_SIZE..].fill(0);
    let mut sparse = new_empty();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rand();
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        dense_add(&mut dense[HDR_SIZE..], &ele);
        // A failure here could only come from a bug in the sparse code;
        // the check below then reports the disagreement.
        let _ = add(&mut sparse, &ele, max_bytes);
        if j != checkpoint {
            continue;
        }
        if j < (max_bytes / 2) as u64 && check(&sparse) != Some(Encoding::Sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = estimate(&histogram(&dense).0);
        if card != estimate(&histogram(&sparse).0) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64).wrapping_sub(card as i64).unsigned_abs();
        let maxerr = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64).ceil() as u64 };
        if abserr > maxerr {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
