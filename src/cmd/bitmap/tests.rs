//! Unit tests of the bitmap commands on a bare `Db`, and seeded random runs
//! of the word-at-a-time scans and of BITFIELD against bit-by-bit models.
//! Expected replies were taken from redis-server 7.0.15.

use super::bitop::{compute, Op};
use super::count::{find_bit, popcount};
use super::field::{self, Action, Field, Overflow};
use super::{bitop, count, getbit, setbit};
use crate::cmd::test_util::{KsFn, TestDb};
use crate::db::{Entry, StrEncoding};

const WRONG: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// Runs a BITFIELD given as one line of space-separated arguments.
fn bitfield(t: &mut TestDb, line: &str) -> String {
    t.run(field::bitfield, &line.split(' ').collect::<Vec<_>>())
}

/// xorshift64*, so a seed always makes the same run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, max_len: u64) -> Vec<u8> {
        let len = self.below(max_len + 1);
        // Runs of 0x00 and 0xff, so the word skips have something to skip.
        (0..len)
            .map(|_| match self.below(4) {
                0 => 0,
                1 => 0xff,
                _ => self.next() as u8,
            })
            .collect()
    }
}

/// Stores a string as SET would.
fn put(t: &mut TestDb, key: &str, value: &str) {
    let v = value.as_bytes();
    t.db.insert(Entry::new_string(key.as_bytes(), v, StrEncoding::for_value(v), None));
}

