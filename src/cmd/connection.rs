//! Connection commands.

use bytes::Bytes;

use super::{CmdResult, Ctx, Handler};
use crate::resp::Out;

pub const HANDLERS: &[(&str, Handler)] = &[("ping", Handler::Sync(cmd_ping))];

/// PING [message] — O(1).
fn cmd_ping(_ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    match args.get(1) {
        Some(m) => out.bulk(m),
        None => out.simple("PONG"),
    }
    Ok(())
}
