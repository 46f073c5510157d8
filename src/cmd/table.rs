//! The command table: Redis's metadata for each command (generated into
//! `meta.rs`) joined with the handler each family file registers. Arity, unknown
//! commands and subcommands are checked here, once, for every request.

use std::sync::LazyLock;

use bytes::Bytes;

use super::meta::{Meta, COMMANDS};
use super::{CmdError, Handler};

bitflags::bitflags! {
    /// Command flags, as Redis names them in COMMAND INFO.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Flags: u32 {
        const WRITE = 1 << 0;
        const READONLY = 1 << 1;
        const DENYOOM = 1 << 2;
        const ADMIN = 1 << 3;
        const PUBSUB = 1 << 4;
        const NOSCRIPT = 1 << 5;
        const BLOCKING = 1 << 6;
        const LOADING = 1 << 7;
        const STALE = 1 << 8;
        const SKIP_MONITOR = 1 << 9;
        const SKIP_SLOWLOG = 1 << 10;
        const FAST = 1 << 11;
        const NO_AUTH = 1 << 12;
        const MAY_REPLICATE = 1 << 13;
        const NO_MANDATORY_KEYS = 1 << 14;
        const NO_MULTI = 1 << 15;
        const MOVABLE_KEYS = 1 << 16;
        const ALLOW_BUSY = 1 << 17;
    }
}

impl Flags {
    fn from_words(words: &[&str]) -> Flags {
        words.iter().fold(Flags::empty(), |f, w| {
            f | match *w {
                "write" => Flags::WRITE,
                "readonly" => Flags::READONLY,
                "denyoom" => Flags::DENYOOM,
                "admin" => Flags::ADMIN,
                "pubsub" => Flags::PUBSUB,
                "noscript" => Flags::NOSCRIPT,
                "blocking" => Flags::BLOCKING,
                "loading" => Flags::LOADING,
                "stale" => Flags::STALE,
                "skip_monitor" => Flags::SKIP_MONITOR,
                "skip_slowlog" => Flags::SKIP_SLOWLOG,
                "fast" => Flags::FAST,
                "no_auth" => Flags::NO_AUTH,
                "may_replicate" => Flags::MAY_REPLICATE,
                "no_mandatory_keys" => Flags::NO_MANDATORY_KEYS,
                "no_multi" => Flags::NO_MULTI,
                "movablekeys" => Flags::MOVABLE_KEYS,
                "allow_busy" => Flags::ALLOW_BUSY,
                _ => Flags::empty(),
            }
        })
    }
}

/// Where a command's keys are among its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    None,
    /// Keys at `first`, then every `step`, up to `last` (negative counts from the end).
    Range {
        first: usize,
        last: i32,
        step: usize,
    },
    /// As many keys as the `numkeys` argument at `count` says, right after it,
    /// plus a destination key at `dest` (ZUNIONSTORE, LMPOP, SINTERCARD...).
    NumKeys {
        count: usize,
        dest: Option<usize>,
    },
}

/// Commands whose keys Redis finds by their `numkeys` argument.
const NUMKEYS: &[(&str, KeySpec)] = &[
    ("zunionstore", KeySpec::NumKeys { count: 2, dest: Some(1) }),
    ("zinterstore", KeySpec::NumKeys { count: 2, dest: Some(1) }),
    ("zdiffstore", KeySpec::NumKeys { count: 2, dest: Some(1) }),
    ("zunion", KeySpec::NumKeys { count: 1, dest: None }),
    ("zinter", KeySpec::NumKeys { count: 1, dest: None }),
    ("zdiff", KeySpec::NumKeys { count: 1, dest: None }),
    ("zintercard", KeySpec::NumKeys { count: 1, dest: None }),
    ("sintercard", KeySpec::NumKeys { count: 1, dest: None }),
    ("lmpop", KeySpec::NumKeys { count: 1, dest: None }),
    ("zmpop", KeySpec::NumKeys { count: 1, dest: None }),
    ("blmpop", KeySpec::NumKeys { count: 2, dest: None }),
    ("bzmpop", KeySpec::NumKeys { count: 2, dest: None }),
    ("eval", KeySpec::NumKeys { count: 2, dest: None }),
    ("evalsha", KeySpec::NumKeys { count: 2, dest: None }),
    ("eval_ro", KeySpec::NumKeys { count: 2, dest: None }),
    ("evalsha_ro", KeySpec::NumKeys { count: 2, dest: None }),
    ("fcall", KeySpec::NumKeys { count: 2, dest: None }),
    ("fcall_ro", KeySpec::NumKeys { count: 2, dest: None }),
];

