//! AOF rewrite: BGREWRITEAOF, `auto-aof-rewrite-percentage` /
//! `-min-size`, and CONFIG SET appendonly yes. A rewrite is a point-in-time
//! snapshot of every shard as the new base, taken without fork or a pause
//! longer than a hop; in the hop that starts it each shard also moves its
//! log to a new incremental file, so base plus new files hold every change.
//! The manifest then names them, and the old files go.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use super::manifest::Manifest;
use crate::shard::Core;

/// Rewrite state for INFO persistence and the schedule.
#[derive(Debug)]
pub struct RewriteStatus {
    pub running: AtomicBool,
    pub scheduled: AtomicBool,
    pub rewrites: AtomicU64,
    pub last_ok: AtomicBool,
    pub failures: AtomicU64,
    pub last_secs: AtomicI64,
    pub started_ms: AtomicU64,
    /// Bytes of the base parts written by the last rewrite.
    pub base_size: AtomicU64,
    /// Bytes every shard had logged when the last rewrite began.
    pub logged_at_base: AtomicU64,
}

impl Default for RewriteStatus {
    fn default() -> Self {
        RewriteStatus {
            running: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
            rewrites: AtomicU64::new(0),
            last_ok: AtomicBool::new(true),
            failures: AtomicU64::new(0),
            last_secs: AtomicI64::new(-1),
            started_ms: AtomicU64::new(0),
            base_size: AtomicU64::new(0),
            logged_at_base: AtomicU64::new(0),
        }
    }
}

/// Why a rewrite did not start.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// One runs already.
    Running,
    /// A snapshot (BGSAVE) runs: the rewrite is scheduled after it.
    Scheduled,
}

/// Bytes logged by every shard since start.
fn logged(core: &Core) -> u64 {
    core.shared.persist.aof.shards.iter().map(|p| p.logged.load(Ordering::Relaxed)).sum()
}

/// Starts a rewrite in the background; `log` also starts logging (CONFIG
/// SET appendonly yes, or a rewrite while the files are on).
pub fn start(core: &Rc<Core>) -> Result<(), Refused> {
    let p = &core.shared.persist;
    let r = &p.rewrite;
    if r.running.load(Ordering::Acquire) {
        return Err(Refused::Running);
    }
    if !p.snapshot_lock.try_lock() {
        r.scheduled.store(true, Ordering::Release);
        return Err(Refused::Scheduled);
    }
    r.running.store(true, Ordering::Release);
    let (dir, name, on) = {
        let st = core.state.borrow();
        (
            super::log::aof_dir(&st.config.dir, &st.config.appenddirname),
            st.config.appendfilename.clone(),
            st.config.appendonly,
        )
    };
    let core = core.clone();
    crate::runtime::spawn(async move {
        let began = Instant::now();
        let p = &core.shared.persist;
        p.rewrite.started_ms.store(crate::db::Clock::now().now_ms, Ordering::Relaxed);
        let at_base = logged(&core);
        let result =
            match std::fs::create_dir_all(&dir).map_err(|e| e.to_string()).and_then(|()| Manifest::read(&dir, &name)) {
                Ok(m) => {
                    let generation = m.map_or(1, |m| m.generation + 1);
                    super::load::new_base(&core, &dir, &name, generation, on).await
                }
                Err(e) => Err(e),
            };
        let r = &p.rewrite;
        r.last_secs.store(began.elapsed().as_secs() as i64, Ordering::Relaxed);
        match &result {
            Ok(()) => {
                let base: u64 = Manifest::read(&dir, &name)
                    .ok()
                    .flatten()
                    .map(|m| m.base.iter().filter_map(|b| std::fs::metadata(dir.join(b)).ok()).map(|m| m.len()).sum())
                    .unwrap_or(0);
                r.base_size.store(base, Ordering::Relaxed);
                r.logged_at_base.store(at_base, Ordering::Relaxed);
                r.rewrites.fetch_add(1, Ordering::Relaxed);
                r.last_ok.store(true, Ordering::Relaxed);
                r.failures.store(0, Ordering::Relaxed);
                tracing::info!("Background AOF rewrite finished successfully");
            }
            Err(e) => {
                r.last_ok.store(false, Ordering::Relaxed);
                r.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("Background AOF rewrite failed: {e}");
            }
        }
        r.running.store(false, Ordering::Release);
        p.snapshot_lock.unlock();
    });
    Ok(())
}

/// Shard 0's cron: a scheduled rewrite, or `auto-aof-rewrite-percentage`
/// growth over the last base (once past `auto-aof-rewrite-min-size`).
pub fn cron(core: &Rc<Core>) {
    let p = &core.shared.persist;
    if core.id != 0 || p.loading.load(Ordering::Acquire) || p.rewrite.running.load(Ordering::Acquire) {
        return;
    }
    let due = p.rewrite.scheduled.load(Ordering::Acquire) || {
        let st = core.state.borrow();
        let (pct, min) = (st.config.auto_aof_rewrite_percentage, st.config.auto_aof_rewrite_min_size);
        let on = st.config.appendonly && p.aof.enabled.load(Ordering::Relaxed);
        let base = p.rewrite.base_size.load(Ordering::Relaxed);
        let grown = logged(core).saturating_sub(p.rewrite.logged_at_base.load(Ordering::Relaxed));
        on && pct > 0 && base + grown > min && grown.saturating_mul(100) >= base.max(1).saturating_mul(pct)
    };
    if due && start(core).is_ok() {
        p.rewrite.scheduled.store(false, Ordering::Release);
    }
}
