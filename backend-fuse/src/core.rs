//! The request core: what each FUSE request does, without fuser.
//!
//! Every method takes plain values (node numbers, name bytes, the caller's ids) and returns
//! plain results ([`Attr`], handles, bytes, [`Errno`]); `glue` is the thin `impl Filesystem`
//! that unpacks a kernel request, calls one method and packs the reply. No NTFS rule is
//! decided here either — the engine decides; this module maps (names, kinds, errno values)
//! and makes the cache decisions of the crate docs ("Caching"): which nodes are retired,
//! which cached attributes are dropped before the reply and which cached names after it.
//! Those decisions reach the kernel through [`KernelCache`], so the tests below run them
//! against a recorder, without /dev/fuse.
//!
//! The extended attributes (the `system.ntfs_*` names and the control attributes) are the
//! `impl Core` in `xattr`.

use crate::attr::{self, is_link, Attr, Kind};
use crate::caller::{self, CallerProbe, ProcProbe};
use crate::dir::DirState;
use crate::errno::{errno, link_errno, Errno};
use crate::names;
use crate::negative::Negatives;
use crate::nodes::{KernelName, Nodes, ROOT_INO};
use crate::passthrough::Passthrough;
use crate::writeback::{self, Writeback};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
mod links;

use vfs_core::{
    Access, FileId, FileKind, FileTime, HandleId, Name, NewFile, SetTimes, Share, Stat, UnlinkKind,
    Volume,
};

/// The longest link target a READLINK reply may carry: the kernel reads the reply into one
/// page and ends it with a NUL (fs/fuse/dir.c, `fuse_readlink_folio`: PAGE_SIZE - 1), and a
/// Linux symlink target is shorter than PATH_MAX (4096, the NUL included) anyway.
pub(crate) const MAX_LINK_BYTES: usize = libc::PATH_MAX as usize - 1;

/// How the core tells the kernel to forget what it cached (`inval::Invalidator` on a mount).
pub(crate) trait KernelCache: Send + Sync + std::fmt::Debug {
    /// Drops a node's cached attributes, now (safe inside any handler).
    fn attrs_now(&self, ino: u64);
    /// Queues dropping a cached name, done after the reply.
    fn entry_later(&self, parent: u64, name: &[u8]);
    /// Queues dropping a node's cached data pages (a link's cached target).
    fn pages_later(&self, ino: u64);
    /// Drops a node's cached data pages now. The kernel locks each page it drops, and a page
    /// stays locked while a READ of it waits for its answer: only for a node with no open
    /// file the daemon serves reads for (no cached open, so no READ on its way).
    fn pages_now(&self, ino: u64);
    /// Puts `data` into a node's cached pages at `offset` (FUSE_NOTIFY_STORE), now. The kernel
    /// locks each page it fills, as [`KernelCache::pages_now`] does: only where no READ of the
    /// node can be waiting for this thread.
    fn store_pages(&self, _ino: u64, _offset: u64, _data: &[u8]) {}
    /// Waits (briefly) until every queued invalidation is done.
    fn wait(&self);
    /// Runs `reply` once every queued invalidation is done (or after the same brief wait at
    /// most), without holding up the calling thread where the cache can: a mount hands it to
    /// its invalidation thread. The default waits here, then replies.
    fn then(&self, reply: Box<dyn FnOnce() + Send>) {
        self.wait();
        reply()
    }
    /// Drops `names` (a link's old names) and then runs `reply`, as [`KernelCache::then`]
    /// after [`KernelCache::entry_later`] of each: a mount does it on the calling thread
    /// when that cannot deadlock (module `spare`), which saves a thread hop.
    fn names_then(&self, names: Vec<KernelName>, reply: Box<dyn FnOnce() + Send>) {
        for (p, n) in &names {
            self.entry_later(*p, n);
        }
        self.then(reply)
    }
    /// Called by a serving thread after each request it answered (a mount's spare serving
    /// thread parks here, module `spare`).
    fn rest(&self) {}
    /// Makes every name the kernel has cached for this mount, positive or negative, fail its
    /// next revalidation (FUSE_NOTIFY_INC_EPOCH), now: it takes no kernel lock, so it is safe
    /// inside any handler, before the reply. The kernel then asks again (LOOKUP) for each
    /// name it walks; nodes and their cached attributes and pages are kept.
    fn epoch_now(&self);
    /// Does the kernel take [`KernelCache::epoch_now`] (Linux 6.16 and later)? What relies on
    /// it (cached negative lookups, `negative`) is off when it does not.
    fn has_epoch(&self) -> bool;
}

/// Who sends a request (the FUSE request header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The caller's file system user id.
    pub(crate) uid: u32,
    /// The caller's file system group id.
    pub(crate) gid: u32,
    /// The calling thread's process id (0 when the kernel itself sends the request).
    pub(crate) pid: u32,
}

/// The changes one SETATTR asks for (FILETIMEs already converted; `Now` resolved by glue).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SetAttr {
    /// New permission bits (chmod).
    pub(crate) mode: Option<u32>,
    /// New owner (chown).
    pub(crate) uid: Option<u32>,
    /// New group (chown).
    pub(crate) gid: Option<u32>,
    /// New size (truncate).
    pub(crate) size: Option<u64>,
    /// New LastAccessTime.
    pub(crate) atime: Option<FileTime>,
    /// New LastWriteTime.
    pub(crate) mtime: Option<FileTime>,
    /// New ChangeTime.
    pub(crate) ctime: Option<FileTime>,
    /// New CreationTime.
    pub(crate) crtime: Option<FileTime>,
    /// `atime` is "now" (UTIME_NOW, or utimes(NULL)), not a time the caller gave.
    pub(crate) atime_now: bool,
    /// `mtime` is "now".
    pub(crate) mtime_now: bool,
    /// The engine handle the request came through (ftruncate, an O_TRUNC open).
    pub(crate) handle: Option<u64>,
}

