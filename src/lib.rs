//! Tessera: a Redis-compatible in-memory cache server, thread-per-core and
//! shared-nothing on io_uring.
//!
//! ```text
//!            clients (RESP2/RESP3 over TCP, SO_REUSEPORT on every shard)
//!               |                 |                    |
//!        +------v------+   +------v------+      +------v------+
//!        |  shard 0    |   |  shard 1    | ...  |  shard N-1  |   one glommio executor
//!        |  CPU a      |   |  CPU b      |      |  CPU z      |   pinned per CPU
//!        | conn loops  |   | conn loops  |      | conn loops  |
//!        | keyspace    |   | keyspace    |      | keyspace    |   slots [i*16384/N, ...)
//!        +------^------+   +------^------+      +------^------+
//!               |   request / reply SPSC channels   |
//!               +-------------- full mesh -----------+
//! ```
//! A connection is served by the shard that accepted it. Commands whose keys
//! hash (Redis Cluster slots) to that shard run inline; the others travel, one
//! message per shard per read, to the owning shard and their replies come back
//! in request order. See docs/architecture.md.

pub mod alloc;
pub mod cmd;
pub mod config;
pub mod db;
pub mod error;
pub mod logging;
pub mod notify;
pub mod persist;
pub mod pubsub;
pub mod resp;
pub mod runtime;
pub mod script;
pub mod server;
pub mod shard;
pub mod types;
