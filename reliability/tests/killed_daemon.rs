//! Issue item 6: a killed daemon leaves a dead mount ("transport endpoint is not connected");
//! `ntlinkfs mount` at the same path cleans it up and mounts, and so does the by-hand way the
//! README gives (`fusermount3 -uz MOUNT`).

mod common;

use common::{mount, need};
use reliability::mounts::{ntlinkfs_bin, NtlinkfsMount};
use reliability::{control, sys};

#[test]
fn a_new_mount_cleans_up_the_dead_mount_of_a_killed_daemon() {
    let mut m = mount(&[]);
    std::fs::write(m.dir.join("before.txt"), b"x").unwrap();
    m.mount.kill().unwrap();
    // Wedged: every request that reaches the (dead) daemon fails. (A stat may still be
    // answered from the kernel's attribute cache, so list the directory.)
    assert_eq!(
        sys::list_dir(&m.dir),
        Err(libc::ENOTCONN),
        "the killed mount is not wedged"
    );
    assert!(host::mountinfo::is_mountpoint(&m.dir));

    let bin = ntlinkfs_bin().unwrap();
    let again = NtlinkfsMount::start(&bin, &m.dir, &[]).expect("mount over the dead mount");
    assert!(sys::lstat(&again.dir).is_ok());
    // A new, empty volume (the killed one's data was in its memory).
    assert_eq!(sys::list_dir(&again.dir).unwrap(), Vec::<String>::new());
    std::fs::write(again.dir.join("after.txt"), b"works").unwrap();
    assert_eq!(
        std::fs::read(again.dir.join("after.txt")).unwrap(),
        b"works"
    );
    assert_eq!(control::check(&again.dir).unwrap(), "ok");
    // The dead mount is gone, not stacked under the new one.
    let stacked = host::mountinfo::at(&again.dir);
    assert_eq!(stacked.len(), 1, "{stacked:?}");
    let st = again.unmount().unwrap();
    assert!(st.success(), "{st}");
    assert!(!host::mountinfo::is_mountpoint(&m.dir));
}

#[test]
fn fusermount3_uz_clears_a_dead_mount_by_hand() {
    need("fusermount3", "fuse3");
    let mut m = mount(&[]);
    m.mount.kill().unwrap();
    assert_eq!(sys::list_dir(&m.dir), Err(libc::ENOTCONN));
    let st = std::process::Command::new("fusermount3")
        .arg("-uz")
        .arg(&m.dir)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(sys::list_dir(&m.dir), Ok(vec![]));
    assert!(!host::mountinfo::is_mountpoint(&m.dir));
}

#[test]
fn a_new_mount_cleans_up_a_dead_mount_whose_root_is_still_cached() {
    // Killed right after mounting: the kernel still holds the root's attributes, so stat on
    // the dead mount point succeeds, and only requests that reach the daemon fail.
    let mut m = mount(&[]);
    m.mount.kill().unwrap();
    assert_eq!(sys::list_dir(&m.dir), Err(libc::ENOTCONN));
    let bin = ntlinkfs_bin().unwrap();
    let again = NtlinkfsMount::start(&bin, &m.dir, &[]).expect("mount over the dead mount");
    std::fs::write(again.dir.join("f"), b"1").unwrap();
    assert_eq!(sys::list_dir(&again.dir).unwrap(), vec!["f".to_string()]);
    assert!(again.unmount().unwrap().success());
    assert!(!host::mountinfo::is_mountpoint(&m.dir));
}