/// The kernel-cache side of a mount, for changes made to the volume outside the mount.
#[derive(Debug, Clone)]
pub(crate) struct CacheHandle {
    nodes: Arc<Nodes>,
    inval: Arc<dyn KernelCache>,
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

/// What the requests share.
pub(crate) struct Core {
    pub(crate) vol: Arc<Volume>,
    pub(crate) nodes: Arc<Nodes>,
    pub(crate) root: FileId,
    /// The mount point, canonical, as readlink shows absolute targets on this drive.
    pub(crate) mount_path: String,
    drive_letter: char,
    drive_map: Vec<(char, PathBuf)>,
    pub(crate) inval: Arc<dyn KernelCache>,
    /// What the thread behind a request is doing (a rename(2) in progress, see `caller`).
    pub(crate) probe: Arc<dyn CallerProbe>,
    /// The mounting user: the daemon's effective uid. Only this user and root may use the
    /// control attributes.
    pub(crate) mounter: u32,
    /// The image the daemon saves the drive to at unmount (`user.ntlinkfs.image`).
    pub(crate) image: Option<PathBuf>,
    /// Engine handles opened for the kernel (closed at the end of the session if the kernel
    /// never released them).
    pub(crate) open_handles: Mutex<HashSet<u64>>,
    /// How many RELEASE and RELEASEDIR requests were served, with a condition variable that
    /// wakes whoever waits for one ([`Core::wait_for_release`]).
    releases: (Mutex<u64>, parking_lot::Condvar),
    pub(crate) dirs: Mutex<HashMap<u64, Arc<Mutex<DirState>>>>,
    /// The misses the kernel may cache, and the watcher of the volume that drops them
    /// (crate docs, "Caching", rule 1).
    pub(crate) neg: Arc<Negatives>,
    /// The daemon checks permissions (`perm`; the mount has no `default_permissions`).
    pub(crate) daemon_checks: bool,
    /// FUSE_WRITEBACK_CACHE and what keeps it coherent (module `writeback`).
    pub(crate) writeback: Arc<Writeback>,
    /// FUSE passthrough and the data lent for it (module `passthrough`).
    pub(crate) passthrough: Arc<Passthrough>,
}

/// The name of a request as UTF-16 (see `names`); not WTF-8 → EINVAL.
pub(crate) fn name_units(name: &[u8]) -> Result<Vec<u16>, Errno> {
    names::to_units(name).ok_or(Errno::EINVAL)
}

/// The request's name as an engine [`Name`], validated once against NTFS's name rules (A5);
/// an invalid name → the engine's errno for it (EINVAL, ENAMETOOLONG). Each request makes it
/// where the engine used to check the name, so errors keep their order.
pub(crate) fn engine_name(units: Vec<u16>) -> Result<Name, Errno> {
    Name::from_units(units).map_err(errno)
}

/// Why an engine call with a check of ours failed: our check's errno, or the engine's error.
enum Refused {
    Errno(Errno),
    Engine(vfs_core::Error),
}

impl From<vfs_core::Error> for Refused {
    fn from(e: vfs_core::Error) -> Refused {
        Refused::Engine(e)
    }
}

/// The engine access of open(2) flags.
fn access_of(flags: i32) -> Access {
    match flags & libc::O_ACCMODE {
        libc::O_WRONLY => Access {
            read: false,
            write: true,
            delete: false,
        },
        libc::O_RDWR => Access::READ_WRITE,
        _ => Access::READ,
    }
}

impl Core {
    pub(crate) fn new(
        vol: Arc<Volume>,
        mount_path: &Path,
        inval: Arc<dyn KernelCache>,
        image: Option<PathBuf>,
    ) -> Core {
        let root = vol.root();
        let o = vol.options();
        // The engine resolves the volume's own letter on the volume, before any mapping: a
        // mapping of that letter is never followed, so a link is never stored through it.
        let neg = Arc::new(Negatives::new(inval.clone()));
        vol.add_name_watcher(neg.clone());
        let drive_map = o
            .drive_map
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(&o.drive_letter))
            .map(|(k, v)| (*k, PathBuf::from(v)))
            .collect();
        Core {
            drive_letter: o.drive_letter,
            drive_map,
            nodes: Arc::new(Nodes::new(root)),
            root,
            mount_path: mount_path.to_string_lossy().into_owned(),
            inval,
            probe: Arc::new(ProcProbe),
            // SAFETY: geteuid cannot fail.
            mounter: unsafe { libc::geteuid() },
            image,
            open_handles: Mutex::new(HashSet::new()),
            releases: (Mutex::new(0), parking_lot::Condvar::new()),
            dirs: Mutex::new(HashMap::new()),
            neg,
            daemon_checks: false,
            writeback: Arc::new(Writeback::new(false)),
            passthrough: Arc::new(Passthrough::default()),
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

    pub(crate) fn attr_of(&self, ino: u64, id: FileId, st: &Stat) -> Attr {
        let mut stat = st.clone();
        // A few rounds at most: each one that goes on saw the file lent, then given back.
        for _ in 0..4 {
            if let Some(shown) = self.passthrough.settle(&self.vol, id) {
                // Lent (module `passthrough`): the data, its size and allocation are the
                // backing file's; the times and attributes were just brought up to date.
                if let Ok(fresh) = self.vol.stat(id) {
                    stat.times = fresh.times;
                    stat.attributes = fresh.attributes;
                }
                stat.size = shown.size;
                stat.allocation_size = shown.allocation_size;
                stat.resident = shown.resident;
                stat.allocated = shown.stored;
                break;
            }
            if !stat.lent {
                break;
            }
            // Read while lent and given back since (a RELEASE served on another thread):
            // the engine's size was the one from before the lend, so read it again now that
            // the data is back (a lookup beside the last close of a file just written
            // answered size 0: test negative.rs
            // `creating_under_another_spelling_raises_the_epoch_only_then`).
            match self.vol.stat(id) {
                Ok(fresh) => stat = fresh,
                Err(_) => break,
            }
        }
        Attr {
            ino,
            link_len: self.link_len(id, &stat),
            stat,
        }
    }

    /// Sets end of file, of lent data in its backing file (module `passthrough`).
    fn set_size(&self, id: FileId, size: u64) -> Result<(), Errno> {
        match self.passthrough.set_size(&self.vol, id, size) {
            Some(r) => r,
            None => self.vol.set_size(id, size).map_err(errno),
        }
    }

    /// May an open with open(2) `flags` lend the data of the file whose attributes are `st`
    /// to a passthrough backing file? An open for writing, not O_DIRECT, of a regular file
    /// that is no reparse point and not set-user-ID or set-group-ID: the kernel clears those
    /// bits at a write only by asking the daemon (FUSE_WRITE_KILL_SUIDGID), and a passthrough
    /// write asks nothing.
    pub(crate) fn lendable(&self, st: &Stat, flags: i32) -> bool {
        self.passthrough.is_on()
            && access_of(flags).write
            && flags & libc::O_DIRECT == 0
            && st.kind == FileKind::File
            && st.reparse_tag.is_none()
            && st.special.is_none()
            && st.mode & 0o6000 == 0
    }

    /// A file's data was given back after passthrough opens: another kernel node of it (a
    /// retired node still open) may show attributes from before the writes through this one.
    pub(crate) fn given_back(&self, id: FileId) {
        let current = self.nodes.ino_of(id);
        for ino in self.nodes.other_nodes(id, current) {
            self.inval.attrs_now(ino);
        }
    }

    /// Drops every page the kernel caches of `id`'s data, through any of its nodes, now:
    /// before its data is lent (module `passthrough`), when no open of it without
    /// passthrough is left, so no READ of it can be waiting for an answer.
    pub(crate) fn drop_pages(&self, id: FileId) {
        let current = self.nodes.ino_of(id);
        for ino in std::iter::once(current).chain(self.nodes.other_nodes(id, current)) {
            self.inval.pages_now(ino);
        }
    }

    /// A new reference to `id`, seen as `name` in `parent` (one lookup counted).
    fn entry(&self, parent: u64, name: &[u8], id: FileId, aliased: bool) -> Result<Attr, Errno> {
        let (ino, st) = self
            .nodes
            .remember(&self.vol, id, parent, name, aliased)
            .map_err(errno)?;
        Ok(self.attr_of(ino, id, &st))
    }

    /// Retires the nodes of `id` (they answer ESTALE from now on) and drops their cached
    /// attributes now; returns the names to drop from the kernel's cache.
    pub(crate) fn retire(&self, id: FileId) -> Vec<KernelName> {
        let mut names = Vec::new();
        for (ino, n) in self.nodes.retire(id) {
            self.inval.attrs_now(ino);
            names.extend(n);
        }
        names
    }

    /// Drops cached names; called by glue *after* the reply of the request that returned
    /// them (the kernel holds the directory's lock until then, see `inval`).
    pub(crate) fn drop_names_later(&self, names: &[KernelName]) {
        for (p, n) in names {
            self.inval.entry_later(*p, n);
        }
    }

    /// The parent directory node of a directory, for "..".
    pub(crate) fn parent_ino(&self, id: FileId) -> u64 {
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
    fn new_file(who: Caller, kind: FileKind, mode: u32, umask: u32) -> NewFile {
        NewFile {
            kind,
            attributes: 0,
            uid: Some(who.uid),
            gid: Some(who.gid),
            mode: Some(mode & 0o7777 & !umask),
        }
    }

    /// POSIX: a write, truncate or chown by an unprivileged caller clears the set-user-ID bit
    /// and the set-group-ID bit of a group-executable file (FUSE_HANDLE_KILLPRIV_V2 leaves
    /// this to the file system). The mount is `nosuid` anyway; this keeps `stat` honest.
    fn kill_suidgid(&self, id: FileId) {
        if let Ok(st) = self.vol.stat(id) {
            let mode = vfs_core::mode_after_write(st.mode);
            if mode != st.mode {
                let _ = self.vol.set_owner_mode(id, None, None, Some(mode));
            }
        }
    }

    /// An aliased file lost one name (unlinked, or replaced by a rename): does it keep its
    /// node? On a kernel with the epoch, a file that keeps other names (hard links, A1) and
    /// its kind does, so st_ino stays for those names; what retiring was for — the spellings
    /// of the lost name the kernel may still hold — the epoch the caller raises does (every
    /// cached name fails its next revalidation and is looked up again: the lost one ENOENT,
    /// the others the same node). The link count changed, so every node's cached attributes
    /// are dropped now. False: the caller retires the file as before.
    fn keeps_node_after_losing_a_name(&self, id: FileId) -> bool {
        if !self.inval.has_epoch() || !self.vol.stat(id).is_ok_and(|st| st.links > 0) {
            return false;
        }
        let ino = self.nodes.ino_of(id);
        for n in std::iter::once(ino).chain(self.nodes.other_nodes(id, ino)) {
            self.inval.attrs_now(n);
        }
        true
    }

    /// Has the kernel write back everything it holds dirty for this mount (module
    /// `writeback`); nothing without the writeback cache. Only on the worker thread, for
    /// the request it serves (which counts as one in flight until it is answered), sent by
    /// `who`.
    pub(crate) fn sync_kernel(&self, who: Caller) {
        self.writeback.sync_kernel(&self.mount_path, 1, who.pid);
    }

    /// Does file node `ino`'s file have another live kernel node (a retired one still open)?
    pub(crate) fn has_other_nodes(&self, ino: u64) -> bool {
        self.nodes
            .file_of(ino)
            .is_some_and(|id| !self.nodes.other_nodes(id, ino).is_empty())
    }

    /// Should the open (open(2) `flags`) just made on node `ino` get FOPEN_DIRECT_IO (module
    /// `writeback`: another live node of the file, or too little free space for the kernel to
    /// hold writes dirty)?
    pub(crate) fn direct_io(&self, ino: u64, flags: i32) -> bool {
        if !self.writeback.enabled {
            return false;
        }
        let free = self.vol.options().capacity.map(|_| {
            let sp = self.vol.space();
            sp.free_clusters.saturating_mul(sp.cluster_size)
        });
        self.writeback
            .direct_io(access_of(flags).write, self.has_other_nodes(ino), free)
    }

    /// After data or size changed through node `ino`, other nodes of the same file (a
    /// retired node still open beside the current one) must not show old attributes or data.
    pub(crate) fn others_changed(&self, id: FileId, ino: u64) {
        for other in self.nodes.other_nodes(id, ino) {
            self.inval.attrs_now(other);
            self.inval.pages_later(other);
        }
    }

    /// A reparse point whose tag no filter handles (anything but a symlink or a mount point,
    /// which Linux sees as symlinks) cannot be opened: STATUS_IO_REPARSE_TAG_NOT_HANDLED → EIO
    /// (docs/NTFS-RULES.md A4; conformance case S16). lstat and the xattrs still work on it, as
    /// FILE_OPEN_REPARSE_POINT does on Windows.
    pub(crate) fn refuse_unhandled_tag(&self, id: FileId) -> Result<(), Errno> {
        let st = self.vol.stat(id).map_err(errno)?;
        match st.reparse_tag {
            Some(vfs_core::reparse::IO_REPARSE_TAG_SYMLINK)
            | Some(vfs_core::reparse::IO_REPARSE_TAG_MOUNT_POINT)
            | None => Ok(()),
            Some(_) => Err(errno(vfs_core::Error::IoReparseTagNotHandled)),
        }
    }

    /// The end of the session: every handle and pin the kernel left is released, so the
    /// volume can be checked or saved.
    pub(crate) fn destroy(&self) {
        self.writeback.end();
        self.passthrough.return_all(&self.vol);
        for h in self.open_handles.lock().drain() {
            let _ = self.vol.close(HandleId(h));
        }
        self.dirs.lock().clear();
        self.nodes.clear(&self.vol);
        // The volume outlives the mount: its names are no longer this mount's business.
        let w: Arc<dyn vfs_core::NameWatcher> = self.neg.clone();
        self.vol.remove_name_watcher(&w);
    }

    /// LOOKUP by the kernel itself (no caller to consider).
    #[cfg(test)]
    pub(crate) fn lookup(&self, parent: u64, name: &[u8]) -> Result<Attr, Errno> {
        let kernel = Caller {
            uid: 0,
            gid: 0,
            pid: 0,
        };
        self.lookup_from(kernel, parent, name)
    }

    /// LOOKUP sent on behalf of `who`, a missing name as ENOENT (see [`Core::lookup_entry`]).
    #[cfg(test)]
    pub(crate) fn lookup_from(&self, who: Caller, parent: u64, name: &[u8]) -> Result<Attr, Errno> {
        self.lookup_entry(who, parent, name)?.ok_or(Errno::ENOENT)
    }

    /// LOOKUP sent on behalf of `who`: the entry, or None for a name that is missing and
    /// recorded in `negative`, so that the kernel may cache the miss (glue answers node id 0
    /// with the entry TTL). Every other failure, and a miss that cannot be recorded, is an
    /// error, which leaves the kernel's negative entry expired.
    pub(crate) fn lookup_entry(
        &self,
        who: Caller,
        parent: u64,
        name: &[u8],
    ) -> Result<Option<Attr>, Errno> {
        let pid = self.nodes.live(parent)?;
        self.check_lookup(who, pid)?;
        let wanted = engine_name(name_units(name)?)?;
        // Read before the engine is asked: a name made between the two is then either seen
        // by the engine or makes the record refuse the miss (`negative`, races).
        let ticket = self.neg.ticket(pid);
        let found = match self.vol.lookup_stat(pid, &wanted) {
            Ok(f) => f,
            Err(vfs_core::Error::ObjectNameNotFound) => {
                return match ticket {
                    Some(t) if self.neg.missed(t, pid, &wanted, name) => Ok(None),
                    _ => Err(Errno::ENOENT),
                };
            }
            Err(e) => return Err(errno(e)),
        };
        if found.delete_pending {
            // Legacy delete semantics: a delete-pending name cannot be opened (A2:
            // STATUS_DELETE_PENDING → ERROR_ACCESS_DENIED).
            return Err(Errno::EACCES);
        }
        let id = found.id;
        let other_spelling = *found.name != *wanted.display();
        // Only a name spelled otherwise than stored, or a file the kernel has seen under
        // another spelling, can be the new name of a case-only rename: the common lookup
        // never looks at the caller.
        if (other_spelling || self.nodes.is_aliased(id))
            && self.is_case_rename_target(who, pid, name, id, &found.name)
        {
            // The new name of a rename(2) that only changes the case of this entry: answered
            // as missing (and so never cached), so the VFS neither drops the rename as one
            // inode renamed onto itself nor refuses RENAME_NOREPLACE; the RENAME that
            // follows re-cases the entry (crate docs, "Case-only rename"). Never recorded:
            // the name exists, so this answer must not outlive the request.
            return Err(Errno::ENOENT);
        }
        self.entry(parent, name, id, other_spelling).map(Some)
    }

    /// Is `name` in directory `pid` (the entry `display` of `id`) the new name of a rename(2)
    /// that `who` is blocked in, whose old name is another spelling of the same entry in the
    /// same directory?
    fn is_case_rename_target(
        &self,
        who: Caller,
        pid: FileId,
        name: &[u8],
        id: FileId,
        display: &[u16],
    ) -> bool {
        let Some(call) = self.probe.rename_in_progress(who.pid) else {
            return false;
        };
        let (Some((odir, olast)), Some((ndir, nlast))) =
            (caller::split_last(&call.old), caller::split_last(&call.new))
        else {
            return false;
        };
        // The last component of the new path (not a directory on the way to either path),
        // and a real change of spelling (the same bytes are the VFS's own no-op).
        if nlast != name || olast == nlast {
            return false;
        }
        let Some(oname) = names::to_units(olast).and_then(|u| Name::from_units(u).ok()) else {
            return false;
        };
        match self.vol.lookup_stat(pid, &oname) {
            Ok(old) if old.id == id && *old.name == *display => {}
            _ => return false,
        }
        self.host_dir(odir) == Some(pid) && self.host_dir(ndir) == Some(pid)
    }

    /// The directory a host path inside this mount names, walked through the engine alone:
    /// the kernel holds the rename's directory locks while it waits for the reply, so a
    /// kernel path walk from here could wait on them. A path through a link, leaving the
    /// mount or naming something else than a directory → None.
    fn host_dir(&self, dir: &[u8]) -> Option<FileId> {
        let rest = dir.strip_prefix(self.mount_path.as_bytes())?;
        if !rest.is_empty() && rest[0] != b'/' {
            return None; // "/mnt/tx" is not inside "/mnt/t"
        }
        let mut stack = vec![self.root];
        for c in rest.split(|&b| b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => {
                    stack.pop();
                    if stack.is_empty() {
                        return None;
                    }
                }
                _ => {
                    let name = Name::from_units(names::to_units(c)?).ok()?;
                    let found = self.vol.lookup_stat(*stack.last()?, &name).ok()?;
                    if found.stat.kind != FileKind::Directory || is_link(&found.stat) {
                        return None;
                    }
                    stack.push(found.id);
                }
            }
        }
        stack.last().copied()
    }

    /// FORGET.
    pub(crate) fn forget(&self, ino: u64, nlookup: u64) {
        self.nodes.forget(&self.vol, ino, nlookup)
    }

    /// GETATTR (`with_handle`: the request carries an open file handle).
    pub(crate) fn getattr(&self, ino: u64, with_handle: bool) -> Result<Attr, Errno> {
        let (id, st) = self.nodes.stat(&self.vol, ino, with_handle)?;
        Ok(self.attr_of(ino, id, &st))
    }

    /// SETATTR.
    pub(crate) fn setattr(
        &self,
        who: Caller,
        ino: u64,
        a: SetAttr,
        with_handle: bool,
    ) -> Result<Attr, Errno> {
        if self.writeback.enabled && writeback::only_cm_times(&a) && self.nodes.is_retired(ino) {
            // A retired node's kernel inode holds times the file no longer has (it was
            // retired so that the kernel takes new ones, see `xattr` `system.ntfs_times`);
            // the kernel writing them back must not undo that. Answered without a change, and
            // never ESTALE: the kernel would keep that error for the inode's next close. A
            // futimens(2) setting only mtime through a descriptor of a retired node looks the
            // same and is answered the same way (without the cache: ESTALE).
            let (id, st) = self.nodes.stat(&self.vol, ino, true)?;
            return Ok(self.attr_of(ino, id, &st));
        }
        let (id, _) = self.nodes.stat(&self.vol, ino, with_handle)?;
        let privileged = who.uid == 0;
        let (mode, before) = self.check_setattr(who, id, &a)?;
        if a.mode.is_some() || a.uid.is_some() || a.gid.is_some() {
            // The POSIX view of the file's security: one per file, every name sees it (A1).
            self.vol
                .set_owner_mode(id, a.uid, a.gid, mode)
                .map_err(errno)?;
            if before.is_some() {
                self.after_owner_mode(before, &self.vol.stat(id).map_err(errno)?);
            }
        }
        if let Some(size) = a.size {
            self.set_size(id, size)?;
            self.others_changed(id, ino);
        }
        if a.mode.is_none()
            && !privileged
            && (a.size.is_some() || a.uid.is_some() || a.gid.is_some())
        {
            self.kill_suidgid(id);
        }
        if a.atime.is_some() || a.mtime.is_some() || a.ctime.is_some() || a.crtime.is_some() {
            // A write through passthrough before this call is stamped first, so that its
            // time does not replace the one set here later (module `passthrough`).
            self.passthrough.settle(&self.vol, id);
            // With the writeback cache the kernel's mtime and ctime are the file's: a write(2)
            // stamps them in the kernel, and `fuse_flush_times` sends them here when the
            // inode is written back. They become LastWriteTime and ChangeTime as sent, so the
            // engine ends up with exactly what stat showed through the mount; WRITEs from the
            // page cache leave the times alone (`write`), so they never run ahead of the
            // kernel's and then go back.
            let t = SetTimes {
                creation: a.crtime,
                last_access: a.atime,
                last_write: a.mtime,
                change: a.ctime,
            };
            self.vol.set_times(id, t).map_err(errno)?;
        }
        let (_, st) = self.nodes.stat(&self.vol, ino, with_handle)?;
        Ok(self.attr_of(ino, id, &st))
    }

    /// MKNOD without a device number (the unit tests' shorthand); see [`Core::mknod_dev`].
    #[cfg(test)]
    pub(crate) fn mknod(
        &self,
        who: Caller,
        parent: u64,
        name: &[u8],
        mode: u32,
        umask: u32,
    ) -> Result<Attr, Errno> {
        self.mknod_dev(who, parent, name, mode, umask, 0)
    }

    /// MKNOD: a regular file (`S_IFREG`, or no type), or a special file stored as NTFS
    /// stores it, a reparse point of its own tag ([`vfs_core::SpecialFile`]): `S_IFIFO` →
    /// IO_REPARSE_TAG_LX_FIFO, `S_IFSOCK` (bind(2) of an AF_UNIX socket) →
    /// IO_REPARSE_TAG_AF_UNIX, `S_IFCHR` / `S_IFBLK` → IO_REPARSE_TAG_LX_CHR / LX_BLK with
    /// the device number `rdev` (FUSE's encoding, `attr::decode_dev`). Name and reparse
    /// point appear in one engine step. Device nodes need CAP_MKNOD, as mknod(2) on Linux
    /// (the kernel checks it before asking; checked again here for callers that are not the
    /// kernel): otherwise EPERM.
    pub(crate) fn mknod_dev(
        &self,
        who: Caller,
        parent: u64,
        name: &[u8],
        mode: u32,
        umask: u32,
        rdev: u32,
    ) -> Result<Attr, Errno> {
        let (major, minor) = attr::decode_dev(rdev);
        let special = match mode & libc::S_IFMT {
            0 | libc::S_IFREG => None,
            libc::S_IFIFO => Some(vfs_core::SpecialFile::Fifo),
            libc::S_IFSOCK => Some(vfs_core::SpecialFile::Socket),
            libc::S_IFCHR => Some(vfs_core::SpecialFile::CharDevice { major, minor }),
            libc::S_IFBLK => Some(vfs_core::SpecialFile::BlockDevice { major, minor }),
            // S_IFDIR goes through MKDIR and S_IFLNK through SYMLINK; mknod(2) refuses
            // anything else with EINVAL before a file system sees it.
            _ => return Err(Errno::EINVAL),
        };
        if special.is_some_and(|s| s.device().is_some()) && !crate::creds::has_cap_mknod(who) {
            return Err(Errno::EPERM);
        }
        let pid = self.nodes.live(parent)?;
        self.check_create(who, pid)?;
        let units = engine_name(name_units(name)?)?;
        let new = Self::new_file(who, FileKind::File, mode, umask);
        let k = self.neg.kernel_makes(pid, name);
        let id = match special {
            None => self.vol.create(pid, &units, &new),
            Some(s) => self.vol.create_special(pid, &units, &new, s),
        }
        .map_err(errno)?;
        let a = self.entry(parent, name, id, false)?;
        k.replied();
        Ok(a)
    }

    /// MKDIR.
    pub(crate) fn mkdir(
        &self,
        who: Caller,
        parent: u64,
        name: &[u8],
        mode: u32,
        umask: u32,
    ) -> Result<Attr, Errno> {
        let pid = self.nodes.live(parent)?;
        self.check_create(who, pid)?;
        let units = engine_name(name_units(name)?)?;
        let new = Self::new_file(who, FileKind::Directory, mode, umask);
        let k = self.neg.kernel_makes(pid, name);
        let id = self.vol.create(pid, &units, &new).map_err(errno)?;
        let a = self.entry(parent, name, id, false)?;
        k.replied();
        Ok(a)
    }

    /// UNLINK; returns the names glue drops after the reply.
    pub(crate) fn unlink(
        &self,
        who: Caller,
        parent: u64,
        name: &[u8],
    ) -> Result<Vec<KernelName>, Errno> {
        let pid = self.nodes.live(parent)?;
        let units = engine_name(name_units(name)?)?;
        if self.checks_owners(who) {
            // The daemon's permission check reads the directory's and the file's owners and
            // modes (and maybe /proc) outside the engine's lock.
            let found = self.vol.lookup_stat(pid, &units).map_err(errno)?;
            self.check_delete(who, pid, &found.stat)?;
        }
        // A junction or directory symlink shows as a symlink: unlink removes the link
        // itself, as RemoveDirectoryW does on Windows (A2); a file symlink or a file as
        // DeleteFileW does. The kind is seen under the engine's lock of the unlink itself
        // (no lookup of our own before it). The check makes no engine call: it runs under
        // that lock.
        let id = self
            .vol
            .unlink_checked(pid, &units, UnlinkKind::Any, false, |st| {
                if attr::kind(st) == Kind::Directory {
                    return Err(Refused::Errno(Errno::EISDIR));
                }
                Ok(())
            })
            .map_err(|r| match r {
                Refused::Errno(e) => e,
                Refused::Engine(e) => errno(e),
            })?;
        if !self.nodes.is_aliased(id) {
            return Ok(Vec::new());
        }
        if self.keeps_node_after_losing_a_name(id) {
            self.neg.raise_epoch();
            return Ok(Vec::new());
        }
        Ok(self.retire(id))
    }

    /// RMDIR.
    pub(crate) fn rmdir(&self, who: Caller, parent: u64, name: &[u8]) -> Result<(), Errno> {
        let pid = self.nodes.live(parent)?;
        let units = engine_name(name_units(name)?)?;
        if self.checks_owners(who) {
            let found = self.vol.lookup_stat(pid, &units).map_err(errno)?;
            self.check_delete(who, pid, &found.stat)?;
        }
        self.vol
            .unlink(pid, &units, UnlinkKind::Directory, false)
            .map_err(errno)
    }

    /// RENAME with rename(2)'s `flags` (RENAME_*); returns the names glue drops after the
    /// reply.
    pub(crate) fn rename(
        &self,
        who: Caller,
        parent: u64,
        name: &[u8],
        newparent: u64,
        newname: &[u8],
        flags: u32,
    ) -> Result<Vec<KernelName>, Errno> {
        if flags & (libc::RENAME_EXCHANGE | libc::RENAME_WHITEOUT) != 0 {
            // NTFS cannot swap two names atomically (no FILE_RENAME_INFORMATION flag does).
            return Err(Errno::EINVAL);
        }
        let spid = self.nodes.live(parent)?;
        let dpid = self.nodes.live(newparent)?;
        let sname = engine_name(name_units(name)?)?;
        let dname = match engine_name(name_units(newname)?) {
            Ok(n) => n,
            Err(e) => {
                // A missing source is reported before a target name NTFS refuses, as when
                // the source was looked up first.
                self.vol.lookup_stat(spid, &sname).map_err(errno)?;
                return Err(e);
            }
        };
        if self.checks_owners(who) {
            // The daemon's permission checks read both files' owners and modes first (the
            // engine's own lookups below find the same entries under the engine's lock).
            let found_src = self.vol.lookup_stat(spid, &sname).map_err(errno)?;
            let dst = self.vol.lookup_stat(dpid, &dname).ok();
            self.check_rename(
                who,
                spid,
                &found_src.stat,
                dpid,
                dst.as_ref().map(|d| &d.stat),
            )?;
        }
        // rename(2) replaces an existing target, even one open elsewhere, and an empty
        // directory: FILE_RENAME_REPLACE_IF_EXISTS | FILE_RENAME_POSIX_SEMANTICS (A6).
        // RENAME_NOREPLACE: plain MoveFileEx, an existing target → EEXIST.
        let replace = flags & libc::RENAME_NOREPLACE == 0;
        let rf = vfs_core::RenameFlags {
            replace_if_exists: replace,
            posix_semantics: replace,
            ignore_readonly: false,
        };
        let k = self.neg.kernel_makes(dpid, newname);
        let done = self
            .vol
            .rename_report(spid, &sname, dpid, &dname, rf)
            .map_err(errno)?;
        // Nothing below fails: the reply is a success.
        k.replied();
        let src = done.file;
        // Both names are spellings of one entry: a case-only rename. It reaches here when
        // the lookup of the new name was answered as missing (`lookup_from`), or when the
        // kernel held the spellings under two nodes (one of them retired).
        let case_only = done.same_entry;
        let dst = done.replaced;
        if case_only {
            // Only the entry's case changed (A6: a target differing only in case gives the
            // new spelling). Every spelling still leads to the same file of the same kind,
            // so nothing the kernel cached is stale and no node is retired: st_ino and the
            // kernel's one inode (its page cache, open files, mmaps) stay. The kernel moved
            // its dentry to the new name, which is recorded for a later retirement. A file
            // it had looked up under other spellings is aliased already (a later unlink or
            // rename drops them); one it knew only under the old stored spelling now has
            // only the new one in the kernel's cache, so it needs no marking.
            self.nodes.add_name(src, newparent, newname);
            return Ok(Vec::new());
        }
        let mut names = Vec::new();
        let mut epoch = false;
        if self.nodes.is_aliased(src) && !self.inval.has_epoch() {
            names.extend(self.retire(src));
        } else {
            // The kernel moved its dentry to the new name (d_move): remember it, so that a
            // later retirement (the file changing kind: a junction made or removed) drops the
            // name the kernel holds now. Without it only the old name was dropped and a walk
            // through the new one still followed the old link (found by the differential
            // fuzzer; test `a_renamed_junction_that_becomes_a_directory_...` in tests/reparse.rs).
            self.nodes.add_name(src, newparent, newname);
            // An aliased source: the kernel may still hold other spellings of the old name.
            // The file keeps its kind, so its node stays (and st_ino with it); those
            // spellings are dropped by the epoch (each is looked up again: ENOENT now), as
            // for an unlink of one aliased name.
            epoch = self.nodes.is_aliased(src);
        }
        if let Some(d) = dst.filter(|&d| d != src) {
            if self.nodes.is_aliased(d) {
                if self.keeps_node_after_losing_a_name(d) {
                    epoch = true;
                } else {
                    names.extend(self.retire(d));
                }
            }
        }
        if epoch {
            self.neg.raise_epoch();
        }
        Ok(names)
    }

    /// LINK.
    pub(crate) fn link(
        &self,
        who: Caller,
        ino: u64,
        newparent: u64,
        newname: &[u8],
    ) -> Result<Attr, Errno> {
        let id = self.nodes.live(ino)?;
        let pid = self.nodes.live(newparent)?;
        self.check_link(who, id, pid)?;
        let units = engine_name(name_units(newname)?)?;
        let k = self.neg.kernel_makes(pid, newname);
        self.vol.hard_link(id, pid, &units).map_err(link_errno)?;
        let a = self.entry(newparent, newname, id, false)?;
        k.replied();
        Ok(a)
    }

    /// OPEN with open(2)'s `flags`; returns the engine handle.
    pub(crate) fn open(&self, who: Caller, ino: u64, flags: i32) -> Result<u64, Errno> {
        let id = self.nodes.live(ino)?;
        let access = access_of(flags);
        self.check_open(who, id, flags)?;
        self.refuse_unhandled_tag(id)?;
        // POSIX callers share everything (FILE_SHARE_READ | WRITE | DELETE).
        let h = self.vol.open(id, access, Share::ALL).map_err(errno)?;
        if flags & libc::O_TRUNC != 0 && access.write {
            if let Err(e) = self.set_size(id, 0) {
                let _ = self.vol.close(h);
                return Err(e);
            }
            if who.uid != 0 {
                self.kill_suidgid(id);
            }
            self.others_changed(id, ino);
        }
        self.open_handles.lock().insert(h.0);
        Ok(h.0)
    }

    /// READ (through an open handle: works on a retired node).
    pub(crate) fn read(&self, ino: u64, offset: u64, size: u32) -> Result<Vec<u8>, Errno> {
        let id = self.nodes.file_of(ino).ok_or(Errno::EBADF)?;
        let mut buf = vec![0u8; size as usize];
        let n = self.vol.read(id, offset, &mut buf).map_err(errno)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// WRITE (`kill_suidgid`: the kernel asks for FUSE_WRITE_KILL_SUIDGID; `from_cache`: the
    /// kernel writes back its page cache, FUSE_WRITE_CACHE).
    pub(crate) fn write(
        &self,
        ino: u64,
        fh: u64,
        offset: u64,
        data: &[u8],
        kill_suidgid: bool,
        from_cache: bool,
    ) -> Result<u32, Errno> {
        let id = self.nodes.file_of(ino).ok_or(Errno::EBADF)?;
        // A WRITE from the kernel's page cache (FUSE_WRITE_CACHE) arrives when the kernel
        // writes back, seconds after the write(2) whose mtime the kernel already stamped and
        // shows, so the engine leaves the times as they are and the kernel's arrive in the
        // SETATTR that follows the data (see `setattr`). Stamped here, LastWriteTime would
        // first jump to the write-back time and then go back to the kernel's. A WRITE through
        // a direct handle on a writeback mount leaves them too: the kernel stamps no times
        // for it, and is made to stamp them after the reply, which
        // then reach the engine as a SETATTR (`Writeback::direct_written`), so that every
        // write of a regular file on such a mount is stamped by the one (kernel's) clock.
        // Any other write-through WRITE keeps the engine's stamp, which is what the kernel
        // reads back without the cache.
        let direct = !from_cache && self.writeback.is_direct(fh);
        let n = if from_cache || direct {
            self.vol.write_keep_times(id, offset, data)
        } else {
            self.vol.write(id, offset, data)
        }
        .map_err(errno)?;
        if direct {
            self.writeback.direct_written(id);
        }
        if kill_suidgid {
            self.kill_suidgid(id);
        }
        self.others_changed(id, ino);
        Ok(n as u32)
    }

    /// RELEASE of handle `fh` on node `ino`.
    pub(crate) fn release(&self, ino: u64, fh: u64) {
        self.releasing(fh, Some(ino), || {});
    }

    /// Closes the kernel's handle `fh` (after `also`, under the same lock), counts it, and
    /// wakes [`Core::wait_for_release`]. The count's lock is held throughout, so a waiter never
    /// sees the handle gone from `open_handles` before the count that says so.
    /// `ino`: the node of a file's handle, whose cached pages lent data given back fills.
    pub(crate) fn releasing(&self, fh: u64, ino: Option<u64>, also: impl FnOnce()) {
        let (n, cv) = &self.releases;
        let mut g = n.lock();
        also();
        self.open_handles.lock().remove(&fh);
        self.writeback.released(fh);
        // Lent data comes back before the engine's handle closes (a delete at close frees it).
        // The data also fills the node's page cache, which passthrough writes left empty, so
        // that reading the file next costs no READ (module `passthrough`, "Pages").
        let mut fill = |offset: u64, data: &[u8]| {
            if let Some(ino) = ino {
                self.inval.store_pages(ino, offset, data)
            }
        };
        if let Some(id) = self.passthrough.release(&self.vol, fh, &mut fill) {
            self.given_back(id);
        }
        let _ = self.vol.close(HandleId(fh));
        *g += 1;
        drop(g);
        cv.notify_all();
    }

    /// How many RELEASE and RELEASEDIR requests have been served so far.
    pub(crate) fn releases(&self) -> u64 {
        *self.releases.0.lock()
    }

    /// The kernel sends RELEASE in the background: close(2) returns before the daemon hears of
    /// it (the mount opens files with FOPEN_NOFLUSH, so not even a FLUSH comes first). An NTFS
    /// rule that depends on open handles (a directory with an open file below cannot be renamed
    /// or removed, A6; sharing) could then refuse a request its caller made after closing the
    /// file. Such a refusal waits here for the releases already on their way: until a RELEASE
    /// after `seen` is served (returns the new count, so the request is tried again), or
    /// `deadline` passes, or no handle of the kernel's is open any more (None: the refusal
    /// stands).
    pub(crate) fn wait_for_release(&self, seen: u64, deadline: std::time::Instant) -> Option<u64> {
        let (n, cv) = &self.releases;
        let mut g = n.lock();
        loop {
            if *g != seen {
                return Some(*g);
            }
            if self.open_handles.lock().is_empty() {
                return None;
            }
            if cv.wait_until(&mut g, deadline).timed_out() {
                return (*g != seen).then_some(*g);
            }
        }
    }

    /// STATFS: (blocks, free blocks, files, free files, block size): the volume's size and
    /// what its files' clusters use, in clusters (A8, `Volume::space`), so a copy doubles the
    /// used space and a hard link adds none. Files: one per free 1 KiB file record's worth.
    pub(crate) fn statfs(&self) -> (u64, u64, u64, u64, u32) {
        let mut sp = self.vol.space();
        let cluster = sp.cluster_size;
        if sp.lent_reserved != 0 {
            // What is reserved for lent data counts as used as far as the data uses it
            // (module `passthrough`): the pool's pages.
            let used = sp.used_bytes - sp.lent_reserved + self.passthrough.pool_used();
            sp.used_clusters = used.div_ceil(cluster);
            sp.free_clusters = sp.total_clusters.saturating_sub(sp.used_clusters);
        }
        // A file needs one 1 KiB record: that many more fit in the free clusters.
        let ffree = sp.free_clusters.saturating_mul(cluster / 1024);
        let files = ffree.saturating_add(self.vol.file_count() as u64);
        (
            sp.total_clusters,
            sp.free_clusters,
            files,
            ffree,
            cluster as u32,
        )
    }

    /// ACCESS (access(2) and chdir(2) with access(2)'s `mask`): the daemon's check
    /// (`perm`), or nothing more when the kernel checked the mode bits (it sends no ACCESS
    /// with `default_permissions`); a retired node answers ESTALE like every path request.
    pub(crate) fn access(&self, who: Caller, ino: u64, mask: u32) -> Result<(), Errno> {
        let id = self.nodes.live(ino)?;
        self.check_access(who, id, mask)
    }

    /// CREATE with open(2)'s `flags`; returns the entry and the engine handle.
    pub(crate) fn create(
        &self,
        who: Caller,
        parent: u64,
        name: &[u8],
        mode: u32,
        umask: u32,
        flags: i32,
    ) -> Result<(Attr, u64), Errno> {
        let pid = self.nodes.live(parent)?;
        let units = name_units(name)?;
        if mode & libc::S_IFMT != 0 && mode & libc::S_IFMT != libc::S_IFREG {
            return Err(Errno::EPERM);
        }
        self.check_create(who, pid)?;
        let new = Self::new_file(who, FileKind::File, mode, umask);
        let entry_name = engine_name(units)?;
        let k = self.neg.kernel_makes(pid, name);
        let opened = self
            .vol
            .create_open(pid, &entry_name, &new, access_of(flags), Share::ALL)
            .map_err(errno)?;
        let (id, h) = (opened.id, opened.handle);
        let (ino, st) = match self.nodes.remember(&self.vol, id, parent, name, false) {
            Ok(r) => r,
            Err(e) => {
                let _ = self.vol.close(h);
                return Err(errno(e));
            }
        };
        self.open_handles.lock().insert(h.0);
        k.replied();
        Ok((self.attr_of(ino, id, &st), h.0))
    }

    /// FALLOCATE mode 0: end of file grows to the range's end and the range's clusters are
    /// allocated (`Volume::allocate`: ENOSPC past the volume's size, nothing changes).
    /// FALLOC_FL_KEEP_SIZE: nothing (the engine has no allocation past end of file).
    pub(crate) fn fallocate(
        &self,
        ino: u64,
        offset: u64,
        length: u64,
        mode: i32,
    ) -> Result<(), Errno> {
        let id = self.nodes.file_of(ino).ok_or(Errno::EBADF)?;
        if mode & !libc::FALLOC_FL_KEEP_SIZE != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        if mode & libc::FALLOC_FL_KEEP_SIZE == 0 {
            offset.checked_add(length).ok_or(Errno::EFBIG)?;
            match self.passthrough.allocate(&self.vol, id, offset, length) {
                Some(r) => r?,
                None => self.vol.allocate(id, offset, length).map_err(errno)?,
            }
            self.others_changed(id, ino);
        }
        Ok(())
    }
}

/// A [`KernelCache`] that records what the core asked for (tests of the cache decisions).
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// One request to the kernel's cache.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum Inval {
        Attrs(u64),
        Entry(u64, Vec<u8>),
        Pages(u64),
        Wait,
        Epoch,
    }