fn bit(v: &[u8], i: u64) -> bool {
    v.get((i / 8) as usize).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

#[test]
fn setbit_and_getbit() {
    let mut t = TestDb::default();
    assert_eq!(t.run(setbit, &["setbit", "k", "7", "1"]), ":0\r\n");
    assert_eq!(t.run(setbit, &["setbit", "k", "7", "0"]), ":1\r\n");
    assert_eq!(t.run(setbit, &["setbit", "k", "1", "1"]), ":0\r\n");
    assert_eq!(t.run(getbit, &["getbit", "k", "1"]), ":1\r\n");
    assert_eq!(t.run(getbit, &["getbit", "k", "0"]), ":0\r\n");
    assert_eq!(t.run(getbit, &["getbit", "k", "100"]), ":0\r\n");
    assert_eq!(t.run(getbit, &["getbit", "nokey", "0"]), ":0\r\n");
    assert_eq!(t.db.table().get(&b"k"[..]).map(|e| e.value().to_vec()), Some(vec![0x40]));
    assert_eq!(t.encoding("k"), Some("raw"));
    // Growth pads with zero bytes.
    assert_eq!(t.run(setbit, &["setbit", "k", "23", "1"]), ":0\r\n");
    assert_eq!(t.db.table().get(&b"k"[..]).map(|e| e.value().to_vec()), Some(vec![0x40, 0, 1]));
    // Int and embstr strings are read as their text, and become raw when written.
    put(&mut t, "n", "12");
    assert_eq!(t.run(getbit, &["getbit", "n", "2"]), ":1\r\n");
    assert_eq!(t.run(setbit, &["setbit", "n", "0", "0"]), ":0\r\n");
    assert_eq!(t.encoding("n"), Some("raw"));
}

#[test]
fn setbit_and_getbit_errors() {
    let mut t = TestDb::default();
    let off = "-ERR bit offset is not an integer or out of range\r\n";
    let val = "-ERR bit is not an integer or out of range\r\n";
    assert_eq!(t.run(setbit, &["setbit", "k", "-1", "1"]), off);
    assert_eq!(t.run(setbit, &["setbit", "k", "4294967296", "1"]), off);
    assert_eq!(t.run(setbit, &["setbit", "k", "x", "1"]), off);
    assert_eq!(t.run(setbit, &["setbit", "k", "0", "2"]), val);
    assert_eq!(t.run(setbit, &["setbit", "k", "0", "-1"]), val);
    assert_eq!(t.run(setbit, &["setbit", "k", "0", "x"]), val);
    assert_eq!(t.run(getbit, &["getbit", "k", "4294967296"]), off);
    assert_eq!(t.run(getbit, &["getbit", "k", "-1"]), off);
    t.db.insert(crate::db::Entry::new_obj(b"l", crate::types::Value::List(Default::default()), None));
    assert_eq!(t.run(setbit, &["setbit", "l", "0", "1"]), WRONG);
    assert_eq!(t.run(getbit, &["getbit", "l", "0"]), WRONG);
    assert_eq!(t.run(count::bitcount, &["bitcount", "l"]), WRONG);
    assert_eq!(t.run(count::bitpos, &["bitpos", "l", "1"]), WRONG);
    assert_eq!(bitfield(&mut t, "bitfield l"), WRONG);
    assert_eq!(bitfield(&mut t, "bitfield l set u8 0 1"), WRONG);
    assert_eq!(t.run(bitop::bitop, &["bitop", "or", "d", "k", "l"]), WRONG);
}

#[test]
fn events_only_when_something_changed() {
    let mut t = TestDb::notifying();
    let steps: &[(KsFn, &str, &[&str])] = &[
        (setbit, "setbit k 0 1", &["new k", "setbit k"]),
        (setbit, "setbit k 0 1", &[]),
        (setbit, "setbit k 3 0", &[]),
        (setbit, "setbit k 30 0", &["setbit k"]),
        (field::bitfield, "bitfield k set u8 0 128", &[]),
        (field::bitfield, "bitfield k set u8 0 1", &["setbit k"]),
        (field::bitfield, "bitfield k incrby u8 0 0", &[]),
        (field::bitfield, "bitfield k overflow fail incrby u2 100 9", &[]),
        (field::bitfield, "bitfield k set u2 200 0", &["setbit k"]),
        (field::bitfield, "bitfield k get u8 0", &[]),
        (field::bitfield, "bitfield nokey get u8 0", &["keymiss nokey"]),
        (bitop::bitop, "bitop or d k", &["new d", "set d"]),
        (bitop::bitop, "bitop and d k nokey", &["keymiss nokey", "set d"]),
        (bitop::bitop, "bitop and d nokey", &["keymiss nokey", "del d"]),
        (bitop::bitop, "bitop and d nokey", &["keymiss nokey"]),
    ];
    t.expect_events(steps);
}

#[test]
fn bitcount_ranges() {
    let mut t = TestDb::default();
    put(&mut t, "k", "foobar");
    let c = |t: &mut TestDb, a: &[&str]| t.run(count::bitcount, a);
    assert_eq!(c(&mut t, &["bitcount", "k"]), ":26\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "0", "0"]), ":4\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "1", "1"]), ":6\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "1", "1", "byte"]), ":6\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "5", "30", "BIT"]), ":17\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "-99", "-100"]), ":0\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "-100", "-99"]), ":4\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "0", "-1", "bit"]), ":26\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "1"]), "-ERR syntax error\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "0", "1", "bits"]), "-ERR syntax error\r\n");
    assert_eq!(c(&mut t, &["bitcount", "k", "a", "1"]), "-ERR value is not an integer or out of range\r\n");
    // A missing key answers 0 before its arguments are read.
    assert_eq!(c(&mut t, &["bitcount", "nokey", "a"]), ":0\r\n");
}

#[test]
fn bitpos_ranges() {
    let mut t = TestDb::default();
    put(&mut t, "k", "\u{7f}");
    put(&mut t, "e", "");
    let p = |t: &mut TestDb, a: &[&str]| t.run(count::bitpos, a);
    assert_eq!(p(&mut t, &["bitpos", "nokey", "0"]), ":0\r\n");
    assert_eq!(p(&mut t, &["bitpos", "nokey", "1"]), ":-1\r\n");
    assert_eq!(p(&mut t, &["bitpos", "e", "0"]), ":-1\r\n");
    assert_eq!(p(&mut t, &["bitpos", "k", "1"]), ":1\r\n");
    assert_eq!(p(&mut t, &["bitpos", "k", "0"]), ":0\r\n");
    put(&mut t, "f", "\u{7f}\u{7f}");
    t.run(setbit, &["setbit", "f", "0", "1"]);
    t.run(setbit, &["setbit", "f", "8", "1"]);
    // All ones: with no end the first clear bit is past the string.
    assert_eq!(p(&mut t, &["bitpos", "f", "0"]), ":16\r\n");
    assert_eq!(p(&mut t, &["bitpos", "f", "0", "1"]), ":16\r\n");
    assert_eq!(p(&mut t, &["bitpos", "f", "0", "0", "-1"]), ":-1\r\n");
    assert_eq!(p(&mut t, &["bitpos", "f", "0", "0", "-1", "bit"]), ":-1\r\n");
    assert_eq!(p(&mut t, &["bitpos", "f", "1", "3", "-1", "bit"]), ":3\r\n");
    assert_eq!(p(&mut t, &["bitpos", "f", "2"]), "-ERR The bit argument must be 1 or 0.\r\n");
    assert_eq!(p(&mut t, &["bitpos", "f", "0", "0", "1", "x"]), "-ERR syntax error\r\n");
    assert_eq!(p(&mut t, &["bitpos", "f", "0", "0", "x", "x"]), "-ERR syntax error\r\n");
    assert_eq!(p(&mut t, &["bitpos", "f", "0", "0", "1", "bit", "x"]), "-ERR syntax error\r\n");
}

