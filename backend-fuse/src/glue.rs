//! The `impl Filesystem`: each request unpacks fuser's types, calls one [`Core`] method and
//! packs its answer into the reply. What a request does is decided in `core` and `xattr`;
//! what is here is FUSE protocol: the negotiated capabilities, TTLs, open flags, the xattr
//! size probe, and answering EIO (and keeping the session up) when a handler panics.

use crate::attr::{self, Attr, Kind};
use crate::core::{Caller, Core, SetAttr};
use crate::errno::Errno;
use crate::nodes::KernelName;
use crate::passthrough::Opened;
use fuser::{
    AccessFlags, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    InitFlags, KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite,
    ReplyXattr, Request, TimeOrNow, WriteFlags,
};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Largest write the kernel is asked to send at once (the kernel's own cap is
/// `fs.fuse.max_pages_limit` pages, 1 MiB by default).
const MAX_WRITE: u32 = 1 << 20;

/// KEEP_CACHE: every change to the data goes through this mount's inode (one per file).
/// NOFLUSH: close needs no FLUSH round trip (nothing is buffered here).
const OPEN_FLAGS: FopenFlags = FopenFlags::FOPEN_KEEP_CACHE.union(FopenFlags::FOPEN_NOFLUSH);

/// The open flags for the new handle `fh` on node `ino` (open(2) `flags`): [`OPEN_FLAGS`],
/// with FOPEN_DIRECT_IO where the writeback cache would be incoherent (`Core::direct_io`;
/// recorded, because the kernel stamps no times for a write through such a handle).
fn open_flags(core: &Core, ino: u64, fh: u64, flags: i32) -> FopenFlags {
    let direct = core.direct_io(ino, flags);
    core.writeback.opened(fh, direct);
    if direct {
        OPEN_FLAGS | FopenFlags::FOPEN_DIRECT_IO
    } else {
        OPEN_FLAGS
    }
}

/// An OPEN's reply for [`crate::passthrough::Passthrough::open`].
struct OpenAnswer<'a> {
    reply: ReplyOpen,
    core: &'a Core,
    ino: u64,
    fh: u64,
    flags: i32,
}

impl crate::passthrough::Answer for OpenAnswer<'_> {
    fn register(&self, f: &std::fs::File) -> std::io::Result<fuser::BackingId> {
        self.reply.open_backing(f)
    }
    fn answer(self, how: Opened<'_>) {
        match how {
            Opened::Passthrough(b) => {
                self.reply
                    .opened_passthrough(FileHandle(self.fh), FopenFlags::FOPEN_NOFLUSH, b)
            }
            Opened::Cached => self.reply.opened(
                FileHandle(self.fh),
                open_flags(self.core, self.ino, self.fh, self.flags),
            ),
        }
    }
}

/// A CREATE's reply for [`crate::passthrough::Passthrough::open`].
struct CreateAnswer<'a> {
    reply: ReplyCreate,
    core: &'a Core,
    ttl: Duration,
    attr: FileAttr,
    fh: u64,
    flags: i32,
}

impl crate::passthrough::Answer for CreateAnswer<'_> {
    fn register(&self, f: &std::fs::File) -> std::io::Result<fuser::BackingId> {
        self.reply.open_backing(f)
    }
    fn answer(self, how: Opened<'_>) {
        let fh = FileHandle(self.fh);
        match how {
            Opened::Passthrough(b) => self.reply.created_passthrough(
                &self.ttl,
                &self.attr,
                Generation(0),
                fh,
                FopenFlags::FOPEN_NOFLUSH,
                b,
            ),
            Opened::Cached => self.reply.created(
                &self.ttl,
                &self.attr,
                Generation(0),
                fh,
                open_flags(self.core, self.attr.ino.0, self.fh, self.flags),
            ),
        }
    }
}

/// The mounted file system: the core, the TTLs the kernel is given, and the worker that runs
/// the handlers that wait.
pub(crate) struct NtFs {
    core: Arc<Core>,
    entry_ttl: Duration,
    attr_ttl: Duration,
    writeback: bool,
    worker: Option<Worker>,
    /// Can a request wait for a RELEASE without stopping the thread that would serve it
    /// (a worker, or more than one serving thread)?
    can_wait_for_release: bool,
}

/// How long a name change refused because of an open handle waits for the RELEASEs already
/// on their way before the refusal stands (see [`Core::wait_for_release`]).
const RELEASE_WAIT: Duration = Duration::from_millis(200);