    #[derive(Debug, Default)]
    pub(crate) struct Recorder(pub(crate) Mutex<Vec<Inval>>);

    impl Recorder {
        pub(crate) fn take(&self) -> Vec<Inval> {
            std::mem::take(&mut *self.0.lock())
        }
    }

    impl KernelCache for Recorder {
        fn attrs_now(&self, ino: u64) {
            self.0.lock().push(Inval::Attrs(ino));
        }
        fn entry_later(&self, parent: u64, name: &[u8]) {
            self.0.lock().push(Inval::Entry(parent, name.to_vec()));
        }
        fn pages_later(&self, ino: u64) {
            self.0.lock().push(Inval::Pages(ino));
        }
        fn pages_now(&self, ino: u64) {
            self.0.lock().push(Inval::Pages(ino));
        }
        fn wait(&self) {
            self.0.lock().push(Inval::Wait);
        }
        fn epoch_now(&self) {
            self.0.lock().push(Inval::Epoch);
        }
        fn has_epoch(&self) -> bool {
            true
        }
    }

    /// A core over a fresh volume mounted (in name only) at /mnt/t, with its recorder.
    pub(crate) fn core() -> (Core, Arc<Recorder>) {
        let vol = Arc::new(Volume::new(vfs_core::VolumeOptions::default()));
        let rec = Arc::new(Recorder::default());
        (Core::new(vol, Path::new("/mnt/t"), rec.clone(), None), rec)
    }

