//! The serving model (issue 17, item 2): with one serving thread, the handlers that wait run
//! off it, so every other request is still answered while they wait: an image save runs on the
//! mount's worker, and a reparse setxattr, which waits for the kernel to drop names, drops them
//! itself when nothing can hold the directory's lock, with the parked spare thread to serve
//! if something does (`MountOptions::spare_thread`), and otherwise hands its reply to the
//! invalidation thread (sent once the names are dropped, or by the guard thread after 200 ms).
//! The reparse tests run with and without the spare thread. The save test fails with
//! `wait_worker: false`, the reparse test with the setxattr waiting on the serving thread
//! (both checked when they were written).

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
    one_thread_spare(true)
}

/// One serving thread and the worker, with or without the spare serving thread.
fn one_thread_spare(spare_thread: bool) -> Mounted {
    Mounted::with(
        VolumeOptions::default(),
        MountOptions {
            threads: 1,
            wait_worker: true,
            spare_thread,
            // Exactly one serving thread, however idle the machine.
            widen_when_idle: false,
            ..MountOptions::default()
        },
    )
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

/// A save writes the whole image (and fsyncs it); with one serving thread, other requests are
/// answered while it runs. Answered inline on the only serving thread, every request sent
/// during the save would wait for it to end.
#[test]
fn lookups_are_answered_while_an_image_is_saved() {
    let m = one_thread();
    // Enough data that writing and syncing the image takes a while (hundreds of ms).
    let chunk = vec![0x5au8; 1 << 20];
    {
        use std::io::Write;
        let mut f = fs::File::create(m.p("big.bin")).unwrap();
        for _ in 0..128 {
            f.write_all(&chunk).unwrap();
        }
    }
    fs::create_dir(m.p("sub")).unwrap();
    assert!(fs::metadata(m.p("sub")).unwrap().is_dir()); // cached: the walk needs no lookup
    let out = tempfile::tempdir().unwrap();
    let img = out.path().join("drive.img");
    let dev = fs::metadata(m.root()).unwrap().dev();
    let (root, img2) = (m.root().to_path_buf(), img.clone());
    let saving = Arc::new(AtomicBool::new(true));
    let s2 = saving.clone();
    let started = Instant::now();
    let saver = std::thread::spawn(move || {
        let r = xattr::set(
            &root,
            "user.ntlinkfs.save",
            img2.as_os_str().as_encoded_bytes(),
        );
        s2.store(false, Ordering::SeqCst);
        (r, started.elapsed())
    });
    // Lookups of names never asked before (each one reaches the daemon), counted when one
    // starts and ends while the save is still running. In a subdirectory: the save is a
    // setxattr on the root, whose inode lock the kernel holds until it is answered, so
    // lookups in the root itself wait in the kernel whatever the daemon does.
    let dir = m.p("sub");
    let inside = within(dev, Duration::from_secs(120), "the lookups", move || {
        let mut inside = 0u32;
        let mut n = 0u64;
        while saving.load(Ordering::SeqCst) {
            let r = fs::symlink_metadata(dir.join(format!("missing-{n}")));
            assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::ENOENT));
            if saving.load(Ordering::SeqCst) {
                inside += 1;
            }
            n += 1;
        }
        inside
    });
    let (r, took) = saver.join().unwrap();
    r.expect("save");
    let loaded = vfs_core::image::load(&fs::read(&img).unwrap()).expect("the image loads");
    assert_eq!(loaded.read_file_path(r"\big.bin").unwrap().len(), 128 << 20);
    assert!(
        inside > 0,
        "no lookup was answered during the {took:?} the save took: it blocked the serving thread"
    );
    m.finish();
}

/// Saving into the drive itself is refused at once (EDEADLK): the setxattr holds the root's
/// lock, which writing the image there would need.
#[test]
fn a_save_into_the_drive_is_refused_not_hung() {
    let m = one_thread();
    fs::create_dir(m.p("saves")).unwrap();
    let dev = fs::metadata(m.root()).unwrap().dev();
    for target in [m.p("drive.img"), m.p("saves/drive.img")] {
        let root = m.root().to_path_buf();
        let t = target.clone();
        let r = within(
            dev,
            Duration::from_secs(30),
            "a save into the drive",
            move || {
                xattr::set(
                    &root,
                    "user.ntlinkfs.save",
                    t.as_os_str().as_encoded_bytes(),
                )
            },
        );
        assert_errno(r, libc::EDEADLK);
        assert!(!target.exists());
    }
    m.finish();
}

/// While a setxattr of `system.ntfs_reparse_data` waits for the kernel to drop the directory's
/// cached name, lookups in the same directory keep being answered. The name invalidation
/// needs the parent directory's lock, which a lookup in flight holds until it is answered:
/// with the setxattr on the only serving thread, every junction made while another process
/// looks names up in that directory stalls both for the whole invalidation wait (200 ms);
/// with the reply sent by the invalidation thread, neither waits.
#[test]
fn lookups_are_answered_while_a_reparse_setxattr_waits() {
    lookups_beside_junctions(one_thread());
}

#[test]
fn lookups_are_answered_while_a_reparse_setxattr_waits_without_the_spare_thread() {
    lookups_beside_junctions(one_thread_spare(false));
}

