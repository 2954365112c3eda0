//! The operating-system side of `mklink`, `fsutil`, `attrib` and `du`: the few NTFS
//! operations they need, on a Linux mount (through ntfs-3g's extended attributes, which an
//! ntlinkfs mount answers the same way) or on Windows (through Win32). Everything else in
//! those commands is portable and lives in their own modules.
//!
//! On Linux:
//! * reparse points are the `system.ntfs_reparse_data` attribute (get, set, remove; the raw
//!   REPARSE_DATA_BUFFER), attributes `system.ntfs_attrib` (FILE_ATTRIBUTE_* as a
//!   little-endian u32) — the layouts ntfs-3g defines and backend-fuse copies;
//! * a file's names: on ntlinkfs the control attribute `user.ntlinkfs.names` (one volume path
//!   per line, FindFirstFileNameW's answer). ntfs-3g has no such attribute, so its names are
//!   found by walking the volume from its mount root for entries with the same inode number
//!   (ntfs-3g reports the NTFS file reference, the MFT record number, as `st_ino`). Linux
//!   refuses `user.*` attributes on symlinks (xattr(7): user attributes only on regular files
//!   and directories), so on ntlinkfs a junction's or symlink's names are found by the same
//!   walk.
//! * a file system is judged by what it answers: `user.ntlinkfs.fileid` on its root →
//!   ntlinkfs; `system.ntfs_attrib` → NTFS through ntfs-3g (or anything with its attributes);
//!   neither → a host file system without NTFS reparse points or attributes (tmpfs, ext4).

use crate::wincmd_status::CmdError;
#[cfg(unix)]
pub use unix::*;
#[cfg(windows)]
pub use win::*;

/// What kind of file system a path lives on.
#[cfg_attr(windows, allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// An ntlinkfs mount (answers `user.ntlinkfs.*`).
    Ntlinkfs,
    /// NTFS through ntfs-3g's extended attributes (real NTFS on Linux).
    Ntfs3g,
    /// A Windows volume, through Win32.
    #[cfg_attr(not(windows), allow(dead_code))]
    Win32,
    /// A host file system with no NTFS reparse points or attributes.
    Host,
}

/// The volume holding a path.
#[derive(Debug, Clone)]
pub struct Vol {
    /// Where the volume is mounted (Linux) or its root (`C:\`, Windows).
    pub root: std::path::PathBuf,
    /// What it is.
    pub flavor: Flavor,
}

impl Vol {
    /// Whether the volume has NTFS reparse points and attributes.
    pub fn has_ntfs(&self) -> bool {
        self.flavor != Flavor::Host
    }

    /// The refusal for operations that need NTFS metadata, naming `path`.
    pub fn no_ntfs(&self, path: &std::path::Path) -> CmdError {
        CmdError::NoNtfs {
            path: path.display().to_string(),
            root: self.root.display().to_string(),
            fs_type: fs_type(&self.root),
        }
    }

    /// `Err(no_ntfs)` unless the volume has NTFS metadata.
    pub fn require_ntfs(&self, path: &std::path::Path) -> Result<(), CmdError> {
        if self.has_ntfs() {
            Ok(())
        } else {
            Err(self.no_ntfs(path))
        }
    }
}

/// What `du` needs to know about one name, beyond its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ident {
    /// (volume, file id): equal for every name of one file.
    pub key: (u64, u64),
    /// The file's link count (names on the whole volume).
    pub nlink: u64,
    /// Bytes allocated on disk.
    pub allocated: u64,
}

/// The type of the file system mounted at `root` (`tmpfs`, `ext4`), from
/// /proc/self/mountinfo (the last mount at that point is the visible one).
#[cfg(target_os = "linux")]
pub fn fs_type(root: &std::path::Path) -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let want = root.to_str()?;
    info.lines().rev().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        // The mount point, with mountinfo's octal escapes (\040 for a space) undone.
        let point = left.split(' ').nth(4)?.replace("\\040", " ");
        (point == want).then(|| right.split(' ').next().map(str::to_owned))?
    })
}

/// The file system type, where the platform does not tell it cheaply.
#[cfg(not(target_os = "linux"))]
pub fn fs_type(_root: &std::path::Path) -> Option<String> {
    None
}

