//! # backend-fuse — ntlinkfs on Linux
//!
//! Mounts a [`vfs_core::Volume`] through FUSE with [`fuser`] (pure-Rust mount: no libfuse at
//! build time; as root the kernel is asked directly, otherwise the setuid `fusermount3` helper
//! of the `fuse3` package does the mount). The engine decides every NTFS rule; this crate only
//! translates requests, names, kinds and error numbers, and keeps the kernel's caches honest.
//!
//! ```no_run
//! use std::sync::Arc;
//! use vfs_core::{Volume, VolumeOptions};
//! let vol = Arc::new(Volume::new(VolumeOptions::default()));
//! let m = backend_fuse::mount(vol.clone(), "/tmp/drive".as_ref(), &Default::default())?;
//! std::fs::write("/tmp/drive/a.txt", b"hello")?;
//! m.unmount()?;
//! assert_eq!(vol.read_file_path(r"\A.TXT")?, b"hello"); // the volume outlives the mount
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How Linux sees NTFS
//! * Names are case-insensitive and case-preserving (A5); `readdir` lists the stored spelling
//!   in NTFS collation order. Names are WTF-8 on the Linux side (see `names`); a name NTFS
//!   forbids → EINVAL, more than 255 UTF-16 units → ENAMETOOLONG.
//! * Junctions and symbolic links are symlinks. `readlink` gives relative targets with `/`,
//!   absolute targets on the volume's drive letter as `MOUNTPOINT/path`, targets on a mapped
//!   letter as the mapped host path, and other letters as the dangling
//!   `/.ntlinkfs-unmapped/D:/path` ([`vfs_core::UNMAPPED_PREFIX`]). `symlink(2)` makes an
//!   NTFS symbolic link (see `target` for the target forms); it is a directory link when its
//!   target exists and is a directory at creation time, a file link otherwise.
//! * `unlink` of a junction or directory symlink removes the link; `unlink` of a directory →
//!   EISDIR; `rmdir` removes directories (and junctions reached by their real type).
//! * `rename(2)` is MoveFileEx with REPLACE_EXISTING and POSIX semantics (it replaces a target
//!   that is open or an empty directory, as POSIX callers expect); RENAME_NOREPLACE refuses an
//!   existing target (EEXIST); RENAME_EXCHANGE → EINVAL (NTFS has no atomic swap). A rename
//!   between two spellings of one name re-cases it (A6), for files and directories, from `mv`,
//!   `git mv`, `os.rename` or any rename(2) (see "Case-only rename" below);
//!   `setfattr -n user.ntlinkfs.recase -v NEWSPELLING DIR` is the explicit form.
//! * `mknod(2)` of a FIFO, socket (what `bind(2)` of an AF_UNIX socket sends), character or
//!   block device makes the reparse point NTFS stores it as (IO_REPARSE_TAG_LX_FIFO, AF_UNIX,
//!   LX_CHR, LX_BLK; [`vfs_core::SpecialFile`]); device nodes need CAP_MKNOD. `stat` shows the
//!   type and `st_rdev`, and the kernel serves their opens and I/O itself (see `attr`).
//! * Directories report nlink 1, like ntfs-3g. File nlink is the number of names (A1).
//! * Extended attributes: ntfs-3g's `system.ntfs_*` names (see `xattr`; changed only by the
//!   file's owner or a caller with CAP_FOWNER), `user.*` stored per file (UTF-8 names only,
//!   else EILSEQ), and the control attributes `user.ntlinkfs.check` (engine invariant check:
//!   `ok` or the inconsistencies), `user.ntlinkfs.names`, `user.ntlinkfs.fileid`,
//!   `user.ntlinkfs.recase`, `user.ntlinkfs.save`, `user.ntlinkfs.handles`,
//!   `user.ntlinkfs.pid`, `user.ntlinkfs.image`, which answer only the mounting user and root.
//! * Absolute link targets never lead off the drive: `..` stops at the drive's (or mapped
//!   directory's) root; a target longer than a Linux link can be → ENAMETOOLONG.
//!
//! ## Caching (never stale, and fast)
//! The kernel caches names (dentries, for `entry_ttl`) and attributes (for `attr_ttl`) and asks
//! the file system only when they expire. Its name cache is keyed by exact spelling, so one NTFS
//! file can sit in it under several spellings (`Foo`, `foo`); and it keeps an inode's file type
//! for the inode's life. The scheme:
//! 1. Missing names are cached, with exact bookkeeping (module `negative`). A LOOKUP that
//!    finds nothing answers node id 0 with the entry TTL, a negative entry the kernel keeps,
//!    so repeated misses (PATH, include and import probing) cost no request; each spelling so
//!    answered is recorded per directory under its canonical (upcased) form. Whatever makes a
//!    recorded name exist in that directory under any spelling — CREATE, MKNOD, MKDIR,
//!    SYMLINK, LINK, RENAME, a re-case, or a call on the [`vfs_core::Volume`] itself — is seen
//!    by the volume's [`vfs_core::NameWatcher`] under the engine's lock, and when a spelling
//!    other than the one the kernel itself turns positive for that request is recorded, the
//!    connection's epoch is raised before anything can see the name (FUSE_NOTIFY_INC_EPOCH:
//!    no kernel lock, so safe inside requests that hold the directory's lock; every cached
//!    name, negative ones included, is revalidated once) and the record starts afresh. A
//!    directory whose case rule changes or that becomes a junction raises it too when misses
//!    below it are recorded. A miss that races a change to its directory is answered
//!    uncached (a generation per directory shard, read before the engine is asked). Never
//!    recorded, so never cached: delete-pending names (EACCES), invalid or too long names, a
//!    case-only rename's new name (its TTL-0 ENOENT). At most 16,384 spellings are recorded;
//!    one more raises the epoch and clears them. On kernels without FUSE_NOTIFY_INC_EPOCH
//!    (before Linux 6.16) misses are errors, which leave the kernel's negative entry expired,
//!    so nothing is cached, as before.
//! 2. Positive entries and attributes are cached for the TTLs. Changes made through the mount
//!    update the kernel's copy as part of the reply (link counts, sizes, times), and handlers
//!    that change attributes another way (xattrs) drop the inode's cached attributes before
//!    replying (FUSE_NOTIFY_INVAL_INODE for attributes takes no sleeping kernel lock, so it is
//!    safe inside any request).
//! 3. A lookup under a spelling other than the stored one marks the file *aliased*. When an
//!    aliased file loses or changes a name (unlink, rename, being replaced), or any file changes
//!    type (a directory becomes a junction or stops being one), its kernel node is *retired*
//!    before the reply: its cached attributes are dropped, and from then on every path-based
//!    request on that node answers ESTALE. The kernel's path walk retries once with
//!    LOOKUP_REVAL, which revalidates every cached name on the path, and the next lookup
//!    hands out a fresh node (so a retired file gets a new inode number). Because the kernel
//!    must ask the file system for attributes it no longer has, the very next stat, open,
//!    access or walk through a stale name gets the new state — no EIO, no wait for a TTL.
//!    Requests that carry a file handle (read, write, fstat-like getattr with a handle) keep
//!    working on a retired node, so open files are never disturbed. On kernels with the epoch
//!    (rule 1) a name change that keeps the file and its kind retires nothing: unlinking one
//!    name of an aliased file that keeps other names (hard links), renaming an aliased file,
//!    and replacing one name of an aliased file that keeps others raise the epoch instead, so
//!    the old name's cached spellings are looked up again (ENOENT) while the file keeps its
//!    node and its `st_ino`. Retiring is left for a change of kind and for a file that loses
//!    its last name. A rename records the name the kernel moved its dentry to, so that a later
//!    retirement drops that name too.
//! 4. The stale names themselves are dropped with FUSE_NOTIFY_INVAL_ENTRY *after* the reply,
//!    from a separate thread: the kernel holds the directory lock for unlink/rename/create
//!    while waiting for the reply, and the invalidation takes that lock, so doing it inside
//!    the handler would deadlock. For setxattr/removexattr of `system.ntfs_reparse_data` (no
//!    directory lock held) the reply waits for those invalidations (200 ms at most), so even
//!    calls that never reach the file system (readlink on a name the kernel still thinks is a
//!    directory) see the new kind. The invalidation needs the directory lock that an
//!    unanswered lookup in the same directory holds, so a serving thread blocked on it would
//!    stall that lookup and everything behind it (with one serving thread, the default on 1
//!    or 2 CPUs, every request). So the serving thread drops the
//!    names itself only when no request is waiting to be read, and the mount keeps a spare
//!    serving thread parked ([`MountOptions::spare_thread`], module `spare`), which a timer
//!    wakes to serve if the invalidation is still blocked after 1 ms (a lookup that took the
//!    lock in between).
//!    Otherwise the reply goes to the invalidation thread, which sends it right after the
//!    names are dropped. Either way a guard thread sends it after 200 ms if the invalidation
//!    is stuck behind a lock chain (an `rmdir` of the same directory holds its parent and
//!    waits for the directory, which the setxattr holds). The image save, which waits for its
//!    writes, runs on the mount's worker thread ([`MountOptions::wait_worker`]), which sends
//!    its reply.
//!
//! 5. A node is bound to the file type it was created with; every reply carrying attributes is
//!    checked against it under the node table's lock, and a mismatch retires the node instead
//!    of answering. The kernel marks an inode bad (EIO, what ntfs-3g users see after turning a
//!    directory into a junction) when a reply gives an inode another type; this binding makes
//!    that impossible even for requests racing with the change.
//! 6. Names that are delete-pending (legacy delete) are listed by READDIRPLUS with TTL 0: they
//!    go when the file's last handle closes, outside any request on the name.
//!
//! 7. With the writeback cache ([`MountOptions::writeback_cache`], off by default) a
//!    write(2) lands in the kernel's page cache and reaches the engine later (close writes
//!    every dirty page back, even with FOPEN_NOFLUSH; so do fsync, syncfs and the flusher),
//!    and the kernel keeps its own size, mtime and ctime for a regular file, ignoring the
//!    daemon's in every reply (fs/fuse `fuse_get_cache_mask`). The daemon cannot ask for one
//!    inode's dirty pages; it asks for the whole mount's with a syncfs(2), from the worker
//!    thread (such a mount always has one), never a serving thread, whose WRITEs that syncfs
//!    causes; syncfs returns once the kernel has sent them (on Linux 6.18 it does not wait
//!    for a FUSE mapping's write-back), so the worker then waits until the connection's
//!    count of unanswered requests (`/sys/fs/fuse/connections/N/waiting`) is down to its own
//!    request, 5 s at most. It does so before the engine is read for what writes change: the control
//!    attributes `check`, `system.ntfs_times`, `system.ntfs_attrib`, `user.ntlinkfs.save`
//!    (whose setxattr holds the root's inode lock: write-back takes no such lock, no deadlock
//!    on Linux 6.18); a caller of the volume's API uses [`MountHandle::sync`]. The end of the
//!    session needs nothing: it comes only after every file is closed, so written back (a
//!    lazy unmount with a file open and mapped loses nothing, `tests/writeback.rs`). Times:
//!    WRITEs from the page cache (FUSE_WRITE_CACHE) leave the engine's times alone, and the
//!    SETATTR the kernel sends after the data (`fuse_flush_times`: FATTR_MTIME and FATTR_CTIME
//!    with the writer's handle) sets LastWriteTime and ChangeTime to what stat showed, so they
//!    never jump ahead to the write-back time and back; the permission checks let that
//!    SETATTR through for a writer who is not the owner (docs/RELIABILITY.md §8). Names of one
//!    file (hard links, spellings) share one kernel inode and one page cache. A second kernel
//!    node of a file (rule 3's fresh node beside a retired one still open) has its own: the
//!    LOOKUP that hands out a node of such a file and every open of it wait (on the worker)
//!    for a syncfs, so the fresh node starts with the written size and data, and its handles
//!    get FOPEN_DIRECT_IO, so what they write is in the engine at once and the other node's
//!    pages are dropped after the reply (`others_changed`). DiskFull (A8): while the volume's
//!    free space is below twice the bdi's `max_bytes` (what the kernel lets this mount hold
//!    dirty; FUSE gives each connection `max_ratio` 1 with `strict_limit`), opens for writing
//!    get FOPEN_DIRECT_IO, so the write(2) that does not fit fails with ENOSPC and the
//!    engine's all-or-nothing write keeps what was written before. The kernel stamps no times
//!    for a write through a direct handle (only for one through its page cache) and ignores
//!    the daemon's mtime and ctime of a regular file in every reply and after an attribute
//!    invalidation, so stat would keep the mtime from before the write for good (measured);
//!    the engine does not stamp such a WRITE itself, and right after it a thread of the
//!    daemon's own runs `utimensat(name, UTIME_OMIT, UTIME_NOW)` through the mount, so the
//!    kernel stamps its "now" and sends it as for any touch: LastWriteTime comes from the
//!    kernel's clock for every write of a regular file and only moves forward, whichever of
//!    a cached and a direct write comes last (module `writeback`). Limits: a file opened for
//!    writing while space was plentiful keeps caching, so filling the volume through it fails
//!    at write-back (close or fsync get ENOSPC; the pages are not in the engine); a size
//!    change through one of two nodes is not seen in stat through the other until it is
//!    looked up afresh (the kernel trusts its own size); a time SETATTR the flusher sends
//!    without a handle (no file open for writing any more: only a race with close leaves
//!    one) is checked as a utimensat; changes made to the volume directly are not seen in
//!    the size or times of a file the kernel already knows; for the milliseconds between a
//!    direct write(2) and its touch, stat and LastWriteTime both show the times from before
//!    it (the control attributes, the save and [`MountHandle::sync`] wait for the touches
//!    first; a file with no name left, or one the daemon may not touch, gets the daemon's
//!    time in the engine and keeps the older one in stat); a write through the page cache of
//!    a retired node does not change LastWriteTime (that node's time SETATTR is answered
//!    without a change, see below). `system.ntfs_times` on a regular
//!    file retires its node (rule 3): the kernel would keep its own mtime and ctime, and even
//!    writes them back right after the setxattr (`fuse_update_ctime`), which a retired node's
//!    time SETATTR is answered without doing; the file gets a new inode number. Name changes
//!    cost one more round trip each with the cache: after a link, rename or unlink of a
//!    regular file the kernel stamps its ctime and sends it at once (300 SETATTR for 100 each
//!    of `ln`, `mv`, `rm`, fuse tracepoint on Linux 6.18); FLUSH, which the kernel sends at
//!    every close with the cache despite FOPEN_NOFLUSH, is answered ENOSYS once, so it stops.
//! 8. With passthrough ([`MountOptions::passthrough`]; module `passthrough`) the first open
//!    for writing of a regular file lends its data to a backing file on a private tmpfs, and
//!    the kernel serves that open's read(2), write(2), splice and mmap from it, with no
//!    request and no page cache of the FUSE inode; every open of the file while it is lent
//!    is a passthrough open of the same backing file (the kernel keeps one I/O mode per
//!    inode, and fails an open of the other mode with EIO), through any of its nodes; the
//!    last RELEASE gives the data back to the engine. A file open without passthrough is not
//!    lent by a later open for writing while it stays open. No name operation changes: the
//!    kernel still asks for every name and attribute as without it. What the kernel caches:
//!    after a passthrough write it drops the node's size and times itself, so the next stat
//!    asks, and the daemon answers from the backing file (size, allocation) after stamping
//!    the write (LastWriteTime, ChangeTime, ARCHIVE: a change of the backing file's size,
//!    mtime or ctime since the daemon last looked is a write; tmpfs gives a change after a
//!    look a new ctime on Linux 6.13 and later). The pages every node of the file had
//!    cached are dropped when it is lent (no open without passthrough is left then, so no
//!    READ can be waiting for them), and when the data comes back it fills the page cache of
//!    the node whose open was the last (FUSE_NOTIFY_STORE, data ranges only), so the first
//!    read after costs no READ; the file's other nodes drop their attributes. Limits:
//!    another kernel node of a lent file (a retired node still open) is not told of a write
//!    through this one, and shows the old size until its attributes expire or the daemon
//!    answers for it, and reads through it come from the daemon;
//!    a write past NTFS's largest file size is not refused (EFBIG) but cut at the maximum
//!    when the data comes back; a gap a write leaves on a volume without `sparse_on_extend`
//!    and without room for it makes the file sparse instead of failing with ENOSPC.
//!
//! Verified on Linux 6.18 by `tests/cache.rs` (each case 200 times, plus two threads racing
//! changes against readers) and, for rule 1, `tests/negative.rs` (LOOKUPs counted with the
//! kernel's `fuse_request_send` tracepoint). Residual limits: a call through a stale name costs one extra round
//! trip (the ESTALE retry). A retired file's inode number changes (renaming an aliased file,
//! or replacing an aliased file that has other hard links, still retires it). `fstat` on a file whose node
//! was retired while it was open answers ESTALE (the kernel sends fstat as a plain GETATTR,
//! indistinguishable from stat). A call *racing* with a kind change of the same path can find
//! its single LOOKUP_REVAL retry overtaken by another change and get ESTALE (never EIO).
//! Changes made to the [`vfs_core::Volume`] directly while mounted that remove, rename or
//! re-kind a name, or change attributes, need [`MountHandle::invalidate`], or are seen when
//! the TTLs expire; new names need no call (rule 1: the mount watches the volume's names).
//! An epoch raised for a name under another spelling costs every cached name of the mount
//! one more LOOKUP (an unrelated `stat` after `touch FOO` following a miss on `foo`).
//!
//! ## Case-only rename
//! The kernel's name cache is keyed by exact spelling, but every spelling of an NTFS name
//! leads it to the file's one inode. A rename(2) from `Case.txt` to `CASE.TXT` therefore
//! never reaches a file system: `vfs_rename` returns 0 at once when the old and new names
//! have the same inode, and RENAME_NOREPLACE (which coreutils `mv` tries first) fails with
//! EEXIST in the VFS because the new name exists. The kernel does ask about the new name,
//! though: `fuse_dentry_revalidate` sends a LOOKUP for a cached rename target
//! (LOOKUP_RENAME_TARGET), and an uncached one is looked up anyway. FUSE's LOOKUP carries no
//! intent, so the backend asks the kernel (module `caller`): when a LOOKUP finds a name spelled
//! otherwise than stored (or a file already seen under another spelling), it reads
//! `/proc/TID/syscall` of the requesting thread. If that thread is blocked in rename,
//! renameat or renameat2, its two paths (read from `/proc/TID/mem`; relative paths start at
//! `/proc/TID/cwd` or the dirfd) are compared: when this name is the last component of the new
//! path, the old path's last component is another spelling of the same directory entry, and
//! both paths' directories are this directory (walked through the engine, never through the
//! kernel, which holds the rename's directory locks), the LOOKUP answers ENOENT to that thread.
//! The VFS then sees a rename onto a missing name and sends RENAME, which re-cases the entry
//! (A6: "a target differing only in case gives the new spelling"); the kernel moves its dentry
//! to the new spelling. Every other thread, and every other lookup of the renaming thread,
//! gets the usual answer.
//!
//! The file keeps its one kernel inode: `st_ino` and `st_nlink` do not change, open files and
//! mappings keep working, and data is coherent through every spelling at once because there is
//! one page cache. Every spelling keeps leading to the same file and kind, so no node is
//! retired. A file the kernel had looked up under other spellings stays aliased (rule 3: a
//! later unlink or rename drops every spelling it still holds); one it knew only under the old
//! stored spelling now has only the new one cached (the kernel moved that dentry), so it is not
//! marked. Listings show the new spelling at once (READDIR is never cached).
//!
//! Limits: the daemon must be allowed to read the caller's `/proc/TID/syscall` and
//! `/proc/TID/mem` (ptrace access: the daemon runs as root, or as the caller's user where Yama's
//! `ptrace_scope` is 0 and the caller is dumpable); otherwise, and on architectures other than
//! x86_64 and aarch64 (or 32-bit callers), the rename stays the VFS's no-op, as before, and
//! `user.ntlinkfs.recase` does the job. Both paths must name their directory in the same way as
//! far as the backend can walk them (through directories, `.` and `..`, not through links).
//! A file opened under the new spelling before the rename keeps working, but the kernel
//! dropped that dentry, so `/proc/PID/fd` shows its path with " (deleted)". RENAME_EXCHANGE
//! between two spellings → EINVAL, as any exchange. `git mv` of a directory to another case
//! fails in git itself (it asks for `rename("docs", "Docs/docs")`); git's two steps work.
//! Verified by `tests/case_rename.rs`
//! (coreutils `mv`, `git mv`, Python `os.rename`, rename(2), renameat2 with RENAME_NOREPLACE,
//! hard links, open files and a shared mapping across the rename).
//!
//! A design that gives each spelling its own kernel node (with `st_ino` the file's) was
//! rejected: `mv` would still fail (the new name is positive, so RENAME_NOREPLACE gives EEXIST
//! in the VFS, and `mv` then finds equal `st_dev`/`st_ino` and reports "are the same file":
//! coreutils 9.1 `same_file_ok` has no case-insensitive handling, only a FIXME), and two
//! kernel inodes for one file mean two page caches, which a shared mapping cannot keep
//! coherent at once. (Measured on Linux 6.18 with a minimal fuser file system: `st_ino` was
//! the file's only with attribute TTL 0 for the second node, and `mv a A` still failed with
//! "are the same file"; see ARCHITECTURE.md.)
//!
//! ## Speed
//! Warm `stat` is answered from the kernel's caches (no request). Every data change goes
//! through the one kernel inode of its file, so data pages are kept across opens
//! (FOPEN_KEEP_CACHE); close sends no FLUSH (FOPEN_NOFLUSH); writes go up to 1 MiB per request;
//! FUSE_HANDLE_KILLPRIV_V2 spares the `security.capability` lookup the kernel would otherwise
//! make before every write(2) (the backend clears set-user/group-ID bits itself); link targets
//! stay cached (FUSE_CACHE_SYMLINKS: a walk through a junction costs no READLINK; a target
//! changed by setxattr drops them before the call returns); lookups and
//! readdirs in one directory run in parallel (FUSE_PARALLEL_DIROPS); `ls -l` uses READDIRPLUS.
//! Repeated misses cost nothing after the first (rule 1). Creating a name whose miss is not
//! cached costs a LOOKUP and the operation itself, two round trips where tmpfs needs none;
//! `open(O_CREAT)` without O_EXCL on a cached miss costs only the CREATE (with O_EXCL the
//! kernel asks again: `fuse_dentry_revalidate` treats LOOKUP_EXCL as expired). With the
//! daemon's permission checks (see "Permissions") no GETATTR of the parent comes before it.
//!
//! ## Permissions
//! Who checks the mode bits is [`Permissions`] (`ntlinkfs mount --permission-checks`). On a
//! single-user mount (the default, no `allow_other`) the daemon checks every request itself
//! (module `perm`, one rule per request with the Linux VFS function it follows: search on the
//! directory of each LOOKUP, write and search on the parent with the sticky rule for name
//! changes, open by access mode, access(2) and chdir(2) through FUSE_ACCESS, Linux's owner and
//! group rules for chmod, chown, utimes and truncate, `user.*` xattrs, protected hard links),
//! and the mount has no `default_permissions`. With `default_permissions` the kernel checks
//! from its cached attributes, and since every change to a directory drops them
//! (`fuse_dir_changed`), each name operation cost a GETATTR of the parent first; without it
//! a create is LOOKUP CREATE, a link LOOKUP LINK, a rename LOOKUP RENAME, an unlink UNLINK,
//! as on ntfs-3g (traced with the fuse tracepoints; docs/BENCHMARKS.md).
//!
//! The kernel walks the names it has cached without asking, so nothing checks search
//! permission on them: a chmod or chown that takes search permission from a directory raises
//! the connection's epoch (FUSE_NOTIFY_INC_EPOCH, which takes no lock) before its reply, and
//! every cached name is looked up, and so checked, on its next walk. Every caller of a
//! single-user mount has the mounting user's uid and gid (the kernel refuses any other), so a
//! name cached for one caller is right for the next. With `allow_other` the kernel checks by
//! default; daemon checks there (for testing them with several users) cache no names (entry
//! TTL 0). Linux before 6.16 has no epoch notification and gets `default_permissions`.
//! Verified by `tests/permissions.rs` (each multi-user case against both modes, and a
//! non-root mounter) and pjdfstest run both ways (the same 383 passes).
//!
//! ## Lookup counting
//! Every reply that gives the kernel a node (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK, LINK, each
//! READDIRPLUS entry) counts one lookup; FORGET / BATCH_FORGET take them back. A node with a
//! count keeps its file pinned in the engine ([`vfs_core::Volume::pin`]), so a deleted file
//! the kernel still holds stays valid. At the end of the session every pin and handle is
//! released, so the volume can be checked or saved.

