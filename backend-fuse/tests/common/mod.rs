//! Shared helpers: a real FUSE mount of a fresh volume in a temporary directory.
#![allow(dead_code)]

use backend_fuse::{MountHandle, MountOptions};
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vfs_core::{Volume, VolumeOptions};

/// A mounted volume; unmounts on drop and then checks the engine's invariants and that the
/// session released every handle and pin.
pub struct Mounted {
    pub vol: Arc<Volume>,
    handle: Option<MountHandle>,
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
}

fn require_fuse() {
    assert!(
        Path::new("/dev/fuse").exists(),
        "these tests mount for real: /dev/fuse is missing (install fuse3: apt-get install fuse3, \
         and load the fuse module)"
    );
}

impl Mounted {
    pub fn new() -> Mounted {
        Mounted::with(VolumeOptions::default(), MountOptions::default())
    }

    pub fn with_volume(vo: VolumeOptions) -> Mounted {
        Mounted::with(vo, MountOptions::default())
    }

    pub fn with(vo: VolumeOptions, mut mo: MountOptions) -> Mounted {
        // The whole suite once more without passthrough (scripts/test.sh runs it so).
        if std::env::var_os("NTLINKFS_TEST_NO_PASSTHROUGH").is_some() {
            mo.passthrough = false;
        }
        // With a fixed number of serving threads (NTLINKFS_TEST_THREADS=2: the width of
        // `MountOptions::widen_when_idle` on an idle machine), for every mount with the
        // default options. Not in scripts/test.sh yet: case_rename.rs
        // `other_threads_always_find_the_file_while_it_is_recased` can fail with two.
        if let Some(n) = std::env::var("NTLINKFS_TEST_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
        {
            if mo == MountOptions::default() {
                mo.threads = n.max(1);
            }
        }
        Mounted::with_exactly(vo, mo)
    }

    /// A mount with passthrough asked for, whatever the environment says.
    pub fn with_passthrough(vo: VolumeOptions, mo: MountOptions) -> Mounted {
        Mounted::with_exactly(
            vo,
            MountOptions {
                passthrough: true,
                ..mo
            },
        )
    }

    fn with_exactly(vo: VolumeOptions, mo: MountOptions) -> Mounted {
        require_fuse();
        let dir = tempfile::Builder::new()
            .prefix("ntlinkfs-test-")
            .tempdir()
            .expect("temp dir");
        let vol = Arc::new(Volume::new(vo));
        let handle = backend_fuse::mount(vol.clone(), dir.path(), &mo)
            .unwrap_or_else(|e| panic!("mount failed: {e}"));
        let root = handle.mountpoint().to_path_buf();
        Mounted {
            vol,
            handle: Some(handle),
            dir: Some(dir),
            root,
        }
    }

    /// The mount point.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path inside the mount.
    pub fn p(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The engine's invariants hold, as read through the mount's control attribute
    /// `user.ntlinkfs.check` (which answers `ok` or the violations).
    pub fn assert_check_ok(&self) {
        let got = xattr::get(self.root(), "user.ntlinkfs.check")
            .expect("reading user.ntlinkfs.check")
            .expect("user.ntlinkfs.check answers");
        assert_eq!(got, b"ok", "{}", String::from_utf8_lossy(&got));
    }

    /// The mount handle.
    pub fn handle(&self) -> &MountHandle {
        self.handle.as_ref().expect("mounted")
    }

    /// `MountHandle::sync` once every file the test opened is closed, then waits (5 s at
    /// most) until the engine holds no handle and nothing is lent to passthrough opens. The
    /// wait is for the test harness: a process another test spawns at that moment holds a
    /// copy of every descriptor of this process between its fork and its exec, so the kernel
    /// sends the RELEASE only once that child has exec'd, which may be after the sync has
    /// found nothing in flight (seen as a SharingViolation reading the engine, and a file
    /// still lent).
    pub fn sync_released(&self) {
        self.handle().sync().unwrap();
        let t = std::time::Instant::now();
        while (self.handle().lent_files() > 0 || self.vol.open_handle_count() > 0)
            && t.elapsed() < std::time::Duration::from_secs(5)
        {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// Unmounts now and checks the volume.
    pub fn finish(mut self) {
        self.unmount_and_check();
    }

    fn unmount_and_check(&mut self) {
        if let Some(h) = self.handle.take() {
            let r = h.unmount();
            // A test that aborted its own connection (`abort_connection`, to fail instead of
            // hanging) ends the session without an unmount: the kernel keeps the mount in the
            // namespace, dead ("Transport endpoint is not connected"), and the temporary
            // directory under it could not be removed. This mount point is ours: detached.
            let aborted = detach_if_dead(&self.root);
            if !std::thread::panicking() {
                r.expect("unmount");
                self.vol.check().expect("volume consistent after unmount");
                // An aborted connection answers nothing more, so the kernel's handles are
                // never released; only a clean end must have released them all.
                if !aborted {
                    assert_eq!(self.vol.open_handle_count(), 0, "handles leaked");
                }
            }
        }
        if let Some(d) = self.dir.take() {
            let _ = d.close();
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.unmount_and_check();
    }
}

/// Is `path` a mount point in this process's mount namespace (/proc/self/mountinfo, field 5;
/// the kernel writes a space in it as `\040`, which a test's temporary path never has)?
pub fn is_mount_point(path: &Path) -> bool {
    let want = path.as_os_str().as_bytes();
    std::fs::read("/proc/self/mountinfo")
        .expect("/proc/self/mountinfo")
        .split(|&b| b == b'\n')
        .any(|line| line.split(|&b| b == b' ').nth(4) == Some(want))
}

/// After the session of the mount at `path` ended: if the mount is still there (the
/// connection was aborted, so nothing unmounted it), detaches it (umount2 MNT_DETACH: a
/// dead FUSE mount answers ENOTCONN to everything, so only a lazy unmount is sure to go).
/// True when it had to.
pub fn detach_if_dead(path: &Path) -> bool {
    if !is_mount_point(path) {
        return false;
    }
    let c = cstr(path);
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
        eprintln!(
            "could not detach the dead mount {}: {}",
            path.display(),
            io::Error::last_os_error()
        );
    }
    true
}

/// Aborts this test's own FUSE connection (so that a hung request fails the test instead of
/// hanging the test process: its own thread would wait for a reply its own dead daemon never
/// sends, and the process could not exit): /sys/fs/fuse/connections/DEV/abort, DEV being the
/// mount's device number. The fusectl file system is mounted there first if it is not.
pub fn abort_connection(dev: u64) {
    let p = format!("/sys/fs/fuse/connections/{dev}/abort");
    if !Path::new(&p).exists() {
        let _ = std::process::Command::new("mount")
            .args(["-t", "fusectl", "fusectl", "/sys/fs/fuse/connections"])
            .status();
    }
    if let Err(e) = std::fs::write(&p, b"1") {
        eprintln!("could not abort the hung mount through {p}: {e}");
    }
}

/// The errno of an io::Error (panics if it has none).
pub fn errno(e: &io::Error) -> i32 {
    e.raw_os_error()
        .unwrap_or_else(|| panic!("no errno in {e:?}"))
}

/// Asserts that a result failed with `code`.
#[track_caller]
pub fn assert_errno<T: std::fmt::Debug>(r: io::Result<T>, code: i32) {
    match r {
        Ok(v) => panic!("expected errno {code}, got Ok({v:?})"),
        Err(e) => assert_eq!(errno(&e), code, "{e}"),
    }
}

pub fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// lstat(2), as a raw struct.
pub fn lstat(p: &Path) -> io::Result<libc::stat> {
    let c = cstr(p);
    // SAFETY: a valid path and a zeroed struct to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::lstat(c.as_ptr(), &mut st) } == 0 {
        Ok(st)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// renameat2(2) with flags.
pub fn rename2(from: &Path, to: &Path, flags: u32) -> io::Result<()> {
    let (a, b) = (cstr(from), cstr(to));
    // SAFETY: valid paths; renameat2 via syscall (glibc wrappers vary).
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            flags,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The UTF-16 units of a string (the engine's one helper).
pub use vfs_core::wtf16::wide as w;

/// A junction buffer as `mklink /J` writes it for `target` (`C:\dir`).
pub fn junction(target: &str) -> Vec<u8> {
    vfs_core::reparse::junction_for_target(&w(target), 'C')
        .unwrap()
        .into_bytes()
}

/// A symbolic link buffer as CreateSymbolicLinkW writes it.
pub fn symlink_buf(target: &str) -> Vec<u8> {
    vfs_core::reparse::symlink_for_target(&w(target), 'C')
        .unwrap()
        .into_bytes()
}

/// FILE_ATTRIBUTE_* through ntfs-3g's xattr.
pub fn ntfs_attrib(p: &Path) -> u32 {
    let v = xattr::get(p, "system.ntfs_attrib")
        .unwrap()
        .expect("ntfs_attrib");
    u32::from_le_bytes(v[..4].try_into().unwrap())
}

pub const REPARSE: &str = "system.ntfs_reparse_data";

/// The unprivileged user the tests play (no account needed: ids are only numbers to the
/// kernel).
pub const NOBODY: u32 = 65534;

/// Runs `args` as user `uid` (group `uid`, no supplementary groups, no capabilities) with
/// `setpriv` (util-linux); (success, stderr).
pub fn as_user<S: AsRef<std::ffi::OsStr>>(uid: u32, args: &[S]) -> (bool, String) {
    need("setpriv", "util-linux");
    let id = uid.to_string();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid", &id, "--regid", &id, "--clear-groups", "--"])
        .args(args)
        .output()
        .expect("run setpriv");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Fails with what to install when `program` is not on PATH (mount tests never skip).
pub fn need(program: &str, package: &str) {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{program} is missing: install {package} (apt-get install {package})"
    );
}
