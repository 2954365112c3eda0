//! Files, directories, names, renames and attributes through a real mount.

mod common;
use common::*;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use vfs_core::{attrs, VolumeOptions};

#[test]
fn lookup_is_case_insensitive_and_case_preserving_a5() {
    let m = Mounted::new();
    fs::write(m.p("Readme.TXT"), b"hello").unwrap();
    assert_eq!(fs::read(m.p("README.txt")).unwrap(), b"hello");
    assert_eq!(fs::read(m.p("readme.txt")).unwrap(), b"hello");
    let a = fs::metadata(m.p("Readme.TXT")).unwrap();
    let b = fs::metadata(m.p("rEADME.txt")).unwrap();
    assert_eq!(a.ino(), b.ino());
    let names: Vec<String> = fs::read_dir(m.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["Readme.TXT"]);
    // A new file under another spelling opens the existing one (no second entry).
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(m.p("readme.TXT"))
        .unwrap()
        .write_all(b"!")
        .unwrap();
    assert_eq!(fs::read(m.p("Readme.TXT")).unwrap(), b"hello!");
    assert_errno(
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(m.p("README.TXT")),
        libc::EEXIST,
    );
    m.finish();
}

#[test]
fn case_sensitive_volume_keeps_case_twins_a5() {
    let m = Mounted::with_volume(VolumeOptions {
        case_sensitive: true,
        ..VolumeOptions::default()
    });
    fs::write(m.p("a"), b"1").unwrap();
    fs::write(m.p("A"), b"2").unwrap();
    assert_eq!(fs::read(m.p("a")).unwrap(), b"1");
    assert_eq!(fs::read(m.p("A")).unwrap(), b"2");
    m.finish();
}

#[test]
fn data_round_trips_large_and_sparse() {
    let m = Mounted::new();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
    fs::write(m.p("big"), &data).unwrap();
    assert_eq!(fs::read(m.p("big")).unwrap(), data);
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(m.p("big"))
        .unwrap();
    f.seek(SeekFrom::Start(10_000_000)).unwrap();
    f.write_all(b"end").unwrap();
    assert_eq!(f.metadata().unwrap().len(), 10_000_003);
    let mut buf = [1u8; 16];
    f.seek(SeekFrom::Start(5_000_000)).unwrap();
    f.read_exact(&mut buf).unwrap();
    assert_eq!(buf, [0u8; 16]);
    f.set_len(5).unwrap();
    drop(f);
    assert_eq!(fs::read(m.p("big")).unwrap(), &data[..5]);
    // O_TRUNC
    fs::write(m.p("big"), b"x").unwrap();
    assert_eq!(fs::read(m.p("big")).unwrap(), b"x");
    m.finish();
}

#[test]
fn directories_mkdir_rmdir_unlink_errors() {
    let m = Mounted::new();
    fs::create_dir(m.p("d")).unwrap();
    fs::write(m.p("d/f"), b"").unwrap();
    assert_errno(fs::remove_dir(m.p("d")), libc::ENOTEMPTY);
    assert_errno(fs::remove_file(m.p("d")), libc::EISDIR);
    assert_errno(fs::remove_dir(m.p("d/f")), libc::ENOTDIR);
    assert_errno(fs::create_dir(m.p("D")), libc::EEXIST);
    fs::remove_file(m.p("D/F")).unwrap();
    fs::remove_dir(m.p("D")).unwrap();
    assert!(fs::metadata(m.p("d")).is_err());
    assert_eq!(
        fs::metadata(m.root()).unwrap().nlink(),
        1,
        "directories report nlink 1 (ntfs-3g)"
    );
    m.finish();
}

#[test]
fn forbidden_names_are_einval_a5() {
    let m = Mounted::new();
    for c in ["\\", ":", "*", "?", "\"", "<", ">", "|"] {
        let name = format!("a{c}b");
        assert_errno(fs::write(m.p(&name), b""), libc::EINVAL);
        assert_errno(fs::create_dir(m.p(&name)), libc::EINVAL);
        assert_errno(fs::metadata(m.p(&name)), libc::EINVAL);
    }
    // Bytes that are not UTF-8 name nothing on NTFS.
    use std::os::unix::ffi::OsStrExt;
    let raw = std::ffi::OsStr::from_bytes(b"bad\xff");
    assert_errno(fs::write(m.root().join(raw), b""), libc::EINVAL);
    // Windows-only rules are not NTFS rules: these are fine through the NT API (A5).
    fs::write(m.p("CON"), b"").unwrap();
    fs::write(m.p("trailing."), b"").unwrap();
    m.finish();
}

