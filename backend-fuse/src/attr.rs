//! The engine's [`Stat`] as Linux sees it.
//!
//! * Junctions (IO_REPARSE_TAG_MOUNT_POINT) and symbolic links (IO_REPARSE_TAG_SYMLINK), file
//!   or directory ones, are symlinks (`S_IFLNK`, mode 0777, size = length of the target
//!   `readlink` returns), as on ntfs-3g.
//! * A file holding IO_REPARSE_TAG_LX_FIFO, AF_UNIX, LX_CHR or LX_BLK ([MS-FSCC] 2.1.2.1; how
//!   Windows and WSL store special files, [`vfs_core::SpecialFile`]) is a FIFO, socket,
//!   character or block device (`S_IFIFO`, `S_IFSOCK`, `S_IFCHR`, `S_IFBLK`), size 0, with
//!   the device number as `st_rdev`: the kernel then serves its opens and I/O itself (pipes,
//!   sockets, device drivers), as ntfs-3g's `special_files=wsl` mode shows them. Other
//!   reparse tags keep their underlying kind.
//! * Directories report `nlink` 1 and size 0. ntfs-3g also reports 1 (observed: `stat -c %h`
//!   on an ntfs-3g mount of an mkntfs image gives 1 for every directory); `find` and other
//!   tools read 1 as "link count unknown" and do not use it to skip subdirectories.
//! * Files report the number of names that are not delete-pending (A1,
//!   FILE_STANDARD_INFORMATION.NumberOfLinks).
//! * Times: atime = LastAccessTime, mtime = LastWriteTime, ctime = ChangeTime, crtime (statx
//!   btime is not carried by FUSE) = CreationTime, all FILETIMEs converted to Unix time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vfs_core::reparse::{IO_REPARSE_TAG_MOUNT_POINT, IO_REPARSE_TAG_SYMLINK};
use vfs_core::{FileKind, FileTime, SpecialFile, Stat, FILETIME_UNIX_EPOCH};

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
    /// A FIFO (IO_REPARSE_TAG_LX_FIFO).
    Fifo,
    /// An AF_UNIX socket (IO_REPARSE_TAG_AF_UNIX).
    Socket,
    /// A character device node (IO_REPARSE_TAG_LX_CHR).
    CharDevice,
    /// A block device node (IO_REPARSE_TAG_LX_BLK).
    BlockDevice,
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
        match st.special {
            Some(SpecialFile::Fifo) => Kind::Fifo,
            Some(SpecialFile::Socket) => Kind::Socket,
            Some(SpecialFile::CharDevice { .. }) => Kind::CharDevice,
            Some(SpecialFile::BlockDevice { .. }) => Kind::BlockDevice,
            None => Kind::File,
        }
    }
}

/// A device number as FUSE carries it (`fuse_attr.rdev`, `fuse_mknod_in.rdev`): the
/// kernel's 32-bit `new_encode_dev` form, 12 bits of major and 20 of minor (the low 8 bits
/// of the minor, the major, then the rest of the minor). Numbers beyond that range cannot
/// reach a FUSE file system and are cut to it.
pub(crate) fn encode_dev(major: u32, minor: u32) -> u32 {
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & 0xfff00) << 12)
}

/// [`encode_dev`] reversed (the kernel's `new_decode_dev`): (major, minor).
pub(crate) fn decode_dev(dev: u32) -> (u32, u32) {
    ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00))
}

/// `st_rdev` of a file as FUSE carries it: the device number of a device node, else 0.
pub(crate) fn rdev(st: &Stat) -> u32 {
    match st.special.and_then(|s| s.device()) {
        Some((major, minor)) if kind(st) != Kind::File => encode_dev(major, minor),
        _ => 0,
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
            // A special file's data (if a Windows writer left any) is not what Linux
            // reads from it: the kernel serves its I/O; size 0 as on Linux.
            Kind::Fifo | Kind::Socket | Kind::CharDevice | Kind::BlockDevice => {
                (0, st.links, (st.mode & 0o7777) as u16)
            }
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
    fn device_numbers_encode_as_the_kernel_does() {
        // new_encode_dev(MKDEV(1, 3)) = 0x103; MKDEV(8, 0x12345) spreads the minor.
        assert_eq!(encode_dev(1, 3), 0x103);
        assert_eq!(encode_dev(8, 0x12345), 0x45 | (8 << 8) | (0x12300 << 12));
        for (ma, mi) in [(0, 0), (1, 3), (8, 2), (0xfff, 0xfffff), (259, 65536)] {
            assert_eq!(decode_dev(encode_dev(ma, mi)), (ma, mi));
            // glibc's makedev agrees in its low 32 bits for these ranges.
            assert_eq!(libc::makedev(ma, mi) as u32, encode_dev(ma, mi));
        }
    }

    #[test]
    fn special_files_show_their_type_and_device() {
        let v = vfs_core::Volume::new(vfs_core::VolumeOptions::default());
        let new = vfs_core::NewFile::file();
        for (name, sp, k) in [
            ("p", SpecialFile::Fifo, Kind::Fifo),
            ("s", SpecialFile::Socket, Kind::Socket),
            (
                "c",
                SpecialFile::CharDevice { major: 1, minor: 3 },
                Kind::CharDevice,
            ),
            (
                "b",
                SpecialFile::BlockDevice { major: 8, minor: 1 },
                Kind::BlockDevice,
            ),
        ] {
            let id = v
                .create_special(
                    v.root(),
                    &vfs_core::Name::from_str_checked(name).unwrap(),
                    &new,
                    sp,
                )
                .unwrap();
            let st = v.stat(id).unwrap();
            assert_eq!(kind(&st), k);
            let want = sp.device().map_or(0, |(a, b)| encode_dev(a, b));
            assert_eq!(rdev(&st), want);
        }
        let f = v.create_path(r"\f", &vfs_core::NewFile::file()).unwrap();
        let st = v.stat(f).unwrap();
        assert_eq!((kind(&st), rdev(&st)), (Kind::File, 0));
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
