//! Lua scripting: Redis 7.0's Lua 5.1 environment for EVAL and FUNCTION.
//!
//! ```text
//!   server::Shared.scripts (one per process)      shard 0..n (one thread each)
//!   ┌───────────────────────────────────┐         ┌──────────────────────────────┐
//!   │ script texts by SHA1, libraries   │ ──────▶ │ Engine (thread-local):       │
//!   │ (Mutex, taken by SCRIPT/FUNCTION  │ compile │  eval Lua state + compiled   │
//!   │  and on a shard's first use)      │ on first│  functions by SHA1           │
//!   │ generations (flush = rebuild)     │ use     │  function Lua state + libs   │
//!   │ busy slots (atomics, per shard)   │ ◀────── │  count hook: busy / kill     │
//!   └───────────────────────────────────┘         └──────────────────────────────┘
//! ```
//!
//! The engine is synchronous: [`run`] compiles (once per shard) and runs a
//! script to completion, sending every `redis.call` through a [`Host`]. The
//! host either runs the command or answers [`Elsewhere`] (a key of it lives on
//! another shard), in which case the script is aborted and [`Outcome::Elsewhere`]
//! tells the caller to run it again in cross-shard mode.

pub mod convert;
mod engine;
pub mod function;
pub mod lib;
pub mod store;

use bytes::Bytes;

use crate::cmd::{CmdError, Command};
use crate::resp::Out;
use crate::shard::Core;

pub use engine::{flush_local, load_library_check, script_load, while_busy};
pub use store::{Kill, Scripts};

/// A `redis.call` the host cannot run here: a key of the command lives on
/// another shard (or the command needs the connection's async path). The
/// script is aborted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elsewhere;

/// Where a script's `redis.call`s run.
pub trait Host {
    /// Runs one command for the script in database `db`, writing its reply to
    /// `out` (in the script's protocol). The engine has already looked the
    /// command up and checked its arity, the `noscript` flag and writes in
    /// read-only scripts; SELECT is handled by the engine.
    fn call(&mut self, cmd: &'static Command, args: &[Bytes], db: usize, out: &mut Out) -> Result<(), Elsewhere>;
    /// `busy-reply-threshold` and what the shard's clients need while a
    /// script is past it, as configured when the script starts.
    fn busy_config(&self) -> BusyConfig;
    /// Number of databases, for SELECT inside scripts.
    fn databases(&self) -> usize;
}

/// The configuration a shard works with while one of its scripts runs past
/// `busy-reply-threshold` (its state is the script's until then).
#[derive(Debug, Clone, Copy, Default)]
pub struct BusyConfig {
    /// `busy-reply-threshold` in milliseconds (0 = never busy).
    pub threshold_ms: u64,
    pub maxclients: u64,
    pub tcp_keepalive: u64,
    /// No `requirepass`: new connections start authenticated.
    pub open: bool,
}

impl BusyConfig {
    pub fn of(c: &crate::config::Config) -> Self {
        BusyConfig {
            threshold_ms: c.busy_reply_threshold,
            maxclients: c.maxclients,
            tcp_keepalive: c.tcp_keepalive,
            open: c.requirepass.is_empty(),
        }
    }
}

/// Which script to run.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// EVAL / EVAL_RO: the script's text.
    Eval(&'a [u8]),
    /// EVALSHA / EVALSHA_RO: its SHA1 (any case).
    Sha(&'a [u8]),
    /// FCALL / FCALL_RO: a function's name.
    Function(&'a [u8]),
}

/// One script invocation.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub body: Body<'a>,
    pub keys: &'a [Bytes],
    pub args: &'a [Bytes],
    /// EVAL_RO, EVALSHA_RO or FCALL_RO.
    pub readonly: bool,
    /// The caller's database (SELECT inside the script changes only the script's).
    pub db: usize,
    /// Used memory was over maxmemory when the script was called (Redis's
    /// `pre_command_oom_state`): scripts that may write are refused, and a
    /// script's deny-oom calls fail until it has written.
    pub oom: bool,
}

/// How a script invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The reply is in `out`.
    Done,
    /// A `redis.call` needed another shard; nothing was written to `out`.
    /// `wrote` says whether the script had already run write commands here.
    Elsewhere { wrote: bool },
}

bitflags::bitflags! {
    /// Script flags from a `#!lua flags=...` shebang or `register_function`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct ScriptFlags: u8 {
        const NO_WRITES = 1 << 0;
        const ALLOW_OOM = 1 << 1;
        const ALLOW_STALE = 1 << 2;
        const NO_CLUSTER = 1 << 3;
        const ALLOW_CROSS_SLOT = 1 << 4;
        /// An EVAL script without a shebang (Redis's compatibility mode).
        const EVAL_COMPAT = 1 << 7;
    }
}

