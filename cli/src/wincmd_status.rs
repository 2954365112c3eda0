//! Errors of the Windows-style commands (`mklink`, `fsutil`, `attrib`, `du`): the NTSTATUS an
//! NTFS driver returns, the Win32 error the command sees, and the Win32 system message text
//! cmd, fsutil and attrib print for it.
//!
//! Sources: NTSTATUS values from [MS-ERREF] 2.3.1; Win32 codes and message texts from
//! [MS-ERREF] 2.2 (the texts FormatMessageW returns for those codes); the NTSTATUS → Win32
//! pairs are the ones RtlNtStatusToDosError gives, the same pairs as `vfs_core::error::TABLE`.
//! On Linux the errno a mount returns is translated back to the NTSTATUS the backend
//! produced it from: ntlinkfs's own table (`vfs_core::Error::errno`) is the reverse of this
//! one, and ntfs-3g's errors follow the same POSIX meanings.

use std::fmt;
use std::path::Path;

/// One NTFS outcome: NTSTATUS name and value, Win32 error code, Win32 message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The NTSTATUS symbol, e.g. `STATUS_OBJECT_NAME_COLLISION`.
    pub name: &'static str,
    /// The NTSTATUS value.
    pub ntstatus: u32,
    /// The Win32 error (GetLastError) that Win32 callers see.
    pub win32: u32,
    /// The Win32 system message for `win32`, as the Windows commands print it.
    pub message: &'static str,
}

macro_rules! status {
    ($id:ident, $name:literal, $nt:literal, $w:literal, $msg:literal) => {
        #[doc = $name]
        pub const $id: Status = Status {
            name: $name,
            ntstatus: $nt,
            win32: $w,
            message: $msg,
        };
    };
}

status!(
    NAME_NOT_FOUND,
    "STATUS_OBJECT_NAME_NOT_FOUND",
    0xC000_0034,
    2,
    "The system cannot find the file specified."
);
status!(
    PATH_NOT_FOUND,
    "STATUS_OBJECT_PATH_NOT_FOUND",
    0xC000_003A,
    3,
    "The system cannot find the path specified."
);
status!(
    NAME_COLLISION,
    "STATUS_OBJECT_NAME_COLLISION",
    0xC000_0035,
    183,
    "Cannot create a file when that file already exists."
);
status!(
    ACCESS_DENIED,
    "STATUS_ACCESS_DENIED",
    0xC000_0022,
    5,
    "Access is denied."
);
status!(
    NOT_SAME_DEVICE,
    "STATUS_NOT_SAME_DEVICE",
    0xC000_00D4,
    17,
    "The system cannot move the file to a different disk drive."
);
status!(
    NAME_INVALID,
    "STATUS_OBJECT_NAME_INVALID",
    0xC000_0033,
    123,
    "The filename, directory name, or volume label syntax is incorrect."
);
status!(
    NOT_A_DIRECTORY,
    "STATUS_NOT_A_DIRECTORY",
    0xC000_0103,
    267,
    "The directory name is invalid."
);
status!(
    DIRECTORY_NOT_EMPTY,
    "STATUS_DIRECTORY_NOT_EMPTY",
    0xC000_0101,
    145,
    "The directory is not empty."
);
status!(
    TOO_MANY_LINKS,
    "STATUS_TOO_MANY_LINKS",
    0xC000_0265,
    1142,
    "An attempt was made to create more links on a file than the file system supports."
);
status!(
    NOT_A_REPARSE_POINT,
    "STATUS_NOT_A_REPARSE_POINT",
    0xC000_0275,
    4390,
    "The file or directory is not a reparse point."
);
status!(
    REPARSE_DATA_INVALID,
    "STATUS_IO_REPARSE_DATA_INVALID",
    0xC000_0278,
    4392,
    "The data present in the reparse point buffer is invalid."
);
status!(
    REPARSE_NOT_RESOLVED,
    "STATUS_REPARSE_POINT_NOT_RESOLVED",
    0xC000_0280,
    1921,
    "The name of the file cannot be resolved by the system."
);
status!(
    TAG_NOT_HANDLED,
    "STATUS_IO_REPARSE_TAG_NOT_HANDLED",
    0xC000_0279,
    1920,
    "The file cannot be accessed by the system."
);
status!(
    SHARING_VIOLATION,
    "STATUS_SHARING_VIOLATION",
    0xC000_0043,
    32,
    "The process cannot access the file because it is being used by another process."
);
status!(
    WRITE_PROTECTED,
    "STATUS_MEDIA_WRITE_PROTECTED",
    0xC000_00A2,
    19,
    "The media is write protected."
);
status!(
    DISK_FULL,
    "STATUS_DISK_FULL",
    0xC000_007F,
    112,
    "There is not enough space on the disk."
);
status!(
    NOT_SUPPORTED,
    "STATUS_NOT_SUPPORTED",
    0xC000_00BB,
    50,
    "The request is not supported."
);
status!(
    INVALID_PARAMETER,
    "STATUS_INVALID_PARAMETER",
    0xC000_000D,
    87,
    "The parameter is incorrect."
);
status!(
    PRIVILEGE_NOT_HELD,
    "STATUS_PRIVILEGE_NOT_HELD",
    0xC000_0061,
    1314,
    "A required privilege is not held by the client."
);
status!(
    IO_DEVICE_ERROR,
    "STATUS_IO_DEVICE_ERROR",
    0xC000_0185,
    1117,
    "The request could not be performed because of an I/O device error."
);

