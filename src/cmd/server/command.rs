//! COMMAND and its subcommands, generated from the command table: INFO and DOCS
//! replies are Redis's own encoded metadata (`meta.rs`), chosen by protocol.

use bytes::Bytes;

use super::super::keys::glob::string_match;
use super::super::{args, CmdError, CmdResult, Command, Ctx, Flags, KeySpec, TABLE};
use crate::resp::{Out, Proto};

/// A command by its full name: `get`, or `client|list` for a subcommand.
fn find(name: &[u8]) -> Option<&'static Command> {
    match name.iter().position(|&c| c == b'|') {
        None => TABLE.get(name),
        Some(i) => {
            let (base, sub) = (&name[..i], &name[i + 1..]);
            if sub.contains(&b'|') {
                return None;
            }
            TABLE.get(base)?.find_sub(sub)
        }
    }
}

fn write_info(out: &mut Out, cmd: &Command) {
    out.raw(if out.proto == Proto::Resp3 { cmd.meta.info3 } else { cmd.meta.info2 });
}

fn write_docs(out: &mut Out, cmd: &Command) {
    out.bulk(cmd.name().as_bytes());
    out.raw(if out.proto == Proto::Resp3 { cmd.meta.docs3 } else { cmd.meta.docs2 });
}

/// COMMAND — O(N) in the number of commands. Details of every command.
pub fn cmd_command(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    out.array(TABLE.commands.len());
    for c in &TABLE.commands {
        write_info(out, c);
    }
    Ok(())
}

/// COMMAND COUNT — O(1).
pub fn cmd_command_count(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(TABLE.commands.len() as i64);
    Ok(())
}

/// COMMAND INFO [command-name ...] — O(N) in the names (all commands without names).
pub fn cmd_command_info(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() == 2 {
        return cmd_command(ctx, args, out);
    }
    out.array(args.len() - 2);
    for name in &args[2..] {
        match find(name) {
            Some(c) => write_info(out, c),
            None => out.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [command-name ...] — O(N) in the names (all commands without
/// names). Unknown names are left out of the map.
pub fn cmd_command_docs(_ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() == 2 {
        out.map(TABLE.commands.len());
        for c in &TABLE.commands {
            write_docs(out, c);
        }
        return Ok(());
    }
    let found: Vec<&Command> = args[2..].iter().filter_map(|n| find(n)).collect();
    out.map(found.len());
    for c in found {
        write_docs(out, c);
    }
    Ok(())
}

enum ListFilter<'a> {
    None,
    Module,
    AclCat(&'a [u8]),
    Pattern(&'a [u8]),
}

impl ListFilter<'_> {
    fn keeps(&self, c: &Command) -> bool {
        match self {
            ListFilter::None => true,
            // No modules are loaded, so no command comes from one.
            ListFilter::Module => false,
            ListFilter::AclCat(cat) => c.meta.acl.iter().any(|a| a.as_bytes().eq_ignore_ascii_case(cat)),
            ListFilter::Pattern(p) => string_match(p, c.name().as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern] —
/// O(N) in the number of commands. Names of commands and subcommands.
pub fn cmd_command_list(_ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let filter = match args.len() {
        2 => ListFilter::None,
        5 if args::is(&args[2], "filterby") => {
            let (kind, arg) = (&args[3], &args[4][..]);
            if args::is(kind, "module") {
                ListFilter::Module
            } else if args::is(kind, "aclcat") {
                ListFilter::AclCat(arg)
            } else if args::is(kind, "pattern") {
                ListFilter::Pattern(arg)
            } else {
                return Err(CmdError::syntax());
            }
        }
        _ => return Err(CmdError::syntax()),
    };
    let names: Vec<&str> = TABLE.iter_all().filter(|c| filter.keeps(c)).map(|c| c.name()).collect();
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...] — O(N) in the arguments. The key
/// arguments of a full command, from its key specification.
pub fn cmd_command_getkeys(_ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let keys = getkeys(&args[2..])?;
    out.array(keys.len());
    for k in keys {
        out.bulk(k);
    }
    Ok(())
}

/// The keys of the command line `argv`, with Redis's errors.
pub fn getkeys(argv: &[Bytes]) -> Result<Vec<&Bytes>, CmdError> {
    let base = argv.first().and_then(|n| TABLE.get(n));
    let cmd = match (base, argv.get(1)) {
        (Some(b), Some(sub)) if !b.subcommands.is_empty() => b.find_sub(sub),
        (b, _) => b,
    };
    let Some(cmd) = cmd else {
        return Err(CmdError::err("Invalid command specified"));
    };
    if cmd.keys == KeySpec::None && !cmd.flags.contains(Flags::MOVABLE_KEYS) {
        return Err(CmdError::err("The command has no key arguments"));
    }
    if !cmd.arity_ok(argv.len()) {
        return Err(CmdError::err("Invalid number of arguments specified for command"));
    }
    let keys: Vec<&Bytes> = cmd.keys.positions(argv).filter_map(|i| argv.get(i)).collect();
    if keys.is_empty() && !cmd.flags.contains(Flags::NO_MANDATORY_KEYS) {
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    Ok(keys)
}

/// COMMAND HELP — O(1).
pub fn cmd_command_help(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    super::reply_help(
        out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_util::b;

    fn keys(v: &[&str]) -> Result<Vec<String>, String> {
        let argv = b(v);
        getkeys(&argv)
            .map(|k| k.iter().map(|k| String::from_utf8_lossy(k).into_owned()).collect())
            .map_err(|e| e.0.into_owned())
    }

    #[test]
    fn full_names() {
        assert_eq!(find(b"GET").map(|c| c.name()), Some("get"));
        assert_eq!(find(b"client|LIST").map(|c| c.name()), Some("client|list"));
        assert!(find(b"client|nosuch").is_none());
        assert!(find(b"get|x").is_none());
        assert!(find(b"client|list|x").is_none());
    }

    #[test]
    fn getkeys_like_redis() {
        assert_eq!(keys(&["mset", "a", "b", "c"]), Ok(vec!["a".into(), "c".into()]));
        assert_eq!(keys(&["set", "a", "b"]), Ok(vec!["a".into()]));
        assert_eq!(keys(&["nosuch", "a"]), Err("ERR Invalid command specified".into()));
        assert_eq!(keys(&["client", "nosuch"]), Err("ERR Invalid command specified".into()));
        assert_eq!(keys(&["ping", "x"]), Err("ERR The command has no key arguments".into()));
        assert_eq!(keys(&["client", "list"]), Err("ERR The command has no key arguments".into()));
        assert_eq!(keys(&["get", "a", "b"]), Err("ERR Invalid number of arguments specified for command".into()));
    }
}
