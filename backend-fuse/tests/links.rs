//! Hard links, symbolic links and junctions as Linux sees them.

mod common;
use common::*;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use vfs_core::{attrs, VolumeOptions};

#[test]
fn hard_links_share_data_and_count_names_a1() {
    let m = Mounted::new();
    fs::write(m.p("f"), b"data").unwrap();
    fs::create_dir(m.p("d")).unwrap();
    fs::hard_link(m.p("f"), m.p("d/g")).unwrap();
    let (a, b) = (
        fs::metadata(m.p("f")).unwrap(),
        fs::metadata(m.p("D/G")).unwrap(),
    );
    assert_eq!(a.ino(), b.ino());
    assert_eq!((a.nlink(), b.nlink()), (2, 2));
    fs::write(m.p("d/g"), b"changed").unwrap();
    assert_eq!(fs::read(m.p("f")).unwrap(), b"changed");
    fs::remove_file(m.p("f")).unwrap();
    assert_eq!(fs::metadata(m.p("d/g")).unwrap().nlink(), 1);
    // A directory cannot get a second name (A1): EPERM, as link(2) reports it.
    assert_errno(fs::hard_link(m.p("d"), m.p("d2")), libc::EPERM);
    m.finish();
}

#[test]
fn the_1025th_name_is_emlink_a1() {
    let m = Mounted::new();
    fs::create_dir(m.p("l")).unwrap();
    fs::write(m.p("l/0"), b"x").unwrap();
    for i in 1..1024 {
        fs::hard_link(m.p("l/0"), m.p(&format!("l/{i}"))).unwrap();
    }
    assert_eq!(fs::metadata(m.p("l/0")).unwrap().nlink(), 1024);
    assert_errno(fs::hard_link(m.p("l/0"), m.p("l/1024")), libc::EMLINK);
    assert_eq!(fs::metadata(m.p("l/500")).unwrap().nlink(), 1024);
    // After removing one name there is room for one more.
    fs::remove_file(m.p("l/7")).unwrap();
    fs::hard_link(m.p("l/0"), m.p("l/1024")).unwrap();
    m.finish();
}

#[test]
fn link_name_existing_in_another_case_is_eexist_a1_a5() {
    let m = Mounted::new();
    fs::write(m.p("f"), b"").unwrap();
    fs::write(m.p("Other"), b"").unwrap();
    assert_errno(fs::hard_link(m.p("f"), m.p("OTHER")), libc::EEXIST);
    assert_errno(fs::hard_link(m.p("f"), m.p("F")), libc::EEXIST);
    m.finish();
}

#[test]
fn symlink_targets_read_back_a4() {
    let m = Mounted::new();
    fs::create_dir(m.p("target")).unwrap();
    fs::write(m.p("target/f.txt"), b"data").unwrap();
    symlink("target/f.txt", m.p("rel")).unwrap();
    symlink(m.p("target"), m.p("abs")).unwrap();
    symlink("../nowhere", m.p("dangling")).unwrap();
    assert_eq!(
        fs::read_link(m.p("rel")).unwrap().to_str(),
        Some("target/f.txt")
    );
    assert_eq!(fs::read_link(m.p("abs")).unwrap(), m.p("target"));
    assert_eq!(fs::read(m.p("rel")).unwrap(), b"data");
    assert_eq!(fs::read(m.p("abs/f.txt")).unwrap(), b"data");
    assert_eq!(
        lstat(&m.p("rel")).unwrap().st_mode & libc::S_IFMT,
        libc::S_IFLNK
    );
    assert_eq!(
        fs::symlink_metadata(m.p("abs")).unwrap().len(),
        m.p("target").as_os_str().len() as u64
    );
    // The link is an NTFS symlink: file or directory kind decided by the target (A4).
    assert_eq!(
        ntfs_attrib(&m.p("rel")) & (attrs::DIRECTORY | attrs::REPARSE_POINT),
        attrs::REPARSE_POINT
    );
    assert_eq!(
        ntfs_attrib(&m.p("abs")) & (attrs::DIRECTORY | attrs::REPARSE_POINT),
        attrs::DIRECTORY | attrs::REPARSE_POINT
    );
    assert_eq!(ntfs_attrib(&m.p("dangling")) & attrs::DIRECTORY, 0);
    // What Windows sees: absolute targets on the drive letter, relative ones relative.
    let t = m
        .vol
        .read_link(m.vol.resolve(r"\abs", false).unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf16(&t.substitute_name).unwrap(),
        r"\??\C:\target"
    );
    let t = m
        .vol
        .read_link(m.vol.resolve(r"\rel", false).unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf16(&t.substitute_name).unwrap(),
        r"target\f.txt"
    );
    assert!(t.relative);
    // A host path outside the volume has no Windows meaning here.
    assert_errno(symlink("/etc/passwd", m.p("out")), libc::EPERM);
    // A Windows-form target makes that Windows link.
    symlink(r"C:\target", m.p("win")).unwrap();
    assert_eq!(fs::read_link(m.p("win")).unwrap(), m.p("target"));
    // unlink removes the link, not the target (A2).
    fs::remove_file(m.p("abs")).unwrap();
    fs::remove_file(m.p("rel")).unwrap();
    assert_eq!(fs::read(m.p("target/f.txt")).unwrap(), b"data");
    m.finish();
}

