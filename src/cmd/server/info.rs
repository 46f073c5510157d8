//! INFO: Redis 7.0's sections, field names and order, with the per-shard parts
//! (keyspace, command and error counters, clients) summed over every shard.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::super::{CmdResult, Session};
use super::memory::{page_size, ratio, Overhead};
use super::REDIS_VERSION;
use crate::resp::Out;
use crate::shard::CmdStat;

/// Sections in output order; `true` marks those in `INFO` / `INFO default`.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// Redis's instantaneous metric: the average rate over the last 16 samples
/// taken every 100 ms by the shard's cron.
#[derive(Debug, Default)]
pub struct OpsSampler {
    samples: [u64; 16],
    idx: usize,
    last_ms: u64,
    last_total: u64,
}

impl OpsSampler {
    /// Records the running total at `now_ms`; returns the current rate per second.
    pub fn sample(&mut self, now_ms: u64, total: u64) -> u64 {
        if self.last_ms != 0 && now_ms > self.last_ms {
            let ops = total.saturating_sub(self.last_total);
            self.samples[self.idx] = ops * 1000 / (now_ms - self.last_ms);
            self.idx = (self.idx + 1) % self.samples.len();
        }
        self.last_ms = now_ms;
        self.last_total = total;
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}

/// What one shard contributes to INFO.
#[derive(Default)]
struct ShardReport {
    /// Per database: keys, keys with a TTL, average TTL.
    keyspace: Vec<(u64, u64, u64)>,
    hits: u64,
    misses: u64,
    expired: u64,
    /// Keys evicted, and ms over maxmemory: in total and in the current stretch.
    evicted: u64,
    over_ms: [u64; 2],
    cmd_stats: Vec<CmdStat>,
    errors: Vec<(String, u64)>,
    max_qbuf: usize,
    /// Bytes in, bytes out, reads, writes.
    net: [u64; 4],
    blocked: usize,
}

fn report(core: &crate::shard::Core) -> ShardReport {
    let st = core.state.borrow();
    ShardReport {
        keyspace: st.dbs.iter().map(|d| (d.len() as u64, d.volatile_len() as u64, d.avg_ttl)).collect(),
        hits: st.stats.hits,
        misses: st.stats.misses,
        expired: st.stats.expired,
        evicted: st.evictions.evicted_keys,
        over_ms: {
            let current = st.evictions.over_since.map_or(0, |t| core.clock().now_ms.saturating_sub(t));
            [st.evictions.over_total_ms + current, current]
        },
        cmd_stats: st.cmd_stats.clone(),
        errors: st.error_stats.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        max_qbuf: core.clients.borrow().clients.values().map(|c| c.qbuf.get()).max().unwrap_or(0),
        net: [st.net_in, st.net_out, st.reads, st.writes],
        blocked: crate::shard::block::blocked_here(core),
    }
}

/// The shard reports added up.
#[derive(Default)]
struct Totals {
    keyspace: Vec<(u64, u64, u64)>,
    hits: u64,
    misses: u64,
    expired: u64,
    evicted: u64,
    over_ms: [u64; 2],
    cmd_stats: Vec<CmdStat>,
    errors: std::collections::BTreeMap<String, u64>,
    max_qbuf: usize,
    net: [u64; 4],
    blocked: usize,
    /// Distinct channels, patterns and shard channels subscribed to.
    pubsub: [usize; 3],
    /// The memory report, when the memory section is asked for.
    mem: Option<Overhead>,
}

fn sum(reports: Vec<ShardReport>) -> Totals {
    let mut t = Totals::default();
    for r in reports {
        if t.keyspace.len() < r.keyspace.len() {
            t.keyspace.resize(r.keyspace.len(), (0, 0, 0));
        }
        for (i, (keys, expires, ttl)) in r.keyspace.into_iter().enumerate() {
            let acc = &mut t.keyspace[i];
            // avg_ttl: weighted by each shard's number of volatile keys.
            let total_exp = acc.1 + expires;
            if let Some(avg) = (acc.2 * acc.1 + ttl * expires).checked_div(total_exp) {
                acc.2 = avg;
            }
            acc.0 += keys;
            acc.1 = total_exp;
        }
        t.hits += r.hits;
        t.misses += r.misses;
        t.expired += r.expired;
        t.evicted += r.evicted;
        // Every shard watches the same process-wide figure: the longest is the answer.
        t.over_ms = [t.over_ms[0].max(r.over_ms[0]), t.over_ms[1].max(r.over_ms[1])];
        if t.cmd_stats.len() < r.cmd_stats.len() {
            t.cmd_stats.resize(r.cmd_stats.len(), CmdStat::default());
        }
        for (a, b) in t.cmd_stats.iter_mut().zip(&r.cmd_stats) {
            a.calls += b.calls;
            a.nanos += b.nanos;
            a.rejected += b.rejected;
            a.failed += b.failed;
        }
        for (k, v) in r.errors {
            *t.errors.entry(k).or_default() += v;
        }
        t.max_qbuf = t.max_qbuf.max(r.max_qbuf);
        t.blocked += r.blocked;
        for (a, b) in t.net.iter_mut().zip(r.net) {
            *a += b;
        }
    }
    t
}

/// Which sections a list of INFO arguments selects, as Redis's genInfoSectionDict.
fn selected(args: &[Bytes]) -> Vec<&'static str> {
    if args.is_empty() {
        return SECTIONS.iter().filter(|s| s.1).map(|s| s.0).collect();
    }
    let mut all = false;
    let mut want: Vec<Vec<u8>> = Vec::new();
    for a in args {
        let l = a.to_ascii_lowercase();
        match &l[..] {
            b"all" | b"everything" => all = true,
            b"default" => want.extend(SECTIONS.iter().filter(|s| s.1).map(|s| s.0.as_bytes().to_vec())),
            b"module_list" => want.push(b"modules".to_vec()),
            _ => want.push(l),
        }
    }
    SECTIONS.iter().map(|s| s.0).filter(|s| all || want.iter().any(|w| w == s.as_bytes())).collect()
}

