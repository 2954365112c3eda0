//! `posix:DIR`: any mounted directory, driven through Linux system calls and the
//! ntfs-3g-compatible extended attributes. An ntlinkfs mount, an ntfs-3g mount and anything
//! else can be judged this way. The system calls are `host::sys`'s, the ones the differential
//! fuzzer makes too.
//!
//! How each NTFS operation is expressed (and where it cannot be):
//!
//! | NTFS operation              | POSIX expression                                                    |
//! |-----------------------------|---------------------------------------------------------------------|
//! | CreateFileW(CREATE_NEW)     | `open(O_CREAT\|O_EXCL)`                                             |
//! | CreateHardLinkW             | `link(2)` (does not follow a symlink, as CreateHardLinkW, A1)       |
//! | FindFirstFileNameW          | every entry of the case's sandbox with the same `st_dev`/`st_ino`, found by a walk that never follows links |
//! | CreateSymbolicLinkW         | create an empty file (or directory) and set `system.ntfs_reparse_data` to the buffer CreateSymbolicLinkW writes (ntfs-3g's own `symlink(2)` makes Interix links, not reparse points) |
//! | `mklink /J`                 | `mkdir` and set `system.ntfs_reparse_data` to the buffer `mklink /J` writes |
//! | FSCTL_SET/GET_REPARSE_POINT | `lsetxattr`/`lgetxattr` of `system.ntfs_reparse_data`               |
//! | FSCTL_DELETE_REPARSE_POINT  | `lremovexattr`; the header's tag cannot be passed, so a tag that differs from the stored one is n/a |
//! | SetFileAttributesW          | `lsetxattr system.ntfs_attrib`, 4 bytes little-endian               |
//! | GetFileInformationByHandle  | `stat`/`lstat`: FileId = `st_ino`, NumberOfLinks = `st_nlink`; attributes from `system.ntfs_attrib`, tag from the first 4 bytes of `system.ntfs_reparse_data` |
//! | CreateFileW + handle        | `open(2)`; only "share everything" is expressible                   |
//! | DeleteFileW                 | `unlink(2)`; on a directory link n/a (unlink cannot tell DeleteFileW from RemoveDirectoryW) |
//! | RemoveDirectoryW            | `rmdir(2)`, or `unlink(2)` on a junction or directory symlink (shown as a symlink) |
//! | MoveFileExW                 | `renameat2(RENAME_NOREPLACE)` without REPLACE_EXISTING (with a check for an existing target where the file system refuses the flag, as ntfs-3g does); `rename(2)` with it. `rename(2)` always has FILE_RENAME_POSIX_SEMANTICS, so REPLACE_EXISTING without it over a directory or an open target is n/a, and so is a read-only target (rename(2) has no IGNORE_READONLY_ATTRIBUTE choice) and a rename between two names of one file (the Linux VFS makes it a no-op before the file system sees it) |
//! | MoveFileW to another case   | on ntlinkfs, `setxattr(DIR, user.ntlinkfs.recase, NEWSPELLING)`; n/a elsewhere |
//! | FindFirstFileW              | `readdir` order, `.` and `..` dropped                               |
//!
//! Errors come back as [`Failure::Errno`] and are compared through the documented errno table
//! ([`crate::target::errno_meanings`]).
//!
//! On ntfs-3g, a directory or file that becomes a reparse point keeps its old type in the
//! kernel's cache until the next lookup fails with EIO once (the FUSE kernel module marks the
//! inode bad when a getattr reports a new file type). The target works around it for ntfs-3g by
//! doing one `lstat` after each reparse change; case J27 asks for
//! [`Feature::RawReparseTransitions`] and observes the raw behaviour.

use crate::target::*;
use host::sys::{self, RenameMode};
use host::xattrs::{control, ntfs};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use vfs_core::{attrs, name::wide, reparse};

/// The extended attribute holding a file's raw reparse buffer (ntfs-3g; ntlinkfs).
const XATTR_REPARSE: &str = ntfs::REPARSE_DATA;
/// The extended attribute holding FILE_ATTRIBUTE_* as 4 little-endian bytes.
const XATTR_ATTRIB: &str = ntfs::ATTRIB;

