//! The list type, encoded as Redis 7.2 encodes it: one packed node
//! ("listpack") while the list fits `list-max-listpack-size`, and past that a
//! "quicklist", a deque of packed nodes of bounded size, so that access by
//! index costs O(nodes + node size) and pushes and pops at both ends stay O(node).
//!
//! Conversions follow Redis 7.2's `listTypeTryConversion*`: a listpack becomes a
//! quicklist when a change would take it past the node limit; a quicklist of a
//! single node goes back to a listpack only when it shrinks below half the limit,
//! so a list at the threshold does not flip on every push and pop.

use std::collections::VecDeque;

use super::pack::{self, Pack};
use super::Limits;

/// Node size limits for `list-max-listpack-size` -1..-5 (Redis's `optimization_level`).
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// With a count limit, a node still never grows past this many bytes (Redis's `SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// The largest entry count a node may be configured for (Redis's `FILL_MAX`).
const FILL_MAX: i64 = 1 << 15;

/// The bounds of one packed node under the current `list-max-listpack-size`.
#[derive(Debug, Clone, Copy)]
struct NodeLimit {
    bytes: usize,
    count: usize,
    by_count: bool,
}

impl NodeLimit {
    fn of(lim: &Limits) -> NodeLimit {
        let fill = lim.list_max_listpack_size;
        if fill >= 0 {
            NodeLimit { bytes: SIZE_SAFETY_LIMIT, count: fill.clamp(1, FILL_MAX) as usize, by_count: true }
        } else {
            let level = ((fill.unsigned_abs() - 1) as usize).min(SIZE_LEVELS.len() - 1);
            NodeLimit { bytes: SIZE_LEVELS[level], count: usize::MAX, by_count: false }
        }
    }

    /// Redis's `quicklistNodeExceedsLimit`.
    fn exceeds(self, bytes: usize, count: usize) -> bool {
        bytes > self.bytes || count > self.count
    }

    /// Whether a single node this big may become a listpack again; `shrinking`
    /// halves the limit (Redis's `listTypeTryConvertQuicklist`).
    fn fits(self, bytes: usize, count: usize, shrinking: bool) -> bool {
        let div = if shrinking { 2 } else { 1 };
        if self.by_count {
            count <= self.count / div
        } else {
            bytes <= self.bytes / div
        }
    }

    /// Whether `v` can join `node` without taking it past the limit.
    fn allows(self, node: &Pack, v: &[u8]) -> bool {
        !self.exceeds(node.bytes() + entry_bytes(v), node.len() + 1)
    }
}

/// Bytes an element takes in a packed node.
fn entry_bytes(v: &[u8]) -> usize {
    Pack::entry_size(v.len())
}

fn single(v: &[u8]) -> Pack {
    let mut p = Pack::new();
    p.push_back(v);
    p
}

/// Splits `p` at `at`: `p` keeps `[0, at)` and the rest is returned.
fn split_off(p: &mut Pack, at: usize) -> Pack {
    let mut right = Pack::new();
    for v in p.iter().skip(at) {
        right.push_back(v);
    }
    p.remove_range(at, p.len());
    right
}

/// Removes up to `budget` elements equal to `v` from `p`, the first ones or
/// (`from_back`) the last ones; returns how many went.
fn remove_in_node(p: &mut Pack, v: &[u8], budget: usize, from_back: bool) -> usize {
    let found: Vec<usize> = p.iter().enumerate().filter(|(_, e)| *e == v).map(|(i, _)| i).collect();
    let chosen =
        if from_back { &found[found.len().saturating_sub(budget)..] } else { &found[..budget.min(found.len())] };
    match chosen {
        [] => {}
        [i] => p.remove_range(*i, i + 1),
        _ => {
            let mut kept = Pack::new();
            let mut skip = chosen.iter().peekable();
            for (i, e) in p.iter().enumerate() {
                if skip.peek() == Some(&&i) {
                    skip.next();
                } else {
                    kept.push_back(e);
                }
            }
            *p = kept;
        }
    }
    chosen.len()
}

