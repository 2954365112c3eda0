//! mount(2) and umount2(2) for the scratch mounts the tools make (root only): a fresh tmpfs,
//! unmounting with retries, and waiting until a new mount answers.

use crate::{err, Result};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| err!("{} has a NUL byte", p.display()))
}

/// Mounts a fresh tmpfs (mode 0755) at `dir`, which must exist; `source` names it in
/// mountinfo.
pub fn mount_tmpfs(dir: &Path, source: &str) -> std::io::Result<()> {
    let target = cpath(dir).map_err(std::io::Error::other)?;
    let source = CString::new(source).map_err(std::io::Error::other)?;
    // SAFETY: all strings are NUL-terminated; data is a C string of mount options.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            c"mode=0755".as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Unmounts `dir` with umount2(2): retries a busy mount for 5 s, then detaches it lazily.
/// Fails with the errno's message otherwise (EPERM: not root).
pub fn unmount(dir: &Path) -> Result<()> {
    let target = cpath(dir)?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // SAFETY: target is NUL-terminated.
        if unsafe { libc::umount2(target.as_ptr(), 0) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EBUSY) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Some(libc::EBUSY) => {
                // SAFETY: as above.
                if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) } == 0 {
                    return Ok(());
                }
                return Err(err!(
                    "unmounting {}: {}",
                    dir.display(),
                    std::io::Error::last_os_error()
                ));
            }
            _ => return Err(err!("unmounting {}: {e}", dir.display())),
        }
    }
}

/// Is `dir` a mount point by its device (another device than its parent's)? Unlike
/// [`crate::mountinfo::is_mountpoint`] this needs the mount to answer stat.
pub fn is_mount_point(dir: &Path) -> bool {
    let parent = dir.parent().unwrap_or(Path::new("/"));
    match (std::fs::metadata(dir), std::fs::metadata(parent)) {
        (Ok(a), Ok(b)) => a.dev() != b.dev(),
        _ => false,
    }
}

/// Waits until `dir` answers a stat as a mount point (another device than `parent_dev`).
pub fn wait_mounted(dir: &Path, parent_dev: u64, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(m) = std::fs::metadata(dir) {
            if m.dev() != parent_dev {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(err!(
                "{} did not become a mount point within {timeout:?}",
                dir.display()
            ));
        }
        std::thread::yield_now();
    }
}

/// The device of `dir`'s parent (what [`wait_mounted`] compares against).
pub fn parent_dev(dir: &Path) -> Result<u64> {
    let parent = dir.parent().unwrap_or(Path::new("/"));
    std::fs::metadata(parent)
        .map(|m| m.dev())
        .map_err(|e| err!("{}: {e}", parent.display()))
}