/// The drive letter absolute link targets use on POSIX targets: the mount's root is `C:\`
/// (ntfs-3g resolves a drive letter it has no mapping for on the mounted volume itself, and
/// ntlinkfs answers to `C:` by default).
pub const DRIVE: char = 'C';

/// A mounted directory driven through system calls.
#[derive(Debug)]
pub struct PosixTarget {
    name: String,
    flavor: Flavor,
    run_dir: PathBuf,
    mount_root: PathBuf,
    ntfs_xattrs: bool,
    settle: bool,
    remove_run_dir: bool,
    drive: char,
}

impl PosixTarget {
    /// A target for directory `dir`. The flavor is detected from the mount (`ntlinkfs` in the
    /// file system type or source means ntlinkfs; a mount with `system.ntfs_attrib` is taken as
    /// ntfs-3g; anything else is "other") unless given. Cases run in a fresh run directory
    /// created inside `dir`.
    pub fn open(dir: &Path, name: &str, flavor: Option<Flavor>) -> Result<PosixTarget, String> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // Numbered within the process too: two targets on one mount in the same second get
        // their own directories.
        static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let run = format!("conformance-{stamp}-{}-{n}", std::process::id());
        PosixTarget::open_in(dir, name, flavor, &run)
    }

    /// [`PosixTarget::open`] with the run directory's name chosen by the caller (one path
    /// component, which must not exist yet): the differential fuzzer gives both its mounts
    /// the same one, so the absolute junction targets it writes are the same bytes on both.
    pub fn open_in(
        dir: &Path,
        name: &str,
        flavor: Option<Flavor>,
        run: &str,
    ) -> Result<PosixTarget, String> {
        if run.is_empty() || run == "." || run == ".." || run.contains(['/', '\\']) {
            return Err(format!(
                "{run:?} cannot name a run directory: one path component is needed"
            ));
        }
        let dir = fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if !dir.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        let facts = host::mountinfo::holding(&dir).map_err(|e| e.to_string())?;
        let ntfs_xattrs = get_xattr(&dir, XATTR_ATTRIB, true).is_ok();
        let flavor =
            flavor.unwrap_or_else(|| detect_flavor(&facts.fstype, &facts.source, ntfs_xattrs));
        let run_dir = dir.join(run);
        fs::create_dir(&run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))?;
        Ok(PosixTarget {
            name: name.to_string(),
            flavor,
            run_dir,
            mount_root: facts.mount_point,
            ntfs_xattrs,
            settle: flavor == Flavor::Ntfs3g,
            remove_run_dir: true,
            drive: DRIVE,
        })
    }

    /// The drive letter absolute link targets use for this mount ([`DRIVE`] unless set): an
    /// ntlinkfs mount may answer to another letter (`ntlinkfs mount --drive`).
    pub fn set_drive(&mut self, drive: char) {
        self.drive = drive;
    }

    /// Whether sandboxes look at a path after each reparse change (`lstat` until it is not
    /// EIO, counted in [`PosixSandbox::settle_eio`]). On by default for ntfs-3g only, where the
    /// registry says it is needed (`kind-change-eio`); a caller comparing two mounts the way
    /// they were compared before (the differential fuzzer) may ask for it everywhere.
    pub fn set_settle(&mut self, on: bool) {
        self.settle = on;
    }

    /// The flavor the target judges the mount as.
    pub fn target_flavor(&self) -> Flavor {
        self.flavor
    }

    /// The run directory the sandboxes are made in.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The mount point holding the run directory.
    pub fn mount_root(&self) -> &Path {
        &self.mount_root
    }

    /// [`Target::sandbox`] as its concrete type, for a caller that drives the sandbox itself
    /// (the differential fuzzer: one sandbox per sequence) and wants what only a POSIX
    /// sandbox tells ([`PosixSandbox::settle_eio`]).
    pub fn posix_sandbox(&mut self, case_id: &str) -> Result<PosixSandbox, String> {
        let root = self.run_dir.join(case_id);
        fs::create_dir(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let rel = root
            .strip_prefix(&self.mount_root)
            .map_err(|_| format!("{} is not under its mount", root.display()))?;
        let mut abs = format!("{}:", self.drive);
        for c in rel.components() {
            abs.push('\\');
            abs.push_str(&c.as_os_str().to_string_lossy());
        }
        Ok(PosixSandbox {
            root,
            abs_root: abs,
            mount_root: self.mount_root.clone(),
            flavor: self.flavor,
            ntfs_xattrs: self.ntfs_xattrs,
            settle: self.settle,
            settle_eio: 0,
            drive: self.drive,
            handles: HashMap::new(),
            next: 1,
        })
    }

    /// Keeps the run directory after [`Target::finish`] (for inspection).
    pub fn keep_run_dir(&mut self) {
        self.remove_run_dir = false;
    }

    /// Whether the mount has the ntfs-3g extended attributes.
    pub fn has_ntfs_xattrs(&self) -> bool {
        self.ntfs_xattrs
    }
}

