//! Mounting and unmounting: the mount options, the mount point checks (a dead FUSE mount
//! left by a crash is cleaned), the FUSE session with its threads, and the handle that
//! unmounts and waits for the session to end.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::Mutex;
use vfs_core::Volume;

use crate::{core, glue, inval};

/// How to mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Threads serving requests, each with its own cloned `/dev/fuse` descriptor when the
    /// device can be opened (fuser `Config::n_threads` and `clone_fd`). At least 1. The
    /// parked spare of [`MountOptions::spare_thread`] is one more.
    pub threads: usize,
    /// Let other users reach the drive (`allow_other`). Off by default: only the mounting user
    /// can. Needs `user_allow_other` in /etc/fuse.conf when not mounting as root.
    pub allow_other: bool,
    /// Mount read-only (the kernel refuses changes with EROFS; build the volume read-only too).
    pub read_only: bool,
    /// Who checks permission bits: the kernel (`default_permissions`) or the daemon; by
    /// default the daemon on a single-user mount and the kernel with `allow_other` (see
    /// [`Permissions`]).
    pub permissions: Permissions,
    /// How long the kernel may reuse a name → file answer without asking.
    pub entry_ttl: Duration,
    /// How long the kernel may reuse a file's attributes without asking.
    pub attr_ttl: Duration,
    /// Before mounting, lazily unmount a dead FUSE mount left at the mount point ("transport
    /// endpoint is not connected" after a crash). On by default.
    pub clean_dead_mount: bool,
    /// The mount's source name in /proc/mounts.
    pub fsname: String,
    /// Mount even on a directory that holds files, hiding them while mounted (FUSE's
    /// `nonempty`). Off by default: such a mount is refused with [`MountError::NotEmpty`].
    pub nonempty: bool,
    /// The image file the caller saves the volume to after the session (`ntlinkfs mount
    /// --image`), absolute; shown to the mounting user as `user.ntlinkfs.image`, so that
    /// `ntlinkfs unmount` can say where the drive went. The mount itself never writes it.
    pub image: Option<PathBuf>,
    /// Run the handlers that wait (`user.ntlinkfs.save`, which writes a whole image, and a
    /// name change refused for an open handle, which waits for the RELEASEs on their way) on
    /// a worker thread that sends their replies, so that the serving threads keep answering
    /// meanwhile. With it one serving thread is enough for correctness (see
    /// docs/BENCHMARKS.md, "Serving model"). (A reparse point change needs no worker: see
    /// [`MountOptions::spare_thread`] and the crate docs, "Caching" 4.)
    pub wait_worker: bool,
    /// Run one serving thread more than [`MountOptions::threads`], parked until needed, so
    /// that a serving thread may drop a junction's old kernel names itself before replying
    /// instead of handing the reply to the invalidation thread (module `spare`: when the
    /// invalidation is held up by a lookup in the same directory, the parked thread wakes
    /// and serves it). On by default: about 15 µs less per junction
    /// (docs/BENCHMARKS.md, "Issue 17, sixth round"). Off: every junction's names are dropped
    /// by the invalidation thread, as before.
    pub spare_thread: bool,
    /// While the machine is idle, serve with one thread more than [`MountOptions::threads`]
    /// (when that is fewer than the CPUs, and with [`MountOptions::spare_thread`]): the extra
    /// thread parks beside the spare while at least 60% of the CPU time is in use and serves
    /// once half of it is idle (module `spare`, read from `/proc/stat` five times a second by
    /// a parked thread). Off by default until a case-only rename race with two serving
    /// threads is fixed (see `Default`); `bench --fuse-widen-when-idle` turns it on. On an idle
    /// 2-CPU machine two threads served the store's name operations about twice as fast as
    /// one, beside a CPU hog one was 1.2–1.6× faster (docs/BENCHMARKS.md, "Issue 17, seventh
    /// round"). Measured on 2 CPUs only.
    pub widen_when_idle: bool,
    /// Negotiate FUSE_WRITEBACK_CACHE (`ntlinkfs mount --writeback-cache`, bench
    /// `--fuse-writeback`): write(2) copies into the kernel's page cache and returns; the
    /// kernel sends the data later in WRITE requests of up to 1 MiB (at close, fsync, or from
    /// the flusher) and owns the size, mtime and ctime of a regular file. Off by default.
    ///
    /// Made coherent by the backend (crate docs, "Caching", rule 7; module `writeback`): the
    /// control attributes that read file state, `system.ntfs_times`/`ntfs_attrib` and
    /// `user.ntlinkfs.save` have the kernel write back first (a syncfs on the worker thread,
    /// which such a mount always has); the kernel's mtime and ctime become LastWriteTime and
    /// ChangeTime as the kernel shows them; a file with a second kernel node (a retired node
    /// still open) is written back before the fresh node is handed out or opened, and opened
    /// for direct I/O; and while the volume's free space is below what the kernel may hold
    /// dirty (twice the bdi's `max_bytes`), opens for writing are direct, so a write that does
    /// not fit fails in write(2) with ENOSPC (A8). The kernel stamps no times for a write
    /// through a direct handle and keeps its own mtime and ctime whatever the daemon answers,
    /// so right after each such WRITE the daemon has it stamp them (a utimensat(2) with
    /// UTIME_NOW through the mount, from a thread of its own), and every write of a regular
    /// file gets its LastWriteTime from the kernel's clock. Callers that read the volume directly
    /// while mounted call [`MountHandle::sync`] first. Remaining limits: a file opened for
    /// writing while space was plentiful keeps the cache, so a write that fills the volume
    /// through it fails only at close/fsync (ENOSPC there, the data not written); and two
    /// kernel nodes of one file each keep their own size once handed out (the kernel ignores
    /// the daemon's size for a regular file), so a size change through one is not seen in
    /// stat through the other until it is looked up afresh; and a regular file whose times
    /// are set through `system.ntfs_times` gets a new inode number (its node is retired, so
    /// that the kernel, which keeps its own mtime and ctime, takes the new ones); and for a
    /// few milliseconds after a write(2) through a direct handle returns, stat and
    /// LastWriteTime still show the times from before it (readers of engine state through the
    /// mount, and [`MountHandle::sync`], wait for those stamps; a file with no name left, or
    /// one the daemon may not touch, gets the daemon's time in the engine instead and stat
    /// keeps the older one); a write through the page cache of a retired node (a second
    /// kernel node of the file) does not change LastWriteTime (its time write-back is answered
    /// without a change). See docs/BENCHMARKS.md, "Small writes and the writeback cache".
    pub writeback_cache: bool,
    /// FUSE passthrough for opens for writing (on by default; `ntlinkfs mount
    /// --no-passthrough` turns it off): the kernel sends their read(2), write(2) and mmap
    /// straight to a file of the daemon's own on a private tmpfs, with no request per write,
    /// and the daemon keeps sizes, times, ARCHIVE and the volume's size (A8) as if it had
    /// seen each write (module `passthrough`, crate docs "Caching", rule 8, with its limits:
    /// a write past NTFS's largest file size is cut at the maximum instead of failing with
    /// EFBIG). Used when the daemon runs as root (registering backing files needs
    /// CAP_SYS_ADMIN) on a kernel that offers it (Linux 6.9 and later); otherwise, and with
    /// [`MountOptions::writeback_cache`] (the kernel takes only one of them), writes go
    /// through the daemon as without it. Callers that read the [`Volume`] directly while
    /// mounted call [`MountHandle::sync`] first; a file still open for writing has its data
    /// out of the volume until it is closed (the image save through the mount reads it).
    pub passthrough: bool,
}

