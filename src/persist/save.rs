//! Taking snapshots: SAVE, BGSAVE, the `save` schedule and SHUTDOWN SAVE.
//!
//! A snapshot is point in time across every shard without fork: one hop,
//! with every shard locked whole by a cross-shard transaction, starts it on
//! every database of every shard at the same logical instant (see
//! `Db::snapshot_begin`). Each shard then writes its part in the background,
//! a few hundred keys per step between its other work, through io_uring; a
//! key changed before the walk reaches it is saved first as it was (copy on
//! write, per key). When every part is on disk, the set file (`dir/dbfilename`)
//! is replaced atomically to name the new parts, and the old parts go.

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::snapshot::{Meta, Writer};
use crate::runtime::fs::File;
use crate::shard::tx::{self, Part};
use crate::shard::Core;

/// Entries saved per step before the shard serves other work.
const STEP_KEYS: usize = 512;

/// The first line of a set file.
pub const SET_HEADER: &str = "tessera-snapshot 1";

/// Server-wide persistence state (INFO persistence, LASTSAVE, the schedule).
#[derive(Debug, Default)]
pub struct Status {
    pub saving: AtomicBool,
    /// BGSAVE SCHEDULE or the `save` schedule asked for one while another ran.
    pub scheduled: AtomicBool,
    /// Unix seconds of the last successful save (start-up time before any).
    pub lastsave: AtomicU64,
    pub last_ok: AtomicBool,
    pub saves: AtomicU64,
    /// Seconds the last save took, -1 before any.
    pub last_secs: AtomicI64,
    /// Unix ms the running save started.
    pub started_ms: AtomicU64,
    pub keys_saved: AtomicU64,
    /// Changes since the last save, as each shard's cron last published them.
    pub dirty: Vec<AtomicU64>,
    /// Loading data at start: commands without the `loading` flag get -LOADING.
    pub loading: AtomicBool,
    pub loaded_keys: AtomicU64,
    pub loaded_expired: AtomicU64,
    /// The append-only files.
    pub aof: super::log::AofStatus,
    pub rewrite: super::rewrite::RewriteStatus,
    /// One point-in-time snapshot at a time: a save or an AOF rewrite.
    pub snapshot_lock: Flag,
}

/// A try-lock flag.
#[derive(Debug, Default)]
pub struct Flag(AtomicBool);

impl Flag {
    pub fn try_lock(&self) -> bool {
        !self.0.swap(true, Ordering::AcqRel)
    }