#[test]
fn names_over_255_utf16_units_are_enametoolong_a5() {
    let m = Mounted::new();
    fs::write(m.p(&"a".repeat(255)), b"").unwrap();
    assert_errno(fs::write(m.p(&"b".repeat(256)), b""), libc::ENAMETOOLONG);
    assert_errno(fs::create_dir(m.p(&"c".repeat(256))), libc::ENAMETOOLONG);
    // 200 two-byte characters: 400 bytes on Linux, 200 units on NTFS: fine.
    let name = "é".repeat(200);
    fs::write(m.p(&name), b"ok").unwrap();
    assert_eq!(fs::read(m.p(&name.to_uppercase())).unwrap(), b"ok");
    // 128 emoji are 256 units.
    assert_errno(fs::write(m.p(&"😀".repeat(128)), b""), libc::ENAMETOOLONG);
    fs::write(m.p(&"😀".repeat(127)), b"").unwrap();
    m.finish();
}

#[test]
fn rename_flags_a6() {
    let m = Mounted::new();
    fs::write(m.p("a"), b"A").unwrap();
    fs::write(m.p("b"), b"B").unwrap();
    // Plain rename replaces (REPLACE_IF_EXISTS | POSIX_SEMANTICS).
    fs::rename(m.p("a"), m.p("B")).unwrap();
    assert_eq!(fs::read(m.p("b")).unwrap(), b"A");
    let names: Vec<_> = fs::read_dir(m.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["B"]);
    fs::write(m.p("c"), b"C").unwrap();
    assert_errno(
        rename2(&m.p("c"), &m.p("b"), libc::RENAME_NOREPLACE),
        libc::EEXIST,
    );
    rename2(&m.p("c"), &m.p("d"), libc::RENAME_NOREPLACE).unwrap();
    assert_errno(
        rename2(&m.p("d"), &m.p("b"), libc::RENAME_EXCHANGE),
        libc::EINVAL,
    );
    // Replacing an empty directory works (POSIX semantics), a non-empty one does not.
    fs::create_dir(m.p("d1")).unwrap();
    fs::create_dir(m.p("d2")).unwrap();
    fs::rename(m.p("d1"), m.p("d2")).unwrap();
    fs::create_dir(m.p("d3")).unwrap();
    fs::write(m.p("d2/x"), b"").unwrap();
    assert_errno(fs::rename(m.p("d3"), m.p("d2")), libc::ENOTEMPTY);
    // A file open elsewhere is replaced (POSIX semantics, every handle shares delete).
    let f = fs::File::open(m.p("b")).unwrap();
    fs::rename(m.p("d"), m.p("b")).unwrap();
    assert_eq!(fs::read(m.p("b")).unwrap(), b"C");
    drop(f);
    // Moving into another directory.
    fs::rename(m.p("b"), m.p("D2/moved")).unwrap();
    assert_eq!(fs::read(m.p("d2/MOVED")).unwrap(), b"C");
    m.finish();
}

#[test]
fn deleted_but_open_file_keeps_working_a2() {
    let m = Mounted::new();
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(m.p("f"))
        .unwrap();
    f.write_all(b"before").unwrap();
    fs::remove_file(m.p("f")).unwrap();
    assert!(fs::metadata(m.p("f")).is_err());
    f.write_all(b"+after").unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert_eq!(s, "before+after");
    let md = f.metadata().unwrap();
    assert_eq!(md.nlink(), 0);
    assert_eq!(md.len(), 12);
    // The name is free again at once (POSIX delete, Windows 10 1903+).
    fs::write(m.p("F"), b"new").unwrap();
    drop(f);
    assert_eq!(fs::read(m.p("f")).unwrap(), b"new");
    m.finish();
}

#[test]
fn chmod_chown_times_truncate() {
    let m = Mounted::new();
    fs::write(m.p("f"), b"12345").unwrap();
    fs::hard_link(m.p("f"), m.p("g")).unwrap();
    fs::set_permissions(m.p("f"), fs::Permissions::from_mode(0o600)).unwrap();
    // The security is the file's: every name sees it (A1).
    assert_eq!(fs::metadata(m.p("g")).unwrap().mode() & 0o7777, 0o600);
    std::os::unix::fs::chown(m.p("g"), Some(1234), Some(5678)).unwrap();
    let md = fs::metadata(m.p("f")).unwrap();
    assert_eq!((md.uid(), md.gid()), (1234, 5678));
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    let f = fs::File::options().write(true).open(m.p("f")).unwrap();
    f.set_len(2).unwrap();
    f.set_modified(t).unwrap();
    drop(f);
    let md = fs::metadata(m.p("g")).unwrap();
    assert_eq!(md.mtime(), 1_000_000_000);
    assert_eq!(md.len(), 2);
    m.finish();
}

