//! The ceiling reference: the least a FUSE file system can do and still run the workloads.
//!
//! An in-memory tree behind one mutex, served through fuser 0.18 like the ntlinkfs mount, but
//! with no semantics of its own: case-sensitive byte names, no permission checks (and no
//! `default_permissions`, so the kernel asks for nothing beyond the operation itself), no
//! reparse points, no invalidations. It keeps extended attributes as bytes, set and got, so
//! that a junction's calls (mkdir, then setxattr of the reparse buffer) can be timed here as on
//! ntlinkfs (`LinkStyle::JunctionCalls`), and so that it pays what any FUSE file system with
//! xattrs pays: the kernel asks for `security.capability` (GETXATTR, answered ENODATA) at the
//! first write to each file before it marks the inode as having none. One that answered
//! ENOSYS instead would have the kernel stop asking for good, and support no xattrs at all. Whatever ntlinkfs costs above this is ntlinkfs;
//! what this costs is the kernel's round trip through /dev/fuse on this machine (issue 17).
//!
//! It negotiates what backend-fuse negotiates for data and names (1 MiB writes, parallel
//! directory operations, READDIRPLUS, cached symlinks, KEEP_CACHE and NOFLUSH on open) and gives the same
//! 60-second TTLs, so the two differ by their work, not by their kernel settings. It is mounted
//! with 1 and with 2 serving threads and the faster of the two is reported per operation
//! ([`THREADS`]); with the fuse target measured too, its mounts take turns with the fuse
//! target's, which gets as many (`run.rs`).

use anyhow::{Context, Result};
use fuser::{
    AccessFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, InitFlags, KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate,
    ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyWrite,
    ReplyXattr, Request, TimeOrNow, WriteFlags,
};
use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// Serving threads tried; each operation reports the faster (issue 17 measured the ceiling as
/// "the faster of 1 and 2 threads": one thread wins on a loaded machine, two on a quiet one).
pub const THREADS: [usize; 2] = [1, 2];

/// The TTLs backend-fuse's default `MountOptions` give.
const TTL: Duration = Duration::from_secs(60);

/// A directory's entries. Each gets a cookie that never changes, which is its readdir offset:
/// a listing resumed after entries went away (`rm -rf` unlinks while it reads) skips nothing.
#[derive(Default)]
struct Dir {
    by_name: HashMap<OsString, (u64, u64)>,
    by_cookie: BTreeMap<u64, OsString>,
    next_cookie: u64,
}

impl Dir {
    fn get(&self, name: &OsStr) -> Option<u64> {
        self.by_name.get(name).map(|&(ino, _)| ino)
    }
    fn contains_key(&self, name: &OsStr) -> bool {
        self.by_name.contains_key(name)
    }
    fn insert(&mut self, name: &OsStr, ino: u64) {
        self.next_cookie += 1;
        let c = self.next_cookie;
        if let Some((_, old)) = self.by_name.insert(name.to_owned(), (ino, c)) {
            self.by_cookie.remove(&old);
        }
        self.by_cookie.insert(c, name.to_owned());
    }
    fn remove(&mut self, name: &OsStr) {
        if let Some((_, c)) = self.by_name.remove(name) {
            self.by_cookie.remove(&c);
        }
    }
    fn len(&self) -> usize {
        self.by_name.len()
    }
    fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
    /// Up to `max` entries after cookie `after`: (cookie, ino, name).
    fn page(&self, after: u64, max: usize) -> Vec<(u64, u64, OsString)> {
        self.by_cookie
            .range(after + 1..)
            .take(max)
            .map(|(&c, name)| (c, self.by_name[name].0, name.clone()))
            .collect()
    }
}

enum Body {
    File(Vec<u8>),
    Dir(Dir),
    Symlink(OsString),
}

struct Node {
    body: Body,
    perm: u16,
    nlink: u32,
    /// Kernel references (entries replied minus forgotten); the node goes when this and
    /// `nlink` are both zero, so a file open after its last unlink stays readable.
    lookups: u64,
    mtime: SystemTime,
    atime: SystemTime,
    ctime: SystemTime,
    uid: u32,
    gid: u32,
    /// Extended attributes, by name.
    xattrs: Vec<(OsString, Vec<u8>)>,
}

