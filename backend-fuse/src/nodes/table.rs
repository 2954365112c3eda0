//! The node table's storage, packed: what the daemon keeps per kernel node is most of its
//! memory per file beside the engine's (issue 17: at most 350 bytes of daemon RSS per empty
//! file, docs/BENCHMARKS.md). A node is 40 bytes with its first name in place; nodes sit in
//! fixed-size blocks (no reallocation, so no copies left behind, and at most one block of
//! slack), found by the slot number of their `FileId` without a hash table.

use super::{KernelName, MAX_NAMES, SPARE_LIMIT};
use crate::attr::Kind;
use std::collections::HashMap;
use vfs_core::FileId;

/// Lookup counts live in the low 56 bits of [`Node::state`]: a count cannot reach 2^56 (one
/// reply each: 2,000 years at a million a second), and saturates there.
const LOOKUPS: u64 = (1 << 56) - 1;
const KIND_SHIFT: u32 = 56;
const KIND_MASK: u64 = 0b111 << KIND_SHIFT;
const RETIRED: u64 = 1 << 59;
const ALIASED: u64 = 1 << 60;

const KINDS: [Kind; 7] = [
    Kind::Directory,
    Kind::Symlink,
    Kind::Fifo,
    Kind::Socket,
    Kind::CharDevice,
    Kind::BlockDevice,
    Kind::File,
];

fn kind_bits(k: Kind) -> u64 {
    KINDS
        .iter()
        .position(|x| *x == k)
        .unwrap_or(KINDS.len() - 1) as u64
}

/// One kernel node.
#[derive(Debug)]
pub(super) struct Node {
    /// The node id (the key, kept here so that a node can be moved inside the table).
    ino: u64,
    /// Lookup count, kind (bound when the node was made) and the retired and aliased flags.
    state: u64,
    names: NodeNames,
}

impl Node {
    pub fn new(ino: u64, kind: Kind) -> Node {
        Node {
            ino,
            state: kind_bits(kind) << KIND_SHIFT,
            names: NodeNames::default(),
        }
    }
    pub fn lookups(&self) -> u64 {
        self.state & LOOKUPS
    }
    pub fn set_lookups(&mut self, n: u64) {
        self.state = (self.state & !LOOKUPS) | n.min(LOOKUPS);
    }
    /// The file type Linux was given with this node.
    pub fn kind(&self) -> Kind {
        KINDS[((self.state & KIND_MASK) >> KIND_SHIFT) as usize % KINDS.len()]
    }
    pub fn retired(&self) -> bool {
        self.state & RETIRED != 0
    }
    pub fn set_retired(&mut self) {
        self.state |= RETIRED;
    }
    /// Looked up under a spelling other than the stored one since this node was made.
    pub fn aliased(&self) -> bool {
        self.state & ALIASED != 0
    }
    pub fn set_aliased(&mut self) {
        self.state |= ALIASED;
    }
    /// Records that the kernel may have cached this node as `name` in `parent`.
    pub fn add_name(&mut self, parent: u64, name: &[u8]) {
        self.names.add(parent, name)
    }
    /// The names the kernel may have cached this node under.
    pub fn names(&self) -> Vec<KernelName> {
        self.names.to_vec()
    }
}

/// Name bytes kept in place: what fits beside the parent, a length and the variant tag in 24.
const INLINE_NAME: usize = 14;
const PARENT_LEN: usize = 8;
const HEADER_LEN: usize = PARENT_LEN + 2;

/// The names under which the kernel may have cached a node. Nearly every node has one, which
/// is kept in place when it is short; otherwise one allocation holds records of parent node
/// (8 bytes, little-endian), name length (2 bytes) and the name's bytes, oldest first. (A
/// `Vec` of boxed names cost two allocations per node: the vector's first growth holds four
/// names, 112 bytes from malloc, and the boxed name 32 more.)
#[derive(Debug)]
enum NodeNames {
    One {
        parent: u64,
        len: u8,
        bytes: [u8; INLINE_NAME],
    },
    Records(Box<[u8]>),
}

impl Default for NodeNames {
    fn default() -> Self {
        NodeNames::Records(Box::default())
    }
}

