//! What HSCAN, SSCAN and ZSCAN share: Redis's `scanGenericCommand` options for
//! a key's elements (COUNT and MATCH; TYPE is the keyspace SCAN's only) and the
//! `[cursor, [elements...]]` reply.

use bytes::Bytes;

use super::{args, CmdError};
use crate::resp::Out;

/// COUNT and MATCH of an element scan.
pub struct ScanOpts<'a> {
    pub count: usize,
    /// `None` for no pattern, or `*`, which Redis does not match at all.
    pub pattern: Option<&'a [u8]>,
}

impl ScanOpts<'_> {
    /// Whether an element passes MATCH.
    pub fn matches(&self, element: &[u8]) -> bool {
        self.pattern.is_none_or(|p| super::keys::glob::string_match(p, element, false))
    }
}

/// Parses the options after `key cursor`, with Redis's errors.
pub fn scan_opts(args: &[Bytes]) -> Result<ScanOpts<'_>, CmdError> {
    let mut o = ScanOpts { count: 10, pattern: None };
    let mut i = 3;
    while i < args.len() {
        let has_value = args.len() - i >= 2;
        if has_value && args::is(&args[i], "count") {
            let n = args::int(&args[i + 1])?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            o.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if has_value && args::is(&args[i], "match") {
            let p = &args[i + 1][..];
            o.pattern = (p != b"*").then_some(p);
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    Ok(o)
}

/// Starts the reply: the next cursor, then an array of `items` bulk strings.
pub fn reply_head(out: &mut Out, cursor: u64, items: usize) {
    out.array(2);
    out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    out.array(items);
}
