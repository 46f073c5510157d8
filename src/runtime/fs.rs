//! Files written through the shard's io_uring (glommio's buffered files):
//! snapshots and append-only files. Reading at start-up uses plain `std::fs`,
//! before any client is served.

use std::io;
use std::path::Path;

use glommio::io::{BufferedFile, OpenOptions};

/// A file written front to back by one shard.
pub struct File {
    f: BufferedFile,
    len: u64,
}

impl File {
    /// Creates `path` empty (truncating what was there).
    pub async fn create(path: &Path) -> io::Result<File> {
        let f = BufferedFile::create(path).await?;
        Ok(File { f, len: 0 })
    }

    /// Opens `path` to append at its end, creating it if absent.
    pub async fn append(path: &Path) -> io::Result<File> {
        let f = OpenOptions::new().write(true).create(true).buffered_open(path).await?;
        let len = f.file_size().await?;
        Ok(File { f, len })
    }

    /// Bytes in the file.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends all of `buf`. A regular file takes a write whole unless the
    /// disk is full, so a short write is an error (the file keeps what it took).
    pub async fn write(&mut self, buf: Vec<u8>) -> io::Result<()> {
        let want = buf.len();
        if want == 0 {
            return Ok(());
        }
        let n = self.f.write_at(buf, self.len).await?;
        self.len += n as u64;
        if n < want {
            return Err(io::Error::new(io::ErrorKind::WriteZero, format!("short write: {n} of {want} bytes")));
        }
        Ok(())
    }

    /// `fdatasync`: what was written is on disk when this returns.
    pub async fn sync(&self) -> io::Result<()> {
        Ok(self.f.fdatasync().await?)
    }

    pub async fn close(self) -> io::Result<()> {
        Ok(self.f.close().await?)
    }
}

/// Renames `from` to `to` and makes the rename durable (syncs the directory).
pub fn rename_durable(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    sync_dir(to.parent().unwrap_or(Path::new(".")))
}

/// Syncs a directory, so that names created or renamed in it survive a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    std::fs::File::open(dir)?.sync_all()
}
