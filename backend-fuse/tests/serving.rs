//! The serving model (issue 17, item 2): with one serving thread, the handlers that wait (a
//! reparse setxattr waiting for the kernel to drop names, an image save) run on the mount's
//! worker, so every other request is still answered while they wait.

mod common;
use backend_fuse::MountOptions;
use common::*;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use vfs_core::VolumeOptions;

/// One serving thread and the worker: the model whose correctness is at stake.
fn one_thread() -> Mounted {
    Mounted::with(
        VolumeOptions::default(),
        MountOptions {
            threads: 1,
            wait_worker: true,
            ..MountOptions::default()
        },
    )
}

/// Aborts this test's own FUSE connection (so that a hung request fails the test instead of
/// hanging the test process: its own thread would wait for a reply its own dead daemon never
/// sends, and the process could not exit): /sys/fs/fuse/connections/DEV/abort, DEV being the
/// mount's device number. The fusectl file system is mounted there first if it is not.
fn abort_connection(dev: u64) {
    let p = format!("/sys/fs/fuse/connections/{dev}/abort");
    if !Path::new(&p).exists() {
        let _ = std::process::Command::new("mount")
            .args(["-t", "fusectl", "fusectl", "/sys/fs/fuse/connections"])
            .status();
    }
    if let Err(e) = fs::write(&p, b"1") {
        eprintln!("could not abort the hung mount through {p}: {e}");
    }
}

/// Runs `f` on a thread; panics with `what` (after aborting the mount's connection) if it has
/// not returned within `limit`.
fn within<T: Send + 'static>(
    dev: u64,
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => {
            abort_connection(dev);
            panic!("{what} did not return within {limit:?}: the serving thread is stalled");
        }
    }
}

/// An image saved into the drive itself: the save writes the image through the mount, so the
/// serving thread must be free to answer those writes while the save request waits. Answered
/// inline on the only serving thread, this is a deadlock (the save waits for writes that only
/// it could serve).
#[test]
fn an_image_saved_into_the_mount_with_one_serving_thread_completes() {
    let m = one_thread();
    fs::write(m.p("kept.txt"), b"in the image").unwrap();
    // Not in the root: setxattr on the root holds the root's inode lock, which creating the
    // temporary file there would need.
    fs::create_dir(m.p("saves")).unwrap();
    let dev = fs::metadata(m.root()).unwrap().dev();
    let root = m.root().to_path_buf();
    let img = m.p("saves/drive.img");
    let img2 = img.clone();
    let r = within(
        dev,
        Duration::from_secs(30),
        "the save into the mount",
        move || {
            xattr::set(
                &root,
                "user.ntlinkfs.save",
                img2.as_os_str().as_encoded_bytes(),
            )
        },
    );
    r.expect("save into the mount");
    let bytes = fs::read(&img).expect("the image is in the mount");
    let loaded = vfs_core::image::load(&bytes).expect("the saved image loads");
    assert_eq!(
        loaded.read_file_path(r"\kept.txt").unwrap(),
        b"in the image"
    );
    m.finish();
}

/// While a setxattr of `system.ntfs_reparse_data` waits for the kernel to drop the directory's
/// cached name, lookups in the same directory keep being answered. The name invalidation
/// needs the parent directory's lock, which a lookup in flight holds until it is answered:
/// with the setxattr on the only serving thread, every junction made while another process
/// looks names up in that directory stalls both for the whole invalidation wait (200 ms);
/// with the worker, neither waits.
#[test]
fn lookups_are_answered_while_a_reparse_setxattr_waits() {
    let m = one_thread();
    fs::create_dir(m.p("target")).unwrap();
    fs::create_dir(m.p("p")).unwrap();
    let dev = fs::metadata(m.root()).unwrap().dev();
    let stop = Arc::new(AtomicBool::new(false));
    let dir = m.p("p");
    let (s2, d2) = (stop.clone(), dir.clone());
    // The reader: stats names that do not exist (each one a LOOKUP in `p`), and records the
    // slowest answer.
    let reader = std::thread::spawn(move || {
        let mut slowest = Duration::ZERO;
        let mut n = 0u64;
        while !s2.load(Ordering::Relaxed) {
            let t = Instant::now();
            let r = fs::symlink_metadata(d2.join(format!("missing-{n}")));
            slowest = slowest.max(t.elapsed());
            assert_eq!(
                r.map_err(|e| e.raw_os_error()).unwrap_err(),
                Some(libc::ENOENT)
            );
            n += 1;
        }
        (n, slowest)
    });
    const JUNCTIONS: usize = 40;
    // A stall is a junction creation that took most of the invalidation wait (200 ms).
    const STALL: Duration = Duration::from_millis(150);
    let buf = junction(r"C:\target");
    let d3 = dir.clone();
    let stalls = within(
        dev,
        Duration::from_secs(120),
        "making junctions",
        move || {
            let mut stalls = 0;
            for i in 0..JUNCTIONS {
                let j = d3.join(format!("j{i}"));
                fs::create_dir(&j).unwrap();
                // Cached as a directory, so that the setxattr has a name to drop and waits.
                assert!(fs::metadata(&j).unwrap().is_dir());
                let t = Instant::now();
                xattr::set(&j, REPARSE, &buf).unwrap();
                if t.elapsed() >= STALL {
                    stalls += 1;
                }
                assert!(fs::symlink_metadata(&j).unwrap().file_type().is_symlink());
            }
            stalls
        },
    );
    stop.store(true, Ordering::Relaxed);
    let (lookups, slowest) = reader.join().unwrap();
    assert!(lookups > 0, "the reader made no lookup");
    // A loaded machine can delay any one call past 150 ms; the inline model stalls them all.
    assert!(
        stalls * 4 < JUNCTIONS,
        "{stalls} of {JUNCTIONS} junction setxattrs took at least {STALL:?} while {lookups} \
         lookups ran beside them (slowest lookup {slowest:?}): the wait blocked the serving thread"
    );
    for i in 0..JUNCTIONS {
        assert_eq!(
            fs::read_link(dir.join(format!("j{i}"))).unwrap(),
            m.p("target")
        );
    }
    m.finish();
}
