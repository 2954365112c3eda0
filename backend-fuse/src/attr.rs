//! The engine's [`Stat`] as Linux sees it.
//!
//! * Junctions (IO_REPARSE_TAG_MOUNT_POINT) and symbolic links (IO_REPARSE_TAG_SYMLINK), file
//!   or directory ones, are symlinks (`S_IFLNK`, mode 0777, size = length of the target
//!   `readlink` returns), as on ntfs-3g. Other reparse tags keep their underlying kind.
//! * Directories report `nlink` 1 and size 0. ntfs-3g also reports 1 (observed: `stat -c %h`
//!   on an ntfs-3g mount of an mkntfs image gives 1 for every directory); `find` and other
//!   tools read 1 as "link count unknown" and do not use it to skip subdirectories.
//! * Files report the number of names that are not delete-pending (A1,
//!   FILE_STANDARD_INFORMATION.NumberOfLinks).
//! * Times: atime = LastAccessTime, mtime = LastWriteTime, ctime = ChangeTime, crtime (statx
//!   btime is not carried by FUSE) = CreationTime, all FILETIMEs converted to Unix time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vfs_core::reparse::{IO_REPARSE_TAG_MOUNT_POINT, IO_REPARSE_TAG_SYMLINK};
use vfs_core::{FileKind, FileTime, Stat, FILETIME_UNIX_EPOCH};

/// Block size reported to `stat`.
pub(crate) const BLOCK_SIZE: u32 = 4096;

/// `st_blocks` (512-byte units) as ntfs-3g reports them (A8, observed on a fresh mkntfs
/// image): data resident in the file record counts its bytes rounded up to 512 (a 6-byte file
/// is 1 block), as does a symlink's target; data outside the record counts its clusters; a
/// directory its index allocation (0 up to 4 names). `size` is what Linux is shown as st_size.
pub(crate) fn blocks(st: &Stat, size: u64) -> u64 {
    if is_link(st) {
        size.div_ceil(512)
    } else if st.kind == FileKind::Directory {
        st.allocation_size / 512
    } else if st.resident {
        st.size.div_ceil(512)
    } else {
        st.allocation_size / 512
    }
}

/// A FILETIME (100 ns since 1601) as a SystemTime.
pub(crate) fn to_system_time(ft: FileTime) -> SystemTime {
    if ft >= FILETIME_UNIX_EPOCH {
        let d = ft - FILETIME_UNIX_EPOCH;
        UNIX_EPOCH
            .checked_add(Duration::new(d / 10_000_000, (d % 10_000_000) as u32 * 100))
            .unwrap_or(UNIX_EPOCH)
    } else {
        let d = FILETIME_UNIX_EPOCH - ft;
        UNIX_EPOCH
            .checked_sub(Duration::new(d / 10_000_000, (d % 10_000_000) as u32 * 100))
            .unwrap_or(UNIX_EPOCH)
    }
}

/// A SystemTime as a FILETIME, clamped to FILETIME's range (1601 .. year 30828).
pub(crate) fn to_filetime(t: SystemTime) -> FileTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => {
            let ticks = d
                .as_secs()
                .saturating_mul(10_000_000)
                .saturating_add(u64::from(d.subsec_nanos() / 100));
            FILETIME_UNIX_EPOCH.saturating_add(ticks)
        }
        Err(e) => {
            let d = e.duration();
            let ticks = d
                .as_secs()
                .saturating_mul(10_000_000)
                .saturating_add(u64::from(d.subsec_nanos().div_ceil(100)));
            FILETIME_UNIX_EPOCH.saturating_sub(ticks)
        }
    }
}

/// Is this file shown to Linux as a symlink (a junction or an NTFS symbolic link)?
pub(crate) fn is_link(st: &Stat) -> bool {
    matches!(
        st.reparse_tag,
        Some(IO_REPARSE_TAG_MOUNT_POINT) | Some(IO_REPARSE_TAG_SYMLINK)
    )
}

/// The file type Linux sees (fuser's `FileType` without fuser: `glue` maps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A directory (not a junction).
    Directory,
    /// A junction or an NTFS symbolic link.
    Symlink,
    /// Anything else: a file.
    File,
}

/// The file type Linux sees.
pub(crate) fn kind(st: &Stat) -> Kind {
    if is_link(st) {
        Kind::Symlink
    } else if st.kind == FileKind::Directory {
        Kind::Directory
    } else {
        Kind::File
    }
}

/// A file's attributes as one reply gives them to the kernel: its node, its engine
/// attributes and, for a link, the length of the POSIX target (the symlink's size).
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    /// The node the kernel knows the file under.
    pub(crate) ino: u64,
    /// The engine's attributes.
    pub(crate) stat: Stat,
    /// The length of the target `readlink` returns (0 for anything but a link).
    pub(crate) link_len: u64,
}

impl Attr {
    /// Linux's view of the attributes: (size, nlink, permission bits).
    pub(crate) fn size_nlink_perm(&self) -> (u64, u32, u16) {
        let st = &self.stat;
        match kind(st) {
            Kind::Symlink => (self.link_len, st.links, 0o777),
            Kind::Directory => (0, 1, (st.mode & 0o7777) as u16),
            Kind::File => (st.size, st.links, (st.mode & 0o7777) as u16),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_round_trips_through_system_time() {
        for ft in [
            FILETIME_UNIX_EPOCH,
            FILETIME_UNIX_EPOCH + 1,
            FILETIME_UNIX_EPOCH + 123_456_789,
            FILETIME_UNIX_EPOCH - 1,
            1,
            0,
            133_000_000_000_000_000,
        ] {
            assert_eq!(to_filetime(to_system_time(ft)), ft, "{ft}");
        }
    }

    #[test]
    fn unix_epoch_is_filetime_116444736000000000() {
        assert_eq!(to_filetime(UNIX_EPOCH), 116_444_736_000_000_000);
        assert_eq!(
            to_filetime(UNIX_EPOCH + Duration::from_secs(1)),
            116_444_736_010_000_000
        );
    }
}
