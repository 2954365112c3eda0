//! ntfs-3g's xattrs: reparse data, attributes and times.

mod common;
use common::*;
use std::fs;
use vfs_core::attrs;
use vfs_core::reparse::{IO_REPARSE_TAG_MOUNT_POINT, IO_REPARSE_TAG_SYMLINK};

fn setup(m: &Mounted) {
    fs::create_dir(m.p("target")).unwrap();
    fs::write(m.p("target/f.txt"), b"data").unwrap();
}

#[test]
fn junction_via_setxattr_then_cat_through_it_a3() {
    let m = Mounted::new();
    setup(&m);
    fs::create_dir(m.p("j")).unwrap();
    assert!(fs::metadata(m.p("j")).unwrap().is_dir()); // cached as a directory
    let buf = junction(r"C:\target");
    xattr::set(m.p("j"), REPARSE, &buf).unwrap();
    // The very next calls see a symlink: no EIO, no waiting (ntfs-3g answers EIO here).
    assert_eq!(fs::read(m.p("j/f.txt")).unwrap(), b"data");
    assert_eq!(fs::read_link(m.p("j")).unwrap(), m.p("target"));
    assert!(fs::symlink_metadata(m.p("j"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(xattr::get(m.p("j"), REPARSE).unwrap().unwrap(), buf);
    assert_eq!(
        ntfs_attrib(&m.p("j")),
        attrs::DIRECTORY | attrs::REPARSE_POINT,
        "0x410 on a junction (A3)"
    );
    let st = m.vol.stat_path(r"\j", false).unwrap();
    assert_eq!(st.reparse_tag, Some(IO_REPARSE_TAG_MOUNT_POINT));
    m.finish();
}

#[test]
fn malformed_buffer_is_einval_and_nothing_changes() {
    let m = Mounted::new();
    fs::create_dir(m.p("j")).unwrap();
    let good = junction(r"C:\target");
    let mut bad_len = good.clone();
    bad_len[4] ^= 0x10; // ReparseDataLength no longer matches
    let mut bad_name = good.clone();
    bad_name[8] = 0xFF; // SubstituteNameOffset outside the PathBuffer
    for bad in [
        vec![],
        vec![1, 2, 3],
        bad_len,
        bad_name,
        vec![0u8; 20000],
        vec![0u8; 8],
    ] {
        assert_errno(xattr::set(m.p("j"), REPARSE, &bad), libc::EINVAL);
        assert!(fs::symlink_metadata(m.p("j")).unwrap().is_dir());
        assert_eq!(xattr::get(m.p("j"), REPARSE).unwrap(), None);
    }
    m.finish();
}

#[test]
fn junction_on_a_non_empty_directory_is_enotempty_a3() {
    let m = Mounted::new();
    fs::create_dir(m.p("d")).unwrap();
    fs::write(m.p("d/x"), b"").unwrap();
    assert_errno(
        xattr::set(m.p("d"), REPARSE, &junction(r"C:\t")),
        libc::ENOTEMPTY,
    );
    assert!(fs::metadata(m.p("d/x")).is_ok());
    // On a file: not a directory (MS-FSA 2.1.5.10.37).
    assert_errno(
        xattr::set(m.p("d/x"), REPARSE, &junction(r"C:\t")),
        libc::ENOTDIR,
    );
    m.finish();
}

#[test]
fn removexattr_turns_a_junction_back_into_a_directory() {
    let m = Mounted::new();
    setup(&m);
    fs::create_dir(m.p("j")).unwrap();
    xattr::set(m.p("j"), REPARSE, &junction(r"C:\target")).unwrap();
    assert_eq!(fs::read(m.p("j/f.txt")).unwrap(), b"data");
    xattr::remove(m.p("j"), REPARSE).unwrap();
    let md = fs::symlink_metadata(m.p("j")).unwrap();
    assert!(md.is_dir());
    assert_eq!(fs::read_dir(m.p("j")).unwrap().count(), 0);
    assert_errno(fs::read(m.p("j/f.txt")), libc::ENOENT);
    assert_errno(xattr::remove(m.p("j"), REPARSE), libc::ENODATA);
    fs::remove_dir(m.p("j")).unwrap();
    m.finish();
}

#[test]
fn file_symlink_via_setxattr_on_an_empty_file_a4() {
    let m = Mounted::new();
    setup(&m);
    fs::write(m.p("l"), b"").unwrap();
    xattr::set(m.p("l"), REPARSE, &symlink_buf(r"target\f.txt")).unwrap();
    assert_eq!(
        fs::read_link(m.p("l")).unwrap().to_str(),
        Some("target/f.txt")
    );
    assert_eq!(fs::read(m.p("l")).unwrap(), b"data");
    assert_eq!(
        m.vol.stat_path(r"\l", false).unwrap().reparse_tag,
        Some(IO_REPARSE_TAG_SYMLINK)
    );
    // Retarget (same tag): readlink shows the new target at once.
    xattr::set(m.p("l"), REPARSE, &symlink_buf(r"target")).unwrap();
    assert_eq!(fs::read_link(m.p("l")).unwrap().to_str(), Some("target"));
    // A different tag on an existing reparse point is refused (A3: tag mismatch).
    assert_errno(
        xattr::set(m.p("l"), REPARSE, &junction(r"C:\target")),
        libc::EINVAL,
    );
    // A symlink on a file that holds data is refused.
    fs::write(m.p("full"), b"x").unwrap();
    assert_errno(
        xattr::set(m.p("full"), REPARSE, &symlink_buf("a")),
        libc::EINVAL,
    );
    xattr::remove(m.p("l"), REPARSE).unwrap();
    assert!(fs::symlink_metadata(m.p("l")).unwrap().is_file());
    m.finish();
}

#[test]
fn ntfs_attrib_get_set_and_readonly_blocks_unlink() {
    let m = Mounted::new();
    fs::write(m.p("f"), b"").unwrap();
    fs::create_dir(m.p("d")).unwrap();
    // ntfs-3g shows 0x20 for a new file and 0x30 for a directory.
    assert_eq!(ntfs_attrib(&m.p("f")), attrs::ARCHIVE);
    assert_eq!(ntfs_attrib(&m.p("d")) & attrs::DIRECTORY, attrs::DIRECTORY);
    let be = xattr::get(m.p("f"), "system.ntfs_attrib_be")
        .unwrap()
        .unwrap();
    assert_eq!(be, vec![0, 0, 0, 0x20]);
    xattr::set(m.p("f"), "system.ntfs_attrib_be", &[0, 0, 0, 0x21]).unwrap();
    assert_eq!(ntfs_attrib(&m.p("f")), attrs::ARCHIVE | attrs::READONLY);
    // A2: DeleteFile on a read-only file fails (STATUS_CANNOT_DELETE → EPERM).
    assert_errno(fs::remove_file(m.p("f")), libc::EPERM);
    xattr::set(
        m.p("f"),
        "system.ntfs_attrib",
        &attrs::ARCHIVE.to_le_bytes(),
    )
    .unwrap();
    fs::remove_file(m.p("f")).unwrap();
    // DIRECTORY cannot be cleared; wrong size → EINVAL.
    xattr::set(m.p("d"), "system.ntfs_attrib", &0u32.to_le_bytes()).unwrap();
    assert_ne!(ntfs_attrib(&m.p("d")) & attrs::DIRECTORY, 0);
    assert_errno(
        xattr::set(m.p("d"), "system.ntfs_attrib", &[1, 2]),
        libc::EINVAL,
    );
    m.finish();
}

#[test]
fn crtime_and_times_round_trip_in_ntfs_3g_order() {
    use std::os::unix::fs::MetadataExt;
    let m = Mounted::new();
    fs::write(m.p("f"), b"").unwrap();
    let t = 0x01c0_73aa_5a1f_4000u64; // 2001-01-01
    xattr::set(m.p("f"), "system.ntfs_crtime_be", &t.to_be_bytes()).unwrap();
    assert_eq!(
        xattr::get(m.p("f"), "system.ntfs_crtime").unwrap().unwrap(),
        t.to_le_bytes()
    );
    // Order: creation, last write (mtime), last access (atime), change (ctime).
    let mut v = Vec::new();
    for x in [t, t + 10_000_000, t + 20_000_000, t + 30_000_000] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    xattr::set(m.p("f"), "system.ntfs_times", &v).unwrap();
    assert_eq!(
        xattr::get(m.p("f"), "system.ntfs_times").unwrap().unwrap(),
        v
    );
    let md = fs::metadata(m.p("f")).unwrap();
    let unix = |ft: u64| ((ft - vfs_core::FILETIME_UNIX_EPOCH) / 10_000_000) as i64;
    assert_eq!(md.mtime(), unix(t + 10_000_000));
    assert_eq!(md.atime(), unix(t + 20_000_000));
    assert_eq!(md.ctime(), unix(t + 30_000_000));
    // 8 bytes set only the creation time; a length that is not 8..32 by 8 → ERANGE.
    xattr::set(m.p("f"), "system.ntfs_times", &(t + 5).to_le_bytes()).unwrap();
    let got = xattr::get(m.p("f"), "system.ntfs_times").unwrap().unwrap();
    assert_eq!(&got[..8], &(t + 5).to_le_bytes());
    assert_eq!(&got[8..16], &(t + 10_000_000).to_le_bytes());
    assert_errno(
        xattr::set(m.p("f"), "system.ntfs_times", &[0; 7]),
        libc::ERANGE,
    );
    m.finish();
}

/// Found by the differential fuzzer against ntfs-3g (`mkdir b; junction b b; read b/b/c;
/// rename b a; unreparse a; write a`): the kernel moved its cached name `b` to `a` in the
/// rename, and when `a` stopped being a junction only the old name was dropped, so the walk
/// still followed the old link through `a` (ENOENT) where NTFS gives a directory (EISDIR).
#[test]
fn a_renamed_junction_that_becomes_a_directory_is_a_directory_under_its_new_name() {
    let m = Mounted::new();
    fs::create_dir(m.p("b")).unwrap();
    xattr::set(m.p("b"), REPARSE, &junction(r"C:\b")).unwrap();
    // A walk through the link caches its name and its target in the kernel.
    assert!(fs::read(m.p("b/b/c")).is_err());
    fs::rename(m.p("b"), m.p("a")).unwrap();
    xattr::remove(m.p("a"), REPARSE).unwrap();
    // The first look after the change, with nothing (no lstat) before it.
    assert_errno(
        fs::OpenOptions::new().write(true).open(m.p("a")),
        libc::EISDIR,
    );
    assert!(fs::symlink_metadata(m.p("a")).unwrap().is_dir());
    m.finish();
}