/// CPUs this process may run on (2 when unknown).
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Default for MountOptions {
    fn default() -> Self {
        let cpus = cpus();
        MountOptions {
            // With the worker taking the handlers that wait, one serving thread is correct.
            // On 2 CPUs it is also faster for most operations at the loads measured (issue 17
            // item 2, docs/BENCHMARKS.md "Serving model": 1 thread with the worker beat 2
            // threads in 11 of 16 operations at load 1.2-2.8, 12 at 3.6-4.4, 8 at 4.3-6.4 and
            // 15 at 6.5-13; 1 thread won the name operations at load 3 and 7 the session before):
            // a round trip handled on the thread the kernel woke costs no cross-CPU wake-up.
            // With more CPUs (not measured), one per CPU up to 8 as before: more threads than
            // CPUs made each round trip slower (issue 7: create 10.5k/s with 4 threads, 15.9k/s
            // with 2, on 2 CPUs).
            threads: if cpus <= 2 { 1 } else { cpus.min(8) },
            allow_other: false,
            read_only: false,
            permissions: Permissions::Auto,
            entry_ttl: Duration::from_secs(60),
            attr_ttl: Duration::from_secs(60),
            clean_dead_mount: true,
            fsname: "ntlinkfs".into(),
            nonempty: false,
            image: None,
            wait_worker: true,
            spare_thread: true,
            // Off: with two serving threads a case-only rename racing lookups under other
            // spellings can fail (backend-fuse tests/case_rename.rs
            // `other_threads_always_find_the_file_while_it_is_recased` hung in a CI try with
            // it on); on again once that is fixed (docs/BENCHMARKS.md, "Issue 17, seventh
            // round").
            widen_when_idle: false,
            writeback_cache: false,
            // 4 KiB writes 0.08x -> 1.04x tmpfs at the median, name operations within the
            // run-to-run swing (docs/BENCHMARKS.md, "Issue 17, fifth round").
            passthrough: true,
        }
    }
}

