//! symlink(2) targets (Linux paths) → NTFS symbolic link targets.
//!
//! The reverse of [`vfs_core::Volume::read_link_posix`], so that what `ln -s` stores reads
//! back with `readlink` and means the same thing to Windows:
//!
//! | Linux target                         | NTFS target (then [`symlink_for_target`])     |
//! |--------------------------------------|-----------------------------------------------|
//! | relative (`../a/b`)                  | relative, `/` → `\` (SYMLINK_FLAG_RELATIVE)   |
//! | `MOUNTPOINT` or `MOUNTPOINT/a/b`     | `C:\a\b` on the volume's drive letter         |
//! | under a `--map-drive D=/host` path   | `D:\rest`                                     |
//! | `/.ntlinkfs-unmapped/D:/a`           | `D:\a` (what readlink shows for unmapped D:)  |
//! | `/.ntlinkfs-unmapped/UNC/srv/sh/a`   | `\\srv\sh\a`                                  |
//! | any other absolute path              | refused with EPERM (no letter maps it)        |
//!
//! An absolute target is normalized lexically first (`.` and empty segments dropped, `..`
//! removing the segment before it, never above `/`), so that the link names the place its
//! text names: `MOUNTPOINT/../x` is the host's `x` beside the mount point (the mount point is
//! canonical, so its `..` is its real parent), outside the drive, and refused like any other
//! host path rather than stored as `C:\x` (issue 14). A `\` inside a component of an
//! absolute target would turn into a separator on the NTFS side, naming another file, so it is
//! refused with EINVAL (NTFS names cannot hold `\`, MS-FSCC 2.1.5.2).
//!
//! An absolute path elsewhere on the host has a Windows meaning only through a mapped
//! letter. `ntlinkfs mount` maps one to the host root by default (`Z:` → `/`, issue 13:
//! pnpm's store, `python -m venv` and `tar`/`rsync`/`cp -a` of such trees write links to host
//! paths), so `/usr/bin/python3` becomes `Z:\usr\bin\python3`, reads back as the path given
//! and is followed by the kernel. Without such a letter (`--no-host-links`) there is none:
//! EPERM is what symlink(2) returns when "the file system does not support the creation of
//! symbolic links" of that kind, and tools that fall back to copying on EPERM do so.
//!
//! A relative target is passed through untouched, so a target typed in Windows form
//! (`C:\dir`, `\\srv\share`) makes that absolute Windows link, as `mklink` would.
//!
//! [`symlink_for_target`]: vfs_core::reparse::symlink_for_target

use crate::errno::Errno;
use crate::names;
use std::path::{Path, PathBuf};
use vfs_core::wtf16::wide;
use vfs_core::UNMAPPED_PREFIX;

/// Where a Linux symlink target leads, for deciding the link's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// On this volume: a path relative to the link's directory (`relative`) or to the root.
    Volume { relative: bool },
    /// On the host (a mapped drive): the host path.
    Host(PathBuf),
    /// Nowhere we can look (an unmapped drive or a share).
    Unknown,
}

/// The NTFS target (UTF-16) for a Linux symlink target, and where it leads.
pub(crate) fn ntfs_target(
    target: &[u8],
    mount: &Path,
    drive: char,
    map: &[(char, PathBuf)],
) -> Result<(Vec<u16>, Place), Errno> {
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    if target[0] != b'/' {
        let units = names::to_units(target).ok_or(Errno::EINVAL)?;
        return Ok((units, Place::Volume { relative: true }));
    }
    let normalized = std::str::from_utf8(target).ok().map(lexical);
    let text = normalized.as_deref();
    let under = |base: &Path| -> Option<String> {
        let base = base.to_str()?.trim_end_matches('/');
        let t = text?;
        let rest = t.strip_prefix(base)?;
        if rest.is_empty() || rest.starts_with('/') {
            Some(rest.trim_start_matches('/').to_string())
        } else {
            None
        }
    };
    if text.is_some_and(|t| t.contains('\\')) {
        return Err(Errno::EINVAL);
    }
    let drive_path = |letter: char, rest: &str| -> Vec<u16> {
        let mut s = format!("{letter}:\\");
        s.push_str(&rest.replace('/', "\\"));
        wide(&s)
    };
    if let Some(rest) = under(mount) {
        return Ok((drive_path(drive, &rest), Place::Volume { relative: false }));
    }
    let mut mapped: Vec<&(char, PathBuf)> = map.iter().collect();
    mapped.sort_by_key(|(_, p)| std::cmp::Reverse(p.as_os_str().len()));
    for (letter, host) in mapped {
        if let Some(rest) = under(host) {
            let host_path = PathBuf::from(text.unwrap_or_default());
            return Ok((drive_path(*letter, &rest), Place::Host(host_path)));
        }
    }
    if let Some(rest) = under(Path::new(UNMAPPED_PREFIX)) {
        let mut parts = rest.splitn(2, '/');
        let first = parts.next().unwrap_or("");
        let tail = parts.next().unwrap_or("");
        let b = first.as_bytes();
        if b.len() == 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            return Ok((drive_path(b[0] as char, tail), Place::Unknown));
        }
        if first == "UNC" {
            let mut s = String::from("\\\\");
            s.push_str(&tail.replace('/', "\\"));
            return Ok((wide(&s), Place::Unknown));
        }
        if first.starts_with("{") && first.ends_with('}') {
            let mut s = format!("\\??\\Volume{first}");
            if !tail.is_empty() {
                s.push('\\');
                s.push_str(&tail.replace('/', "\\"));
            }
            return Ok((wide(&s), Place::Unknown));
        }
    }
    Err(Errno::EPERM)
}

