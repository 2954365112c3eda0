//! Setting up the filesystems the benchmark compares: a fresh tmpfs (or /dev/shm when mounting
//! is refused) and ntfs-3g on a fresh mkntfs image kept in that tmpfs (so ntfs-3g is measured,
//! not the disk). Everything set up here is unmounted and removed when dropped. Nothing is
//! installed: a missing ntfs-3g or mkntfs is an error that says what to install.

use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .with_context(|| format!("{} has a NUL byte", p.display()))
}

/// Finds a program in PATH or in the sbin directories (mkntfs lives in /usr/sbin).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Mounts a fresh tmpfs at `dir` (which must exist).
pub fn mount_tmpfs(dir: &Path) -> std::io::Result<()> {
    let target = cpath(dir).map_err(std::io::Error::other)?;
    // SAFETY: all strings are NUL-terminated; data is a C string of mount options.
    let rc = unsafe {
        libc::mount(
            c"ntlinkfs-bench".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            c"mode=0755".as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Unmounts `dir`: retries a busy mount for a while, then detaches it lazily.
pub fn unmount(dir: &Path) -> Result<()> {
    let target = cpath(dir)?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // SAFETY: target is NUL-terminated.
        if unsafe { libc::umount2(target.as_ptr(), 0) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EBUSY) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Some(libc::EBUSY) => {
                // SAFETY: as above.
                if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) } == 0 {
                    return Ok(());
                }
                bail!(
                    "unmounting {}: {}",
                    dir.display(),
                    std::io::Error::last_os_error()
                );
            }
            _ => bail!("unmounting {}: {e}", dir.display()),
        }
    }
}

/// Is `dir` a mount point (a device other than its parent's)?
pub fn is_mount_point(dir: &Path) -> bool {
    let parent = dir.parent().unwrap_or(Path::new("/"));
    match (std::fs::metadata(dir), std::fs::metadata(parent)) {
        (Ok(a), Ok(b)) => a.dev() != b.dev(),
        _ => false,
    }
}

/// Waits until `dir` answers a stat as a mount point (another device than its parent's).
pub fn wait_mounted(dir: &Path, parent_dev: u64, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(m) = std::fs::metadata(dir) {
            if m.dev() != parent_dev {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not become a mount point within {timeout:?}",
                dir.display()
            );
        }
        std::thread::yield_now();
    }
}

/// The scratch area: a fresh tmpfs holding the tmpfs target's directory and the ntfs-3g image,
/// plus empty directories for the other mount points.
#[derive(Debug)]
pub struct Scratch {
    pub base: PathBuf,
    /// Where the tmpfs lives (the tmpfs mount, or a directory in /dev/shm).
    pub tmpfs: PathBuf,
    tmpfs_mounted: bool,
    shm_dir: Option<PathBuf>,
    /// How the tmpfs was made, for the report.
    pub tmpfs_note: String,
}

impl Scratch {
    pub fn new(parent: Option<&Path>) -> Result<Scratch> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let base = parent.join(format!("ntlinkfs-bench-{}", std::process::id()));
        if base.exists() {
            bail!("{} exists already; remove it first", base.display());
        }
        std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
        let tmpfs = base.join("tmpfs");
        std::fs::create_dir(&tmpfs)?;
        let mut s = Scratch {
            base,
            tmpfs: tmpfs.clone(),
            tmpfs_mounted: false,
            shm_dir: None,
            tmpfs_note: String::new(),
        };
        match mount_tmpfs(&tmpfs) {
            Ok(()) => {
                s.tmpfs_mounted = true;
                s.tmpfs_note = format!("a fresh tmpfs mounted at {}", tmpfs.display());
            }
            Err(e) => {
                let shm = PathBuf::from(format!("/dev/shm/ntlinkfs-bench-{}", std::process::id()));
                std::fs::create_dir_all(&shm).with_context(|| {
                    format!(
                        "mount -t tmpfs failed ({e}) and {} cannot be created",
                        shm.display()
                    )
                })?;
                s.tmpfs_note = format!(
                    "mounting a tmpfs failed ({e}); using {} (the /dev/shm tmpfs) instead",
                    shm.display()
                );
                s.tmpfs = shm.clone();
                s.shm_dir = Some(shm);
            }
        }
        Ok(s)
    }

    /// A new empty directory under the scratch base (for a mount point).
    pub fn mount_dir(&self, name: &str) -> Result<PathBuf> {
        let d = self.base.join(name);
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        Ok(d)
    }

    /// Times mounting a fresh tmpfs until the mount point answers stat, `repeats` times.
    pub fn tmpfs_mount_times(&self, repeats: usize) -> Result<Vec<f64>> {
        let d = self.mount_dir("tmpfs-mount-time")?;
        let parent_dev = std::fs::metadata(&self.base)?.dev();
        let mut times = Vec::new();
        for _ in 0..repeats {
            let t = Instant::now();
            mount_tmpfs(&d).with_context(|| format!("mount -t tmpfs on {}", d.display()))?;
            wait_mounted(&d, parent_dev, Duration::from_secs(10))?;
            times.push(t.elapsed().as_secs_f64());
            unmount(&d)?;
        }
        std::fs::remove_dir(&d)?;
        Ok(times)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.tmpfs_mounted {
            let _ = unmount(&self.tmpfs);
        }
        if let Some(shm) = &self.shm_dir {
            let _ = std::fs::remove_dir_all(shm);
        }
        // Only empty directories are left here (mount points); never recurse into a mount.
        if let Ok(rd) = std::fs::read_dir(&self.base) {
            for e in rd.flatten() {
                if !is_mount_point(&e.path()) {
                    let _ = std::fs::remove_dir(e.path());
                }
            }
        }
        let _ = std::fs::remove_dir(&self.base);
    }
}

