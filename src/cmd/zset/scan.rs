//! ZSCAN: a packed sorted set answers whole with cursor 0; an indexed one is
//! walked over its member index with Redis's reverse-binary bucket cursor.
//! Scores come back as bulk strings, as Redis writes them for every protocol.

use bytes::Bytes;

use super::zset_of;
use crate::cmd::scan::{reply_head, scan_opts};
use crate::cmd::{args, CmdResult, Ks};
use crate::resp::write::format_double;
use crate::resp::Out;

/// ZSCAN key cursor [MATCH pattern] [COUNT count] — O(1) a call, O(N) a full iteration.
pub(super) fn zscan(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let cursor = args::cursor(&args[2])?;
    let Some(e) = ks.read(&args[1]) else {
        reply_head(out, 0, 0);
        return Ok(());
    };
    let z = zset_of(e)?;
    // Options are checked only once the key is known to be a sorted set, as in Redis.
    let o = scan_opts(args)?;
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = z.scan(cursor, o.count, |m, s| {
        if o.matches(m) {
            found.push((m.to_vec(), s));
        }
    });
    reply_head(out, next, found.len() * 2);
    for (m, s) in &found {
        out.bulk(m);
        out.bulk(format_double(*s).as_bytes());
    }
    Ok(())
}
