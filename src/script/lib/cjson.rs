//! `cjson`: Lua CJSON 2.1.0 as Redis 7.0 ships it. Byte-identical output:
//! numbers printed with `%.14g` (the configured precision), `/` escaped as
//! `\/`, DEL as `\u007f`, tables with keys 1..n encoded as arrays (sparse
//! ones as errors or objects per `encode_sparse_array`), empty tables as `{}`,
//! JSON `null` decoded to `cjson.null` (a NULL lightuserdata). Errors carry
//! CJSON's texts and character positions.
//!
//! Encoding and decoding walk nested values with an explicit stack of frames
//! (the Lua stack holds the tables), so depth is bounded by the configured
//! limits and `lua_checkstack`, never by the native stack.

use std::ffi::{c_char, c_int};

use mlua::ffi::{self, lua_State};

use super::{
    arg_error, bytes_with_nul, check_bytes, check_integer, entry, error, format_g, push_bytes, type_name, Raise, Res,
};

const VERSION: &[u8] = b"2.1.0";

/// Per-module settings (`cjson.new()` gets fresh ones), kept in a userdata
/// that every function of the module has as upvalue 1.
#[repr(C)]
#[derive(Clone, Copy)]
struct Config {
    encode_sparse_convert: c_int,
    encode_sparse_ratio: c_int,
    encode_sparse_safe: c_int,
    encode_max_depth: c_int,
    /// 0 refuse, 1 allow (`inf`, `nan`), 2 encode as `null`.
    encode_invalid_numbers: c_int,
    encode_number_precision: c_int,
    encode_keep_buffer: c_int,
    decode_invalid_numbers: c_int,
    decode_max_depth: c_int,
}

const DEFAULTS: Config = Config {
    encode_sparse_convert: 0,
    encode_sparse_ratio: 2,
    encode_sparse_safe: 10,
    encode_max_depth: 1000,
    encode_invalid_numbers: 0,
    encode_number_precision: 14,
    encode_keep_buffer: 1,
    decode_invalid_numbers: 1,
    decode_max_depth: 1000,
};

unsafe fn config<'a>(l: *mut lua_State) -> Res<&'a mut Config> {
    let p = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *mut Config;
    if p.is_null() {
        return Err(error("BUG: Unable to fetch CJSON configuration"));
    }
    Ok(&mut *p)
}

// ---------------------------------------------------------------- settings

/// `json_arg_init`: at most `args` arguments, padded with nils.
unsafe fn arg_init<'a>(l: *mut lua_State, args: c_int) -> Res<&'a mut Config> {
    if ffi::lua_gettop(l) > args {
        return Err(arg_error(args + 1, "found too many arguments"));
    }
    ffi::lua_checkstack(l, args);
    while ffi::lua_gettop(l) < args {
        ffi::lua_pushnil(l);
    }
    config(l)
}

unsafe fn integer_option(l: *mut lua_State, idx: c_int, setting: &mut c_int, min: c_int, max: c_int) -> Res<()> {
    if ffi::lua_type(l, idx) != ffi::LUA_TNIL {
        // C assigns the lua_Integer to an int.
        let value = check_integer(l, idx)? as c_int;
        if !(min..=max).contains(&value) {
            // CJSON always blames argument 1 here.
            return Err(arg_error(1, format!("expected integer between {min} and {max}")));
        }
        *setting = value;
    }
    ffi::lua_pushinteger(l, *setting as ffi::lua_Integer);
    Ok(())
}

/// `luaL_checkoption` without a default.
unsafe fn check_option(l: *mut lua_State, idx: c_int, options: &[&str]) -> Res<c_int> {
    let name = check_bytes(l, idx)?;
    let name = name.split(|&b| b == 0).next().unwrap_or(&[]);
    match options.iter().position(|o| o.as_bytes() == name) {
        Some(i) => Ok(i as c_int),
        None => {
            let mut msg = b"invalid option '".to_vec();
            msg.extend_from_slice(name);
            msg.push(b'\'');
            Err(arg_error(idx, msg))
        }
    }
}