#[cfg(unix)]
mod unix {
    use super::{Flavor, Ident, Vol};
    use crate::wincmd_status::{self as st, CmdError};
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    use host::xattrs::control::{FILEID, NAMES};
    use host::xattrs::ntfs::{ATTRIB, REPARSE_DATA as REPARSE};

    /// `path` made absolute with its directories resolved, its last component kept as is
    /// (never followed: these commands act on links themselves).
    pub fn abs_nofollow(path: &Path) -> Result<PathBuf, CmdError> {
        let abs = std::path::absolute(path).map_err(|e| CmdError::io(path, &e))?;
        match (abs.parent(), abs.file_name()) {
            (Some(parent), Some(name)) => {
                let parent = parent.canonicalize().map_err(|e| CmdError::io(path, &e))?;
                Ok(parent.join(name))
            }
            _ => abs.canonicalize().map_err(|e| CmdError::io(path, &e)),
        }
    }

    /// The volume `path` (which need not exist yet: its parent must) lives on: the mount
    /// point is the highest directory above it on the same device.
    pub fn volume_of(path: &Path) -> Result<Vol, CmdError> {
        let abs = abs_nofollow(path)?;
        let mut dir = match std::fs::symlink_metadata(&abs) {
            Ok(m) if m.is_dir() => abs.clone(),
            _ => abs.parent().map(Path::to_path_buf).unwrap_or(abs.clone()),
        };
        let dev = std::fs::metadata(&dir)
            .map_err(|e| CmdError::io(path, &e))?
            .dev();
        while let Some(up) = dir.parent() {
            match std::fs::metadata(up) {
                Ok(m) if m.dev() == dev => dir = up.to_path_buf(),
                _ => break,
            }
        }
        let flavor = match xattr::get(&dir, FILEID) {
            Ok(Some(v)) if v.starts_with(b"0x") => Flavor::Ntlinkfs,
            _ => match xattr::get(&dir, ATTRIB) {
                Ok(Some(v)) if v.len() == 4 => Flavor::Ntfs3g,
                _ => Flavor::Host,
            },
        };
        Ok(Vol { root: dir, flavor })
    }

    /// A path argument as a Windows user types it, for Linux: `\` separators become `/`;
    /// `X:\path` and root-relative `\path` name a path on the volume holding `base` (the
    /// current directory unless given), whose drive letter is `drive`. Another letter is not
    /// this volume: STATUS_NOT_SAME_DEVICE.
    pub fn host_path(arg: &str, base: Option<&Vol>, drive: char) -> Result<PathBuf, CmdError> {
        let b = arg.as_bytes();
        let drive_abs = b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && (b[2] == b'\\' || b[2] == b'/');
        let rooted = !drive_abs && b.first() == Some(&b'\\') && b.get(1) != Some(&b'\\');
        if !drive_abs && !rooted {
            return Ok(PathBuf::from(arg.replace('\\', "/")));
        }
        let vol = match base {
            Some(v) => v.clone(),
            None => volume_of(Path::new("."))?,
        };
        if rooted && !vol.has_ntfs() {
            // A host file system has no drive: its root is `/`.
            return Ok(PathBuf::from(arg.replace('\\', "/")));
        }
        if drive_abs && !(b[0] as char).eq_ignore_ascii_case(&drive) {
            return Err(CmdError::ntfs(Path::new(arg), st::NOT_SAME_DEVICE));
        }
        if drive_abs && !vol.has_ntfs() {
            return Err(CmdError::Other(format!(
                "{arg}: the file system mounted at {} has no drive letter; give a relative \
                 or host path",
                vol.root.display()
            )));
        }
        let rest = if drive_abs { &arg[3..] } else { &arg[1..] };
        let mut p = vol.root.clone();
        for c in rest.split(['\\', '/']).filter(|c| !c.is_empty()) {
            p.push(c);
        }
        Ok(p)
    }

    /// The volume-relative path of `path` (`\dir\name`, `\` for the root), as
    /// FindFirstFileNameW and fsutil print names.
    pub fn volume_path(vol: &Vol, path: &Path) -> Result<String, CmdError> {
        let abs = abs_nofollow(path)?;
        let rel = abs.strip_prefix(&vol.root).map_err(|_| {
            CmdError::Other(format!(
                "{}: not on the volume mounted at {}",
                path.display(),
                vol.root.display()
            ))
        })?;
        let mut out = String::new();
        for c in rel.components() {
            out.push('\\');
            out.push_str(&c.as_os_str().to_string_lossy());
        }
        if out.is_empty() {
            out.push('\\');
        }
        Ok(out)
    }

