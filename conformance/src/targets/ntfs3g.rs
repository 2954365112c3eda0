//! `ntfs-3g`: real NTFS on Linux. Makes a 64 MiB image with `mkntfs` in a temporary directory,
//! mounts it with `ntfs-3g`, runs the `posix` target on it and unmounts it at the end.
//!
//! The mount uses ntfs-3g's defaults (no `windows_names`, so ntfs-3g's own name checks are
//! what is judged; `streams_interface` is irrelevant to the cases, which use no streams).

use super::posix::PosixTarget;
use crate::target::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to install when the tools are missing.
pub const INSTALL_HINT: &str = "install ntfs-3g (apt-get install ntfs-3g)";

/// Size of the image: room for every case, including 1025 names of one file.
pub const IMAGE_SIZE: u64 = 64 * 1024 * 1024;

/// The `ntfs-3g` target.
#[derive(Debug)]
pub struct Ntfs3gTarget {
    posix: Option<PosixTarget>,
    mount: PathBuf,
    mounted: bool,
    // Dropped last: the image and mount point live here.
    _dir: tempfile::TempDir,
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed ({}): {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Ntfs3gTarget {
    /// Makes, formats and mounts the image. Fails with [`INSTALL_HINT`] when `mkntfs` or
    /// `ntfs-3g` is missing.
    pub fn start() -> Result<Ntfs3gTarget, String> {
        let mkntfs =
            find_tool("mkntfs").ok_or_else(|| format!("mkntfs not found: {INSTALL_HINT}"))?;
        let ntfs3g =
            find_tool("ntfs-3g").ok_or_else(|| format!("ntfs-3g not found: {INSTALL_HINT}"))?;
        if !Path::new("/dev/fuse").exists() {
            return Err("/dev/fuse is missing: load the fuse module (modprobe fuse)".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("ntlinkfs-ntfs3g-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let image = dir.path().join("ntfs.img");
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).map_err(|e| e.to_string())?;
        let f = std::fs::File::create(&image).map_err(|e| e.to_string())?;
        f.set_len(IMAGE_SIZE).map_err(|e| e.to_string())?;
        drop(f);
        run(Command::new(&mkntfs)
            .args(["-F", "-Q", "-q", "-L", "conformance"])
            .arg(&image))?;
        run(Command::new(&ntfs3g).arg(&image).arg(&mount))?;
        let mut t = Ntfs3gTarget {
            posix: None,
            mount,
            mounted: true,
            _dir: dir,
        };
        let posix = PosixTarget::open(&t.mount, "ntfs-3g", Some(Flavor::Ntfs3g))?;
        if !posix.has_ntfs_xattrs() {
            return Err(format!(
                "the ntfs-3g mount at {} has no system.ntfs_attrib attribute",
                t.mount.display()
            ));
        }
        t.posix = Some(posix);
        Ok(t)
    }

    fn unmount(&mut self) -> Result<(), String> {
        if !self.mounted {
            return Ok(());
        }
        let r = match find_tool("fusermount3").or_else(|| find_tool("fusermount")) {
            Some(fm) => run(Command::new(fm).arg("-u").arg(&self.mount)),
            None => run(Command::new("umount").arg(&self.mount)),
        };
        if r.is_ok() {
            self.mounted = false;
        }
        r
    }
}

impl Target for Ntfs3gTarget {
    fn name(&self) -> String {
        "ntfs-3g".into()
    }
    fn flavor(&self) -> Flavor {
        Flavor::Ntfs3g
    }
    fn sandbox(&mut self, case_id: &str) -> Result<Box<dyn NtfsTarget>, String> {
        match &mut self.posix {
            Some(p) => p.sandbox(case_id),
            None => Err("ntfs-3g is not mounted".into()),
        }
    }
    fn finish(&mut self) -> Result<(), String> {
        // The image is thrown away: no need to clean the run directory first.
        if let Some(p) = &mut self.posix {
            p.keep_run_dir();
        }
        self.posix = None;
        self.unmount()
    }
}

impl Drop for Ntfs3gTarget {
    fn drop(&mut self) {
        let _ = self.unmount();
    }
}