unsafe fn enum_option(
    l: *mut lua_State,
    idx: c_int,
    setting: &mut c_int,
    options: &[&str],
    bool_true: c_int,
) -> Res<()> {
    if ffi::lua_type(l, idx) != ffi::LUA_TNIL {
        if bool_true != 0 && ffi::lua_type(l, idx) == ffi::LUA_TBOOLEAN {
            *setting = ffi::lua_toboolean(l, idx) * bool_true;
        } else {
            *setting = check_option(l, idx, options)?;
        }
    }
    if bool_true != 0 && (*setting == 0 || *setting == bool_true) {
        ffi::lua_pushboolean(l, *setting);
    } else {
        let name = options.get(*setting as usize).copied().unwrap_or("");
        push_bytes(l, name.as_bytes());
    }
    Ok(())
}

const ON_OFF: &[&str] = &["off", "on"];

unsafe fn cfg_encode_sparse_array(l: *mut lua_State) -> Res<c_int> {
    let cfg = arg_init(l, 3)?;
    enum_option(l, 1, &mut cfg.encode_sparse_convert, ON_OFF, 1)?;
    integer_option(l, 2, &mut cfg.encode_sparse_ratio, 0, c_int::MAX)?;
    integer_option(l, 3, &mut cfg.encode_sparse_safe, 0, c_int::MAX)?;
    Ok(3)
}

unsafe fn cfg_encode_max_depth(l: *mut lua_State) -> Res<c_int> {
    let cfg = arg_init(l, 1)?;
    integer_option(l, 1, &mut cfg.encode_max_depth, 1, c_int::MAX)?;
    Ok(1)
}

unsafe fn cfg_decode_max_depth(l: *mut lua_State) -> Res<c_int> {
    let cfg = arg_init(l, 1)?;
    integer_option(l, 1, &mut cfg.decode_max_depth, 1, c_int::MAX)?;
    Ok(1)
}

unsafe fn cfg_encode_number_precision(l: *mut lua_State) -> Res<c_int> {
    let cfg = arg_init(l, 1)?;
    integer_option(l, 1, &mut cfg.encode_number_precision, 1, 14)?;
    Ok(1)
}

unsafe fn cfg_encode_keep_buffer(l: *mut lua_State) -> Res<c_int> {
    let cfg = arg_init(l, 1)?;
    // Only a buffer-reuse optimisation in CJSON: no effect on results.
    enum_option(l, 1, &mut cfg.encode_keep_buffer, ON_OFF, 1)?;
    Ok(1)
}

unsafe fn cfg_encode_invalid_numbers(l: *mut lua_State) -> Res<c_int> {
    let cfg = arg_init(l, 1)?;
    enum_option(l, 1, &mut cfg.encode_invalid_numbers, &["off", "on", "null"], 1)?;
    Ok(1)
}

unsafe fn cfg_decode_invalid_numbers(l: *mut lua_State) -> Res<c_int> {
    let cfg = arg_init(l, 1)?;
    enum_option(l, 1, &mut cfg.decode_invalid_numbers, ON_OFF, 1)?;
    Ok(1)
}

// ---------------------------------------------------------------- encoding

unsafe fn encode_exception(l: *mut lua_State, idx: c_int, reason: &str) -> Raise {
    error(format!("Cannot serialise {}: {reason}", type_name(l, idx)))
}

fn escape(b: u8) -> Option<&'static [u8]> {
    Some(match b {
        b'\x08' => b"\\b",
        b'\t' => b"\\t",
        b'\n' => b"\\n",
        b'\x0c' => b"\\f",
        b'\r' => b"\\r",
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'/' => b"\\/",
        _ => return None,
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for &b in s {
        if let Some(esc) = escape(b) {
            out.extend_from_slice(esc);
        } else if b < 0x20 || b == 0x7f {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 15) as usize]);
        } else {
            out.push(b);
        }
    }
    out.push(b'"');
}

