//! The hash type (placeholder representation; replaced by the full implementation).

/// A Redis hash value.
#[derive(Debug, Clone, Default)]
pub struct Hash {
    len: usize,
}

impl Hash {
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
