//! Thin system-call wrappers that return the raw errno, so that outcomes on two mounts can be
//! compared exactly (the differential fuzzer) and mapped through the documented errno table
//! (the conformance suite's POSIX target). Path calls act on the link itself where POSIX
//! offers the choice (`lstat`, `lsetxattr`, ...) unless their name says they follow: the
//! tools decide when to follow.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// An errno value.
pub type Errno = i32;

/// A system call's result: the value or the errno.
pub type SysResult<T> = Result<T, Errno>;

/// The errno of an I/O error (EIO when it carries none).
pub fn errno_of(e: &io::Error) -> Errno {
    e.raw_os_error().unwrap_or(libc::EIO)
}

fn last_errno() -> Errno {
    errno_of(&io::Error::last_os_error())
}

fn cpath(p: &Path) -> SysResult<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| libc::EINVAL)
}

/// What `lstat` tells, reduced to what the tools compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// `S_IFMT` bits.
    pub kind: Kind,
    /// Link count.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Inode number (never compared between file systems).
    pub ino: u64,
    /// Permission bits.
    pub mode: u32,
}

/// File type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link (ntlinkfs and ntfs-3g show junctions and symlinks this way).
    Symlink,
    /// Anything else (FIFO, socket, device).
    Other,
}

impl Kind {
    /// Short name used in outcome summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Other => "other",
        }
    }
}

// The casts are no-ops on x86_64 but not on every target (nlink_t is 32 bits on aarch64).
#[allow(clippy::unnecessary_cast)]
fn meta_of(st: &libc::stat) -> Meta {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    };
    Meta {
        kind,
        nlink: st.st_nlink as u64,
        size: st.st_size as u64,
        ino: st.st_ino as u64,
        mode: st.st_mode & 0o7777,
    }
}

/// `lstat(2)`.
pub fn lstat(p: &Path) -> SysResult<Meta> {
    let c = cpath(p)?;
    // SAFETY: `st` is plain old data that lstat fills; `c` is a valid C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::lstat(c.as_ptr(), &mut st) };
    if r == 0 {
        Ok(meta_of(&st))
    } else {
        Err(last_errno())
    }
}

/// `stat(2)` (follows links).
pub fn stat(p: &Path) -> SysResult<Meta> {
    let c = cpath(p)?;
    // SAFETY: as in `lstat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::stat(c.as_ptr(), &mut st) };
    if r == 0 {
        Ok(meta_of(&st))
    } else {
        Err(last_errno())
    }
}

/// `fstat(2)`.
pub fn fstat(fd: &std::fs::File) -> SysResult<Meta> {
    use std::os::fd::AsRawFd;
    // SAFETY: as in `lstat`; the descriptor is owned by `fd` and open.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::fstat(fd.as_raw_fd(), &mut st) };
    if r == 0 {
        Ok(meta_of(&st))
    } else {
        Err(last_errno())
    }
}

/// How `renameat2(2)` is asked to rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RenameMode {
    /// Plain `rename(2)`: replaces a target of the same kind.
    Replace,
    /// `RENAME_NOREPLACE`.
    NoReplace,
    /// `RENAME_EXCHANGE`.
    Exchange,
}