unsafe fn append_number(l: *mut lua_State, cfg: &Config, out: &mut Vec<u8>, idx: c_int) -> Res<()> {
    let num = ffi::lua_tonumber(l, idx);
    let invalid = num.is_infinite() || num.is_nan();
    match cfg.encode_invalid_numbers {
        0 if invalid => return Err(encode_exception(l, idx, "must not be NaN or Inf")),
        1 if num.is_nan() => {
            // Some C libraries print "-nan"; CJSON always writes "nan".
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        0 | 1 => {}
        _ if invalid => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    out.extend(format_g(num, cfg.encode_number_precision));
    Ok(())
}

/// `lua_array_length` for the table on top: its length when every key is a
/// positive integer (and it is not too sparse), otherwise -1 (an object).
/// Reproduces CJSON's `int max = k` conversion, which goes negative for keys
/// of 2^31 and more.
unsafe fn array_length(l: *mut lua_State, cfg: &Config) -> Res<c_int> {
    let mut max: c_int = 0;
    let mut items: c_int = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
            let k = ffi::lua_tonumber(l, -2);
            if k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > max as f64 {
                    max = super::c_double_to_int(k);
                }
                items = items.wrapping_add(1);
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        ffi::lua_pop(l, 2);
        return Ok(-1);
    }
    if cfg.encode_sparse_ratio > 0 && max > items.wrapping_mul(cfg.encode_sparse_ratio) && max > cfg.encode_sparse_safe
    {
        if cfg.encode_sparse_convert == 0 {
            return Err(encode_exception(l, -1, "excessively sparse array"));
        }
        return Ok(-1);
    }
    Ok(max)
}

enum EncodeFrame {
    /// Elements 1..=len of the table on top; `next` is the last one started.
    Array { next: c_int, len: c_int },
    /// Stack: table, key (the key `lua_next` continues from).
    Object { first: bool },
}

/// Starts encoding the value on top of the stack: writes a scalar whole, or
/// opens a table (pushing a frame). Returns whether a frame was opened.
unsafe fn begin_value(l: *mut lua_State, cfg: &Config, out: &mut Vec<u8>, frames: &mut Vec<EncodeFrame>) -> Res<bool> {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => {
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            append_string(out, std::slice::from_raw_parts(p.cast(), len));
        }
        ffi::LUA_TNUMBER => append_number(l, cfg, out, -1)?,
        ffi::LUA_TBOOLEAN => {
            out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 { b"true" } else { b"false" });
        }
        ffi::LUA_TTABLE => {
            let depth = frames.len() as c_int + 1;
            if depth > cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                return Err(error(format!("Cannot serialise, excessive nesting ({depth})")));
            }
            let len = array_length(l, cfg)?;
            if len > 0 {
                out.push(b'[');
                frames.push(EncodeFrame::Array { next: 0, len });
            } else {
                out.push(b'{');
                ffi::lua_pushnil(l);
                frames.push(EncodeFrame::Object { first: true });
            }
            return Ok(true);
        }
        ffi::LUA_TNIL => out.extend_from_slice(b"null"),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => out.extend_from_slice(b"null"),
        _ => return Err(encode_exception(l, -1, "type not supported")),
    }
    Ok(false)
}

/// Encodes the value on top of the stack into `out`.
unsafe fn encode_value(l: *mut lua_State, cfg: &Config, out: &mut Vec<u8>) -> Res<()> {
    let mut frames: Vec<EncodeFrame> = Vec::new();
    'value: loop {
        if !begin_value(l, cfg, out, &mut frames)? {
            if frames.is_empty() {
                return Ok(());
            }
            ffi::lua_pop(l, 1);
        }
        // Move to the next value to encode, closing finished tables.
        loop {
            let Some(frame) = frames.last_mut() else { return Ok(()) };
            match frame {
                EncodeFrame::Array { next, len } => {
                    if *next < *len {
                        *next += 1;
                        if *next > 1 {
                            out.push(b',');
                        }
                        ffi::lua_rawgeti_(l, -1, *next);
                        continue 'value;
                    }
                    out.push(b']');
                }
                EncodeFrame::Object { first } => {
                    if ffi::lua_next(l, -2) != 0 {
                        if !*first {
                            out.push(b',');
                        }
                        *first = false;
                        match ffi::lua_type(l, -2) {
                            ffi::LUA_TNUMBER => {
                                out.push(b'"');
                                append_number(l, cfg, out, -2)?;
                                out.extend_from_slice(b"\":");
                            }
                            ffi::LUA_TSTRING => {
                                let mut len = 0usize;
                                let p = ffi::lua_tolstring(l, -2, &mut len);
                                append_string(out, std::slice::from_raw_parts(p.cast(), len));
                                out.push(b':');
                            }
                            _ => return Err(encode_exception(l, -2, "table key must be a number or string")),
                        }
                        continue 'value;
                    }
                    out.push(b'}');
                }
            }
            frames.pop();
            if frames.is_empty() {
                return Ok(());
            }
            ffi::lua_pop(l, 1);
        }
    }
}

