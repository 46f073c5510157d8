//! Streams: entries in packed nodes keyed by their first ID, and consumer
//! groups with their pending entries.

pub mod group;
pub mod id;

pub use group::Groups;
pub use id::{Seq, StreamId};
