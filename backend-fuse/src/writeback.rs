//! Coherence with FUSE's writeback cache ([`crate::MountOptions::writeback_cache`]).
//!
//! With FUSE_WRITEBACK_CACHE a write(2) lands in the kernel's page cache and reaches the
//! daemon later, as WRITE requests from the flusher, from close (`fuse_flush` writes every
//! dirty page back and waits for it, even with FOPEN_NOFLUSH), fsync or syncfs. Until then
//! the engine does not have the data, and the kernel owns the file's size, mtime and ctime
//! (fs/fuse: `fuse_get_cache_mask` makes it ignore those three in every reply for a regular
//! file). What this module adds so that the engine and every kernel node agree:
//!
//! * [`Writeback::sync_kernel`]: a `syncfs(2)` of the mount, which makes the kernel write
//!   every dirty page of the mount back (and send each dirty inode's times) before it
//!   returns. The daemon cannot ask for one inode's pages. It must run where the WRITEs it
//!   causes are still served: on the mount's worker thread (a serving thread would wait for
//!   itself), which is why a writeback mount always has the worker. Readers of engine state
//!   that the kernel may still hold dirty call it first: the control attributes that read
//!   state, `system.ntfs_times`, the image save, and an open of a file that has another live
//!   kernel node.
//! * [`Writeback::direct_io`]: which opens get FOPEN_DIRECT_IO (writes synchronous, reads from
//!   the engine): a file with another live kernel node (a retired node still open beside the
//!   fresh one, each with its own page cache), and every open for writing while the volume's
//!   free space is below what the kernel may hold dirty for the mount (so a write that does
//!   not fit fails in write(2) with ENOSPC, as NTFS fails WriteFile with DiskFull, A8).
//! * [`kernel_time_flush`]: recognises the SETATTR the kernel sends at write-back with its own
//!   mtime and ctime (`fuse_flush_times`), which must be stored as LastWriteTime/ChangeTime and
//!   must not be refused as a utimensat(2) by a caller who does not own the file.

use crate::core::SetAttr;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long [`Writeback::wait_for_writes`] waits at most for the connection to go quiet.
const WRITES_WAIT: Duration = Duration::from_secs(5);

/// What the kernel may hold dirty for a mount when its bdi limit cannot be read: FUSE gives
/// each connection's bdi `max_ratio` 1 with `strict_limit` (fs/fuse/inode.c,
/// `fuse_bdi_init`), about 48 MB on a machine with a few GB of memory; four times that.
pub(crate) const DEFAULT_DIRTY_MARGIN: u64 = 192 << 20;

/// The writeback-cache state of one mount.
#[derive(Debug)]
pub(crate) struct Writeback {
    /// FUSE_WRITEBACK_CACHE was asked for.
    pub(crate) enabled: bool,
    /// Free space below which opens for writing get FOPEN_DIRECT_IO (bytes).
    margin: AtomicU64,
    /// `/sys/fs/fuse/connections/N/waiting`: how many requests of this mount's connection
    /// the kernel has sent or queued and not seen answered.
    waiting: OnceLock<PathBuf>,
}

impl Writeback {
    pub(crate) fn new(enabled: bool) -> Writeback {
        Writeback {
            enabled,
            margin: AtomicU64::new(DEFAULT_DIRTY_MARGIN),
            waiting: OnceLock::new(),
        }
    }

    /// The free-space margin below which writes become synchronous.
    pub(crate) fn margin(&self) -> u64 {
        self.margin.load(Ordering::Relaxed)
    }