#[test]
fn mapped_and_unmapped_drive_letters() {
    let host = tempfile::tempdir().unwrap();
    fs::write(host.path().join("h.txt"), b"host").unwrap();
    let mut vo = VolumeOptions::default();
    vo.drive_map
        .insert('D', host.path().to_string_lossy().into_owned());
    let m = Mounted::with_volume(vo);
    m.vol.create_symlink(r"\tod", r"D:\h.txt", false).unwrap();
    m.vol.create_junction(r"\toe", r"E:\dir").unwrap();
    assert_eq!(
        fs::read_link(m.p("tod")).unwrap(),
        host.path().join("h.txt")
    );
    assert_eq!(fs::read(m.p("tod")).unwrap(), b"host");
    assert_eq!(
        fs::read_link(m.p("toe")).unwrap().to_str(),
        Some("/.ntlinkfs-unmapped/E:/dir")
    );
    assert!(
        fs::metadata(m.p("toe")).is_err(),
        "an unmapped letter dangles"
    );
    // ln -s into the mapped directory makes a D: link; a directory target → directory link.
    symlink(host.path(), m.p("hostdir")).unwrap();
    let t = m
        .vol
        .read_link(m.vol.resolve(r"\hostdir", false).unwrap())
        .unwrap();
    assert_eq!(String::from_utf16(&t.substitute_name).unwrap(), r"\??\D:\");
    assert_ne!(ntfs_attrib(&m.p("hostdir")) & attrs::DIRECTORY, 0);
    // The unmapped form readlink shows can be given back to ln -s.
    symlink("/.ntlinkfs-unmapped/E:/dir", m.p("toe2")).unwrap();
    assert_eq!(
        fs::read_link(m.p("toe2")).unwrap().to_str(),
        Some("/.ntlinkfs-unmapped/E:/dir")
    );
    m.finish();
}

#[test]
fn junction_made_by_the_engine_reads_as_mountpoint_path_a3() {
    let m = Mounted::new();
    m.vol
        .create_path(r"\store", &vfs_core::NewFile::dir())
        .unwrap();
    m.vol
        .write_file_path(r"\store\Readme.TXT", b"hello")
        .unwrap();
    m.vol.create_junction(r"\j", r"C:\store").unwrap();
    assert_eq!(fs::read_link(m.p("j")).unwrap(), m.p("store"));
    assert_eq!(fs::read(m.p("J/readme.txt")).unwrap(), b"hello");
    assert_errno(fs::remove_dir(m.p("j")), libc::ENOTDIR);
    fs::remove_file(m.p("j")).unwrap();
    assert_eq!(fs::read(m.p("store/readme.txt")).unwrap(), b"hello");
    m.finish();
}