#[test]
fn user_xattrs_are_per_file_shared_by_names() {
    let m = Mounted::new();
    fs::write(m.p("f"), b"").unwrap();
    fs::hard_link(m.p("f"), m.p("g")).unwrap();
    xattr::set(m.p("f"), "user.color", b"blue").unwrap();
    assert_eq!(
        xattr::get(m.p("g"), "user.color").unwrap().unwrap(),
        b"blue"
    );
    let names: Vec<_> = xattr::list(m.p("g")).unwrap().collect();
    assert_eq!(names, vec![std::ffi::OsString::from("user.color")]);
    assert_eq!(xattr::get(m.p("f"), "user.none").unwrap(), None);
    xattr::remove(m.p("g"), "user.color").unwrap();
    assert_eq!(xattr::get(m.p("f"), "user.color").unwrap(), None);
    assert_errno(xattr::remove(m.p("f"), "user.color"), libc::ENODATA);
    // Control names are reserved.
    assert_errno(
        xattr::set(m.p("f"), "user.ntlinkfs.bogus", b"1"),
        libc::EINVAL,
    );
    m.finish();
}

/// mkfifo(3) makes a FIFO (stored as an LX_FIFO reparse point; tests/special.rs has the
/// rest: sockets, device nodes, pipes through them).
#[test]
fn mkfifo_makes_a_fifo() {
    let m = Mounted::new();
    let c = cstr(&m.p("fifo"));
    // SAFETY: valid path.
    let r = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(m.p("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    m.finish();
}

#[test]
fn statfs_reports_sizes_and_name_length() {
    let m = Mounted::new();
    let c = cstr(m.root());
    // SAFETY: valid path and struct.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    assert_eq!(s.f_namemax, 255);
    assert!(s.f_blocks > 0);
    m.finish();
}

#[test]
fn read_only_mount_refuses_changes() {
    let m = Mounted::with(
        VolumeOptions {
            read_only: true,
            ..VolumeOptions::default()
        },
        backend_fuse::MountOptions {
            read_only: true,
            ..Default::default()
        },
    );
    assert_errno(fs::write(m.p("f"), b""), libc::EROFS);
    assert_errno(fs::create_dir(m.p("d")), libc::EROFS);
    m.finish();
}

#[test]
fn engine_state_matches_what_linux_did() {
    let m = Mounted::new();
    fs::create_dir(m.p("Dir")).unwrap();
    fs::write(m.p("dir/File.txt"), b"abc").unwrap();
    fs::hard_link(m.p("DIR/file.TXT"), m.p("second")).unwrap();
    // The volume read directly: the RELEASE of the write may still be on its way (with
    // passthrough the data comes back with it), which `MountHandle::sync` waits for.
    m.handle().sync().unwrap();
    let st = m.vol.stat_path(r"\DIR\FILE.TXT", false).unwrap();
    assert_eq!(st.links, 2);
    assert_ne!(st.attributes & attrs::ARCHIVE, 0);
    assert_eq!(m.vol.read_file_path(r"\second").unwrap(), b"abc");
    m.finish();
}

#[test]
fn legacy_delete_keeps_the_name_pending_until_the_last_close_a2() {
    let m = Mounted::with_volume(VolumeOptions {
        delete_semantics: vfs_core::DeleteSemantics::Legacy,
        ..VolumeOptions::default()
    });
    fs::write(m.p("f"), b"x").unwrap();
    let f = fs::File::open(m.p("f")).unwrap();
    fs::remove_file(m.p("f")).unwrap();
    // Before Windows 10 1903 the name stays, delete-pending: opening it is refused
    // (STATUS_DELETE_PENDING → access denied), and it cannot be created again yet.
    assert_errno(fs::metadata(m.p("f")), libc::EACCES);
    assert_eq!(fs::read_dir(m.root()).unwrap().count(), 1);
    drop(f);
    // RELEASE is asynchronous: the name goes when the kernel has delivered it.
    let mut gone = false;
    for _ in 0..1000 {
        if fs::read_dir(m.root()).unwrap().count() == 0 {
            gone = true;
            break;
        }
        std::thread::yield_now();
    }
    assert!(gone, "the name should go when the last handle closes");
    assert_errno(fs::metadata(m.p("f")), libc::ENOENT);
    m.finish();
}

/// A mount made as root leaves the fusectl file system mounted (systemd's job on a booted
/// machine; a container or minimal VM may lack it): `MountHandle::sync` waits on its count
/// of requests in flight, without which the close of a passthrough file could still be
/// giving its data back when sync returns.
#[test]
fn a_mount_as_root_has_fusectl_to_wait_on() {
    let m = Mounted::new();
    let dev = fs::metadata(m.root()).unwrap().dev();
    let conn = (u64::from(libc::major(dev)) << 20) | u64::from(libc::minor(dev));
    let waiting = fs::read_to_string(format!("/sys/fs/fuse/connections/{conn}/waiting"))
        .expect("fusectl mounted (by the daemon as root; otherwise run `mount -t fusectl none /sys/fs/fuse/connections` as root), the connection's waiting count readable");
    assert_eq!(waiting.trim(), "0", "nothing in flight");
    fs::write(m.p("f"), b"x").unwrap();
    m.sync_released();
    if m.handle().passthrough_active() {
        assert_eq!(m.handle().lent_files(), 0, "the close gave the data back");
    }
    m.finish();
}
