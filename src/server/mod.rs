//! Server start-up: validate the environment, start one pinned executor per
//! shard, bind every shard's listener on the same port, and serve connections.

mod busy;
pub mod client;
pub mod conn;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{cpu_ranges, Config};
use crate::error::StartError;
use crate::runtime::{self, ExecutorSpec, Listener};
use crate::shard::{self, Core, ShardState};

/// Server-wide counters updated at connection setup, never on the data path.
#[derive(Default)]
pub struct ServerStats {
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
}

/// CLIENT PAUSE state, shared by all shards.
#[derive(Default)]
pub struct Pause {
    until_ms: AtomicU64,
    all: AtomicBool,
}

impl Pause {
    pub fn set(&self, until_ms: u64, all: bool) {
        self.all.store(all, Ordering::Relaxed);
        self.until_ms.store(until_ms, Ordering::Release);
    }

    pub fn clear(&self) {
        self.until_ms.store(0, Ordering::Release);
    }

    /// CLIENT PAUSE as Redis 7.0 combines pauses: the later end and the
    /// stricter mode of the one in force and the new one.
    pub fn extend(&self, until_ms: u64, all: bool, now_ms: u64) {
        match self.active(now_ms) {
            Some(cur_all) => {
                let until = self.until_ms.load(Ordering::Acquire).max(until_ms);
                self.set(until, all || cur_all);
            }
            None => self.set(until_ms, all),
        }
    }

    /// The end of the pause in force, in Unix ms (0 when none).
    pub fn until_ms(&self) -> u64 {
        self.until_ms.load(Ordering::Acquire)
    }

    /// `Some(all)` while a pause is in force.
    pub fn active(&self, now_ms: u64) -> Option<bool> {
        let until = self.until_ms.load(Ordering::Acquire);
        (until > now_ms).then(|| self.all.load(Ordering::Relaxed))
    }
}

/// Read-mostly state shared by every shard.
pub struct Shared {
    pub next_client_id: AtomicU64,
    pub connected: AtomicUsize,
    pub stats: ServerStats,
    pub pause: Pause,
    pub start_ms: u64,
    pub start: std::time::Instant,
    pub port: AtomicU64,
    pub run_id: String,
    pub executable: String,
    pub nshards: usize,
    pub cpus: Vec<Option<usize>>,
    /// Highest `used_memory` seen (cron and INFO), for INFO memory.
    pub peak_memory: AtomicU64,
    /// `used_memory` once every shard had started, for INFO memory.
    pub startup_memory: AtomicU64,
    /// Each shard's commands per second, sampled by its cron.
    pub ops_per_sec: Vec<AtomicU64>,
    /// Script cache, function libraries and the busy-script state (EVAL, FUNCTION).
    pub scripts: crate::script::Scripts,
    /// The next cross-shard transaction's sequence number.
    pub tx_seq: AtomicU64,
    /// Snapshots and loading (SAVE, BGSAVE, INFO persistence, -LOADING).
    pub persist: crate::persist::save::Status,
}

impl Shared {
    /// Server-wide state for shards placed on `cpus` (one entry per shard).
    pub fn new(cpus: Vec<Option<usize>>, port: u16) -> Shared {
        let start_ms = crate::db::Clock::now().now_ms;
        let n = cpus.len();
        Shared {
            next_client_id: AtomicU64::new(1),
            connected: AtomicUsize::new(0),
            stats: ServerStats::default(),
            pause: Pause::default(),
            start_ms,
            start: std::time::Instant::now(),
            port: AtomicU64::new(u64::from(port)),
            run_id: run_id(),
            executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            nshards: n,
            cpus,
            peak_memory: AtomicU64::new(0),
            startup_memory: AtomicU64::new(0),
            ops_per_sec: (0..n).map(|_| AtomicU64::new(0)).collect(),
            scripts: crate::script::Scripts::new(n),
            tx_seq: AtomicU64::new(1),
            persist: crate::persist::save::Status::new(n, start_ms / 1000),
        }
    }
}

fn run_id() -> String {
    let seed = ahash::RandomState::new();
    (0..5).map(|i| format!("{:08x}", seed.hash_one(i) as u32)).collect()
}

/// The shard count and CPU of each shard, from `shards`, `cpus` and `numa-node`.
fn placement(config: &Config) -> Result<Vec<Option<usize>>, StartError> {
    let allowed = runtime::allowed_cpus();
    let nodes = match config.numa_node {
        Some(_) => runtime::numa_nodes()
            .map_err(|e| StartError::Runtime(format!("cannot read the NUMA topology for --numa-node: {e}")))?,
        None => BTreeMap::new(),
    };
    let placed = place(config.shards, &config.cpus, config.numa_node, &allowed, &nodes).map_err(StartError::Usage)?;
    if let Some(node) = config.numa_node {
        let off: Vec<usize> = config.cpus.iter().copied().filter(|c| !placed.contains(&Some(*c))).collect();
        if !off.is_empty() {
            tracing::warn!("--cpus {} left out: not on NUMA node {node}", cpu_ranges(&off));
        }
    }
    Ok(placed)
}