/// The flag names, in the order FUNCTION LIST shows them.
pub const FLAG_NAMES: &[(&str, ScriptFlags)] = &[
    ("no-writes", ScriptFlags::NO_WRITES),
    ("allow-oom", ScriptFlags::ALLOW_OOM),
    ("allow-stale", ScriptFlags::ALLOW_STALE),
    ("no-cluster", ScriptFlags::NO_CLUSTER),
    ("allow-cross-slot-keys", ScriptFlags::ALLOW_CROSS_SLOT),
];

pub fn flag_by_name(name: &[u8]) -> Option<ScriptFlags> {
    FLAG_NAMES.iter().find(|(n, _)| n.as_bytes() == name).map(|(_, f)| *f)
}

/// Redis's `evalExtractShebangFlags`: the flags of an EVAL script and the
/// length of its shebang line (without the newline; 0 when it has none).
pub fn shebang_flags(body: &[u8]) -> Result<(ScriptFlags, usize), CmdError> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err(CmdError::err("Invalid script shebang"));
    };
    let parts = match crate::resp::parse::split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err(CmdError::err("Invalid engine in script shebang")),
    };
    if parts[0].as_ref() != b"#!lua" {
        return Err(CmdError::err(format_args!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        )));
    }
    let mut flags = ScriptFlags::empty();
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(CmdError::err(format_args!("Unknown lua shebang option: {}", String::from_utf8_lossy(p))));
        };
        if list.is_empty() {
            continue;
        }
        for f in list.split(|&b| b == b',') {
            match flag_by_name(f) {
                Some(x) => flags |= x,
                None => {
                    return Err(CmdError::err(format_args!(
                        "Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(f)
                    )))
                }
            }
        }
    }
    Ok((flags, end))
}

/// SHA1 of a script as lowercase hex.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// A double as Redis's `strtod` reads RESP3 doubles (`inf`, `-inf`, `nan`).
pub fn parse_double(s: &str) -> Option<f64> {
    match s {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Runs a script on this shard: the engine's single entry point.
///
/// Compiles the script on first use on this shard (EVAL also adds it to the
/// shared cache), checks its flags against the invocation, runs it with
/// KEYS/ARGV (or the function's arguments), and writes the converted reply to
/// `out` in `out.proto`. Script errors come back as `Err` with Redis's text.
pub fn run(core: &Core, host: &mut dyn Host, call: &Call<'_>, out: &mut Out) -> Result<Outcome, CmdError> {
    engine::run(core, host, call, out)
}

/// Redis's BUSY reply for a command arriving while a script (on any shard)
/// runs past `busy-reply-threshold`, unless the command is allowed then.
pub fn busy_error(scripts: &Scripts, flags: crate::cmd::Flags) -> Option<CmdError> {
    if flags.contains(crate::cmd::Flags::ALLOW_BUSY) {
        return None;
    }
    Some(CmdError::new(match scripts.busy()? {
        false => "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        true => "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_flags_as_redis_parses_them() {
        assert_eq!(shebang_flags(b"return 1").unwrap(), (ScriptFlags::EVAL_COMPAT, 0));
        assert_eq!(shebang_flags(b"#!lua\nreturn 1").unwrap(), (ScriptFlags::empty(), 5));
        assert_eq!(
            shebang_flags(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap().0,
            ScriptFlags::NO_WRITES | ScriptFlags::ALLOW_OOM
        );
        assert_eq!(shebang_flags(b"#!lua flags=\n").unwrap().0, ScriptFlags::empty());
        let e = |b: &[u8]| shebang_flags(b).unwrap_err().0;
        assert_eq!(e(b"#!lua"), "ERR Invalid script shebang");
        assert_eq!(e(b"#!lua flags=bogus\n"), "ERR Unexpected flag in script shebang: bogus");
        assert_eq!(e(b"#!lua foo=bar\n"), "ERR Unknown lua shebang option: foo=bar");
        assert_eq!(e(b"#!luax\n"), "ERR Unexpected engine in script shebang: #!luax");
        assert_eq!(e(b"#!\"lua\n"), "ERR Invalid engine in script shebang");
    }

    #[test]
    fn sha1_and_doubles() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(parse_double("inf"), Some(f64::INFINITY));
        assert_eq!(parse_double("1.5"), Some(1.5));
        assert!(parse_double("nan").unwrap().is_nan());
    }

    #[test]
    fn lua_numbers_truncate_as_c_does() {
        use convert::lua_number_to_i64;
        assert_eq!(lua_number_to_i64(3.99), 3);
        assert_eq!(lua_number_to_i64(-3.99), -3);
        assert_eq!(lua_number_to_i64(f64::NAN), i64::MIN);
        assert_eq!(lua_number_to_i64(1e300), i64::MIN);
        assert_eq!(lua_number_to_i64(-9.3e18), i64::MIN);
    }
}
