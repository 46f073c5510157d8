//! The per-shard half of scripting: each shard thread lazily builds its own
//! Lua states (one for EVAL scripts, one for function libraries, as Redis
//! keeps them apart), compiles a script the first time it runs there, and
//! runs it synchronously with `redis.call` going through a [`Host`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mlua::chunk::ChunkMode;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};

use super::convert::{lua_to_reply, reply_to_lua};
use super::store::{Script, Slot, BUSY_EVAL, BUSY_FUNCTION, IDLE};
use super::{sha1_hex, shebang_flags, Body, BusyConfig, Call, Elsewhere, Host, Outcome, ScriptFlags, Scripts};
use crate::cmd::{CmdError, Flags};
use crate::resp::{Out, Proto};
use crate::shard::Core;

const PRELUDE: &str = include_str!("prelude.lua");

/// Instructions between two checks of the clock and the kill flag.
const HOOK_EVERY: u32 = 1000;

/// FUNCTION LOAD gives a library's code this long to register its functions.
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// How often a busy script lets its shard answer its other clients.
const SERVE_EVERY: Duration = Duration::from_millis(1);

/// What answers the shard's clients while one of its scripts is busy.
type WhileBusy = Box<dyn Fn(&BusyConfig)>;

thread_local! {
    static WHILE_BUSY: RefCell<Option<WhileBusy>> = const { RefCell::new(None) };
}

/// Sets what a script past `busy-reply-threshold` calls (every millisecond,
/// from its hook) so that the other clients of its shard get their BUSY
/// replies and can kill it, as Redis's processEventsWhileBlocked lets them.
pub fn while_busy(f: impl Fn(&BusyConfig) + 'static) {
    WHILE_BUSY.with(|w| *w.borrow_mut() = Some(Box::new(f)));
}

/// Run state the hook and the primitives share with the engine.
struct Ctl {
    shard: usize,
    slots: Arc<Vec<Slot>>,
    busy_count: Arc<AtomicUsize>,
    start: Cell<Option<Instant>>,
    /// FUNCTION LOAD's deadline instead of the busy threshold.
    loading: Cell<bool>,
    config: Cell<BusyConfig>,
    busy: Cell<bool>,
    /// When the shard's clients were last served while busy.
    served: Cell<Option<Instant>>,
    function: Cell<bool>,
    wrote: Cell<bool>,
    /// Over maxmemory when called, without `allow-oom`: deny-oom calls fail
    /// until the script has written.
    oom: Cell<bool>,
    /// Stop the script at the next hook: a key was elsewhere, a kill, a timeout.
    abort: Cell<bool>,
    killed: Cell<bool>,
    resp3: Cell<bool>,
    /// Redis's `redisLrand48` state, shared by both states of a shard.
    rng: Rc<Cell<u64>>,
}

impl Ctl {
    fn check(&self) -> mlua::Result<VmState> {
        if self.abort.get() {
            return Err(mlua::Error::runtime("script aborted"));
        }
        let Some(start) = self.start.get() else {
            return Ok(VmState::Continue);
        };
        if self.loading.get() {
            if start.elapsed() > LOAD_TIMEOUT {
                self.abort.set(true);
                self.killed.set(true);
                return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
            }
            return Ok(VmState::Continue);
        }
        let slot = &self.slots[self.shard];
        if !self.busy.get() {
            let threshold = self.config.get().threshold_ms;
            if threshold > 0 && start.elapsed() >= Duration::from_millis(threshold) {
                self.busy.set(true);
                slot.kill.store(false, Ordering::Release);
                slot.wrote.store(self.wrote.get(), Ordering::Release);
                slot.started_ms.store(crate::db::Clock::now().now_ms, Ordering::Release);
                let kind = if self.function.get() { BUSY_FUNCTION } else { BUSY_EVAL };
                slot.state.store(kind, Ordering::Release);
                self.busy_count.fetch_add(1, Ordering::AcqRel);
                tracing::warn!(
                    "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} KILL command.",
                    start.elapsed().as_millis(),
                    if self.function.get() { "FUNCTION" } else { "SCRIPT" }
                );
            }
        }
        if !self.busy.get() {
            return Ok(VmState::Continue);
        }
        let now = Instant::now();
        if self.served.get().is_none_or(|t| now.duration_since(t) >= SERVE_EVERY) {
            self.served.set(Some(now));
            WHILE_BUSY.with(|w| {
                if let Some(f) = w.borrow().as_ref() {
                    f(&self.config.get());
                }
            });
        }
        if slot.kill.load(Ordering::Acquire) {
            tracing::warn!("Lua script killed by user with SCRIPT KILL.");
            self.killed.set(true);
            self.abort.set(true);
            return Err(mlua::Error::runtime("Script killed by user with SCRIPT KILL..."));
        }
        Ok(VmState::Continue)
    }

