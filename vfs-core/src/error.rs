//! The engine's one error type, with its NTSTATUS, Win32 and errno faces in one table.
//!
//! Codes come from `docs/NTFS-RULES.md` (MS-ERREF values); the Win32 column is what
//! `RtlNtStatusToDosError` gives for each NTSTATUS, and the errno column is what the FUSE backend
//! returns (chosen to match what ntfs-3g or POSIX callers expect for the same situation).

/// Every outcome of an engine operation that is not success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// STATUS_OBJECT_NAME_NOT_FOUND: the last component does not exist.
    #[error("the file does not exist (STATUS_OBJECT_NAME_NOT_FOUND)")]
    ObjectNameNotFound,
    /// STATUS_OBJECT_PATH_NOT_FOUND: a directory on the way does not exist.
    #[error("a directory of the path does not exist (STATUS_OBJECT_PATH_NOT_FOUND)")]
    ObjectPathNotFound,
    /// STATUS_OBJECT_NAME_INVALID: forbidden characters, empty, `.`/`..`.
    #[error("the name is not valid on NTFS (STATUS_OBJECT_NAME_INVALID)")]
    ObjectNameInvalid,
    /// STATUS_OBJECT_NAME_INVALID for a component longer than 255 UTF-16 units (errno ENAMETOOLONG).
    #[error("a name component is longer than 255 UTF-16 units (STATUS_OBJECT_NAME_INVALID)")]
    NameTooLong,
    /// STATUS_OBJECT_NAME_COLLISION.
    #[error("a file with this name already exists (STATUS_OBJECT_NAME_COLLISION)")]
    NameCollision,
    /// STATUS_FILE_IS_A_DIRECTORY.
    #[error("the file is a directory (STATUS_FILE_IS_A_DIRECTORY)")]
    FileIsADirectory,
    /// STATUS_NOT_A_DIRECTORY.
    #[error("the file is not a directory (STATUS_NOT_A_DIRECTORY)")]
    NotADirectory,
    /// STATUS_DIRECTORY_NOT_EMPTY.
    #[error("the directory is not empty (STATUS_DIRECTORY_NOT_EMPTY)")]
    DirectoryNotEmpty,
    /// STATUS_TOO_MANY_LINKS: more than 1024 names for one file.
    #[error("the file already has the maximum number of names (STATUS_TOO_MANY_LINKS)")]
    TooManyLinks,
    /// STATUS_CANNOT_DELETE: read-only file, or a directory in use as a mount.
    #[error("the file cannot be deleted (STATUS_CANNOT_DELETE)")]
    CannotDelete,
    /// STATUS_DELETE_PENDING: legacy delete is pending on the file.
    #[error("a delete is pending on the file (STATUS_DELETE_PENDING)")]
    DeletePending,
    /// STATUS_FILE_DELETED: the file has no name left (operation through a stale id or handle).
    #[error("the file has been deleted (STATUS_FILE_DELETED)")]
    FileDeleted,
    /// STATUS_ACCESS_DENIED.
    #[error("access denied (STATUS_ACCESS_DENIED)")]
    AccessDenied,
    /// STATUS_SHARING_VIOLATION.
    #[error("the file is in use (STATUS_SHARING_VIOLATION)")]
    SharingViolation,
    /// STATUS_NOT_SAME_DEVICE.
    #[error("the target is on another volume (STATUS_NOT_SAME_DEVICE)")]
    NotSameDevice,
    /// STATUS_INVALID_PARAMETER.
    #[error("invalid parameter (STATUS_INVALID_PARAMETER)")]
    InvalidParameter,
    /// STATUS_INVALID_HANDLE: a closed or never-opened handle.
    #[error("invalid handle (STATUS_INVALID_HANDLE)")]
    InvalidHandle,
    /// STATUS_INVALID_PARAMETER for an id that never named a file or names one that is gone.
    #[error("no file has this id (STATUS_INVALID_PARAMETER)")]
    StaleFileId,
    /// STATUS_DISK_FULL: offset or size past NTFS's maximum file size, or the volume is full.
    #[error("the file would exceed NTFS's maximum size (STATUS_DISK_FULL)")]
    FileTooLarge,
    /// STATUS_DISK_FULL: the volume's size is used up (A8: `VolumeOptions::capacity`).
    #[error("the volume is full (STATUS_DISK_FULL)")]
    DiskFull,
    /// STATUS_MEDIA_WRITE_PROTECTED: the volume is read-only.
    #[error("the volume is read-only (STATUS_MEDIA_WRITE_PROTECTED)")]
    ReadOnlyVolume,
    /// STATUS_IO_REPARSE_DATA_INVALID: a malformed reparse buffer.
    #[error("the reparse data is invalid (STATUS_IO_REPARSE_DATA_INVALID)")]
    ReparseDataInvalid,
    /// STATUS_IO_REPARSE_TAG_INVALID: a reserved tag (0, 1, 2) (MS-FSA 2.1.5.10.3).
    #[error("the reparse tag is reserved (STATUS_IO_REPARSE_TAG_INVALID)")]
    ReparseTagInvalid,
    /// STATUS_IO_REPARSE_TAG_MISMATCH.
    #[error("the reparse tag does not match (STATUS_IO_REPARSE_TAG_MISMATCH)")]
    ReparseTagMismatch,
    /// STATUS_REPARSE_ATTRIBUTE_CONFLICT: non-Microsoft tag with another GUID.
    #[error("the reparse GUID does not match (STATUS_REPARSE_ATTRIBUTE_CONFLICT)")]
    ReparseAttributeConflict,
    /// STATUS_NOT_A_REPARSE_POINT.
    #[error("the file is not a reparse point (STATUS_NOT_A_REPARSE_POINT)")]
    NotAReparsePoint,
    /// STATUS_REPARSE_POINT_NOT_RESOLVED: loops or more than 63 reparse points in one path.
    #[error("the path could not be resolved: too many reparse points or a loop (STATUS_REPARSE_POINT_NOT_RESOLVED)")]
    ReparsePointNotResolved,
    /// STATUS_IO_REPARSE_TAG_NOT_HANDLED: a reparse point of a tag nobody handles is in the path.
    #[error("the reparse point's tag is not handled (STATUS_IO_REPARSE_TAG_NOT_HANDLED)")]
    IoReparseTagNotHandled,
    /// The path leaves this volume (another drive letter or a UNC share) and the caller did not map it.
    #[error("the link points outside this volume (STATUS_OBJECT_PATH_NOT_FOUND)")]
    NotOnThisVolume,
    /// STATUS_CASE_DIFFERING_NAMES_IN_DIR.
    #[error(
        "the directory holds names that differ only in case (STATUS_CASE_DIFFERING_NAMES_IN_DIR)"
    )]
    CaseDifferingNamesInDir,
    /// STATUS_NO_SUCH_FILE: a directory query whose pattern matched nothing.
    #[error("no file matches (STATUS_NO_SUCH_FILE)")]
    NoSuchFile,
    /// STATUS_NO_MORE_FILES: a directory query that has returned every match already
    /// (NtQueryDirectoryFile). A warning-severity status (0x80000006), not an error one.
    #[error("no more files match (STATUS_NO_MORE_FILES)")]
    NoMoreFiles,
    /// STATUS_PRIVILEGE_NOT_HELD.
    #[error("a required privilege is not held (STATUS_PRIVILEGE_NOT_HELD)")]
    PrivilegeNotHeld,
    /// STATUS_NOT_SUPPORTED.
    #[error("the operation is not supported (STATUS_NOT_SUPPORTED)")]
    NotSupported,
}

