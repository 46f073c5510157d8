//! Consumer groups: each group's last delivered ID, its pending entries list
//! (PEL) and its consumers.

/// The consumer groups of one stream.
#[derive(Debug, Clone, Default)]
pub struct Groups {}