/// Commands Redis flags `may_replicate` internally though COMMAND INFO does
/// not list it: not writes, but they propagate (PUBLISH, SPUBLISH) or may
/// change a key's representation (PFCOUNT's cached count). Read-only scripts
/// refuse them and CLIENT PAUSE WRITE holds them, as in Redis.
const HIDDEN_MAY_REPLICATE: &[&str] = &["publish", "spublish", "pfcount"];

/// Positions of a command's keys, from [`KeySpec::positions`].
pub type KeyPositions = std::iter::Chain<std::option::IntoIter<usize>, std::iter::StepBy<std::ops::Range<usize>>>;

impl KeySpec {
    /// Positions of the keys in `args` (empty when the arguments are too few;
    /// a `numkeys` that is not a positive integer names no keys, and the
    /// command itself reports the error).
    pub fn positions(&self, args: &[Bytes]) -> KeyPositions {
        let argc = args.len();
        let (dest, first, end, step) = match *self {
            KeySpec::None => (None, 1, 1, 1),
            KeySpec::Range { first, last, step } => {
                let last = if last < 0 { argc as i64 + last as i64 } else { last as i64 };
                let last = last.min(argc as i64 - 1).max(0) as usize;
                (None, first, if first <= last { last + 1 } else { first }, step.max(1))
            }
            KeySpec::NumKeys { count, dest } => {
                let n = args.get(count).and_then(|a| crate::resp::parse::parse_i64(a)).unwrap_or(0).max(0);
                let first = count + 1;
                let end = (first as u64).saturating_add(n as u64).min(argc as u64) as usize;
                (dest.filter(|&d| d < argc), first, end.max(first), 1)
            }
        };
        dest.into_iter().chain((first..end).step_by(step))
    }

    /// Whether the keys may lie on several shards.
    pub fn may_span(&self) -> bool {
        match *self {
            KeySpec::None => false,
            KeySpec::Range { first, last, step } => !(last >= 0 && (last as usize) < first + step),
            KeySpec::NumKeys { .. } => true,
        }
    }
}

/// One command (or subcommand) ready for dispatch.
pub struct Command {
    pub meta: &'static Meta,
    pub flags: Flags,
    pub keys: KeySpec,
    pub handler: Handler,
    /// Index into the shard's per-command counters.
    pub index: usize,
    pub subcommands: Vec<Command>,
}

impl Command {
    pub fn name(&self) -> &'static str {
        self.meta.name
    }

    /// Redis's arity rule: `n` exact, `-n` at least n, counting the name.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.meta.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }

    pub fn find_sub(&self, name: &[u8]) -> Option<&Command> {
        let suffix = |c: &&Command| c.meta.name.split_once('|').map(|(_, s)| s).unwrap_or("");
        self.subcommands.iter().find(|c| suffix(c).as_bytes().eq_ignore_ascii_case(name))
    }
}

/// All commands, and every (sub)command flattened in `index` order for stats.
pub struct Table {
    pub commands: Vec<Command>,
    by_name: crate::db::Map<&'static str, usize>,
    pub all_names: Vec<&'static str>,
}

