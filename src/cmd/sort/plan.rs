//! The pure half of SORT, shard-agnostic: options, `BY`/`GET` patterns, the
//! vector of elements to sort with its LIMIT window, the comparison and the
//! two sorting algorithms Redis's `sort.c` uses. Every rule here is Redis
//! 7.0's, so results (ties included) come out in the same order.

use std::cmp::Ordering;

use bytes::Bytes;

use crate::cmd::{args, CmdError, OpError};
use crate::types::Value;

/// A `BY` or `GET` pattern, as Redis's `lookupKeyByPattern` reads it. Redis
/// handles patterns as C strings: `#`, `*` and `->` are only seen before a NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pattern {
    /// `#`: the element itself.
    Elem,
    /// No `*`: names no key, so every lookup misses.
    Fixed,
    /// `prefix*suffix` names a string key; with `->field`, a hash field.
    Key { prefix: Vec<u8>, suffix: Vec<u8>, field: Option<Bytes> },
}

/// A pattern lookup bound for a key's shard: (key, hash field).
pub(super) type Lookup = (Bytes, Option<Bytes>);

/// The part of `s` a C string function sees.
fn c_str(s: &[u8]) -> &[u8] {
    &s[..memchr::memchr(0, s).unwrap_or(s.len())]
}

impl Pattern {
    pub fn parse(p: &[u8]) -> Pattern {
        if c_str(p) == b"#" {
            return Pattern::Elem;
        }
        let Some(star) = memchr::memchr(b'*', c_str(p)) else {
            return Pattern::Fixed;
        };
        let after = c_str(&p[star + 1..]);
        // `->` must be followed by a non-empty field name (up to a NUL) to count.
        let arrow = memchr::memmem::find(after, b"->").filter(|&f| f + 2 < after.len());
        match arrow {
            Some(f) => Pattern::Key {
                prefix: p[..star].to_vec(),
                suffix: after[..f].to_vec(),
                field: Some(Bytes::copy_from_slice(&p[star + 1 + f + 2..])),
            },
            None => Pattern::Key { prefix: p[..star].to_vec(), suffix: p[star + 1..].to_vec(), field: None },
        }
    }

    /// The key (and field) this pattern names for `elem`, if it names one.
    pub fn lookup(&self, elem: &[u8]) -> Option<Lookup> {
        let Pattern::Key { prefix, suffix, field } = self else {
            return None;
        };
        let mut key = Vec::with_capacity(prefix.len() + elem.len() + suffix.len());
        key.extend_from_slice(prefix);
        key.extend_from_slice(elem);
        key.extend_from_slice(suffix);
        Some((key.into(), field.clone()))
    }
}

/// SORT's options, parsed as `sortCommandGeneric` does (last ASC/DESC, LIMIT,
/// BY and STORE win; a constant BY anywhere turns sorting off).
#[derive(Debug, Clone)]
pub(super) struct Opts {
    pub desc: bool,
    pub alpha: bool,
    pub limit: (i64, i64),
    pub by: Option<Pattern>,
    pub dontsort: bool,
    pub gets: Vec<Pattern>,
    pub store: Option<Bytes>,
}

impl Opts {
    pub fn parse(args: &[Bytes], readonly: bool) -> Result<Opts, CmdError> {
        let mut o = Opts {
            desc: false,
            alpha: false,
            limit: (0, -1),
            by: None,
            dontsort: false,
            gets: Vec::new(),
            store: None,
        };
        let mut j = 2;
        while j < args.len() {
            let a = &args[j];
            let left = args.len() - j - 1;
            if args::is(a, "asc") {
                o.desc = false;
            } else if args::is(a, "desc") {
                o.desc = true;
            } else if args::is(a, "alpha") {
                o.alpha = true;
            } else if args::is(a, "limit") && left >= 2 {
                o.limit = (args::int(&args[j + 1])?, args::int(&args[j + 2])?);
                j += 2;
            } else if !readonly && args::is(a, "store") && left >= 1 {
                o.store = Some(args[j + 1].clone());
                j += 1;
            } else if args::is(a, "by") && left >= 1 {
                let p = Pattern::parse(&args[j + 1]);
                if !matches!(p, Pattern::Key { .. }) {
                    o.dontsort = true;
                }
                o.by = Some(p);
                j += 1;
            } else if args::is(a, "get") && left >= 1 {
                o.gets.push(Pattern::parse(&args[j + 1]));
                j += 1;
            } else {
                return Err(CmdError::syntax());
            }
            j += 1;
        }
        Ok(o)
    }

