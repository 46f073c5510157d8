//! Server commands: CONFIG, INFO, MEMORY, COMMAND, TIME, LASTSAVE, SHUTDOWN, DEBUG.

mod command;
mod config;
mod info;
mod memory;

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::args;
use super::{CmdError, CmdResult, Ctx, Flags, Handler, Session};
use crate::resp::Out;

pub use info::OpsSampler;

/// The Redis version Tessera answers as, in INFO and HELLO.
pub const REDIS_VERSION: &str = "7.0.15";

pub const HANDLERS: &[(&str, Handler)] = &[
    ("config|get", Handler::Sync(config::cmd_config_get)),
    ("config|set", Handler::Async(crate::async_handler!(config::cmd_config_set))),
    ("config|resetstat", Handler::Async(crate::async_handler!(config::cmd_config_resetstat))),
    ("config|rewrite", Handler::Sync(config::cmd_config_rewrite)),
    ("config|help", Handler::Sync(config::cmd_config_help)),
    ("info", Handler::Async(crate::async_handler!(info::cmd_info))),
    ("memory|usage", Handler::Sync(memory::cmd_memory_usage)),
    ("memory|stats", Handler::Async(crate::async_handler!(memory::cmd_memory_stats))),
    ("memory|doctor", Handler::Async(crate::async_handler!(memory::cmd_memory_doctor))),
    ("memory|purge", Handler::Async(crate::async_handler!(memory::cmd_memory_purge))),
    ("memory|malloc-stats", Handler::Sync(memory::cmd_memory_malloc_stats)),
    ("memory|help", Handler::Sync(memory::cmd_memory_help)),
    ("command", Handler::Sync(command::cmd_command)),
    ("command|count", Handler::Sync(command::cmd_command_count)),
    ("command|info", Handler::Sync(command::cmd_command_info)),
    ("command|docs", Handler::Sync(command::cmd_command_docs)),
    ("command|list", Handler::Sync(command::cmd_command_list)),
    ("command|getkeys", Handler::Sync(command::cmd_command_getkeys)),
    ("command|help", Handler::Sync(command::cmd_command_help)),
    ("time", Handler::Sync(cmd_time)),
    ("lastsave", Handler::Sync(cmd_lastsave)),
    ("shutdown", Handler::Async(crate::async_handler!(cmd_shutdown))),
    ("save", Handler::Async(crate::async_handler!(cmd_save))),
    ("bgsave", Handler::Async(crate::async_handler!(cmd_bgsave))),
    ("bgrewriteaof", Handler::Async(crate::async_handler!(cmd_bgrewriteaof))),
    ("debug", Handler::Async(crate::async_handler!(cmd_debug))),
];

