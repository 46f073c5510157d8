//! redis.conf-style configuration: the directive table, file parsing,
//! `--directive value` overrides, and CONFIG GET/SET/REWRITE support.

use crate::error::StartError;

/// Log verbosity, with Redis's level names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

impl LogLevel {
    pub const NAMES: [&'static str; 5] = ["debug", "verbose", "notice", "warning", "nothing"];

    fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.to_ascii_lowercase().as_str() {
            "debug" => LogLevel::Debug,
            "verbose" => LogLevel::Verbose,
            "notice" => LogLevel::Notice,
            "warning" => LogLevel::Warning,
            "nothing" => LogLevel::Nothing,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The server configuration. Each shard keeps its own copy; CONFIG SET updates
/// every copy through the cross-shard calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    /// 0 = one shard per CPU the process may use.
    pub shards: usize,
    /// Empty = every CPU the process may use.
    pub cpus: Vec<usize>,
    /// Keep the shards on this NUMA node's CPUs; `None` (`-1`) = no constraint.
    pub numa_node: Option<usize>,
    pub spin_before_park_us: u64,
    pub databases: usize,
    pub requirepass: String,
    pub maxclients: u64,
    pub timeout: u64,
    /// `busy-reply-threshold` (alias `lua-time-limit`): ms before a running script makes others get BUSY.
    pub busy_reply_threshold: u64,
    pub tcp_keepalive: u64,
    pub tcp_backlog: i32,
    pub loglevel: LogLevel,
    pub logfile: String,
    pub dir: String,
    pub dbfilename: String,
    pub appendonly: bool,
    pub appendfsync: Fsync,
    pub appenddirname: String,
    pub appendfilename: String,
    pub aof_load_truncated: bool,
    pub auto_aof_rewrite_percentage: u64,
    pub auto_aof_rewrite_min_size: u64,
    /// `save` schedule: (seconds, changes) pairs.
    pub save: Vec<(u64, u64)>,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: u64,
    /// `client-output-buffer-limit` per class: normal, replica (`slave`), pubsub.
    pub client_output_buffer_limit: [ObufLimit; 3],
    /// When collections switch from their packed to their indexed encoding.
    pub limits: crate::types::Limits,
    /// The file this configuration was read from, for CONFIG REWRITE.
    pub config_file: Option<String>,
    /// `notify-keyspace-events`: the enabled classes (`crate::shard::signal::class`).
    pub notify_keyspace_events: u32,
    /// `tracking-table-max-keys`: keys remembered for client-side caching (0: no limit).
    pub tracking_table_max_keys: u64,
    /// `maxmemory`: bytes of used memory before keys are evicted (0: no limit).
    pub maxmemory: u64,
    pub maxmemory_policy: crate::db::evict::Policy,
    /// `maxmemory-samples`: keys sampled per eviction.
    pub maxmemory_samples: u32,
    /// `maxmemory-eviction-tenacity`: how long one command may keep evicting (0-100).
    pub maxmemory_eviction_tenacity: u32,
    /// `lfu-log-factor`: how slowly the LFU counter saturates.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`: minutes after which an idle key's LFU counter drops by one (0: never).
    pub lfu_decay_time: u32,
    /// `hll-sparse-max-bytes`: a sparse HyperLogLog longer than this becomes dense.
    pub hll_sparse_max_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            shards: 0,
            cpus: Vec::new(),
            numa_node: None,
            spin_before_park_us: 0,
            databases: 16,
            requirepass: String::new(),
            maxclients: 10000,
            timeout: 0,
            busy_reply_threshold: 5000,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            appendonly: false,
            appendfsync: Fsync::EverySec,
            appenddirname: "appendonlydir".into(),
            appendfilename: "appendonly.aof".into(),
            aof_load_truncated: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * 1024 * 1024,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            client_output_buffer_limit: [
                ObufLimit { hard: 0, soft: 0, soft_secs: 0 },
                ObufLimit { hard: 256 << 20, soft: 64 << 20, soft_secs: 60 },
                ObufLimit { hard: 32 << 20, soft: 8 << 20, soft_secs: 60 },
            ],
            limits: crate::types::Limits::default(),
            config_file: None,
            notify_keyspace_events: 0,
            tracking_table_max_keys: 1_000_000,
            maxmemory: 0,
            maxmemory_policy: crate::db::evict::Policy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            hll_sparse_max_bytes: 3000,
        }
    }
}

