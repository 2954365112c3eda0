//! Issue 14 item 7: `ntlinkfs unmount MOUNTPOINT` returns only when the daemon has saved the
//! image and exited, and says where the image is; the temporary file of a killed save is
//! removed when that image is mounted again; a busy drive is refused, not detached.

mod common;

use common::{open_tempdir, TestMount};
use reliability::mounts::{ntlinkfs_bin, NtlinkfsMount};
use std::process::Command;

fn mount_image(tmp: tempfile::TempDir, img: &std::path::Path) -> TestMount {
    let dir = tmp.path().join("mnt");
    std::fs::create_dir_all(&dir).unwrap();
    let bin = ntlinkfs_bin().unwrap();
    let mount =
        NtlinkfsMount::start(&bin, &dir, &["--image", img.to_str().unwrap()]).expect("mount");
    TestMount { mount, dir, tmp }
}

/// (success, stdout, stderr) of `ntlinkfs unmount DIR`.
fn unmount(dir: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(ntlinkfs_bin().unwrap())
        .arg("unmount")
        .arg(dir)
        .output()
        .expect("run ntlinkfs unmount");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unmount_returns_after_the_image_is_saved_and_the_daemon_exited() {
    let tmp = open_tempdir();
    let img = tmp.path().join("drive.img");
    let mut m = mount_image(tmp, &img);
    // Enough data that the save takes a moment after the session ends.
    let data: Vec<u8> = (0..32 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    std::fs::write(m.dir.join("big.bin"), &data).unwrap();
    std::fs::write(m.dir.join("a.txt"), b"kept").unwrap();
    let (ok, out, err) = unmount(&m.dir);
    assert!(ok, "ntlinkfs unmount failed: {err}");
    // At return: the daemon is gone and the image is complete, without waiting further.
    assert!(
        m.mount.try_wait().is_some(),
        "the daemon still runs after unmount returned"
    );
    assert!(
        out.contains(&format!("saved in {}", img.display())),
        "does not say where the image is: {out}"
    );
    assert!(!host::mountinfo::is_mountpoint(&m.dir));
    let vol = vfs_core::image::load_file(&img).expect("the image is complete at return");
    assert_eq!(vol.read_file_path(r"\a.txt").unwrap(), b"kept");
    assert_eq!(vol.read_file_path(r"\big.bin").unwrap(), data);

    // A killed save left a temporary file: mounting the image again removes it.
    let stale = img.with_file_name(".ntlinkfs-save-Killed.tmp");
    std::fs::write(&stale, &data[..1 << 20]).unwrap();
    let tmp = m.tmp;
    let again = mount_image(tmp, &img);
    assert!(
        !stale.exists(),
        "the mount left the stale temporary file: {}",
        again.mount.log_text()
    );
    assert_eq!(std::fs::read(again.dir.join("a.txt")).unwrap(), b"kept");
    // Busy: refused, still mounted, nothing lost.
    let open = std::fs::File::open(again.dir.join("a.txt")).unwrap();
    let (ok, _, err) = unmount(&again.dir);
    assert!(!ok && err.contains("busy"), "{err}");
    assert!(host::mountinfo::is_mountpoint(&again.dir));
    drop(open);
    let (ok, out, err) = unmount(&again.dir);
    assert!(ok, "{err}");
    assert!(out.contains("saved in"), "{out}");
}

#[test]
fn unmount_without_an_image_says_so() {
    let m = common::mount(&[]);
    let (ok, out, err) = unmount(&m.dir);
    assert!(ok, "{err}");
    assert!(out.contains("without --image"), "{out}");
    assert!(!host::mountinfo::is_mountpoint(&m.dir));
    // Not an ntlinkfs drive at all: a clear error.
    let (ok, _, err) = unmount(m.tmp.path());
    assert!(
        !ok && err.contains("not the mount point of an ntlinkfs drive"),
        "{err}"
    );
}