/// Handler registrations from every family file.
fn handlers() -> Vec<(&'static str, Handler)> {
    let mut v = Vec::new();
    v.extend_from_slice(super::string::HANDLERS);
    v.extend_from_slice(super::keys::HANDLERS);
    v.extend_from_slice(super::connection::HANDLERS);
    v.extend_from_slice(super::server::HANDLERS);
    v.extend_from_slice(super::list::HANDLERS);
    v.extend_from_slice(super::hash::HANDLERS);
    v.extend_from_slice(super::set::HANDLERS);
    v.extend_from_slice(super::zset::HANDLERS);
    v.extend_from_slice(super::sort::HANDLERS);
    v.extend_from_slice(super::blocking::HANDLERS);
    v.extend_from_slice(super::transaction::HANDLERS);
    v.extend_from_slice(super::scripting::HANDLERS);
    v.extend_from_slice(super::pubsub::HANDLERS);
    v.extend_from_slice(super::bitmap::HANDLERS);
    v.extend_from_slice(super::hll::HANDLERS);
    v.extend_from_slice(super::geo::HANDLERS);
    v.extend_from_slice(super::stream::HANDLERS);
    v
}

fn build_command(
    meta: &'static Meta,
    handlers: &[(&'static str, Handler)],
    names: &mut Vec<&'static str>,
) -> Option<Command> {
    let handler = handlers.iter().find(|(n, _)| *n == meta.name).map(|(_, h)| *h);
    let subcommands: Vec<Command> = meta.subcommands.iter().filter_map(|m| build_command(m, handlers, names)).collect();
    // A container without its own handler answers only through its subcommands.
    let handler = match handler {
        Some(h) => h,
        None if !subcommands.is_empty() => Handler::Sync(|_, _, _| Err(CmdError::syntax())),
        None => return None,
    };
    let numkeys = NUMKEYS.iter().find(|(n, _)| *n == meta.name).map(|(_, k)| *k);
    let keys = if let Some(k) = numkeys {
        k
    } else if meta.first_key > 0 {
        KeySpec::Range { first: meta.first_key as usize, last: meta.last_key, step: meta.key_step.max(1) as usize }
    } else {
        KeySpec::None
    };
    let index = names.len();
    names.push(meta.name);
    let mut flags = Flags::from_words(meta.flags);
    if HIDDEN_MAY_REPLICATE.contains(&meta.name) {
        flags |= Flags::MAY_REPLICATE;
    }
    Some(Command { meta, flags, keys, handler, index, subcommands })
}

pub static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let handlers = handlers();
    let mut all_names = Vec::new();
    let commands: Vec<Command> = COMMANDS.iter().filter_map(|m| build_command(m, &handlers, &mut all_names)).collect();
    let by_name = commands.iter().enumerate().map(|(i, c)| (c.meta.name, i)).collect();
    Table { commands, by_name, all_names }
});

impl Table {
    pub fn get(&self, name: &[u8]) -> Option<&Command> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        let s = std::str::from_utf8(lower).ok()?;
        self.by_name.get(s).map(|&i| &self.commands[i])
    }

    /// Number of (sub)commands with their own counters.
    pub fn counters(&self) -> usize {
        self.all_names.len()
    }

    /// Every (sub)command, walking containers.
    pub fn iter_all(&self) -> impl Iterator<Item = &Command> {
        self.commands.iter().flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
    }
}

