//! Extended attribute names and the ntfs-3g value formats.
//!
//! ntfs-3g exposes NTFS metadata as `system.ntfs_*` extended attributes; ntlinkfs answers the
//! same names with the same byte layouts, so scripts written for an ntfs-3g mount of real
//! NTFS work unchanged. Layouts (observed on ntfs-3g 2022.10 over an mkntfs image with
//! `getfattr -e hex` / `setfattr`; `_be` = the same numbers big-endian, plain = little-endian):
//!
//! * `system.ntfs_reparse_data`: the REPARSE_DATA_BUFFER byte for byte (MS-FSCC 2.1.2.2).
//! * `system.ntfs_attrib[_be]`: FILE_ATTRIBUTE_* as a 4-byte integer (a new file: 0x20, a
//!   directory: 0x30).
//! * `system.ntfs_crtime[_be]`: CreationTime as an 8-byte FILETIME.
//! * `system.ntfs_times[_be]`: four 8-byte FILETIMEs, in the order CreationTime,
//!   LastWriteTime, LastAccessTime, ChangeTime. Setting accepts 8, 16, 24 or 32 bytes and sets
//!   that many of the times from the first; any other length → ERANGE (ntfs-3g: "Numerical
//!   result out of range").
//!
//! `user.*`, `trusted.*` and `security.*` attributes are stored per file by the engine
//! ([`vfs_core::Volume::set_xattr`]), shared by every name of the file.
//!
//! Control attributes of ntlinkfs itself live under `user.ntlinkfs.` (the `user` namespace is
//! the one the kernel passes to FUSE for every caller); they are never stored or listed:
//! see [`Control`].
//!
//! The second half of this module is what SETXATTR, GETXATTR, LISTXATTR and REMOVEXATTR do
//! (an `impl Core`, no fuser type: `glue` only packs the replies).

use crate::core::{Caller, Core};
use crate::creds;
use crate::errno::{errno, Errno};
use crate::names;
use host::xattrs::{control, ntfs};
use std::os::unix::ffi::OsStrExt;
use vfs_core::{FileId, FileTime, SetTimes};

/// One of the names this backend answers itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    /// `system.ntfs_reparse_data`
    ReparseData,
    /// `system.ntfs_attrib` (`be`: `_be`)
    Attrib { be: bool },
    /// `system.ntfs_crtime`
    Crtime { be: bool },
    /// `system.ntfs_times`
    Times { be: bool },
    /// A control attribute.
    Control(Control),
    /// Stored in the engine.
    Stored,
    /// `user.ntlinkfs.*` names that mean nothing: refused.
    ReservedUnknown,
    /// Any other namespace (`system.posix_acl_*`, `system.ntfs_dos_name`, …).
    Unsupported,
}

impl Special {
    /// One of the `system.ntfs_*` names: NTFS metadata that only the file's owner (or a
    /// caller with CAP_FOWNER) may change. Reading them needs only what stat needs.
    pub(crate) fn is_metadata(self) -> bool {
        matches!(
            self,
            Special::ReparseData
                | Special::Attrib { .. }
                | Special::Crtime { .. }
                | Special::Times { .. }
        )
    }
}

/// Control attributes (get or set through `getfattr` / `setfattr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    /// `user.ntlinkfs.check` (get, any file): runs the engine's invariant check; the value is
    /// `ok` or one inconsistency per line.
    Check,
    /// `user.ntlinkfs.names` (get): every name of the file as volume paths (`\dir\name`, what
    /// FindFirstFileNameW returns, A1), one per line.
    Names,
    /// `user.ntlinkfs.fileid` (get): the file's NTFS file id in hex (`0x…`), shared by all
    /// its names.
    FileId,
    /// `user.ntlinkfs.recase` (set on a directory): the value is a new spelling of one of the
    /// directory's entries that differs only in case; the entry is re-cased (A5: a case-only
    /// rename re-cases the entry). rename(2) cannot do this on Linux: the VFS turns a rename
    /// between two names of the same inode into a no-op before the file system sees it.
    Recase,
    /// `user.ntlinkfs.save` (set on the root): the value is an absolute host path; the daemon
    /// saves the drive there as an image, atomically (`ntlinkfs save MOUNTPOINT FILE`). A path
    /// inside the drive itself → EDEADLK (see `save_image`).
    Save,
    /// `user.ntlinkfs.handles` (get, any file): the number of handles open in the engine, in
    /// decimal (leak checks: 0 once every file is closed).
    Handles,
    /// `user.ntlinkfs.pid` (get, any file): the daemon's process id in decimal (`ntlinkfs
    /// unmount` waits for it to exit).
    Pid,
    /// `user.ntlinkfs.image` (get, any file): the host path of the image the daemon saves the
    /// drive to when it is unmounted (`ntlinkfs mount --image`); ENODATA when there is none.
    Image,
}

/// Prefix of ntlinkfs's control attributes (`user.ntlinkfs.`): `check`, `names`, `fileid`,
/// `recase`, `save`, `handles`, `pid`, `image`.
///
/// Every control attribute answers only the user who mounted the drive and root (issue 14);
/// anyone else gets EPERM. Those that act (save, recase, check) must not be anyone's on a
/// drive shared with `--allow-other`, and those that read say more than stat does: `names`
/// lists paths in directories the caller may be unable to search, `handles` and `check`
/// describe the whole volume.
pub const CONTROL_PREFIX: &str = control::PREFIX;

/// Whether a setxattr/removexattr of `name` may wait before replying: a save writes a whole
/// image (`save_image`). glue runs it on the mount's worker thread. (A reparse point change
/// waits too, for the kernel to drop the link's names, but never blocks a serving thread on
/// it: [`Settle::AfterNames`].)
pub(crate) fn may_wait(name: &[u8]) -> bool {
    matches!(classify(name), Special::Control(Control::Save))
}

