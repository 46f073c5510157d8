//! ZSCAN: a packed sorted set answers whole with cursor 0; an indexed one is
//! walked over its member index with Redis's reverse-binary bucket cursor.
//! Scores come back as bulk strings, as Redis writes them for every protocol.

use bytes::Bytes;

use super::zset_of;
use crate::cmd::keys::glob::string_match;
use crate::cmd::{args, CmdError, CmdResult, Ks};
use crate::resp::write::format_double;
use crate::resp::Out;

/// ZSCAN's options (Redis's `scanGenericCommand`): COUNT and MATCH; TYPE
/// only applies to the keyspace SCAN.
fn parse_opts(args: &[Bytes]) -> Result<(usize, Option<&[u8]>), CmdError> {
    let (mut count, mut pattern) = (10usize, None);
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if args::is(&args[j], "count") && more {
            let n = args::int(&args[j + 1])?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args::is(&args[j], "match") && more {
            let p = &args[j + 1][..];
            // `*` matches everything: no matching at all, as in Redis.
            pattern = (p != b"*").then_some(p);
        } else {
            return Err(CmdError::syntax());
        }
        j += 2;
    }
    Ok((count, pattern))
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count] — O(1) a call, O(N) a full iteration.
pub(super) fn zscan(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let cursor = args::cursor(&args[2])?;
    let Some(e) = ks.read(&args[1]) else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let z = zset_of(e)?;
    // Options are checked only once the key is known to be a sorted set, as in Redis.
    let (count, pattern) = parse_opts(args)?;
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| string_match(p, m, false)) {
            found.push((m.to_vec(), s));
        }
    });
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len() * 2);
    for (m, s) in &found {
        out.bulk(m);
        out.bulk(format_double(*s).as_bytes());
    }
    Ok(())
}