/// Who checks the mode bits of each request (issue 17 item 1).
///
/// With `default_permissions` ([`Permissions::Kernel`]) the kernel checks them from the
/// attributes it caches, and fetches a directory's attributes again (a GETATTR round trip)
/// after every name change in it. [`Permissions::Daemon`] mounts without it, as ntfs-3g does:
/// the daemon checks every request itself (the rules are in the crate's `perm` module) and
/// raises the kernel's cache epoch when a chmod or chown takes search permission away from
/// a directory, because the kernel walks the names it cached without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Permissions {
    /// The daemon on a single-user mount, the kernel with `allow_other`: on a single-user
    /// mount every caller is the mounting user (same uid and gid, the kernel refuses anyone
    /// else), so names the kernel cached for one caller are right for the next.
    #[default]
    Auto,
    /// `default_permissions`: the kernel checks.
    Kernel,
    /// The daemon checks. With `allow_other` the kernel would let one user walk the names it
    /// cached for another without asking, so such a mount caches no names (entry TTL 0:
    /// every walk looks each name up, with the walking user's rights): correct and slower,
    /// for testing the daemon's checks with several users (pjdfstest). Needs
    /// FUSE_NOTIFY_INC_EPOCH (Linux 6.16); an older kernel gets [`Permissions::Kernel`].
    Daemon,
}

impl Permissions {
    /// What this choice comes to on a mount with or without `allow_other`, on a kernel whose
    /// release (uname) is `release`.
    pub fn resolve(self, allow_other: bool, release: &str) -> Permissions {
        let wanted = match self {
            Permissions::Auto if allow_other => Permissions::Kernel,
            Permissions::Auto => Permissions::Daemon,
            p => p,
        };
        if wanted == Permissions::Daemon && !kernel_has_epoch(release) {
            tracing::info!(
                "Linux {release} has no FUSE_NOTIFY_INC_EPOCH (6.16): the kernel checks permissions"
            );
            return Permissions::Kernel;
        }
        wanted
    }
}

/// Does a kernel of this release (`6.18.44-foo`) take FUSE_NOTIFY_INC_EPOCH (6.16 and later)?
/// The mount options are fixed before the kernel's INIT tells its protocol version, so the
/// release decides; the probe at mount confirms it (a kernel that still refuses is logged).
fn kernel_has_epoch(release: &str) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (6, 16),
        _ => false,
    }
}

/// Where the kernel shows each FUSE connection's state (the fusectl file system).
const FUSECTL_DIR: &str = "/sys/fs/fuse/connections";

