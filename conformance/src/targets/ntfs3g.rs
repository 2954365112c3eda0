//! `ntfs-3g`: real NTFS on Linux. Makes a 64 MiB image with `mkntfs` in a temporary directory,
//! mounts it with `ntfs-3g` ([`host::Ntfs3gImage`]), runs the `posix` target on it and
//! unmounts it at the end.
//!
//! The mount uses ntfs-3g's defaults (no `windows_names`, so ntfs-3g's own name checks are
//! what is judged; `streams_interface` is irrelevant to the cases, which use no streams).

use super::posix::PosixTarget;
use crate::target::*;
use host::ntfs3g::{ImageOptions, Ntfs3gImage};

/// Size of the image: room for every case, including 1025 names of one file.
pub const IMAGE_SIZE: u64 = 64 * 1024 * 1024;

/// The `ntfs-3g` target.
#[derive(Debug)]
pub struct Ntfs3gTarget {
    posix: Option<PosixTarget>,
    image: Ntfs3gImage,
}

impl Ntfs3gTarget {
    /// Makes, formats and mounts the image. Fails naming the package to install when `mkntfs`
    /// or `ntfs-3g` is missing.
    pub fn start() -> Result<Ntfs3gTarget, String> {
        let image = Ntfs3gImage::create_mounted(&ImageOptions {
            size: IMAGE_SIZE,
            label: Some("conformance".into()),
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
        let posix = PosixTarget::open(image.mount_point(), "ntfs-3g", Some(Flavor::Ntfs3g))?;
        if !posix.has_ntfs_xattrs() {
            return Err(format!(
                "the ntfs-3g mount at {} has no system.ntfs_attrib attribute",
                image.mount_point().display()
            ));
        }
        Ok(Ntfs3gTarget {
            posix: Some(posix),
            image,
        })
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
        self.image.unmount().map_err(|e| e.to_string())
    }
}
