//! SSCAN: a packed set answers in one call with cursor 0; a hash table is
//! walked with Redis's reverse-binary bucket cursor.

use bytes::Bytes;

use super::set_of;
use crate::cmd::scan::{reply_head, scan_opts};
use crate::cmd::{args, CmdResult, Ks};
use crate::resp::Out;

/// SSCAN key cursor [MATCH pattern] [COUNT count] — O(1) a call, O(N) a full iteration.
pub(super) fn sscan(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let cursor = args::cursor(&args[2])?;
    let Some(e) = ks.read(&args[1]) else {
        reply_head(out, 0, 0);
        return Ok(());
    };
    let s = set_of(e)?;
    // Options are checked only once the key is known to be a set, as in Redis.
    let o = scan_opts(args)?;
    let mut found = Vec::new();
    let next = s.scan(cursor, o.count, |m| {
        if o.matches(m) {
            found.push(m.to_vec());
        }
    });
    reply_head(out, next, found.len());
    for m in &found {
        out.bulk(m);
    }
    Ok(())
}