    pub(crate) const ROOT: Caller = Caller {
        uid: 0,
        gid: 0,
        pid: 1,
    };
}

#[cfg(test)]
mod tests {
    use super::testing::{core, Inval, ROOT};
    use super::*;

    /// Rule 3 of the cache scheme: unlinking a file looked up only under its stored spelling
    /// retires nothing; one looked up under another spelling is retired (ESTALE on its old
    /// node, attributes dropped before the reply) and each spelling the kernel may have
    /// cached is handed back to drop after the reply.
    #[test]
    fn unlink_retires_only_an_aliased_file() {
        let (c, rec) = core();
        let plain = c.mknod(ROOT, ROOT_INO, b"plain", 0o100644, 0).unwrap();
        assert!(c.unlink(ROOT, ROOT_INO, b"plain").unwrap().is_empty());
        assert_eq!(c.nodes.live(plain.ino), Ok(FileId(plain.ino)));
        assert!(rec.take().is_empty());

        let a = c.mknod(ROOT, ROOT_INO, b"Foo", 0o100644, 0).unwrap();
        let again = c.lookup(ROOT_INO, b"foo").unwrap();
        assert_eq!(again.ino, a.ino, "an alias is the same node");
        let names = c.unlink(ROOT, ROOT_INO, b"FOO").unwrap();
        assert_eq!(
            names,
            vec![(ROOT_INO, b"Foo"[..].into()), (ROOT_INO, b"foo"[..].into())]
        );
        assert_eq!(rec.take(), vec![Inval::Attrs(a.ino)]);
        assert_eq!(c.nodes.live(a.ino), Err(Errno::ESTALE));
        c.drop_names_later(&names);
        assert_eq!(
            rec.take(),
            vec![
                Inval::Entry(ROOT_INO, b"Foo".to_vec()),
                Inval::Entry(ROOT_INO, b"foo".to_vec())
            ]
        );
        c.destroy();
        c.vol.check().unwrap();
    }

