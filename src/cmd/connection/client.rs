//! CLIENT subcommands. Each shard keeps a registry of its own connections;
//! CLIENT LIST and CLIENT KILL visit every shard's registry with `call_all`.

use bytes::Bytes;

use super::super::server::{reply_help, subcommand_error};
use super::super::{args, CmdError, CmdResult, ReplyMode, Session};
use crate::resp::parse::parse_i64;
use crate::resp::Out;
use crate::server::client::{ClientInfo, ClientType};
use crate::shard::Core;

/// CLIENT ID — O(1).
pub async fn cmd_id(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(s.client.id as i64);
    Ok(())
}

/// CLIENT GETNAME — O(1).
pub async fn cmd_getname(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let name = s.client.name.borrow();
    if name.is_empty() {
        out.null();
    } else {
        out.bulk(&name);
    }
    Ok(())
}

/// Names the connection (an empty name removes it), with Redis's charset rule:
/// no spaces, newlines or other bytes outside `!`..`~`, so CLIENT LIST stays parseable.
pub fn set_name(s: &Session, name: &[u8]) -> CmdResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err("Client names cannot contain spaces, newlines or special characters."));
    }
    *s.client.name.borrow_mut() = name.to_vec();
    Ok(())
}

/// CLIENT SETNAME connection-name — O(1).
pub async fn cmd_setname(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    set_name(s, &args[2])?;
    out.ok();
    Ok(())
}

/// CLIENT INFO — O(1). This connection's CLIENT LIST line.
pub async fn cmd_info(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut line = s.client.describe(s.core.clock().now_ms);
    line.push('\n');
    out.verbatim(line.as_bytes());
    Ok(())
}

/// Which connections CLIENT LIST shows.
#[derive(Clone)]
enum ListFilter {
    All,
    Type(ClientType),
    Ids(Vec<i64>),
}

fn unknown_type(name: &[u8]) -> CmdError {
    CmdError::err(format_args!("Unknown client type '{}'", String::from_utf8_lossy(name)))
}

/// CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id ...] — O(N)
/// in the number of connections, over every shard.
pub async fn cmd_list(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let filter = if args.len() == 4 && args::is(&args[2], "type") {
        ListFilter::Type(ClientType::by_name(&args[3]).ok_or_else(|| unknown_type(&args[3]))?)
    } else if args.len() > 3 && args::is(&args[2], "id") {
        let ids: Option<Vec<i64>> = args[3..].iter().map(|a| parse_i64(a)).collect();
        ListFilter::Ids(ids.ok_or_else(|| CmdError::err("Invalid client ID"))?)
    } else if args.len() == 2 {
        ListFilter::All
    } else {
        return Err(CmdError::syntax());
    };
    let f = filter.clone();
    let per_shard = s.core.call_all(move |core| list_on_shard(core, &f)).await;
    let mut lines: Vec<(u64, String)> = per_shard.into_iter().flatten().collect();
    let mut text = String::new();
    match filter {
        // Redis answers in the order the IDs were given, repeats included.
        ListFilter::Ids(ids) => {
            for id in ids {
                if let Some((_, l)) = lines.iter().find(|(i, _)| *i as i64 == id) {
                    text.push_str(l);
                    text.push('\n');
                }
            }
        }
        _ => {
            lines.sort_unstable_by_key(|(id, _)| *id);
            for (_, l) in lines {
                text.push_str(&l);
                text.push('\n');
            }
        }
    }
    out.verbatim(text.as_bytes());
    Ok(())
}

fn list_on_shard(core: &Core, f: &ListFilter) -> Vec<(u64, String)> {
    let now = core.clock().now_ms;
    let keep = |c: &ClientInfo| match f {
        ListFilter::All => true,
        ListFilter::Type(t) => c.client_type() == *t,
        ListFilter::Ids(ids) => ids.contains(&(c.id as i64)),
    };
    core.clients.borrow().clients.values().filter(|c| keep(c)).map(|c| (c.id, c.describe(now))).collect()
}

/// CLIENT KILL's filters; every given one must match.
#[derive(Clone, Debug, Default, PartialEq)]
struct KillFilter {
    addr: Option<String>,
    laddr: Option<String>,
    kind: Option<ClientType>,
    id: Option<u64>,
    skipme: bool,
    /// The connection asking.
    me: u64,
}