    fn xattr_err(vol: &Vol, path: &Path, e: &std::io::Error) -> CmdError {
        match e.raw_os_error() {
            Some(libc::EOPNOTSUPP) if !vol.has_ntfs() => vol.no_ntfs(path),
            _ => CmdError::io(path, e),
        }
    }

    /// FSCTL_GET_REPARSE_POINT: the raw buffer, or STATUS_NOT_A_REPARSE_POINT.
    pub fn read_reparse(vol: &Vol, path: &Path) -> Result<Vec<u8>, CmdError> {
        vol.require_ntfs(path)?;
        match xattr::get(path, REPARSE) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(CmdError::ntfs(path, st::NOT_A_REPARSE_POINT)),
            Err(e) => Err(xattr_err(vol, path, &e)),
        }
    }

    /// FSCTL_SET_REPARSE_POINT.
    pub fn write_reparse(vol: &Vol, path: &Path, buffer: &[u8]) -> Result<(), CmdError> {
        vol.require_ntfs(path)?;
        xattr::set(path, REPARSE, buffer).map_err(|e| match e.raw_os_error() {
            // Both ntlinkfs and ntfs-3g answer a buffer they refuse with EINVAL.
            Some(libc::EINVAL) => CmdError::ntfs(path, st::REPARSE_DATA_INVALID),
            _ => xattr_err(vol, path, &e),
        })?;
        settle(vol, path);
        Ok(())
    }

    /// ntfs-3g: a file whose type just changed (directory → junction and back) keeps its old
    /// type in the kernel's cache until one lookup fails with EIO (the FUSE module marks the
    /// inode bad); one lstat now spends that failure, so the next command sees the new kind
    /// (observed on ntfs-3g 2022.10.3, conformance case J27's divergence). ntlinkfs
    /// invalidates the kernel's cache itself.
    fn settle(vol: &Vol, path: &Path) {
        if vol.flavor == Flavor::Ntfs3g {
            let _ = std::fs::symlink_metadata(path);
        }
    }

    /// FSCTL_DELETE_REPARSE_POINT: the file or directory stays, empty.
    pub fn delete_reparse(vol: &Vol, path: &Path) -> Result<(), CmdError> {
        vol.require_ntfs(path)?;
        // The file must be a reparse point; asking first gives NTFS's status for one that is
        // not (ntfs-3g answers removexattr of a missing attribute with ENODATA as well).
        read_reparse(vol, path)?;
        xattr::remove(path, REPARSE).map_err(|e| xattr_err(vol, path, &e))?;
        settle(vol, path);
        Ok(())
    }

    /// FILE_ATTRIBUTE_* of `path` (of the link's target when `follow`).
    pub fn get_attributes(vol: &Vol, path: &Path, follow: bool) -> Result<u32, CmdError> {
        vol.require_ntfs(path)?;
        let v = if follow {
            xattr::get_deref(path, ATTRIB)
        } else {
            xattr::get(path, ATTRIB)
        };
        match v {
            Ok(Some(v)) => match <[u8; 4]>::try_from(v.as_slice()) {
                Ok(b) => Ok(u32::from_le_bytes(b)),
                Err(_) => Err(CmdError::Other(format!(
                    "{}: {ATTRIB} has {} bytes, not 4",
                    path.display(),
                    v.len()
                ))),
            },
            Ok(None) => Err(vol.no_ntfs(path)),
            Err(e) => Err(xattr_err(vol, path, &e)),
        }
    }

    /// SetFileAttributesW.
    pub fn set_attributes(
        vol: &Vol,
        path: &Path,
        follow: bool,
        attributes: u32,
    ) -> Result<(), CmdError> {
        vol.require_ntfs(path)?;
        let v = attributes.to_le_bytes();
        let r = if follow {
            xattr::set_deref(path, ATTRIB, &v)
        } else {
            xattr::set(path, ATTRIB, &v)
        };
        r.map_err(|e| xattr_err(vol, path, &e))
    }

    /// Makes an empty file or directory (CREATE_NEW: an existing name is
    /// STATUS_OBJECT_NAME_COLLISION).
    pub fn create_empty(path: &Path, dir: bool) -> Result<(), CmdError> {
        let r = if dir {
            std::fs::create_dir(path)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map(drop)
        };
        r.map_err(|e| CmdError::io(path, &e))
    }

    /// Removes what [`create_empty`] made, after a later step failed.
    pub fn remove_empty(path: &Path, dir: bool) {
        let _ = if dir {
            std::fs::remove_dir(path)
        } else {
            std::fs::remove_file(path)
        };
    }

    /// CreateHardLinkW(new, existing).
    pub fn hard_link(existing: &Path, new: &Path) -> Result<(), CmdError> {
        std::fs::hard_link(existing, new).map_err(|e| {
            // link(2) reports a missing EXISTING and a missing directory of NEW alike.
            let culprit = if std::fs::symlink_metadata(existing).is_err() {
                existing
            } else {
                new
            };
            CmdError::io(culprit, &e)
        })
    }

    /// A symbolic link on a host file system, with what the host allows (a POSIX symlink).
    pub fn host_symlink(target: &str, link: &Path) -> Result<(), CmdError> {
        std::os::unix::fs::symlink(target, link).map_err(|e| CmdError::io(link, &e))
    }

    /// Every name of the file at `path`, volume-relative (`\dir\name`).
    pub fn names(vol: &Vol, path: &Path) -> Result<Vec<String>, CmdError> {
        let md = std::fs::symlink_metadata(path).map_err(|e| CmdError::io(path, &e))?;
        if vol.flavor == Flavor::Ntlinkfs {
            if let Ok(Some(v)) = xattr::get(path, NAMES) {
                return Ok(String::from_utf8_lossy(&v)
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect());
            }
        }
        if md.nlink() <= 1 || md.is_dir() {
            return Ok(vec![volume_path(vol, path)?]);
        }
        let want = (md.dev(), md.ino());
        let mut found = Vec::new();
        let mut errors = Vec::new();
        walk_for(&vol.root, "", want, md.nlink(), &mut found, &mut errors);
        if found.is_empty() {
            // The walk could not reach the file (a directory it cannot read): give at least
            // the name asked about.
            found.push(volume_path(vol, path)?);
        }
        for e in errors {
            eprintln!("ntlinkfs fsutil: warning: {e}");
        }
        Ok(found)
    }

    /// Depth-first search of `dir` for names of the file `want`; stops once `nlink` names
    /// are found. Never follows links, never leaves the volume.
    fn walk_for(
        dir: &Path,
        rel: &str,
        want: (u64, u64),
        nlink: u64,
        found: &mut Vec<String>,
        errors: &mut Vec<String>,
    ) {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                errors.push(format!("{}: {e}", dir.display()));
                return;
            }
        };
        for entry in rd {
            if found.len() as u64 >= nlink {
                return;
            }
            let Ok(entry) = entry else { continue };
            let p = entry.path();
            let Ok(md) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if md.dev() != want.0 {
                continue;
            }
            let name = format!("{rel}\\{}", entry.file_name().to_string_lossy());
            if md.ino() == want.1 && !md.is_dir() {
                found.push(name.clone());
            }
            if md.is_dir() {
                walk_for(&p, &name, want, nlink, found, errors);
            }
        }
    }

    /// The file id, link count and allocation of one name (for `du`). On ntlinkfs `st_ino`
    /// is the NTFS file id except for nodes the mount renumbered after a kind change (below
    /// 2^32, backend-fuse's spare range); for those the file id comes from
    /// `user.ntlinkfs.fileid` (readable on files and directories; a renumbered link keeps
    /// its spare number, which can only make `du` count it as its own file).
    pub fn identify(vol: &Vol, path: &Path, md: &std::fs::Metadata) -> Ident {
        let mut id = md.ino();
        if vol.flavor == Flavor::Ntlinkfs && id < (1 << 32) && md.nlink() > 1 {
            if let Ok(Some(v)) = xattr::get(path, FILEID) {
                let text = String::from_utf8_lossy(&v);
                if let Ok(n) = u64::from_str_radix(text.trim().trim_start_matches("0x"), 16) {
                    id = n;
                }
            }
        }
        Ident {
            key: (md.dev(), id),
            nlink: md.nlink(),
            allocated: md.blocks().saturating_mul(512),
        }
    }
}

#[cfg(windows)]
#[path = "wincmd_sys/win.rs"]
mod win;
