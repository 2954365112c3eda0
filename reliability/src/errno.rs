//! errno names for reports (`ENOTEMPTY`, not `39`; `E123` outside the table), from
//! [`host::errno`], and which errors mean the file system itself broke.

pub use host::errno::{name_or_number as name, parse};

/// Errors that mean the file system itself broke (the daemon died, a request was lost, or the
/// kernel rejected a reply), as opposed to an answer about the files: a stress run fails on any.
pub fn is_fatal(e: i32) -> bool {
    matches!(
        e,
        libc::EIO
            | libc::ENOTCONN
            | libc::ECONNABORTED
            | libc::ENOSYS
            | libc::EFAULT
            | libc::EBADF
            | libc::ENOMEM
            | libc::EOVERFLOW
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_round_trip() {
        for e in [libc::ENOENT, libc::ENOTEMPTY, libc::EMLINK, 250] {
            assert_eq!(super::parse(&super::name(e)), Some(e));
        }
    }

    #[test]
    fn the_daemon_dying_is_fatal_an_answer_is_not() {
        assert!(super::is_fatal(libc::ENOTCONN) && super::is_fatal(libc::EIO));
        assert!(!super::is_fatal(libc::ENOENT) && !super::is_fatal(libc::EEXIST));
    }
}