    /// Sets the margin from the mount's bdi (`/sys/class/bdi/MAJ:MIN/max_bytes`, what the
    /// kernel lets this mount hold dirty; `MAJ:MIN` is the mount's anonymous device). Twice
    /// that plus 16 MiB: `balance_dirty_pages` is only consulted every few dozen pages per
    /// writer, so several writers can overshoot the limit by a little each. Not readable (no
    /// sysfs, another kernel): [`DEFAULT_DIRTY_MARGIN`] stays.
    pub(crate) fn set_device(&self, dev: u64) {
        // The connection's control directory is named by the kernel's dev_t of the mount
        // (`fuse_ctl_add_conn`: MAJOR << 20 | MINOR).
        let conn = (u64::from(libc::major(dev)) << 20) | u64::from(libc::minor(dev));
        let _ = self.waiting.set(PathBuf::from(format!(
            "/sys/fs/fuse/connections/{conn}/waiting"
        )));
        let path = format!(
            "/sys/class/bdi/{}:{}/max_bytes",
            libc::major(dev),
            libc::minor(dev)
        );
        match std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(max) if max > 0 => {
                let m = max.saturating_mul(2).saturating_add(16 << 20);
                self.margin.store(m, Ordering::Relaxed);
                tracing::debug!(target: "backend_fuse", "writeback: dirty limit {max} B, direct I/O below {m} B free");
            }
            _ => {
                tracing::debug!(target: "backend_fuse", "writeback: {path} unreadable, direct I/O below {DEFAULT_DIRTY_MARGIN} B free")
            }
        }
    }

    /// Makes the kernel write back every dirty page of the mount at `mountpoint` (syncfs(2))
    /// and returns when it has. Only from a thread that is not serving requests (the worker,
    /// or an API user's thread): the WRITE and SETATTR requests it causes must be answered
    /// meanwhile. A mount without the cache holds nothing dirty: no call.
    ///
    /// syncfs needs a descriptor of the mount; the directory is opened and closed each time
    /// (an OPENDIR and a RELEASEDIR round trip) rather than kept open, because a descriptor
    /// the daemon kept would make every unmount busy. Failures are logged: the caller then
    /// reads what the engine has, as without the cache.
    pub(crate) fn sync_kernel(&self, mountpoint: &str, own: u64) {
        if !self.enabled {
            return;
        }
        if let Err(e) = syncfs_path(Path::new(mountpoint)) {
            tracing::warn!(target: "backend_fuse", "syncfs of {mountpoint} failed: {e}; reading the engine as it is");
            return;
        }
        self.wait_for_writes(own);
    }

    /// After a syncfs: waits until the WRITEs it queued are answered. syncfs returns once
    /// the kernel has *sent* every dirty page of a FUSE mount (and its times, which it
    /// sends synchronously), not once they are written: on Linux 6.18 `wait_sb_inodes`
    /// does not wait for a FUSE mapping, and FUSE_SYNCFS, which would
    /// (`fuse_sync_fs_writes`), is only sent to virtiofs; measured: an image saved right
    /// after the syncfs lacked the data in 1 run in 3 with two serving threads. So the
    /// connection's count of unanswered requests is read until it is down to `own` (the
    /// requests that wait for the caller: its own request when it runs on the worker), for
    /// [`WRITES_WAIT`] at most: other callers' requests in flight count too, so a busy mount
    /// can make this wait out the limit (then the engine is read as it is, and it is logged).
    pub(crate) fn wait_for_writes(&self, own: u64) {
        let Some(path) = self.waiting.get() else {
            return;
        };
        let deadline = Instant::now() + WRITES_WAIT;
        loop {
            let n = match std::fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
            {
                Some(n) => n,
                None => {
                    tracing::debug!(target: "backend_fuse", "{} unreadable: not waiting for write-back", path.display());
                    return;
                }
            };
            if n <= own {
                return;
            }
            if Instant::now() > deadline {
                tracing::warn!(target: "backend_fuse", "{n} requests still in flight after a syncfs and {WRITES_WAIT:?}; reading the engine as it is");
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Should an open (`write`: for writing) of a file get FOPEN_DIRECT_IO? `other_nodes`: the
    /// file has another live kernel node; `free`: the volume's free bytes (None: no limit).
    pub(crate) fn direct_io(&self, write: bool, other_nodes: bool, free: Option<u64>) -> bool {
        if !self.enabled {
            return false;
        }
        // Two kernel inodes have two page caches: what one holds dirty the other cannot
        // read. Direct I/O keeps every byte written through this handle in the engine at
        // once, and reads from the engine what the other node wrote.
        if other_nodes {
            return true;
        }
        // DiskFull (A8) in write(2) itself: the engine refuses a write that does not fit,
        // whole; the page cache would accept it and fail only at write-back.
        write && free.is_some_and(|f| f < self.margin())
    }
}

/// syncfs(2) of the file system mounted at `path`.
pub(crate) fn syncfs_path(path: &Path) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a valid NUL-terminated path; the descriptor is closed below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is an open descriptor of ours.
    let r = unsafe { libc::syncfs(fd) };
    let e = std::io::Error::last_os_error();
    // SAFETY: as above; closed once.
    unsafe { libc::close(fd) };
    if r == 0 {
        Ok(())
    } else {
        Err(e)
    }
}

/// Is this SETATTR the kernel's own write-back of a file's times (`fuse_flush_times`, sent
/// from `fuse_write_inode` when a dirty inode is written back: at close, fsync, syncfs or by
/// the flusher)? It carries FATTR_MTIME (with FATTR_CTIME on protocol 7.23 and later) and the
/// handle of a file open for writing (FATTR_FH), nothing else. No system call makes that
/// combination: utimensat/futimens set times without a handle (the VFS passes no ATTR_FILE
/// for them), and the calls that pass a handle (ftruncate, open with O_TRUNC) carry a size.
/// The flusher can send it without a handle when no file is open for writing any more
/// (close already wrote the inode, so only a race leaves that); such a SETATTR is treated as
/// any utimensat.
pub(crate) fn kernel_time_flush(a: &SetAttr) -> bool {
    a.handle.is_some() && !a.mtime_now && only_cm_times(a)
}

/// Does this SETATTR set nothing but mtime and ctime (what `fuse_flush_times` sends, with or
/// without a handle)?
pub(crate) fn only_cm_times(a: &SetAttr) -> bool {
    a.mtime.is_some()
        && a.atime.is_none()
        && a.crtime.is_none()
        && a.size.is_none()
        && a.mode.is_none()
        && a.uid.is_none()
        && a.gid.is_none()
}

/// With the cache the kernel resolves "now" itself (`trust_local_cmtime`: utimensat with
/// UTIME_NOW arrives as FATTR_MTIME with the kernel's time, not FATTR_MTIME_NOW), and stamps
/// mtime and ctime with the one `current_time()` of the change (`notify_change` for
/// utimensat, `file_update_time` for a write). An explicit mtime differs from the ctime the
/// same call stamps (ctime is always "now"), so equal times mean "now": the caller needs write
/// permission, not ownership (utimensat(2) rules).
pub(crate) fn mtime_is_now(a: &SetAttr) -> bool {
    a.mtime_now || (a.mtime.is_some() && a.mtime == a.ctime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_io_only_with_the_cache_and_for_the_two_reasons() {
        let w = Writeback::new(true);
        let m = w.margin();
        assert!(!Writeback::new(false).direct_io(true, true, Some(0)));
        assert!(w.direct_io(false, true, None));
        assert!(w.direct_io(true, false, Some(m - 1)));
        assert!(!w.direct_io(false, false, Some(0)), "reads never need it");
        assert!(!w.direct_io(true, false, Some(m)));
        assert!(!w.direct_io(true, false, None), "no size limit");
    }

    #[test]
    fn the_kernels_time_flush_is_told_from_utimensat() {
        let flush = SetAttr {
            mtime: Some(5),
            ctime: Some(6),
            handle: Some(3),
            ..Default::default()
        };
        assert!(kernel_time_flush(&flush));
        assert!(!kernel_time_flush(&SetAttr {
            handle: None,
            ..flush
        }));
        assert!(!kernel_time_flush(&SetAttr {
            size: Some(0),
            ..flush
        }));
        assert!(!kernel_time_flush(&SetAttr {
            atime: Some(1),
            ..flush
        }));
        assert!(!mtime_is_now(&flush));
        assert!(mtime_is_now(&SetAttr {
            ctime: Some(5),
            ..flush
        }));
        assert!(!mtime_is_now(&SetAttr::default()));
    }
}