    pub fn unlock(&self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Status {
    pub fn new(nshards: usize, now_s: u64) -> Status {
        Status {
            lastsave: AtomicU64::new(now_s),
            last_ok: AtomicBool::new(true),
            last_secs: AtomicI64::new(-1),
            dirty: (0..nshards).map(|_| AtomicU64::new(0)).collect(),
            aof: super::log::AofStatus::new(nshards),
            ..Status::default()
        }
    }

    pub fn dirty(&self) -> u64 {
        self.dirty.iter().map(|d| d.load(Ordering::Relaxed)).sum()
    }
}

/// Why a save did not happen or failed.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("Background save already in progress")]
    InProgress,
    /// An AOF rewrite takes its snapshot now.
    #[error("Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")]
    Busy,
    #[error("{0}")]
    Io(String),
}

/// The part of shard `shard` of the snapshot started at `id` (unix ms).
fn part_name(dbfilename: &str, id: u64, shard: usize, shards: usize) -> String {
    format!("{dbfilename}.{id}.{shard}-of-{shards}.tsnap")
}

/// Takes a snapshot of every shard and writes it to `dir/dbfilename`.
/// Returns the number of keys saved.
pub async fn save(core: &Rc<Core>) -> Result<u64, SaveError> {
    let status = &core.shared.persist;
    if status.saving.load(Ordering::Acquire) {
        return Err(SaveError::InProgress);
    }
    if !status.snapshot_lock.try_lock() {
        return Err(SaveError::Busy);
    }
    status.saving.store(true, Ordering::Release);
    let began = Instant::now();
    let id = crate::db::Clock::now().now_ms;
    status.started_ms.store(id, Ordering::Relaxed);
    status.keys_saved.store(0, Ordering::Relaxed);
    let result = save_all(core, id).await;
    let ok = result.is_ok();
    status.last_ok.store(ok, Ordering::Relaxed);
    status.last_secs.store(began.elapsed().as_secs() as i64, Ordering::Relaxed);
    if ok {
        status.lastsave.store(id / 1000, Ordering::Relaxed);
        status.saves.fetch_add(1, Ordering::Relaxed);
        tracing::info!("DB saved on disk");
    } else if let Err(e) = &result {
        tracing::warn!("Background saving error: {e}");
    }
    status.saving.store(false, Ordering::Release);
    status.snapshot_lock.unlock();
    result
}

async fn save_all(core: &Rc<Core>, id: u64) -> Result<u64, SaveError> {
    let (dir, dbfilename) = {
        let st = core.state.borrow();
        (st.config.dir.clone(), st.config.dbfilename.clone())
    };
    let (parts, keys) = snapshot_parts(core, id, &dir, &dbfilename, |_| {}).await?;
    commit_set(&dir, &dbfilename, &parts).map_err(|e| SaveError::Io(e.to_string()))?;
    Ok(keys)
}

/// Takes a point-in-time snapshot of every shard into `dir`, one part file
/// per shard named after `prefix`; `at_start` runs on each shard in the same
/// locked hop that starts the snapshot there. Returns the part names, in
/// shard order, and the keys saved.
pub async fn snapshot_parts(
    core: &Rc<Core>,
    id: u64,
    dir: &str,
    prefix: &str,
    at_start: impl Fn(&Core) + Send + Clone + 'static,
) -> Result<(Vec<String>, u64), SaveError> {
    let n = core.nshards;
    // Start on every shard at one instant: no transaction is half applied.
    let plan = (0..n).map(|s| (s, Part { db: 0, keys: Vec::new(), whole: true, write: false })).collect();
    let tx = tx::lock(core, plan).await;
    core.call_all(move |c: &Core| {
        {
            let mut st = c.state.borrow_mut();
            for db in &mut st.dbs {
                db.snapshot_begin();
            }
            st.dirty_at_save = st.dirty;
        }
        c.shared.persist.dirty[c.id].store(0, Ordering::Relaxed);
        at_start(c);
    })
    .await;
    tx.release().await;
    // Every shard writes its part; the results come back through `done`.
    let done: Arc<Mutex<Vec<Result<u64, String>>>> = Arc::default();
    let parts: Vec<String> = (0..n).map(|s| part_name(prefix, id, s, n)).collect();
    for (shard, name) in parts.iter().enumerate() {
        let (dir, name, done) = (dir.to_string(), name.clone(), done.clone());
        core.call(shard, move |c: &Core| {
            let Some(me) = c.rc() else { return };
            crate::runtime::spawn(async move {
                let meta = Meta { shard: shard as u16, shards: n as u16, created_ms: id };
                let r = write_part(&me, &Path::new(&dir).join(&name), meta).await;
                if let Ok(mut d) = done.lock() {
                    d.push(r.map_err(|e| format!("{name}: {e}")));
                }
            });
        })
        .await;
    }
    loop {
        let finished = done.lock().map(|d| d.len()).unwrap_or(n);
        if finished >= n {
            break;
        }
        crate::runtime::sleep(Duration::from_millis(2)).await;
    }
    let results = std::mem::take(&mut *done.lock().map_err(|_| SaveError::Io("a shard failed".into()))?);
    let mut keys = 0;
    for r in results {
        keys += r.map_err(SaveError::Io)?;
    }
    Ok((parts, keys))
}

/// Writes this shard's part: walks every database, a step at a time.
async fn write_part(core: &Rc<Core>, path: &Path, meta: Meta) -> std::io::Result<u64> {
    let result = write_part_inner(core, path, meta).await;
    // Finished or failed, this shard's databases leave snapshot mode.
    for db in &mut core.state.borrow_mut().dbs {
        db.snapshot_end();
    }
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

async fn write_part_inner(core: &Rc<Core>, path: &Path, meta: Meta) -> std::io::Result<u64> {
    let mut file = File::create(path).await?;
    let mut w = Writer::new(&meta);
    let ndbs = core.state.borrow().dbs.len();
    let saved = &core.shared.persist.keys_saved;
    for db in 0..ndbs {
        loop {
            let before = w.keys();
            let done = {
                let mut st = core.state.borrow_mut();
                let lim = st.config.limits;
                st.dbs[db].snapshot_step(STEP_KEYS, |e| w.add(db, e, &lim))
            };
            saved.fetch_add(w.keys() - before, Ordering::Relaxed);
            let bytes = w.take();
            if !bytes.is_empty() {
                file.write(bytes).await?;
            } else if !done {
                crate::runtime::yield_now().await;
            }
            if done {
                break;
            }
        }
        core.state.borrow_mut().dbs[db].snapshot_end();
    }
    let keys = w.keys();
    file.write(w.finish()).await?;
    file.sync().await?;
    file.close().await?;
    Ok(keys)
}

/// Replaces the set file atomically with one naming `parts`, then removes
/// the parts of older sets.
fn commit_set(dir: &str, dbfilename: &str, parts: &[String]) -> std::io::Result<()> {
    let mut text = format!("{SET_HEADER}\nshards {}\n", parts.len());
    for p in parts {
        text.push_str(&format!("part {p}\n"));
    }
    let dir = if dir.is_empty() { Path::new(".") } else { Path::new(dir) };
    let named: Vec<&String> = parts.iter().collect();
    super::commit_index(dir, dbfilename, &text, dbfilename, &[".tsnap"], &named)
}

/// Reads a set file: the names of its parts, in shard order.
pub fn read_set(text: &str) -> Result<Vec<String>, String> {
    let mut lines = text.lines();
    if lines.next() != Some(SET_HEADER) {
        return Err(format!("the first line is not '{SET_HEADER}'"));
    }
    let n: usize = lines
        .next()
        .and_then(|l| l.strip_prefix("shards "))
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0 && n <= 1024)
        .ok_or("the second line is not 'shards N'")?;
    let parts: Vec<String> = lines
        .map(|l| l.strip_prefix("part ").map(str::to_string).ok_or_else(|| format!("unexpected line '{l}'")))
        .collect::<Result<_, _>>()?;
    if parts.len() != n || parts.iter().any(|p| p.contains('/') || p.is_empty()) {
        return Err(format!("it names {} parts for {n} shards", parts.len()));
    }
    Ok(parts)
}

/// Whether bytes are a set file.
pub fn is_set(bytes: &[u8]) -> bool {
    bytes.starts_with(SET_HEADER.as_bytes())
}

/// The `save` schedule, checked by shard 0's cron: a background save when
/// some `save <seconds> <changes>` rule is met, or one was scheduled.
pub fn cron(core: &Rc<Core>) {
    let status = &core.shared.persist;
    {
        let st = core.state.borrow();
        status.dirty[core.id].store(st.dirty - st.dirty_at_save, Ordering::Relaxed);
    }
    super::rewrite::cron(core);
    if core.id != 0 || status.saving.load(Ordering::Acquire) || status.loading.load(Ordering::Acquire) {
        return;
    }
    let now_s = crate::db::Clock::now().now_ms / 1000;
    let due = {
        let st = core.state.borrow();
        let dirty = status.dirty();
        let since = now_s.saturating_sub(status.lastsave.load(Ordering::Relaxed));
        // After a failed save, Redis retries only after 5 seconds.
        let retry_ok = status.last_ok.load(Ordering::Relaxed)
            || now_s.saturating_sub(status.started_ms.load(Ordering::Relaxed) / 1000) > 5;
        st.config.save.iter().any(|&(secs, changes)| dirty >= changes && since >= secs) && retry_ok
    };
    if due || status.scheduled.swap(false, Ordering::AcqRel) {
        let core = core.clone();
        crate::runtime::spawn(async move {
            let _ = save(&core).await;
        });
    }
}
