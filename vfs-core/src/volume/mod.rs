//! [`Volume`]: the public face of the engine.
//!
//! Lock order: `Volume::state` (one `parking_lot::RwLock`) is the only lock in the engine; every
//! public operation takes it once, read for queries and write for changes, and never calls
//! another public operation while holding it. Hence no deadlock is possible inside the engine
//! and every operation is atomic with respect to every other.

mod check;
mod ext_fuse;
mod ext_snapshot;
mod ext_winfsp;
mod resolve;
mod store;

pub use check::CheckError;

use crate::error::{Error, Result};
use crate::name::{narrow, validate_name, wide};
use crate::reparse::{self, ReparseBuffer};
use crate::types::*;
use parking_lot::RwLock;
use resolve::{split_user_path, walk, walk_parent, Walked};
use store::{Body, Dir, Handle, Inode, Links, State};
use tracing::trace_span;

/// An in-memory NTFS volume. `Send + Sync`: share it between threads behind an `Arc`.
#[derive(Debug)]
pub struct Volume {
    opts: VolumeOptions,
    state: RwLock<State>,
}

/// Where a path leads when links are followed (see [`Volume::locate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file on this volume.
    File(FileId),
    /// A file that does not exist in an existing directory (a dangling link ends here).
    Missing {
        /// The directory that would hold it.
        parent: FileId,
        /// The missing name.
        name: Vec<u16>,
    },
    /// A link led to another drive letter that [`VolumeOptions::drive_map`] maps to a host path.
    Mapped {
        /// The drive letter.
        letter: char,
        /// The host path the drive map gives for the letter.
        host: String,
        /// The components below that letter's root.
        rest: Vec<Vec<u16>>,
    },
}

/// The two forms of a link's target (see [`Volume::read_link`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    /// The reparse tag (symlink or mount point).
    pub tag: u32,
    /// SubstituteName: what Windows follows (`\??\C:\dir` or a relative path).
    pub substitute_name: Vec<u16>,
    /// PrintName: what tools show.
    pub print_name: Vec<u16>,
    /// SYMLINK_FLAG_RELATIVE.
    pub relative: bool,
}

/// Prefix of the POSIX form of a link to a drive letter nobody mapped: a path that does not
/// exist on the host, so the link dangles, and that still shows the letter
/// (`/.ntlinkfs-unmapped/D:/dir`).
pub const UNMAPPED_PREFIX: &str = "/.ntlinkfs-unmapped";

fn w(s: &str) -> Vec<u16> {
    wide(s)
}

impl Volume {
    /// A new, empty volume.
    pub fn new(mut opts: VolumeOptions) -> Volume {
        opts.drive_letter = opts.drive_letter.to_ascii_uppercase();
        opts.drive_map = opts
            .drive_map
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        let state = State::new(opts.case_sensitive, opts.default_uid, opts.default_gid);
        Volume {
            opts,
            state: RwLock::new(state),
        }
    }

    /// The options this volume was built with.
    pub fn options(&self) -> &VolumeOptions {
        &self.opts
    }

    /// The root directory's id.
    pub fn root(&self) -> FileId {
        self.state.read().root
    }

    fn writable(&self) -> Result<()> {
        if self.opts.read_only {
            Err(Error::ReadOnlyVolume)
        } else {
            Ok(())
        }
    }

    // ------------------------------------------------------------------ queries by id

    /// Looks `name` up in directory `parent`: case-insensitive, or exact in a case-sensitive
    /// directory (A5). Does not follow reparse points.
    pub fn lookup(&self, parent: FileId, name: &[u16]) -> Result<FileId> {
        let _s = trace_span!(target: "vfs_core", "lookup").entered();
        validate_name(name)?;
        let st = self.state.read();
        let dir = st.dir(parent)?;
        dir.find(name)
            .map(|n| n.id())
            .ok_or(Error::ObjectNameNotFound)
    }

    /// Looks a name up and returns its stored (display) form too.
    pub fn lookup_entry(&self, parent: FileId, name: &[u16]) -> Result<(FileId, Vec<u16>)> {
        validate_name(name)?;
        let st = self.state.read();
        let dir = st.dir(parent)?;
        dir.find(name)
            .map(|n| (n.id(), n.display.to_vec()))
            .ok_or(Error::ObjectNameNotFound)
    }

