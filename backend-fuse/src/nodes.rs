//! FUSE inode numbers, lookup counts and retirement.
//!
//! * The root is ino 1. Every other file is known to the kernel under its *current node*:
//!   normally ino = `FileId.0` (FileIds are ≥ 2^32, so never 1), which needs no table to
//!   translate back.
//! * Every reply that hands the kernel a node (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK, LINK,
//!   each READDIRPLUS entry) adds one to the node's lookup count; FORGET takes them away. While
//!   a node's count is above zero the engine keeps the file pinned ([`Volume::pin`]), so a
//!   deleted file the kernel still holds stays valid (deleted-but-open files keep working).
//! * **Retirement** (the cache scheme, see the crate docs): when the kernel may hold a cached
//!   name for a file that no longer leads there — the file changed kind (a directory became a
//!   junction) or lost or changed a name while the kernel had looked it up under another case
//!   spelling — the file's node is *retired*: every path-based request on it then answers
//!   ESTALE, which makes the kernel walk the path again with LOOKUP_REVAL. The next lookup
//!   gives the file a fresh node from the spare range `2..2^32`, which no FileId uses. Requests
//!   that carry a file handle (read, write, release, fstat through readdir handles) keep
//!   working on a retired node, so open files are never disturbed.
//!
//! * A node is bound to the file *kind* Linux saw when it was made (directory, symlink,
//!   file): every reply that carries attributes is checked against it under the table's lock,
//!   and a node whose file changed kind is retired instead of answered. The kernel marks an
//!   inode bad (EIO) when a reply gives it another type; this binding makes that impossible,
//!   even for requests racing with the change.
//!
//! Lock order: this table's lock is taken before the engine's lock (pin/unpin run under it),
//! never the other way round, and no kernel notification is sent while holding it.

use crate::attr::{self, Kind};
use crate::errno::Errno;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use vfs_core::{FileId, Stat, Volume};

/// FUSE's root node id.
pub(crate) const ROOT_INO: u64 = 1;
/// Nodes below this are spare nodes (from the table); at or above it, ino = FileId.0.
const SPARE_LIMIT: u64 = 1 << 32;
/// Names remembered per node (for invalidation); beyond this the oldest are dropped.
const MAX_NAMES: usize = 8;

/// A name under which the kernel may have cached a node: the parent node and the name bytes.
pub(crate) type KernelName = (u64, Box<[u8]>);

#[derive(Debug)]
struct Node {
    /// The node id this node is known under (the key, kept here so a node can be moved).
    ino: u64,
    file: FileId,
    lookups: u64,
    names: NodeNames,
    kind: Kind,
    retired: bool,
    /// Looked up under a spelling other than the stored one since this node was made.
    aliased: bool,
}

/// The names under which the kernel may have cached a node, in one allocation: records of
/// parent node (8 bytes, little-endian), name length (2 bytes) and the name's bytes, oldest
/// first. Nearly every node has one name, so this is one small allocation per node (32 bytes
/// from malloc for a name of up to 14 bytes) where a `Vec` of boxed names cost two (the
/// vector's first growth holds four names: 112 bytes, the boxed name 32 more).
#[derive(Debug, Default)]
struct NodeNames(Box<[u8]>);

const PARENT_LEN: usize = 8;
const HEADER_LEN: usize = PARENT_LEN + 2;

impl NodeNames {
    /// The records, as (parent, name bytes).
    fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let mut rest = &self.0[..];
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

    fn to_vec(&self) -> Vec<KernelName> {
        self.iter().map(|(p, n)| (p, n.into())).collect()
    }

    /// Records `name` in `parent` unless it is there; beyond [`MAX_NAMES`] the oldest goes.
    fn add(&mut self, parent: u64, name: &[u8]) {
        if self.iter().any(|(p, n)| p == parent && n == name) {
            return;
        }
        // A name reaching the table was accepted by the engine (at most 255 UTF-16 units, so
        // at most 765 bytes of WTF-8): it always fits the 2-byte length.
        let Ok(len) = u16::try_from(name.len()) else {
            tracing::warn!(parent, len = name.len(), "kernel name too long to record");
            return;
        };
        let mut old: Vec<(u64, &[u8])> = self.iter().collect();
        if old.len() >= MAX_NAMES {
            old.drain(..=old.len() - MAX_NAMES);
        }
        let size =
            old.iter().map(|(_, n)| HEADER_LEN + n.len()).sum::<usize>() + HEADER_LEN + name.len();
        let mut buf = Vec::with_capacity(size);
        for (p, n) in old {
            buf.extend_from_slice(&p.to_le_bytes());
            buf.extend_from_slice(&(n.len() as u16).to_le_bytes());
            buf.extend_from_slice(n);
        }
        buf.extend_from_slice(&parent.to_le_bytes());
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(name);
        self.0 = buf.into_boxed_slice();
    }
}

