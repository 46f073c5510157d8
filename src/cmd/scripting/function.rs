//! FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/KILL/HELP.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use crate::cmd::args::is;
use crate::cmd::{CmdError, CmdResult, Ctx, Session};
use crate::resp::Out;
use crate::script::store::{FunctionMeta, Libraries, Library, IDLE};
use crate::script::{self, function, FLAG_NAMES};
use crate::shard::Core;

/// Compiles a library on this shard and returns it with its functions.
fn build(core: &Core, code: &[u8], libs: &Libraries, replace: bool) -> Result<Arc<Library>, CmdError> {
    let name = function::library_name(code)?;
    if !replace && libs.libs.contains_key(&name) {
        return Err(CmdError::err(format_args!("Library '{name}' already exists")));
    }
    let registered = script::load_library_check(core, code)?;
    if registered.is_empty() {
        return Err(CmdError::err("No functions registered"));
    }
    let functions =
        registered.into_iter().map(|(name, flags, description)| FunctionMeta { name, description, flags }).collect();
    Ok(Arc::new(Library { name, code: Bytes::copy_from_slice(code), functions }))
}

/// Adds `lib` to `libs` (replacing a library of the same name when asked).
fn join(libs: &mut Libraries, lib: Arc<Library>, replace: bool, restore: bool) -> Result<(), CmdError> {
    if libs.libs.contains_key(&lib.name) {
        if !replace {
            return Err(if restore {
                CmdError::err(format_args!("Library {} already exists", lib.name))
            } else {
                CmdError::err(format_args!("Library '{}' already exists", lib.name))
            });
        }
        libs.remove(&lib.name);
    }
    for f in &lib.functions {
        if libs.functions.contains_key(&f.name.to_ascii_lowercase()) {
            return Err(CmdError::err(format_args!("Function {} already exists", f.name)));
        }
    }
    libs.add(lib);
    Ok(())
}

/// Registers a library's code (as FUNCTION LOAD REPLACE does) for every
/// shard: libraries found in a data file at start-up. Returns its name.
pub(crate) fn load_code(core: &Core, code: &[u8]) -> Result<String, CmdError> {
    let scripts = &core.shared.scripts;
    let lib = build(core, code, &scripts.libraries(), true)?;
    let name = lib.name.clone();
    scripts.update_libraries(|libs| join(libs, lib, true, false))?;
    Ok(name)
}

/// Redis's `addReplySubcommandSyntaxError`, naming the subcommand as given.
fn subcommand_syntax(sub: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        String::from_utf8_lossy(sub)
    ))
}

/// FUNCTION LOAD [REPLACE] function-code
pub fn cmd_load(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if is(&args[i], "replace") {
            replace = true;
            i += 1;
            continue;
        }
        return Err(CmdError::err(format_args!("Unknown option given: {}", String::from_utf8_lossy(&args[i]))));
    }
    if i >= args.len() {
        return Err(CmdError::err("Function code is missing"));
    }
    let scripts = &ctx.core.shared.scripts;
    let lib = build(ctx.core, &args[i], &scripts.libraries(), replace)?;
    let name = lib.name.clone();
    scripts.update_libraries(|libs| join(libs, lib, replace, false))?;
    out.bulk(name.as_bytes());
    Ok(())
}

/// FUNCTION DELETE library-name
pub fn cmd_delete(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let name = String::from_utf8_lossy(&args[2]).into_owned();
    ctx.core
        .shared
        .scripts
        .update_libraries(|libs| libs.remove(&name).map(|_| ()).ok_or_else(|| CmdError::err("Library not found")))?;
    out.ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC]
pub async fn cmd_flush(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() > 3 {
        return Err(subcommand_syntax(&args[1]));
    }
    if args.len() == 3 && !is(&args[2], "sync") && !is(&args[2], "async") {
        return Err(CmdError::err("FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    s.core.shared.scripts.update_libraries(|libs| {
        *libs = Libraries::default();
        Ok::<(), CmdError>(())
    })?;
    s.core.call_all(|_| script::flush_local(false, true)).await;
    out.ok();
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
pub fn cmd_list(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        if !with_code && is(&args[i], "withcode") {
            with_code = true;
        } else if pattern.is_none() && is(&args[i], "libraryname") {
            if i >= args.len() - 1 {
                return Err(CmdError::err("library name argument was not given"));
            }
            i += 1;
            pattern = Some(&args[i]);
        } else {
            return Err(CmdError::err(format_args!("Unknown argument {}", String::from_utf8_lossy(&args[i]))));
        }
        i += 1;
    }
    let libs = ctx.core.shared.scripts.libraries();
    let matching: Vec<&Arc<Library>> = libs
        .libs
        .values()
        .filter(|l| pattern.is_none_or(|p| crate::cmd::keys::glob::string_match(p, l.name.as_bytes(), true)))
        .collect();
    out.array(matching.len());
    for lib in matching {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = FLAG_NAMES.iter().filter(|(_, fl)| f.flags.contains(*fl)).map(|(n, _)| *n).collect();
            out.set(names.len());
            for n in names {
                out.simple(n);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// FUNCTION DUMP
pub fn cmd_dump(ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let libs = ctx.core.shared.scripts.libraries();
    out.bulk(&function::dump(libs.libs.values().map(|l| &l.code[..])));
    Ok(())
}

/// FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]
pub fn cmd_restore(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() > 4 {
        return Err(subcommand_syntax(&args[1]));
    }
    let (mut flush, mut replace) = (false, false);
    if let Some(p) = args.get(3) {
        if is(p, "flush") {
            flush = true;
        } else if is(p, "replace") {
            replace = true;
        } else if !is(p, "append") {
            return Err(CmdError::err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."));
        }
    }
    let codes = function::undump(&args[2])?;
    let mut restored = Libraries::default();
    for code in codes {
        let lib = build(ctx.core, &code, &restored, false)?;
        join(&mut restored, lib, false, false)?;
    }
    ctx.core.shared.scripts.update_libraries(|libs| {
        if flush {
            *libs = restored;
            return Ok(());
        }
        let mut next = libs.clone();
        for lib in restored.libs.into_values() {
            join(&mut next, lib, replace, true)?;
        }
        *libs = next;
        Ok::<(), CmdError>(())
    })?;
    out.ok();
    Ok(())
}

/// FUNCTION STATS
pub fn cmd_stats(ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let scripts = &ctx.core.shared.scripts;
    // Redis answers FUNCTION STATS during a busy EVAL with the eval BUSY error.
    if scripts.busy() == Some(false) {
        return Err(CmdError::new(
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        ));
    }
    out.map(2);
    out.bulk(b"running_script");
    let running = scripts.slots.iter().find_map(|s| {
        if s.state.load(Ordering::Acquire) == IDLE {
            return None;
        }
        let info = s.info.lock().ok()?.clone()?;
        Some((info, s.started_ms.load(Ordering::Acquire)))
    });
    match running {
        None => out.null(),
        Some(((name, command), started)) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array(command.len());
            for a in &command {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(crate::db::Clock::now().now_ms.saturating_sub(started) as i64);
        }
    }
    let libs = scripts.libraries();
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs.libs.len() as i64);
    out.bulk(b"functions_count");
    out.int(libs.functions.len() as i64);
    Ok(())
}

/// FUNCTION KILL
pub fn cmd_kill(ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    super::kill_reply(ctx, true, out)
}

/// FUNCTION HELP
pub fn cmd_help(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    super::help(
        out,
        &[
            "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}