/// `renameat2(2)` with the mode's flag.
pub fn rename(src: &Path, dst: &Path, mode: RenameMode) -> SysResult<()> {
    let (s, d) = (cpath(src)?, cpath(dst)?);
    let flags = match mode {
        RenameMode::Replace => 0,
        RenameMode::NoReplace => libc::RENAME_NOREPLACE,
        RenameMode::Exchange => libc::RENAME_EXCHANGE,
    };
    // SAFETY: valid C strings; AT_FDCWD with absolute or cwd-relative paths.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            s.as_ptr(),
            libc::AT_FDCWD,
            d.as_ptr(),
            flags,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// `mkdir(2)` with mode 0755.
pub fn mkdir(p: &Path) -> SysResult<()> {
    std::fs::create_dir(p).map_err(|e| errno_of(&e))
}

/// `mknod(2)` of `mode` (type and permission bits) with device number `dev`: a FIFO, a
/// device node, or a regular file.
pub fn mknod(p: &Path, mode: libc::mode_t, dev: libc::dev_t) -> SysResult<()> {
    let c = cpath(p)?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    if unsafe { libc::mknod(c.as_ptr(), mode, dev) } == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// `rmdir(2)`.
pub fn rmdir(p: &Path) -> SysResult<()> {
    std::fs::remove_dir(p).map_err(|e| errno_of(&e))
}

/// `unlink(2)`.
pub fn unlink(p: &Path) -> SysResult<()> {
    std::fs::remove_file(p).map_err(|e| errno_of(&e))
}

/// `link(2)` (does not follow a symlink `src`, as Linux's link(2)).
pub fn link(src: &Path, dst: &Path) -> SysResult<()> {
    std::fs::hard_link(src, dst).map_err(|e| errno_of(&e))
}

/// `symlink(2)`.
pub fn symlink(target: &str, p: &Path) -> SysResult<()> {
    std::os::unix::fs::symlink(target, p).map_err(|e| errno_of(&e))
}

/// `readlink(2)`.
pub fn readlink(p: &Path) -> SysResult<String> {
    std::fs::read_link(p)
        .map(|t| t.to_string_lossy().into_owned())
        .map_err(|e| errno_of(&e))
}

/// `open(2)` with `O_CREAT | O_EXCL | O_WRONLY`, then close: makes an empty file.
pub fn create_new(p: &Path) -> SysResult<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(p)
        .map(drop)
        .map_err(|e| errno_of(&e))
}

/// `open(2)` for reading and writing an existing file (never creates).
pub fn open_rw(p: &Path) -> SysResult<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(p)
        .map_err(|e| errno_of(&e))
}

/// `open(2)` read-only.
pub fn open_ro(p: &Path) -> SysResult<std::fs::File> {
    std::fs::File::open(p).map_err(|e| errno_of(&e))
}

/// `pwrite(2)` of the whole buffer.
pub fn pwrite(f: &std::fs::File, off: u64, data: &[u8]) -> SysResult<()> {
    use std::os::unix::fs::FileExt;
    f.write_all_at(data, off).map_err(|e| errno_of(&e))
}

/// Reads a whole open file from offset 0.
pub fn read_all(f: &std::fs::File) -> SysResult<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match f.read_at(&mut buf, out.len() as u64) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(errno_of(&e)),
        }
    }
}

/// `posix_fadvise(POSIX_FADV_DONTNEED)` on the whole file: drops its clean cached pages, so
/// the next read asks the file system.
pub fn drop_page_cache(f: &std::fs::File) -> SysResult<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is owned by `f` and open.
    let r = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if r == 0 {
        Ok(())
    } else {
        Err(r)
    }
}

/// `ftruncate(2)`.
pub fn ftruncate(f: &std::fs::File, size: u64) -> SysResult<()> {
    f.set_len(size).map_err(|e| errno_of(&e))
}

