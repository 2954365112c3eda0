//! What the thread behind a request is doing: is it inside rename(2), and with which names?
//!
//! A case-only rename (`mv Case.txt CASE.TXT`) never reaches a FUSE file system on its own:
//! both spellings lead the kernel to one inode, so the VFS treats the rename as a no-op
//! (`vfs_rename` returns 0 when the old and new dentries have the same inode), and with
//! RENAME_NOREPLACE (coreutils `mv` tries that first) refuses it with EEXIST because the new
//! name is positive. The kernel always asks the file system about a rename's new name
//! (`fuse_dentry_revalidate` forces a LOOKUP for LOOKUP_RENAME_TARGET, and an uncached name is
//! looked up anyway), but FUSE's LOOKUP carries no intent. So the backend asks the kernel what
//! the requesting thread is doing: `/proc/TID/syscall` gives the system call it is blocked in
//! and its arguments, and `/proc/TID/mem` the two path strings it passed (the kernel copied
//! them already; the daemon only compares them). This module only reads; `Core::lookup_from`
//! decides (see the crate docs, "Case-only rename").
//!
//! Reading another thread's `/proc` entries needs ptrace access to it (the daemon running as
//! root, or as the caller's user without Yama restrictions). When that is refused, or on an
//! architecture without a table below, nothing is found and the rename stays a no-op as the
//! VFS made it.

use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// A rename system call of this architecture: its number, the argument indexes of the old
/// and new paths, and of their dirfds (None: relative to the working directory).
type RenameAbi = (u64, usize, usize, Option<usize>, Option<usize>);

#[cfg(target_arch = "x86_64")]
const RENAMES: &[RenameAbi] = &[
    (82, 0, 1, None, None),        // rename(old, new)
    (264, 1, 3, Some(0), Some(2)), // renameat(olddfd, old, newdfd, new)
    (316, 1, 3, Some(0), Some(2)), // renameat2(olddfd, old, newdfd, new, flags)
];
#[cfg(target_arch = "aarch64")]
const RENAMES: &[RenameAbi] = &[
    (38, 1, 3, Some(0), Some(2)),  // renameat
    (276, 1, 3, Some(0), Some(2)), // renameat2
];
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const RENAMES: &[RenameAbi] = &[];

/// Longest path the kernel accepts (PATH_MAX, with its NUL).
const PATH_MAX: usize = 4096;

/// A rename(2) in progress: both paths made absolute (as host paths), as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RenameCall {
    /// The old path.
    pub(crate) old: Vec<u8>,
    /// The new path.
    pub(crate) new: Vec<u8>,
}

/// How the core learns what a caller is doing (the real one reads `/proc`; tests fake it).
pub(crate) trait CallerProbe: Send + Sync + std::fmt::Debug {
    /// The rename(2) thread `tid` is blocked in, if any.
    fn rename_in_progress(&self, tid: u32) -> Option<RenameCall>;
}

/// Reads `/proc/TID/{syscall,mem,cwd,fd}`.
#[derive(Debug, Default)]
pub(crate) struct ProcProbe;

impl CallerProbe for ProcProbe {
    fn rename_in_progress(&self, tid: u32) -> Option<RenameCall> {
        if tid == 0 {
            return None; // sent by the kernel itself
        }
        let text = std::fs::read_to_string(format!("/proc/{tid}/syscall")).ok()?;
        let (nr, args) = parse_syscall(&text)?;
        let &(_, o, n, od, nd) = RENAMES.iter().find(|r| r.0 == nr)?;
        let mem = File::open(format!("/proc/{tid}/mem")).ok()?;
        let old = absolute(tid, od.map(|i| args[i]), read_cstr(&mem, args[o])?)?;
        let new = absolute(tid, nd.map(|i| args[i]), read_cstr(&mem, args[n])?)?;
        Some(RenameCall { old, new })
    }
}

/// `/proc/TID/syscall`: "NR ARG0 .. ARG5 SP PC" in hex for a blocked thread ("running" or
/// "-1 ..." otherwise).
fn parse_syscall(text: &str) -> Option<(u64, [u64; 6])> {
    let mut it = text.split_whitespace();
    let nr: u64 = it.next()?.parse().ok()?;
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = u64::from_str_radix(it.next()?.strip_prefix("0x")?, 16).ok()?;
    }
    Some((nr, args))
}

