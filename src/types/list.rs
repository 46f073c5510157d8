//! The list type (placeholder representation; replaced by the full implementation).

/// A Redis list value.
#[derive(Debug, Clone, Default)]
pub struct List {
    len: usize,
}

impl List {
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