    fn end(&self) {
        self.start.set(None);
        self.served.set(None);
        if self.busy.replace(false) {
            let slot = &self.slots[self.shard];
            slot.state.store(IDLE, Ordering::Release);
            self.busy_count.fetch_sub(1, Ordering::AcqRel);
            slot.kill.store(false, Ordering::Release);
            slot.wrote.store(false, Ordering::Release);
            if let Ok(mut i) = slot.info.lock() {
                *i = None;
            }
        }
    }
}

/// One Lua state with Redis's environment.
struct State {
    lua: Lua,
    run: Function,
    load_library: Function,
    real: Table,
    env: Table,
    rt: Table,
    ctl: Rc<Ctl>,
    gen: u64,
    compiled: HashMap<String, (Function, ScriptFlags)>,
}

#[derive(Default)]
struct Engine {
    eval: Option<State>,
    func: Option<State>,
    rng: Rc<Cell<u64>>,
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine { rng: Rc::new(Cell::new(LRAND48_INIT)), ..Engine::default() });
}

const LRAND48_INIT: u64 = 0x1234_abcd_330e;

/// Redis's `redisLrand48` (rand.c): a 48-bit LCG, 31-bit results.
fn lrand48(state: &Cell<u64>) -> i32 {
    let x = (state.get().wrapping_mul(0x5_deec_e66d).wrapping_add(0xb)) & ((1 << 48) - 1);
    state.set(x);
    (x >> 17) as i32
}

