//! FUSE passthrough ([`crate::MountOptions::passthrough`]): opens for writing whose read(2),
//! write(2), splice and mmap the kernel sends straight to a file of the daemon's own, with
//! no request and no page cache of the FUSE inode (Linux 6.9 and later, `FUSE_PASSTHROUGH`;
//! registering a backing file needs CAP_SYS_ADMIN, so only a daemon running as root uses it).
//! What makes it keep NTFS's rules:
//!
//! * **Where the data is.** The first open for writing of a regular file *lends* its data
//!   (`Volume::lend`: the data leaves the engine) to an unnamed file in the **pool**, a
//!   private tmpfs instance that is mounted nowhere (fsopen/fsmount, no mount point). Every
//!   open of the file while it is lent is a passthrough open of that one backing file (the
//!   kernel keeps one I/O mode per inode: an open answered without passthrough while a
//!   passthrough open is held fails with EIO, and the reverse too), through any of its
//!   kernel nodes (names, spellings, a retired node and its successor share it). The last
//!   RELEASE gives the data back (`Volume::give_back`). A file open without passthrough (a
//!   read-only open while nothing lent it) is not lent by a later open for writing while it
//!   stays open: that open goes the old way, served by WRITE requests.
//! * **Sizes and times.** The daemon sees no write, so whenever it answers for a lent file it
//!   first *settles*: an `fstat` of the backing file; if its size, mtime or ctime moved since
//!   the last look, the file was written: LastWriteTime becomes the backing file's mtime,
//!   ChangeTime too unless later already, and ARCHIVE is set (`Volume::lent_written`), as an
//!   engine write would. tmpfs has multigrain timestamps (Linux 6.13 and later): a change
//!   after a look always gets a new ctime, so no write is missed; on 6.9-6.12 two writes in
//!   one clock tick after a look can look like one (untested there). Size and allocation
//!   come from the backing file (allocation by the engine's rules, `LentShape`).
//! * **Space (A8).** The pool's size is the engine's reservation for lent data
//!   (`vfs_core::SpaceLender`): every free byte of the volume while anything is lent, taken
//!   back when the engine needs it. A write(2) that does not fit fails with ENOSPC in the
//!   kernel (tmpfs), exactly where the volume is full. tmpfs counts pages of 4 KiB: a file
//!   of up to a few hundred bytes, which NTFS keeps in its file record, takes a page there;
//!   a volume with larger clusters fits more in the pool than on NTFS (not measured).
//!   One page of the pool is always held by a filler file, so that its limit can be any
//!   number of whole pages from 0 up (tmpfs reads `size=0` as "no limit").
//! * **Set-user-ID.** The kernel clears S_ISUID and S_ISGID at a write only by asking the
//!   daemon (FUSE_WRITE_KILL_SUIDGID with the WRITE), and a passthrough write asks nothing:
//!   a set-user-ID or set-group-ID file is never lent (its writes stay requests), and a write
//!   seen in a file made so while lent clears the bits, as for a writer without CAP_FSETID
//!   (root's write too, which Linux would leave them for).
//! * **Limits.** A write past NTFS's largest file size (`vfs_core::MAX_FILE_SIZE`, 16 TiB
//!   less 64 KiB) through a passthrough open is not refused with EFBIG, as the engine
//!   refuses it: the kernel checks the backing file's limit (tmpfs's, far larger) and asks the
//!   daemon nothing. stat shows the file at most that large, and when its data comes back
//!   what lies past the limit is dropped, the file ending at the limit. A size change past it
//!   (truncate, fallocate) is a request and still fails with EFBIG.
//! * **Pages.** Passthrough reads and writes go to the backing file, so the FUSE inode's
//!   page cache holds nothing of a lent file (the pages it had are dropped when the file is
//!   lent: they would be stale once it is given back). When the last passthrough open is
//!   released, each data range read back for the engine also fills the page cache of the
//!   releasing node (FUSE_NOTIFY_STORE; holes get no pages, a file with no name left none),
//!   so that the first read after costs no READ, as after writes through the daemon (the
//!   first [`STORE_LIMIT`] bytes of data: the copy takes the serving thread's time). It is
//!   done with the state locked: no open of the file is answered meanwhile, so no READ of it
//!   can be waiting for a page the store locks, and no new lend drops the pages before they
//!   are filled. Another kernel node of the file (a retired node still open) is not filled.
//! * **Readers of engine state** settle first (the `system.ntfs_*` times and attributes,
//!   `user.ntlinkfs.check`), and the image save reads lent data from the pool
//!   (`Volume::snapshot_lent`).

