//! The pipelined connection loop: read, parse every complete command, run them
//! (inline when their keys are local, batched per shard when not), and write all
//! replies of one read with one write.

use std::rc::Rc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};

use crate::cmd::{self, Command, Flags, Handler, ReplyMode, Session, TABLE};
use crate::error::CmdError;
use crate::resp::{Limits, Out, Parsed, Parser, Proto};
use crate::runtime::Stream;
use crate::server::client::ClientInfo;
use crate::shard::{Core, ShardId, ShardState};

const READ_SIZE: usize = 16 * 1024;

/// Where one parsed command runs.
enum Route {
    /// Rejected before running (unknown command, arity, auth).
    Reject(CmdError),
    /// Synchronous, on this shard or another.
    Shard(ShardId),
    /// Async handler on this shard (a barrier in the pipeline).
    Async(cmd::AsyncFn),
}

struct Item {
    cmd: Option<&'static Command>,
    args: Vec<Bytes>,
    route: Route,
}

/// Serves one accepted connection until it closes.
pub async fn serve(core: Rc<Core>, mut stream: Stream) {
    let config = crate::script::BusyConfig::of(&core.state.borrow().config);
    match admit(&core, &stream, &config) {
        Ok(session) => serve_admitted(session, stream).await,
        Err(Refused::Full) => {
            let _ = stream.write_all(MAXCLIENTS_ERR).await;
        }
        Err(Refused::Gone) => {}
    }
}

pub const MAXCLIENTS_ERR: &[u8] = b"-ERR max number of clients reached\r\n";

/// Why a connection was not admitted.
pub enum Refused {
    /// `maxclients` connections are open: it is told so and closed.
    Full,
    /// It closed before it could be registered.
    Gone,
}

/// Registers an accepted connection on its shard and opens its session.
pub fn admit(core: &Rc<Core>, stream: &Stream, config: &crate::script::BusyConfig) -> Result<Session, Refused> {
    let shared = &core.shared;
    let (Ok(addr), Ok(laddr)) = (stream.peer_addr(), stream.local_addr()) else {
        return Err(Refused::Gone);
    };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_keepalive(config.tcp_keepalive);
    shared.stats.connections_received.fetch_add(1, Ordering::Relaxed);
    let connected = shared.connected.fetch_add(1, Ordering::Relaxed) + 1;
    if connected as u64 > config.maxclients {
        shared.connected.fetch_sub(1, Ordering::Relaxed);
        shared.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
        return Err(Refused::Full);
    }
    let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
    let now = core.refresh_clock().now_ms;
    let info = Rc::new(ClientInfo::new(id, addr, laddr, stream.raw_fd(), now));
    core.clients.borrow_mut().add(info.clone());
    Ok(new_session(core, info, config.open))
}

/// A fresh session of `client`: database 0, replies on, no transaction.
fn new_session(core: &Rc<Core>, client: Rc<ClientInfo>, authenticated: bool) -> Session {
    Session {
        core: core.clone(),
        client,
        db: 0,
        authenticated,
        reply_mode: ReplyMode::On,
        skip_current: false,
        close_after_reply: false,
        tx: None,
        multi: None,
        in_exec: false,
        watch: Default::default(),
    }
}

/// Client id of the loader's session: it runs commands while the server is
/// loading, and is in no registry.
pub const LOADER_ID: u64 = 0;

/// Runs commands read from an append-only file through the normal dispatch
/// (each key's shard runs its part), discarding their replies.
pub async fn replay(core: &Rc<Core>, commands: Vec<(usize, Vec<Bytes>)>) {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let info = Rc::new(ClientInfo::new(LOADER_ID, addr, addr, -1, core.clock().now_ms));
    let mut session = new_session(core, info, true);
    let mut out = Out::new(Proto::Resp2);
    let mut items = Vec::new();
    let mut commands = commands.into_iter().peekable();
    while let Some((db, args)) = commands.next() {
        session.db = db;
        items.push(classify(&session, args));
        // One batch per run of commands in the same database.
        if commands.peek().is_some_and(|(d, _)| *d == db) && items.len() < 512 {
            continue;
        }
        execute(&mut session, &mut items, &mut out).await;
        items.clear();
        out.buf.clear();
    }
}