/// The nodes the kernel holds, by node id, packed densely. A default node's id is its
/// file's `FileId`, whose low 32 bits are the engine's slot number: slots are dense (the
/// engine reuses them), so `by_slot` (4 bytes per slot) finds a default node without a hash
/// table, whose buckets and growth slack cost more than the node itself (a `HashMap<u64,
/// Node>` at 300,000 nodes had 524,288 buckets). Only one default node can sit in a slot at a
/// time (every node pins its file, so its slot is not reused); the few others (spare nodes,
/// and defensively any second node of a slot) are in `other`.
#[derive(Debug, Default)]
struct NodeMap {
    list: Vec<Node>,
    /// Slot → index in `list` plus one (0: no default node in that slot).
    by_slot: Vec<u32>,
    other: HashMap<u64, usize>,
}

fn slot_of(ino: u64) -> usize {
    (ino & 0xFFFF_FFFF) as usize
}

impl NodeMap {
    fn index(&self, ino: u64) -> Option<usize> {
        if ino >= SPARE_LIMIT {
            if let Some(&i) = self.by_slot.get(slot_of(ino)) {
                if i != 0 && self.list[i as usize - 1].ino == ino {
                    return Some(i as usize - 1);
                }
            }
        }
        self.other.get(&ino).copied()
    }

    fn get(&self, ino: &u64) -> Option<&Node> {
        self.index(*ino).map(|i| &self.list[i])
    }

    fn get_mut(&mut self, ino: &u64) -> Option<&mut Node> {
        self.index(*ino).map(|i| &mut self.list[i])
    }

    fn contains_key(&self, ino: &u64) -> bool {
        self.index(*ino).is_some()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.list.len()
    }

    /// Points the key `ino` at `list[idx]`.
    fn link(&mut self, ino: u64, idx: usize) {
        if ino >= SPARE_LIMIT {
            let s = slot_of(ino);
            if self.by_slot.len() <= s {
                self.by_slot.resize(s + 1, 0);
            }
            let here = self.by_slot[s];
            let free = here == 0
                || self
                    .list
                    .get(here as usize - 1)
                    .is_none_or(|n| n.ino == ino);
            // `list` never holds 2^32 nodes (each costs more than 40 bytes).
            if let (true, Ok(v)) = (free, u32::try_from(idx + 1)) {
                self.by_slot[s] = v;
                return;
            }
        }
        self.other.insert(ino, idx);
    }

    /// Adds a node (its id must not be in the map) and returns it.
    fn insert(&mut self, node: Node) -> &mut Node {
        let ino = node.ino;
        let idx = self.list.len();
        self.list.push(node);
        self.link(ino, idx);
        &mut self.list[idx]
    }

    fn remove(&mut self, ino: &u64) -> Option<Node> {
        let idx = self.index(*ino)?;
        let s = slot_of(*ino);
        if *ino >= SPARE_LIMIT && self.by_slot.get(s) == Some(&((idx + 1) as u32)) {
            self.by_slot[s] = 0;
        } else {
            self.other.remove(ino);
        }
        let last = self.list.len() - 1;
        let node = self.list.swap_remove(idx);
        if idx != last {
            // The last node moved into the gap.
            let moved = self.list[idx].ino;
            let ms = slot_of(moved);
            if moved >= SPARE_LIMIT && self.by_slot.get(ms) == Some(&((last + 1) as u32)) {
                self.by_slot[ms] = (idx + 1) as u32;
            } else {
                self.other.insert(moved, idx);
            }
        }
        // Give memory back after the kernel forgot most of its nodes (amortized: the list
        // must have shrunk to a quarter first).
        if self.list.capacity() > 64 && self.list.len() < self.list.capacity() / 4 {
            self.list.shrink_to(self.list.len() * 2);
        }
        Some(node)
    }

    fn drain(&mut self) -> impl Iterator<Item = Node> {
        self.by_slot = Vec::new();
        self.other = HashMap::new();
        std::mem::take(&mut self.list).into_iter()
    }
}

