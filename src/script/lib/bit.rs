//! `bit`: Lua BitOp 1.0.2 as Redis ships it: 32-bit operations on Lua 5.1's
//! doubles (arguments wrap modulo 2^32, results are signed 32-bit numbers).

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use super::{entry, type_error, Res};

/// Normalises an argument the way BitOp does: add 2^52+2^51 and keep the low
/// 32 bits of the double's representation (a modular, rounding conversion).
unsafe fn barg(l: *mut lua_State, idx: c_int) -> Res<u32> {
    let n = ffi::lua_tonumber(l, idx);
    let b = (n + 6755399441055744.0).to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
        return Err(type_error(l, idx, "number"));
    }
    Ok(b)
}

unsafe fn ret(l: *mut lua_State, b: u32) -> Res<c_int> {
    ffi::lua_pushnumber(l, b as i32 as f64);
    Ok(1)
}

unsafe fn tobit(l: *mut lua_State) -> Res<c_int> {
    let b = barg(l, 1)?;
    ret(l, b)
}

unsafe fn bnot(l: *mut lua_State) -> Res<c_int> {
    let b = barg(l, 1)?;
    ret(l, !b)
}

unsafe fn fold(l: *mut lua_State, op: fn(u32, u32) -> u32) -> Res<c_int> {
    let mut b = barg(l, 1)?;
    let mut i = ffi::lua_gettop(l);
    while i > 1 {
        b = op(b, barg(l, i)?);
        i -= 1;
    }
    ret(l, b)
}

unsafe fn band(l: *mut lua_State) -> Res<c_int> {
    fold(l, |a, b| a & b)
}

unsafe fn bor(l: *mut lua_State) -> Res<c_int> {
    fold(l, |a, b| a | b)
}

unsafe fn bxor(l: *mut lua_State) -> Res<c_int> {
    fold(l, |a, b| a ^ b)
}

unsafe fn shift(l: *mut lua_State, op: fn(u32, u32) -> u32) -> Res<c_int> {
    let b = barg(l, 1)?;
    let n = barg(l, 2)? & 31;
    ret(l, op(b, n))
}

unsafe fn lshift(l: *mut lua_State) -> Res<c_int> {
    shift(l, |b, n| b << n)
}

unsafe fn rshift(l: *mut lua_State) -> Res<c_int> {
    shift(l, |b, n| b >> n)
}

unsafe fn arshift(l: *mut lua_State) -> Res<c_int> {
    shift(l, |b, n| ((b as i32) >> n) as u32)
}

unsafe fn rol(l: *mut lua_State) -> Res<c_int> {
    shift(l, |b, n| b.rotate_left(n))
}

unsafe fn ror(l: *mut lua_State) -> Res<c_int> {
    shift(l, |b, n| b.rotate_right(n))
}

unsafe fn bswap(l: *mut lua_State) -> Res<c_int> {
    let b = barg(l, 1)?;
    ret(l, b.swap_bytes())
}

unsafe fn tohex(l: *mut lua_State) -> Res<c_int> {
    let mut b = barg(l, 1)?;
    let mut n: i32 = if ffi::lua_type(l, 2) == ffi::LUA_TNONE { 8 } else { barg(l, 2)? as i32 };
    let mut digits: &[u8; 16] = b"0123456789abcdef";
    if n < 0 {
        // -INT_MIN overflows in C; Redis's build treats the result as
        // positive (more than 8), so it prints 8 digits.
        n = n.checked_neg().unwrap_or(i32::MAX);
        digits = b"0123456789ABCDEF";
    }
    let n = n.min(8) as usize;
    let mut buf = [0u8; 8];
    for slot in buf[..n].iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    super::push_bytes(l, &buf[..n]);
    Ok(1)
}

macro_rules! c_fn {
    ($name:ident, $work:ident) => {
        unsafe extern "C-unwind" fn $name(l: *mut lua_State) -> c_int {
            entry(l, $work)
        }
    };
}

c_fn!(c_tobit, tobit);
c_fn!(c_bnot, bnot);
c_fn!(c_band, band);
c_fn!(c_bor, bor);
c_fn!(c_bxor, bxor);
c_fn!(c_lshift, lshift);
c_fn!(c_rshift, rshift);
c_fn!(c_arshift, arshift);
c_fn!(c_rol, rol);
c_fn!(c_ror, ror);
c_fn!(c_bswap, bswap);
c_fn!(c_tohex, tohex);

/// `luaopen_bit`: the global `bit` table.
pub(crate) unsafe fn open(l: *mut lua_State) {
    let funcs: [(&std::ffi::CStr, ffi::lua_CFunction); 12] = [
        (c"tobit", c_tobit),
        (c"bnot", c_bnot),
        (c"band", c_band),
        (c"bor", c_bor),
        (c"bxor", c_bxor),
        (c"lshift", c_lshift),
        (c"rshift", c_rshift),
        (c"arshift", c_arshift),
        (c"rol", c_rol),
        (c"ror", c_ror),
        (c"bswap", c_bswap),
        (c"tohex", c_tohex),
    ];
    super::register_global(l, c"bit", &funcs);
}

#[cfg(test)]
mod tests {
    //! Expected results recorded from Redis 7.0.15.