/// Shard placement as a pure function of the configuration, the CPUs this
/// process may use (`allowed`) and each NUMA node's CPUs (`nodes`, read only
/// when `numa_node` is set). The candidate CPUs are `cpus` (default: `allowed`),
/// narrowed to the node's CPUs; there is one shard per candidate unless `shards`
/// says otherwise, and shards beyond the candidates wrap around them. Without
/// `cpus` or `numa_node`, more shards than CPUs run unpinned instead.
fn place(
    shards: usize,
    cpus: &[usize],
    numa_node: Option<usize>,
    allowed: &[usize],
    nodes: &BTreeMap<usize, Vec<usize>>,
) -> Result<Vec<Option<usize>>, String> {
    for c in cpus {
        if !allowed.contains(c) {
            return Err(format!(
                "CPU {c} in --cpus is not available to this process (allowed: {}); pick CPUs from that list",
                cpu_ranges(allowed)
            ));
        }
    }
    let mut candidates = if cpus.is_empty() { allowed.to_vec() } else { cpus.to_vec() };
    if let Some(node) = numa_node {
        let Some(node_cpus) = nodes.get(&node) else {
            let list: Vec<String> = nodes.iter().map(|(n, c)| format!("{n} (CPUs {})", cpu_ranges(c))).collect();
            return Err(format!(
                "NUMA node {node} in --numa-node does not exist on this machine (nodes: {})",
                if list.is_empty() { "none found".to_string() } else { list.join(", ") }
            ));
        };
        candidates.retain(|c| node_cpus.contains(c));
        if candidates.is_empty() {
            return Err(if cpus.is_empty() {
                format!(
                    "no CPU of NUMA node {node} (CPUs {}) is available to this process (allowed: {})",
                    cpu_ranges(node_cpus),
                    cpu_ranges(allowed)
                )
            } else {
                format!(
                    "--cpus {} has no CPU on NUMA node {node} (its CPUs: {}); pick CPUs from that list or drop --cpus",
                    cpu_ranges(cpus),
                    cpu_ranges(node_cpus)
                )
            });
        }
    }
    let n = if shards == 0 { candidates.len().max(1) } else { shards };
    if shards > 0 && cpus.is_empty() && numa_node.is_none() && n > candidates.len() {
        // More shards than CPUs: run them unpinned rather than stack them on CPU 0.
        return Ok(vec![None; n]);
    }
    Ok((0..n).map(|i| Some(candidates[i % candidates.len()])).collect())
}

fn bind_addrs(config: &Config, port: u16) -> Result<Vec<SocketAddr>, StartError> {
    config
        .bind
        .iter()
        .map(|b| {
            let ip = if b == "*" { "0.0.0.0" } else { b.as_str() };
            ip.parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, port))
                .map_err(|_| StartError::Usage(format!("invalid bind address '{b}'")))
        })
        .collect()
}

fn listen_error(addr: SocketAddr, e: std::io::Error) -> StartError {
    let hint = match e.kind() {
        std::io::ErrorKind::AddrInUse => " (another process is using this port: stop it or choose another with --port)",
        std::io::ErrorKind::PermissionDenied => " (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        std::io::ErrorKind::AddrNotAvailable => " (this address is not configured on any interface: fix --bind)",
        _ => "",
    };
    StartError::Listen { addr: addr.to_string(), source: e, hint }
}

/// Raises the soft memlock limit to the hard one; io_uring rings count against it.
fn raise_memlock() {
    // SAFETY: plain getrlimit/setrlimit on this process.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_MEMLOCK, &r);
        }
    }
}

