//! The extended-attribute names the tools and the FUSE backend speak: ntfs-3g's interface to
//! NTFS metadata (which ntlinkfs answers with the same byte layouts, so scripts written for an
//! ntfs-3g mount of real NTFS work unchanged) and ntlinkfs's own control attributes. The value
//! formats are documented where they are implemented (`backend-fuse/src/xattr.rs`).

/// ntfs-3g's `system.ntfs_*` attributes.
pub mod ntfs {
    /// The raw REPARSE_DATA_BUFFER (MS-FSCC 2.1.2.2), byte for byte.
    pub const REPARSE_DATA: &str = "system.ntfs_reparse_data";
    /// [`REPARSE_DATA`] as a C string, for callers that pass it to libc in a timed loop.
    pub const REPARSE_DATA_C: &std::ffi::CStr = c"system.ntfs_reparse_data";
    /// FILE_ATTRIBUTE_* as 4 little-endian bytes.
    pub const ATTRIB: &str = "system.ntfs_attrib";
    /// FILE_ATTRIBUTE_* as 4 big-endian bytes.
    pub const ATTRIB_BE: &str = "system.ntfs_attrib_be";
    /// CreationTime as an 8-byte little-endian FILETIME.
    pub const CRTIME: &str = "system.ntfs_crtime";
    /// CreationTime, big-endian.
    pub const CRTIME_BE: &str = "system.ntfs_crtime_be";
    /// CreationTime, LastWriteTime, LastAccessTime, ChangeTime: four little-endian FILETIMEs.
    pub const TIMES: &str = "system.ntfs_times";
    /// The four times, big-endian.
    pub const TIMES_BE: &str = "system.ntfs_times_be";
}

/// ntlinkfs's control attributes, under `user.ntlinkfs.` (the `user` namespace is the one the
/// kernel passes to FUSE for every caller). They are answered by the daemon, never stored or
/// listed.
pub mod control {
    /// The prefix every control attribute has; any other name under it is refused.
    pub const PREFIX: &str = "user.ntlinkfs.";
    /// Get, any file: the engine's invariant check, `ok` or one inconsistency per line.
    pub const CHECK: &str = "user.ntlinkfs.check";
    /// Get: every name of the file as volume paths (`\dir\name`), one per line.
    pub const NAMES: &str = "user.ntlinkfs.names";
    /// Get: the file's NTFS file id in hex (`0x…`), shared by all its names.
    pub const FILEID: &str = "user.ntlinkfs.fileid";
    /// Set on a directory: a new spelling of one of its entries that differs only in case.
    pub const RECASE: &str = "user.ntlinkfs.recase";
    /// Set on the root: an absolute host path the daemon saves the drive to as an image.
    pub const SAVE: &str = "user.ntlinkfs.save";
    /// Get, any file: the number of handles open in the engine, in decimal.
    pub const HANDLES: &str = "user.ntlinkfs.handles";
    /// Get, any file: the daemon's process id in decimal (`ntlinkfs unmount` waits for it).
    pub const PID: &str = "user.ntlinkfs.pid";
    /// Get, any file: the host path of the image saved at unmount; ENODATA when there is none.
    pub const IMAGE: &str = "user.ntlinkfs.image";

    /// Every control attribute.
    pub const ALL: &[&str] = &[CHECK, NAMES, FILEID, RECASE, SAVE, HANDLES, PID, IMAGE];
}

#[cfg(test)]
mod tests {
    use super::{control, ntfs};

    #[test]
    fn the_c_name_is_the_name() {
        assert_eq!(ntfs::REPARSE_DATA_C.to_str(), Ok(ntfs::REPARSE_DATA));
    }

    #[test]
    fn control_names_share_the_prefix() {
        for n in control::ALL {
            assert!(n.starts_with(control::PREFIX), "{n}");
            assert!(n.len() > control::PREFIX.len());
        }
    }
}
