//! Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS,
//! BITOP, BITFIELD and BITFIELD_RO.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
