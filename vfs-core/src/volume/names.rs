//! Names: lookup, listing, and the operations that make, remove and move a name — create,
//! hard link (A1), unlink (A2) and rename (A6). Everything here takes [`Name`]s, validated once
//! where the caller made them (a backend's boundary, or the path parser in `resolve.rs`).

use super::dir_index::Dir;
use super::inode::{Body, Inode, Links};
use super::store::State;
use super::Volume;
use crate::error::{Error, Result};
use crate::name::{narrow, Name};
use crate::types::*;
use tracing::trace_span;

impl Volume {
    /// Looks `name` up in directory `parent`: case-insensitive, or exact in a case-sensitive
    /// directory (A5). Does not follow reparse points.
    /// The name comes validated and upcased, so the lookup itself copies nothing.
    pub fn lookup(&self, parent: FileId, name: &Name) -> Result<FileId> {
        let _s = trace_span!(target: "vfs_core", "lookup").entered();
        let st = self.state.read();
        let dir = st.dir(parent)?;
        dir.find(name)
            .map(|n| n.id())
            .ok_or(Error::ObjectNameNotFound)
    }

    /// Every name of a file (FileHardLinkInformation / FindFirstFileNameW, A1), in the order
    /// they were made.
    pub fn names(&self, id: FileId) -> Result<Vec<LinkName>> {
        let _s = trace_span!(target: "vfs_core", "names").entered();
        let st = self.state.read();
        let inode = st.get(id)?;
        Ok(inode
            .links
            .iter()
            .map(|l| LinkName {
                parent: l.parent,
                name: l.display.to_vec(),
                delete_pending: st
                    .dir(l.parent)
                    .ok()
                    .and_then(|d| d.find_exact(&l.display))
                    .is_some_and(|n| n.pending()),
            })
            .collect())
    }

    /// Every name of a file as a volume-relative path (`\dir\name`, what FindFirstFileNameW
    /// and `fsutil hardlink list` print, A1) with its legacy delete-pending flag, in the order
    /// the names were made.
    pub fn link_paths(&self, id: FileId) -> Result<Vec<LinkPath>> {
        let st = self.state.read();
        let inode = st.get(id)?;
        Ok(inode
            .links
            .iter()
            .map(|l| LinkPath {
                path: st.path_of(l.parent, &l.display),
                delete_pending: st
                    .dir(l.parent)
                    .ok()
                    .and_then(|d| d.find_exact(&l.display))
                    .is_some_and(|n| n.pending()),
            })
            .collect())
    }

    /// The volume-relative path of a file's first name (`\` for the root).
    pub fn path_of(&self, id: FileId) -> Result<String> {
        let st = self.state.read();
        if id == st.root {
            return Ok("\\".into());
        }
        let inode = st.get(id)?;
        let l = inode.links.first().ok_or(Error::FileDeleted)?;
        Ok(narrow(&st.path_of(l.parent, &l.display)))
    }

    /// Lists a directory in NTFS collation order, resuming after `cursor` (exclusive), at most
    /// `limit` entries. The cursor is the last name returned, so a listing stays correct while
    /// the directory changes: entries added or removed behind the cursor never shift it.
    pub fn read_dir(
        &self,
        dir: FileId,
        cursor: Option<&DirCursor>,
        limit: usize,
    ) -> Result<Vec<DirEntry>> {
        let _s = trace_span!(target: "vfs_core", "read_dir").entered();
        self.list(dir, cursor, limit, |st, n| {
            Ok(DirEntry {
                stat: st.stat(n.id)?,
                name: n.name,
                cursor: n.cursor,
            })
        })
    }

