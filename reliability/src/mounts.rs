//! Mounts the tools run against: an `ntlinkfs mount` child process, and ntfs-3g on a fresh
//! mkntfs image (real NTFS code on Linux, the reference of the conformance suite).

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a mount may take to print its ready line before the tools give up (a guard against
/// a hung daemon, not a performance check).
const READY_GUARD: Duration = Duration::from_secs(120);

/// The `ntlinkfs` binary: `$NTLINKFS_BIN`, else `target/<profile>/ntlinkfs` next to the running
/// executable. Under `cargo test` (where `$CARGO` is set) it is built first with the same
/// profile, so a test never runs a stale or missing binary.
pub fn ntlinkfs_bin() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("NTLINKFS_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("cannot find the running executable")?;
    let mut profile_dir = exe
        .parent()
        .context("executable has no parent directory")?
        .to_path_buf();
    if profile_dir.file_name().is_some_and(|n| n == "deps") {
        profile_dir.pop();
    }
    let bin = profile_dir.join("ntlinkfs");
    if let Some(cargo) = std::env::var_os("CARGO") {
        let target_dir = profile_dir
            .parent()
            .context("profile directory has no parent")?;
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "ntlinkfs"])
            .env("CARGO_TARGET_DIR", target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let st = cmd.status().context("cannot run cargo to build ntlinkfs")?;
        if !st.success() {
            bail!("`cargo build -p ntlinkfs` failed ({st})");
        }
    }
    if !bin.exists() {
        bail!(
            "{} does not exist: build it with `cargo build -p ntlinkfs` (add --release for \
             release tools) or set NTLINKFS_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// Fails with what to install when a program the tools need is missing.
pub fn require_program(name: &str, package: &str) -> Result<()> {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
        || ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .iter()
            .any(|d| Path::new(d).join(name).is_file());
    if !found {
        bail!("`{name}` is missing: install {package} (scripts/install-deps.sh installs it)");
    }
    Ok(())
}

/// A running `ntlinkfs mount MOUNTPOINT` (foreground daemon). Dropping it unmounts and reaps it.
pub struct NtlinkfsMount {
    /// The mount point.
    pub dir: PathBuf,
    /// What the daemon printed when it was ready.
    pub ready_line: String,
    child: Option<Child>,
    log: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl NtlinkfsMount {
    /// Starts `bin mount DIR EXTRA...` and waits for its ready line on stdout.
    pub fn start(bin: &Path, dir: &Path, extra: &[&str]) -> Result<NtlinkfsMount> {
        NtlinkfsMount::start_with_env(bin, dir, extra, &[])
    }

    /// [`NtlinkfsMount::start`] with extra environment variables for the daemon.
    pub fn start_with_env(
        bin: &Path,
        dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<NtlinkfsMount> {
        require_program("fusermount3", "fuse3")?;
        std::fs::create_dir_all(dir).ok();
        let mut child = Command::new(bin)
            .arg("mount")
            .arg(dir)
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = child.stderr.take().context("no stderr pipe")?;
        let log2 = log.clone();
        std::thread::spawn(move || drain(stderr, &log2));
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        let log3 = log.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let n = r.read_line(&mut line).unwrap_or(0);
            let _ = tx.send((n, line));
            drain(r, &log3);
        });
        let mut m = NtlinkfsMount {
            dir: dir.to_path_buf(),
            ready_line: String::new(),
            child: Some(child),
            log,
        };
        match rx.recv_timeout(READY_GUARD) {
            Ok((n, line)) if n > 0 => {
                m.ready_line = line.trim_end().to_string();
                Ok(m)
            }
            Ok(_) => {
                let st = m.child.as_mut().and_then(|c| c.wait().ok());
                bail!(
                    "`ntlinkfs mount {}` exited before it was ready ({}): {}",
                    dir.display(),
                    st.map(|s| s.to_string()).unwrap_or_default(),
                    m.log_text()
                )
            }
            Err(_) => bail!(
                "`ntlinkfs mount {}` printed no ready line in {} s: {}",
                dir.display(),
                READY_GUARD.as_secs(),
                m.log_text()
            ),
        }
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Everything the daemon wrote to stderr (and to stdout after the ready line).
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().map(|l| l.clone()).unwrap_or_default())
            .into_owned()
    }

    /// Has the daemon exited? Returns its status if so.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Kills the daemon with SIGKILL and reaps it, leaving the mount dead (ENOTCONN) as a crash
    /// would.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        let mut c = self.child.take().context("daemon already gone")?;
        c.kill().context("cannot kill the daemon")?;
        Ok(c.wait()?)
    }

    /// Unmounts (`fusermount3 -u`) and waits for the daemon to exit; returns its status.
    pub fn unmount(mut self) -> Result<ExitStatus> {
        self.unmount_inner()
    }

    fn unmount_inner(&mut self) -> Result<ExitStatus> {
        let mut c = self.child.take().context("daemon already gone")?;
        if c.try_wait()?.is_none() {
            let out = Command::new("fusermount3")
                .arg("-u")
                .arg(&self.dir)
                .output()
                .context("cannot run fusermount3")?;
            if !out.status.success() {
                // Busy or already gone: detach lazily so the daemon sees the unmount.
                let _ = Command::new("fusermount3")
                    .arg("-uz")
                    .arg(&self.dir)
                    .status();
            }
        }
        Ok(c.wait()?)
    }
}

impl Drop for NtlinkfsMount {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.unmount_inner();
        }
    }
}

