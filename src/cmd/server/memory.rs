//! MEMORY USAGE, STATS, DOCTOR, PURGE, MALLOC-STATS and HELP, and the
//! accounting they share with INFO memory: Redis's `getMemoryOverheadData`
//! over every shard (used memory, what of it is overhead, what is data).

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::super::{args, CmdError, CmdResult, Ctx, Session};
use super::reply_help;
use crate::db::Entry;
use crate::resp::Out;
use crate::shard::Core;

/// Redis's `OBJ_COMPUTE_SIZE_DEF_SAMPLES`.
const DEFAULT_SAMPLES: usize = 5;

const HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// A table slot is a tag byte and an 8-byte entry pointer; segments stay at
/// least 72% full, so a key's share of the table is at most 9 / 0.72 bytes.
/// Tiny tables (one 16-slot segment for a few keys) are not charged more.
const MAX_TABLE_SHARE: usize = 13;

/// The allocator's name where Redis names its own (`ZMALLOC_LIB`).
pub const ALLOCATOR: &str = "mimalloc";

/// Bytes the allocator holds for one key: its entry block (header, expiry,
/// key and an inline string or the pointer to a collection), its share of the
/// keyspace table, and a collection's box and contents with `samples` elements
/// sampled. `table_share` is the table's overhead divided by its keys.
pub fn entry_usage(e: &Entry, samples: usize, table_share: usize) -> usize {
    let obj = e
        .obj()
        .map_or(0, |v| crate::alloc::block_bytes(std::mem::size_of::<crate::types::Value>()) + v.mem_usage(samples));
    e.block_bytes() + table_share + obj
}

