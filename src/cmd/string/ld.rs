//! The x87 80-bit `long double` arithmetic INCRBYFLOAT relies on, in software:
//! glibc's `strtold` (as Redis's `string2ld` uses it), one correctly rounded
//! addition, and `%.17Lf` with Redis's trailing-zero trim (`ld2string`'s
//! human mode). Rust has no `long double`, and `f64` gives other digits
//! (10.5 + 0.1 must print "10.6"), so values are exact big integers scaled by
//! powers of two and every rounding is done by hand, half to even.

use std::cmp::Ordering;

/// Smallest binary exponent of a 64-bit mantissa (subnormals live here).
const EMIN: i64 = -16382 - 63;
/// Largest binary exponent of a normalized 64-bit mantissa.
const EMAX: i64 = 16383 - 63;
/// Redis's `MAX_LONG_DOUBLE_CHARS`: longer inputs and outputs are refused.
const MAX_CHARS: usize = 5 * 1024;

/// An x87 extended-precision value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ld {
    /// `(-1)^neg * mant * 2^exp`; `mant` has its top bit set unless the value is
    /// zero or subnormal (then `exp == EMIN`).
    Finite {
        neg: bool,
        mant: u64,
        exp: i64,
    },
    Inf {
        neg: bool,
    },
    Nan,
}

impl Ld {
    pub const ZERO: Ld = Ld::Finite { neg: false, mant: 0, exp: 0 };

    pub fn is_finite(self) -> bool {
        matches!(self, Ld::Finite { .. })
    }

    /// `self + other`, rounded once to 64 bits as the FPU does.
    pub fn add(self, other: Ld) -> Ld {
        match (self, other) {
            (Ld::Nan, _) | (_, Ld::Nan) => Ld::Nan,
            (Ld::Inf { neg: a }, Ld::Inf { neg: b }) if a != b => Ld::Nan,
            (Ld::Inf { neg }, _) | (_, Ld::Inf { neg }) => Ld::Inf { neg },
            (Ld::Finite { neg: na, mant: ma, exp: ea }, Ld::Finite { neg: nb, mant: mb, exp: eb }) => {
                if ma == 0 && mb == 0 {
                    return Ld::Finite { neg: na && nb, mant: 0, exp: 0 };
                }
                if ma == 0 {
                    return other;
                }
                if mb == 0 {
                    return self;
                }
                let e = ea.min(eb);
                let mut a = Big::from_u64(ma);
                a.shl((ea - e) as usize);
                let mut b = Big::from_u64(mb);
                b.shl((eb - e) as usize);
                if na == nb {
                    a.add(&b);
                    return round(na, a, e, false);
                }
                match a.cmp(&b) {
                    Ordering::Equal => Ld::ZERO,
                    Ordering::Greater => {
                        a.sub(&b);
                        round(na, a, e, false)
                    }
                    Ordering::Less => {
                        b.sub(&a);
                        round(nb, b, e, false)
                    }
                }
            }
        }
    }
}

/// Redis's `string2ld`: the whole input must be one `strtold` number, with no
/// leading space, not NaN, and neither overflowing nor underflowing to zero.
pub fn parse(s: &[u8]) -> Option<Ld> {
    if s.is_empty() || s.len() >= MAX_CHARS || is_c_space(s[0]) {
        return None;
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Ld::Inf { neg });
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        parse_hex(neg, &body[2..])
    } else {
        parse_dec(neg, body)
    }
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A parsed nonzero mantissa: `strtold` reports overflow to infinity and
/// underflow to zero as ERANGE, which `string2ld` refuses.
fn in_range(v: Ld) -> Option<Ld> {
    match v {
        Ld::Finite { mant, .. } if mant != 0 => Some(v),
        _ => None,
    }
}

/// Reads `[+-]digits` as an exponent, saturating far beyond any finite result.
fn parse_exp(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = digits.iter().fold(0i64, |v, &c| (v * 10 + (c - b'0') as i64).min(1 << 40));
    Some(if neg { -v } else { v })
}

