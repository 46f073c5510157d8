//! The libraries Redis preloads into its Lua state: cjson, cmsgpack, struct and bit.
//!
//! They are written against the Lua C API (`mlua::ffi`) rather than mlua's
//! high-level callbacks because scripts see their errors: Redis's libraries
//! raise plain string errors through `luaL_error` (prefixed with the calling
//! line, `user_script:1: ...`) and `luaL_argerror` (`bad argument #1 to
//! 'tohex' (number expected, got no value)`), and `pcall` hands scripts those
//! strings. A Rust callback's error would reach Lua as an mlua userdata.
//!
//! Every entry point follows one pattern so that no Lua error ever unwinds
//! through a Rust frame that owns memory: the work runs in a Rust function
//! returning [`Res`]; the `extern "C-unwind"` shim drops everything, then
//! raises the error with the stack holding only plain values ([`entry`]).
//! The work itself never calls a `luaL_check*` function (those raise);
//! argument checks are re-implemented with Lua's own texts.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use std::ffi::{c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mlua::ffi::{self, lua_State};

/// Installs `cjson`, `cmsgpack`, `struct` and `bit` as globals, as Redis 7.0's
/// `luaLoadLibraries` does.
pub fn open(lua: &mlua::Lua) -> mlua::Result<()> {
    // SAFETY: the closure runs in protected mode on mlua's own state and
    // leaves the stack balanced.
    unsafe {
        lua.exec_raw::<()>((), |l| {
            cjson::open(l);
            cmsgpack::open(l);
            structlib::open(l);
            bit::open(l);
        })
    }
}

/// An error a library function raises, built without touching the Lua stack.
#[derive(Debug)]
pub(crate) enum Raise {
    /// `luaL_error`: the caller's position (`user_script:1: `) goes first.
    Error(Vec<u8>),
    /// `luaL_argerror(narg, msg)`: `bad argument #narg to 'name' (msg)`.
    Arg(c_int, Vec<u8>),
    /// `lua_error` with the message as is (errors the VM raises itself, such
    /// as `table index is nil`, carry no position when raised from C).
    Plain(Vec<u8>),
}

pub(crate) type Res<T> = Result<T, Raise>;

pub(crate) fn error(msg: impl Into<Vec<u8>>) -> Raise {
    Raise::Error(msg.into())
}

pub(crate) fn arg_error(narg: c_int, msg: impl Into<Vec<u8>>) -> Raise {
    Raise::Arg(narg, msg.into())
}

/// Runs a library function and turns its outcome into what Lua expects: the
/// number of results, or an error raised once no Rust value is left alive.
pub(crate) unsafe fn entry(l: *mut lua_State, f: unsafe fn(*mut lua_State) -> Res<c_int>) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| f(l)));
    let raise = match outcome {
        Ok(Ok(n)) => return n,
        Ok(Err(raise)) => raise,
        Err(_) => Raise::Plain(b"internal error in a scripting library".to_vec()),
    };
    throw(l, raise)
}

unsafe fn throw(l: *mut lua_State, raise: Raise) -> ! {
    // The error unwinds this call's stack anyway: make room for the message
    // when a stack limit is what failed.
    if ffi::lua_checkstack(l, 3) == 0 {
        ffi::lua_settop(l, 0);
        ffi::lua_checkstack(l, 3);
    }
    match raise {
        Raise::Error(msg) => {
            ffi::luaL_where(l, 1);
            push_bytes(l, &msg);
            drop(msg);
            ffi::lua_concat(l, 2);
            ffi::lua_error(l)
        }
        Raise::Arg(narg, mut msg) => {
            // luaL_argerror formats with %s: the message ends at a NUL.
            if let Some(nul) = msg.iter().position(|&b| b == 0) {
                msg.truncate(nul);
            }
            push_bytes(l, &msg);
            drop(msg);
            let text = ffi::lua_tolstring(l, -1, std::ptr::null_mut());
            ffi::luaL_argerror(l, narg, text);
            unreachable!("luaL_argerror returned")
        }
        Raise::Plain(msg) => {
            push_bytes(l, &msg);
            drop(msg);
            ffi::lua_error(l)
        }
    }
}

pub(crate) unsafe fn push_bytes(l: *mut lua_State, bytes: &[u8]) {
    ffi::lua_pushlstring_(l, bytes.as_ptr().cast(), bytes.len());
}

/// `lua_typename` of the value at `idx` (`no value` for a missing argument).
pub(crate) unsafe fn type_name(l: *mut lua_State, idx: c_int) -> String {
    let name = ffi::lua_typename(l, ffi::lua_type(l, idx));
    if name.is_null() {
        return String::from("?");
    }
    CStr::from_ptr(name).to_string_lossy().into_owned()
}

/// `luaL_typerror`: `number expected, got nil` as an argument error.
pub(crate) unsafe fn type_error(l: *mut lua_State, narg: c_int, expected: &str) -> Raise {
    arg_error(narg, format!("{expected} expected, got {}", type_name(l, narg)))
}

