//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

use super::Handler;
use crate::shard::ShardState;

pub const HANDLERS: &[(&str, Handler)] = &[];

/// A key of database `db` changed: transactions watching it will fail (Redis's
/// `touchWatchedKey`).
pub fn touched(st: &mut ShardState, db: usize, key: &[u8]) {
    let _ = (st, db, key);
}

/// Database `db` (every database when `None`) was flushed or swapped: every
/// transaction watching an existing key there will fail.
pub fn touched_db(st: &mut ShardState, db: Option<usize>) {
    let _ = (st, db);
}