    /// A rename retires the aliased source and the aliased file it replaced, not a file
    /// only ever seen under its stored spelling.
    #[test]
    fn rename_retires_aliased_source_and_replaced_target() {
        let (c, rec) = core();
        let src = c.mknod(ROOT, ROOT_INO, b"a", 0o100644, 0).unwrap();
        let dst = c.mknod(ROOT, ROOT_INO, b"b", 0o100644, 0).unwrap();
        assert!(c
            .rename(ROOT, ROOT_INO, b"a", ROOT_INO, b"b", 0)
            .unwrap()
            .is_empty());
        assert!(rec.take().is_empty());
        assert!(c.nodes.live(src.ino).is_ok() && c.nodes.live(dst.ino).is_ok());

        let x = c.mknod(ROOT, ROOT_INO, b"x", 0o100644, 0).unwrap();
        c.lookup(ROOT_INO, b"B").unwrap();
        let names = c.rename(ROOT, ROOT_INO, b"x", ROOT_INO, b"b", 0).unwrap();
        assert_eq!(
            names,
            vec![
                (ROOT_INO, b"a"[..].into()),
                (ROOT_INO, b"b"[..].into()),
                (ROOT_INO, b"B"[..].into())
            ],
            "the replaced file was aliased (its names: a, b where the rename moved the \
             kernel's dentry, and B); the source was not"
        );
        assert_eq!(rec.take(), vec![Inval::Attrs(src.ino)]);
        assert!(c.nodes.live(x.ino).is_ok());
        // RENAME_NOREPLACE onto an existing name, RENAME_EXCHANGE at all: refused.
        c.mknod(ROOT, ROOT_INO, b"y", 0o100644, 0).unwrap();
        assert_eq!(
            c.rename(ROOT, ROOT_INO, b"y", ROOT_INO, b"b", libc::RENAME_NOREPLACE),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            c.rename(ROOT, ROOT_INO, b"y", ROOT_INO, b"z", libc::RENAME_EXCHANGE),
            Err(Errno::EINVAL)
        );
        c.destroy();
        c.vol.check().unwrap();
    }

