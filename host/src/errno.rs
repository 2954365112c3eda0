//! Symbolic names of errno values, so reports read `ENOTEMPTY`, not `39`.
//!
//! The numbers are Linux's (x86-64 and aarch64 share them), written out rather than taken
//! from `libc`, so the same table serves the conformance suite on any host (a Windows run
//! prints the errno a POSIX target would return with the same names). A test checks every
//! entry against `libc` on Linux.

/// (errno, name): every errno the tools meet, in errno order.
pub const TABLE: &[(i32, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (4, "EINTR"),
    (5, "EIO"),
    (7, "E2BIG"),
    (9, "EBADF"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (18, "EXDEV"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (23, "ENFILE"),
    (24, "EMFILE"),
    (26, "ETXTBSY"),
    (27, "EFBIG"),
    (28, "ENOSPC"),
    (30, "EROFS"),
    (31, "EMLINK"),
    (34, "ERANGE"),
    (36, "ENAMETOOLONG"),
    (38, "ENOSYS"),
    (39, "ENOTEMPTY"),
    (40, "ELOOP"),
    (61, "ENODATA"),
    (75, "EOVERFLOW"),
    (84, "EILSEQ"),
    (95, "EOPNOTSUPP"),
    (103, "ECONNABORTED"),
    (107, "ENOTCONN"),
    (116, "ESTALE"),
];

/// The symbolic name of an errno, None for one outside [`TABLE`].
pub fn name(e: i32) -> Option<&'static str> {
    TABLE.iter().find(|&&(n, _)| n == e).map(|&(_, s)| s)
}

/// The symbolic name of an errno, or `E123` for one outside [`TABLE`] (which [`parse`] reads
/// back).
pub fn name_or_number(e: i32) -> String {
    match name(e) {
        Some(s) => s.to_string(),
        None => format!("E{e}"),
    }
}

/// The errno of a name produced by [`name_or_number`].
pub fn parse(s: &str) -> Option<i32> {
    if let Some(n) = s.strip_prefix('E').and_then(|d| d.parse().ok()) {
        return Some(n);
    }
    TABLE.iter().find(|&&(_, n)| n == s).map(|&(e, _)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (e, _) in TABLE {
            assert_eq!(parse(&name_or_number(*e)), Some(*e));
        }
        assert_eq!(name_or_number(250), "E250");
        assert_eq!(parse("E250"), Some(250));
        assert_eq!(name(250), None);
        assert_eq!(parse("NOPE"), None);
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(TABLE.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn numbers_are_the_hosts() {
        let libc_values = [
            (libc::EPERM, "EPERM"),
            (libc::ENOENT, "ENOENT"),
            (libc::EINTR, "EINTR"),
            (libc::EIO, "EIO"),
            (libc::E2BIG, "E2BIG"),
            (libc::EBADF, "EBADF"),
            (libc::EAGAIN, "EAGAIN"),
            (libc::ENOMEM, "ENOMEM"),
            (libc::EACCES, "EACCES"),
            (libc::EFAULT, "EFAULT"),
            (libc::EBUSY, "EBUSY"),
            (libc::EEXIST, "EEXIST"),
            (libc::EXDEV, "EXDEV"),
            (libc::ENODEV, "ENODEV"),
            (libc::ENOTDIR, "ENOTDIR"),
            (libc::EISDIR, "EISDIR"),
            (libc::EINVAL, "EINVAL"),
            (libc::ENFILE, "ENFILE"),
            (libc::EMFILE, "EMFILE"),
            (libc::ETXTBSY, "ETXTBSY"),
            (libc::EFBIG, "EFBIG"),
            (libc::ENOSPC, "ENOSPC"),
            (libc::EROFS, "EROFS"),
            (libc::EMLINK, "EMLINK"),
            (libc::ERANGE, "ERANGE"),
            (libc::ENAMETOOLONG, "ENAMETOOLONG"),
            (libc::ENOSYS, "ENOSYS"),
            (libc::ENOTEMPTY, "ENOTEMPTY"),
            (libc::ELOOP, "ELOOP"),
            (libc::ENODATA, "ENODATA"),
            (libc::EOVERFLOW, "EOVERFLOW"),
            (libc::EILSEQ, "EILSEQ"),
            (libc::EOPNOTSUPP, "EOPNOTSUPP"),
            (libc::ECONNABORTED, "ECONNABORTED"),
            (libc::ENOTCONN, "ENOTCONN"),
            (libc::ESTALE, "ESTALE"),
        ];
        assert_eq!(libc_values.len(), TABLE.len());
        for (e, n) in libc_values {
            assert_eq!(name(e), Some(n), "{n} is {e} here");
        }
    }
}