/// Splits `int[.frac][<exp_mark>exp]`, requiring at least one mantissa digit.
fn split_number(s: &[u8], is_digit: fn(&u8) -> bool, exp_mark: u8) -> Option<(&[u8], &[u8], i64)> {
    let int_len = s.iter().take_while(|c| is_digit(c)).count();
    let (int, rest) = s.split_at(int_len);
    let (frac, rest) = match rest.first() {
        Some(b'.') => {
            let n = rest[1..].iter().take_while(|c| is_digit(c)).count();
            (&rest[1..1 + n], &rest[1 + n..])
        }
        _ => (&rest[..0], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest.first() {
        None => 0,
        Some(&c) if c | 0x20 == exp_mark => parse_exp(&rest[1..])?,
        Some(_) => return None,
    };
    Some((int, frac, exp))
}

fn parse_dec(neg: bool, s: &[u8]) -> Option<Ld> {
    let (int, frac, exp) = split_number(s, u8::is_ascii_digit, b'e')?;
    let mut d = Big::default();
    let mut ndigits = 0i64;
    for &c in int.iter().chain(frac) {
        if ndigits == 0 && c == b'0' {
            continue;
        }
        d.mul_small(10);
        d.add_small((c - b'0') as u32);
        ndigits += 1;
    }
    if d.is_zero() {
        return Some(Ld::Finite { neg, mant: 0, exp: 0 });
    }
    let dexp = exp - frac.len() as i64;
    // Magnitude is below 10^(ndigits + dexp): far out of range either way.
    if !(-4960..=4940).contains(&(ndigits + dexp)) {
        return None;
    }
    if dexp >= 0 {
        d.mul_pow10(dexp as u32);
        return in_range(round(neg, d, 0, false));
    }
    let mut m = Big::from_u64(1);
    m.mul_pow10((-dexp) as u32);
    // Scale so the quotient has 66-67 bits: enough for rounding, plus a sticky bit.
    let t = d.bit_len() as i64 - m.bit_len() as i64 - 66;
    if t >= 0 {
        m.shl(t as usize);
    } else {
        d.shl((-t) as usize);
    }
    let (q, rem_nonzero) = d.div_rem_small_quotient(&m);
    in_range(round(neg, q, t, rem_nonzero))
}

fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
    let (int, frac, exp) = split_number(s, u8::is_ascii_hexdigit, b'p')?;
    let mut d = Big::default();
    for &c in int.iter().chain(frac) {
        d.mul_small(16);
        d.add_small((c as char).to_digit(16).unwrap_or(0));
    }
    if d.is_zero() {
        return Some(Ld::Finite { neg, mant: 0, exp: 0 });
    }
    let e = exp - 4 * frac.len() as i64;
    let top = d.bit_len() as i64 + e;
    if !(EMIN - 2..=EMAX + 65).contains(&top) {
        return None;
    }
    in_range(round(neg, d, e, false))
}

/// Rounds `n * 2^e` (plus a nonzero tail below it when `sticky`) to an x87 value.
fn round(neg: bool, n: Big, e: i64, sticky: bool) -> Ld {
    if n.is_zero() {
        return Ld::Finite { neg, mant: 0, exp: 0 };
    }
    let mut shift = n.bit_len() as i64 - 64;
    if e + shift < EMIN {
        shift = EMIN - e;
    }
    let (mant, exp) = if shift <= 0 {
        (n.low_u64() << (-shift) as u32, e + shift)
    } else {
        let sh = shift as usize;
        let guard = n.bit(sh - 1);
        let rest = sticky || n.any_below(sh - 1);
        let mut q = n;
        q.shr(sh);
        let mut mant = q.low_u64();
        let mut exp = e + shift;
        if guard && (rest || mant & 1 == 1) {
            mant = mant.wrapping_add(1);
            if mant == 0 {
                mant = 1 << 63;
                exp += 1;
            }
        }
        (mant, exp)
    };
    if mant == 0 {
        return Ld::Finite { neg, mant: 0, exp: 0 };
    }
    if exp > EMAX {
        return Ld::Inf { neg };
    }
    Ld::Finite { neg, mant, exp }
}

/// Redis's `ld2string(.., LD_STR_HUMAN)`: `%.17Lf`, trailing zeros and a
/// trailing dot removed, "-0" shown as "0"; an output that would not fit its
/// buffer comes back empty, as in Redis.
pub fn format_human(v: Ld) -> Vec<u8> {
    let (neg, mant, exp) = match v {
        Ld::Inf { neg: false } => return b"inf".to_vec(),
        Ld::Inf { neg: true } => return b"-inf".to_vec(),
        Ld::Nan => return b"nan".to_vec(),
        Ld::Finite { neg, mant, exp } => (neg, mant, exp),
    };
    const DECIMALS: usize = 17;
    let mut scaled = Big::from_u64(mant);
    scaled.mul_pow10(DECIMALS as u32);
    if exp >= 0 {
        scaled.shl(exp as usize);
    } else {
        let sh = (-exp) as usize;
        let guard = scaled.bit(sh - 1);
        let rest = scaled.any_below(sh - 1);
        scaled.shr(sh);
        if guard && (rest || scaled.bit(0)) {
            scaled.add_small(1);
        }
    }
    let mut digits = scaled.to_decimal();
    if digits.len() <= DECIMALS {
        let mut padded = vec![b'0'; DECIMALS + 1 - digits.len()];
        padded.extend_from_slice(&digits);
        digits = padded;
    }
    let point = digits.len() - DECIMALS;
    let mut s = Vec::with_capacity(digits.len() + 2);
    if neg {
        s.push(b'-');
    }
    s.extend_from_slice(&digits[..point]);
    s.push(b'.');
    s.extend_from_slice(&digits[point..]);
    if s.len() + 1 > MAX_CHARS {
        return Vec::new();
    }
    while s.last() == Some(&b'0') {
        s.pop();
    }
    if s.last() == Some(&b'.') {
        s.pop();
    }
    if s == b"-0" {
        s = b"0".to_vec();
    }
    s
}

/// A minimal unsigned big integer (little-endian 32-bit limbs, no leading zero limbs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bit_len(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(&top) => self.0.len() * 32 - top.leading_zeros() as usize,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 32).is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }

    /// True if any bit below position `i` is set.
    fn any_below(&self, i: usize) -> bool {
        let (whole, part) = (i / 32, i % 32);
        self.0.iter().take(whole).any(|&l| l != 0)
            || (part > 0 && self.0.get(whole).is_some_and(|&l| l & ((1u32 << part) - 1) != 0))
    }

    fn low_u64(&self) -> u64 {
        let lo = self.0.first().copied().unwrap_or(0) as u64;
        let hi = self.0.get(1).copied().unwrap_or(0) as u64;
        lo | hi << 32
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for l in &mut self.0 {
            let v = *l as u64 * m as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = a as u64;
        for l in &mut self.0 {
            if carry == 0 {
                break;
            }
            let v = *l as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut k: u32) {
        while k >= 9 {
            self.mul_small(1_000_000_000);
            k -= 9;
        }
        if k > 0 {
            self.mul_small(10u32.pow(k));
        }
    }

    fn shl(&mut self, bits: usize) {
        if self.is_zero() {
            return;
        }
        let (whole, part) = (bits / 32, bits % 32);
        if part > 0 {
            let mut carry = 0u32;
            for l in &mut self.0 {
                let v = *l;
                *l = (v << part) | carry;
                carry = v >> (32 - part);
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        if whole > 0 {
            self.0.splice(0..0, std::iter::repeat_n(0, whole));
        }
    }

    fn shr(&mut self, bits: usize) {
        let (whole, part) = (bits / 32, bits % 32);
        if whole >= self.0.len() {
            self.0.clear();
            return;
        }
        self.0.drain(..whole);
        if part > 0 {
            let n = self.0.len();
            for i in 0..n {
                let hi = if i + 1 < n { self.0[i + 1] << (32 - part) } else { 0 };
                self.0[i] = (self.0[i] >> part) | hi;
            }
        }
        self.trim();
    }

    fn add(&mut self, o: &Big) {
        if self.0.len() < o.0.len() {
            self.0.resize(o.0.len(), 0);
        }
        let mut carry = 0u64;
        for (i, l) in self.0.iter_mut().enumerate() {
            let v = *l as u64 + o.0.get(i).copied().unwrap_or(0) as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// `self -= o`; requires `self >= o`.
    fn sub(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for (i, l) in self.0.iter_mut().enumerate() {
            let v = *l as i64 - o.0.get(i).copied().unwrap_or(0) as i64 - borrow;
            borrow = (v < 0) as i64;
            *l = v.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }

    /// `self / m` and whether a remainder is left, for quotients of a few
    /// dozen bits (one shift-and-subtract step per quotient bit).
    fn div_rem_small_quotient(mut self, m: &Big) -> (Big, bool) {
        let qbits = (self.bit_len() + 1).saturating_sub(m.bit_len());
        let mut q = Big::default();
        let mut d = m.clone();
        d.shl(qbits);
        for _ in 0..=qbits {
            q.shl(1);
            if self.cmp(&d) != Ordering::Less {
                self.sub(&d);
                if q.is_zero() {
                    q = Big::from_u64(1);
                } else {
                    q.0[0] |= 1;
                }
            }
            d.shr(1);
        }
        (q, !self.is_zero())
    }

    fn to_decimal(&self) -> Vec<u8> {
        if self.is_zero() {
            return b"0".to_vec();
        }
        let mut chunks = Vec::new();
        let mut n = self.clone();
        while !n.is_zero() {
            let mut rem = 0u64;
            for l in n.0.iter_mut().rev() {
                let v = (rem << 32) | *l as u64;
                *l = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            n.trim();
            chunks.push(rem as u32);
        }
        let mut s = Vec::with_capacity(chunks.len() * 9);
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.extend_from_slice(c.to_string().as_bytes());
            } else {
                s.extend_from_slice(format!("{c:09}").as_bytes());
            }
        }
        s
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, o: &Big) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Big {
    fn cmp(&self, o: &Big) -> Ordering {
        self.0.len().cmp(&o.0.len()).then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }
}
