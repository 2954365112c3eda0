//! Never stale: each case of the issue's point 5, repeated many times to catch races. The
//! mount uses long TTLs (the defaults), so any staleness would show.

mod common;
use common::*;
use std::fs;
use std::os::unix::fs::MetadataExt;

const ROUNDS: usize = 200;

#[test]
fn directory_becomes_a_junction_and_back_next_syscall_sees_it() {
    let m = Mounted::new();
    fs::create_dir(m.p("target")).unwrap();
    fs::write(m.p("target/f.txt"), b"data").unwrap();
    let buf = junction(r"C:\target");
    for i in 0..ROUNDS {
        fs::create_dir(m.p("j")).unwrap();
        assert!(fs::symlink_metadata(m.p("j")).unwrap().is_dir());
        assert_eq!(fs::read_dir(m.p("j")).unwrap().count(), 0);
        xattr::set(m.p("j"), REPARSE, &buf).unwrap();
        // Each of these is the first call after the change in some round.
        match i % 4 {
            0 => assert_eq!(fs::read(m.p("j/f.txt")).unwrap(), b"data", "round {i}"),
            1 => assert_eq!(fs::read_link(m.p("j")).unwrap(), m.p("target"), "round {i}"),
            2 => assert!(fs::symlink_metadata(m.p("j"))
                .unwrap()
                .file_type()
                .is_symlink()),
            _ => assert_eq!(fs::read_dir(m.p("j")).unwrap().count(), 1, "round {i}"),
        }
        assert_eq!(fs::read(m.p("j/f.txt")).unwrap(), b"data", "round {i}");
        xattr::remove(m.p("j"), REPARSE).unwrap();
        match i % 3 {
            0 => assert!(
                fs::symlink_metadata(m.p("j")).unwrap().is_dir(),
                "round {i}"
            ),
            1 => assert_errno(fs::read(m.p("j/f.txt")), libc::ENOENT),
            _ => assert_eq!(fs::read_dir(m.p("j")).unwrap().count(), 0, "round {i}"),
        }
        assert_errno(fs::read_link(m.p("j")), libc::EINVAL);
        fs::remove_dir(m.p("j")).unwrap();
    }
    m.finish();
}

#[test]
fn unlink_through_another_spelling_while_one_is_cached() {
    let m = Mounted::new();
    for i in 0..ROUNDS {
        fs::write(m.p("Foo"), b"x").unwrap();
        // Both spellings cached by the kernel.
        assert!(fs::metadata(m.p("Foo")).is_ok());
        assert!(fs::metadata(m.p("foo")).is_ok());
        let through = ["FOO", "foo", "Foo", "fOo"][i % 4];
        fs::remove_file(m.p(through)).unwrap();
        for s in ["Foo", "foo", "FOO"] {
            assert_errno(fs::metadata(m.p(s)), libc::ENOENT);
            assert_errno(fs::File::open(m.p(s)), libc::ENOENT);
        }
    }
    m.finish();
}

#[test]
fn unlink_of_one_spelling_keeps_other_hard_links_right() {
    let m = Mounted::new();
    fs::write(m.p("keep"), b"k").unwrap();
    for i in 0..ROUNDS {
        fs::hard_link(m.p("keep"), m.p("Name")).unwrap();
        assert_eq!(fs::metadata(m.p("Name")).unwrap().nlink(), 2);
        assert_eq!(fs::metadata(m.p("NAME")).unwrap().nlink(), 2);
        fs::remove_file(m.p(if i % 2 == 0 { "name" } else { "NAME" })).unwrap();
        assert_errno(fs::metadata(m.p("Name")), libc::ENOENT);
        assert_errno(fs::metadata(m.p("NAME")), libc::ENOENT);
        assert_eq!(fs::metadata(m.p("keep")).unwrap().nlink(), 1, "round {i}");
        assert_eq!(fs::read(m.p("keep")).unwrap(), b"k");
    }
    m.finish();
}

#[test]
fn rename_through_another_spelling_while_one_is_cached() {
    let m = Mounted::new();
    for i in 0..ROUNDS {
        fs::write(m.p("Foo"), format!("{i}")).unwrap();
        assert!(fs::metadata(m.p("Foo")).is_ok());
        assert!(fs::metadata(m.p("fOO")).is_ok());
        fs::rename(m.p(if i % 2 == 0 { "foo" } else { "FOO" }), m.p("bar")).unwrap();
        assert_errno(fs::metadata(m.p("Foo")), libc::ENOENT);
        assert_errno(fs::read(m.p("fOO")), libc::ENOENT);
        assert_eq!(fs::read(m.p("bar")).unwrap(), format!("{i}").as_bytes());
        fs::remove_file(m.p("BAR")).unwrap();
    }
    m.finish();
}

#[test]
fn rename_over_a_target_cached_under_another_spelling() {
    let m = Mounted::new();
    for i in 0..ROUNDS {
        fs::write(m.p("Tgt"), b"old").unwrap();
        fs::write(m.p("src"), format!("new{i}")).unwrap();
        assert_eq!(fs::read(m.p("tgt")).unwrap(), b"old");
        assert_eq!(fs::read(m.p("Tgt")).unwrap(), b"old");
        fs::rename(m.p("src"), m.p("TGT")).unwrap();
        assert_eq!(
            fs::read(m.p("tgt")).unwrap(),
            format!("new{i}").as_bytes(),
            "round {i}"
        );
        assert_eq!(
            fs::read(m.p("Tgt")).unwrap(),
            format!("new{i}").as_bytes(),
            "round {i}"
        );
        fs::remove_file(m.p("tgt")).unwrap();
    }
    m.finish();
}