struct Tree {
    nodes: HashMap<u64, Node>,
    next: u64,
}

/// The file system served to the kernel.
struct Ceiling {
    tree: Mutex<Tree>,
}

impl Node {
    fn new(body: Body, perm: u16, req: &Request) -> Node {
        let now = SystemTime::now();
        Node {
            nlink: if matches!(body, Body::Dir(_)) { 2 } else { 1 },
            body,
            perm,
            lookups: 0,
            mtime: now,
            atime: now,
            ctime: now,
            uid: req.uid(),
            gid: req.gid(),
            xattrs: Vec::new(),
        }
    }

    fn attr(&self, ino: u64) -> FileAttr {
        let (kind, size) = match &self.body {
            Body::File(d) => (FileType::RegularFile, d.len() as u64),
            Body::Dir(c) => (FileType::Directory, c.len() as u64),
            Body::Symlink(t) => (FileType::Symlink, t.len() as u64),
        };
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
            crtime: self.ctime,
            kind,
            perm: self.perm,
            nlink: self.nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }
}

impl Tree {
    fn node(&mut self, ino: u64) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    fn dir(&mut self, ino: u64) -> Result<&mut Dir, Errno> {
        match &mut self.node(ino)?.body {
            Body::Dir(c) => Ok(c),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The entry the kernel is told about: counts one kernel reference.
    fn entry(&mut self, ino: u64) -> Result<FileAttr, Errno> {
        let n = self.node(ino)?;
        n.lookups += 1;
        Ok(n.attr(ino))
    }

    fn lookup(&mut self, parent: u64, name: &OsStr) -> Result<u64, Errno> {
        self.dir(parent)?.get(name).ok_or(Errno::ENOENT)
    }

    /// Adds a new node named `name` in `parent` and returns its entry.
    fn add(&mut self, parent: u64, name: &OsStr, node: Node) -> Result<FileAttr, Errno> {
        let is_dir = matches!(node.body, Body::Dir(_));
        if self.dir(parent)?.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.next;
        self.next += 1;
        self.nodes.insert(ino, node);
        self.dir(parent)?.insert(name, ino);
        let p = self.node(parent)?;
        p.mtime = SystemTime::now();
        if is_dir {
            p.nlink += 1;
        }
        self.entry(ino)
    }

    /// Drops `ino` when nothing refers to it any more.
    fn reap(&mut self, ino: u64) {
        if ino != INodeNo::ROOT.0 {
            if let Some(n) = self.nodes.get(&ino) {
                if n.nlink == 0 && n.lookups == 0 {
                    self.nodes.remove(&ino);
                }
            }
        }
    }

    /// Takes one name of `ino` away (unlink, rmdir, a replaced rename target).
    fn unname(&mut self, ino: u64) -> Result<(), Errno> {
        let n = self.node(ino)?;
        n.nlink = if matches!(n.body, Body::Dir(_)) {
            0
        } else {
            n.nlink.saturating_sub(1)
        };
        n.ctime = SystemTime::now();
        self.reap(ino);
        Ok(())
    }

    fn remove(&mut self, parent: u64, name: &OsStr, want_dir: bool) -> Result<(), Errno> {
        let ino = self.lookup(parent, name)?;
        match (&self.node(ino)?.body, want_dir) {
            (Body::Dir(c), true) if !c.is_empty() => return Err(Errno::ENOTEMPTY),
            (Body::Dir(_), false) => return Err(Errno::EISDIR),
            (Body::Dir(_), true) => {}
            (_, true) => return Err(Errno::ENOTDIR),
            (_, false) => {}
        }
        self.dir(parent)?.remove(name);
        let p = self.node(parent)?;
        p.mtime = SystemTime::now();
        if want_dir {
            p.nlink -= 1;
        }
        self.unname(ino)
    }

    fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
    ) -> Result<(), Errno> {
        let ino = self.lookup(parent, name)?;
        let moving_dir = matches!(self.node(ino)?.body, Body::Dir(_));
        if let Ok(old) = self.lookup(newparent, newname) {
            if old == ino {
                return Ok(());
            }
            match (&self.node(old)?.body, moving_dir) {
                (Body::Dir(c), true) if !c.is_empty() => return Err(Errno::ENOTEMPTY),
                (Body::Dir(_), true) => {}
                (Body::Dir(_), false) => return Err(Errno::EISDIR),
                (_, true) => return Err(Errno::ENOTDIR),
                (_, false) => {}
            }
            self.remove(newparent, newname, moving_dir)?;
        }
        self.dir(parent)?.remove(name);
        self.dir(newparent)?.insert(newname, ino);
        if moving_dir && parent != newparent {
            self.node(parent)?.nlink -= 1;
            self.node(newparent)?.nlink += 1;
        }
        let now = SystemTime::now();
        self.node(parent)?.mtime = now;
        self.node(newparent)?.mtime = now;
        self.node(ino)?.ctime = now;
        Ok(())
    }
}

impl Ceiling {
    fn tree(&self) -> MutexGuard<'_, Tree> {
        // A panic in a handler cannot leave the tree half-changed in a way that matters to a
        // benchmark that then fails on its own checks; keep serving.
        self.tree.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn entry(reply: ReplyEntry, r: Result<FileAttr, Errno>) {
    match r {
        Ok(a) => reply.entry(&TTL, &a, Generation(0)),
        Err(e) => reply.error(e),
    }
}

fn empty(reply: ReplyEmpty, r: Result<(), Errno>) {
    match r {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

fn time_of(t: TimeOrNow) -> SystemTime {
    match t {
        TimeOrNow::SpecificTime(t) => t,
        TimeOrNow::Now => SystemTime::now(),
    }
}

const OPEN_FLAGS: FopenFlags = FopenFlags::FOPEN_KEEP_CACHE.union(FopenFlags::FOPEN_NOFLUSH);

impl Filesystem for Ceiling {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        for flag in [
            InitFlags::FUSE_PARALLEL_DIROPS,
            InitFlags::FUSE_BIG_WRITES,
            InitFlags::FUSE_ASYNC_READ,
            InitFlags::FUSE_CACHE_SYMLINKS,
            // As backend-fuse: a walk gets names and attributes in one request per batch;
            // without it the ceiling would pay a LOOKUP per entry that ntlinkfs does not.
            InitFlags::FUSE_DO_READDIRPLUS,
            InitFlags::FUSE_READDIRPLUS_AUTO,
            // As backend-fuse: the kernel sets SB_NOSEC, so with getxattr answered it asks for
            // `security.capability` once per file, not before every write(2). (Clearing the
            // set-user-ID bit on write, which this leaves to the file system, is semantics the
            // ceiling does not have; the workloads make no such files.)
            InitFlags::FUSE_HANDLE_KILLPRIV_V2,
        ] {
            let _ = config.add_capabilities(flag);
        }
        let _ = config.set_max_write(1 << 20);
        if let Err(max) = config.set_max_readahead(u32::MAX) {
            let _ = config.set_max_readahead(max);
        }
        let _ = config.set_max_background(64);
        let _ = config.set_congestion_threshold(48);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let mut t = self.tree();
        let r = t.lookup(parent.0, name).and_then(|ino| t.entry(ino));
        entry(reply, r)
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        let mut t = self.tree();
        if let Some(n) = t.nodes.get_mut(&ino.0) {
            n.lookups = n.lookups.saturating_sub(nlookup);
        }
        t.reap(ino.0);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.tree().node(ino.0) {
            Ok(n) => reply.attr(&TTL, &n.attr(ino.0)),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut t = self.tree();
        let n = match t.node(ino.0) {
            Ok(n) => n,
            Err(e) => return reply.error(e),
        };
        if let Some(size) = size {
            match &mut n.body {
                Body::File(d) => d.resize(size as usize, 0),
                _ => return reply.error(Errno::EISDIR),
            }
            n.mtime = SystemTime::now();
        }
        if let Some(m) = mode {
            n.perm = (m & 0o7777) as u16;
        }
        if let Some(u) = uid {
            n.uid = u;
        }
        if let Some(g) = gid {
            n.gid = g;
        }
        if let Some(a) = atime {
            n.atime = time_of(a);
        }
        if let Some(m) = mtime {
            n.mtime = time_of(m);
        }
        n.ctime = SystemTime::now();
        reply.attr(&TTL, &n.attr(ino.0))
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.tree().node(ino.0).map(|n| &n.body) {
            Ok(Body::Symlink(s)) => reply.data(s.as_bytes()),
            Ok(_) => reply.error(Errno::EINVAL),
            Err(e) => reply.error(e),
        }
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
        if mode & libc::S_IFMT != libc::S_IFREG {
            return reply.error(Errno::EPERM);
        }
        let node = Node::new(Body::File(Vec::new()), perm(mode, umask), req);
        entry(reply, self.tree().add(parent.0, name, node))
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
        let node = Node::new(Body::Dir(Dir::default()), perm(mode, umask), req);
        entry(reply, self.tree().add(parent.0, name, node))
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        _flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let mut t = self.tree();
        let r = t.node(ino.0).map(|n| {
            n.xattrs.retain(|(k, _)| k != name);
            n.xattrs.push((name.to_owned(), value.to_vec()));
            n.ctime = SystemTime::now();
        });
        empty(reply, r)
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        let mut t = self.tree();
        let value = match t.node(ino.0) {
            Err(e) => return reply.error(e),
            Ok(n) => n
                .xattrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
        };
        match value {
            None => reply.error(Errno::ENODATA),
            Some(v) if size == 0 => reply.size(v.len() as u32),
            Some(v) if v.len() > size as usize => reply.error(Errno::ERANGE),
            Some(v) => reply.data(&v),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        empty(reply, self.tree().remove(parent.0, name, false))
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        empty(reply, self.tree().remove(parent.0, name, true))
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let node = Node::new(Body::Symlink(target.as_os_str().to_owned()), 0o777, req);
        entry(reply, self.tree().add(parent.0, link_name, node))
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
        if !flags.is_empty() {
            // RENAME_NOREPLACE and RENAME_EXCHANGE are not needed by the workloads.
            return reply.error(Errno::EINVAL);
        }
        empty(
            reply,
            self.tree().rename(parent.0, name, newparent.0, newname),
        )
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let mut t = self.tree();
        let r = (|| {
            if matches!(t.node(ino.0)?.body, Body::Dir(_)) {
                return Err(Errno::EPERM);
            }
            let dir = t.dir(newparent.0)?;
            if dir.contains_key(newname) {
                return Err(Errno::EEXIST);
            }
            dir.insert(newname, ino.0);
            let now = SystemTime::now();
            t.node(newparent.0)?.mtime = now;
            let n = t.node(ino.0)?;
            n.nlink += 1;
            n.ctime = now;
            t.entry(ino.0)
        })();
        entry(reply, r)
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let mut t = self.tree();
        match t.node(ino.0) {
            Ok(n) => {
                if flags.0 & libc::O_TRUNC != 0 {
                    if let Body::File(d) = &mut n.body {
                        d.clear();
                    }
                }
                reply.opened(FileHandle(0), OPEN_FLAGS)
            }
            Err(e) => reply.error(e),
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
        match self.tree().node(ino.0).map(|n| &n.body) {
            Ok(Body::File(d)) => {
                let start = (offset as usize).min(d.len());
                let end = start.saturating_add(size as usize).min(d.len());
                reply.data(&d[start..end])
            }
            Ok(_) => reply.error(Errno::EISDIR),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut t = self.tree();
        let n = match t.node(ino.0) {
            Ok(n) => n,
            Err(e) => return reply.error(e),
        };
        let Body::File(d) = &mut n.body else {
            return reply.error(Errno::EISDIR);
        };
        let Some(end) = (offset as usize).checked_add(data.len()) else {
            return reply.error(Errno::EFBIG);
        };
        if d.len() < end {
            d.resize(end, 0);
        }
        d[offset as usize..end].copy_from_slice(data);
        n.mtime = SystemTime::now();
        reply.written(data.len() as u32)
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok()
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let mut t = self.tree();
        // A reply holds a few hundred entries at most; more would be cloned for nothing.
        let page = match t.dir(ino.0) {
            Ok(d) => d.page(offset, 512),
            Err(e) => return reply.error(e),
        };
        for (cookie, i, name) in page {
            let kind = t
                .nodes
                .get(&i)
                .map_or(FileType::RegularFile, |n| n.attr(i).kind);
            if reply.add(INodeNo(i), cookie, kind, &name) {
                break;
            }
        }
        reply.ok()
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let mut t = self.tree();
        let page = match t.dir(ino.0) {
            Ok(d) => d.page(offset, 512),
            Err(e) => return reply.error(e),
        };
        for (cookie, i, name) in page {
            let Some(n) = t.nodes.get_mut(&i) else {
                continue;
            };
            if reply.add(INodeNo(i), cookie, &name, &TTL, &n.attr(i), Generation(0)) {
                break;
            }
            // The kernel holds a reference for every entry it was given with attributes.
            n.lookups += 1;
        }
        reply.ok()
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        reply.ok()
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let node = Node::new(Body::File(Vec::new()), perm(mode, umask), req);
        match self.tree().add(parent.0, name, node) {
            Ok(a) => reply.created(&TTL, &a, Generation(0), FileHandle(0), OPEN_FLAGS),
            Err(e) => reply.error(e),
        }
    }
}

fn perm(mode: u32, umask: u32) -> u16 {
    (mode & !umask & 0o7777) as u16
}

/// A mounted ceiling file system (unmounted when dropped).
pub struct CeilingMount {
    pub dir: PathBuf,
    session: Option<fuser::BackgroundSession>,
}

impl CeilingMount {
    /// Unmounts and waits for the session to end.
    pub fn finish(mut self) -> Result<()> {
        if let Some(s) = self.session.take() {
            s.umount_and_join()
                .with_context(|| format!("unmounting the ceiling at {}", self.dir.display()))?;
        }
        Ok(())
    }
}

impl Drop for CeilingMount {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = s.umount_and_join();
        }
    }
}

/// Mounts an empty ceiling file system at `dir`, served by `threads` threads.
pub fn mount(dir: &Path, threads: usize) -> Result<CeilingMount> {
    if !Path::new("/dev/fuse").exists() {
        anyhow::bail!("/dev/fuse not found: install fuse3 (apt-get install fuse3)");
    }
    let root_node = Node {
        body: Body::Dir(Dir::default()),
        perm: 0o755,
        nlink: 2,
        lookups: 1,
        mtime: SystemTime::now(),
        atime: SystemTime::now(),
        ctime: SystemTime::now(),
        // SAFETY: getuid and getgid cannot fail.
        uid: unsafe { libc::getuid() },
        gid: unsafe { libc::getgid() },
        xattrs: Vec::new(),
    };
    let fs = Ceiling {
        tree: Mutex::new(Tree {
            nodes: HashMap::from([(INodeNo::ROOT.0, root_node)]),
            next: INodeNo::ROOT.0 + 1,
        }),
    };
    let mut cfg = fuser::Config::default();
    cfg.mount_options = vec![
        fuser::MountOption::FSName("ntlinkfs-bench-ceiling".into()),
        fuser::MountOption::CUSTOM("subtype=ceiling".into()),
    ];
    cfg.acl = fuser::SessionACL::Owner;
    cfg.n_threads = Some(threads.max(1));
    cfg.clone_fd = true;
    let session = fuser::Session::new(fs, dir, &cfg)
        .with_context(|| format!("mounting the ceiling file system at {}", dir.display()))?;
    let bg = session
        .spawn()
        .context("starting the ceiling file system's session")?;
    let m = CeilingMount {
        dir: dir.to_path_buf(),
        session: Some(bg),
    };
    std::fs::metadata(dir).with_context(|| format!("stat of the new mount {}", dir.display()))?;
    Ok(m)
}