impl Target for PosixTarget {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn flavor(&self) -> Flavor {
        self.flavor
    }
    fn sandbox(&mut self, case_id: &str) -> Result<Box<dyn NtfsTarget>, String> {
        Ok(Box::new(self.posix_sandbox(case_id)?))
    }
    fn finish(&mut self) -> Result<(), String> {
        if !self.remove_run_dir {
            return Ok(());
        }
        if fs::remove_dir_all(&self.run_dir).is_ok() {
            return Ok(());
        }
        // What NTFS refuses to delete: read-only files (ntlinkfs refuses them, as NTFS does),
        // and on ntfs-3g junctions set on non-empty directories (J03). Undo both and retry.
        if self.ntfs_xattrs {
            unblock_removal(&self.run_dir);
        }
        fs::remove_dir_all(&self.run_dir)
            .map_err(|e| format!("could not remove {}: {e}", self.run_dir.display()))
    }
}

/// The flavor of a mount from its mountinfo type and source: ntlinkfs mounts as type
/// `fuse.ntlinkfs` with source `ntlinkfs` (backend-fuse's FSName and subtype); any other mount
/// with `system.ntfs_attrib` is taken as ntfs-3g. The source must be exactly `ntlinkfs`: an
/// ntfs-3g image's source is its file, whose path may hold the word (host::Ntfs3gImage makes
/// them in `ntlinkfs-ntfs3g-*` directories).
fn detect_flavor(fstype: &str, source: &str, ntfs_xattrs: bool) -> Flavor {
    if fstype == "fuse.ntlinkfs" || source == "ntlinkfs" {
        Flavor::Ntlinkfs
    } else if ntfs_xattrs {
        Flavor::Ntfs3g
    } else {
        Flavor::Other
    }
}

/// Clears FILE_ATTRIBUTE_READONLY and removes reparse points under `dir` (best effort).
fn unblock_removal(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_symlink()) && remove_xattr(&p, XATTR_REPARSE).is_ok() {
            // A former junction is a directory again (after one stale-cache EIO on ntfs-3g).
            let _ = fs::symlink_metadata(&p);
        }
        if let Ok(v) = get_xattr(&p, XATTR_ATTRIB, false) {
            if v.len() == 4 {
                let a = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
                if a & attrs::READONLY != 0 {
                    let _ = set_xattr(&p, XATTR_ATTRIB, &(a & !attrs::READONLY).to_le_bytes());
                }
            }
        }
        if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            unblock_removal(&p);
        }
    }
}

// ------------------------------------------------------------------------------ xattrs

/// `getxattr` (`follow`) or `lgetxattr` of one attribute.
pub fn get_xattr(p: &Path, name: &str, follow: bool) -> Op<Vec<u8>> {
    if follow {
        sys::getxattr(p, name)
    } else {
        sys::lgetxattr(p, name)
    }
    .map_err(Failure::Errno)
}

/// `lsetxattr` of one attribute (never follows a link: the link itself is changed).
pub fn set_xattr(p: &Path, name: &str, value: &[u8]) -> Op<()> {
    sys::lsetxattr(p, name, value).map_err(Failure::Errno)
}

fn remove_xattr(p: &Path, name: &str) -> Op<()> {
    sys::lremovexattr(p, name).map_err(Failure::Errno)
}

fn fget_attrib(f: &File) -> Option<u32> {
    let mut buf = [0u8; 4];
    (sys::fgetxattr(f, XATTR_ATTRIB, &mut buf) == Ok(4)).then(|| u32::from_le_bytes(buf))
}

