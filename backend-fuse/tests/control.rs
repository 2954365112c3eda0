//! ntlinkfs's control attributes, and bad input that must never bring the mount down.

mod common;
use common::*;
use std::fs;

#[test]
fn check_attribute_runs_the_engine_invariant_check() {
    let m = Mounted::new();
    fs::create_dir(m.p("d")).unwrap();
    fs::write(m.p("d/f"), b"x").unwrap();
    fs::hard_link(m.p("d/f"), m.p("g")).unwrap();
    m.assert_check_ok();
    // Not listed, not settable.
    assert!(xattr::list(m.root()).unwrap().next().is_none());
    assert_errno(
        xattr::set(m.root(), "user.ntlinkfs.check", b"x"),
        libc::EPERM,
    );
    m.finish();
}

#[test]
fn names_and_fileid_attributes_a1() {
    let m = Mounted::new();
    fs::create_dir(m.p("Dir")).unwrap();
    fs::write(m.p("Dir/File"), b"x").unwrap();
    fs::hard_link(m.p("dir/file"), m.p("Second")).unwrap();
    let names = xattr::get(m.p("second"), "user.ntlinkfs.names")
        .unwrap()
        .unwrap();
    assert_eq!(String::from_utf8(names).unwrap(), "\\Dir\\File\n\\Second");
    let a = xattr::get(m.p("Second"), "user.ntlinkfs.fileid")
        .unwrap()
        .unwrap();
    let b = xattr::get(m.p("Dir/File"), "user.ntlinkfs.fileid")
        .unwrap()
        .unwrap();
    assert_eq!(a, b);
    assert!(a.starts_with(b"0x"));
    m.finish();
}

#[test]
fn recase_renames_an_entry_to_another_case_a5() {
    let m = Mounted::new();
    fs::write(m.p("readme.txt"), b"x").unwrap();
    fs::create_dir(m.p("sub")).unwrap();
    assert!(fs::metadata(m.p("readme.txt")).is_ok());
    xattr::set(m.root(), "user.ntlinkfs.recase", b"README.TXT").unwrap();
    xattr::set(m.root(), "user.ntlinkfs.recase", b"Sub").unwrap();
    let mut names: Vec<String> = fs::read_dir(m.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["README.TXT", "Sub"]);
    // Both spellings still lead to the file; removing it through the old one works and
    // leaves no stale name behind.
    assert_eq!(fs::read(m.p("readme.txt")).unwrap(), b"x");
    fs::remove_file(m.p("readme.txt")).unwrap();
    assert_errno(fs::metadata(m.p("README.TXT")), libc::ENOENT);
    assert_errno(fs::metadata(m.p("readme.txt")), libc::ENOENT);
    assert_errno(
        xattr::set(m.root(), "user.ntlinkfs.recase", b"nothing"),
        libc::ENOENT,
    );
    m.finish();
}

#[test]
fn random_reparse_buffers_never_break_the_mount() {
    let m = Mounted::new();
    fs::create_dir(m.p("d")).unwrap();
    fs::write(m.p("f"), b"").unwrap();
    let good = junction(r"C:\x");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..2000 {
        // Mutate a valid buffer: flip bytes, cut, or extend.
        let mut b = good.clone();
        match i % 3 {
            0 => {
                let at = (next() as usize) % b.len();
                b[at] ^= (next() as u8) | 1;
            }
            1 => b.truncate((next() as usize) % b.len()),
            _ => b.extend((0..(next() % 64)).map(|_| next() as u8)),
        }
        for target in ["d", "f"] {
            match xattr::set(m.p(target), REPARSE, &b) {
                Ok(()) => {
                    // Whatever was accepted is a valid reparse point: put things back.
                    xattr::remove(m.p(target), REPARSE).unwrap();
                }
                Err(e) => {
                    let code = errno(&e);
                    assert!(
                        [libc::EINVAL, libc::ENOTDIR, libc::ENOTEMPTY].contains(&code),
                        "{e}"
                    );
                }
            }
        }
    }
    assert!(fs::symlink_metadata(m.p("d")).unwrap().is_dir());
    assert!(fs::symlink_metadata(m.p("f")).unwrap().is_file());
    m.assert_check_ok();
    m.finish();
}
