//! `fuse`: a fresh ntlinkfs volume mounted through FUSE (backend-fuse) in a temporary
//! directory, judged as `posix` with the ntlinkfs flavor (every FAIL counts). After the last
//! case the drive is unmounted and the engine's invariants are checked
//! ([`vfs_core::Volume::check`]), and no handle may be left open.

use super::posix::PosixTarget;
use crate::target::*;
use std::sync::Arc;
use vfs_core::{Volume, VolumeOptions};

/// The `fuse` target.
#[derive(Debug)]
pub struct FuseTarget {
    posix: Option<PosixTarget>,
    mount: Option<backend_fuse::MountHandle>,
    volume: Arc<Volume>,
    // Dropped last: the mount point lives here.
    _dir: tempfile::TempDir,
}

impl FuseTarget {
    /// Mounts a fresh volume with default options (drive `C:`, POSIX delete semantics).
    pub fn start() -> Result<FuseTarget, String> {
        let dir = tempfile::Builder::new()
            .prefix("ntlinkfs-fuse-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?;
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).map_err(|e| e.to_string())?;
        let volume = Arc::new(Volume::new(VolumeOptions::default()));
        let mount = backend_fuse::mount(volume.clone(), &mnt, &Default::default())
            .map_err(|e| e.to_string())?;
        let posix = PosixTarget::open(mount.mountpoint(), "fuse", Some(Flavor::Ntlinkfs))?;
        if !posix.has_ntfs_xattrs() {
            return Err("the ntlinkfs mount has no system.ntfs_attrib attribute".into());
        }
        Ok(FuseTarget {
            posix: Some(posix),
            mount: Some(mount),
            volume,
            _dir: dir,
        })
    }
}

impl Target for FuseTarget {
    fn name(&self) -> String {
        "fuse".into()
    }
    fn flavor(&self) -> Flavor {
        Flavor::Ntlinkfs
    }
    fn sandbox(&mut self, case_id: &str) -> Result<Box<dyn NtfsTarget>, String> {
        match &mut self.posix {
            Some(p) => p.sandbox(case_id),
            None => Err("ntlinkfs is not mounted".into()),
        }
    }
    fn finish(&mut self) -> Result<(), String> {
        if let Some(p) = &mut self.posix {
            p.keep_run_dir();
        }
        self.posix = None;
        if let Some(m) = self.mount.take() {
            m.unmount().map_err(|e| e.to_string())?;
        }
        self.volume
            .check()
            .map_err(|e| format!("engine invariants broken after the run: {e:?}"))?;
        match self.volume.open_handle_count() {
            0 => Ok(()),
            n => Err(format!("{n} engine handles left open after unmount")),
        }
    }
}
