//! Publish/subscribe: per-shard subscriber registries and cross-shard fan-out.
