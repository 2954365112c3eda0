//! The store: everything behind the volume's one lock — the inode slab with its generation
//! table, the open handles and the share-access records — and the few operations that keep
//! directory entries and back links in step (`link_in`, `unlink_entry`).
//!
//! Locking: the whole store sits behind one `parking_lot::RwLock` owned by `Volume`; every
//! function here runs with that lock held (read for queries, write for changes), so no function
//! here takes a lock itself.

use super::dir_index::Dir;
use super::inode::{Body, Inode, Link, Links};
use super::share::ShareAccess;
use crate::error::{Error, Result};
use crate::name::Name;
use crate::types::*;
use slab::Slab;
use std::collections::HashMap;

/// An open handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handle {
    pub file: FileId,
    /// The name it was opened through (parent, display name), when opened by name.
    pub link: Option<(FileId, Box<[u16]>)>,
    pub access: Access,
    pub share: Share,
    pub delete_on_close: bool,
    /// The handle was opened with FILE_DELETE_ON_CLOSE (only such a handle may set the state
    /// again with FILE_DISPOSITION_ON_CLOSE).
    pub opened_delete_on_close: bool,
    /// A delete disposition set on this handle (FileDispositionInformation[Ex]).
    pub disposition: Option<DispositionFlags>,
    /// Where this handle's directory query stands (NtQueryDirectoryFile).
    pub query: Option<Box<super::by_handle::DirQuery>>,
}

/// Everything behind the volume's lock.
#[derive(Debug)]
pub(crate) struct State {
    pub inodes: Slab<Inode>,
    /// Last generation used per slab slot, so a reused slot gets a new FileId.
    pub generations: Vec<u32>,
    pub handles: HashMap<u64, Handle>,
    pub share: HashMap<FileId, ShareAccess>,
    pub next_handle: u64,
    pub root: FileId,
    /// Bytes per cluster (`VolumeOptions::cluster_size`).
    pub cluster: u64,
    /// Bytes charged to all files together (A8, `space.rs`); `check()` recounts it.
    pub used: u64,
    /// Told of every name added and directory removed, under this lock (`watch.rs`).
    pub watchers: Vec<std::sync::Arc<dyn super::watch::NameWatcher>>,
    /// Some name was marked delete-pending (A2) since the volume was made or loaded (a saved
    /// image holds none). Until then no name is pending, and the close of a file's last
    /// handle does not look each of its names up for one: a file with many hard links (a
    /// package store's) paid a directory lookup per name at every close. Never cleared:
    /// after the first pending name closes look as before. `check()` verifies it.
    pub names_marked_pending: bool,
    /// Bytes reserved for data lent to the backend (`lending.rs`), part of `used`.
    pub reserved: u64,
    /// Files whose data is lent out, with what their allocation is reported by.
    pub lent: HashMap<FileId, super::lending::LentShape>,
    /// Where lent data lives (the backend's store).
    pub lender: Option<std::sync::Arc<dyn super::lending::SpaceLender>>,
    /// The volume's size, for the frees that go to the reservation (`lending.rs`).
    pub lend_cap: Option<u64>,
}

impl State {
    pub fn new(root_case_sensitive: bool, uid: u32, gid: u32) -> State {
        let mut st = State {
            inodes: Slab::new(),
            generations: Vec::new(),
            handles: HashMap::new(),
            share: HashMap::new(),
            next_handle: 1,
            root: FileId(0),
            cluster: u64::from(DEFAULT_CLUSTER_SIZE),
            used: 0,
            watchers: Vec::new(),
            names_marked_pending: false,
            reserved: 0,
            lent: HashMap::new(),
            lender: None,
            lend_cap: None,
        };
        let t = now();
        let root = st.alloc(Inode {
            attributes: attrs::DIRECTORY | attrs::HIDDEN | attrs::SYSTEM,
            uid,
            gid,
            mode: 0o755,
            opens: 0,
            pins: 0,
            times: Times {
                creation: t,
                last_access: t,
                last_write: t,
                change: t,
            },
            links: Links::default(),
            body: Body::Dir(Box::new(Dir {
                case_sensitive: root_case_sensitive,
                ..Dir::default()
            })),
            extra: None,
        });
        st.root = root;
        st
    }

