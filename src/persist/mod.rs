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
