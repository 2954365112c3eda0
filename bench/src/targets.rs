//! Setting up the filesystems the benchmark compares: a fresh tmpfs (or /dev/shm when mounting
//! is refused) and ntfs-3g on a fresh mkntfs image kept in that tmpfs (so ntfs-3g is measured,
//! not the disk; [`host::Ntfs3gImage`] makes it). Everything set up here is unmounted and
//! removed when dropped. Nothing is installed: a missing ntfs-3g or mkntfs is an error that
//! says what to install.

use anyhow::{bail, Context, Result};
use host::kmount::{is_mount_point, mount_tmpfs, unmount, wait_mounted};
use host::ntfs3g::{ImageOptions, Ntfs3gImage};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The source name the benchmark's tmpfs mounts show in mountinfo.
const TMPFS_SOURCE: &str = "ntlinkfs-bench";

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
        match mount_tmpfs(&tmpfs, TMPFS_SOURCE) {
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
            mount_tmpfs(&d, TMPFS_SOURCE)
                .with_context(|| format!("mount -t tmpfs on {}", d.display()))?;
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

/// ntfs-3g on a fresh mkntfs image in the scratch tmpfs, its mount point in the scratch base.
pub fn ntfs3g(scratch: &Scratch, size: u64) -> Result<Ntfs3gImage> {
    Ntfs3gImage::create(&ImageOptions {
        size,
        label: Some("ntlinkfs-bench".into()),
        mount_options: None,
        image: Some(scratch.tmpfs.join("ntfs.img")),
        mount_point: Some(scratch.mount_dir("ntfs-3g")?),
    })
    .context("the ntfs-3g target (or leave ntfs-3g out of --targets)")
}