/// Linux errno values used by [`Error::errno`] (fixed numbers so vfs-core needs no libc).
#[allow(missing_docs)]
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EIO: i32 = 5;
    pub const EBADF: i32 = 9;
    pub const EACCES: i32 = 13;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const EXDEV: i32 = 18;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const EFBIG: i32 = 27;
    pub const EROFS: i32 = 30;
    pub const EMLINK: i32 = 31;
    pub const ENAMETOOLONG: i32 = 36;
    pub const ENOSYS: i32 = 38;
    pub const ENOTEMPTY: i32 = 39;
    pub const ELOOP: i32 = 40;
    pub const ENODATA: i32 = 61;
    pub const ENOSPC: i32 = 28;
    pub const ESTALE: i32 = 116;
    pub const EOPNOTSUPP: i32 = 95;
}

/// The table: (error, NTSTATUS, Win32 error, errno). One row per variant; tested below.
pub const TABLE: &[(Error, u32, u32, i32)] = &[
    (Error::ObjectNameNotFound, 0xC000_0034, 2, errno::ENOENT),
    (Error::ObjectPathNotFound, 0xC000_003A, 3, errno::ENOENT),
    (Error::ObjectNameInvalid, 0xC000_0033, 123, errno::EINVAL),
    (Error::NameTooLong, 0xC000_0033, 123, errno::ENAMETOOLONG),
    (Error::NameCollision, 0xC000_0035, 183, errno::EEXIST),
    (Error::FileIsADirectory, 0xC000_00BA, 5, errno::EISDIR),
    (Error::NotADirectory, 0xC000_0103, 267, errno::ENOTDIR),
    (Error::DirectoryNotEmpty, 0xC000_0101, 145, errno::ENOTEMPTY),
    (Error::TooManyLinks, 0xC000_0265, 1142, errno::EMLINK),
    (Error::CannotDelete, 0xC000_0121, 5, errno::EPERM),
    (Error::DeletePending, 0xC000_0056, 5, errno::EACCES),
    (Error::FileDeleted, 0xC000_0123, 5, errno::ENOENT),
    (Error::AccessDenied, 0xC000_0022, 5, errno::EACCES),
    (Error::SharingViolation, 0xC000_0043, 32, errno::EBUSY),
    (Error::NotSameDevice, 0xC000_00D4, 17, errno::EXDEV),
    (Error::InvalidParameter, 0xC000_000D, 87, errno::EINVAL),
    (Error::InvalidHandle, 0xC000_0008, 6, errno::EBADF),
    (Error::StaleFileId, 0xC000_000D, 87, errno::ESTALE),
    (Error::FileTooLarge, 0xC000_007F, 112, errno::EFBIG),
    (Error::DiskFull, 0xC000_007F, 112, errno::ENOSPC),
    (Error::ReadOnlyVolume, 0xC000_00A2, 19, errno::EROFS),
    (Error::ReparseDataInvalid, 0xC000_0278, 4392, errno::EINVAL),
    (Error::ReparseTagInvalid, 0xC000_0276, 4393, errno::EINVAL),
    (Error::ReparseTagMismatch, 0xC000_0277, 4394, errno::EINVAL),
    (
        Error::ReparseAttributeConflict,
        0xC000_02B2,
        4391,
        errno::EINVAL,
    ),
    (Error::NotAReparsePoint, 0xC000_0275, 4390, errno::ENODATA),
    (
        Error::ReparsePointNotResolved,
        0xC000_0280,
        1921,
        errno::ELOOP,
    ),
    (Error::IoReparseTagNotHandled, 0xC000_0279, 1920, errno::EIO),
    (Error::NotOnThisVolume, 0xC000_003A, 3, errno::ENOENT),
    (
        Error::CaseDifferingNamesInDir,
        0xC000_01BF,
        424,
        errno::EINVAL,
    ),
    (Error::NoSuchFile, 0xC000_000F, 2, errno::ENOENT),
    // ERROR_NO_MORE_FILES (18); a POSIX readdir has no errno for its end, ENOENT is the
    // nearest (the project's choice).
    (Error::NoMoreFiles, 0x8000_0006, 18, errno::ENOENT),
    (Error::PrivilegeNotHeld, 0xC000_0061, 1314, errno::EPERM),
    (Error::NotSupported, 0xC000_00BB, 50, errno::EOPNOTSUPP),
];

