//! Type conversions between Redis replies and Lua values, as Redis 7.0's
//! `redisProtocolToLuaType` and `luaReplyToRedisReply` do them.

use mlua::{Lua, Table, Value};

use crate::resp::{Out, Proto};

/// Parses one RESP2/RESP3 reply at `buf[*pos..]` into a Lua value.
/// Returns the value and whether it was an error reply.
pub fn reply_to_lua(lua: &Lua, buf: &[u8], pos: &mut usize) -> mlua::Result<(Value, bool)> {
    let line = |pos: &mut usize| -> &[u8] {
        let start = *pos;
        let end = buf[start..].windows(2).position(|w| w == b"\r\n").map_or(buf.len(), |p| start + p);
        *pos = (end + 2).min(buf.len());
        &buf[start..end]
    };
    let int = |s: &[u8]| -> i64 { std::str::from_utf8(s).ok().and_then(|s| s.parse().ok()).unwrap_or(0) };
    let Some(&kind) = buf.get(*pos) else {
        return Ok((Value::Nil, false));
    };
    *pos += 1;
    let single = |k: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(k, v)?;
        Ok(Value::Table(t))
    };
    Ok(match kind {
        b'+' => {
            let s = lua.create_string(line(pos))?;
            (single("ok", Value::String(s))?, false)
        }
        b'-' => {
            let s = lua.create_string(line(pos))?;
            (single("err", Value::String(s))?, true)
        }
        b':' => (Value::Number(int(line(pos)) as f64), false),
        b'$' => {
            let n = int(line(pos));
            if n < 0 {
                (Value::Boolean(false), false)
            } else {
                let n = n as usize;
                let end = (*pos + n).min(buf.len());
                let s = lua.create_string(&buf[*pos..end])?;
                *pos = (end + 2).min(buf.len());
                (Value::String(s), false)
            }
        }
        b'*' | b'~' | b'>' => {
            let n = int(line(pos));
            if n < 0 {
                return Ok((Value::Boolean(false), false));
            }
            let t = lua.create_table()?;
            for i in 0..n {
                let (v, _) = reply_to_lua(lua, buf, pos)?;
                if kind == b'~' {
                    t.raw_set(v, true)?;
                } else {
                    t.raw_set(i + 1, v)?;
                }
            }
            if kind == b'~' {
                (single("set", Value::Table(t))?, false)
            } else {
                (Value::Table(t), false)
            }
        }
        b'%' => {
            let n = int(line(pos));
            let t = lua.create_table()?;
            for _ in 0..n.max(0) {
                let (k, _) = reply_to_lua(lua, buf, pos)?;
                let (v, _) = reply_to_lua(lua, buf, pos)?;
                if !k.is_nil() {
                    t.raw_set(k, v)?;
                }
            }
            (single("map", Value::Table(t))?, false)
        }
        b'|' => {
            // Attributes are skipped; the reply follows them.
            let n = int(line(pos));
            for _ in 0..n.max(0) * 2 {
                reply_to_lua(lua, buf, pos)?;
            }
            return reply_to_lua(lua, buf, pos);
        }
        b'_' => {
            line(pos);
            (Value::Nil, false)
        }
        b'#' => (Value::Boolean(line(pos) == b"t"), false),
        b',' => {
            let s = line(pos);
            let d = std::str::from_utf8(s).ok().and_then(crate::script::parse_double).unwrap_or(0.0);
            (single("double", Value::Number(d))?, false)
        }
        b'(' => {
            let s = lua.create_string(line(pos))?;
            (single("big_number", Value::String(s))?, false)
        }
        b'=' => {
            let n = int(line(pos)).max(0) as usize;
            let end = (*pos + n).min(buf.len());
            let body = &buf[*pos..end];
            *pos = (end + 2).min(buf.len());
            let (format, text) = if body.len() >= 4 { (&body[..3], &body[4..]) } else { (&b"txt"[..], body) };
            let t = lua.create_table()?;
            t.raw_set("string", lua.create_string(text)?)?;
            t.raw_set("format", lua.create_string(format)?)?;
            (single("verbatim_string", Value::Table(t))?, false)
        }
        _ => (Value::Nil, false),
    })
}