    /// Puts an inode in the slab and gives it a fresh FileId; charges its file record (A8:
    /// the caller checked that it fits).
    pub fn alloc(&mut self, inode: Inode) -> FileId {
        self.used += super::space::charge(&inode, self.cluster);
        let entry = self.inodes.vacant_entry();
        let slot = entry.key();
        if self.generations.len() <= slot {
            self.generations.resize(slot + 1, 0);
        }
        // Generations start at 1 so that FileId(0) never names a file.
        // Generations stay in 1..2^31 so that bit 63 of a FileId is free (see `Named`).
        let generation = (self.generations[slot].wrapping_add(1) & 0x7FFF_FFFF).max(1);
        self.generations[slot] = generation;
        entry.insert(inode);
        FileId::new(slot, generation)
    }

    /// The id of the file in an occupied slot: the slot's current generation is the file's
    /// (the inode does not repeat it, which keeps it 8 bytes smaller).
    pub fn id_at(&self, slot: usize) -> FileId {
        FileId::new(slot, self.generations[slot])
    }

    fn live_generation(&self, id: FileId) -> bool {
        self.generations.get(id.slot()) == Some(&id.generation())
    }

    pub fn get(&self, id: FileId) -> Result<&Inode> {
        match self.inodes.get(id.slot()) {
            Some(i) if self.live_generation(id) => Ok(i),
            _ => Err(Error::StaleFileId),
        }
    }

    pub fn get_mut(&mut self, id: FileId) -> Result<&mut Inode> {
        if !self.live_generation(id) {
            return Err(Error::StaleFileId);
        }
        self.inodes.get_mut(id.slot()).ok_or(Error::StaleFileId)
    }

    pub fn dir(&self, id: FileId) -> Result<&Dir> {
        self.get(id)?.dir().ok_or(Error::NotADirectory)
    }

    pub fn dir_mut(&mut self, id: FileId) -> Result<&mut Dir> {
        self.get_mut(id)?.dir_mut().ok_or(Error::NotADirectory)
    }

    /// Adds a directory entry and the file's back link; updates the directory's times.
    pub fn link_in(&mut self, parent: FileId, name: &Name, id: FileId, t: FileTime) {
        let dir = self.get_mut(parent).expect("parent checked by caller");
        dir.times.last_write = t;
        dir.times.change = t;
        dir.dir_mut()
            .expect("parent is a directory")
            .insert(name, id);
        let inode = self.get_mut(id).expect("file checked by caller");
        inode.links.push(Link {
            parent,
            display: name.display().into(),
        });
        for w in &self.watchers {
            w.name_added(parent, name);
        }
    }

    /// A directory became or stopped being a reparse point (a junction is a link to the
    /// backends, so what a lookup below it answers changed): the watcher is told.
    pub fn reparse_changed(&self, id: FileId) {
        if !self.watchers.is_empty() && self.get(id).is_ok_and(|i| i.dir().is_some()) {
            for w in &self.watchers {
                w.lookups_changed(id);
            }
        }
    }

    /// Removes a directory entry and the file's back link; frees the file if nothing holds it.
    pub fn unlink_entry(&mut self, parent: FileId, display: &[u16], t: FileTime) -> Option<FileId> {
        let id = self.remove_entry(parent, display, t)?;
        // A directory has one name (invariant 1): without it, nothing can be added to it.
        if !self.watchers.is_empty() && self.get(id).is_ok_and(|i| i.dir().is_some()) {
            for w in &self.watchers {
                w.dir_removed(id);
            }
        }
        self.maybe_free(id);
        Some(id)
    }

