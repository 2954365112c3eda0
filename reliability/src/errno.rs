//! Symbolic names of the errno values the tools meet, so reports read `ENOTEMPTY`, not `39`.

/// The name of an errno (`E123` for one outside the table).
pub fn name(e: i32) -> String {
    let s = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::EILSEQ => "EILSEQ",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::ENODATA => "ENODATA",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENOTCONN => "ENOTCONN",
        libc::ESTALE => "ESTALE",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::E2BIG => "E2BIG",
        _ => return format!("E{e}"),
    };
    s.to_string()
}

/// The errno of a name produced by [`name`].
pub fn parse(s: &str) -> Option<i32> {
    if let Some(n) = s.strip_prefix('E').and_then(|d| d.parse().ok()) {
        return Some(n);
    }
    (1..200).find(|&e| name(e) == s)
}

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
}
