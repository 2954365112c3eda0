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
//! * The times of a direct-I/O write ([`Writeback::direct_written`]). The kernel stamps mtime
//!   and ctime for a write(2) through the page cache (`file_update_time`), but not for one
//!   through a FOPEN_DIRECT_IO handle (`fuse_direct_write_iter` only updates the size), and
//!   it ignores the daemon's mtime and ctime in every reply and after FUSE_NOTIFY_INVAL_INODE
//!   (`fuse_get_cache_mask`). Measured on Linux 6.18 (`tests/writeback.rs`): after a direct
//!   write stat kept the mtime from before it through every name while the engine had
//!   stamped the write, and a later write-back of the kernel's older mtime (a page-cache
//!   write through another handle before the direct one) took LastWriteTime back behind the
//!   direct write. NTFS: LastWriteTime is "the time the file was last written to" (*FILE_BASIC_INFO
//!   structure*, learn.microsoft.com/windows/win32/api/winbase/ns-winbase-file_basic_info),
//!   and the times belong to the file, the same through every name (docs/NTFS-RULES.md A1
//!   item 4). The only way to give an inode the kernel already has a new mtime is a
//!   time-setting call through the mount, so after such a write the touch thread runs
//!   `utimensat(name, {UTIME_OMIT, UTIME_NOW})` on a name of the file: the kernel stamps its
//!   own "now" (it resolves UTIME_NOW itself with the cache), keeps it and sends it, and the
//!   engine stores it as for any utimensat. The engine does not stamp the direct WRITE
//!   itself (`Volume::write_keep_times`, as for a WRITE from the page cache): the kernel's clock
//!   is coarse (a tick behind the engine's), so the engine's own stamp would be replaced a
//!   moment later by an earlier kernel time; with one clock for every write of a regular
//!   file LastWriteTime only moves forward. Until the touch is answered (milliseconds) stat
//!   and engine both show the times from before the write; readers of engine state wait for
//!   pending touches first ([`Writeback::sync_kernel`], [`Writeback::wait_for_touches`]).
//!   A touch that cannot be made (the file has no name left, the call is refused, the session
//!   has ended) stamps the engine with the daemon's clock instead.

use crate::core::SetAttr;
use parking_lot::{Condvar, Mutex};
use std::collections::HashSet;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use vfs_core::{FileId, Volume};

/// How long [`Writeback::wait_for_writes`] waits at most for the connection to go quiet.
const WRITES_WAIT: Duration = Duration::from_secs(5);

/// How long the touch thread gathers direct writes before it has the kernel stamp their
/// files (module docs): how long stat may lag behind such a write.
const TOUCH_DELAY: Duration = Duration::from_millis(5);

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
    /// The open handles answered with FOPEN_DIRECT_IO.
    direct: Mutex<HashSet<u64>>,
    /// The thread that has the kernel stamp the times of files written through direct
    /// handles ([`Writeback::start_toucher`]).
    toucher: OnceLock<Toucher>,
}

impl Writeback {
    pub(crate) fn new(enabled: bool) -> Writeback {
        Writeback {
            enabled,
            margin: AtomicU64::new(DEFAULT_DIRTY_MARGIN),
            waiting: OnceLock::new(),
            direct: Mutex::new(HashSet::new()),
            toucher: OnceLock::new(),
        }
    }

    /// Records the open handle `fh` and whether it was answered with FOPEN_DIRECT_IO.
    pub(crate) fn opened(&self, fh: u64, direct: bool) {
        if self.enabled && direct {
            self.direct.lock().insert(fh);
        }
    }

    /// Handle `fh` is closed.
    pub(crate) fn released(&self, fh: u64) {
        if self.enabled {
            self.direct.lock().remove(&fh);
        }
    }

    /// Is `fh` a handle answered with FOPEN_DIRECT_IO on this writeback mount?
    pub(crate) fn is_direct(&self, fh: u64) -> bool {
        self.enabled && self.direct.lock().contains(&fh)
    }

    /// A WRITE through a direct handle changed file `id` (its times left as they were): the
    /// kernel stamped no times for it, so the touch thread has it stamp them (module docs).
    pub(crate) fn direct_written(&self, id: FileId) {
        if let Some(t) = self.toucher.get() {
            t.later(id);
        }
    }

    /// Waits until every touch queued so far is answered, [`WRITES_WAIT`] at most (a touch
    /// waits for the file's inode lock, which a caller of ours may hold), so that a reader of
    /// engine state sees the times of the direct writes before it.
    pub(crate) fn wait_for_touches(&self) {
        if let Some(t) = self.toucher.get() {
            t.wait_idle(WRITES_WAIT);
        }
    }

    /// Starts the touch thread of the mount at `mountpoint` (device `dev`), which reaches
    /// files by their names in `vol`. Only with the cache, once.
    pub(crate) fn start_toucher(&self, vol: Arc<Volume>, mountpoint: &Path, dev: u64) {
        if !self.enabled {
            return;
        }
        match Toucher::start(vol, mountpoint.to_path_buf(), dev) {
            Ok(t) => {
                let _ = self.toucher.set(t);
            }
            Err(e) => {
                tracing::warn!(target: "backend_fuse", "no touch thread ({e}): direct-I/O writes get the daemon's time, which stat does not show")
            }
        }
    }