#[derive(Debug, Default)]
struct Inner {
    nodes: NodeMap,
    /// Spare nodes of each file that has any.
    spares: HashMap<FileId, Vec<u64>>,
    next_spare: u64,
}

/// The node table.
#[derive(Debug)]
pub(crate) struct Nodes {
    inner: RwLock<Inner>,
    /// Number of retired nodes the kernel still holds (0 → no table look-up needed).
    retired: AtomicUsize,
    /// Number of files with spare nodes (0 → ino_of needs no table look-up).
    spared: AtomicUsize,
    root: FileId,
}

impl Nodes {
    pub(crate) fn new(root: FileId) -> Nodes {
        Nodes {
            inner: RwLock::new(Inner {
                next_spare: 2,
                ..Inner::default()
            }),
            retired: AtomicUsize::new(0),
            spared: AtomicUsize::new(0),
            root,
        }
    }

    /// The file a node stands for (retired or not).
    pub(crate) fn file_of(&self, ino: u64) -> Option<FileId> {
        if ino == ROOT_INO {
            Some(self.root)
        } else if ino >= SPARE_LIMIT {
            Some(FileId(ino))
        } else {
            self.inner.read().nodes.get(&ino).map(|n| n.file)
        }
    }

    /// The file of a node used by a path-based request: a retired node → ESTALE (the kernel
    /// then re-walks the path with LOOKUP_REVAL); an unknown spare node → ESTALE too.
    pub(crate) fn live(&self, ino: u64) -> Result<FileId, Errno> {
        if ino == ROOT_INO {
            return Ok(self.root);
        }
        if ino >= SPARE_LIMIT && self.retired.load(Ordering::Acquire) == 0 {
            return Ok(FileId(ino));
        }
        let g = self.inner.read();
        match g.nodes.get(&ino) {
            Some(n) if n.retired => Err(Errno::ESTALE),
            Some(n) => Ok(n.file),
            None if ino >= SPARE_LIMIT => Ok(FileId(ino)),
            None => Err(Errno::ESTALE),
        }
    }

    /// The node a file is shown under right now (for readdir's d_ino), without counting.
    pub(crate) fn ino_of(&self, file: FileId) -> u64 {
        if file == self.root {
            return ROOT_INO;
        }
        if self.spared.load(Ordering::Acquire) == 0 && self.retired.load(Ordering::Acquire) == 0 {
            return file.0;
        }
        self.inner.read().peek_current(file)
    }

    /// The file and attributes of node `ino`, checked against the node: a retired node (unless
    /// `with_handle`: the request carries an open handle) or one whose file changed kind →
    /// ESTALE, so that no reply ever gives the kernel another type for an inode.
    pub(crate) fn stat(
        &self,
        vol: &Volume,
        ino: u64,
        with_handle: bool,
    ) -> Result<(FileId, Stat), Errno> {
        let err = crate::errno::errno;
        if ino == ROOT_INO {
            return Ok((self.root, vol.stat(self.root).map_err(err)?));
        }
        {
            let g = self.inner.read();
            match g.nodes.get(&ino) {
                None if ino >= SPARE_LIMIT => {
                    let f = FileId(ino);
                    return Ok((f, vol.stat(f).map_err(err)?));
                }
                None => return Err(Errno::ESTALE),
                Some(n) if n.retired && !with_handle => return Err(Errno::ESTALE),
                Some(n) => {
                    let st = vol.stat(n.file).map_err(err)?;
                    if attr::kind(&st) == n.kind {
                        return Ok((n.file, st));
                    }
                }
            }
        }
        let mut g = self.inner.write();
        if let Some(n) = g.nodes.get_mut(&ino) {
            if !n.retired {
                n.retired = true;
                self.retired.fetch_add(1, Ordering::AcqRel);
            }
        }
        Err(Errno::ESTALE)
    }