/// Whether a getxattr of `name` reads what a write changes (data, sizes, LastWriteTime, the
/// archive bit) and so must first have the kernel write back what it holds dirty on a
/// writeback-cache mount (module `writeback`): the engine's check (sizes against the space
/// used), `system.ntfs_times` and `system.ntfs_attrib`. glue runs those on the worker after a
/// syncfs. `names`, `fileid`, `handles`, `pid` and `image` depend on nothing the kernel
/// caches dirty: name changes, opens and closes are synchronous requests.
pub(crate) fn get_reads_written_state(name: &[u8]) -> bool {
    matches!(
        classify(name),
        Special::Control(Control::Check) | Special::Times { .. } | Special::Attrib { .. }
    )
}

/// Classifies an attribute name.
pub(crate) fn classify(name: &[u8]) -> Special {
    match name {
        n if n == ntfs::REPARSE_DATA.as_bytes() => Special::ReparseData,
        n if n == ntfs::ATTRIB.as_bytes() => Special::Attrib { be: false },
        n if n == ntfs::ATTRIB_BE.as_bytes() => Special::Attrib { be: true },
        n if n == ntfs::CRTIME.as_bytes() => Special::Crtime { be: false },
        n if n == ntfs::CRTIME_BE.as_bytes() => Special::Crtime { be: true },
        n if n == ntfs::TIMES.as_bytes() => Special::Times { be: false },
        n if n == ntfs::TIMES_BE.as_bytes() => Special::Times { be: true },
        n if n == control::CHECK.as_bytes() => Special::Control(Control::Check),
        n if n == control::NAMES.as_bytes() => Special::Control(Control::Names),
        n if n == control::FILEID.as_bytes() => Special::Control(Control::FileId),
        n if n == control::RECASE.as_bytes() => Special::Control(Control::Recase),
        n if n == control::SAVE.as_bytes() => Special::Control(Control::Save),
        n if n == control::HANDLES.as_bytes() => Special::Control(Control::Handles),
        n if n == control::PID.as_bytes() => Special::Control(Control::Pid),
        n if n == control::IMAGE.as_bytes() => Special::Control(Control::Image),
        n if n.starts_with(CONTROL_PREFIX.as_bytes()) => Special::ReservedUnknown,
        n if n.starts_with(b"user.")
            || n.starts_with(b"trusted.")
            || n.starts_with(b"security.") =>
        {
            Special::Stored
        }
        _ => Special::Unsupported,
    }
}

/// The name of a stored attribute as the engine keeps it (UTF-8). A name that is not UTF-8
/// is refused with EILSEQ, as ntfs-3g does (observed: `setfattr -n $'user.\xff\xfe'`,
/// `getfattr` and `setfattr -x` of such a name on an ntfs-3g mount fail with "Invalid or
/// incomplete multibyte or wide character"); converting it lossily would make distinct
/// names one attribute.
fn stored_name(name: &[u8]) -> Result<&str, Errno> {
    std::str::from_utf8(name).map_err(|_| Errno::EILSEQ)
}

/// A 4-byte integer in ntfs-3g's layout.
pub(crate) fn encode_u32(v: u32, be: bool) -> Vec<u8> {
    if be {
        v.to_be_bytes().to_vec()
    } else {
        v.to_le_bytes().to_vec()
    }
}

/// Decodes a 4-byte integer; another length → None.
pub(crate) fn decode_u32(b: &[u8], be: bool) -> Option<u32> {
    let a: [u8; 4] = b.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

/// FILETIMEs in ntfs-3g's layout.
pub(crate) fn encode_times(times: &[FileTime], be: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(times.len() * 8);
    for &t in times {
        out.extend_from_slice(&if be { t.to_be_bytes() } else { t.to_le_bytes() });
    }
    out
}

/// Decodes 1 to `max` FILETIMEs; a length that is not a multiple of 8 in 8..=8*max → None.
pub(crate) fn decode_times(b: &[u8], be: bool, max: usize) -> Option<Vec<FileTime>> {
    if b.is_empty() || b.len() % 8 != 0 || b.len() > 8 * max {
        return None;
    }
    Some(
        b.chunks_exact(8)
            .map(|c| {
                let a: [u8; 8] = c.try_into().expect("chunks of 8");
                if be {
                    u64::from_be_bytes(a)
                } else {
                    u64::from_le_bytes(a)
                }
            })
            .collect(),
    )
}

/// The times ntfs_times sets from its decoded values (creation, last write, last access,
/// change, in that order).
pub(crate) fn times_update(v: &[FileTime]) -> SetTimes {
    SetTimes {
        creation: v.first().copied(),
        last_write: v.get(1).copied(),
        last_access: v.get(2).copied(),
        change: v.get(3).copied(),
    }
}

/// What is left of a request once its handler has run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub(crate) enum Settle {
    /// Reply now.
    Reply,
    /// Drop these names of a link whose kind changed, then reply
    /// ([`crate::core::KernelCache::names_then`]): its caller must not see the kernel's old
    /// names.
    AfterNames(Vec<crate::nodes::KernelName>),
    /// Reply once the queued invalidations are done ([`crate::core::KernelCache::then`]): a
    /// link's new target, whose cached pages go.
    AfterInvalidations,
}

impl Core {
    /// Before the times, attributes or reparse point of a lent file change (module
    /// `passthrough`): its writes so far are stamped first, so that they do not overwrite
    /// the change later (and the engine knows whether its data holds bytes, which a
    /// symbolic link may not be set on).
    fn settle_lent(&self, id: FileId) {
        self.passthrough.settle(&self.vol, id);
    }