#[test]
fn link_and_unlink_change_link_counts_seen_through_every_name() {
    let m = Mounted::new();
    fs::write(m.p("a"), b"").unwrap();
    for i in 0..ROUNDS {
        assert_eq!(fs::metadata(m.p("a")).unwrap().nlink(), 1);
        fs::hard_link(m.p("a"), m.p("b")).unwrap();
        assert_eq!(fs::metadata(m.p("a")).unwrap().nlink(), 2, "round {i}");
        assert_eq!(fs::metadata(m.p("B")).unwrap().nlink(), 2, "round {i}");
        fs::remove_file(m.p("b")).unwrap();
        assert_eq!(fs::metadata(m.p("A")).unwrap().nlink(), 1, "round {i}");
    }
    m.finish();
}

#[test]
fn open_file_survives_unlink_through_another_spelling() {
    use std::io::{Read, Seek, SeekFrom, Write};
    let m = Mounted::new();
    for i in 0..50 {
        fs::write(m.p("Open"), b"abc").unwrap();
        let mut f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(m.p("Open"))
            .unwrap();
        assert!(fs::metadata(m.p("OPEN")).is_ok());
        fs::remove_file(m.p("open")).unwrap();
        assert_errno(fs::metadata(m.p("Open")), libc::ENOENT);
        f.seek(SeekFrom::End(0)).unwrap();
        f.write_all(b"def").unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "abcdef", "round {i}");
    }
    m.finish();
}

#[test]
fn new_name_is_seen_at_once_after_a_miss() {
    let m = Mounted::new();
    for i in 0..ROUNDS {
        let n = format!("n{i}");
        assert_errno(fs::metadata(m.p(&n)), libc::ENOENT);
        // Created behind the kernel's back (through the engine): no negative entry may hide it.
        m.vol
            .write_file_path(&format!(r"\{}", n.to_uppercase()), b"e")
            .unwrap();
        assert_eq!(fs::read(m.p(&n)).unwrap(), b"e");
    }
    m.finish();
}

#[test]
fn concurrent_readers_never_see_eio_while_a_directory_flips() {
    let m = Mounted::new();
    fs::create_dir(m.p("target")).unwrap();
    fs::write(m.p("target/f.txt"), b"data").unwrap();
    fs::create_dir(m.p("j")).unwrap();
    let buf = junction(r"C:\target");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let root = m.root().to_path_buf();
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for r in [
                    fs::symlink_metadata(root.join("j")).map(|_| ()),
                    fs::read(root.join("j/f.txt")).map(|_| ()),
                    fs::read_dir(root.join("j")).map(|_| ()),
                    fs::read_link(root.join("j")).map(|_| ()),
                ] {
                    if let Err(e) = r {
                        let code = e.raw_os_error().unwrap_or(0);
                        // A call racing with a kind change of the same path may find its
                        // one LOOKUP_REVAL retry overtaken by the next change: ESTALE.
                        // Never EIO (ntfs-3g's answer), never a hang.
                        assert!(
                            [libc::ENOENT, libc::EINVAL, libc::ENOTDIR, libc::ESTALE]
                                .contains(&code),
                            "unexpected error while flipping: {e}"
                        );
                    }
                }
                n += 1;
            }
            n
        })
    };
    for _ in 0..ROUNDS {
        xattr::set(m.p("j"), REPARSE, &buf).unwrap();
        xattr::remove(m.p("j"), REPARSE).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    m.finish();
}

#[test]
fn concurrent_readers_never_see_eio_while_names_change_through_other_spellings() {
    let m = Mounted::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let root = m.root().to_path_buf();
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for s in ["Foo", "foo", "FOO", "bar"] {
                    for r in [
                        fs::metadata(root.join(s)).map(|_| ()),
                        fs::read(root.join(s)).map(|_| ()),
                    ] {
                        if let Err(e) = r {
                            let code = e.raw_os_error().unwrap_or(0);
                            assert!(
                                [libc::ENOENT, libc::ESTALE].contains(&code),
                                "unexpected error: {e}"
                            );
                        }
                    }
                }
                n += 1;
            }
            n
        })
    };
    for i in 0..ROUNDS {
        fs::write(m.p("Foo"), b"x").unwrap();
        if i % 2 == 0 {
            fs::rename(m.p("fOO"), m.p("bar")).unwrap();
            fs::remove_file(m.p("BAR")).unwrap();
        } else {
            fs::remove_file(m.p("foO")).unwrap();
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    m.finish();
}

#[test]
fn changes_made_directly_to_the_volume_are_seen_after_invalidate() {
    let m = Mounted::new();
    for i in 0..50 {
        fs::write(m.p("f"), b"x").unwrap();
        assert!(fs::metadata(m.p("f")).is_ok());
        let id = m.vol.resolve(r"\f", false).unwrap();
        // Behind the kernel's back: a rename, then a delete, through the engine.
        m.vol
            .rename_path(r"\f", r"\g", vfs_core::RenameFlags::default())
            .unwrap();
        m.handle().invalidate(id);
        assert_errno(fs::metadata(m.p("f")), libc::ENOENT);
        assert!(fs::metadata(m.p("g")).is_ok(), "round {i}");
        m.vol
            .delete_path(r"\g", vfs_core::UnlinkKind::File)
            .unwrap();
        m.handle().invalidate(id);
        assert_errno(fs::metadata(m.p("g")), libc::ENOENT);
    }
    m.finish();
}
