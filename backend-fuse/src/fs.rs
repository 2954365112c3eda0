//! The FUSE request handlers: each one translates a kernel request into engine calls and the
//! engine's answer back into a FUSE reply. No NTFS rule is decided here; the engine decides,
//! this module only maps (names, kinds, errno values) and keeps the kernel's caches honest
//! (see the crate docs, "Caching").

use crate::attr::{self, file_attr, is_link};
use crate::errno::{errno, link_errno, readlink_errno};
use crate::inval::Invalidator;
use crate::names;
use crate::nodes::{KernelName, Nodes, ROOT_INO};
use crate::target::{self, Place};
use crate::xattr::{self as xa, Control, Special};
use fuser::{
    AccessFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, InitFlags, KernelConfig, LockOwner, OpenAccMode, OpenFlags, RenameFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen,
    ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vfs_core::{
    Access, DirCursor, FileId, FileKind, HandleId, Location, NewFile, SetTimes, Share, Stat,
    UnlinkKind, Volume,
};

/// Largest write the kernel is asked to send at once (the kernel's own cap is
/// `fs.fuse.max_pages_limit` pages, 1 MiB by default).
const MAX_WRITE: u32 = 1 << 20;

/// What the handlers share.
pub(crate) struct NtFs {
    vol: Arc<Volume>,
    nodes: Arc<Nodes>,
    root: FileId,
    /// The mount point, canonical, as readlink shows absolute targets on this drive.
    mount_path: String,
    drive_letter: char,
    drive_map: Vec<(char, PathBuf)>,
    entry_ttl: Duration,
    attr_ttl: Duration,
    inval: Invalidator,
    /// Engine handles opened for the kernel (closed at the end of the session if the kernel
    /// never released them).
    open_handles: Mutex<HashSet<u64>>,
    dirs: Mutex<HashMap<u64, Arc<Mutex<DirState>>>>,
}

/// The kernel-cache side of a mount, for changes made to the volume outside the mount.
#[derive(Debug, Clone)]
pub(crate) struct CacheHandle {
    nodes: Arc<Nodes>,
    inval: Invalidator,
}

impl CacheHandle {
    /// Makes the kernel forget what it cached about `id`: its nodes are retired (their cached
    /// attributes dropped now, path requests on them answer ESTALE) and its cached names are
    /// dropped; waits briefly for the names.
    pub(crate) fn invalidate(&self, id: FileId) {
        if self.nodes.file_of(ROOT_INO) == Some(id) {
            self.inval.attrs_now(ROOT_INO);
            return;
        }
        for (ino, names) in self.nodes.retire(id) {
            self.inval.attrs_now(ino);
            for (p, n) in names {
                self.inval.entry_later(p, &n);
            }
        }
        self.inval.wait();
    }
}

/// An open directory: the cursors handed out as readdir offsets (offset k ≥ 3 resumes after
/// `cursors[k - 3]`; 1 and 2 are "." and ".."). A cursor is a name, so a listing resumes at
/// the right place however the directory changed meanwhile, and every offset stays valid for
/// the handle's life (telldir/seekdir).
struct DirState {
    file: FileId,
    cursors: Vec<DirCursor>,
}

/// Runs a handler; a panic (a bug) answers EIO through the dropped reply and keeps the
/// session up.
fn guarded(op: &'static str, f: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
        tracing::error!(op, "request handler panicked; answered EIO");
    }
}

/// Unwraps or replies with the error and returns.
macro_rules! tri {
    ($reply:ident, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $reply.error(e),
        }
    };
}

fn name_units(name: &OsStr) -> Result<Vec<u16>, Errno> {
    names::to_units(name.as_bytes()).ok_or(Errno::EINVAL)
}

fn time_of(t: TimeOrNow) -> u64 {
    match t {
        TimeOrNow::SpecificTime(t) => attr::to_filetime(t),
        TimeOrNow::Now => vfs_core::now(),
    }
}

impl NtFs {
    pub(crate) fn new(
        vol: Arc<Volume>,
        mount_path: &Path,
        entry_ttl: Duration,
        attr_ttl: Duration,
        inval: Invalidator,
    ) -> NtFs {
        let root = vol.root();
        let o = vol.options();
        let drive_map = o
            .drive_map
            .iter()
            .map(|(k, v)| (*k, PathBuf::from(v)))
            .collect();
        NtFs {
            drive_letter: o.drive_letter,
            drive_map,
            nodes: Arc::new(Nodes::new(root)),
            root,
            mount_path: mount_path.to_string_lossy().into_owned(),
            entry_ttl,
            attr_ttl,
            inval,
            open_handles: Mutex::new(HashSet::new()),
            dirs: Mutex::new(HashMap::new()),
            vol,
        }
    }

