//! Lua scripting: Redis's Lua 5.1 environment (EVAL, FUNCTION).

pub mod lib;
