//! String commands.

use bytes::Bytes;

use super::args::{self, Cursor};
use super::{CmdError, CmdResult, Ctx, Handler};
use crate::db::{Entry, StrEncoding};
use crate::resp::Out;

pub const HANDLERS: &[(&str, Handler)] = &[("get", Handler::Sync(cmd_get)), ("set", Handler::Sync(cmd_set))];

/// GET key — O(1).
fn cmd_get(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    match ctx.read(&args[1]) {
        Some(e) => out.bulk(e.value()),
        None => out.null(),
    }
    Ok(())
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL] — O(1).
fn cmd_set(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut nx = false;
    let mut xx = false;
    let mut get = false;
    let mut keepttl = false;
    let mut expire: Option<(i64, bool, bool)> = None; // (amount, in_ms, absolute)
    let mut cur = Cursor::new(args, 3);
    while let Some(a) = cur.next() {
        if args::is(a, "nx") && !xx {
            nx = true;
        } else if args::is(a, "xx") && !nx {
            xx = true;
        } else if args::is(a, "get") {
            get = true;
        } else if args::is(a, "keepttl") && expire.is_none() {
            keepttl = true;
        } else if !keepttl && expire.is_none() && ["ex", "px", "exat", "pxat"].iter().any(|k| args::is(a, k)) {
            let v = args::int(cur.value()?)?;
            let kw = a.to_ascii_lowercase();
            expire = Some((v, kw.starts_with(b"p"), kw.ends_with(b"at")));
        } else {
            return Err(CmdError::syntax());
        }
    }
    let now = ctx.now_ms();
    let expire_at = match expire {
        None => None,
        Some((v, ms, abs)) => {
            if v <= 0 {
                return Err(CmdError::invalid_expire("set"));
            }
            let v_ms = if ms { Some(v) } else { v.checked_mul(1000) };
            let at = v_ms.and_then(|v| if abs { Some(v) } else { v.checked_add(now as i64) });
            match at {
                Some(at) => Some(at as u64),
                None => return Err(CmdError::invalid_expire("set")),
            }
        }
    };
    let key = &args[1];
    let old = ctx.read_for_set(key, get)?;
    let exists = old.is_some();
    if (nx && exists) || (xx && !exists) {
        match (get, old) {
            (true, Some(Some(v))) => out.bulk(&v),
            (true, _) => out.null(),
            _ => out.null(),
        }
        return Ok(());
    }
    let expire_at = if keepttl { ctx.peek(key).and_then(|e| e.expire_at()) } else { expire_at };
    let value = &args[2];
    ctx.insert(Entry::new_string(key, value, StrEncoding::for_value(value), expire_at));
    match (get, old) {
        (true, Some(Some(v))) => out.bulk(&v),
        (true, _) => out.null(),
        _ => out.ok(),
    }
    Ok(())
}

impl Ctx<'_> {
    /// For SET-like commands: `None` if the key is absent, `Some(None)` if present
    /// and the old value is not wanted, `Some(Some(v))` with the old value when
    /// `want_old` (WRONGTYPE is only possible once other types exist).
    fn read_for_set(&mut self, key: &[u8], want_old: bool) -> Result<Option<Option<Vec<u8>>>, CmdError> {
        Ok(self.peek(key).map(|e| want_old.then(|| e.value().to_vec())))
    }
}