/// INFO [section [section ...]] — O(N) in the commands and databases reported.
pub async fn cmd_info(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let sections = selected(&args[1..]);
    let needs_shards =
        sections.iter().any(|s| matches!(*s, "clients" | "stats" | "commandstats" | "errorstats" | "keyspace"));
    let mut totals = if needs_shards { sum(s.core.call_all(report).await) } else { Totals::default() };
    if sections.contains(&"stats") {
        totals.pubsub = crate::pubsub::totals(&s.core).await;
    }
    if sections.contains(&"memory") {
        totals.mem = Some(super::memory::overhead(&s.core).await);
    }
    let mut text = String::new();
    for name in sections {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        section(s, name, &totals, &mut text);
    }
    out.verbatim(text.as_bytes());
    Ok(())
}

/// Appends `key:value\r\n`.
fn kv(text: &mut String, key: &str, value: impl std::fmt::Display) {
    let _ = write!(text, "{key}:{value}\r\n");
}

fn section(s: &Session, name: &str, t: &Totals, text: &mut String) {
    let shared = &s.core.shared;
    let (config_file, maxclients, appendonly) = {
        let st = s.core.state.borrow();
        (st.config.config_file.clone().unwrap_or_default(), st.config.maxclients, st.config.appendonly)
    };
    match name {
        "server" => {
            text.push_str("# Server\r\n");
            let uptime = shared.start.elapsed().as_secs();
            kv(text, "redis_version", REDIS_VERSION);
            kv(text, "redis_git_sha1", "00000000");
            kv(text, "redis_git_dirty", 0);
            kv(text, "redis_build_id", "0");
            kv(text, "redis_mode", "standalone");
            kv(text, "os", os_name());
            kv(text, "arch_bits", usize::BITS);
            kv(text, "monotonic_clock", "POSIX clock_gettime");
            kv(text, "multiplexing_api", "io_uring");
            kv(text, "atomicvar_api", "c11-builtin");
            kv(text, "gcc_version", "0.0.0");
            kv(text, "process_id", std::process::id());
            kv(text, "process_supervised", "no");
            kv(text, "run_id", &shared.run_id);
            kv(text, "tcp_port", shared.port.load(Ordering::Relaxed));
            kv(text, "server_time_usec", now_usec());
            kv(text, "uptime_in_seconds", uptime);
            kv(text, "uptime_in_days", uptime / 86400);
            kv(text, "hz", 10);
            kv(text, "configured_hz", 10);
            kv(text, "lru_clock", s.core.clock().lru());
            kv(text, "executable", &shared.executable);
            kv(text, "config_file", config_file);
            kv(text, "io_threads_active", 0);
            kv(text, "tessera_version", env!("CARGO_PKG_VERSION"));
            kv(text, "shards", shared.nshards);
        }
        "clients" => {
            text.push_str("# Clients\r\n");
            kv(text, "connected_clients", shared.connected.load(Ordering::Relaxed));
            kv(text, "cluster_connections", 0);
            kv(text, "maxclients", maxclients);
            kv(text, "client_recent_max_input_buffer", t.max_qbuf);
            kv(text, "client_recent_max_output_buffer", 0);
            kv(text, "blocked_clients", t.blocked);
            kv(text, "tracking_clients", 0);
            kv(text, "clients_in_timeout_table", 0);
        }
        "memory" => memory(s, t.mem.as_ref().unwrap_or(&Overhead::default()), text),
        "persistence" => {
            text.push_str("# Persistence\r\n");
            let p = &shared.persist;
            let saving = p.saving.load(Ordering::Relaxed);
            kv(text, "loading", u8::from(p.loading.load(Ordering::Relaxed)));
            for k in ["async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age"] {
                kv(text, k, 0);
            }
            kv(text, "current_fork_perc", "0.00");
            kv(text, "current_save_keys_processed", if saving { p.keys_saved.load(Ordering::Relaxed) } else { 0 });
            kv(text, "current_save_keys_total", if saving { t.keyspace.iter().map(|k| k.0).sum::<u64>() } else { 0 });
            kv(text, "rdb_changes_since_last_save", p.dirty());
            kv(text, "rdb_bgsave_in_progress", u8::from(saving));
            kv(text, "rdb_last_save_time", p.lastsave.load(Ordering::Relaxed));
            kv(text, "rdb_last_bgsave_status", if p.last_ok.load(Ordering::Relaxed) { "ok" } else { "err" });
            kv(text, "rdb_last_bgsave_time_sec", p.last_secs.load(Ordering::Relaxed));
            let current = if saving {
                (crate::db::Clock::now().now_ms.saturating_sub(p.started_ms.load(Ordering::Relaxed)) / 1000) as i64
            } else {
                -1
            };
            kv(text, "rdb_current_bgsave_time_sec", current);
            kv(text, "rdb_saves", p.saves.load(Ordering::Relaxed));
            kv(text, "rdb_last_cow_size", 0);
            kv(text, "rdb_last_load_keys_expired", p.loaded_expired.load(Ordering::Relaxed));
            kv(text, "rdb_last_load_keys_loaded", p.loaded_keys.load(Ordering::Relaxed));
            kv(text, "aof_enabled", u8::from(appendonly && p.aof.enabled.load(Ordering::Relaxed)));
            let r = &p.rewrite;
            let rewriting = r.running.load(Ordering::Relaxed);
            kv(text, "aof_rewrite_in_progress", u8::from(rewriting));
            kv(text, "aof_rewrite_scheduled", u8::from(r.scheduled.load(Ordering::Relaxed)));
            kv(text, "aof_last_rewrite_time_sec", r.last_secs.load(Ordering::Relaxed));
            let current = if rewriting {
                (crate::db::Clock::now().now_ms.saturating_sub(r.started_ms.load(Ordering::Relaxed)) / 1000) as i64
            } else {
                -1
            };
            kv(text, "aof_current_rewrite_time_sec", current);
            kv(text, "aof_last_bgrewrite_status", if r.last_ok.load(Ordering::Relaxed) { "ok" } else { "err" });
            kv(text, "aof_rewrites", r.rewrites.load(Ordering::Relaxed));
            kv(text, "aof_rewrites_consecutive_failures", r.failures.load(Ordering::Relaxed));
            kv(text, "aof_last_write_status", if p.aof.last_write_ok.load(Ordering::Relaxed) { "ok" } else { "err" });
            kv(text, "aof_last_cow_size", 0);
            kv(text, "module_fork_in_progress", 0);
            kv(text, "module_fork_last_cow_size", 0);
        }
        "stats" => stats(s, t, text),
        "replication" => {
            text.push_str("# Replication\r\n");
            kv(text, "role", "master");
            kv(text, "connected_slaves", 0);
            kv(text, "master_failover_state", "no-failover");
            kv(text, "master_replid", &shared.run_id);
            kv(text, "master_replid2", "0000000000000000000000000000000000000000");
            kv(text, "master_repl_offset", 0);
            kv(text, "second_repl_offset", -1);
            kv(text, "repl_backlog_active", 0);
            kv(text, "repl_backlog_size", 1048576);
            kv(text, "repl_backlog_first_byte_offset", 0);
            kv(text, "repl_backlog_histlen", 0);
        }
        "cpu" => {
            text.push_str("# CPU\r\n");
            let (sys, user) = rusage(libc::RUSAGE_SELF);
            let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
            kv(text, "used_cpu_sys", sys);
            kv(text, "used_cpu_user", user);
            kv(text, "used_cpu_sys_children", csys);
            kv(text, "used_cpu_user_children", cuser);
        }
        "modules" => text.push_str("# Modules\r\n"),
        "commandstats" => {
            text.push_str("# Commandstats\r\n");
            for (name, c) in crate::cmd::TABLE.all_names.iter().zip(&t.cmd_stats) {
                if c.calls == 0 && c.failed == 0 && c.rejected == 0 {
                    continue;
                }
                let usec = c.nanos / 1000;
                let per_call = if c.calls == 0 { 0.0 } else { c.nanos as f64 / 1000.0 / c.calls as f64 };
                let _ = write!(
                    text,
                    "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                    c.calls, usec, c.rejected, c.failed
                );
            }
        }
        "errorstats" => {
            text.push_str("# Errorstats\r\n");
            for (code, n) in &t.errors {
                let _ = write!(text, "errorstat_{code}:count={n}\r\n");
            }
        }
        "latencystats" => text.push_str("# Latencystats\r\n"),
        "cluster" => {
            text.push_str("# Cluster\r\n");
            kv(text, "cluster_enabled", 0);
        }
        "keyspace" => {
            text.push_str("# Keyspace\r\n");
            for (i, (keys, expires, ttl)) in t.keyspace.iter().enumerate() {
                if *keys > 0 {
                    let _ = write!(text, "db{i}:keys={keys},expires={expires},avg_ttl={ttl}\r\n");
                }
            }
        }
        _ => {}
    }
}