/// A Redis list value.
#[derive(Debug, Clone)]
pub struct List {
    repr: Repr,
}

#[derive(Debug, Clone)]
enum Repr {
    /// The whole list in one packed node.
    Listpack(Pack),
    /// Non-empty packed nodes, front to back, and the total element count
    /// (boxed: a list is usually one listpack, and `Value` stays small).
    Quicklist(Box<Quick>),
}

#[derive(Debug, Clone)]
struct Quick {
    nodes: VecDeque<Pack>,
    len: usize,
}

impl Default for List {
    fn default() -> Self {
        List::new()
    }
}

type Nodes<'a> = std::iter::Chain<std::slice::Iter<'a, Pack>, std::slice::Iter<'a, Pack>>;

impl List {
    pub fn new() -> List {
        List { repr: Repr::Listpack(Pack::new()) }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.len(),
            Repr::Quicklist(q) => q.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name: "listpack" or "quicklist".
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Quicklist(_) => "quicklist",
        }
    }

    /// The packed nodes, front to back (one for a listpack).
    fn nodes(&self) -> Nodes<'_> {
        let (a, b): (&[Pack], &[Pack]) = match &self.repr {
            Repr::Listpack(p) => (std::slice::from_ref(p), &[]),
            Repr::Quicklist(q) => q.nodes.as_slices(),
        };
        a.iter().chain(b.iter())
    }

    /// Packed nodes and bytes held, for memory reports.
    pub fn node_stats(&self) -> (usize, usize) {
        self.nodes().fold((0, 0), |(n, b), p| (n + 1, b + p.bytes()))
    }

    /// Bytes the allocator holds for the list (MEMORY USAGE): a quicklist's
    /// node array plus its nodes, estimated from the first `samples` nodes as
    /// Redis samples quicklist nodes.
    pub fn mem_usage(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.mem_usage(),
            Repr::Quicklist(q) => {
                let nodes = &q.nodes;
                crate::alloc::block_bytes(nodes.capacity() * std::mem::size_of::<Pack>())
                    + super::sampled(nodes.iter().map(Pack::mem_usage), samples, nodes.len())
            }
        }
    }

    /// (node, offset in node) of element `i`.
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        match &self.repr {
            Repr::Listpack(p) => (i < p.len()).then_some((0, i)),
            Repr::Quicklist(q) => {
                let Quick { nodes, len } = &**q;
                if i >= *len {
                    return None;
                }
                if i < len / 2 {
                    let mut base = 0;
                    for (ni, n) in nodes.iter().enumerate() {
                        if i < base + n.len() {
                            return Some((ni, i - base));
                        }
                        base += n.len();
                    }
                } else {
                    let mut base = *len;
                    for (ni, n) in nodes.iter().enumerate().rev() {
                        base -= n.len();
                        if i >= base {
                            return Some((ni, i - base));
                        }
                    }
                }
                None
            }
        }
    }

    /// Elements front to back.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, self.len())
    }

    /// `count` elements from index `start` on (fewer at the end of the list).
    pub fn range(&self, start: usize, count: usize) -> Iter<'_> {
        let left = count.min(self.len().saturating_sub(start));
        let mut nodes = self.nodes();
        let mut cur = None;
        if let Some((ni, off)) = self.locate(start).filter(|_| left > 0) {
            let mut it = nodes.nth(ni).map(Pack::iter);
            if let (Some(it), Some(skip)) = (it.as_mut(), off.checked_sub(1)) {
                it.nth(skip);
            }
            cur = it;
        }
        Iter { cur, nodes, left }
    }

    /// Elements back to front.
    pub fn rev_iter(&self) -> RevIter<'_> {
        RevIter { nodes: self.nodes().rev(), buf: Vec::new() }
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let (ni, off) = self.locate(i)?;
        self.nodes().nth(ni)?.get(off)
    }

    /// Converts a listpack to a quicklist if adding `values` would take it past
    /// the node limit (Redis's `listTypeTryConversionAppend`, done once before a
    /// multi-element push, LINSERT or LSET).
    pub fn grow_for<'a>(&mut self, values: impl IntoIterator<Item = &'a [u8]>, lim: &Limits) {
        let Repr::Listpack(p) = &mut self.repr else { return };
        let (mut bytes, mut count) = (p.bytes(), p.len());
        for v in values {
            bytes += entry_bytes(v);
            count += 1;
        }
        if NodeLimit::of(lim).exceeds(bytes, count) {
            let p = std::mem::take(p);
            let len = p.len();
            let nodes = if p.is_empty() { VecDeque::new() } else { VecDeque::from([p]) };
            self.repr = Repr::Quicklist(Box::new(Quick { nodes, len }));
        }
    }

    /// After elements were removed: back to a listpack if the list is one node
    /// under half the limit (Redis's LIST_CONV_SHRINKING).
    pub fn shrink_encoding(&mut self, lim: &Limits) {
        self.pack_if_fits(lim, true);
    }

    /// The encoding a list built in one go gets (Redis's LIST_CONV_AUTO, used
    /// after RESTORE or SORT ... STORE).
    pub fn fit_encoding(&mut self, lim: &Limits) {
        self.grow_for([], lim);
        self.pack_if_fits(lim, false);
    }

    fn pack_if_fits(&mut self, lim: &Limits, shrinking: bool) {
        let Repr::Quicklist(q) = &mut self.repr else { return };
        let nodes = &mut q.nodes;
        let fits = match nodes.len() {
            0 => true,
            1 => NodeLimit::of(lim).fits(nodes[0].bytes(), nodes[0].len(), shrinking),
            _ => false,
        };
        if fits {
            let p = nodes.pop_front().unwrap_or_default();
            self.repr = Repr::Listpack(p);
        }
    }

    pub fn push_front(&mut self, v: &[u8], lim: &Limits) {
        self.push(v, true, lim);
    }

    pub fn push_back(&mut self, v: &[u8], lim: &Limits) {
        self.push(v, false, lim);
    }

    /// Pushes at the head (`front`) or the tail.
    pub fn push(&mut self, v: &[u8], front: bool, lim: &Limits) {
        self.grow_for([v], lim);
        let nl = NodeLimit::of(lim);
        match &mut self.repr {
            Repr::Listpack(p) if front => p.push_front(v),
            Repr::Listpack(p) => p.push_back(v),
            Repr::Quicklist(q) => {
                let Quick { nodes, len } = &mut **q;
                *len += 1;
                let end = if front { nodes.front_mut() } else { nodes.back_mut() };
                match end {
                    Some(n) if nl.allows(n, v) && front => n.push_front(v),
                    Some(n) if nl.allows(n, v) => n.push_back(v),
                    end => {
                        // The end node is full: copy it into an exact-size
                        // buffer (shrinking in place keeps the allocator's
                        // block), as nodes away from the ends rarely change.
                        if let Some(n) = end {
                            *n = n.clone();
                        }
                        if front {
                            nodes.push_front(single(v));
                        } else {
                            nodes.push_back(single(v));
                        }
                    }
                }
            }
        }
    }

    pub fn pop_front(&mut self, lim: &Limits) -> Option<Vec<u8>> {
        let v = self.pop_end(true);
        self.shrink_encoding(lim);
        v
    }

    pub fn pop_back(&mut self, lim: &Limits) -> Option<Vec<u8>> {
        let v = self.pop_end(false);
        self.shrink_encoding(lim);
        v
    }

    /// Pops at the head (`front`) or the tail without changing the encoding
    /// (call [`List::shrink_encoding`] after a series of changes).
    pub fn pop_end(&mut self, front: bool) -> Option<Vec<u8>> {
        match &mut self.repr {
            Repr::Listpack(p) => {
                if front {
                    p.pop_front()
                } else {
                    p.pop_back()
                }
            }
            Repr::Quicklist(q) => {
                let Quick { nodes, len } = &mut **q;
                let n = if front { nodes.front_mut()? } else { nodes.back_mut()? };
                let v = if front { n.pop_front()? } else { n.pop_back()? };
                if n.is_empty() {
                    if front {
                        nodes.pop_front();
                    } else {
                        nodes.pop_back();
                    }
                }
                *len -= 1;
                Some(v)
            }
        }
    }

    /// Pops up to `n` elements, in the order they come off the list.
    pub fn pop_many(&mut self, front: bool, n: usize, lim: &Limits) -> Vec<Vec<u8>> {
        let n = n.min(self.len());
        let start = if front { 0 } else { self.len() - n };
        let mut out: Vec<Vec<u8>> = self.range(start, n).map(<[u8]>::to_vec).collect();
        if !front {
            out.reverse();
        }
        self.remove_range(start, n);
        self.shrink_encoding(lim);
        out
    }

    /// Inserts `v` before element `i` (at the tail when `i >= len`).
    pub fn insert(&mut self, i: usize, v: &[u8], lim: &Limits) {
        if i == 0 || i >= self.len() {
            return self.push(v, i == 0, lim);
        }
        self.grow_for([v], lim);
        let nl = NodeLimit::of(lim);
        let Some((ni, off)) = self.locate(i) else { return };
        match &mut self.repr {
            Repr::Listpack(p) => p.insert(i, v),
            Repr::Quicklist(q) => {
                let Quick { nodes, len } = &mut **q;
                *len += 1;
                insert_in_node(nodes, ni, off, v, nl);
            }
        }
    }

    /// Replaces element `i`; false if out of range. As Redis's LSET, a listpack
    /// is first checked as if `v` were added, and the list may shrink after.
    pub fn set(&mut self, i: usize, v: &[u8], lim: &Limits) -> bool {
        if i >= self.len() {
            return false;
        }
        self.grow_for([v], lim);
        let nl = NodeLimit::of(lim);
        let Some((ni, off)) = self.locate(i) else { return false };
        match &mut self.repr {
            Repr::Listpack(p) => p.set(i, v),
            Repr::Quicklist(q) => {
                let nodes = &mut q.nodes;
                let n = &mut nodes[ni];
                let old = n.get(off).map_or(0, entry_bytes);
                if n.len() == 1 || !nl.exceeds(n.bytes() - old + entry_bytes(v), n.len()) {
                    n.set(off, v);
                } else {
                    n.remove_range(off, off + 1);
                    insert_in_node(nodes, ni, off, v, nl);
                }
            }
        }
        self.shrink_encoding(lim);
        true
    }

    /// Removes `count` elements from index `start` on (clamped to the list),
    /// without changing the encoding.
    pub fn remove_range(&mut self, start: usize, count: usize) {
        let count = count.min(self.len().saturating_sub(start));
        if count == 0 {
            return;
        }
        let Some((ni, off)) = self.locate(start) else { return };
        match &mut self.repr {
            Repr::Listpack(p) => p.remove_range(start, start + count),
            Repr::Quicklist(q) => {
                let Quick { nodes, len } = &mut **q;
                *len -= count;
                let mut left = count;
                let mut i = ni;
                if off > 0 {
                    let n = &mut nodes[i];
                    let take = (n.len() - off).min(left);
                    n.remove_range(off, off + take);
                    left -= take;
                    i += 1;
                }
                let mut j = i;
                while j < nodes.len() && nodes[j].len() <= left {
                    left -= nodes[j].len();
                    j += 1;
                }
                nodes.drain(i..j);
                if left > 0 {
                    if let Some(n) = nodes.get_mut(i) {
                        n.remove_range(0, left);
                    }
                }
            }
        }
    }

    /// Removes up to `count` elements equal to `v` (all of them for 0), the
    /// first ones or (`from_back`) the last ones, without changing the
    /// encoding; returns how many went (LREM).
    pub fn remove_value(&mut self, v: &[u8], count: usize, from_back: bool) -> usize {
        let budget = if count == 0 { usize::MAX } else { count };
        match &mut self.repr {
            Repr::Listpack(p) => remove_in_node(p, v, budget, from_back),
            Repr::Quicklist(q) => {
                let Quick { nodes, len } = &mut **q;
                let mut removed = 0;
                let order: Box<dyn Iterator<Item = usize>> =
                    if from_back { Box::new((0..nodes.len()).rev()) } else { Box::new(0..nodes.len()) };
                for ni in order {
                    if removed == budget {
                        break;
                    }
                    removed += remove_in_node(&mut nodes[ni], v, budget - removed, from_back);
                }
                if removed > 0 {
                    nodes.retain(|n| !n.is_empty());
                    *len -= removed;
                }
                removed
            }
        }
    }
}

