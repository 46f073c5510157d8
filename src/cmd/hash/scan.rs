//! HSCAN, as Redis's `scanGenericCommand` runs it for a hash: a packed hash
//! answers whole with cursor 0; a table is walked bucket by bucket along the
//! reverse-binary cursor until COUNT pairs were gathered or ten times as many
//! buckets were visited, and MATCH filters the gathered fields afterwards.

use bytes::Bytes;

use super::read;
use crate::cmd::scan::{reply_head, scan_opts};
use crate::cmd::{args, CmdResult, Ks};
use crate::resp::Out;

/// HSCAN key cursor [MATCH pattern] [COUNT count] — O(1) per call, O(N) for a
/// whole iteration.
pub fn hscan(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut cursor = args::cursor(&args[2])?;
    let Some(h) = read(ks, &args[1])? else {
        reply_head(out, 0, 0);
        return Ok(());
    };
    let o = scan_opts(args)?;
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
    pairs.retain(|(f, _)| o.matches(f));
    reply_head(out, cursor, pairs.len() * 2);
    for (f, v) in pairs {
        out.bulk(f);
        out.bulk(v);
    }
    Ok(())
}