    /// What [`crate::MountHandle::invalidate`] needs, shared with the handle.
    pub(crate) fn cache_handle(&self) -> CacheHandle {
        CacheHandle {
            nodes: self.nodes.clone(),
            inval: self.inval.clone(),
        }
    }

    fn link_len(&self, id: FileId, st: &Stat) -> u64 {
        if is_link(st) {
            self.vol
                .read_link_posix(id, &self.mount_path)
                .map(|s| s.len() as u64)
                .unwrap_or(0)
        } else {
            0
        }
    }

    fn attr_of(&self, ino: u64, id: FileId, st: &Stat) -> FileAttr {
        file_attr(ino, st, self.link_len(id, st))
    }

    /// Replies with a new reference to `id`, seen as `name` in `parent`.
    fn reply_entry(&self, reply: ReplyEntry, parent: u64, name: &OsStr, id: FileId, aliased: bool) {
        let (ino, st) = tri!(
            reply,
            self.nodes
                .remember(&self.vol, id, parent, name.as_bytes(), aliased)
                .map_err(errno)
        );
        let a = self.attr_of(ino, id, &st);
        reply.entry_with_ttls(&self.attr_ttl, &self.entry_ttl, &a, Generation(0));
    }

    /// Retires the nodes of `id` (they answer ESTALE from now on) and drops their cached
    /// attributes now; returns the names to drop from the kernel's cache.
    fn retire(&self, id: FileId) -> Vec<KernelName> {
        let mut names = Vec::new();
        for (ino, n) in self.nodes.retire(id) {
            self.inval.attrs_now(ino);
            names.extend(n);
        }
        names
    }

    fn drop_names_later(&self, names: &[KernelName]) {
        for (p, n) in names {
            self.inval.entry_later(*p, n);
        }
    }

    /// The parent directory node of a directory, for "..".
    fn parent_ino(&self, id: FileId) -> u64 {
        if id == self.root {
            return ROOT_INO;
        }
        match self
            .vol
            .names(id)
            .ok()
            .and_then(|n| n.first().map(|l| l.parent))
        {
            Some(p) => self.nodes.ino_of(p),
            None => ROOT_INO,
        }
    }

    /// A regular file or directory made by CREATE / MKNOD / MKDIR.
    fn new_file(req: &Request, kind: FileKind, mode: u32, umask: u32) -> NewFile {
        NewFile {
            kind,
            attributes: 0,
            uid: Some(req.uid()),
            gid: Some(req.gid()),
            mode: Some(mode & 0o7777 & !umask),
        }
    }

    /// Turns a Linux symlink target into an NTFS one and decides whether the link is a
    /// directory link: it is when the target exists when the link is made and is a
    /// directory (as `mklink /D` would be chosen by a Windows user who looked), otherwise a
    /// file link.
    fn symlink_target(&self, parent: FileId, target: &Path) -> Result<(Vec<u16>, bool), Errno> {
        let (units, place) = target::ntfs_target(
            target.as_os_str().as_bytes(),
            Path::new(&self.mount_path),
            self.drive_letter,
            &self.drive_map,
        )?;
        let is_dir = match place {
            Place::Volume { relative } => {
                let mut path: Vec<u16> = Vec::new();
                if relative {
                    let base = self.vol.path_of(parent).unwrap_or_else(|_| "\\".into());
                    path.extend(base.encode_utf16());
                    path.push(u16::from(b'\\'));
                }
                path.extend(units.iter().map(|&u| {
                    if u == u16::from(b'/') {
                        u16::from(b'\\')
                    } else {
                        u
                    }
                }));
                match self.vol.locate_w(&path, true) {
                    Ok(Location::File(id)) => self
                        .vol
                        .stat(id)
                        .is_ok_and(|s| s.kind == FileKind::Directory),
                    Ok(Location::Mapped { host, rest, .. }) => {
                        let mut p = PathBuf::from(host);
                        for c in rest {
                            p.push(String::from_utf16_lossy(&c));
                        }
                        p.is_dir()
                    }
                    _ => false,
                }
            }
            Place::Host(p) => p.is_dir(),
            Place::Unknown => false,
        };
        Ok((units, is_dir))
    }

    /// POSIX: a write, truncate or chown by an unprivileged caller clears the set-user-ID bit
    /// and the set-group-ID bit of a group-executable file (FUSE_HANDLE_KILLPRIV_V2 leaves
    /// this to the file system). The mount is `nosuid` anyway; this keeps `stat` honest.
    fn kill_suidgid(&self, id: FileId) {
        if let Ok(st) = self.vol.stat(id) {
            let mut mode = st.mode;
            if mode & 0o4000 != 0 {
                mode &= !0o4000;
            }
            if mode & 0o2010 == 0o2010 {
                mode &= !0o2000;
            }
            if mode != st.mode {
                let _ = self.vol.set_owner_mode(id, None, None, Some(mode));
            }
        }
    }

