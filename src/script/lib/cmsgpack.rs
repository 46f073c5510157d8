//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis 7.0 ships it: `pack` (several
//! values into one stream), `unpack`, `unpack_one`, `unpack_limit`. Same byte
//! encodings: integral numbers as the smallest MessagePack integer, others
//! as a 32-bit float when that is exact and a double otherwise, tables with
//! keys exactly 1..n as arrays and anything else as maps, tables nested 16
//! deep (cycles, say) and unsupported values as nil.
//!
//! Decoding keeps its nesting on an explicit stack (the Lua stack holds the
//! tables, bounded by `lua_checkstack` as in the C code).

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use super::{arg_error, check_bytes, check_integer, check_stack, entry, error, opt_integer, push_bytes, Raise, Res};

const MAX_NESTING: c_int = 16;

// ---------------------------------------------------------------- encoding

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_double(buf: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f as f64 {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_bits().to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_bits().to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_header(buf: &mut Vec<u8>, n: u64, fix: u8, op16: u8, op32: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 65535 {
        buf.push(op16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(op32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

unsafe fn encode_number(l: *mut lua_State, buf: &mut Vec<u8>) {
    let n = ffi::lua_tonumber(l, -1);
    // IS_INT64_EQUIVALENT: finite and (int64_t)n == n.
    if !n.is_infinite() && super::c_double_to_long(n) as f64 == n {
        encode_int(buf, ffi::lua_tointeger_(l, -1) as i64);
    } else {
        encode_double(buf, n);
    }
}

/// `table_is_an_array`: every key a positive number that fits an int, and
/// the largest equal to the count.
unsafe fn table_is_an_array(l: *mut lua_State) -> Res<bool> {
    let top = ffi::lua_gettop(l);
    check_stack(l, 2, "in function table_is_an_array")?;
    let mut count: c_int = 0;
    let mut max: c_int = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let n = ffi::lua_tonumber(l, -1);
        let int_equivalent = !n.is_infinite() && super::c_double_to_int(n) as f64 == n;
        if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER || n <= 0.0 || !int_equivalent {
            ffi::lua_settop(l, top);
            return Ok(false);
        }
        if n > max as f64 {
            max = n as c_int;
        }
        count = count.wrapping_add(1);
    }
    ffi::lua_settop(l, top);
    Ok(max == count)
}

/// Encodes the value on top of the stack and pops it.
unsafe fn encode_value(l: *mut lua_State, buf: &mut Vec<u8>, level: c_int) -> Res<()> {
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => {
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            encode_bytes(buf, std::slice::from_raw_parts(p.cast(), len));
        }
        ffi::LUA_TBOOLEAN => buf.push(if ffi::lua_toboolean(l, -1) != 0 { 0xc3 } else { 0xc2 }),
        ffi::LUA_TNUMBER => encode_number(l, buf),
        ffi::LUA_TTABLE => {
            if table_is_an_array(l)? {
                let len = ffi::lua_objlen(l, -1);
                encode_header(buf, len as u64, 0x90, 0xdc, 0xdd);
                check_stack(l, 1, "in function mp_encode_lua_table_as_array")?;
                for j in 1..=len {
                    ffi::lua_pushnumber(l, j as f64);
                    ffi::lua_gettable(l, -2);
                    encode_value(l, buf, level + 1)?;
                }
            } else {
                check_stack(l, 3, "in function mp_encode_lua_table_as_map")?;
                let mut len: u64 = 0;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pop(l, 1);
                    len += 1;
                }
                encode_header(buf, len, 0x80, 0xde, 0xdf);
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pushvalue(l, -2);
                    encode_value(l, buf, level + 1)?;
                    encode_value(l, buf, level + 1)?;
                }
            }
        }
        _ => buf.push(0xc0),
    }
    ffi::lua_pop(l, 1);
    Ok(())
}

unsafe fn pack(l: *mut lua_State) -> Res<c_int> {
    let nargs = ffi::lua_gettop(l);
    if nargs == 0 {
        return Err(arg_error(0, "MessagePack pack needs input."));
    }
    if ffi::lua_checkstack(l, nargs) == 0 {
        return Err(arg_error(0, "Too many arguments for MessagePack pack."));
    }
    let mut buf = Vec::new();
    for i in 1..=nargs {
        check_stack(l, 1, "in function mp_check")?;
        ffi::lua_pushvalue(l, i);
        encode_value(l, &mut buf, 0)?;
        push_bytes(l, &buf);
        buf.clear();
    }
    ffi::lua_concat(l, nargs);
    Ok(1)
}

// ---------------------------------------------------------------- decoding

enum Fail {
    /// Not enough input.
    Eof,
    /// A byte no MessagePack type starts with (bin, ext, 0xc1...).
    BadFormat,
}

enum Frame {
    /// Elements still to read and the index the next one goes to.
    Array { left: u64, index: c_int },
    /// Pairs still to read; `key` when the key is on the stack.
    Map { left: u64, key: bool },
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.at
    }

    fn need(&self, n: usize) -> Result<(), Fail> {
        if self.left() < n {
            return Err(Fail::Eof);
        }
        Ok(())
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        self.data[self.at + from..self.at + from + n].iter().fold(0, |v, &b| (v << 8) | b as u64)
    }
}

/// `lua_pushunsigned` on 64-bit builds: `lua_pushinteger`, so values past
/// 2^63 come back negative, as in Redis.
unsafe fn push_unsigned(l: *mut lua_State, v: u64) {
    ffi::lua_pushinteger(l, v as i64 as ffi::lua_Integer);
}

enum Step {
    /// A value was pushed.
    Value,
    /// A table was pushed and a frame opened for its elements.
    Open(Frame),
}

/// Decodes the value at the cursor: pushes a scalar or an empty table.
unsafe fn decode_one(l: *mut lua_State, c: &mut Cursor<'_>) -> Res<Result<Step, Fail>> {
    if let Err(f) = c.need(1) {
        return Ok(Err(f));
    }
    check_stack(l, 1, "too many return values at once; use unpack_one or unpack_limit instead.")?;
    let b = c.data[c.at];
    macro_rules! need {
        ($n:expr) => {
            if let Err(f) = c.need($n) {
                return Ok(Err(f));
            }
        };
    }
    let open = |c: &mut Cursor<'_>, hdr: usize, len: u64, map: bool| -> Res<Result<Step, Fail>> {
        c.at += hdr;
        ffi::lua_newtable(l);
        if map {
            return Ok(Ok(Step::Open(Frame::Map { left: len, key: false })));
        }
        check_stack(l, 1, "in function mp_decode_to_lua_array")?;
        Ok(Ok(Step::Open(Frame::Array { left: len, index: 1 })))
    };
    match b {
        0xcc => {
            need!(2);
            push_unsigned(l, c.be(1, 1));
            c.at += 2;
        }
        0xd0 => {
            need!(2);
            ffi::lua_pushinteger(l, c.data[c.at + 1] as i8 as ffi::lua_Integer);
            c.at += 2;
        }
        0xcd => {
            need!(3);
            push_unsigned(l, c.be(1, 2));
            c.at += 3;
        }
        0xd1 => {
            need!(3);
            ffi::lua_pushinteger(l, c.be(1, 2) as u16 as i16 as ffi::lua_Integer);
            c.at += 3;
        }
        0xce => {
            need!(5);
            push_unsigned(l, c.be(1, 4));
            c.at += 5;
        }
        0xd2 => {
            need!(5);
            ffi::lua_pushinteger(l, c.be(1, 4) as u32 as i32 as ffi::lua_Integer);
            c.at += 5;
        }
        0xcf => {
            need!(9);
            push_unsigned(l, c.be(1, 8));
            c.at += 9;
        }
        0xd3 => {
            need!(9);
            ffi::lua_pushnumber(l, c.be(1, 8) as i64 as f64);
            c.at += 9;
        }
        0xc0 => {
            ffi::lua_pushnil(l);
            c.at += 1;
        }
        0xc3 | 0xc2 => {
            ffi::lua_pushboolean(l, (b == 0xc3) as c_int);
            c.at += 1;
        }
        0xca => {
            need!(5);
            ffi::lua_pushnumber(l, f32::from_bits(c.be(1, 4) as u32) as f64);
            c.at += 5;
        }
        0xcb => {
            need!(9);
            ffi::lua_pushnumber(l, f64::from_bits(c.be(1, 8)));
            c.at += 9;
        }
        0xd9..=0xdb => {
            let hdr = match b {
                0xd9 => 2,
                0xda => 3,
                _ => 5,
            };
            need!(hdr);
            let len = c.be(1, hdr - 1) as usize;
            if c.left() - hdr < len {
                return Ok(Err(Fail::Eof));
            }
            push_bytes(l, &c.data[c.at + hdr..c.at + hdr + len]);
            c.at += hdr + len;
        }
        0xdc | 0xde => {
            need!(3);
            let len = c.be(1, 2);
            return open(c, 3, len, b == 0xde);
        }
        0xdd | 0xdf => {
            need!(5);
            let len = c.be(1, 4);
            return open(c, 5, len, b == 0xdf);
        }
        _ if b & 0x80 == 0 => {
            push_unsigned(l, b as u64);
            c.at += 1;
        }
        _ if b & 0xe0 == 0xe0 => {
            ffi::lua_pushinteger(l, b as i8 as ffi::lua_Integer);
            c.at += 1;
        }
        _ if b & 0xe0 == 0xa0 => {
            let len = (b & 0x1f) as usize;
            need!(1 + len);
            push_bytes(l, &c.data[c.at + 1..c.at + 1 + len]);
            c.at += 1 + len;
        }
        _ if b & 0xf0 == 0x90 => return open(c, 1, (b & 0xf) as u64, false),
        _ if b & 0xf0 == 0x80 => return open(c, 1, (b & 0xf) as u64, true),
        _ => return Ok(Err(Fail::BadFormat)),
    }
    Ok(Ok(Step::Value))
}

