//! Extended attribute names and the ntfs-3g value formats.
//!
//! ntfs-3g exposes NTFS metadata as `system.ntfs_*` extended attributes; ntlinkfs answers the
//! same names with the same byte layouts, so scripts written for an ntfs-3g mount of real
//! NTFS work unchanged. Layouts (observed on ntfs-3g 2022.10 over an mkntfs image with
//! `getfattr -e hex` / `setfattr`; `_be` = the same numbers big-endian, plain = little-endian):
//!
//! * `system.ntfs_reparse_data`: the REPARSE_DATA_BUFFER byte for byte (MS-FSCC 2.1.2.2).
//! * `system.ntfs_attrib[_be]`: FILE_ATTRIBUTE_* as a 4-byte integer (a new file: 0x20, a
//!   directory: 0x30).
//! * `system.ntfs_crtime[_be]`: CreationTime as an 8-byte FILETIME.
//! * `system.ntfs_times[_be]`: four 8-byte FILETIMEs, in the order CreationTime,
//!   LastWriteTime, LastAccessTime, ChangeTime. Setting accepts 8, 16, 24 or 32 bytes and sets
//!   that many of the times from the first; any other length → ERANGE (ntfs-3g: "Numerical
//!   result out of range").
//!
//! `user.*`, `trusted.*` and `security.*` attributes are stored per file by the engine
//! ([`vfs_core::Volume::set_xattr`]), shared by every name of the file.
//!
//! Control attributes of ntlinkfs itself live under `user.ntlinkfs.` (the `user` namespace is
//! the one the kernel passes to FUSE for every caller); they are never stored or listed:
//! see [`Control`].

use vfs_core::{FileTime, SetTimes};

/// One of the names this backend answers itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    /// `system.ntfs_reparse_data`
    ReparseData,
    /// `system.ntfs_attrib` (`be`: `_be`)
    Attrib { be: bool },
    /// `system.ntfs_crtime`
    Crtime { be: bool },
    /// `system.ntfs_times`
    Times { be: bool },
    /// A control attribute.
    Control(Control),
    /// Stored in the engine.
    Stored,
    /// `user.ntlinkfs.*` names that mean nothing: refused.
    ReservedUnknown,
    /// Any other namespace (`system.posix_acl_*`, `system.ntfs_dos_name`, …).
    Unsupported,
}

/// Control attributes (get or set through `getfattr` / `setfattr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    /// `user.ntlinkfs.check` (get, any file): runs the engine's invariant check; the value is
    /// `ok` or one inconsistency per line.
    Check,
    /// `user.ntlinkfs.names` (get): every name of the file as volume paths (`\dir\name`, what
    /// FindFirstFileNameW returns, A1), one per line.
    Names,
    /// `user.ntlinkfs.fileid` (get): the file's NTFS file id in hex (`0x…`), shared by all
    /// its names.
    FileId,
    /// `user.ntlinkfs.recase` (set on a directory): the value is a new spelling of one of the
    /// directory's entries that differs only in case; the entry is re-cased (A5: a case-only
    /// rename re-cases the entry). rename(2) cannot do this on Linux: the VFS turns a rename
    /// between two names of the same inode into a no-op before the file system sees it.
    Recase,
    /// `user.ntlinkfs.save` (set on the root): the value is an absolute host path; the daemon
    /// saves the drive there as an image, atomically (`ntlinkfs save MOUNTPOINT FILE`).
    Save,
    /// `user.ntlinkfs.handles` (get, any file): the number of handles open in the engine, in
    /// decimal (leak checks: 0 once every file is closed).
    Handles,
}

/// Prefix of ntlinkfs's control attributes (`user.ntlinkfs.`): `check`, `names`, `fileid`,
/// `recase`, `save`, `handles`.
pub const CONTROL_PREFIX: &str = "user.ntlinkfs.";

/// Classifies an attribute name.
pub(crate) fn classify(name: &[u8]) -> Special {
    match name {
        b"system.ntfs_reparse_data" => Special::ReparseData,
        b"system.ntfs_attrib" => Special::Attrib { be: false },
        b"system.ntfs_attrib_be" => Special::Attrib { be: true },
        b"system.ntfs_crtime" => Special::Crtime { be: false },
        b"system.ntfs_crtime_be" => Special::Crtime { be: true },
        b"system.ntfs_times" => Special::Times { be: false },
        b"system.ntfs_times_be" => Special::Times { be: true },
        b"user.ntlinkfs.check" => Special::Control(Control::Check),
        b"user.ntlinkfs.names" => Special::Control(Control::Names),
        b"user.ntlinkfs.fileid" => Special::Control(Control::FileId),
        b"user.ntlinkfs.recase" => Special::Control(Control::Recase),
        b"user.ntlinkfs.save" => Special::Control(Control::Save),
        b"user.ntlinkfs.handles" => Special::Control(Control::Handles),
        n if n.starts_with(CONTROL_PREFIX.as_bytes()) => Special::ReservedUnknown,
        n if n.starts_with(b"user.")
            || n.starts_with(b"trusted.")
            || n.starts_with(b"security.") =>
        {
            Special::Stored
        }
        _ => Special::Unsupported,
    }
}

