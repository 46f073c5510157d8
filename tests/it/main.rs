//! Tessera's integration tests: one binary that starts the real server on free
//! ports (1 and 3 shards) and checks it through the redis crate, raw sockets,
//! and byte-for-byte against a real redis-server.

mod support;

mod differential;
mod keys;
mod protocol;
mod server;
mod startup;
mod strings;