/// Resolves a request to its command: Redis's unknown-command, unknown-subcommand
/// and arity errors, with Redis's texts.
pub fn lookup(args: &[Bytes]) -> Result<&'static Command, CmdError> {
    let table: &'static Table = &TABLE;
    let name = &args[0];
    let Some(cmd) = table.get(name) else {
        let mut list = String::new();
        for a in args.iter().skip(1) {
            if list.len() >= 128 {
                break;
            }
            let room = 128 - list.len();
            let s = String::from_utf8_lossy(a);
            let s: String = s.chars().take(room).collect();
            list.push_str(&format!("'{s}' "));
        }
        let n = String::from_utf8_lossy(name);
        let n: String = n.chars().take(128).collect();
        return Err(CmdError::err(format_args!("unknown command '{n}', with args beginning with: {list}")));
    };
    if !cmd.subcommands.is_empty() && args.len() >= 2 {
        let Some(sub) = cmd.find_sub(&args[1]) else {
            let s = String::from_utf8_lossy(&args[1]);
            let s: String = s.chars().take(128).collect();
            return Err(CmdError::err(format_args!(
                "unknown subcommand '{s}'. Try {} HELP.",
                cmd.name().to_ascii_uppercase()
            )));
        };
        if !sub.arity_ok(args.len()) {
            return Err(CmdError::wrong_args(sub.name()));
        }
        return Ok(sub);
    }
    if !cmd.arity_ok(args.len()) {
        return Err(CmdError::wrong_args(cmd.name()));
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<Bytes> {
        v.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
    }

    #[test]
    fn table_invariants() {
        let t: &Table = &TABLE;
        let mut seen = std::collections::HashSet::new();
        for c in t.iter_all() {
            assert!(seen.insert(c.name()), "duplicate {}", c.name());
            assert!(
                !(c.flags.contains(Flags::WRITE) && c.flags.contains(Flags::READONLY)),
                "{} is write and readonly",
                c.name()
            );
            if let KeySpec::Range { first, step, .. } = c.keys {
                assert!(first >= 1 && step >= 1, "{}", c.name());
            }
            // A keyed command that may name keys on several shards needs a coordinator.
            if let Handler::Sync(_) = c.handler {
                assert!(!c.keys.may_span(), "{} may span shards but has no coordinator", c.name());
            }
            // Redis's movable-key commands are ones whose keys we can find.
            if c.flags.contains(Flags::MOVABLE_KEYS) && !matches!(c.handler, Handler::Async(_)) {
                assert!(matches!(c.keys, KeySpec::NumKeys { .. }), "{} has movable keys", c.name());
            }
        }
        // Every registered handler has Redis metadata.
        for (name, _) in handlers() {
            assert!(t.iter_all().any(|c| c.name() == name), "handler {name} has no metadata");
        }
    }

    #[test]
    fn errors_match_redis() {
        assert_eq!(
            lookup(&args(&["nope", "a", "b"])).err().unwrap().0,
            "ERR unknown command 'nope', with args beginning with: 'a' 'b' "
        );
        assert_eq!(lookup(&args(&["GET"])).err().unwrap().0, "ERR wrong number of arguments for 'get' command");
        assert_eq!(
            lookup(&args(&["client", "nope"])).err().unwrap().0,
            "ERR unknown subcommand 'nope'. Try CLIENT HELP."
        );
        assert_eq!(lookup(&args(&["client"])).err().unwrap().0, "ERR wrong number of arguments for 'client' command");
        assert_eq!(
            lookup(&args(&["client", "kill"])).err().unwrap().0,
            "ERR wrong number of arguments for 'client|kill' command"
        );
        assert_eq!(lookup(&args(&["GeT", "k"])).unwrap().name(), "get");
    }

    #[test]
    fn key_positions() {
        let keys = |v: &[&str]| {
            let a = args(v);
            lookup(&a).unwrap().keys.positions(&a).collect::<Vec<_>>()
        };
        assert_eq!(keys(&["mset", "a", "1", "b", "2"]), vec![1, 3]);
        assert_eq!(keys(&["get", "a"]), vec![1]);
        let numkeys = KeySpec::NumKeys { count: 2, dest: Some(1) };
        let pos = |v: &[&str]| numkeys.positions(&args(v)).collect::<Vec<_>>();
        assert_eq!(pos(&["zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"]), vec![1, 3, 4]);
        assert_eq!(pos(&["zunionstore", "d", "9", "a"]), vec![1, 3]);
        assert_eq!(pos(&["zunionstore", "d", "x", "a"]), vec![1]);
        assert_eq!(pos(&["zunionstore", "d", "-1", "a"]), vec![1]);
    }
}