// ------------------------------------------------------------------------------ sandbox

struct OpenFile {
    file: File,
    attributes_hint: Option<u32>,
}

/// One case's directory on a POSIX target.
pub struct PosixSandbox {
    root: PathBuf,
    abs_root: String,
    mount_root: PathBuf,
    flavor: Flavor,
    ntfs_xattrs: bool,
    settle: bool,
    /// EIOs the settling look met (divergence `kind-change-eio`).
    settle_eio: u64,
    drive: char,
    handles: HashMap<u64, OpenFile>,
    next: u64,
}

fn io<T>(r: std::io::Result<T>) -> Op<T> {
    r.map_err(|e| Failure::from_io(&e))
}

impl PosixSandbox {
    /// The sandbox's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How many times the look after a reparse change met ntfs-3g's EIO (registry entry
    /// `kind-change-eio`); always 0 where the target does not settle (ntlinkfs must show the
    /// new kind at once, as NTFS does).
    pub fn settle_eio(&self) -> u64 {
        self.settle_eio
    }

    fn p(&self, path: &str) -> PathBuf {
        let mut p = self.root.clone();
        for c in path.split('\\').filter(|c| !c.is_empty()) {
            p.push(c);
        }
        p
    }

    fn need_xattrs(&self, what: &str) -> Op<()> {
        if self.ntfs_xattrs {
            Ok(())
        } else {
            Err(Failure::Unsupported(format!(
                "{what} needs the ntfs-3g extended attributes ({XATTR_REPARSE}, {XATTR_ATTRIB}), which this mount lacks"
            )))
        }
    }

    /// ntfs-3g: clear the kernel's stale view of a file whose type just changed (the same look
    /// the differential fuzzer takes: lstat until it stops failing with EIO).
    fn settle(&mut self, p: &Path) {
        if self.settle {
            self.settle_eio += sys::settle_after_kind_change(p);
        }
    }

    fn attributes(&self, p: &Path, follow: bool, md: &fs::Metadata) -> Op<u32> {
        if self.ntfs_xattrs {
            let v = get_xattr(p, XATTR_ATTRIB, follow)?;
            if v.len() != 4 {
                return Err(Failure::Broken(format!(
                    "{XATTR_ATTRIB} of {} has {} bytes",
                    p.display(),
                    v.len()
                )));
            }
            Ok(u32::from_le_bytes([v[0], v[1], v[2], v[3]]))
        } else {
            Ok(synthesized_attributes(md))
        }
    }

    fn info(&self, p: &Path, follow: bool) -> Op<Info> {
        let md = io(if follow {
            fs::metadata(p)
        } else {
            fs::symlink_metadata(p)
        })?;
        let attributes = self.attributes(p, follow, &md)?;
        let reparse_tag = if attributes & attrs::REPARSE_POINT == 0 {
            None
        } else if self.ntfs_xattrs {
            let b = get_xattr(p, XATTR_REPARSE, follow)?;
            (b.len() >= 4).then(|| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        } else {
            Some(reparse::IO_REPARSE_TAG_SYMLINK)
        };
        Ok(Info {
            file_id: md.ino(),
            links: md.nlink() as u32,
            size: md.size(),
            attributes,
            reparse_tag,
        })
    }

    /// Whether `p` is shown as a symlink standing for a directory (a junction or a directory
    /// symlink).
    fn is_directory_link(&self, p: &Path) -> Op<bool> {
        let md = io(fs::symlink_metadata(p))?;
        if !md.file_type().is_symlink() {
            return Ok(false);
        }
        if self.ntfs_xattrs {
            Ok(self.attributes(p, false, &md)? & attrs::DIRECTORY != 0)
        } else {
            Ok(fs::metadata(p).is_ok_and(|m| m.is_dir()))
        }
    }

    /// A link target as the kernel should see it, for mounts without the ntfs xattrs.
    fn posix_link_target(&self, target: &str) -> String {
        let t = target.replace('\\', "/");
        let b = t.as_bytes();
        if b.len() >= 2 && b[1] == b':' {
            let rest = t[2..].trim_start_matches('/');
            format!("{}/{}", self.mount_root.display(), rest)
        } else {
            t
        }
    }

    fn make_link(&mut self, link: &str, buffer: Op<Vec<u8>>, directory: bool) -> Op<()> {
        let p = self.p(link);
        let buffer = buffer?;
        if directory {
            io(fs::create_dir(&p))?;
        } else {
            io(OpenOptions::new().write(true).create_new(true).open(&p))?;
        }
        if let Err(e) = set_xattr(&p, XATTR_REPARSE, &buffer) {
            let _ = if directory {
                fs::remove_dir(&p)
            } else {
                fs::remove_file(&p)
            };
            return Err(e);
        }
        self.settle(&p);
        Ok(())
    }

    fn walk_same_inode(&self, dir: &Path, rel: &str, dev: u64, ino: u64, out: &mut Vec<String>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            let rel_name = format!("{rel}\\{name}");
            let Ok(md) = fs::symlink_metadata(&path) else {
                continue;
            };
            if md.dev() == dev && md.ino() == ino {
                out.push(rel_name.clone());
            }
            if md.is_dir() {
                self.walk_same_inode(&path, &rel_name, dev, ino, out);
            }
        }
    }

