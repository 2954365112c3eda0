//! Directory listings: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR (an `impl Core`).

use crate::attr::{self, Attr, Kind};
use crate::core::{Caller, Core};
use crate::errno::{errno, Errno};
use crate::names;
use crate::nodes::ROOT_INO;
use parking_lot::Mutex;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use vfs_core::{Access, DirCursor, FileId, Share};

/// One READDIRPLUS entry the core hands out (each but "." and ".." counts one lookup).
#[derive(Debug)]
pub(crate) struct PlusEntry<'a> {
    /// The readdir offset that resumes after this entry.
    pub(crate) offset: u64,
    /// The name as listed.
    pub(crate) name: &'a OsStr,
    /// The entry's attributes.
    pub(crate) attr: &'a Attr,
    /// May the kernel cache the name for the entry TTL? Not for a delete-pending name.
    pub(crate) cache_name: bool,
}
/// An open directory: the cursors handed out as readdir offsets (offset k ≥ 3 resumes after
/// `cursors[k - 3]`; 1 and 2 are "." and ".."). A cursor is a name, so a listing resumes at
/// the right place however the directory changed meanwhile, and every offset stays valid for
/// the handle's life (telldir/seekdir).
pub(crate) struct DirState {
    pub(crate) file: FileId,
    pub(crate) cursors: Vec<DirCursor>,
}
impl Core {
    /// OPENDIR with open(2)'s `flags`; returns the engine handle.
    pub(crate) fn opendir(&self, who: Caller, ino: u64, flags: i32) -> Result<u64, Errno> {
        let id = self.nodes.live(ino)?;
        self.check_open(who, id, flags)?;
        self.refuse_unhandled_tag(id)?;
        let h = self.vol.open(id, Access::NONE, Share::ALL).map_err(errno)?;
        self.open_handles.lock().insert(h.0);
        self.dirs.lock().insert(
            h.0,
            Arc::new(Mutex::new(DirState {
                file: id,
                cursors: Vec::new(),
            })),
        );
        Ok(h.0)
    }

    /// READDIR: `add(ino, offset, kind, name)` for each entry from `offset` until it answers
    /// true (the reply is full).
    pub(crate) fn readdir(
        &self,
        dot: u64,
        fh: u64,
        offset: u64,
        mut add: impl FnMut(u64, u64, Kind, &OsStr) -> bool,
    ) -> Result<(), Errno> {
        // Each entry's kind is read as it goes into the reply: a batch lists more entries than
        // one reply holds, and stats of the rest were made for nothing (daemon profile of a
        // READDIR loop, BENCHMARKS.md "Listings").
        self.readdir_common(fh, offset, 4096, |me, off, name, e| match e {
            None => {
                let d_ino = if off == 1 {
                    dot
                } else {
                    me.nodes
                        .file_of(dot)
                        .map(|f| me.parent_ino(f))
                        .unwrap_or(ROOT_INO)
                };
                add(d_ino, off, Kind::Directory, name)
            }
            Some(id) => match me.vol.stat(id) {
                Ok(st) => add(me.nodes.ino_of(id), off, attr::kind(&st), name),
                // Deleted since it was listed: not listed.
                Err(_) => false,
            },
        })
    }

    /// READDIRPLUS for `who`: `add` for each entry from `offset` until it answers true (the
    /// reply is full; the entry that did not fit gives its lookup back).
    pub(crate) fn readdirplus(
        &self,
        who: Caller,
        dot: u64,
        fh: u64,
        offset: u64,
        mut add: impl FnMut(PlusEntry<'_>) -> bool,
    ) -> Result<(), Errno> {
        let (f, st) = self.nodes.stat(&self.vol, dot, true)?;
        let dot_attr = self.attr_of(dot, f, &st);
        // A caller who may read the directory but not search it gets its names uncached:
        // the kernel would walk a cached name without asking, so the LOOKUP of the next walk
        // must come and be refused (daemon checks, `perm`).
        let searchable = self.check_lookup(who, f).is_ok();
        // `remember` reads each file's attributes under the node table's lock (the listing
        // itself reads none).
        self.readdir_common(fh, offset, 4096, |me, off, name, e| match e {
            // "." and ".." carry no lookup reference (the kernel skips them).
            None => add(PlusEntry {
                offset: off,
                name,
                attr: &dot_attr,
                cache_name: false,
            }),
            Some(id) => {
                let Ok((node, st)) = me.nodes.remember(&me.vol, id, dot, name.as_bytes(), false)
                else {
                    // Deleted meanwhile: not listed.
                    return false;
                };
                let a = me.attr_of(node, id, &st);
                // A delete-pending name (legacy delete, A2) goes when the file's last
                // handle closes, outside any request on this name: never cache it.
                let full = add(PlusEntry {
                    offset: off,
                    name,
                    attr: &a,
                    cache_name: !st.delete_pending && searchable,
                });
                if full {
                    me.nodes.forget(&me.vol, node, 1);
                }
                full
            }
        })
    }

    /// Lists from `offset`, handing `add` each entry's file (None for "." and "..") with its
    /// offset and name. Names, files and cursors only (`Volume::read_dir_ids`): each caller
    /// reads the attributes of just the entries that go into its reply.
    fn readdir_common(
        &self,
        fh: u64,
        offset: u64,
        size: u32,
        mut add: impl FnMut(&Self, u64, &OsStr, Option<FileId>) -> bool,
    ) -> Result<(), Errno> {
        let state = self.dirs.lock().get(&fh).cloned().ok_or(Errno::EBADF)?;
        let mut st = state.lock();
        let file = st.file;
        let mut off = offset;
        if off == 0 {
            if add(self, 1, OsStr::new("."), None) {
                return Ok(());
            }
            off = 1;
        }
        if off == 1 {
            if add(self, 2, OsStr::new(".."), None) {
                return Ok(());
            }
            off = 2;
        }
        let mut cursor = if off == 2 {
            None
        } else {
            match st.cursors.get((off - 3) as usize) {
                Some(c) => Some(c.clone()),
                None => return Ok(()),
            }
        };
        let limit = (size as usize / 32).clamp(16, 1024);
        let mut bytes = Vec::new();
        loop {
            let batch = self
                .vol
                .read_dir_ids(file, cursor.as_ref(), limit)
                .map_err(errno)?;
            if batch.is_empty() {
                return Ok(());
            }
            for e in batch {
                let next = st.cursors.len() as u64 + 3;
                names::to_bytes_into(&e.name, &mut bytes);
                if add(self, next, OsStr::from_bytes(&bytes), Some(e.id)) {
                    return Ok(());
                }
                st.cursors.push(e.cursor);
            }
            // The next batch resumes after the last entry listed (one copy per batch).
            cursor = st.cursors.last().cloned();
        }
    }

    /// RELEASEDIR.
    pub(crate) fn releasedir(&self, fh: u64) {
        self.releasing(fh, None, || {
            self.dirs.lock().remove(&fh);
        });
    }
}