fn new_state(shard: usize, scripts: &Scripts, rng: Rc<Cell<u64>>) -> mlua::Result<State> {
    // SAFETY: the debug library is only used by the prelude's error handler
    // and removed from the globals before any script runs.
    let lua = unsafe {
        Lua::unsafe_new_with(StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG, LuaOptions::new())
    };
    super::lib::open(&lua)?;
    let ctl = Rc::new(Ctl {
        shard,
        slots: scripts.slots.clone(),
        busy_count: scripts.busy_count.clone(),
        start: Cell::new(None),
        loading: Cell::new(false),
        config: Cell::new(BusyConfig::default()),
        busy: Cell::new(false),
        served: Cell::new(None),
        function: Cell::new(false),
        wrote: Cell::new(false),
        oom: Cell::new(false),
        abort: Cell::new(false),
        killed: Cell::new(false),
        resp3: Cell::new(false),
        rng,
    });
    let rt = lua.create_table()?;
    rt.raw_set(
        "sha1hex",
        lua.create_function(|_, v: Value| {
            let s = match &v {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Number(n) => lua_number_string(*n).into_bytes(),
                Value::Integer(n) => n.to_string().into_bytes(),
                _ => Vec::new(),
            };
            Ok(sha1_hex(&s))
        })?,
    )?;
    rt.raw_set("log", lua.create_function(redis_log)?)?;
    let c = ctl.clone();
    rt.raw_set(
        "setresp",
        lua.create_function(move |_, args: MultiValue| {
            if args.len() != 1 {
                return Ok(Some("ERR redis.setresp() requires one argument."));
            }
            match to_number(&args[0]) as i64 {
                2 => c.resp3.set(false),
                3 => c.resp3.set(true),
                _ => return Ok(Some("ERR RESP version must be 2 or 3.")),
            }
            Ok(None)
        })?,
    )?;
    let c = ctl.clone();
    rt.raw_set(
        "random",
        lua.create_function(move |_, args: MultiValue| {
            const MAX: f64 = i32::MAX as f64;
            let r = (lrand48(&c.rng) % i32::MAX) as f64 / MAX;
            let int_arg = |i: usize| -> Result<i64, String> {
                match args.get(i) {
                    Some(v @ (Value::Number(_) | Value::Integer(_))) => Ok(to_number(v) as i32 as i64),
                    Some(Value::String(s)) => s
                        .to_str()
                        .ok()
                        .and_then(|s| s.trim().parse::<f64>().ok())
                        .map(|f| f as i32 as i64)
                        .ok_or_else(|| bad_arg(i + 1, "number expected, got string")),
                    other => Err(bad_arg(
                        i + 1,
                        &format!("number expected, got {}", other.map_or("no value", |v| v.type_name())),
                    )),
                }
            };
            let v = match args.len() {
                0 => Ok(r),
                1 => int_arg(0).and_then(|u| {
                    if u < 1 {
                        return Err(bad_arg(1, "interval is empty"));
                    }
                    Ok((r * u as f64).floor() + 1.0)
                }),
                2 => int_arg(0).and_then(|l| {
                    let u = int_arg(1)?;
                    if l > u {
                        return Err(bad_arg(2, "interval is empty"));
                    }
                    Ok((r * (u - l + 1) as f64).floor() + l as f64)
                }),
                _ => Err("wrong number of arguments".to_string()),
            };
            Ok(match v {
                Ok(v) => (Some(v), None),
                Err(e) => (None, Some(e)),
            })
        })?,
    )?;
    let c = ctl.clone();
    rt.raw_set(
        "randomseed",
        lua.create_function(move |_, v: Value| {
            let seed = to_number(&v) as i32 as u32 as u64;
            c.rng.set((seed << 16) | 0x330e);
            Ok(())
        })?,
    )?;
    rt.raw_set(
        "acl_check",
        lua.create_function(|_, args: MultiValue| {
            if args.is_empty() {
                return Ok((false, Some("ERR Please specify at least one argument for this redis lib call")));
            }
            let Some(argv) = lua_args(&args) else {
                return Ok((false, Some("ERR Lua redis lib command arguments must be strings or integers")));
            };
            match crate::cmd::table::TABLE.get(&argv[0]) {
                Some(_) => Ok((true, None)),
                None => Ok((false, Some("ERR Invalid command passed to redis.acl_check_cmd()"))),
            }
        })?,
    )?;
    rt.raw_set(
        "cwrap",
        // SAFETY: `exec_raw` runs the closure with the target function on the
        // stack; `lua_pushcclosure` pops it as the trampoline's upvalue.
        lua.create_function(|lua, f: Function| unsafe {
            lua.exec_raw::<Function>(f, |st| mlua::ffi::lua_pushcclosure(st, trampoline, 1))
        })?,
    )?;
    rt.raw_set("version", crate::cmd::server::REDIS_VERSION)?;
    rt.raw_set("version_num", version_num(crate::cmd::server::REDIS_VERSION))?;
    let prelude = lua.load(PRELUDE).set_name("=internal").into_function()?;
    let (run, load_library, real): (Function, Function, Table) = prelude.call(rt.clone())?;
    let env: Table = real.raw_get("_G")?;
    let c = ctl.clone();
    lua.set_hook(HookTriggers::new().every_nth_instruction(HOOK_EVERY), move |_, _| c.check())?;
    Ok(State { lua, run, load_library, real, env, rt, ctl, gen: 0, compiled: HashMap::new() })
}

