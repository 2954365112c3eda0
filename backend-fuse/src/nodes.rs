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

use crate::attr;
use crate::errno::Errno;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use vfs_core::{FileId, Stat, Volume};

mod table;
use table::{Node, NodeMap};

/// FUSE's root node id.
pub(crate) const ROOT_INO: u64 = 1;
/// Nodes below this are spare nodes (from the table); at or above it, ino = FileId.0.
const SPARE_LIMIT: u64 = 1 << 32;
/// Names remembered per node (for invalidation); beyond this the oldest are dropped.
const MAX_NAMES: usize = 8;

/// A name under which the kernel may have cached a node: the parent node and the name bytes.
pub(crate) type KernelName = (u64, Box<[u8]>);

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
            {
                let g = self.inner.read();
                g.nodes.get(&ino).map(|n| g.nodes.file(n))
            }
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
            Some(n) if n.retired() => Err(Errno::ESTALE),
            Some(n) => Ok(g.nodes.file(n)),
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
                Some(n) if n.retired() && !with_handle => return Err(Errno::ESTALE),
                Some(n) => {
                    let f = g.nodes.file(n);
                    let st = vol.stat(f).map_err(err)?;
                    if attr::kind(&st) == n.kind() {
                        return Ok((f, st));
                    }
                }
            }
        }
        let mut g = self.inner.write();
        if let Some(n) = g.nodes.get_mut(&ino) {
            if !n.retired() {
                n.set_retired();
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
            if n.kind() != kind {
                // The file changed kind since the kernel got this node.
                n.set_retired();
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
                g.nodes.insert(Node::new(ino, kind), file)
            }
        };
        node.set_lookups(node.lookups() + 1);
        if aliased {
            node.set_aliased();
        }
        node.add_name(parent, name);
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
        node.set_lookups(node.lookups().saturating_sub(n));
        if node.lookups() > 0 {
            return;
        }
        let Some((node, file)) = g.nodes.remove(&ino) else {
            return;
        };
        if node.retired() {
            self.retired.fetch_sub(1, Ordering::AcqRel);
        }
        if ino < SPARE_LIMIT {
            g.drop_spare(file, ino, &self.spared);
        }
        // The file may already be gone for good (a pin keeps it; failure means a bug
        // elsewhere, not something the kernel can act on).
        let _ = vol.unpin(file, 1);
    }

    /// Has the kernel looked `file` up under a spelling other than the stored one?
    pub(crate) fn is_aliased(&self, file: FileId) -> bool {
        let g = self.inner.read();
        let ino = g.peek_current(file);
        g.nodes.get(&ino).is_some_and(|n| n.aliased())
    }

    /// Marks `file`'s current node as possibly cached under other spellings (its stored name
    /// changed case).
    pub(crate) fn mark_aliased(&self, file: FileId) {
        let mut g = self.inner.write();
        let ino = g.peek_current(file);
        if let Some(n) = g.nodes.get_mut(&ino) {
            n.set_aliased();
        }
    }

    /// Records that the kernel now holds `file`'s current node under `name` in `parent` too
    /// (a rename moved its dentry there), so that a later retirement drops that name.
    pub(crate) fn add_name(&self, file: FileId, parent: u64, name: &[u8]) {
        let mut g = self.inner.write();
        let ino = g.peek_current(file);
        if let Some(n) = g.nodes.get_mut(&ino) {
            n.add_name(parent, name);
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
                if !n.retired() {
                    n.set_retired();
                    self.retired.fetch_add(1, Ordering::AcqRel);
                }
                out.push((ino, n.names()));
            }
        }
        out
    }

    /// Is node `ino` retired (rule 3 of the crate docs' "Caching")?
    pub(crate) fn is_retired(&self, ino: u64) -> bool {
        self.retired.load(Ordering::Acquire) != 0
            && self
                .inner
                .read()
                .nodes
                .get(&ino)
                .is_some_and(|n| n.retired())
    }

    /// Names under which the kernel may have cached any node of `file`.
    pub(crate) fn kernel_names(&self, file: FileId) -> Vec<KernelName> {
        let g = self.inner.read();
        let mut out = Vec::new();
        if let Some(n) = g.nodes.get(&file.0) {
            out.extend(n.names());
        }
        for ino in g.spares.get(&file).into_iter().flatten() {
            if let Some(n) = g.nodes.get(ino) {
                out.extend(n.names());
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
        for (_, file) in g.nodes.drain() {
            let _ = vol.unpin(file, 1);
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
            Some(n) if !n.retired() => return Some(d),
            None if !self.spares.contains_key(&file) => return Some(d),
            _ => {}
        }
        if let Some(list) = self.spares.get(&file) {
            if let Some(&i) = list
                .iter()
                .find(|i| self.nodes.get(i).is_some_and(|n| !n.retired()))
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
    use crate::attr::Kind;
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
}
