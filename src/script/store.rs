//! The process-wide half of scripting: the texts of cached scripts and function
//! libraries (one copy shared by every shard, behind a mutex that is taken by
//! script-management commands and by a shard compiling a script for the first
//! time, never by plain data commands), and the busy-script state other shards
//! read to answer BUSY and to serve SCRIPT KILL / FUNCTION KILL.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::ScriptFlags;

/// One script of the EVAL cache.
#[derive(Debug)]
pub struct Script {
    pub sha: String,
    pub body: Bytes,
    pub flags: ScriptFlags,
}

/// One function of a library, as FUNCTION LIST shows it.
#[derive(Debug, Clone)]
pub struct FunctionMeta {
    pub name: String,
    pub description: Option<Bytes>,
    pub flags: ScriptFlags,
}

/// One library loaded with FUNCTION LOAD (or RESTORE).
#[derive(Debug)]
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<FunctionMeta>,
}

/// The libraries, with an index from function name (lowercase: function
/// names are case-insensitive, library names are not) to its library.
#[derive(Debug, Default, Clone)]
pub struct Libraries {
    pub libs: BTreeMap<String, Arc<Library>>,
    pub functions: HashMap<String, (Arc<Library>, FunctionMeta)>,
}

impl Libraries {
    pub fn add(&mut self, lib: Arc<Library>) {
        for f in &lib.functions {
            self.functions.insert(f.name.to_ascii_lowercase(), (lib.clone(), f.clone()));
        }
        self.libs.insert(lib.name.clone(), lib);
    }

    pub fn remove(&mut self, name: &str) -> Option<Arc<Library>> {
        let lib = self.libs.remove(name)?;
        for f in &lib.functions {
            self.functions.remove(&f.name.to_ascii_lowercase());
        }
        Some(lib)
    }
}

#[derive(Debug, Default)]
struct Texts {
    scripts: HashMap<String, Arc<Script>>,
    libraries: Libraries,
}

/// What a shard's busy slot says.
pub const IDLE: u8 = 0;
pub const BUSY_EVAL: u8 = 1;
pub const BUSY_FUNCTION: u8 = 2;

/// One shard's long-running script, visible to the others.
#[derive(Debug, Default)]
pub struct Slot {
    /// IDLE, BUSY_EVAL or BUSY_FUNCTION: set once the script ran past
    /// `busy-reply-threshold`, cleared when it ends.
    pub state: AtomicU8,
    /// The script already ran a write command (it can no longer be killed).
    pub wrote: AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL asked it to stop.
    pub kill: AtomicBool,
    /// When it started (Unix ms) and the function's name, for FUNCTION STATS.
    pub started_ms: AtomicU64,
    pub info: Mutex<Option<(String, Vec<Bytes>)>>,
}

/// The scripting state shared by every shard (a field of `server::Shared`).
#[derive(Debug)]
pub struct Scripts {
    texts: Mutex<Texts>,
    /// Bumped by SCRIPT FLUSH: a shard whose Lua state is older rebuilds it.
    pub eval_gen: AtomicU64,
    /// Bumped by every change to the libraries.
    pub func_gen: AtomicU64,
    pub slots: Arc<Vec<Slot>>,
    /// How many slots are busy: one relaxed load answers "no" per command.
    pub busy_count: Arc<AtomicUsize>,
}

/// Outcome of SCRIPT KILL / FUNCTION KILL.
#[derive(Debug, PartialEq, Eq)]
pub enum Kill {
    Killed,
    NotBusy,
    Unkillable,
    /// A script of the other kind is busy (SCRIPT KILL while a function runs).
    WrongKind,
}

impl Scripts {
    pub fn new(nshards: usize) -> Scripts {
        Scripts {
            texts: Mutex::new(Texts::default()),
            eval_gen: AtomicU64::new(0),
            func_gen: AtomicU64::new(0),
            slots: Arc::new((0..nshards.max(1)).map(|_| Slot::default()).collect()),
            busy_count: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn texts(&self) -> MutexGuard<'_, Texts> {
        self.texts.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn script(&self, sha: &str) -> Option<Arc<Script>> {
        self.texts().scripts.get(sha).cloned()
    }

    pub fn add_script(&self, s: Arc<Script>) {
        self.texts().scripts.entry(s.sha.clone()).or_insert(s);
    }

    pub fn has_script(&self, sha: &str) -> bool {
        self.texts().scripts.contains_key(sha)
    }

    pub fn flush_scripts(&self) {
        let old = std::mem::take(&mut self.texts().scripts);
        self.eval_gen.fetch_add(1, Ordering::AcqRel);
        drop(old);
    }

    /// A copy of the library set (cheap: `Arc`s).
    pub fn libraries(&self) -> Libraries {
        self.texts().libraries.clone()
    }

    /// The library and metadata of a function (names are case-insensitive).
    pub fn function(&self, name: &str) -> Option<(Arc<Library>, FunctionMeta)> {
        self.texts().libraries.functions.get(&name.to_ascii_lowercase()).cloned()
    }

    /// Replaces the library set with `f(current)` when it returns `Ok`.
    pub fn update_libraries<T, E>(&self, f: impl FnOnce(&mut Libraries) -> Result<T, E>) -> Result<T, E> {
        let mut texts = self.texts();
        let mut libs = texts.libraries.clone();
        let r = f(&mut libs)?;
        texts.libraries = libs;
        self.func_gen.fetch_add(1, Ordering::AcqRel);
        Ok(r)
    }

    /// The busy state other shards see: `Some(is_function)` while a script
    /// somewhere ran past the threshold.
    pub fn busy(&self) -> Option<bool> {
        if self.busy_count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut found = None;
        for s in self.slots.iter() {
            match s.state.load(Ordering::Acquire) {
                BUSY_EVAL => return Some(false),
                BUSY_FUNCTION => found = Some(true),
                _ => {}
            }
        }
        found
    }

    /// SCRIPT KILL (`function` false) or FUNCTION KILL (true).
    pub fn kill(&self, function: bool) -> Kill {
        let want = if function { BUSY_FUNCTION } else { BUSY_EVAL };
        let mut result = Kill::NotBusy;
        for s in self.slots.iter() {
            let st = s.state.load(Ordering::Acquire);
            if st == IDLE {
                continue;
            }
            if st != want {
                if result == Kill::NotBusy {
                    result = Kill::WrongKind;
                }
                continue;
            }
            if s.wrote.load(Ordering::Acquire) {
                if result != Kill::Killed {
                    result = Kill::Unkillable;
                }
                continue;
            }
            s.kill.store(true, Ordering::Release);
            result = Kill::Killed;
        }
        result
    }
}
