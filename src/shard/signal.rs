//! What the commands run on a shard changed, for those who watch for it:
//! WATCH, client-side caching and keyspace notifications. A command reports
//! a change as Redis's `signalModifiedKey` does; the shard hands the changes
//! on after the command.

use bytes::Bytes;

/// Changes made by commands on this shard, not yet handed on.
#[derive(Debug, Default)]
pub struct Signals {
    /// Some client watches or tracks keys here: record modified keys.
    pub track_modified: bool,
    /// Keys modified since the last hand-on: (database, key).
    pub modified: Vec<(usize, Bytes)>,
}

impl Signals {
    /// Redis's `signalModifiedKey`.
    pub fn modified(&mut self, db: usize, key: &[u8]) {
        if self.track_modified {
            self.modified.push((db, Bytes::copy_from_slice(key)));
        }
    }
}