/// `luaL_checknumber` (numbers and numeric strings).
pub(crate) unsafe fn check_number(l: *mut lua_State, narg: c_int) -> Res<f64> {
    let d = ffi::lua_tonumber(l, narg);
    if d == 0.0 && ffi::lua_isnumber(l, narg) == 0 {
        return Err(type_error(l, narg, "number"));
    }
    Ok(d)
}

/// `luaL_checkinteger`: the number truncated as Lua's C cast does.
pub(crate) unsafe fn check_integer(l: *mut lua_State, narg: c_int) -> Res<i64> {
    let n = ffi::lua_tointeger_(l, narg);
    if n == 0 && ffi::lua_isnumber(l, narg) == 0 {
        return Err(type_error(l, narg, "number"));
    }
    Ok(n as i64)
}

/// `luaL_optinteger`.
pub(crate) unsafe fn opt_integer(l: *mut lua_State, narg: c_int, default: i64) -> Res<i64> {
    if ffi::lua_type(l, narg) <= ffi::LUA_TNIL {
        return Ok(default);
    }
    check_integer(l, narg)
}

/// `luaL_checklstring`: strings and numbers (converted in place, as Lua does).
/// The slice stays valid while the value stays at `narg`; Lua keeps a NUL
/// after the last byte, which [`bytes_with_nul`] exposes.
pub(crate) unsafe fn check_bytes<'a>(l: *mut lua_State, narg: c_int) -> Res<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, narg, &mut len);
    if p.is_null() {
        return Err(type_error(l, narg, "string"));
    }
    Ok(std::slice::from_raw_parts(p.cast(), len))
}

/// The string at `idx` (which must be a string) including Lua's terminating NUL.
pub(crate) unsafe fn bytes_with_nul<'a>(l: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        return &[0];
    }
    std::slice::from_raw_parts(p.cast(), len + 1)
}

/// `lua_checkstack` that fails like `luaL_checkstack` does.
pub(crate) unsafe fn check_stack(l: *mut lua_State, n: c_int, what: &str) -> Res<()> {
    if ffi::lua_checkstack(l, n) == 0 {
        return Err(error(format!("stack overflow ({what})")));
    }
    Ok(())
}

/// C's `(int)d` on x86-64 (cvttsd2si): out-of-range and NaN give `INT_MIN`.
pub(crate) fn c_double_to_int(d: f64) -> i32 {
    if d.is_nan() || d >= 2147483648.0 || d <= -2147483649.0 {
        i32::MIN
    } else {
        d as i32
    }
}

/// C's `(long)d` on x86-64: out-of-range and NaN give `LONG_MIN`.
pub(crate) fn c_double_to_long(d: f64) -> i64 {
    if !(-9223372036854775808.0..9223372036854775808.0).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// C's `(unsigned long)d` as gcc compiles it on x86-64.
pub(crate) fn c_double_to_ulong(d: f64) -> u64 {
    if d >= 9223372036854775808.0 {
        (c_double_to_long(d - 9223372036854775808.0) as u64) ^ (1u64 << 63)
    } else {
        c_double_to_long(d) as u64
    }
}

/// `%.<precision>g` exactly as the C library prints it.
pub(crate) fn format_g(d: f64, precision: i32) -> Vec<u8> {
    let fmt = format!("%.{}g\0", precision.clamp(1, 99));
    let mut buf = [0u8; 64];
    // SAFETY: the buffer size is passed; the format takes one double.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr().cast(), d) };
    let n = (n.max(0) as usize).min(buf.len() - 1);
    buf[..n].to_vec()
}

/// A library table of `funcs` stored as the global `name` (Redis runs each
/// `luaopen_*` and keeps the global it sets). Leaves the stack as it was.
pub(crate) unsafe fn register_global(l: *mut lua_State, name: &CStr, funcs: &[(&CStr, ffi::lua_CFunction)]) {
    ffi::lua_checkstack(l, 4);
    ffi::lua_createtable(l, 0, funcs.len() as c_int);
    set_functions(l, funcs, 0);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, name.as_ptr());
}

