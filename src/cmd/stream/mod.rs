//! Stream commands: entries (XADD, XRANGE, XREAD, ...) and consumer groups
//! (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO).

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