/// Serves an admitted connection until it closes, then unregisters it.
pub async fn serve_admitted(mut session: Session, mut stream: Stream) {
    let core = session.core.clone();
    let info = session.client.clone();
    let id = info.id;
    // A panic anywhere in this connection's code closes this connection only.
    let served = {
        use futures_lite::FutureExt;
        std::panic::AssertUnwindSafe(run(&mut session, &mut stream)).catch_unwind().await
    };
    if let Err(p) = served {
        tracing::error!(client = id, "connection closed after a panic: {}", crate::shard::panic_message(&p));
    }
    info.awaiting.set(false);
    crate::pubsub::unsubscribe_all(&core, &info);
    crate::notify::client_gone(&core, &info).await;
    if !session.watch.is_empty() {
        cmd::transaction::unwatch_all(&mut session);
    }
    core.clients.borrow_mut().remove(id);
    core.shared.connected.fetch_sub(1, Ordering::Relaxed);
}

async fn run(session: &mut Session, stream: &mut Stream) {
    let core = session.core.clone();
    let mut parser = Parser::new();
    let mut inbuf = BytesMut::with_capacity(READ_SIZE);
    let mut out = Out::new(Proto::Resp2);
    let mut batch: Vec<Vec<Bytes>> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    loop {
        let client = &session.client;
        client.awaiting.set(
            inbuf.is_empty()
                && session.authenticated
                && session.multi.is_none()
                && !(client.proto.get() == Proto::Resp2 && client.push.subscribed()),
        );
        let event = next_event(client, stream, &mut inbuf).await;
        client.awaiting.set(false);
        let n = match event {
            Event::Read(Ok(0) | Err(_)) => return,
            Event::Read(Ok(n)) => n,
            Event::Pushes => {
                // Pub/sub messages (or other pushes) while waiting for input.
                if session.client.push.is_cut() {
                    return;
                }
                session.client.push.take_into(&mut out);
                if !write_out(&core, stream, &session.client, &mut out).await {
                    return;
                }
                continue;
            }
        };
        let (limits, qbuf_limit) = {
            let mut st = core.state.borrow_mut();
            st.net_in += n as u64;
            st.reads += 1;
            let limits = Limits { max_bulk_len: st.config.proto_max_bulk_len, authenticated: session.authenticated };
            (limits, st.config.client_query_buffer_limit)
        };
        let mut proto_err = None;
        loop {
            match parser.next(&mut inbuf, limits) {
                Ok(Parsed::Command(args)) => batch.push(args),
                Ok(Parsed::Empty) => {}
                Ok(Parsed::Incomplete) => break,
                Err(e) => {
                    proto_err = Some(e);
                    break;
                }
            }
        }
        if inbuf.len() as u64 > qbuf_limit {
            tracing::warn!(client = session.client.id, "closing client that reached max query buffer length");
            return;
        }
        session.client.qbuf.set(inbuf.len());
        session.client.qbuf_free.set(inbuf.capacity() - inbuf.len());
        if !batch.is_empty() {
            core.refresh_clock();
            session.client.last_ms.set(core.clock().now_ms);
            out.proto = session.client.proto.get();
            // Messages that arrived before these commands were read come first.
            session.client.push.take_into(&mut out);
            items.extend(batch.drain(..).map(|a| classify(session, a)));
            execute(session, &mut items, &mut out).await;
            // appendfsync always: the replies of writes leave once they are on disk.
            if core.shared.persist.aof.enabled.load(Ordering::Relaxed)
                && items
                    .iter()
                    .any(|it| it.cmd.is_some_and(|c| c.flags.intersects(Flags::WRITE | Flags::MAY_REPLICATE)))
                && core.state.borrow().config.appendfsync == crate::config::Fsync::Always
            {
                crate::persist::log::durable(&core).await;
            }
            for it in items.drain(..) {
                parser.recycle(it.args);
            }
        }
        if let Some(e) = proto_err {
            out.error_bytes(&e.reply_text());
            session.close_after_reply = true;
        }
        if session.client.killed.get() {
            session.close_after_reply = true;
        }
        // Pushes that arrived while the commands ran follow their replies.
        session.client.push.take_into(&mut out);
        if session.client.push.is_cut() || !write_out(&core, stream, &session.client, &mut out).await {
            return;
        }
        if session.close_after_reply {
            return;
        }
        // Release a large buffer once the big command that needed it is done.
        if inbuf.is_empty() && inbuf.capacity() > 1 << 20 {
            inbuf = BytesMut::with_capacity(READ_SIZE);
        }
    }
}

