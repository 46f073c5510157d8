//! HyperLogLog commands over string values: PFADD, PFCOUNT, PFMERGE, PFDEBUG
//! and PFSELFTEST.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
