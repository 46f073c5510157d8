//! `struct`: Roberto Ierusalimschy's struct library as Redis 7.0 ships it
//! (with Redis's bounds checks): `pack`, `unpack`, `size` over formats of
//! `>` `<` `!n` `x` `b` `B` `h` `H` `l` `L` `T` `i[n]` `I[n]` `s` `f` `d`
//! `c[n]` and spaces, with the sizes of Redis's x86-64 build (short 2, int 4,
//! long and size_t 8, max alignment 8), native order little-endian.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use super::{arg_error, check_bytes, check_number, check_stack, entry, error, opt_integer, push_bytes, Res};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;
const SIZE_INT: usize = 4;
const SIZE_LONG: usize = 8;

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

const DEFAULT_HEADER: Header = Header { little: true, align: 1 };

/// The format string up to its first NUL (C reads it as a C string).
struct Format<'a> {
    fmt: &'a [u8],
    at: usize,
}

impl Format<'_> {
    fn peek(&self) -> u8 {
        self.fmt.get(self.at).copied().unwrap_or(0)
    }

    fn next_option(&mut self) -> Option<u8> {
        let c = self.peek();
        if c == 0 {
            return None;
        }
        self.at += 1;
        Some(c)
    }

    /// `getnum`: a decimal count, or `default` when no digit follows.
    fn num(&mut self, default: usize) -> Res<usize> {
        if !self.peek().is_ascii_digit() {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while self.peek().is_ascii_digit() {
            let digit = (self.peek() - b'0') as i32;
            if a > i32::MAX / 10 || a * 10 > i32::MAX - digit {
                return Err(error("integral size overflow"));
            }
            a = a * 10 + digit;
            self.at += 1;
        }
        Ok(a as usize)
    }
}

/// `optsize`: the size of a value option (0 for the others).
fn optsize(opt: u8, fmt: &mut Format<'_>) -> Res<usize> {
    Ok(match opt {
        b'B' | b'b' | b'x' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => SIZE_LONG,
        b'f' => 4,
        b'c' => fmt.num(1)?,
        b'i' | b'I' => {
            let size = fmt.num(SIZE_INT)?;
            if size > MAXINTSIZE {
                return Err(error(format!("integral size {size} is larger than limit of {MAXINTSIZE}")));
            }
            size
        }
        _ => 0,
    })
}

/// `gettoalign`: padding before an item of `size` at offset `len`.
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & (size - 1))) & (size - 1)
}

/// `controloptions`: endianness, alignment and spaces; anything else is an
/// invalid option.
fn controloptions(opt: u8, fmt: &mut Format<'_>, h: &mut Header) -> Res<()> {
    match opt {
        b' ' => {}
        b'>' => h.little = false,
        b'<' => h.little = true,
        b'!' => {
            let a = fmt.num(MAXALIGN)?;
            if !a.is_power_of_two() {
                return Err(error(format!("alignment {a} is not a power of 2")));
            }
            h.align = a;
        }
        _ => {
            let mut msg = b"invalid format option '".to_vec();
            msg.push(opt);
            msg.push(b'\'');
            return Err(arg_error(1, msg));
        }
    }
    Ok(())
}

unsafe fn format_arg<'a>(l: *mut lua_State) -> Res<Format<'a>> {
    let fmt = check_bytes(l, 1)?;
    let end = fmt.iter().position(|&b| b == 0).unwrap_or(fmt.len());
    Ok(Format { fmt: &fmt[..end], at: 0 })
}