    /// The end of the session: the touch thread makes no more calls through the mount, and
    /// the files still queued get the daemon's time.
    pub(crate) fn end(&self) {
        if let Some(t) = self.toucher.get() {
            t.end();
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
    pub(crate) fn sync_kernel(&self, mountpoint: &str, own: u64, requester: u32) {
        if !self.enabled {
            return;
        }
        // Not for a request of the touch thread itself (a LOOKUP its utimensat walks through,
        // of a file with a second node): it waits for this reply (measured: the touch then
        // hung until the wait's limit, and stat never moved within 2 s).
        if !self.toucher.get().is_some_and(|t| t.is_own(requester)) {
            self.wait_for_touches();
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

/// The touch thread of one mount: has the kernel stamp its own mtime and ctime on files
/// written through direct handles (module docs). A thread of its own, which nothing waits for
/// without a time limit: its utimensat(2) takes the file's inode lock, which the writer holds
/// until its WRITE is answered (and an O_TRUNC open, which may wait for the worker), so a
/// serving thread or the worker making that call could deadlock the mount.
#[derive(Debug)]
struct Toucher {
    shared: Arc<Touches>,
}

#[derive(Debug)]
struct Touches {
    state: Mutex<TouchState>,
    /// Wakes the thread for new work, and waiters when the queue is done.
    cv: Condvar,
    vol: Arc<Volume>,
    /// The touch thread's id, as requests it causes carry it (`fuse_in_header.pid`).
    tid: AtomicU32,
}

#[derive(Debug, Default)]
struct TouchState {
    /// Files queued and not yet touched: a burst of writes to one file costs one touch.
    pending: HashSet<FileId>,
    /// A touch is being made.
    busy: bool,
    /// Someone waits for the queue: no gathering ([`TOUCH_DELAY`]).
    hurry: bool,
    /// The session has ended: no more calls through the mount.
    ended: bool,
    /// The mount is gone: the thread ends.
    stop: bool,
}

impl Toucher {
    fn start(vol: Arc<Volume>, mountpoint: PathBuf, dev: u64) -> std::io::Result<Toucher> {
        let shared = Arc::new(Touches {
            state: Mutex::new(TouchState::default()),
            cv: Condvar::new(),
            vol,
            tid: AtomicU32::new(0),
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("ntlinkfs-touch".into())
            .spawn(move || {
                // SAFETY: gettid cannot fail.
                let tid = unsafe { libc::gettid() };
                s.tid.store(tid as u32, Ordering::SeqCst);
                run_toucher(&s, &mountpoint, dev)
            })?;
        Ok(Toucher { shared })
    }

    /// Is `pid` (a request's thread id) the touch thread?
    fn is_own(&self, pid: u32) -> bool {
        pid != 0 && self.shared.tid.load(Ordering::SeqCst) == pid
    }

    fn later(&self, id: FileId) {
        let mut st = self.shared.state.lock();
        if st.ended {
            drop(st);
            self.shared.stamp_engine(id);
        } else if st.pending.insert(id) {
            self.shared.cv.notify_all();
        }
    }

    fn wait_idle(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut st = self.shared.state.lock();
        while !st.pending.is_empty() || st.busy {
            st.hurry = true;
            self.shared.cv.notify_all();
            if self.shared.cv.wait_until(&mut st, deadline).timed_out() {
                tracing::debug!(target: "backend_fuse", "touches still pending after {limit:?}");
                return;
            }
        }
    }

    /// No more calls through the mount; what is queued gets the daemon's time.
    fn end(&self) {
        let ids: Vec<FileId> = {
            let mut st = self.shared.state.lock();
            st.ended = true;
            st.pending.drain().collect()
        };
        for id in ids {
            self.shared.stamp_engine(id);
        }
        self.shared.cv.notify_all();
    }
}

impl Drop for Toucher {
    fn drop(&mut self) {
        self.shared.state.lock().stop = true;
        self.shared.cv.notify_all();
    }
}

impl Touches {
    /// The fallback when the kernel cannot be made to stamp the file: the engine stamps the
    /// write with the daemon's clock (NTFS: the write sets LastWriteTime and ChangeTime).
    fn stamp_engine(&self, id: FileId) {
        let t = vfs_core::now();
        let _ = self.vol.set_times(
            id,
            vfs_core::SetTimes {
                last_write: Some(t),
                change: Some(t),
                ..Default::default()
            },
        );
    }
}

fn run_toucher(shared: &Touches, mountpoint: &Path, dev: u64) {
    let mut st = shared.state.lock();
    loop {
        if st.stop {
            return;
        }
        if st.pending.is_empty() {
            st.hurry = false;
            shared.cv.wait(&mut st);
            continue;
        }
        // Gathers the burst: a writer's next direct writes to the file come within this
        // time and cost no touch of their own (measured: a touch per 4 KiB write took 4 KiB
        // direct writes from 399 to 179 MB/s). A reader of engine state cuts it short.
        let until = Instant::now() + TOUCH_DELAY;
        while !st.hurry && !st.stop && !st.ended {
            if shared.cv.wait_until(&mut st, until).timed_out() {
                break;
            }
        }
        // Out of the set before the calls: a write during them queues the file again.
        let ids: Vec<FileId> = st.pending.drain().collect();
        st.busy = true;
        let ended = st.ended;
        drop(st);
        for id in ids {
            let r = if ended {
                Err(std::io::Error::from_raw_os_error(libc::ENOTCONN))
            } else {
                touch(&shared.vol, mountpoint, dev, id)
            };
            if let Err(e) = r {
                // The file lost its last name, the call was refused, or the session is
                // ending.
                tracing::debug!(target: "backend_fuse", "touch of {id:?} after a direct write: {e}; the daemon's time instead");
                shared.stamp_engine(id);
            }
        }
        st = shared.state.lock();
        st.busy = false;
        shared.cv.notify_all();
    }
}

/// `utimensat(name, {UTIME_OMIT, UTIME_NOW}, AT_SYMLINK_NOFOLLOW)` on the first name of `id`
/// that is not delete-pending, relative to the mount's root opened with O_PATH (no OPENDIR,
/// and a mount point that is no longer this mount, after a lazy unmount, is recognised by
/// its device and left alone).
fn touch(vol: &Volume, mountpoint: &Path, dev: u64, id: FileId) -> std::io::Result<()> {
    let path = vol
        .link_paths(id)
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .into_iter()
        .find(|l| !l.delete_pending)
        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOENT))?
        .path;
    // `\dir\name` → `dir/name` (WTF-8 names, as the kernel was given them).
    let mut rel = Vec::new();
    for part in path
        .split(|&u| u == u16::from(b'\\'))
        .filter(|p| !p.is_empty())
    {
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(&crate::names::to_bytes(part));
    }
    let rel = CString::new(rel)?;
    let dir = open_dir(mountpoint, libc::O_PATH)?;
    let fd = dir.as_raw_fd();
    // SAFETY: a zeroed struct for fstat to fill, from our open descriptor.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        Err(std::io::Error::last_os_error())
    } else if st.st_dev != dev {
        Err(std::io::Error::from_raw_os_error(libc::ENOTCONN))
    } else {
        let times = [
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            },
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_NOW,
            },
        ];
        // SAFETY: our descriptor, a valid relative path and two timespecs.
        if unsafe { libc::utimensat(fd, rel.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) }
            == 0
        {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}

/// A descriptor of the directory `path`, opened with `flags` beside O_DIRECTORY | O_CLOEXEC
/// (closed when dropped).
fn open_dir(path: &Path, flags: libc::c_int) -> std::io::Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a valid NUL-terminated path.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor just opened, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// syncfs(2) of the file system mounted at `path`.
pub(crate) fn syncfs_path(path: &Path) -> std::io::Result<()> {
    let dir = open_dir(path, libc::O_RDONLY)?;
    // SAFETY: an open descriptor of ours.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
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
    fn direct_handles_are_known_until_released_and_only_with_the_cache() {
        let w = Writeback::new(true);
        w.opened(7, true);
        w.opened(8, false);
        assert!(w.is_direct(7));
        assert!(!w.is_direct(8), "a cached handle");
        w.released(7);
        assert!(!w.is_direct(7), "closed");
        let off = Writeback::new(false);
        off.opened(7, true);
        assert!(!off.is_direct(7), "no cache, nothing to stamp");
        // No touch thread (not mounted): nothing is queued, nothing waits.
        w.direct_written(FileId(1));
        w.wait_for_touches();
        w.end();
    }

    /// A touch that cannot reach the mount (here: the directory is no mount, its device is
    /// not the mount's) stamps the engine with the daemon's clock instead, and a waiter sees
    /// it done; after the end of the session a direct write is stamped at once.
    #[test]
    fn a_touch_that_cannot_be_made_stamps_the_engine() {
        let vol = Arc::new(Volume::new(vfs_core::VolumeOptions::default()));
        let id = vol.create_path(r"\f", &vfs_core::NewFile::file()).unwrap();
        let old = vfs_core::SetTimes {
            last_write: Some(1_000),
            change: Some(2_000),
            ..Default::default()
        };
        vol.set_times(id, old).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let w = Writeback::new(true);
        w.start_toucher(vol.clone(), dir.path(), u64::MAX);
        let before = vfs_core::now();
        w.direct_written(id);
        w.wait_for_touches();
        let t = vol.stat(id).unwrap().times;
        assert!(t.last_write >= before && t.change >= before, "{t:?}");
        vol.set_times(id, old).unwrap();
        w.end();
        w.direct_written(id);
        let t = vol.stat(id).unwrap().times;
        assert!(t.last_write >= before && t.change >= before, "{t:?}");
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
