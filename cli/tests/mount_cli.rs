//! `ntlinkfs mount`, the binary: ready line, clean exits, clear errors, dead-mount cleanup.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ntlinkfs");

/// A fresh directory under the system temp dir, removed on drop (no extra crate needed).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "ntlinkfs-cli-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !is_mounted(&self.0) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn require_fuse() {
    assert!(
        Path::new("/dev/fuse").exists(),
        "these tests mount for real: /dev/fuse is missing (install fuse3: apt-get install fuse3)"
    );
}

fn is_mounted(p: &Path) -> bool {
    let Ok(want) = p.canonicalize() else {
        return false;
    };
    host::mountinfo::is_mountpoint(&want)
}

/// Starts `ntlinkfs mount DIR ARGS…` and waits for its ready line.
fn start(dir: &Path, args: &[&str]) -> (Child, String, BufReader<ChildStdout>) {
    require_fuse();
    let mut child = Command::new(BIN)
        .arg("mount")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    if line.is_empty() {
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("no ready line; stderr: {err}");
    }
    (child, line, out)
}

/// Waits for the child to exit (a hung child fails the test instead of hanging it).
fn wait_exit(mut child: Child) -> std::process::ExitStatus {
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().unwrap());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(s) => s,
        Err(_) => {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("ntlinkfs did not exit");
        }
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: signalling our own child by its pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

#[test]
fn ready_line_then_sigterm_unmounts_and_exits_0() {
    let dir = TempDir::new();
    let (child, line, _out) = start(dir.path(), &["--drive-letter", "D"]);
    let canon = dir.path().canonicalize().unwrap();
    assert_eq!(
        line.trim_end(),
        format!("ntlinkfs: drive D: mounted at {} (ready)", canon.display())
    );
    // Usable as soon as the line is printed.
    std::fs::write(dir.path().join("a.txt"), b"x").unwrap();
    assert_eq!(std::fs::read(dir.path().join("A.TXT")).unwrap(), b"x");
    assert!(is_mounted(dir.path()));
    signal(&child, libc::SIGTERM);
    let st = wait_exit(child);
    assert_eq!(st.code(), Some(0));
    assert!(!is_mounted(dir.path()));
}

#[test]
fn sigint_exits_0() {
    let dir = TempDir::new();
    let (child, _, _out) = start(dir.path(), &[]);
    signal(&child, libc::SIGINT);
    assert_eq!(wait_exit(child).code(), Some(0));
    assert!(!is_mounted(dir.path()));
}

#[test]
fn outside_fusermount_unmount_exits_0() {
    let dir = TempDir::new();
    let (child, _, _out) = start(dir.path(), &[]);
    let st = Command::new("fusermount3")
        .arg("-u")
        .arg(dir.path())
        .status()
        .expect("fusermount3 runs (apt-get install fuse3)");
    assert!(st.success());
    assert_eq!(wait_exit(child).code(), Some(0));
}

#[test]
fn outside_umount_exits_0() {
    let dir = TempDir::new();
    let (child, _, _out) = start(dir.path(), &[]);
    let st = Command::new("umount").arg(dir.path()).status().unwrap();
    assert!(st.success());
    assert_eq!(wait_exit(child).code(), Some(0));
}

fn run_failing(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(out.status.code().is_some(), "killed by a signal (a panic?)");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());
    err
}

#[test]
fn missing_mountpoint_is_one_stderr_line_and_nonzero() {
    let err = run_failing(&["mount", "/nonexistent/ntlinkfs/mountpoint"]);
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.contains("mkdir -p"), "{err}");
}

