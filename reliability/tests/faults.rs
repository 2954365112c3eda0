//! Issue item 6, second half: a failing operation never corrupts the engine. Each request below
//! fails on purpose through a real mount (NTFS refuses it, or it passes NTFS's limits); after
//! all of them the engine's own check (control xattr `user.ntlinkfs.check`) reports no
//! inconsistency and the data written before is intact.

mod common;

use common::mount;
use reliability::control;
use reliability::sys::{self, RenameMode};
use std::os::unix::fs::FileExt;

#[test]
fn failing_operations_leave_the_engine_consistent() {
    let m = mount(&[]);
    let d = &m.dir;
    std::fs::create_dir(d.join("dir")).unwrap();
    std::fs::create_dir(d.join("dir/sub")).unwrap();
    std::fs::write(d.join("dir/file"), b"keep me").unwrap();
    std::fs::create_dir(d.join("empty")).unwrap();

    // Past NTFS's maximum file size (vfs_core::MAX_FILE_SIZE): EFBIG for a size change. (A
    // write past it is refused too without passthrough, below; through passthrough, the
    // default, it is cut at the maximum when the file is closed: backend-fuse
    // tests/passthrough.rs.)
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(d.join("dir/file"))
        .unwrap();
    let e = f.set_len(vfs_core::MAX_FILE_SIZE + 1).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EFBIG), "{e}");
    drop(f);
    {
        let plain = mount(&["--no-passthrough"]);
        std::fs::write(plain.dir.join("file"), b"keep me").unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(plain.dir.join("file"))
            .unwrap();
        let e = f.write_at(b"x", vfs_core::MAX_FILE_SIZE + 10).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EFBIG), "{e}");
        drop(f);
        assert_eq!(std::fs::read(plain.dir.join("file")).unwrap(), b"keep me");
        assert_eq!(control::check(&plain.dir).unwrap(), "ok");
    }

    // Names NTFS refuses (A5, MS-FSCC 2.1.5.2).
    assert_eq!(sys::create_new(&d.join("a:b")), Err(libc::EINVAL));
    assert_eq!(
        sys::create_new(&d.join("x".repeat(256))),
        Err(libc::ENAMETOOLONG)
    );
    // A directory into its own subtree.
    assert_eq!(
        sys::rename(&d.join("dir"), &d.join("dir/sub/dir"), RenameMode::Replace),
        Err(libc::EINVAL)
    );
    // Removing a non-empty directory.
    assert_eq!(sys::rmdir(&d.join("dir")), Err(libc::ENOTEMPTY));
    // Malformed and misplaced reparse data (A3).
    assert_eq!(
        sys::lsetxattr(
            &d.join("empty"),
            host::xattrs::ntfs::REPARSE_DATA,
            &[1, 2, 3]
        ),
        Err(libc::EINVAL)
    );
    let junction = vfs_core::reparse::junction_for_target(&vfs_core::name::wide(r"C:\empty"), 'C')
        .unwrap()
        .into_bytes();
    assert_eq!(
        sys::lsetxattr(&d.join("dir"), host::xattrs::ntfs::REPARSE_DATA, &junction),
        Err(libc::ENOTEMPTY)
    );
    assert_eq!(
        sys::lremovexattr(&d.join("empty"), host::xattrs::ntfs::REPARSE_DATA),
        Err(libc::ENODATA)
    );
    // The 1025th name (A1).
    std::fs::write(d.join("many"), b"linked").unwrap();
    let mut made = 1;
    let err = loop {
        match sys::link(&d.join("many"), &d.join(format!("many.{made}"))) {
            Ok(()) => made += 1,
            Err(e) => break e,
        }
        assert!(made <= 1100, "no link limit");
    };
    assert_eq!((made, err), (1024, libc::EMLINK));

    assert_eq!(control::check(d).unwrap(), "ok");
    assert_eq!(std::fs::read(d.join("dir/file")).unwrap(), b"keep me");
    assert_eq!(std::fs::read(d.join("many.1023")).unwrap(), b"linked");
    assert_eq!(sys::lstat(&d.join("many")).unwrap().nlink, 1024);
    assert!(sys::lstat(&d.join("empty")).unwrap().kind == sys::Kind::Dir);
}
