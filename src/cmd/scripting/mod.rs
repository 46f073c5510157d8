//! Lua scripting commands: EVAL, EVALSHA, SCRIPT, FUNCTION, FCALL.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