/// Every status above, for lookups by Win32 code.
const ALL: &[Status] = &[
    NAME_NOT_FOUND,
    PATH_NOT_FOUND,
    NAME_COLLISION,
    ACCESS_DENIED,
    NOT_SAME_DEVICE,
    NAME_INVALID,
    NOT_A_DIRECTORY,
    DIRECTORY_NOT_EMPTY,
    TOO_MANY_LINKS,
    NOT_A_REPARSE_POINT,
    REPARSE_DATA_INVALID,
    REPARSE_NOT_RESOLVED,
    TAG_NOT_HANDLED,
    SHARING_VIOLATION,
    WRITE_PROTECTED,
    DISK_FULL,
    NOT_SUPPORTED,
    INVALID_PARAMETER,
    PRIVILEGE_NOT_HELD,
    IO_DEVICE_ERROR,
];

/// The status behind a Win32 error code (Windows build); unknown codes keep their number.
#[cfg_attr(not(windows), allow(dead_code))]
pub fn from_win32(code: u32) -> Option<Status> {
    ALL.iter().copied().find(|s| s.win32 == code)
}

/// The NTSTATUS behind an errno from a mount. `missing_parent` tells ENOENT on a path whose
/// directory does not exist (STATUS_OBJECT_PATH_NOT_FOUND) from a missing last component
/// (STATUS_OBJECT_NAME_NOT_FOUND), which Linux reports alike.
#[cfg(unix)]
pub fn from_errno(errno: i32, missing_parent: bool) -> Status {
    match errno {
        libc::ENOENT if missing_parent => PATH_NOT_FOUND,
        libc::ENOENT => NAME_NOT_FOUND,
        libc::ENOTDIR => PATH_NOT_FOUND,
        libc::EEXIST => NAME_COLLISION,
        libc::EACCES | libc::EPERM => ACCESS_DENIED,
        libc::EXDEV => NOT_SAME_DEVICE,
        libc::ENAMETOOLONG => NAME_INVALID,
        libc::ENOTEMPTY => DIRECTORY_NOT_EMPTY,
        libc::EMLINK => TOO_MANY_LINKS,
        libc::ENODATA => NOT_A_REPARSE_POINT,
        libc::ELOOP => REPARSE_NOT_RESOLVED,
        libc::EBUSY => SHARING_VIOLATION,
        libc::EROFS => WRITE_PROTECTED,
        libc::ENOSPC => DISK_FULL,
        libc::EOPNOTSUPP | libc::ENOSYS => NOT_SUPPORTED,
        libc::EINVAL => INVALID_PARAMETER,
        _ => IO_DEVICE_ERROR,
    }
}

/// Why a command failed.
#[derive(Debug)]
pub enum CmdError {
    /// An NTFS operation on `path` failed with `status` (`detail`: the host error, if any).
    Ntfs {
        /// The path as the user gave it.
        path: String,
        /// The outcome.
        status: Status,
        /// The host's own words (errno text), for the diagnostic line.
        detail: Option<String>,
    },
    /// The file system holding `path` has no NTFS reparse points or attributes.
    NoNtfs {
        /// The path as the user gave it.
        path: String,
        /// The mount point of that file system.
        root: String,
        /// Its type (`tmpfs`, `ext4`), when known.
        fs_type: Option<String>,
    },
    /// Bad command line: the message the Windows command prints for it.
    Usage(String),
    /// Anything else, with its own one-line explanation.
    #[cfg_attr(windows, allow(dead_code))]
    Other(String),
}