/// Makes sure the fusectl file system is mounted at [`FUSECTL_DIR`]: [`MountHandle::sync`]
/// and the writeback cache's coherence wait on its `waiting` count of requests in flight
/// (module `writeback`). systemd mounts it at boot; a container or a minimal VM may not
/// (the machines CI runs on), so a daemon running as root mounts it, as systemd would.
/// Otherwise the waits cannot be exact: a warning says what to run.
fn ensure_fusectl() {
    // FUSE_CTL_SUPER_MAGIC (include/uapi/linux/magic.h).
    const FUSECTL_MAGIC: i64 = 0x6573_5543;
    let dir = std::ffi::CString::new(FUSECTL_DIR).expect("no NUL");
    let mounted = || {
        // SAFETY: statfs fills a zeroed struct; `dir` is NUL-terminated.
        let mut s: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        unsafe { libc::statfs(dir.as_ptr(), &mut s) == 0 && s.f_type as i64 == FUSECTL_MAGIC }
    };
    if !Path::new(FUSECTL_DIR).is_dir() || mounted() {
        return;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let fstype = c"fusectl";
        // SAFETY: NUL-terminated strings; no data.
        let r = unsafe {
            libc::mount(
                fstype.as_ptr(),
                dir.as_ptr(),
                fstype.as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        if r == 0 && mounted() {
            tracing::debug!("mounted fusectl at {FUSECTL_DIR}");
            return;
        }
    }
    tracing::warn!(
        "fusectl is not mounted at {FUSECTL_DIR}: waits for requests in flight (sync, the writeback cache) cannot be exact; run `mount -t fusectl none {FUSECTL_DIR}` as root"
    );
}

/// The running kernel's release (uname -r), empty when it cannot be read.
fn kernel_release() -> String {
    // SAFETY: uname fills a zeroed struct; its fields are NUL-terminated.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    // SAFETY: the kernel NUL-terminates `release`.
    unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Why a mount or an unmount failed. Each message is one line and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// The mount point does not exist.
    #[error("mount point {0} does not exist: create it first (mkdir -p {0})")]
    MountpointMissing(PathBuf),
    /// The mount point is not a directory.
    #[error("mount point {0} is not a directory: give an empty directory")]
    NotADirectory(PathBuf),
    /// The mount point holds files, which the mount would hide (as FUSE refuses without
    /// `nonempty`).
    #[error("mount point {0} is not empty: its files would be hidden while mounted; give an empty directory or pass --nonempty")]
    NotEmpty(PathBuf),
    /// A live FUSE file system is already mounted there.
    #[error("{0} is already a FUSE mount point: unmount it first (fusermount3 -u {0})")]
    AlreadyMounted(PathBuf),
    /// `/dev/fuse` is missing.
    #[error("/dev/fuse not found: install fuse3 (apt-get install fuse3) or load the fuse module (modprobe fuse)")]
    NoFuseDevice,
    /// Not allowed to mount.
    #[error("permission denied mounting at {path}: {detail} (run as root, or install fuse3 for the setuid fusermount3 helper)")]
    PermissionDenied {
        /// The mount point.
        path: PathBuf,
        /// What the system said.
        detail: String,
    },
    /// Any other mount failure.
    #[error("mounting at {path} failed: {cause}")]
    Mount {
        /// The mount point.
        path: PathBuf,
        /// The cause (in the message; not chained, so that the message is said once).
        cause: io::Error,
    },
    /// The unmount failed.
    #[error("unmounting {path} failed: {cause}")]
    Unmount {
        /// The mount point.
        path: PathBuf,
        /// The cause (in the message; not chained, so that the message is said once).
        cause: io::Error,
    },
    /// Unmounted lazily, but files are still open in it, so its session has not ended.
    #[error("{0} was unmounted lazily but files are still open in it; the session ends when they are closed")]
    Busy(PathBuf),
    /// The session serving the mount ended with an error.
    #[error("the FUSE session for {path} ended with an error: {cause}")]
    Session {
        /// The mount point.
        path: PathBuf,
        /// The cause (in the message; not chained, so that the message is said once).
        cause: io::Error,
    },
}

/// How long [`MountHandle::unmount`] waits for the session to end.
pub const UNMOUNT_WAIT: Duration = Duration::from_secs(10);

/// A mounted volume. Dropping it unmounts (lazily if busy) and waits a few seconds for the
/// session to end.
#[derive(Debug)]
pub struct MountHandle {
    mountpoint: PathBuf,
    volume: Arc<Volume>,
    cache: core::CacheHandle,
    writeback: Arc<crate::writeback::Writeback>,
    passthrough: Arc<crate::passthrough::Passthrough>,
    inval: Arc<inval::Invalidator>,
    done: Mutex<Done>,
}

#[derive(Debug)]
struct Done {
    rx: Receiver<io::Result<()>>,
    result: Option<io::Result<()>>,
}

/// Unmounts a mount from any thread (a signal handler thread, a test); cheap to clone.
#[derive(Debug, Clone)]
pub struct Unmounter {
    mountpoint: PathBuf,
}

/// Mounts `volume` at `mountpoint` and returns once the drive answers requests.
///
/// The root directory belongs to the volume's `default_uid`/`default_gid` (see
/// [`vfs_core::VolumeOptions`]); with permission checks on (always), give the mounting user's ids
/// there when not mounting as root, or only root can create files in the root.
///
/// The mount point must be an existing directory; a dead FUSE mount left there is lazily
/// unmounted first (see [`MountOptions::clean_dead_mount`]). The volume stays usable after
/// the mount ends (the handle gives it back through [`MountHandle::volume`]).
pub fn mount(
    volume: Arc<Volume>,
    mountpoint: &Path,
    opts: &MountOptions,
) -> Result<MountHandle, MountError> {
    ensure_std_fds();
    let mp = prepare_mountpoint(mountpoint, opts.clean_dead_mount)?;
    if !opts.nonempty {
        let mut entries = std::fs::read_dir(&mp).map_err(|e| MountError::Mount {
            path: mp.clone(),
            cause: e,
        })?;
        if entries.next().is_some() {
            return Err(MountError::NotEmpty(mp));
        }
    }
    if !Path::new("/dev/fuse").exists() {
        return Err(MountError::NoFuseDevice);
    }
    ensure_fusectl();
    let notifier = Arc::new(OnceLock::new());
    let extra = usize::from(opts.widen_when_idle && opts.threads.max(1) < cpus());
    let inval =
        inval::Invalidator::start(notifier.clone(), opts.spare_thread, extra).map_err(|e| {
            MountError::Mount {
                path: mp.clone(),
                cause: e,
            }
        })?;
    let inval = Arc::new(inval);
    let permissions = opts
        .permissions
        .resolve(opts.allow_other, &kernel_release());
    let daemon_checks = permissions == Permissions::Daemon;
    let mut core = core::Core::new(volume.clone(), &mp, inval.clone(), opts.image.clone());
    core.daemon_checks = daemon_checks;
    let writeback = Arc::new(crate::writeback::Writeback::new(opts.writeback_cache));
    core.writeback = writeback.clone();
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if opts.passthrough && !opts.writeback_cache && root && !opts.read_only {
        match crate::passthrough::Passthrough::new(&volume) {
            Ok(p) => core.passthrough = Arc::new(p),
            Err(e) => tracing::warn!("passthrough off: its private tmpfs could not be made: {e}"),
        }
    } else if opts.passthrough && !root {
        tracing::debug!("passthrough needs a daemon running as root: writes go through the daemon");
    }
    let passthrough = core.passthrough.clone();
    let cache = core.cache_handle();
    // Daemon checks with several users: no cached names (see `Permissions::Daemon`).
    let mut glue_opts = opts.clone();
    if daemon_checks && opts.allow_other {
        glue_opts.entry_ttl = Duration::ZERO;
    }
    let fs = glue::NtFs::new(core, &glue_opts).map_err(|e| MountError::Mount {
        path: mp.clone(),
        cause: e,
    })?;

    let mut options = vec![
        fuser::MountOption::FSName(opts.fsname.clone()),
        fuser::MountOption::CUSTOM("subtype=ntlinkfs".into()),
    ];
    if !daemon_checks {
        options.push(fuser::MountOption::DefaultPermissions);
    }
    if opts.read_only {
        options.push(fuser::MountOption::RO);
    }
    let mut cfg = fuser::Config::default();
    cfg.mount_options = options;
    cfg.acl = if opts.allow_other {
        fuser::SessionACL::All
    } else {
        fuser::SessionACL::Owner
    };
    // The spare thread (module `spare`) is one fuser thread more, parked after its first
    // request, and so is the thread that serves only while the machine is idle.
    cfg.n_threads = Some(opts.threads.max(1) + inval.threads_beyond());
    // The pure-Rust mount opens /dev/fuse itself (then mounts directly as root, or through
    // the setuid fusermount3 otherwise); so does cloning it for each thread.
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse");
    if let Err(e) = &dev {
        if e.kind() == io::ErrorKind::PermissionDenied {
            return Err(MountError::PermissionDenied {
                path: mp,
                detail: "/dev/fuse is not readable and writable by this user (distributions \
                         make it mode 0666; chmod 666 /dev/fuse)"
                    .into(),
            });
        }
    }
    cfg.clone_fd = dev.is_ok();

    let session = fuser::Session::new(fs, &mp, &cfg).map_err(|e| mount_error(e, &mp))?;
    let _ = notifier.set(session.notifier());
    let dev = std::os::fd::AsFd::as_fd(&session).try_clone_to_owned();
    let bg = session.spawn().map_err(|e| MountError::Mount {
        path: mp.clone(),
        cause: e,
    })?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("ntlinkfs-session".into())
        .spawn(move || {
            let _ = tx.send(bg.join());
        })
        .map_err(|e| MountError::Mount {
            path: mp.clone(),
            cause: e,
        })?;
    let handle = MountHandle {
        mountpoint: mp.clone(),
        volume,
        cache,
        writeback: writeback.clone(),
        passthrough: passthrough.clone(),
        inval: inval.clone(),
        done: Mutex::new(Done { rx, result: None }),
    };
    // Ready means a request went through: stat the root of the new mount.
    match std::fs::metadata(&mp) {
        Ok(m) if opts.writeback_cache => {
            use std::os::unix::fs::MetadataExt;
            // The mount's device names its bdi, whose dirty limit sets when writes turn
            // synchronous (module `writeback`).
            writeback.set_device(m.dev());
            // The kernel stamps no times for a write through a direct handle; the touch
            // thread has it stamp them (module `writeback`).
            writeback.start_toucher(handle.volume.clone(), &mp, m.dev());
        }
        Ok(m) if passthrough.is_on() => {
            use std::os::unix::fs::MetadataExt;
            // `sync` waits for the connection's requests in flight (the RELEASEs that give
            // lent data back), counted in its control directory.
            writeback.set_device(m.dev());
        }
        Ok(_) => {}
        Err(e) => {
            let _ = unmount_path(&mp);
            return Err(MountError::Mount { path: mp, cause: e });
        }
    }
    // After the first request, so the connection is initialised when the kernel is asked.
    if let Ok(dev) = dev {
        inval.probe_epoch(dev);
    }
    if daemon_checks && !core::KernelCache::has_epoch(&*inval) {
        tracing::warn!(
            "the kernel refused FUSE_NOTIFY_INC_EPOCH: names it cached stay walkable after a \
             chmod or chown takes search permission away, until entry_ttl; mount with \
             --permission-checks kernel"
        );
    }
    Ok(handle)
}

impl MountHandle {
    /// The canonical mount point.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// The mounted volume (usable before, during and after the mount).
    pub fn volume(&self) -> &Arc<Volume> {
        &self.volume
    }

    /// Tells the kernel to forget what it cached about file `id`. Changes made through the
    /// mount need no call; call this after changing the volume *directly* (through
    /// [`Volume`]'s API while mounted) in a way that removes, renames or re-kinds a name of
    /// `id` or changes its attributes — otherwise the kernel may show the old state until the
    /// TTLs expire. New names need no call: the mount watches the volume's names
    /// ([`vfs_core::NameWatcher`]) and drops every cached miss they would contradict before
    /// the call that made them returns (crate docs, "Caching", rule 1); so does a directory's
    /// case-sensitivity change.
    pub fn invalidate(&self, id: vfs_core::FileId) {
        self.cache.invalidate(id);
    }

    /// Makes the kernel write back every page it holds dirty for this mount (syncfs(2) of the
    /// mount, then a wait, 5 s at most, until the connection has no request in flight: the
    /// syncfs only sends the pages) and returns when the volume has them; a mount without
    /// the cache returns at once. Other requests in flight on the mount meanwhile make it
    /// wait the 5 s out. Needed only with
    /// [`MountOptions::writeback_cache`], and only by callers that read the [`Volume`]
    /// *directly* while mounted (its API, a snapshot, an image save of their own): without
    /// the cache every write(2) reaches the volume before it returns, with it a write(2)
    /// lands in the kernel's page cache and reaches the volume at close, fsync, or when the
    /// kernel writes back. Readers through the mount never need it, nor do the control
    /// attributes and `user.ntlinkfs.save` (the daemon syncs first) or the end of the session
    /// (every file is closed, so written back, before the kernel ends it).
    ///
    /// Call it from any thread but the mount's own (it waits for the WRITEs the mount's
    /// threads serve). Changes made to the volume directly under a writeback mount are not
    /// seen in the size, mtime or ctime the kernel shows for a file it already knows (the
    /// kernel keeps its own for regular files; see the crate docs, "Caching").
    ///
    /// With passthrough ([`MountOptions::passthrough`]) it waits, 5 s at most, until the
    /// connection has no request in flight, so the RELEASEs of files closed before the call,
    /// which give their data back to the volume, are served; a file still open for writing
    /// has its data out of the volume until it is closed.
    pub fn sync(&self) -> io::Result<()> {
        if self.passthrough.is_on() {
            // The kernel sends RELEASE in the background: the data of a file closed just
            // before is given back once it is served.
            self.writeback.wait_for_writes(0);
            return Ok(());
        }
        if !self.writeback.enabled {
            return Ok(());
        }
        self.writeback.wait_for_touches();
        crate::writeback::syncfs_path(&self.mountpoint)?;
        // The syncfs only sends the dirty pages; wait for their WRITEs to be answered (no
        // request of this caller is in flight).
        self.writeback.wait_for_writes(0);
        Ok(())
    }

    /// Does this mount use FUSE passthrough ([`MountOptions::passthrough`] asked for it, the
    /// daemon runs as root and the kernel took it)?
    pub fn passthrough_active(&self) -> bool {
        self.passthrough.is_on()
    }

    /// How many files have their data lent to passthrough opens now (out of the volume
    /// until their last passthrough open is released).
    pub fn lent_files(&self) -> usize {
        self.passthrough.lent_count()
    }

    /// How many times a junction's inline name invalidation was held up long enough that
    /// the parked spare thread woke to serve ([`MountOptions::spare_thread`]; diagnostics).
    pub fn spare_rescues(&self) -> u64 {
        self.inval.spare_rescues()
    }

    /// Something that can unmount this mount from another thread.
    pub fn unmounter(&self) -> Unmounter {
        Unmounter {
            mountpoint: self.mountpoint.clone(),
        }
    }

    /// Has the session ended (unmounted by [`MountHandle::unmount`], an [`Unmounter`], or
    /// from outside with `umount` / `fusermount3 -u`)?
    pub fn is_finished(&self) -> bool {
        let mut d = self.done.lock();
        if d.result.is_none() {
            if let Ok(r) = d.rx.try_recv() {
                d.result = Some(r);
            }
        }
        d.result.is_some()
    }

    /// Waits until the session ends (someone unmounts the drive).
    pub fn wait(self) -> Result<(), MountError> {
        self.wait_inner(None).unwrap_or(Ok(()))
    }

    /// Waits at most `timeout` for the session to end; None if it is still running.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Result<(), MountError>> {
        self.wait_inner(Some(timeout))
    }

    fn wait_inner(&self, timeout: Option<Duration>) -> Option<Result<(), MountError>> {
        let mut d = self.done.lock();
        if d.result.is_none() {
            let r = match timeout {
                None => d.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(t) => d.rx.recv_timeout(t),
            };
            match r {
                Ok(r) => d.result = Some(r),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => d.result = Some(Ok(())),
            }
        }
        Some(match d.result.as_ref().expect("set above") {
            Ok(()) => Ok(()),
            Err(e) => Err(MountError::Session {
                path: self.mountpoint.clone(),
                cause: io::Error::new(e.kind(), e.to_string()),
            }),
        })
    }

    /// Unmounts and waits for the session to end. If files are still open in the mount the
    /// unmount is lazy (the drive disappears from the namespace at once, the session ends when
    /// the last of them is closed); after waiting [`UNMOUNT_WAIT`] for that this returns
    /// [`MountError::Busy`] and the session goes on in the background until then.
    pub fn unmount(self) -> Result<(), MountError> {
        if !self.is_finished() {
            unmount_path(&self.mountpoint).map_err(|e| MountError::Unmount {
                path: self.mountpoint.clone(),
                cause: e,
            })?;
            // A parked spare thread looks at the connection now, not at its next look.
            self.inval.wake_spare();
        }
        match self.wait_inner(Some(UNMOUNT_WAIT)) {
            // The connection ended because this unmount ended it. A serving thread's read of
            // /dev/fuse then normally fails with ENODEV, which fuser takes as the end of the
            // session; about one unmount in a few hundred on a loaded machine (Linux 6.18,
            // seen in the backend-fuse tests after a shared mapping's dirty pages were written
            // back) fails it with ECONNABORTED instead, which fuser reports as an error. Either
            // way the connection is gone after a requested unmount and nothing is lost (the
            // engine holds every byte the kernel sent), so it is the end asked for.
            Some(Err(MountError::Session { cause, .. }))
                if cause.kind() == io::ErrorKind::ConnectionAborted =>
            {
                tracing::debug!("session ended with ECONNABORTED after the unmount");
                Ok(())
            }
            Some(r) => r,
            None => Err(MountError::Busy(self.mountpoint.clone())),
        }
    }
}

impl Drop for MountHandle {
    fn drop(&mut self) {
        if !self.is_finished() {
            let _ = unmount_path(&self.mountpoint);
            self.inval.wake_spare();
            let _ = self.wait_inner(Some(UNMOUNT_WAIT));
        }
    }
}

impl Unmounter {
    /// Asks the kernel to unmount (lazily if busy); does not wait for the session to end.
    pub fn unmount(&self) -> Result<(), MountError> {
        unmount_path(&self.mountpoint).map_err(|e| MountError::Unmount {
            path: self.mountpoint.clone(),
            cause: e,
        })
    }
}

/// Unmounts the FUSE mount at `path`: umount(2), lazily (MNT_DETACH) if busy; `fusermount3
/// -u` (then `-uz`) when the caller may not call umount(2). Not mounted → Ok.
pub fn unmount_path(path: &Path) -> io::Result<()> {
    unmount_with(path, true)
}

/// Unmounts the FUSE mount at `path` now or not at all: umount(2), or `fusermount3 -u` when
/// the caller may not call umount(2); a mount with files still open in it fails with EBUSY
/// instead of being detached (its session would only end when they close). Not mounted → Ok.
pub fn unmount_now(path: &Path) -> io::Result<()> {
    unmount_with(path, false)
}

fn unmount_with(path: &Path, lazy_if_busy: bool) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), 0) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOENT) => Ok(()),
        Some(libc::EBUSY) if lazy_if_busy => {
            // SAFETY: as above.
            if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        }
        Some(libc::EPERM) => fusermount_unmount(path, lazy_if_busy),
        _ => Err(e),
    }
}

