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

use super::save::{is_set, read_set};
use super::{rdb, snapshot};
use crate::cmd::keys::dump::{restored_entry, Restored};
use crate::shard::{key_shard, Core, ShardState};

/// Shards still loading; the last one to finish clears `loading`.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Whether `dir/dbfilename` exists: the server then starts in loading state.
pub fn data_file(dir: &str, dbfilename: &str) -> Option<PathBuf> {
    let p = Path::new(dir).join(dbfilename);
    p.is_file().then_some(p)
}

/// Marks the server loading before its shards start.
pub fn begin(shared: &crate::server::Shared) {
    PENDING.store(shared.nshards, Ordering::SeqCst);
    shared.persist.loading.store(true, Ordering::SeqCst);
}

/// Keys handed from the reading thread to the shard at a time.
const BATCH: usize = 1024;

/// One key read from a file.
type Item = (usize, Vec<u8>, Option<u64>, Restored);

/// Loads this shard's keys from `path`; exits the process on a bad file.
/// A thread reads and decodes the file; the shard inserts what it gets in
/// batches, between which it answers clients (with -LOADING).
pub async fn load_shard(core: Rc<Core>, path: PathBuf) {
    let began = Instant::now();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(16);
    let (id, n) = (core.id, core.nshards);
    let (lim, now) = (core.state.borrow().config.limits, crate::db::Clock::now().now_ms);
    let reader = {
        let path = path.clone();
        std::thread::Builder::new()
            .name(format!("load-{id}"))
            .spawn(move || read_file(&path, id, n, &lim, now, tx))
            .expect("spawn the loading thread")
    };
    let mut loader = Loader::new(&core, now);
    loop {
        match rx.try_recv() {
            Ok(batch) => {
                let mut st = core.state.borrow_mut();
                for (db, key, at, v) in batch {
                    loader.add(&mut st, db, &key, at, v);
                }
                drop(st);
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
                "{}: {} keys are in databases beyond `databases`; raise it to load this file",
                path.display(),
                loader.bad_db
            ));
        }
        if id == 0 {
            for code in &extra.functions {
                if let Err(e) = crate::cmd::scripting::function::load_code(&core, code) {
                    tracing::warn!("a function library in {} did not load: {}", path.display(), e.0);
                }
            }
        }
        Ok(())
    });
    if let Err(msg) = outcome {
        tracing::error!("{msg}");
        eprintln!("tessera: {msg}");
        std::process::exit(1);
    }
    tracing::info!("shard {id}: loaded {} keys ({} expired skipped)", loader.keys, loader.expired);
    if PENDING.fetch_sub(1, Ordering::AcqRel) == 1 {
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
        let summary = rdb::load(&bytes, lim, now, |db, key, at, v| out.add(db, key, at, v))
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
    // The same shard count: this shard's part holds exactly its keys.
    let mine: Vec<&String> = if parts.len() == n { vec![&parts[id]] } else { parts.iter().collect() };
    for part in mine {
        let p = dir.join(part);
        let ps = p.display();
        let data = std::fs::read(&p).map_err(|e| format!("cannot read snapshot part {ps}: {e}"))?;
        snapshot::read(&data, lim, |db, key, at, v| out.add(db, key, at, v))
            .map_err(|e| format!("{ps}: {e}; check it with `tessera check-snapshot {ps}`"))?;
    }
    out.flush();
    Ok(Extra::default())
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
