//! Tessera's integration tests: one binary that starts the real server on free
//! ports (1 and 3 shards) and checks it through the redis crate, raw sockets,
//! and byte-for-byte against a real redis-server.
//!
//! `TESSERA_IT_AGAINST_REDIS=1 cargo test --test it` runs the same tests with
//! redis-server in place of Tessera: every test's own expectations must hold
//! for Redis 7.0 (the few Tessera-only checks return early), which keeps the
//! suite honest about what Redis really does.

mod support;

mod bitmaps;
mod blocking;
mod differential;
mod dump;
mod eviction;
mod geo;
mod hashes;
mod hll;
mod keys;
mod lists;
mod memory;
mod notify;
mod persistence;
mod protocol;
mod pubsub;
mod rdb_import;
mod scripting;
mod scripting_libs;
mod scripts_across;
mod server;
mod sets;
mod sort;
mod startup;
mod stream_groups;
mod streams;
mod strings;
mod tracking;
mod transactions;
mod zsets;