    /// What the source shard needs to know to load the vector.
    pub fn load_opts(&self) -> LoadOpts {
        LoadOpts {
            desc: self.desc,
            alpha: self.alpha,
            limit: self.limit,
            by: self.by.is_some(),
            dontsort: self.dontsort,
            store: self.store.is_some(),
        }
    }
}

/// The options the source key's shard loads the vector with.
#[derive(Debug, Clone, Copy)]
pub(super) struct LoadOpts {
    pub desc: bool,
    pub alpha: bool,
    pub limit: (i64, i64),
    pub by: bool,
    pub dontsort: bool,
    pub store: bool,
}

/// The vector to sort, taken from the source value, with the output window
/// `start..=end` into it and the sort mode that applies to this value.
#[derive(Debug)]
pub(super) struct Loaded {
    pub elems: Vec<Bytes>,
    pub start: i64,
    pub end: i64,
    pub dontsort: bool,
    pub alpha: bool,
    /// Whether the BY pattern is used (a set sorted for STORE drops it).
    pub by: bool,
}

/// LIMIT's window over a vector of `len` elements, as `sortCommandGeneric`
/// clamps it: `(start, end)`, inclusive, empty when `end < start`.
pub(super) fn window(limit: (i64, i64), len: i64) -> (i64, i64) {
    let start = limit.0.max(0).min(len);
    let count = limit.1.max(-1).min(len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    let start = if start >= len {
        end = len - 2;
        len - 1
    } else {
        start
    };
    (start, end.min(len - 1))
}

/// Loads the vector from the source value (`None`: a missing key, sorted as
/// an empty list). Lists and sorted sets left unsorted load only the LIMIT
/// window, in ASC/DESC order, as Redis does.
pub(super) fn load(value: Option<&Value>, o: LoadOpts) -> Result<Loaded, OpError> {
    let (mut dontsort, mut alpha, mut by) = (o.dontsort, o.alpha, o.by);
    if dontsort && o.store && matches!(value, Some(Value::Set(_))) {
        // A set's order is arbitrary: what is stored must not depend on it.
        (dontsort, alpha, by) = (false, true, false);
    }
    let len = value.map_or(0, Value::len) as i64;
    let (mut start, mut end) = window(o.limit, len);
    let span = (end - start + 1).max(0) as usize;
    let first = start.max(0) as usize;
    let copy = |s: &[u8]| Bytes::copy_from_slice(s);
    let elems: Vec<Bytes> = match value {
        None => Vec::new(),
        Some(Value::Hash(_) | Value::Stream(_)) => return Err(OpError::WrongType),
        Some(Value::List(l)) if dontsort => {
            let v = if o.desc {
                let mut v: Vec<Bytes> = l.iter().skip(len as usize - first - span).take(span).map(copy).collect();
                v.reverse();
                v
            } else {
                l.iter().skip(first).take(span).map(copy).collect()
            };
            if end >= start {
                end -= start;
                start = 0;
            }
            v
        }
        Some(Value::ZSet(z)) if dontsort => {
            // From rank `start` (counted from the top for DESC), as Redis's
            // zslGetElementByRank walk does.
            let v = match span {
                0 => Vec::new(),
                _ if o.desc => z.range(len as usize - 1 - first, true).take(span).map(|(m, _)| copy(m)).collect(),
                _ => z.range(first, false).take(span).map(|(m, _)| copy(m)).collect(),
            };
            end -= start;
            start = 0;
            v
        }
        Some(Value::List(l)) => l.iter().map(copy).collect(),
        Some(Value::Set(s)) => s.iter().map(|m| copy(&m)).collect(),
        Some(Value::ZSet(z)) => z.iter().map(|(m, _)| copy(m)).collect(),
    };
    Ok(Loaded { elems, start, end, dontsort, alpha, by })
}

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A sort weight as Redis reads it: `strtod` over the whole string (up to a
/// NUL), refusing trailing garbage, NaN and out-of-range values (ERANGE:
/// overflow to infinity or underflow to a subnormal or zero). `None` is
/// "One or more scores can't be converted into double".
pub(super) fn weight(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    if s.is_empty() {
        return Some(0.0); // strtod converts nothing and stops at the NUL
    }
    let s = &s[s.iter().position(|&b| !is_c_space(b))?..];
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.first().is_none_or(|&b| b == b'-' || b == b'+') {
        return None;
    }
    let v = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        hex_float(&body[2..])?
    } else {
        let lower = body.to_ascii_lowercase();
        if lower == b"inf" || lower == b"infinity" {
            f64::INFINITY
        } else {
            if !body.iter().all(|&b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
                return None;
            }
            let v: f64 = std::str::from_utf8(body).ok()?.parse().ok()?;
            let mantissa = body.split(|&b| b == b'e' || b == b'E').next().unwrap_or(body);
            if v.is_infinite() || (v == 0.0 && mantissa.iter().any(|b| (b'1'..=b'9').contains(b))) {
                return None;
            }
            v
        }
    };
    if v != 0.0 && v.abs() < f64::MIN_POSITIVE {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// The digits of a C hex float after `0x`: `h[.h][p[+-]d]`, whole string.
fn hex_float(s: &[u8]) -> Option<f64> {
    let (mut mant, mut exp, mut digits, mut i) = (0u64, 0i64, 0usize, 0usize);
    let mut sticky = false;
    let mut seen_dot = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            digits += 1;
            if mant >> 58 == 0 {
                mant = mant << 4 | d as u64;
                if seen_dot {
                    exp -= 4;
                }
            } else {
                sticky |= d != 0;
                if !seen_dot {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() {
        // A binary exponent: `p`, an optional sign, at least one digit, nothing after.
        let e = s[i + 1..].strip_prefix(b"+").unwrap_or(&s[i + 1..]);
        let (eneg, digits) = match e.strip_prefix(b"-") {
            Some(d) => (true, d),
            None => (false, e),
        };
        if s[i] | 0x20 != b'p' || digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let e = digits.iter().fold(0i64, |acc, &d| (acc * 10 + (d - b'0') as i64).min(100_000));
        exp += if eneg { -e } else { e };
    }
    let m = (mant | sticky as u64) as f64;
    let v = m * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    let v = if v == 0.0 && m != 0.0 && exp < -1074 {
        // powi underflowed before the multiplication could bring it back.
        m * 2f64.powi((exp / 2) as i32) * 2f64.powi((exp - exp / 2) as i32)
    } else {
        v
    };
    if v.is_infinite() || (v == 0.0 && m != 0.0) {
        return None;
    }
    Some(v)
}

/// Redis's `strcoll` in the C (or C.UTF-8) locale: byte order up to a NUL.
fn collate(a: &[u8], b: &[u8]) -> Ordering {
    c_str(a).cmp(c_str(b))
}

/// One element of the vector: the element and what it sorts by.
#[derive(Debug)]
pub(super) struct Item {
    pub elem: Bytes,
    score: f64,
    by: Option<Bytes>,
}

/// The sort of one SORT call, between loading and output.
pub(super) struct Plan {
    pub items: Vec<Item>,
    pub start: i64,
    pub end: i64,
    dontsort: bool,
    alpha: bool,
    by: Option<Pattern>,
    desc: bool,
    store: bool,
    gets: Vec<Pattern>,
}

impl Plan {
    pub fn new(o: Opts, l: Loaded) -> Plan {
        Plan {
            items: l.elems.into_iter().map(|elem| Item { elem, score: 0.0, by: None }).collect(),
            start: l.start,
            end: l.end,
            dontsort: l.dontsort,
            alpha: l.alpha,
            by: if l.by { o.by } else { None },
            desc: o.desc,
            store: o.store.is_some(),
            gets: o.gets,
        }
    }

    /// The BY lookups, one per element in vector order (none when not sorting by a pattern).
    pub fn by_lookups(&self) -> Vec<Lookup> {
        match &self.by {
            Some(p) if !self.dontsort => self.items.iter().filter_map(|it| p.lookup(&it.elem)).collect(),
            _ => Vec::new(),
        }
    }

    /// Weighs and sorts the vector; `by` holds the BY lookups' values in
    /// [`Plan::by_lookups`] order.
    pub fn sort(&mut self, by: Vec<Option<Bytes>>) -> Result<(), CmdError> {
        if self.dontsort {
            return Ok(());
        }
        let by_pattern = self.by.is_some();
        let mut by = by.into_iter();
        let mut bad = false;
        for it in &mut self.items {
            let value = if by_pattern { by.next().flatten() } else { Some(it.elem.clone()) };
            let Some(value) = value else { continue };
            if self.alpha {
                if by_pattern {
                    it.by = Some(value);
                }
            } else {
                match weight(&value) {
                    Some(w) => it.score = w,
                    None => bad = true,
                }
            }
        }
        if bad {
            return Err(CmdError::err("One or more scores can't be converted into double"));
        }
        let (alpha, store, desc) = (self.alpha, self.store, self.desc);
        let cmp = move |a: &Item, b: &Item| {
            let c = if !alpha {
                a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.elem.cmp(&b.elem))
            } else if by_pattern {
                match (&a.by, &b.by) {
                    (Some(x), Some(y)) if store => x.cmp(y),
                    (Some(x), Some(y)) => collate(x, y),
                    (x, y) => x.is_some().cmp(&y.is_some()),
                }
            } else if store {
                a.elem.cmp(&b.elem)
            } else {
                collate(&a.elem, &b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        };
        if by_pattern && (self.start != 0 || self.end != self.items.len() as i64 - 1) {
            pqsort(&mut self.items, &cmp, self.start, self.end);
        } else {
            // glibc's qsort is a stable merge sort.
            self.items.sort_by(cmp);
        }
        Ok(())
    }

    /// The output window's elements.
    fn window(&self) -> &[Item] {
        if self.end < self.start || self.start < 0 {
            return &[];
        }
        let end = (self.end as usize + 1).min(self.items.len());
        &self.items[(self.start as usize).min(end)..end]
    }

    /// The GET lookups of the output window, element by element, pattern by pattern.
    pub fn get_lookups(&self) -> Vec<Lookup> {
        let w = self.window();
        w.iter().flat_map(|it| self.gets.iter().filter_map(|p| p.lookup(&it.elem))).collect()
    }

    /// The output: each element of the window, or its GET values; `got` holds
    /// the GET lookups' values in [`Plan::get_lookups`] order.
    pub fn rows(&self, got: Vec<Option<Bytes>>) -> Vec<Option<Bytes>> {
        let w = self.window();
        if self.gets.is_empty() {
            return w.iter().map(|it| Some(it.elem.clone())).collect();
        }
        let mut got = got.into_iter();
        let mut rows = Vec::with_capacity(w.len() * self.gets.len());
        for it in w {
            for p in &self.gets {
                rows.push(match p {
                    Pattern::Elem => Some(it.elem.clone()),
                    Pattern::Fixed => None,
                    Pattern::Key { .. } => got.next().flatten(),
                });
            }
        }
        rows
    }
}

/// Redis's `pqsort`: Bentley & McIlroy's quicksort (NetBSD's `qsort`) that
/// only recurses into partitions overlapping `lrange..=rrange`. SORT uses it
/// for BY with LIMIT; it is not stable, so ties come out as Redis's do only
/// if every swap is the same.
pub(crate) fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lrange: i64, rrange: i64) {
    let n = v.len();
    pqsort_at(v, 0, n, cmp, lrange, rrange);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if lt(a, b) {
        if lt(b, c) {
            b
        } else if lt(a, c) {
            c
        } else {
            a
        }
    } else if gt(b, c) {
        b
    } else if lt(a, c) {
        a
    } else {
        c
    }
}

fn insertion_sort<T>(v: &mut [T], a: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    for m in a + 1..a + n {
        let mut l = m;
        while l > a && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
            v.swap(l, l - 1);
            l -= 1;
        }
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// `_pqsort` over `v[a..a + n]`, with absolute indices as the C pointers are.
fn pqsort_at<T>(v: &mut [T], mut a: usize, mut n: usize, cmp: &impl Fn(&T, &T) -> Ordering, lr: i64, rr: i64) {
    // Whether v[l..l + cnt] holds part of the wanted range.
    let overlaps = |l: usize, cnt: usize| {
        let (l, r) = (l as i64, (l + cnt) as i64 - 1);
        !((lr < l && rr < l) || (lr > r && rr > r))
    };
    loop {
        if n < 7 {
            insertion_sort(v, a, n, cmp);
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        let mut swapped = false;
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    swapped = true;
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    swapped = true;
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            swapped = true;
            pb += 1;
            pc -= 1;
        }
        if !swapped {
            insertion_sort(v, a, n, cmp);
            return;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && overlaps(a, r) {
            pqsort_at(v, a, r, cmp, lr, rr);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if overlaps(a, n) {
                continue;
            }
        }
        return;
    }
}
