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

/// The names of a file. Nearly every file has exactly one, kept inline so that it costs no
/// allocation (a `Vec` would cost one per file: 24 bytes of the ≤ 200 per empty file that the
/// engine benchmark allows, docs/ENGINE-BENCH.md); none (the root, a file kept only by a
/// handle) or several (A1) are kept in a boxed slice, which costs nothing when empty.
/// Read it as a slice (`&inode.links[..]`, `.iter()`, `.first()`, `.len()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Links {
    One(Link),
    Many(Box<[Link]>),
}

impl Default for Links {
    fn default() -> Self {
        Links::Many(Box::default())
    }
}

impl std::ops::Deref for Links {
    type Target = [Link];
    fn deref(&self) -> &[Link] {
        match self {
            Links::One(l) => std::slice::from_ref(l),
            Links::Many(v) => v,
        }
    }
}

impl<'a> IntoIterator for &'a Links {
    type Item = &'a Link;
    type IntoIter = std::slice::Iter<'a, Link>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<Link> for Links {
    fn from_iter<I: IntoIterator<Item = Link>>(iter: I) -> Self {
        Links::from_vec(iter.into_iter().collect())
    }
}

impl Links {
    fn from_vec(mut v: Vec<Link>) -> Links {
        if v.len() == 1 {
            Links::One(v.pop().expect("one link"))
        } else {
            Links::Many(v.into_boxed_slice())
        }
    }
    fn take_vec(&mut self) -> Vec<Link> {
        match std::mem::take(self) {
            Links::One(l) => vec![l],
            Links::Many(v) => v.into_vec(),
        }
    }
    /// Adds a name after the others (FindFirstFileNameW lists them in this order, A1).
    pub fn push(&mut self, link: Link) {
        *self = match std::mem::take(self) {
            Links::Many(v) if v.is_empty() => Links::One(link),
            Links::One(first) => Links::Many(Box::new([first, link])),
            mut other => {
                let mut v = other.take_vec();
                v.push(link);
                Links::Many(v.into_boxed_slice())
            }
        };
    }
    /// Removes and returns the name at `pos`; the others keep their order.
    pub fn remove(&mut self, pos: usize) -> Link {
        if let Links::One(_) = self {
            assert_eq!(pos, 0, "a file with one name has only name 0");
            let Links::One(link) = std::mem::take(self) else {
                unreachable!("checked above")
            };
            return link;
        }
        let mut v = self.take_vec();
        let link = v.remove(pos);
        *self = Links::from_vec(v);
        link
    }
}

/// One directory entry: the name as typed, the file it names, and legacy delete-pending state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub display: Box<[u16]>,
    /// The file's id with the legacy delete-pending flag in bit 63 (generations stay below
    /// 2^31, see `State::alloc`), so an entry is 24 bytes instead of 32: directory entries are
    /// most of the engine's memory per file.
    packed: u64,
}

const PENDING_BIT: u64 = 1 << 63;

impl Named {
    pub fn new(display: Box<[u16]>, id: FileId) -> Named {
        debug_assert_eq!(id.0 & PENDING_BIT, 0);
        Named {
            display,
            packed: id.0,
        }
    }
    /// The file this entry names.
    #[inline]
    pub fn id(&self) -> FileId {
        FileId(self.packed & !PENDING_BIT)
    }
    /// Legacy delete-pending (A2).
    #[inline]
    pub fn pending(&self) -> bool {
        self.packed & PENDING_BIT != 0
    }
    pub fn set_pending(&mut self, pending: bool) {
        if pending {
            self.packed |= PENDING_BIT;
        } else {
            self.packed &= !PENDING_BIT;
        }
    }
}

/// All entries of one directory whose names share a canonical form. Outside case-sensitive
/// directories there is exactly one; a case-sensitive directory may hold case twins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub names: Names,
}

/// The entries of one [`Slot`]: one inline (every case-insensitive directory, and nearly every
/// entry of a case-sensitive one), so that an entry costs no allocation of its own (a `Vec`
/// cost 32 bytes per file, docs/ENGINE-BENCH.md); case twins (A5) in a vector. Read it as a
/// slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Names {
    One(Named),
    /// Case twins (boxed slice, not Vec: 16 bytes, so `Names` stays 24 bytes, see `Named`).
    Many(Box<[Named]>),
}

impl Default for Names {
    fn default() -> Self {
        Names::Many(Box::default())
    }
}

impl std::ops::Deref for Names {
    type Target = [Named];
    fn deref(&self) -> &[Named] {
        match self {
            Names::One(n) => std::slice::from_ref(n),
            Names::Many(v) => v,
        }
    }
}

impl std::ops::DerefMut for Names {
    fn deref_mut(&mut self) -> &mut [Named] {
        match self {
            Names::One(n) => std::slice::from_mut(n),
            Names::Many(v) => v,
        }
    }
}