/// A C function calling the Lua function in its upvalue with its arguments.
/// Redis's `redis.*` functions are C functions: a script's `return
/// redis.call(...)` is then not a Lua tail call, so the script's frame (and
/// the line an error reports) stays on the stack. The Lua wrappers of the
/// prelude are called through this trampoline for the same effect.
unsafe extern "C-unwind" fn trampoline(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    // SAFETY: called by Lua with a valid state; nothing here owns memory, so
    // a Lua error unwinding through this frame leaks nothing.
    unsafe {
        let n = mlua::ffi::lua_gettop(l);
        mlua::ffi::lua_pushvalue(l, mlua::ffi::lua_upvalueindex(1));
        mlua::ffi::lua_insert(l, 1);
        mlua::ffi::lua_call(l, n, mlua::ffi::LUA_MULTRET);
        mlua::ffi::lua_gettop(l)
    }
}

fn bad_arg(n: usize, msg: &str) -> String {
    format!("bad argument #{n} to 'random' ({msg})")
}

fn version_num(v: &str) -> f64 {
    let mut n = 0u32;
    for p in v.split('.').take(3) {
        n = (n << 8) | p.parse::<u32>().unwrap_or(0);
    }
    n as f64
}

/// Lua's `lua_tonumber`: numbers and numeric strings, 0 otherwise.
fn to_number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        Value::Integer(n) => *n as f64,
        Value::String(s) => s.to_str().ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// How Lua prints a number (`%.14g`).
fn lua_number_string(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    crate::resp::write::format_g(n, 14)
}

/// `redis.call` arguments: strings as they are, numbers as `%.17g`.
fn lua_args(args: &MultiValue) -> Option<Vec<Bytes>> {
    args.iter()
        .map(|a| match a {
            Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Number(n) if n.is_nan() && n.is_sign_negative() => Some(Bytes::from_static(b"-nan")),
            Value::Number(n) => Some(Bytes::from(crate::resp::write::format_double(*n))),
            Value::Integer(n) => Some(Bytes::from(n.to_string())),
            _ => None,
        })
        .collect()
}

/// `redis.log(level, ...)`: an error text, or nothing once logged.
fn redis_log(_: &Lua, args: MultiValue) -> mlua::Result<Option<&'static str>> {
    if args.len() < 2 {
        return Ok(Some("ERR redis.log() requires two arguments or more."));
    }
    let level = match &args[0] {
        Value::Number(_) | Value::Integer(_) => to_number(&args[0]),
        Value::String(s) if s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()).is_some() => to_number(&args[0]),
        _ => return Ok(Some("ERR First argument must be a number (log level).")),
    } as i64;
    if !(0..=3).contains(&level) {
        return Ok(Some("ERR Invalid debug level."));
    }
    let mut msg = Vec::new();
    for (i, a) in args.iter().skip(1).enumerate() {
        let s = match a {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Number(n) => lua_number_string(*n).into_bytes(),
            Value::Integer(n) => n.to_string().into_bytes(),
            _ => continue,
        };
        if i > 0 {
            msg.push(b' ');
        }
        msg.extend_from_slice(&s);
    }
    let msg = String::from_utf8_lossy(&msg);
    match level {
        0 => tracing::debug!(target: "script", "{msg}"),
        1 => tracing::debug!(target: "script", "{msg}"),
        2 => tracing::info!(target: "script", "{msg}"),
        _ => tracing::warn!(target: "script", "{msg}"),
    }
    Ok(None)
}

fn err_table(lua: &Lua, msg: &str) -> mlua::Result<(Value, bool)> {
    let t = lua.create_table()?;
    t.raw_set("err", msg)?;
    Ok((Value::Table(t), true))
}