/// A request handed to the worker: it owns its reply and answers the kernel itself (fuser
/// replies may be sent from any thread; the kernel matches them by the request's id).
type Job = Box<dyn FnOnce(&Core) + Send>;

/// One thread running the handlers that wait, in arrival order. It ends when the file system
/// is dropped (the end of the session) after the jobs already queued.
struct Worker {
    tx: Sender<Job>,
}

impl Worker {
    fn start(core: Arc<Core>) -> std::io::Result<Worker> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("ntlinkfs-wait".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    guarded("waiting handler", || job(&core));
                }
            })?;
        Ok(Worker { tx })
    }
}

impl NtFs {
    pub(crate) fn new(core: Core, opts: &crate::MountOptions) -> std::io::Result<NtFs> {
        let core = Arc::new(core);
        // A writeback-cache mount always has the worker: syncfs (module `writeback`) must run
        // off the serving threads, whose WRITEs it waits for.
        let worker = if opts.wait_worker || opts.writeback_cache {
            Some(Worker::start(core.clone())?)
        } else {
            None
        };
        Ok(NtFs {
            core,
            entry_ttl: opts.entry_ttl,
            attr_ttl: opts.attr_ttl,
            writeback: opts.writeback_cache,
            can_wait_for_release: worker.is_some() || opts.threads > 1,
            worker,
        })
    }

    /// UNLINK, RMDIR and RENAME: `job` once; when the engine refuses it for a reason an open
    /// handle gives (EACCES: a directory with an open file below, a delete-pending name;
    /// EBUSY: a sharing violation) while the kernel holds handles, the job moves to the worker
    /// and is tried again after each RELEASE served, for [`RELEASE_WAIT`] at most, so that a
    /// file the caller closed just before (its RELEASE still in the kernel's background queue)
    /// does not count. The names returned are dropped after the reply.
    fn name_change(
        &self,
        op: &'static str,
        reply: ReplyEmpty,
        job: impl Fn(&Core) -> Result<Vec<KernelName>, Errno> + Send + 'static,
    ) {
        fn finish(core: &Core, reply: ReplyEmpty, r: Result<Vec<KernelName>, Errno>) {
            match r {
                Ok(names) => {
                    reply.ok();
                    core.drop_names_later(&names);
                }
                Err(e) => reply.error(e.into()),
            }
        }
        fn handle_refusal(r: &Result<Vec<KernelName>, Errno>) -> bool {
            matches!(r, Err(e) if *e == Errno::EACCES || *e == Errno::EBUSY)
        }
        self.serve(op, || {
            let seen = self.core.releases();
            let r = job(&self.core);
            // No handle left counts only if no RELEASE came in since the job looked: the last
            // one may have been served on another thread between the refusal and here (seen
            // in CI with two serving threads, `tests/release.rs`), and the job is tried again.
            if !handle_refusal(&r)
                || !self.can_wait_for_release
                || (self.core.open_handles.lock().is_empty() && self.core.releases() == seen)
            {
                return finish(&self.core, reply, r);
            }
            self.run_maybe_waiting(op, true, move |core| {
                let deadline = std::time::Instant::now() + RELEASE_WAIT;
                let (mut seen, mut r) = (seen, r);
                while handle_refusal(&r) {
                    match core.wait_for_release(seen, deadline) {
                        Some(now) => {
                            seen = now;
                            r = job(core);
                        }
                        None => break,
                    }
                }
                finish(core, reply, r)
            });
        })
    }

    /// Runs the handler `job` on the worker when the request may wait (and the mount has a
    /// worker), on this serving thread otherwise. A job the worker can no longer take (its
    /// thread is gone) runs here: slower for the others, never lost.
    fn run_maybe_waiting(
        &self,
        op: &'static str,
        may_wait: bool,
        job: impl FnOnce(&Core) + Send + 'static,
    ) {
        match &self.worker {
            Some(w) if may_wait => {
                if let Err(mpsc::SendError(job)) = w.tx.send(Box::new(job)) {
                    guarded(op, || job(&self.core))
                }
            }
            _ => guarded(op, || job(&self.core)),
        }
    }

    /// Runs a request's handler on this serving thread ([`guarded`]), then lets the thread
    /// rest: the spare serving thread parks there (module `spare`).
    fn serve(&self, op: &'static str, f: impl FnOnce()) {
        guarded(op, f);
        self.core.inval.rest();
    }

