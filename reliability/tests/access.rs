//! Issue item 7: by default only the mounting user reaches the drive (no `allow_other`) and the
//! kernel enforces permission bits (`default_permissions`). Another user is played by
//! `setpriv` (util-linux) as nobody (65534).

mod common;

use common::{mount, need};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const NOBODY: &str = "65534";

/// Runs a command as nobody; (success, stderr).
fn as_nobody(args: &[&str]) -> (bool, String) {
    need("setpriv", "util-linux");
    let out = Command::new("setpriv")
        .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"])
        .args(args)
        .output()
        .expect("run setpriv");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The mount's options and its file system's options, as mountinfo lists them.
fn mount_options(dir: &Path) -> String {
    let m = host::mountinfo::at(dir)
        .pop()
        .unwrap_or_else(|| panic!("{} not in mountinfo", dir.display()));
    format!("{} {}", m.options, m.super_options)
}

#[test]
fn another_user_is_refused_on_a_default_mount() {
    let m = mount(&[]);
    std::fs::write(m.dir.join("open.txt"), b"readable by all").unwrap();
    std::fs::set_permissions(
        m.dir.join("open.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(&m.dir, std::fs::Permissions::from_mode(0o755)).unwrap();

    let line = mount_options(&m.dir);
    assert!(line.contains("default_permissions"), "{line}");
    assert!(!line.contains("allow_other"), "{line}");

    // Control: nobody reaches the directory that holds the mount point.
    let (ok, err) = as_nobody(&["stat", m.tmp.path().to_str().unwrap()]);
    assert!(ok, "nobody cannot even reach the parent: {err}");

    for args in [
        vec!["stat", m.dir.to_str().unwrap()],
        vec!["ls", m.dir.to_str().unwrap()],
        vec!["cat", m.dir.join("open.txt").to_str().unwrap()],
    ] {
        let (ok, err) = as_nobody(&args);
        assert!(!ok, "{args:?} as nobody succeeded on a default mount");
        assert!(err.contains("Permission denied"), "{args:?}: {err}");
    }
    // The mounting user still works.
    assert_eq!(
        std::fs::read(m.dir.join("open.txt")).unwrap(),
        b"readable by all"
    );
}

#[test]
fn with_allow_other_the_kernel_enforces_permission_bits() {
    let m = mount(&["--allow-other"]);
    let line = mount_options(&m.dir);
    assert!(
        line.contains("allow_other") && line.contains("default_permissions"),
        "{line}"
    );
    std::fs::set_permissions(&m.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let open = m.dir.join("open.txt");
    let secret = m.dir.join("secret.txt");
    std::fs::write(&open, b"for all").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&secret, b"root only").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();

    let (ok, err) = as_nobody(&["cat", open.to_str().unwrap()]);
    assert!(ok, "nobody cannot read a 0644 file with allow_other: {err}");
    let (ok, err) = as_nobody(&["cat", secret.to_str().unwrap()]);
    assert!(!ok && err.contains("Permission denied"), "0600 file: {err}");
    let (ok, err) = as_nobody(&["touch", m.dir.join("new").to_str().unwrap()]);
    assert!(
        !ok && err.contains("Permission denied"),
        "create in a 0755 root dir: {err}"
    );
    let (ok, err) = as_nobody(&["rm", "-f", open.to_str().unwrap()]);
    assert!(
        !ok && err.contains("Permission denied"),
        "unlink in a 0755 root dir: {err}"
    );
    assert!(open.exists());
}
