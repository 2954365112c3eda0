//! The inode store: files and directories in a slab, directory indexes, share access.
//!
//! Locking: the whole store sits behind one `parking_lot::RwLock` owned by `Volume`; every
//! function here runs with that lock held (read for queries, write for changes), so no function
//! here takes a lock itself.

use crate::data::FileData;
use crate::error::{Error, Result};
use crate::name::upcase;
use crate::reparse::ReparseBuffer;
use crate::types::*;
use slab::Slab;
use std::collections::{BTreeMap, HashMap};

/// One name of a file, as the file remembers it (the directory holds the authoritative entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub parent: FileId,
    pub display: Box<[u16]>,
}

/// One directory entry: the name as typed, the file it names, and legacy delete-pending state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub display: Box<[u16]>,
    pub id: FileId,
    pub pending: bool,
}

/// All entries of one directory whose names share a canonical form. Outside case-sensitive
/// directories there is exactly one; a case-sensitive directory may hold case twins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub names: Vec<Named>,
}

/// A directory index keyed by canonical (upcased) name: iteration order is NTFS collation order
/// (upcased UTF-16 units, A5), ties between case twins broken by the display units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dir {
    pub entries: BTreeMap<Box<[u16]>, Slot>,
    pub count: usize,
    /// FILE_CS_FLAG_CASE_SENSITIVE_DIR.
    pub case_sensitive: bool,
}

impl Dir {
    /// Finds the entry `name` would open: an exact match in a case-sensitive directory, the one
    /// entry with the same canonical form otherwise (A5).
    pub fn find(&self, name: &[u16]) -> Option<&Named> {
        let canon = upcase(name);
        let slot = self.entries.get(&canon[..])?;
        if self.case_sensitive {
            slot.names.iter().find(|n| &*n.display == name)
        } else {
            slot.names.first()
        }
    }

    /// Would a new entry `name` collide with an existing one? In a case-insensitive directory any
    /// entry with the same canonical name collides (A1: "existing name in any case").
    pub fn collides(&self, name: &[u16]) -> bool {
        self.find(name).is_some()
    }

    pub fn insert(&mut self, display: Box<[u16]>, id: FileId) {
        let canon: Box<[u16]> = upcase(&display).into();
        let slot = self
            .entries
            .entry(canon)
            .or_insert_with(|| Slot { names: Vec::new() });
        let pos = slot
            .names
            .iter()
            .position(|n| n.display > display)
            .unwrap_or(slot.names.len());
        slot.names.insert(
            pos,
            Named {
                display,
                id,
                pending: false,
            },
        );
        self.count += 1;
    }

    /// Removes the entry with exactly this display name; returns it.
    pub fn remove_exact(&mut self, display: &[u16]) -> Option<Named> {
        let canon = upcase(display);
        let slot = self.entries.get_mut(&canon[..])?;
        let pos = slot.names.iter().position(|n| &*n.display == display)?;
        let named = slot.names.remove(pos);
        if slot.names.is_empty() {
            self.entries.remove(&canon[..]);
        }
        self.count -= 1;
        Some(named)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Are there names that differ only in case (refuses clearing the case-sensitive flag)?
    pub fn has_case_twins(&self) -> bool {
        self.entries.values().any(|s| s.names.len() > 1)
    }

    /// Entries strictly after `cursor` in collation order.
    pub fn iter_after<'a>(
        &'a self,
        cursor: Option<&'a DirCursor>,
    ) -> impl Iterator<Item = (&'a [u16], &'a Named)> + 'a {
        use std::ops::Bound;
        let start = match cursor {
            Some(c) => Bound::Included(&c.canonical[..]),
            None => Bound::Unbounded,
        };
        self.entries
            .range::<[u16], _>((start, Bound::Unbounded))
            .flat_map(|(canon, slot)| slot.names.iter().map(move |n| (&canon[..], n)))
            .filter(move |(canon, n)| match cursor {
                Some(c) => (*canon, &*n.display) > (&c.canonical[..], &c.display[..]),
                None => true,
            })
    }
}

/// What a file holds besides its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    File(FileData),
    Dir(Box<Dir>),
}