    /// SETXATTR of `name` on node `ino` (`flags`: XATTR_CREATE / XATTR_REPLACE), waiting
    /// for what it leaves (see [`Core::setxattr_settle`]).
    pub(crate) fn setxattr(
        &self,
        who: Caller,
        ino: u64,
        name: &[u8],
        value: &[u8],
        flags: i32,
    ) -> Result<(), Errno> {
        let s = self.setxattr_settle(who, ino, name, value, flags)?;
        self.settle(s);
        Ok(())
    }

    /// Waits for what a handler left ([`Settle`]).
    pub(crate) fn settle(&self, s: Settle) {
        match s {
            Settle::Reply => {}
            Settle::AfterNames(names) => {
                self.drop_names_later(&names);
                self.inval.wait();
            }
            Settle::AfterInvalidations => self.inval.wait(),
        }
    }

    /// Answers `reply` with `r` when the handler left nothing to wait for, after the queued
    /// invalidations otherwise, without holding up the calling thread.
    pub(crate) fn reply_settled(
        &self,
        r: Result<Settle, Errno>,
        reply: impl FnOnce(Result<(), Errno>) + Send + 'static,
    ) {
        match r {
            Ok(Settle::AfterInvalidations) => self.inval.then(Box::new(move || reply(Ok(())))),
            Ok(Settle::AfterNames(names)) => self
                .inval
                .names_then(names, Box::new(move || reply(Ok(())))),
            r => reply(r.map(|_| ())),
        }
    }

    /// SETXATTR, and what is left before its reply.
    pub(crate) fn setxattr_settle(
        &self,
        who: Caller,
        ino: u64,
        name: &[u8],
        value: &[u8],
        flags: i32,
    ) -> Result<Settle, Errno> {
        let id = self.nodes.live(ino)?;
        let class = classify(name);
        if class.is_metadata() {
            self.owner_or_fowner(who, id)?;
            self.settle_lent(id);
        }
        if let Special::Control(_) = class {
            self.mounter_or_root(who)?;
        }
        let mut settle = Settle::Reply;
        match class {
            Special::ReparseData => self
                .set_reparse(ino, id, Some(value), flags)
                .map(|s| settle = s),
            Special::Attrib { be } => match decode_u32(value, be) {
                Some(a) => self.vol.set_attributes(id, a).map_err(errno),
                None => Err(Errno::EINVAL),
            },
            Special::Crtime { be } => match decode_times(value, be, 1) {
                Some(t) => self.vol.set_times(id, times_update(&t)).map_err(errno),
                None => Err(Errno::ERANGE),
            },
            Special::Times { be } => match decode_times(value, be, 4) {
                Some(t) => {
                    self.vol.set_times(id, times_update(&t)).map_err(errno)?;
                    self.times_set_behind_the_cache(id);
                    Ok(())
                }
                None => Err(Errno::ERANGE),
            },
            Special::Control(Control::Recase) => self.recase(id, value),
            Special::Control(Control::Save) => self.save_image(who, id, value),
            Special::Control(_) => Err(Errno::EPERM),
            Special::ReservedUnknown => Err(Errno::EINVAL),
            Special::Stored => {
                self.check_user_xattr(who, id, crate::perm::MAY_WRITE)?;
                let n = stored_name(name)?;
                let exists = self.vol.xattr(id, n).map_err(errno);
                match exists {
                    Err(e) => Err(e),
                    Ok(Some(_)) if flags & libc::XATTR_CREATE != 0 => Err(Errno::EEXIST),
                    Ok(None) if flags & libc::XATTR_REPLACE != 0 => Err(Errno::ENODATA),
                    Ok(_) => self.vol.set_xattr(id, n, Some(value)).map_err(errno),
                }
            }
            Special::Unsupported => Err(Errno::EOPNOTSUPP),
        }?;
        // Times and attributes live in the inode: drop the cached copy now (`set_reparse`
        // has dropped it on every node of the file already).
        if class != Special::ReparseData {
            self.inval.attrs_now(ino);
        }
        Ok(settle)
    }