    /// Removes a directory entry and the file's back link, nothing more.
    fn remove_entry(&mut self, parent: FileId, display: &[u16], t: FileTime) -> Option<FileId> {
        let dir_inode = self.get_mut(parent).ok()?;
        let named = dir_inode.dir_mut()?.remove_exact(display)?;
        dir_inode.times.last_write = t;
        dir_inode.times.change = t;
        let id = named.id();
        if let Ok(inode) = self.get_mut(id) {
            if let Some(pos) = inode
                .links
                .iter()
                .position(|l| l.parent == parent && &*l.display == display)
            {
                inode.links.remove(pos);
            }
            inode.times.change = t;
        }
        Some(id)
    }

    /// Removes a directory entry and back link without freeing the file (it is about to get
    /// another name).
    pub fn unlink_entry_keep(&mut self, parent: FileId, display: &[u16], id: FileId, t: FileTime) {
        let removed = self.remove_entry(parent, display, t);
        debug_assert!(removed.is_none_or(|r| r == id), "the entry names {id}");
    }

    /// Frees a file that has no name, no open handle and no backend reference
    /// (invariant: "no unnamed file survives without an open handle").
    pub fn maybe_free(&mut self, id: FileId) {
        if id == self.root {
            return;
        }
        if let Ok(inode) = self.get(id) {
            if inode.links.is_empty() && inode.opens == 0 && inode.pins == 0 {
                // A8: the space comes back when the file goes, i.e. at its last close for a
                // file deleted while open (as on NTFS).
                let charge = super::space::charge(inode, self.cluster);
                self.used -= charge.min(self.used);
                self.inodes.remove(id.slot());
                self.share.remove(&id);
                self.reserve_free();
            } else if inode.links.is_empty() && inode.opens == 0 && inode.has_data() {
                // Only a backend reference (a FUSE lookup count, which the kernel drops when
                // it pleases) keeps it: nothing can open it any more, so its data goes now
                // and the space comes back at once, as on NTFS (A8). The record stays
                // until the reference goes.
                let cluster = self.cluster;
                let inode = self.get_mut(id).expect("checked above");
                let freed = super::space::data_charge(inode, cluster);
                inode.body = Body::File(Default::default());
                self.used -= freed.min(self.used);
                self.reserve_free();
            }
        }
    }

    /// The checks on the directory a new name goes into for a hard link or a rename: it exists
    /// (else STATUS_OBJECT_PATH_NOT_FOUND), is a directory (else `not_dir`: the path-level
    /// operations say OBJECT_PATH_NOT_FOUND, the handle-level ones INVALID_PARAMETER, as
    /// WinBtrfs observes), is not a reparse point (A3: it stays empty), still has a name
    /// (FILE_DELETED) and is not delete-pending (A2).
    pub(crate) fn new_name_parent(&self, parent: FileId, not_dir: Error) -> Result<&Inode> {
        let pinode = self.get(parent).map_err(|_| Error::ObjectPathNotFound)?;
        if pinode.dir().is_none() {
            return Err(not_dir);
        }
        if pinode.reparse().is_some() {
            return Err(Error::NotADirectory);
        }
        if pinode.links.is_empty() && parent != self.root {
            return Err(Error::FileDeleted);
        }
        if self.has_pending_name(parent) {
            return Err(Error::DeletePending);
        }
        Ok(pinode)
    }

    /// Is some name of `id` delete-pending (legacy delete or a disposition set on a handle)?
    pub fn has_pending_name(&self, id: FileId) -> bool {
        // A name is pending only while the file has a handle open (A2; `check` verifies it),
        // so a file without handles needs no directory lookup.
        self.names_marked_pending
            && self.get(id).is_ok_and(|inode| {
                inode.opens > 0
                    && inode.links.iter().any(|l| {
                        self.dir(l.parent)
                            .ok()
                            .and_then(|d| d.find_exact(&l.display))
                            .is_some_and(|n| n.id() == id && n.pending())
                    })
            })
    }

