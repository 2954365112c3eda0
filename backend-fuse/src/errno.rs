//! Engine outcomes as errno values.
//!
//! The one table is the engine's (`vfs_core::error::TABLE`, column errno, chosen to match what
//! ntfs-3g or POSIX callers expect). The backend only adds the few per-call translations where
//! a Linux caller expects another number for the same NTFS outcome; each is listed here.
//!
//! [`Errno`] is this crate's own errno type, so that the request core (`core`, `xattr`) has no
//! fuser type in it and can be tested without a mount; `glue` turns it into fuser's at the
//! reply.

use vfs_core::Error;

/// An errno value (positive; anything else reads as EIO, as fuser does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Errno(i32);

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub(crate) const $name: Errno = Errno(libc::$name);
            )*
        }
    };
}

errnos!(
    EACCES,
    EBUSY,
    EBADF,
    EEXIST,
    EFBIG,
    EILSEQ,
    EINVAL,
    EIO,
    EISDIR,
    ENAMETOOLONG,
    ENODATA,
    ENOENT,
    EOPNOTSUPP,
    EPERM,
    ERANGE,
    ESTALE,
);

impl Errno {
    /// The errno `code`; a code that is not positive → EIO.
    pub(crate) fn from_i32(code: i32) -> Errno {
        if code > 0 {
            Errno(code)
        } else {
            Errno::EIO
        }
    }

    /// The number.
    pub(crate) fn code(self) -> i32 {
        self.0
    }
}

/// The errno of a failed system call (EIO if it carries none).
pub(crate) fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_i32(e.raw_os_error().unwrap_or(libc::EIO))
}

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
        assert_eq!(errno(Error::TooManyLinks), Errno::from_i32(libc::EMLINK));
        assert_eq!(errno(Error::NameCollision), Errno::EEXIST);
        assert_eq!(errno(Error::ObjectNameInvalid), Errno::EINVAL);
        assert_eq!(
            errno(Error::NameTooLong),
            Errno::from_i32(libc::ENAMETOOLONG)
        );
        assert_eq!(errno(Error::ReparseDataInvalid), Errno::EINVAL);
        assert_eq!(
            errno(Error::DirectoryNotEmpty),
            Errno::from_i32(libc::ENOTEMPTY)
        );
        assert_eq!(errno(Error::NotAReparsePoint), Errno::ENODATA);
        assert_eq!(errno(Error::CannotDelete), Errno::EPERM);
        assert_eq!(link_errno(Error::FileIsADirectory), Errno::EPERM);
        assert_eq!(readlink_errno(Error::NotAReparsePoint), Errno::EINVAL);
        assert_eq!(Errno::from_i32(0), Errno::EIO);
        assert_eq!(Errno::from_i32(-5), Errno::EIO);
        for row in vfs_core::error::TABLE {
            assert_eq!(errno(row.0).code(), row.3);
        }
    }
}
