//! Case-only renames through rename(2) re-case the entry (A6: "a target differing only in
//! case gives the new spelling"), for the tools people run: coreutils `mv` (which tries
//! renameat2 with RENAME_NOREPLACE first), `git mv`, Python's `os.rename`, and plain rename(2)
//! and renameat2(2). Each keeps the file's one kernel inode: st_ino and st_nlink stay, open
//! files and mmaps keep working and see the same data through every spelling, and the listing
//! shows the new spelling at once. The mount uses the default (long) TTLs, so a stale cache
//! would show.

mod common;
use common::*;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::process::Command;

/// The names in a directory, as listed.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs a tool; a missing tool fails the test naming the package to install.
fn run(dir: &Path, prog: &str, args: &[&str], package: &str) -> std::process::Output {
    Command::new(prog)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("{prog} is needed by this test ({e}): apt-get install -y {package}")
        })
}

#[track_caller]
fn ok(out: std::process::Output) {
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The stored names of a file (the control attribute `user.ntlinkfs.names`).
fn stored_names(p: &Path) -> String {
    String::from_utf8(xattr::get(p, "user.ntlinkfs.names").unwrap().unwrap()).unwrap()
}

#[test]
fn coreutils_mv_recases_a_file_and_keeps_its_inode() {
    let m = Mounted::new();
    fs::write(m.p("Case.txt"), b"data").unwrap();
    let before = fs::metadata(m.p("Case.txt")).unwrap();
    // The kernel holds both spellings (as after `ls` and a stat under the new case).
    assert_eq!(fs::metadata(m.p("CASE.TXT")).unwrap().ino(), before.ino());
    ok(run(m.root(), "mv", &["Case.txt", "CASE.TXT"], "coreutils"));
    assert_eq!(listing(m.root()), ["CASE.TXT"]);
    for s in ["CASE.TXT", "Case.txt", "case.txt"] {
        let st = fs::metadata(m.p(s)).unwrap();
        assert_eq!((st.ino(), st.nlink()), (before.ino(), 1), "{s}");
        assert_eq!(fs::read(m.p(s)).unwrap(), b"data", "{s}");
    }
    // Back through absolute paths and a spelling that is neither old nor new.
    let (a, b) = (m.p("case.txt"), m.p("Case.Txt"));
    ok(run(
        m.root(),
        "mv",
        &[a.to_str().unwrap(), b.to_str().unwrap()],
        "coreutils",
    ));
    assert_eq!(listing(m.root()), ["Case.Txt"]);
    assert_eq!(fs::metadata(m.p("CASE.TXT")).unwrap().ino(), before.ino());
    // Renaming to the spelling already stored is a success that changes nothing (A6).
    ok(run(m.root(), "mv", &["CASE.txt", "Case.Txt"], "coreutils"));
    assert_eq!(listing(m.root()), ["Case.Txt"]);
    m.finish();
}

#[test]
fn coreutils_mv_recases_a_directory_with_its_contents() {
    let m = Mounted::new();
    fs::create_dir_all(m.p("Sub/inner")).unwrap();
    fs::write(m.p("Sub/inner/f"), b"x").unwrap();
    let ino = fs::metadata(m.p("Sub")).unwrap().ino();
    assert!(fs::metadata(m.p("SUB/inner/f")).is_ok());
    ok(run(m.root(), "mv", &["Sub", "SUB"], "coreutils"));
    assert_eq!(listing(m.root()), ["SUB"]);
    assert_eq!(fs::metadata(m.p("SUB")).unwrap().ino(), ino);
    assert_eq!(fs::metadata(m.p("sub")).unwrap().ino(), ino);
    assert_eq!(fs::read(m.p("SUB/inner/f")).unwrap(), b"x");
    assert_eq!(fs::read(m.p("Sub/INNER/f")).unwrap(), b"x");
    assert_eq!(listing(&m.p("sub")), ["inner"]);
    // A directory below the mount root, renamed from inside it (relative names).
    ok(run(&m.p("SUB"), "mv", &["inner", "Inner"], "coreutils"));
    assert_eq!(listing(&m.p("SUB")), ["Inner"]);
    // From a working directory entered under a spelling other than the stored one.
    ok(run(&m.p("sub"), "mv", &["Inner", "INNER"], "coreutils"));
    assert_eq!(listing(&m.p("SUB")), ["INNER"]);
    m.finish();
}

#[test]
fn python_os_rename_recases_files_and_directories() {
    let m = Mounted::new();
    fs::write(m.p("Readme.md"), b"r").unwrap();
    fs::create_dir(m.p("docs")).unwrap();
    let (fi, di) = (
        fs::metadata(m.p("Readme.md")).unwrap().ino(),
        fs::metadata(m.p("docs")).unwrap().ino(),
    );
    fs::write(m.p("docs/x.txt"), b"x").unwrap();
    // Through directory file descriptors too (renameat with dirfds).
    let script = "import os\nos.rename('Readme.md', 'README.md')\nos.rename('docs', 'Docs')\n\
                  fd = os.open('DOCS', os.O_RDONLY)\n\
                  os.rename('x.txt', 'X.TXT', src_dir_fd=fd, dst_dir_fd=fd)\n\
                  print(sorted(os.listdir('.')))\n";
    let out = run(m.root(), "python3", &["-c", script], "python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ok(out);
    assert_eq!(text.trim(), "['Docs', 'README.md']");
    assert_eq!(listing(m.root()), ["Docs", "README.md"]);
    assert_eq!(fs::metadata(m.p("readme.md")).unwrap().ino(), fi);
    assert_eq!(fs::metadata(m.p("DOCS")).unwrap().ino(), di);
    assert_eq!(listing(&m.p("docs")), ["X.TXT"]);
    m.finish();
}

#[test]
fn rename_and_renameat2_noreplace_recase() {
    let m = Mounted::new();
    fs::write(m.p("a.TXT"), b"1").unwrap();
    fs::rename(m.p("a.TXT"), m.p("A.txt")).unwrap();
    assert_eq!(listing(m.root()), ["A.txt"]);
    rename2(&m.p("a.txt"), &m.p("A.TXT"), libc::RENAME_NOREPLACE).unwrap();
    assert_eq!(listing(m.root()), ["A.TXT"]);
    // RENAME_NOREPLACE still refuses another file, whatever its spelling.
    fs::write(m.p("other"), b"2").unwrap();
    assert_errno(
        rename2(&m.p("other"), &m.p("a.txt"), libc::RENAME_NOREPLACE),
        libc::EEXIST,
    );
    // A plain rename onto another file's other spelling replaces it, as MoveFileEx does.
    fs::rename(m.p("other"), m.p("a.txt")).unwrap();
    assert_eq!(listing(m.root()), ["a.txt"]);
    assert_eq!(fs::read(m.p("A.TXT")).unwrap(), b"2");
    m.finish();
}

#[test]
fn git_mv_recases_in_the_work_tree_and_the_index() {
    let m = Mounted::new();
    let git = |args: &[&str]| {
        let mut all = vec![
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
        ];
        all.extend_from_slice(args);
        run(m.root(), "git", &all, "git")
    };
    ok(git(&["init", "-q"]));
    // git detects the case-insensitive file system itself when it makes the repository.
    let ic = git(&["config", "core.ignorecase"]);
    assert_eq!(String::from_utf8_lossy(&ic.stdout).trim(), "true");
    fs::write(m.p("Readme.md"), b"hello\n").unwrap();
    ok(git(&["add", "Readme.md"]));
    ok(git(&["commit", "-q", "-m", "one"]));
    ok(git(&["mv", "Readme.md", "README.md"]));
    assert!(listing(m.root()).contains(&"README.md".to_string()));
    assert!(!listing(m.root()).contains(&"Readme.md".to_string()));
    let files = git(&["ls-files"]);
    assert_eq!(String::from_utf8_lossy(&files.stdout).trim(), "README.md");
    let st = git(&["status", "--porcelain"]);
    assert_eq!(
        String::from_utf8_lossy(&st.stdout).trim(),
        "R  Readme.md -> README.md"
    );
    ok(git(&["commit", "-q", "-m", "two"]));
    let st = git(&["status", "--porcelain"]);
    assert_eq!(String::from_utf8_lossy(&st.stdout).trim(), "");
    // git itself moves a directory into an existing destination directory, and to git the
    // other spelling is one: `git mv docs Docs` asks for rename("docs", "Docs/docs"), which
    // the VFS refuses (EINVAL, a directory into itself). It fails cleanly, and with
    // core.ignorecase git keeps its index spelling for a directory re-cased behind its back,
    // so the way for git is its usual two steps.
    fs::create_dir(m.p("docs")).unwrap();
    fs::write(m.p("docs/a.md"), b"a\n").unwrap();
    ok(git(&["add", "docs"]));
    ok(git(&["commit", "-q", "-m", "three"]));
    let out = git(&["mv", "docs", "Docs"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Invalid argument"));
    assert_eq!(fs::read(m.p("docs/a.md")).unwrap(), b"a\n");
    ok(git(&["mv", "docs", "docs.tmp"]));
    ok(git(&["mv", "docs.tmp", "Docs"]));
    assert!(listing(m.root()).contains(&"Docs".to_string()));
    let files = git(&["ls-files"]);
    assert_eq!(
        String::from_utf8_lossy(&files.stdout).trim(),
        "Docs/a.md\nREADME.md"
    );
    m.finish();
}

#[test]
fn hard_linked_file_recases_one_name_and_keeps_the_others() {
    let m = Mounted::new();
    fs::create_dir(m.p("d")).unwrap();
    fs::write(m.p("Foo"), b"shared").unwrap();
    fs::hard_link(m.p("Foo"), m.p("d/bar")).unwrap();
    fs::hard_link(m.p("Foo"), m.p("foo2")).unwrap();
    let ino = fs::metadata(m.p("Foo")).unwrap().ino();
    ok(run(m.root(), "mv", &["Foo", "FOO"], "coreutils"));
    assert_eq!(listing(m.root()), ["FOO", "d", "foo2"]);
    for s in ["FOO", "d/bar", "foo2"] {
        let st = fs::metadata(m.p(s)).unwrap();
        assert_eq!((st.ino(), st.nlink()), (ino, 3), "{s}");
    }
    let mut names: Vec<String> = stored_names(&m.p("foo2"))
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    assert_eq!(names, ["\\FOO", "\\d\\bar", "\\foo2"]);
    // Removing another name later leaves the re-cased one its inode number.
    fs::remove_file(m.p("foo2")).unwrap();
    for s in ["FOO", "foo", "d/bar"] {
        let st = fs::metadata(m.p(s)).unwrap();
        assert_eq!((st.ino(), st.nlink()), (ino, 2), "{s}");
    }
    assert_eq!(fs::read(m.p("d/bar")).unwrap(), b"shared");
    m.finish();
}

#[test]
fn open_files_and_mmaps_see_one_file_across_the_rename() {
    let m = Mounted::new();
    fs::write(m.p("Data.bin"), vec![b'a'; 8192]).unwrap();
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(m.p("Data.bin"))
        .unwrap();
    let ino = f.metadata().unwrap().ino();
    // A shared mapping made through the new spelling before the rename.
    let g = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(m.p("DATA.BIN"))
        .unwrap();
    let map = Map::new(&g, 8192);
    ok(run(m.root(), "mv", &["Data.bin", "DATA.BIN"], "coreutils"));
    assert_eq!(listing(m.root()), ["DATA.BIN"]);
    // A write through the handle opened under the old spelling is read through the new one,
    // by read(2) and through the mapping, at once.
    f.write_all_at(b"WRITE", 0).unwrap();
    assert_eq!(&fs::read(m.p("DATA.BIN")).unwrap()[..5], b"WRITE");
    assert_eq!(&map.bytes()[..5], b"WRITE");
    // A store into the mapping is read by read(2) through the old spelling's handle and a
    // fresh open of either spelling.
    map.bytes_mut()[100..104].copy_from_slice(b"MMAP");
    let mut buf = [0u8; 4];
    f.read_exact_at(&mut buf, 100).unwrap();
    assert_eq!(&buf, b"MMAP");
    let mut h = fs::File::open(m.p("data.bin")).unwrap();
    h.seek(SeekFrom::Start(100)).unwrap();
    h.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"MMAP");
    // Growing through one spelling shows through the other.
    let mut w = fs::OpenOptions::new()
        .append(true)
        .open(m.p("Data.Bin"))
        .unwrap();
    w.write_all(b"tail").unwrap();
    assert_eq!(fs::metadata(m.p("DATA.BIN")).unwrap().len(), 8196);
    assert_eq!(f.metadata().unwrap().len(), 8196);
    for s in ["DATA.BIN", "Data.bin"] {
        let st = fs::metadata(m.p(s)).unwrap();
        assert_eq!((st.ino(), st.nlink()), (ino, 1));
    }
    assert_eq!(f.metadata().unwrap().ino(), ino);
    drop(map);
    drop((f, g, h, w));
    m.finish();
}

/// A shared read-write mapping of a whole file.
struct Map {
    ptr: *mut u8,
    len: usize,
}

impl Map {
    fn new(f: &fs::File, len: usize) -> Map {
        use std::os::fd::AsRawFd;
        // SAFETY: a fresh shared mapping of an open file; checked for MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED, "{}", std::io::Error::last_os_error());
        Map {
            ptr: ptr.cast(),
            len,
        }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes long and lives as long as self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    #[allow(clippy::mut_from_ref)]
    fn bytes_mut(&self) -> &mut [u8] {
        // SAFETY: as above; the test is the mapping's only user in this process.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping this value made.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

#[test]
fn renames_that_are_not_case_only_behave_as_before() {
    let m = Mounted::new();
    fs::create_dir(m.p("A")).unwrap();
    fs::write(m.p("A/a"), b"1").unwrap();
    // The new name's last component equals a directory on the way: still a move into A.
    fs::rename(m.p("A/a"), m.p("A/b")).unwrap();
    assert_eq!(listing(&m.p("A")), ["b"]);
    // A rename between two hard links of one file stays the VFS's no-op (POSIX).
    fs::hard_link(m.p("A/b"), m.p("A/c")).unwrap();
    fs::rename(m.p("A/b"), m.p("A/c")).unwrap();
    assert_eq!(listing(&m.p("A")), ["b", "c"]);
    // Into another directory with another spelling: an ordinary move.
    fs::create_dir(m.p("B")).unwrap();
    fs::rename(m.p("a/C"), m.p("b/C")).unwrap();
    assert_eq!(listing(&m.p("B")), ["C"]);
    assert_eq!(listing(&m.p("A")), ["b"]);
    m.finish();
}

#[test]
fn directories_recase_with_open_handles_as_ntfs_allows() {
    let m = Mounted::new();
    fs::create_dir(m.p("Sub")).unwrap();
    fs::write(m.p("Sub/f"), b"x").unwrap();
    let ino = fs::metadata(m.p("Sub")).unwrap().ino();
    // A handle on the directory itself does not stop a rename.
    let d = fs::File::open(m.p("Sub")).unwrap();
    fs::rename(m.p("Sub"), m.p("SUB")).unwrap();
    assert_eq!(listing(m.root()), ["SUB"]);
    assert_eq!(d.metadata().unwrap().ino(), ino);
    // An open file beneath it does, as on NTFS (A6: ERROR_ACCESS_DENIED), case-only or not.
    let f = fs::File::open(m.p("SUB/f")).unwrap();
    assert_errno(fs::rename(m.p("SUB"), m.p("sub")), libc::EACCES);
    assert_errno(fs::rename(m.p("SUB"), m.p("other")), libc::EACCES);
    assert_eq!(listing(m.root()), ["SUB"]);
    // The refused rename's new name was answered as missing only to the renaming thread and
    // never cached: it names the directory again at once.
    let st = fs::metadata(m.p("sub")).unwrap();
    assert!(st.is_dir());
    assert_eq!(st.ino(), ino);
    assert_eq!(fs::read(m.p("sub/f")).unwrap(), b"x");
    drop(f);
    fs::rename(m.p("SUB"), m.p("sub")).unwrap();
    assert_eq!(listing(m.root()), ["sub"]);
    drop(d);
    m.finish();
}

/// Readers on other threads never miss the file while one thread re-cases it over and over:
/// only the renaming thread's lookup of the new name is answered as missing.
#[test]
fn other_threads_always_find_the_file_while_it_is_recased() {
    const ROUNDS: usize = 200;
    let m = Mounted::new();
    fs::write(m.p("name.txt"), b"stay").unwrap();
    let ino = fs::metadata(m.p("name.txt")).unwrap().ino();
    let spellings = ["name.txt", "NAME.TXT", "Name.txt", "nAmE.TxT"];
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut seen = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for sp in spellings {
                    let st = fs::metadata(m.p(sp)).unwrap_or_else(|e| panic!("{sp}: {e}"));
                    assert_eq!((st.ino(), st.nlink()), (ino, 1));
                    assert_eq!(fs::read(m.p(sp)).unwrap(), b"stay");
                    seen += 1;
                }
            }
            seen
        });
        for i in 0..ROUNDS {
            let (from, to) = (spellings[i % 4], spellings[(i + 1) % 4]);
            fs::rename(m.p(from), m.p(to)).unwrap();
            assert_eq!(listing(m.root()), [to], "round {i}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
    m.finish();
}