/// Starts the server and blocks until it shuts down.
pub fn run(config: Config) -> Result<(), StartError> {
    raise_memlock();
    runtime::probe_io_uring().map_err(StartError::Runtime)?;
    let cpus = placement(&config)?;
    let n = cpus.len();
    let shared = Arc::new(Shared::new(cpus.clone(), config.port));
    let plan = crate::persist::load::plan(&config).map_err(StartError::Runtime)?;
    if plan.loads() {
        crate::persist::load::begin(&shared);
    }
    let mut links = shard::mesh(n, 1024);
    let mut threads = Vec::new();
    let mut port = config.port;
    for (i, cpu) in cpus.iter().enumerate() {
        let links = links.remove(0);
        let config = config.clone();
        let shared = shared.clone();
        let plan = plan.clone();
        let addrs = bind_addrs(&config, port)?;
        let (tx, rx) = std::sync::mpsc::channel::<Result<u16, StartError>>();
        let spec = ExecutorSpec {
            name: format!("shard-{i}"),
            cpu: *cpu,
            spin_before_park: (config.spin_before_park_us > 0)
                .then(|| Duration::from_micros(config.spin_before_park_us)),
        };
        let handle = runtime::start_executor(spec, move || shard_main(i, links, config, shared, addrs, plan, tx)).map_err(|e| {
            let text = e.to_string();
            let hint = if text.contains("MemLock") || text.contains("memory") || text.contains("ENOMEM") {
                ": the locked-memory limit is too low for io_uring; raise it (ulimit -l unlimited, or LimitMEMLOCK=infinity in the systemd unit)"
            } else {
                ""
            };
            StartError::Runtime(format!("cannot start shard {i}: {e}{hint}"))
        })?;
        match rx.recv() {
            Ok(Ok(p)) => port = p,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(StartError::Runtime(format!("shard {i} stopped while starting"))),
        }
        threads.push(handle);
    }
    shared.port.store(port as u64, Ordering::Relaxed);
    let startup = crate::alloc::used_memory() as u64;
    shared.startup_memory.store(startup, Ordering::Relaxed);
    shared.peak_memory.fetch_max(startup, Ordering::Relaxed);
    for addr in bind_addrs(&config, port)? {
        tracing::info!("Ready to accept connections tcp on {addr} with {n} shard(s)");
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

async fn shard_main(
    id: usize,
    links: shard::Links,
    config: Config,
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    plan: crate::persist::load::Plan,
    ready: std::sync::mpsc::Sender<Result<u16, StartError>>,
) {
    let mut listeners = Vec::new();
    let mut port = 0;
    for mut addr in addrs {
        // With --port 0 the first address picks the port; the rest reuse it.
        if port != 0 {
            addr.set_port(port);
        }
        match Listener::bind(addr, config.tcp_backlog) {
            Ok(l) => {
                port = l.local_addr().map(|a| a.port()).unwrap_or(addr.port());
                listeners.push(l);
            }
            Err(e) => {
                let _ = ready.send(Err(listen_error(addr, e)));
                return;
            }
        }
    }
    let _ = ready.send(Ok(port));
    let seed = shared.start_ms ^ ((id as u64 + 1) << 32);
    let state = ShardState::new(config, conn::command_count(), seed);
    let core = Core::start(id, links, state, shared).await;
    runtime::spawn(cron(core.clone()));
    runtime::spawn(crate::persist::load::start_shard(core.clone(), plan));
    let listeners: Vec<Rc<Listener>> = listeners.into_iter().map(Rc::new).collect();
    busy::install(&core, listeners.clone());
    let mut accepts = Vec::new();
    for l in listeners {
        let core = core.clone();
        accepts.push(runtime::spawn_joinable(async move {
            loop {
                match l.accept().await {
                    Ok(stream) => runtime::spawn(conn::serve(core.clone(), stream)),
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        runtime::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }));
    }
    for a in accepts {
        a.await;
    }
}

/// Redis's `serverCron` for one shard: active expiry (10 times a second, with
/// bounded work per run), INFO's sampled metrics and idle-client timeouts.
async fn cron(core: Rc<Core>) {
    let mut tick: u64 = 0;
    let mut ops = crate::cmd::server::OpsSampler::default();
    loop {
        runtime::sleep(Duration::from_millis(100)).await;
        tick += 1;
        let clock = core.refresh_clock();
        {
            let mut st = core.state.borrow_mut();
            if st.active_expire {
                active_expire_cycle(&mut st, clock);
                crate::shard::signal::hand_on(&core, &mut st);
            }
            // Eviction a write or CONFIG SET maxmemory left running goes on.
            if st.config.maxmemory > 0 {
                crate::shard::evict::make_room(&core, &mut st, crate::shard::evict::CRON_LIMIT);
                crate::shard::signal::hand_on(&core, &mut st);
            }
            let calls = st.cmd_stats.iter().map(|c| c.calls).sum();
            if let Some(slot) = core.shared.ops_per_sec.get(core.id) {
                slot.store(ops.sample(clock.now_ms, calls), Ordering::Relaxed);
            }
        }
        core.shared.peak_memory.fetch_max(crate::alloc::used_memory() as u64, Ordering::Relaxed);
        crate::persist::save::cron(&core);
        if tick.is_multiple_of(10) {
            close_idle_clients(&core, clock.now_ms);
        }
    }
}

/// Redis's adaptive expire cycle: sample volatile keys in steps of 20 per
/// database, repeat while more than 10% of a step had expired, and stop after
/// 25 ms so one shard never stalls.
pub fn active_expire_cycle(st: &mut ShardState, clock: crate::db::Clock) {
    const KEYS_PER_LOOP: usize = 20;
    const TIME_LIMIT: Duration = Duration::from_millis(25);
    let started = std::time::Instant::now();
    let ndb = st.dbs.len();
    for _ in 0..ndb {
        let d = st.expire_db % ndb;
        st.expire_db = (d + 1) % ndb;
        loop {
            let ShardState { dbs, stats, .. } = st;
            let (checked, expired) = dbs[d].active_expire_step(clock, KEYS_PER_LOOP, stats);
            if checked == 0 || expired * 10 <= checked || started.elapsed() > TIME_LIMIT {
                break;
            }
        }
        if started.elapsed() > TIME_LIMIT {
            return;
        }
    }
}

fn close_idle_clients(core: &Core, now_ms: u64) {
    let timeout = core.state.borrow().config.timeout;
    if timeout == 0 {
        return;
    }
    for c in core.clients.borrow().clients.values() {
        // Pub/sub subscribers never time out, as in Redis.
        if now_ms.saturating_sub(c.last_ms.get()) > timeout * 1000 && !c.push.subscribed() {
            c.killed.set(true);
            runtime::shutdown_fd(c.fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_nodes() -> BTreeMap<usize, Vec<usize>> {
        BTreeMap::from([(0, vec![0, 1, 2, 3]), (1, vec![4, 5, 6, 7])])
    }

    fn pinned(cpus: &[usize]) -> Vec<Option<usize>> {
        cpus.iter().map(|c| Some(*c)).collect()
    }

    #[test]
    fn without_numa_node() {
        let all: Vec<usize> = (0..8).collect();
        let none = BTreeMap::new();
        assert_eq!(place(0, &[], None, &all, &none).unwrap(), pinned(&all));
        assert_eq!(place(2, &[], None, &all, &none).unwrap(), pinned(&[0, 1]));
        assert_eq!(place(10, &[], None, &all, &none).unwrap(), vec![None; 10]);
        assert_eq!(place(3, &[6, 7], None, &all, &none).unwrap(), pinned(&[6, 7, 6]));
        let e = place(0, &[9], None, &all, &none).unwrap_err();
        assert!(e.contains("CPU 9") && e.contains("allowed: 0-7"), "{e}");
    }

    #[test]
    fn numa_node_picks_its_cpus() {
        let all: Vec<usize> = (0..8).collect();
        let nodes = two_nodes();
        assert_eq!(place(0, &[], Some(1), &all, &nodes).unwrap(), pinned(&[4, 5, 6, 7]));
        assert_eq!(place(2, &[], Some(1), &all, &nodes).unwrap(), pinned(&[4, 5]));
        // More shards than the node has CPUs stay on the node.
        assert_eq!(place(6, &[], Some(0), &all, &nodes).unwrap(), pinned(&[0, 1, 2, 3, 0, 1]));
        // Only the CPUs the process may use.
        assert_eq!(place(0, &[], Some(1), &[0, 5, 7], &nodes).unwrap(), pinned(&[5, 7]));
    }

    #[test]
    fn numa_node_with_cpus_intersects() {
        let all: Vec<usize> = (0..8).collect();
        let nodes = two_nodes();
        assert_eq!(place(0, &[2, 3, 4, 5], Some(1), &all, &nodes).unwrap(), pinned(&[4, 5]));
        assert_eq!(place(0, &[2, 3, 4, 5], Some(0), &all, &nodes).unwrap(), pinned(&[2, 3]));
        let e = place(0, &[0, 1], Some(1), &all, &nodes).unwrap_err();
        assert!(e.contains("--cpus 0-1") && e.contains("NUMA node 1") && e.contains("its CPUs: 4-7"), "{e}");
    }

    #[test]
    fn numa_node_errors() {
        let nodes = two_nodes();
        let e = place(0, &[], Some(7), &[0, 1], &nodes).unwrap_err();
        assert!(e.contains("NUMA node 7") && e.contains("nodes: 0 (CPUs 0-3), 1 (CPUs 4-7)"), "{e}");
        let e = place(0, &[], Some(1), &[0, 1], &nodes).unwrap_err();
        assert!(e.contains("NUMA node 1 (CPUs 4-7)") && e.contains("allowed: 0-1"), "{e}");
        let e = place(0, &[], Some(0), &[0], &BTreeMap::new()).unwrap_err();
        assert!(e.contains("none found"), "{e}");
    }
}