unsafe fn encode(l: *mut lua_State) -> Res<c_int> {
    let cfg = *config(l)?;
    if ffi::lua_gettop(l) != 1 {
        return Err(arg_error(1, "expected 1 argument"));
    }
    let mut out = Vec::new();
    encode_value(l, &cfg, &mut out)?;
    ffi::lua_settop(l, 1);
    push_bytes(l, &out);
    Ok(1)
}

// ---------------------------------------------------------------- decoding

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(what) => what,
        }
    }
}

#[derive(Clone, Copy)]
struct Token {
    tok: Tok,
    index: usize,
}

struct Parser<'a> {
    /// The JSON text followed by Lua's terminating NUL (CJSON's end marker).
    data: &'a [u8],
    at: usize,
    /// The last string token, unescaped.
    tmp: Vec<u8>,
    cfg: Config,
    depth: c_int,
}

fn hex_digit(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as u32),
        _ => match b | 0x20 {
            c @ b'a'..=b'f' => Some((c - b'a' + 10) as u32),
            _ => None,
        },
    }
}

impl Parser<'_> {
    fn byte(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            v = (v << 4) | hex_digit(self.byte(at + i))?;
        }
        Some(v)
    }

    fn error_token(&self, what: &'static str) -> Token {
        Token { tok: Tok::Error(what), index: self.at }
    }

    /// `\uXXXX` (or a surrogate pair of them) at `self.at`, appended as UTF-8.
    fn unicode_escape(&mut self) -> Option<()> {
        let mut cp = self.hex4(self.at + 2)?;
        let mut escape_len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return None;
            }
            if self.byte(self.at + 6) != b'\\' || self.byte(self.at + 7) != b'u' {
                return None;
            }
            let low = self.hex4(self.at + 8)?;
            if low & 0xFC00 != 0xDC00 {
                return None;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escape_len = 12;
        }
        let mut utf8 = [0u8; 4];
        let n = if cp <= 0x7F {
            utf8[0] = cp as u8;
            1
        } else if cp <= 0x7FF {
            utf8[0] = ((cp >> 6) | 0xC0) as u8;
            utf8[1] = ((cp & 0x3F) | 0x80) as u8;
            2
        } else if cp <= 0xFFFF {
            utf8[0] = ((cp >> 12) | 0xE0) as u8;
            utf8[1] = (((cp >> 6) & 0x3F) | 0x80) as u8;
            utf8[2] = ((cp & 0x3F) | 0x80) as u8;
            3
        } else {
            utf8[0] = ((cp >> 18) | 0xF0) as u8;
            utf8[1] = (((cp >> 12) & 0x3F) | 0x80) as u8;
            utf8[2] = (((cp >> 6) & 0x3F) | 0x80) as u8;
            utf8[3] = ((cp & 0x3F) | 0x80) as u8;
            4
        };
        self.tmp.extend_from_slice(&utf8[..n]);
        self.at += escape_len;
        Some(())
    }

    fn string_token(&mut self, index: usize) -> Token {
        self.at += 1;
        self.tmp.clear();
        loop {
            let ch = self.byte(self.at);
            match ch {
                b'"' => break,
                0 => return self.error_token("unexpected end of string"),
                b'\\' => {
                    let translated = match self.byte(self.at + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => b'\x08',
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => b'\x0c',
                        b'r' => b'\r',
                        b'u' => {
                            if self.unicode_escape().is_none() {
                                return self.error_token("invalid unicode escape code");
                            }
                            continue;
                        }
                        _ => return self.error_token("invalid escape code"),
                    };
                    self.tmp.push(translated);
                    self.at += 2;
                }
                _ => {
                    self.tmp.push(ch);
                    self.at += 1;
                }
            }
        }
        self.at += 1;
        Token { tok: Tok::Str, index }
    }

    /// `json_is_invalid_number`: forms strtod accepts but JSON does not.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.at;
        if self.byte(p) == b'+' {
            return true;
        }
        if self.byte(p) == b'-' {
            p += 1;
        }
        let c = self.byte(p);
        if c == b'0' {
            let c2 = self.byte(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        } else if c <= b'9' {
            return false;
        }
        let word = [self.byte(p), self.byte(p + 1), self.byte(p + 2)];
        word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"nan")
    }

    fn number_token(&mut self, index: usize) -> Token {
        // The C library's strtod, as CJSON uses: hex, inf, nan and all.
        // `data` ends with a NUL, so strtod stops inside it.
        let start = self.data[self.at..].as_ptr() as *const c_char;
        let mut end: *mut c_char = std::ptr::null_mut();
        // SAFETY: `start` points into a NUL-terminated buffer.
        let value = unsafe { libc::strtod(start, &mut end) };
        let used = (end as usize).wrapping_sub(start as usize);
        if end.is_null() || used == 0 || used > self.data.len() - self.at {
            return self.error_token("invalid number");
        }
        self.at += used;
        Token { tok: Tok::Num(value), index }
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.byte(self.at), b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
        let index = self.at;
        let ch = self.byte(self.at);
        let single = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            0 => return Token { tok: Tok::End, index },
            _ => None,
        };
        if let Some(tok) = single {
            self.at += 1;
            return Token { tok, index };
        }
        let rest = &self.data[self.at.min(self.data.len())..];
        match ch {
            b'"' => self.string_token(index),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    return self.error_token("invalid number");
                }
                self.number_token(index)
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if rest.starts_with(b"true") {
                    self.at += 4;
                    Token { tok: Tok::Bool(true), index }
                } else if rest.starts_with(b"false") {
                    self.at += 5;
                    Token { tok: Tok::Bool(false), index }
                } else if rest.starts_with(b"null") {
                    self.at += 4;
                    Token { tok: Tok::Null, index }
                } else if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
                    self.number_token(index)
                } else {
                    self.error_token("invalid token")
                }
            }
            _ => self.error_token("invalid token"),
        }
    }

    fn parse_error(&self, expected: &str, token: Token) -> Raise {
        error(format!("Expected {expected} but found {} at character {}", token.tok.name(), token.index + 1))
    }

    unsafe fn descend(&mut self, l: *mut lua_State, slots: c_int) -> Res<()> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && ffi::lua_checkstack(l, slots) != 0 {
            return Ok(());
        }
        Err(error(format!("Found too many nested data structures ({}) at character {}", self.depth, self.at)))
    }

    /// In an object, at `token` (which must be a key): pushes the key,
    /// consumes the colon and returns the value's first token.
    unsafe fn object_key(&mut self, l: *mut lua_State, token: Token) -> Res<Token> {
        if token.tok != Tok::Str {
            return Err(self.parse_error("object key string", token));
        }
        push_bytes(l, &self.tmp);
        let token = self.next_token();
        if token.tok != Tok::Colon {
            return Err(self.parse_error("colon", token));
        }
        Ok(self.next_token())
    }
}

