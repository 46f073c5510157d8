//! XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP), and
//! what the consumer group commands share: ID parsing, entry replies, the
//! stream's position for the entries-read bookkeeping, and Redis's errors.

use bytes::Bytes;

use super::{parse_id, parse_strict_id, reply_stream_entry, stream_mut};
use crate::cmd::{args, CmdError, CmdResult, Ks, OpError};
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::signal::class;
use crate::types::stream::group::{StreamPos, INVALID_ENTRIES_READ};
use crate::types::stream::{Stream, StreamId};
use crate::types::Value;

/// Replies with the live entry `id`; false (nothing written) if there is none.
pub(super) fn reply_entry_at(out: &mut Out, s: &Stream, id: StreamId) -> bool {
    let mut found = false;
    s.for_each_in(id, id, false, |e| {
        reply_stream_entry(out, &e);
        found = true;
        false
    });
    found
}

/// What the entries-read estimate needs of `s`.
pub(super) fn stream_pos(s: &Stream) -> StreamPos {
    StreamPos {
        length: s.len(),
        last_id: s.last_id,
        first_id: s.first_id,
        max_deleted_id: s.max_deleted_entry_id,
        entries_added: s.entries_added,
    }
}

/// Client-supplied names in error texts: Redis formats them with `%s`, so
/// they end at a NUL byte.
pub(super) fn c_str(b: &[u8]) -> String {
    let b = b.split(|&c| c == 0).next().unwrap_or_default();
    String::from_utf8_lossy(b).into_owned()
}

/// `NOGROUP No such key '<key>' or consumer group '<group>'<suffix>`.
pub(super) fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> CmdError {
    CmdError::new(format!("NOGROUP No such key '{}' or consumer group '{}'{suffix}", c_str(key), c_str(group)))
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'`.
pub(super) fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::new(format!("NOGROUP No such consumer group '{}' for key name '{}'", c_str(group), c_str(key)))
}

/// Redis's `getLongLongFromObjectOrReply` with its own error text.
pub(super) fn int_or(arg: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    crate::resp::parse::parse_i64(arg).ok_or_else(|| CmdError::err(msg))
}

const XGROUP_REQUIRES_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

/// Parses ENTRIESREAD's value.
fn entries_read_arg(arg: &[u8]) -> Result<i64, CmdError> {
    let v = args::int(arg)?;
    if v < 0 && v != INVALID_ENTRIES_READ {
        return Err(CmdError::err("value for ENTRIESREAD must be positive or -1"));
    }
    Ok(v)
}

/// XGROUP CREATE key group <id|$> [MKSTREAM] [ENTRIESREAD n] — O(1).
pub(super) fn xgroup_create(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name) = (&args[2], &args[3]);
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < args.len() {
        if args::is(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if args::is(&args[i], "entriesread") && i + 1 < args.len() {
            entries_read = entries_read_arg(&args[i + 1])?;
            i += 2;
        } else {
            return Err(crate::cmd::server::subcommand_error("XGROUP", &args[1]));
        }
    }
    let exists = match ks.write_as::<Stream>(key)? {
        Some(_) => true,
        None if mkstream => false,
        None => return Err(CmdError::new(XGROUP_REQUIRES_KEY)),
    };
    if args.len() > 8 {
        return Err(crate::cmd::server::subcommand_error("XGROUP", &args[1]));
    }
    let id = if &args[4][..] == b"$" {
        match ks.write_as::<Stream>(key)? {
            Some(s) => s.last_id,
            None => StreamId::MIN,
        }
    } else {
        parse_strict_id(&args[4], 0)?
    };
    if !exists {
        ks.insert(Entry::new_obj(key, Value::Stream(Box::default()), None));
    }
    let Some(s) = ks.write_as::<Stream>(key)? else { return Err(OpError::NoSuchKey.into()) };
    if !s.groups.create(name, id, entries_read) {
        return Err(CmdError::new("BUSYGROUP Consumer Group name already exists"));
    }
    ks.changed(class::STREAM, "xgroup-create", key);
    out.ok();
    Ok(())
}

/// The stream and group an XGROUP subcommand other than CREATE works on.
fn existing<'a>(ks: &'a mut Ks<'_>, key: &[u8]) -> Result<&'a mut Stream, CmdError> {
    stream_mut(ks, key)?.ok_or(CmdError::new(XGROUP_REQUIRES_KEY))
}

/// XGROUP SETID key group <id|$> [ENTRIESREAD n] — O(1).
pub(super) fn xgroup_setid(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name) = (&args[2], &args[3]);
    // Options are checked before the key, as Redis's xgroupCommand does.
    let mut entries_read = INVALID_ENTRIES_READ;
    match args.len() {
        5 => {}
        7 if args::is(&args[5], "entriesread") => entries_read = entries_read_arg(&args[6])?,
        _ => return Err(crate::cmd::server::subcommand_error("XGROUP", &args[1])),
    }
    let s = existing(ks, key)?;
    if s.groups.get(name).is_none() {
        return Err(no_group(key, name));
    }
    let id = if &args[4][..] == b"$" { s.last_id } else { parse_id(&args[4], 0)? };
    if let Some(g) = s.groups.get_mut(name) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    ks.changed(class::STREAM, "xgroup-setid", key);
    out.ok();
    Ok(())
}

/// XGROUP DESTROY key group — O(N) in the group's pending entries.
pub(super) fn xgroup_destroy(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name) = (&args[2], &args[3]);
    let s = existing(ks, key)?;
    if !s.groups.destroy(name) {
        out.int(0);
        return Ok(());
    }
    ks.changed(class::STREAM, "xgroup-destroy", key);
    // Clients blocked in XREADGROUP on this group learn it is gone.
    super::read::signal_ready(ks, key);
    out.int(1);
    Ok(())
}

/// XGROUP CREATECONSUMER key group consumer — O(1).
pub(super) fn xgroup_createconsumer(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name, consumer) = (&args[2], &args[3], &args[4]);
    let now = ks.now_ms() as i64;
    let s = existing(ks, key)?;
    let Some(g) = s.groups.get_mut(name) else { return Err(no_group(key, name)) };
    let created = g.create_consumer(consumer, now).is_some();
    if created {
        ks.changed(class::STREAM, "xgroup-createconsumer", key);
    }
    out.int(created as i64);
    Ok(())
}

/// XGROUP DELCONSUMER key group consumer — O(N) in the consumer's pending
/// entries, which are dropped; replies with their number.
pub(super) fn xgroup_delconsumer(ks: &mut Ks<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (key, name, consumer) = (&args[2], &args[3], &args[4]);
    let s = existing(ks, key)?;
    let Some(g) = s.groups.get_mut(name) else { return Err(no_group(key, name)) };
    match g.delete_consumer(consumer) {
        Some(pending) => {
            ks.changed(class::STREAM, "xgroup-delconsumer", key);
            out.int(pending as i64);
        }
        None => out.int(0),
    }
    Ok(())
}

/// XGROUP HELP — O(1).
pub(super) fn xgroup_help(_ks: &mut Ks<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    crate::cmd::server::reply_help(
        out,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
    Ok(())
}