fn fusermount_unmount(path: &Path, lazy_if_busy: bool) -> io::Result<()> {
    let tries: &[&[&str]] = if lazy_if_busy {
        &[&["-u", "-q"], &["-u", "-q", "-z"]]
    } else {
        &[&["-u", "-q"]]
    };
    let mut last = String::new();
    for args in tries {
        let out = std::process::Command::new("fusermount3")
            .args(*args)
            .arg("--")
            .arg(path)
            .output()?;
        if out.status.success() {
            return Ok(());
        }
        last = String::from_utf8_lossy(&out.stderr).trim().to_string();
    }
    if last.contains("busy") {
        return Err(io::Error::from_raw_os_error(libc::EBUSY));
    }
    Err(io::Error::other(format!(
        "fusermount3 -u {} failed: {last}",
        path.display()
    )))
}

fn mount_error(e: io::Error, mp: &Path) -> MountError {
    match e.kind() {
        io::ErrorKind::PermissionDenied => MountError::PermissionDenied {
            path: mp.to_path_buf(),
            detail: e.to_string().trim().replace('\n', " "),
        },
        io::ErrorKind::NotFound if !Path::new("/dev/fuse").exists() => MountError::NoFuseDevice,
        _ => MountError::Mount {
            path: mp.to_path_buf(),
            cause: io::Error::new(e.kind(), e.to_string().trim().replace('\n', " ")),
        },
    }
}