/// Rarely used per-file state, kept out of line so an empty file stays small.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Extra {
    pub security: Option<Vec<u8>>,
    pub reparse: Option<ReparseBuffer>,
    pub xattrs: BTreeMap<String, Vec<u8>>,
}

/// A file or directory: everything here is shared by all of its names (A1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inode {
    pub generation: u32,
    /// FILE_ATTRIBUTE_*, DIRECTORY and REPARSE_POINT included.
    pub attributes: u32,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    /// Open handles.
    pub opens: u32,
    /// References held by a backend (FUSE lookup counts): keep the file alive, are not handles.
    pub pins: u32,
    pub times: Times,
    pub links: Vec<Link>,
    pub body: Body,
    pub extra: Option<Box<Extra>>,
}

impl Inode {
    pub fn is_dir(&self) -> bool {
        matches!(self.body, Body::Dir(_))
    }
    pub fn kind(&self) -> FileKind {
        if self.is_dir() {
            FileKind::Directory
        } else {
            FileKind::File
        }
    }
    pub fn dir(&self) -> Option<&Dir> {
        match &self.body {
            Body::Dir(d) => Some(d),
            Body::File(_) => None,
        }
    }
    pub fn dir_mut(&mut self) -> Option<&mut Dir> {
        match &mut self.body {
            Body::Dir(d) => Some(d),
            Body::File(_) => None,
        }
    }
    pub fn data(&self) -> Option<&FileData> {
        match &self.body {
            Body::File(d) => Some(d),
            Body::Dir(_) => None,
        }
    }
    pub fn reparse(&self) -> Option<&ReparseBuffer> {
        self.extra.as_ref().and_then(|e| e.reparse.as_ref())
    }
    pub fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }
    /// Drops the out-of-line part when it holds nothing.
    pub fn shrink_extra(&mut self) {
        if self
            .extra
            .as_deref()
            .is_some_and(|e| *e == Extra::default())
        {
            self.extra = None;
        }
    }
}

/// NT's SHARE_ACCESS for one file with open handles (IoCheckShareAccess).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ShareAccess {
    pub open_count: u32,
    pub readers: u32,
    pub writers: u32,
    pub deleters: u32,
    pub shared_read: u32,
    pub shared_write: u32,
    pub shared_delete: u32,
}

impl ShareAccess {
    /// IoCheckShareAccess: a new open conflicts if it asks for access an existing handle does not
    /// share, or refuses to share access an existing handle has.
    pub fn check(&self, access: Access, share: Share) -> Result<()> {
        let n = self.open_count;
        if (access.read && self.shared_read < n)
            || (access.write && self.shared_write < n)
            || (access.delete && self.shared_delete < n)
            || (self.readers > 0 && !share.read)
            || (self.writers > 0 && !share.write)
            || (self.deleters > 0 && !share.delete)
        {
            return Err(Error::SharingViolation);
        }
        Ok(())
    }
    pub fn add(&mut self, access: Access, share: Share) {
        self.open_count += 1;
        self.readers += access.read as u32;
        self.writers += access.write as u32;
        self.deleters += access.delete as u32;
        self.shared_read += share.read as u32;
        self.shared_write += share.write as u32;
        self.shared_delete += share.delete as u32;
    }
    pub fn remove(&mut self, access: Access, share: Share) {
        self.open_count -= 1;
        self.readers -= access.read as u32;
        self.writers -= access.write as u32;
        self.deleters -= access.delete as u32;
        self.shared_read -= share.read as u32;
        self.shared_write -= share.write as u32;
        self.shared_delete -= share.delete as u32;
    }
}