#[test]
fn scans_match_bit_by_bit_models() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let v = rng.bytes(80);
        let want: u64 = v.iter().map(|b| b.count_ones() as u64).sum();
        assert_eq!(popcount(&v), want);
        if v.is_empty() {
            continue;
        }
        let nbits = v.len() as u64 * 8;
        let s = rng.below(nbits);
        let e = s + rng.below(nbits - s);
        for b in [false, true] {
            let want = (s..=e).find(|&i| bit(&v, i) == b);
            assert_eq!(find_bit(&v, s, e, b), want, "{v:?} {s}..={e} bit {b}");
        }
    }
}

#[test]
fn bitop_matches_byte_model() {
    let mut rng = Rng(77);
    for _ in 0..2000 {
        let n = 1 + rng.below(4) as usize;
        let srcs: Vec<Option<Vec<u8>>> =
            (0..n).map(|_| if rng.below(6) == 0 { None } else { Some(rng.bytes(70)) }).collect();
        let refs: Vec<Option<&[u8]>> = srcs.iter().map(|s| s.as_deref()).collect();
        let maxlen = srcs.iter().map(|s| s.as_ref().map_or(0, Vec::len)).max().unwrap_or(0);
        let byte = |k: usize, i: usize| srcs[k].as_ref().and_then(|s| s.get(i)).copied().unwrap_or(0);
        for op in [Op::And, Op::Or, Op::Xor, Op::Not] {
            if op == Op::Not && n != 1 {
                continue;
            }
            let want: Vec<u8> = (0..maxlen)
                .map(|i| {
                    let mut x = byte(0, i);
                    for k in 1..n {
                        match op {
                            Op::And => x &= byte(k, i),
                            Op::Or => x |= byte(k, i),
                            Op::Xor => x ^= byte(k, i),
                            Op::Not => {}
                        }
                    }
                    if op == Op::Not {
                        !x
                    } else {
                        x
                    }
                })
                .collect();
            assert_eq!(compute(op, &refs), want, "{op:?} {srcs:?}");
        }
    }
}

#[test]
fn bitop_stores_and_deletes() {
    let mut t = TestDb::default();
    put(&mut t, "a", "abc");
    put(&mut t, "b", "1");
    t.db.insert(Entry::new_string(b"d", b"x", StrEncoding::Embstr, Some(t.now + 100_000)));
    let op = |t: &mut TestDb, a: &[&str]| t.run(bitop::bitop, a);
    assert_eq!(op(&mut t, &["bitop", "or", "d", "a", "b"]), ":3\r\n");
    assert_eq!(t.db.table().get(&b"d"[..]).map(|e| (e.value().to_vec(), e.expire_at())), Some((b"qbc".to_vec(), None)));
    assert_eq!(t.encoding("d"), Some("raw"));
    assert_eq!(op(&mut t, &["bitop", "not", "d", "b"]), ":1\r\n");
    assert_eq!(t.db.table().get(&b"d"[..]).map(|e| e.value().to_vec()), Some(vec![!b'1']));
    assert_eq!(op(&mut t, &["bitop", "xor", "d", "nokey", "nokey"]), ":0\r\n");
    assert!(t.db.table().get(&b"d"[..]).is_none());
    assert_eq!(op(&mut t, &["bitop", "nand", "d", "a"]), "-ERR syntax error\r\n");
    assert_eq!(
        op(&mut t, &["bitop", "not", "d", "a", "b"]),
        "-ERR BITOP NOT must be called with a single source key.\r\n"
    );
}