/// fuser's mount asserts that /dev/fuse is not opened as fd 0–2; a process started with a
/// closed stdin/stdout/stderr gets /dev/null there instead.
fn ensure_std_fds() {
    for fd in 0..3 {
        // SAFETY: F_GETFD on any number is harmless.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            // SAFETY: opening /dev/null; the new descriptor is the lowest free one, i.e. fd.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}

/// Checks the mount point and cleans a dead mount there; returns the canonical path.
fn prepare_mountpoint(path: &Path, clean_dead: bool) -> Result<PathBuf, MountError> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| MountError::Mount {
                path: path.to_path_buf(),
                cause: e,
            })?
            .join(path)
    };
    match std::fs::metadata(&abs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(MountError::NotADirectory(abs)),
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) && clean_dead => {
            tracing::info!("lazily unmounting the dead mount at {}", abs.display());
            lazy_unmount(&abs).map_err(|e| MountError::Unmount {
                path: abs.clone(),
                cause: e,
            })?;
            return prepare_mountpoint(path, false);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(MountError::MountpointMissing(abs))
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(MountError::PermissionDenied {
                path: abs,
                detail: e.to_string(),
            })
        }
        Err(e) => {
            return Err(MountError::Mount {
                path: abs,
                cause: e,
            })
        }
    }
    let canon = abs.canonicalize().map_err(|e| MountError::Mount {
        path: abs.clone(),
        cause: e,
    })?;
    if is_fuse_mountpoint(&canon) {
        // The kernel may answer stat on a dead mount from its cache; statfs always asks.
        if clean_dead && statfs_errno(&canon) == Some(libc::ENOTCONN) {
            tracing::info!("lazily unmounting the dead mount at {}", canon.display());
            lazy_unmount(&canon).map_err(|e| MountError::Unmount {
                path: canon.clone(),
                cause: e,
            })?;
            return prepare_mountpoint(path, false);
        }
        return Err(MountError::AlreadyMounted(canon));
    }
    Ok(canon)
}