    /// GETXATTR of `name` on node `ino`: the whole value (glue answers the size probe and
    /// ERANGE).
    pub(crate) fn getxattr(&self, who: Caller, ino: u64, name: &[u8]) -> Result<Vec<u8>, Errno> {
        let id = self.nodes.live(ino)?;
        let class = classify(name);
        if let Special::Control(_) = class {
            self.mounter_or_root(who)?;
        }
        // Writes through passthrough are stamped before times and attributes are read
        // (module `passthrough`).
        match class {
            Special::Attrib { .. } | Special::Times { .. } | Special::Crtime { .. } => {
                self.passthrough.settle(&self.vol, id);
            }
            Special::Control(Control::Check) => self.passthrough.settle_all(&self.vol),
            _ => {}
        }
        match class {
            Special::ReparseData => self.vol.get_reparse_point(id).map_err(errno),
            Special::Attrib { be } => self.vol.stat(id).map_err(errno).map(|s| {
                // The on-disk flags, as ntfs-3g shows them: NORMAL is only the Win32
                // face of "no flag set".
                encode_u32(s.attributes & !vfs_core::attrs::NORMAL, be)
            }),
            Special::Crtime { be } => self
                .vol
                .stat(id)
                .map_err(errno)
                .map(|s| encode_times(&[s.times.creation], be)),
            Special::Times { be } => self.vol.stat(id).map_err(errno).map(|s| {
                let t = s.times;
                encode_times(&[t.creation, t.last_write, t.last_access, t.change], be)
            }),
            Special::Control(c) => self.control_get(id, c),
            Special::ReservedUnknown | Special::Unsupported => Err(Errno::ENODATA),
            Special::Stored => {
                self.check_user_xattr(who, id, crate::perm::MAY_READ)?;
                let n = stored_name(name)?;
                match self.vol.xattr(id, n) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Err(Errno::ENODATA),
                    Err(e) => Err(errno(e)),
                }
            }
        }
    }

    /// LISTXATTR: the names, each followed by a NUL.
    pub(crate) fn listxattr(&self, ino: u64) -> Result<Vec<u8>, Errno> {
        let id = self.nodes.live(ino)?;
        // Only stored attributes are listed; the system.ntfs_* ones are read by name,
        // as on ntfs-3g (`getfattr -d` shows user attributes only).
        let names = self.vol.xattr_names(id).map_err(errno)?;
        let mut buf = Vec::new();
        for n in names {
            buf.extend_from_slice(n.as_bytes());
            buf.push(0);
        }
        Ok(buf)
    }

    /// REMOVEXATTR of `name` on node `ino`, waiting for what it leaves (the unit tests' form; glue uses
    /// [`Core::removexattr_settle`]).
    #[cfg(test)]
    pub(crate) fn removexattr(&self, who: Caller, ino: u64, name: &[u8]) -> Result<(), Errno> {
        let s = self.removexattr_settle(who, ino, name)?;
        self.settle(s);
        Ok(())
    }

    /// REMOVEXATTR, and what is left before its reply.
    pub(crate) fn removexattr_settle(
        &self,
        who: Caller,
        ino: u64,
        name: &[u8],
    ) -> Result<Settle, Errno> {
        let id = self.nodes.live(ino)?;
        let class = classify(name);
        if class.is_metadata() {
            self.owner_or_fowner(who, id)?;
            self.settle_lent(id);
        }
        if let Special::Control(_) = class {
            self.mounter_or_root(who)?;
        }
        let mut settle = Settle::Reply;
        match class {
            // ntfs-3g: removing system.ntfs_reparse_data turns a junction or symlink
            // back into the plain (empty) directory or file it was set on.
            Special::ReparseData => self.set_reparse(ino, id, None, 0).map(|s| settle = s),
            Special::Stored => {
                self.check_user_xattr(who, id, crate::perm::MAY_WRITE)?;
                let n = stored_name(name)?;
                self.vol.set_xattr(id, n, None).map_err(|e| match e {
                    vfs_core::Error::ObjectNameNotFound => Errno::ENODATA,
                    e => errno(e),
                })
            }
            Special::Attrib { .. } | Special::Crtime { .. } | Special::Times { .. } => {
                Err(Errno::EPERM)
            }
            Special::Control(_) | Special::ReservedUnknown => Err(Errno::EPERM),
            Special::Unsupported => Err(Errno::ENODATA),
        }?;
        if class != Special::ReparseData {
            self.inval.attrs_now(ino);
        }
        Ok(settle)
    }

    /// `system.ntfs_*` changes: only the file's owner or a caller with CAP_FOWNER (see
    /// [`creds::may_change_metadata`]); the kernel passes `system.*` names through unchecked.
    fn owner_or_fowner(&self, who: Caller, id: FileId) -> Result<(), Errno> {
        let owner = self.vol.stat(id).map_err(errno)?.uid;
        if creds::may_change_metadata(who, owner) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// Control attributes: only the mounting user (the daemon's user) or root.
    fn mounter_or_root(&self, who: Caller) -> Result<(), Errno> {
        if who.uid == self.mounter || who.uid == 0 {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    fn set_reparse(
        &self,
        ino: u64,
        id: FileId,
        value: Option<&[u8]>,
        flags: i32,
    ) -> Result<Settle, Errno> {
        if id == self.root {
            // The root of a mount cannot be shown as a link.
            return Err(Errno::EPERM);
        }
        let before = self.vol.stat(id).map_err(errno)?;
        let exists = before.reparse_tag.is_some();
        match value {
            Some(v) => {
                if flags & libc::XATTR_CREATE != 0 && exists {
                    return Err(Errno::EEXIST);
                }
                if flags & libc::XATTR_REPLACE != 0 && !exists {
                    return Err(Errno::ENODATA);
                }
                self.vol.set_reparse_point(id, v).map_err(errno)?;
            }
            None => self.vol.remove_reparse_point(id).map_err(errno)?,
        }
        let after = self.vol.stat(id).map_err(errno)?;
        if crate::attr::kind(&before) != crate::attr::kind(&after) {
            // The kernel knows this inode with its old file type: retire it, and drop every
            // name the kernel may have cached for it before the setxattr returns, so that even
            // calls that never ask the file system (readlink on a name cached as a directory)
            // see the new kind.
            return Ok(Settle::AfterNames(self.retire(id)));
        }
        // Same kind, new target: drop the cached size (target length) and the cached target
        // (FUSE_CACHE_SYMLINKS keeps it in the inode's pages), on every node of the file,
        // before the setxattr returns: the caller replies only once the invalidations queued
        // here are done.
        self.inval.attrs_now(ino);
        self.inval.pages_later(ino);
        self.others_changed(id, ino);
        Ok(Settle::AfterInvalidations)
    }

    fn control_get(&self, id: FileId, c: Control) -> Result<Vec<u8>, Errno> {
        Ok(match c {
            Control::Check => match self.vol.check() {
                Ok(()) => b"ok".to_vec(),
                Err(e) => e.0.join("\n").into_bytes(),
            },
            Control::Names => self
                .vol
                .link_paths(id)
                .map_err(errno)?
                .iter()
                .map(vfs_core::LinkPath::to_string_lossy)
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes(),
            Control::FileId => format!("{:#018x}", id.0).into_bytes(),
            Control::Handles => self.vol.open_handle_count().to_string().into_bytes(),
            Control::Pid => std::process::id().to_string().into_bytes(),
            Control::Image => match &self.image {
                Some(p) => p.as_os_str().as_bytes().to_vec(),
                None => return Err(Errno::ENODATA),
            },
            Control::Recase | Control::Save => return Err(Errno::ENODATA),
        })
    }

    /// After `system.ntfs_times` set LastWriteTime/ChangeTime of a regular file on a
    /// writeback-cache mount: the kernel keeps its own mtime and ctime for such a file and
    /// ignores the daemon's in every reply (fs/fuse `fuse_get_cache_mask`); right after this
    /// setxattr it even stamps ctime and writes its times back (`fuse_update_ctime`). So the
    /// file's nodes are retired (crate docs, "Caching", rule 3): the next lookup hands out a
    /// fresh node whose kernel inode starts from the times just set, and the old inode's
    /// time write-back is answered without a change (`Core::setattr`). The cost: the file
    /// gets a new inode number, as any retired file. Its names are dropped from the kernel's
    /// cache right after the reply (the setxattr holds only the file's own inode lock, not
    /// its directory's).
    fn times_set_behind_the_cache(&self, id: FileId) {
        if !self.writeback.enabled || id == self.vol.root() {
            return;
        }
        if self
            .vol
            .stat(id)
            .is_ok_and(|st| crate::attr::kind(&st) == crate::attr::Kind::File)
        {
            let names = self.retire(id);
            self.drop_names_later(&names);
        }
    }

    /// `user.ntlinkfs.save` on the root: saves the drive as an image at the absolute host path
    /// `value` (write to a temporary file, fsync, rename: the previous image survives a crash).
    ///
    /// The file is written with the caller's rights, never the daemon's: a daemon running as
    /// root would otherwise write wherever root may (issue 14). The caller is the mounting
    /// user or root (see [`Core::mounter_or_root`]), so the image lands only where that user
    /// could have written it with `cp`.
    fn save_image(&self, who: Caller, id: FileId, value: &[u8]) -> Result<(), Errno> {
        if id != self.vol.root() {
            return Err(Errno::EINVAL);
        }
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(value));
        if !path.is_absolute() {
            return Err(Errno::EINVAL);
        }
        // Never into the drive itself: the setxattr holds the root's inode lock until it is
        // answered, and creating the temporary file in the root, or looking up any name in it
        // the kernel has not cached, needs that lock: the save would wait for itself forever,
        // in a syscall no signal ends (FUSE waits out a request already sent). `ntlinkfs save`
        // refuses such a path before asking; this covers a plain setfattr. Compared by
        // components (`.` and `//` fold; `..` is not resolved: resolving would walk the drive).
        if path.starts_with(&self.mount_path) {
            tracing::warn!(target: "backend_fuse", "save to {} refused: inside the drive", path.display());
            return Err(Errno::from_i32(libc::EDEADLK));
        }
        // On a writeback-cache mount the kernel may still hold written data dirty: it is
        // written back first, so the image has every byte a reader of the mount sees. This
        // runs on the worker, so the WRITEs are served meanwhile; the root's inode lock the
        // setxattr holds is not one write-back takes (Linux 6.18, tests/writeback.rs).
        self.sync_kernel(who);
        let vol = &self.vol;
        // Data lent to passthrough opens is saved as the backing files hold it now.
        let mut lent = self.passthrough.lent_data(vol);
        let snapshot = if lent.is_empty() {
            vol.snapshot()
        } else {
            vol.snapshot_lent(&mut |id| lent.remove(&id))
        };
        let saved = creds::run_as(who, || {
            vfs_core::image::save_snapshot_atomic(&snapshot, path)
        })
        .map_err(|e| {
            tracing::warn!(target: "backend_fuse", "save to {}: {e}", path.display());
            crate::errno::io_errno(&e)
        })?;
        saved.map_err(|e| {
            tracing::warn!(target: "backend_fuse", "save to {} failed: {e}", path.display());
            Errno::from_i32(e.errno())
        })
    }

    /// `user.ntlinkfs.recase` on directory `dir`: re-cases the entry `value` names (A5).
    fn recase(&self, dir: FileId, value: &[u8]) -> Result<(), Errno> {
        let units = names::to_units(value).ok_or(Errno::EINVAL)?;
        let name = vfs_core::Name::from_units(units).map_err(errno)?;
        let found = self.vol.lookup_stat(dir, &name).map_err(errno)?;
        let id = found.id;
        if *found.name == *name.display() {
            return Ok(());
        }
        let flags = vfs_core::RenameFlags {
            replace_if_exists: false,
            posix_semantics: false,
            ignore_readonly: false,
        };
        self.vol
            .rename(dir, &name, dir, &name, flags)
            .map_err(errno)?;
        // The old spelling may be cached by the kernel: it still leads to the file (names
        // are case-insensitive), so nothing is stale now, but a later change through either
        // spelling must retire the file's node. The cached names are dropped after the reply
        // (the kernel holds this directory's lock for the setxattr).
        self.nodes.mark_aliased(id);
        let names = self.nodes.kernel_names(id);
        self.drop_names_later(&names);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntfs_3g_layouts_observed() {
        // ntfs-3g: a new file's system.ntfs_attrib=0x20000000, ntfs_attrib_be=0x00000020.
        assert_eq!(encode_u32(0x20, false), vec![0x20, 0, 0, 0]);
        assert_eq!(encode_u32(0x20, true), vec![0, 0, 0, 0x20]);
        assert_eq!(decode_u32(&[0, 0, 0, 1], true), Some(1));
        assert_eq!(decode_u32(&[1, 0, 0], false), None);
        // ntfs_crtime=0xcdd5bd25127add01 ⇔ ntfs_crtime_be=0x01dd7a1225bdd5cd
        let t = 0x01dd7a1225bdd5cd_u64;
        assert_eq!(
            encode_times(&[t], false),
            vec![0xcd, 0xd5, 0xbd, 0x25, 0x12, 0x7a, 0xdd, 0x01]
        );
        assert_eq!(
            decode_times(&encode_times(&[t, 1, 2], true), true, 4),
            Some(vec![t, 1, 2])
        );
        assert_eq!(decode_times(&[0; 7], false, 4), None);
        assert_eq!(decode_times(&[0; 40], false, 4), None);
        assert_eq!(decode_times(&[], false, 4), None);
    }

    #[test]
    fn times_order_is_creation_write_access_change() {
        let u = times_update(&[1, 2, 3, 4]);
        assert_eq!(
            (u.creation, u.last_write, u.last_access, u.change),
            (Some(1), Some(2), Some(3), Some(4))
        );
        let u = times_update(&[9]);
        assert_eq!((u.creation, u.last_write), (Some(9), None));
    }

    #[test]
    fn names_classify() {
        assert_eq!(classify(b"system.ntfs_reparse_data"), Special::ReparseData);
        assert_eq!(classify(b"user.x"), Special::Stored);
        assert_eq!(
            classify(b"user.ntlinkfs.check"),
            Special::Control(Control::Check)
        );
        assert_eq!(classify(b"user.ntlinkfs.bogus"), Special::ReservedUnknown);
        assert_eq!(classify(b"system.posix_acl_access"), Special::Unsupported);
    }

    /// Every control attribute and what a name under the control prefix that means nothing
    /// is: refused, never stored.
    #[test]
    fn control_names_classify() {
        for (n, c) in [
            ("check", Control::Check),
            ("names", Control::Names),
            ("fileid", Control::FileId),
            ("recase", Control::Recase),
            ("save", Control::Save),
            ("handles", Control::Handles),
            ("pid", Control::Pid),
            ("image", Control::Image),
        ] {
            let full = format!("{CONTROL_PREFIX}{n}");
            assert_eq!(classify(full.as_bytes()), Special::Control(c), "{full}");
            // The names are exact: no case folding, no suffix.
            assert_eq!(
                classify(full.to_uppercase().as_bytes()),
                Special::Unsupported
            );
            assert_eq!(
                classify(format!("{full}x").as_bytes()),
                Special::ReservedUnknown
            );
        }
        assert_eq!(classify(b"user.ntlinkfs."), Special::ReservedUnknown);
        assert_eq!(classify(b"trusted.x"), Special::Stored);
        assert_eq!(classify(b"security.selinux"), Special::Stored);
        assert_eq!(classify(b"system.ntfs_dos_name"), Special::Unsupported);
    }

    use crate::core::testing::{core, Inval, ROOT};
    use crate::nodes::ROOT_INO;

    /// The control attributes through the core: the values they read, and that the ones that
    /// are read-only, unknown, or set on the wrong file are refused with the documented errno.
    #[test]
    fn control_attributes_answer_and_refuse() {
        let (c, _) = core();
        let f = c.mknod(ROOT, ROOT_INO, b"f", 0o100644, 0).unwrap();
        c.link(ROOT, f.ino, ROOT_INO, b"g").unwrap();
        let get = |ino, n: &str| c.getxattr(ROOT, ino, format!("{CONTROL_PREFIX}{n}").as_bytes());
        assert_eq!(get(f.ino, "check").unwrap(), b"ok");
        assert_eq!(get(f.ino, "names").unwrap(), b"\\f\n\\g");
        assert_eq!(
            get(f.ino, "fileid").unwrap(),
            format!("{:#018x}", f.ino).into_bytes()
        );
        assert_eq!(get(ROOT_INO, "handles").unwrap(), b"0");
        assert_eq!(get(ROOT_INO, "save").unwrap_err(), Errno::ENODATA);
        assert_eq!(get(ROOT_INO, "bogus").unwrap_err(), Errno::ENODATA);
        let set = |ino, n: &str, v: &[u8]| {
            c.setxattr(ROOT, ino, format!("{CONTROL_PREFIX}{n}").as_bytes(), v, 0)
        };
        assert_eq!(set(f.ino, "check", b"x"), Err(Errno::EPERM));
        assert_eq!(set(f.ino, "bogus", b"x"), Err(Errno::EINVAL));
        assert_eq!(
            set(f.ino, "save", b"/tmp/x.img"),
            Err(Errno::EINVAL),
            "not the root"
        );
        assert_eq!(
            set(ROOT_INO, "save", b"rel.img"),
            Err(Errno::EINVAL),
            "not absolute"
        );
        assert_eq!(set(ROOT_INO, "recase", b"\xff"), Err(Errno::EINVAL));
        assert_eq!(set(ROOT_INO, "recase", b"missing"), Err(Errno::ENOENT));
        assert_eq!(
            c.removexattr(ROOT, ROOT_INO, format!("{CONTROL_PREFIX}check").as_bytes()),
            Err(Errno::EPERM)
        );
        // Nothing was stored under the control prefix.
        assert!(c.listxattr(f.ino).unwrap().is_empty());
        c.destroy();
        c.vol.check().unwrap();
    }

    /// recase re-cases the entry (A5) and, since the kernel may hold the old spelling, marks
    /// the file aliased (a later unlink or rename retires it) and queues its cached names.
    #[test]
    fn recase_marks_the_file_aliased_and_drops_its_names_after_the_reply() {
        let (c, rec) = core();
        let f = c.mknod(ROOT, ROOT_INO, b"foo", 0o100644, 0).unwrap();
        let id = c.nodes.file_of(f.ino).unwrap();
        assert!(!c.nodes.is_aliased(id));
        rec.take();
        c.setxattr(ROOT, ROOT_INO, b"user.ntlinkfs.recase", b"FOO", 0)
            .unwrap();
        assert_eq!(c.vol.link_paths(id).unwrap(), ["\\FOO"]);
        assert!(c.nodes.is_aliased(id));
        assert_eq!(
            rec.take(),
            vec![
                Inval::Entry(ROOT_INO, b"foo".to_vec()),
                Inval::Attrs(ROOT_INO)
            ]
        );
        // Same spelling again: nothing to do.
        c.setxattr(ROOT, ROOT_INO, b"user.ntlinkfs.recase", b"FOO", 0)
            .unwrap();
        c.destroy();
    }

    /// Turning a directory into a junction changes the kind Linux sees: its node is retired
    /// and its names dropped before the setxattr returns (wait). A new target of the same
    /// kind only drops the attributes and the cached target.
    #[test]
    fn reparse_changes_retire_on_kind_change_only() {
        let (c, rec) = core();
        let d = c.mkdir(ROOT, ROOT_INO, b"d", 0o755, 0).unwrap();
        let junction = |t: &str| {
            vfs_core::reparse::junction_for_target(&t.encode_utf16().collect::<Vec<_>>(), 'C')
                .unwrap()
                .as_bytes()
                .to_vec()
        };
        rec.take();
        c.setxattr(
            ROOT,
            d.ino,
            b"system.ntfs_reparse_data",
            &junction("C:\\a"),
            0,
        )
        .unwrap();
        assert_eq!(
            rec.take(),
            vec![
                Inval::Attrs(d.ino),
                Inval::Entry(ROOT_INO, b"d".to_vec()),
                // The reply waits for the queued name invalidation (`Settle`).
                Inval::Wait,
            ]
        );
        assert_eq!(c.nodes.live(d.ino), Err(Errno::ESTALE));
        let l = c.lookup(ROOT_INO, b"d").unwrap();
        assert_eq!(crate::attr::kind(&l.stat), crate::attr::Kind::Symlink);
        assert_eq!(l.link_len, "/mnt/t/a".len() as u64);
        assert_eq!(
            c.setxattr(
                ROOT,
                l.ino,
                b"system.ntfs_reparse_data",
                &junction("C:\\b"),
                libc::XATTR_CREATE
            ),
            Err(Errno::EEXIST)
        );
        c.setxattr(
            ROOT,
            l.ino,
            b"system.ntfs_reparse_data",
            &junction("C:\\b"),
            0,
        )
        .unwrap();
        assert_eq!(
            rec.take(),
            vec![
                Inval::Attrs(l.ino),
                Inval::Pages(l.ino),
                // The retired directory node the kernel still holds is a node of the file too.
                Inval::Attrs(d.ino),
                Inval::Pages(d.ino),
                Inval::Wait,
            ]
        );
        assert_eq!(c.readlink(l.ino).unwrap(), "/mnt/t/b");
        // The root cannot become a link.
        assert_eq!(
            c.setxattr(
                ROOT,
                ROOT_INO,
                b"system.ntfs_reparse_data",
                &junction("C:\\a"),
                0
            ),
            Err(Errno::EPERM)
        );
        c.destroy();
    }

    /// The ntfs-3g value formats through the core: a wrong length is EINVAL for the
    /// attributes and ERANGE for the times; removing them is EPERM.
    #[test]
    fn system_attributes_through_the_core() {
        let (c, _) = core();
        let f = c.mknod(ROOT, ROOT_INO, b"f", 0o100644, 0).unwrap();
        assert_eq!(
            c.setxattr(ROOT, f.ino, b"system.ntfs_attrib", &[1, 0], 0),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            c.setxattr(ROOT, f.ino, b"system.ntfs_times", &[0; 12], 0),
            Err(Errno::ERANGE)
        );
        c.setxattr(ROOT, f.ino, b"system.ntfs_attrib_be", &[0, 0, 0, 0x22], 0)
            .unwrap();
        assert_eq!(
            c.getxattr(ROOT, f.ino, b"system.ntfs_attrib").unwrap(),
            [0x22, 0, 0, 0]
        );
        c.setxattr(ROOT, f.ino, b"system.ntfs_crtime", &7u64.to_le_bytes(), 0)
            .unwrap();
        assert_eq!(c.getattr(f.ino, false).unwrap().stat.times.creation, 7);
        assert_eq!(
            c.removexattr(ROOT, f.ino, b"system.ntfs_times"),
            Err(Errno::EPERM)
        );
        assert_eq!(
            c.getxattr(ROOT, f.ino, b"system.posix_acl_access"),
            Err(Errno::ENODATA)
        );
        assert_eq!(
            c.setxattr(ROOT, f.ino, b"system.posix_acl_access", b"x", 0),
            Err(Errno::EOPNOTSUPP)
        );
        c.setxattr(ROOT, f.ino, b"user.a", b"1", libc::XATTR_CREATE)
            .unwrap();
        assert_eq!(
            c.setxattr(ROOT, f.ino, b"user.a", b"2", libc::XATTR_CREATE),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            c.setxattr(ROOT, f.ino, b"user.b", b"2", libc::XATTR_REPLACE),
            Err(Errno::ENODATA)
        );
        assert_eq!(c.listxattr(f.ino).unwrap(), b"user.a\0");
        c.removexattr(ROOT, f.ino, b"user.a").unwrap();
        assert_eq!(c.removexattr(ROOT, f.ino, b"user.a"), Err(Errno::ENODATA));
        c.destroy();
    }

    /// Issue 14: another user may read a file's `system.ntfs_*` attributes but change none
    /// of them (EPERM, as ntfs-3g with `-o permissions`); the owner may.
    #[test]
    fn only_the_owner_changes_ntfs_metadata() {
        let (c, _) = core();
        let stranger = Caller {
            uid: 4242,
            gid: 4242,
            pid: 0,
        };
        let roots = c.mknod(ROOT, ROOT_INO, b"r", 0o100644, 0).unwrap();
        let dir = c.mkdir(ROOT, ROOT_INO, b"d", 0o777, 0).unwrap();
        let mine = c.mknod(stranger, ROOT_INO, b"m", 0o100644, 0).unwrap();
        let junction = vfs_core::reparse::junction_for_target(
            &"C:\\x".encode_utf16().collect::<Vec<_>>(),
            'C',
        )
        .unwrap();
        for (name, value) in [
            (&b"system.ntfs_attrib"[..], &[1u8, 0, 0, 0][..]),
            (b"system.ntfs_attrib_be", &[0, 0, 0, 1]),
            (b"system.ntfs_times", &[0; 32]),
            (b"system.ntfs_times_be", &[0; 8]),
            (b"system.ntfs_crtime", &[0; 8]),
            (b"system.ntfs_crtime_be", &[0; 8]),
        ] {
            assert_eq!(
                c.setxattr(stranger, roots.ino, name, value, 0),
                Err(Errno::EPERM),
                "{}",
                String::from_utf8_lossy(name)
            );
            assert!(
                c.getxattr(ROOT, roots.ino, name).is_ok(),
                "reading is allowed"
            );
            c.setxattr(stranger, mine.ino, name, value, 0).unwrap();
        }
        assert_eq!(
            c.setxattr(
                stranger,
                dir.ino,
                b"system.ntfs_reparse_data",
                junction.as_bytes(),
                0
            ),
            Err(Errno::EPERM),
            "another user's empty directory does not become a junction"
        );
        c.setxattr(
            ROOT,
            dir.ino,
            b"system.ntfs_reparse_data",
            junction.as_bytes(),
            0,
        )
        .unwrap();
        let link = c.lookup(ROOT_INO, b"d").unwrap();
        assert_eq!(
            c.removexattr(stranger, link.ino, b"system.ntfs_reparse_data"),
            Err(Errno::EPERM)
        );
        assert!(c
            .getxattr(ROOT, link.ino, b"system.ntfs_reparse_data")
            .is_ok());
        let st = c.getattr(roots.ino, false).unwrap().stat;
        assert_eq!(st.attributes & vfs_core::attrs::READONLY, 0);
        c.destroy();
        c.vol.check().unwrap();
    }

    /// Issue 14: the control attributes answer only the mounting user and root; `save`
    /// writes with the caller's rights, so the mounting user cannot make a root daemon
    /// write where that user could not.
    #[test]
    fn control_attributes_are_the_mounters_and_save_writes_as_the_caller() {
        let (mut c, _) = core();
        let stranger = Caller {
            uid: 4242,
            gid: 4242,
            pid: 0,
        };
        let f = c.mknod(stranger, ROOT_INO, b"f", 0o100644, 0).unwrap();
        for n in ["check", "names", "fileid", "handles", "pid", "image"] {
            let name = format!("{CONTROL_PREFIX}{n}");
            assert_eq!(
                c.getxattr(stranger, f.ino, name.as_bytes()),
                Err(Errno::EPERM),
                "{name}"
            );
        }
        assert_eq!(
            c.getxattr(ROOT, ROOT_INO, b"user.ntlinkfs.pid").unwrap(),
            std::process::id().to_string().into_bytes()
        );
        assert_eq!(
            c.getxattr(ROOT, ROOT_INO, b"user.ntlinkfs.image"),
            Err(Errno::ENODATA)
        );
        let dir = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let img = dir.path().join("drive.img");
        let img_b = img.as_os_str().as_bytes();
        assert_eq!(
            c.setxattr(stranger, ROOT_INO, b"user.ntlinkfs.save", img_b, 0),
            Err(Errno::EPERM)
        );
        assert_eq!(
            c.setxattr(stranger, ROOT_INO, b"user.ntlinkfs.recase", b"F", 0),
            Err(Errno::EPERM)
        );
        assert_eq!(
            c.removexattr(stranger, ROOT_INO, b"user.ntlinkfs.check"),
            Err(Errno::EPERM)
        );
        assert!(!img.exists());
        // Root saves where root may.
        c.setxattr(ROOT, ROOT_INO, b"user.ntlinkfs.save", img_b, 0)
            .unwrap();
        assert!(vfs_core::image::load_file(&img).is_ok());
        std::fs::remove_file(&img).unwrap();
        // A drive mounted by 4242 (as if the daemon ran as that user): 4242 may save, but
        // only where 4242 may write. Root's 0755 directory refuses, as `cp` would.
        c.mounter = 4242;
        if unsafe { libc::geteuid() } == 0 {
            assert_eq!(
                c.setxattr(stranger, ROOT_INO, b"user.ntlinkfs.save", img_b, 0),
                Err(Errno::EACCES)
            );
            assert!(!img.exists());
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
            c.setxattr(stranger, ROOT_INO, b"user.ntlinkfs.save", img_b, 0)
                .unwrap();
            use std::os::unix::fs::MetadataExt;
            assert_eq!(
                std::fs::metadata(&img).unwrap().uid(),
                4242,
                "written as 4242"
            );
        }
        c.destroy();
    }

    /// Issue 14: `user.\xff\xfe` and `user.\xfe\xff` are two names; neither may be
    /// stored as the same lossy UTF-8 string.
    #[test]
    fn non_utf8_names_are_refused_with_eilseq() {
        let (c, _) = core();
        let f = c.mknod(ROOT, ROOT_INO, b"f", 0o100644, 0).unwrap();
        for name in [&b"user.\xff\xfe"[..], b"user.\xfe\xff", b"trusted.\xc3"] {
            assert_eq!(c.setxattr(ROOT, f.ino, name, b"1", 0), Err(Errno::EILSEQ));
            assert_eq!(c.getxattr(ROOT, f.ino, name), Err(Errno::EILSEQ));
            assert_eq!(c.removexattr(ROOT, f.ino, name), Err(Errno::EILSEQ));
        }
        assert!(c.listxattr(f.ino).unwrap().is_empty());
        c.setxattr(ROOT, f.ino, "user.é".as_bytes(), b"1", 0)
            .unwrap();
        assert_eq!(c.getxattr(ROOT, f.ino, "user.é".as_bytes()).unwrap(), b"1");
        c.destroy();
    }
}
