//! Permission checks made by the daemon instead of the kernel (issue 17 item 1).
//!
//! With `default_permissions` the kernel checks the mode bits itself, from the attributes it
//! caches, and so must re-fetch a directory's attributes (a GETATTR round trip) after every
//! name change in it. Without it (ntfs-3g's default, and [`crate::Permissions::Daemon`]) the
//! kernel checks almost nothing (fs/fuse/dir.c `fuse_permission`, Linux 6.18: it asks with
//! FUSE_ACCESS for access(2) and chdir(2), and for a regular file's exec it only looks for some
//! execute bit) and `fuse_setattr` passes every SETATTR with ATTR_FORCE, so `setattr_prepare`
//! checks nothing. This module is what the kernel's VFS would have checked, as plain
//! functions on plain values, so that every rule is unit-tested without a mount:
//!
//! | request | rule (Linux source) | error |
//! |---|---|---|
//! | LOOKUP | search (x) on the directory (`may_lookup`) | EACCES |
//! | CREATE, MKNOD, MKDIR, SYMLINK, LINK | write and search on the parent (`may_create`) | EACCES |
//! | LINK, source | `fs.protected_hardlinks`: owner, or a regular file without set-user-ID (or set-group-ID with group execute) that the caller may read and write (`may_linkat`) | EPERM |
//! | UNLINK, RMDIR | write and search on the parent, then the sticky rule: in a sticky directory only the file's owner, the directory's owner or a privileged caller (`may_delete`, `check_sticky`) | EACCES, EPERM |
//! | RENAME | `may_delete` on the source, `may_create` or `may_delete` on the target's directory, and write on a directory moved to another parent (for its `..`; `vfs_rename`) | EACCES, EPERM |
//! | OPEN, OPENDIR | read / write by the access mode, write for O_TRUNC, execute for execve (`__FMODE_EXEC`; `may_open`) | EACCES |
//! | ACCESS (access(2), chdir(2)) | the mask asked (`generic_permission`) | EACCES |
//! | SETATTR mode | owner or privileged; set-group-ID dropped unless the caller is in the file's group (`setattr_prepare`) | EPERM |
//! | SETATTR uid / gid | privileged, or the owner keeping the owner and giving a group of theirs (`chown_ok`, `chgrp_ok`) | EPERM |
//! | SETATTR times | explicit times: owner or privileged (`setattr_prepare`); both set to now: also write permission (`may_setattr`, ATTR_TOUCH) | EPERM, EACCES |
//! | SETATTR size | write permission, unless through a handle open for writing (`vfs_truncate`; an O_TRUNC open of a read-only handle is truncated through that handle) | EACCES |
//! | GET/SET/REMOVEXATTR `user.*` | read, or write (`xattr_permission`; the kernel keeps its own rules for special files and sticky directories) | EACCES |
//!
//! The classes are Linux's (`acl_permission_check`): the owner gets the owner bits only, a
//! member of the file's group the group bits, everyone else the other bits. The caller's
//! supplementary groups are read from /proc only when the answer depends on them (the caller
//! is not the owner, the file's group is not the caller's own group, and the group bits
//! answer otherwise than the other bits). Privileged means uid 0 (CAP_DAC_OVERRIDE,
//! CAP_FOWNER, CAP_CHOWN, CAP_FSETID of the mount's root user): it may do everything except
//! execute a file that has no execute bit at all.
//!
//! The kernel walks names it has cached without asking (no LOOKUP, so no search check): a
//! chmod or chown that takes search permission away from a directory therefore raises the
//! connection's epoch before its reply ([`loses_search`], `KernelCache::epoch_now`), so every
//! cached name is looked up again, and checked, on its next walk.

use crate::core::{Caller, Core, SetAttr};
use crate::errno::{errno, Errno};
use std::cell::OnceCell;
use vfs_core::{FileId, FileKind, HandleId, Stat};

/// Execute, or search for a directory (the kernel's MAY_EXEC, access(2)'s X_OK).
pub(crate) const MAY_EXEC: u32 = 1;
/// Write (MAY_WRITE, W_OK).
pub(crate) const MAY_WRITE: u32 = 2;
/// Read (MAY_READ, R_OK).
pub(crate) const MAY_READ: u32 = 4;

/// The kernel's `__FMODE_EXEC` in an open's flags: the open of execve(2) (include/linux/fs.h;
/// FUSE passes `f_flags`, which holds it).
const FMODE_EXEC_FLAG: i32 = 0o40;

/// The owner, group and mode of one file: what every check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// The 0o7777 bits.
    pub(crate) mode: u32,
    pub(crate) dir: bool,
    /// A regular file (not a directory, link or special file): what protected_hardlinks asks.
    pub(crate) regular: bool,
}

impl Meta {
    pub(crate) fn of(st: &Stat) -> Meta {
        let link = crate::attr::is_link(st);
        Meta {
            uid: st.uid,
            gid: st.gid,
            mode: st.mode & 0o7777,
            dir: st.kind == FileKind::Directory && !link,
            regular: st.kind == FileKind::File && !link && st.special.is_none(),
        }
    }
}

/// The caller of one request, with its supplementary groups read at most once, and only when
/// a check needs them.
pub(crate) struct Cred<'a> {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pid: u32,
    source: &'a dyn Fn(u32) -> Vec<u32>,
    groups: OnceCell<Vec<u32>>,
}

