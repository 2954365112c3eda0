//! The mount's control channel: the engine's `check()` and counters, read through extended
//! attributes on the mount's root (so a tool outside the daemon can ask).

use anyhow::{anyhow, Result};
use host::sys;
use std::path::Path;
use std::time::{Duration, Instant};

/// The xattr on the root whose value is the engine's `check()`: `ok`, or the inconsistencies.
pub const CHECK_XATTR: &str = host::xattrs::control::CHECK;

/// The engine's consistency check, as the mount reports it (trimmed).
pub fn check(mount: &Path) -> Result<String> {
    let v = sys::lgetxattr(mount, CHECK_XATTR).map_err(|e| {
        anyhow!(
            "getfattr -n {CHECK_XATTR} {}: {}",
            mount.display(),
            crate::errno::name(e)
        )
    })?;
    Ok(String::from_utf8_lossy(&v).trim().to_string())
}

/// The xattr on the root whose value is the number of handles open in the engine.
pub const HANDLES_XATTR: &str = host::xattrs::control::HANDLES;

/// Open handles in the engine, if the mount reports them (None when it does not).
pub fn open_handles(mount: &Path) -> Result<Option<u64>> {
    match sys::lgetxattr(mount, HANDLES_XATTR) {
        Ok(v) => {
            let t = String::from_utf8_lossy(&v).trim().to_string();
            t.parse()
                .map(Some)
                .map_err(|_| anyhow!("{HANDLES_XATTR} is not a number: {t:?}"))
        }
        Err(libc::ENODATA) | Err(libc::EOPNOTSUPP) | Err(libc::EPERM) | Err(libc::EINVAL) => {
            Ok(None)
        }
        Err(e) => Err(anyhow!(
            "getfattr -n {HANDLES_XATTR} {}: {}",
            mount.display(),
            crate::errno::name(e)
        )),
    }
}

/// Open handles once every RELEASE has reached the daemon: close(2) does not wait for it, so
/// the count is read again every 20 ms while it is above 0, for at most 10 s.
pub fn open_handles_settled(mount: &Path) -> Result<Option<u64>> {
    let start = Instant::now();
    loop {
        let n = open_handles(mount)?;
        if n.is_none_or(|n| n == 0) || start.elapsed() > Duration::from_secs(10) {
            return Ok(n);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The daemon's RSS once it stops changing: the kernel forgets deleted inodes a little after
/// the unlink returns, so the engine frees their data a little later too. Samples every 100 ms
/// until five agree within 1 MiB, for at most 10 s.
pub fn settled_rss_kib(pid: u32) -> Result<u64> {
    let start = Instant::now();
    let mut last = sys::rss_kib(pid)?;
    let mut same = 0;
    while same < 5 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
        let now = sys::rss_kib(pid)?;
        if now.abs_diff(last) < 1024 {
            same += 1;
        } else {
            same = 0;
        }
        last = now;
    }
    Ok(last)
}