/// `redis.call` / `redis.pcall`: the reply as a Lua value and whether it is an error.
fn redis_call(
    lua: &Lua,
    ctl: &Ctl,
    host: &mut dyn Host,
    db: &mut usize,
    readonly: bool,
    args: MultiValue,
) -> mlua::Result<(Value, bool)> {
    if ctl.abort.get() {
        return Err(mlua::Error::runtime("script aborted"));
    }
    if args.is_empty() {
        return err_table(lua, "ERR Please specify at least one argument for this redis lib call");
    }
    let Some(argv) = lua_args(&args) else {
        return err_table(lua, "ERR Lua redis lib command arguments must be strings or integers");
    };
    drop(args);
    let cmd = match crate::cmd::lookup(&argv) {
        Ok(c) => c,
        Err(e) if e.0.starts_with("ERR wrong number of arguments") => {
            return err_table(lua, "ERR Wrong number of args calling Redis command from script")
        }
        Err(_) => return err_table(lua, "ERR Unknown Redis command called from script"),
    };
    if cmd.flags.contains(Flags::NOSCRIPT) {
        return err_table(lua, "ERR This Redis command is not allowed from script");
    }
    let write = cmd.flags.contains(Flags::WRITE);
    // Redis's scriptVerifyWriteCommandAllow: may-replicate commands
    // (PUBLISH, PFCOUNT) count as writes here.
    if readonly && cmd.flags.intersects(Flags::WRITE | Flags::MAY_REPLICATE) {
        return err_table(lua, "ERR Write commands are not allowed from read-only scripts.");
    }
    // Redis's scriptVerifyOOM: once a script wrote, it may finish its work.
    if ctl.oom.get() && !ctl.wrote.get() && cmd.flags.contains(Flags::DENYOOM) {
        return err_table(lua, crate::shard::evict::OOM);
    }
    let mut reply = Out::new(if ctl.resp3.get() { Proto::Resp3 } else { Proto::Resp2 });
    if cmd.name() == "select" {
        match crate::cmd::args::int(&argv[1]) {
            Err(e) => reply.error(&e.0),
            Ok(i) if i < 0 || i >= host.databases() as i64 => reply.error("ERR DB index is out of range"),
            Ok(i) => {
                *db = i as usize;
                reply.ok();
            }
        }
    } else if host.call(cmd, &argv, *db, &mut reply) == Err(Elsewhere) {
        ctl.abort.set(true);
        return Err(mlua::Error::runtime("a key of this command is on another shard"));
    }
    if write {
        ctl.wrote.set(true);
        if ctl.busy.get() {
            ctl.slots[ctl.shard].wrote.store(true, Ordering::Release);
        }
    }
    let mut pos = 0;
    reply_to_lua(lua, &reply.buf, &mut pos)
}

impl Engine {
    /// This shard's state for scripts or functions, rebuilt when the shared
    /// texts changed (SCRIPT FLUSH, any library change) since it was built.
    fn state(&mut self, core: &Core, function: bool) -> Result<&mut State, CmdError> {
        let scripts = &core.shared.scripts;
        let gen =
            if function { scripts.func_gen.load(Ordering::Acquire) } else { scripts.eval_gen.load(Ordering::Acquire) };
        let slot = if function { &mut self.func } else { &mut self.eval };
        if slot.as_ref().is_some_and(|s| s.gen != gen) {
            *slot = None;
        }
        if slot.is_none() {
            let mut st = new_state(core.id, scripts, self.rng.clone())
                .map_err(|e| CmdError::err(format_args!("failed to start Lua: {e}")))?;
            st.gen = gen;
            if function {
                for lib in scripts.libraries().libs.values() {
                    match load_code(&mut st, &lib.code) {
                        Ok(fs) => {
                            for f in fs {
                                st.compiled.insert(f.name.to_ascii_lowercase(), (f.callback, f.flags));
                            }
                        }
                        Err(e) => tracing::warn!(library = lib.name, "library failed to load on this shard: {}", e.0),
                    }
                }
            }
            *slot = Some(st);
        }
        Ok(slot.as_mut().expect("state built above"))
    }
}