use crate::attr;
use crate::errno::{io_errno, Errno};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use vfs_core::data::FileData;
use vfs_core::{FileId, FileTime, LentShape, SpaceLender, Volume};

/// Where the data ranges read back at a give-back also go (offset, bytes): the releasing
/// node's page cache (module docs, "Pages").
pub(crate) type Fill<'a> = &'a mut dyn FnMut(u64, &[u8]);

/// At most this much of a file's data fills the kernel's page cache when it is given back
/// (module docs, "Pages"): the copy runs on the serving thread, after the one into the
/// engine, so a file of many GiB costs that thread a bounded extra time at its close; the
/// rest is read through the daemon the first time, as before.
const STORE_LIMIT: u64 = 1 << 30;

/// `fill`, for the first `limit` bytes handed to it (a piece that crosses the limit is cut).
fn capped<'a>(fill: Fill<'a>, limit: u64) -> impl FnMut(u64, &[u8]) + 'a {
    let mut left = limit;
    move |offset, data| {
        let n = (data.len() as u64).min(left) as usize;
        if n > 0 {
            left -= n as u64;
            fill(offset, &data[..n]);
        }
    }
}

/// The page size tmpfs counts in.
const PAGE: u64 = 4096;

/// The private tmpfs holding lent data (module docs).
#[derive(Debug)]
pub(crate) struct Pool {
    /// The root of the detached mount.
    root: OwnedFd,
    /// One page, always allocated (module docs, "Space").
    _filler: File,
    /// The tmpfs's size now, in bytes (0: no limit).
    size: Mutex<u64>,
}

impl Pool {
    /// A new pool with room for nothing (CAP_SYS_ADMIN needed).
    pub(crate) fn new() -> io::Result<Pool> {
        use rustix::mount::{fsconfig_create, fsconfig_set_string, fsmount, fsopen};
        use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};
        let fs = fsopen("tmpfs", FsOpenFlags::FSOPEN_CLOEXEC)?;
        fsconfig_set_string(&fs, "size", PAGE.to_string())?;
        fsconfig_set_string(&fs, "mode", "0700")?;
        fsconfig_set_string(&fs, "huge", "never")?;
        fsconfig_create(&fs)?;
        let root = fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())?;
        let filler = Pool::unnamed(&root)?;
        filler.write_all_at(&[0u8; PAGE as usize], 0)?;
        Ok(Pool {
            root,
            _filler: filler,
            size: Mutex::new(PAGE),
        })
    }

    fn unnamed(root: &OwnedFd) -> io::Result<File> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
        Ok(rustix::fs::openat(root, ".", flags, Mode::RUSR | Mode::WUSR)?.into())
    }

    /// A new, empty backing file.
    fn file(&self) -> io::Result<File> {
        Pool::unnamed(&self.root)
    }

    /// Bytes of lent data the pool holds (its used pages, less the filler's).
    pub(crate) fn used(&self) -> u64 {
        let Ok(s) = rustix::fs::fstatfs(&self.root) else {
            return 0;
        };
        let used = s.f_blocks.saturating_sub(s.f_bfree) * s.f_bsize as u64;
        used.saturating_sub(PAGE)
    }

    fn resize(&self, bytes: u64) -> io::Result<()> {
        use rustix::mount::{fsconfig_reconfigure, fsconfig_set_string, fspick, FsPickFlags};
        let fc = fspick(
            &self.root,
            "",
            FsPickFlags::FSPICK_EMPTY_PATH | FsPickFlags::FSPICK_CLOEXEC,
        )?;
        fsconfig_set_string(&fc, "size", bytes.to_string())?;
        Ok(fsconfig_reconfigure(&fc)?)
    }
}

impl SpaceLender for Pool {
    fn set_limit(&self, limit: u64) -> bool {
        // Whole pages of lent data, plus the filler's page; tmpfs reads 0 as no limit.
        let bytes = if limit == u64::MAX {
            0
        } else {
            (limit / PAGE + 1) * PAGE
        };
        let mut size = self.size.lock();
        if *size == bytes {
            // The same pages (a file record is a quarter of one): tmpfs holds no more than
            // that already.
            return true;
        }
        match self.resize(bytes) {
            Ok(()) => {
                *size = bytes;
                true
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => false,
            Err(e) => {
                tracing::warn!(target: "backend_fuse", "passthrough pool: resizing to {bytes} bytes: {e}");
                false
            }
        }
    }
}

/// What an `fstat` of a backing file says that a write changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    /// Bytes of the file's pages in the pool.
    stored: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

fn stamp(f: &File) -> io::Result<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = f.metadata()?;
    Ok(Stamp {
        size: m.size(),
        stored: m.blocks() * 512,
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
    })
}

