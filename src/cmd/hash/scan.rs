//! HSCAN, as Redis's `scanGenericCommand` runs it for a hash: a packed hash
//! answers whole with cursor 0; a table is walked bucket by bucket along the
//! reverse-binary cursor until COUNT pairs were gathered or ten times as many
//! buckets were visited, and MATCH filters the gathered fields afterwards.

use bytes::Bytes;

use super::read;
use crate::cmd::keys::glob::string_match;
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::resp::Out;

/// HSCAN's options.
struct Opts<'a> {
    count: usize,
    pattern: Option<&'a [u8]>,
}

/// MATCH and COUNT (no TYPE for a key's elements), Redis's errors.
fn parse_opts(args: &[Bytes]) -> Result<Opts<'_>, CmdError> {
    let mut o = Opts { count: 10, pattern: None };
    let mut i = 3;
    while i < args.len() {
        let has_value = args.len() - i >= 2;
        if has_value && args::is(&args[i], "count") {
            let n = args::int(&args[i + 1])?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            o.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if has_value && args::is(&args[i], "match") {
            let p = &args[i + 1][..];
            // `*` matches everything: no matching at all, as in Redis.
            o.pattern = (p != b"*").then_some(p);
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    Ok(o)
}

/// HSCAN key cursor [MATCH pattern] [COUNT count] — O(1) per call, O(N) for a
/// whole iteration.
pub fn hscan(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut cursor = args::cursor(&args[2])?;
    let Some(h) = read(ks, &args[1])? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let o = parse_opts(args)?;
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
    if h.is_packed() {
        cursor = h.scan_step(cursor, |f, v| pairs.push((f, v)));
    } else {
        // Redis counts fields and values (twice COUNT) and visits at most
        // ten times that many buckets.
        let mut visits = o.count.saturating_mul(20);
        loop {
            cursor = h.scan_step(cursor, |f, v| pairs.push((f, v)));
            if cursor == 0 || visits == 0 || pairs.len() >= o.count {
                break;
            }
            visits -= 1;
        }
    }
    if let Some(p) = o.pattern {
        pairs.retain(|(f, _)| string_match(p, f, false));
    }
    out.array(2);
    out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    out.array(pairs.len() * 2);
    for (f, v) in pairs {
        out.bulk(f);
        out.bulk(v);
    }
    Ok(())
}