impl CmdError {
    /// An NTFS failure on `path`.
    pub fn ntfs(path: &Path, status: Status) -> CmdError {
        CmdError::Ntfs {
            path: path.display().to_string(),
            status,
            detail: None,
        }
    }

    /// An I/O error on `path`, with its NTSTATUS.
    pub fn io(path: &Path, e: &std::io::Error) -> CmdError {
        let status = match e.raw_os_error() {
            #[cfg(unix)]
            Some(n) => {
                let missing_parent = n == libc::ENOENT
                    && path
                        .parent()
                        .filter(|p| !p.as_os_str().is_empty())
                        .is_some_and(|p| std::fs::symlink_metadata(p).is_err());
                from_errno(n, missing_parent)
            }
            #[cfg(windows)]
            Some(n) => from_win32(n as u32).unwrap_or(IO_DEVICE_ERROR),
            None => match e.kind() {
                std::io::ErrorKind::NotFound => NAME_NOT_FOUND,
                std::io::ErrorKind::AlreadyExists => NAME_COLLISION,
                std::io::ErrorKind::PermissionDenied => ACCESS_DENIED,
                _ => IO_DEVICE_ERROR,
            },
        };
        CmdError::Ntfs {
            path: path.display().to_string(),
            status,
            detail: Some(e.to_string()),
        }
    }

    /// The status of an NTFS failure.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn status(&self) -> Option<Status> {
        match self {
            CmdError::Ntfs { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Prints the error as the Windows command would (`prefix`: fsutil's `Error:  `), then
    /// the path and NTSTATUS on a second line, and gives the exit code (1, as cmd's mklink,
    /// fsutil and attrib set ERRORLEVEL 1 on failure).
    pub fn report(&self, command: &str, prefix: &str) -> i32 {
        match self {
            CmdError::Ntfs {
                path,
                status,
                detail,
            } => {
                eprintln!("{prefix}{}", status.message);
                let detail = detail
                    .as_deref()
                    .map(|d| format!("; {d}"))
                    .unwrap_or_default();
                eprintln!(
                    "ntlinkfs {command}: {path}: {} ({:#010X}, Win32 error {}{detail})",
                    status.name, status.ntstatus, status.win32
                );
            }
            CmdError::NoNtfs { .. } | CmdError::Usage(_) | CmdError::Other(_) => {
                eprintln!("{self}")
            }
        }
        1
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::Ntfs { path, status, .. } => {
                write!(f, "{path}: {} ({})", status.message, status.name)
            }
            CmdError::NoNtfs {
                path,
                root,
                fs_type,
            } => {
                let fs = fs_type
                    .as_deref()
                    .map(|t| format!("{t} "))
                    .unwrap_or_default();
                write!(
                    f,
                    "{path}: the {fs}file system mounted at {root} has no NTFS reparse points \
                     or attributes (STATUS_NOT_SUPPORTED); use an ntlinkfs or ntfs-3g mount"
                )
            }
            CmdError::Usage(m) | CmdError::Other(m) => f.write_str(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pairs agree with the engine's table (same NTSTATUS → same Win32 code), so an error
    /// the engine returns through a mount reads the same in both places.
    #[test]
    fn statuses_agree_with_the_engine_table() {
        for s in ALL {
            for (_, nt, w32, _) in vfs_core::error::TABLE {
                if *nt == s.ntstatus {
                    assert_eq!(*w32, s.win32, "{}", s.name);
                }
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn errno_mapping() {
        assert_eq!(from_errno(libc::EEXIST, false), NAME_COLLISION);
        assert_eq!(from_errno(libc::ENOENT, true), PATH_NOT_FOUND);
        assert_eq!(from_errno(libc::ENOENT, false), NAME_NOT_FOUND);
        assert_eq!(from_errno(libc::ENODATA, false), NOT_A_REPARSE_POINT);
        assert_eq!(from_errno(libc::EXDEV, false), NOT_SAME_DEVICE);
        assert_eq!(from_win32(183), Some(NAME_COLLISION));
        assert_eq!(from_win32(4242), None);
    }

    #[test]
    fn collision_message_is_cmds() {
        assert_eq!(
            NAME_COLLISION.message,
            "Cannot create a file when that file already exists."
        );
    }
}
