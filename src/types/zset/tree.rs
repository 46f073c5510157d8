//! An order-statistic B+ tree of `(score, id)` entries: the ordered index of a
//! large sorted set, where Redis keeps a skiplist with spans.
//!
//! Leaves hold up to 127 entries in two flat arrays (12 bytes an
//! entry); inner nodes hold, for each child, its entry count and its last
//! (largest) entry. Counts give rank and select in O(log n); last entries let
//! a monotone predicate find its partition point in O(log n). The tree itself
//! never compares members: callers pass predicates that look members up by id,
//! so the member bytes live once, in the sorted set's slab.
//!
//! Positions are ranks (0-based). Inserting at the very end (or start) of the
//! whole tree splits a full node unevenly, so ascending or descending bulk
//! inserts leave full nodes behind instead of half-empty ones.

/// A tree entry: score and the member's slab id.
pub type Key = (f64, u32);

/// Node sizes: entries a leaf allocates room for and kids an inner node does.
/// A node holds at most one less, so the insert that overflows it never
/// reallocates (it splits instead); below half full it merges or borrows.
#[derive(Clone, Copy, Debug)]
struct Caps {
    leaf: usize,
    inner: usize,
}

const CAPS: Caps = Caps { leaf: 128, inner: 64 };

impl Caps {
    fn max(self, leaf: bool) -> usize {
        if leaf {
            self.leaf - 1
        } else {
            self.inner - 1
        }
    }

    fn min(self, leaf: bool) -> usize {
        if leaf {
            self.leaf / 2
        } else {
            self.inner / 2
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Leaf {
    scores: Vec<f64>,
    ids: Vec<u32>,
}

impl Leaf {
    fn with_capacity(caps: Caps) -> Leaf {
        Leaf { scores: Vec::with_capacity(caps.leaf), ids: Vec::with_capacity(caps.leaf) }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn key(&self, i: usize) -> Key {
        (self.scores[i], self.ids[i])
    }

    fn last(&self) -> Key {
        self.key(self.len() - 1)
    }

    /// Splits off the entries from `at` on into a new leaf.
    fn split_off(&mut self, at: usize, caps: Caps) -> Leaf {
        let mut right = Leaf::with_capacity(caps);
        right.scores.extend(self.scores.drain(at..));
        right.ids.extend(self.ids.drain(at..));
        right
    }
}

#[derive(Clone, Debug, Default)]
struct Inner {
    kids: Vec<Node>,
    /// Entries under each kid.
    counts: Vec<usize>,
    /// The last entry under each kid.
    lasts: Vec<Key>,
}

impl Inner {
    fn with_capacity(caps: Caps) -> Inner {
        Inner {
            kids: Vec::with_capacity(caps.inner),
            counts: Vec::with_capacity(caps.inner),
            lasts: Vec::with_capacity(caps.inner),
        }
    }

    fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    fn push(&mut self, kid: Node, count: usize) {
        self.lasts.push(kid.last());
        self.counts.push(count);
        self.kids.push(kid);
    }

    /// The kid holding rank `rank` (the last kid for `rank == total`), and the
    /// rank inside it.
    fn locate(&self, mut rank: usize) -> (usize, usize) {
        let last = self.kids.len() - 1;
        for (i, &c) in self.counts.iter().enumerate() {
            if rank < c || i == last {
                return (i, rank);
            }
            rank -= c;
        }
        (last, rank)
    }

    /// As `locate`, but a rank on the boundary between two kids goes to the
    /// end of the earlier one (an insert position).
    fn locate_insert(&self, mut rank: usize) -> (usize, usize) {
        let last = self.kids.len() - 1;
        for (i, &c) in self.counts.iter().enumerate() {
            if rank <= c || i == last {
                return (i, rank);
            }
            rank -= c;
        }
        (last, rank)
    }

    fn split_off(&mut self, at: usize, caps: Caps) -> Inner {
        let mut right = Inner::with_capacity(caps);
        right.kids.extend(self.kids.drain(at..));
        right.counts.extend(self.counts.drain(at..));
        right.lasts.extend(self.lasts.drain(at..));
        right
    }
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Box<Leaf>),
    Inner(Box<Inner>),
}

impl Node {
    fn last(&self) -> Key {
        match self {
            Node::Leaf(l) => l.last(),
            Node::Inner(n) => n.lasts[n.lasts.len() - 1],
        }
    }

    /// Leaf entries or inner kids: what the node's capacity counts.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len(),
            Node::Inner(n) => n.kids.len(),
        }
    }

    fn count(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len(),
            Node::Inner(n) => n.total(),
        }
    }

