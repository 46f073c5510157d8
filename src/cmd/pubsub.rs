//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, (S)PUBLISH, PUBSUB.
//!
//! Subscriptions live on the connection's shard (see `crate::pubsub`), so the
//! (un)subscribe commands are local; PUBLISH fans out and PUBSUB asks every shard.

use bytes::Bytes;

use super::{AsyncFn, CmdError, CmdResult, Command, Handler, ReplyMode, Session};
use crate::pubsub::{self, Kind};
use crate::resp::{Out, Proto};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("subscribe", Handler::Async(crate::async_handler!(cmd_subscribe))),
    ("unsubscribe", Handler::Async(crate::async_handler!(cmd_unsubscribe))),
    ("psubscribe", Handler::Async(crate::async_handler!(cmd_psubscribe))),
    ("punsubscribe", Handler::Async(crate::async_handler!(cmd_punsubscribe))),
    ("ssubscribe", Handler::Async(crate::async_handler!(cmd_ssubscribe))),
    ("sunsubscribe", Handler::Async(crate::async_handler!(cmd_sunsubscribe))),
    ("publish", Handler::Async(crate::async_handler!(cmd_publish))),
    ("spublish", Handler::Async(crate::async_handler!(cmd_spublish))),
    ("pubsub|channels", Handler::Async(crate::async_handler!(cmd_channels))),
    ("pubsub|shardchannels", Handler::Async(crate::async_handler!(cmd_shardchannels))),
    ("pubsub|numsub", Handler::Async(crate::async_handler!(cmd_numsub))),
    ("pubsub|shardnumsub", Handler::Async(crate::async_handler!(cmd_shardnumsub))),
    ("pubsub|numpat", Handler::Async(crate::async_handler!(cmd_numpat))),
    ("pubsub|help", Handler::Async(crate::async_handler!(cmd_help))),
];

/// Commands a RESP2 connection may still run once it subscribed to something.
const ALLOWED_SUBSCRIBED: &[&str] =
    &["subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset"];