enum DecodeFrame {
    /// The table on top is an array whose next element goes at this index.
    Array(c_int),
    /// Stack: table, key, value pending.
    Object,
}

/// Decodes the whole text, leaving the value on top of the stack.
unsafe fn decode_text(l: *mut lua_State, p: &mut Parser<'_>) -> Res<()> {
    let mut frames: Vec<DecodeFrame> = Vec::new();
    let mut token = p.next_token();
    'value: loop {
        match token.tok {
            Tok::Str => push_bytes(l, &p.tmp),
            Tok::Num(n) => ffi::lua_pushnumber(l, n),
            Tok::Bool(b) => ffi::lua_pushboolean(l, b as c_int),
            Tok::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
            Tok::ObjBegin => {
                p.descend(l, 3)?;
                ffi::lua_newtable(l);
                token = p.next_token();
                if token.tok == Tok::ObjEnd {
                    p.depth -= 1;
                } else {
                    frames.push(DecodeFrame::Object);
                    token = p.object_key(l, token)?;
                    continue 'value;
                }
            }
            Tok::ArrBegin => {
                p.descend(l, 2)?;
                ffi::lua_newtable(l);
                token = p.next_token();
                if token.tok == Tok::ArrEnd {
                    p.depth -= 1;
                } else {
                    frames.push(DecodeFrame::Array(1));
                    continue 'value;
                }
            }
            _ => return Err(p.parse_error("value", token)),
        }
        // A value is complete on top of the stack: store it in its container.
        loop {
            match frames.last_mut() {
                None => return Ok(()),
                Some(DecodeFrame::Array(i)) => {
                    ffi::lua_rawseti_(l, -2, *i);
                    token = p.next_token();
                    if token.tok == Tok::ArrEnd {
                        p.depth -= 1;
                        frames.pop();
                        continue;
                    }
                    if token.tok != Tok::Comma {
                        return Err(p.parse_error("comma or array end", token));
                    }
                    *i = i.wrapping_add(1);
                    token = p.next_token();
                    continue 'value;
                }
                Some(DecodeFrame::Object) => {
                    ffi::lua_rawset(l, -3);
                    token = p.next_token();
                    if token.tok == Tok::ObjEnd {
                        p.depth -= 1;
                        frames.pop();
                        continue;
                    }
                    if token.tok != Tok::Comma {
                        return Err(p.parse_error("comma or object end", token));
                    }
                    token = p.next_token();
                    token = p.object_key(l, token)?;
                    continue 'value;
                }
            }
        }
    }
}