    use super::super::testing::check_rendered;
    /// Every function, wrapping and rounding of arguments, and argument errors.
    #[test]
    fn operations_match_redis() {
        check_rendered(&[
            (r##"bit.tobit(0xffffffff)"##, r##"true | -1"##),
            (r##"bit.tobit(2^32 + 5)"##, r##"true | 5"##),
            (r##"bit.tobit(1.5)"##, r##"true | 2"##),
            (r##"bit.tobit(2.5)"##, r##"true | 2"##),
            (r##"bit.tobit(-1.5)"##, r##"true | -2"##),
            (r##"bit.tobit('10')"##, r##"true | 10"##),
            (r##"bit.tobit('0x10')"##, r##"true | 16"##),
            (r##"bit.tobit(' 12 ')"##, r##"true | 12"##),
            (r##"bit.bnot(0)"##, r##"true | -1"##),
            (r##"bit.band(0xff, 0x0f, 0x3)"##, r##"true | 3"##),
            (r##"bit.bor(1, 2, 4, 8)"##, r##"true | 15"##),
            (r##"bit.bxor(5, 3)"##, r##"true | 6"##),
            (r##"bit.band(7)"##, r##"true | 7"##),
            (
                r##"bit.band()"##,
                r##"false | "user_script:1: bad argument #1 to 'band' (number expected, got no value)""##,
            ),
            (r##"bit.lshift(1, 31)"##, r##"true | -2147483648"##),
            (r##"bit.lshift(1, 33)"##, r##"true | 2"##),
            (r##"bit.lshift(1, -1)"##, r##"true | -2147483648"##),
            (r##"bit.rshift(-1, 28)"##, r##"true | 15"##),
            (r##"bit.arshift(-256, 4)"##, r##"true | -16"##),
            (r##"bit.arshift(256, 36)"##, r##"true | 16"##),
            (r##"bit.rol(0x12345678, 8)"##, r##"true | 878082066"##),
            (r##"bit.ror(0x12345678, 8)"##, r##"true | 2014458966"##),
            (r##"bit.rol(0x12345678, 0)"##, r##"true | 305419896"##),
            (r##"bit.bswap(0x12345678)"##, r##"true | 2018915346"##),
            (r##"bit.tohex(255)"##, r##"true | "000000ff""##),
            (r##"bit.tohex(-1, -4)"##, r##"true | "FFFF""##),
            (r##"bit.tohex(0x1234, 2)"##, r##"true | "34""##),
            (r##"bit.tohex(1, 20)"##, r##"true | "00000001""##),
            (r##"bit.tohex(1, 0)"##, r##"true | """##),
            (r##"bit.tohex(0xabcdef, -8)"##, r##"true | "00ABCDEF""##),
            (r##"bit.tohex(1, 2^32+3)"##, r##"true | "001""##),
            (r##"bit.tobit(0/0)"##, r##"true | 0"##),
            (r##"bit.tobit(1/0)"##, r##"true | 0"##),
            (r##"bit.tobit(-1/0)"##, r##"true | 0"##),
            (r##"bit.tobit(2^53)"##, r##"true | 0"##),
            (r##"bit.tobit(2^52+0.5)"##, r##"true | 0"##),
            (r##"bit.tobit(-2^31)"##, r##"true | -2147483648"##),
            (r##"bit.tobit(2^31)"##, r##"true | -2147483648"##),
            (r##"bit.tobit(1e300)"##, r##"true | -2013235812"##),
            (r##"bit.tobit(-0)"##, r##"true | 0"##),
            (
                r##"bit.tohex()"##,
                r##"false | "user_script:1: bad argument #1 to 'tohex' (number expected, got no value)""##,
            ),
            (
                r##"bit.band(1, {})"##,
                r##"false | "user_script:1: bad argument #2 to 'band' (number expected, got table)""##,
            ),
            (
                r##"bit.tobit('x')"##,
                r##"false | "user_script:1: bad argument #1 to 'tobit' (number expected, got string)""##,
            ),
            (
                r##"bit.tobit(nil)"##,
                r##"false | "user_script:1: bad argument #1 to 'tobit' (number expected, got nil)""##,
            ),
            (
                r##"bit.tobit(true)"##,
                r##"false | "user_script:1: bad argument #1 to 'tobit' (number expected, got boolean)""##,
            ),
            (
                r##"bit.lshift(1)"##,
                r##"false | "user_script:1: bad argument #2 to 'lshift' (number expected, got no value)""##,
            ),
            (
                r##"bit.tohex(1, 'z')"##,
                r##"false | "user_script:1: bad argument #2 to 'tohex' (number expected, got string)""##,
            ),
            (r##"select(2, pcall(bit.bnot))"##, r##"true | "bad argument #1 to '?' (number expected, got no value)""##),
            (r##"bit.tobit(1, 2, 3)"##, r##"true | 1"##),
            (r##"bit.bor(1, 2, '4', 8.2)"##, r##"true | 15"##),
            (r##"bit.tohex(-1)"##, r##"true | "ffffffff""##),
            (r##"bit.tohex(0x7fffffff, -8)"##, r##"true | "7FFFFFFF""##),
            (r##"bit.tohex(0xabc, -2^31)"##, r##"true | "00000ABC""##),
            (r##"bit.tohex(0xabc, 2^31)"##, r##"true | "00000ABC""##),
            (r##"bit.tohex(0xabc, -9)"##, r##"true | "00000ABC""##),
            (r##"bit.tohex(0xabc, 2^31-1)"##, r##"true | "00000abc""##),
        ]);
    }
}