/// The errno statfs(2) fails with on `path`, if it fails.
fn statfs_errno(path: &Path) -> Option<i32> {
    let c = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: a valid path and a zeroed statfs struct to fill.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::statfs(c.as_ptr(), &mut buf) } == 0 {
        None
    } else {
        io::Error::last_os_error().raw_os_error()
    }
}

fn lazy_unmount(path: &Path) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EPERM) {
        let ok = std::process::Command::new("fusermount3")
            .args(["-u", "-q", "-z", "--"])
            .arg(path)
            .status()?
            .success();
        return if ok {
            Ok(())
        } else {
            Err(io::Error::other("fusermount3 -uz failed"))
        };
    }
    Err(e)
}

/// Is `path` the mount point of a FUSE file system (per /proc/self/mountinfo, read by the
/// one mountinfo parser in `host`)?
fn is_fuse_mountpoint(path: &Path) -> bool {
    host::mountinfo::is_fuse_mountpoint(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_resolve_by_allow_other_and_kernel_release() {
        use Permissions::*;
        assert_eq!(Auto.resolve(false, "6.18.44-fc-v657"), Daemon);
        assert_eq!(Auto.resolve(true, "6.18.44-fc-v657"), Kernel);
        assert_eq!(Daemon.resolve(true, "6.16.0"), Daemon);
        assert_eq!(Kernel.resolve(false, "7.0"), Kernel);
        // Before 6.16 (no FUSE_NOTIFY_INC_EPOCH), or a release that cannot be read.
        assert_eq!(Daemon.resolve(false, "6.15.9"), Kernel);
        assert_eq!(Auto.resolve(false, "5.10.0-28-amd64"), Kernel);
        assert_eq!(Auto.resolve(false, ""), Kernel);
        assert!(kernel_has_epoch(&kernel_release()) || !kernel_release().starts_with("6.18"));
    }

    #[test]
    fn missing_mountpoint_is_one_clear_line() {
        let e = prepare_mountpoint(Path::new("/nonexistent/ntlinkfs-test"), true).unwrap_err();
        let s = e.to_string();
        assert!(matches!(e, MountError::MountpointMissing(_)));
        assert!(!s.contains('\n'));
        assert!(s.contains("mkdir -p"), "{s}");
    }
}
