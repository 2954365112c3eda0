//! Regression tests for what the reliability runs found in the FUSE backend.

mod common;

use common::mount;
use reliability::{control, sys};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::time::{Duration, Instant};

fn sleep_binary() -> std::path::PathBuf {
    ["/usr/bin/sleep", "/bin/sleep"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
        .expect("sleep(1) is missing: install coreutils")
}

/// pjdfstest open::etxtbsy failed now and then: with FUSE_ATOMIC_O_TRUNC negotiated,
/// open(O_RDONLY | O_TRUNC) of a file being executed sometimes succeeded. A file in use as a
/// program's text is never opened for writing or truncated (ETXTBSY).
#[test]
fn a_running_program_cannot_be_opened_for_writing_or_truncated() {
    let m = mount(&[]);
    let exe = m.dir.join("sleeper");
    std::fs::copy(sleep_binary(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let size = std::fs::metadata(&exe).unwrap().len();
    // Killed when the test ends, pass or fail, so the mount is never left busy.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Running(std::process::Command::new(&exe).arg("60").spawn().unwrap());
    for round in 0..20 {
        for (what, flags) in [
            ("O_WRONLY", libc::O_WRONLY),
            ("O_RDWR", libc::O_RDWR),
            ("O_RDONLY|O_TRUNC", libc::O_RDONLY | libc::O_TRUNC),
        ] {
            let r = std::fs::OpenOptions::new()
                .read(flags & libc::O_ACCMODE != libc::O_WRONLY)
                .write(flags & libc::O_ACCMODE != libc::O_RDONLY)
                .custom_flags(flags & libc::O_TRUNC)
                .open(&exe);
            assert_eq!(
                r.as_ref().map_err(|e| e.raw_os_error()).err(),
                Some(Some(libc::ETXTBSY)),
                "round {round}: open({what}) of a running program: {r:?}"
            );
        }
        assert_eq!(sys::truncate(&exe, 0), Err(libc::ETXTBSY), "round {round}");
    }
    drop(child);
    assert_eq!(std::fs::metadata(&exe).unwrap().len(), size);
}

/// The engine's open-handle count (control xattr `user.ntlinkfs.handles`) follows the files
/// programs hold open and comes back to 0 when they are closed (the leak check of the stress
/// run reads it).
#[test]
fn the_handle_count_comes_back_to_zero() {
    let m = mount(&[]);
    assert_eq!(control::open_handles(&m.dir).unwrap(), Some(0));
    let files: Vec<std::fs::File> = (0..3)
        .map(|i| std::fs::File::create(m.dir.join(format!("f{i}"))).unwrap())
        .collect();
    assert_eq!(control::open_handles(&m.dir).unwrap(), Some(3));
    drop(files);
    // close(2) does not wait for the kernel's RELEASE to reach the daemon.
    let start = Instant::now();
    let mut n = control::open_handles(&m.dir).unwrap();
    while n != Some(0) && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
        n = control::open_handles(&m.dir).unwrap();
    }
    assert_eq!(n, Some(0));
    assert_eq!(control::check(&m.dir).unwrap(), "ok");
}