//!
//! ## Files
//! * `glue` — the `impl fuser::Filesystem`: unpacks each request, calls one `core` method,
//!   packs the reply (TTLs, open flags, the xattr size probe). The only file that answers
//!   the kernel.
//! * `core` (with `dir` for listings and `xattr` for extended and control attributes) — what
//!   each request does, on plain values, with no fuser type: the cache decisions (which nodes
//!   to retire, which names to drop after the reply) go out through the `KernelCache` trait,
//!   so they are unit-tested against a recorder without /dev/fuse.
//! * `negative` — the record of missing names the kernel may cache, and the volume watcher
//!   that raises the epoch before a recorded name appears (rule 1).
//! * `nodes` (inode numbers, lookup counts, retirement; its packed storage, 40 bytes a node
//!   with a short name in place, is `nodes/table.rs`), `inval` (the kernel notifications),
//!   `attr`, `names`, `target`, `errno` — the translations; `creds` — who the caller is and
//!   acting with the caller's rights; `mount` — options, mounting, the handle, unmounting.

#![warn(missing_docs)]

mod attr;
mod caller;
mod core;
mod creds;
mod dir;
mod errno;
mod glue;
mod inval;
mod mount;
mod names;
mod negative;
mod nodes;
mod passthrough;
mod perm;
mod spare;
mod target;
mod writeback;
mod xattr;

pub use mount::{
    mount, unmount_now, unmount_path, MountError, MountHandle, MountOptions, Permissions,
    Unmounter, UNMOUNT_WAIT,
};
pub use xattr::CONTROL_PREFIX;