/// A NUL-terminated string at `addr` in the thread's memory (at most PATH_MAX bytes).
fn read_cstr(mem: &File, addr: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < PATH_MAX {
        // Never read across a page boundary at once: the next page may be unmapped.
        let room = (4096 - (at % 4096)) as usize;
        let mut buf = vec![0u8; room.min(PATH_MAX - out.len())];
        let n = mem.read_at(&mut buf, at).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = buf[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..end]);
            return Some(out);
        }
        out.extend_from_slice(&buf[..n]);
        at += n as u64;
    }
    None
}

/// The path made absolute: relative paths start at the thread's working directory (dirfd
/// AT_FDCWD or none) or at the directory its dirfd names.
fn absolute(tid: u32, dfd: Option<u64>, path: Vec<u8>) -> Option<Vec<u8>> {
    if path.first() == Some(&b'/') {
        return Some(path);
    }
    // The dirfd is a C int: only its low 32 bits count.
    let base: PathBuf = match dfd.map(|d| d as u32 as i32) {
        None | Some(libc::AT_FDCWD) => std::fs::read_link(format!("/proc/{tid}/cwd")).ok()?,
        Some(fd) if fd >= 0 => std::fs::read_link(format!("/proc/{tid}/fd/{fd}")).ok()?,
        Some(_) => return None,
    };
    let mut out = base.as_os_str().as_bytes().to_vec();
    out.push(b'/');
    out.extend_from_slice(&path);
    Some(out)
}

/// Splits a path into its directory part and last component, ignoring trailing slashes
/// (`rename("a/", "b/")` renames `a`). None for a path with no last component (`/`, "").
pub(crate) fn split_last(path: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut end = path.len();
    while end > 0 && path[end - 1] == b'/' {
        end -= 1;
    }
    if end == 0 {
        return None;
    }
    let start = path[..end]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    Some((&path[..start], &path[start..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_lines_parse_only_when_blocked_in_a_call() {
        let line =
            "316 0xffffff9c 0x7ffd1b2c 0xffffffffffffff9c 0x7ffd1b40 0x1 0x0 0x7ffd 0x7f00\n";
        let (nr, a) = parse_syscall(line).unwrap();
        assert_eq!(nr, 316);
        assert_eq!(a[0] as u32 as i32, libc::AT_FDCWD);
        assert_eq!(a[2] as u32 as i32, libc::AT_FDCWD);
        assert_eq!(a[3], 0x7ffd1b40);
        assert_eq!(parse_syscall("running\n"), None);
        assert_eq!(parse_syscall("-1 0x7ffd 0x7f00\n"), None);
    }

    #[test]
    fn split_last_ignores_trailing_slashes() {
        assert_eq!(
            split_last(b"/m/a/Case.txt"),
            Some((&b"/m/a/"[..], &b"Case.txt"[..]))
        );
        assert_eq!(split_last(b"/m/Sub//"), Some((&b"/m/"[..], &b"Sub"[..])));
        assert_eq!(split_last(b"x"), Some((&b""[..], &b"x"[..])));
        assert_eq!(split_last(b"/"), None);
        assert_eq!(split_last(b""), None);
    }

    /// The real probe on this very thread: not in a rename (it is running), so nothing.
    #[test]
    fn a_running_thread_is_in_no_rename() {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() } as u32;
        assert_eq!(ProcProbe.rename_in_progress(tid), None);
        assert_eq!(ProcProbe.rename_in_progress(0), None);
    }

    /// Strings are read from another process's memory up to their NUL, across pages.
    #[test]
    fn reads_a_string_from_process_memory() {
        let mem = File::open("/proc/self/mem").unwrap();
        let mut s = vec![b'a'; 5000];
        s.push(0);
        assert_eq!(
            read_cstr(&mem, s.as_ptr() as u64),
            None,
            "longer than PATH_MAX"
        );
        let t = b"dir/Name.TXT\0";
        assert_eq!(read_cstr(&mem, t.as_ptr() as u64).unwrap(), b"dir/Name.TXT");
    }
}