/// A function a library registered while loading.
pub struct Registered {
    pub name: String,
    pub callback: Function,
    pub flags: ScriptFlags,
    pub description: Option<Bytes>,
}

/// Compiles and runs a library's code (after its shebang line) in load mode.
fn load_code(st: &mut State, code: &[u8]) -> Result<Vec<Registered>, CmdError> {
    let skip = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
    let f = st
        .lua
        .load(&code[skip..])
        .set_name("@user_function")
        .set_mode(ChunkMode::Text)
        .set_environment(st.env.clone())
        .into_function()
        .map_err(|e| CmdError::err(format_args!("Error compiling function: {}", syntax_message(&e))))?;
    let lua_err = |e: mlua::Error| CmdError::err(format_args!("Error registering functions: {e}"));
    let reg = st.lua.create_table().map_err(lua_err)?;
    st.rt.raw_set("registered", reg.clone()).map_err(lua_err)?;
    st.ctl.abort.set(false);
    st.ctl.killed.set(false);
    st.ctl.loading.set(true);
    st.ctl.start.set(Some(Instant::now()));
    let r: mlua::Result<(bool, Value)> = st.load_library.call(f);
    st.ctl.start.set(None);
    st.ctl.loading.set(false);
    st.ctl.abort.set(false);
    let _ = st.rt.raw_set("registered", Value::Nil);
    let (ok, e) = r.map_err(lua_err)?;
    if st.ctl.killed.replace(false) {
        return Err(CmdError::err("Error registering functions: ERR FUNCTION LOAD timeout"));
    }
    if !ok {
        let msg = match &e {
            Value::Table(t) => match t.raw_get::<Value>("err") {
                Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                _ => "ERR unknown error".into(),
            },
            _ => "ERR unknown error".into(),
        };
        return Err(CmdError::err(format_args!("Error registering functions: {msg}")));
    }
    let mut out = Vec::new();
    for entry in reg.sequence_values::<Table>() {
        let entry = entry.map_err(lua_err)?;
        let name: String = entry.raw_get("name").map_err(lua_err)?;
        let callback: Function = entry.raw_get("callback").map_err(lua_err)?;
        let names: Vec<mlua::LuaString> =
            entry.raw_get::<Table>("flags").and_then(|t| t.sequence_values().collect()).map_err(lua_err)?;
        let flags =
            names.iter().filter_map(|n| super::flag_by_name(&n.as_bytes())).fold(ScriptFlags::empty(), |a, b| a | b);
        let description = match entry.raw_get::<Value>("description") {
            Ok(Value::String(s)) => Some(Bytes::copy_from_slice(&s.as_bytes())),
            _ => None,
        };
        out.push(Registered { name, callback, flags, description });
    }
    Ok(out)
}

fn syntax_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// FUNCTION LOAD's validation on this shard: compiles and runs the library's
/// code and returns what it registered (name, flags, description).
pub fn load_library_check(core: &Core, code: &[u8]) -> Result<Vec<(String, ScriptFlags, Option<Bytes>)>, CmdError> {
    ENGINE.with(|e| {
        let mut e = e.try_borrow_mut().map_err(|_| CmdError::err("FUNCTION LOAD is not allowed from a script"))?;
        let st = e.state(core, true)?;
        let fs = load_code(st, code)?;
        Ok(fs.into_iter().map(|f| (f.name, f.flags, f.description)).collect())
    })
}

/// Drops this shard's Lua states (SCRIPT FLUSH, FUNCTION FLUSH on every shard).
pub fn flush_local(eval: bool, function: bool) {
    ENGINE.with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            if eval {
                e.eval = None;
            }
            if function {
                e.func = None;
            }
        }
    });
}