/// A Unix time (seconds, nanoseconds) as a FILETIME.
fn filetime(t: (i64, i64)) -> FileTime {
    let st = if t.0 >= 0 {
        UNIX_EPOCH + Duration::new(t.0 as u64, t.1 as u32)
    } else {
        UNIX_EPOCH - Duration::from_secs(t.0.unsigned_abs()) + Duration::from_nanos(t.1 as u64)
    };
    attr::to_filetime(st)
}

/// One lent file.
struct Lent {
    file: File,
    /// The kernel's registration of `file`; dropped (FUSE_DEV_IOC_BACKING_CLOSE) at return.
    backing: fuser::BackingId,
    /// Passthrough opens the kernel holds.
    opens: u32,
    /// The backing file when the engine last knew it.
    seen: Stamp,
}

/// What a GETATTR of a lent file shows instead of the engine's empty data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown {
    pub(crate) size: u64,
    pub(crate) allocation_size: u64,
    pub(crate) resident: bool,
    pub(crate) stored: u64,
}

#[derive(Default)]
struct State {
    lent: HashMap<FileId, Lent>,
    /// Handles opened with passthrough, and their files.
    lent_fh: HashMap<u64, FileId>,
    /// Opens without passthrough per file, and their handles.
    cached: HashMap<FileId, u32>,
    cached_fh: HashMap<u64, FileId>,
    /// Emptied backing files, still registered, for the next files lent.
    spares: Vec<Spare>,
}

/// How many emptied backing files are kept for reuse: a new one costs an open, a
/// registration and at the end a close and an unregistration (a third of the daemon's time
/// in a loop of create and close).
const SPARES: usize = 64;

/// An emptied backing file kept for reuse.
struct Spare {
    file: File,
    backing: fuser::BackingId,
    seen: Stamp,
}

/// The reply to an OPEN or CREATE, as [`Passthrough::open`] uses it.
pub(crate) trait Answer {
    /// Registers `f` as a backing file with the kernel (fuser's `open_backing`).
    fn register(&self, f: &File) -> io::Result<fuser::BackingId>;
    /// Sends the reply.
    fn answer(self, how: Opened<'_>);
}

/// How an open is answered.
pub(crate) enum Opened<'a> {
    /// With FOPEN_PASSTHROUGH and this backing file.
    Passthrough(&'a fuser::BackingId),
    /// The usual way.
    Cached,
}

/// A mount's passthrough state (module docs).
#[derive(Default)]
pub(crate) struct Passthrough {
    pool: Option<Arc<Pool>>,
    /// The kernel took FUSE_PASSTHROUGH and registering works.
    on: AtomicBool,
    /// Files lent now (read without the lock: most answers need no look).
    count: AtomicUsize,
    state: Mutex<State>,
}

impl std::fmt::Debug for Passthrough {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passthrough")
            .field("on", &self.on.load(Ordering::Relaxed))
            .field("lent", &self.count.load(Ordering::Relaxed))
            .finish()
    }
}