    /// A fake caller probe: thread 7 is blocked in the given rename, nobody else is.
    #[derive(Debug, Default)]
    struct Renaming(Mutex<Option<crate::caller::RenameCall>>);

    impl CallerProbe for Renaming {
        fn rename_in_progress(&self, tid: u32) -> Option<crate::caller::RenameCall> {
            (tid == 7).then(|| self.0.lock().clone()).flatten()
        }
    }

    fn renaming(c: &mut Core) -> Arc<Renaming> {
        let p = Arc::new(Renaming::default());
        c.probe = p.clone();
        p
    }

    fn thread(pid: u32) -> Caller {
        Caller { pid, ..ROOT }
    }

    fn set(p: &Renaming, old: &str, new: &str) {
        *p.0.lock() = Some(crate::caller::RenameCall {
            old: old.into(),
            new: new.into(),
        });
    }

    /// The new name of a case-only rename the caller is blocked in is answered as missing, to
    /// that thread only; the RENAME that follows re-cases the entry and retires nothing (the
    /// file keeps its node, so st_ino and the kernel's inode stay).
    #[test]
    fn case_only_rename_target_is_missing_to_the_renaming_thread_only() {
        let (mut c, rec) = core();
        let p = renaming(&mut c);
        let f = c.mknod(ROOT, ROOT_INO, b"Case.txt", 0o100644, 0).unwrap();
        set(&p, "/mnt/t/Case.txt", "/mnt/t/CASE.TXT");
        assert_eq!(
            c.lookup_from(thread(7), ROOT_INO, b"CASE.TXT").unwrap_err(),
            Errno::ENOENT
        );
        assert_eq!(
            c.lookup_from(thread(8), ROOT_INO, b"CASE.TXT").unwrap().ino,
            f.ino
        );
        assert_eq!(
            c.lookup_from(thread(7), ROOT_INO, b"Case.txt").unwrap().ino,
            f.ino
        );
        rec.take();
        let names = c
            .rename(
                ROOT,
                ROOT_INO,
                b"Case.txt",
                ROOT_INO,
                b"CASE.TXT",
                libc::RENAME_NOREPLACE,
            )
            .unwrap();
        assert!(names.is_empty());
        assert!(rec.take().is_empty(), "nothing retired or dropped");
        let id = FileId(f.ino);
        assert_eq!(c.vol.link_paths(id).unwrap(), ["\\CASE.TXT"]);
        assert_eq!(c.nodes.live(f.ino), Ok(id));
        assert!(c.nodes.is_aliased(id));
        // Back to the first spelling, now through a spelling that is neither stored nor new
        // (relative ".." included), and the old stored spelling as the new name: it is
        // checked because the file is known to be aliased.
        set(&p, "/mnt/t/sub/../case.TXT", "/mnt/t/./Case.txt");
        c.mkdir(ROOT, ROOT_INO, b"sub", 0o755, 0).unwrap();
        assert_eq!(
            c.lookup_from(thread(7), ROOT_INO, b"Case.txt").unwrap_err(),
            Errno::ENOENT
        );
        c.rename(ROOT, ROOT_INO, b"case.TXT", ROOT_INO, b"Case.txt", 0)
            .unwrap();
        assert_eq!(c.vol.link_paths(id).unwrap(), ["\\Case.txt"]);
        assert_eq!(c.nodes.live(f.ino), Ok(id));
        // A file the kernel only knew under its stored spelling: after the re-case it only
        // knows the new one, so the file is not aliased and a later unlink retires nothing.
        let g = c.mknod(ROOT, ROOT_INO, b"plain", 0o100644, 0).unwrap();
        set(&p, "/mnt/t/plain", "/mnt/t/PLAIN");
        assert_eq!(
            c.lookup_from(thread(7), ROOT_INO, b"PLAIN").unwrap_err(),
            Errno::ENOENT
        );
        c.rename(
            ROOT,
            ROOT_INO,
            b"plain",
            ROOT_INO,
            b"PLAIN",
            libc::RENAME_NOREPLACE,
        )
        .unwrap();
        assert!(!c.nodes.is_aliased(FileId(g.ino)));
        assert!(c.unlink(ROOT, ROOT_INO, b"PLAIN").unwrap().is_empty());
        c.destroy();
        c.vol.check().unwrap();
    }