/// What woke an idle connection.
enum Event {
    Read(std::io::Result<usize>),
    Pushes,
}

/// Waits for input or for push messages, whichever comes first. Dropping the
/// read when pushes win loses nothing: it only waits for readiness, and bytes
/// are taken from the socket synchronously in the poll that returns them.
async fn next_event(client: &ClientInfo, stream: &mut Stream, inbuf: &mut BytesMut) -> Event {
    let read = async { Event::Read(stream.read_into(inbuf, READ_SIZE).await) };
    let pushes = async {
        client.push.ready().await;
        Event::Pushes
    };
    futures_lite::future::or(read, pushes).await
}

/// Writes `out` whole and empties it; the bytes count as the client's output
/// (for `client-output-buffer-limit`) while they are in flight. False when
/// the connection failed.
async fn write_out(core: &Core, stream: &mut Stream, client: &ClientInfo, out: &mut Out) -> bool {
    if out.buf.is_empty() {
        return true;
    }
    {
        let mut st = core.state.borrow_mut();
        st.net_out += out.buf.len() as u64;
        st.writes += 1;
    }
    client.push.set_inflight(out.buf.len());
    let ok = stream.write_all(&out.buf).await.is_ok();
    client.push.set_inflight(0);
    out.buf.clear();
    if out.buf.capacity() > 1 << 20 {
        out.buf = BytesMut::with_capacity(READ_SIZE);
    }
    ok
}

fn classify(session: &Session, args: Vec<Bytes>) -> Item {
    let cmd = match cmd::lookup(&args) {
        Ok(c) => c,
        Err(e) => return Item { cmd: None, args, route: Route::Reject(e) },
    };
    if !session.authenticated && !cmd.flags.contains(Flags::NO_AUTH) {
        return Item { cmd: Some(cmd), args, route: Route::Reject(CmdError::new("NOAUTH Authentication required.")) };
    }
    // Loading the data files at start.
    if !cmd.flags.contains(Flags::LOADING)
        && session.core.shared.persist.loading.load(Ordering::Relaxed)
        && session.client.id != LOADER_ID
    {
        return Item {
            cmd: Some(cmd),
            args,
            route: Route::Reject(CmdError::new("LOADING Redis is loading the dataset in memory")),
        };
    }
    // A script on another shard ran past busy-reply-threshold.
    if let Some(e) = crate::script::busy_error(&session.core.shared.scripts, cmd.flags) {
        return Item { cmd: Some(cmd), args, route: Route::Reject(e) };
    }
    // RESP2 subscribed mode: only (un)subscribing, PING, QUIT and RESET.
    if let Some(r) = cmd::pubsub::context_route(session, cmd) {
        return Item { cmd: Some(cmd), args, route: r.map_or_else(Route::Reject, Route::Async) };
    }
    let route = match cmd.handler {
        Handler::Async(f) => Route::Async(f),
        Handler::Sync(_) | Handler::SyncCross(..) => {
            let n = session.core.nshards;
            let mut keys = cmd.keys.positions(&args);
            match keys.next() {
                None => Route::Shard(session.core.id),
                Some(first) => {
                    let s = crate::shard::key_shard(&args[first], n);
                    let spans = n > 1 && keys.any(|k| crate::shard::key_shard(&args[k], n) != s);
                    match (spans, cmd.handler) {
                        (true, Handler::SyncCross(_, f)) => Route::Async(f),
                        _ => Route::Shard(s),
                    }
                }
            }
        }
    };
    Item { cmd: Some(cmd), args, route }
}

