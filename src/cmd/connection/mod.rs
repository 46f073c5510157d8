//! Connection commands: PING, ECHO, QUIT, RESET, SELECT, HELLO, AUTH, and the
//! CLIENT family (in `client.rs`).

mod client;

use bytes::Bytes;

use super::args;
use super::{CmdError, CmdResult, Ctx, Handler, ReplyMode, Session};
use crate::resp::parse::parse_i64;
use crate::resp::{Out, Proto};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("ping", Handler::Sync(cmd_ping)),
    ("echo", Handler::Sync(cmd_echo)),
    ("quit", Handler::Async(crate::async_handler!(cmd_quit))),
    ("reset", Handler::Async(crate::async_handler!(cmd_reset))),
    ("select", Handler::Async(crate::async_handler!(cmd_select))),
    ("hello", Handler::Async(crate::async_handler!(cmd_hello))),
    ("auth", Handler::Async(crate::async_handler!(cmd_auth))),
    ("client|id", Handler::Async(crate::async_handler!(client::cmd_id))),
    ("client|getname", Handler::Async(crate::async_handler!(client::cmd_getname))),
    ("client|setname", Handler::Async(crate::async_handler!(client::cmd_setname))),
    ("client|info", Handler::Async(crate::async_handler!(client::cmd_info))),
    ("client|list", Handler::Async(crate::async_handler!(client::cmd_list))),
    ("client|kill", Handler::Async(crate::async_handler!(client::cmd_kill))),
    ("client|reply", Handler::Async(crate::async_handler!(client::cmd_reply))),
    ("client|no-evict", Handler::Async(crate::async_handler!(client::cmd_no_evict))),
    ("client|pause", Handler::Async(crate::async_handler!(client::cmd_pause))),
    ("client|unpause", Handler::Async(crate::async_handler!(client::cmd_unpause))),
    ("client|help", Handler::Async(crate::async_handler!(client::cmd_help))),
    ("client|tracking", Handler::Async(crate::async_handler!(client::cmd_tracking))),
    ("client|caching", Handler::Async(crate::async_handler!(client::cmd_caching))),
    ("client|getredir", Handler::Async(crate::async_handler!(client::cmd_getredir))),
    ("client|trackinginfo", Handler::Async(crate::async_handler!(client::cmd_trackinginfo))),
];

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// PING [message] — O(1).
fn cmd_ping(_ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    match args {
        [_] => out.simple("PONG"),
        [_, m] => out.bulk(m),
        _ => return Err(CmdError::wrong_args("ping")),
    }
    Ok(())
}

/// ECHO message — O(1).
fn cmd_echo(_ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    out.bulk(&args[1]);
    Ok(())
}

/// QUIT — O(1). Replies +OK, then closes the connection.
async fn cmd_quit(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    out.ok();
    s.close_after_reply = true;
    Ok(())
}

fn requirepass(s: &Session) -> String {
    s.core.state.borrow().config.requirepass.clone()
}

/// Sets the reply protocol for this reply and the connection's next ones.
fn set_proto(s: &Session, out: &mut Out, proto: Proto) {
    s.client.proto.set(proto);
    out.proto = proto;
}

/// RESET — O(1). Back to a fresh connection's state: database 0, RESP2, no
/// name, replies on, eviction allowed, and unauthenticated when a password is set.
async fn cmd_reset(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    // Transactions are dropped here too once they exist.
    crate::pubsub::unsubscribe_all(&s.core, &s.client);
    crate::notify::client_gone(&s.core, &s.client).await;
    s.db = 0;
    s.client.db.set(0);
    set_proto(s, out, Proto::Resp2);
    s.authenticated = requirepass(s).is_empty();
    s.client.name.borrow_mut().clear();
    s.client.no_evict.set(false);
    s.reply_mode = ReplyMode::On;
    s.skip_current = false;
    out.simple("RESET");
    Ok(())
}

/// SELECT index — O(1).
async fn cmd_select(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let id = args::int(&args[1])?;
    if id < i32::MIN as i64 || id > i32::MAX as i64 {
        return Err(CmdError::err("value is out of range, value must between -2147483648 and 2147483647"));
    }
    let databases = s.core.state.borrow().config.databases;
    if id < 0 || id as usize >= databases {
        return Err(crate::error::OpError::InvalidDb.into());
    }
    s.db = id as usize;
    s.client.db.set(s.db);
    out.ok();
    Ok(())
}

/// Whether `user`/`pass` authenticate: only the `default` user exists; without
/// `requirepass` it takes any password (Redis's `nopass`).
fn credentials_ok(s: &Session, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    let rp = requirepass(s);
    rp.is_empty() || rp.as_bytes() == pass
}

/// AUTH [username] password — O(N) in the user's passwords.
async fn cmd_auth(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (user, pass): (&[u8], &[u8]) = match args {
        [_, pass] => {
            if requirepass(s).is_empty() {
                return Err(CmdError::err(
                    "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ));
            }
            (b"default", pass)
        }
        [_, user, pass] => (user, pass),
        _ => return Err(CmdError::syntax()),
    };
    if !credentials_ok(s, user, pass) {
        return Err(CmdError::new(WRONGPASS));
    }
    s.authenticated = true;
    out.ok();
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]] — O(1).
/// Switches protocol (the reply already uses the new one) and answers with
/// the server's description.
async fn cmd_hello(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut proto = None;
    let mut i = 1;
    if let Some(v) = args.get(1) {
        let v = parse_i64(v).ok_or_else(|| CmdError::err("Protocol version is not an integer or out of range"))?;
        proto = Some(match v {
            2 => Proto::Resp2,
            3 => Proto::Resp3,
            _ => return Err(CmdError::new("NOPROTO unsupported protocol version")),
        });
        i = 2;
    }
    let mut auth = None;
    let mut name = None;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if args::is(&args[i], "auth") && more >= 2 {
            auth = Some((&args[i + 1], &args[i + 2]));
            i += 3;
        } else if args::is(&args[i], "setname") && more >= 1 {
            name = Some(&args[i + 1]);
            i += 2;
        } else {
            return Err(CmdError::err(format_args!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            )));
        }
    }
    if let Some((user, pass)) = auth {
        if !credentials_ok(s, user, pass) {
            return Err(CmdError::new(WRONGPASS));
        }
        s.authenticated = true;
    }
    if !s.authenticated {
        return Err(CmdError::new(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(name) = name {
        client::set_name(s, name)?;
    }
    if let Some(p) = proto {
        set_proto(s, out, p);
    }
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(super::server::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if out.proto == Proto::Resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(s.client.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}
