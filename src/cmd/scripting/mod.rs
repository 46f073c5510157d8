//! Lua scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT,
//! FUNCTION, FCALL, FCALL_RO. The engine is `crate::script`; this file parses
//! arguments, runs scripts on the shard that owns their declared keys through
//! [`LocalHost`], and manages the shared script cache and libraries.

mod cross;
pub(crate) mod function;
mod host;

use bytes::Bytes;

use super::{CmdError, CmdResult, Ctx, Handler, Session};
use crate::resp::Out;
use crate::script::{self, Body, Kill};
pub use host::LocalHost;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("eval", Handler::Async(crate::async_handler!(cmd_eval))),
    ("evalsha", Handler::Async(crate::async_handler!(cmd_evalsha))),
    ("eval_ro", Handler::Async(crate::async_handler!(cmd_eval_ro))),
    ("evalsha_ro", Handler::Async(crate::async_handler!(cmd_evalsha_ro))),
    ("fcall", Handler::Async(crate::async_handler!(cmd_fcall))),
    ("fcall_ro", Handler::Async(crate::async_handler!(cmd_fcall_ro))),
    ("script|load", Handler::Sync(cmd_script_load)),
    ("script|exists", Handler::Sync(cmd_script_exists)),
    ("script|flush", Handler::Async(crate::async_handler!(cmd_script_flush))),
    ("script|kill", Handler::Sync(cmd_script_kill)),
    ("script|help", Handler::Sync(cmd_script_help)),
    ("function|load", Handler::Sync(function::cmd_load)),
    ("function|delete", Handler::Sync(function::cmd_delete)),
    ("function|flush", Handler::Async(crate::async_handler!(function::cmd_flush))),
    ("function|list", Handler::Sync(function::cmd_list)),
    ("function|dump", Handler::Sync(function::cmd_dump)),
    ("function|restore", Handler::Sync(function::cmd_restore)),
    ("function|stats", Handler::Sync(function::cmd_stats)),
    ("function|kill", Handler::Sync(function::cmd_kill)),
    ("function|help", Handler::Sync(function::cmd_help)),
];

/// The declared keys and the arguments after them (`numkeys` at index 2).
pub fn split_keys(args: &[Bytes]) -> Result<(&[Bytes], &[Bytes]), CmdError> {
    let fcall = args[0].len() >= 5 && args[0][..5].eq_ignore_ascii_case(b"fcall");
    let n = match super::args::int(&args[2]) {
        Err(_) if fcall => return Err(CmdError::err("Bad number of keys provided")),
        r => r?,
    };
    if n > (args.len() - 3) as i64 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    if n < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    Ok(args[3..].split_at(n as usize))
}

/// EVAL script numkeys [key ...] [arg ...]
async fn cmd_eval(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross::run(s, args, out, Body::Eval(&args[1]), false).await
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
async fn cmd_evalsha(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross::run(s, args, out, Body::Sha(&args[1]), false).await
}

/// EVAL_RO script numkeys [key ...] [arg ...]
async fn cmd_eval_ro(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross::run(s, args, out, Body::Eval(&args[1]), true).await
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
async fn cmd_evalsha_ro(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross::run(s, args, out, Body::Sha(&args[1]), true).await
}

/// FCALL function numkeys [key ...] [arg ...]
async fn cmd_fcall(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross::run(s, args, out, Body::Function(&args[1]), false).await
}

/// FCALL_RO function numkeys [key ...] [arg ...]
async fn cmd_fcall_ro(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    cross::run(s, args, out, Body::Function(&args[1]), true).await
}

/// SCRIPT LOAD script
fn cmd_script_load(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let sha = script::script_load(ctx.core, &args[2])?;
    out.bulk(sha.as_bytes());
    Ok(())
}

/// SCRIPT EXISTS sha1 [sha1 ...]
fn cmd_script_exists(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let scripts = &ctx.core.shared.scripts;
    out.array(args.len() - 2);
    for a in &args[2..] {
        let sha = String::from_utf8_lossy(a).to_ascii_lowercase();
        out.int(i64::from(scripts.has_script(&sha)));
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]
async fn cmd_script_flush(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mode_ok = |m: &[u8]| super::args::is(m, "sync") || super::args::is(m, "async");
    if args.len() > 3 || (args.len() == 3 && !mode_ok(&args[2])) {
        return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    s.core.shared.scripts.flush_scripts();
    s.core.call_all(|_| script::flush_local(true, false)).await;
    out.ok();
    Ok(())
}

/// The reply to SCRIPT KILL / FUNCTION KILL.
pub(crate) fn kill_reply(ctx: &Ctx<'_>, function: bool, out: &mut Out) -> CmdResult {
    kill(&ctx.core.shared.scripts, function)?;
    out.ok();
    Ok(())
}

/// SCRIPT KILL (`function` false) or FUNCTION KILL: Ok once the busy script
/// is told to stop, else Redis's error.
pub(crate) fn kill(scripts: &script::Scripts, function: bool) -> Result<(), CmdError> {
    match scripts.kill(function) {
        Kill::Killed => Ok(()),
        Kill::NotBusy => Err(CmdError::new("NOTBUSY No scripts in execution right now.")),
        Kill::Unkillable => Err(CmdError::new(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        )),
        // Redis refuses the other kind's KILL as any command during a busy script.
        Kill::WrongKind if function => {
            Err(CmdError::new("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."))
        }
        Kill::WrongKind => {
            Err(CmdError::new("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."))
        }
    }
}

/// SCRIPT KILL
fn cmd_script_kill(ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    kill_reply(ctx, false, out)
}

pub(crate) fn help(out: &mut Out, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

/// SCRIPT HELP
fn cmd_script_help(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    help(
        out,
        &[
            "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}