fn memory(s: &Session, o: &Overhead, text: &mut String) {
    let (maxmemory, policy) = {
        let st = s.core.state.borrow();
        (st.config.maxmemory, st.config.maxmemory_policy.name())
    };
    let system = system_memory();
    let functions = o.functions_caches;
    text.push_str("# Memory\r\n");
    kv(text, "used_memory", o.used);
    kv(text, "used_memory_human", bytes_to_human(o.used));
    kv(text, "used_memory_rss", o.rss);
    kv(text, "used_memory_rss_human", bytes_to_human(o.rss));
    kv(text, "used_memory_peak", o.peak);
    kv(text, "used_memory_peak_human", bytes_to_human(o.peak));
    kv(text, "used_memory_peak_perc", format!("{:.2}%", o.peak_perc()));
    kv(text, "used_memory_overhead", o.overhead_total);
    kv(text, "used_memory_startup", o.startup);
    kv(text, "used_memory_dataset", o.dataset);
    kv(text, "used_memory_dataset_perc", format!("{:.2}%", o.dataset_perc()));
    kv(text, "allocator_allocated", o.allocator_allocated());
    kv(text, "allocator_active", o.allocator_active());
    kv(text, "allocator_resident", o.allocator_resident());
    kv(text, "total_system_memory", system);
    kv(text, "total_system_memory_human", bytes_to_human(system));
    // Lua states allocate through the counted allocator, so their memory is
    // part of used_memory; it is not broken out per state.
    for k in ["used_memory_lua", "used_memory_vm_eval"] {
        kv(text, k, 0);
    }
    kv(text, "used_memory_lua_human", "0B");
    kv(text, "used_memory_scripts_eval", 0);
    kv(text, "number_of_cached_scripts", 0);
    kv(text, "number_of_functions", o.number_of_functions);
    kv(text, "number_of_libraries", o.number_of_libraries);
    kv(text, "used_memory_vm_functions", 0);
    kv(text, "used_memory_vm_total", 0);
    kv(text, "used_memory_vm_total_human", "0B");
    kv(text, "used_memory_functions", functions);
    kv(text, "used_memory_scripts", functions);
    kv(text, "used_memory_scripts_human", bytes_to_human(functions));
    kv(text, "maxmemory", maxmemory);
    kv(text, "maxmemory_human", bytes_to_human(maxmemory));
    kv(text, "maxmemory_policy", policy);
    let (r, b) = ratio(o.allocator_active(), o.allocator_allocated());
    kv(text, "allocator_frag_ratio", format!("{r:.2}"));
    kv(text, "allocator_frag_bytes", b);
    let (r, b) = ratio(o.allocator_resident(), o.allocator_active());
    kv(text, "allocator_rss_ratio", format!("{r:.2}"));
    kv(text, "allocator_rss_bytes", b);
    let (r, b) = ratio(o.rss, o.allocator_resident());
    kv(text, "rss_overhead_ratio", format!("{r:.2}"));
    kv(text, "rss_overhead_bytes", b);
    kv(text, "mem_fragmentation_ratio", format!("{:.2}", o.total_frag()));
    kv(text, "mem_fragmentation_bytes", o.total_frag_bytes());
    kv(text, "mem_not_counted_for_evict", 0);
    kv(text, "mem_replication_backlog", 0);
    kv(text, "mem_total_replication_buffers", 0);
    kv(text, "mem_clients_slaves", 0);
    kv(text, "mem_clients_normal", o.clients_normal);
    kv(text, "mem_cluster_links", 0);
    kv(text, "mem_aof_buffer", o.aof_buffer);
    kv(text, "mem_allocator", super::memory::ALLOCATOR);
    kv(text, "active_defrag_running", 0);
    // Values are freed where they are deleted, never on a background thread.
    kv(text, "lazyfree_pending_objects", 0);
    kv(text, "lazyfreed_objects", 0);
}