    /// Inserts `key` at `rank`; returns the new right sibling if the node split.
    /// `edge` says whether the node is the tree's first (-1) or last (1) on its
    /// level, for the uneven split of sequential inserts.
    fn insert(&mut self, rank: usize, key: Key, edge: i8, caps: Caps) -> Option<Node> {
        match self {
            Node::Leaf(l) => {
                l.scores.insert(rank, key.0);
                l.ids.insert(rank, key.1);
                let n = l.len();
                if n <= caps.max(true) {
                    return None;
                }
                let at = if edge > 0 && rank == n - 1 {
                    n - 1
                } else if edge < 0 && rank == 0 {
                    1
                } else {
                    n / 2
                };
                Some(Node::Leaf(Box::new(l.split_off(at, caps))))
            }
            Node::Inner(inner) => {
                let (i, sub) = inner.locate_insert(rank);
                let last = inner.kids.len() - 1;
                let kid_edge = match edge {
                    1 if i == last => 1,
                    -1 if i == 0 => -1,
                    _ => 0,
                };
                let split = inner.kids[i].insert(sub, key, kid_edge, caps);
                inner.counts[i] += 1;
                if let Some(right) = split {
                    let moved = right.count();
                    inner.counts[i] -= moved;
                    inner.lasts[i] = inner.kids[i].last();
                    inner.lasts.insert(i + 1, right.last());
                    inner.counts.insert(i + 1, moved);
                    inner.kids.insert(i + 1, right);
                } else {
                    inner.lasts[i] = inner.kids[i].last();
                }
                let n = inner.kids.len();
                if n <= caps.max(false) {
                    return None;
                }
                // Only a kid's split grows this node: the new kid sits at i + 1.
                let at = if edge > 0 && i + 2 == n {
                    n - 1
                } else if edge < 0 && i == 0 {
                    1
                } else {
                    n / 2
                };
                Some(Node::Inner(Box::new(inner.split_off(at, caps))))
            }
        }
    }

    /// Removes and returns the entry at `rank` (which must exist).
    fn remove(&mut self, rank: usize, caps: Caps) -> Key {
        match self {
            Node::Leaf(l) => (l.scores.remove(rank), l.ids.remove(rank)),
            Node::Inner(inner) => {
                let (i, sub) = inner.locate(rank);
                let key = inner.kids[i].remove(sub, caps);
                inner.counts[i] -= 1;
                if inner.counts[i] == 0 {
                    inner.kids.remove(i);
                    inner.counts.remove(i);
                    inner.lasts.remove(i);
                } else {
                    inner.lasts[i] = inner.kids[i].last();
                    let leaf = matches!(inner.kids[i], Node::Leaf(_));
                    if inner.kids[i].width() < caps.min(leaf) {
                        rebalance(inner, i, caps);
                    }
                }
                key
            }
        }
    }

    /// Replaces the entry at `rank` (the caller keeps the order intact).
    fn replace(&mut self, rank: usize, key: Key) {
        match self {
            Node::Leaf(l) => {
                l.scores[rank] = key.0;
                l.ids[rank] = key.1;
            }
            Node::Inner(inner) => {
                let (i, sub) = inner.locate(rank);
                if sub + 1 == inner.counts[i] {
                    inner.lasts[i] = key;
                }
                inner.kids[i].replace(sub, key);
            }
        }
    }
}

