//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, (S)PUBLISH, PUBSUB.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