#[test]
fn bitfield_replies() {
    let mut t = TestDb::default();
    assert_eq!(bitfield(&mut t, "bitfield k set i8 0 -100 get u8 0"), "*2\r\n:0\r\n:156\r\n");
    assert_eq!(bitfield(&mut t, "bitfield k incrby i8 0 -100"), "*1\r\n:56\r\n");
    assert_eq!(
        bitfield(&mut t, "bitfield k overflow sat incrby i8 0 -200 overflow fail incrby i8 0 -1"),
        "*2\r\n:-128\r\n$-1\r\n"
    );
    assert_eq!(
        bitfield(&mut t, "bitfield k overflow sat set u8 0 -1 overflow wrap set u8 0 300 get u8 0"),
        "*3\r\n:128\r\n:255\r\n:44\r\n"
    );
    // `#N` counts in fields of the type's width.
    assert_eq!(bitfield(&mut t, "bitfield k set u4 #3 15 get u16 0"), "*2\r\n:0\r\n:11279\r\n");
    assert_eq!(bitfield(&mut t, "bitfield k get i64 0 get u63 1").lines().count(), 3);
    assert_eq!(bitfield(&mut t, "bitfield k"), "*0\r\n");
    t.proto = crate::resp::Proto::Resp3;
    assert_eq!(bitfield(&mut t, "bitfield k overflow fail set u2 0 4"), "*1\r\n_\r\n");
}