#[test]
fn file_as_mountpoint_is_one_stderr_line_and_nonzero() {
    let d = TempDir::new();
    let f = d.path().join("file");
    std::fs::write(&f, b"").unwrap();
    let err = run_failing(&["mount", f.to_str().unwrap()]);
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn bad_map_drive_is_refused() {
    let dir = TempDir::new();
    let out = Command::new(BIN)
        .args([
            "mount",
            dir.path().to_str().unwrap(),
            "--map-drive",
            "D=relative",
        ])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn dead_mount_at_the_same_path_is_cleaned_up() {
    let dir = TempDir::new();
    let (child, _, _out) = start(dir.path(), &[]);
    signal(&child, libc::SIGKILL);
    wait_exit(child);
    // The kernel keeps a mount whose server is gone.
    let e = std::fs::read_dir(dir.path()).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOTCONN), "{e}");
    let (child, line, _out) = start(dir.path(), &[]);
    assert!(line.contains("(ready)"));
    std::fs::write(dir.path().join("f"), b"y").unwrap();
    assert_eq!(std::fs::read(dir.path().join("F")).unwrap(), b"y");
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
    assert!(!is_mounted(dir.path()));
}

#[test]
fn mapped_drive_and_options_reach_the_volume() {
    let dir = TempDir::new();
    let host = TempDir::new();
    std::fs::write(host.path().join("h"), b"host").unwrap();
    let map = format!("E={}", host.path().display());
    let (child, _, _out) = start(dir.path(), &["--map-drive", &map, "--threads", "2"]);
    std::os::unix::fs::symlink(host.path().join("h"), dir.path().join("l")).unwrap();
    assert_eq!(std::fs::read(dir.path().join("l")).unwrap(), b"host");
    let buf = xattr::get(dir.path().join("l"), "system.ntfs_reparse_data")
        .unwrap()
        .unwrap();
    // The substitute name is \??\E:\h (UTF-16) somewhere in the buffer.
    let want: Vec<u8> = r"\??\E:\h"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert!(buf.windows(want.len()).any(|w| w == want));
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
}

/// Issue 9: `--fixture` populates the drive; `--image` saves it at clean unmount and loads it
/// at the next mount; `ntlinkfs save` saves a running drive on demand.
#[test]
fn fixture_then_image_survives_remount_and_save_on_demand() {
    let dir = TempDir::new();
    let mnt = dir.path().join("m");
    std::fs::create_dir(&mnt).unwrap();
    let img = dir.path().join("drive.img");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/fixtures/pnpm-store.toml"
    );
    let img_s = img.to_str().unwrap();
    let (child, _, _out) = start(&mnt, &["--fixture", fixture, "--image", img_s]);
    assert!(mnt.join("proj-api").join("package.json").exists());
    std::fs::write(mnt.join("Added.txt"), b"kept").unwrap();
    std::fs::hard_link(mnt.join("Added.txt"), mnt.join("second.txt")).unwrap();
    let on_demand = dir.path().join("on-demand.img");
    let out = Command::new(BIN)
        .args(["save", mnt.to_str().unwrap(), on_demand.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(on_demand.exists());
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
    assert!(img.exists(), "saved at clean unmount");
    for image in [img_s, on_demand.to_str().unwrap()] {
        let (child, _, _out) = start(&mnt, &["--image", image]);
        assert_eq!(std::fs::read(mnt.join("ADDED.TXT")).unwrap(), b"kept");
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            std::fs::metadata(mnt.join("second.txt")).unwrap().nlink(),
            2
        );
        assert!(mnt.join("proj-api").join("package.json").exists());
        signal(&child, libc::SIGTERM);
        assert_eq!(wait_exit(child).code(), Some(0));
    }
}

/// Issue 9: a fixture that breaks an NTFS rule is refused with its line; nothing is mounted.
#[test]
fn bad_fixture_is_refused_with_its_line_and_nothing_is_mounted() {
    let dir = TempDir::new();
    let mnt = dir.path().join("m");
    std::fs::create_dir(&mnt).unwrap();
    let fx = dir.path().join("bad.toml");
    std::fs::write(&fx, "[[file]]\npath = \"a:b\"\ntext = \"x\"\n").unwrap();
    let err = run_failing(&[
        "mount",
        mnt.to_str().unwrap(),
        "--fixture",
        fx.to_str().unwrap(),
    ]);
    assert!(err.contains("bad.toml:"), "{err}");
    assert!(!is_mounted(&mnt));
}