fn stats(s: &Session, t: &Totals, text: &mut String) {
    let shared = &s.core.shared;
    let processed: u64 = t.cmd_stats.iter().map(|c| c.calls).sum();
    let ops: u64 = shared.ops_per_sec.iter().map(|o| o.load(Ordering::Relaxed)).sum();
    let errors: u64 = t.errors.values().sum();
    text.push_str("# Stats\r\n");
    kv(text, "total_connections_received", shared.stats.connections_received.load(Ordering::Relaxed));
    kv(text, "total_commands_processed", processed);
    kv(text, "instantaneous_ops_per_sec", ops);
    kv(text, "total_net_input_bytes", t.net[0]);
    kv(text, "total_net_output_bytes", t.net[1]);
    kv(text, "total_net_repl_input_bytes", 0);
    kv(text, "total_net_repl_output_bytes", 0);
    for k in [
        "instantaneous_input_kbps",
        "instantaneous_output_kbps",
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
    ] {
        kv(text, k, "0.00");
    }
    kv(text, "rejected_connections", shared.stats.rejected_connections.load(Ordering::Relaxed));
    kv(text, "sync_full", 0);
    kv(text, "sync_partial_ok", 0);
    kv(text, "sync_partial_err", 0);
    kv(text, "expired_keys", t.expired);
    kv(text, "expired_stale_perc", "0.00");
    for k in ["expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds"] {
        kv(text, k, 0);
    }
    kv(text, "evicted_keys", t.evicted);
    kv(text, "evicted_clients", 0);
    kv(text, "total_eviction_exceeded_time", t.over_ms[0]);
    kv(text, "current_eviction_exceeded_time", t.over_ms[1]);
    kv(text, "keyspace_hits", t.hits);
    kv(text, "keyspace_misses", t.misses);
    kv(text, "pubsub_channels", t.pubsub[0]);
    kv(text, "pubsub_patterns", t.pubsub[1]);
    kv(text, "pubsubshard_channels", t.pubsub[2]);
    for k in [
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
        "unexpected_error_replies",
    ] {
        kv(text, k, 0);
    }
    kv(text, "total_error_replies", errors);
    kv(text, "dump_payload_sanitizations", 0);
    kv(text, "total_reads_processed", t.net[2]);
    kv(text, "total_writes_processed", t.net[3]);
    for k in
        ["io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks", "reply_buffer_expands"]
    {
        kv(text, k, 0);
    }
}

