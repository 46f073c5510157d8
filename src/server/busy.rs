//! A shard held up by a script past `busy-reply-threshold` still answers its
//! other clients, as Redis's processEventsWhileBlocked does: each is told BUSY,
//! and SCRIPT KILL, FUNCTION KILL and SHUTDOWN NOSAVE go through. New
//! connections are accepted meanwhile, so `redis-cli SCRIPT KILL` works on a
//! one-shard server too.
//!
//! The script's hook calls [`serve`] every millisecond. The shard's state
//! belongs to the script then, so only commands that need none of it are
//! answered here. A client is answered only while its connection task waits
//! for input with nothing buffered (`ClientInfo::awaiting`): its complete
//! commands are peeked from the socket, and only the bytes of the commands
//! answered are taken, so the task finds the rest where it would have. Its
//! first command that needs the connection's own state (MULTI, AUTH, HELLO,
//! QUIT, RESET, FUNCTION STATS) waits, with everything after it, for the
//! script to end.

use std::os::fd::RawFd;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};

use super::client::ClientInfo;
use super::conn::{self, Refused};
use crate::cmd::{self, Flags};
use crate::error::CmdError;
use crate::resp::{Limits, Out, Parsed, Parser};
use crate::runtime::Listener;
use crate::script::BusyConfig;
use crate::shard::Core;

/// Bytes looked at per client and round.
const PEEK: usize = 16 * 1024;

/// Sets this shard's busy-script server: its core and its listeners.
pub fn install(core: &Rc<Core>, listeners: Vec<Rc<Listener>>) {
    let core = Rc::downgrade(core);
    crate::script::while_busy(move |config| {
        let Some(core) = core.upgrade() else { return };
        // This runs inside the script's hook: a panic must not unwind through Lua.
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| serve(&core, &listeners, config)));
        if let Err(p) = served {
            tracing::error!("answering clients during a busy script panicked: {}", crate::shard::panic_message(&p));
        }
    });
}

/// One round: accepts new connections and answers every waiting client
/// with input.
fn serve(core: &Rc<Core>, listeners: &[Rc<Listener>], config: &BusyConfig) {
    let waiting: crate::db::Map<RawFd, Rc<ClientInfo>> =
        core.clients.borrow().clients.values().filter(|c| c.awaiting.get()).map(|c| (c.fd, c.clone())).collect();
    crate::runtime::each_readable(|fd| {
        if let Some(l) = listeners.iter().find(|l| l.raw_fd() == fd) {
            accept_all(core, l, config);
            return true;
        }
        match waiting.get(&fd) {
            Some(c) if c.awaiting.get() => answer(core, c),
            _ => false,
        }
    });
}

fn accept_all(core: &Rc<Core>, listener: &Listener, config: &BusyConfig) {
    loop {
        let stream = match listener.try_accept() {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                return;
            }
        };
        match conn::admit(core, &stream, config) {
            Ok(session) => {
                // Fresh: nothing buffered, outside MULTI, not subscribed.
                session.client.awaiting.set(session.authenticated);
                crate::runtime::spawn_queued(conn::serve_admitted(session, stream));
            }
            Err(Refused::Full) => {
                send_now(stream.raw_fd(), conn::MAXCLIENTS_ERR);
            }
            Err(Refused::Gone) => {}
        }
    }
}

/// What the busy shard does with one command.
enum Answer {
    Reply(Result<(), CmdError>),
    /// Needs the connection's state: it and what follows wait for the script.
    Later,
}

fn answer_one(core: &Core, args: &[Bytes]) -> Answer {
    let scripts = &core.shared.scripts;
    let cmd = match cmd::lookup(args) {
        Ok(c) => c,
        Err(e) => return Answer::Reply(Err(e)),
    };
    if !cmd.flags.contains(Flags::ALLOW_BUSY) {
        // None only if the script ended between two commands of this round.
        return crate::script::busy_error(scripts, cmd.flags).map_or(Answer::Later, |e| Answer::Reply(Err(e)));
    }
    Answer::Reply(match cmd.name() {
        "script|kill" => cmd::scripting::kill(scripts, false),
        "function|kill" => cmd::scripting::kill(scripts, true),
        // SHUTDOWN NOSAVE exits here; any other is refused (BUSY, syntax).
        "shutdown" => cmd::server::shutdown_plan(scripts, args, false).map(|_| cmd::server::exit()),
        _ => return Answer::Later,
    })
}

/// Answers the complete commands waiting in `c`'s socket; true when it read
/// the socket dry.
fn answer(core: &Core, c: &ClientInfo) -> bool {
    let mut buf = BytesMut::zeroed(PEEK);
    // SAFETY: `buf` is valid for writes of PEEK bytes.
    let n = unsafe { libc::recv(c.fd, buf.as_mut_ptr().cast(), PEEK, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    if n <= 0 {
        let drained = n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN);
        if !drained {
            // The peer closed or the socket failed: the task sees to it.
            c.awaiting.set(false);
        }
        return drained;
    }
    let peeked = n as usize;
    buf.truncate(peeked);
    let mut parser = Parser::new();
    let mut out = Out::new(c.proto.get());
    // Pushes queued before these commands were read go first.
    c.push.take_into(&mut out);
    let mut taken = 0;
    loop {
        let before = buf.len();
        let args = match parser.next(&mut buf, Limits::default()) {
            Ok(Parsed::Command(args)) => args,
            Ok(Parsed::Empty) => {
                taken += before - buf.len();
                continue;
            }
            // Incomplete, or a protocol error the task will report.
            Ok(Parsed::Incomplete) | Err(_) => break,
        };
        match answer_one(core, &args) {
            Answer::Reply(Ok(())) => out.ok(),
            Answer::Reply(Err(e)) => out.error(&e.0),
            Answer::Later => {
                c.awaiting.set(false);
                break;
            }
        }
        taken += before - buf.len();
    }
    if taken > 0 {
        let mut sink = vec![0u8; taken];
        // SAFETY: `sink` is valid for writes of `taken` bytes, which were
        // peeked above and are waiting in the socket.
        unsafe { libc::recv(c.fd, sink.as_mut_ptr().cast(), taken, libc::MSG_DONTWAIT) };
    }
    let sent = send_now(c.fd, &out.buf);
    if sent < out.buf.len() {
        // The client is not reading: the rest waits for its task.
        c.push.put_back(&out.buf[sent..]);
        c.awaiting.set(false);
    }
    c.awaiting.get() && taken == peeked && peeked < PEEK
}

/// Writes what the socket takes now, without waiting; the bytes written.
fn send_now(fd: RawFd, mut bytes: &[u8]) -> usize {
    let total = bytes.len();
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for reads of its length.
        let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        if n <= 0 {
            if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break;
        }
        bytes = &bytes[n as usize..];
    }
    total - bytes.len()
}