/// An open handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handle {
    pub file: FileId,
    /// The name it was opened through (parent, display name), when opened by name.
    pub link: Option<(FileId, Box<[u16]>)>,
    pub access: Access,
    pub share: Share,
    pub delete_on_close: bool,
    /// A delete disposition set on this handle (FileDispositionInformation[Ex]).
    pub disposition: Option<DispositionFlags>,
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
        };
        let t = now();
        let root = st.alloc(Inode {
            generation: 0,
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
            links: Vec::new(),
            body: Body::Dir(Box::new(Dir {
                case_sensitive: root_case_sensitive,
                ..Dir::default()
            })),
            extra: None,
        });
        st.root = root;
        st
    }

    /// Puts an inode in the slab and gives it a fresh FileId.
    pub fn alloc(&mut self, mut inode: Inode) -> FileId {
        let entry = self.inodes.vacant_entry();
        let slot = entry.key();
        if self.generations.len() <= slot {
            self.generations.resize(slot + 1, 0);
        }
        // Generations start at 1 so that FileId(0) never names a file.
        let generation = self.generations[slot].wrapping_add(1).max(1);
        self.generations[slot] = generation;
        inode.generation = generation;
        entry.insert(inode);
        FileId::new(slot, generation)
    }

    pub fn get(&self, id: FileId) -> Result<&Inode> {
        match self.inodes.get(id.slot()) {
            Some(i) if i.generation == id.generation() => Ok(i),
            _ => Err(Error::StaleFileId),
        }
    }

    pub fn get_mut(&mut self, id: FileId) -> Result<&mut Inode> {
        match self.inodes.get_mut(id.slot()) {
            Some(i) if i.generation == id.generation() => Ok(i),
            _ => Err(Error::StaleFileId),
        }
    }

    pub fn dir(&self, id: FileId) -> Result<&Dir> {
        self.get(id)?.dir().ok_or(Error::NotADirectory)
    }

    pub fn dir_mut(&mut self, id: FileId) -> Result<&mut Dir> {
        self.get_mut(id)?.dir_mut().ok_or(Error::NotADirectory)
    }

    /// Adds a directory entry and the file's back link; updates the directory's times.
    pub fn link_in(&mut self, parent: FileId, display: Box<[u16]>, id: FileId, t: FileTime) {
        let dir = self.get_mut(parent).expect("parent checked by caller");
        dir.times.last_write = t;
        dir.times.change = t;
        dir.dir_mut()
            .expect("parent is a directory")
            .insert(display.clone(), id);
        let inode = self.get_mut(id).expect("file checked by caller");
        inode.links.push(Link { parent, display });
    }

    /// Removes a directory entry and the file's back link; frees the file if nothing holds it.
    pub fn unlink_entry(&mut self, parent: FileId, display: &[u16], t: FileTime) -> Option<FileId> {
        let dir_inode = self.get_mut(parent).ok()?;
        let named = dir_inode.dir_mut()?.remove_exact(display)?;
        dir_inode.times.last_write = t;
        dir_inode.times.change = t;
        let id = named.id;
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
        self.maybe_free(id);
        Some(id)
    }

    /// Frees a file that has no name, no open handle and no backend reference
    /// (invariant: "no unnamed file survives without an open handle").
    pub fn maybe_free(&mut self, id: FileId) {
        if id == self.root {
            return;
        }
        if let Ok(inode) = self.get(id) {
            if inode.links.is_empty() && inode.opens == 0 && inode.pins == 0 {
                self.inodes.remove(id.slot());
                self.share.remove(&id);
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
        let (size, allocated) = match &inode.body {
            Body::File(d) => (d.size(), d.allocated()),
            Body::Dir(_) => (0, 0),
        };
        let mut pending = 0u32;
        for l in &inode.links {
            if let Ok(d) = self.dir(l.parent) {
                if d.find_exact(&l.display).is_some_and(|n| n.pending) {
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
            links: total - pending,
            total_links: total,
            times: inode.times,
            uid: inode.uid,
            gid: inode.gid,
            mode: inode.mode,
            reparse_tag: inode.reparse().map(|r| r.tag()),
            case_sensitive: inode.dir().is_some_and(|d| d.case_sensitive),
            delete_pending: pending > 0 || (total == 0 && id != self.root),
        })
    }
}

impl Dir {
    pub fn find_exact(&self, display: &[u16]) -> Option<&Named> {
        let canon = upcase(display);
        self.entries
            .get(&canon[..])?
            .names
            .iter()
            .find(|n| &*n.display == display)
    }
    pub fn find_exact_mut(&mut self, display: &[u16]) -> Option<&mut Named> {
        let canon = upcase(display);
        self.entries
            .get_mut(&canon[..])?
            .names
            .iter_mut()
            .find(|n| &*n.display == display)
    }
}
