//! Loading at start: every shard reads the data file named by
//! `dir/dbfilename` (a Tessera snapshot set, or a Redis RDB file) and keeps
//! the keys whose slot it owns, so a file written with another shard count
//! loads all the same. Until every shard is done, clients get -LOADING.
//! A file that cannot be read stops the server with one line naming the
//! file, the byte offset and the tool to check it.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::manifest::Manifest;
use super::save::{is_set, read_set};
use super::{rdb, snapshot};
use crate::cmd::keys::dump::{restored_entry, Restored};
use crate::shard::{key_shard, Core, ShardState};

/// Shards done with each start-up phase (base data, replay, logging).
static PHASES: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

/// Frames of each cross-shard transaction found in the files being replayed.
static FRAMES: std::sync::Mutex<std::collections::BTreeMap<u64, u32>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// What the shards do at start, decided before they start.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The data to load first: `dir/dbfilename`, or the manifest's base parts.
    pub data: Option<Data>,
    /// With `appendonly yes`: the directory of the append-only files and
    /// their manifest, if there is one yet.
    pub aof: Option<(PathBuf, Option<Manifest>)>,
    pub appendfilename: String,
}

#[derive(Debug, Clone)]
pub enum Data {
    /// A Tessera snapshot set file or a Redis RDB file.
    File(PathBuf),
    /// Snapshot parts (an AOF base).
    Parts(Vec<PathBuf>),
}

impl Plan {
    /// Whether the server starts loading (clients get -LOADING meanwhile).
    pub fn loads(&self) -> bool {
        self.data.is_some() || self.aof.is_some()
    }
}

/// Decides what to load. With `appendonly yes` the append-only files win,
/// as in Redis; without any yet, `dir/dbfilename` is loaded if present, and
/// the first base of the append-only files is taken from it.
pub fn plan(config: &crate::config::Config) -> Result<Plan, String> {
    let dump = Path::new(&config.dir).join(&config.dbfilename);
    let dump = dump.is_file().then_some(Data::File(dump));
    if !config.appendonly {
        return Ok(Plan { data: dump, aof: None, appendfilename: String::new() });
    }
    let dir = super::log::aof_dir(&config.dir, &config.appenddirname);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create the AOF directory {}: {e}", dir.display()))?;
    let manifest = Manifest::read(&dir, &config.appendfilename)?;
    let data = match &manifest {
        Some(m) if !m.base.is_empty() => Some(Data::Parts(m.base.iter().map(|b| dir.join(b)).collect())),
        Some(_) => None,
        None => dump,
    };
    Ok(Plan { data, aof: Some((dir, manifest)), appendfilename: config.appendfilename.clone() })
}

/// Marks the server loading before its shards start.
pub fn begin(shared: &crate::server::Shared) {
    shared.persist.loading.store(true, Ordering::SeqCst);
}