/// Merges kid `i` of `inner` with a neighbour, or evens the two out when they
/// do not fit in one node.
fn rebalance(inner: &mut Inner, i: usize, caps: Caps) {
    if inner.kids.len() < 2 {
        return;
    }
    let a = if i > 0 { i - 1 } else { i };
    let (left, right) = inner.kids.split_at_mut(a + 1);
    let (l, r) = (&mut left[a], &mut right[0]);
    let cap = caps.max(matches!(l, Node::Leaf(_)));
    let total = l.width() + r.width();
    match (l, r) {
        (Node::Leaf(l), Node::Leaf(r)) => {
            if total <= cap {
                l.scores.append(&mut r.scores);
                l.ids.append(&mut r.ids);
            } else {
                let want = total / 2;
                if l.len() < want {
                    let n = want - l.len();
                    l.scores.extend(r.scores.drain(..n));
                    l.ids.extend(r.ids.drain(..n));
                } else {
                    let moved = l.split_off(want, caps);
                    r.scores.splice(0..0, moved.scores);
                    r.ids.splice(0..0, moved.ids);
                }
            }
        }
        (Node::Inner(l), Node::Inner(r)) => {
            if total <= cap {
                l.kids.append(&mut r.kids);
                l.counts.append(&mut r.counts);
                l.lasts.append(&mut r.lasts);
            } else {
                let want = total / 2;
                if l.kids.len() < want {
                    let n = want - l.kids.len();
                    l.kids.extend(r.kids.drain(..n));
                    l.counts.extend(r.counts.drain(..n));
                    l.lasts.extend(r.lasts.drain(..n));
                } else {
                    let moved = l.split_off(want, caps);
                    r.kids.splice(0..0, moved.kids);
                    r.counts.splice(0..0, moved.counts);
                    r.lasts.splice(0..0, moved.lasts);
                }
            }
        }
        _ => unreachable!("siblings are on the same level"),
    }
    if total <= cap {
        inner.kids.remove(a + 1);
        inner.counts.remove(a + 1);
        inner.lasts.remove(a + 1);
        inner.counts[a] = inner.kids[a].count();
        inner.lasts[a] = inner.kids[a].last();
    } else {
        for j in [a, a + 1] {
            inner.counts[j] = inner.kids[j].count();
            inner.lasts[j] = inner.kids[j].last();
        }
    }
}

/// The ordered index.
#[derive(Clone, Debug)]
pub struct Tree {
    root: Node,
    len: usize,
    caps: Caps,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    pub fn new() -> Tree {
        Tree::with_caps(CAPS)
    }