unsafe fn decode(l: *mut lua_State) -> Res<c_int> {
    if ffi::lua_gettop(l) != 1 {
        return Err(arg_error(1, "expected 1 argument"));
    }
    let cfg = *config(l)?;
    let text = check_bytes(l, 1)?;
    if text.len() >= 2 && (text[0] == 0 || text[1] == 0) {
        return Err(error("JSON parser does not support UTF-16 or UTF-32"));
    }
    let mut p =
        Parser { data: bytes_with_nul(l, 1), at: 0, tmp: Vec::with_capacity(text.len().min(1 << 16)), cfg, depth: 0 };
    decode_text(l, &mut p)?;
    let token = p.next_token();
    if token.tok != Tok::End {
        return Err(p.parse_error("the end", token));
    }
    Ok(1)
}

// ---------------------------------------------------------------- module

macro_rules! c_fn {
    ($name:ident, $work:ident) => {
        unsafe extern "C-unwind" fn $name(l: *mut lua_State) -> c_int {
            entry(l, $work)
        }
    };
}

c_fn!(c_encode, encode);
c_fn!(c_decode, decode);
c_fn!(c_encode_sparse_array, cfg_encode_sparse_array);
c_fn!(c_encode_max_depth, cfg_encode_max_depth);
c_fn!(c_decode_max_depth, cfg_decode_max_depth);
c_fn!(c_encode_number_precision, cfg_encode_number_precision);
c_fn!(c_encode_keep_buffer, cfg_encode_keep_buffer);
c_fn!(c_encode_invalid_numbers, cfg_encode_invalid_numbers);
c_fn!(c_decode_invalid_numbers, cfg_decode_invalid_numbers);
c_fn!(c_new, new_module);

/// `lua_cjson_new`: pushes a module table with its own settings.
unsafe fn new_module(l: *mut lua_State) -> Res<c_int> {
    push_module(l);
    Ok(1)
}

unsafe fn push_module(l: *mut lua_State) {
    ffi::lua_checkstack(l, 4);
    ffi::lua_createtable(l, 0, 14);
    let cfg = ffi::lua_newuserdata(l, std::mem::size_of::<Config>()) as *mut Config;
    cfg.write(DEFAULTS);
    let funcs: [(&std::ffi::CStr, ffi::lua_CFunction); 10] = [
        (c"encode", c_encode),
        (c"decode", c_decode),
        (c"encode_sparse_array", c_encode_sparse_array),
        (c"encode_max_depth", c_encode_max_depth),
        (c"decode_max_depth", c_decode_max_depth),
        (c"encode_number_precision", c_encode_number_precision),
        (c"encode_keep_buffer", c_encode_keep_buffer),
        (c"encode_invalid_numbers", c_encode_invalid_numbers),
        (c"decode_invalid_numbers", c_decode_invalid_numbers),
        (c"new", c_new),
    ];
    super::set_functions(l, &funcs, 1);
    ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
    ffi::lua_setfield(l, -2, c"null".as_ptr());
    push_bytes(l, b"cjson");
    ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
    push_bytes(l, VERSION);
    ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
}

/// `luaopen_cjson` with Redis's `ENABLE_CJSON_GLOBAL`: the global `cjson`.
pub(crate) unsafe fn open(l: *mut lua_State) {
    push_module(l);
    ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cjson".as_ptr());
}

#[cfg(test)]
#[path = "cjson_tests.rs"]
mod tests;