unsafe fn pack(l: *mut lua_State) -> Res<c_int> {
    let mut fmt = format_arg(l)?;
    let mut h = DEFAULT_HEADER;
    let mut arg: c_int = 2;
    // The C code pushes a nil to separate the arguments from its buffer: a
    // missing first value reads as nil, later ones as no value.
    ffi::lua_pushnil(l);
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = fmt.next_option() {
        let mut size = optsize(opt, &mut fmt)?;
        let toalign = gettoalign(out.len(), &h, opt, size);
        out.resize(out.len() + toalign, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(l, arg)?;
                arg += 1;
                let mut value = if n < 0.0 { super::c_double_to_long(n) as u64 } else { super::c_double_to_ulong(n) };
                let mut bytes = [0u8; MAXINTSIZE];
                for slot in bytes[..size].iter_mut() {
                    *slot = value as u8;
                    value >>= 8;
                }
                if !h.little {
                    bytes[..size].reverse();
                }
                out.extend_from_slice(&bytes[..size]);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(l, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little { f.to_le_bytes() } else { f.to_be_bytes() });
            }
            b'd' => {
                let d = check_number(l, arg)?;
                arg += 1;
                out.extend_from_slice(&if h.little { d.to_le_bytes() } else { d.to_be_bytes() });
            }
            b'c' | b's' => {
                let s = check_bytes(l, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // The C code blames the argument after the string.
                    return Err(arg_error(arg, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => controloptions(opt, &mut fmt, &mut h)?,
        }
    }
    push_bytes(l, &out);
    Ok(1)
}

/// `getinteger`: `size` bytes as an unsigned or sign-extended number, kept
/// to the low 64 bits as the C code's `unsigned long` does.
fn getinteger(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let size = bytes.len();
    let mut v: u64 = 0;
    let mut push = |b: u8| v = (v << 8) | b as u64;
    if little {
        bytes.iter().rev().for_each(|&b| push(b));
    } else {
        bytes.iter().for_each(|&b| push(b));
    }
    if !signed {
        return v as f64;
    }
    let mask = (!0u64).wrapping_shl((size * 8).wrapping_sub(1) as u32);
    if v & mask != 0 {
        v |= mask;
    }
    v as i64 as f64
}

unsafe fn unpack(l: *mut lua_State) -> Res<c_int> {
    let mut fmt = format_arg(l)?;
    let data = check_bytes(l, 2)?;
    let ld = data.len();
    let pos = opt_integer(l, 3, 1)? as u64 as usize;
    if pos == 0 {
        return Err(arg_error(3, "offset must be 1 or greater"));
    }
    let mut pos = pos - 1;
    let mut h = DEFAULT_HEADER;
    let mut n: c_int = 0;
    ffi::lua_settop(l, 2);
    let too_short = |pos: usize, size: usize| size > ld || pos > ld - size;
    while let Some(opt) = fmt.next_option() {
        let mut size = optsize(opt, &mut fmt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if too_short(pos, size) {
            return Err(arg_error(2, "data string too short"));
        }
        check_stack(l, 2, "too many results")?;
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let res = getinteger(&data[pos..pos + size], h.little, opt.is_ascii_lowercase());
                ffi::lua_pushnumber(l, res);
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = [data[pos], data[pos + 1], data[pos + 2], data[pos + 3]];
                let f = if h.little { f32::from_le_bytes(b) } else { f32::from_be_bytes(b) };
                ffi::lua_pushnumber(l, f as f64);
                n += 1;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let d = if h.little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) };
                ffi::lua_pushnumber(l, d);
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                        return Err(error("format 'c0' needs a previous size"));
                    }
                    size = super::c_double_to_ulong(ffi::lua_tonumber(l, -1)) as usize;
                    ffi::lua_pop(l, 1);
                    n -= 1;
                    if too_short(pos, size) {
                        return Err(arg_error(2, "data string too short"));
                    }
                }
                push_bytes(l, &data[pos..pos + size]);
                n += 1;
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(error("unfinished string in data"));
                };
                push_bytes(l, &data[pos..pos + end]);
                n += 1;
                size = end + 1;
            }
            _ => controloptions(opt, &mut fmt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(l, pos.wrapping_add(1) as ffi::lua_Integer);
    Ok(n + 1)
}

unsafe fn size(l: *mut lua_State) -> Res<c_int> {
    let mut fmt = format_arg(l)?;
    let mut h = DEFAULT_HEADER;
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next_option() {
        let size = optsize(opt, &mut fmt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            return Err(arg_error(1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(arg_error(1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(opt, &mut fmt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(l, pos as ffi::lua_Integer);
    Ok(1)
}

macro_rules! c_fn {
    ($name:ident, $work:ident) => {
        unsafe extern "C-unwind" fn $name(l: *mut lua_State) -> c_int {
            entry(l, $work)
        }
    };
}

c_fn!(c_pack, pack);
c_fn!(c_unpack, unpack);
c_fn!(c_size, size);

/// `luaopen_struct`: the global `struct` table.
pub(crate) unsafe fn open(l: *mut lua_State) {
    let funcs: [(&std::ffi::CStr, ffi::lua_CFunction); 3] =
        [(c"pack", c_pack), (c"unpack", c_unpack), (c"size", c_size)];
    super::register_global(l, c"struct", &funcs);
}

#[cfg(test)]
#[path = "structlib_tests.rs"]
mod tests;