    /// Only the last component of the new path, in the directory both paths name, with an
    /// old name that is another spelling of the same entry, is answered as missing.
    #[test]
    fn other_lookups_of_a_renaming_thread_are_answered_normally() {
        let (mut c, _) = core();
        let p = renaming(&mut c);
        let d = c.mkdir(ROOT, ROOT_INO, b"dir", 0o755, 0).unwrap();
        c.mknod(ROOT, d.ino, b"dir", 0o100644, 0).unwrap();
        c.mknod(ROOT, ROOT_INO, b"Case.txt", 0o100644, 0).unwrap();
        c.mknod(ROOT, ROOT_INO, b"other", 0o100644, 0).unwrap();
        let ok = |parent: u64, name: &[u8]| c.lookup_from(thread(7), parent, name).is_ok();
        // Walking "DIR" on the way: the same bytes as the new name, but not its directory.
        set(&p, "/mnt/t/DIR/Dir", "/mnt/t/DIR/DIR");
        assert!(ok(ROOT_INO, b"DIR"));
        assert!(!ok(d.ino, b"DIR"), "the new name itself");
        // Into another directory: an ordinary move, not a case change.
        set(&p, "/mnt/t/Case.txt", "/mnt/t/dir/CASE.TXT");
        assert!(ok(ROOT_INO, b"CASE.TXT"));
        // Another file's name as the old name.
        set(&p, "/mnt/t/other", "/mnt/t/CASE.TXT");
        assert!(ok(ROOT_INO, b"CASE.TXT"));
        // The same bytes: the VFS's own no-op.
        set(&p, "/mnt/t/CASE.TXT", "/mnt/t/CASE.TXT");
        assert!(ok(ROOT_INO, b"CASE.TXT"));
        // Paths outside the mount, or leaving it.
        set(&p, "/mnt/tx/Case.txt", "/mnt/tx/CASE.TXT");
        assert!(ok(ROOT_INO, b"CASE.TXT"));
        set(&p, "/mnt/t/../t/Case.txt", "/mnt/t/../t/CASE.TXT");
        assert!(ok(ROOT_INO, b"CASE.TXT"));
        // Through a file as if it were a directory.
        set(&p, "/mnt/t/other/../Case.txt", "/mnt/t/other/../CASE.TXT");
        assert!(ok(ROOT_INO, b"CASE.TXT"));
        c.destroy();
        c.vol.check().unwrap();
    }

    /// A delete-pending name is looked up as EACCES (A2) and listed by READDIRPLUS with
    /// `cache_name` false; every other entry is cacheable and counts one lookup.
    #[test]
    fn delete_pending_names_are_never_cached() {
        let (c, _) = core();
        c.mknod(ROOT, ROOT_INO, b"keep", 0o100644, 0).unwrap();
        c.mknod(ROOT, ROOT_INO, b"gone", 0o100644, 0).unwrap();
        let vfs_core::Opened { handle: h, .. } = c
            .vol
            .open_path(
                r"\gone",
                &vfs_core::OpenOptions {
                    access: Access {
                        read: false,
                        write: false,
                        delete: true,
                    },
                    ..Default::default()
                },
            )
            .unwrap();
        c.vol
            .set_disposition(
                h,
                vfs_core::DispositionFlags {
                    delete: true,
                    posix_semantics: false,
                    ignore_readonly: false,
                },
            )
            .unwrap();
        assert_eq!(c.lookup(ROOT_INO, b"gone").unwrap_err(), Errno::EACCES);
        let fh = c.opendir(ROOT, ROOT_INO, libc::O_RDONLY).unwrap();
        let mut seen = Vec::new();
        c.readdirplus(ROOT, ROOT_INO, fh, 0, |e| {
            seen.push((e.name.to_string_lossy().into_owned(), e.cache_name));
            false
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                (".".into(), false),
                ("..".into(), false),
                ("gone".into(), false),
                ("keep".into(), true)
            ]
        );
        c.releasedir(fh);
        c.vol.close(h).unwrap();
        c.destroy();
        c.vol.check().unwrap();
    }