    /// A case-only rename on ntlinkfs, through its control attribute `user.ntlinkfs.recase`
    /// on the directory (the Linux VFS never passes such a rename to a file system). None
    /// when this is not an ntlinkfs mount or not a case-only rename in one directory.
    fn recase(&self, s: &Path, d: &Path) -> Option<Op<()>> {
        if self.flavor != Flavor::Ntlinkfs || s.parent() != d.parent() {
            return None;
        }
        let (sn, dn) = (s.file_name()?.to_str()?, d.file_name()?.to_str()?);
        if !vfs_core::name::eq_ignore_case(&wide(sn), &wide(dn)) {
            return None;
        }
        Some(set_xattr(s.parent()?, control::RECASE, dn.as_bytes()))
    }

    fn handle(&mut self, h: Handle) -> Op<&mut OpenFile> {
        self.handles
            .get_mut(&h.0)
            .ok_or(Failure::Errno(libc::EBADF))
    }
}

/// Attributes of a file on a mount without `system.ntfs_attrib`: DIRECTORY for directories,
/// REPARSE_POINT for symlinks (plus DIRECTORY when the target is a directory), ARCHIVE for
/// files, and READONLY when no write bit is set.
fn synthesized_attributes(md: &fs::Metadata) -> u32 {
    let mut a = if md.is_dir() {
        attrs::DIRECTORY
    } else if md.file_type().is_symlink() {
        attrs::REPARSE_POINT
    } else {
        attrs::ARCHIVE
    };
    if md.mode() & 0o222 == 0 {
        a |= attrs::READONLY;
    }
    a
}

const NO_LEGACY: &str = "POSIX unlink(2) always removes the name at once (Windows 10 1903+ semantics); a legacy delete-pending name cannot be expressed";
const NO_SHARE: &str =
    "open(2) has no share modes: every POSIX handle shares read, write and delete";
const NO_DISPOSITION: &str =
    "no POSIX call sets a delete disposition on a handle or FILE_FLAG_DELETE_ON_CLOSE";

impl NtfsTarget for PosixSandbox {
    fn need(&mut self, feature: Feature) -> Result<(), String> {
        match feature {
            Feature::LegacyDelete => Err(NO_LEGACY.into()),
            Feature::ShareModes => Err(NO_SHARE.into()),
            Feature::Dispositions => Err(NO_DISPOSITION.into()),
            Feature::CaseSensitiveDirectories => Err(
                "no POSIX call sets FILE_CASE_SENSITIVE_INFORMATION (Windows' fsutil setCaseSensitiveInfo)".into(),
            ),
            Feature::DeepReparseChains => Err(
                "the Linux kernel, not the file system, follows symlinks, and at most 40 per lookup (MAXSYMLINKS)".into(),
            ),
            Feature::SymlinkKindCheck => Err(
                "the Linux kernel follows a symlink whatever its NTFS kind (file or directory symlink)".into(),
            ),
            Feature::DeleteFileOnDirectoryLink => Err(
                "unlink(2) is the only POSIX call that removes a symlink, so DeleteFileW and RemoveDirectoryW cannot be told apart on a junction".into(),
            ),
            Feature::DeleteReparseTagCheck => Err(
                "removexattr(system.ntfs_reparse_data) carries no tag, so FSCTL_DELETE_REPARSE_POINT's tag check cannot be expressed".into(),
            ),
            Feature::RawReparseTransitions => {
                self.settle = false;
                Ok(())
            }
            Feature::NtOpenOfSpecialFiles => Err(
                "the Linux kernel serves the open of a FIFO, socket or device node itself (a pipe, a socket, a driver); the file system never sees it, so the NT outcome cannot be observed".into(),
            ),
            Feature::RawReparseData => {
                if self.ntfs_xattrs {
                    Ok(())
                } else {
                    Err(format!("this mount has no {XATTR_REPARSE} extended attribute"))
                }
            }
        }
    }

