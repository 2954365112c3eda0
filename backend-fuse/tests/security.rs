//! Issue 14 through a real mount: hostile link targets never leave the drive, symlink(2)
//! targets name what their text names, oversized targets are ENAMETOOLONG, and xattr names
//! that are not UTF-8 are EILSEQ. (What a second user may do is `reliability/tests/access.rs`.)

mod common;
use common::*;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::Path;
use vfs_core::reparse::ReparseBuffer;
use vfs_core::VolumeOptions;

/// A junction buffer with `substitute` taken verbatim (what a hostile writer sets, not what
/// `mklink /J` would normalise).
fn raw_junction(substitute: &str) -> Vec<u8> {
    ReparseBuffer::mount_point(&w(substitute), &w(substitute))
        .unwrap()
        .into_bytes()
}

/// A symbolic link buffer with `substitute` verbatim and SYMLINK_FLAG_RELATIVE as given.
fn raw_symlink(substitute: &str, relative: bool) -> Vec<u8> {
    ReparseBuffer::symlink(&w(substitute), &w(substitute), relative)
        .unwrap()
        .into_bytes()
}

/// Makes `name` a link with `buf` (an empty directory or file turned into a reparse point).
fn link_with(m: &Mounted, name: &str, dir: bool, buf: &[u8]) {
    if dir {
        fs::create_dir(m.p(name)).unwrap();
    } else {
        fs::write(m.p(name), b"").unwrap();
    }
    xattr::set(m.p(name), REPARSE, buf).unwrap();
}

/// Item 3: `..` in an absolute or root-relative target is applied lexically and stops at the
/// drive's root, as Windows path normalisation does; the kernel never reaches the host's /etc.
#[test]
fn dot_dot_in_absolute_targets_stays_on_the_drive() {
    let m = Mounted::new();
    fs::create_dir(m.p("etc")).unwrap();
    fs::write(m.p("etc/passwd"), b"the drive's own").unwrap();
    link_with(&m, "j", true, &raw_junction(r"\??\C:\..\..\..\etc"));
    link_with(&m, "s", true, &raw_symlink(r"\??\C:\a\..\..\..\etc", false));
    link_with(&m, "r", true, &raw_symlink(r"\..\..\..\etc", true));
    link_with(&m, "n", true, &raw_symlink(r"\..\..\..\etc", false));
    for l in ["j", "s", "r", "n"] {
        assert_eq!(fs::read_link(m.p(l)).unwrap(), m.p("etc"), "{l}");
        assert_eq!(
            fs::read(m.p(&format!("{l}/passwd"))).unwrap(),
            b"the drive's own",
            "{l} leads to the drive's etc, not the host's"
        );
    }
    m.finish();
}

/// Item 3: a mapped letter's `..` stops at the mapped directory; a component holding `/`
/// is never resolved (it would be a separator on Linux), and other NT names show under the
/// unmapped prefix without climbing out of it.
#[test]
fn mapped_letters_and_odd_names_stay_put() {
    let host = tempfile::tempdir().unwrap();
    let mapped = host.path().join("mapped");
    fs::create_dir(&mapped).unwrap();
    fs::write(mapped.join("inside"), b"in the mapped directory").unwrap();
    fs::write(host.path().join("outside"), b"beside it").unwrap();
    let mut vo = VolumeOptions::default();
    vo.drive_map
        .insert('D', mapped.to_string_lossy().into_owned());
    let m = Mounted::with_volume(vo);
    link_with(&m, "up", true, &raw_junction(r"\??\D:\..\..\.."));
    assert_eq!(fs::read_link(m.p("up")).unwrap(), mapped);
    assert_eq!(
        fs::read(m.p("up/inside")).unwrap(),
        b"in the mapped directory"
    );
    assert_errno(fs::read(m.p("up/outside")), libc::ENOENT);
    link_with(
        &m,
        "slash",
        true,
        &raw_junction(r"\??\D:\x/..\..\..\outside"),
    );
    let shown = fs::read_link(m.p("slash")).unwrap();
    assert!(
        shown.starts_with(vfs_core::UNMAPPED_PREFIX),
        "a `/` inside a component is not resolved: {}",
        shown.display()
    );
    assert!(fs::read(m.p("slash")).is_err());
    link_with(
        &m,
        "dev",
        false,
        &raw_symlink(r"\Device\..\..\..\etc\passwd", false),
    );
    assert_eq!(
        fs::read_link(m.p("dev")).unwrap(),
        Path::new(vfs_core::UNMAPPED_PREFIX).join("Device/etc/passwd")
    );
    assert!(
        fs::read(m.p("dev")).is_err(),
        "dangling, not the host's passwd"
    );
    link_with(
        &m,
        "unc",
        false,
        &raw_symlink(r"\??\UNC\srv\..\..\etc\passwd", false),
    );
    assert!(fs::read_link(m.p("unc"))
        .unwrap()
        .starts_with(vfs_core::UNMAPPED_PREFIX));
    assert!(fs::read(m.p("unc")).is_err());
    m.finish();
}