    /// After data or size changed through node `ino`, other nodes of the same file (a
    /// retired node still open beside the current one) must not show old attributes or data.
    fn others_changed(&self, id: FileId, ino: u64) {
        for other in self.nodes.other_nodes(id, ino) {
            self.inval.attrs_now(other);
            self.inval.pages_later(other);
        }
    }

    fn set_reparse(
        &self,
        ino: u64,
        id: FileId,
        value: Option<&[u8]>,
        flags: i32,
    ) -> Result<(), Errno> {
        if id == self.root {
            // The root of a mount cannot be shown as a link.
            return Err(Errno::EPERM);
        }
        let before = self.vol.stat(id).map_err(errno)?;
        let exists = before.reparse_tag.is_some();
        match value {
            Some(v) => {
                if flags & libc::XATTR_CREATE != 0 && exists {
                    return Err(Errno::EEXIST);
                }
                if flags & libc::XATTR_REPLACE != 0 && !exists {
                    return Err(Errno::ENODATA);
                }
                self.vol.set_reparse_point(id, v).map_err(errno)?;
            }
            None => self.vol.remove_reparse_point(id).map_err(errno)?,
        }
        let after = self.vol.stat(id).map_err(errno)?;
        if attr::kind(&before) != attr::kind(&after) {
            // The kernel knows this inode with its old file type: retire it, and drop every
            // name the kernel may have cached for it before the setxattr returns, so that even
            // calls that never ask the file system (readlink on a name cached as a directory)
            // see the new kind.
            let names = self.retire(id);
            self.drop_names_later(&names);
            self.inval.wait();
        } else {
            // Same kind, new target: drop the cached size (target length) and the cached
            // target (FUSE_CACHE_SYMLINKS keeps it in the inode's pages), on every node of the
            // file, before the setxattr returns.
            self.inval.attrs_now(ino);
            self.inval.pages_later(ino);
            self.others_changed(id, ino);
            self.inval.wait();
        }
        Ok(())
    }

    fn control_get(&self, id: FileId, c: Control) -> Result<Vec<u8>, Errno> {
        Ok(match c {
            Control::Check => match self.vol.check() {
                Ok(()) => b"ok".to_vec(),
                Err(e) => e.0.join("\n").into_bytes(),
            },
            Control::Names => self
                .vol
                .link_paths(id)
                .map_err(errno)?
                .join("\n")
                .into_bytes(),
            Control::FileId => format!("{:#018x}", id.0).into_bytes(),
            Control::Handles => self.vol.open_handle_count().to_string().into_bytes(),
            Control::Recase | Control::Save => return Err(Errno::ENODATA),
        })
    }

    /// A reparse point whose tag no filter handles (anything but a symlink or a mount point,
    /// which Linux sees as symlinks) cannot be opened: STATUS_IO_REPARSE_TAG_NOT_HANDLED → EIO
    /// (ntfs-semantics A4; conformance case S16). lstat and the xattrs still work on it, as
    /// FILE_OPEN_REPARSE_POINT does on Windows.
    fn refuse_unhandled_tag(&self, id: FileId) -> Result<(), Errno> {
        let st = self.vol.stat(id).map_err(errno)?;
        match st.reparse_tag {
            Some(vfs_core::reparse::IO_REPARSE_TAG_SYMLINK)
            | Some(vfs_core::reparse::IO_REPARSE_TAG_MOUNT_POINT)
            | None => Ok(()),
            Some(_) => Err(errno(vfs_core::Error::IoReparseTagNotHandled)),
        }
    }

