//! An `ntlinkfs mount` child process: started, waited for until it prints its ready line,
//! unmounted, or killed to leave a dead mount as a crash would, and a dead mount cleaned up.

use crate::{err, mountinfo, program, Result};
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
    let exe =
        std::env::current_exe().map_err(|e| err!("cannot find the running executable: {e}"))?;
    let mut profile_dir = exe
        .parent()
        .ok_or_else(|| err!("executable has no parent directory"))?
        .to_path_buf();
    if profile_dir.file_name().is_some_and(|n| n == "deps") {
        profile_dir.pop();
    }
    let bin = profile_dir.join("ntlinkfs");
    if let Some(cargo) = std::env::var_os("CARGO") {
        let target_dir = profile_dir
            .parent()
            .ok_or_else(|| err!("profile directory has no parent"))?;
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "ntlinkfs"])
            .env("CARGO_TARGET_DIR", target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let st = cmd
            .status()
            .map_err(|e| err!("cannot run cargo to build ntlinkfs: {e}"))?;
        if !st.success() {
            return Err(err!("`cargo build -p ntlinkfs` failed ({st})"));
        }
    }
    if !bin.exists() {
        return Err(err!(
            "{} does not exist: build it with `cargo build -p ntlinkfs` (add --release for \
             release tools) or set NTLINKFS_BIN",
            bin.display()
        ));
    }
    Ok(bin)
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
        program::require("fusermount3", "fuse3")?;
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
            .map_err(|e| err!("cannot start {}: {e}", bin.display()))?;
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = child.stderr.take().ok_or_else(|| err!("no stderr pipe"))?;
        let log2 = log.clone();
        std::thread::spawn(move || drain(stderr, &log2));
        let stdout = child.stdout.take().ok_or_else(|| err!("no stdout pipe"))?;
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
                Err(err!(
                    "`ntlinkfs mount {}` exited before it was ready ({}): {}",
                    dir.display(),
                    st.map(|s| s.to_string()).unwrap_or_default(),
                    m.log_text()
                ))
            }
            Err(_) => Err(err!(
                "`ntlinkfs mount {}` printed no ready line in {} s: {}",
                dir.display(),
                READY_GUARD.as_secs(),
                m.log_text()
            )),
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
        let mut c = self
            .child
            .take()
            .ok_or_else(|| err!("daemon already gone"))?;
        c.kill().map_err(|e| err!("cannot kill the daemon: {e}"))?;
        c.wait().map_err(|e| err!("cannot reap the daemon: {e}"))
    }

    /// Unmounts (`fusermount3 -u`) and waits for the daemon to exit; returns its status.
    pub fn unmount(mut self) -> Result<ExitStatus> {
        self.unmount_inner()
    }

    fn unmount_inner(&mut self) -> Result<ExitStatus> {
        let mut c = self
            .child
            .take()
            .ok_or_else(|| err!("daemon already gone"))?;
        let running = c
            .try_wait()
            .map_err(|e| err!("cannot look at the daemon: {e}"))?
            .is_none();
        if running {
            let out = Command::new("fusermount3")
                .arg("-u")
                .arg(&self.dir)
                .output()
                .map_err(|e| err!("cannot run fusermount3: {e}"))?;
            if !out.status.success() {
                // Busy or already gone: detach lazily so the daemon sees the unmount.
                let _ = Command::new("fusermount3")
                    .arg("-uz")
                    .arg(&self.dir)
                    .status();
            }
        }
        c.wait().map_err(|e| err!("cannot reap the daemon: {e}"))
    }

    /// Ends the daemon with SIGTERM, its clean shutdown (it unmounts itself), and waits up to
    /// 10 s for it to exit; past that the mount is detached and the daemon killed.
    pub fn terminate(mut self) -> Result<ExitStatus> {
        let mut c = self
            .child
            .take()
            .ok_or_else(|| err!("daemon already gone"))?;
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = c
                .try_wait()
                .map_err(|e| err!("cannot look at the daemon: {e}"))?
            {
                return Ok(st);
            }
            if std::time::Instant::now() > deadline {
                clean_up_dead_mount(&self.dir);
                let _ = c.kill();
                let _ = c.wait();
                return Err(err!(
                    "`ntlinkfs mount {}` did not exit after SIGTERM",
                    self.dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
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

/// Removes a dead FUSE mount at `dir` (its daemon gone: every access fails with ENOTCONN) or
/// one whose callers are stuck, the way the README tells a user to: `fusermount3 -uz DIR`
/// (lazy, so processes still inside get ENOTCONN and leave). Does nothing when `dir` is not a
/// FUSE mount point; returns whether a mount was removed.
pub fn clean_up_dead_mount(dir: &Path) -> bool {
    if !mountinfo::is_fuse_mountpoint(dir) {
        return false;
    }
    Command::new("fusermount3")
        .arg("-uz")
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}