/// `truncate(2)` by path (follows links, as truncate(2)).
pub fn truncate(p: &Path, size: u64) -> SysResult<()> {
    let c = cpath(p)?;
    let size = libc::off_t::try_from(size).map_err(|_| libc::EFBIG)?;
    // SAFETY: valid C string.
    let r = unsafe { libc::truncate(c.as_ptr(), size) };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// `lsetxattr(2)`.
pub fn lsetxattr(p: &Path, name: impl AsRef<[u8]>, value: &[u8]) -> SysResult<()> {
    let c = cpath(p)?;
    let n = CString::new(name.as_ref()).map_err(|_| libc::EINVAL)?;
    // SAFETY: valid C strings; `value` is readable for its length.
    let r = unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// `lremovexattr(2)`.
pub fn lremovexattr(p: &Path, name: impl AsRef<[u8]>) -> SysResult<()> {
    let c = cpath(p)?;
    let n = CString::new(name.as_ref()).map_err(|_| libc::EINVAL)?;
    // SAFETY: valid C strings.
    let r = unsafe { libc::lremovexattr(c.as_ptr(), n.as_ptr()) };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// `lgetxattr(2)` (the link itself), the whole value.
pub fn lgetxattr(p: &Path, name: impl AsRef<[u8]>) -> SysResult<Vec<u8>> {
    get_xattr(p, name, false)
}

/// `getxattr(2)` (follows a symlink), the whole value.
pub fn getxattr(p: &Path, name: impl AsRef<[u8]>) -> SysResult<Vec<u8>> {
    get_xattr(p, name, true)
}

fn get_xattr(p: &Path, name: impl AsRef<[u8]>, follow: bool) -> SysResult<Vec<u8>> {
    let c = cpath(p)?;
    let n = CString::new(name.as_ref()).map_err(|_| libc::EINVAL)?;
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: valid C strings; `buf` is writable for its length.
        let r = unsafe {
            if follow {
                libc::getxattr(c.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
            } else {
                libc::lgetxattr(c.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
            }
        };
        if r >= 0 {
            buf.truncate(r as usize);
            return Ok(buf);
        }
        let e = last_errno();
        if e == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        return Err(e);
    }
}

/// `fgetxattr(2)` of an open file into a buffer of `len` bytes; the value's length.
pub fn fgetxattr(f: &std::fs::File, name: &str, buf: &mut [u8]) -> SysResult<usize> {
    use std::os::fd::AsRawFd;
    let n = CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: the descriptor is owned by `f` and open; `buf` is writable for its length.
    let r = unsafe {
        libc::fgetxattr(
            f.as_raw_fd(),
            n.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if r >= 0 {
        Ok(r as usize)
    } else {
        Err(last_errno())
    }
}

/// `llistxattr(2)`: the names, each as its bytes.
pub fn llistxattr(p: &Path) -> SysResult<Vec<Vec<u8>>> {
    let c = cpath(p)?;
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: a valid C string; `buf` is writable for its length.
        let r = unsafe { libc::llistxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if r >= 0 {
            buf.truncate(r as usize);
            return Ok(buf
                .split(|&b| b == 0)
                .filter(|n| !n.is_empty())
                .map(<[u8]>::to_vec)
                .collect());
        }
        let e = last_errno();
        if e == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        return Err(e);
    }
}

/// The names in a directory (without `.` and `..`), sorted bytewise. Names of the form
/// `.fuse_hiddenXXXX` are left out: libfuse's high-level API (which ntfs-3g uses) renames a file
/// that is unlinked while open to such a name until it is closed; no NTFS behaviour, and the
/// number in it is an inode number.
pub fn list_dir(p: &Path) -> SysResult<Vec<String>> {
    Ok(list_dir_all(p)?
        .into_iter()
        .filter(|n| !is_fuse_hidden(n))
        .collect())
}

/// Is this a libfuse "hidden" name (see [`list_dir`])?
pub fn is_fuse_hidden(name: &str) -> bool {
    name.starts_with(".fuse_hidden")
}

/// The names in a directory (without `.` and `..`), sorted bytewise, hidden ones included.
pub fn list_dir_all(p: &Path) -> SysResult<Vec<String>> {
    let rd = std::fs::read_dir(p).map_err(|e| errno_of(&e))?;
    let mut names = Vec::new();
    for e in rd {
        let e = e.map_err(|e| errno_of(&e))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// After a reparse point is set or removed the file's type changes (directory ↔ link). The
/// kernel notices on the next look-up, and FUSE answers that look-up with EIO once while it
/// swaps the inode (fuse_do_getattr: "inode_wrong_type → make bad"; seen on ntfs-3g, whose
/// attributes the kernel caches). Looks (`lstat`) until the answer is not EIO, at most 5 times,
/// so the next operation sees the file as it now is; returns the EIOs met.
pub fn settle_after_kind_change(p: &Path) -> u64 {
    let mut eio = 0;
    for _ in 0..5 {
        if lstat(p) != Err(libc::EIO) {
            break;
        }
        eio += 1;
    }
    eio
}

/// Does the process with this id still exist (and is it not a zombie)?
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            // Field 3 is the state; a zombie ("Z") has exited.
            let state = s
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X"))
        }
        Err(_) => false,
    }
}

/// The resident set size of a process in KiB (`VmRSS` of /proc/PID/status).
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no VmRSS in /proc/{pid}/status")))
}
