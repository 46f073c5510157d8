//! Persistence: per-shard append-only files, fork-less snapshots, recovery
//! at start, and import of Redis RDB files. See docs/persistence.md.

pub mod aof;
pub mod load;
pub mod log;
pub mod manifest;
pub mod rdb;
pub mod rewrite;
pub mod save;
pub mod snapshot;

use std::path::Path;

/// Replaces the index file `dir/name` (a snapshot set file or the AOF
/// manifest) with `text` atomically (write, fsync, rename, fsync the
/// directory), then removes the data files it no longer names: those of
/// `dir` whose name starts with `<prefix>.` and ends with one of `suffixes`.
pub(crate) fn commit_index(
    dir: &Path,
    name: &str,
    text: &str,
    prefix: &str,
    suffixes: &[&str],
    named: &[&String],
) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!("temp-{name}.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    crate::runtime::fs::rename_durable(&tmp, &dir.join(name))?;
    let prefix = format!("{prefix}.");
    for e in std::fs::read_dir(dir)?.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let ours = file.starts_with(&prefix) && suffixes.iter().any(|s| file.ends_with(s));
        if ours && !named.contains(&&file) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(())
}
