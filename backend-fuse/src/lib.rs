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
//!   existing target (EEXIST); RENAME_EXCHANGE → EINVAL (NTFS has no atomic swap). A case-only
//!   rename never reaches a Linux file system (the VFS treats two names of one inode as the
//!   same file); use `setfattr -n user.ntlinkfs.recase -v NEWSPELLING DIR` instead.
//! * Directories report nlink 1, like ntfs-3g. File nlink is the number of names (A1).
//! * Extended attributes: ntfs-3g's `system.ntfs_*` names (see `xattr`), `user.*` stored per
//!   file, and the control attributes `user.ntlinkfs.check` (engine invariant check: `ok` or
//!   the inconsistencies), `user.ntlinkfs.names`, `user.ntlinkfs.fileid`,
//!   `user.ntlinkfs.recase`.
//!
//! ## Caching (never stale, and fast)
//! The kernel caches names (dentries, for `entry_ttl`) and attributes (for `attr_ttl`) and asks
//! the file system only when they expire. Its name cache is keyed by exact spelling, so one NTFS
//! file can sit in it under several spellings (`Foo`, `foo`); and it keeps an inode's file type
//! for the inode's life. The scheme:
//! 1. Negative lookups are never cached (an error reply leaves the kernel's negative entry
//!    expired), so a name that appears is seen at once.
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
//!    working on a retired node, so open files are never disturbed.
//! 4. The stale names themselves are dropped with FUSE_NOTIFY_INVAL_ENTRY *after* the reply,
//!    from a separate thread: the kernel holds the directory lock for unlink/rename/create
//!    while waiting for the reply, and the invalidation takes that lock, so doing it inside
//!    the handler would deadlock. For setxattr/removexattr of `system.ntfs_reparse_data` (no
//!    directory lock held) the handler waits for those invalidations (200 ms at most) before
//!    replying, so even calls that never reach the file system (readlink on a name the kernel
//!    still thinks is a directory) see the new kind.
//!
//! 5. A node is bound to the file type it was created with; every reply carrying attributes is
//!    checked against it under the node table's lock, and a mismatch retires the node instead
//!    of answering. The kernel marks an inode bad (EIO, what ntfs-3g users see after turning a
//!    directory into a junction) when a reply gives an inode another type; this binding makes
//!    that impossible even for requests racing with the change.
//! 6. Names that are delete-pending (legacy delete) are listed by READDIRPLUS with TTL 0: they
//!    go when the file's last handle closes, outside any request on the name.
//!
//! Verified on Linux 6.18 by `tests/cache.rs` (each case 200 times, plus two threads racing
//! changes against readers). Residual limits: a call through a stale name costs one extra round
//! trip (the ESTALE retry). A retired file's inode number changes. `fstat` on a file whose node
//! was retired while it was open answers ESTALE (the kernel sends fstat as a plain GETATTR,
//! indistinguishable from stat). A call *racing* with a kind change of the same path can find
//! its single LOOKUP_REVAL retry overtaken by another change and get ESTALE (never EIO).
//! Changes made to the [`vfs_core::Volume`] directly while mounted need
//! [`MountHandle::invalidate`], or are seen when the TTLs expire.
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
//! What cannot be avoided: creating a name costs a LOOKUP (missing names are never cached,
//! rule 1) and the operation itself, two round trips where tmpfs needs none.
//!
//! ## Lookup counting
//! Every reply that gives the kernel a node (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK, LINK, each
//! READDIRPLUS entry) counts one lookup; FORGET / BATCH_FORGET take them back. A node with a
//! count keeps its file pinned in the engine ([`vfs_core::Volume::pin`]), so a deleted file
//! the kernel still holds stays valid. At the end of the session every pin and handle is
//! released, so the volume can be checked or saved.

#![warn(missing_docs)]

mod attr;
mod core;
mod dir;
mod errno;
mod glue;
mod inval;
mod mount;
mod names;
mod nodes;
mod target;
mod xattr;

pub use mount::{
    mount, unmount_path, MountError, MountHandle, MountOptions, Unmounter, UNMOUNT_WAIT,
};
pub use xattr::CONTROL_PREFIX;