/// Inserts `v` at `off` of quicklist node `ni` (`off` may be the node's length),
/// as Redis's `_quicklistInsert`: into the node if it has room, else into a
/// neighbour at the node's edges, else a new node, splitting a full node.
fn insert_in_node(nodes: &mut VecDeque<Pack>, ni: usize, off: usize, v: &[u8], nl: NodeLimit) {
    let n = &mut nodes[ni];
    let at_end = off >= n.len();
    if n.is_empty() || nl.allows(n, v) {
        n.insert(off, v);
        return;
    }
    if off == 0 {
        match ni.checked_sub(1).and_then(|p| nodes.get_mut(p)) {
            Some(prev) if nl.allows(prev, v) => prev.push_back(v),
            _ => nodes.insert(ni, single(v)),
        }
        return;
    }
    if at_end {
        match nodes.get_mut(ni + 1) {
            Some(next) if nl.allows(next, v) => next.push_front(v),
            _ => nodes.insert(ni + 1, single(v)),
        }
        return;
    }
    let right = split_off(n, off);
    // Where the right half ends up: after `v` when `v` needs a node of its own.
    let r = if nl.allows(n, v) {
        n.push_back(v);
        nodes.insert(ni + 1, right);
        ni + 1
    } else if nl.allows(&right, v) {
        let mut right = right;
        right.push_front(v);
        nodes.insert(ni + 1, right);
        ni + 1
    } else {
        nodes.insert(ni + 1, right);
        nodes.insert(ni + 1, single(v));
        ni + 2
    };
    // The halves of a split node may fit with their outer neighbours.
    try_merge(nodes, r + 1, nl);
    try_merge(nodes, ni, nl);
}

