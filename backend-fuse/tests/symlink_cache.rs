//! Link targets are cached by the kernel (FUSE_CACHE_SYMLINKS, issue 7): every way a target
//! can change must still be seen at once. A4 (symbolic links are reparse points whose target
//! is replaced by FSCTL_SET_REPARSE_POINT on the same tag), A3 (junctions likewise).

mod common;
use common::*;
use std::fs;

#[test]
fn retargeting_a_junction_is_seen_at_once_through_a_cached_walk_a3() {
    let m = Mounted::new();
    for d in ["one", "two"] {
        fs::create_dir(m.p(d)).unwrap();
        fs::write(m.p(&format!("{d}/f.txt")), d.as_bytes()).unwrap();
    }
    fs::create_dir(m.p("j")).unwrap();
    xattr::set(m.p("j"), REPARSE, &junction(r"C:\one")).unwrap();
    // Walk through the junction twice: the second walk uses the cached target.
    for _ in 0..2 {
        assert_eq!(fs::read(m.p("j/f.txt")).unwrap(), b"one");
        assert_eq!(fs::read_link(m.p("j")).unwrap(), m.p("one"));
    }
    xattr::set(m.p("j"), REPARSE, &junction(r"C:\two")).unwrap();
    assert_eq!(fs::read_link(m.p("j")).unwrap(), m.p("two"));
    assert_eq!(fs::read(m.p("j/f.txt")).unwrap(), b"two");
    m.finish();
}

#[test]
fn retargeting_a_file_symlink_through_one_name_is_seen_through_its_other_name_a1_a4() {
    let m = Mounted::new();
    fs::write(m.p("a.txt"), b"a").unwrap();
    fs::write(m.p("b.txt"), b"b").unwrap();
    fs::write(m.p("l"), b"").unwrap();
    xattr::set(m.p("l"), REPARSE, &symlink_buf("a.txt")).unwrap();
    // A1: a hard link to a symlink links the symlink itself.
    fs::hard_link(m.p("l"), m.p("l2")).unwrap();
    assert_eq!(fs::read_link(m.p("l2")).unwrap().to_str(), Some("a.txt"));
    assert_eq!(fs::read(m.p("l2")).unwrap(), b"a");
    xattr::set(m.p("l"), REPARSE, &symlink_buf("b.txt")).unwrap();
    assert_eq!(fs::read_link(m.p("l2")).unwrap().to_str(), Some("b.txt"));
    assert_eq!(fs::read(m.p("l2")).unwrap(), b"b");
    assert_eq!(fs::read_link(m.p("l")).unwrap().to_str(), Some("b.txt"));
    m.finish();
}

#[test]
fn a_symlink_removed_and_made_again_under_the_same_name_shows_the_new_target_a4() {
    let m = Mounted::new();
    fs::write(m.p("a.txt"), b"a").unwrap();
    fs::write(m.p("b.txt"), b"b").unwrap();
    std::os::unix::fs::symlink("a.txt", m.p("s")).unwrap();
    assert_eq!(fs::read(m.p("s")).unwrap(), b"a");
    fs::remove_file(m.p("s")).unwrap();
    std::os::unix::fs::symlink("b.txt", m.p("s")).unwrap();
    assert_eq!(fs::read_link(m.p("s")).unwrap().to_str(), Some("b.txt"));
    assert_eq!(fs::read(m.p("s")).unwrap(), b"b");
    m.finish();
}