    /// A rename moves the link that handles were opened through, and those handles follow it
    /// (MS-FSA 2.1.5.15.12: the rename changes Open.Link itself, which every open through that
    /// name shares), so a later delete disposition or delete-on-close acts on the new name.
    pub fn move_handle_links(&mut self, id: FileId, from: (FileId, &[u16]), to: (FileId, &[u16])) {
        for h in self.handles.values_mut() {
            if h.file == id
                && h.link
                    .as_ref()
                    .is_some_and(|(p, d)| *p == from.0 && **d == *from.1)
            {
                h.link = Some((to.0, to.1.into()));
            }
        }
    }

    /// Is `ancestor` the directory `id` or one of its ancestors (following first links)?
    pub fn is_ancestor(&self, ancestor: FileId, mut id: FileId) -> bool {
        for _ in 0..=self.inodes.len() {
            if id == ancestor {
                return true;
            }
            match self.get(id).ok().and_then(|i| i.links.first()) {
                Some(l) => id = l.parent,
                None => return false,
            }
        }
        false
    }

    /// The volume-relative path of a name (`\dir\name`), as FindFirstFileNameW returns it (A1).
    pub fn path_of(&self, parent: FileId, display: &[u16]) -> Vec<u16> {
        let mut parts: Vec<&[u16]> = vec![display];
        let mut cur = parent;
        for _ in 0..=self.inodes.len() {
            if cur == self.root {
                break;
            }
            match self.get(cur).ok().and_then(|i| i.links.first()) {
                Some(l) => {
                    parts.push(&l.display);
                    cur = l.parent;
                }
                None => break,
            }
        }
        let mut out = Vec::new();
        for p in parts.iter().rev() {
            out.push(b'\\' as u16);
            out.extend_from_slice(p);
        }
        out
    }

    pub fn stat(&self, id: FileId) -> Result<Stat> {
        let inode = self.get(id)?;
        let (size, allocated, resident) = match &inode.body {
            Body::File(d) => (d.size(), d.allocated(), !d.non_resident()),
            Body::Dir(_) => (0, 0, false),
        };
        let allocation_size = match inode.dir() {
            Some(d) => super::space::dir_index_allocation(d.count, self.cluster),
            None => super::space::data_charge(inode, self.cluster),
        };
        let mut pending = 0u32;
        // A name is delete-pending only while the file has a handle open (A2; `check`
        // verifies it), and only once some name was ever marked so, so a file without
        // handles, or any file on a volume where nothing was marked, skips one directory
        // lookup per name: this stat answers every FUSE getattr and every read_dir entry
        // (issue 7 profile), and a package store's open files have many names.
        let links: &[Link] = if inode.opens > 0 && self.names_marked_pending {
            &inode.links
        } else {
            &[]
        };
        for l in links {
            if let Ok(d) = self.dir(l.parent) {
                if d.find_exact(&l.display).is_some_and(|n| n.pending()) {
                    pending += 1;
                }
            }
        }
        let total = inode.links.len() as u32;
        let mut attributes = inode.attributes;
        if attributes == 0 {
            attributes = attrs::NORMAL;
        }
        Ok(Stat {
            id,
            kind: inode.kind(),
            attributes,
            size,
            allocated,
            allocation_size,
            resident,
            links: total - pending,
            total_links: total,
            times: inode.times,
            uid: inode.uid,
            gid: inode.gid,
            mode: inode.mode,
            reparse_tag: inode.reparse().map(|r| r.tag()),
            special: if inode.is_dir() {
                None
            } else {
                inode.reparse().and_then(|r| r.special_file())
            },
            case_sensitive: inode.dir().is_some_and(|d| d.case_sensitive),
            delete_pending: pending > 0 || (total == 0 && id != self.root),
            lent: self.lent.contains_key(&id),
        })
    }
}