/// One client class's `client-output-buffer-limit`: the hard limit in bytes,
/// and the soft limit in bytes with the seconds it may last (0 = no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ObufLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_secs: u64,
}

/// The class names of `client-output-buffer-limit`, in `Config::client_output_buffer_limit` order.
const OBUF_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Redis's updateClientOutputBufferLimit: `<class> <hard> <soft> <soft seconds>`
/// groups, all checked before any applies.
fn set_obuf_limits(c: &mut Config, args: &[String]) -> Result<(), String> {
    let words: Vec<&str> = args.iter().flat_map(|s| s.split_whitespace()).collect();
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = c.client_output_buffer_limit;
    for w in words.chunks(4) {
        let class = match w[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string();
        let mem = |s: &str| parse_memory(s).filter(|n| *n >= 0 && !s.starts_with('-')).ok_or_else(bad);
        let secs: i64 = w[3].parse().map_err(|_| bad())?;
        if secs < 0 {
            return Err(bad());
        }
        limits[class] = ObufLimit { hard: mem(w[1])? as u64, soft: mem(w[2])? as u64, soft_secs: secs as u64 };
    }
    c.client_output_buffer_limit = limits;
    Ok(())
}

/// One configuration directive: its name, whether CONFIG SET may change it while
/// running, and how to read and write it.
pub struct Directive {
    pub name: &'static str,
    pub mutable: bool,
    get: fn(&Config) -> String,
    set: fn(&mut Config, &[String]) -> Result<(), String>,
}

/// Parses Redis memory amounts: `1gb`, `512mb`, `100k`, plain bytes.
pub fn parse_memory(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1i64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suf, mul)| l.strip_suffix(suf).map(|n| (n, *mul)))
    .unwrap_or((&l, 1));
    let n: i64 = num.parse().ok()?;
    n.checked_mul(mul)
}

/// `appendfsync`: when the append-only file is synced to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// After every batch of writes, before their replies leave (group commit).
    Always,
    /// Once a second.
    EverySec,
    /// When the kernel decides.
    No,
}

impl Fsync {
    pub fn name(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }
}

/// A file or directory name without a path (Redis's `isValidAOFfilename`).
fn plain_file_name(v: &str, what: &str) -> Result<String, String> {
    if v.is_empty() || v.contains('/') || v == "." || v == ".." {
        return Err(format!("{what} can't be a path, just a filename"));
    }
    Ok(v.to_string())
}

fn one(args: &[String]) -> Result<&str, String> {
    match args {
        [v] => Ok(v),
        _ => Err("wrong number of arguments".into()),
    }
}