/// `lua_settable(L, -3)` on a fresh table: the VM's own errors for keys a
/// table cannot hold.
unsafe fn set_field(l: *mut lua_State) -> Res<()> {
    match ffi::lua_type(l, -2) {
        ffi::LUA_TNIL => return Err(Raise::Plain(b"table index is nil".to_vec())),
        ffi::LUA_TNUMBER if ffi::lua_tonumber(l, -2).is_nan() => {
            return Err(Raise::Plain(b"table index is NaN".to_vec()));
        }
        _ => {}
    }
    ffi::lua_rawset(l, -3);
    Ok(())
}

/// Decodes one top-level value (and everything nested in it).
unsafe fn decode_value(l: *mut lua_State, c: &mut Cursor<'_>) -> Res<Result<(), Fail>> {
    let mut frames: Vec<Frame> = Vec::new();
    'value: loop {
        // In an array the element's index is pushed before the element.
        if let Some(Frame::Array { index, .. }) = frames.last() {
            ffi::lua_pushnumber(l, *index as f64);
        }
        match decode_one(l, c)? {
            Err(f) => return Ok(Err(f)),
            Ok(Step::Open(frame)) => frames.push(frame),
            Ok(Step::Value) => {
                if frames.is_empty() {
                    return Ok(Ok(()));
                }
                match frames.last_mut() {
                    Some(Frame::Map { key, .. }) if !*key => {
                        *key = true;
                        continue 'value;
                    }
                    _ => set_field(l)?,
                }
                match frames.last_mut() {
                    Some(Frame::Array { left, index }) => {
                        *left -= 1;
                        *index = index.wrapping_add(1);
                    }
                    Some(Frame::Map { left, key }) => {
                        *left -= 1;
                        *key = false;
                    }
                    None => {}
                }
            }
        }
        // Close every container that has all its elements.
        loop {
            let done = match frames.last() {
                None => return Ok(Ok(())),
                Some(Frame::Array { left, .. }) | Some(Frame::Map { left, .. }) => *left == 0,
            };
            if !done {
                continue 'value;
            }
            frames.pop();
            match frames.last_mut() {
                None => return Ok(Ok(())),
                Some(Frame::Map { key, .. }) if !*key => *key = true,
                Some(parent) => {
                    set_field(l)?;
                    match parent {
                        Frame::Array { left, index } => {
                            *left -= 1;
                            *index = index.wrapping_add(1);
                        }
                        Frame::Map { left, key } => {
                            *left -= 1;
                            *key = false;
                        }
                    }
                }
            }
        }
    }
}

