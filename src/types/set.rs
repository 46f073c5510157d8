//! The set type (placeholder representation; replaced by the full implementation).

/// A Redis set value.
#[derive(Debug, Clone, Default)]
pub struct Set {
    len: usize,
}

impl Set {
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