    /// Hands the kernel a node for `file`, seen under `name` in directory node `parent`:
    /// creates the node (pinning the file in the engine) or adds one to its lookup count, and
    /// returns it with the file's attributes read under the table's lock (so the node's kind
    /// and the attributes in the reply agree). `aliased`: the name was spelled otherwise than
    /// stored. Fails if the file is gone.
    pub(crate) fn remember(
        &self,
        vol: &Volume,
        file: FileId,
        parent: u64,
        name: &[u8],
        aliased: bool,
    ) -> Result<(u64, Stat), vfs_core::Error> {
        if file == self.root {
            return Ok((ROOT_INO, vol.stat(file)?));
        }
        let mut g = self.inner.write();
        let st = vol.stat(file)?;
        let kind = attr::kind(&st);
        let mut ino = g.current(file);
        if let Some(n) = g.nodes.get_mut(&ino) {
            if n.kind != kind {
                // The file changed kind since the kernel got this node.
                n.retired = true;
                self.retired.fetch_add(1, Ordering::AcqRel);
                ino = g.current(file);
            }
        }
        if ino < SPARE_LIMIT {
            let list = g.spares.entry(file).or_default();
            if !list.contains(&ino) {
                if list.is_empty() {
                    self.spared.fetch_add(1, Ordering::AcqRel);
                }
                list.push(ino);
            }
        }
        let node = match g.nodes.get_mut(&ino) {
            Some(n) => n,
            None => {
                if let Err(e) = vol.pin(file) {
                    g.drop_spare(file, ino, &self.spared);
                    return Err(e);
                }
                g.nodes.insert(Node {
                    ino,
                    file,
                    kind,
                    lookups: 0,
                    retired: false,
                    aliased: false,
                    names: NodeNames::default(),
                })
            }
        };
        node.lookups += 1;
        node.aliased |= aliased;
        node.names.add(parent, name);
        Ok((ino, st))
    }

    /// FORGET: the kernel dropped `n` references to node `ino`.
    pub(crate) fn forget(&self, vol: &Volume, ino: u64, n: u64) {
        if ino == ROOT_INO {
            return;
        }
        let mut g = self.inner.write();
        let Some(node) = g.nodes.get_mut(&ino) else {
            return;
        };
        node.lookups = node.lookups.saturating_sub(n);
        if node.lookups > 0 {
            return;
        }
        let node = g.nodes.remove(&ino).expect("present");
        if node.retired {
            self.retired.fetch_sub(1, Ordering::AcqRel);
        }
        if ino < SPARE_LIMIT {
            g.drop_spare(node.file, ino, &self.spared);
        }
        // The file may already be gone for good (a pin keeps it; failure means a bug
        // elsewhere, not something the kernel can act on).
        let _ = vol.unpin(node.file, 1);
    }

    /// Has the kernel looked `file` up under a spelling other than the stored one?
    pub(crate) fn is_aliased(&self, file: FileId) -> bool {
        let g = self.inner.read();
        let ino = g.peek_current(file);
        g.nodes.get(&ino).is_some_and(|n| n.aliased)
    }

    /// Marks `file`'s current node as possibly cached under other spellings (its stored name
    /// changed case).
    pub(crate) fn mark_aliased(&self, file: FileId) {
        let mut g = self.inner.write();
        let ino = g.peek_current(file);
        if let Some(n) = g.nodes.get_mut(&ino) {
            n.aliased = true;
        }
    }

    /// Records that the kernel now holds `file`'s current node under `name` in `parent` too
    /// (a rename moved its dentry there), so that a later retirement drops that name.
    pub(crate) fn add_name(&self, file: FileId, parent: u64, name: &[u8]) {
        let mut g = self.inner.write();
        let ino = g.peek_current(file);
        if let Some(n) = g.nodes.get_mut(&ino) {
            n.names.add(parent, name);
        }
    }

    /// Retires every node of `file`; returns every node the kernel holds for it (newly or
    /// earlier retired: all must have their cached attributes dropped) with the names the
    /// kernel may have cached for it.
    pub(crate) fn retire(&self, file: FileId) -> Vec<(u64, Vec<KernelName>)> {
        if file == self.root {
            return Vec::new();
        }
        let mut g = self.inner.write();
        let mut inos = vec![file.0];
        inos.extend(g.spares.get(&file).into_iter().flatten().copied());
        let mut out = Vec::new();
        for ino in inos {
            if let Some(n) = g.nodes.get_mut(&ino) {
                if !n.retired {
                    n.retired = true;
                    self.retired.fetch_add(1, Ordering::AcqRel);
                }
                out.push((ino, n.names.to_vec()));
            }
        }
        out
    }

    /// Names under which the kernel may have cached any node of `file`.
    pub(crate) fn kernel_names(&self, file: FileId) -> Vec<KernelName> {
        let g = self.inner.read();
        let mut out = Vec::new();
        if let Some(n) = g.nodes.get(&file.0) {
            out.extend(n.names.to_vec());
        }
        for ino in g.spares.get(&file).into_iter().flatten() {
            if let Some(n) = g.nodes.get(ino) {
                out.extend(n.names.to_vec());
            }
        }
        out
    }