    /// [`Volume::read_dir`] without the files' attributes: names, files and cursors only, for
    /// a backend that reads the attributes of only some entries, or reads them itself (FUSE
    /// READDIR stats just the entries its reply holds; READDIRPLUS hands out a node per entry,
    /// whose attributes it reads under its own lock).
    pub fn read_dir_ids(
        &self,
        dir: FileId,
        cursor: Option<&DirCursor>,
        limit: usize,
    ) -> Result<Vec<DirName>> {
        let _s = trace_span!(target: "vfs_core", "read_dir_ids").entered();
        self.list(dir, cursor, limit, |_, n| Ok(n))
    }

    /// The entries of `dir` after `cursor`, at most `limit`, each made into a `T` by `f`
    /// under one read lock.
    fn list<T>(
        &self,
        dir: FileId,
        cursor: Option<&DirCursor>,
        limit: usize,
        mut f: impl FnMut(&State, DirName) -> Result<T>,
    ) -> Result<Vec<T>> {
        let st = self.state.read();
        let d = st.dir(dir)?;
        d.iter_after(cursor)
            .take(limit)
            .map(|(canon, named)| {
                let n = DirName {
                    name: named.display.to_vec(),
                    cursor: DirCursor::new(canon, &named.display),
                    id: named.id(),
                };
                f(&st, n)
            })
            .collect()
    }

    /// Number of entries in a directory.
    pub fn dir_len(&self, dir: FileId) -> Result<usize> {
        Ok(self.state.read().dir(dir)?.count)
    }

    /// Creates a file or directory `name` in `parent` (NtCreateFile FILE_CREATE). New
    /// directories inherit the parent's case-sensitive flag (A5); new files get ARCHIVE.
    pub fn create(&self, parent: FileId, name: &Name, new: &NewFile) -> Result<FileId> {
        let _s = trace_span!(target: "vfs_core", "create").entered();
        self.writable()?;
        let mut st = self.state.write();
        self.create_locked(&mut st, parent, name, new)
    }

    pub(super) fn create_locked(
        &self,
        st: &mut State,
        parent: FileId,
        name: &Name,
        new: &NewFile,
    ) -> Result<FileId> {
        let pinode = st.get(parent)?;
        let pdir = pinode.dir().ok_or(Error::NotADirectory)?;
        if pinode.links.is_empty() && parent != st.root {
            return Err(Error::FileDeleted);
        }
        if st.has_pending_name(parent) {
            // A2: a delete-pending directory cannot be opened, so nothing can be created in it;
            // it would otherwise lose its name at close while holding children.
            return Err(Error::DeletePending);
        }
        if pinode.reparse().is_some() {
            // A reparse-point directory stays empty: names below it are reached through its
            // target (A3: mount points only on empty directories).
            return Err(Error::NotADirectory);
        }
        if pdir.collides(name) {
            return Err(Error::NameCollision);
        }
        let inherit_cs = pdir.case_sensitive;
        // A8: a new file needs a file record.
        st.fits(super::space::FILE_RECORD, self.opts.capacity)?;
        let t = now();
        let mut attributes = new.attributes & attrs::SETTABLE;
        let body = match new.kind {
            FileKind::File => {
                attributes |= attrs::ARCHIVE;
                Body::File(Default::default())
            }
            FileKind::Directory => {
                attributes |= attrs::DIRECTORY;
                Body::Dir(Box::new(Dir {
                    case_sensitive: inherit_cs,
                    ..Dir::default()
                }))
            }
        };
        let default_mode = if new.kind == FileKind::Directory {
            0o755
        } else {
            0o644
        };
        let id = st.alloc(Inode {
            attributes,
            uid: new.uid.unwrap_or(self.opts.default_uid),
            gid: new.gid.unwrap_or(self.opts.default_gid),
            mode: new.mode.unwrap_or(default_mode) & 0o7777,
            opens: 0,
            pins: 0,
            times: Times {
                creation: t,
                last_access: t,
                last_write: t,
                change: t,
            },
            links: Links::default(),
            body,
            extra: None,
        });
        st.link_in(parent, name, id, t);
        Ok(id)
    }

