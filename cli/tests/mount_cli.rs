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
        format!(
            "ntlinkfs: drive D: mounted at {}, host / on Z: (ready)",
            canon.display()
        )
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

/// The substitute name `\??\...` of a link's reparse buffer, as UTF-16LE bytes to look for.
fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn reparse_data(p: &Path) -> Vec<u8> {
    xattr::get(p, "system.ntfs_reparse_data")
        .unwrap()
        .unwrap_or_else(|| panic!("{}: no reparse data", p.display()))
}

/// `Z:\a\b` for a host path `/a/b`.
fn on_z(p: &Path) -> String {
    format!("Z:{}", p.to_str().unwrap().replace('/', "\\"))
}

/// FILE_ATTRIBUTE_DIRECTORY of a link (system.ntfs_attrib, little-endian u32).
fn is_directory_link(p: &Path) -> bool {
    let a = xattr::get(p, "system.ntfs_attrib").unwrap().unwrap();
    u32::from_le_bytes(a[..4].try_into().unwrap()) & 0x10 != 0
}

/// Issue 13 item 1: by default an absolute host target makes an NTFS symbolic link to the
/// host root's letter Z:, which reads back as the path given, is followed by the kernel, is a
/// directory link when the target is a directory, and is stored as Windows stores a link
/// to `Z:\...` (what `fsutil reparsepoint query` shows on Windows).
#[test]
fn absolute_host_targets_become_links_on_z_by_default() {
    let dir = TempDir::new();
    let host = TempDir::new();
    let host_c = host.path().canonicalize().unwrap();
    std::fs::write(host_c.join("h.txt"), b"from the host").unwrap();
    std::fs::create_dir(host_c.join("sub")).unwrap();
    std::fs::write(host_c.join("sub").join("in.txt"), b"inside").unwrap();
    let (child, _, _out) = start(dir.path(), &[]);
    let m = dir.path();

    let file = host_c.join("h.txt");
    std::os::unix::fs::symlink(&file, m.join("l")).unwrap();
    assert_eq!(std::fs::read_link(m.join("l")).unwrap(), file);
    assert_eq!(std::fs::read(m.join("L")).unwrap(), b"from the host");
    assert!(!is_directory_link(&m.join("l")));
    let buf = reparse_data(&m.join("l"));
    assert_eq!(
        &buf[..4],
        &0xA000_000Cu32.to_le_bytes(),
        "IO_REPARSE_TAG_SYMLINK"
    );
    let z = on_z(&file);
    let sub_name = utf16le(&format!(r"\??\{z}"));
    assert!(
        buf.windows(sub_name.len()).any(|w| w == sub_name),
        "{buf:02x?}"
    );
    let out = Command::new(BIN)
        .args(["fsutil", "reparsepoint", "query"])
        .arg(m.join("l"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(r"Substitute Name:       \??\{z}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("Print Name:            {z}")),
        "{text}"
    );
    assert!(
        text.contains("Flags:                 0x0 (absolute)"),
        "{text}"
    );

    // A directory: a directory link, and the kernel walks through it.
    std::os::unix::fs::symlink(host_c.join("sub"), m.join("d")).unwrap();
    assert!(is_directory_link(&m.join("d")));
    assert_eq!(std::fs::read(m.join("d/in.txt")).unwrap(), b"inside");
    // A missing target: a dangling file link, still read back as given.
    let missing = host_c.join("missing");
    std::os::unix::fs::symlink(&missing, m.join("gone")).unwrap();
    assert_eq!(std::fs::read_link(m.join("gone")).unwrap(), missing);
    assert!(!is_directory_link(&m.join("gone")));
    // The host root itself.
    std::os::unix::fs::symlink("/", m.join("root")).unwrap();
    assert_eq!(std::fs::read_link(m.join("root")).unwrap(), Path::new("/"));
    // Issue 14 item 4 still holds: MOUNT/../x names the host's x beside the mount point.
    let canon = m.canonicalize().unwrap();
    let beside = format!("{}/../x", canon.display());
    std::os::unix::fs::symlink(&beside, m.join("beside")).unwrap();
    assert_eq!(
        std::fs::read_link(m.join("beside")).unwrap(),
        canon.parent().unwrap().join("x")
    );
    // Targets inside the drive stay on its own letter.
    std::fs::create_dir(m.join("own")).unwrap();
    std::os::unix::fs::symlink(canon.join("own"), m.join("ownlink")).unwrap();
    let own = utf16le(r"\??\C:\own");
    assert!(reparse_data(&m.join("ownlink"))
        .windows(own.len())
        .any(|w| w == own));

    // `ntlinkfs dump` keeps the link and its Windows target.
    let out = Command::new(BIN).arg("dump").arg(m).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(
        toml.contains(&format!("[[symlink]]\npath = \"l\"\ntarget = '{z}'")),
        "{toml}"
    );
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
}

/// Issue 13 item 1: an image keeps host links; they read back the same after a remount.
#[test]
fn images_keep_host_links() {
    let dir = TempDir::new();
    let mnt = dir.path().join("m");
    std::fs::create_dir(&mnt).unwrap();
    let img = dir.path().join("drive.img");
    let img_s = img.to_str().unwrap();
    let (child, _, _out) = start(&mnt, &["--image", img_s]);
    std::os::unix::fs::symlink("/etc/hostname", mnt.join("h")).unwrap();
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
    let (child, _, _out) = start(&mnt, &["--image", img_s]);
    assert_eq!(
        std::fs::read_link(mnt.join("h")).unwrap(),
        Path::new("/etc/hostname")
    );
    assert_eq!(
        std::fs::read(mnt.join("h")).unwrap(),
        std::fs::read("/etc/hostname").unwrap()
    );
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
    // The dump of the image names the link's Windows target.
    let out = Command::new(BIN).arg("dump").arg(&img).output().unwrap();
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(toml.contains(r"target = 'Z:\etc\hostname'"), "{toml}");
}

/// `--no-host-links` keeps the refusal (EPERM) and says nothing of a host letter.
#[test]
fn no_host_links_refuses_host_targets_with_eperm() {
    let dir = TempDir::new();
    let (child, line, _out) = start(dir.path(), &["--no-host-links"]);
    let canon = dir.path().canonicalize().unwrap();
    assert_eq!(
        line.trim_end(),
        format!("ntlinkfs: drive C: mounted at {} (ready)", canon.display())
    );
    let e = std::os::unix::fs::symlink("/etc/hostname", dir.path().join("l")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
    assert!(!dir.path().join("l").exists());
    // Inside the drive and relative targets still work.
    std::os::unix::fs::symlink(canon.join("x"), dir.path().join("in")).unwrap();
    std::os::unix::fs::symlink("x", dir.path().join("rel")).unwrap();
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
}

/// The host root's letter can be chosen, and may not collide with the drive's own letter or
/// another mapping.
#[test]
fn the_host_letter_is_chosen_and_collisions_are_refused() {
    let dir = TempDir::new();
    let m = dir.path().to_str().unwrap();
    let err = run_failing(&["mount", m, "--drive-letter", "Z"]);
    assert!(err.contains("--host-drive"), "{err}");
    let err = run_failing(&["mount", m, "--map-drive", "Z=/srv"]);
    assert!(err.contains("--map-drive Z=/srv"), "{err}");
    // A fixture bringing the host root's letter as its own is refused the same way.
    let fx = dir.path().with_extension("toml");
    std::fs::write(&fx, "[volume]\ndrive_letter = \"Z\"\n").unwrap();
    let err = run_failing(&["mount", m, "--fixture", fx.to_str().unwrap()]);
    assert!(err.contains("--host-drive"), "{err}");
    assert!(!is_mounted(dir.path()));
    std::fs::remove_file(&fx).unwrap();
    let (child, line, _out) = start(dir.path(), &["--drive-letter", "Z", "--host-drive", "H"]);
    assert!(line.contains(", host / on H: (ready)"), "{line}");
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("l")).unwrap();
    let want = utf16le(r"\??\H:\etc\hostname");
    assert!(reparse_data(&dir.path().join("l"))
        .windows(want.len())
        .any(|w| w == want));
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
}

fn need(program: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "this test runs {program}: install it (scripts/install-deps.sh, or apt-get install {package})"
    );
}

#[track_caller]
fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Issue 13 item 1: a pnpm 10 store (`store/v10/projects/<hash>` → the absolute project
/// directory) and a hard-linked package file restore onto the drive with `rsync -aH`,
/// `tar xf` and `cp -a`: every link reads back as it was, hard links stay one file.
#[test]
fn rsync_tar_and_cp_restore_trees_with_absolute_links() {
    need("rsync", "rsync");
    need("tar", "tar");
    let dir = TempDir::new();
    let work = TempDir::new();
    let w = work.path().canonicalize().unwrap();
    let project = w.join("project");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("package.json"), b"{}").unwrap();
    let src = w.join("src");
    std::fs::create_dir_all(src.join("store/v10/projects")).unwrap();
    std::fs::create_dir_all(src.join("store/v10/files/ab")).unwrap();
    std::fs::write(src.join("store/v10/files/ab/cdef"), b"module.exports=1").unwrap();
    std::fs::create_dir_all(src.join("node_modules/pkg")).unwrap();
    std::fs::hard_link(
        src.join("store/v10/files/ab/cdef"),
        src.join("node_modules/pkg/index.js"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&project, src.join("store/v10/projects/3f2a9c")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", src.join("hostname")).unwrap();
    std::os::unix::fs::symlink("../store", src.join("node_modules/rel")).unwrap();
    let tarball = w.join("t.tar");
    run_ok(
        Command::new("tar")
            .arg("cf")
            .arg(&tarball)
            .arg("-C")
            .arg(&src)
            .arg("."),
    );

    let (child, _, _out) = start(dir.path(), &[]);
    let m = dir.path();
    for d in ["r", "t"] {
        std::fs::create_dir(m.join(d)).unwrap();
    }
    run_ok(
        Command::new("rsync")
            .arg("-aH")
            .arg(format!("{}/", src.display()))
            .arg(format!("{}/", m.join("r").display())),
    );
    run_ok(
        Command::new("tar")
            .arg("xf")
            .arg(&tarball)
            .arg("-C")
            .arg(m.join("t")),
    );
    run_ok(Command::new("cp").arg("-a").arg(&src).arg(m.join("c")));
    use std::os::unix::fs::MetadataExt;
    for d in ["r", "t", "c"] {
        let t = m.join(d);
        let link = t.join("store/v10/projects/3f2a9c");
        assert_eq!(std::fs::read_link(&link).unwrap(), project, "{d}");
        assert!(is_directory_link(&link), "{d}: a directory link");
        assert_eq!(std::fs::read(link.join("package.json")).unwrap(), b"{}");
        assert_eq!(
            std::fs::read_link(t.join("hostname")).unwrap(),
            Path::new("/etc/hostname"),
            "{d}"
        );
        assert_eq!(
            std::fs::read_link(t.join("node_modules/rel")).unwrap(),
            Path::new("../store"),
            "{d}"
        );
        let a = std::fs::metadata(t.join("store/v10/files/ab/cdef")).unwrap();
        let b = std::fs::metadata(t.join("node_modules/pkg/index.js")).unwrap();
        assert_eq!(
            (a.ino(), a.nlink()),
            (b.ino(), 2),
            "{d}: one file, two names"
        );
    }
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
}

/// Issue 13 item 1: `python3 -m venv` on the drive symlinks its interpreter (an absolute host
/// path) and the environment runs.
#[test]
fn python_venv_on_the_drive() {
    need("python3", "python3 python3-venv");
    let dir = TempDir::new();
    let (child, _, _out) = start(dir.path(), &[]);
    let venv = dir.path().canonicalize().unwrap().join("venv");
    run_ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    let python = venv.join("bin/python");
    // venv links one of bin/python, python3 to the interpreter's absolute host path and the
    // others to that one (which one depends on the Python version).
    let absolute: Vec<_> = ["python", "python3"]
        .iter()
        .filter_map(|n| std::fs::read_link(venv.join("bin").join(n)).ok())
        .filter(|t| t.is_absolute())
        .collect();
    assert_eq!(absolute.len(), 1, "{absolute:?}");
    assert!(
        !absolute[0].starts_with(&venv),
        "the host's interpreter: {absolute:?}"
    );
    assert!(std::fs::metadata(&absolute[0]).unwrap().is_file());
    let prefix = run_ok(Command::new(&python).args(["-c", "import sys; print(sys.prefix)"]));
    assert_eq!(Path::new(prefix.trim_end()), venv);
    let pip = run_ok(Command::new(venv.join("bin/python")).args(["-m", "pip", "--version"]));
    assert!(pip.contains(venv.to_str().unwrap()), "{pip}");
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
}

/// Issue 13 item 6: a non-empty mount point is refused with one line that says why; with
/// `--nonempty` it mounts, hiding the files until the unmount.
#[test]
fn non_empty_mount_point_is_refused_unless_nonempty() {
    let dir = TempDir::new();
    std::fs::write(dir.path().join("mine.txt"), b"mine").unwrap();
    let err = run_failing(&["mount", dir.path().to_str().unwrap()]);
    assert!(
        err.contains("not empty") && err.contains("--nonempty"),
        "{err}"
    );
    assert!(!is_mounted(dir.path()));
    let (child, _, _out) = start(dir.path(), &["--nonempty"]);
    assert!(
        !dir.path().join("mine.txt").exists(),
        "hidden while mounted"
    );
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
    assert_eq!(std::fs::read(dir.path().join("mine.txt")).unwrap(), b"mine");
}

/// Issue 13 item 3: bad sizes and cluster sizes are refused with one clear line.
#[test]
fn bad_size_and_cluster_size_are_refused() {
    let dir = TempDir::new();
    let d = dir.path().to_str().unwrap();
    // The argument parser's refusal: its first line names the value and says why.
    let refused = |args: &[&str]| -> String {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("panicked"), "{err}");
        err.lines().next().unwrap_or_default().to_string()
    };
    for bad in ["2X", "", "-1", "G", "1.5G", "0", "99999999999T"] {
        let first = refused(&["mount", d, &format!("--size={bad}")]);
        assert!(
            first.contains("--size") && first.contains("size"),
            "--size {bad:?}: {first}"
        );
    }
    for bad in ["1000", "2048", "128K"] {
        let first = refused(&["mount", d, "--cluster-size", bad]);
        assert!(
            first.contains("cluster size"),
            "--cluster-size {bad}: {first}"
        );
    }
    assert!(!is_mounted(dir.path()));
}

/// `--keep-freed-data-mib` past what a byte count can hold is one line and nothing mounted
/// (not a wrapped limit); a word is the argument parser's refusal.
#[test]
fn bad_keep_freed_data_is_refused() {
    let dir = TempDir::new();
    let d = dir.path().to_str().unwrap();
    let huge = usize::MAX.to_string();
    let err = run_failing(&["mount", d, "--keep-freed-data-mib", &huge]);
    assert!(
        err.contains("--keep-freed-data-mib") && err.contains("too large"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["mount", d, "--keep-freed-data-mib", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!is_mounted(dir.path()));
}

fn statvfs(p: &Path) -> libc::statvfs {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid path and a zeroed struct to fill.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    s
}

/// Issue 13 item 3: `--size 8M` is what df shows; writing past it is ENOSPC with the data
/// before it kept; an image larger than a later `--size` is refused with a clear line.
#[test]
fn size_is_reported_and_enforced_and_images_must_fit() {
    let dir = TempDir::new();
    let mnt = dir.path().join("m");
    std::fs::create_dir(&mnt).unwrap();
    let img = dir.path().join("drive.img");
    let img_s = img.to_str().unwrap();
    let (child, _, _out) = start(&mnt, &["--size", "8M", "--image", img_s]);
    let s = statvfs(&mnt);
    assert_eq!((s.f_frsize, s.f_blocks), (4096, 2048));
    let out = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "count=200"])
        .arg(format!("of={}", mnt.join("big").display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No space left on device"), "{err}");
    let len = std::fs::metadata(mnt.join("big")).unwrap().len();
    assert!(len > 7 << 20 && len <= 8 << 20, "{len}");
    assert!(statvfs(&mnt).f_bfree < 16);
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));

    let err = run_failing(&[
        "mount",
        mnt.to_str().unwrap(),
        "--size",
        "4M",
        "--image",
        img_s,
    ]);
    assert!(err.contains("--size") && err.contains("bytes"), "{err}");
    assert!(!is_mounted(&mnt));
    // At its size it loads again, the data intact.
    let (child, _, _out) = start(&mnt, &["--size", "8M", "--image", img_s]);
    assert_eq!(std::fs::metadata(mnt.join("big")).unwrap().len(), len);
    signal(&child, libc::SIGTERM);
    assert_eq!(wait_exit(child).code(), Some(0));
}