unsafe fn unpack_full(l: *mut lua_State, limit: i64, offset: i64) -> Res<c_int> {
    let data = check_bytes(l, 1)?;
    let len = data.len();
    if offset < 0 || limit < 0 {
        return Err(error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as c_int, len as c_int
        )));
    } else if offset as u64 > len as u64 {
        return Err(error(format!("Start offset {} greater than input length {}.", offset as c_int, len as c_int)));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { c_int::MAX as i64 } else { limit };
    let mut c = Cursor { data, at: offset as usize };
    let mut count: c_int = 0;
    while c.left() > 0 && (count as i64) < limit {
        match decode_value(l, &mut c)? {
            Ok(()) => {}
            Err(Fail::Eof) => return Err(error("Missing bytes in input.")),
            Err(Fail::BadFormat) => return Err(error("Bad data format in input.")),
        }
        count += 1;
    }
    if !decode_all {
        check_stack(l, 1, "in function mp_unpack_full")?;
        let next = if c.left() == 0 { -1 } else { c.at as i64 };
        ffi::lua_pushinteger(l, next as ffi::lua_Integer);
        ffi::lua_insert(l, 2);
        count += 1;
    }
    Ok(count)
}

unsafe fn unpack(l: *mut lua_State) -> Res<c_int> {
    unpack_full(l, 0, 0)
}

