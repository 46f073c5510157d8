//! SORT and SORT_RO.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
