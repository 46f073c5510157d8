//! The zset type (placeholder representation; replaced by the full implementation).

/// A Redis zset value.
#[derive(Debug, Clone, Default)]
pub struct ZSet {
    len: usize,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
}