/// `lua_pop(L, lua_gettop(L) - 1)`: drops every argument after the first.
unsafe fn keep_first_argument(l: *mut lua_State) {
    if ffi::lua_gettop(l) > 1 {
        ffi::lua_settop(l, 1);
    }
}

unsafe fn unpack_one(l: *mut lua_State) -> Res<c_int> {
    let offset = opt_integer(l, 2, 0)?;
    keep_first_argument(l);
    unpack_full(l, 1, offset)
}

unsafe fn unpack_limit(l: *mut lua_State) -> Res<c_int> {
    let limit = check_integer(l, 2)?;
    let offset = opt_integer(l, 3, 0)?;
    keep_first_argument(l);
    unpack_full(l, limit, offset)
}

// ---------------------------------------------------------------- module

macro_rules! c_fn {
    ($name:ident, $work:ident) => {
        unsafe extern "C-unwind" fn $name(l: *mut lua_State) -> c_int {
            entry(l, $work)
        }
    };
}

c_fn!(c_pack, pack);
c_fn!(c_unpack, unpack);
c_fn!(c_unpack_one, unpack_one);
c_fn!(c_unpack_limit, unpack_limit);

/// `luaopen_cmsgpack`: the global `cmsgpack` table with its metadata.
pub(crate) unsafe fn open(l: *mut lua_State) {
    ffi::lua_checkstack(l, 4);
    ffi::lua_createtable(l, 0, 8);
    let funcs: [(&std::ffi::CStr, ffi::lua_CFunction); 4] =
        [(c"pack", c_pack), (c"unpack", c_unpack), (c"unpack_one", c_unpack_one), (c"unpack_limit", c_unpack_limit)];
    super::set_functions(l, &funcs, 0);
    for (field, value) in [
        (c"_NAME", &b"cmsgpack"[..]),
        (c"_VERSION", b"lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", b"Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", b"MessagePack C implementation for Lua"),
    ] {
        push_bytes(l, value);
        ffi::lua_setfield(l, -2, field.as_ptr());
    }
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cmsgpack".as_ptr());
}

#[cfg(test)]
#[path = "cmsgpack_tests.rs"]
mod tests;
