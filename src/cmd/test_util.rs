//! Helpers shared by the command families' unit tests.

use bytes::Bytes;

/// Arguments from string literals.
pub fn b(v: &[&str]) -> Vec<Bytes> {
    v.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
}