fn yes_no(args: &[String]) -> Result<bool, String> {
    match one(args)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// A plain integer directive (Redis's string2ll: no units, no spaces, no '+').
fn int_in(args: &[String], min: i64, max: i64) -> Result<i64, String> {
    let v = one(args)?;
    let n = crate::resp::parse::parse_i64(v.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    bounded(n, min, max)
}

/// A memory-amount directive: bytes with an optional unit (`1mb`, `512k`).
fn mem_in(args: &[String], min: i64, max: i64) -> Result<i64, String> {
    let v = one(args)?;
    let n = parse_memory(v).filter(|n| *n >= 0).ok_or_else(|| "argument must be a memory value".to_string())?;
    bounded(n, min, max)
}

fn bounded(n: i64, min: i64, max: i64) -> Result<i64, String> {
    if n < min || n > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(n)
}

/// Parses a CPU list such as `0-3,8`.
pub fn parse_cpu_list(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("invalid CPU list '{s}': expected numbers and ranges like 0-3,8");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    if out.is_empty() {
        return Err(format!("invalid CPU list '{s}': it names no CPU"));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A CPU list in the kernel's compact form: `0-3,8`.
pub fn cpu_ranges(cpus: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        out.push(if j > i { format!("{}-{}", cpus[i], cpus[j]) } else { cpus[i].to_string() });
        i = j + 1;
    }
    out.join(",")
}

fn fmt_cpus(c: &[usize]) -> String {
    c.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")
}

/// Every directive Tessera understands.
pub static DIRECTIVES: &[Directive] = &[
    Directive {
        name: "port",
        mutable: false,
        get: |c| c.port.to_string(),
        set: |c, a| {
            c.port = int_in(a, 0, 65535)? as u16;
            Ok(())
        },
    },
    Directive {
        name: "bind",
        mutable: false,
        get: |c| c.bind.join(" "),
        set: |c, a| {
            if a.is_empty() {
                return Err("wrong number of arguments".into());
            }
            let list: Vec<String> =
                a.iter().flat_map(|s| s.split_whitespace()).map(|s| s.trim_start_matches('-').to_string()).collect();
            for addr in &list {
                if addr != "*" && addr.parse::<std::net::IpAddr>().is_err() {
                    return Err(format!("invalid bind address '{addr}'"));
                }
            }
            c.bind = list;
            Ok(())
        },
    },
    Directive {
        name: "shards",
        mutable: false,
        get: |c| c.shards.to_string(),
        set: |c, a| {
            c.shards = int_in(a, 0, 1024)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "cpus",
        mutable: false,
        get: |c| fmt_cpus(&c.cpus),
        set: |c, a| {
            c.cpus = parse_cpu_list(one(a)?)?;
            Ok(())
        },
    },
    Directive {
        name: "numa-node",
        mutable: false,
        get: |c| c.numa_node.map_or(-1, |n| n as i64).to_string(),
        set: |c, a| {
            let n = int_in(a, -1, 4095)?;
            c.numa_node = usize::try_from(n).ok();
            Ok(())
        },
    },
    Directive {
        name: "spin-before-park-us",
        mutable: false,
        get: |c| c.spin_before_park_us.to_string(),
        set: |c, a| {
            c.spin_before_park_us = int_in(a, 0, 1_000_000)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "notify-keyspace-events",
        mutable: true,
        get: |c| crate::shard::signal::flags_to_string(c.notify_keyspace_events),
        set: |c, a| {
            c.notify_keyspace_events = crate::shard::signal::flags_from_str(one(a)?.as_bytes())
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?;
            Ok(())
        },
    },
    Directive {
        name: "tracking-table-max-keys",
        mutable: true,
        get: |c| c.tracking_table_max_keys.to_string(),
        set: |c, a| {
            c.tracking_table_max_keys = int_in(a, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory",
        mutable: true,
        get: |c| c.maxmemory.to_string(),
        set: |c, a| {
            c.maxmemory = mem_in(a, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory-policy",
        mutable: true,
        get: |c| c.maxmemory_policy.name().to_string(),
        set: |c, a| {
            use crate::db::evict::Policy;
            c.maxmemory_policy = Policy::parse(one(a)?).ok_or_else(|| {
                let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
                format!("argument(s) must be one of the following: {}", names.join(", "))
            })?;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory-samples",
        mutable: true,
        get: |c| c.maxmemory_samples.to_string(),
        set: |c, a| {
            c.maxmemory_samples = int_in(a, 1, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Directive {
        name: "maxmemory-eviction-tenacity",
        mutable: true,
        get: |c| c.maxmemory_eviction_tenacity.to_string(),
        set: |c, a| {
            c.maxmemory_eviction_tenacity = int_in(a, 0, 100)? as u32;
            Ok(())
        },
    },
    Directive {
        name: "lfu-log-factor",
        mutable: true,
        get: |c| c.lfu_log_factor.to_string(),
        set: |c, a| {
            c.lfu_log_factor = int_in(a, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Directive {
        name: "lfu-decay-time",
        mutable: true,
        get: |c| c.lfu_decay_time.to_string(),
        set: |c, a| {
            c.lfu_decay_time = int_in(a, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Directive {
        name: "hll-sparse-max-bytes",
        mutable: true,
        get: |c| c.hll_sparse_max_bytes.to_string(),
        set: |c, a| {
            c.hll_sparse_max_bytes = mem_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "databases",
        mutable: false,
        get: |c| c.databases.to_string(),
        set: |c, a| {
            c.databases = int_in(a, 1, i32::MAX as i64)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "requirepass",
        mutable: true,
        get: |c| c.requirepass.clone(),
        set: |c, a| {
            c.requirepass = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "maxclients",
        mutable: true,
        get: |c| c.maxclients.to_string(),
        set: |c, a| {
            c.maxclients = int_in(a, 1, u32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "timeout",
        mutable: true,
        get: |c| c.timeout.to_string(),
        set: |c, a| {
            c.timeout = int_in(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "busy-reply-threshold",
        mutable: true,
        get: |c| c.busy_reply_threshold.to_string(),
        set: |c, a| {
            c.busy_reply_threshold = int_in(a, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "tcp-keepalive",
        mutable: true,
        get: |c| c.tcp_keepalive.to_string(),
        set: |c, a| {
            c.tcp_keepalive = int_in(a, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "tcp-backlog",
        mutable: false,
        get: |c| c.tcp_backlog.to_string(),
        set: |c, a| {
            c.tcp_backlog = int_in(a, 0, i32::MAX as i64)? as i32;
            Ok(())
        },
    },
    Directive {
        name: "loglevel",
        mutable: true,
        get: |c| c.loglevel.name().to_string(),
        set: |c, a| {
            // Redis 7.0's text; `nothing` (Redis 7.2) is accepted as an extension.
            c.loglevel = LogLevel::parse(one(a)?).ok_or_else(|| {
                "argument(s) must be one of the following: debug, verbose, notice, warning".to_string()
            })?;
            Ok(())
        },
    },
    Directive {
        name: "logfile",
        mutable: false,
        get: |c| c.logfile.clone(),
        set: |c, a| {
            c.logfile = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "dir",
        mutable: true,
        get: |c| c.dir.clone(),
        set: |c, a| {
            c.dir = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "dbfilename",
        mutable: true,
        get: |c| c.dbfilename.clone(),
        set: |c, a| {
            c.dbfilename = one(a)?.to_string();
            Ok(())
        },
    },
    Directive {
        name: "appendonly",
        mutable: true,
        get: |c| if c.appendonly { "yes".into() } else { "no".into() },
        set: |c, a| {
            c.appendonly = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "appendfsync",
        mutable: true,
        get: |c| c.appendfsync.name().into(),
        set: |c, a| {
            c.appendfsync = match one(a)?.to_ascii_lowercase().as_str() {
                "always" => Fsync::Always,
                "everysec" => Fsync::EverySec,
                "no" => Fsync::No,
                _ => return Err("argument(s) must be one of the following: always, everysec, no".into()),
            };
            Ok(())
        },
    },
    Directive {
        name: "appenddirname",
        mutable: false,
        get: |c| c.appenddirname.clone(),
        set: |c, a| {
            c.appenddirname = plain_file_name(one(a)?, "appenddirname")?;
            Ok(())
        },
    },
    Directive {
        name: "appendfilename",
        mutable: false,
        get: |c| c.appendfilename.clone(),
        set: |c, a| {
            c.appendfilename = plain_file_name(one(a)?, "appendfilename")?;
            Ok(())
        },
    },
    Directive {
        name: "aof-load-truncated",
        mutable: true,
        get: |c| if c.aof_load_truncated { "yes".into() } else { "no".into() },
        set: |c, a| {
            c.aof_load_truncated = yes_no(a)?;
            Ok(())
        },
    },
    Directive {
        name: "auto-aof-rewrite-percentage",
        mutable: true,
        get: |c| c.auto_aof_rewrite_percentage.to_string(),
        set: |c, a| {
            c.auto_aof_rewrite_percentage = int_in(a, 0, i64::from(i32::MAX))? as u64;
            Ok(())
        },
    },
    Directive {
        name: "auto-aof-rewrite-min-size",
        mutable: true,
        get: |c| c.auto_aof_rewrite_min_size.to_string(),
        set: |c, a| {
            c.auto_aof_rewrite_min_size = mem_in(a, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "save",
        mutable: true,
        get: |c| c.save.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(" "),
        set: |c, a| {
            let words: Vec<&str> = a.iter().flat_map(|s| s.split_whitespace()).collect();
            if words.is_empty() || (words.len() == 1 && words[0].is_empty()) {
                c.save.clear();
                return Ok(());
            }
            if !words.len().is_multiple_of(2) {
                return Err("Invalid save parameters".into());
            }
            let mut save = Vec::new();
            for pair in words.chunks(2) {
                let (Ok(s), Ok(n)) = (pair[0].parse::<u64>(), pair[1].parse::<u64>()) else {
                    return Err("Invalid save parameters".into());
                };
                save.push((s, n));
            }
            c.save = save;
            Ok(())
        },
    },
    Directive {
        name: "proto-max-bulk-len",
        mutable: true,
        get: |c| c.proto_max_bulk_len.to_string(),
        set: |c, a| {
            c.proto_max_bulk_len = mem_in(a, 1024 * 1024, i64::MAX)?;
            Ok(())
        },
    },
    Directive {
        name: "client-query-buffer-limit",
        mutable: true,
        get: |c| c.client_query_buffer_limit.to_string(),
        set: |c, a| {
            c.client_query_buffer_limit = mem_in(a, 1024 * 1024, i64::MAX)? as u64;
            Ok(())
        },
    },
    Directive {
        name: "client-output-buffer-limit",
        mutable: true,
        get: |c| {
            let l = &c.client_output_buffer_limit;
            let parts = OBUF_CLASSES.iter().zip(l).map(|(n, l)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_secs));
            parts.collect::<Vec<_>>().join(" ")
        },
        set: set_obuf_limits,
    },
    Directive {
        name: "list-max-listpack-size",
        mutable: true,
        get: |c| c.limits.list_max_listpack_size.to_string(),
        set: |c, a| {
            c.limits.list_max_listpack_size = int_in(a, i32::MIN as i64, i32::MAX as i64)?;
            Ok(())
        },
    },
    Directive {
        name: "hash-max-listpack-entries",
        mutable: true,
        get: |c| c.limits.hash_max_listpack_entries.to_string(),
        set: |c, a| {
            c.limits.hash_max_listpack_entries = int_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "hash-max-listpack-value",
        mutable: true,
        get: |c| c.limits.hash_max_listpack_value.to_string(),
        set: |c, a| {
            c.limits.hash_max_listpack_value = int_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "set-max-intset-entries",
        mutable: true,
        get: |c| c.limits.set_max_intset_entries.to_string(),
        set: |c, a| {
            c.limits.set_max_intset_entries = int_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "set-max-listpack-entries",
        mutable: true,
        get: |c| c.limits.set_max_listpack_entries.to_string(),
        set: |c, a| {
            c.limits.set_max_listpack_entries = int_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "set-max-listpack-value",
        mutable: true,
        get: |c| c.limits.set_max_listpack_value.to_string(),
        set: |c, a| {
            c.limits.set_max_listpack_value = int_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "zset-max-listpack-entries",
        mutable: true,
        get: |c| c.limits.zset_max_listpack_entries.to_string(),
        set: |c, a| {
            c.limits.zset_max_listpack_entries = int_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "zset-max-listpack-value",
        mutable: true,
        get: |c| c.limits.zset_max_listpack_value.to_string(),
        set: |c, a| {
            c.limits.zset_max_listpack_value = int_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "stream-node-max-bytes",
        mutable: true,
        get: |c| c.limits.stream_node_max_bytes.to_string(),
        set: |c, a| {
            c.limits.stream_node_max_bytes = mem_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Directive {
        name: "stream-node-max-entries",
        mutable: true,
        get: |c| c.limits.stream_node_max_entries.to_string(),
        set: |c, a| {
            c.limits.stream_node_max_entries = int_in(a, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
];

/// Older names Redis still accepts for a directive (`*-ziplist-*` from before 7.0).
pub static ALIASES: &[(&str, &str)] = &[
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
    ("lua-time-limit", "busy-reply-threshold"),
];

pub fn directive(name: &str) -> Option<&'static Directive> {
    let name = ALIASES.iter().find(|(old, _)| old.eq_ignore_ascii_case(name)).map_or(name, |(_, new)| *new);
    DIRECTIVES.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

impl Directive {
    pub fn get(&self, c: &Config) -> String {
        (self.get)(c)
    }

    pub fn set(&self, c: &mut Config, args: &[String]) -> Result<(), String> {
        (self.set)(c, args)
    }
}

impl Config {
    /// Applies one `name value...` line; `Err` carries Redis-style reason text.
    pub fn apply(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let d = directive(name).ok_or_else(|| format!("Bad directive or wrong number of arguments for '{name}'"))?;
        d.set(self, args).map_err(|e| format!("'{name}' {e}"))
    }

    /// Reads a redis.conf-style file, applying its lines in order.
    pub fn load_file(&mut self, path: &str) -> Result<(), StartError> {
        let text = std::fs::read_to_string(path).map_err(|e| StartError::Config {
            file: path.into(),
            line: 0,
            msg: format!("cannot read the configuration file: {e}"),
        })?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = crate::resp::parse::split_args(line.as_bytes()).ok_or_else(|| StartError::Config {
                file: path.into(),
                line: i + 1,
                msg: "unbalanced quotes in configuration line".into(),
            })?;
            let words: Vec<String> = words.iter().map(|w| String::from_utf8_lossy(w).into_owned()).collect();
            let Some((name, args)) = words.split_first() else { continue };
            self.apply(name, args).map_err(|msg| StartError::Config { file: path.into(), line: i + 1, msg })?;
        }
        self.config_file = Some(path.to_string());
        Ok(())
    }

    /// Parses `[config-file] [--directive value ...]` as redis-server does.
    pub fn from_args(args: &[String]) -> Result<Config, StartError> {
        let mut c = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first() {
            if !first.starts_with("--") {
                c.load_file(first)?;
                rest = &rest[1..];
            }
        }
        let mut i = 0;
        while i < rest.len() {
            let Some(name) = rest[i].strip_prefix("--") else {
                return Err(StartError::Usage(format!(
                    "unexpected argument '{}': directives are given as --name value",
                    rest[i]
                )));
            };
            let mut vals = Vec::new();
            i += 1;
            while i < rest.len() && !rest[i].starts_with("--") {
                vals.push(rest[i].clone());
                i += 1;
            }
            c.apply(name, &vals).map_err(|msg| StartError::Config { file: "command line".into(), line: 0, msg })?;
        }
        Ok(c)
    }

    /// Rewrites the configuration file in place: existing directive lines are
    /// updated, comments and unknown lines kept, missing directives that differ
    /// from the defaults appended.
    pub fn rewrite(&self) -> Result<(), String> {
        let path = self.config_file.as_ref().ok_or("The server is running without a config file")?;
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let defaults = Config::default();
        let mut written = std::collections::HashSet::new();
        let mut out = String::new();
        for line in text.lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            match directive(name) {
                Some(d) if !line.trim_start().starts_with('#') => {
                    if written.insert(d.name) {
                        out.push_str(&format!("{} {}\n", d.name, quote(&d.get(self))));
                    }
                }
                _ => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        for d in DIRECTIVES {
            if !written.contains(d.name) && d.get(self) != d.get(&defaults) {
                out.push_str(&format!("{} {}\n", d.name, quote(&d.get(self))));
            }
        }
        std::fs::write(path, out).map_err(|e| format!("Rewriting config file: {e}"))
    }
}

fn quote(v: &str) -> String {
    if v.is_empty() || v.contains(char::is_whitespace) && !v.contains(' ') {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ranges_compact() {
        assert_eq!(cpu_ranges(&[0, 1, 2, 3, 8, 10, 11]), "0-3,8,10-11");
        assert_eq!(cpu_ranges(&[5]), "5");
        assert_eq!(cpu_ranges(&[]), "");
    }

    #[test]
    fn file_and_overrides() {
        let dir = std::env::temp_dir().join(format!("tessera-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("t.conf");
        std::fs::write(&f, "# c\nport 7000\nsave 900 1 300 10\nproto-max-bulk-len 2mb\n").unwrap();
        let c = Config::from_args(&[
            f.to_string_lossy().into(),
            "--port".into(),
            "7001".into(),
            "--cpus".into(),
            "0-2,5".into(),
        ])
        .unwrap();
        assert_eq!(c.port, 7001);
        assert_eq!(c.save, vec![(900, 1), (300, 10)]);
        assert_eq!(c.proto_max_bulk_len, 2 << 20);
        assert_eq!(c.cpus, vec![0, 1, 2, 5]);
        assert_eq!(c.numa_node, None);
        std::fs::write(&f, "port 1\nbogus 3\n").unwrap();
        let e = Config::from_args(&[f.to_string_lossy().into()]).unwrap_err().to_string();
        assert!(e.ends_with(":2: Bad directive or wrong number of arguments for 'bogus'"), "{e}");
    }

    #[test]
    fn values() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("10k"), Some(10_000));
        assert!(parse_cpu_list("3-1").is_err());
        let mut c = Config::default();
        assert!(c.apply("appendonly", &["maybe".into()]).is_err());
        c.apply("save", &["".into()]).unwrap();
        assert!(c.save.is_empty());
        c.apply("numa-node", &["1".into()]).unwrap();
        assert_eq!((c.numa_node, directive("numa-node").unwrap().get(&c)), (Some(1), "1".into()));
        c.apply("numa-node", &["-1".into()]).unwrap();
        assert_eq!((c.numa_node, directive("numa-node").unwrap().get(&c)), (None, "-1".into()));
        assert!(c.apply("numa-node", &["-2".into()]).is_err());
        assert!(c.apply("numa-node", &["x".into()]).is_err());
    }
}