/// Writes a Redis-style HELP reply: the header, the given lines, then HELP itself.
pub fn reply_help(out: &mut Out, container: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!("{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// Redis's reply for a subcommand it does not know or got the wrong arguments for.
pub fn subcommand_error(container: &str, sub: &[u8]) -> CmdError {
    let s = String::from_utf8_lossy(sub);
    let s: String = s.chars().take(128).collect();
    CmdError::err(format_args!("unknown subcommand or wrong number of arguments for '{s}'. Try {container} HELP."))
}

/// TIME — O(1). Unix time as seconds and microseconds.
fn cmd_time(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    out.array(2);
    out.bulk_int(now.as_secs() as i64);
    out.bulk_int(now.subsec_micros() as i64);
    Ok(())
}

/// LASTSAVE — O(1). Unix time of the last successful save.
fn cmd_lastsave(ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(ctx.core.shared.persist.lastsave.load(Ordering::Relaxed) as i64);
    Ok(())
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT] — O(N) in the keys to save.
///
/// Saves a snapshot first when asked to (SAVE) or when a `save` schedule is
/// configured (unless NOSAVE), then exits with status 0; as in Redis the
/// client sees its connection close, not a reply. A failed save refuses the
/// shutdown unless FORCE is given.
async fn cmd_shutdown(s: &mut Session, args: &[Bytes], _out: &mut Out) -> CmdResult {
    let save_configured = !s.core.state.borrow().config.save.is_empty();
    let plan = shutdown_plan(&s.core.shared.scripts, args, save_configured)?;
    if plan.save {
        if let Err(e) = crate::persist::save::save(&s.core).await {
            tracing::warn!("Error trying to save the DB, can't exit: {e}");
            if !plan.force {
                return Err(CmdError::err("Errors trying to SHUTDOWN. Check logs."));
            }
        }
    }
    exit()
}

/// What a valid SHUTDOWN is to do.
pub(crate) struct ShutdownPlan {
    pub save: bool,
    pub force: bool,
}

/// SHUTDOWN's checks: the plan, or the error that refuses it.
/// `save_configured` is a non-empty `save` directive.
pub(crate) fn shutdown_plan(
    scripts: &crate::script::Scripts,
    args: &[Bytes],
    save_configured: bool,
) -> Result<ShutdownPlan, CmdError> {
    let (mut nosave, mut save, mut force, mut now, mut abort) = (false, false, false, false, false);
    for a in &args[1..] {
        if args::is(a, "nosave") {
            nosave = true;
        } else if args::is(a, "save") {
            save = true;
        } else if args::is(a, "now") {
            now = true;
        } else if args::is(a, "force") {
            force = true;
        } else if args::is(a, "abort") {
            abort = true;
        } else {
            return Err(CmdError::syntax());
        }
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        return Err(CmdError::syntax());
    }
    if abort {
        // Shutdown is immediate, so there is never one in progress to abort.
        return Err(CmdError::err("No shutdown in progress."));
    }
    // A script past busy-reply-threshold: only SHUTDOWN NOSAVE goes ahead.
    if !nosave {
        if let Some(e) = crate::script::busy_error(scripts, Flags::empty()) {
            return Err(e);
        }
    }
    Ok(ShutdownPlan { save: save || (!nosave && save_configured), force })
}

/// Exits the process after a SHUTDOWN that passed its checks.
pub(crate) fn exit() -> ! {
    tracing::warn!("User requested shutdown...");
    tracing::warn!("Tessera is now ready to exit, bye bye...");
    std::process::exit(0);
}

/// SAVE — O(N). Takes a snapshot and replies once it is on disk.
async fn cmd_save(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    use crate::persist::save::{save, SaveError};
    loop {
        match save(&s.core).await {
            Ok(_) => break,
            // An AOF rewrite takes its snapshot: SAVE follows it.
            Err(SaveError::Busy) => crate::runtime::sleep(std::time::Duration::from_millis(5)).await,
            Err(SaveError::InProgress) => return Err(CmdError::err("Background save already in progress")),
            Err(SaveError::Io(_)) => return Err(CmdError::new("ERR")),
        }
    }
    out.ok();
    Ok(())
}

/// BGREWRITEAOF — O(1) to start. Rewrites the append-only files in the background.
async fn cmd_bgrewriteaof(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    use crate::persist::rewrite::{start, Refused};
    match start(&s.core) {
        Ok(()) => out.simple("Background append only file rewriting started"),
        Err(Refused::Scheduled) => out.simple("Background append only file rewriting scheduled"),
        Err(Refused::Running) => {
            return Err(CmdError::err("Background append only file rewriting already in progress"))
        }
    }
    Ok(())
}

/// BGSAVE [SCHEDULE] — O(1) to start. Takes a snapshot in the background.
async fn cmd_bgsave(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if args::is(&args[1], "schedule") => true,
        _ => return Err(CmdError::syntax()),
    };
    let status = &s.core.shared.persist;
    if status.saving.load(Ordering::Acquire) {
        return Err(CmdError::err("Background save already in progress"));
    }
    if status.rewrite.running.load(Ordering::Acquire) {
        if schedule {
            status.scheduled.store(true, Ordering::Release);
            out.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::err(
            "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ));
    }
    let core = s.core.clone();
    crate::runtime::spawn(async move {
        let _ = crate::persist::save::save(&core).await;
    });
    out.simple("Background saving started");
    Ok(())
}

/// DEBUG SLEEP seconds | DEBUG SET-ACTIVE-EXPIRE 0|1 | DEBUG HELP — O(1).
async fn cmd_debug(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let sub = &args[1];
    if args::is(sub, "help") && args.len() == 2 {
        reply_help(
            out,
            "DEBUG",
            &[
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
    } else if args::is(sub, "sleep") && args.len() == 3 {
        // Redis stops the whole server; a shard stops by blocking its thread.
        let secs = strtod_prefix(&args[2]);
        if secs > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(1e9)));
        }
        out.ok();
    } else if args::is(sub, "set-active-expire") && args.len() == 3 {
        let on = atoi_prefix(&args[2]) != 0;
        s.core.call_all(move |core| core.state.borrow_mut().active_expire = on).await;
        out.ok();
    } else {
        return Err(subcommand_error("DEBUG", sub));
    }
    Ok(())
}

/// C's `strtod` on the longest numeric prefix (0 when there is none).
fn strtod_prefix(b: &[u8]) -> f64 {
    let s: &[u8] = match b.iter().position(|c| !c.is_ascii_whitespace()) {
        Some(p) => &b[p..],
        None => return 0.0,
    };
    let digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let neg = s.first() == Some(&b'-');
    if s.len() >= i + 3 && s[i..i + 3].eq_ignore_ascii_case(b"inf") {
        return if neg { f64::NEG_INFINITY } else { f64::INFINITY };
    }
    let int_start = i;
    while digit(i) {
        i += 1;
    }
    let mut ndigits = i - int_start;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let f = i;
        while digit(i) {
            i += 1;
        }
        ndigits += i - f;
    }
    if ndigits == 0 {
        return 0.0;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if digit(j) {
            while digit(j) {
                j += 1;
            }
            i = j;
        }
    }
    std::str::from_utf8(&s[..i]).ok().and_then(|t| t.parse().ok()).unwrap_or(0.0)
}

/// C's `atoi`: optional sign and leading digits, 0 when there are none.
fn atoi_prefix(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).take(18).collect();
    let v: i64 = digits.parse().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_number_prefixes() {
        assert_eq!(strtod_prefix(b"0.5"), 0.5);
        assert_eq!(strtod_prefix(b"x"), 0.0);
        assert_eq!(strtod_prefix(b"2abc"), 2.0);
        assert_eq!(strtod_prefix(b"1e-1"), 0.1);
        assert_eq!(strtod_prefix(b"-1"), -1.0);
        assert_eq!(atoi_prefix(b"1"), 1);
        assert_eq!(atoi_prefix(b"x"), 0);
        assert_eq!(atoi_prefix(b"-3z"), -3);
    }

    #[test]
    fn help_shape() {
        let mut out = Out::new(crate::resp::Proto::Resp2);
        reply_help(&mut out, "X", &["A"]);
        assert_eq!(&out.buf[..], b"*4\r\n+X <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+A\r\n+HELP\r\n+    Prints this help.\r\n");
    }
}
