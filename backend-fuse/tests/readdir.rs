//! Directory listings: NTFS order, stable cookies, no duplicates or gaps while the directory
//! changes.

mod common;
use common::*;
use std::collections::HashSet;
use std::ffi::{CStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// NTFS collation: upcased UTF-16 units (A5).
fn ntfs_key(s: &str) -> Vec<u16> {
    vfs_core::name::upcase(&w(s))
}

struct Dir(*mut libc::DIR);

impl Dir {
    fn open(p: &Path) -> Dir {
        let c = cstr(p);
        // SAFETY: valid path.
        let d = unsafe { libc::opendir(c.as_ptr()) };
        assert!(!d.is_null(), "opendir {}", std::io::Error::last_os_error());
        Dir(d)
    }
    /// The next name other than "." and "..".
    fn next(&mut self) -> Option<OsString> {
        loop {
            // SAFETY: an open DIR.
            let e = unsafe { libc::readdir64(self.0) };
            if e.is_null() {
                return None;
            }
            // SAFETY: readdir returned a valid entry with a NUL-terminated name.
            let name = unsafe { CStr::from_ptr((*e).d_name.as_ptr()) };
            let b = name.to_bytes();
            if b != b"." && b != b".." {
                return Some(std::ffi::OsStr::from_bytes(b).to_owned());
            }
        }
    }
    fn tell(&self) -> i64 {
        // SAFETY: an open DIR.
        unsafe { libc::telldir(self.0) as i64 }
    }
    fn seek(&mut self, pos: i64) {
        // SAFETY: an open DIR and a position telldir gave.
        unsafe { libc::seekdir(self.0, pos as _) }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: an open DIR, closed once.
        unsafe { libc::closedir(self.0) };
    }
}

#[test]
fn ten_thousand_entries_listed_once_in_ntfs_order_while_entries_are_added() {
    let m = Mounted::new();
    fs::create_dir(m.p("big")).unwrap();
    let mut made = Vec::new();
    for i in 0..10_000 {
        // Mixed case so that NTFS order differs from byte order.
        let n = if i % 3 == 0 {
            format!("File{i:05}")
        } else {
            format!("aFile{i:05}")
        };
        fs::write(m.p(&format!("big/{n}")), b"").unwrap();
        made.push(n);
    }
    let mut d = Dir::open(&m.p("big"));
    let mut seen = Vec::new();
    for _ in 0..4_000 {
        seen.push(d.next().unwrap().into_string().unwrap());
    }
    // Add names before and after the cursor while the listing is under way.
    for i in 0..500 {
        fs::write(m.p(&format!("big/0new{i}")), b"").unwrap();
        fs::write(m.p(&format!("big/znew{i}")), b"").unwrap();
    }
    while let Some(n) = d.next() {
        seen.push(n.into_string().unwrap());
    }
    let set: HashSet<&String> = seen.iter().collect();
    assert_eq!(set.len(), seen.len(), "duplicates in the listing");
    for n in &made {
        assert!(set.contains(n), "{n} missing");
    }
    // Names added behind the cursor are not listed; those ahead are, all of them.
    assert_eq!(seen.iter().filter(|n| n.starts_with("0new")).count(), 0);
    assert_eq!(seen.iter().filter(|n| n.starts_with("znew")).count(), 500);
    let keys: Vec<Vec<u16>> = seen.iter().map(|n| ntfs_key(n)).collect();
    assert!(keys.windows(2).all(|p| p[0] < p[1]), "not in NTFS order");
    drop(d);
    m.finish();
}

#[test]
fn telldir_cookies_resume_at_the_same_entry() {
    let m = Mounted::new();
    fs::create_dir(m.p("d")).unwrap();
    for i in 0..300 {
        fs::write(m.p(&format!("d/n{i:03}")), b"").unwrap();
    }
    let mut d = Dir::open(&m.p("d"));
    for _ in 0..123 {
        d.next().unwrap();
    }
    let pos = d.tell();
    let next = d.next().unwrap();
    for _ in 0..100 {
        d.next().unwrap();
    }
    // Entries around the cookie change: the cookie still means "after that entry".
    fs::remove_file(m.p("d/n050")).unwrap();
    fs::write(m.p("d/n0505"), b"").unwrap();
    d.seek(pos);
    assert_eq!(d.next().unwrap(), next);
    drop(d);
    m.finish();
}

#[test]
fn readdir_shows_stored_spelling_and_types() {
    let m = Mounted::new();
    fs::write(m.p("MiXeD.txt"), b"").unwrap();
    fs::create_dir(m.p("Sub")).unwrap();
    std::os::unix::fs::symlink("Sub", m.p("Lnk")).unwrap();
    let mut entries: Vec<(String, bool, bool)> = fs::read_dir(m.root())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            (
                e.file_name().into_string().unwrap(),
                t.is_dir(),
                t.is_symlink(),
            )
        })
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        vec![
            ("Lnk".into(), false, true),
            ("MiXeD.txt".into(), false, false),
            ("Sub".into(), true, false)
        ]
    );
    m.finish();
}
