//! Symbolic links on the Linux mount: READLINK, SYMLINK, and how a Linux target becomes an
//! NTFS one (`target`) with the file-or-directory decision made as the caller could make it
//! (issue 13: never look at a path on another user's behalf). A child module of `core`, so
//! it shares the request core's state without widening it.

use super::{engine_name, name_units, Caller, Core, MAX_LINK_BYTES};
use crate::attr::Attr;
use crate::creds;
use crate::errno::{errno, readlink_errno, Errno};
use crate::target::{self, Place};
use std::path::{Path, PathBuf};
use vfs_core::{FileId, FileKind, Location, NewFile};

/// The host path of `rest` below a mapped drive's directory `host`, with `.` and `..`
/// applied lexically and never above `host` (issue 14: nothing on a mapped letter leaves its
/// directory); None if a component holds `/`.
fn mapped_host_path(host: &str, rest: &[Vec<u16>]) -> Option<PathBuf> {
    let mut p = PathBuf::from(host);
    let mut depth = 0usize;
    for c in rest {
        let c = String::from_utf16_lossy(c);
        match c.as_str() {
            "." => {}
            ".." => {
                if depth > 0 {
                    p.pop();
                    depth -= 1;
                }
            }
            c if c.contains('/') => return None,
            c => {
                p.push(c);
                depth += 1;
            }
        }
    }
    Some(p)
}

impl Core {
    /// READLINK. A target longer than [`MAX_LINK_BYTES`] → ENAMETOOLONG.
    pub(crate) fn readlink(&self, ino: u64) -> Result<String, Errno> {
        let id = self.nodes.live(ino)?;
        let s = self
            .vol
            .read_link_posix(id, &self.mount_path)
            .map_err(readlink_errno)?;
        if s.len() > MAX_LINK_BYTES {
            // An NTFS target may hold up to ~8k UTF-16 units (16 KiB of reparse data,
            // MS-FSCC 2.1.2.1), more than a Linux link can: the kernel would turn the
            // oversized reply into EIO. ENAMETOOLONG is what symlink(2) and path lookup
            // answer for a target of PATH_MAX or more.
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(s)
    }

    /// SYMLINK: an NTFS symbolic link (see `target` for the target forms).
    pub(crate) fn symlink(
        &self,
        who: Caller,
        parent: u64,
        link_name: &[u8],
        target: &[u8],
    ) -> Result<Attr, Errno> {
        let pid = self.nodes.live(parent)?;
        self.check_create(who, pid)?;
        let units = name_units(link_name)?;
        let (nt, is_dir) = self.symlink_target(who, pid, target)?;
        let rp = vfs_core::reparse::symlink_for_target(&nt, self.drive_letter)
            .map_err(|_| Errno::EINVAL)?;
        let new = NewFile {
            kind: if is_dir {
                FileKind::Directory
            } else {
                FileKind::File
            },
            attributes: 0,
            uid: Some(who.uid),
            gid: Some(who.gid),
            mode: Some(0o777),
        };
        let name = engine_name(units)?;
        let k = self.neg.kernel_makes(pid, link_name);
        let id = self
            .vol
            .create_reparse_at(pid, &name, &new, &rp)
            .map_err(errno)?;
        let a = self.entry(parent, link_name, id, false)?;
        k.replied();
        Ok(a)
    }

    /// Turns a Linux symlink target into an NTFS one and decides whether the link is a
    /// directory link: it is when the target exists when the link is made and is a
    /// directory (as `mklink /D` would be chosen by a Windows user who looked), otherwise a
    /// file link. Whether it exists is asked only as the caller could ask it (issue 13, see
    /// [`Core::kind_by_looking`]); a target that cannot be looked at is a file link unless
    /// its text ends in `/`, which POSIX lets name only a directory.
    fn symlink_target(
        &self,
        who: Caller,
        parent: FileId,
        target: &[u8],
    ) -> Result<(Vec<u16>, bool), Errno> {
        let (units, place) = target::ntfs_target(
            target,
            Path::new(&self.mount_path),
            self.drive_letter,
            &self.drive_map,
        )?;
        let says_dir = target.ends_with(b"/") || target.ends_with(b"/.");
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
                match self.vol.locate(&path, true) {
                    // The engine does not check permission bits (the kernel does, for paths
                    // it walks): only a caller who may see the whole drive anyway looks.
                    Ok(Location::File(id)) if self.kind_by_looking(who) => self
                        .vol
                        .stat(id)
                        .is_ok_and(|s| s.kind == FileKind::Directory),
                    Ok(Location::Mapped { host, rest, .. }) => {
                        mapped_host_path(&host, &rest).is_some_and(|p| self.host_is_dir(who, &p))
                    }
                    _ => says_dir,
                }
            }
            Place::Host(p) => says_dir || self.host_is_dir(who, &p),
            Place::Unknown => says_dir,
        };
        Ok((units, is_dir))
    }

    /// May the kind of a new link be decided by looking at its target on `who`'s behalf?
    /// Only when what the daemon can see is no more than `who` may: `who` is the mounting
    /// user (the daemon's own identity, who holds the whole drive anyway) or root. Another
    /// user of an `--allow-other` drive must not learn, from the kind of a link they make,
    /// whether a name exists in a directory they cannot search (issue 13).
    fn kind_by_looking(&self, who: Caller) -> bool {
        who.uid == self.mounter || who.uid == 0
    }

    /// Is the host path `p` a directory, as `who` sees it? A root daemon looks on a thread
    /// with `who`'s file-system identity ([`creds::run_as`]), so the kernel checks every
    /// directory on the way with `who`'s rights: a path `who` cannot reach is "not a
    /// directory", exactly what a missing one is. A daemon that cannot take another
    /// identity looks only for [`Core::kind_by_looking`] callers and answers "no" for
    /// others without looking. The look happens in the daemon's mount namespace.
    fn host_is_dir(&self, who: Caller, p: &Path) -> bool {
        if self.mounter != 0 && !self.kind_by_looking(who) {
            return false;
        }
        creds::run_as(who, || std::fs::metadata(p).is_ok_and(|m| m.is_dir())).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_paths_never_leave_the_mapped_directory() {
        let w = |s: &[&str]| {
            s.iter()
                .map(|c| c.encode_utf16().collect())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            mapped_host_path("/srv/d", &w(&["..", "..", "etc"])),
            Some(PathBuf::from("/srv/d/etc"))
        );
        assert_eq!(
            mapped_host_path("/srv/d", &w(&["a", ".", "..", "b"])),
            Some(PathBuf::from("/srv/d/b"))
        );
        assert_eq!(mapped_host_path("/srv/d", &w(&["a/../../x"])), None);
    }
}