impl<'a> IntoIterator for &'a Names {
    type Item = &'a Named;
    type IntoIter = std::slice::Iter<'a, Named>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Names {
    /// Inserts at `pos` (0..=len), keeping the others in order.
    pub fn insert(&mut self, pos: usize, named: Named) {
        *self = match std::mem::take(self) {
            Names::Many(v) if v.is_empty() => Names::One(named),
            Names::One(first) => {
                let mut v = Vec::with_capacity(2);
                v.push(first);
                v.insert(pos, named);
                Names::Many(v.into_boxed_slice())
            }
            Names::Many(v) => {
                let mut v = v.into_vec();
                v.insert(pos, named);
                Names::Many(v.into_boxed_slice())
            }
        };
    }
    /// Removes and returns the entry at `pos`.
    pub fn remove(&mut self, pos: usize) -> Named {
        let mut v = match std::mem::take(self) {
            Names::One(n) => {
                assert_eq!(pos, 0, "a slot with one entry has only entry 0");
                return n;
            }
            Names::Many(v) => v.into_vec(),
        };
        let named = v.remove(pos);
        if v.len() == 1 {
            *self = Names::One(v.pop().expect("one entry"));
        } else {
            *self = Names::Many(v.into_boxed_slice());
        }
        named
    }
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
            // One name is kept inline (see [`Names`]): case twins are rare (issue 7: engine
            // memory per file).
            .or_insert_with(|| Slot {
                names: Names::default(),
            });
        let pos = slot
            .names
            .iter()
            .position(|n| n.display > display)
            .unwrap_or(slot.names.len());
        slot.names.insert(pos, Named::new(display, id));
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
    pub links: Links,
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
    /// Stores a reparse buffer and sets FILE_ATTRIBUTE_REPARSE_POINT with it (invariant 5 of
    /// `check()`: the attribute iff a buffer is stored).
    pub fn set_reparse(&mut self, rp: ReparseBuffer) {
        self.extra_mut().reparse = Some(rp);
        self.attributes |= attrs::REPARSE_POINT;
    }
    /// Drops the reparse buffer and the attribute together.
    pub fn clear_reparse(&mut self) {
        if let Some(extra) = self.extra.as_mut() {
            extra.reparse = None;
        }
        self.shrink_extra();
        self.attributes &= !attrs::REPARSE_POINT;
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
    /// Every open handle.
    pub open_count: u32,
    /// Handles that take part in sharing (IoCheckShareAccess's OpenCount).
    pub participants: u32,
    pub readers: u32,
    pub writers: u32,
    pub deleters: u32,
    pub shared_read: u32,
    pub shared_write: u32,
    pub shared_delete: u32,
}

impl ShareAccess {
    /// Does an open with this access take part in sharing? IoCheckShareAccess ignores opens
    /// that ask for none of read, write or delete (e.g. FILE_READ_ATTRIBUTES only): they neither
    /// conflict nor count (conformance case R10: a rename succeeds while such a handle is open).
    fn participates(access: Access) -> bool {
        access.read || access.write || access.delete
    }
    /// IoCheckShareAccess: a new open conflicts if it asks for access an existing handle does not
    /// share, or refuses to share access an existing handle has.
    pub fn check(&self, access: Access, share: Share) -> Result<()> {
        if !Self::participates(access) {
            return Ok(());
        }
        let n = self.participants;
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
        if !Self::participates(access) {
            return;
        }
        self.participants += 1;
        self.readers += access.read as u32;
        self.writers += access.write as u32;
        self.deleters += access.delete as u32;
        self.shared_read += share.read as u32;
        self.shared_write += share.write as u32;
        self.shared_delete += share.delete as u32;
    }
    pub fn remove(&mut self, access: Access, share: Share) {
        self.open_count -= 1;
        if !Self::participates(access) {
            return;
        }
        self.participants -= 1;
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

    /// Puts an inode in the slab and gives it a fresh FileId.
    pub fn alloc(&mut self, inode: Inode) -> FileId {
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

    /// Is some name of `id` delete-pending (legacy delete or a disposition set on a handle)?
    pub fn has_pending_name(&self, id: FileId) -> bool {
        // A name is pending only while the file has a handle open (A2; `check` verifies it),
        // so a file without handles needs no directory lookup.
        self.get(id).is_ok_and(|inode| {
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
        let (size, allocated) = match &inode.body {
            Body::File(d) => (d.size(), d.allocated()),
            Body::Dir(_) => (0, 0),
        };
        let mut pending = 0u32;
        // A name is delete-pending only while the file has a handle open (A2; `check`
        // verifies it), so a file without handles skips one directory lookup per name: this
        // stat answers every FUSE getattr and every read_dir entry (issue 7 profile).
        let links: &[Link] = if inode.opens > 0 { &inode.links } else { &[] };
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

#[cfg(test)]
mod layout_tests {
    use super::*;

    /// Directory entries are most of the engine's memory per file (ENGINE-BENCH.md): keep them
    /// at 24 bytes (the name pointer, the id with the pending bit).
    #[test]
    fn directory_entry_layout_stays_small() {
        assert_eq!(std::mem::size_of::<Named>(), 24);
        assert_eq!(std::mem::size_of::<Names>(), 24);
    }
}