    /// CreateHardLinkW: gives file `id` the new name `name` in `new_parent` (A1).
    /// Directories → FileIsADirectory; an existing name in any case → NameCollision; the
    /// 1025th name → TooManyLinks. A symlink is linked itself, not its target (A1).
    pub fn hard_link(&self, id: FileId, new_parent: FileId, name: &Name) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "hard_link").entered();
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get(id)?;
        if inode.is_dir() {
            return Err(Error::FileIsADirectory);
        }
        if inode.links.is_empty() {
            return Err(Error::FileDeleted);
        }
        let pdir = st
            .new_name_parent(new_parent, Error::ObjectPathNotFound)?
            .dir()
            .ok_or(Error::ObjectPathNotFound)?;
        if pdir.collides(name) {
            return Err(Error::NameCollision);
        }
        if st.get(id)?.links.len() >= self.opts.max_links {
            return Err(Error::TooManyLinks);
        }
        let t = now();
        st.link_in(new_parent, name, id, t);
        st.get_mut(id)?.times.change = t;
        Ok(())
    }

    /// Removes a name the way DeleteFileW (`kind` File) or RemoveDirectoryW (`kind` Directory)
    /// does: opens it for DELETE, sets the delete disposition with the volume's semantics, and
    /// closes. POSIX semantics (Windows 10 1903+): the name goes now and open handles keep the
    /// file. Legacy: the name stays, delete-pending, until the last handle closes (A2).
    /// Read-only → CannotDelete unless `ignore_readonly`; a non-empty directory →
    /// DirectoryNotEmpty; a handle without FILE_SHARE_DELETE → SharingViolation.
    pub fn unlink(
        &self,
        parent: FileId,
        name: &Name,
        kind: UnlinkKind,
        ignore_readonly: bool,
    ) -> Result<()> {
        self.unlink_with(parent, name, kind, ignore_readonly, |_, _| {
            Ok::<(), Error>(())
        })
        .map(drop)
    }

    /// [`Volume::unlink`] that first shows the entry's file to `check`, under the same lock
    /// (a backend's own rules: POSIX permission checks, what its callers may unlink), and
    /// returns the file whose name went. `check`'s error is returned as it is, before any
    /// of the engine's own refusals except a missing name. A backend then needs no lookup
    /// of its own before the unlink.
    pub fn unlink_checked<E: From<Error>>(
        &self,
        parent: FileId,
        name: &Name,
        kind: UnlinkKind,
        ignore_readonly: bool,
        check: impl FnOnce(&Stat) -> std::result::Result<(), E>,
    ) -> std::result::Result<FileId, E> {
        self.unlink_with(parent, name, kind, ignore_readonly, |st, id| {
            check(&st.stat(id)?)
        })
    }

    /// Both unlinks: `check` sees the state and the entry's file before anything else is
    /// checked (plain [`Volume::unlink`] builds no stat for it).
    fn unlink_with<E: From<Error>>(
        &self,
        parent: FileId,
        name: &Name,
        kind: UnlinkKind,
        ignore_readonly: bool,
        check: impl FnOnce(&State, FileId) -> std::result::Result<(), E>,
    ) -> std::result::Result<FileId, E> {
        let _s = trace_span!(target: "vfs_core", "unlink").entered();
        self.writable()?;
        let mut st = self.state.write();
        let dir = st.dir(parent)?;
        let named = dir.find(name).ok_or(Error::ObjectNameNotFound)?;
        let (id, display, pending) = (named.id(), named.display.clone(), named.pending());
        check(&st, id)?;
        if pending {
            return Err(Error::DeletePending.into());
        }
        let inode = st.get(id)?;
        let is_reparse_dir_link = inode
            .reparse()
            .is_some_and(|r| r.is_mount_point() || (r.is_symlink() && inode.is_dir()));
        match kind {
            // A2: DeleteFile on a junction → ERROR_ACCESS_DENIED; on a directory → the same.
            UnlinkKind::File if inode.is_dir() => {
                return Err(if is_reparse_dir_link {
                    Error::AccessDenied
                } else {
                    Error::FileIsADirectory
                }
                .into())
            }
            // A2: RemoveDirectory on a file (or file symlink) → ERROR_DIRECTORY.
            UnlinkKind::Directory if !inode.is_dir() => return Err(Error::NotADirectory.into()),
            _ => {}
        }
        self.check_deletable(&st, id, ignore_readonly)?;
        if let Some(sa) = st.share.get(&id) {
            sa.check(Access::DELETE, Share::ALL)?;
        }
        let t = now();
        if self.opts.delete_semantics == DeleteSemantics::Legacy && st.get(id)?.opens > 0 {
            if let Some(n) = st.dir_mut(parent)?.find_exact_mut(&display) {
                n.set_pending(true);
                st.names_marked_pending = true;
            }
        } else {
            st.unlink_entry(parent, &display, t);
        }
        Ok(id)
    }

    /// The checks FileDispositionInformation makes when a delete is requested (A2).
    pub(super) fn check_deletable(
        &self,
        st: &State,
        id: FileId,
        ignore_readonly: bool,
    ) -> Result<()> {
        let inode = st.get(id)?;
        if id == st.root {
            return Err(Error::CannotDelete);
        }
        if inode.attributes & attrs::READONLY != 0 && !ignore_readonly {
            return Err(Error::CannotDelete);
        }
        if let Some(d) = inode.dir() {
            if !d.is_empty() {
                return Err(Error::DirectoryNotEmpty);
            }
        }
        Ok(())
    }

    /// Renames (moves) `src_name` in `src_parent` to `dst_name` in `dst_parent` with the rules of
    /// MoveFileEx / FILE_RENAME_INFORMATION_EX (A6).
    pub fn rename(
        &self,
        src_parent: FileId,
        src_name: &Name,
        dst_parent: FileId,
        dst_name: &Name,
        flags: RenameFlags,
    ) -> Result<()> {
        self.rename_report(src_parent, src_name, dst_parent, dst_name, flags)
            .map(drop)
    }

    /// [`Volume::rename`] that says what it did: which file moved, which one lost the target
    /// name, and whether both names were the same entry (a case-only rename or a no-op). A
    /// backend that keeps its own view of names (the FUSE node table) then needs no lookups
    /// of its own around the rename.
    pub fn rename_report(
        &self,
        src_parent: FileId,
        src_name: &Name,
        dst_parent: FileId,
        dst_name: &Name,
        flags: RenameFlags,
    ) -> Result<Renamed> {
        let _s = trace_span!(target: "vfs_core", "rename").entered();
        self.writable()?;
        let mut st = self.state.write();
        self.rename_locked(
            &mut st, src_parent, src_name, dst_parent, dst_name, flags, true,
        )
    }

    /// [`Volume::rename`] with the lock held. `open_source`: the rename opens the source for
    /// DELETE (a path-level MoveFileEx), so handles that do not share delete refuse it; a
    /// rename through a handle already holds DELETE access and opens nothing.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn rename_locked(
        &self,
        st: &mut State,
        src_parent: FileId,
        src_name: &Name,
        dst_parent: FileId,
        dst_name: &Name,
        flags: RenameFlags,
        open_source: bool,
    ) -> Result<Renamed> {
        let src = st
            .dir(src_parent)?
            .find(src_name)
            .ok_or(Error::ObjectNameNotFound)?;
        let (src_id, src_display, src_pending) = (src.id(), src.display.clone(), src.pending());
        if src_pending {
            return Err(Error::DeletePending);
        }
        st.new_name_parent(dst_parent, Error::ObjectPathNotFound)?;
        let src_is_dir = st.get(src_id)?.is_dir();
        // The rename opens the source for DELETE: a handle that does not share delete refuses
        // it (A6: "source open with DELETE and share 0 → ERROR_SHARING_VIOLATION").
        if open_source {
            if let Some(sa) = st.share.get(&src_id) {
                sa.check(Access::DELETE, Share::ALL)?;
            }
        }
        if src_is_dir {
            // A6 [VERIFY]: a directory into its own subtree; `move` reports a sharing
            // violation on Windows.
            if st.is_ancestor(src_id, dst_parent) {
                return Err(Error::SharingViolation);
            }
            // A6: a directory with open handles beneath it cannot be renamed (WinFsp
            // rename_test; FastFat FatSetRenameInfo).
            let busy = st
                .handles
                .values()
                .any(|h| h.file != src_id && st.is_ancestor(src_id, h.file));
            if busy {
                return Err(Error::AccessDenied);
            }
        }
        let t = now();
        let existing = st
            .dir(dst_parent)?
            .find(dst_name)
            .map(|n| (n.id(), n.display.clone(), n.pending()));
        let replaced = existing.as_ref().map(|e| e.0);
        if let Some((dst_id, dst_display, dst_pending)) = existing {
            if dst_parent == src_parent && *dst_display == *src_display {
                // The same entry: a case-only rename re-cases it (A5: WinBtrfs rename
                // "different case"); the same spelling is a no-op.
                if *dst_display != *dst_name.display() {
                    st.unlink_entry_keep(src_parent, &src_display, src_id, t);
                    st.link_in(src_parent, dst_name, src_id, t);
                    st.move_handle_links(
                        src_id,
                        (src_parent, &src_display),
                        (dst_parent, dst_name.display()),
                    );
                }
                return Ok(Renamed {
                    file: src_id,
                    replaced: None,
                    same_entry: true,
                });
            }
            if !flags.replace_if_exists {
                return Err(Error::NameCollision);
            }
            if dst_pending {
                return Err(Error::DeletePending);
            }
            let dst = st.get(dst_id)?;
            if dst.is_dir() {
                // A6: replacing a directory is refused (Wine test_move_file), except with POSIX
                // semantics and an empty directory.
                if !flags.posix_semantics {
                    return Err(Error::AccessDenied);
                }
                if !dst.dir().is_some_and(|d| d.is_empty()) {
                    return Err(Error::DirectoryNotEmpty);
                }
                if dst.reparse().is_some() {
                    return Err(Error::AccessDenied);
                }
            }
            if dst.attributes & attrs::READONLY != 0 && !flags.ignore_readonly {
                return Err(Error::AccessDenied);
            }
            if dst.opens > 0 {
                // A6: target open → ERROR_ACCESS_DENIED; with POSIX semantics it is replaced
                // when every handle shares delete (else STATUS_SHARING_VIOLATION).
                if !flags.posix_semantics {
                    return Err(Error::AccessDenied);
                }
                if let Some(sa) = st.share.get(&dst_id) {
                    sa.check(Access::DELETE, Share::ALL)?;
                }
            }
            // Renaming one name of a file over another name of the same file removes the
            // target name and moves the source name there (link count drops by one).
            // [VERIFY on real NTFS: A6 "renaming over another link of the same file".]
            st.unlink_entry(dst_parent, &dst_display, t);
        }
        st.unlink_entry_keep(src_parent, &src_display, src_id, t);
        st.link_in(dst_parent, dst_name, src_id, t);
        st.move_handle_links(
            src_id,
            (src_parent, &src_display),
            (dst_parent, dst_name.display()),
        );
        st.get_mut(src_id)?.times.change = t;
        Ok(Renamed {
            file: src_id,
            replaced,
            same_entry: false,
        })
    }
}

/// What [`Volume::rename_report`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renamed {
    /// The file whose name moved.
    pub file: FileId,
    /// The file that had the target name and lost it (it may be `file` itself: one name of a
    /// file renamed over another of its names).
    pub replaced: Option<FileId>,
    /// Both names were one entry: only its case changed, or nothing did.
    pub same_entry: bool,
}