/// Redis's bytesToHuman: `512B`, `1.50K`, `3.00M`, `1.20G`...
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u32, char); 5] = [(10, 'K'), (20, 'M'), (30, 'G'), (40, 'T'), (50, 'P')];
    if n < 1024 {
        return format!("{n}B");
    }
    for (shift, unit) in UNITS {
        if (n as u128) < 1u128 << (shift + 10) {
            return format!("{:.2}{unit}", n as f64 / (1u64 << shift) as f64);
        }
    }
    format!("{n}B")
}

fn now_usec() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0)
}

/// `sysname release machine`, as Redis's INFO `os` field.
fn os_name() -> String {
    // SAFETY: uname fills a caller-owned, zeroed struct; fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return "Linux".into();
        }
        let f = |s: &[libc::c_char]| std::ffi::CStr::from_ptr(s.as_ptr()).to_string_lossy().into_owned();
        format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
    }
}

fn system_memory() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    pages.max(0) as u64 * page_size()
}

/// (system, user) CPU seconds as `sec.usec`.
fn rusage(who: libc::c_int) -> (String, String) {
    // SAFETY: getrusage fills a caller-owned, zeroed struct.
    let r = unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut r);
        r
    };
    let f = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (f(r.ru_stime), f(r.ru_utime))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_util::b;

    #[test]
    fn human_sizes_like_redis() {
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1039840), "1015.47K");
        assert_eq!(bytes_to_human(6950912), "6.63M");
        assert_eq!(bytes_to_human(25274793984), "23.54G");
        assert_eq!(bytes_to_human(3 << 40), "3.00T");
    }

    #[test]
    fn section_selection() {
        let d = selected(&[]);
        assert_eq!(
            d,
            vec![
                "server",
                "clients",
                "memory",
                "persistence",
                "stats",
                "replication",
                "cpu",
                "modules",
                "errorstats",
                "cluster",
                "keyspace"
            ]
        );
        assert_eq!(selected(&b(&["CPU", "server"])), vec!["server", "cpu"]);
        assert_eq!(selected(&b(&["all"])).len(), SECTIONS.len());
        assert_eq!(selected(&b(&["default", "commandstats"])).len(), d.len() + 1);
        assert!(selected(&b(&["nosuch"])).is_empty());
    }

    #[test]
    fn ops_rate() {
        let mut s = OpsSampler::default();
        assert_eq!(s.sample(1000, 0), 0);
        for i in 1..=16u64 {
            s.sample(1000 + i * 100, i * 100);
        }
        // 100 ops every 100 ms.
        assert_eq!(s.sample(1000 + 17 * 100, 1700), 1000);
    }

    #[test]
    fn keyspace_sums() {
        let a = ShardReport { keyspace: vec![(2, 1, 100), (0, 0, 0)], hits: 1, ..Default::default() };
        let b = ShardReport { keyspace: vec![(3, 1, 300), (1, 0, 0)], hits: 2, ..Default::default() };
        let t = sum(vec![a, b]);
        assert_eq!(t.keyspace, vec![(5, 2, 200), (1, 0, 0)]);
        assert_eq!(t.hits, 3);
    }
}