/// Item 4: `ln -s MOUNT/../x` names the host's x beside the mount point: refused (EPERM, as
/// every host path outside the drive), never stored as the drive's `C:\x`.
#[test]
fn ln_s_targets_name_what_their_text_names() {
    let m = Mounted::new();
    fs::write(m.p("x"), b"the drive's x").unwrap();
    let root = m.root().to_path_buf();
    let escaping = format!("{}/../x", root.display());
    assert_errno(symlink(&escaping, m.p("t")), libc::EPERM);
    assert!(fs::symlink_metadata(m.p("t")).is_err());
    // Normalised but the same place: inside the drive.
    symlink(format!("{}/a/../x", root.display()), m.p("t2")).unwrap();
    assert_eq!(fs::read_link(m.p("t2")).unwrap(), m.p("x"));
    assert_eq!(fs::read(m.p("t2")).unwrap(), b"the drive's x");
    assert_errno(
        symlink(format!("{}/a\\b", root.display()), m.p("t3")),
        libc::EINVAL,
    );
    m.finish();
}

/// Item 5: a junction whose POSIX text exceeds what a READLINK reply can carry is
/// ENAMETOOLONG for readlink and for anything that follows it; lstat still works.
#[test]
fn too_long_targets_are_enametoolong_not_eio() {
    let m = Mounted::new();
    // 2,100 × "é": 2,104 UTF-16 units on the NTFS side, over 4,200 bytes on the Linux side.
    let long = format!(r"\??\C:\{}", "é".repeat(2100));
    link_with(&m, "long", true, &raw_junction(&long));
    // The issue's case: a junction of about 4,080 ASCII units (fits NTFS's 16 KiB twice over
    // as a symlink buffer with a short print name).
    let ascii = format!(r"\??\C:\{}", "a".repeat(4080));
    let buf = ReparseBuffer::symlink(&w(&ascii), &w("x"), false)
        .unwrap()
        .into_bytes();
    link_with(&m, "ascii", false, &buf);
    for l in ["long", "ascii"] {
        assert_errno(fs::read_link(m.p(l)), libc::ENAMETOOLONG);
        assert_errno(fs::metadata(m.p(l)), libc::ENAMETOOLONG);
        assert!(fs::symlink_metadata(m.p(l))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    m.finish();
}

/// Item 6: xattr names that are not UTF-8 are refused with EILSEQ, as on ntfs-3g, so
/// `user.\xff\xfe` and `user.\xfe\xff` never become one attribute.
#[test]
fn non_utf8_xattr_names_are_eilseq() {
    let m = Mounted::new();
    fs::write(m.p("f"), b"").unwrap();
    for name in [&b"user.\xff\xfe"[..], b"user.\xfe\xff"] {
        let n = OsStr::from_bytes(name);
        assert_errno(xattr::set(m.p("f"), n, b"1"), libc::EILSEQ);
        assert_errno(xattr::get(m.p("f"), n), libc::EILSEQ);
        assert_errno(xattr::remove(m.p("f"), n), libc::EILSEQ);
    }
    assert_eq!(xattr::list(m.p("f")).unwrap().count(), 0);
    xattr::set(m.p("f"), "user.é", b"kept").unwrap();
    assert_eq!(xattr::get(m.p("f"), "user.é").unwrap().unwrap(), b"kept");
    m.finish();
}