    fn entry(&self, reply: ReplyEntry, r: Result<Attr, Errno>) {
        match r {
            Ok(a) => reply.entry_with_ttls(
                &self.attr_ttl,
                &self.entry_ttl,
                &file_attr(&a),
                Generation(0),
            ),
            Err(e) => reply.error(e.into()),
        }
    }
}

impl From<Errno> for fuser::Errno {
    fn from(e: Errno) -> fuser::Errno {
        fuser::Errno::from_i32(e.code())
    }
}

fn file_type(k: Kind) -> FileType {
    match k {
        Kind::Directory => FileType::Directory,
        Kind::Symlink => FileType::Symlink,
        Kind::Fifo => FileType::NamedPipe,
        Kind::Socket => FileType::Socket,
        Kind::CharDevice => FileType::CharDevice,
        Kind::BlockDevice => FileType::BlockDevice,
        Kind::File => FileType::RegularFile,
    }
}

/// The FUSE attributes of a file (see `attr` for what Linux is shown).
fn file_attr(a: &Attr) -> FileAttr {
    let st = &a.stat;
    let (size, nlink, perm) = a.size_nlink_perm();
    FileAttr {
        ino: INodeNo(a.ino),
        size,
        blocks: attr::blocks(st, size),
        atime: attr::to_system_time(st.times.last_access),
        mtime: attr::to_system_time(st.times.last_write),
        ctime: attr::to_system_time(st.times.change),
        crtime: attr::to_system_time(st.times.creation),
        kind: file_type(attr::kind(st)),
        perm,
        nlink,
        uid: st.uid,
        gid: st.gid,
        rdev: attr::rdev(st),
        blksize: attr::BLOCK_SIZE,
        flags: 0,
    }
}

/// The attributes sent with a negative entry (node id 0): the kernel ignores them.
fn missing_attr() -> FileAttr {
    FileAttr {
        ino: INodeNo(0),
        size: 0,
        blocks: 0,
        atime: SystemTime::UNIX_EPOCH,
        mtime: SystemTime::UNIX_EPOCH,
        ctime: SystemTime::UNIX_EPOCH,
        crtime: SystemTime::UNIX_EPOCH,
        kind: FileType::RegularFile,
        perm: 0,
        nlink: 0,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: attr::BLOCK_SIZE,
        flags: 0,
    }
}

fn caller(req: &Request) -> Caller {
    Caller {
        uid: req.uid(),
        gid: req.gid(),
        pid: req.pid(),
    }
}

fn time_of(t: TimeOrNow) -> u64 {
    match t {
        TimeOrNow::SpecificTime(t) => attr::to_filetime(t),
        TimeOrNow::Now => vfs_core::now(),
    }
}

/// Runs a handler; a panic (a bug) answers EIO through the dropped reply and keeps the
/// session up.
fn guarded(op: &'static str, f: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
        tracing::error!(op, "request handler panicked; answered EIO");
    }
}

/// An empty reply.
fn empty(reply: ReplyEmpty, r: Result<(), Errno>) {
    match r {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e.into()),
    }
}

/// An xattr value or name list: `size` 0 asks for the length; a value longer than `size`
/// → ERANGE.
fn xattr_reply(reply: ReplyXattr, size: u32, r: Result<Vec<u8>, Errno>) {
    match r {
        Err(e) => reply.error(e.into()),
        Ok(v) if size == 0 => reply.size(v.len() as u32),
        Ok(v) if v.len() > size as usize => reply.error(fuser::Errno::ERANGE),
        Ok(v) => reply.data(&v),
    }
}

