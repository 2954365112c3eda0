//! Who a request comes from, and acting with that user's rights only.
//!
//! Whoever checks the mode bits (the kernel with `default_permissions`, or `perm`), the
//! kernel passes `system.*` extended attributes and the actions of the control attributes
//! through unchecked: those checks are the daemon's (issue 14). `perm` reads the caller's
//! supplementary groups here ([`groups_of`]). The daemon may run as root, so
//! anything it does *on a caller's behalf* outside the volume (saving an image to a host
//! path) runs on a thread that carries the caller's file-system identity instead of root's.

use crate::core::Caller;
use std::io;

/// CAP_FOWNER (capability(7) number 3): bypass the owner checks of chmod, utimes, xattrs...
const CAP_FOWNER: u32 = 3;

/// The effective capability set of thread `pid` (/proc/PID/status `CapEff`), if readable.
fn cap_eff(pid: u32) -> Option<u64> {
    if pid == 0 {
        return None;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    u64::from_str_radix(hex, 16).ok()
}

/// Is thread `pid` in the daemon's user namespace? Capabilities count only there: any user
/// can make a user namespace (`unshare -Ur`) and hold every capability inside it, over
/// nothing of ours — the kernel too checks CAP_FOWNER against the namespace that owns the
/// inode. None when it cannot be told (the thread is gone).
fn in_our_user_namespace(pid: u32) -> Option<bool> {
    if pid == 0 {
        return None;
    }
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/user")).ok()?;
    let ours = std::fs::read_link("/proc/self/ns/user").ok()?;
    Some(theirs == ours)
}

/// CAP_MKNOD (capability(7) number 27): make character and block device nodes.
const CAP_MKNOD: u32 = 27;

/// Does the caller hold capability `cap` in the daemon's user namespace? The FUSE request
/// carries the caller's thread id; its effective set and its user namespace are read from
/// /proc. When they cannot be read (the thread is gone, or the request came from the kernel
/// with pid 0) only uid 0 counts as privileged.
fn has_cap(who: Caller, cap: u32) -> bool {
    match (cap_eff(who.pid), in_our_user_namespace(who.pid)) {
        (Some(caps), Some(true)) => caps & (1 << cap) != 0,
        (Some(_), Some(false)) => false,
        _ => who.uid == 0,
    }
}

/// Does the caller hold CAP_FOWNER in the daemon's user namespace (see [`has_cap`])?
pub(crate) fn has_cap_fowner(who: Caller) -> bool {
    has_cap(who, CAP_FOWNER)
}

/// Does the caller hold CAP_MKNOD in the daemon's user namespace (see [`has_cap`])? mknod(2)
/// of a device node needs it on Linux; the kernel checks it before it asks the file system,
/// and the daemon checks again for the requests that reach it otherwise.
pub(crate) fn has_cap_mknod(who: Caller) -> bool {
    has_cap(who, CAP_MKNOD)
}

/// May `who` change the NTFS metadata (`system.ntfs_*`) of a file owned by `owner`? The
/// owner may, and a caller with CAP_FOWNER — what Linux asks for chmod(2) and utimes(2) with
/// explicit times, and what ntfs-3g with `-o permissions` enforces for these attributes
/// (observed: another user's setfattr of `system.ntfs_attrib_be`, `system.ntfs_times`,
/// `system.ntfs_crtime` and removing `system.ntfs_reparse_data` each fail with EPERM).
pub(crate) fn may_change_metadata(who: Caller, owner: u32) -> bool {
    who.uid == owner || has_cap_fowner(who)
}

/// The caller's supplementary groups (/proc/PID/status `Groups`); none when unreadable.
pub(crate) fn groups_of(pid: u32) -> Vec<libc::gid_t> {
    if pid == 0 {
        return Vec::new();
    }
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return Vec::new();
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|g| {
            g.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `f` on a new thread whose file-system identity is the caller's: fsuid, fsgid and
/// supplementary groups, set with the raw system calls, which change only the calling thread
/// (glibc's wrappers of setgroups would change every thread of the daemon). Moving the
/// fsuid away from 0 also clears CAP_DAC_OVERRIDE, CAP_FOWNER and the other file
/// capabilities from the thread's effective set (capabilities(7)), so the kernel checks
/// every open, create and rename `f` makes exactly as it would for the caller. The thread
/// ends with `f`; the daemon's other threads keep their identity throughout.
///
/// A daemon that is not root cannot take another identity: `f` then runs with the daemon's
/// own (the mounting user's), which is never more than the caller's when the caller is that
/// user or root.
pub(crate) fn run_as<T: Send>(who: Caller, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    // SAFETY: geteuid cannot fail.
    let root_daemon = unsafe { libc::geteuid() } == 0;
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("ntlinkfs-as-caller".into())
            .spawn_scoped(s, move || {
                if root_daemon && who.uid != 0 {
                    become_thread(who)?;
                }
                Ok(f())
            })?
            .join()
            .map_err(|_| io::Error::other("the thread acting for the caller panicked"))?
    })
}

/// Gives the calling thread `who`'s file-system identity (see [`run_as`]).
fn become_thread(who: Caller) -> io::Result<()> {
    let groups = groups_of(who.pid);
    // SAFETY: a valid array of `groups.len()` gids; SYS_setgroups changes this thread only.
    if unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: setfsgid/setfsuid take any id and change this thread only; each returns the
    // previous id, so calling again with an invalid id (-1) reads the current one back.
    unsafe {
        libc::setfsgid(who.gid);
        libc::setfsuid(who.uid);
        if libc::setfsgid(u32::MAX) as u32 != who.gid || libc::setfsuid(u32::MAX) as u32 != who.uid
        {
            return Err(io::Error::other("could not take the caller's identity"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Caller {
        // SAFETY: getuid/getgid cannot fail.
        Caller {
            uid: unsafe { libc::getuid() },
            gid: unsafe { libc::getgid() },
            pid: std::process::id(),
        }
    }

    #[test]
    fn owner_or_cap_fowner_may_change_metadata() {
        let stranger = Caller {
            uid: 4242,
            gid: 4242,
            pid: 0,
        };
        assert!(may_change_metadata(stranger, 4242), "the owner");
        assert!(
            !may_change_metadata(stranger, 0),
            "not the owner, no capability"
        );
        // This process: CAP_FOWNER exactly when /proc says so.
        let caps = cap_eff(std::process::id()).expect("own /proc status");
        let with_other_uid = Caller { uid: 4242, ..me() };
        assert_eq!(
            may_change_metadata(with_other_uid, 1),
            caps & (1 << CAP_FOWNER) != 0
        );
        // A pid that does not exist: only uid 0 counts.
        let gone = Caller {
            uid: 0,
            gid: 0,
            pid: u32::MAX - 1,
        };
        assert!(has_cap_fowner(gone));
    }

    /// Acting as nobody, a root daemon can neither create a file in a directory only root
    /// may write nor read a 0600 file of root's; the daemon's own threads keep root's rights.
    #[test]
    fn run_as_checks_with_the_callers_rights() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            panic!("this test needs root (it checks that a root daemon drops to the caller)");
        }
        let dir = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, b"x").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let nobody = Caller {
            uid: 65534,
            gid: 65534,
            pid: 0,
        };
        let target = dir.path().join("new");
        let r = run_as(nobody, || std::fs::write(&target, b"y")).unwrap();
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
        let r = run_as(nobody, || std::fs::read(&secret)).unwrap();
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
        assert!(!target.exists());
        // The same call as root, and this thread afterwards, still may.
        run_as(me(), || std::fs::write(&target, b"y"))
            .unwrap()
            .unwrap();
        assert_eq!(std::fs::read(&secret).unwrap(), b"x");
    }
}