/// Runs one read's worth of commands in order, appending their replies to `out`.
async fn execute(session: &mut Session, items: &mut [Item], out: &mut Out) {
    let mut i = 0;
    while i < items.len() {
        if session.close_after_reply {
            return;
        }
        if session.multi.is_some() && !items[i].cmd.is_some_and(cmd::transaction::runs_in_multi) {
            queue(session, &mut items[i], out);
            i += 1;
            continue;
        }
        // The longest run of synchronous commands from here (MULTI, being
        // async, ends one: what follows it is queued).
        let end = items[i..].iter().position(|it| matches!(it.route, Route::Async(_))).map_or(items.len(), |p| i + p);
        if end > i {
            wait_if_paused(session, &items[i..end]).await;
            run_segment(session, &mut items[i..end], out).await;
            i = end;
        } else {
            wait_if_paused(session, &items[i..=i]).await;
            let authenticated = (session.authenticated, session.client.push.subscribed(), session.client.proto.get());
            run_async(session, &items[i], out).await;
            i += 1;
            // AUTH, HELLO, RESET or (un)subscribing changed what the rest of the
            // pipeline may run: route it again, as Redis checks each command when it runs.
            if (session.authenticated, session.client.push.subscribed(), session.client.proto.get()) != authenticated {
                for it in &mut items[i..] {
                    *it = classify(session, std::mem::take(&mut it.args));
                }
            }
        }
    }
}