/// ntfs-3g on a fresh mkntfs image.
#[derive(Debug)]
pub struct Ntfs3g {
    pub image: PathBuf,
    pub mnt: PathBuf,
    ntfs3g: PathBuf,
    mounted: bool,
    pub version: String,
}

impl Ntfs3g {
    /// Makes a sparse image of `size` bytes in the scratch tmpfs and formats it with
    /// `mkntfs -F -Q` (quick format, no zeroing).
    pub fn create(scratch: &Scratch, size: u64) -> Result<Ntfs3g> {
        let missing = |what: &str| {
            anyhow::anyhow!(
                "{what} not found: install ntfs-3g (Debian/Ubuntu: apt-get install ntfs-3g), \
                 or leave ntfs-3g out of --targets"
            )
        };
        let ntfs3g = find_program("ntfs-3g").ok_or_else(|| missing("ntfs-3g"))?;
        let mkntfs = find_program("mkntfs").ok_or_else(|| missing("mkntfs"))?;
        let image = scratch.tmpfs.join("ntfs.img");
        let f = std::fs::File::create(&image)
            .with_context(|| format!("creating {}", image.display()))?;
        f.set_len(size)?;
        drop(f);
        let out = Command::new(&mkntfs)
            .args(["-F", "-Q", "-q", "-L", "ntlinkfs-bench"])
            .arg(&image)
            .output()
            .with_context(|| format!("running {}", mkntfs.display()))?;
        if !out.status.success() {
            bail!(
                "mkntfs -F -Q {} failed: {}",
                image.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let version = Command::new(&ntfs3g)
            .arg("--version")
            .output()
            .map(|o| {
                let mut s = String::from_utf8_lossy(&o.stdout).to_string();
                s.push_str(&String::from_utf8_lossy(&o.stderr));
                s.lines().next().unwrap_or("").trim().to_string()
            })
            .unwrap_or_default();
        let mnt = scratch.mount_dir("ntfs-3g")?;
        Ok(Ntfs3g {
            image,
            mnt,
            ntfs3g,
            mounted: false,
            version,
        })
    }

    /// Runs `ntfs-3g IMAGE MNT` (default options, as a user mounts) and waits until the mount
    /// point answers stat; returns the seconds that took.
    pub fn mount(&mut self) -> Result<f64> {
        if self.mounted {
            bail!("{} is mounted already", self.mnt.display());
        }
        let parent_dev = std::fs::metadata(self.mnt.parent().unwrap_or(Path::new("/")))?.dev();
        let t = Instant::now();
        let out = Command::new(&self.ntfs3g)
            .arg(&self.image)
            .arg(&self.mnt)
            .output()
            .with_context(|| format!("running {}", self.ntfs3g.display()))?;
        if !out.status.success() {
            bail!(
                "ntfs-3g {} {} failed: {}",
                self.image.display(),
                self.mnt.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        wait_mounted(&self.mnt, parent_dev, Duration::from_secs(10))?;
        self.mounted = true;
        Ok(t.elapsed().as_secs_f64())
    }

    /// Unmounts and waits for the ntfs-3g daemon of this image to exit (it writes the image
    /// on the way out), so that the image can be mounted again.
    pub fn unmount(&mut self) -> Result<()> {
        if !self.mounted {
            return Ok(());
        }
        let daemons = self.daemons();
        unmount(&self.mnt)?;
        self.mounted = false;
        let deadline = Instant::now() + Duration::from_secs(20);
        for pid in daemons {
            while Path::new(&format!("/proc/{pid}")).exists() {
                if Instant::now() > deadline {
                    bail!("the ntfs-3g daemon (pid {pid}) did not exit after unmounting");
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(())
    }

    /// Pids of ntfs-3g processes serving this image (found by their command line).
    fn daemons(&self) -> Vec<u32> {
        let image = self.image.as_os_str().as_bytes();
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir("/proc") else {
            return out;
        };
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
                continue;
            };
            let mut args = cmd.split(|&b| b == 0);
            let is_ntfs3g = args
                .next()
                .is_some_and(|a0| a0.ends_with(b"ntfs-3g") || a0.ends_with(b"mount.ntfs-3g"));
            if is_ntfs3g && args.any(|a| a == image) {
                out.push(pid);
            }
        }
        out
    }
}

impl Drop for Ntfs3g {
    fn drop(&mut self) {
        let _ = self.unmount();
        let _ = std::fs::remove_dir(&self.mnt);
        let _ = std::fs::remove_file(&self.image);
    }
}
