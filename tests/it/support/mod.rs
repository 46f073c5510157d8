//! Test harness: start Tessera (or a real redis-server) on a free port, wait
//! until it accepts, talk to it through the redis crate or a raw socket, and stop
//! it when the handle drops.

pub mod resp;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use resp::{encode, parse, show, Reply};

/// The server binary cargo built for this test run.
pub const TESSERA: &str = env!("CARGO_BIN_EXE_tessera");
/// How long a server may take to accept its first connection.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a test waits for one reply (or for a close) before failing.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test waits for the server to close a connection it must close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Ports handed out in this process, so two tests never pick the same one
/// (Tessera binds with SO_REUSEPORT, so a clash would not fail, it would mix servers).
static USED_PORTS: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// A port nobody listens on: the kernel picks it for a throw-away listener.
pub fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().expect("local_addr").port();
        let mut used = USED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
        if !used.contains(&port) {
            used.push(port);
            return port;
        }
    }
}

/// Directory for server logs and working directories.
pub fn scratch_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("it");
    std::fs::create_dir_all(&d).expect("create test scratch dir");
    d
}

/// A fresh, empty data directory for one test; `name` is unique across the
/// suite (prefix it with the test file's subject).
pub fn data_dir(name: &str) -> PathBuf {
    let d = scratch_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Polls `cond` every few milliseconds until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reserves a port for Tessera: a socket bound with SO_REUSEPORT but never
/// listening. Tessera (also SO_REUSEPORT, same user) can bind beside it and gets
/// every connection, while no other process's bind to port 0 can pick the port
/// until the test ends, so two test runs never share a server port.
fn reserve_port() -> (u16, socket2::Socket) {
    loop {
        let sk = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
        sk.set_reuse_port(true).expect("SO_REUSEPORT");
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
        sk.bind(&any.into()).expect("bind 127.0.0.1:0");
        let port = sk.local_addr().ok().and_then(|a| a.as_socket()).map(|a| a.port()).expect("bound port");
        let mut used = USED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
        if !used.contains(&port) {
            used.push(port);
            return (port, sk);
        }
    }
}

/// Makes the child get SIGKILL when the thread that started it ends, so servers
/// never outlive a test binary that was killed (a CI timeout, ^C). Every server
/// lives within one test, and each test runs on its own thread.
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child being set up.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// A child server process, killed on drop.
pub struct Proc {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    name: String,
    _reservation: Option<socket2::Socket>,
}

impl Proc {
    /// Starts `make(port)` on free ports until one accepts connections (a port
    /// taken between picking and binding is retried).
    fn launch(name: &str, reuseport: bool, mut make: impl FnMut(u16) -> Command) -> Proc {
        let mut last = String::new();
        for _ in 0..3 {
            let (port, reservation) = if reuseport {
                let (p, sk) = reserve_port();
                (p, Some(sk))
            } else {
                (free_port(), None)
            };
            let log = scratch_dir().join(format!("{name}-{port}.log"));
            let file = File::create(&log).expect("create server log");
            let mut cmd = make(port);
            die_with_parent(&mut cmd);
            cmd.current_dir(scratch_dir())
                .stdin(Stdio::null())
                .stdout(file.try_clone().expect("dup log fd"))
                .stderr(file);
            let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
            let mut p = Proc { child, port, log, name: name.to_string(), _reservation: reservation };
            match p.wait_ready() {
                Ok(()) => return p,
                Err(why) => {
                    last = format!("{name} on port {port} {why}; its output:\n{}", p.output());
                    if !last.contains("in use") {
                        break;
                    }
                }
            }
        }
        panic!("{last}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited at start-up ({status})"));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return Err(format!("did not accept connections within {START_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// What the process printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Has the process exited?
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// A redis crate connection speaking RESP2.
    pub fn client(&self) -> redis::Connection {
        self.client_url(&format!("redis://127.0.0.1:{}/", self.port))
    }

    /// A redis crate connection that switched to RESP3 with HELLO 3.
    pub fn client_resp3(&self) -> redis::Connection {
        self.client_url(&format!("redis://127.0.0.1:{}/?protocol=resp3", self.port))
    }

    fn client_url(&self, url: &str) -> redis::Connection {
        let client = redis::Client::open(url).unwrap_or_else(|e| panic!("bad url {url}: {e}"));
        let con = client
            .get_connection_with_timeout(IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("cannot connect to {} on port {}: {e}", self.name, self.port));
        con.set_read_timeout(Some(IO_TIMEOUT)).expect("set_read_timeout");
        con
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the log of a failed test (its message names the file).
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// A Tessera server started for one test.
pub struct Server {
    pub proc: Proc,
    pub shards: usize,
}

impl std::ops::Deref for Server {
    type Target = Proc;
    fn deref(&self) -> &Proc {
        &self.proc
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Proc {
        &mut self.proc
    }
}

impl Server {
    pub fn start(shards: usize) -> Server {
        Server::start_with(shards, &[])
    }

    /// Starts Tessera with extra `--directive value` arguments. With
    /// `TESSERA_IT_AGAINST_REDIS=1` in the environment a real redis-server runs
    /// instead, to check the tests' own expectations against Redis.
    pub fn start_with(shards: usize, extra: &[&str]) -> Server {
        Server::launch(None, shards, extra)
    }

    /// Starts Tessera on data directory `dir` with `extra` arguments and
    /// waits until it has loaded its files.
    pub fn start_in(shards: usize, dir: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["--dir", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let s = Server::start_with(shards, &args);
        let mut c = s.client();
        assert!(
            wait_until(Duration::from_secs(20), || query::<String>(&mut c, &["INFO", "persistence"])
                .contains("\nloading:0")),
            "still loading"
        );
        s
    }

    /// Starts Tessera with a config file, then the usual command-line overrides.
    pub fn start_with_file(file: &str, shards: usize, extra: &[&str]) -> Server {
        Server::launch(Some(file), shards, extra)
    }

    fn launch(file: Option<&str>, shards: usize, extra: &[&str]) -> Server {
        if against_redis() {
            return Server { proc: start_redis_with(file, extra), shards };
        }
        let proc = Proc::launch("tessera", true, |port| {
            let mut c = Command::new(TESSERA);
            c.args(file);
            c.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--shards", &shards.to_string()]);
            // Its own data directory and no save schedule, so no server loads
            // another's snapshot; a test's own --dir or --save comes later and wins.
            let dir = scratch_dir().join(format!("data-{port}"));
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::create_dir_all(&dir);
            c.arg("--dir").arg(&dir).args(["--save", ""]);
            c.args(extra);
            c
        });
        Server { proc, shards }
    }
}

/// Path of `redis-server`, or a failure that says how to get it.
pub fn redis_server_path() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join("redis-server")).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "redis-server not found on PATH: the differential tests need a real Redis 7.0. \
                 Run scripts/test.sh (it installs it) or `apt-get install redis-server`."
        )
    })
}

/// True when the suite checks its expectations against redis-server itself.
pub fn against_redis() -> bool {
    std::env::var_os("TESSERA_IT_AGAINST_REDIS").is_some_and(|v| v == "1")
}

/// A real redis-server for differential tests, without persistence.
pub fn start_redis() -> Proc {
    start_redis_with(None, &[])
}

fn start_redis_with(file: Option<&str>, extra: &[&str]) -> Proc {
    let bin = redis_server_path();
    Proc::launch("redis", false, |port| {
        let mut c = Command::new(&bin);
        c.args(file);
        c.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        c.args(["--daemonize", "no", "--protected-mode", "no", "--logfile", ""]);
        c.arg("--dir").arg(scratch_dir());
        c.args(extra);
        c
    })
}

/// Runs the body against a fresh server with 1 shard and then with 3 shards,
/// saying which one failed.
pub fn each_shards(f: impl Fn(&Server)) {
    for n in [1, 3] {
        let s = Server::start(n);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&s)));
        if let Err(e) = r {
            eprintln!("failed with --shards {n} (server log: {})", s.log.display());
            std::panic::resume_unwind(e);
        }
    }
}