/// Registers C functions into the table on top of the stack, each a closure
/// over the `upvalues` values just below it (which are then popped).
pub(crate) unsafe fn set_functions(l: *mut lua_State, funcs: &[(&CStr, ffi::lua_CFunction)], upvalues: c_int) {
    for (name, f) in funcs {
        for _ in 0..upvalues {
            ffi::lua_pushvalue(l, -upvalues);
        }
        ffi::lua_pushcclosure(l, *f, upvalues);
        ffi::lua_setfield(l, -(upvalues + 2), name.as_ptr());
    }
    ffi::lua_pop(l, upvalues);
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs Lua snippets in a state with the libraries. Each snippet goes
    //! through [`PRELUDE`] (a renderer written in Lua, so that real Redis can
    //! run it too: `EVAL <prelude with the snippet> 0`); the expected strings
    //! in the tests are what Redis 7.0.15 returned for the same script.

    use mlua::Lua;

    /// `CODE` is replaced by the snippet. Renders `pcall`'s results as
    /// `true | v1 | v2`, strings quoted with non-printable bytes as `\xNN`,
    /// tables with sorted `k=v` pairs.
    pub const PRELUDE: &str = r#"local function R(v, d) local t = type(v) if t == 'string' then return '"' .. v:gsub('[^%w%p ]', function(c) return string.format('\\x%02x', c:byte()) end) .. '"' elseif t == 'number' or t == 'boolean' or t == 'nil' then return tostring(v) elseif t == 'userdata' then return tostring(v) elseif t == 'table' then if d > 20 then return '{...}' end local ks = {} for k in pairs(v) do ks[#ks+1] = k end local rs = {} for _, k in ipairs(ks) do rs[#rs+1] = R(k, d+1) .. '=' .. R(v[k], d+1) end table.sort(rs) return '{' .. table.concat(rs, ',') .. '}' else return t end end local function pack(...) return select('#', ...), {...} end local n, r = pack(pcall(function() return CODE end)) local out = {} for i = 1, n do out[#out+1] = R(r[i], 0) end return table.concat(out, ' | ')"#;

    pub fn lua() -> Lua {
        let lua = Lua::new();
        super::open(&lua).expect("libraries open");
        lua
    }

    /// Runs one snippet through the prelude, as a one-line script named like
    /// Redis's (`user_script`), so error positions read `user_script:1:`.
    pub fn run(lua: &Lua, code: &str) -> String {
        let script = PRELUDE.replace("CODE", code);
        match lua.load(script).set_name("=user_script").eval::<mlua::LuaString>() {
            Ok(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            Err(e) => format!("script failed: {e}"),
        }
    }

    /// Runs the snippets in order in one Lua state (settings persist between
    /// them, as they do between scripts in Redis) and compares each result.
    pub fn check_rendered(cases: &[(&str, &str)]) {
        let lua = lua();
        for (code, expected) in cases {
            assert_eq!(run(&lua, code), *expected, "for {code}");
        }
    }
}

#[cfg(test)]
mod recorded_random;

#[cfg(test)]
mod tests {
    use super::testing::{lua, run};

    /// Random bytes into every decoder and random formats into `struct`:
    /// errors are fine, panics, aborts and a broken state are not.
    #[test]
    fn garbage_input_raises_lua_errors_only() {
        let lua = lua();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabets: [&[u8]; 3] = [b"{}[]\",:0123456789-+.eEtrufalsn \\u/x", b"<>!xbBhHlLTiIsfdc0123456789 ", &[]];
        for round in 0..3000 {
            let len = (next() % 40) as usize;
            let alphabet = alphabets[round % 3];
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if alphabet.is_empty() {
                        r as u8
                    } else {
                        alphabet[(r % alphabet.len() as u64) as usize]
                    }
                })
                .collect();
            let s = lua.create_string(&bytes).expect("string");
            lua.globals().set("input", s).expect("set");
            for code in [
                "cjson.decode(input)",
                // Counted: Lua 5.1's own pcall (and mlua's) pushes its status
                // without checking the stack, which debug builds' API checks
                // reject when a callee returns more than LUA_MINSTACK values.
                "select('#', cmsgpack.unpack(input))",
                "cmsgpack.unpack_limit(input, 2, 1)",
                "select('#', struct.unpack(input, input))",
                "struct.pack(input, 1, 2, 'abc', 4, 5)",
                "struct.size(input)",
                "cjson.encode(cmsgpack.unpack(input))",
            ] {
                let out = run(&lua, code);
                assert!(out.starts_with("true") || out.starts_with("false"), "{code} on {bytes:?}: {out}");
            }
        }
        assert_eq!(run(&lua, "cjson.encode({1, 'a'})"), r#"true | "[1,"a"]""#);
    }

    #[test]
    fn deep_nesting_is_bounded_by_lua_limits() {
        let lua = lua();
        let cases = [
            ("cjson.decode(string.rep('[', 100000))", "Found too many nested data structures (1001)"),
            ("cmsgpack.unpack(string.rep('\\145', 100000))", "stack overflow"),
            ("(function() cjson.decode_max_depth(1000000) return cjson.decode(string.rep('[', 100000)) end)()", "Found too many nested"),
            (
                "(function() cjson.encode_max_depth(1000000) local t = {} for i = 1, 100000 do t = {t} end return cjson.encode(t) end)()",
                "excessive nesting",
            ),
        ];
        for (code, needle) in cases {
            let out = run(&lua, code);
            assert!(out.starts_with("false") && out.contains(needle), "{code}: {out}");
        }
    }
}
