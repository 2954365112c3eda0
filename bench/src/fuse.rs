//! The ntlinkfs FUSE mount as a benchmark target: a fresh volume mounted in this process
//! through backend-fuse's library API (default [`backend_fuse::MountOptions`], as `ntlinkfs
//! mount` uses them), and the `ntlinkfs mount` binary ([`host::NtlinkfsMount`]) for
//! mount-to-ready.

use super::report::Config;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use vfs_core::{Volume, VolumeOptions};

/// A mounted ntlinkfs volume (unmounted when dropped).
pub struct FuseMount {
    pub dir: PathBuf,
    handle: Option<backend_fuse::MountHandle>,
}

impl FuseMount {
    /// The mounted volume (None once finished).
    pub fn volume(&self) -> Option<&Arc<Volume>> {
        self.handle.as_ref().map(|h| h.volume())
    }

    /// Unmounts and waits for the session to end; then checks the engine's invariants, so a
    /// benchmark run also proves the volume stayed consistent.
    pub fn finish(mut self) -> Result<()> {
        if let Some(h) = self.handle.take() {
            let vol = h.volume().clone();
            h.unmount()
                .with_context(|| format!("unmounting {}", self.dir.display()))?;
            vol.check()
                .map_err(|e| anyhow::anyhow!("the volume is inconsistent after the run: {e}"))?;
        }
        Ok(())
    }
}

impl Drop for FuseMount {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.unmount();
        }
    }
}

fn new_volume() -> Arc<Volume> {
    Arc::new(Volume::new(VolumeOptions::default()))
}

/// backend-fuse's default mount options, with `threads` when given (then fixed: no widening
/// while the machine is idle) and the serving model
/// and cache knobs of the command line.
pub fn options(threads: Option<usize>, a: &crate::BenchArgs) -> backend_fuse::MountOptions {
    let mut o = backend_fuse::MountOptions::default();
    if let Some(t) = threads {
        // A number asked for is served with exactly.
        o.threads = t.max(1);
        o.widen_when_idle = false;
    }
    if a.fuse_no_wait_worker {
        o.wait_worker = false;
    }
    if a.fuse_writeback {
        o.writeback_cache = true;
    }
    if a.fuse_no_passthrough || a.fuse_writeback {
        o.passthrough = false;
    }
    if a.fuse_widen_when_idle && threads.is_none() {
        o.widen_when_idle = true;
    }
    if a.fuse_no_spare_thread {
        o.spare_thread = false;
    }
    o
}

/// Mounts a fresh volume at `dir`.
pub fn mount(dir: &Path, opts: &backend_fuse::MountOptions) -> Result<FuseMount> {
    let h = backend_fuse::mount(new_volume(), dir, opts)
        .with_context(|| format!("mounting ntlinkfs at {}", dir.display()))?;
    Ok(FuseMount {
        dir: h.mountpoint().to_path_buf(),
        handle: Some(h),
    })
}

/// Mount-to-ready through the library: from calling `backend_fuse::mount` (which returns once
/// a stat of the mount point went through the new session) to that return.
pub fn mount_times(
    dir: &Path,
    cfg: &Config,
    opts: &backend_fuse::MountOptions,
) -> Result<Vec<f64>> {
    let mut times = Vec::new();
    for _ in 0..cfg.mount_repeats {
        let vol = new_volume();
        let t = Instant::now();
        let h = backend_fuse::mount(vol, dir, opts)
            .with_context(|| format!("mounting ntlinkfs at {}", dir.display()))?;
        // The mount call already waited for a stat; one more from here costs nothing much and
        // makes the definition the same as the other targets'.
        std::fs::metadata(dir)?;
        times.push(t.elapsed().as_secs_f64());
        h.unmount()?;
    }
    Ok(times)
}

/// Mount-to-ready through the binary: from starting `ntlinkfs mount DIR` to its ready line on
/// standard output (a line containing "ready"), then ended by SIGTERM
/// ([`host::NtlinkfsMount::terminate`]).
pub fn cli_mount_times(dir: &Path, cfg: &Config, threads: Option<usize>) -> Result<Vec<f64>> {
    let exe = std::env::current_exe().context("finding the ntlinkfs binary")?;
    let threads = threads.map(|t| t.to_string());
    let mut args = Vec::new();
    if let Some(t) = &threads {
        args.extend(["--threads", t.as_str()]);
    }
    let mut times = Vec::new();
    for _ in 0..cfg.mount_repeats {
        let t = Instant::now();
        let m = host::NtlinkfsMount::start(&exe, dir, &args)
            .with_context(|| format!("ntlinkfs mount {}", dir.display()))?;
        let secs = t.elapsed().as_secs_f64();
        if !m.ready_line.to_ascii_lowercase().contains("ready") {
            bail!(
                "ntlinkfs mount {} printed {:?} where its ready line belongs",
                dir.display(),
                m.ready_line
            );
        }
        times.push(secs);
        m.terminate()?;
    }
    Ok(times)
}