    /// Every node of `file` other than `ino` that the kernel holds (a retired node still
    /// serving open files, beside the current one).
    pub(crate) fn other_nodes(&self, file: FileId, ino: u64) -> Vec<u64> {
        if self.spared.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let g = self.inner.read();
        let Some(spares) = g.spares.get(&file) else {
            return Vec::new();
        };
        std::iter::once(file.0)
            .chain(spares.iter().copied())
            .filter(|&i| i != ino && g.nodes.contains_key(&i))
            .collect()
    }

    /// Drops every node (the session is over): unpins every file.
    pub(crate) fn clear(&self, vol: &Volume) {
        let mut g = self.inner.write();
        for n in g.nodes.drain() {
            let _ = vol.unpin(n.file, 1);
        }
        g.spares.clear();
        self.retired.store(0, Ordering::Release);
        self.spared.store(0, Ordering::Release);
    }

    /// Number of nodes the kernel holds (tests and leak checks).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.read().nodes.len()
    }
}

impl Inner {
    /// The node `file` is shown under now, if it has one or its default node is free; None
    /// when its default node is retired and still held and it has no live spare.
    fn find_current(&self, file: FileId) -> Option<u64> {
        let d = file.0;
        match self.nodes.get(&d) {
            Some(n) if !n.retired => return Some(d),
            None if !self.spares.contains_key(&file) => return Some(d),
            _ => {}
        }
        if let Some(list) = self.spares.get(&file) {
            if let Some(&i) = list
                .iter()
                .find(|i| self.nodes.get(i).is_some_and(|n| !n.retired))
            {
                return Some(i);
            }
        }
        if !self.nodes.contains_key(&d) {
            return Some(d);
        }
        None
    }

    /// The node `file` is shown under now (its retired default node if it has no other).
    fn peek_current(&self, file: FileId) -> u64 {
        self.find_current(file).unwrap_or(file.0)
    }

    /// The node to hand out for `file`: its current one, or a new spare node.
    fn current(&mut self, file: FileId) -> u64 {
        if let Some(i) = self.find_current(file) {
            return i;
        }
        loop {
            let s = self.next_spare;
            self.next_spare = if s + 1 >= SPARE_LIMIT { 2 } else { s + 1 };
            if !self.nodes.contains_key(&s) && !self.spares.values().any(|l| l.contains(&s)) {
                return s;
            }
        }
    }