/// Merges node `i` into node `i - 1` when the two fit in one node.
fn try_merge(nodes: &mut VecDeque<Pack>, i: usize, nl: NodeLimit) {
    let Some(prev) = i.checked_sub(1) else { return };
    let (Some(a), Some(b)) = (nodes.get(prev), nodes.get(i)) else { return };
    if nl.exceeds(a.bytes() + b.bytes(), a.len() + b.len()) {
        return;
    }
    if let Some(b) = nodes.remove(i) {
        let a = &mut nodes[prev];
        for v in b.iter() {
            a.push_back(v);
        }
    }
}

/// Elements of a [`List`] range, front to back.
pub struct Iter<'a> {
    cur: Option<pack::Iter<'a>>,
    nodes: Nodes<'a>,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        loop {
            if let Some(v) = self.cur.as_mut()?.next() {
                self.left -= 1;
                return Some(v);
            }
            self.cur = Some(self.nodes.next()?.iter());
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Elements of a [`List`], back to front (one node is unpacked at a time).
pub struct RevIter<'a> {
    nodes: std::iter::Rev<Nodes<'a>>,
    buf: Vec<&'a [u8]>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if let Some(v) = self.buf.pop() {
                return Some(v);
            }
            self.buf.extend(self.nodes.next()?.iter());
        }
    }
}

#[cfg(test)]
mod tests;
