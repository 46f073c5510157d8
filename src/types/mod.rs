//! Pure data structures for Redis's collection types: no RESP, no async, no
//! shard knowledge. Each type keeps a small collection in one packed buffer
//! (Redis's listpack/intset) and converts to an indexed structure past the
//! thresholds in [`Limits`].

pub mod blob;
pub mod hash;
pub mod hll;
pub mod list;
pub mod pack;
pub mod set;
pub mod stream;
pub mod zset;

pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

/// A key's Redis type, as TYPE names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    List,
    Hash,
    Set,
    ZSet,
    Stream,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Hash => "hash",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::Stream => "stream",
        }
    }

    /// The type a TYPE-style name means (SCAN ... TYPE), case-insensitively.
    pub fn from_name(name: &[u8]) -> Option<Kind> {
        [Kind::String, Kind::List, Kind::Hash, Kind::Set, Kind::ZSet, Kind::Stream]
            .into_iter()
            .find(|k| k.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

/// A collection value owned by a keyspace entry.
#[derive(Debug, Clone)]
pub enum Value {
    List(List),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    /// Boxed: a stream's metadata would make every `Value` larger.
    Stream(Box<Stream>),
}

impl Value {
    pub fn kind(&self) -> Kind {
        match self {
            Value::List(_) => Kind::List,
            Value::Hash(_) => Kind::Hash,
            Value::Set(_) => Kind::Set,
            Value::ZSet(_) => Kind::ZSet,
            Value::Stream(_) => Kind::Stream,
        }
    }

    /// Elements (list entries, hash fields, set or sorted-set members,
    /// stream entries).
    pub fn len(&self) -> usize {
        match self {
            Value::Stream(v) => v.len() as usize,
            Value::List(v) => v.len(),
            Value::Hash(v) => v.len(),
            Value::Set(v) => v.len(),
            Value::ZSet(v) => v.len(),
        }
    }

    /// Whether the value holds nothing; an empty stream is still a value
    /// (XDEL and XTRIM leave it, as Redis does).
    pub fn is_empty(&self) -> bool {
        !matches!(self, Value::Stream(_)) && self.len() == 0
    }

    /// OBJECT ENCODING's name for the current representation.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::List(v) => v.encoding(),
            Value::Hash(v) => v.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(v) => v.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Bytes the allocator holds for the collection's contents (not the box
    /// around the `Value`), with elements past the first `samples` estimated
    /// from their average, as Redis's `objectComputeSize` (MEMORY USAGE).
    pub fn mem_usage(&self, samples: usize) -> usize {
        match self {
            Value::List(v) => v.mem_usage(samples),
            Value::Hash(v) => v.mem_usage(samples),
            Value::Set(v) => v.mem_usage(samples),
            Value::ZSet(v) => v.mem_usage(samples),
            Value::Stream(v) => v.mem_usage(samples),
        }
    }
}

/// The sum of `total` item sizes estimated from the first `samples` of
/// `sizes`: their sum when they are all of them, else their average times
/// `total` (Redis's `objectComputeSize` sampling).
pub fn sampled(sizes: impl Iterator<Item = usize>, samples: usize, total: usize) -> usize {
    let (mut n, mut sum) = (0usize, 0usize);
    for s in sizes.take(samples.max(1)) {
        n += 1;
        sum += s;
    }
    if n == 0 || n >= total {
        return sum;
    }
    (sum as f64 / n as f64 * total as f64) as usize
}

/// A collection type a [`Value`] can hold, for typed access to it.
pub trait Collection: Sized {
    fn of(v: &Value) -> Option<&Self>;
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
}

macro_rules! collection {
    ($t:ident) => {
        impl Collection for $t {
            fn of(v: &Value) -> Option<&$t> {
                match v {
                    Value::$t(x) => Some(x),
                    _ => None,
                }
            }

            fn of_mut(v: &mut Value) -> Option<&mut $t> {
                match v {
                    Value::$t(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}

collection!(List);
collection!(Hash);
collection!(Set);
collection!(ZSet);

impl Collection for Stream {
    fn of(v: &Value) -> Option<&Stream> {
        match v {
            Value::Stream(x) => Some(x),
            _ => None,
        }
    }

    fn of_mut(v: &mut Value) -> Option<&mut Stream> {
        match v {
            Value::Stream(x) => Some(x),
            _ => None,
        }
    }
}

// Values move between shards (RENAME, SMOVE, ... across cores): they must be Send.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<Value>();
};

// Every collection key holds a boxed `Value`: its size is paid once per key.
// The packed encodings are 16 bytes (pointer and length of an exact-size
// block) and larger structures are boxed, so a `Value` is three words.
const _: () = assert!(std::mem::size_of::<Value>() <= 24);

/// Thresholds between packed and indexed encodings, with Redis's defaults;
/// set by the `*-max-listpack-*` / `set-max-intset-entries` directives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Positive: entries per packed list node; -1..-5: node size 4..64 KiB.
    pub list_max_listpack_size: i64,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// Bytes and entries at which a stream starts a new node (0: no limit).
    pub stream_node_max_bytes: usize,
    pub stream_node_max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            list_max_listpack_size: -2,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
        }
    }
}

#[cfg(test)]
mod mem_usage_tests {
    use super::*;
    use crate::alloc::block_bytes;

    #[test]
    fn sampling_extrapolates_from_the_first_items() {
        assert_eq!(sampled([10, 20, 30].into_iter(), usize::MAX, 3), 60);
        assert_eq!(sampled([10, 20, 30].into_iter(), 3, 3), 60);
        // The average of the first two, times all of them.
        assert_eq!(sampled([10, 20, 30, 40].into_iter(), 2, 4), 60);
        assert_eq!(sampled(std::iter::empty(), 5, 0), 0);
        // Zero samples still looks at one item, as Redis's loop does.
        assert_eq!(sampled([8, 100].into_iter(), 0, 2), 16);
    }

    #[test]
    fn packed_values_count_their_buffer_and_tables_their_elements() {
        let lim = Limits::default();
        let mut h = Hash::new();
        h.insert(b"field", b"value", &lim);
        assert!(h.is_packed());
        assert!(h.mem_usage(5) >= h.heap_bytes() && h.mem_usage(5) <= block_bytes(64));
        // Past the thresholds: every element is a blob, counted exactly with
        // all samples and estimated from five otherwise.
        for i in 0..2000 {
            h.insert(format!("field:{i:06}").as_bytes(), format!("value:{i:06}").as_bytes(), &lim);
        }
        assert!(!h.is_packed());
        let exact = h.mem_usage(usize::MAX);
        assert!(exact >= h.heap_bytes(), "{exact} < {}", h.heap_bytes());
        // Near-uniform elements: the estimate is close to the exact figure.
        assert!(h.mem_usage(5).abs_diff(exact) < exact / 100, "{} vs {exact}", h.mem_usage(5));
        let per = exact / 2000;
        assert!((24..=64).contains(&per), "{per} bytes per field");

        let mut s = Set::new();
        for i in 0..100 {
            s.insert(i.to_string().as_bytes(), &lim);
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.mem_usage(5), block_bytes(200).max(s.mem_usage(5)));
        for i in 0..1000 {
            s.insert(format!("member:{i:06}").as_bytes(), &lim);
        }
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.mem_usage(usize::MAX) > 1100 * 16);

        let mut z = ZSet::new();
        for i in 0..1000 {
            z.insert(format!("member:{i:06}").as_bytes(), i as f64, &lim);
        }
        assert_eq!(z.encoding(), "skiplist");
        let exact = z.mem_usage(usize::MAX);
        assert_eq!(z.mem_usage(5), exact);
        assert!(exact >= 1000 * 24 && exact <= z.heap_bytes() * 2, "{exact} vs {}", z.heap_bytes());

        let mut l = List::new();
        for i in 0..10_000 {
            l.push_back(format!("element:{i:06}").as_bytes(), &lim);
        }
        assert_eq!(l.encoding(), "quicklist");
        let (nodes, bytes) = l.node_stats();
        let exact = l.mem_usage(usize::MAX);
        assert!(exact >= bytes && exact <= bytes + nodes * 8192, "{exact} vs {bytes} in {nodes} nodes");
        let v = Value::List(l);
        assert_eq!(v.mem_usage(usize::MAX), exact);
    }
}