    fn drop_spare(&mut self, file: FileId, ino: u64, spared: &AtomicUsize) {
        if let Some(list) = self.spares.get_mut(&file) {
            list.retain(|&i| i != ino);
            if list.is_empty() {
                self.spares.remove(&file);
                spared.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::{NewFile, VolumeOptions};

    #[test]
    fn lookups_pin_and_forget_unpins() {
        let v = Volume::new(VolumeOptions::default());
        let id = v.create_path(r"\f", &NewFile::file()).unwrap();
        let n = Nodes::new(v.root());
        let ino = n.remember(&v, id, 1, b"f", false).unwrap().0;
        assert_eq!(ino, id.0);
        assert_eq!(n.remember(&v, id, 1, b"f", false).unwrap().0, ino);
        v.delete_path(r"\f", vfs_core::UnlinkKind::File).unwrap();
        // Pinned: the deleted file stays valid while the kernel holds it.
        assert!(v.stat(id).is_ok());
        n.forget(&v, ino, 1);
        assert!(v.stat(id).is_ok());
        n.forget(&v, ino, 1);
        assert!(v.stat(id).is_err());
        assert_eq!(n.len(), 0);
        v.check().unwrap();
    }

    #[test]
    fn retired_node_answers_estale_and_next_lookup_gets_a_spare() {
        let v = Volume::new(VolumeOptions::default());
        let id = v.create_path(r"\f", &NewFile::file()).unwrap();
        let n = Nodes::new(v.root());
        let a = n.remember(&v, id, 1, b"F", true).unwrap().0;
        assert!(n.is_aliased(id));
        let r = n.retire(id);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, a);
        assert_eq!(n.live(a), Err(Errno::ESTALE));
        assert_eq!(n.file_of(a), Some(id));
        let b = n.remember(&v, id, 1, b"f", false).unwrap().0;
        assert!((2..SPARE_LIMIT).contains(&b));
        assert_eq!(n.live(b), Ok(id));
        assert_eq!(n.ino_of(id), b);
        assert_eq!(n.other_nodes(id, b), vec![a]);
        assert!(!n.is_aliased(id));
        n.forget(&v, a, 1);
        assert!(n.live(a).is_ok()); // default ino: no longer retired, maps to the file
        n.forget(&v, b, 1);
        assert_eq!(n.len(), 0);
        assert_eq!(n.live(b), Err(Errno::ESTALE));
        // With the default node forgotten, the file is shown under it again.
        assert_eq!(n.remember(&v, id, 1, b"f", false).unwrap().0, id.0);
        n.clear(&v);
        v.check().unwrap();
    }

    #[test]
    fn a_node_never_answers_with_another_kind() {
        let v = Volume::new(VolumeOptions::default());
        let id = v.create_path(r"\d", &NewFile::dir()).unwrap();
        let n = Nodes::new(v.root());
        let (a, st) = n.remember(&v, id, 1, b"d", false).unwrap();
        assert_eq!(attr::kind(&st), Kind::Directory);
        let rp = vfs_core::reparse::junction_for_target(
            &"C:\\t".encode_utf16().collect::<Vec<_>>(),
            'C',
        )
        .unwrap();
        v.set_reparse_point(id, rp.as_bytes()).unwrap();
        // Not yet retired by anyone: the kind check retires it.
        assert_eq!(n.stat(&v, a, false).unwrap_err(), Errno::ESTALE);
        assert_eq!(n.stat(&v, a, true).unwrap_err(), Errno::ESTALE);
        let (b, st) = n.remember(&v, id, 1, b"d", false).unwrap();
        assert_ne!(a, b);
        assert_eq!(attr::kind(&st), Kind::Symlink);
        assert_eq!(n.stat(&v, b, false).unwrap().0, id);
        n.clear(&v);
    }

    #[test]
    fn root_is_ino_1_and_never_counted() {
        let v = Volume::new(VolumeOptions::default());
        let n = Nodes::new(v.root());
        assert_eq!(n.file_of(ROOT_INO), Some(v.root()));
        assert_eq!(n.remember(&v, v.root(), 1, b"x", false).unwrap().0, 1);
        assert!(n.retire(v.root()).is_empty());
        assert_eq!(n.len(), 0);
    }

    fn node(ino: u64) -> Node {
        Node {
            ino,
            file: FileId(ino),
            lookups: 1,
            names: NodeNames::default(),
            kind: Kind::File,
            retired: false,
            aliased: false,
        }
    }

    /// The packed map answers as a plain map would, through inserts and removals in any
    /// order, for default ids, spare ids and two ids sharing a slot.
    #[test]
    fn the_node_map_agrees_with_a_hash_map() {
        let mut m = NodeMap::default();
        let mut model: HashMap<u64, u64> = HashMap::new();
        let mut ids: Vec<u64> = (0..3000u64).map(|i| (1 << 32) | (i * 7 % 3001)).collect();
        ids.extend((2..500u64).map(|i| i * 3)); // spare nodes
        ids.push((2 << 32) | 5); // the slot of (1 << 32) | 5, another generation
        for (k, &ino) in ids.iter().enumerate() {
            m.insert(node(ino)).lookups = k as u64;
            model.insert(ino, k as u64);
        }
        // Remove every third id, in a scrambled order, then check everything.
        let mut gone: Vec<u64> = ids.iter().copied().step_by(3).collect();
        gone.sort_by_key(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for ino in &gone {
            assert_eq!(m.remove(ino).map(|n| n.ino), Some(*ino));
            model.remove(ino);
            assert!(m.remove(ino).is_none());
        }
        assert_eq!(m.len(), model.len());
        for &ino in &ids {
            assert_eq!(
                m.get(&ino).map(|n| n.lookups),
                model.get(&ino).copied(),
                "{ino:#x}"
            );
            assert_eq!(m.contains_key(&ino), model.contains_key(&ino));
        }
        assert!(m.get(&((3 << 32) | 5)).is_none());
        let mut left: Vec<u64> = m.drain().map(|n| n.ino).collect();
        left.sort_unstable();
        let mut want: Vec<u64> = model.keys().copied().collect();
        want.sort_unstable();
        assert_eq!(left, want);
        assert_eq!(m.len(), 0);
        assert!(m.get(&ids[1]).is_none());
    }

    #[test]
    fn node_names_keep_the_newest_eight_and_no_duplicates() {
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
        // One record of an 8-byte name fits the smallest allocation malloc makes.
        let mut one = NodeNames::default();
        one.add(1 << 32, b"f0000001");
        assert_eq!(one.0.len(), HEADER_LEN + 8);
    }
}