/// An absolute POSIX path with `.`, `..` and repeated `/` applied lexically (`..` at `/`
/// stays at `/`, as the kernel's walk does).
fn lexical(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(target: &str) -> Result<(String, Place), Errno> {
        let map = vec![
            ('D', PathBuf::from("/host/d")),
            ('E', PathBuf::from("/host/d/deeper")),
        ];
        ntfs_target(target.as_bytes(), Path::new("/mnt/x"), 'C', &map)
            .map(|(u, p)| (String::from_utf16(&u).unwrap(), p))
    }

    #[test]
    fn relative_targets_pass_through() {
        assert_eq!(
            t("../a/b").unwrap(),
            ("../a/b".into(), Place::Volume { relative: true })
        );
    }

    #[test]
    fn targets_in_the_mount_land_on_the_drive_letter() {
        assert_eq!(t("/mnt/x/a/b").unwrap().0, r"C:\a\b");
        assert_eq!(t("/mnt/x").unwrap().0, r"C:\");
        assert_eq!(t("/mnt/x/").unwrap().0, r"C:\");
        // A sibling whose name merely starts with the mount point's is not inside it.
        assert_eq!(t("/mnt/xy/a"), Err(Errno::EPERM));
    }

    #[test]
    fn mapped_host_paths_take_their_letter_longest_first() {
        assert_eq!(t("/host/d/a").unwrap().0, r"D:\a");
        assert_eq!(t("/host/d/deeper/a").unwrap().0, r"E:\a");
        assert_eq!(
            t("/host/d/a").unwrap().1,
            Place::Host(PathBuf::from("/host/d/a"))
        );
    }

    #[test]
    fn unmapped_forms_round_trip_what_readlink_shows() {
        assert_eq!(t("/.ntlinkfs-unmapped/Q:/a/b").unwrap().0, r"Q:\a\b");
        assert_eq!(
            t("/.ntlinkfs-unmapped/UNC/srv/sh/a").unwrap().0,
            r"\\srv\sh\a"
        );
    }

    #[test]
    fn other_absolute_paths_are_refused() {
        assert_eq!(t("/etc/passwd"), Err(Errno::EPERM));
        assert_eq!(t(""), Err(Errno::ENOENT));
    }

    /// Issue 13: with the host root mapped (`ntlinkfs mount`'s default `Z:` → `/`), every
    /// absolute host path has a letter; the mount point and longer mappings still win, and
    /// `MOUNT/../x` is the host's `x` beside the mount point, never the drive's `x`.
    #[test]
    fn the_host_root_letter_takes_every_other_absolute_path() {
        let map = vec![('Z', PathBuf::from("/")), ('D', PathBuf::from("/host/d"))];
        let t = |target: &str| {
            ntfs_target(target.as_bytes(), Path::new("/mnt/x"), 'C', &map)
                .map(|(u, p)| (String::from_utf16(&u).unwrap(), p))
        };
        assert_eq!(
            t("/usr/bin/python3").unwrap(),
            (
                r"Z:\usr\bin\python3".into(),
                Place::Host(PathBuf::from("/usr/bin/python3"))
            )
        );
        assert_eq!(t("/").unwrap().0, r"Z:\");
        assert_eq!(t("/mnt/x/a").unwrap().0, r"C:\a");
        assert_eq!(t("/host/d/a").unwrap().0, r"D:\a");
        assert_eq!(t("/mnt/x/../x2").unwrap().0, r"Z:\mnt\x2");
        assert_eq!(t("/mnt/xy/a").unwrap().0, r"Z:\mnt\xy\a");
        assert_eq!(t("/mnt/x/a\\b"), Err(Errno::EINVAL));
    }

    /// Issue 14: `ln -s MOUNT/../x` names the host's `x` next to the mount point, not the
    /// drive's `x`; `..` inside the mount stays inside it.
    #[test]
    fn absolute_targets_name_what_their_text_names() {
        assert_eq!(t("/mnt/x/../x2"), Err(Errno::EPERM));
        assert_eq!(t("/mnt/x/.."), Err(Errno::EPERM));
        assert_eq!(t("/mnt/x/a/../b").unwrap().0, r"C:\b");
        assert_eq!(t("/mnt/x/./a//b/").unwrap().0, r"C:\a\b");
        assert_eq!(t("/mnt/y/../x/a").unwrap().0, r"C:\a");
        assert_eq!(t("/../../mnt/x/a").unwrap().0, r"C:\a");
        // A mapped directory's `..` leaves it: only what is still below it keeps the letter.
        assert_eq!(t("/host/d/deeper/../a").unwrap().0, r"D:\a");
        assert_eq!(t("/host/d/../etc"), Err(Errno::EPERM));
        assert_eq!(
            t("/host/d/x/../a").unwrap().1,
            Place::Host(PathBuf::from("/host/d/a"))
        );
        // A backslash in a Linux name would become an NTFS separator.
        assert_eq!(t("/mnt/x/a\\b"), Err(Errno::EINVAL));
        assert_eq!(lexical("/a/../../b/./c//"), "/b/c");
        assert_eq!(lexical("/.."), "/");
    }
}