    /// An offset handed out by readdir resumes after its entry, and a reply that is full
    /// gives the lookup of the entry that did not fit back (READDIRPLUS).
    #[test]
    fn readdir_offsets_resume_and_full_replies_count_nothing() {
        let (c, _) = core();
        for n in [&b"a"[..], b"b", b"c"] {
            let a = c.mknod(ROOT, ROOT_INO, n, 0o100644, 0).unwrap();
            c.forget(a.ino, 1);
        }
        let fh = c.opendir(ROOT, ROOT_INO, libc::O_RDONLY).unwrap();
        // A reply with room for two entries: the third does not fit (add answers true) and
        // the kernel resumes after the last entry it got.
        let mut first = Vec::new();
        c.readdir(ROOT_INO, fh, 0, |_, off, _, name| {
            if first.len() == 2 {
                return true;
            }
            first.push((off, name.to_string_lossy().into_owned()));
            false
        })
        .unwrap();
        assert_eq!(first, vec![(1, ".".to_string()), (2, "..".to_string())]);
        let list = |from: u64| {
            let mut out = Vec::new();
            c.readdir(ROOT_INO, fh, from, |_, off, kind, name| {
                assert_eq!(kind, Kind::File);
                out.push((off, name.to_string_lossy().into_owned()));
                false
            })
            .unwrap();
            out
        };
        let names = |l: Vec<(u64, String)>| l.into_iter().map(|e| e.1).collect::<Vec<_>>();
        let all = list(2);
        assert_eq!(names(all.clone()), ["a", "b", "c"]);
        // Every offset handed out stays valid and resumes after its own entry.
        assert_eq!(names(list(all[0].0)), ["b", "c"], "resumes after a");
        assert!(list(all[2].0).is_empty());
        c.readdirplus(ROOT, ROOT_INO, fh, 2, |_| true).unwrap();
        assert_eq!(
            c.nodes.len(),
            0,
            "the entry that did not fit holds no lookup"
        );
        c.releasedir(fh);
        c.destroy();
    }

    /// Growing by write or truncate through one node drops the attributes and pages of the
    /// file's other nodes (a retired node still open beside the current one).
    #[test]
    fn data_changes_reach_a_files_other_nodes() {
        let (c, rec) = core();
        let a = c.mknod(ROOT, ROOT_INO, b"f", 0o100644, 0).unwrap();
        c.lookup(ROOT_INO, b"F").unwrap();
        let id = FileId(a.ino);
        c.retire(id);
        let b = c.lookup(ROOT_INO, b"f").unwrap();
        assert_ne!(a.ino, b.ino);
        rec.take();
        assert_eq!(c.write(b.ino, 0, 0, b"xyz", false, false), Ok(3));
        assert_eq!(rec.take(), vec![Inval::Attrs(a.ino), Inval::Pages(a.ino)]);
        assert_eq!(
            c.read(a.ino, 0, 10).unwrap(),
            b"xyz",
            "reads through the old node"
        );
        c.destroy();
    }

    /// MKNOD of each special type: the engine file holds the tag's reparse point, the reply
    /// shows the type, mode (umask applied), owner and device number; device nodes only for
    /// a privileged caller; a type mknod(2) never sends → EINVAL.
    #[test]
    fn mknod_makes_special_files_as_reparse_points() {
        let (c, _) = core();
        let root = Caller { pid: 0, ..ROOT };
        let user = Caller {
            uid: 1000,
            gid: 100,
            pid: 0,
        };
        let cases = [
            (&b"fifo"[..], libc::S_IFIFO, 0, user, Kind::Fifo),
            (b"sock", libc::S_IFSOCK, 0, user, Kind::Socket),
            (
                b"null",
                libc::S_IFCHR,
                attr::encode_dev(1, 3),
                root,
                Kind::CharDevice,
            ),
            (
                b"sda1",
                libc::S_IFBLK,
                attr::encode_dev(8, 1),
                root,
                Kind::BlockDevice,
            ),
            (b"reg", libc::S_IFREG, 0, user, Kind::File),
        ];
        for (name, ty, rdev, who, kind) in cases {
            let a = c
                .mknod_dev(who, ROOT_INO, name, ty | 0o666, 0o022, rdev)
                .unwrap();
            assert_eq!(attr::kind(&a.stat), kind);
            assert_eq!(attr::rdev(&a.stat), rdev);
            assert_eq!(
                (a.stat.mode, a.stat.uid, a.stat.gid),
                (0o644, who.uid, who.gid)
            );
            let again = c.getattr(a.ino, false).unwrap();
            assert_eq!(attr::kind(&again.stat), kind);
            let rp = c.vol.get_reparse_point(a.stat.id);
            match a.stat.special {
                Some(sp) => assert_eq!(
                    rp.unwrap(),
                    vfs_core::reparse::ReparseBuffer::special(sp).as_bytes()
                ),
                None => assert!(rp.is_err()),
            }
        }
        assert_eq!(
            c.mknod_dev(user, ROOT_INO, b"c2", libc::S_IFCHR | 0o600, 0, 0x103)
                .unwrap_err(),
            Errno::EPERM
        );
        assert_eq!(
            c.mknod_dev(user, ROOT_INO, b"b2", libc::S_IFBLK | 0o600, 0, 0x801)
                .unwrap_err(),
            Errno::EPERM
        );
        assert_eq!(
            c.mknod_dev(root, ROOT_INO, b"FIFO", libc::S_IFIFO | 0o600, 0, 0)
                .unwrap_err(),
            Errno::EEXIST
        );
        assert_eq!(
            c.mknod_dev(root, ROOT_INO, b"x", libc::S_IFDIR | 0o600, 0, 0)
                .unwrap_err(),
            Errno::EINVAL
        );
        assert!(c.lookup(ROOT_INO, b"c2").is_err());
        c.destroy();
        c.vol.check().unwrap();
    }

    /// Refusals that need no engine: sockets through create, unknown fallocate modes, bad
    /// names.
    #[test]
    fn plain_refusals() {
        let (c, _) = core();
        assert_eq!(
            c.create(ROOT, ROOT_INO, b"s", libc::S_IFSOCK | 0o644, 0, 0)
                .unwrap_err(),
            Errno::EPERM
        );
        assert_eq!(c.lookup(ROOT_INO, b"\xff").unwrap_err(), Errno::EINVAL);
        let (a, h) = c
            .create(ROOT, ROOT_INO, b"f", 0o644, 0o022, libc::O_RDWR)
            .unwrap();
        assert_eq!(a.stat.mode & 0o777, 0o644);
        assert_eq!(
            c.fallocate(a.ino, 0, 10, libc::FALLOC_FL_PUNCH_HOLE),
            Err(Errno::EOPNOTSUPP)
        );
        c.fallocate(a.ino, 0, 10, 0).unwrap();
        assert_eq!(c.getattr(a.ino, true).unwrap().stat.size, 10);
        c.release(a.ino, h);
        c.destroy();
        c.vol.check().unwrap();
    }

    /// Issue 14: a target too long for a READLINK reply is ENAMETOOLONG, never EIO; one
    /// byte shorter still reads. `é` is one UTF-16 unit and two UTF-8 bytes, so a junction
    /// well inside NTFS's 16 KiB limit can exceed Linux's.
    #[test]
    fn too_long_link_targets_are_enametoolong() {
        let (c, _) = core();
        let junction = |n: usize| {
            let t: Vec<u16> = format!("C:\\{}", "é".repeat(n)).encode_utf16().collect();
            vfs_core::reparse::junction_for_target(&t, 'C')
                .unwrap()
                .as_bytes()
                .to_vec()
        };
        // "/mnt/t/" + n × "é" is the POSIX text of C:\<n é's>: 7 + 2n bytes.
        let fits = (MAX_LINK_BYTES - "/mnt/t/".len()) / 2;
        for (name, n, ok) in [
            (&b"fits"[..], fits, true),
            (b"long", fits + 1, false),
            (b"huge", 4000, false),
        ] {
            let d = c.mkdir(ROOT, ROOT_INO, name, 0o755, 0).unwrap();
            c.setxattr(ROOT, d.ino, b"system.ntfs_reparse_data", &junction(n), 0)
                .unwrap();
            let l = c.lookup(ROOT_INO, name).unwrap();
            let r = c.readlink(l.ino);
            if ok {
                assert_eq!(r.unwrap().len(), 7 + 2 * n);
            } else {
                assert_eq!(r, Err(Errno::ENAMETOOLONG), "{n}");
            }
        }
        c.destroy();
    }
}