/// Compiles an EVAL script (after its shebang line) in `st`.
fn compile_eval(st: &State, body: &[u8], skip: usize) -> Result<Function, CmdError> {
    st.lua
        .load(&body[skip..])
        .set_name("@user_script")
        .set_mode(ChunkMode::Text)
        .set_environment(st.env.clone())
        .into_function()
        .map_err(|e| CmdError::err(format_args!("Error compiling script (new function): {}", syntax_message(&e))))
}

/// Looks up (compiling on first use) an EVAL script by its text.
fn eval_body(st: &mut State, scripts: &Scripts, body: &[u8]) -> Result<(Function, ScriptFlags, String), CmdError> {
    let sha = sha1_hex(body);
    if let Some((f, flags)) = st.compiled.get(&sha) {
        return Ok((f.clone(), *flags, sha));
    }
    let (flags, skip) = shebang_flags(body)?;
    let f = compile_eval(st, body, skip)?;
    scripts.add_script(Arc::new(Script { sha: sha.clone(), body: Bytes::copy_from_slice(body), flags }));
    st.compiled.insert(sha.clone(), (f.clone(), flags));
    Ok((f, flags, sha))
}

/// SCRIPT LOAD: compiles the script on this shard and adds it to the cache.
pub fn script_load(core: &Core, body: &[u8]) -> Result<String, CmdError> {
    ENGINE.with(|e| {
        let mut e = e.try_borrow_mut().map_err(|_| CmdError::err("SCRIPT LOAD is not allowed from a script"))?;
        let st = e.state(core, false)?;
        eval_body(st, &core.shared.scripts, body).map(|(_, _, sha)| sha)
    })
}

pub(super) fn run(core: &Core, host: &mut dyn Host, call: &Call<'_>, out: &mut Out) -> Result<Outcome, CmdError> {
    ENGINE.with(|e| {
        let mut e = e.try_borrow_mut().map_err(|_| CmdError::err("This Redis command is not allowed from script"))?;
        let scripts = &core.shared.scripts;
        let function = matches!(call.body, Body::Function(_));
        let st = e.state(core, function)?;
        let (f, flags, name) = match call.body {
            Body::Eval(body) => eval_body(st, scripts, body)?,
            Body::Sha(sha) => {
                let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                match st.compiled.get(&sha) {
                    Some((f, flags)) => (f.clone(), *flags, sha),
                    None => {
                        let noscript = || CmdError::new("NOSCRIPT No matching script. Please use EVAL.");
                        let script = if sha.len() == 40 { scripts.script(&sha) } else { None };
                        let script = script.ok_or_else(noscript)?;
                        eval_body(st, scripts, &script.body)?
                    }
                }
            }
            Body::Function(name) => {
                let name = String::from_utf8_lossy(name).into_owned();
                match st.compiled.get(&name.to_ascii_lowercase()) {
                    Some((f, flags)) => (f.clone(), *flags, name),
                    None => return Err(CmdError::err("Function not found")),
                }
            }
        };
        if !flags.contains(ScriptFlags::EVAL_COMPAT) && !flags.contains(ScriptFlags::NO_WRITES) && call.readonly {
            return Err(CmdError::err("Can not execute a script with write flag using *_ro command."));
        }
        // Redis's scriptPrepareForRun: a script that may write is refused over maxmemory.
        let compat = flags.contains(ScriptFlags::EVAL_COMPAT);
        if call.oom && !compat && !flags.intersects(ScriptFlags::NO_WRITES | ScriptFlags::ALLOW_OOM) {
            return Err(CmdError::new(crate::shard::evict::OOM));
        }
        st.ctl.oom.set(call.oom && !flags.contains(ScriptFlags::ALLOW_OOM));
        let readonly = call.readonly || flags.contains(ScriptFlags::NO_WRITES);
        execute(st, host, f, call, readonly, function, &name, out)
    })
}

fn strings(lua: &Lua, items: &[Bytes]) -> mlua::Result<Table> {
    let v = items.iter().map(|k| lua.create_string(k)).collect::<mlua::Result<Vec<_>>>()?;
    lua.create_sequence_from(v)
}

