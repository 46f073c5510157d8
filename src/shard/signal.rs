//! What the commands run on a shard changed, for those who watch for it:
//! WATCH, client-side caching and keyspace notifications. A command reports
//! a change as Redis's `signalModifiedKey` does; the shard hands the changes
//! on after the command.

use bytes::Bytes;

/// Changes made by commands on this shard, not yet handed on.
#[derive(Debug, Default)]
pub struct Signals {
    /// Keys of this shard that some transaction WATCHes (maintained by WATCH).
    pub watched: usize,
    /// Some client tracks keys of this shard (client-side caching).
    pub tracking: bool,
    /// Keys modified since the last hand-on: (database, key).
    pub modified: Vec<(usize, Bytes)>,
}

impl Signals {
    /// Whether modified keys are to be recorded at all.
    pub fn wanted(&self) -> bool {
        self.watched > 0 || self.tracking
    }

    /// Redis's `signalModifiedKey`.
    pub fn modified(&mut self, db: usize, key: &[u8]) {
        if self.wanted() {
            self.modified.push((db, Bytes::copy_from_slice(key)));
        }
    }
}