/// Decodes `Records`.
fn records(mut rest: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    std::iter::from_fn(move || {
        if rest.len() < HEADER_LEN {
            return None;
        }
        let (head, tail) = rest.split_at(HEADER_LEN);
        let parent = u64::from_le_bytes(head[..PARENT_LEN].try_into().ok()?);
        let len = u16::from_le_bytes(head[PARENT_LEN..].try_into().ok()?) as usize;
        let (name, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;
        Some((parent, name))
    })
}

impl NodeNames {
    fn for_each(&self, mut f: impl FnMut(u64, &[u8])) {
        match self {
            NodeNames::One { parent, len, bytes } => f(*parent, &bytes[..*len as usize]),
            NodeNames::Records(r) => records(r).for_each(|(p, n)| f(p, n)),
        }
    }

    fn contains(&self, parent: u64, name: &[u8]) -> bool {
        match self {
            NodeNames::One {
                parent: p,
                len,
                bytes,
            } => *p == parent && &bytes[..*len as usize] == name,
            NodeNames::Records(r) => records(r).any(|(p, n)| p == parent && n == name),
        }
    }

    fn to_vec(&self) -> Vec<KernelName> {
        let mut out = Vec::new();
        self.for_each(|p, n| out.push((p, n.into())));
        out
    }

    /// Records `name` in `parent` unless it is there; beyond [`MAX_NAMES`] the oldest goes.
    fn add(&mut self, parent: u64, name: &[u8]) {
        if self.contains(parent, name) {
            return;
        }
        if let NodeNames::Records(r) = self {
            if r.is_empty() && name.len() <= INLINE_NAME {
                let mut bytes = [0u8; INLINE_NAME];
                bytes[..name.len()].copy_from_slice(name);
                *self = NodeNames::One {
                    parent,
                    len: name.len() as u8,
                    bytes,
                };
                return;
            }
        }
        // A name reaching the table was accepted by the engine (at most 255 UTF-16 units, so
        // at most 765 bytes of WTF-8): it always fits the 2-byte length.
        let Ok(len) = u16::try_from(name.len()) else {
            tracing::warn!(parent, len = name.len(), "kernel name too long to record");
            return;
        };
        // The new buffer is the kept tail of the old records (they are oldest first, so
        // dropping the oldest drops a prefix) and the new record: one allocation and a copy.
        // (Rebuilding it through a vector of the names cost one allocation per name, for
        // every name a file with many hard links was looked up under; daemon profiles of
        // the package-store walk, BENCHMARKS.md "Daemon CPU per request".)
        let mut one = [0u8; HEADER_LEN + INLINE_NAME];
        let old: &[u8] = match self {
            NodeNames::One {
                parent: p,
                len: l,
                bytes,
            } => {
                let l = *l as usize;
                one[..PARENT_LEN].copy_from_slice(&p.to_le_bytes());
                one[PARENT_LEN..HEADER_LEN].copy_from_slice(&(l as u16).to_le_bytes());
                one[HEADER_LEN..HEADER_LEN + l].copy_from_slice(&bytes[..l]);
                &one[..HEADER_LEN + l]
            }
            NodeNames::Records(r) => r,
        };
        let count = records(old).count();
        let skip = (count + 1).saturating_sub(MAX_NAMES);
        let start: usize = records(old)
            .take(skip)
            .map(|(_, n)| HEADER_LEN + n.len())
            .sum();
        let mut buf = Vec::with_capacity(old.len() - start + HEADER_LEN + name.len());
        buf.extend_from_slice(&old[start..]);
        buf.extend_from_slice(&parent.to_le_bytes());
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(name);
        *self = NodeNames::Records(buf.into_boxed_slice());
    }
}

/// Nodes per block of [`NodeMap::blocks`] (40 KiB).
const BLOCK: usize = 1024;

/// The nodes the kernel holds, by node id. A default node's id is its file's `FileId`, whose
/// low 32 bits are the engine's slot number: slots are dense (the engine reuses them), so
/// `by_slot` (4 bytes per slot) finds a default node without a hash table, whose buckets and
/// growth slack cost more than the node itself (a `HashMap<u64, Node>` of 300,000 nodes had
/// 524,288 buckets of 57 bytes). Only one default node can sit in a slot at a time (every node
/// pins its file, so its slot is not reused while it exists); the few others (spare nodes,
/// and defensively a second node of a slot) are in `other`. Nodes are stored densely (a
/// removal moves the last node into the gap) in blocks of [`BLOCK`].
#[derive(Debug, Default)]
pub(super) struct NodeMap {
    blocks: Vec<Vec<Node>>,
    len: usize,
    /// Slot → position plus one (0: no default node in that slot).
    by_slot: Vec<u32>,
    other: HashMap<u64, usize>,
    /// The file of each spare node (a default node's file is its id).
    spare_files: HashMap<u64, FileId>,
}

fn slot_of(ino: u64) -> usize {
    (ino & 0xFFFF_FFFF) as usize
}

impl NodeMap {
    fn at(&self, i: usize) -> &Node {
        &self.blocks[i / BLOCK][i % BLOCK]
    }

    fn at_mut(&mut self, i: usize) -> &mut Node {
        &mut self.blocks[i / BLOCK][i % BLOCK]
    }

    fn index(&self, ino: u64) -> Option<usize> {
        if ino >= SPARE_LIMIT {
            if let Some(&i) = self.by_slot.get(slot_of(ino)) {
                if i != 0 && self.at(i as usize - 1).ino == ino {
                    return Some(i as usize - 1);
                }
            }
        }
        self.other.get(&ino).copied()
    }

    pub fn get(&self, ino: &u64) -> Option<&Node> {
        self.index(*ino).map(|i| self.at(i))
    }

    pub fn get_mut(&mut self, ino: &u64) -> Option<&mut Node> {
        self.index(*ino).map(|i| self.at_mut(i))
    }

    pub fn contains_key(&self, ino: &u64) -> bool {
        self.index(*ino).is_some()
    }

    /// The file node `n` stands for.
    pub fn file(&self, n: &Node) -> FileId {
        if n.ino >= SPARE_LIMIT {
            FileId(n.ino)
        } else {
            // Every spare node has its entry (made with the node).
            self.spare_files
                .get(&n.ino)
                .copied()
                .unwrap_or(FileId(n.ino))
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Points the key `ino` at position `idx`.
    fn link(&mut self, ino: u64, idx: usize) {
        if ino >= SPARE_LIMIT {
            let s = slot_of(ino);
            if self.by_slot.len() <= s {
                self.by_slot.resize(s + 1, 0);
            }
            let here = self.by_slot[s] as usize;
            let free = here == 0 || here - 1 == idx || self.at(here - 1).ino == ino;
            // Positions stay below 2^32: a node costs 40 bytes, 2^32 of them 160 GiB.
            if let (true, Ok(v)) = (free, u32::try_from(idx + 1)) {
                self.by_slot[s] = v;
                return;
            }
        }
        self.other.insert(ino, idx);
    }

    /// Removes the key `ino` that points at `idx`.
    fn unlink(&mut self, ino: u64, idx: usize) {
        let s = slot_of(ino);
        if ino >= SPARE_LIMIT && self.by_slot.get(s).map(|&v| v as usize) == Some(idx + 1) {
            self.by_slot[s] = 0;
        } else {
            self.other.remove(&ino);
        }
    }

    /// Adds a node for `file` (its id must not be in the map) and returns it.
    pub fn insert(&mut self, node: Node, file: FileId) -> &mut Node {
        let ino = node.ino;
        if ino < SPARE_LIMIT {
            self.spare_files.insert(ino, file);
        }
        let idx = self.len;
        if idx % BLOCK == 0 {
            self.blocks.push(Vec::with_capacity(BLOCK));
        }
        self.blocks[idx / BLOCK].push(node);
        self.len += 1;
        self.link(ino, idx);
        self.at_mut(idx)
    }

    /// Removes node `ino`; returns it with its file.
    pub fn remove(&mut self, ino: &u64) -> Option<(Node, FileId)> {
        let idx = self.index(*ino)?;
        self.unlink(*ino, idx);
        let last = self.len - 1;
        if idx != last {
            let moved = self.at(last).ino;
            self.unlink(moved, last);
        }
        let mut node = self.blocks[last / BLOCK]
            .pop()
            .expect("the last node is there");
        if last % BLOCK == 0 {
            self.blocks.pop();
        }
        self.len -= 1;
        if idx != last {
            // The last node moves into the gap.
            std::mem::swap(self.at_mut(idx), &mut node);
            let moved = self.at(idx).ino;
            self.link(moved, idx);
        }
        let file = self.file(&node);
        self.spare_files.remove(ino);
        Some((node, file))
    }

    /// Takes every node out, with its file.
    pub fn drain(&mut self) -> Vec<(Node, FileId)> {
        let blocks = std::mem::take(&mut self.blocks);
        let out = blocks
            .into_iter()
            .flatten()
            .map(|n| {
                let f = self.file(&n);
                (n, f)
            })
            .collect();
        *self = NodeMap::default();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_40_bytes_with_a_short_name_in_place() {
        assert_eq!(std::mem::size_of::<Node>(), 40);
        let mut n = Node::new(1 << 32, Kind::Symlink);
        n.add_name(1, b"f0000001");
        assert!(matches!(n.names, NodeNames::One { .. }));
        assert_eq!(n.names(), vec![(1, b"f0000001"[..].into())]);
        assert_eq!(n.kind(), Kind::Symlink);
        assert!(!n.retired() && !n.aliased());
        n.set_lookups(3);
        n.set_retired();
        n.set_aliased();
        assert_eq!((n.lookups(), n.kind()), (3, Kind::Symlink));
        assert!(n.retired() && n.aliased());
        n.set_lookups(u64::MAX);
        assert_eq!(n.lookups(), LOOKUPS);
        assert_eq!(n.kind(), Kind::Symlink);
        for k in KINDS {
            assert_eq!(Node::new(5, k).kind(), k);
        }
    }

    #[test]
    fn node_names_keep_the_newest_eight_each_once() {
        let mut n = NodeNames::default();
        assert!(n.to_vec().is_empty());
        n.add(1, b"f");
        n.add(1, b"f");
        n.add(7, b"");
        assert_eq!(n.to_vec(), vec![(1, b"f"[..].into()), (7, b""[..].into())]);
        let long = vec![b'x'; 765];
        for p in 0..10u64 {
            n.add(p << 40, &long);
        }
        let v = n.to_vec();
        assert_eq!(v.len(), MAX_NAMES);
        assert_eq!(v[0].0, 2 << 40);
        assert!(v.iter().all(|(_, b)| **b == long[..]));
        // A first name longer than fits in place goes to the records.
        let mut one = NodeNames::default();
        one.add(9, b"fifteen-bytes!!");
        assert!(matches!(one, NodeNames::Records(_)));
        assert_eq!(one.to_vec(), vec![(9, b"fifteen-bytes!!"[..].into())]);
    }

    /// The packed map answers as a plain map would, through inserts and removals in any
    /// order, across blocks, for default ids, spare ids and two ids sharing a slot.
    #[test]
    fn the_node_map_agrees_with_a_hash_map() {
        let mut m = NodeMap::default();
        let mut model: HashMap<u64, (u64, FileId)> = HashMap::new();
        let mut ids: Vec<u64> = (0..3000u64).map(|i| (1 << 32) | (i * 7 % 3001)).collect();
        ids.extend((2..500u64).map(|i| i * 3)); // spare nodes
        ids.push((2 << 32) | 5); // the slot of (1 << 32) | 5, another generation
        for (k, &ino) in ids.iter().enumerate() {
            let file = if ino < SPARE_LIMIT {
                FileId((7 << 32) | ino)
            } else {
                FileId(ino)
            };
            let n = m.insert(Node::new(ino, Kind::File), file);
            n.set_lookups(k as u64);
            model.insert(ino, (k as u64, file));
        }
        // Remove every third id, in a scrambled order, then check everything.
        let mut gone: Vec<u64> = ids.iter().copied().step_by(3).collect();
        gone.sort_by_key(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for ino in &gone {
            let (n, f) = m.remove(ino).unwrap();
            assert_eq!((n.ino, f), (*ino, model[ino].1));
            model.remove(ino);
            assert!(m.remove(ino).is_none());
        }
        assert_eq!(m.len(), model.len());
        for &ino in &ids {
            let got = m.get(&ino).map(|n| (n.lookups(), m.file(n)));
            assert_eq!(got, model.get(&ino).copied(), "{ino:#x}");
            assert_eq!(m.contains_key(&ino), model.contains_key(&ino));
        }
        assert!(m.get(&((3 << 32) | 5)).is_none());
        let mut left: Vec<(u64, FileId)> = m.drain().into_iter().map(|(n, f)| (n.ino, f)).collect();
        left.sort_unstable_by_key(|x| x.0);
        let mut want: Vec<(u64, FileId)> = model.iter().map(|(i, v)| (*i, v.1)).collect();
        want.sort_unstable_by_key(|x| x.0);
        assert_eq!(left, want);
        assert_eq!(m.len(), 0);
        assert!(m.get(&ids[1]).is_none());
    }
}