    fn absolute(&self, path: &str) -> String {
        if path.is_empty() {
            self.abs_root.clone()
        } else {
            format!("{}\\{path}", self.abs_root)
        }
    }

    fn create_file(&mut self, path: &str) -> Op<()> {
        io(OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.p(path)))?;
        Ok(())
    }

    fn create_dir(&mut self, path: &str) -> Op<()> {
        io(fs::create_dir(self.p(path)))
    }

    fn write_file(&mut self, path: &str, data: &[u8]) -> Op<()> {
        let mut f = io(OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.p(path)))?;
        io(f.write_all(data))
    }

    fn read_file(&mut self, path: &str) -> Op<Vec<u8>> {
        io(fs::read(self.p(path)))
    }

    fn hard_link(&mut self, existing: &str, new: &str) -> Op<()> {
        io(fs::hard_link(self.p(existing), self.p(new)))
    }

    fn link_names(&mut self, path: &str) -> Op<Vec<String>> {
        let md = io(fs::symlink_metadata(self.p(path)))?;
        let mut out = Vec::new();
        self.walk_same_inode(&self.root, "", md.dev(), md.ino(), &mut out);
        Ok(out)
    }

    fn create_special(&mut self, path: &str, special: SpecialFile) -> Op<()> {
        let p = self.p(path);
        let (ty, dev) = match special {
            SpecialFile::Socket => {
                // bind(2) makes the socket file; the listener is not needed afterwards (the
                // name stays, as on every Linux file system).
                return io(std::os::unix::net::UnixListener::bind(&p).map(drop));
            }
            SpecialFile::Fifo => (libc::S_IFIFO, 0),
            SpecialFile::CharDevice { major, minor } => {
                (libc::S_IFCHR, libc::makedev(major, minor))
            }
            SpecialFile::BlockDevice { major, minor } => {
                (libc::S_IFBLK, libc::makedev(major, minor))
            }
        };
        sys::mknod(&p, ty | 0o644, dev).map_err(Failure::Errno)
    }

    fn create_symlink(&mut self, link: &str, target: &str, directory: bool) -> Op<()> {
        if !self.ntfs_xattrs {
            return io(std::os::unix::fs::symlink(
                self.posix_link_target(target),
                self.p(link),
            ));
        }
        let buffer = reparse::symlink_for_target(&wide(target), self.drive)
            .map(|b| b.into_bytes())
            .map_err(|e| Failure::Broken(e.to_string()));
        self.make_link(link, buffer, directory)
    }

    fn create_junction(&mut self, link: &str, target: &str) -> Op<()> {
        if !self.ntfs_xattrs {
            return io(std::os::unix::fs::symlink(
                self.posix_link_target(target),
                self.p(link),
            ));
        }
        let buffer = reparse::junction_for_target(&wide(target), self.drive)
            .map(|b| b.into_bytes())
            .map_err(|e| Failure::Broken(e.to_string()));
        self.make_link(link, buffer, true)
    }

    fn set_reparse_point(&mut self, path: &str, buffer: &[u8]) -> Op<()> {
        self.need_xattrs("FSCTL_SET_REPARSE_POINT")?;
        let p = self.p(path);
        set_xattr(&p, XATTR_REPARSE, buffer)?;
        self.settle(&p);
        Ok(())
    }

    fn get_reparse_point(&mut self, path: &str) -> Op<Vec<u8>> {
        self.need_xattrs("FSCTL_GET_REPARSE_POINT")?;
        get_xattr(&self.p(path), XATTR_REPARSE, false)
    }

    fn delete_reparse_point(&mut self, path: &str, header: &[u8]) -> Op<()> {
        self.need_xattrs("FSCTL_DELETE_REPARSE_POINT")?;
        let p = self.p(path);
        let stored = get_xattr(&p, XATTR_REPARSE, false)?;
        if header.len() < 4 || stored.len() < 4 || header[..4] != stored[..4] {
            return Err(Failure::Unsupported(
                "removexattr(system.ntfs_reparse_data) carries no tag: a header whose tag differs from the stored one cannot be expressed".into(),
            ));
        }
        remove_xattr(&p, XATTR_REPARSE)?;
        self.settle(&p);
        Ok(())
    }

    fn set_attributes(&mut self, path: &str, attributes: u32) -> Op<()> {
        self.need_xattrs("SetFileAttributesW")?;
        set_xattr(&self.p(path), XATTR_ATTRIB, &attributes.to_le_bytes())
    }

    fn open(&mut self, path: &str, how: OpenHow) -> Op<Handle> {
        if how.share != Share::ALL {
            return Err(Failure::Unsupported(NO_SHARE.into()));
        }
        if how.delete_on_close {
            return Err(Failure::Unsupported(NO_DISPOSITION.into()));
        }
        let p = self.p(path);
        let mut oo = OpenOptions::new();
        oo.read(true);
        let mut custom = 0;
        if how.open_reparse_point {
            if io(fs::symlink_metadata(&p))?.file_type().is_symlink() {
                // The link itself: only O_PATH can open a symlink.
                custom |= libc::O_PATH | libc::O_NOFOLLOW;
            }
        } else if how.access.write {
            oo.write(true);
        }
        let md = io(fs::metadata(&p));
        if custom == 0 && md.as_ref().is_ok_and(|m| m.is_dir()) {
            oo.write(false);
            custom |= libc::O_DIRECTORY;
        }
        oo.custom_flags(custom);
        let file = io(oo.open(&p))?;
        let attributes_hint = self
            .ntfs_xattrs
            .then(|| get_xattr(&p, XATTR_ATTRIB, !how.open_reparse_point).ok())
            .flatten()
            .filter(|v| v.len() == 4)
            .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]));
        let n = self.next;
        self.next += 1;
        self.handles.insert(
            n,
            OpenFile {
                file,
                attributes_hint,
            },
        );
        Ok(Handle(n))
    }

    fn read_handle(&mut self, h: Handle) -> Op<Vec<u8>> {
        let of = self.handle(h)?;
        io(of.file.seek(SeekFrom::Start(0)))?;
        let mut v = Vec::new();
        io(of.file.read_to_end(&mut v))?;
        Ok(v)
    }

    fn stat_handle(&mut self, h: Handle) -> Op<Info> {
        let xattrs = self.ntfs_xattrs;
        let of = self.handle(h)?;
        let md = io(of.file.metadata())?;
        let attributes = if xattrs {
            fget_attrib(&of.file)
                .or(of.attributes_hint)
                .unwrap_or_else(|| synthesized_attributes(&md))
        } else {
            synthesized_attributes(&md)
        };
        Ok(Info {
            file_id: md.ino(),
            links: md.nlink() as u32,
            size: md.size(),
            attributes,
            reparse_tag: None,
        })
    }

    fn set_disposition(&mut self, _h: Handle, _flags: DispositionFlags) -> Op<()> {
        Err(Failure::Unsupported(NO_DISPOSITION.into()))
    }

    fn close(&mut self, h: Handle) -> Op<()> {
        match self.handles.remove(&h.0) {
            Some(_) => Ok(()),
            None => Err(Failure::Errno(libc::EBADF)),
        }
    }

    fn delete(&mut self, path: &str, kind: DeleteKind) -> Op<()> {
        let p = self.p(path);
        let dir_link = self.is_directory_link(&p).unwrap_or(false);
        match kind {
            DeleteKind::File if dir_link => Err(Failure::Unsupported(
                "unlink(2) cannot express DeleteFileW on a junction or directory symlink (it is RemoveDirectoryW's call too)".into(),
            )),
            DeleteKind::File => io(fs::remove_file(&p)),
            DeleteKind::Directory if dir_link => io(fs::remove_file(&p)),
            DeleteKind::Directory => io(fs::remove_dir(&p)),
        }
    }

    fn rename(&mut self, src: &str, dst: &str, flags: RenameFlags) -> Op<()> {
        let (s, d) = (self.p(src), self.p(dst));
        let src_md = io(fs::symlink_metadata(&s))?;
        if let Ok(dst_md) = fs::symlink_metadata(&d) {
            if s == d {
                // rename(2) onto the same path is the plain no-op MoveFileW(a, a) is.
                return io(fs::rename(&s, &d));
            }
            if dst_md.dev() == src_md.dev() && dst_md.ino() == src_md.ino() {
                if let Some(r) = self.recase(&s, &d) {
                    return r;
                }
                return Err(Failure::Unsupported(
                    "the source and target are names of one file (or one name in two cases): the Linux VFS makes rename(2) a no-op before the file system sees it".into(),
                ));
            }
            if flags.replace_if_exists {
                let dst_ino = dst_md.ino();
                let open = self
                    .handles
                    .values()
                    .any(|h| h.file.metadata().is_ok_and(|m| m.ino() == dst_ino));
                let dst_is_dir = dst_md.is_dir() || self.is_directory_link(&d).unwrap_or(false);
                if !flags.posix_semantics && (dst_is_dir || open) {
                    return Err(Failure::Unsupported(
                        "rename(2) always has FILE_RENAME_POSIX_SEMANTICS: replacing a directory or an open target without it cannot be expressed".into(),
                    ));
                }
                if src_md.is_dir() != dst_md.is_dir() {
                    return Err(Failure::Unsupported(
                        "the Linux VFS refuses rename(2) between a directory and a non-directory before the file system sees it".into(),
                    ));
                }
                let ro = self.ntfs_xattrs
                    && self
                        .attributes(&d, false, &dst_md)
                        .is_ok_and(|a| a & attrs::READONLY != 0);
                if ro {
                    return Err(Failure::Unsupported(
                        "rename(2) has no IGNORE_READONLY_ATTRIBUTE choice, so replacing a read-only target cannot be expressed".into(),
                    ));
                }
            }
        }
        if flags.replace_if_exists {
            return io(fs::rename(&s, &d));
        }
        match sys::rename(&s, &d, RenameMode::NoReplace) {
            Ok(()) => Ok(()),
            Err(libc::EINVAL) => {
                // The file system has no rename flags (ntfs-3g's FUSE protocol): check by hand.
                if fs::symlink_metadata(&d).is_ok() {
                    return Err(Failure::Errno(libc::EEXIST));
                }
                io(fs::rename(&s, &d))
            }
            Err(e) => Err(Failure::Errno(e)),
        }
    }

    fn list_dir(&mut self, path: &str) -> Op<Vec<String>> {
        let rd = io(fs::read_dir(self.p(path)))?;
        let mut out = Vec::new();
        for e in rd {
            let e = io(e)?;
            out.push(e.file_name().to_string_lossy().into_owned());
        }
        Ok(out)
    }

    fn stat(&mut self, path: &str, follow: bool) -> Op<Info> {
        let p = self.p(path);
        self.info(&p, follow)
    }

    fn set_case_sensitive(&mut self, _dir: &str, _on: bool) -> Op<()> {
        Err(Failure::Unsupported(
            "no POSIX call sets FILE_CASE_SENSITIVE_INFORMATION".into(),
        ))
    }
}

impl std::fmt::Debug for PosixSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PosixSandbox")
            .field("root", &self.root)
            .field("flavor", &self.flavor)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavor_comes_from_the_mount_type_and_source() {
        assert_eq!(
            detect_flavor("fuse.ntlinkfs", "ntlinkfs", true),
            Flavor::Ntlinkfs
        );
        assert_eq!(
            detect_flavor("fuseblk", "/tmp/ntlinkfs-ntfs3g-x1/ntfs.img", true),
            Flavor::Ntfs3g
        );
        assert_eq!(detect_flavor("tmpfs", "tmpfs", false), Flavor::Other);
    }
}