impl Passthrough {
    /// Passthrough for a mount of `vol`: makes the pool and gives it to the volume as the
    /// store of lent data. It is used once the kernel takes it ([`Passthrough::negotiated`]).
    pub(crate) fn new(vol: &Volume) -> io::Result<Passthrough> {
        let pool = Arc::new(Pool::new()?);
        vol.set_space_lender(Some(pool.clone()))
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Passthrough {
            pool: Some(pool),
            ..Passthrough::default()
        })
    }

    /// Was passthrough asked for (a pool exists)?
    pub(crate) fn wanted(&self) -> bool {
        self.pool.is_some()
    }

    /// The kernel's INIT answer: passthrough is in use from now on.
    pub(crate) fn negotiated(&self) {
        self.on.store(self.pool.is_some(), Ordering::Release);
    }

    /// Is passthrough in use?
    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// How many files are lent now.
    pub(crate) fn lent_count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Bytes of lent data in the pool.
    pub(crate) fn pool_used(&self) -> u64 {
        if self.count.load(Ordering::Acquire) == 0 {
            return 0;
        }
        self.pool.as_ref().map_or(0, |p| p.used())
    }

    /// Answers the open `fh` of `id` (`lendable`: a regular file the open may lend, for
    /// writing) through `reply`, under this module's lock, so that no other open or release
    /// of the file comes between the decision and the kernel's.
    pub(crate) fn open<A: Answer>(
        &self,
        vol: &Volume,
        id: FileId,
        fh: u64,
        lendable: bool,
        drop_pages: Option<&dyn Fn()>,
        reply: A,
    ) {
        let mut g = self.state.lock();
        let st = &mut *g;
        if !st.lent.contains_key(&id)
            && lendable
            && self.is_on()
            && st.cached.get(&id).copied().unwrap_or(0) == 0
        {
            match self.lend(vol, id, &mut st.spares, |f| reply.register(f)) {
                Ok(l) => {
                    // Pages the kernel kept from opens before are stale once the file is
                    // written through the backing file, and passthrough fills none of its
                    // own: dropped now, nothing comes back into them while the file is lent.
                    if let Some(d) = drop_pages {
                        d();
                    }
                    st.lent.insert(id, l);
                    self.count.fetch_add(1, Ordering::AcqRel);
                }
                Err(e) => {
                    tracing::debug!(target: "backend_fuse", "passthrough open of {id:?} not lent: {e}");
                }
            }
        }
        if let Some(l) = st.lent.get_mut(&id) {
            l.opens += 1;
            st.lent_fh.insert(fh, id);
            return reply.answer(Opened::Passthrough(&l.backing));
        }
        *st.cached.entry(id).or_insert(0) += 1;
        st.cached_fh.insert(fh, id);
        reply.answer(Opened::Cached)
    }

    /// Lends `id`'s data to a new backing file and registers it.
    fn lend(
        &self,
        vol: &Volume,
        id: FileId,
        spares: &mut Vec<Spare>,
        register: impl FnOnce(&File) -> io::Result<fuser::BackingId>,
    ) -> io::Result<Lent> {
        let pool = self.pool.as_ref().ok_or(io::ErrorKind::Unsupported)?;
        let (data, shape) = vol.lend(id).map_err(|e| io::Error::other(e.to_string()))?;
        let made = (|| {
            let (file, backing, mut seen) = match spares.pop() {
                Some(s) => (s.file, Some(s.backing), Some(s.seen)),
                None => (pool.file()?, None, None),
            };
            if data.size() > 0 {
                for (index, bytes) in data.allocated_chunks() {
                    file.write_all_at(bytes, index * vfs_core::data::CHUNK_SIZE as u64)?;
                }
                file.set_len(data.size())?;
                if !shape.sparse && shape.non_resident {
                    // A normal file occupies every cluster to its end (A8), zeros the engine
                    // keeps no memory for included: so it does in the pool.
                    allocate(&file, 0, data.size())
                        .map_err(|e| io::Error::from_raw_os_error(e.code()))?;
                }
                seen = None;
            }
            let seen = match seen {
                Some(s) => s,
                None => stamp(&file)?,
            };
            let backing = match backing {
                Some(b) => b,
                None => register(&file).inspect_err(|e| {
                    if e.raw_os_error() != Some(libc::ENOSPC) {
                        // Not root, or a kernel that refuses: no more tries this session.
                        tracing::warn!(target: "backend_fuse", "passthrough off: registering a backing file: {e}");
                        self.on.store(false, Ordering::Release);
                    }
                })?,
            };
            Ok(Lent {
                file,
                backing,
                opens: 0,
                seen,
            })
        })();
        if made.is_err() {
            // The data goes back as it was: nothing was written through it.
            if let Err(e) = vol.give_back(id, data) {
                tracing::error!(target: "backend_fuse", "passthrough: giving back {id:?}: {e}");
            }
        }
        made
    }

    /// RELEASE of `fh`: the last passthrough open of a file gives its data back, each data
    /// range also handed to `fill` (offset, bytes) for the kernel's page cache, while the
    /// state is locked (no open of the file is answered meanwhile, so no READ of it can be
    /// waiting, and no new lend can drop pages before they are filled). Returns the file
    /// given back.
    pub(crate) fn release(&self, vol: &Volume, fh: u64, fill: Fill<'_>) -> Option<FileId> {
        let mut g = self.state.lock();
        let st = &mut *g;
        if let Some(id) = st.cached_fh.remove(&fh) {
            if let Some(n) = st.cached.get_mut(&id) {
                *n -= 1;
                if *n == 0 {
                    st.cached.remove(&id);
                }
            }
            return None;
        }
        let id = st.lent_fh.remove(&fh)?;
        let l = st.lent.get_mut(&id)?;
        l.opens -= 1;
        if l.opens > 0 {
            return None;
        }
        let l = st.lent.remove(&id)?;
        // A file with no name left (deleted, or delete-pending: freed at this close) is
        // never read again: no pages for it.
        let named = vol.stat(id).is_ok_and(|s| !s.delete_pending);
        let mut capped = capped(fill, STORE_LIMIT);
        let fill: Option<Fill<'_>> = if named { Some(&mut capped) } else { None };
        self.give_back(vol, id, l, Some(&mut st.spares), fill);
        // Counted out only once the data is back: the readers that skip the lock when
        // nothing is lent (`settle`) must not read the engine's size of a file whose data is
        // still on its way (a lookup served beside this release answered size 0: test
        // negative.rs `creating_under_another_spelling_raises_the_epoch_only_then` with two
        // serving threads).
        self.count.fetch_sub(1, Ordering::AcqRel);
        Some(id)
    }

    /// Settles `l` and gives its data back; its backing file, emptied, goes to `spares` if
    /// there is room; `fill` gets each data range.
    fn give_back(
        &self,
        vol: &Volume,
        id: FileId,
        mut l: Lent,
        spares: Option<&mut Vec<Spare>>,
        fill: Option<Fill<'_>>,
    ) {
        settle_one(vol, id, &mut l);
        let Lent {
            file,
            backing,
            seen,
            ..
        } = l;
        let data = if seen.size == 0 {
            FileData::new()
        } else {
            read_all(&file, seen.size, fill).unwrap_or_else(|e| {
                // Cannot happen for a tmpfs file short of memory; the data cannot be read.
                tracing::error!(target: "backend_fuse", "passthrough: reading back {id:?}: {e}");
                FileData::new()
            })
        };
        // Emptied before the data goes back, so the pool has the room the engine takes.
        let was_empty = seen.size == 0 && seen.stored == 0;
        let emptied = was_empty || file.set_len(0).is_ok();
        if let Err(e) = vol.give_back(id, data) {
            tracing::error!(target: "backend_fuse", "passthrough: giving back {id:?}: {e}");
        }
        if let Some(spares) = spares.filter(|s| emptied && s.len() < SPARES) {
            // A file left empty was just looked at (`settle_one`) and nothing can write it
            // now (its last open is released): that look stands, one fstat less per file
            // created and closed empty.
            let seen = if was_empty { Ok(seen) } else { stamp(&file) };
            if let Ok(seen) = seen {
                spares.push(Spare {
                    file,
                    backing,
                    seen,
                });
            }
        }
    }

    /// Brings the engine's times and ARCHIVE up to date with a lent file's writes and
    /// returns what stat shows of its data; None if `id` is not lent.
    pub(crate) fn settle(&self, vol: &Volume, id: FileId) -> Option<Shown> {
        if self.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut g = self.state.lock();
        let l = g.lent.get_mut(&id)?;
        settle_one(vol, id, l);
        let shape = vol.lent_shape(id)?;
        Some(shown(&shape, &l.seen))
    }

    /// Settles every lent file (before the engine's state is read as a whole).
    pub(crate) fn settle_all(&self, vol: &Volume) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut g = self.state.lock();
        for (id, l) in g.lent.iter_mut() {
            settle_one(vol, *id, l);
        }
    }

    /// A copy of every lent file's data (for an image save), settled first.
    pub(crate) fn lent_data(&self, vol: &Volume) -> HashMap<FileId, FileData> {
        let mut out = HashMap::new();
        if self.count.load(Ordering::Acquire) == 0 {
            return out;
        }
        let mut g = self.state.lock();
        for (id, l) in g.lent.iter_mut() {
            settle_one(vol, *id, l);
            match read_all(&l.file, l.seen.size, None) {
                Ok(d) => {
                    out.insert(*id, d);
                }
                Err(e) => {
                    tracing::error!(target: "backend_fuse", "passthrough: reading {id:?}: {e}")
                }
            }
        }
        out
    }

    /// End of file of a lent file moves to `size` (truncate, ftruncate, an O_TRUNC open):
    /// as `Volume::set_size` does it (A8: a non-sparse extension allocates, in the pool,
    /// and fails with ENOSPC changing nothing). None if `id` is not lent.
    pub(crate) fn set_size(
        &self,
        vol: &Volume,
        id: FileId,
        size: u64,
    ) -> Option<Result<(), Errno>> {
        self.change(vol, id, |file, seen, shape| {
            if size > vfs_core::MAX_FILE_SIZE {
                return Err(Errno::EFBIG);
            }
            let extends = size > seen.size;
            let sparse = shape.sparse || (extends && vol.options().sparse_on_extend);
            if extends && !sparse && size > shape.resident_limit {
                allocate(file, seen.size, size - seen.size)?;
            }
            file.set_len(size).map_err(|e| io_errno(&e))?;
            Ok(Some(extends))
        })
    }

    /// fallocate(2) mode 0 of a lent file: the range is allocated in the pool (ENOSPC when
    /// the volume is full, nothing changed), end of file growing to its end, and the times
    /// stamped when that changes anything, as `Volume::allocate`. None if `id` is not lent.
    pub(crate) fn allocate(
        &self,
        vol: &Volume,
        id: FileId,
        offset: u64,
        len: u64,
    ) -> Option<Result<(), Errno>> {
        self.change(vol, id, |file, seen, shape| {
            let end = offset
                .checked_add(len)
                .filter(|&e| e <= vfs_core::MAX_FILE_SIZE)
                .ok_or(Errno::EFBIG)?;
            if !shape.sparse && end <= seen.size {
                // Already allocated (a normal file has every cluster up to end of file).
                return Ok(None);
            }
            allocate(file, offset, len)?;
            Ok(Some(false))
        })
    }

    /// Runs `change` on lent `id`'s backing file, settled first, and looks at it again
    /// after. `change` answers whether the engine stamps the times of a size change (and
    /// whether it extended the file: `Volume::lent_resized`), or leaves them. None if `id`
    /// is not lent.
    fn change(
        &self,
        vol: &Volume,
        id: FileId,
        change: impl FnOnce(&File, &Stamp, &LentShape) -> Result<Option<bool>, Errno>,
    ) -> Option<Result<(), Errno>> {
        if self.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut g = self.state.lock();
        let l = g.lent.get_mut(&id)?;
        settle_one(vol, id, l);
        Some((|| {
            let shape = vol.lent_shape(id).ok_or(Errno::EIO)?;
            if let Some(extends) = change(&l.file, &l.seen, &shape)? {
                vol.lent_resized(id, extends).map_err(crate::errno::errno)?;
            }
            let now = stamp(&l.file).map_err(|e| io_errno(&e))?;
            if (now.size > 0) != (l.seen.size > 0) {
                let _ = vol.lent_holds_data(id, now.size > 0);
            }
            l.seen = now;
            Ok(())
        })())
    }

    /// Gives every lent file back (the end of the session: the kernel holds no open).
    pub(crate) fn return_all(&self, vol: &Volume) {
        let mut g = self.state.lock();
        let lent: Vec<_> = g.lent.drain().collect();
        g.lent_fh.clear();
        g.cached.clear();
        g.cached_fh.clear();
        g.spares.clear();
        drop(g);
        self.count.store(0, Ordering::Release);
        for (id, l) in lent {
            self.give_back(vol, id, l, None, None);
        }
        if self.pool.is_some() {
            // The volume outlives the mount; the pool goes with the session.
            if let Err(e) = vol.set_space_lender(None) {
                tracing::error!(target: "backend_fuse", "passthrough: ending the pool: {e}");
            }
        }
    }
}