#[allow(clippy::too_many_arguments)]
fn execute(
    st: &mut State,
    host: &mut dyn Host,
    f: Function,
    call: &Call<'_>,
    readonly: bool,
    function: bool,
    name: &str,
    out: &mut Out,
) -> Result<Outcome, CmdError> {
    let lua_err = |e: mlua::Error| CmdError::err(format_args!("Error running script {name}, {e}"));
    let lua = &st.lua;
    let keys = strings(lua, call.keys).map_err(lua_err)?;
    let argv = strings(lua, call.args).map_err(lua_err)?;
    let (a, b) = if function {
        (Value::Table(keys), Value::Table(argv))
    } else {
        st.real.raw_set("KEYS", keys).map_err(lua_err)?;
        st.real.raw_set("ARGV", argv).map_err(lua_err)?;
        (Value::Nil, Value::Nil)
    };
    let ctl = st.ctl.clone();
    ctl.config.set(host.busy_config());
    ctl.busy.set(false);
    ctl.function.set(function);
    ctl.wrote.set(false);
    ctl.abort.set(false);
    ctl.killed.set(false);
    ctl.resp3.set(false);
    if function {
        if let Ok(mut i) = ctl.slots[ctl.shard].info.lock() {
            let cmd = if call.readonly { "fcall_ro" } else { "fcall" };
            *i = Some((name.to_string(), vec![Bytes::from_static(cmd.as_bytes())]));
        }
    }
    ctl.start.set(Some(Instant::now()));
    // Clears the busy slot however the run ends (a panic included).
    struct EndGuard<'a>(&'a Ctl);
    impl Drop for EndGuard<'_> {
        fn drop(&mut self) {
            self.0.end();
        }
    }
    let guard = EndGuard(&ctl);
    let mut db = call.db;
    let rt = st.rt.clone();
    let result: mlua::Result<(bool, Value)> = lua.scope(|scope| {
        let c = ctl.clone();
        let db = &mut db;
        let callf =
            scope.create_function_mut(move |lua, args: MultiValue| redis_call(lua, &c, host, db, readonly, args))?;
        rt.raw_set("call", callf)?;
        let r = st.run.call::<(bool, Value)>((f, a, b));
        rt.raw_set("call", Value::Nil)?;
        r
    });
    drop(guard);
    let _ = rt.raw_set("call", Value::Nil);
    let resp3 = ctl.resp3.get();
    if ctl.abort.get() && !ctl.killed.get() {
        return Ok(Outcome::Elsewhere { wrote: ctl.wrote.get() });
    }
    let (ok, v) = result.map_err(lua_err)?;
    if ok {
        // A returned error table is an error reply, counted as one.
        if let Value::Table(t) = &v {
            if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
                return Err(CmdError::new(String::from_utf8_lossy(&e.as_bytes()).into_owned()));
            }
        }
        lua_to_reply(&v, resp3, out, 0);
        return Ok(Outcome::Done);
    }
    let Value::Table(t) = v else {
        return Err(CmdError::err(format_args!("Error running script {name}, execution failure")));
    };
    let mut msg = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        Ok(Value::Number(n)) => lua_number_string(n),
        Ok(Value::Integer(n)) => n.to_string(),
        _ => "ERR unknown error".to_string(),
    };
    if ctl.killed.get() {
        msg = "ERR Script killed by user with SCRIPT KILL...".into();
    }
    let source = t.raw_get::<Value>("source").ok();
    let line = t.raw_get::<Value>("line").ok();
    if let (Some(Value::String(src)), Some(line @ (Value::Number(_) | Value::Integer(_)))) = (source, line) {
        let line = to_number(&line) as i64;
        msg = format!("{msg} script: {name}, on {}:{line}.", String::from_utf8_lossy(&src.as_bytes()));
    }
    Err(CmdError::new(msg))
}