fn drain(mut r: impl Read, log: &std::sync::Mutex<Vec<u8>>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        if let Ok(mut l) = log.lock() {
            if l.len() < 1 << 20 {
                l.extend_from_slice(&buf[..n]);
            }
        }
    }
}

/// ntfs-3g options for the reference mount: permissions kept, Windows name rules for new names
/// (what NTFS enforces through Win32), no kernel attribute caching so that a reparse point
/// change is seen at once, and NTFS's own directory link count (1: no `posix_nlink`), which is
/// what ntlinkfs reports too.
pub const NTFS3G_OPTIONS: &str =
    "permissions,windows_names,attr_timeout=0,entry_timeout=0,negative_timeout=0";

/// ntfs-3g mounted on a fresh mkntfs image in a temporary directory; unmounted when dropped.
pub struct Ntfs3gMount {
    /// The mount point.
    pub dir: PathBuf,
    image: PathBuf,
    mounted: bool,
    _tmp: tempfile::TempDir,
}

impl Ntfs3gMount {
    /// Makes a `size_mib` image with `mkntfs` and mounts it with [`NTFS3G_OPTIONS`].
    pub fn start(size_mib: u64) -> Result<Ntfs3gMount> {
        Ntfs3gMount::start_with(size_mib, false)
    }

    /// [`Ntfs3gMount::start`], with `allow_other` when `shared`: other users reach the mount
    /// (and `permissions` checks their rights), for runs as an unprivileged user.
    pub fn start_with(size_mib: u64, shared: bool) -> Result<Ntfs3gMount> {
        require_program("mkntfs", "ntfs-3g")?;
        require_program("ntfs-3g", "ntfs-3g")?;
        let tmp = tempfile::Builder::new()
            .prefix("ntlinkfs-ntfs3g-")
            .tempdir()
            .context("cannot make a temporary directory")?;
        let image = tmp.path().join("ntfs.img");
        let f = std::fs::File::create(&image)?;
        f.set_len(size_mib << 20)?;
        drop(f);
        let out = Command::new("mkntfs")
            .args(["-F", "-q", "-f"])
            .arg(&image)
            .output()
            .context("cannot run mkntfs")?;
        if !out.status.success() {
            bail!("mkntfs failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let dir = tmp.path().join("mnt");
        std::fs::create_dir(&dir)?;
        let options = if shared {
            format!("{NTFS3G_OPTIONS},allow_other")
        } else {
            NTFS3G_OPTIONS.to_string()
        };
        let out = Command::new("ntfs-3g")
            .args(["-o", &options])
            .arg(&image)
            .arg(&dir)
            .output()
            .context("cannot run ntfs-3g")?;
        if !out.status.success() {
            bail!("ntfs-3g failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(Ntfs3gMount {
            dir,
            image,
            mounted: true,
            _tmp: tmp,
        })
    }

    /// The image file.
    pub fn image(&self) -> &Path {
        &self.image
    }

    /// Unmounts now.
    pub fn unmount(mut self) -> Result<()> {
        self.unmount_inner()
    }

    fn unmount_inner(&mut self) -> Result<()> {
        if !self.mounted {
            return Ok(());
        }
        self.mounted = false;
        let st = Command::new("umount").arg(&self.dir).status()?;
        if !st.success() {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
            bail!("umount {} failed", self.dir.display());
        }
        Ok(())
    }
}

impl Drop for Ntfs3gMount {
    fn drop(&mut self) {
        let _ = self.unmount_inner();
    }
}