/// CLIENT PAUSE: hold commands it covers until the pause ends.
async fn wait_if_paused(session: &Session, items: &[Item]) {
    let shared = &session.core.shared;
    // The cached clock decides the common, unpaused case without a clock read.
    if shared.pause.active(session.core.clock().now_ms).is_none() {
        return;
    }
    loop {
        let Some(all) = shared.pause.active(crate::db::Clock::now().now_ms) else {
            return;
        };
        let blocked = items.iter().any(|it| {
            it.cmd.is_some_and(|c| all || c.flags.contains(Flags::WRITE) || c.flags.contains(Flags::MAY_REPLICATE))
        });
        if !blocked {
            return;
        }
        crate::runtime::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Ends one command as Redis's `resetClient` does: drops its reply (starting at
/// `start`) under CLIENT REPLY OFF or SKIP, then arms a SKIP requested for the
/// next command.
fn suppress(session: &mut Session, out: &mut Out, start: usize) {
    if session.reply_mode == ReplyMode::Off || session.skip_current {
        out.buf.truncate(start);
    }
    session.skip_current = session.reply_mode == ReplyMode::Skip;
    if session.skip_current {
        session.reply_mode = ReplyMode::On;
    }
}

async fn run_async(session: &mut Session, it: &Item, out: &mut Out) {
    let (Some(cmd), Route::Async(f)) = (it.cmd, &it.route) else {
        // A refused MULTI ends a run of commands like an async one does.
        if let Route::Reject(e) = &it.route {
            reject(session, it.cmd, &it.args, e, out);
        }
        return;
    };
    if !session.in_exec
        && session.tx.is_none()
        && denies_oom(session, cmd)
        && crate::shard::evict::out_of_memory(&session.core)
    {
        reject(session, Some(cmd), &it.args, &CmdError::new(crate::shard::evict::OOM), out);
        return;
    }
    session.client.last_cmd.set(cmd.name());
    // Push messages that arrived before this command go before its reply:
    // an (un)subscription or RESET must not be followed by older messages.
    // Never inside EXEC's reply array.
    if !session.in_exec {
        session.client.push.take_into(out);
    }
    let start = out.len();
    let began = std::time::Instant::now();
    // Across shards, the command holds its keys' locks while it runs.
    let tx = match tx_plan(session, cmd, &it.args) {
        Some(plan) => Some(crate::shard::tx::lock(&session.core, plan).await),
        None => None,
    };
    let outer = session.tx;
    if let Some(t) = &tx {
        session.tx = Some(t.seq);
    }
    let caller = crate::notify::caller(&session.client, session.core.id, cmd);
    let result = {
        use futures_lite::FutureExt;
        std::panic::AssertUnwindSafe(f(session, &it.args, out)).catch_unwind().await
    };
    crate::notify::remember_across(session, caller, cmd, &it.args).await;
    session.tx = outer;
    // Released in the background: the reply need not wait for it, and a later
    // command on these keys waits for the release.
    if let Some(t) = tx {
        t.finish().await;
    }
    let result = result.unwrap_or_else(|p| {
        out.buf.truncate(start);
        Err(cmd::internal_error(cmd, &p))
    });
    if let Err(e) = &result {
        out.error(&e.0);
    }
    {
        let mut st = session.core.state.borrow_mut();
        cmd::record(&mut st, cmd, &result, began.elapsed().as_nanos() as u64);
    }
    suppress(session, out, start);
}

/// What an async command must lock across shards, if anything: nothing on one
/// shard, inside a transaction that holds its locks already, or for blocking
/// commands (which wait for data, never for locks); every shard whole for the
/// commands that reach beyond their keys; otherwise the keys it names.
fn tx_plan(session: &Session, cmd: &Command, args: &[Bytes]) -> Option<Vec<(ShardId, crate::shard::tx::Part)>> {
    let n = session.core.nshards;
    if n == 1 || session.tx.is_some() || cmd.flags.contains(Flags::BLOCKING) {
        return None;
    }
    let wide = matches!(cmd.name(), "keys" | "dbsize" | "flushdb" | "flushall" | "swapdb")
        || (matches!(cmd.name(), "sort" | "sort_ro") && cmd::transaction::reaches_beyond_keys(cmd, args));
    if !wide && cmd.keys.positions(args).next().is_none() && cmd::transaction::movable_keys(cmd, args).is_empty() {
        return None;
    }
    // Scripts lock for themselves (see `cmd::scripting::cross`).
    let own = matches!(cmd.name(), "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro");
    if own || matches!(cmd.name(), "scan" | "randomkey") || cmd::transaction::runs_in_multi(cmd) {
        return None;
    }
    Some(cmd::transaction::plan(session, [(cmd, args)]))
}

/// Queues a command after MULTI (or refuses it, failing the transaction).
fn queue(session: &mut Session, it: &mut Item, out: &mut Out) {
    let refusal = match (&it.route, it.cmd) {
        (Route::Reject(e), _) => Some(e.clone()),
        (_, Some(cmd)) if cmd.flags.contains(Flags::NO_MULTI) => {
            Some(CmdError::err("Command not allowed inside a transaction"))
        }
        // Queuing could take any amount of memory: over maxmemory nothing is queued.
        (_, Some(_)) if crate::shard::evict::out_of_memory(&session.core) => {
            Some(CmdError::new(crate::shard::evict::OOM))
        }
        _ => None,
    };
    let Some(multi) = session.multi.as_mut() else { return };
    match (refusal, it.cmd) {
        (Some(e), cmd) => {
            multi.failed = true;
            reject(session, cmd, &it.args, &e, out);
        }
        (None, Some(cmd)) => {
            multi.queued.push((cmd, std::mem::take(&mut it.args)));
            session.client.multi.set(Some(multi.queued.len()));
            let start = out.len();
            out.simple("QUEUED");
            suppress(session, out, start);
        }
        (None, None) => {}
    }
}

/// Runs EXEC's queued commands in order, their replies appended to `out`.
pub(crate) fn run_queued<'a>(
    session: &'a mut Session,
    cmds: Vec<(&'static Command, Vec<Bytes>)>,
    out: &'a mut Out,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
    Box::pin(async move {
        let mut items: Vec<Item> = cmds.into_iter().map(|(_, args)| classify(session, args)).collect();
        execute(session, &mut items, out).await;
    })
}

/// Whether `cmd` is refused over maxmemory: deny-oom commands, and EXEC of a
/// transaction that queued one (Redis's `is_denyoom_command`).
fn denies_oom(session: &Session, cmd: &Command) -> bool {
    cmd.flags.contains(Flags::DENYOOM)
        || (cmd.name() == "exec"
            && session.multi.as_ref().is_some_and(|m| m.queued.iter().any(|(c, _)| c.flags.contains(Flags::DENYOOM))))
}

fn reject(session: &mut Session, cmd: Option<&'static Command>, args: &[Bytes], e: &CmdError, out: &mut Out) {
    cmd::count_rejection(&mut session.core.state.borrow_mut(), cmd, e);
    let start = out.len();
    // A refused command fails the transaction being queued; a refused EXEC
    // ends it (Redis's flagTransaction and execCommandAbort).
    if let Some(m) = session.multi.as_mut() {
        m.failed = true;
    }
    if args.first().is_some_and(|a| a.eq_ignore_ascii_case(b"exec")) {
        session.multi = None;
        session.client.multi.set(None);
        cmd::transaction::unwatch_all(session);
        let why = e.0.strip_prefix("ERR ").unwrap_or(&e.0);
        out.error(&format!("EXECABORT Transaction discarded because of: {why}"));
    } else {
        out.error(&e.0);
    }
    suppress(session, out, start);
}

/// Runs a run of synchronous commands: inline when all are local, otherwise one
/// message per remote shard carrying all of that shard's commands, with the
/// replies stitched back in request order.
async fn run_segment(session: &mut Session, segment: &mut [Item], out: &mut Out) {
    let core = session.core.clone();
    let me = core.id;
    let db = session.db;
    let local_only = segment.iter().all(|it| !matches!(it.route, Route::Shard(s) if s != me));
    if local_only {
        if segment.len() > 1 {
            let local = segment.iter().filter_map(|it| Some((it.cmd?, it.args.as_slice())));
            prefetch_keys(&core.state.borrow(), db, local);
        }
        cmd::start_laps(&mut core.state.borrow_mut());
        for it in segment.iter() {
            match (&it.route, it.cmd) {
                (Route::Shard(_), Some(cmd)) => {
                    wait_unlocked(&core, cmd, db, &it.args, session.tx).await;
                    session.client.last_cmd.set(cmd.name());
                    let start = out.len();
                    {
                        let mut st = core.state.borrow_mut();
                        st.signals.caller = crate::notify::caller(&session.client, me, cmd);
                        let whole_checked = session.tx.is_some() || session.in_exec;
                        cmd::run_sync_in(&core, &mut st, cmd, db, &it.args, out, whole_checked);
                    }
                    suppress(session, out, start);
                }
                (Route::Reject(e), cmd) => reject(session, cmd, &it.args, e, out),
                _ => {}
            }
        }
        return;
    }
    // Group remote commands per shard; remember where each reply will come from.
    let proto = out.proto;
    let mut per_shard: Vec<Vec<(&'static Command, Vec<Bytes>)>> = (0..core.nshards).map(|_| Vec::new()).collect();
    let mut callers = vec![crate::shard::signal::Caller::default(); core.nshards];
    let mut origin: Vec<(ShardId, usize)> = Vec::with_capacity(segment.len());
    let mut locals: Vec<&Item> = Vec::new();
    for it in segment.iter_mut() {
        match (&it.route, it.cmd) {
            (Route::Shard(s), Some(cmd)) if *s != me => {
                origin.push((*s, per_shard[*s].len()));
                session.client.last_cmd.set(cmd.name());
                let c = crate::notify::caller(&session.client, me, cmd);
                if per_shard[*s].is_empty() {
                    callers[*s] = c;
                }
                per_shard[*s].push((cmd, std::mem::take(&mut it.args)));
            }
            _ => {
                origin.push((me, locals.len()));
                locals.push(it);
            }
        }
    }
    let mut pending = Vec::new();
    for (s, cmds) in per_shard.into_iter().enumerate() {
        if !cmds.is_empty() {
            // Everything the batch carries is allocated here and comes back to
            // be freed here: no allocation is freed across cores.
            let out = BytesMut::with_capacity((cmds.len() * 64).max(256));
            let mut batch = Some(Batch { ends: Vec::with_capacity(cmds.len()), cmds, out, caller: callers[s] });
            let owner = session.tx;
            let job = move |c: &Core| run_batch(c, &mut batch, db, proto, owner);
            pending.push((s, core.send_when(s, job).await));
        }
    }
    // Local commands run while the remote shards work on theirs.
    let mut local_out = Out::new(proto);
    let mut local_ends = Vec::with_capacity(locals.len());
    cmd::start_laps(&mut core.state.borrow_mut());
    for it in locals {
        match (&it.route, it.cmd) {
            (Route::Shard(_), Some(cmd)) => {
                wait_unlocked(&core, cmd, db, &it.args, session.tx).await;
                let mut st = core.state.borrow_mut();
                st.signals.caller = crate::notify::caller(&session.client, me, cmd);
                let whole_checked = session.tx.is_some() || session.in_exec;
                cmd::run_sync_in(&core, &mut st, cmd, db, &it.args, &mut local_out, whole_checked);
            }
            (Route::Reject(e), cmd) => {
                cmd::count_rejection(&mut core.state.borrow_mut(), cmd, e);
                local_out.error(&e.0);
            }
            _ => {}
        }
        local_ends.push(local_out.len());
    }
    let mut results: Vec<Option<Batch>> = (0..core.nshards).map(|_| None).collect();
    for (s, reply) in pending {
        results[s] = Some(reply.await);
    }
    for (s, i) in origin {
        let (buf, ends): (&[u8], &[usize]) = if s == me {
            (&local_out.buf, &local_ends)
        } else {
            match &results[s] {
                Some(b) => (&b.out, &b.ends),
                None => continue,
            }
        };
        let from = if i == 0 { 0 } else { ends[i - 1] };
        let start = out.len();
        out.raw(&buf[from..ends[i]]);
        suppress(session, out, start);
    }
}

/// Starts loading the table memory of every key a pipelined run of commands
/// will look up, so that their cache misses overlap instead of queueing one
/// after another.
fn prefetch_keys<'a>(st: &ShardState, db: usize, cmds: impl Iterator<Item = (&'static Command, &'a [Bytes])>) {
    let Some(db) = st.dbs.get(db) else { return };
    let table = db.table();
    let mut hashes = [0u64; 32];
    let mut keys = cmds.filter_map(|(cmd, args)| cmd.keys.positions(args).next().map(|i| &args[i])).peekable();
    while keys.peek().is_some() {
        // Tag and slot lines first, then (once those are on their way) the entries.
        let mut n = 0;
        for (h, key) in hashes.iter_mut().zip(keys.by_ref()) {
            *h = table.hash(key);
            table.prefetch(*h);
            n += 1;
        }
        for &h in &hashes[..n] {
            table.prefetch_entry(h);
        }
    }
}

/// Commands for one remote shard and, once it has run them, their encoded
/// replies and the end offset of each.
struct Batch {
    cmds: Vec<(&'static Command, Vec<Bytes>)>,
    out: BytesMut,
    ends: Vec<usize>,
    /// The client they come from (client-side caching, NOLOOP).
    caller: crate::shard::signal::Caller,
}

/// Runs a batch of commands sent by another shard and hands it back with the
/// replies; `None` when a command waits for a lock, to go on from there after
/// the release.
fn run_batch(core: &Core, slot: &mut Option<Batch>, db: usize, proto: Proto, owner: Option<u64>) -> Option<Batch> {
    let batch = slot.as_mut()?;
    let mut out = Out { buf: std::mem::take(&mut batch.out), proto };
    let mut st = core.state.borrow_mut();
    let from = batch.ends.len();
    if batch.cmds.len() - from > 1 {
        prefetch_keys(&st, db, batch.cmds[from..].iter().map(|(c, a)| (*c, a.as_slice())));
    }
    cmd::start_laps(&mut st);
    for (cmd, args) in &batch.cmds[from..] {
        if !unlocked(&st, cmd, db, args, owner) {
            batch.out = out.buf;
            return None;
        }
        st.signals.caller = batch.caller;
        cmd::run_sync_in(core, &mut st, cmd, db, args, &mut out, owner.is_some());
        batch.ends.push(out.len());
    }
    batch.out = out.buf;
    slot.take()
}

/// Whether no cross-shard transaction (other than `owner`) holds a key of
/// this command.
#[inline]
fn unlocked(st: &ShardState, cmd: &Command, db: usize, args: &[Bytes], owner: Option<u64>) -> bool {
    st.locks.is_idle() || {
        let write = cmd.flags.contains(Flags::WRITE);
        cmd.keys.positions(args).all(|i| st.locks.free(db, &args[i], write, owner))
    }
}

/// Waits until a command may use its keys on this shard.
async fn wait_unlocked(core: &Core, cmd: &Command, db: usize, args: &[Bytes], owner: Option<u64>) {
    if unlocked(&core.state.borrow(), cmd, db, args, owner) {
        return;
    }
    core.until(|c| unlocked(&c.state.borrow(), cmd, db, args, owner).then_some(())).await;
    cmd::start_laps(&mut core.state.borrow_mut());
}

/// Number of commands in the table, for per-shard counters.
pub fn command_count() -> usize {
    TABLE.counters()
}
