//! Shared by the mount tests: a real `ntlinkfs mount` in a temporary directory.

#![allow(dead_code)]

use reliability::mounts::{ntlinkfs_bin, NtlinkfsMount};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// A mount and the temporary directory holding its mount point (kept alive with it).
pub struct TestMount {
    pub mount: NtlinkfsMount,
    pub dir: PathBuf,
    pub tmp: tempfile::TempDir,
}

/// A temporary directory other users may traverse (so that only the mount can refuse them).
pub fn open_tempdir() -> tempfile::TempDir {
    let tmp = tempfile::Builder::new()
        .prefix("ntlinkfs-reliability-")
        .tempdir()
        .expect("temporary directory");
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod 755 on the temporary directory");
    tmp
}

/// Starts `ntlinkfs mount TMP/mnt EXTRA...`.
pub fn mount(extra: &[&str]) -> TestMount {
    let tmp = open_tempdir();
    let dir = tmp.path().join("mnt");
    std::fs::create_dir(&dir).expect("mkdir mount point");
    let bin = ntlinkfs_bin().expect("the ntlinkfs binary");
    let mount = NtlinkfsMount::start(&bin, &dir, extra).expect("ntlinkfs mount");
    TestMount { mount, dir, tmp }
}

/// Fails with what to install when a program is missing (tests never skip silently).
pub fn need(program: &str, package: &str) {
    reliability::mounts::require_program(program, package).unwrap_or_else(|e| panic!("{e:#}"));
}