impl<'a> Cred<'a> {
    /// `source` gives the supplementary groups of a thread id (`creds::groups_of` on a mount).
    pub(crate) fn new(who: Caller, source: &'a dyn Fn(u32) -> Vec<u32>) -> Cred<'a> {
        Cred {
            uid: who.uid,
            gid: who.gid,
            pid: who.pid,
            source,
            groups: OnceCell::new(),
        }
    }

    /// uid 0: the capabilities that override the mode bits and the owner checks.
    pub(crate) fn privileged(&self) -> bool {
        self.uid == 0
    }

    /// Is the caller in group `gid` (its own group or a supplementary one; `in_group_p`)?
    pub(crate) fn in_group(&self, gid: u32) -> bool {
        gid == self.gid
            || self
                .groups
                .get_or_init(|| (self.source)(self.pid))
                .contains(&gid)
    }

    fn owns(&self, f: &Meta) -> bool {
        self.uid == f.uid
    }

    fn owner_or_privileged(&self, f: &Meta) -> bool {
        self.owns(f) || self.privileged()
    }
}

/// May the caller do `mask` (MAY_READ | MAY_WRITE | MAY_EXEC) to file `f`? Linux's
/// `generic_permission` without ACLs (the volume stores none): EACCES.
pub(crate) fn permission(c: &Cred, f: &Meta, mask: u32) -> Result<(), Errno> {
    let mask = mask & 7;
    if c.privileged() {
        // CAP_DAC_OVERRIDE: everything, except executing a non-directory with no execute
        // bit for anybody.
        if mask & MAY_EXEC != 0 && !f.dir && f.mode & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        return Ok(());
    }
    let grants = |bits: u32| bits & mask == mask;
    let ok = if c.owns(f) {
        grants((f.mode >> 6) & 7)
    } else {
        let group = grants((f.mode >> 3) & 7);
        let other = grants(f.mode & 7);
        // Only when the group bits answer otherwise does membership matter.
        if group != other && c.in_group(f.gid) {
            group
        } else {
            other
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// LOOKUP in directory `dir`: search permission.
pub(crate) fn may_lookup(c: &Cred, dir: &Meta) -> Result<(), Errno> {
    permission(c, dir, MAY_EXEC)
}

/// A new name in directory `dir` (create, mknod, mkdir, symlink, link, rename target).
pub(crate) fn may_create(c: &Cred, dir: &Meta) -> Result<(), Errno> {
    permission(c, dir, MAY_WRITE | MAY_EXEC)
}

/// Removing the name of `victim` from `dir` (unlink, rmdir, rename's source or replaced
/// target): write and search on the directory (EACCES), then the sticky rule (EPERM).
pub(crate) fn may_delete(c: &Cred, dir: &Meta, victim: &Meta) -> Result<(), Errno> {
    permission(c, dir, MAY_WRITE | MAY_EXEC)?;
    if dir.mode & libc::S_ISVTX != 0 && !c.owns(victim) && !c.owns(dir) && !c.privileged() {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// rename(2) of `src` in `sdir` to a name in `ddir` (`dst`: the file it replaces).
pub(crate) fn may_rename(
    c: &Cred,
    sdir: &Meta,
    src: &Meta,
    ddir: &Meta,
    dst: Option<&Meta>,
    same_dir: bool,
) -> Result<(), Errno> {
    may_delete(c, sdir, src)?;
    match dst {
        None => may_create(c, ddir)?,
        Some(d) => may_delete(c, ddir, d)?,
    }
    if src.dir && !same_dir {
        // The moved directory's `..` entry changes.
        permission(c, src, MAY_WRITE)?;
    }
    Ok(())
}

/// The access an open with open(2)'s `flags` needs (`may_open`, `build_open_flags`).
pub(crate) fn open_mask(flags: i32) -> u32 {
    // ACC_MODE (include/linux/fs.h): access mode 3 (no read or write, ioctls only) asks
    // for both, as O_RDWR does.
    let mut mask = match flags & libc::O_ACCMODE {
        libc::O_RDONLY => MAY_READ,
        libc::O_WRONLY => MAY_WRITE,
        _ => MAY_READ | MAY_WRITE,
    };
    if flags & libc::O_TRUNC != 0 {
        mask |= MAY_WRITE;
    }
    if flags & FMODE_EXEC_FLAG != 0 {
        mask |= MAY_EXEC;
    }
    mask
}

/// OPEN / OPENDIR with `flags`.
pub(crate) fn may_open(c: &Cred, f: &Meta, flags: i32) -> Result<(), Errno> {
    permission(c, f, open_mask(flags))
}

/// The source of a hard link, when `fs.protected_hardlinks` is on (`protected` is read only
/// when the answer depends on it): the owner or a privileged caller, or a regular file that
/// is neither set-user-ID nor executable set-group-ID and that the caller may read and
/// write (`may_linkat`, `safe_hardlink_source`). EPERM.
pub(crate) fn may_link_source(
    c: &Cred,
    f: &Meta,
    protected: impl FnOnce() -> bool,
) -> Result<(), Errno> {
    if c.owner_or_privileged(f) || !protected() {
        return Ok(());
    }
    let safe = f.regular
        && f.mode & libc::S_ISUID == 0
        && f.mode & (libc::S_ISGID | libc::S_IXGRP) != (libc::S_ISGID | libc::S_IXGRP)
        && permission(c, f, MAY_READ | MAY_WRITE).is_ok();
    if safe {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// What one SETATTR changes, as far as its checks go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) mode: Option<u32>,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    /// A new size.
    pub(crate) size: bool,
    /// Through a handle opened for writing (ftruncate): the size needs no permission then.
    pub(crate) writable_handle: bool,
    /// Access and modification time asked for: `Some(true)` = "now".
    pub(crate) atime: Option<bool>,
    pub(crate) mtime: Option<bool>,
}

/// May the caller make change `a` to file `f`? Returns the mode to store (chmod by a caller
/// outside the file's group loses set-group-ID), or EPERM / EACCES.
pub(crate) fn may_setattr(c: &Cred, f: &Meta, a: &Change) -> Result<Option<u32>, Errno> {
    if a.size && !a.writable_handle {
        permission(c, f, MAY_WRITE)?;
    }
    if let Some(uid) = a.uid {
        // chown_ok: keeping the owner is the owner's right; anything else needs CAP_CHOWN.
        if !(c.privileged() || (c.owns(f) && uid == f.uid)) {
            return Err(Errno::EPERM);
        }
    }
    if let Some(gid) = a.gid {
        // chgrp_ok: the owner may give the file its group again or one of the owner's own.
        if !(c.privileged() || (c.owns(f) && (gid == f.gid || c.in_group(gid)))) {
            return Err(Errno::EPERM);
        }
    }
    if a.atime.is_some() || a.mtime.is_some() {
        let touch = a.atime == Some(true) && a.mtime == Some(true);
        if !c.owner_or_privileged(f) {
            if !touch {
                // Explicit times (or only one of them set to now): the owner's right.
                return Err(Errno::EPERM);
            }
            // utimes(NULL): write permission is enough.
            permission(c, f, MAY_WRITE)?;
        }
    }
    let Some(mode) = a.mode else {
        return Ok(None);
    };
    if !c.owner_or_privileged(f) {
        return Err(Errno::EPERM);
    }
    // The group the file has after this call (a chown in the same request counts).
    let group = a.gid.unwrap_or(f.gid);
    if mode & libc::S_ISGID != 0 && !c.privileged() && !c.in_group(group) {
        return Ok(Some(mode & !libc::S_ISGID));
    }
    Ok(Some(mode))
}

/// Does changing directory `old` to owner `uid`, group `gid` and mode `mode` take search
/// permission away from anybody? Then the kernel's cached names below it must go (it walks
/// them without asking). Losing an execute bit does; a new owner or group does unless every
/// class may search afterwards.
pub(crate) fn loses_search(old: &Meta, uid: u32, gid: u32, mode: u32) -> bool {
    if !old.dir {
        return false;
    }
    let (was, now) = (old.mode & 0o111, mode & 0o111);
    if was & !now != 0 {
        return true;
    }
    (uid != old.uid || gid != old.gid) && now != 0o111
}

/// `fs.protected_hardlinks` (proc(5)); on when unreadable, as every distribution sets it.
pub(crate) fn protected_hardlinks() -> bool {
    std::fs::read_to_string("/proc/sys/fs/protected_hardlinks")
        .map(|s| s.trim() != "0")
        .unwrap_or(true)
}

/// The checks as the request core calls them: each is a no-op unless the mount has daemon
/// checks ([`Core::daemon_checks`]), and each answers uid 0 without reading anything when
/// uid 0 passes whatever the mode bits say.
impl Core {
    fn cred(who: Caller) -> Cred<'static> {
        Cred::new(who, &crate::creds::groups_of)
    }

    fn meta(&self, id: FileId) -> Result<Meta, Errno> {
        Ok(Meta::of(&self.vol.stat(id).map_err(errno)?))
    }

    /// Do the daemon's checks for `who` read owners and modes at all? Not without daemon
    /// checks, nor for uid 0, who passes every check but one that needs an execute bit
    /// (open and access ask for that themselves). The request core looks names up for the
    /// checks only when this is true (UNLINK, RMDIR, RENAME).
    pub(crate) fn checks_owners(&self, who: Caller) -> bool {
        self.daemon_checks && who.uid != 0
    }

    /// LOOKUP in directory `dir`.
    pub(crate) fn check_lookup(&self, who: Caller, dir: FileId) -> Result<(), Errno> {
        if !self.checks_owners(who) {
            return Ok(());
        }
        may_lookup(&Self::cred(who), &self.meta(dir)?)
    }

    /// A new name in directory `dir` (CREATE, MKNOD, MKDIR, SYMLINK).
    pub(crate) fn check_create(&self, who: Caller, dir: FileId) -> Result<(), Errno> {
        if !self.checks_owners(who) {
            return Ok(());
        }
        may_create(&Self::cred(who), &self.meta(dir)?)
    }

    /// LINK of `file` into directory `dir`.
    pub(crate) fn check_link(&self, who: Caller, file: FileId, dir: FileId) -> Result<(), Errno> {
        if !self.checks_owners(who) {
            return Ok(());
        }
        let c = Self::cred(who);
        may_create(&c, &self.meta(dir)?)?;
        may_link_source(&c, &self.meta(file)?, protected_hardlinks)
    }

    /// UNLINK or RMDIR of `victim` (found by the request) in directory `dir`.
    pub(crate) fn check_delete(
        &self,
        who: Caller,
        dir: FileId,
        victim: &Stat,
    ) -> Result<(), Errno> {
        if !self.checks_owners(who) {
            return Ok(());
        }
        may_delete(&Self::cred(who), &self.meta(dir)?, &Meta::of(victim))
    }

    /// RENAME of `src` in `sdir` to a name in `ddir` that `dst` holds now.
    pub(crate) fn check_rename(
        &self,
        who: Caller,
        sdir: FileId,
        src: &Stat,
        ddir: FileId,
        dst: Option<&Stat>,
    ) -> Result<(), Errno> {
        if !self.checks_owners(who) {
            return Ok(());
        }
        let c = Self::cred(who);
        let sd = self.meta(sdir)?;
        let dd = if ddir == sdir { sd } else { self.meta(ddir)? };
        let dst = dst.map(Meta::of);
        may_rename(&c, &sd, &Meta::of(src), &dd, dst.as_ref(), sdir == ddir)
    }

    /// OPEN or OPENDIR of `file` with open(2)'s `flags`.
    pub(crate) fn check_open(&self, who: Caller, file: FileId, flags: i32) -> Result<(), Errno> {
        let mask = open_mask(flags);
        if !self.daemon_checks || (who.uid == 0 && mask & MAY_EXEC == 0) {
            return Ok(());
        }
        may_open(&Self::cred(who), &self.meta(file)?, flags)
    }

    /// ACCESS (access(2), chdir(2)) with access(2)'s mask.
    pub(crate) fn check_access(&self, who: Caller, file: FileId, mask: u32) -> Result<(), Errno> {
        if !self.daemon_checks || (who.uid == 0 && mask & MAY_EXEC == 0) {
            return Ok(());
        }
        permission(&Self::cred(who), &self.meta(file)?, mask)
    }

    /// GETXATTR (`MAY_READ`) or SETXATTR / REMOVEXATTR (`MAY_WRITE`) of a `user.*` name.
    pub(crate) fn check_user_xattr(
        &self,
        who: Caller,
        file: FileId,
        mask: u32,
    ) -> Result<(), Errno> {
        if !self.checks_owners(who) {
            return Ok(());
        }
        permission(&Self::cred(who), &self.meta(file)?, mask)
    }

    /// SETATTR `a` of `file`: the mode to store (see [`may_setattr`]), and the owner, group
    /// and mode before the change when it may take search permission away from a directory
    /// (for [`Core::after_owner_mode`]).
    pub(crate) fn check_setattr(
        &self,
        who: Caller,
        file: FileId,
        a: &SetAttr,
    ) -> Result<(Option<u32>, Option<Meta>), Errno> {
        let mode = a.mode.map(|m| m & 0o7777);
        if !self.daemon_checks {
            return Ok((mode, None));
        }
        let f = self.meta(file)?;
        let writable_handle = match a.handle {
            Some(h) => self
                .vol
                .handle_access(HandleId(h))
                .map(|acc| acc.write)
                .unwrap_or(false),
            None => false,
        };
        if self.writeback.enabled && writable_handle && crate::writeback::kernel_time_flush(a) {
            // The kernel writing back the times it stamped for a write through this handle
            // (`fuse_flush_times`), not a caller's utimensat: the open for writing was the
            // check. Refusing it would fail the caller's close(2) with EPERM.
            return Ok((mode, None));
        }
        let mtime_now = if self.writeback.enabled {
            crate::writeback::mtime_is_now(a)
        } else {
            a.mtime_now
        };
        let change = Change {
            mode,
            uid: a.uid,
            gid: a.gid,
            size: a.size.is_some(),
            writable_handle,
            atime: a.atime.map(|_| a.atime_now),
            mtime: a.mtime.map(|_| mtime_now),
        };
        let mode = may_setattr(&Self::cred(who), &f, &change)?;
        let owner_or_mode = a.mode.is_some() || a.uid.is_some() || a.gid.is_some();
        Ok((mode, (owner_or_mode && f.dir).then_some(f)))
    }

    /// After a chmod or chown of a directory (`before`: its owner, group and mode before):
    /// when search permission went away for anybody, every name the kernel cached is made
    /// to be looked up (and so checked) again before the reply (FUSE_NOTIFY_INC_EPOCH takes
    /// no lock, so this is safe inside the request).
    pub(crate) fn after_owner_mode(&self, before: Option<Meta>, st: &Stat) {
        if let Some(old) = before {
            if loses_search(&old, st.uid, st.gid, st.mode & 0o7777) {
                self.inval.epoch_now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn file(uid: u32, gid: u32, mode: u32) -> Meta {
        Meta {
            uid,
            gid,
            mode,
            dir: false,
            regular: true,
        }
    }

    fn dir(uid: u32, gid: u32, mode: u32) -> Meta {
        Meta {
            dir: true,
            regular: false,
            ..file(uid, gid, mode)
        }
    }

    fn caller(uid: u32, gid: u32) -> Caller {
        Caller { uid, gid, pid: 7 }
    }

    /// A group source that must never be asked.
    fn no_groups(_: u32) -> Vec<u32> {
        panic!("the supplementary groups were read although no answer depended on them")
    }

    fn groups_500(_: u32) -> Vec<u32> {
        vec![500]
    }

    /// The checks as the request core makes them on a mount with daemon checks: requests of
    /// another user are refused, the mounting kernel's cached names are dropped (epoch) when
    /// a chmod takes search permission away and only then, and a core without daemon checks
    /// lets the kernel decide.
    #[test]
    fn the_core_checks_each_request_and_raises_the_epoch_when_search_goes() {
        use crate::core::testing::{core, Inval, ROOT};
        use crate::nodes::ROOT_INO;
        let (mut c, rec) = core();
        c.daemon_checks = true;
        let alice = Caller {
            uid: 1000,
            gid: 1000,
            pid: 0,
        };
        let bob = Caller {
            uid: 2000,
            gid: 2000,
            pid: 0,
        };
        let d = c.mkdir(ROOT, ROOT_INO, b"d", 0o777, 0).unwrap();
        let own = |who: Caller, mode| SetAttr {
            uid: Some(who.uid),
            gid: Some(who.gid),
            mode: Some(mode),
            ..SetAttr::default()
        };
        c.setattr(ROOT, d.ino, own(alice, 0o755), false).unwrap();
        assert!(
            !rec.take().contains(&Inval::Epoch),
            "a new owner, but everybody may still search"
        );
        let f = c
            .create(alice, d.ino, b"f", 0o644, 0, libc::O_RDWR)
            .unwrap()
            .0;
        assert_eq!(
            c.create(bob, d.ino, b"g", 0o644, 0, libc::O_RDWR)
                .unwrap_err(),
            Errno::EACCES
        );
        assert_eq!(
            c.mkdir(bob, d.ino, b"g", 0o755, 0).unwrap_err(),
            Errno::EACCES
        );
        assert_eq!(c.unlink(bob, d.ino, b"f").unwrap_err(), Errno::EACCES);
        assert_eq!(
            c.open(bob, f.ino, libc::O_WRONLY).unwrap_err(),
            Errno::EACCES
        );
        assert!(c.open(bob, f.ino, libc::O_RDONLY).is_ok());
        assert_eq!(c.access(bob, f.ino, MAY_WRITE).unwrap_err(), Errno::EACCES);
        assert_eq!(c.access(bob, f.ino, MAY_READ), Ok(()));
        assert_eq!(c.access(ROOT, f.ino, MAY_EXEC).unwrap_err(), Errno::EACCES);
        let chmod = |m| SetAttr {
            mode: Some(m),
            ..SetAttr::default()
        };
        assert_eq!(
            c.setattr(bob, f.ino, chmod(0o666), false).unwrap_err(),
            Errno::EPERM
        );
        rec.take();
        // Read taken away: no epoch; search taken away: epoch before the reply.
        c.setattr(alice, d.ino, chmod(0o711), false).unwrap();
        assert!(!rec.take().contains(&Inval::Epoch));
        assert!(c.lookup_from(bob, d.ino, b"f").is_ok());
        c.setattr(alice, d.ino, chmod(0o700), false).unwrap();
        assert!(rec.take().contains(&Inval::Epoch));
        assert_eq!(c.lookup_from(bob, d.ino, b"f").unwrap_err(), Errno::EACCES);
        assert_eq!(
            c.lookup_from(bob, d.ino, b"missing").unwrap_err(),
            Errno::EACCES,
            "search is checked before the name is looked up"
        );
        assert!(c.lookup_from(alice, d.ino, b"f").is_ok());
        // Bob may list a directory he may read but not search; its names come uncached, so
        // the next walk asks (and is refused) instead of using a name READDIRPLUS gave.
        c.setattr(alice, d.ino, chmod(0o744), false).unwrap();
        let plus = |who| {
            let fh = c.opendir(who, d.ino, libc::O_RDONLY).unwrap();
            let mut cached = Vec::new();
            c.readdirplus(who, d.ino, fh, 0, |e| {
                if e.name != "." && e.name != ".." {
                    cached.push(e.cache_name);
                }
                false
            })
            .unwrap();
            c.releasedir(fh);
            cached
        };
        assert_eq!(plus(bob), vec![false]);
        assert_eq!(plus(alice), vec![true]);
        c.setattr(alice, d.ino, chmod(0o700), false).unwrap();
        // Sticky: bob may not remove alice's file from a directory everybody may write.
        c.setattr(alice, d.ino, chmod(0o1777), false).unwrap();
        assert_eq!(c.unlink(bob, d.ino, b"f").unwrap_err(), Errno::EPERM);
        assert_eq!(
            c.rename(bob, d.ino, b"f", d.ino, b"h", 0).unwrap_err(),
            Errno::EPERM
        );
        let mine = c
            .create(bob, d.ino, b"mine", 0o600, 0, libc::O_RDWR)
            .unwrap()
            .0;
        assert_eq!(c.opendir(bob, d.ino, libc::O_RDONLY).map(|_| ()), Ok(()));
        assert!(c.unlink(bob, d.ino, b"mine").unwrap().is_empty());
        let _ = mine;
        // A truncate through a read-only handle (an O_TRUNC open) needs write permission.
        let h = c.open(bob, f.ino, libc::O_RDONLY).unwrap();
        let trunc = SetAttr {
            size: Some(0),
            handle: Some(h),
            ..SetAttr::default()
        };
        assert_eq!(
            c.setattr(bob, f.ino, trunc, true).unwrap_err(),
            Errno::EACCES
        );
        let h = c.open(alice, f.ino, libc::O_WRONLY).unwrap();
        c.setattr(alice, f.ino, chmod(0o444), false).unwrap();
        let ftrunc = SetAttr {
            handle: Some(h),
            ..trunc
        };
        assert!(
            c.setattr(alice, f.ino, ftrunc, true).is_ok(),
            "open for writing before"
        );
        // user.* attributes need read or write permission.
        assert_eq!(
            c.setxattr(bob, f.ino, b"user.x", b"1", 0).unwrap_err(),
            Errno::EACCES
        );
        // The same requests without daemon checks: the kernel decided before they came.
        c.daemon_checks = false;
        assert!(c
            .create(bob, ROOT_INO, b"k", 0o644, 0, libc::O_RDWR)
            .is_ok());
        assert!(c.access(bob, f.ino, MAY_WRITE).is_ok());
    }

    #[test]
    fn owner_group_and_other_classes_each_get_their_own_bits_only() {
        let owner = Cred::new(caller(1000, 1000), &no_groups);
        let f = file(1000, 1000, 0o077);
        // The owner gets the owner bits, even where the others get more (Linux, not BSD).
        assert_eq!(permission(&owner, &f, MAY_READ), Err(Errno::EACCES));
        let g = Cred::new(caller(2000, 1000), &no_groups);
        assert_eq!(permission(&g, &file(1000, 1000, 0o640), MAY_READ), Ok(()));
        assert_eq!(
            permission(&g, &file(1000, 1000, 0o640), MAY_WRITE),
            Err(Errno::EACCES)
        );
        // A group member gets the group bits, not the other bits.
        assert_eq!(
            permission(&g, &file(1000, 1000, 0o604), MAY_READ),
            Err(Errno::EACCES)
        );
        let o = Cred::new(caller(3000, 3000), &|_| Vec::new());
        assert_eq!(permission(&o, &file(1000, 1000, 0o604), MAY_READ), Ok(()));
        assert_eq!(
            permission(&o, &file(1000, 1000, 0o660), MAY_READ),
            Err(Errno::EACCES)
        );
        // Every bit of the mask is needed.
        assert_eq!(
            permission(
                &o,
                &file(1000, 1000, 0o006),
                MAY_READ | MAY_WRITE | MAY_EXEC
            ),
            Err(Errno::EACCES)
        );
        assert_eq!(permission(&o, &file(1000, 1000, 0o007), 7), Ok(()));
    }

    #[test]
    fn supplementary_groups_are_read_only_when_the_answer_depends_on_them() {
        let asked = Cell::new(0);
        let source = |_: u32| {
            asked.set(asked.get() + 1);
            vec![500]
        };
        let c = Cred::new(caller(3000, 3000), &source);
        // Group and other bits agree: no read.
        assert_eq!(permission(&c, &file(1000, 500, 0o644), MAY_READ), Ok(()));
        assert_eq!(
            permission(&c, &file(1000, 500, 0o600), MAY_READ),
            Err(Errno::EACCES)
        );
        assert_eq!(asked.get(), 0);
        // They differ: membership decides, read once for the whole request.
        assert_eq!(permission(&c, &file(1000, 500, 0o640), MAY_READ), Ok(()));
        assert_eq!(
            permission(&c, &file(1000, 500, 0o604), MAY_READ),
            Err(Errno::EACCES)
        );
        assert_eq!(permission(&c, &file(1000, 501, 0o604), MAY_READ), Ok(()));
        assert_eq!(asked.get(), 1);
        // The owner and the caller's own group never need them.
        let own = Cred::new(caller(1000, 3000), &no_groups);
        assert_eq!(permission(&own, &file(1000, 500, 0o640), MAY_READ), Ok(()));
        let primary = Cred::new(caller(2000, 500), &no_groups);
        assert_eq!(
            permission(&primary, &file(1000, 500, 0o640), MAY_READ),
            Ok(())
        );
    }

    #[test]
    fn uid_0_may_do_everything_but_execute_a_file_without_execute_bits() {
        let root = Cred::new(caller(0, 0), &no_groups);
        assert_eq!(
            permission(&root, &file(1000, 1000, 0), MAY_READ | MAY_WRITE),
            Ok(())
        );
        assert_eq!(permission(&root, &dir(1000, 1000, 0), MAY_EXEC), Ok(()));
        assert_eq!(
            permission(&root, &file(1000, 1000, 0o666), MAY_EXEC),
            Err(Errno::EACCES)
        );
        assert_eq!(
            permission(&root, &file(1000, 1000, 0o001), MAY_EXEC),
            Ok(())
        );
    }

    #[test]
    fn lookup_needs_search_and_create_needs_write_and_search() {
        let c = Cred::new(caller(1000, 1000), &no_groups);
        assert_eq!(may_lookup(&c, &dir(1000, 1000, 0o100)), Ok(()));
        assert_eq!(may_lookup(&c, &dir(1000, 1000, 0o600)), Err(Errno::EACCES));
        assert_eq!(may_create(&c, &dir(1000, 1000, 0o300)), Ok(()));
        assert_eq!(may_create(&c, &dir(1000, 1000, 0o500)), Err(Errno::EACCES));
        assert_eq!(may_create(&c, &dir(1000, 1000, 0o200)), Err(Errno::EACCES));
    }

    #[test]
    fn sticky_directories_let_only_the_owners_or_root_delete() {
        let tmp = dir(0, 0, 0o1777);
        let mine = file(1000, 1000, 0o644);
        let theirs = file(2000, 2000, 0o644);
        let me = Cred::new(caller(1000, 1000), &no_groups);
        assert_eq!(may_delete(&me, &tmp, &mine), Ok(()));
        assert_eq!(may_delete(&me, &tmp, &theirs), Err(Errno::EPERM));
        // The directory's owner may delete anything in it.
        let my_tmp = dir(1000, 1000, 0o1777);
        assert_eq!(may_delete(&me, &my_tmp, &theirs), Ok(()));
        let root = Cred::new(caller(0, 0), &no_groups);
        assert_eq!(may_delete(&root, &tmp, &theirs), Ok(()));
        // Without the sticky bit, write and search on the directory are enough.
        assert_eq!(may_delete(&me, &dir(0, 0, 0o777), &theirs), Ok(()));
        // EACCES (no write on the directory) comes before EPERM.
        assert_eq!(
            may_delete(&me, &dir(0, 0, 0o1755), &theirs),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn rename_checks_both_directories_and_a_moved_directory() {
        let me = Cred::new(caller(1000, 1000), &no_groups);
        let w = dir(1000, 1000, 0o755);
        let ro = dir(1000, 1000, 0o555);
        let f = file(1000, 1000, 0o644);
        assert_eq!(may_rename(&me, &w, &f, &w, None, true), Ok(()));
        assert_eq!(
            may_rename(&me, &ro, &f, &w, None, false),
            Err(Errno::EACCES)
        );
        assert_eq!(
            may_rename(&me, &w, &f, &ro, None, false),
            Err(Errno::EACCES)
        );
        // A replaced target in a sticky directory of someone else's.
        let sticky = dir(0, 0, 0o1777);
        let theirs = file(2000, 2000, 0o644);
        assert_eq!(
            may_rename(&me, &w, &f, &sticky, Some(&theirs), false),
            Err(Errno::EPERM)
        );
        assert_eq!(may_rename(&me, &w, &f, &sticky, None, false), Ok(()));
        // A directory moved to another parent needs write on itself (its `..`)...
        let d = dir(1000, 1000, 0o555);
        assert_eq!(may_rename(&me, &w, &d, &w, None, false), Err(Errno::EACCES));
        // ...but not when it stays in its directory.
        assert_eq!(may_rename(&me, &w, &d, &w, None, true), Ok(()));
    }

    #[test]
    fn open_needs_what_its_flags_ask() {
        assert_eq!(open_mask(libc::O_RDONLY), MAY_READ);
        assert_eq!(open_mask(libc::O_WRONLY | libc::O_APPEND), MAY_WRITE);
        assert_eq!(open_mask(libc::O_RDWR), MAY_READ | MAY_WRITE);
        assert_eq!(open_mask(libc::O_ACCMODE), MAY_READ | MAY_WRITE);
        assert_eq!(
            open_mask(libc::O_RDONLY | libc::O_TRUNC),
            MAY_READ | MAY_WRITE
        );
        assert_eq!(open_mask(FMODE_EXEC_FLAG), MAY_READ | MAY_EXEC);
        let me = Cred::new(caller(1000, 1000), &no_groups);
        assert_eq!(
            may_open(&me, &file(1000, 1000, 0o444), libc::O_RDONLY),
            Ok(())
        );
        assert_eq!(
            may_open(
                &me,
                &file(1000, 1000, 0o444),
                libc::O_RDONLY | libc::O_TRUNC
            ),
            Err(Errno::EACCES)
        );
        assert_eq!(
            may_open(&me, &file(1000, 1000, 0o644), FMODE_EXEC_FLAG),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn protected_hardlinks_refuse_files_the_caller_could_not_write() {
        let me = Cred::new(caller(1000, 1000), &no_groups);
        let never = || -> bool { panic!("protected_hardlinks read although not needed") };
        assert_eq!(may_link_source(&me, &file(1000, 1000, 0), never), Ok(()));
        let root = Cred::new(caller(0, 0), &no_groups);
        assert_eq!(may_link_source(&root, &file(2000, 2000, 0), never), Ok(()));
        assert_eq!(
            may_link_source(&me, &file(2000, 2000, 0o644), || true),
            Err(Errno::EPERM)
        );
        assert_eq!(
            may_link_source(&me, &file(2000, 2000, 0o666), || true),
            Ok(())
        );
        assert_eq!(
            may_link_source(&me, &file(2000, 2000, 0o4666), || true),
            Err(Errno::EPERM)
        );
        assert_eq!(
            may_link_source(&me, &file(2000, 2000, 0o2676), || true),
            Err(Errno::EPERM)
        );
        assert_eq!(
            may_link_source(&me, &file(2000, 2000, 0o2666), || true),
            Ok(())
        );
        let special = Meta {
            regular: false,
            ..file(2000, 2000, 0o666)
        };
        assert_eq!(may_link_source(&me, &special, || true), Err(Errno::EPERM));
        assert_eq!(may_link_source(&me, &file(2000, 2000, 0), || false), Ok(()));
    }

    #[test]
    fn chmod_is_the_owners_and_drops_setgid_outside_the_group() {
        let f = file(1000, 500, 0o644);
        let other = Cred::new(caller(2000, 2000), &no_groups);
        let chmod = |m| Change {
            mode: Some(m),
            ..Change::default()
        };
        assert_eq!(may_setattr(&other, &f, &chmod(0o600)), Err(Errno::EPERM));
        let owner = Cred::new(caller(1000, 1000), &|_| Vec::new());
        assert_eq!(may_setattr(&owner, &f, &chmod(0o2755)), Ok(Some(0o755)));
        let member = Cred::new(caller(1000, 1000), &groups_500);
        assert_eq!(may_setattr(&member, &f, &chmod(0o2755)), Ok(Some(0o2755)));
        let root = Cred::new(caller(0, 0), &no_groups);
        assert_eq!(may_setattr(&root, &f, &chmod(0o2755)), Ok(Some(0o2755)));
        // The group the same request gives decides.
        let both = Change {
            gid: Some(1000),
            ..chmod(0o2755)
        };
        assert_eq!(may_setattr(&owner, &f, &both), Ok(Some(0o2755)));
        // No set-group-ID asked: the groups are not read.
        let plain = Cred::new(caller(1000, 1000), &no_groups);
        assert_eq!(may_setattr(&plain, &f, &chmod(0o4755)), Ok(Some(0o4755)));
    }

    #[test]
    fn chown_gives_away_nothing_and_chgrp_only_to_the_owners_groups() {
        let f = file(1000, 1000, 0o644);
        let owner = Cred::new(caller(1000, 1000), &groups_500);
        let to = |uid, gid| Change {
            uid,
            gid,
            ..Change::default()
        };
        assert_eq!(
            may_setattr(&owner, &f, &to(Some(2000), None)),
            Err(Errno::EPERM)
        );
        assert_eq!(may_setattr(&owner, &f, &to(Some(1000), None)), Ok(None));
        assert_eq!(may_setattr(&owner, &f, &to(None, Some(500))), Ok(None));
        assert_eq!(
            may_setattr(&owner, &f, &to(None, Some(501))),
            Err(Errno::EPERM)
        );
        let other = Cred::new(caller(2000, 1000), &no_groups);
        assert_eq!(
            may_setattr(&other, &f, &to(None, Some(1000))),
            Err(Errno::EPERM)
        );
        assert_eq!(
            may_setattr(&other, &f, &to(Some(1000), None)),
            Err(Errno::EPERM)
        );
        let root = Cred::new(caller(0, 0), &no_groups);
        assert_eq!(may_setattr(&root, &f, &to(Some(5), Some(6))), Ok(None));
    }

    #[test]
    fn times_now_need_write_permission_and_explicit_times_ownership() {
        let writable = file(1000, 1000, 0o666);
        let readonly = file(1000, 1000, 0o644);
        let other = Cred::new(caller(2000, 2000), &|_| Vec::new());
        let times = |a, m| Change {
            atime: a,
            mtime: m,
            ..Change::default()
        };
        let now = times(Some(true), Some(true));
        assert_eq!(may_setattr(&other, &writable, &now), Ok(None));
        assert_eq!(may_setattr(&other, &readonly, &now), Err(Errno::EACCES));
        assert_eq!(
            may_setattr(&other, &writable, &times(Some(false), Some(false))),
            Err(Errno::EPERM)
        );
        // One time set to now, the other left alone: an explicit change (ATTR_TIMES_SET).
        assert_eq!(
            may_setattr(&other, &writable, &times(Some(true), None)),
            Err(Errno::EPERM)
        );
        let owner = Cred::new(caller(1000, 1000), &no_groups);
        assert_eq!(
            may_setattr(&owner, &file(1000, 1000, 0), &times(Some(false), None)),
            Ok(None)
        );
        let root = Cred::new(caller(0, 0), &no_groups);
        assert_eq!(
            may_setattr(&root, &readonly, &times(Some(false), Some(false))),
            Ok(None)
        );
    }

    #[test]
    fn truncate_needs_write_permission_unless_through_a_writable_handle() {
        let f = file(1000, 1000, 0o444);
        let owner = Cred::new(caller(1000, 1000), &no_groups);
        let size = |writable_handle| Change {
            size: true,
            writable_handle,
            ..Change::default()
        };
        assert_eq!(may_setattr(&owner, &f, &size(false)), Err(Errno::EACCES));
        assert_eq!(may_setattr(&owner, &f, &size(true)), Ok(None));
        assert_eq!(
            may_setattr(&owner, &file(1000, 1000, 0o644), &size(false)),
            Ok(None)
        );
    }

    #[test]
    fn search_is_lost_by_clearing_an_execute_bit_or_by_a_new_owner() {
        let d = dir(1000, 1000, 0o755);
        assert!(!loses_search(&d, 1000, 1000, 0o755));
        assert!(!loses_search(&d, 1000, 1000, 0o777), "gaining write");
        assert!(!loses_search(&d, 1000, 1000, 0o311), "losing read only");
        assert!(loses_search(&d, 1000, 1000, 0o754));
        assert!(loses_search(&d, 1000, 1000, 0o000));
        assert!(
            loses_search(&d, 2000, 1000, 0o750),
            "new owner, others lack x"
        );
        assert!(loses_search(&dir(1000, 1000, 0o710), 1000, 500, 0o710));
        assert!(
            !loses_search(&d, 2000, 2000, 0o755),
            "everybody may still search"
        );
        assert!(!loses_search(&file(1000, 1000, 0o755), 1000, 1000, 0));
    }
}