/// MEMORY USAGE key [SAMPLES count] — O(N) in the samples. Runs on the key's shard.
pub fn cmd_memory_usage(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut i = 3;
    while i < args.len() {
        if args::is(&args[i], "samples") && i + 1 < args.len() {
            let n = args::int(&args[i + 1])?;
            if n < 0 {
                return Err(CmdError::syntax());
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let keys = ctx.db().len();
    let share = ctx.db().table().overhead_bytes().checked_div(keys).unwrap_or(0).min(MAX_TABLE_SHARE);
    match ctx.peek(&args[2]) {
        Some(e) => out.int(entry_usage(e, samples, share) as i64),
        None => out.null(),
    }
    Ok(())
}

/// What one shard adds to the memory report.
#[derive(Debug, Default, Clone)]
pub struct ShardMemory {
    /// Per database: keys and the bytes of its keyspace table.
    pub dbs: Vec<(u64, u64)>,
    /// Query and output buffers of its clients, and the clients.
    pub clients: u64,
    pub nclients: u64,
}

fn shard_memory(core: &Core) -> ShardMemory {
    let st = core.state.borrow();
    let dbs = st.dbs.iter().map(|d| (d.len() as u64, d.table().overhead_bytes() as u64)).collect();
    let registry = core.clients.borrow();
    let per_client = std::mem::size_of::<crate::server::client::ClientInfo>();
    let clients = registry
        .clients
        .values()
        .map(|c| (per_client + c.qbuf.get() + c.qbuf_free.get() + c.push.output_bytes()) as u64)
        .sum();
    ShardMemory { dbs, clients, nclients: registry.clients.len() as u64 }
}

/// Redis's `redisMemOverhead`: the whole server's memory, split.
#[derive(Debug, Default, Clone)]
pub struct Overhead {
    pub used: u64,
    pub peak: u64,
    pub startup: u64,
    pub rss: u64,
    pub clients_normal: u64,
    pub nclients: u64,
    pub aof_buffer: u64,
    pub functions_caches: u64,
    pub number_of_functions: u64,
    pub number_of_libraries: u64,
    /// Databases that hold keys: (index, table bytes).
    pub dbs: Vec<(usize, u64)>,
    pub total_keys: u64,
    pub overhead_total: u64,
    pub dataset: u64,
    pub allocator: crate::alloc::AllocatorStats,
}

impl Overhead {
    /// Used memory net of the startup memory (at least 1, as Redis's `net_usage`).
    fn net(&self) -> u64 {
        self.used.saturating_sub(self.startup).max(1)
    }

    pub fn dataset_perc(&self) -> f32 {
        self.dataset as f32 * 100.0 / self.net() as f32
    }

    pub fn peak_perc(&self) -> f32 {
        self.used as f32 * 100.0 / self.peak.max(1) as f32
    }

    pub fn bytes_per_key(&self) -> u64 {
        self.net().checked_div(self.total_keys).unwrap_or(0)
    }

    /// What the allocator holds (Redis's `allocator_allocated`): the counted
    /// bytes, which are mimalloc's usable sizes.
    pub fn allocator_allocated(&self) -> u64 {
        self.used
    }

    /// Pages mimalloc keeps committed (its live blocks and free space).
    pub fn allocator_active(&self) -> u64 {
        (self.allocator.committed as u64).max(self.used)
    }

    /// What of the process's RSS mimalloc accounts for: its committed pages,
    /// no more than the RSS itself.
    pub fn allocator_resident(&self) -> u64 {
        self.allocator_active().min(self.rss.max(1))
    }

    /// mem_fragmentation_ratio: RSS over used memory.
    pub fn total_frag(&self) -> f32 {
        self.rss as f32 / self.used.max(1) as f32
    }

    pub fn total_frag_bytes(&self) -> i64 {
        self.rss as i64 - self.used as i64
    }
}

/// Ratio and difference of two byte counts, as Redis prints its allocator ratios.
pub fn ratio(a: u64, b: u64) -> (f32, i64) {
    (a as f32 / b.max(1) as f32, a as i64 - b as i64)
}

/// Updates and returns the peak of used memory, as Redis's `updatePeakMemory`
/// does whenever it reads used memory.
pub fn update_peak(core: &Core, used: u64) -> u64 {
    core.shared.peak_memory.fetch_max(used, Ordering::Relaxed).max(used)
}

/// Gathers the memory report from every shard.
pub async fn overhead(core: &Core) -> Overhead {
    let shards = core.call_all(shard_memory).await;
    let used = crate::alloc::used_memory() as u64;
    let peak = update_peak(core, used);
    let startup = core.shared.startup_memory.load(Ordering::Relaxed);
    let mut o = Overhead {
        used,
        peak,
        startup,
        rss: rss_bytes(),
        allocator: crate::alloc::allocator_stats(),
        ..Overhead::default()
    };
    let mut dbs: Vec<(u64, u64)> = Vec::new();
    for s in shards {
        o.clients_normal += s.clients;
        o.nclients += s.nclients;
        if dbs.len() < s.dbs.len() {
            dbs.resize(s.dbs.len(), (0, 0));
        }
        for (acc, (keys, bytes)) in dbs.iter_mut().zip(s.dbs) {
            acc.0 += keys;
            acc.1 += bytes;
        }
    }
    let aof = &core.shared.persist.aof;
    if aof.enabled.load(Ordering::Relaxed) {
        o.aof_buffer = aof
            .shards
            .iter()
            .map(|p| p.logged.load(Ordering::Relaxed).saturating_sub(p.synced.load(Ordering::Relaxed)))
            .sum();
    }
    let libs = core.shared.scripts.libraries();
    o.number_of_libraries = libs.libs.len() as u64;
    o.number_of_functions = libs.functions.len() as u64;
    o.functions_caches = libs
        .libs
        .values()
        .map(|l| (l.name.len() + l.code.len() + l.functions.iter().map(|f| f.name.len()).sum::<usize>()) as u64)
        .sum();
    let mut total = startup + o.clients_normal + o.aof_buffer + o.functions_caches;
    for (i, (keys, bytes)) in dbs.into_iter().enumerate() {
        if keys == 0 {
            continue;
        }
        o.total_keys += keys;
        o.dbs.push((i, bytes));
        total += bytes;
    }
    o.overhead_total = total;
    o.dataset = used.saturating_sub(total);
    o
}

/// MEMORY STATS — O(shards + databases).
pub async fn cmd_memory_stats(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = overhead(&s.core).await;
    out.map(27 + o.dbs.len());
    let int = |out: &mut Out, k: &str, v: i64| {
        out.bulk(k.as_bytes());
        out.int(v);
    };
    int(out, "peak.allocated", o.peak as i64);
    int(out, "total.allocated", o.used as i64);
    int(out, "startup.allocated", o.startup as i64);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", o.clients_normal as i64);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", o.aof_buffer as i64);
    int(out, "lua.caches", 0);
    int(out, "functions.caches", o.functions_caches as i64);
    for (i, bytes) in &o.dbs {
        out.bulk(format!("db.{i}").as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", *bytes as i64);
        // Expiry times live in the entries: there is no second table.
        int(out, "overhead.hashtable.expires", 0);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", o.overhead_total as i64);
    int(out, "keys.count", o.total_keys as i64);
    int(out, "keys.bytes-per-key", o.bytes_per_key() as i64);
    int(out, "dataset.bytes", o.dataset as i64);
    let double = |out: &mut Out, k: &str, v: f32| {
        out.bulk(k.as_bytes());
        out.double(v as f64);
    };
    double(out, "dataset.percentage", o.dataset_perc());
    double(out, "peak.percentage", o.peak_perc());
    int(out, "allocator.allocated", o.allocator_allocated() as i64);
    int(out, "allocator.active", o.allocator_active() as i64);
    int(out, "allocator.resident", o.allocator_resident() as i64);
    let (r, b) = ratio(o.allocator_active(), o.allocator_allocated());
    double(out, "allocator-fragmentation.ratio", r);
    int(out, "allocator-fragmentation.bytes", b);
    let (r, b) = ratio(o.allocator_resident(), o.allocator_active());
    double(out, "allocator-rss.ratio", r);
    int(out, "allocator-rss.bytes", b);
    let (r, b) = ratio(o.rss, o.allocator_resident());
    double(out, "rss-overhead.ratio", r);
    int(out, "rss-overhead.bytes", b);
    double(out, "fragmentation", o.total_frag());
    int(out, "fragmentation.bytes", o.total_frag_bytes());
    Ok(())
}

/// Redis's `getMemoryDoctorReport` on this server's figures.
pub fn doctor_report(o: &Overhead) -> String {
    let mut reports = 0;
    let empty = o.used < 5 * 1024 * 1024;
    let (mut big_peak, mut high_frag, mut high_alloc_frag, mut high_alloc_rss, mut high_proc_rss, mut big_client_buf) =
        (false, false, false, false, false, false);
    if empty {
        reports += 1;
    } else {
        let over = |(r, b): (f32, i64), limit: f32| r > limit && b > 10 << 20;
        big_peak = o.peak as f32 / o.used.max(1) as f32 > 1.5;
        high_frag = over((o.total_frag(), o.total_frag_bytes()), 1.4);
        high_alloc_frag = over(ratio(o.allocator_active(), o.allocator_allocated()), 1.1);
        high_alloc_rss = over(ratio(o.allocator_resident(), o.allocator_active()), 1.1);
        high_proc_rss = over(ratio(o.rss, o.allocator_resident()), 1.1);
        big_client_buf = o.clients_normal.checked_div(o.nclients).unwrap_or(0) > 200 * 1024;
        reports += [big_peak, high_frag, high_alloc_frag, high_alloc_rss, high_proc_rss, big_client_buf]
            .iter()
            .filter(|b| **b)
            .count();
    }
    if reports == 0 {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".into();
    }
    if empty {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".into();
    }
    let mut s = String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    if big_peak {
        s.push_str(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
    }
    if high_frag {
        s.push_str(&format!(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"{ALLOCATOR}\".\n\n"));
    }
    if high_alloc_frag {
        s.push_str(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
    }
    if high_alloc_rss {
        s.push_str(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
    }
    if high_proc_rss {
        s.push_str(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
    }
    if big_client_buf {
        s.push_str(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

/// MEMORY DOCTOR — O(shards + databases).
pub async fn cmd_memory_doctor(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    let o = overhead(&s.core).await;
    out.verbatim(doctor_report(&o).as_bytes());
    Ok(())
}

/// MEMORY PURGE — O(free pages). Every shard hands the free pages of its
/// own mimalloc heap back to the OS.
pub async fn cmd_memory_purge(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    s.core.call_all(|_| crate::alloc::purge_thread()).await;
    out.ok();
    Ok(())
}

/// MEMORY MALLOC-STATS — mimalloc's statistics report.
pub fn cmd_memory_malloc_stats(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    out.verbatim(crate::alloc::allocator_report().as_bytes());
    Ok(())
}

/// MEMORY HELP.
pub fn cmd_memory_help(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    reply_help(out, "MEMORY", HELP);
    Ok(())
}

/// Resident set size from /proc/self/statm.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * page_size()
}

pub fn page_size() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::StrEncoding;
    use crate::types::{Hash, Limits, Value};

    #[test]
    fn entry_usage_counts_block_table_share_and_value() {
        let slot = crate::db::slab::block_size;
        // 4 header + 1 key length + 3 key + 1 value length + 3 value = 12 bytes
        // in the slab's class for 12.
        let e = Entry::new_string(b"foo", b"bar", StrEncoding::Embstr, None);
        assert_eq!(entry_usage(&e, 5, 0), slot(12));
        assert_eq!(entry_usage(&e, 5, 13), slot(12) + 13);
        // An expiry adds its 8 bytes to the block.
        let e = Entry::new_string(b"foo", b"bar", StrEncoding::Embstr, Some(1));
        assert_eq!(entry_usage(&e, 5, 0), slot(20));
        // Past the slab's largest class the block is mimalloc's.
        let big = vec![b'x'; 1000];
        let e = Entry::new_string(b"k", &big, StrEncoding::Raw, None);
        assert_eq!(entry_usage(&e, 5, 0), crate::alloc::block_bytes(4 + 1 + 1 + 2 + 1000));
        // A collection: the block with its pointer, the box and the contents.
        let mut h = Hash::new();
        h.insert(b"f", b"v", &Limits::default());
        let contents = h.mem_usage(5);
        let e = Entry::new_obj(b"h", Value::Hash(h), None);
        let boxed = crate::alloc::block_bytes(std::mem::size_of::<Value>());
        // 4 header + 1 + 1 key + 1 + 8 pointer = 15.
        assert_eq!(entry_usage(&e, 5, 0), slot(15) + boxed + contents);
    }

    fn report(used: u64, peak: u64, rss: u64) -> Overhead {
        Overhead {
            used,
            peak,
            startup: 500_000,
            rss,
            nclients: 1,
            allocator: crate::alloc::AllocatorStats { committed: used as usize, peak_committed: peak as usize },
            ..Overhead::default()
        }
    }

    #[test]
    fn doctor_texts() {
        assert!(doctor_report(&report(1 << 20, 1 << 20, 4 << 20)).starts_with("Hi Sam, this instance is empty"));
        assert_eq!(
            doctor_report(&report(100 << 20, 110 << 20, 105 << 20)),
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
        );
        let r = doctor_report(&report(100 << 20, 200 << 20, 180 << 20));
        assert!(
            r.starts_with("Sam, I detected a few issues in this Redis instance memory implants:\n\n * Peak memory:")
        );
        assert!(r.contains(" * High total RSS:") && r.contains("\"mimalloc\""));
        assert!(r.ends_with("I'm here to keep you safe, Sam. I want to help you.\n"));
        let mut big_clients = report(100 << 20, 100 << 20, 100 << 20);
        big_clients.clients_normal = 300 * 1024;
        assert!(doctor_report(&big_clients).contains(" * Big client buffers:"));
    }

    #[test]
    fn overhead_ratios() {
        let o = report(100, 200, 150);
        assert_eq!(o.peak_perc(), 50.0);
        assert_eq!(o.total_frag(), 1.5);
        assert_eq!(o.total_frag_bytes(), 50);
        assert_eq!(ratio(10, 0), (10.0, 10));
        assert_eq!(Overhead { used: 1000, startup: 200, total_keys: 4, ..Overhead::default() }.bytes_per_key(), 200);
    }
}
