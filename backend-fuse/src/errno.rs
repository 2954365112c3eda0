//! Engine outcomes as errno values.
//!
//! The one table is the engine's (`vfs_core::error::TABLE`, column errno, chosen to match what
//! ntfs-3g or POSIX callers expect). The backend only adds the few per-call translations where
//! a Linux caller expects another number for the same NTFS outcome; each is listed here.

use fuser::Errno;
use vfs_core::Error;

/// The errno of an engine error (the engine's table).
pub(crate) fn errno(e: Error) -> Errno {
    Errno::from_i32(e.errno())
}

/// link(2): a directory (a junction is one on NTFS) cannot get a second name (A1:
/// STATUS_FILE_IS_A_DIRECTORY); link(2) reports that as EPERM ("oldpath is a directory").
pub(crate) fn link_errno(e: Error) -> Errno {
    match e {
        Error::FileIsADirectory => Errno::EPERM,
        e => errno(e),
    }
}

/// readlink(2) on something that is not a link → EINVAL.
pub(crate) fn readlink_errno(e: Error) -> Errno {
    match e {
        Error::NotAReparsePoint | Error::IoReparseTagNotHandled => Errno::EINVAL,
        e => errno(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The errors a user meets through the mount, with the numbers the issue asks for.
    #[test]
    fn issue_errnos() {
        assert_eq!(errno(Error::TooManyLinks), Errno::EMLINK);
        assert_eq!(errno(Error::NameCollision), Errno::EEXIST);
        assert_eq!(errno(Error::ObjectNameInvalid), Errno::EINVAL);
        assert_eq!(errno(Error::NameTooLong), Errno::ENAMETOOLONG);
        assert_eq!(errno(Error::ReparseDataInvalid), Errno::EINVAL);
        assert_eq!(errno(Error::DirectoryNotEmpty), Errno::ENOTEMPTY);
        assert_eq!(errno(Error::NotAReparsePoint), Errno::ENODATA);
        assert_eq!(errno(Error::CannotDelete), Errno::EPERM);
        assert_eq!(link_errno(Error::FileIsADirectory), Errno::EPERM);
        assert_eq!(readlink_errno(Error::NotAReparsePoint), Errno::EINVAL);
        for row in vfs_core::error::TABLE {
            assert_eq!(errno(row.0).code(), row.3);
        }
    }
}