#[test]
fn bitfield_errors() {
    let mut t = TestDb::default();
    let ty = "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n";
    for bad in ["u64", "i65", "i0", "I8", "i08", "x8", "", "u"] {
        assert_eq!(t.run(field::bitfield, &["bitfield", "k", "get", bad, "0"]), ty, "{bad}");
    }
    let off = "-ERR bit offset is not an integer or out of range\r\n";
    assert_eq!(bitfield(&mut t, "bitfield k get u8 -1"), off);
    assert_eq!(bitfield(&mut t, "bitfield k get u8 #-1"), off);
    assert_eq!(bitfield(&mut t, "bitfield k get u8 4294967296"), off);
    assert_eq!(bitfield(&mut t, "bitfield k get u8 #536870912"), off);
    // Redis multiplies `#N` in wrapping signed 64 bits.
    assert_eq!(bitfield(&mut t, "bitfield k get i64 #288230376151711744"), "*1\r\n:0\r\n");
    let syn = "-ERR syntax error\r\n";
    assert_eq!(bitfield(&mut t, "bitfield k get u8"), syn);
    assert_eq!(bitfield(&mut t, "bitfield k set u8 0"), syn);
    assert_eq!(bitfield(&mut t, "bitfield k overflow"), syn);
    assert_eq!(bitfield(&mut t, "bitfield k frob"), syn);
    assert_eq!(bitfield(&mut t, "bitfield k overflow x get u8 0"), "-ERR Invalid OVERFLOW type specified\r\n");
    assert_eq!(bitfield(&mut t, "bitfield k incrby u8 0 1.5"), "-ERR value is not an integer or out of range\r\n");
    let ro = |t: &mut TestDb, a: &[&str]| t.run(field::bitfield_ro, a);
    assert_eq!(
        ro(&mut t, &["bitfield_ro", "k", "get", "u8", "0", "set", "u8", "0", "1"]),
        "-ERR BITFIELD_RO only supports the GET subcommand\r\n"
    );
    assert_eq!(
        ro(&mut t, &["bitfield_ro", "k", "set", "u8", "0", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(ro(&mut t, &["bitfield_ro", "k", "get", "u8", "0"]), "*1\r\n:0\r\n");
    assert!(t.db.table().get(&b"k"[..]).is_none());
}

/// Redis's bit-by-bit `getUnsignedBitfield`/`setUnsignedBitfield`, as the model.
fn model_get(v: &[u8], offset: u64, bits: u32) -> u64 {
    (0..bits as u64).fold(0, |acc, j| (acc << 1) | bit(v, offset + j) as u64)
}

fn model_set(v: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let on = value & (1 << (bits as u64 - 1 - j)) != 0;
        let i = offset + j;
        let b = &mut v[(i / 8) as usize];
        if on {
            *b |= 0x80 >> (i % 8);
        } else {
            *b &= !(0x80 >> (i % 8));
        }
    }
}

/// The model's result of one write: (reply, stored value) or None for FAIL.
fn model_write(old_raw: u64, f: &Field) -> Option<(i64, u64)> {
    let bits = f.bits;
    let mask: u64 = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
    let old = if f.signed && bits < 64 && old_raw >> (bits - 1) & 1 == 1 {
        (old_raw | !mask) as i64 as i128
    } else if f.signed {
        old_raw as i64 as i128
    } else {
        old_raw as i128
    };
    let (min, max) =
        if f.signed { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) } else { (0, (1i128 << bits) - 1) };
    let (target, reply_old) = match f.action {
        Action::Set(x) => (if f.signed { x as i128 } else { x as u64 as i128 }, true),
        Action::IncrBy(d) => (old + d as i128, false),
        Action::Get => unreachable!(),
    };
    // Redis's quirk: a signed SET far below the range counts as above it.
    let above =
        target > max || (f.signed && bits < 64 && matches!(f.action, Action::Set(_)) && target <= -(1i128 << 63) + max);
    let stored = if target > max || target < min {
        match f.overflow {
            Overflow::Fail => return None,
            Overflow::Sat => (if above { max } else { min }) as u64 & mask,
            Overflow::Wrap => (target as u64) & mask,
        }
    } else {
        (target as u64) & mask
    };
    let as_value = |raw: u64| -> i64 {
        if f.signed && bits < 64 && raw >> (bits - 1) & 1 == 1 {
            (raw | !mask) as i64
        } else {
            raw as i64
        }
    };
    Some((if reply_old { as_value(old_raw) } else { as_value(stored) }, stored))
}

#[test]
fn bitfield_matches_bit_by_bit_model() {
    let mut rng = Rng(0x5eed);
    for _ in 0..20_000 {
        let signed = rng.below(2) == 0;
        let bits = 1 + rng.below(if signed { 64 } else { 63 }) as u32;
        let offset = rng.below(100);
        let overflow = [Overflow::Wrap, Overflow::Sat, Overflow::Fail][rng.below(3) as usize];
        let value = match rng.below(4) {
            0 => rng.next() as i64,
            1 => rng.below(600) as i64 - 300,
            2 => [i64::MIN, i64::MAX, -1, 0, 1][rng.below(5) as usize],
            _ => (rng.next() >> rng.below(64)) as i64,
        };
        let action = if rng.below(2) == 0 { Action::Set(value) } else { Action::IncrBy(value) };
        let f = Field { action, signed, bits, offset, overflow };
        let mut v = rng.bytes(24);
        v.resize(v.len().max((offset as usize + bits as usize).div_ceil(8)), 0);
        let mut want = v.clone();
        let old = model_get(&v, offset, bits);
        assert_eq!(field::get_unsigned(&v, offset, bits), old);
        let expect = model_write(old, &f);
        if let Some((_, stored)) = expect {
            model_set(&mut want, offset, bits, stored);
        }
        let (reply, changed) = field::apply(&mut v, &f);
        assert_eq!(reply, expect.map(|(r, _)| r), "{f:?} on {old:#x}");
        assert_eq!(v, want, "{f:?} on {old:#x}");
        assert_eq!(changed, expect.is_some_and(|(_, s)| s != old), "{f:?}");
    }
}

/// Random BITFIELD commands (several subcommands, OVERFLOW changes, `#N`
/// offsets), SETBITs and deletions on one key, through the handlers, against
/// a plain byte vector that grows as Redis grows the string.
#[test]
fn bitfield_commands_match_a_byte_model() {
    let mut rng = Rng(0xb17f_1e1d);
    let mut t = TestDb::default();
    let mut model: Option<Vec<u8>> = None;
    for step in 0..4000 {
        match rng.below(20) {
            0 => {
                t.ks().remove(b"k");
                model = None;
                continue;
            }
            1 | 2 => {
                let (off, on) = (rng.below(400), rng.below(2));
                let m = model.get_or_insert_with(Vec::new);
                let old = bit(m, off) as u64;
                if m.len() <= (off / 8) as usize {
                    m.resize((off / 8) as usize + 1, 0);
                }
                model_set(m, off, 1, on);
                let got = t.run(setbit, &["setbit", "k", &off.to_string(), &on.to_string()]);
                assert_eq!(got, format!(":{old}\r\n"), "step {step}");
                continue;
            }
            _ => {}
        }
        let mut args: Vec<String> = vec!["bitfield".into(), "k".into()];
        let mut fields = Vec::new();
        let mut overflow = Overflow::Wrap;
        for _ in 0..1 + rng.below(4) {
            if rng.below(4) == 0 {
                let (name, ow) =
                    [("wrap", Overflow::Wrap), ("SAT", Overflow::Sat), ("Fail", Overflow::Fail)][rng.below(3) as usize];
                overflow = ow;
                args.extend(["OVERFLOW".into(), name.into()]);
            }
            let signed = rng.below(2) == 0;
            let bits = 1 + rng.below(if signed { 64 } else { 63 }) as u32;
            let (offset, offset_arg) = if rng.below(4) == 0 {
                let n = rng.below(5);
                (n * bits as u64, format!("#{n}"))
            } else {
                let o = rng.below(300);
                (o, o.to_string())
            };
            let ty = format!("{}{bits}", if signed { "i" } else { "u" });
            let value = match rng.below(3) {
                0 => rng.below(600) as i64 - 300,
                1 => rng.next() as i64,
                _ => [i64::MIN, i64::MAX, -1, 0, 1][rng.below(5) as usize],
            };
            let (action, name) = match rng.below(3) {
                0 => (Action::Get, "GET"),
                1 => (Action::Set(value), "SET"),
                _ => (Action::IncrBy(value), "incrby"),
            };
            args.extend([name.to_string(), ty, offset_arg]);
            if action != Action::Get {
                args.push(value.to_string());
            }
            fields.push(Field { action, signed, bits, offset, overflow });
        }
        let highest = fields.iter().filter(|f| f.action != Action::Get).map(|f| f.offset + f.bits as u64 - 1).max();
        if let Some(h) = highest {
            let m = model.get_or_insert_with(Vec::new);
            m.resize(m.len().max((h / 8) as usize + 1), 0);
        }
        let mut want = format!("*{}\r\n", fields.len());
        for f in &fields {
            let raw = model_get(model.as_deref().unwrap_or_default(), f.offset, f.bits);
            if f.action == Action::Get {
                let v = if f.signed && f.bits < 64 && raw >> (f.bits - 1) & 1 == 1 {
                    (raw | (u64::MAX << f.bits)) as i64
                } else {
                    raw as i64
                };
                want.push_str(&format!(":{v}\r\n"));
                continue;
            }
            match (model_write(raw, f), model.as_mut()) {
                (Some((reply, stored)), Some(m)) => {
                    model_set(m, f.offset, f.bits, stored);
                    want.push_str(&format!(":{reply}\r\n"));
                }
                _ => want.push_str("$-1\r\n"),
            }
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(t.run(field::bitfield, &argv), want, "step {step}: {argv:?}");
        assert_eq!(t.db.table().get(&b"k"[..]).map(|e| e.value().to_vec()), model, "step {step}: {argv:?}");
        if model.is_some() {
            assert_eq!(t.encoding("k"), Some("raw"));
        }
    }
}

#[test]
fn sizes_the_allocator_cannot_give_are_refused() {
    // Only reachable with proto-max-bulk-len raised far past memory.
    let mut t = TestDb::default();
    for args in [
        vec!["setbit", "k", "9223372036854775807", "1"],
        vec!["bitfield", "k", "set", "u8", "#1152921504606846975", "1"],
    ] {
        let argv = crate::cmd::test_util::b(&args);
        let mut ks = t.ks();
        ks.max_len = i64::MAX;
        let mut out = crate::resp::Out::new(crate::resp::Proto::Resp2);
        let r = if args[0] == "setbit" {
            setbit(&mut ks, &argv, &mut out)
        } else {
            field::bitfield(&mut ks, &argv, &mut out)
        };
        assert_eq!(r, Err(crate::error::OpError::StringTooLong.into()), "{args:?}");
        assert!(t.db.table().get(&b"k"[..]).is_none());
    }
}