    /// The root starts as an unreserved leaf that grows by doubling up to
    /// the node size, so a small indexed set (a few long members) stays small.
    fn with_caps(caps: Caps) -> Tree {
        Tree { root: Node::Leaf(Box::default()), len: 0, caps }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of leading entries for which `pred` holds; `pred` must hold
    /// for a prefix of the entries and fail for the rest (it is probed in
    /// O(log n) places, as a binary search does).
    pub fn partition_point(&self, mut pred: impl FnMut(Key) -> bool) -> usize {
        let mut node = &self.root;
        let mut before = 0;
        loop {
            match node {
                Node::Leaf(l) => {
                    let (mut lo, mut hi) = (0, l.len());
                    while lo < hi {
                        let mid = (lo + hi) / 2;
                        if pred(l.key(mid)) {
                            lo = mid + 1;
                        } else {
                            hi = mid;
                        }
                    }
                    return before + lo;
                }
                Node::Inner(n) => {
                    let (mut lo, mut hi) = (0, n.kids.len());
                    while lo < hi {
                        let mid = (lo + hi) / 2;
                        if pred(n.lasts[mid]) {
                            lo = mid + 1;
                        } else {
                            hi = mid;
                        }
                    }
                    if lo == n.kids.len() {
                        return before + n.total();
                    }
                    before += n.counts[..lo].iter().sum::<usize>();
                    node = &n.kids[lo];
                }
            }
        }
    }

    /// The entry at `rank`.
    pub fn get(&self, rank: usize) -> Option<Key> {
        if rank >= self.len {
            return None;
        }
        let mut node = &self.root;
        let mut r = rank;
        loop {
            match node {
                Node::Leaf(l) => return Some(l.key(r)),
                Node::Inner(n) => {
                    let (i, sub) = n.locate(r);
                    node = &n.kids[i];
                    r = sub;
                }
            }
        }
    }

    /// Inserts `key` at `rank` (`rank <= len`); the caller keeps the order.
    pub fn insert(&mut self, rank: usize, key: Key) {
        debug_assert!(rank <= self.len);
        let edge = if rank == self.len {
            1
        } else if rank == 0 {
            -1
        } else {
            0
        };
        if let Some(right) = self.root.insert(rank, key, edge, self.caps) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Box::default()));
            let mut root = Inner::with_capacity(self.caps);
            let lc = left.count();
            root.push(left, lc);
            let rc = right.count();
            root.push(right, rc);
            self.root = Node::Inner(Box::new(root));
        }
        self.len += 1;
    }

    /// Removes and returns the entry at `rank` (`rank < len`).
    pub fn remove(&mut self, rank: usize) -> Key {
        assert!(rank < self.len, "tree rank {rank} of {}", self.len);
        let key = self.root.remove(rank, self.caps);
        self.len -= 1;
        loop {
            match &mut self.root {
                Node::Inner(n) if n.kids.len() == 1 => {
                    let kid = n.kids.pop().expect("one kid");
                    self.root = kid;
                }
                Node::Inner(n) if n.kids.is_empty() => self.root = Node::Leaf(Box::default()),
                _ => break,
            }
        }
        key
    }

    /// Replaces the entry at `rank` with `key`, which must sort the same way.
    pub fn replace(&mut self, rank: usize, key: Key) {
        assert!(rank < self.len, "tree rank {rank} of {}", self.len);
        self.root.replace(rank, key);
    }

    /// Entries from `rank` on, ascending (`rev == false`) or descending from
    /// `rank` down to 0 (`rev == true`).
    pub fn iter_from(&self, rank: usize, rev: bool) -> Iter<'_> {
        let left = if rev { (rank + 1).min(self.len) } else { self.len.saturating_sub(rank) };
        let mut stack = Vec::new();
        let mut node = &self.root;
        let mut r = if rev { rank.min(self.len.saturating_sub(1)) } else { rank };
        loop {
            match node {
                Node::Leaf(l) => {
                    let pos = if rev { r + 1 } else { r };
                    return Iter { stack, leaf: l, pos: pos.min(l.len()), left, rev };
                }
                Node::Inner(n) => {
                    let (i, sub) = n.locate(r);
                    stack.push((&**n, i));
                    node = &n.kids[i];
                    r = sub;
                }
            }
        }
    }

    /// Bytes of heap memory the tree holds (nodes and their arrays).
    pub fn heap_bytes(&self) -> usize {
        fn walk(n: &Node) -> usize {
            match n {
                Node::Leaf(l) => std::mem::size_of::<Leaf>() + l.scores.capacity() * 8 + l.ids.capacity() * 4,
                Node::Inner(i) => {
                    std::mem::size_of::<Inner>()
                        + i.kids.capacity() * std::mem::size_of::<Node>()
                        + i.counts.capacity() * 8
                        + i.lasts.capacity() * std::mem::size_of::<Key>()
                        + i.kids.iter().map(walk).sum::<usize>()
                }
            }
        }
        walk(&self.root)
    }

    /// Checks the structural invariants (tests only).
    #[cfg(test)]
    pub fn check(&self) {
        let caps = self.caps;
        fn walk(n: &Node, root: bool, depth: usize, depths: &mut Vec<usize>, caps: Caps) -> usize {
            match n {
                Node::Leaf(l) => {
                    assert_eq!(l.scores.len(), l.ids.len());
                    assert!(l.len() <= caps.max(true));
                    assert!(root || l.len() > 0, "empty non-root leaf");
                    depths.push(depth);
                    l.len()
                }
                Node::Inner(i) => {
                    assert!(!i.kids.is_empty() && i.kids.len() <= caps.max(false));
                    assert_eq!(i.kids.len(), i.counts.len());
                    assert_eq!(i.kids.len(), i.lasts.len());
                    let mut total = 0;
                    for (j, k) in i.kids.iter().enumerate() {
                        let c = walk(k, false, depth + 1, depths, caps);
                        assert_eq!(c, i.counts[j], "count of kid {j}");
                        assert!(c > 0);
                        let (s, id) = k.last();
                        assert!(s.to_bits() == i.lasts[j].0.to_bits() && id == i.lasts[j].1, "last of kid {j}");
                        total += c;
                    }
                    total
                }
            }
        }
        let mut depths = Vec::new();
        let total = walk(&self.root, true, 0, &mut depths, caps);
        assert_eq!(total, self.len);
        assert!(depths.windows(2).all(|w| w[0] == w[1]), "leaves at different depths");
        if let Node::Inner(i) = &self.root {
            assert!(i.kids.len() >= 2, "root with one kid");
        }
    }
}