/// fallocate(2) mode 0 of a backing file.
fn allocate(f: &File, offset: u64, len: u64) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    rustix::fs::fallocate(f, rustix::fs::FallocateFlags::empty(), offset, len)
        .map_err(|e| Errno::from_i32(e.raw_os_error()))
}

/// What stat shows of lent data.
fn shown(shape: &LentShape, s: &Stamp) -> Shown {
    let size = s.size.min(vfs_core::MAX_FILE_SIZE);
    let (allocation_size, resident) = shape.allocation(size, s.stored);
    Shown {
        size,
        allocation_size,
        resident,
        stored: s.stored,
    }
}

/// A look at the backing file: a change since the last look was a write (module docs).
fn settle_one(vol: &Volume, id: FileId, l: &mut Lent) {
    let Ok(mut now) = stamp(&l.file) else { return };
    if now != l.seen {
        if let Err(e) = vol.lent_written(id, filetime(now.mtime)) {
            tracing::error!(target: "backend_fuse", "passthrough: stamping {id:?}: {e}");
        }
        if (now.size > 0) != (l.seen.size > 0) {
            let _ = vol.lent_holds_data(id, now.size > 0);
        }
        if has_holes(&now) && vol.lent_shape(id).is_some_and(|s| !s.sparse) {
            // A write past the end left a gap. The engine's write makes such a file sparse
            // with `sparse_on_extend` (as ntfs-3g does) and otherwise allocates the gap
            // (A8): so does this, in the pool; a gap the volume has no room for makes the
            // file sparse instead, since the write cannot be refused any more.
            let allocated =
                !vol.options().sparse_on_extend && allocate(&l.file, 0, now.size).is_ok();
            if !allocated {
                if let Err(e) = vol.lent_set_sparse(id) {
                    tracing::error!(target: "backend_fuse", "passthrough: making {id:?} sparse: {e}");
                }
            }
            if let Ok(s) = stamp(&l.file) {
                now = s;
            }
        }
        l.seen = now;
    }
}