fn lookups_beside_junctions(m: Mounted) {
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

/// The lock chain the wait limit is for: `rmdir p/j` takes `p`'s lock and then waits for
/// `j`'s, which the setxattr turning `j` into a junction holds until it is answered, while the
/// name invalidation that answer waits for needs `p`'s lock. The guard thread answers such a
/// setxattr after 200 ms; without it every such collision would hang both calls for good.
/// The rmdirs race the junctions on purpose: whichever wins, every call returns, the drive
/// stays consistent, and a name left behind is a junction or a directory.
#[test]
fn a_reparse_setxattr_racing_an_rmdir_of_its_directory_always_returns() {
    junctions_racing_rmdirs(one_thread(), true);
}

#[test]
fn a_reparse_setxattr_racing_an_rmdir_without_the_spare_thread_always_returns() {
    junctions_racing_rmdirs(one_thread_spare(false), false);
}

/// `spare`: the mount has the spare thread, which the collisions that block an inline
/// invalidation wake (about half of those the wait limit answers, in the runs so far).
fn junctions_racing_rmdirs(m: Mounted, spare: bool) {
    fs::create_dir(m.p("target")).unwrap();
    fs::create_dir(m.p("p")).unwrap();
    let dev = fs::metadata(m.root()).unwrap().dev();
    const ROUNDS: usize = 100;
    let dir = m.p("p");
    let stop = Arc::new(AtomicBool::new(false));
    let (s2, d2) = (stop.clone(), dir.clone());
    let remover = std::thread::spawn(move || {
        let mut removed = 0u64;
        while !s2.load(Ordering::Relaxed) {
            for i in 0..ROUNDS {
                // ENOENT, ENOTDIR (already a junction: rmdir of a link) and success all happen.
                if try_rmdir(&d2.join(format!("j{i}"))) {
                    removed += 1;
                }
            }
        }
        removed
    });
    let buf = junction(r"C:\target");
    let d3 = dir.clone();
    let slow = within(dev, Duration::from_secs(60), "racing rmdir", move || {
        let mut slow = 0;
        for i in 0..ROUNDS {
            let j = d3.join(format!("j{i}"));
            if fs::create_dir(&j).is_err() {
                continue;
            }
            let t = Instant::now();
            match xattr::set(&j, REPARSE, &buf) {
                Ok(()) => {}
                // The rmdir won: the directory is gone.
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => panic!("setxattr {}: {e}", j.display()),
            }
            if t.elapsed() >= Duration::from_millis(150) {
                slow += 1;
            }
        }
        slow
    });
    stop.store(true, Ordering::Relaxed);
    let removed = remover.join().unwrap();
    eprintln!(
        "{removed} directories removed; {slow} setxattrs answered by the wait limit; the spare \
         thread woke {} times",
        m.handle().spare_rescues()
    );
    if !spare {
        assert_eq!(m.handle().spare_rescues(), 0);
    } else if slow >= 10 {
        assert!(
            m.handle().spare_rescues() > 0,
            "{slow} setxattrs were held up, none inline: is the spare thread in use?"
        );
    }
    for e in fs::read_dir(&dir).unwrap() {
        let t = e.unwrap().file_type().unwrap();
        assert!(t.is_symlink() || t.is_dir(), "{t:?}");
    }
    m.finish();
}

/// With the spare thread parked, an unmount from outside (`umount`, which does not wake it)
/// still ends the session: the parked thread looks at the connection five times a second.
#[test]
fn the_session_ends_after_an_unmount_from_outside_with_the_spare_thread_parked() {
    let m = one_thread();
    // A few requests, so that one serving thread has parked.
    for i in 0..20 {
        fs::create_dir(m.p(&format!("d{i}"))).unwrap();
    }
    let t = Instant::now();
    let st = std::process::Command::new("umount")
        .arg(m.root())
        .status()
        .expect("umount (util-linux: apt-get install mount)");
    assert!(st.success(), "umount {}", m.root().display());
    let end = m.handle().wait_timeout(Duration::from_secs(5));
    assert!(
        matches!(end, Some(Ok(()))),
        "the session ended after the unmount: {end:?}"
    );
    eprintln!("the session ended {:?} after the unmount", t.elapsed());
}

/// rmdir(2) of `p`: true when it removed a directory. A junction is a link to Linux (ENOTDIR),
/// a missing name ENOENT; nothing else is expected.
fn try_rmdir(p: &Path) -> bool {
    match fs::remove_dir(p) {
        Ok(()) => true,
        Err(e) => {
            let code = e.raw_os_error();
            assert!(
                matches!(code, Some(libc::ENOENT) | Some(libc::ENOTDIR)),
                "rmdir {}: {e}",
                p.display()
            );
            false
        }
    }
}

/// A test that aborts its own connection (`within`, when something hangs) leaves no dead
/// mount behind: the guard detaches its mount point when it drops, and the temporary
/// directory goes. Before, `/tmp/ntlinkfs-test-*` stayed mounted and answered "Transport
/// endpoint is not connected".
#[test]
fn an_aborted_mount_is_detached_when_its_guard_drops() {
    let m = one_thread();
    fs::write(m.p("f"), b"data").unwrap();
    // An open file: its handle is never released, as after a real hang.
    let open = fs::File::open(m.p("f")).unwrap();
    let root = m.root().to_path_buf();
    abort_connection(fs::metadata(&root).unwrap().dev());
    assert_errno(fs::metadata(m.p("f")), libc::ENOTCONN);
    // The session sees the abort and ends; the handle's unmount then has nothing to do.
    assert!(
        m.handle().wait_timeout(Duration::from_secs(5)).is_some(),
        "the session ended after the abort"
    );
    assert!(is_mount_point(&root), "the dead mount is still there");
    drop(open);
    drop(m);
    assert!(!is_mount_point(&root), "{} still mounted", root.display());
    assert!(!root.exists(), "{} left behind", root.display());
}