    /// `user.ntlinkfs.save` on the root: saves the drive as an image at the absolute host path
    /// `value` (write to a temporary file, fsync, rename: the previous image survives a crash).
    fn save_image(&self, id: FileId, value: &[u8]) -> Result<(), Errno> {
        use std::os::unix::ffi::OsStrExt;
        if id != self.vol.root() {
            return Err(Errno::EINVAL);
        }
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(value));
        if !path.is_absolute() {
            return Err(Errno::EINVAL);
        }
        vfs_core::image::save_atomic(&self.vol, path).map_err(|e| {
            tracing::warn!(target: "backend_fuse", "save to {} failed: {e}", path.display());
            Errno::from_i32(e.errno())
        })
    }

    /// `user.ntlinkfs.recase` on directory `dir`: re-cases the entry `value` names (A5).
    fn recase(&self, dir: FileId, value: &[u8]) -> Result<(), Errno> {
        let units = names::to_units(value).ok_or(Errno::EINVAL)?;
        let (id, display, _, _) = self.vol.lookup_stat(dir, &units).map_err(errno)?;
        if display == units {
            return Ok(());
        }
        let flags = vfs_core::RenameFlags {
            replace_if_exists: false,
            posix_semantics: false,
            ignore_readonly: false,
        };
        self.vol
            .rename(dir, &units, dir, &units, flags)
            .map_err(errno)?;
        // The old spelling may be cached by the kernel: it still leads to the file (names
        // are case-insensitive), so nothing is stale now, but a later change through either
        // spelling must retire the file's node. The cached names are dropped after the reply
        // (the kernel holds this directory's lock for the setxattr).
        self.nodes.mark_aliased(id);
        let names = self.nodes.kernel_names(id);
        self.drop_names_later(&names);
        Ok(())
    }

    fn readdir_common(
        &self,
        ino: u64,
        fh: u64,
        offset: u64,
        size: u32,
        mut add: impl FnMut(&Self, u64, &OsStr, Option<(FileId, &Stat)>) -> bool,
    ) -> Result<(), Errno> {
        let state = self.dirs.lock().get(&fh).cloned().ok_or(Errno::EBADF)?;
        let mut st = state.lock();
        let file = st.file;
        let mut off = offset;
        if off == 0 {
            if add(self, 1, OsStr::new("."), None) {
                return Ok(());
            }
            off = 1;
        }
        if off == 1 {
            let _ = ino;
            if add(self, 2, OsStr::new(".."), None) {
                return Ok(());
            }
            off = 2;
        }
        let mut cursor = if off == 2 {
            None
        } else {
            match st.cursors.get((off - 3) as usize) {
                Some(c) => Some(c.clone()),
                None => return Ok(()),
            }
        };
        let limit = (size as usize / 32).clamp(16, 1024);
        loop {
            let batch = self
                .vol
                .read_dir(file, cursor.as_ref(), limit)
                .map_err(errno)?;
            if batch.is_empty() {
                return Ok(());
            }
            for e in batch {
                let next = st.cursors.len() as u64 + 3;
                let bytes = names::to_bytes(&e.name);
                if add(
                    self,
                    next,
                    OsStr::from_bytes(&bytes),
                    Some((e.stat.id, &e.stat)),
                ) {
                    return Ok(());
                }
                st.cursors.push(e.cursor.clone());
                cursor = Some(e.cursor);
            }
        }
    }

    fn statfs_numbers(&self) -> (u64, u64, u64, u64) {
        // An in-memory volume: its size is the machine's memory.
        // SAFETY: sysinfo fills the struct it is given; a zeroed struct is a valid argument.
        let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
        // SAFETY: a valid pointer to a sysinfo struct.
        let ok = unsafe { libc::sysinfo(&mut si) } == 0;
        let unit = if ok { u64::from(si.mem_unit.max(1)) } else { 1 };
        let total = if ok {
            si.totalram as u64 * unit
        } else {
            1 << 34
        };
        let free = if ok {
            (si.freeram as u64 + si.bufferram as u64) * unit
        } else {
            1 << 33
        };
        let files = 1u64 << 32;
        let used = self.vol.file_count() as u64;
        (
            total / u64::from(attr::BLOCK_SIZE),
            free / u64::from(attr::BLOCK_SIZE),
            files,
            files.saturating_sub(used),
        )
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
        ] {
            if let Err(unsupported) = config.add_capabilities(flag) {
                tracing::debug!("kernel lacks FUSE capability {unsupported:?}");
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
        for h in self.open_handles.lock().drain() {
            let _ = self.vol.close(HandleId(h));
        }
        self.dirs.lock().clear();
        self.nodes.clear(&self.vol);
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        guarded("lookup", || {
            let pid = tri!(reply, self.nodes.live(parent.0));
            let units = tri!(reply, name_units(name));
            // A name that is not there is answered uncached (an error reply leaves the
            // kernel's negative entry expired), so it is asked again next time.
            let (id, display, _st, pending) =
                tri!(reply, self.vol.lookup_stat(pid, &units).map_err(errno));
            if pending {
                // Legacy delete semantics: a delete-pending name cannot be opened (A2:
                // STATUS_DELETE_PENDING → ERROR_ACCESS_DENIED).
                return reply.error(Errno::EACCES);
            }
            self.reply_entry(reply, parent.0, name, id, display != units);
        })
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        guarded("forget", || self.nodes.forget(&self.vol, ino.0, nlookup))
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        guarded("getattr", || {
            let (id, st) = tri!(reply, self.nodes.stat(&self.vol, ino.0, fh.is_some()));
            reply.attr(&self.attr_ttl, &self.attr_of(ino.0, id, &st));
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
        guarded("setattr", || {
            let (id, _) = tri!(reply, self.nodes.stat(&self.vol, ino.0, fh.is_some()));
            let privileged = req.uid() == 0;
            if mode.is_some() || uid.is_some() || gid.is_some() {
                // The POSIX view of the file's security: one per file, every name sees it (A1).
                tri!(
                    reply,
                    self.vol
                        .set_owner_mode(id, uid, gid, mode.map(|m| m & 0o7777))
                        .map_err(errno)
                );
            }
            if let Some(size) = size {
                tri!(reply, self.vol.set_size(id, size).map_err(errno));
                self.others_changed(id, ino.0);
            }
            if mode.is_none() && !privileged && (size.is_some() || uid.is_some() || gid.is_some()) {
                self.kill_suidgid(id);
            }
            if atime.is_some() || mtime.is_some() || ctime.is_some() || crtime.is_some() {
                let t = SetTimes {
                    creation: crtime.map(attr::to_filetime),
                    last_access: atime.map(time_of),
                    last_write: mtime.map(time_of),
                    change: ctime.map(attr::to_filetime),
                };
                tri!(reply, self.vol.set_times(id, t).map_err(errno));
            }
            let (_, st) = tri!(reply, self.nodes.stat(&self.vol, ino.0, fh.is_some()));
            reply.attr(&self.attr_ttl, &self.attr_of(ino.0, id, &st));
        })
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        guarded("readlink", || {
            let id = tri!(reply, self.nodes.live(ino.0));
            let s = tri!(
                reply,
                self.vol
                    .read_link_posix(id, &self.mount_path)
                    .map_err(readlink_errno)
            );
            reply.data(s.as_bytes());
        })
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        guarded("mknod", || {
            if mode & libc::S_IFMT != libc::S_IFREG {
                // NTFS has no FIFOs, sockets or device nodes.
                return reply.error(Errno::EPERM);
            }
            let pid = tri!(reply, self.nodes.live(parent.0));
            let units = tri!(reply, name_units(name));
            let new = Self::new_file(req, FileKind::File, mode, umask);
            let id = tri!(reply, self.vol.create(pid, &units, &new).map_err(errno));
            self.reply_entry(reply, parent.0, name, id, false);
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
        guarded("mkdir", || {
            let pid = tri!(reply, self.nodes.live(parent.0));
            let units = tri!(reply, name_units(name));
            let new = Self::new_file(req, FileKind::Directory, mode, umask);
            let id = tri!(reply, self.vol.create(pid, &units, &new).map_err(errno));
            self.reply_entry(reply, parent.0, name, id, false);
        })
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        guarded("unlink", || {
            let pid = tri!(reply, self.nodes.live(parent.0));
            let units = tri!(reply, name_units(name));
            let (id, _, st, _) = tri!(reply, self.vol.lookup_stat(pid, &units).map_err(errno));
            if attr::kind(&st) == FileType::Directory {
                return reply.error(Errno::EISDIR);
            }
            // A junction or directory symlink shows as a symlink: unlink removes the link
            // itself, as RemoveDirectoryW does on Windows (A2); a file symlink or a file as
            // DeleteFileW does.
            tri!(
                reply,
                self.vol
                    .unlink(pid, &units, UnlinkKind::Any, false)
                    .map_err(errno)
            );
            let names = if self.nodes.is_aliased(id) {
                self.retire(id)
            } else {
                Vec::new()
            };
            reply.ok();
            self.drop_names_later(&names);
        })
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        guarded("rmdir", || {
            let pid = tri!(reply, self.nodes.live(parent.0));
            let units = tri!(reply, name_units(name));
            tri!(
                reply,
                self.vol
                    .unlink(pid, &units, UnlinkKind::Directory, false)
                    .map_err(errno)
            );
            reply.ok();
        })
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        guarded("symlink", || {
            let pid = tri!(reply, self.nodes.live(parent.0));
            let units = tri!(reply, name_units(link_name));
            let (nt, is_dir) = tri!(reply, self.symlink_target(pid, target));
            let rp = tri!(
                reply,
                vfs_core::reparse::symlink_for_target(&nt, self.drive_letter)
                    .map_err(|_| Errno::EINVAL)
            );
            let new = NewFile {
                kind: if is_dir {
                    FileKind::Directory
                } else {
                    FileKind::File
                },
                attributes: 0,
                uid: Some(req.uid()),
                gid: Some(req.gid()),
                mode: Some(0o777),
            };
            let id = tri!(
                reply,
                self.vol
                    .create_reparse_at(pid, &units, &new, &rp)
                    .map_err(errno)
            );
            self.reply_entry(reply, parent.0, link_name, id, false);
        })
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        guarded("rename", || {
            if flags.intersects(RenameFlags::RENAME_EXCHANGE | RenameFlags::RENAME_WHITEOUT) {
                // NTFS cannot swap two names atomically (no FILE_RENAME_INFORMATION flag does).
                return reply.error(Errno::EINVAL);
            }
            let spid = tri!(reply, self.nodes.live(parent.0));
            let dpid = tri!(reply, self.nodes.live(newparent.0));
            let sname = tri!(reply, name_units(name));
            let dname = tri!(reply, name_units(newname));
            let (src, _, _, _) = tri!(reply, self.vol.lookup_stat(spid, &sname).map_err(errno));
            let dst = self.vol.lookup_stat(dpid, &dname).ok().map(|r| r.0);
            // rename(2) replaces an existing target, even one open elsewhere, and an empty
            // directory: FILE_RENAME_REPLACE_IF_EXISTS | FILE_RENAME_POSIX_SEMANTICS (A6).
            // RENAME_NOREPLACE: plain MoveFileEx, an existing target → EEXIST.
            let replace = !flags.contains(RenameFlags::RENAME_NOREPLACE);
            let rf = vfs_core::RenameFlags {
                replace_if_exists: replace,
                posix_semantics: replace,
                ignore_readonly: false,
            };
            tri!(
                reply,
                self.vol
                    .rename(spid, &sname, dpid, &dname, rf)
                    .map_err(errno)
            );
            let mut names = Vec::new();
            if self.nodes.is_aliased(src) {
                names.extend(self.retire(src));
            }
            if let Some(d) = dst.filter(|&d| d != src) {
                if self.nodes.is_aliased(d) {
                    names.extend(self.retire(d));
                }
            }
            reply.ok();
            self.drop_names_later(&names);
        })
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        guarded("link", || {
            let id = tri!(reply, self.nodes.live(ino.0));
            let pid = tri!(reply, self.nodes.live(newparent.0));
            let units = tri!(reply, name_units(newname));
            tri!(
                reply,
                self.vol.hard_link(id, pid, &units).map_err(link_errno)
            );
            self.reply_entry(reply, newparent.0, newname, id, false);
        })
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        guarded("open", || {
            let id = tri!(reply, self.nodes.live(ino.0));
            let access = match flags.acc_mode() {
                OpenAccMode::O_RDONLY => Access::READ,
                OpenAccMode::O_WRONLY => Access {
                    read: false,
                    write: true,
                    delete: false,
                },
                OpenAccMode::O_RDWR => Access::READ_WRITE,
            };
            tri!(reply, self.refuse_unhandled_tag(id));
            // POSIX callers share everything (FILE_SHARE_READ | WRITE | DELETE).
            let h = tri!(reply, self.vol.open(id, access, Share::ALL).map_err(errno));
            if flags.0 & libc::O_TRUNC != 0 && access.write {
                if let Err(e) = self.vol.set_size(id, 0) {
                    let _ = self.vol.close(h);
                    return reply.error(errno(e));
                }
                if req.uid() != 0 {
                    self.kill_suidgid(id);
                }
                self.others_changed(id, ino.0);
            }
            self.open_handles.lock().insert(h.0);
            // KEEP_CACHE: every change to the data goes through this mount's inode (one per file).
            // NOFLUSH: close needs no FLUSH round trip (nothing is buffered here).
            reply.opened(
                FileHandle(h.0),
                FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_NOFLUSH,
            );
        })
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
        guarded("read", || {
            let id = tri!(reply, self.nodes.file_of(ino.0).ok_or(Errno::EBADF));
            let mut buf = vec![0u8; size as usize];
            let n = tri!(reply, self.vol.read(id, offset, &mut buf).map_err(errno));
            reply.data(&buf[..n]);
        })
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        guarded("write", || {
            let id = tri!(reply, self.nodes.file_of(ino.0).ok_or(Errno::EBADF));
            let n = tri!(reply, self.vol.write(id, offset, data).map_err(errno));
            if write_flags.contains(WriteFlags::FUSE_WRITE_KILL_SUIDGID) {
                self.kill_suidgid(id);
            }
            self.others_changed(id, ino.0);
            reply.written(n as u32);
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
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        guarded("release", || {
            self.open_handles.lock().remove(&fh.0);
            let _ = self.vol.close(HandleId(fh.0));
            reply.ok();
        })
    }

    fn fsync(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _ds: bool, reply: ReplyEmpty) {
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        guarded("opendir", || {
            let id = tri!(reply, self.nodes.live(ino.0));
            tri!(reply, self.refuse_unhandled_tag(id));
            let h = tri!(
                reply,
                self.vol.open(id, Access::NONE, Share::ALL).map_err(errno)
            );
            self.open_handles.lock().insert(h.0);
            self.dirs.lock().insert(
                h.0,
                Arc::new(Mutex::new(DirState {
                    file: id,
                    cursors: Vec::new(),
                })),
            );
            reply.opened(FileHandle(h.0), FopenFlags::empty());
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
        guarded("readdir", || {
            let dot = ino.0;
            let r = self.readdir_common(ino.0, fh.0, offset, 4096, |me, off, name, e| match e {
                None => {
                    let d_ino = if off == 1 {
                        dot
                    } else {
                        me.nodes
                            .file_of(dot)
                            .map(|f| me.parent_ino(f))
                            .unwrap_or(ROOT_INO)
                    };
                    reply.add(INodeNo(d_ino), off, FileType::Directory, name)
                }
                Some((id, st)) => {
                    reply.add(INodeNo(me.nodes.ino_of(id)), off, attr::kind(st), name)
                }
            });
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e),
            }
        })
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        guarded("readdirplus", || {
            let dot = ino.0;
            let (f, st) = tri!(reply, self.nodes.stat(&self.vol, dot, true));
            let dot_attr = self.attr_of(dot, f, &st);
            let zero = Duration::ZERO;
            let r = self.readdir_common(dot, fh.0, offset, 4096, |me, off, name, e| match e {
                // "." and ".." carry no lookup reference (the kernel skips them).
                None => reply.add(INodeNo(dot), off, name, &zero, &dot_attr, Generation(0)),
                Some((id, _)) => {
                    let Ok((node, st)) =
                        me.nodes.remember(&me.vol, id, dot, name.as_bytes(), false)
                    else {
                        // Deleted meanwhile: not listed.
                        return false;
                    };
                    let a = me.attr_of(node, id, &st);
                    // A delete-pending name (legacy delete, A2) goes when the file's last
                    // handle closes, outside any request on this name: never cache it.
                    let ttl = if st.delete_pending {
                        &zero
                    } else {
                        &me.entry_ttl
                    };
                    let full = reply.add(INodeNo(node), off, name, ttl, &a, Generation(0));
                    if full {
                        me.nodes.forget(&me.vol, node, 1);
                    }
                    full
                }
            });
            match r {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e),
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
        guarded("releasedir", || {
            self.dirs.lock().remove(&fh.0);
            self.open_handles.lock().remove(&fh.0);
            let _ = self.vol.close(HandleId(fh.0));
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
        guarded("statfs", || {
            let (blocks, bfree, files, ffree) = self.statfs_numbers();
            reply.statfs(
                blocks,
                bfree,
                bfree,
                files,
                ffree,
                attr::BLOCK_SIZE,
                vfs_core::name::MAX_NAME_UNITS as u32,
                attr::BLOCK_SIZE,
            );
        })
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        guarded("setxattr", || {
            let id = tri!(reply, self.nodes.live(ino.0));
            let r = match xa::classify(name.as_bytes()) {
                Special::ReparseData => self.set_reparse(ino.0, id, Some(value), flags),
                Special::Attrib { be } => match xa::decode_u32(value, be) {
                    Some(a) => self.vol.set_attributes(id, a).map_err(errno),
                    None => Err(Errno::EINVAL),
                },
                Special::Crtime { be } => match xa::decode_times(value, be, 1) {
                    Some(t) => self.vol.set_times(id, xa::times_update(&t)).map_err(errno),
                    None => Err(Errno::ERANGE),
                },
                Special::Times { be } => match xa::decode_times(value, be, 4) {
                    Some(t) => self.vol.set_times(id, xa::times_update(&t)).map_err(errno),
                    None => Err(Errno::ERANGE),
                },
                Special::Control(Control::Recase) => self.recase(id, value),
                Special::Control(Control::Save) => self.save_image(id, value),
                Special::Control(_) => Err(Errno::EPERM),
                Special::ReservedUnknown => Err(Errno::EINVAL),
                Special::Stored => {
                    let n = String::from_utf8_lossy(name.as_bytes());
                    let exists = self.vol.xattr(id, &n).map_err(errno);
                    match exists {
                        Err(e) => Err(e),
                        Ok(Some(_)) if flags & libc::XATTR_CREATE != 0 => Err(Errno::EEXIST),
                        Ok(None) if flags & libc::XATTR_REPLACE != 0 => Err(Errno::ENODATA),
                        Ok(_) => self.vol.set_xattr(id, &n, Some(value)).map_err(errno),
                    }
                }
                Special::Unsupported => Err(Errno::EOPNOTSUPP),
            };
            match r {
                Ok(()) => {
                    // Times and attributes live in the inode: drop the cached copy now.
                    self.inval.attrs_now(ino.0);
                    reply.ok()
                }
                Err(e) => reply.error(e),
            }
        })
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        guarded("getxattr", || {
            let id = tri!(reply, self.nodes.live(ino.0));
            let value: Result<Vec<u8>, Errno> = match xa::classify(name.as_bytes()) {
                Special::ReparseData => self.vol.get_reparse_point(id).map_err(errno),
                Special::Attrib { be } => self.vol.stat(id).map_err(errno).map(|s| {
                    // The on-disk flags, as ntfs-3g shows them: NORMAL is only the Win32
                    // face of "no flag set".
                    xa::encode_u32(s.attributes & !vfs_core::attrs::NORMAL, be)
                }),
                Special::Crtime { be } => self
                    .vol
                    .stat(id)
                    .map_err(errno)
                    .map(|s| xa::encode_times(&[s.times.creation], be)),
                Special::Times { be } => self.vol.stat(id).map_err(errno).map(|s| {
                    let t = s.times;
                    xa::encode_times(&[t.creation, t.last_write, t.last_access, t.change], be)
                }),
                Special::Control(c) => self.control_get(id, c),
                Special::ReservedUnknown | Special::Unsupported => Err(Errno::ENODATA),
                Special::Stored => {
                    let n = String::from_utf8_lossy(name.as_bytes());
                    match self.vol.xattr(id, &n) {
                        Ok(Some(v)) => Ok(v),
                        Ok(None) => Err(Errno::ENODATA),
                        Err(e) => Err(errno(e)),
                    }
                }
            };
            let value = tri!(reply, value);
            if size == 0 {
                reply.size(value.len() as u32)
            } else if value.len() > size as usize {
                reply.error(Errno::ERANGE)
            } else {
                reply.data(&value)
            }
        })
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        guarded("listxattr", || {
            let id = tri!(reply, self.nodes.live(ino.0));
            // Only stored attributes are listed; the system.ntfs_* ones are read by name,
            // as on ntfs-3g (`getfattr -d` shows user attributes only).
            let names = tri!(reply, self.vol.xattr_names(id).map_err(errno));
            let mut buf = Vec::new();
            for n in names {
                buf.extend_from_slice(n.as_bytes());
                buf.push(0);
            }
            if size == 0 {
                reply.size(buf.len() as u32)
            } else if buf.len() > size as usize {
                reply.error(Errno::ERANGE)
            } else {
                reply.data(&buf)
            }
        })
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        guarded("removexattr", || {
            let id = tri!(reply, self.nodes.live(ino.0));
            let r = match xa::classify(name.as_bytes()) {
                // ntfs-3g: removing system.ntfs_reparse_data turns a junction or symlink
                // back into the plain (empty) directory or file it was set on.
                Special::ReparseData => self.set_reparse(ino.0, id, None, 0),
                Special::Stored => {
                    let n = String::from_utf8_lossy(name.as_bytes());
                    self.vol.set_xattr(id, &n, None).map_err(|e| match e {
                        vfs_core::Error::ObjectNameNotFound => Errno::ENODATA,
                        e => errno(e),
                    })
                }
                Special::Attrib { .. } | Special::Crtime { .. } | Special::Times { .. } => {
                    Err(Errno::EPERM)
                }
                Special::Control(_) | Special::ReservedUnknown => Err(Errno::EPERM),
                Special::Unsupported => Err(Errno::ENODATA),
            };
            match r {
                Ok(()) => {
                    self.inval.attrs_now(ino.0);
                    reply.ok()
                }
                Err(e) => reply.error(e),
            }
        })
    }

    fn access(&self, _req: &Request, ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        guarded("access", || {
            tri!(reply, self.nodes.live(ino.0));
            reply.ok();
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
        guarded("create", || {
            let pid = tri!(reply, self.nodes.live(parent.0));
            let units = tri!(reply, name_units(name));
            if mode & libc::S_IFMT != 0 && mode & libc::S_IFMT != libc::S_IFREG {
                return reply.error(Errno::EPERM);
            }
            let access = match flags & libc::O_ACCMODE {
                libc::O_WRONLY => Access {
                    read: false,
                    write: true,
                    delete: false,
                },
                libc::O_RDWR => Access::READ_WRITE,
                _ => Access::READ,
            };
            let new = Self::new_file(req, FileKind::File, mode, umask);
            let (id, h) = tri!(
                reply,
                self.vol
                    .create_open(pid, &units, &new, access, Share::ALL)
                    .map_err(errno)
            );
            let (ino, st) =
                match self
                    .nodes
                    .remember(&self.vol, id, parent.0, name.as_bytes(), false)
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = self.vol.close(h);
                        return reply.error(errno(e));
                    }
                };
            self.open_handles.lock().insert(h.0);
            let a = self.attr_of(ino, id, &st);
            reply.created(
                &self.entry_ttl,
                &a,
                Generation(0),
                FileHandle(h.0),
                FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_NOFLUSH,
            );
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
        guarded("fallocate", || {
            let id = tri!(reply, self.nodes.file_of(ino.0).ok_or(Errno::EBADF));
            if mode & !libc::FALLOC_FL_KEEP_SIZE != 0 {
                return reply.error(Errno::EOPNOTSUPP);
            }
            if mode & libc::FALLOC_FL_KEEP_SIZE == 0 {
                let end = tri!(reply, offset.checked_add(length).ok_or(Errno::EFBIG));
                let st = tri!(reply, self.vol.stat(id).map_err(errno));
                if end > st.size {
                    tri!(reply, self.vol.set_size(id, end).map_err(errno));
                    self.others_changed(id, ino.0);
                }
            }
            reply.ok();
        })
    }
}