/// A 4-byte integer in ntfs-3g's layout.
pub(crate) fn encode_u32(v: u32, be: bool) -> Vec<u8> {
    if be {
        v.to_be_bytes().to_vec()
    } else {
        v.to_le_bytes().to_vec()
    }
}

/// Decodes a 4-byte integer; another length → None.
pub(crate) fn decode_u32(b: &[u8], be: bool) -> Option<u32> {
    let a: [u8; 4] = b.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

/// FILETIMEs in ntfs-3g's layout.
pub(crate) fn encode_times(times: &[FileTime], be: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(times.len() * 8);
    for &t in times {
        out.extend_from_slice(&if be { t.to_be_bytes() } else { t.to_le_bytes() });
    }
    out
}

/// Decodes 1 to `max` FILETIMEs; a length that is not a multiple of 8 in 8..=8*max → None.
pub(crate) fn decode_times(b: &[u8], be: bool, max: usize) -> Option<Vec<FileTime>> {
    if b.is_empty() || b.len() % 8 != 0 || b.len() > 8 * max {
        return None;
    }
    Some(
        b.chunks_exact(8)
            .map(|c| {
                let a: [u8; 8] = c.try_into().expect("chunks of 8");
                if be {
                    u64::from_be_bytes(a)
                } else {
                    u64::from_le_bytes(a)
                }
            })
            .collect(),
    )
}

/// The times ntfs_times sets from its decoded values (creation, last write, last access,
/// change, in that order).
pub(crate) fn times_update(v: &[FileTime]) -> SetTimes {
    SetTimes {
        creation: v.first().copied(),
        last_write: v.get(1).copied(),
        last_access: v.get(2).copied(),
        change: v.get(3).copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntfs_3g_layouts_observed() {
        // ntfs-3g: a new file's system.ntfs_attrib=0x20000000, ntfs_attrib_be=0x00000020.
        assert_eq!(encode_u32(0x20, false), vec![0x20, 0, 0, 0]);
        assert_eq!(encode_u32(0x20, true), vec![0, 0, 0, 0x20]);
        assert_eq!(decode_u32(&[0, 0, 0, 1], true), Some(1));
        assert_eq!(decode_u32(&[1, 0, 0], false), None);
        // ntfs_crtime=0xcdd5bd25127add01 ⇔ ntfs_crtime_be=0x01dd7a1225bdd5cd
        let t = 0x01dd7a1225bdd5cd_u64;
        assert_eq!(
            encode_times(&[t], false),
            vec![0xcd, 0xd5, 0xbd, 0x25, 0x12, 0x7a, 0xdd, 0x01]
        );
        assert_eq!(
            decode_times(&encode_times(&[t, 1, 2], true), true, 4),
            Some(vec![t, 1, 2])
        );
        assert_eq!(decode_times(&[0; 7], false, 4), None);
        assert_eq!(decode_times(&[0; 40], false, 4), None);
        assert_eq!(decode_times(&[], false, 4), None);
    }

    #[test]
    fn times_order_is_creation_write_access_change() {
        let u = times_update(&[1, 2, 3, 4]);
        assert_eq!(
            (u.creation, u.last_write, u.last_access, u.change),
            (Some(1), Some(2), Some(3), Some(4))
        );
        let u = times_update(&[9]);
        assert_eq!((u.creation, u.last_write), (Some(9), None));
    }

    #[test]
    fn names_classify() {
        assert_eq!(classify(b"system.ntfs_reparse_data"), Special::ReparseData);
        assert_eq!(classify(b"user.x"), Special::Stored);
        assert_eq!(
            classify(b"user.ntlinkfs.check"),
            Special::Control(Control::Check)
        );
        assert_eq!(classify(b"user.ntlinkfs.bogus"), Special::ReservedUnknown);
        assert_eq!(classify(b"system.posix_acl_access"), Special::Unsupported);
    }
}
