//! `ntlinkfs mklink`, `fsutil`, `attrib` and `du`, run as a user runs them, on three file
//! systems mounted for real: an ntlinkfs mount (the binary's own `mount`), real NTFS through
//! ntfs-3g (a fresh mkntfs image), and tmpfs (no NTFS metadata: the refusals).
//!
//! The expected reparse buffers come from the engine's codec (the same builders the commands
//! use), and the expected names and link counts from the file system itself (stat), so
//! these tests check what the commands did on the volume, not only what they printed.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ntlinkfs");

/// A fresh directory under the system temp dir.
fn fresh_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let p = std::env::temp_dir().join(format!(
        "ntlinkfs-wincmd-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn tool(name: &str, hint: &str) -> PathBuf {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("these tests mount for real: {name} is missing ({hint})");
}

fn must(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fs {
    Ntlinkfs,
    Ntfs3g,
    Tmpfs,
}

/// A mounted file system, unmounted and removed on drop.
struct Mount {
    fs: Fs,
    base: PathBuf,
    dir: PathBuf,
    child: Option<Child>,
    /// The ntfs-3g image and mount (host's one image maker); unmounted when dropped.
    ntfs3g: Option<host::Ntfs3gImage>,
}

impl Mount {
    fn new(fs: Fs) -> Mount {
        let base = fresh_dir(match fs {
            Fs::Ntlinkfs => "ntlinkfs",
            Fs::Ntfs3g => "ntfs3g",
            Fs::Tmpfs => "tmpfs",
        });
        let dir = base.join("mnt");
        std::fs::create_dir(&dir).unwrap();
        let mut child = None;
        let mut ntfs3g = None;
        match fs {
            Fs::Ntlinkfs => {
                assert!(
                    Path::new("/dev/fuse").exists(),
                    "these tests mount for real: /dev/fuse is missing (apt-get install fuse3)"
                );
                let mut c = Command::new(BIN)
                    .arg("mount")
                    .arg(&dir)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut out = BufReader::new(c.stdout.take().unwrap());
                let mut line = String::new();
                out.read_line(&mut line).unwrap();
                if !line.contains("(ready)") {
                    let mut err = String::new();
                    let _ = c.stderr.take().unwrap().read_to_string(&mut err);
                    panic!("ntlinkfs mount did not get ready: {line}{err}");
                }
                child = Some(c);
            }
            Fs::Ntfs3g => {
                ntfs3g = Some(
                    host::Ntfs3gImage::create_mounted(&host::ntfs3g::ImageOptions {
                        size: 64 << 20,
                        image: Some(base.join("ntfs.img")),
                        mount_point: Some(dir.clone()),
                        ..Default::default()
                    })
                    .unwrap_or_else(|e| panic!("ntfs-3g mount: {e}")),
                );
            }
            Fs::Tmpfs => {
                must(
                    Command::new("mount")
                        .args(["-t", "tmpfs", "tmpfs"])
                        .arg(&dir),
                );
            }
        }
        Mount {
            fs,
            base,
            dir,
            child,
            ntfs3g,
        }
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Runs `ntlinkfs ARGS` with the mount as the current directory: (exit code, stdout,
    /// stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run_in(&self.dir, args)
    }
}

fn run_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let code = out.status.code().expect("exited, not killed by a signal");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    (code, String::from_utf8(out.stdout).unwrap(), err)
}

impl Drop for Mount {
    fn drop(&mut self) {
        match self.child.take() {
            Some(mut c) => {
                // SAFETY: signalling our own child by its pid.
                unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
                let _ = c.wait();
            }
            None if self.ntfs3g.is_some() => drop(self.ntfs3g.take()),
            None => {
                let _ = Command::new("umount").arg(&self.dir).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn reparse_of(p: &Path) -> Option<Vec<u8>> {
    xattr::get(p, "system.ntfs_reparse_data").unwrap()
}

fn attrib_of(p: &Path) -> u32 {
    let v = xattr::get(p, "system.ntfs_attrib").unwrap().unwrap();
    u32::from_le_bytes(v.try_into().unwrap())
}

use vfs_core::wtf16::wide as w;

fn junction_buffer(target: &str) -> Vec<u8> {
    vfs_core::reparse::junction_for_target(&w(target), 'C')
        .unwrap()
        .into_bytes()
}

fn symlink_buffer(target: &str) -> Vec<u8> {
    vfs_core::reparse::symlink_for_target(&w(target), 'C')
        .unwrap()
        .into_bytes()
}

/// Waits until `p` can be looked up (ntfs-3g answers the first lookup after a file changes
/// type with EIO once; the commands spend that failure themselves, this only guards the
/// test's own stat against a slow kernel).
fn lstat(p: &Path) -> std::fs::Metadata {
    for _ in 0..50 {
        if let Ok(m) = std::fs::symlink_metadata(p) {
            return m;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::symlink_metadata(p).unwrap()
}

/// store\Readme.txt holding "hi\n".
fn seed(m: &Mount) {
    std::fs::create_dir(m.p("store")).unwrap();
    std::fs::write(m.p("store/Readme.txt"), b"hi\n").unwrap();
}

// ---------------------------------------------------------------------------------------
// mklink

fn mklink_on_ntfs(m: &Mount) {
    seed(m);
    // /H: a hard link, cmd's message with the names as typed.
    let (code, out, err) = m.run(&["mklink", "/H", "copy.txt", r"store\Readme.txt"]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "Hardlink created for copy.txt <<===>> store\\Readme.txt\n"
        ),
        "{err}"
    );
    assert_eq!(lstat(&m.p("copy.txt")).nlink(), 2);
    assert_eq!(
        lstat(&m.p("copy.txt")).ino(),
        lstat(&m.p("store/Readme.txt")).ino()
    );

    // /J with a drive-letter target: the buffer mklink /J writes.
    let (code, out, err) = m.run(&["mklink", "/J", "j", r"C:\store"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "Junction created for j <<===>> C:\\store\n"),
        "{err}"
    );
    assert_eq!(reparse_of(&m.p("j")).unwrap(), junction_buffer(r"C:\store"));

    // /J with a relative target, from a subdirectory: made absolute against the current
    // directory, as mklink /J does.
    std::fs::create_dir(m.p("proj")).unwrap();
    let (code, out, err) = run_in(&m.p("proj"), &["mklink", "/j", "lib", r"..\store"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "Junction created for lib <<===>> ..\\store\n"),
        "{err}"
    );
    assert_eq!(
        reparse_of(&m.p("proj/lib")).unwrap(),
        junction_buffer(r"C:\store")
    );

    // A Linux path into the mount is a path on the volume: C:\store.
    let abs = m.p("store").canonicalize().unwrap();
    let (code, _, err) = m.run(&["mklink", "/J", "j4", abs.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        reparse_of(&m.p("j4")).unwrap(),
        junction_buffer(r"C:\store")
    );
    // A drive-letter hard link target on this volume, and one on another drive.
    let (code, out, err) = m.run(&["mklink", "/H", "copy2.txt", r"C:\store\Readme.txt"]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "Hardlink created for copy2.txt <<===>> C:\\store\\Readme.txt\n"
        ),
        "{err}"
    );
    assert_eq!(lstat(&m.p("copy2.txt")).nlink(), 3);
    let (code, _, err) = m.run(&["mklink", "/H", "copy3.txt", r"D:\store\Readme.txt"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next(),
        Some("The system cannot move the file to a different disk drive."),
        "{err}"
    );

    // /D and no switch: directory and file symbolic links, relative targets kept.
    let (code, out, _) = m.run(&["mklink", "/D", "dlink", "store"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "symbolic link created for dlink <<===>> store\n")
    );
    assert_eq!(reparse_of(&m.p("dlink")).unwrap(), symlink_buffer("store"));
    let (code, out, _) = m.run(&["mklink", "flink", "store/Readme.txt"]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "symbolic link created for flink <<===>> store/Readme.txt\n"
        )
    );
    assert_eq!(
        reparse_of(&m.p("flink")).unwrap(),
        symlink_buffer(r"store\Readme.txt")
    );
    // The kinds: a directory link is a directory in NTFS terms, a file link a file.
    let dir_bit = vfs_core::attrs::DIRECTORY;
    assert_ne!(attrib_of(&m.p("dlink")) & dir_bit, 0);
    assert_eq!(attrib_of(&m.p("flink")) & dir_bit, 0);

    // An existing LINK: cmd's message, exit 1, nothing changed.
    for args in [
        &["mklink", "/J", "j", r"C:\elsewhere"][..],
        &["mklink", "/H", "copy.txt", "store/Readme.txt"],
        &["mklink", "/D", "store", "proj"],
        &["mklink", "j", "proj"],
    ] {
        let (code, out, err) = m.run(args);
        assert_eq!(code, 1, "{args:?}");
        assert!(out.is_empty());
        assert_eq!(
            err.lines().next(),
            Some("Cannot create a file when that file already exists."),
            "{args:?}: {err}"
        );
        assert!(err.contains("STATUS_OBJECT_NAME_COLLISION"), "{err}");
    }
    assert_eq!(reparse_of(&m.p("j")).unwrap(), junction_buffer(r"C:\store"));

    // A missing directory on the way: cmd's message for it.
    let (code, _, err) = m.run(&["mklink", "/J", "no/such/j", r"C:\store"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next(),
        Some("The system cannot find the path specified.")
    );
    // A hard link to a directory: Access is denied, as on Windows.
    let (code, _, err) = m.run(&["mklink", "/H", "dirlink", "store"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().next(), Some("Access is denied."), "{err}");
    assert!(std::fs::symlink_metadata(m.p("dirlink")).is_err());
    // A junction to a UNC share is refused by the codec, and leaves nothing behind.
    let (code, _, err) = m.run(&["mklink", "/J", "unc", r"\\server\share"]);
    assert_eq!(code, 1);
    assert!(err.contains("STATUS_IO_REPARSE_DATA_INVALID"), "{err}");
    assert!(std::fs::symlink_metadata(m.p("unc")).is_err());
    // Bad syntax.
    let (code, _, err) = m.run(&["mklink", "/D", "/H", "a", "b"]);
    assert_eq!(
        (code, err.trim_end()),
        (1, "The syntax of the command is incorrect.")
    );
}

#[test]
fn mklink_on_ntlinkfs() {
    let m = Mount::new(Fs::Ntlinkfs);
    mklink_on_ntfs(&m);
    // Through the mount, the junction leads to the store (case-insensitively).
    assert_eq!(std::fs::read(m.p("J/README.TXT")).unwrap(), b"hi\n");
    assert_eq!(std::fs::read(m.p("proj/lib/readme.txt")).unwrap(), b"hi\n");
    assert_eq!(std::fs::read(m.p("flink")).unwrap(), b"hi\n");
    // The engine's own check after all of it.
    assert_eq!(
        xattr::get(&m.dir, "user.ntlinkfs.check").unwrap().unwrap(),
        b"ok"
    );
}

#[test]
fn mklink_on_ntfs3g() {
    let m = Mount::new(Fs::Ntfs3g);
    mklink_on_ntfs(&m);
    // ntfs-3g shows the junction as a symlink to the target on this mount.
    assert!(lstat(&m.p("j")).file_type().is_symlink());
}

#[test]
fn mklink_on_tmpfs_does_what_the_host_allows() {
    let m = Mount::new(Fs::Tmpfs);
    seed(&m);
    let (code, out, _) = m.run(&["mklink", "/H", "copy.txt", r"store\Readme.txt"]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "Hardlink created for copy.txt <<===>> store\\Readme.txt\n"
        )
    );
    assert_eq!(lstat(&m.p("copy.txt")).nlink(), 2);
    let (code, out, _) = m.run(&["mklink", "/D", "dlink", r"store"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "symbolic link created for dlink <<===>> store\n")
    );
    let (code, _, _) = m.run(&["mklink", "flink", r"store\Readme.txt"]);
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read_link(m.p("flink")).unwrap(),
        Path::new("store/Readme.txt")
    );
    assert_eq!(std::fs::read(m.p("flink")).unwrap(), b"hi\n");
    // /J: one line saying there are no NTFS reparse points, exit 1, nothing created.
    let (code, out, err) = m.run(&["mklink", "/J", "j", r"C:\store"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no NTFS reparse points or attributes"),
        "{err}"
    );
    assert!(std::fs::symlink_metadata(m.p("j")).is_err());
    // An existing LINK: the same message as on NTFS.
    let (code, _, err) = m.run(&["mklink", "/H", "copy.txt", "store/Readme.txt"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next(),
        Some("Cannot create a file when that file already exists.")
    );
}

// ---------------------------------------------------------------------------------------
// fsutil hardlink

fn lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort();
    v
}

fn fsutil_hardlink(m: &Mount) {
    seed(m);
    std::fs::create_dir(m.p("proj")).unwrap();
    let (code, out, err) = m.run(&[
        "fsutil",
        "hardlink",
        "create",
        r"proj\copy.txt",
        r"store\Readme.txt",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "Hardlink created for proj\\copy.txt <<===>> store\\Readme.txt\n"
        ),
        "{err}"
    );
    let (code, out, _) = m.run(&["fsutil", "hardlink", "create", "top.txt", "proj/copy.txt"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(lstat(&m.p("top.txt")).nlink(), 3);
    // Every name, volume-relative, from any of the names.
    for name in ["store/Readme.txt", "top.txt", r"proj\copy.txt"] {
        let (code, out, err) = m.run(&["fsutil", "hardlink", "list", name]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            lines(&out),
            [r"\proj\copy.txt", r"\store\Readme.txt", r"\top.txt"],
            "{name}"
        );
    }
    // From a subdirectory, and a file with one name.
    let (_, out, _) = run_in(&m.p("store"), &["fsutil", "hardlink", "list", "Readme.txt"]);
    assert_eq!(lines(&out).len(), 3);
    std::fs::write(m.p("single"), b"1").unwrap();
    let (_, out, _) = m.run(&["fsutil", "hardlink", "list", "single"]);
    assert_eq!(out, "\\single\n");
    // A symbolic link with two names (a hard link to the link itself, as CreateHardLinkW
    // makes): Linux gives symlinks no user.* attributes, so these names come from the walk.
    let (code, _, _) = m.run(&["mklink", "slink", "single"]);
    assert_eq!(code, 0);
    let (code, _, err) = m.run(&["mklink", "/H", r"proj\slink2", "slink"]);
    assert_eq!(code, 0, "{err}");
    assert!(lstat(&m.p("proj/slink2")).file_type().is_symlink());
    let (code, out, err) = m.run(&["fsutil", "hardlink", "list", "slink"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&out), [r"\proj\slink2", r"\slink"]);
    // Errors: fsutil's "Error:  " and the message, exit 1.
    let (code, _, err) = m.run(&["fsutil", "hardlink", "create", "top.txt", "single"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next(),
        Some("Error:  Cannot create a file when that file already exists.")
    );
    let (code, _, err) = m.run(&["fsutil", "hardlink", "list", "nothing"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next(),
        Some("Error:  The system cannot find the file specified.")
    );
    assert!(
        err.contains("nothing: STATUS_OBJECT_NAME_NOT_FOUND"),
        "{err}"
    );
    // Usage.
    let (code, out, _) = m.run(&["fsutil", "hardlink"]);
    assert_eq!(code, 1);
    assert!(out.contains("create") && out.contains("list"), "{out}");
}

#[test]
fn fsutil_hardlink_on_ntlinkfs() {
    fsutil_hardlink(&Mount::new(Fs::Ntlinkfs));
}

#[test]
fn fsutil_hardlink_on_ntfs3g() {
    fsutil_hardlink(&Mount::new(Fs::Ntfs3g));
}

#[test]
fn fsutil_hardlink_on_tmpfs() {
    fsutil_hardlink(&Mount::new(Fs::Tmpfs));
}

// ---------------------------------------------------------------------------------------
// fsutil reparsepoint

const JUNCTION_QUERY: &str = "\
Reparse Tag Value : 0xa0000003
Tag value: Microsoft
Tag value: Name Surrogate
Tag value: Mount Point
Substitue Name offset: 0
Substitue Name length: 24
Print Name offset:     26
Print Name Length:     16
Substitute Name:       \\??\\C:\\store
Print Name:            C:\\store

Reparse Data Length: 0x00000034
Reparse Data:
0000:  00 00 18 00 1a 00 10 00  5c 00 3f 00 3f 00 5c 00  ........\\.?.?.\\.
0010:  43 00 3a 00 5c 00 73 00  74 00 6f 00 72 00 65 00  C.:.\\.s.t.o.r.e.
0020:  00 00 43 00 3a 00 5c 00  73 00 74 00 6f 00 72 00  ..C.:.\\.s.t.o.r.
0030:  65 00 00 00                                       e...
";

fn fsutil_reparsepoint(m: &Mount) {
    seed(m);
    let (code, _, _) = m.run(&["mklink", "/J", "j", r"C:\store"]);
    assert_eq!(code, 0);
    let (code, out, err) = m.run(&["fsutil", "reparsepoint", "query", "j"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, JUNCTION_QUERY);
    let (code, _, _) = m.run(&["mklink", "rel", r"..\x"]);
    assert_eq!(code, 0);
    let (_, out, _) = m.run(&["fsutil", "reparsePoint", "query", "rel"]);
    assert!(out.starts_with("Reparse Tag Value : 0xa000000c\nTag value: Microsoft\nTag value: Name Surrogate\nTag value: Symbolic Link\n"), "{out}");
    assert!(out.contains("Substitute Name:       ..\\x\n"), "{out}");
    assert!(out.contains("Print Name:            ..\\x\n"), "{out}");
    assert!(
        out.contains("Flags:                 0x1 (relative)\n"),
        "{out}"
    );
    // A third-party tag set through the attribute: its GUID and data.
    std::fs::create_dir(m.p("other")).unwrap();
    let guid = [
        0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 1, 2, 3, 4, 5, 6, 7, 8,
    ];
    let buf =
        vfs_core::reparse::ReparseBuffer::other(0x0000_7777, Some(guid), b"ntlinkfs!").unwrap();
    xattr::set(m.p("other"), "system.ntfs_reparse_data", buf.as_bytes()).unwrap();
    let _ = std::fs::symlink_metadata(m.p("other"));
    let (code, out, err) = m.run(&["fsutil", "reparsepoint", "query", "other"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Reparse Tag Value : 0x00007777\n"), "{out}");
    assert!(
        out.contains("GUID : {44332211-6655-8877-0102-030405060708}\n"),
        "{out}"
    );
    assert!(out.contains("0000:  6e 74 6c 69 6e 6b 66 73  21"), "{out}");

    // delete: the junction becomes the empty directory it was made on.
    let (code, out, err) = m.run(&["fsutil", "reparsepoint", "delete", "j"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let md = lstat(&m.p("j"));
    assert!(md.is_dir());
    assert_eq!(std::fs::read_dir(m.p("j")).unwrap().count(), 0);
    assert_eq!(reparse_of(&m.p("j")), None);
    // The store is untouched.
    assert_eq!(std::fs::read(m.p("store/Readme.txt")).unwrap(), b"hi\n");
    // Not a reparse point (any more): fsutil's error, exit 1.
    for args in [
        &["fsutil", "reparsepoint", "query", "j"][..],
        &["fsutil", "reparsepoint", "delete", "j"],
        &["fsutil", "reparsepoint", "query", "store"],
    ] {
        let (code, out, err) = m.run(args);
        assert_eq!(code, 1, "{args:?}");
        assert!(out.is_empty());
        assert_eq!(
            err.lines().next(),
            Some("Error:  The file or directory is not a reparse point."),
            "{args:?}"
        );
        assert!(err.contains("STATUS_NOT_A_REPARSE_POINT"), "{err}");
    }
    let (code, _, err) = m.run(&["fsutil", "reparsepoint", "query", "missing"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next(),
        Some("Error:  The system cannot find the file specified.")
    );
}

#[test]
fn fsutil_reparsepoint_on_ntlinkfs() {
    fsutil_reparsepoint(&Mount::new(Fs::Ntlinkfs));
}

#[test]
fn fsutil_reparsepoint_on_ntfs3g() {
    fsutil_reparsepoint(&Mount::new(Fs::Ntfs3g));
}

#[test]
fn reparsepoint_and_attrib_refused_on_tmpfs() {
    let m = Mount::new(Fs::Tmpfs);
    seed(&m);
    for args in [
        &["fsutil", "reparsepoint", "query", "store"][..],
        &["fsutil", "reparsepoint", "delete", "store"],
        &["attrib", "store/Readme.txt"],
        &["attrib", "+R", "store/Readme.txt"],
    ] {
        let (code, out, err) = m.run(args);
        assert_eq!(code, 1, "{args:?}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.contains("no NTFS reparse points or attributes"),
            "{err}"
        );
        let at = format!(
            "the tmpfs file system mounted at {}",
            m.dir.canonicalize().unwrap().display()
        );
        assert!(err.contains(&at), "{err}");
    }
}

// ---------------------------------------------------------------------------------------
// attrib

fn attrib(m: &Mount) {
    use vfs_core::attrs::{ARCHIVE, HIDDEN, READONLY, SYSTEM};
    seed(m);
    let f = m.p("store/Readme.txt");
    let before = attrib_of(&f);
    assert_ne!(before & ARCHIVE, 0, "a new file has the archive attribute");
    let (code, out, _) = m.run(&["attrib", r"store\Readme.txt"]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            format!("A{}C:\\store\\Readme.txt\n", " ".repeat(20)).as_str()
        )
    );
    let (code, out, _) = m.run(&["attrib", "+r", "+H", "store/Readme.txt"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(
        attrib_of(&f) & (READONLY | HIDDEN | ARCHIVE),
        READONLY | HIDDEN | ARCHIVE
    );
    let (_, out, _) = m.run(&["attrib", "store/Readme.txt"]);
    assert_eq!(
        out,
        format!("A   HR{}C:\\store\\Readme.txt\n", " ".repeat(15))
    );
    // A hidden file keeps its other attributes unless H is named too.
    let (_, out, _) = m.run(&["attrib", "-A", "store/Readme.txt"]);
    assert_eq!(out, "Not resetting hidden file - C:\\store\\Readme.txt\n");
    assert_ne!(attrib_of(&f) & ARCHIVE, 0);
    let (code, _, _) = m.run(&["attrib", "-H", "-R", "-A", "+S", "store/Readme.txt"]);
    assert_eq!(code, 0);
    assert_eq!(
        attrib_of(&f) & (READONLY | HIDDEN | ARCHIVE | SYSTEM),
        SYSTEM
    );
    let (_, out, _) = m.run(&["attrib", "store/Readme.txt"]);
    assert_eq!(
        out,
        format!("   S{}C:\\store\\Readme.txt\n", " ".repeat(17))
    );
    let (code, _, _) = m.run(&["attrib", "+I", "-S", "store/Readme.txt"]);
    assert_eq!(code, 0);
    let (_, out, _) = m.run(&["attrib", "store/Readme.txt"]);
    assert_eq!(
        out,
        format!("        I{}C:\\store\\Readme.txt\n", " ".repeat(12))
    );
    let (code, _, _) = m.run(&["attrib", "-I", "+S", "store/Readme.txt"]);
    assert_eq!(code, 0);
    // Through a junction: the target, unless /L.
    let (code, _, _) = m.run(&["mklink", "/J", "j", r"C:\store"]);
    assert_eq!(code, 0);
    let j_before = attrib_of(&m.p("j"));
    let (code, _, err) = m.run(&["attrib", "+H", "j"]);
    assert_eq!(code, 0, "{err}");
    assert_ne!(attrib_of(&m.p("store")) & HIDDEN, 0);
    assert_eq!(attrib_of(&m.p("j")), j_before);
    let (code, _, _) = m.run(&["attrib", "/L", "+R", "j"]);
    assert_eq!(code, 0);
    assert_ne!(attrib_of(&m.p("j")) & READONLY, 0);
    assert_eq!(attrib_of(&m.p("store")) & READONLY, 0);
    // The directory and reparse bits are the file system's: still there.
    assert_ne!(attrib_of(&m.p("j")) & vfs_core::attrs::REPARSE_POINT, 0);
    assert_ne!(attrib_of(&m.p("store")) & vfs_core::attrs::DIRECTORY, 0);
    // Several paths, one missing: attrib's message, the others done, exit 1.
    let (code, out, err) = m.run(&["attrib", "nothere", "store"]);
    assert_eq!(code, 1);
    assert!(out.ends_with("C:\\store\n"), "{out}");
    assert_eq!(err.lines().next(), Some("File not found - nothere"));
    let (code, _, err) = m.run(&["attrib", "no/such/file"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.lines().next(),
        Some("Path not found - no/such/file"),
        "{err}"
    );
    let (code, _, err) = m.run(&["attrib", "+Q", "store"]);
    assert_eq!(
        (code, err.trim_end()),
        (1, "Parameter format not correct - +Q")
    );
}

#[test]
fn attrib_on_ntlinkfs() {
    attrib(&Mount::new(Fs::Ntlinkfs));
}

#[test]
fn attrib_on_ntfs3g() {
    attrib(&Mount::new(Fs::Ntfs3g));
}

// ---------------------------------------------------------------------------------------
// du

/// A pnpm-like tree: a store file with names in two projects and one outside the measured
/// tree, a plain file, a junction into the store.
fn du(m: &Mount) {
    std::fs::create_dir_all(m.p("tree/store")).unwrap();
    std::fs::create_dir_all(m.p("tree/p1/node_modules")).unwrap();
    std::fs::create_dir_all(m.p("tree/p2")).unwrap();
    std::fs::write(m.p("tree/store/big"), vec![7u8; 100_000]).unwrap();
    std::fs::write(m.p("tree/store/pair"), vec![1u8; 5000]).unwrap();
    std::fs::write(m.p("tree/p2/own"), vec![2u8; 1234]).unwrap();
    std::fs::hard_link(m.p("tree/store/big"), m.p("tree/p1/node_modules/big")).unwrap();
    std::fs::hard_link(m.p("tree/store/big"), m.p("tree/p2/big")).unwrap();
    std::fs::hard_link(m.p("tree/store/big"), m.p("outside-big")).unwrap();
    std::fs::hard_link(m.p("tree/store/pair"), m.p("tree/p2/pair")).unwrap();
    let junction = m.fs != Fs::Tmpfs;
    if junction {
        let (code, _, _) = m.run(&["mklink", "/J", r"tree\p1\j", r"C:\tree\store"]);
        assert_eq!(code, 0);
    }
    let (code, out, err) = m.run(&["du", "--json", "tree"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {out}"));
    let link_len = if junction {
        lstat(&m.p("tree/p1/j")).len()
    } else {
        0
    };
    let links = u64::from(junction);
    // store/big, store/pair, p1/node_modules/big, p2/big, p2/own, p2/pair (+ the junction).
    assert_eq!(n("names"), 6 + links);
    assert_eq!(n("files"), 3 + links);
    assert_eq!(
        n("apparent_bytes_all_names"),
        3 * 100_000 + 2 * 5000 + 1234 + link_len
    );
    assert_eq!(n("unique_bytes"), 100_000 + 5000 + 1234 + link_len);
    assert_eq!(n("shared_bytes"), 100_000 + 5000);
    assert_eq!(n("shared_outside_bytes"), 100_000);
    // Allocation: st_blocks * 512 of each file, as stat reports it.
    let alloc = |p: &str| lstat(&m.p(p)).blocks() * 512;
    let j_alloc = if junction { alloc("tree/p1/j") } else { 0 };
    assert_eq!(
        n("unique_bytes_allocated"),
        alloc("tree/store/big") + alloc("tree/store/pair") + alloc("tree/p2/own") + j_alloc
    );
    assert_eq!(
        n("apparent_bytes_all_names_allocated"),
        3 * alloc("tree/store/big") + 2 * alloc("tree/store/pair") + alloc("tree/p2/own") + j_alloc
    );
    assert_eq!(
        n("shared_bytes_allocated"),
        alloc("tree/store/big") + alloc("tree/store/pair")
    );
    assert_eq!(n("shared_outside_bytes_allocated"), alloc("tree/store/big"));
    // One project alone: its big file is shared outside it.
    let (_, out, _) = m.run(&["du", "--json", "tree/p2", "tree/store"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["shared_outside_bytes"], 105_000);
    assert_eq!(v[1]["path"], "tree/store");
    assert_eq!(v[1]["files"], 2);
    // The table.
    let (code, out, _) = m.run(&["du", "tree"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("tree\n"), "{out}");
    let row = |label: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("{label} in {out}"))
            .to_string()
    };
    assert!(row("each file once").contains(&(106_234 + link_len).to_string()));
    assert!(row("also named outside").contains("100000"));
    // No progress line when stderr is not a terminal.
    let (_, _, err) = m.run(&["du", "tree"]);
    assert!(err.is_empty(), "{err}");
    // A missing path: named, exit 1.
    let (code, _, err) = m.run(&["du", "nothere"]);
    assert_eq!(code, 1);
    assert!(err.contains("nothere"), "{err}");
}

#[test]
fn du_on_ntlinkfs() {
    du(&Mount::new(Fs::Ntlinkfs));
}

#[test]
fn du_on_ntfs3g() {
    du(&Mount::new(Fs::Ntfs3g));
}

#[test]
fn du_on_tmpfs() {
    du(&Mount::new(Fs::Tmpfs));
}

// ---------------------------------------------------------------------------------------
// --help

#[test]
fn each_command_names_its_windows_original() {
    for (cmd, original) in [
        ("mklink", "cmd.exe's built-in MKLINK"),
        ("fsutil", "fsutil.exe"),
        ("attrib", "attrib.exe"),
        ("du", "Windows has no du"),
    ] {
        let (code, out, _) = run_in(Path::new("/"), &[cmd, "--help"]);
        assert_eq!(code, 0, "{cmd}");
        assert!(out.contains(original), "{cmd} --help: {out}");
    }
    let (code, out, _) = run_in(Path::new("/"), &["mklink", "/?"]);
    assert_eq!(code, 0);
    assert!(out.contains("MKLINK"));
    let (_, out, _) = run_in(Path::new("/"), &["fsutil", "hardlink", "/?"]);
    assert!(out.contains("fsutil.exe"));
}

/// A large tree shows a progress line on stderr when it is a terminal (run under
/// `script`, which gives the command a pseudo-terminal), and the line is cleared at the end;
/// without a terminal nothing is printed on stderr (checked in `du` above).
#[test]
fn du_progress_line_on_a_terminal() {
    let m = Mount::new(Fs::Tmpfs);
    for d in 0..12 {
        let dir = m.p(&format!("big/{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..1000 {
            std::fs::write(dir.join(i.to_string()), b"x").unwrap();
        }
    }
    let script = tool("script", "apt-get install bsdutils");
    let out = Command::new(script)
        .args(["-qec", &format!("{BIN} du big"), "/dev/null"])
        .current_dir(&m.dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("big: 10240 names, 10240 files, 10.0 KiB so far"),
        "{text}"
    );
    // Erased before the table: the last progress draw is followed by a line clear.
    let table_at = text.find("big\r\n").expect("the table");
    assert!(
        text[..table_at].ends_with("\x1b[2K"),
        "{:?}",
        &text[..table_at]
    );
    assert!(text[table_at..].contains("12000"), "{text}");
}
