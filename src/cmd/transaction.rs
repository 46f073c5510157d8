//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