    /// GetFileInformationByHandle and more.
    pub fn stat(&self, id: FileId) -> Result<Stat> {
        let _s = trace_span!(target: "vfs_core", "stat").entered();
        self.state.read().stat(id)
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

    /// Volume-relative paths of every name (`\dir\name`, what FindFirstFileNameW and `fsutil
    /// hardlink list` print, A1).
    pub fn link_paths(&self, id: FileId) -> Result<Vec<String>> {
        let st = self.state.read();
        let inode = st.get(id)?;
        Ok(inode
            .links
            .iter()
            .map(|l| narrow(&st.path_of(l.parent, &l.display)))
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
        let st = self.state.read();
        let d = st.dir(dir)?;
        let mut out = Vec::new();
        for (canon, named) in d.iter_after(cursor).take(limit) {
            out.push(DirEntry {
                name: named.display.to_vec(),
                cursor: DirCursor {
                    canonical: canon.into(),
                    display: named.display.clone(),
                },
                stat: st.stat(named.id())?,
            });
        }
        Ok(out)
    }

    /// Number of entries in a directory.
    pub fn dir_len(&self, dir: FileId) -> Result<usize> {
        Ok(self.state.read().dir(dir)?.count)
    }

    /// Reads file data at `offset`.
    pub fn read(&self, id: FileId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let _s = trace_span!(target: "vfs_core", "read").entered();
        let st = self.state.read();
        match &st.get(id)?.body {
            Body::File(d) => Ok(d.read(offset, buf)),
            Body::Dir(_) => Err(Error::FileIsADirectory),
        }
    }

    // ------------------------------------------------------------------ changes by id

    /// Creates a file or directory `name` in `parent` (NtCreateFile FILE_CREATE). New
    /// directories inherit the parent's case-sensitive flag (A5); new files get ARCHIVE.
    pub fn create(&self, parent: FileId, name: &[u16], new: &NewFile) -> Result<FileId> {
        let _s = trace_span!(target: "vfs_core", "create").entered();
        self.writable()?;
        validate_name(name)?;
        let mut st = self.state.write();
        self.create_locked(&mut st, parent, name, new)
    }

    fn create_locked(
        &self,
        st: &mut State,
        parent: FileId,
        name: &[u16],
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
        st.link_in(parent, name.into(), id, t);
        Ok(id)
    }

    /// CreateHardLinkW: gives file `id` the new name `name` in `new_parent` (A1).
    /// Directories → FileIsADirectory; an existing name in any case → NameCollision; the
    /// 1025th name → TooManyLinks. A symlink is linked itself, not its target (A1).
    pub fn hard_link(&self, id: FileId, new_parent: FileId, name: &[u16]) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "hard_link").entered();
        self.writable()?;
        validate_name(name)?;
        let mut st = self.state.write();
        let inode = st.get(id)?;
        if inode.is_dir() {
            return Err(Error::FileIsADirectory);
        }
        if inode.links.is_empty() {
            return Err(Error::FileDeleted);
        }
        let pinode = st.get(new_parent).map_err(|_| Error::ObjectPathNotFound)?;
        let pdir = pinode.dir().ok_or(Error::ObjectPathNotFound)?;
        if pinode.reparse().is_some() {
            return Err(Error::NotADirectory);
        }
        if pinode.links.is_empty() && new_parent != st.root {
            return Err(Error::FileDeleted);
        }
        if st.has_pending_name(new_parent) {
            return Err(Error::DeletePending);
        }
        if pdir.collides(name) {
            return Err(Error::NameCollision);
        }
        if st.get(id)?.links.len() >= self.opts.max_links {
            return Err(Error::TooManyLinks);
        }
        let t = now();
        st.link_in(new_parent, name.into(), id, t);
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
        name: &[u16],
        kind: UnlinkKind,
        ignore_readonly: bool,
    ) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "unlink").entered();
        self.writable()?;
        validate_name(name)?;
        let mut st = self.state.write();
        let dir = st.dir(parent)?;
        let named = dir.find(name).ok_or(Error::ObjectNameNotFound)?;
        let (id, display, pending) = (named.id(), named.display.clone(), named.pending());
        if pending {
            return Err(Error::DeletePending);
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
                })
            }
            // A2: RemoveDirectory on a file (or file symlink) → ERROR_DIRECTORY.
            UnlinkKind::Directory if !inode.is_dir() => return Err(Error::NotADirectory),
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
            }
        } else {
            st.unlink_entry(parent, &display, t);
        }
        Ok(())
    }

    /// The checks FileDispositionInformation makes when a delete is requested (A2).
    fn check_deletable(&self, st: &State, id: FileId, ignore_readonly: bool) -> Result<()> {
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
        src_name: &[u16],
        dst_parent: FileId,
        dst_name: &[u16],
        flags: RenameFlags,
    ) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "rename").entered();
        self.writable()?;
        validate_name(src_name)?;
        validate_name(dst_name)?;
        let mut st = self.state.write();
        let src = st
            .dir(src_parent)?
            .find(src_name)
            .ok_or(Error::ObjectNameNotFound)?;
        let (src_id, src_display, src_pending) = (src.id(), src.display.clone(), src.pending());
        if src_pending {
            return Err(Error::DeletePending);
        }
        let dst_pinode = st.get(dst_parent).map_err(|_| Error::ObjectPathNotFound)?;
        if dst_pinode.dir().is_none() {
            return Err(Error::ObjectPathNotFound);
        }
        if dst_pinode.reparse().is_some() {
            return Err(Error::NotADirectory);
        }
        if dst_pinode.links.is_empty() && dst_parent != st.root {
            return Err(Error::FileDeleted);
        }
        if st.has_pending_name(dst_parent) {
            return Err(Error::DeletePending);
        }
        let src_is_dir = st.get(src_id)?.is_dir();
        // The rename opens the source for DELETE: a handle that does not share delete refuses
        // it (A6: "source open with DELETE and share 0 → ERROR_SHARING_VIOLATION").
        if let Some(sa) = st.share.get(&src_id) {
            sa.check(Access::DELETE, Share::ALL)?;
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
        if let Some((dst_id, dst_display, dst_pending)) = existing {
            if dst_parent == src_parent && *dst_display == *src_display {
                // The same entry: a case-only rename re-cases it (A5: WinBtrfs rename
                // "different case"); the same spelling is a no-op.
                if *dst_display != *dst_name {
                    st.unlink_entry_keep(src_parent, &src_display, src_id, t);
                    st.link_in(src_parent, dst_name.into(), src_id, t);
                    st.move_handle_links(
                        src_id,
                        (src_parent, &src_display),
                        (dst_parent, dst_name),
                    );
                }
                return Ok(());
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
        st.link_in(dst_parent, dst_name.into(), src_id, t);
        st.move_handle_links(src_id, (src_parent, &src_display), (dst_parent, dst_name));
        st.get_mut(src_id)?.times.change = t;
        Ok(())
    }

    /// Writes file data at `offset` (through any name; every name sees it, A1).
    pub fn write(&self, id: FileId, offset: u64, data: &[u8]) -> Result<usize> {
        let _s = trace_span!(target: "vfs_core", "write").entered();
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let n = match &mut inode.body {
            Body::File(d) => d.write(offset, data)?,
            Body::Dir(_) => return Err(Error::FileIsADirectory),
        };
        let t = now();
        inode.times.last_write = t;
        inode.times.change = t;
        inode.attributes |= attrs::ARCHIVE;
        Ok(n)
    }

    /// Sets end of file (truncate or extend with zeros, allocating nothing).
    pub fn set_size(&self, id: FileId, size: u64) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_size").entered();
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        match &mut inode.body {
            Body::File(d) => d.set_size(size)?,
            Body::Dir(_) => return Err(Error::FileIsADirectory),
        }
        let t = now();
        inode.times.last_write = t;
        inode.times.change = t;
        Ok(())
    }

    /// SetFileAttributes: only [`attrs::SETTABLE`] bits change; DIRECTORY and REPARSE_POINT
    /// belong to the file system (MS-FSA 2.1.5.14.2). NORMAL alone clears everything.
    pub fn set_attributes(&self, id: FileId, attributes: u32) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_attributes").entered();
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let fixed = inode.attributes & (attrs::DIRECTORY | attrs::REPARSE_POINT);
        inode.attributes = fixed | (attributes & attrs::SETTABLE);
        inode.times.change = now();
        Ok(())
    }

    /// Sets any of the four timestamps (FileBasicInformation).
    pub fn set_times(&self, id: FileId, times: SetTimes) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let t = &mut inode.times;
        if let Some(v) = times.creation {
            t.creation = v;
        }
        if let Some(v) = times.last_access {
            t.last_access = v;
        }
        if let Some(v) = times.last_write {
            t.last_write = v;
        }
        t.change = times.change.unwrap_or_else(now);
        Ok(())
    }

    /// Sets owner, group and permission bits (the POSIX view of the file's security, shared by
    /// every name).
    pub fn set_owner_mode(
        &self,
        id: FileId,
        uid: Option<u32>,
        gid: Option<u32>,
        mode: Option<u32>,
    ) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        if let Some(u) = uid {
            inode.uid = u;
        }
        if let Some(g) = gid {
            inode.gid = g;
        }
        if let Some(m) = mode {
            inode.mode = m & 0o7777;
        }
        inode.times.change = now();
        Ok(())
    }

    /// The file's opaque security descriptor, if one was set.
    pub fn security(&self, id: FileId) -> Result<Option<Vec<u8>>> {
        let st = self.state.read();
        Ok(st.get(id)?.extra.as_ref().and_then(|e| e.security.clone()))
    }

    /// Stores an opaque security descriptor (None removes it).
    pub fn set_security(&self, id: FileId, sd: Option<Vec<u8>>) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        inode.extra_mut().security = sd;
        inode.shrink_extra();
        inode.times.change = now();
        Ok(())
    }

    /// Sets or clears FILE_CS_FLAG_CASE_SENSITIVE_DIR (A5): a file → InvalidParameter;
    /// clearing while names differing only in case exist → CaseDifferingNamesInDir.
    pub fn set_case_sensitive(&self, id: FileId, enable: bool) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let dir = inode.dir_mut().ok_or(Error::InvalidParameter)?;
        if !enable && dir.has_case_twins() {
            return Err(Error::CaseDifferingNamesInDir);
        }
        dir.case_sensitive = enable;
        Ok(())
    }

    /// An extended attribute (`user.*` in the FUSE backend), stored per file.
    pub fn xattr(&self, id: FileId, name: &str) -> Result<Option<Vec<u8>>> {
        let st = self.state.read();
        Ok(st
            .get(id)?
            .extra
            .as_ref()
            .and_then(|e| e.xattrs.get(name).cloned()))
    }

    /// Names of the stored extended attributes.
    pub fn xattr_names(&self, id: FileId) -> Result<Vec<String>> {
        let st = self.state.read();
        Ok(st
            .get(id)?
            .extra
            .as_ref()
            .map(|e| e.xattrs.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// Sets (Some) or removes (None) an extended attribute; removing a missing one →
    /// ObjectNameNotFound.
    pub fn set_xattr(&self, id: FileId, name: &str, value: Option<&[u8]>) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        match value {
            Some(v) => {
                inode
                    .extra_mut()
                    .xattrs
                    .insert(name.to_string(), v.to_vec());
            }
            None => {
                let removed = inode
                    .extra
                    .as_mut()
                    .and_then(|e| e.xattrs.remove(name))
                    .is_some();
                inode.shrink_extra();
                if !removed {
                    return Err(Error::ObjectNameNotFound);
                }
            }
        }
        inode.times.change = now();
        Ok(())
    }

    // ------------------------------------------------------------------ reparse points

    /// FSCTL_SET_REPARSE_POINT (A3, MS-FSA 2.1.5.10.37): the buffer must parse
    /// (ReparseDataInvalid); a mount point needs an empty directory (NotADirectory,
    /// DirectoryNotEmpty); replacing needs the same tag (ReparseTagMismatch) and, for
    /// non-Microsoft tags, the same GUID (ReparseAttributeConflict). A symlink is refused on a
    /// file that holds data (this project's rule, from the issue: a link is its reparse data
    /// only). Sets FILE_ATTRIBUTE_REPARSE_POINT and does not set ARCHIVE (WinBtrfs).
    pub fn set_reparse_point(&self, id: FileId, buffer: &[u8]) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_reparse_point").entered();
        self.writable()?;
        let rp = ReparseBuffer::parse(buffer).map_err(|_| Error::ReparseDataInvalid)?;
        let mut st = self.state.write();
        let inode = st.get(id)?;
        if let Some(old) = inode.reparse() {
            if old.tag() != rp.tag() {
                return Err(Error::ReparseTagMismatch);
            }
            if old.guid() != rp.guid() {
                return Err(Error::ReparseAttributeConflict);
            }
        }
        if rp.is_mount_point() {
            match inode.dir() {
                None => return Err(Error::NotADirectory),
                Some(d) if !d.is_empty() => return Err(Error::DirectoryNotEmpty),
                _ => {}
            }
        }
        if let Some(d) = inode.dir() {
            // "A reparse point cannot be set on a non-empty directory", whatever its tag
            // (FSCTL_SET_REPARSE_POINT, STATUS_DIRECTORY_NOT_EMPTY; A3).
            if !d.is_empty() {
                return Err(Error::DirectoryNotEmpty);
            }
        }
        if rp.is_symlink() && inode.data().is_some_and(|d| d.has_data()) {
            return Err(Error::InvalidParameter);
        }
        let inode = st.get_mut(id)?;
        inode.set_reparse(rp);
        inode.times.change = now();
        Ok(())
    }

    /// FSCTL_GET_REPARSE_POINT: the buffer byte for byte; not a reparse point →
    /// NotAReparsePoint.
    pub fn get_reparse_point(&self, id: FileId) -> Result<Vec<u8>> {
        let st = self.state.read();
        st.get(id)?
            .reparse()
            .map(|r| r.as_bytes().to_vec())
            .ok_or(Error::NotAReparsePoint)
    }

    /// FSCTL_DELETE_REPARSE_POINT with its header (tag, and GUID for non-Microsoft tags): wrong
    /// tag → ReparseTagMismatch, wrong GUID → ReparseAttributeConflict, none →
    /// NotAReparsePoint. Timestamps are left alone (A3: Wine checks LastAccessTime).
    pub fn delete_reparse_point(&self, id: FileId, header: &[u8]) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "delete_reparse_point").entered();
        self.writable()?;
        if header.len() >= 4 {
            let tag = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            if reparse::is_reserved_tag(tag) {
                return Err(Error::ReparseTagInvalid);
            }
        }
        let (tag, guid) =
            reparse::parse_delete_header(header).map_err(|_| Error::ReparseDataInvalid)?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let old = inode.reparse().ok_or(Error::NotAReparsePoint)?;
        if old.tag() != tag {
            return Err(Error::ReparseTagMismatch);
        }
        if old.guid() != guid {
            return Err(Error::ReparseAttributeConflict);
        }
        inode.clear_reparse();
        Ok(())
    }

    /// Removes whatever reparse point the file has (ntfs-3g's removexattr of
    /// `system.ntfs_reparse_data`); none → NotAReparsePoint.
    pub fn remove_reparse_point(&self, id: FileId) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        if inode.reparse().is_none() {
            return Err(Error::NotAReparsePoint);
        }
        inode.clear_reparse();
        Ok(())
    }

    /// The Windows form of a symlink's or junction's target (substitute and print names).
    pub fn read_link(&self, id: FileId) -> Result<LinkTarget> {
        let st = self.state.read();
        let rp = st.get(id)?.reparse().ok_or(Error::NotAReparsePoint)?;
        if !rp.is_symlink() && !rp.is_mount_point() {
            return Err(Error::IoReparseTagNotHandled);
        }
        Ok(LinkTarget {
            tag: rp.tag(),
            substitute_name: rp.substitute_name().unwrap_or(&[]).to_vec(),
            print_name: rp.print_name().unwrap_or(&[]).to_vec(),
            relative: rp.symlink_flags().unwrap_or(0) & reparse::SYMLINK_FLAG_RELATIVE != 0,
        })
    }

    /// The POSIX form of a link's target, for a backend mounted at `mount_path`: relative
    /// targets with `/`; absolute targets on this volume's letter (or root-relative) as
    /// `mount_path/dir`; mapped letters as the mapped host path; unmapped letters and UNC
    /// shares as a dangling path under [`UNMAPPED_PREFIX`].
    pub fn read_link_posix(&self, id: FileId, mount_path: &str) -> Result<String> {
        use crate::target::{parse_target, ReparseTarget};
        let t = self.read_link(id)?;
        let join = |base: &str, comps: &[Vec<u16>]| {
            let mut s = base.trim_end_matches('/').to_string();
            for c in comps {
                s.push('/');
                s.push_str(&narrow(c));
            }
            if s.is_empty() {
                s.push('/');
            }
            s
        };
        Ok(match parse_target(&t.substitute_name, t.relative) {
            ReparseTarget::Relative(c) => {
                let parts: Vec<String> = c.iter().map(|p| narrow(p)).collect();
                parts.join("/")
            }
            ReparseTarget::RootRelative(c) => join(mount_path, &c),
            ReparseTarget::Drive { letter, components } if letter == self.opts.drive_letter => {
                join(mount_path, &components)
            }
            ReparseTarget::Drive { letter, components } => match self.opts.drive_map.get(&letter) {
                Some(host) => join(host, &components),
                None => join(&format!("{UNMAPPED_PREFIX}/{letter}:"), &components),
            },
            ReparseTarget::Unc {
                server,
                share,
                components,
            } => join(
                &format!(
                    "{UNMAPPED_PREFIX}/UNC/{}/{}",
                    narrow(&server),
                    narrow(&share)
                ),
                &components,
            ),
            ReparseTarget::VolumeGuid { guid, components } => {
                join(&format!("{UNMAPPED_PREFIX}/{}", narrow(&guid)), &components)
            }
            // Never above the prefix: dot segments are left out (issue 14).
            ReparseTarget::Other(p) => {
                format!("{UNMAPPED_PREFIX}/{}", crate::target::other_to_posix(&p))
            }
        })
    }

    // ------------------------------------------------------------------ handles

    /// Opens a handle on a file by id (a backend that has no name, e.g. FUSE open). Sharing is
    /// checked as IoCheckShareAccess does; a file with no name left → FileDeleted.
    pub fn open(&self, id: FileId, access: Access, share: Share) -> Result<HandleId> {
        let _s = trace_span!(target: "vfs_core", "open").entered();
        let mut st = self.state.write();
        let inode = st.get(id)?;
        if inode.links.is_empty() && id != st.root {
            return Err(Error::FileDeleted);
        }
        if self.opts.read_only && (access.write || access.delete) {
            return Err(Error::ReadOnlyVolume);
        }
        if access.write && !inode.is_dir() && inode.attributes & attrs::READONLY != 0 {
            // MS-FSA 2.1.5.1.2: opening a read-only file for write access is
            // STATUS_ACCESS_DENIED.
            return Err(Error::AccessDenied);
        }
        self.add_handle(&mut st, id, None, access, share, false)
    }

    fn add_handle(
        &self,
        st: &mut State,
        id: FileId,
        link: Option<(FileId, Box<[u16]>)>,
        access: Access,
        share: Share,
        delete_on_close: bool,
    ) -> Result<HandleId> {
        let sa = st.share.entry(id).or_default();
        sa.check(access, share)?;
        sa.add(access, share);
        st.get_mut(id)?.opens += 1;
        let h = st.next_handle;
        st.next_handle += 1;
        st.handles.insert(
            h,
            Handle {
                file: id,
                link,
                access,
                share,
                delete_on_close,
                disposition: None,
            },
        );
        Ok(HandleId(h))
    }

    /// The file a handle is open on.
    pub fn handle_file(&self, h: HandleId) -> Result<FileId> {
        let st = self.state.read();
        st.handles
            .get(&h.0)
            .map(|x| x.file)
            .ok_or(Error::InvalidHandle)
    }

    /// Number of open handles (for tests and leak checks).
    pub fn open_handle_count(&self) -> usize {
        self.state.read().handles.len()
    }

    /// FileDispositionInformation[Ex] on a handle opened by name (A2). Delete: read-only →
    /// CannotDelete unless `ignore_readonly`; non-empty directory → DirectoryNotEmpty (the
    /// set call itself fails, as on NTFS); the name becomes delete-pending (new opens fail
    /// with DeletePending) and goes when this handle closes (POSIX flag) or when the last
    /// handle closes (legacy). `delete: false` cancels this handle's request.
    pub fn set_disposition(&self, h: HandleId, flags: DispositionFlags) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_disposition").entered();
        self.writable()?;
        let mut st = self.state.write();
        let handle = st.handles.get(&h.0).ok_or(Error::InvalidHandle)?.clone();
        let (parent, display) = handle.link.clone().ok_or(Error::InvalidParameter)?;
        if !handle.access.delete {
            return Err(Error::AccessDenied);
        }
        if flags.delete {
            self.check_deletable(&st, handle.file, flags.ignore_readonly)?;
            // The handle's name may be gone (a POSIX delete through another handle) and even
            // reused by another file: only the entry that still names this file is marked.
            let named = st
                .dir_mut(parent)?
                .find_exact_mut(&display)
                .filter(|n| n.id() == handle.file)
                .ok_or(Error::FileDeleted)?;
            named.set_pending(true);
            st.handles.get_mut(&h.0).expect("checked").disposition = Some(flags);
        } else {
            st.handles.get_mut(&h.0).expect("checked").disposition = None;
            let others = st.handles.iter().any(|(k, o)| {
                *k != h.0
                    && o.link.as_ref() == Some(&(parent, display.clone()))
                    && o.disposition.is_some()
            });
            if !others {
                if let Some(n) = st.dir_mut(parent)?.find_exact_mut(&display) {
                    if n.id() == handle.file {
                        n.set_pending(false);
                    }
                }
            }
        }
        Ok(())
    }

    /// Closes a handle (IRP_MJ_CLEANUP + CLOSE). Delete-on-close and a POSIX disposition remove
    /// the handle's name now; when the file's last handle closes, every delete-pending name goes
    /// (legacy semantics, A2), and a file with no name left is freed.
    pub fn close(&self, h: HandleId) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "close").entered();
        let mut st = self.state.write();
        let handle = st.handles.remove(&h.0).ok_or(Error::InvalidHandle)?;
        let id = handle.file;
        if let Some(sa) = st.share.get_mut(&id) {
            sa.remove(handle.access, handle.share);
            if sa.open_count == 0 {
                st.share.remove(&id);
            }
        }
        let t = now();
        let opens = match st.get_mut(id) {
            Ok(inode) => {
                inode.opens -= 1;
                inode.opens
            }
            Err(_) => return Ok(()),
        };
        if let Some((parent, display)) = &handle.link {
            let posix = handle.disposition.is_some_and(|d| d.posix_semantics)
                || (handle.delete_on_close && self.opts.delete_semantics == DeleteSemantics::Posix);
            if handle.delete_on_close && handle.disposition.is_none() {
                // FILE_DELETE_ON_CLOSE: the delete is requested at cleanup (MS-FSA 2.1.5.4).
                let ok = self.check_deletable(&st, id, false).is_ok();
                if ok {
                    if let Some(n) = st
                        .dir_mut(*parent)
                        .ok()
                        .and_then(|d| d.find_exact_mut(display))
                    {
                        if n.id() == id {
                            n.set_pending(true);
                        }
                    }
                }
            }
            let pending_here = st
                .dir(*parent)
                .ok()
                .and_then(|d| d.find_exact(display))
                .is_some_and(|n| n.id() == id && n.pending());
            if pending_here && posix {
                st.unlink_entry(*parent, display, t);
            }
        }
        if opens == 0 {
            // Last handle: every delete-pending name of the file goes.
            if let Ok(inode) = st.get(id) {
                let pending: Vec<(FileId, Box<[u16]>)> = inode
                    .links
                    .iter()
                    .filter(|l| {
                        st.dir(l.parent)
                            .ok()
                            .and_then(|d| d.find_exact(&l.display))
                            .is_some_and(|n| n.pending())
                    })
                    .map(|l| (l.parent, l.display.clone()))
                    .collect();
                for (p, d) in pending {
                    st.unlink_entry(p, &d, t);
                }
            }
        }
        st.maybe_free(id);
        Ok(())
    }

    /// Takes a backend reference on a file (a FUSE lookup): the file stays valid, even with no
    /// name left, until [`Volume::unpin`]. Pins are not handles: they never delay a legacy
    /// delete and never block a rename.
    pub fn pin(&self, id: FileId) -> Result<()> {
        let mut st = self.state.write();
        st.get_mut(id)?.pins += 1;
        Ok(())
    }

    /// Drops `n` backend references (FUSE forget); frees the file if nothing else holds it.
    pub fn unpin(&self, id: FileId, n: u32) -> Result<()> {
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        inode.pins = inode.pins.saturating_sub(n);
        st.maybe_free(id);
        Ok(())
    }

    // ------------------------------------------------------------------ paths

    /// Resolves a path to a file id, following reparse points in every component and, when
    /// `follow_final`, in the last one (A3, A4). Dangling → ObjectNameNotFound; a missing
    /// directory on the way → ObjectPathNotFound.
    pub fn resolve(&self, path: &str, follow_final: bool) -> Result<FileId> {
        self.resolve_w(&w(path), follow_final)
    }

    /// [`Volume::resolve`] for a WTF-16 path.
    pub fn resolve_w(&self, path: &[u16], follow_final: bool) -> Result<FileId> {
        match self.locate_w(path, follow_final)? {
            Location::File(id) => Ok(id),
            Location::Missing { .. } => Err(Error::ObjectNameNotFound),
            Location::Mapped { .. } => Err(Error::NotOnThisVolume),
        }
    }

    /// Where a path leads, including links to mapped drive letters.
    pub fn locate(&self, path: &str, follow_final: bool) -> Result<Location> {
        self.locate_w(&w(path), follow_final)
    }

    /// [`Volume::locate`] for a WTF-16 path.
    pub fn locate_w(&self, path: &[u16], follow_final: bool) -> Result<Location> {
        let _s = trace_span!(target: "vfs_core", "resolve").entered();
        let comps = split_user_path(path, &self.opts)?;
        let st = self.state.read();
        Ok(match walk(&st, &self.opts, comps, follow_final)? {
            Walked::Found { id, .. } => Location::File(id),
            Walked::Missing { parent, name } => Location::Missing { parent, name },
            Walked::Mapped { letter, host, rest } => Location::Mapped { letter, host, rest },
        })
    }

    /// The parent directory and final name of a path that is to be created.
    fn parent_and_name(&self, st: &State, path: &[u16]) -> Result<(FileId, Vec<u16>)> {
        let mut comps = split_user_path(path, &self.opts)?;
        let name = comps.pop().ok_or(Error::ObjectNameInvalid)?;
        validate_name(&name)?;
        match walk_parent(st, &self.opts, comps)? {
            Walked::Found { id, pending, .. } => {
                if pending {
                    // Adding a name opens the directory through its delete-pending name (A2).
                    return Err(Error::DeletePending);
                }
                if st.get(id)?.dir().is_none() {
                    return Err(Error::ObjectPathNotFound);
                }
                Ok((id, name))
            }
            Walked::Missing { .. } => Err(Error::ObjectPathNotFound),
            Walked::Mapped { .. } => Err(Error::NotSameDevice),
        }
    }

    /// The directory entry a path names, without following a reparse point in the last
    /// component (what delete, rename and link act on).
    fn entry_of(&self, st: &State, path: &[u16]) -> Result<(FileId, Vec<u16>, FileId)> {
        let comps = split_user_path(path, &self.opts)?;
        match walk(st, &self.opts, comps, false)? {
            Walked::Found {
                id,
                entry: Some((parent, display)),
                ..
            } => Ok((parent, display.to_vec(), id)),
            Walked::Found { entry: None, .. } => Err(Error::AccessDenied),
            Walked::Missing { .. } => Err(Error::ObjectNameNotFound),
            Walked::Mapped { .. } => Err(Error::NotSameDevice),
        }
    }

    /// NtCreateFile by path: resolves, creates per the disposition, checks
    /// FILE_DIRECTORY_FILE / FILE_NON_DIRECTORY_FILE and sharing, and returns a handle and
    /// whether the file was created. A delete-pending name → DeletePending (A2).
    pub fn open_path(&self, path: &str, opts: &OpenOptions) -> Result<(HandleId, bool)> {
        self.open_path_w(&w(path), opts)
    }

    /// [`Volume::open_path`] for a WTF-16 path.
    pub fn open_path_w(&self, path: &[u16], opts: &OpenOptions) -> Result<(HandleId, bool)> {
        let _s = trace_span!(target: "vfs_core", "open_path").entered();
        let creates = !matches!(opts.disposition, Disposition::Open | Disposition::Overwrite);
        if self.opts.read_only
            && (creates
                || opts.access.write
                || opts.access.delete
                || opts.delete_on_close
                || opts.disposition != Disposition::Open)
        {
            return Err(Error::ReadOnlyVolume);
        }
        let comps = split_user_path(path, &self.opts)?;
        let mut st = self.state.write();
        let walked = walk(&st, &self.opts, comps, !opts.open_reparse_point)?;
        match walked {
            Walked::Mapped { .. } => Err(Error::NotOnThisVolume),
            Walked::Missing { parent, name } => {
                if !creates {
                    return Err(Error::ObjectNameNotFound);
                }
                let mut new = opts.new_file.clone();
                if let Some(k) = opts.kind {
                    new.kind = k;
                }
                let id = self.create_locked(&mut st, parent, &name, &new)?;
                let h = self.add_handle(
                    &mut st,
                    id,
                    Some((parent, name.into())),
                    opts.access,
                    opts.share,
                    opts.delete_on_close,
                )?;
                Ok((h, true))
            }
            Walked::Found { id, entry, pending } => {
                if pending {
                    return Err(Error::DeletePending);
                }
                if opts.disposition == Disposition::Create {
                    return Err(Error::NameCollision);
                }
                let inode = st.get(id)?;
                match opts.kind {
                    Some(FileKind::Directory) if !inode.is_dir() => {
                        return Err(Error::NotADirectory)
                    }
                    Some(FileKind::File) if inode.is_dir() => return Err(Error::FileIsADirectory),
                    _ => {}
                }
                if opts.delete_on_close && inode.attributes & attrs::READONLY != 0 {
                    return Err(Error::CannotDelete);
                }
                // MS-FSA 2.1.5.1.2: write access to, or overwriting, an existing read-only file
                // is STATUS_ACCESS_DENIED.
                let overwrites = matches!(
                    opts.disposition,
                    Disposition::Overwrite | Disposition::OverwriteIf | Disposition::Supersede
                );
                if (opts.access.write || overwrites)
                    && !inode.is_dir()
                    && inode.attributes & attrs::READONLY != 0
                {
                    return Err(Error::AccessDenied);
                }
                let truncate = matches!(
                    opts.disposition,
                    Disposition::Overwrite | Disposition::OverwriteIf | Disposition::Supersede
                );
                if truncate && inode.is_dir() {
                    return Err(Error::FileIsADirectory);
                }
                let h = self.add_handle(
                    &mut st,
                    id,
                    entry,
                    opts.access,
                    opts.share,
                    opts.delete_on_close,
                )?;
                if truncate {
                    let inode = st.get_mut(id)?;
                    if let Body::File(d) = &mut inode.body {
                        d.set_size(0)?;
                    }
                    let t = now();
                    inode.times.last_write = t;
                    inode.times.change = t;
                }
                Ok((h, false))
            }
        }
    }

    /// Creates a directory at `path` (CreateDirectoryW).
    pub fn create_dir_path(&self, path: &str) -> Result<FileId> {
        self.create_path(path, &NewFile::dir())
    }

    /// Creates an empty file at `path` (fails if it exists).
    pub fn create_file_path(&self, path: &str) -> Result<FileId> {
        self.create_path(path, &NewFile::file())
    }

    /// Creates a file or directory at `path`.
    pub fn create_path(&self, path: &str, new: &NewFile) -> Result<FileId> {
        self.writable()?;
        let mut st = self.state.write();
        let (parent, name) = self.parent_and_name(&st, &w(path))?;
        self.create_locked(&mut st, parent, &name, new)
    }

    /// Creates or truncates the file at `path` (following links) and writes `data`.
    pub fn write_file_path(&self, path: &str, data: &[u8]) -> Result<FileId> {
        let (h, _) = self.open_path(
            path,
            &OpenOptions {
                disposition: Disposition::OverwriteIf,
                kind: Some(FileKind::File),
                ..OpenOptions::default()
            },
        )?;
        let id = self.handle_file(h)?;
        let r = self.write(id, 0, data);
        self.close(h)?;
        r.map(|_| id)
    }

    /// Reads the whole file at `path` (following links).
    pub fn read_file_path(&self, path: &str) -> Result<Vec<u8>> {
        let id = self.resolve(path, true)?;
        let size = self.stat(id)?.size;
        if size > isize::MAX as u64 {
            return Err(Error::FileTooLarge);
        }
        let mut buf = vec![0u8; size as usize];
        let n = self.read(id, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Stat by path; `follow` = follow a reparse point in the last component.
    pub fn stat_path(&self, path: &str, follow: bool) -> Result<Stat> {
        self.stat(self.resolve(path, follow)?)
    }

    /// CreateHardLinkW(new, existing): the existing path's last component is not followed, so
    /// a symlink is linked itself (A1).
    pub fn hard_link_path(&self, existing: &str, new: &str) -> Result<()> {
        let id = {
            let st = self.state.read();
            let comps = split_user_path(&w(existing), &self.opts)?;
            match walk(&st, &self.opts, comps, false)? {
                Walked::Found { id, pending, .. } => {
                    if pending {
                        return Err(Error::DeletePending);
                    }
                    id
                }
                Walked::Missing { .. } => return Err(Error::ObjectNameNotFound),
                Walked::Mapped { .. } => return Err(Error::NotSameDevice),
            }
        };
        let (parent, name) = {
            let st = self.state.read();
            self.parent_and_name(&st, &w(new))?
        };
        self.hard_link(id, parent, &name)
    }

    /// DeleteFileW (`UnlinkKind::File`) / RemoveDirectoryW (`UnlinkKind::Directory`) by path;
    /// the last component is never followed, so removing a link removes the link (A2).
    pub fn delete_path(&self, path: &str, kind: UnlinkKind) -> Result<()> {
        let (parent, name, _) = {
            let st = self.state.read();
            self.entry_of(&st, &w(path))?
        };
        self.unlink(parent, &name, kind, false)
    }

    /// MoveFileEx / SetFileInformationByHandle(FileRenameInfoEx) by path. The source's last
    /// component is not followed (a link is renamed, not its target).
    pub fn rename_path(&self, src: &str, dst: &str, flags: RenameFlags) -> Result<()> {
        let (sp, sn, dp, dn) = {
            let st = self.state.read();
            let (sp, sn, _) = self.entry_of(&st, &w(src))?;
            let (dp, dn) = self.parent_and_name(&st, &w(dst))?;
            (sp, sn, dp, dn)
        };
        self.rename(sp, &sn, dp, &dn, flags)
    }

    /// Lists a directory by path (following links), whole, in NTFS order.
    pub fn read_dir_path(&self, path: &str) -> Result<Vec<DirEntry>> {
        let id = self.resolve(path, true)?;
        self.read_dir(id, None, usize::MAX)
    }

    /// Volume-relative paths of every name of the file at `path` (FindFirstFileNameW).
    pub fn link_paths_of(&self, path: &str) -> Result<Vec<String>> {
        self.link_paths(self.resolve(path, false)?)
    }

    /// CreateSymbolicLinkW(path, target, directory ? SYMBOLIC_LINK_FLAG_DIRECTORY : 0): makes
    /// an empty file or directory holding a symlink reparse buffer laid out as
    /// CreateSymbolicLinkW writes it (A4). The target is not checked.
    pub fn create_symlink(&self, path: &str, target: &str, directory: bool) -> Result<FileId> {
        let _s = trace_span!(target: "vfs_core", "create_symlink").entered();
        let rp = reparse::symlink_for_target(&w(target), self.opts.drive_letter)
            .map_err(|_| Error::ReparseDataInvalid)?;
        self.create_with_reparse(path, directory, rp)
    }

    /// `mklink /J path target`: an empty directory holding a mount-point buffer as mklink
    /// writes it (A3). The target must be absolute; it is not checked.
    pub fn create_junction(&self, path: &str, target: &str) -> Result<FileId> {
        let _s = trace_span!(target: "vfs_core", "create_junction").entered();
        let rp = reparse::junction_for_target(&w(target), self.opts.drive_letter)
            .map_err(|_| Error::ReparseDataInvalid)?;
        self.create_with_reparse(path, true, rp)
    }

    fn create_with_reparse(&self, path: &str, dir: bool, rp: ReparseBuffer) -> Result<FileId> {
        self.writable()?;
        let mut st = self.state.write();
        let (parent, name) = self.parent_and_name(&st, &w(path))?;
        let new = if dir { NewFile::dir() } else { NewFile::file() };
        self.create_reparse_locked(&mut st, parent, &name, &new, rp)
    }

    /// Creates `name` in `parent` already holding reparse buffer `rp`, in one locked step.
    /// A mount point needs a directory (A3: STATUS_NOT_A_DIRECTORY). mklink's files carry no
    /// ARCHIVE from the link itself (A3: setting a reparse point does not set ARCHIVE); the
    /// create already set it for files, as Windows does.
    fn create_reparse_locked(
        &self,
        st: &mut State,
        parent: FileId,
        name: &[u16],
        new: &NewFile,
        rp: ReparseBuffer,
    ) -> Result<FileId> {
        if rp.is_mount_point() && new.kind != FileKind::Directory {
            return Err(Error::NotADirectory);
        }
        let id = self.create_locked(st, parent, name, new)?;
        st.get_mut(id)?.set_reparse(rp);
        Ok(id)
    }

    /// Deletes a tree without ever following a junction or symlink out of it: links inside
    /// are removed as links (A2; CPython `test_rmtree_works_on_junctions`). Read-only files
    /// are deleted as with FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE.
    pub fn remove_tree(&self, path: &str) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "remove_tree").entered();
        self.writable()?;
        let (parent, name, id) = {
            let st = self.state.read();
            self.entry_of(&st, &w(path))?
        };
        self.remove_tree_id(id)?;
        self.unlink(parent, &name, UnlinkKind::Any, true)
    }

    fn remove_tree_id(&self, id: FileId) -> Result<()> {
        let st = self.stat(id)?;
        if st.kind != FileKind::Directory || st.reparse_tag.is_some() {
            return Ok(());
        }
        loop {
            let batch = self.read_dir(id, None, 256)?;
            if batch.is_empty() {
                return Ok(());
            }
            for e in batch {
                self.remove_tree_id(e.stat.id)?;
                self.unlink(id, &e.name, UnlinkKind::Any, true)?;
            }
        }
    }

    /// Checks every invariant of the store; see [`CheckError`].
    pub fn check(&self) -> std::result::Result<(), CheckError> {
        let st = self.state.read();
        check::check(&st, &self.opts)
    }

    /// Number of live files and directories (root included).
    pub fn file_count(&self) -> usize {
        self.state.read().inodes.len()
    }
}

impl store::State {
    /// Removes a directory entry and back link without freeing the file (it is about to get
    /// another name).
    pub(crate) fn unlink_entry_keep(
        &mut self,
        parent: FileId,
        display: &[u16],
        id: FileId,
        t: FileTime,
    ) {
        if let Ok(inode) = self.get_mut(id) {
            inode.pins += 1;
        }
        self.unlink_entry(parent, display, t);
        if let Ok(inode) = self.get_mut(id) {
            inode.pins -= 1;
        }
    }
}

#[cfg(test)]
mod tests;
