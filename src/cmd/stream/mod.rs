//! Stream commands: entries (XADD, XRANGE, XREAD, ...) and consumer groups
//! (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO).

mod claim;
mod group;
mod info;
mod pending;
mod readgroup;

use super::Handler;
use crate::{async_handler, on_shard};

pub const HANDLERS: &[(&str, Handler)] = &[
    // Consumer groups.
    ("xgroup|create", Handler::Sync(on_shard!(group::xgroup_create))),
    ("xgroup|setid", Handler::Sync(on_shard!(group::xgroup_setid))),
    ("xgroup|destroy", Handler::Sync(on_shard!(group::xgroup_destroy))),
    ("xgroup|createconsumer", Handler::Sync(on_shard!(group::xgroup_createconsumer))),
    ("xgroup|delconsumer", Handler::Sync(on_shard!(group::xgroup_delconsumer))),
    ("xgroup|help", Handler::Sync(on_shard!(group::xgroup_help))),
    ("xreadgroup", Handler::Async(async_handler!(readgroup::xreadgroup))),
    ("xack", Handler::Sync(on_shard!(pending::xack))),
    ("xpending", Handler::Sync(on_shard!(pending::xpending))),
    ("xclaim", Handler::Sync(on_shard!(claim::xclaim))),
    ("xautoclaim", Handler::Sync(on_shard!(claim::xautoclaim))),
    ("xinfo|stream", Handler::Sync(on_shard!(info::xinfo_stream))),
    ("xinfo|groups", Handler::Sync(on_shard!(info::xinfo_groups))),
    ("xinfo|consumers", Handler::Sync(on_shard!(info::xinfo_consumers))),
    ("xinfo|help", Handler::Sync(on_shard!(info::xinfo_help))),
];