impl Error {
    fn row(self) -> &'static (Error, u32, u32, i32) {
        TABLE
            .iter()
            .find(|row| row.0 == self)
            .expect("every Error variant has a row in TABLE (tested)")
    }
    /// The NTSTATUS an NTFS driver returns for this outcome.
    pub fn ntstatus(self) -> u32 {
        self.row().1
    }
    /// The Win32 error code (`GetLastError`) a Win32 caller sees.
    pub fn win32(self) -> u32 {
        self.row().2
    }
    /// The errno the FUSE backend returns.
    pub fn errno(self) -> i32 {
        self.row().3
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Error] = &[
        Error::ObjectNameNotFound,
        Error::ObjectPathNotFound,
        Error::ObjectNameInvalid,
        Error::NameTooLong,
        Error::NameCollision,
        Error::FileIsADirectory,
        Error::NotADirectory,
        Error::DirectoryNotEmpty,
        Error::TooManyLinks,
        Error::CannotDelete,
        Error::DeletePending,
        Error::FileDeleted,
        Error::AccessDenied,
        Error::SharingViolation,
        Error::NotSameDevice,
        Error::InvalidParameter,
        Error::InvalidHandle,
        Error::StaleFileId,
        Error::FileTooLarge,
        Error::DiskFull,
        Error::ReadOnlyVolume,
        Error::ReparseDataInvalid,
        Error::ReparseTagInvalid,
        Error::ReparseTagMismatch,
        Error::ReparseAttributeConflict,
        Error::NotAReparsePoint,
        Error::ReparsePointNotResolved,
        Error::IoReparseTagNotHandled,
        Error::NotOnThisVolume,
        Error::CaseDifferingNamesInDir,
        Error::NoSuchFile,
        Error::NoMoreFiles,
        Error::PrivilegeNotHeld,
        Error::NotSupported,
    ];

    #[test]
    fn every_variant_has_exactly_one_row() {
        assert_eq!(ALL.len(), TABLE.len());
        for e in ALL {
            assert_eq!(TABLE.iter().filter(|r| r.0 == *e).count(), 1, "{e:?}");
        }
    }

    /// Codes from docs/NTFS-RULES.md's error list (MS-ERREF).
    #[test]
    fn codes_match_the_ntfs_rules_error_table() {
        assert_eq!(Error::ObjectNameNotFound.ntstatus(), 0xC000_0034);
        assert_eq!(Error::ObjectNameNotFound.win32(), 2);
        assert_eq!(Error::ObjectPathNotFound.win32(), 3);
        assert_eq!(Error::FileIsADirectory.win32(), 5);
        assert_eq!(Error::CannotDelete.win32(), 5);
        assert_eq!(Error::DeletePending.win32(), 5);
        assert_eq!(Error::TooManyLinks.ntstatus(), 0xC000_0265);
        assert_eq!(Error::TooManyLinks.win32(), 1142);
        assert_eq!(Error::TooManyLinks.errno(), errno::EMLINK);
        assert_eq!(Error::NameCollision.win32(), 183);
        assert_eq!(Error::NameCollision.errno(), errno::EEXIST);
        assert_eq!(Error::ReparsePointNotResolved.win32(), 1921);
        assert_eq!(Error::IoReparseTagNotHandled.win32(), 1920);
        assert_eq!(Error::ReparseDataInvalid.win32(), 4392);
        assert_eq!(Error::ReparseTagMismatch.win32(), 4394);
        assert_eq!(Error::NotAReparsePoint.win32(), 4390);
        assert_eq!(Error::ReparseAttributeConflict.win32(), 4391);
        assert_eq!(Error::CaseDifferingNamesInDir.ntstatus(), 0xC000_01BF);
        assert_eq!(Error::NoSuchFile.ntstatus(), 0xC000_000F);
        assert_eq!(Error::NoMoreFiles.ntstatus(), 0x8000_0006);
        assert_eq!(Error::NoMoreFiles.win32(), 18);
        assert_eq!(Error::DirectoryNotEmpty.win32(), 145);
        assert_eq!(Error::NotADirectory.win32(), 267);
        assert_eq!(Error::SharingViolation.win32(), 32);
        assert_eq!(Error::NotSameDevice.win32(), 17);
        assert_eq!(Error::PrivilegeNotHeld.win32(), 1314);
    }

    /// Every outcome is an error-severity NTSTATUS except STATUS_NO_MORE_FILES, which MS-ERREF
    /// 2.3 lists as a warning (0x80000006).
    #[test]
    fn errors_are_ntstatus_error_severity() {
        for row in TABLE {
            let severity = if row.0 == Error::NoMoreFiles { 2 } else { 3 };
            assert_eq!(
                row.1 >> 30,
                severity,
                "{:?} is not an error-severity NTSTATUS",
                row.0
            );
            assert!(row.3 > 0);
        }
    }
}