/// C's `(long long)` cast of a double on x86-64: out of range and NaN give
/// the "integer indefinite" value.
pub fn lua_number_to_i64(n: f64) -> i64 {
    // 2^63 as a double: the first value past i64::MAX.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

fn str_field(t: &Table, k: &str) -> Option<mlua::LuaString> {
    match t.raw_get::<Value>(k) {
        Ok(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Writes a Lua value as the script's reply. `script_resp3` is the protocol
/// the script chose with `redis.setresp` (booleans depend on it).
pub fn lua_to_reply(v: &Value, script_resp3: bool, out: &mut Out, depth: usize) {
    if depth > 1000 {
        out.error("ERR reached lua stack limit");
        return;
    }
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if script_resp3 {
                out.boolean(*b);
            } else if *b {
                out.int(1);
            } else {
                out.null();
            }
        }
        Value::Number(n) => out.int(lua_number_to_i64(*n)),
        Value::Integer(n) => out.int(*n),
        Value::Table(t) => table_to_reply(t, script_resp3, out, depth),
        _ => out.null(),
    }
}

/// Redis's `addReplyDouble`; a NaN prints with its sign as glibc's printf does.
fn double_reply(d: f64, out: &mut Out) {
    if d.is_nan() && d.is_sign_negative() {
        match out.proto {
            Proto::Resp2 => out.bulk(b"-nan"),
            Proto::Resp3 => out.raw(b",-nan\r\n"),
        }
    } else {
        out.double(d);
    }
}

fn table_to_reply(t: &Table, resp3: bool, out: &mut Out, depth: usize) {
    if let Some(e) = str_field(t, "err") {
        let e = e.as_bytes();
        out.error_bytes(&e);
        return;
    }
    if let Some(s) = str_field(t, "ok") {
        out.simple(&String::from_utf8_lossy(&s.as_bytes()).replace(['\r', '\n'], " "));
        return;
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => {
            double_reply(d, out);
            return;
        }
        Ok(Value::Integer(d)) => {
            double_reply(d as f64, out);
            return;
        }
        _ => {}
    }
    if let Some(s) = str_field(t, "big_number") {
        let s: Vec<u8> = s.as_bytes().iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect();
        match out.proto {
            Proto::Resp2 => out.bulk(&s),
            Proto::Resp3 => {
                out.raw(b"(");
                out.raw(&s);
                out.raw(b"\r\n");
            }
        }
        return;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Some(format), Some(text)) = (str_field(&v, "format"), str_field(&v, "string")) {
            let text = text.as_bytes();
            match out.proto {
                Proto::Resp2 => out.bulk(&text),
                Proto::Resp3 => {
                    let format = format.as_bytes();
                    let mut f = [b' '; 3];
                    for (d, s) in f.iter_mut().zip(format.iter()) {
                        *d = *s;
                    }
                    out.raw(format!("={}\r\n", text.len() + 4).as_bytes());
                    out.raw(&f);
                    out.raw(b":");
                    out.raw(&text);
                    out.raw(b"\r\n");
                }
            }
            return;
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let mut body = Out::new(out.proto);
        let mut n = 0;
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            lua_to_reply(&k, resp3, &mut body, depth + 1);
            lua_to_reply(&v, resp3, &mut body, depth + 1);
            n += 1;
        }
        out.map(n);
        out.raw(&body.buf);
        return;
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let mut body = Out::new(out.proto);
        let mut n = 0;
        for (k, _) in s.pairs::<Value, Value>().flatten() {
            lua_to_reply(&k, resp3, &mut body, depth + 1);
            n += 1;
        }
        out.set(n);
        out.raw(&body.buf);
        return;
    }
    let mut body = Out::new(out.proto);
    let mut n = 0;
    loop {
        let v: Value = t.raw_get(n + 1).unwrap_or(Value::Nil);
        if v.is_nil() {
            break;
        }
        lua_to_reply(&v, resp3, &mut body, depth + 1);
        n += 1;
    }
    out.array(n);
    out.raw(&body.buf);
}