/// Does the backing file have unwritten pages below its end (tmpfs allocates the pages it
/// holds data for)?
fn has_holes(s: &Stamp) -> bool {
    s.stored < s.size.div_ceil(PAGE) * PAGE
}

/// A backing file's data as engine data: its data ranges (SEEK_DATA / SEEK_HOLE), so that
/// a sparse file's holes stay holes; each piece read also goes to `fill`.
fn read_all(f: &File, size: u64, mut fill: Option<Fill<'_>>) -> io::Result<FileData> {
    // NTFS's largest file (A8): the kernel cannot be made to refuse a passthrough write
    // past it with EFBIG (the backing file's limit is tmpfs's), so what lies past it is
    // dropped here and the file ends there (module docs, "Limits").
    if size > vfs_core::MAX_FILE_SIZE {
        tracing::warn!(target: "backend_fuse", "passthrough: a file was written past NTFS's largest size ({size} bytes); cut at {}", vfs_core::MAX_FILE_SIZE);
    }
    let size = size.min(vfs_core::MAX_FILE_SIZE);
    let mut data = FileData::new();
    // Sized to the file (most are small): a zeroed MiB per close cost a third of the
    // daemon's time in a create loop.
    let mut buf = Vec::new();
    let mut pos = 0u64;
    while pos < size {
        use rustix::fs::{seek, SeekFrom};
        let start = match seek(f, SeekFrom::Data(pos)) {
            Ok(start) => start,
            Err(rustix::io::Errno::NXIO) => break,
            Err(e) => return Err(e.into()),
        };
        if start >= size {
            // Only data past NTFS's largest size is left (dropped, above).
            break;
        }
        let end = seek(f, SeekFrom::Hole(start))?.min(size);
        let mut at = start;
        if buf.is_empty() {
            buf = vec![0u8; ((end - start) as usize).min(1 << 20)];
        }
        while at < end {
            let n = ((end - at) as usize).min(buf.len());
            f.read_exact_at(&mut buf[..n], at)?;
            data.write(at, &buf[..n])
                .map_err(|e| io::Error::other(e.to_string()))?;
            if let Some(fill) = fill.as_mut() {
                fill(at, &buf[..n]);
            }
            at += n as u64;
        }
        pos = end;
    }
    data.set_size(size)
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_store_stops_at_its_limit() {
        let mut got = Vec::new();
        {
            let mut sink = |o: u64, d: &[u8]| got.push((o, d.len()));
            let mut c = capped(&mut sink, 10_000);
            c(0, &[0; 4096]);
            c(8192, &[0; 4096]);
            c(1 << 20, &[0; 4096]);
            c(2 << 20, &[0; 4096]);
        }
        assert_eq!(got, vec![(0, 4096), (8192, 4096), (1 << 20, 1808)]);
    }

    #[test]
    fn filetimes_of_unix_times() {
        assert_eq!(filetime((0, 0)), vfs_core::FILETIME_UNIX_EPOCH);
        assert_eq!(
            filetime((1, 500)),
            vfs_core::FILETIME_UNIX_EPOCH + 10_000_005
        );
    }
}
