//! Real NTFS on Linux: an image formatted with `mkntfs` and mounted with `ntfs-3g`. The one
//! place that makes such images; the conformance suite's `ntfs-3g` target, the differential
//! fuzzer's reference mount and the benchmark's ntfs-3g target all use [`Ntfs3gImage`].

use crate::{err, kmount, program, Result};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The package holding mkntfs and ntfs-3g.
pub const PACKAGE: &str = "ntfs-3g";

/// How to make and mount an image.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    /// Size of the (sparse) image in bytes.
    pub size: u64,
    /// Volume label (`mkntfs -L`); none: mkntfs's default.
    pub label: Option<String>,
    /// ntfs-3g mount options (`-o`); none: ntfs-3g's defaults, as a user mounts.
    pub mount_options: Option<String>,
    /// The image file; none: `ntfs.img` in a fresh temporary directory.
    pub image: Option<PathBuf>,
    /// The mount point (created if missing); none: `mnt` in the fresh temporary directory.
    pub mount_point: Option<PathBuf>,
}

/// An mkntfs image and its ntfs-3g mount. Dropping it unmounts it (waiting for the daemon to
/// write the image out) and removes the image and the mount point it made.
#[derive(Debug)]
pub struct Ntfs3gImage {
    image: PathBuf,
    mount_point: PathBuf,
    ntfs3g: PathBuf,
    mount_options: Option<String>,
    mounted: bool,
    // Dropped last: the image and the mount point may live here.
    tmp: Option<tempfile::TempDir>,
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .map_err(|e| err!("cannot run {}: {e}", cmd.get_program().to_string_lossy()))?;
    if out.status.success() {
        Ok(())
    } else {
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        Err(err!(
            "`{} {}` failed ({}): {}",
            cmd.get_program().to_string_lossy(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Ntfs3gImage {
    /// Makes a sparse image and formats it with `mkntfs -F -Q -q` (quick format, no
    /// zeroing); not mounted yet. Fails naming the package to install when mkntfs or ntfs-3g
    /// is missing.
    pub fn create(o: &ImageOptions) -> Result<Ntfs3gImage> {
        let mkntfs = program::require("mkntfs", PACKAGE)?;
        let ntfs3g = program::require("ntfs-3g", PACKAGE)?;
        let tmp = if o.image.is_none() || o.mount_point.is_none() {
            Some(
                tempfile::Builder::new()
                    .prefix("ntlinkfs-ntfs3g-")
                    .tempdir()
                    .map_err(|e| err!("cannot make a temporary directory: {e}"))?,
            )
        } else {
            None
        };
        let in_tmp = |name: &str| tmp.as_ref().map(|t| t.path().join(name));
        let image = o
            .image
            .clone()
            .or_else(|| in_tmp("ntfs.img"))
            .unwrap_or_default();
        let mount_point = o
            .mount_point
            .clone()
            .or_else(|| in_tmp("mnt"))
            .unwrap_or_default();
        std::fs::create_dir_all(&mount_point)
            .map_err(|e| err!("creating {}: {e}", mount_point.display()))?;
        let f =
            std::fs::File::create(&image).map_err(|e| err!("creating {}: {e}", image.display()))?;
        f.set_len(o.size)
            .map_err(|e| err!("sizing {}: {e}", image.display()))?;
        drop(f);
        let img = Ntfs3gImage {
            image,
            mount_point,
            ntfs3g,
            mount_options: o.mount_options.clone(),
            mounted: false,
            tmp,
        };
        let mut cmd = Command::new(&mkntfs);
        cmd.args(["-F", "-Q", "-q"]);
        if let Some(l) = &o.label {
            cmd.arg("-L").arg(l);
        }
        run(cmd.arg(&img.image))?;
        Ok(img)
    }

    /// [`Ntfs3gImage::create`] and [`Ntfs3gImage::mount`].
    pub fn create_mounted(o: &ImageOptions) -> Result<Ntfs3gImage> {
        let mut img = Ntfs3gImage::create(o)?;
        img.mount()?;
        Ok(img)
    }

    /// Runs `ntfs-3g [-o OPTIONS] IMAGE MOUNTPOINT` and waits until the mount point answers
    /// stat; returns how long that took (mount-to-ready).
    pub fn mount(&mut self) -> Result<Duration> {
        if self.mounted {
            return Err(err!("{} is mounted already", self.mount_point.display()));
        }
        if !Path::new("/dev/fuse").exists() {
            return Err(err!(
                "/dev/fuse is missing: load the fuse module (modprobe fuse)"
            ));
        }
        let parent_dev = kmount::parent_dev(&self.mount_point)?;
        let t = Instant::now();
        let mut cmd = Command::new(&self.ntfs3g);
        if let Some(o) = &self.mount_options {
            cmd.arg("-o").arg(o);
        }
        run(cmd.arg(&self.image).arg(&self.mount_point))?;
        self.mounted = true;
        kmount::wait_mounted(&self.mount_point, parent_dev, Duration::from_secs(10))?;
        Ok(t.elapsed())
    }

    /// Unmounts and waits for the ntfs-3g daemon of this image to exit (it writes the image
    /// on the way out), so the image can be mounted again or thrown away. umount2(2) as root;
    /// fusermount3 otherwise.
    pub fn unmount(&mut self) -> Result<()> {
        if !self.mounted {
            return Ok(());
        }
        let daemons = self.daemons();
        if let Err(e) = kmount::unmount(&self.mount_point) {
            match program::find("fusermount3").or_else(|| program::find("fusermount")) {
                Some(fm) => run(Command::new(fm).arg("-u").arg(&self.mount_point))
                    .map_err(|e2| err!("{e}; {e2}"))?,
                None => return Err(e),
            }
        }
        self.mounted = false;
        let deadline = Instant::now() + Duration::from_secs(20);
        for pid in daemons {
            while Path::new(&format!("/proc/{pid}")).exists() {
                if Instant::now() > deadline {
                    return Err(err!(
                        "the ntfs-3g daemon (pid {pid}) did not exit after unmounting"
                    ));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(())
    }

    /// The mount point.
    pub fn mount_point(&self) -> &Path {
        &self.mount_point
    }

    /// The image file.
    pub fn image(&self) -> &Path {
        &self.image
    }

    /// Is it mounted?
    pub fn is_mounted(&self) -> bool {
        self.mounted
    }

    /// The first line `ntfs-3g --version` prints (empty when it prints nothing).
    pub fn version(&self) -> String {
        Command::new(&self.ntfs3g)
            .arg("--version")
            .output()
            .map(|o| {
                let mut s = String::from_utf8_lossy(&o.stdout).to_string();
                s.push_str(&String::from_utf8_lossy(&o.stderr));
                s.lines().next().unwrap_or("").trim().to_string()
            })
            .unwrap_or_default()
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

impl Drop for Ntfs3gImage {
    fn drop(&mut self) {
        let _ = self.unmount();
        if self.tmp.is_none() {
            let _ = std::fs::remove_dir(&self.mount_point);
            let _ = std::fs::remove_file(&self.image);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real mkntfs and ntfs-3g: a file written through the mount survives an unmount and a
    /// second mount, and dropping the image removes what it made.
    #[test]
    fn an_image_mounts_twice_and_keeps_its_files() {
        let mut img = Ntfs3gImage::create(&ImageOptions {
            size: 16 << 20,
            label: Some("host-test".into()),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        img.mount().unwrap_or_else(|e| panic!("{e}"));
        assert!(crate::mountinfo::is_mountpoint(img.mount_point()));
        // ntfs-3g answers the NTFS attributes: this is real NTFS, not a copy.
        assert!(crate::sys::lgetxattr(img.mount_point(), crate::xattrs::ntfs::ATTRIB).is_ok());
        std::fs::write(img.mount_point().join("f"), b"kept").unwrap();
        img.unmount().unwrap();
        assert!(!crate::mountinfo::is_mountpoint(img.mount_point()));
        img.mount().unwrap();
        assert_eq!(std::fs::read(img.mount_point().join("f")).unwrap(), b"kept");
        assert!(img.version().contains("ntfs-3g"), "{}", img.version());
        let mp = img.mount_point().to_path_buf();
        drop(img);
        assert!(!crate::mountinfo::is_mountpoint(&mp));
        assert!(!mp.exists());
    }
}