impl Filesystem for NtFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        for flag in [
            // Lookups and readdirs in one directory may run in parallel.
            InitFlags::FUSE_PARALLEL_DIROPS,
            // READDIRPLUS: `ls -l` costs one request per batch, not one per entry.
            InitFlags::FUSE_DO_READDIRPLUS,
            InitFlags::FUSE_READDIRPLUS_AUTO,
            // No FUSE_ATOMIC_O_TRUNC: with it, open(O_RDONLY | O_TRUNC) of a file being
            // executed sometimes succeeded instead of failing with ETXTBSY (pjdfstest
            // open::etxtbsy, reliability/tests/regressions.rs); without it the kernel
            // truncates with a SETATTR after OPEN and checks ETXTBSY itself.
            InitFlags::FUSE_BIG_WRITES,
            InitFlags::FUSE_ASYNC_READ,
            // The kernel leaves clearing set-user/group-ID bits on write to us (and sets
            // SB_NOSEC), instead of asking for security.capability before every write(2).
            InitFlags::FUSE_HANDLE_KILLPRIV_V2,
            // Link targets stay in the kernel's page cache: a path through a junction
            // (`node_modules/<pkg>/...`, pnpm's layout) costs no READLINK per walk (issue 7
            // profile: one READLINK per file read through a junction). A target only changes
            // by setxattr on the link's own inode, which drops those pages (`set_reparse`).
            InitFlags::FUSE_CACHE_SYMLINKS,
        ]
        .into_iter()
        .chain(self.writeback.then_some(InitFlags::FUSE_WRITEBACK_CACHE))
        // Opens that get FOPEN_DIRECT_IO on a writeback mount (`open_flags`) can still be
        // mapped shared (fsx, editors, linkers): the mapping goes through the page cache.
        .chain(
            self.writeback
                .then_some(InitFlags::FUSE_DIRECT_IO_ALLOW_MMAP),
        ) {
            if let Err(unsupported) = config.add_capabilities(flag) {
                tracing::debug!("kernel lacks FUSE capability {unsupported:?}");
            }
        }
        if self.core.passthrough.wanted() && !self.writeback {
            // Passthrough (module `passthrough`): the backing files are on a tmpfs, one level
            // below this mount.
            match config.add_capabilities(InitFlags::FUSE_PASSTHROUGH) {
                Ok(()) if config.set_max_stack_depth(1).is_ok() => {
                    self.core.passthrough.negotiated()
                }
                _ => tracing::info!(
                    "the kernel has no FUSE passthrough: writes go through the daemon"
                ),
            }
        }
        let _ = config.set_max_write(MAX_WRITE);
        if let Err(max) = config.set_max_readahead(u32::MAX) {
            let _ = config.set_max_readahead(max);
        }
        let _ = config.set_max_background(64);
        let _ = config.set_congestion_threshold(48);
        // NTFS times have 100 ns resolution.
        let _ = config.set_time_granularity(Duration::from_nanos(100));
        Ok(())
    }

    fn destroy(&mut self) {
        self.core.destroy();
    }

    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        self.serve("lookup", || {
            match self
                .core
                .lookup_entry(caller(req), parent.0, name.as_bytes())
            {
                // A recorded miss: node id 0 with the entry TTL is a negative entry the
                // kernel keeps (fs/fuse/dir.c, `fuse_lookup_name`); its attributes are
                // never read.
                Ok(None) => reply.entry_with_ttls(
                    &Duration::ZERO,
                    &self.entry_ttl,
                    &missing_attr(),
                    Generation(0),
                ),
                Ok(Some(a)) if self.writeback && self.core.has_other_nodes(a.ino) => {
                    // A fresh node for a file whose retired node is still open: the kernel
                    // takes this reply's size once and keeps its own from then on (it trusts
                    // its cached size and times of a regular file with the writeback cache,
                    // fs/fuse `fuse_get_cache_mask`), so what the other node holds dirty is
                    // written back first and the attributes read after it. On the worker,
                    // which may syncfs; the node is already counted, only the reply waits.
                    let (attr_ttl, entry_ttl) = (self.attr_ttl, self.entry_ttl);
                    let who = caller(req);
                    self.run_maybe_waiting("lookup", true, move |core| {
                        core.sync_kernel(who);
                        let a = core.getattr(a.ino, true).unwrap_or(a);
                        reply.entry_with_ttls(&attr_ttl, &entry_ttl, &file_attr(&a), Generation(0))
                    })
                }
                Ok(Some(a)) => self.entry(reply, Ok(a)),
                Err(e) => self.entry(reply, Err(e)),
            }
        })
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.serve("forget", || self.core.forget(ino.0, nlookup))
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        self.serve("getattr", || match self.core.getattr(ino.0, fh.is_some()) {
            Ok(a) => reply.attr(&self.attr_ttl, &file_attr(&a)),
            Err(e) => reply.error(e.into()),
        })
    }

    fn setattr(
        &self,
        req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        self.serve("setattr", || {
            let a = SetAttr {
                mode,
                uid,
                gid,
                size,
                atime: atime.map(time_of),
                mtime: mtime.map(time_of),
                ctime: ctime.map(attr::to_filetime),
                crtime: crtime.map(attr::to_filetime),
                atime_now: matches!(atime, Some(TimeOrNow::Now)),
                mtime_now: matches!(mtime, Some(TimeOrNow::Now)),
                handle: fh.map(|h| h.0),
            };
            match self.core.setattr(caller(req), ino.0, a, fh.is_some()) {
                Ok(a) => reply.attr(&self.attr_ttl, &file_attr(&a)),
                Err(e) => reply.error(e.into()),
            }
        })
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        self.serve("readlink", || match self.core.readlink(ino.0) {
            Ok(s) => reply.data(s.as_bytes()),
            Err(e) => reply.error(e.into()),
        })
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        self.serve("mknod", || {
            let r = self
                .core
                .mknod_dev(caller(req), parent.0, name.as_bytes(), mode, umask, rdev);
            self.entry(reply, r)
        })
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        self.serve("mkdir", || {
            let r = self
                .core
                .mkdir(caller(req), parent.0, name.as_bytes(), mode, umask);
            self.entry(reply, r)
        })
    }

    fn unlink(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let (who, name) = (caller(req), name.as_bytes().to_vec());
        self.name_change("unlink", reply, move |c| c.unlink(who, parent.0, &name));
    }

    fn rmdir(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let (who, name) = (caller(req), name.as_bytes().to_vec());
        self.name_change("rmdir", reply, move |c| {
            c.rmdir(who, parent.0, &name).map(|()| Vec::new())
        });
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        self.serve("symlink", || {
            let r = self.core.symlink(
                caller(req),
                parent.0,
                link_name.as_bytes(),
                target.as_os_str().as_bytes(),
            );
            self.entry(reply, r)
        })
    }

    fn rename(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let who = caller(req);
        let (name, newname) = (name.as_bytes().to_vec(), newname.as_bytes().to_vec());
        self.name_change("rename", reply, move |c| {
            c.rename(who, parent.0, &name, newparent.0, &newname, flags.bits())
        });
    }

    fn link(
        &self,
        req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        self.serve("link", || {
            let r = self
                .core
                .link(caller(req), ino.0, newparent.0, newname.as_bytes());
            self.entry(reply, r)
        })
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let who = caller(req);
        let open = move |core: &Core, reply: ReplyOpen| match core.open(who, ino.0, flags.0) {
            Ok(h) => match core.nodes.file_of(ino.0) {
                Some(id) if core.passthrough.is_on() => {
                    let lendable = core
                        .vol
                        .stat(id)
                        .is_ok_and(|st| core.lendable(&st, flags.0));
                    let answer = OpenAnswer {
                        reply,
                        core,
                        ino: ino.0,
                        fh: h,
                        flags: flags.0,
                    };
                    let drop_pages = || core.drop_pages(id);
                    core.passthrough
                        .open(&core.vol, id, h, lendable, Some(&drop_pages), answer)
                }
                _ => reply.opened(FileHandle(h), open_flags(core, ino.0, h, flags.0)),
            },
            Err(e) => reply.error(e.into()),
        };
        if self.writeback && self.core.has_other_nodes(ino.0) {
            // Another kernel node of this file (a retired node still open) may hold data
            // dirty in its own page cache: it is written back before this node's handle
            // (direct I/O, `open_flags`) reads the engine. On the worker, which may syncfs.
            self.run_maybe_waiting("open", true, move |core| {
                core.sync_kernel(who);
                open(core, reply)
            })
        } else {
            self.serve("open", || open(&self.core, reply))
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        self.serve("read", || match self.core.read(ino.0, offset, size) {
            Ok(buf) => reply.data(&buf),
            Err(e) => reply.error(e.into()),
        })
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        self.serve("write", || {
            let kill = write_flags.contains(WriteFlags::FUSE_WRITE_KILL_SUIDGID);
            let from_cache = write_flags.contains(WriteFlags::FUSE_WRITE_CACHE);
            match self.core.write(ino.0, fh.0, offset, data, kill, from_cache) {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(e.into()),
            }
        })
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        if self.writeback {
            // With the writeback cache the kernel sends FLUSH at every close despite
            // FOPEN_NOFLUSH (fs/fuse `fuse_flush` honours it only without the cache), after
            // it has written the file's dirty pages back itself; nothing is buffered here.
            // ENOSYS makes it stop asking for the rest of the connection (`fc->no_flush`),
            // which saves a round trip per close (measured: 200 FLUSH for 100 `: > f`).
            reply.error(fuser::Errno::ENOSYS);
            return;
        }
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.serve("release", || {
            self.core.release(ino.0, fh.0);
            reply.ok();
        })
    }

    fn fsync(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _ds: bool, reply: ReplyEmpty) {
        reply.ok();
    }

    fn opendir(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        self.serve("opendir", || {
            match self.core.opendir(caller(req), ino.0, flags.0) {
                Ok(h) => reply.opened(FileHandle(h), FopenFlags::empty()),
                Err(e) => reply.error(e.into()),
            }
        })
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        self.serve("readdir", || {
            let r = self
                .core
                .readdir(ino.0, fh.0, offset, |d_ino, off, kind, name| {
                    reply.add(INodeNo(d_ino), off, file_type(kind), name)
                });
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e.into()),
            }
        })
    }

    fn readdirplus(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        self.serve("readdirplus", || {
            let r = self
                .core
                .readdirplus(caller(req), ino.0, fh.0, offset, |e| {
                    let ttl = if e.cache_name {
                        self.entry_ttl
                    } else {
                        Duration::ZERO
                    };
                    let a = file_attr(e.attr);
                    reply.add(a.ino, e.offset, e.name, &ttl, &a, Generation(0))
                });
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e.into()),
            }
        })
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.serve("releasedir", || {
            self.core.releasedir(fh.0);
            reply.ok();
        })
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _ds: bool,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        self.serve("statfs", || {
            let (blocks, bfree, files, ffree, cluster) = self.core.statfs();
            reply.statfs(
                blocks,
                bfree,
                bfree,
                files,
                ffree,
                cluster,
                vfs_core::name::MAX_NAME_UNITS as u32,
                cluster,
            );
        })
    }

    fn setxattr(
        &self,
        req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let who = caller(req);
        let name = name.as_bytes();
        if crate::xattr::may_wait(name) {
            // The request's buffer is reused once this returns: the worker gets copies.
            let (name, value) = (name.to_vec(), value.to_vec());
            self.run_maybe_waiting("setxattr", true, move |core| {
                empty(reply, core.setxattr(who, ino.0, &name, &value, flags))
            })
        } else {
            self.serve("setxattr", || {
                let r = self.core.setxattr_settle(who, ino.0, name, value, flags);
                self.core.reply_settled(r, move |r| empty(reply, r))
            })
        }
    }

    fn getxattr(&self, req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        if self.writeback && crate::xattr::get_reads_written_state(name.as_bytes()) {
            // What the kernel still holds dirty is written back first (module `writeback`),
            // on the worker: the WRITEs that causes are served by the serving threads.
            let (who, name) = (caller(req), name.as_bytes().to_vec());
            return self.run_maybe_waiting("getxattr", true, move |core| {
                core.sync_kernel(who);
                xattr_reply(reply, size, core.getxattr(who, ino.0, &name))
            });
        }
        self.serve("getxattr", || {
            xattr_reply(
                reply,
                size,
                self.core.getxattr(caller(req), ino.0, name.as_bytes()),
            )
        })
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        self.serve("listxattr", || {
            xattr_reply(reply, size, self.core.listxattr(ino.0))
        })
    }

    fn removexattr(&self, req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let who = caller(req);
        let name = name.as_bytes().to_vec();
        let may_wait = crate::xattr::may_wait(&name);
        self.run_maybe_waiting("removexattr", may_wait, move |core| {
            let r = core.removexattr_settle(who, ino.0, &name);
            core.reply_settled(r, move |r| empty(reply, r))
        })
    }

    fn access(&self, req: &Request, ino: INodeNo, mask: AccessFlags, reply: ReplyEmpty) {
        self.serve("access", || {
            empty(
                reply,
                self.core.access(caller(req), ino.0, mask.bits() as u32),
            )
        })
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        self.serve("create", || {
            let r = self
                .core
                .create(caller(req), parent.0, name.as_bytes(), mode, umask, flags);
            match r {
                Ok((a, h)) if self.core.passthrough.is_on() => {
                    let core = &*self.core;
                    let id = a.stat.id;
                    let lendable = core.lendable(&a.stat, flags);
                    let answer = CreateAnswer {
                        reply,
                        core,
                        ttl: self.entry_ttl,
                        attr: file_attr(&a),
                        fh: h,
                        flags,
                    };
                    // A new file: the kernel has no pages of it.
                    core.passthrough
                        .open(&core.vol, id, h, lendable, None, answer)
                }
                Ok((a, h)) => reply.created(
                    &self.entry_ttl,
                    &file_attr(&a),
                    Generation(0),
                    FileHandle(h),
                    open_flags(&self.core, a.ino, h, flags),
                ),
                Err(e) => reply.error(e.into()),
            }
        })
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        self.serve("fallocate", || {
            empty(reply, self.core.fallocate(ino.0, offset, length, mode))
        })
    }
}
