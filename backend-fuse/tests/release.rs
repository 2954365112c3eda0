//! close(2) returns before the daemon hears of it: the kernel sends RELEASE in the background
//! (and the mount opens files with FOPEN_NOFLUSH, so no FLUSH comes first). An NTFS rule that
//! depends on open handles — a directory with an open file below cannot be renamed or removed
//! (A6) — must still not count a file its caller has closed. Many files closed at once fill
//! the kernel's background queue (`max_background`, 12 by default), so the last RELEASEs reach
//! the daemon after the rename or rmdir that follows; the daemon waits for them before it
//! refuses.

mod common;
use common::*;
use std::fs;
use std::io::Write;
use vfs_core::VolumeOptions;

const FILES: usize = 64;
const ROUNDS: usize = 20;

/// Makes `dir` with FILES files, all open at once and then closed together, so that their
/// RELEASEs queue up behind each other in the kernel.
fn fill(m: &Mounted, dir: &str) {
    fs::create_dir(m.p(dir)).unwrap();
    let open: Vec<fs::File> = (0..FILES)
        .map(|i| {
            let mut f = fs::File::create(m.p(&format!("{dir}/f{i}"))).unwrap();
            f.write_all(b"x").unwrap();
            f
        })
        .collect();
    drop(open);
}

fn check(mo: backend_fuse::MountOptions) {
    let m = Mounted::with(VolumeOptions::default(), mo);
    for r in 0..ROUNDS {
        let (a, b) = (format!("a{r}"), format!("b{r}"));
        fill(&m, &a);
        fs::rename(m.p(&a), m.p(&b)).unwrap_or_else(|e| {
            panic!("round {r}: rename of a directory whose files were all closed: {e}")
        });
        for i in 0..FILES {
            fs::remove_file(m.p(&format!("{b}/f{i}"))).unwrap();
        }
        fs::remove_dir(m.p(&b))
            .unwrap_or_else(|e| panic!("round {r}: rmdir after the last unlink: {e}"));
    }
    // A file really open below still stops the rename (A6), after the wait.
    fill(&m, "open");
    let f = fs::File::open(m.p("open/f0")).unwrap();
    assert_errno(fs::rename(m.p("open"), m.p("moved")), libc::EACCES);
    drop(f);
    m.finish();
}

#[test]
fn a_directory_whose_files_were_just_closed_can_be_renamed_one_thread_and_worker() {
    check(backend_fuse::MountOptions {
        threads: 1,
        widen_when_idle: false,
        ..Default::default()
    });
}

#[test]
fn a_directory_whose_files_were_just_closed_can_be_renamed_two_threads() {
    check(backend_fuse::MountOptions {
        threads: 2,
        widen_when_idle: false,
        ..Default::default()
    });
}