/// How a command is routed on a connection in subscribed mode (RESP2 with a
/// subscription): `None` routes it as usual, `Some(Err)` rejects it with
/// Redis's error, `Some(Ok(f))` runs `f` instead (PING's pub/sub reply).
pub fn context_route(session: &Session, cmd: &Command) -> Option<Result<AsyncFn, CmdError>> {
    let c = &session.client;
    // EXEC runs what it queued without this check, as Redis does.
    if c.proto.get() != Proto::Resp2 || !c.push.subscribed() || session.in_exec {
        return None;
    }
    match cmd.name() {
        "ping" => Some(Ok(crate::async_handler!(cmd_ping_subscribed))),
        name if ALLOWED_SUBSCRIBED.contains(&name) => None,
        name => Some(Err(CmdError::err(format_args!(
            "Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        )))),
    }
}

/// PING [message] on a subscribed RESP2 connection: `["pong", message]`.
async fn cmd_ping_subscribed(_s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    if args.len() > 2 {
        return Err(CmdError::wrong_args("ping"));
    }
    out.array(2);
    out.bulk(b"pong");
    out.bulk(args.get(1).map_or(&b""[..], |m| m));
    Ok(())
}

/// The reply to one (un)subscription: `[kind, name or null, count]`.
fn confirm(s: &Session, out: &mut Out, what: &[u8], name: Option<&[u8]>, kind: Kind) {
    out.push(3);
    out.bulk(what);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(s.client.push.reply_count(kind));
}

fn subscribe(s: &mut Session, args: &[Bytes], out: &mut Out, kind: Kind, what: &[u8]) -> CmdResult {
    for name in &args[1..] {
        pubsub::subscribe(&s.core, &s.client, kind, name);
        confirm(s, out, what, Some(name), kind);
    }
    Ok(())
}

fn unsubscribe(s: &mut Session, args: &[Bytes], out: &mut Out, kind: Kind, what: &[u8]) -> CmdResult {
    let names = if args.len() > 1 { args[1..].to_vec() } else { s.client.push.list(kind) };
    if names.is_empty() {
        confirm(s, out, what, None, kind);
    }
    for name in &names {
        pubsub::unsubscribe(&s.core, &s.client, kind, name);
        confirm(s, out, what, Some(name), kind);
    }
    Ok(())
}

/// SUBSCRIBE channel [channel ...] — O(N) in the channels.
async fn cmd_subscribe(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    subscribe(s, args, out, Kind::Channel, b"subscribe")
}

/// UNSUBSCRIBE [channel [channel ...]] — O(N) in the channels.
async fn cmd_unsubscribe(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    unsubscribe(s, args, out, Kind::Channel, b"unsubscribe")
}

/// PSUBSCRIBE pattern [pattern ...] — O(N) in the patterns.
async fn cmd_psubscribe(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    subscribe(s, args, out, Kind::Pattern, b"psubscribe")
}

/// PUNSUBSCRIBE [pattern [pattern ...]] — O(N) in the patterns.
async fn cmd_punsubscribe(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    unsubscribe(s, args, out, Kind::Pattern, b"punsubscribe")
}

/// SSUBSCRIBE shardchannel [shardchannel ...] — O(N) in the shard channels.
async fn cmd_ssubscribe(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    subscribe(s, args, out, Kind::Shard, b"ssubscribe")
}

/// SUNSUBSCRIBE [shardchannel [shardchannel ...]] — O(N) in the shard channels.
async fn cmd_sunsubscribe(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    unsubscribe(s, args, out, Kind::Shard, b"sunsubscribe")
}

async fn publish(s: &mut Session, args: &[Bytes], out: &mut Out, shard: bool) -> CmdResult {
    let n = pubsub::publish(&s.core, shard, &args[1], &args[2]).await;
    // A publisher subscribed to its own channel sees the message before the
    // reply, as in Redis (inside EXEC's reply array too, as Redis writes it);
    // pushes are never dropped by CLIENT REPLY OFF/SKIP.
    if s.reply_mode == ReplyMode::On && !s.skip_current {
        s.client.push.take_into(out);
    }
    out.int(n as i64);
    Ok(())
}

/// PUBLISH channel message — O(N+M): subscribers and patterns on every shard.
async fn cmd_publish(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    publish(s, args, out, false).await
}

/// SPUBLISH shardchannel message — O(N) in the shard channel's subscribers.
async fn cmd_spublish(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    publish(s, args, out, true).await
}

async fn channels(s: &mut Session, args: &[Bytes], out: &mut Out, kind: Kind) -> CmdResult {
    if args.len() > 3 {
        return Err(super::server::subcommand_error("PUBSUB", &args[1]));
    }
    let pattern = args.get(2).cloned();
    let per_shard = s.core.call_all(move |c| c.pubsub.names(kind, pattern.as_deref())).await;
    let mut seen = std::collections::HashSet::new();
    let names: Vec<&Bytes> = per_shard.iter().flatten().filter(|n| seen.insert(*n)).collect();
    out.array(names.len());
    for n in names {
        out.bulk(n);
    }
    Ok(())
}

async fn numsub(s: &mut Session, args: &[Bytes], out: &mut Out, kind: Kind) -> CmdResult {
    let names: Vec<Bytes> = args[2..].to_vec();
    let per_shard = {
        let names = names.clone();
        s.core.call_all(move |c| c.pubsub.numsub(kind, &names)).await
    };
    out.array(names.len() * 2);
    for (i, n) in names.iter().enumerate() {
        out.bulk(n);
        out.int(per_shard.iter().map(|counts| counts[i]).sum::<u64>() as i64);
    }
    Ok(())
}

/// PUBSUB CHANNELS [pattern] — O(N) in the active channels.
async fn cmd_channels(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    channels(s, args, out, Kind::Channel).await
}

/// PUBSUB SHARDCHANNELS [pattern] — O(N) in the active shard channels.
async fn cmd_shardchannels(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    channels(s, args, out, Kind::Shard).await
}

/// PUBSUB NUMSUB [channel ...] — O(N) in the channels named.
async fn cmd_numsub(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    numsub(s, args, out, Kind::Channel).await
}

/// PUBSUB SHARDNUMSUB [shardchannel ...] — O(N) in the shard channels named.
async fn cmd_shardnumsub(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    numsub(s, args, out, Kind::Shard).await
}

/// PUBSUB NUMPAT — O(N) in the patterns: distinct patterns subscribed to.
async fn cmd_numpat(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let per_shard = s.core.call_all(|c| c.pubsub.names(Kind::Pattern, None)).await;
    let distinct: std::collections::HashSet<&Bytes> = per_shard.iter().flatten().collect();
    out.int(distinct.len() as i64);
    Ok(())
}

/// PUBSUB HELP — O(1).
async fn cmd_help(_s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    super::server::reply_help(
        out,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}