/// Ends a start-up phase on this shard and waits for every shard to end it.
async fn phase_done(core: &Core, phase: usize) {
    PHASES[phase].fetch_add(1, Ordering::AcqRel);
    while PHASES[phase].load(Ordering::Acquire) < core.nshards {
        crate::runtime::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Stops the server at start with one line.
fn fail(msg: &str) -> ! {
    tracing::error!("{msg}");
    eprintln!("tessera: {msg}");
    std::process::exit(1);
}

/// A shard's start-up: load the data its slots own, replay the append-only
/// files, start logging (after a fresh base, taken once every shard is
/// loaded), then serve.
pub async fn start_shard(core: Rc<Core>, plan: Plan) {
    let began = Instant::now();
    if let Some(data) = &plan.data {
        load_shard(&core, data).await;
    }
    phase_done(&core, 0).await;
    let mut mine = Vec::new();
    if let Some((dir, Some(m))) = &plan.aof {
        let n = core.nshards;
        for (_, name) in m.incr.iter().enumerate().filter(|(i, _)| i % n == core.id) {
            let path = dir.join(name);
            let items = scan_file(&core, &path);
            mine.push((path, items));
        }
    }
    // Cross-shard transactions apply only if every shard's frame is there.
    phase_done(&core, 1).await;
    for (path, items) in mine {
        let mut commands = Vec::new();
        let mut dropped = 0;
        for item in items {
            match item {
                super::aof::Item::Command { db, args } => commands.push((db, args)),
                super::aof::Item::Tx { seq: Some((seq, n)), commands: c, .. } => {
                    let frames = FRAMES.lock().map(|f| f.get(&seq).copied().unwrap_or(0)).unwrap_or(0);
                    if frames == n {
                        commands.extend(c);
                    } else {
                        dropped += 1;
                    }
                }
                super::aof::Item::Tx { seq: None, commands: c, .. } => commands.extend(c),
            }
        }
        if dropped > 0 {
            tracing::warn!(
                "{}: {dropped} cross-shard transaction(s) not applied: the crash came before every shard had logged its part",
                path.display()
            );
        }
        let n = commands.len();
        crate::server::conn::replay(&core, commands).await;
        tracing::info!("shard {}: replayed {n} commands from {}", core.id, path.display());
    }
    phase_done(&core, 2).await;
    if let Some((dir, m)) = &plan.aof {
        if core.id == 0 {
            let generation = m.as_ref().map_or(1, |m| m.generation + 1);
            if let Err(e) = new_base(&core, dir, &plan.appendfilename, generation, true).await {
                fail(&format!("cannot write the append-only files in {}: {e}", dir.display()));
            }
        }
    }
    phase_done(&core, 3).await;
    if core.id == 0 && plan.loads() {
        let p = &core.shared.persist;
        p.loading.store(false, Ordering::Release);
        tracing::info!(
            "DB loaded from disk: {:.3} seconds ({} keys, {} expired keys skipped)",
            began.elapsed().as_secs_f64(),
            p.loaded_keys.load(Ordering::Relaxed),
            p.loaded_expired.load(Ordering::Relaxed)
        );
    }
}

/// Starts the append-only files afresh: a snapshot of what was loaded as
/// the base, an empty file per shard that every change from the snapshot's
/// instant on goes to, and a manifest naming them; older files go.
pub(crate) async fn new_base(
    core: &Rc<Core>,
    dir: &Path,
    appendfilename: &str,
    generation: u64,
    log: bool,
) -> Result<(), String> {
    let n = core.nshards;
    let incr: Vec<String> = (0..n).map(|s| Manifest::incr_name(appendfilename, generation, s, n)).collect();
    let paths: Vec<PathBuf> = incr.iter().map(|i| dir.join(i)).collect();
    // A file of this generation left by a crash during an earlier start is stale.
    for p in &paths {
        let _ = std::fs::remove_file(p);
    }
    let dir_s = dir.to_string_lossy().into_owned();
    let (base, _) = super::save::snapshot_parts(core, generation, &dir_s, appendfilename, move |c: &Core| {
        if log {
            super::log::start_or_rotate(c, paths[c.id].clone());
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    let m = Manifest { shards: n, generation, base, incr };
    m.commit(dir, appendfilename).map_err(|e| e.to_string())
}

/// Reads one append-only file: its commands and transactions, in order.
/// Frames of cross-shard transactions are counted in `FRAMES`.
fn scan_file(core: &Core, path: &Path) -> Vec<super::aof::Item> {
    let shown = path.display();
    let bytes = match std::fs::read(path) {
        Ok(b) => bytes::Bytes::from(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => fail(&format!("cannot read the AOF file {shown}: {e}")),
    };
    let mut items = Vec::new();
    let end = super::aof::scan_shared(&bytes, |item| {
        if let super::aof::Item::Tx { seq: Some((seq, _)), .. } = &item {
            if let Ok(mut f) = FRAMES.lock() {
                *f.entry(*seq).or_default() += 1;
            }
        }
        items.push(item);
    });
    match end {
        Ok(super::aof::End::Clean) => {}
        Ok(super::aof::End::Truncated { offset, why }) => {
            if !core.state.borrow().config.aof_load_truncated {
                fail(&format!(
                    "{shown}: {why} at offset {offset}; run `tessera check-aof --fix {shown}` or set aof-load-truncated yes"
                ));
            }
            tracing::warn!("!!! Warning: short read while loading the AOF file {shown} ({why} at offset {offset}): loading up to it (aof-load-truncated yes)");
        }
        Err(e) => fail(&format!("{shown}: {e}; run `tessera check-aof --fix {shown}` to cut the file there")),
    }
    items
}

/// Keys handed from the reading thread to the shard at a time.
const BATCH: usize = 1024;

/// One key read from a file.
type Item = (usize, Vec<u8>, Option<u64>, Restored);

/// Loads this shard's keys from `data`; exits the process on a bad file.
/// A thread reads and decodes the file; the shard inserts what it gets in
/// batches, between which it answers clients (with -LOADING).
async fn load_shard(core: &Rc<Core>, data: &Data) {
    let began = Instant::now();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(16);
    let (id, n) = (core.id, core.nshards);
    let (lim, now) = (core.state.borrow().config.limits, crate::db::Clock::now().now_ms);
    let reader = {
        let data = data.clone();
        std::thread::Builder::new()
            .name(format!("load-{id}"))
            .spawn(move || match &data {
                Data::File(path) => read_file(path, id, n, &lim, now, tx),
                Data::Parts(parts) => {
                    let mut out = Sender { id, n, batch: Vec::with_capacity(BATCH), tx };
                    read_parts(parts, id, n, &lim, &mut out).map(|()| Extra::default())
                }
            })
            .unwrap_or_else(|e| fail(&format!("cannot start a loading thread: {e}")))
    };
    let shown = match data {
        Data::File(p) => p.display().to_string(),
        Data::Parts(p) => p.first().map(|p| p.display().to_string()).unwrap_or_default(),
    };
    let mut loader = Loader::new(core, now);
    loop {
        match rx.try_recv() {
            Ok(batch) => {
                {
                    let mut st = core.state.borrow_mut();
                    for (db, key, at, v) in batch {
                        loader.add(&mut st, db, &key, at, v);
                    }
                }
                crate::runtime::yield_now().await;
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                crate::runtime::sleep(std::time::Duration::from_millis(1)).await
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
        }
    }
    let outcome = reader.join().unwrap_or_else(|_| Err("the loading thread panicked".into()));
    let outcome = outcome.and_then(|extra| {
        if loader.bad_db > 0 {
            return Err(format!(
                "{shown}: {} keys are in databases beyond `databases`; raise it to load this file",
                loader.bad_db
            ));
        }
        if id == 0 {
            for code in &extra.functions {
                if let Err(e) = crate::cmd::scripting::function::load_code(core, code) {
                    tracing::warn!("a function library in {shown} did not load: {}", e.0);
                }
            }
        }
        Ok(())
    });
    if let Err(msg) = outcome {
        fail(&msg);
    }
    tracing::info!(
        "shard {id}: loaded {} keys ({} expired skipped) in {:.3} s",
        loader.keys,
        loader.expired,
        began.elapsed().as_secs_f64()
    );
}

/// What a file held besides keys.
#[derive(Default)]
struct Extra {
    functions: Vec<Vec<u8>>,
}

/// Sends the keys shard `id` of `n` owns, in batches.
struct Sender {
    id: usize,
    n: usize,
    batch: Vec<Item>,
    tx: std::sync::mpsc::SyncSender<Vec<Item>>,
}

impl Sender {
    fn add(&mut self, db: usize, key: &[u8], at: Option<u64>, v: Restored) {
        if self.n > 1 && key_shard(key, self.n) != self.id {
            return;
        }
        self.batch.push((db, key.to_vec(), at, v));
        if self.batch.len() >= BATCH {
            let _ = self.tx.send(std::mem::take(&mut self.batch));
        }
    }

    fn flush(&mut self) {
        if !self.batch.is_empty() {
            let _ = self.tx.send(std::mem::take(&mut self.batch));
        }
    }
}

fn read_file(
    path: &Path,
    id: usize,
    n: usize,
    lim: &crate::types::Limits,
    now: u64,
    tx: std::sync::mpsc::SyncSender<Vec<Item>>,
) -> Result<Extra, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut out = Sender { id, n, batch: Vec::with_capacity(BATCH), tx };
    if rdb::is_rdb(&bytes) {
        // Values of keys other shards own are not even decoded.
        let mine = |k: &[u8]| n == 1 || key_shard(k, n) == id;
        let summary = rdb::load_where(&bytes, lim, now, mine, |db, key, at, v| out.add(db, key, at, v))
            .map_err(|e| format!("{shown}: {e}; check it with `redis-check-rdb {shown}`"))?;
        out.flush();
        if id == 0 {
            for s in &summary.skipped {
                tracing::warn!("RDB import skipped {s}");
            }
            tracing::info!("loading the Redis RDB file {shown} (RDB version {})", summary.version);
        }
        return Ok(Extra { functions: summary.functions });
    }
    if !is_set(&bytes) {
        return Err(format!(
            "{shown} is neither a Tessera snapshot set nor a Redis RDB file (a snapshot part is checked with `tessera check-snapshot`)"
        ));
    }
    let text = String::from_utf8_lossy(&bytes);
    let parts = read_set(&text).map_err(|e| format!("{shown}: bad snapshot set file: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let parts: Vec<PathBuf> = parts.iter().map(|p| dir.join(p)).collect();
    read_parts(&parts, id, n, lim, &mut out)?;
    Ok(Extra::default())
}

/// Reads the snapshot parts this shard needs: its own when the shard count
/// is the same, else every part (keeping the keys it owns).
fn read_parts(
    parts: &[PathBuf],
    id: usize,
    n: usize,
    lim: &crate::types::Limits,
    out: &mut Sender,
) -> Result<(), String> {
    let mine: Vec<&PathBuf> = if parts.len() == n { vec![&parts[id]] } else { parts.iter().collect() };
    for p in mine {
        let ps = p.display();
        let data = std::fs::read(p).map_err(|e| format!("cannot read snapshot part {ps}: {e}"))?;
        snapshot::read(&data, lim, |db, key, at, v| out.add(db, key, at, v))
            .map_err(|e| format!("{ps}: {e}; check it with `tessera check-snapshot {ps}`"))?;
    }
    out.flush();
    Ok(())
}

/// Puts the keys this shard owns into its databases.
struct Loader<'a> {
    now: u64,
    keys: u64,
    expired: u64,
    bad_db: u64,
    status: &'a super::save::Status,
}

impl<'a> Loader<'a> {
    fn new(core: &'a Core, now: u64) -> Self {
        Loader { now, keys: 0, expired: 0, bad_db: 0, status: &core.shared.persist }
    }

    fn add(&mut self, st: &mut ShardState, db: usize, key: &[u8], at: Option<u64>, v: Restored) {
        if at.is_some_and(|at| at <= self.now) {
            self.expired += 1;
            self.status.loaded_expired.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let Some(d) = st.dbs.get_mut(db) else {
            self.bad_db += 1;
            return;
        };
        d.insert(restored_entry(key, v, at));
        self.keys += 1;
        if self.status.loaded_keys.fetch_add(1, Ordering::Relaxed) % 1_000_000 == 999_999 {
            tracing::info!("loading: {} keys so far", self.status.loaded_keys.load(Ordering::Relaxed));
        }
    }
}