/// `count` keys named `{prefix}N` that, with 3 shards, land on shards 0, 1, 2, 0, ...
pub fn spread_keys(prefix: &str, count: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < count {
        let k = format!("{prefix}{i}");
        if tessera::shard::key_shard(k.as_bytes(), 3) == out.len() % 3 {
            out.push(k);
        }
        i += 1;
    }
    out
}

/// Runs the binary with `args` and returns its output, killing it if it is
/// still running after `timeout` (the output then says so).
pub fn run_tessera(args: &[&str], timeout: Duration) -> (Option<i32>, String, String) {
    let out_path = scratch_dir().join(format!("run-{}-{}.out", std::process::id(), free_port()));
    let err_path = out_path.with_extension("err");
    let mut cmd = Command::new(TESSERA);
    die_with_parent(&mut cmd);
    let mut child = cmd
        .args(args)
        .current_dir(scratch_dir())
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("create stdout file"))
        .stderr(File::create(&err_path).expect("create stderr file"))
        .spawn()
        .expect("spawn tessera");
    let deadline = Instant::now() + timeout;
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let (stdout, stderr) = (read(&out_path), read(&err_path));
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    (code, stdout, stderr)
}

/// Runs one command through the redis crate, failing the test on an error reply.
pub fn query<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// A raw TCP client: sends exact bytes and reads whole RESP replies.
pub struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
    closed: bool,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect to port {port}: {e}"));
        stream.set_nodelay(true).expect("nodelay");
        stream.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
        Raw { stream, buf: Vec::new(), closed: false }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap_or_else(|e| panic!("write {:?}: {e}", show(bytes)));
    }

    /// Sends a command as a multibulk and returns the bytes of its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        self.send(&encode(args));
        self.reply_bytes()
    }

    /// Sends a command and decodes its reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.send(&encode(args));
        self.reply()
    }

    /// Sends a command that must fail and returns its error text (without `-`).
    pub fn err<A: AsRef<[u8]>>(&mut self, args: &[A]) -> String {
        let shown: Vec<String> = args.iter().map(|a| show(a.as_ref())).collect();
        match self.call(args) {
            Reply::Error(e) | Reply::BlobError(e) => String::from_utf8_lossy(&e).into_owned(),
            other => panic!("{shown:?} should fail but replied {other:?}"),
        }
    }

    /// Sends an inline command line (CRLF added) and returns its reply bytes.
    pub fn inline(&mut self, line: &str) -> Vec<u8> {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply_bytes()
    }

    /// The next reply's bytes; fails the test if the server closes or stalls.
    pub fn reply_bytes(&mut self) -> Vec<u8> {
        match self.try_reply() {
            Ok(Some((_, bytes))) => bytes,
            Ok(None) => panic!("connection closed while waiting for a reply (pending: {:?})", show(&self.buf)),
            Err(e) => panic!("{e}"),
        }
    }

    pub fn reply(&mut self) -> Reply {
        let bytes = self.reply_bytes();
        parse(&bytes).ok().flatten().map(|(r, _)| r).expect("reply_bytes returns whole replies")
    }

    /// The next reply, `Ok(None)` if the server closed the connection first, or
    /// `Err` with a description on a timeout or a malformed reply.
    pub fn try_reply(&mut self) -> Result<Option<(Reply, Vec<u8>)>, String> {
        loop {
            match parse(&self.buf) {
                Ok(Some((r, n))) => {
                    let bytes: Vec<u8> = self.buf.drain(..n).collect();
                    return Ok(Some((r, bytes)));
                }
                Ok(None) => {}
                Err(e) => return Err(format!("malformed reply: {e}")),
            }
            if self.closed || !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Reads more bytes; false on EOF.
    fn fill(&mut self) -> Result<bool, String> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.closed = true;
                Ok(false)
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                self.closed = true;
                Ok(false)
            }
            Err(e) => Err(format!("timed out waiting for the server ({e}); received so far: {:?}", show(&self.buf))),
        }
    }

    /// Exactly `n` bytes, whatever they are.
    pub fn read_bytes(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => panic!("closed after {:?}, wanted {n} bytes", show(&self.buf)),
                Err(e) => panic!("{e}"),
            }
        }
        self.buf.drain(..n).collect()
    }

    /// Everything until the server closes the connection; fails the test if it
    /// stays open.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        self.stream.set_read_timeout(Some(CLOSE_TIMEOUT)).expect("read timeout");
        while !self.closed {
            if let Err(e) = self.fill() {
                panic!("expected the server to close the connection: {e}");
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// Bytes the server sent without a read asking for them, without blocking long.
    pub fn pending_within(&mut self, wait: Duration) -> Vec<u8> {
        self.stream.set_read_timeout(Some(wait)).expect("read timeout");
        let _ = self.fill();
        self.stream.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
        std::mem::take(&mut self.buf)
    }
}