/// Entries of a [`Tree`] in rank order (or reverse rank order).
pub struct Iter<'a> {
    /// The inner nodes above the current leaf and the kid taken in each.
    stack: Vec<(&'a Inner, usize)>,
    leaf: &'a Leaf,
    /// Forward: the next index in `leaf`; reverse: one past it.
    pos: usize,
    left: usize,
    rev: bool,
}

impl<'a> Iter<'a> {
    /// Moves to the next (or previous) leaf.
    fn step_leaf(&mut self) -> bool {
        while let Some((n, i)) = self.stack.pop() {
            let next = if self.rev { i.checked_sub(1) } else { Some(i + 1).filter(|&j| j < n.kids.len()) };
            let Some(j) = next else { continue };
            self.stack.push((n, j));
            let mut node = &n.kids[j];
            loop {
                match node {
                    Node::Leaf(l) => {
                        self.leaf = l;
                        self.pos = if self.rev { l.len() } else { 0 };
                        return true;
                    }
                    Node::Inner(m) => {
                        let k = if self.rev { m.kids.len() - 1 } else { 0 };
                        self.stack.push((&**m, k));
                        node = &m.kids[k];
                    }
                }
            }
        }
        false
    }
}

impl Iterator for Iter<'_> {
    type Item = Key;

    fn next(&mut self) -> Option<Key> {
        if self.left == 0 {
            return None;
        }
        loop {
            if self.rev {
                if self.pos > 0 {
                    self.pos -= 1;
                    break;
                }
            } else if self.pos < self.leaf.len() {
                self.pos += 1;
                break;
            }
            if !self.step_leaf() {
                self.left = 0;
                return None;
            }
        }
        self.left -= 1;
        let i = if self.rev { self.pos } else { self.pos - 1 };
        Some(self.leaf.key(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A model: a sorted Vec of (score, id) compared by score then id.
    fn less(a: Key, b: Key) -> bool {
        a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
    }

    fn rank_of(t: &Tree, k: Key) -> usize {
        t.partition_point(|e| less(e, k))
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(i16, u32),
        RemoveAt(u16),
        RemoveKey(i16, u32),
        Replace(u16, u32),
        Range(u16, u16, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (-300..300i16, 0..4000u32).prop_map(|(s, id)| Op::Insert(s, id)),
            2 => any::<u16>().prop_map(Op::RemoveAt),
            2 => (-300..300i16, 0..4000u32).prop_map(|(s, id)| Op::RemoveKey(s, id)),
            1 => (any::<u16>(), 0..4000u32).prop_map(|(r, id)| Op::Replace(r, id)),
            1 => (any::<u16>(), 0..300u16, any::<bool>()).prop_map(|(a, n, r)| Op::Range(a, n, r)),
        ]
    }

    fn run(ops: Vec<Op>, caps: Caps) -> Result<(), TestCaseError> {
        let mut t = Tree::with_caps(caps);
        let mut m: Vec<Key> = Vec::new();
        for o in ops {
            match o {
                Op::Insert(s, id) => {
                    let k = (s as f64, id);
                    let r = rank_of(&t, k);
                    prop_assert_eq!(r, m.partition_point(|&e| less(e, k)));
                    if m.get(r) != Some(&k) {
                        t.insert(r, k);
                        m.insert(r, k);
                    }
                }
                Op::RemoveAt(r) => {
                    if !m.is_empty() {
                        let r = r as usize % m.len();
                        prop_assert_eq!(t.remove(r), m.remove(r));
                    }
                }
                Op::RemoveKey(s, id) => {
                    let k = (s as f64, id);
                    let r = rank_of(&t, k);
                    if m.get(r) == Some(&k) {
                        prop_assert_eq!(t.get(r), Some(k));
                        t.remove(r);
                        m.remove(r);
                    }
                }
                Op::Replace(r, id) => {
                    if !m.is_empty() {
                        // Same score, an id that keeps the order between neighbours.
                        let r = r as usize % m.len();
                        let k = (m[r].0, id);
                        let ok = (r == 0 || less(m[r - 1], k)) && (r + 1 == m.len() || less(k, m[r + 1]));
                        if ok {
                            t.replace(r, k);
                            m[r] = k;
                        }
                    }
                }
                Op::Range(a, n, rev) => {
                    let a = a as usize % (m.len() + 2);
                    let got: Vec<Key> = t.iter_from(a, rev).take(n as usize).collect();
                    let want: Vec<Key> = if rev {
                        if m.is_empty() {
                            vec![]
                        } else {
                            m[..=a.min(m.len() - 1)].iter().rev().take(n as usize).copied().collect()
                        }
                    } else {
                        m.iter().skip(a).take(n as usize).copied().collect()
                    };
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(t.len(), m.len());
        }
        t.check();
        prop_assert_eq!(t.iter_from(0, false).collect::<Vec<_>>(), m.clone());
        for (i, k) in m.iter().enumerate() {
            prop_assert_eq!(t.get(i), Some(*k));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn behaves_like_a_sorted_vec(ops in proptest::collection::vec(op(), 0..3000)) {
            run(ops, CAPS)?;
        }

        /// Tiny nodes: deep trees, so inner splits, merges and borrows all run.
        #[test]
        fn tiny_nodes_behave_like_a_sorted_vec(ops in proptest::collection::vec(op(), 0..3000), leaf in 3..9usize, inner in 3..7usize) {
            run(ops, Caps { leaf, inner })?;
        }
    }

    #[test]
    fn sequential_inserts_fill_nodes_and_drain() {
        for asc in [true, false] {
            let mut t = Tree::new();
            let n = 50_000u32;
            for i in 0..n {
                let s = if asc { i as f64 } else { -(i as f64) };
                let r = if asc { t.len() } else { 0 };
                t.insert(r, (s, i));
            }
            t.check();
            // Full leaves: close to 12 bytes an entry plus node headers.
            assert!(t.heap_bytes() < n as usize * 14, "{} bytes", t.heap_bytes());
            let got: Vec<u32> = t.iter_from(0, false).map(|k| k.1).collect();
            let mut want: Vec<u32> = (0..n).collect();
            if !asc {
                want.reverse();
            }
            assert_eq!(got, want);
            // Pop from both ends, checking the shape now and then.
            let mut popped = 0;
            while !t.is_empty() {
                if popped % 2 == 0 {
                    t.remove(0);
                } else {
                    t.remove(t.len() - 1);
                }
                popped += 1;
                if popped % 4999 == 0 {
                    t.check();
                }
            }
            t.check();
        }
    }

    #[test]
    fn random_removals_keep_nodes_filled() {
        let mut t = Tree::new();
        let mut x = 88172645463325252u64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..40_000u32 {
            let s = (rnd() % 1_000_000) as f64;
            let r = t.partition_point(|e| less(e, (s, i)));
            t.insert(r, (s, i));
        }
        t.check();
        while t.len() > 1000 {
            let r = (rnd() % t.len() as u64) as usize;
            t.remove(r);
        }
        t.check();
        // Nodes at least half full on average: under ~32 bytes an entry.
        assert!(t.heap_bytes() < 1000 * 40, "{} bytes", t.heap_bytes());
    }
}
