//! The inode: what NTFS keeps per file, shared by all of its names (A1): attributes, four
//! times, owner and mode, the back links to its names, its body (data or a directory index) and,
//! out of line, the rarely used parts (security descriptor, reparse buffer, xattrs). Nothing
//! here knows about paths; `store.rs` ties inodes and directory entries together.
//!
//! Locking: like everything in `volume/`, this runs under `Volume::state` (see `mod.rs`).

use super::dir_index::Dir;
pub(crate) use super::units::Units;
use crate::data::FileData;
use crate::reparse::ReparseBuffer;
use crate::types::*;
use std::collections::BTreeMap;

/// One name of a file, as the file remembers it (the directory holds the authoritative entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub parent: FileId,
    pub display: Units,
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
    /// Does the file hold data (a file with end of file above 0)?
    pub fn has_data(&self) -> bool {
        self.data().is_some_and(|d| d.has_data())
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