impl KillFilter {
    fn matches(&self, c: &ClientInfo) -> bool {
        self.addr.as_ref().is_none_or(|a| *a == c.addr.to_string())
            && self.laddr.as_ref().is_none_or(|a| *a == c.laddr.to_string())
            && self.kind.is_none_or(|k| k == c.client_type())
            && self.id.is_none_or(|id| id == c.id)
            && !(self.skipme && c.id == self.me)
    }
}

/// Parses CLIENT KILL's old form (`ip:port`) and its filter form; returns the
/// filter and whether the old form was used.
fn parse_kill(args: &[Bytes], me: u64) -> Result<(KillFilter, bool), CmdError> {
    let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
    if args.len() == 3 {
        // With the old form a client may kill itself.
        return Ok((KillFilter { addr: Some(text(&args[2])), me, ..Default::default() }, true));
    }
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(CmdError::syntax());
    }
    let mut f = KillFilter { skipme: true, me, ..Default::default() };
    for pair in args[2..].chunks(2) {
        let (opt, val) = (&pair[0], &pair[1]);
        if args::is(opt, "id") {
            match parse_i64(val) {
                Some(id) if id >= 1 => f.id = Some(id as u64),
                _ => return Err(CmdError::err("client-id should be greater than 0")),
            }
        } else if args::is(opt, "type") {
            f.kind = Some(ClientType::by_name(val).ok_or_else(|| unknown_type(val))?);
        } else if args::is(opt, "addr") {
            f.addr = Some(text(val));
        } else if args::is(opt, "laddr") {
            f.laddr = Some(text(val));
        } else if args::is(opt, "user") {
            // Only the default user exists, and every connection uses it.
            if &val[..] != b"default" {
                return Err(CmdError::err(format_args!("No such user '{}'", text(val))));
            }
        } else if args::is(opt, "skipme") {
            if args::is(val, "yes") {
                f.skipme = true;
            } else if args::is(val, "no") {
                f.skipme = false;
            } else {
                return Err(CmdError::syntax());
            }
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok((f, false))
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [USER name] [ADDR
/// ip:port] [LADDR ip:port] [SKIPME yes|no] ... — O(N) in the connections.
/// A connection that kills itself gets this reply, then is closed.
pub async fn cmd_kill(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (filter, old_form) = parse_kill(args, s.client.id)?;
    let results = s.core.call_all(move |core| kill_on_shard(core, &filter)).await;
    let killed: usize = results.iter().map(|r| r.0).sum();
    if results.iter().any(|r| r.1) {
        s.close_after_reply = true;
    }
    if old_form {
        if killed == 0 {
            return Err(CmdError::err("No such client"));
        }
        out.ok();
    } else {
        out.int(killed as i64);
    }
    Ok(())
}

/// Kills this shard's matching connections; returns how many, and whether the
/// asking connection was one of them (it is left open to send its reply).
fn kill_on_shard(core: &Core, f: &KillFilter) -> (usize, bool) {
    let mut n = 0;
    let mut me = false;
    for c in core.clients.borrow().clients.values() {
        if !f.matches(c) {
            continue;
        }
        n += 1;
        c.killed.set(true);
        if c.id == f.me {
            me = true;
        } else {
            crate::runtime::shutdown_fd(c.fd);
        }
    }
    (n, me)
}

/// CLIENT REPLY ON|OFF|SKIP — O(1). The connection loop drops the replies.
pub async fn cmd_reply(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mode = &args[2];
    if args::is(mode, "on") {
        s.reply_mode = ReplyMode::On;
        s.skip_current = false;
        out.ok();
    } else if args::is(mode, "off") {
        s.reply_mode = ReplyMode::Off;
    } else if args::is(mode, "skip") {
        if s.reply_mode != ReplyMode::Off {
            s.reply_mode = ReplyMode::Skip;
        }
    } else {
        return Err(CmdError::syntax());
    }
    Ok(())
}

/// CLIENT NO-EVICT ON|OFF — O(1).
pub async fn cmd_no_evict(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args::is(&args[2], "on") {
        s.client.no_evict.set(true);
    } else if args::is(&args[2], "off") {
        s.client.no_evict.set(false);
    } else {
        return Err(CmdError::syntax());
    }
    out.ok();
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL] — O(1). Holds clients' commands (or only
/// those that write) for `timeout` ms; overlapping pauses combine as in Redis.
pub async fn cmd_pause(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let all = match args {
        [_, _, _] => true,
        [_, _, _, mode] if args::is(mode, "write") => false,
        [_, _, _, mode] if args::is(mode, "all") => true,
        [_, _, _, _] => return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL")),
        _ => return Err(subcommand_error("CLIENT", &args[1])),
    };
    let ms = parse_i64(&args[2]).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let now = crate::db::Clock::now().now_ms;
    // Redis's end time overflows into the past for huge timeouts: no pause.
    if let Some(end) = (now as i64).checked_add(ms) {
        s.core.shared.pause.extend(end as u64, all, now);
    }
    out.ok();
    Ok(())
}

/// CLIENT UNPAUSE — O(N) in the paused clients.
pub async fn cmd_unpause(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    s.core.shared.pause.clear();
    out.ok();
    Ok(())
}

/// CLIENT HELP — O(1). Redis 7.0's text.
pub async fn cmd_help(_s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    reply_help(
        out,
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP] — O(1), O(N) in the prefixes. Checks and errors in
/// Redis's order; the settings reach every shard before the reply.
pub async fn cmd_tracking(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    use crate::notify::tracking::flag;
    let mut redirect: u64 = 0;
    let mut redirect_home = 0;
    let mut options = 0u32;
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = &args[j];
        if args::is(a, "redirect") && more {
            j += 1;
            if redirect != 0 {
                return Err(CmdError::err("A client can only redirect to a single other client"));
            }
            let id = args::int(&args[j])?;
            let home = match u64::try_from(id) {
                Ok(id) if id != 0 => crate::notify::find_client(&s.core, id).await,
                _ => None,
            };
            let Some(home) = home else {
                return Err(CmdError::err("The client ID you want redirect to does not exist"));
            };
            redirect = id as u64;
            redirect_home = home;
        } else if args::is(a, "bcast") {
            options |= flag::BCAST;
        } else if args::is(a, "optin") {
            options |= flag::OPTIN;
        } else if args::is(a, "optout") {
            options |= flag::OPTOUT;
        } else if args::is(a, "noloop") {
            options |= flag::NOLOOP;
        } else if args::is(a, "prefix") && more {
            j += 1;
            prefixes.push(args[j].clone());
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    let t = &s.client.tracking;
    let cur = t.flags.get();
    if args::is(&args[2], "off") {
        if cur & flag::ON != 0 {
            crate::notify::disable(&s.client);
            crate::notify::publish_tracker(&s.core, s.client.id, None).await;
        }
        out.ok();
        return Ok(());
    }
    if !args::is(&args[2], "on") {
        return Err(CmdError::syntax());
    }
    let bcast = options & flag::BCAST != 0;
    if !bcast && !prefixes.is_empty() {
        return Err(CmdError::err("PREFIX option requires BCAST mode to be enabled"));
    }
    if cur & flag::ON != 0 && (cur & flag::BCAST != 0) != bcast {
        return Err(CmdError::err(
            "You can't switch BCAST mode on/off before disabling tracking for this client, \
             and then re-enabling it with a different mode.",
        ));
    }
    if bcast && options & (flag::OPTIN | flag::OPTOUT) != 0 {
        return Err(CmdError::err("OPTIN and OPTOUT are not compatible with BCAST"));
    }
    if options & flag::OPTIN != 0 && options & flag::OPTOUT != 0 {
        return Err(CmdError::err("You can't specify both OPTIN mode and OPTOUT mode"));
    }
    if (options & flag::OPTIN != 0 && cur & flag::OPTOUT != 0)
        || (options & flag::OPTOUT != 0 && cur & flag::OPTIN != 0)
    {
        return Err(CmdError::err(
            "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, \
             and then re-enabling it with a different mode.",
        ));
    }
    if bcast {
        check_prefixes(&t.prefixes.borrow(), &prefixes)?;
    }
    // Redis's enableTracking: flags replaced, prefixes added to those there.
    t.flags.set(flag::ON | (options & (flag::BCAST | flag::OPTIN | flag::OPTOUT | flag::NOLOOP)));
    t.redirect.set(redirect);
    let all = {
        let mut p = t.prefixes.borrow_mut();
        if bcast && prefixes.is_empty() {
            p.push(Bytes::new());
        }
        p.extend(prefixes);
        p.sort();
        p.dedup();
        p.clone()
    };
    let tracker = crate::notify::Tracker {
        home: s.core.id,
        bcast,
        noloop: options & flag::NOLOOP != 0,
        redirect,
        redirect_home,
        prefixes: all,
    };
    crate::notify::publish_tracker(&s.core, s.client.id, Some(tracker)).await;
    out.ok();
    Ok(())
}

/// Redis's `checkPrefixCollisionsOrReply`: no new prefix may be a prefix of,
/// or start with, an existing one or another new one.
fn check_prefixes(existing: &[Bytes], new: &[Bytes]) -> CmdResult {
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let text = |b: &[u8]| String::from_utf8_lossy(b.split(|&c| c == 0).next().unwrap_or(b)).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
            return Err(CmdError::err(format_args!(
                "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(e)
            )));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(CmdError::err(format_args!(
                "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(q)
            )));
        }
    }
    Ok(())
}

/// CLIENT CACHING YES|NO — O(1). Whether the next command's keys are tracked.
pub async fn cmd_caching(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    use crate::notify::tracking::flag;
    let t = &s.client.tracking;
    let f = t.flags.get();
    if f & flag::ON == 0 {
        return Err(CmdError::err(
            "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    }
    if args::is(&args[2], "yes") {
        if f & flag::OPTIN == 0 {
            return Err(CmdError::err("CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
        }
    } else if args::is(&args[2], "no") {
        if f & flag::OPTOUT == 0 {
            return Err(CmdError::err("CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
        }
    } else {
        return Err(CmdError::syntax());
    }
    t.flags.set(f | flag::CACHING);
    out.ok();
    Ok(())
}

/// CLIENT GETREDIR — O(1). The redirection id, 0 without one, -1 when not tracking.
pub async fn cmd_getredir(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    out.int(s.client.tracking.redir());
    Ok(())
}

/// CLIENT TRACKINGINFO — O(N) in the prefixes.
pub async fn cmd_trackinginfo(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    use crate::notify::tracking::flag;
    let t = &s.client.tracking;
    let f = t.flags.get();
    let mut flags: Vec<&str> = vec![if f & flag::ON != 0 { "on" } else { "off" }];
    let caching = f & flag::CACHING != 0;
    for (bit, name) in [(flag::BCAST, "bcast"), (flag::OPTIN, "optin"), (flag::OPTOUT, "optout")] {
        if f & bit != 0 {
            flags.push(name);
            if caching && bit == flag::OPTIN {
                flags.push("caching-yes");
            }
            if caching && bit == flag::OPTOUT {
                flags.push("caching-no");
            }
        }
    }
    if f & flag::NOLOOP != 0 {
        flags.push("noloop");
    }
    if f & flag::BROKEN_REDIR != 0 {
        flags.push("broken_redirect");
    }
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for name in flags {
        out.bulk(name.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(t.redir());
    out.bulk(b"prefixes");
    let prefixes = t.prefixes.borrow();
    out.array(prefixes.len());
    for p in prefixes.iter() {
        out.bulk(p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_util::b;

    fn kill_err(v: &[&str]) -> String {
        parse_kill(&b(v), 1).err().map(|e| e.0.into_owned()).unwrap_or_default()
    }

    #[test]
    fn kill_forms() {
        let (f, old) = parse_kill(&b(&["client", "kill", "1.2.3.4:5"]), 7).unwrap();
        assert!(old && !f.skipme && f.addr.as_deref() == Some("1.2.3.4:5"));
        let (f, old) = parse_kill(&b(&["client", "kill", "id", "3", "TYPE", "replica", "skipme", "no"]), 7).unwrap();
        assert!(!old && !f.skipme);
        assert_eq!((f.id, f.kind), (Some(3), Some(ClientType::Replica)));
        assert!(parse_kill(&b(&["client", "kill", "user", "default"]), 7).unwrap().0.skipme);
    }

    #[test]
    fn kill_errors_like_redis() {
        assert_eq!(kill_err(&["client", "kill", "id", "0"]), "ERR client-id should be greater than 0");
        assert_eq!(kill_err(&["client", "kill", "id", "x"]), "ERR client-id should be greater than 0");
        assert_eq!(kill_err(&["client", "kill", "type", "foo"]), "ERR Unknown client type 'foo'");
        assert_eq!(kill_err(&["client", "kill", "user", "bob"]), "ERR No such user 'bob'");
        assert_eq!(kill_err(&["client", "kill", "skipme", "maybe"]), "ERR syntax error");
        assert_eq!(kill_err(&["client", "kill", "maxage", "10"]), "ERR syntax error");
        assert_eq!(kill_err(&["client", "kill", "id", "1", "type"]), "ERR syntax error");
    }
}
