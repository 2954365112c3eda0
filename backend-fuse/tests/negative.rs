//! Cached misses (crate docs, "Caching", rule 1), on a real mount: a repeated miss costs no
//! request, and whatever makes the missing name exist, under any spelling and by any path,
//! is seen by the very next call.
//!
//! Requests are counted with the kernel's own `fuse:fuse_request_send` tracepoint, in a
//! private tracefs instance filtered to this mount's connection, so the counts are what the
//! kernel sent (and other mounts on the machine do not disturb them).

mod common;
use common::*;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const ROUNDS: usize = 20;

/// The LOOKUPs the kernel sends to one mount, counted by a private tracefs instance in a
/// tracefs mounted for this counter alone (in a temporary directory, unmounted when it is
/// dropped), so the tests leave the machine's /sys/kernel/tracing as they found it.
struct Lookups {
    dir: PathBuf,
    tracefs: Option<tempfile::TempDir>,
}

impl Lookups {
    fn new(m: &Mounted) -> Lookups {
        let tracefs = tempfile::Builder::new()
            .prefix("ntlinkfs-tracefs-")
            .tempdir()
            .expect("temp dir");
        let (src, dst, ty) = (
            cstr(Path::new("nodev")),
            cstr(tracefs.path()),
            cstr(Path::new("tracefs")),
        );
        // SAFETY: valid NUL-terminated strings, no data.
        let r =
            unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), ty.as_ptr(), 0, std::ptr::null()) };
        let event = tracefs.path().join("events/fuse/fuse_request_send");
        assert!(
            r == 0 && event.exists(),
            "these tests count FUSE requests with the kernel's fuse tracepoints: they mount \
             tracefs (needs root and a kernel with tracing and the fuse tracepoints, Linux 6.12 \
             and later): {}",
            std::io::Error::last_os_error()
        );
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = tracefs.path().join(format!(
            "instances/ntlinkfs-negative-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&dir).expect("tracefs instance");
        // The kernel's dev_t of the mount (MKDEV: major << 20 | minor), as the tracepoint
        // shows its `connection`.
        let dev = fs::metadata(m.root()).unwrap().dev();
        let conn = (libc::major(dev) << 20) | libc::minor(dev);
        let ev = dir.join("events/fuse/fuse_request_send");
        // FUSE_LOOKUP is opcode 1 (include/uapi/linux/fuse.h).
        fs::write(
            ev.join("filter"),
            format!("connection == {conn} && opcode == 1"),
        )
        .unwrap();
        fs::write(ev.join("enable"), "1").unwrap();
        Lookups {
            dir,
            tracefs: Some(tracefs),
        }
    }

    /// LOOKUPs sent since the last call.
    fn take(&self) -> usize {
        let t = fs::read_to_string(self.dir.join("trace")).unwrap();
        fs::write(self.dir.join("trace"), "").unwrap();
        t.lines().filter(|l| l.contains("FUSE_LOOKUP")).count()
    }
}

impl Drop for Lookups {
    fn drop(&mut self) {
        let _ = fs::write(self.dir.join("events/fuse/fuse_request_send/enable"), "0");
        let _ = fs::remove_dir(&self.dir);
        if let Some(t) = self.tracefs.take() {
            let p = cstr(t.path());
            // SAFETY: a valid NUL-terminated path.
            unsafe { libc::umount2(p.as_ptr(), libc::MNT_DETACH) };
            let _ = t.close();
        }
    }
}

fn missing(m: &Mounted, rel: &str) {
    assert_errno(fs::symlink_metadata(m.p(rel)), libc::ENOENT);
}

/// PATH, include and import probing: the same missing names asked again and again cost one
/// LOOKUP each, once.
#[test]
fn repeated_misses_cost_no_request() {
    let m = Mounted::new();
    fs::create_dir(m.p("bin")).unwrap();
    let t = Lookups::new(&m);
    let names = ["bin/gcc", "bin/cc", "include.h", "bin/python3"];
    for n in names {
        missing(&m, n);
    }
    assert_eq!(t.take(), names.len(), "one LOOKUP per missing name");
    for _ in 0..50 {
        for n in names {
            missing(&m, n);
        }
    }
    assert_eq!(t.take(), 0, "repeated misses answered by the kernel");
    // Another spelling is another kernel name: asked once (the directory's other spelling
    // and the file's), then cached too.
    missing(&m, "BIN/GCC");
    missing(&m, "BIN/GCC");
    assert_eq!(t.take(), 2);
    m.finish();
}

/// Creating a missed name under the spelling that was missed needs no epoch (the kernel
/// turns its own dentry positive): other cached names stay cached. Creating it under
/// another spelling raises the epoch: the missed spelling is seen at once, and every cached
/// name is asked once more.
#[test]
fn creating_under_another_spelling_raises_the_epoch_only_then() {
    let m = Mounted::new();
    fs::write(m.p("keep"), b"k").unwrap();
    let t = Lookups::new(&m);
    for i in 0..ROUNDS {
        assert!(fs::metadata(m.p("keep")).is_ok());
        let same = format!("same{i}");
        missing(&m, &same);
        fs::write(m.p(&same), b"s").unwrap();
        assert_eq!(fs::read(m.p(&same)).unwrap(), b"s");
        t.take();
        assert!(fs::metadata(m.p("keep")).is_ok());
        assert_eq!(
            t.take(),
            0,
            "round {i}: no epoch for the kernel's own spelling"
        );

        let other = format!("other{i}");
        missing(&m, &other);
        fs::write(m.p(&other.to_uppercase()), b"o").unwrap();
        assert_eq!(fs::read(m.p(&other)).unwrap(), b"o", "round {i}");
        t.take();
        assert!(fs::metadata(m.p("keep")).is_ok());
        assert_eq!(
            t.take(),
            1,
            "round {i}: the epoch made the kernel ask again"
        );
    }
    m.finish();
}

/// Every request that makes a name, each after a cached miss of another spelling, followed
/// by a call that must see the new name at once.
#[test]
fn every_way_of_making_a_name_is_seen_after_a_miss() {
    let m = Mounted::new();
    fs::create_dir(m.p("target")).unwrap();
    fs::write(m.p("target/x"), b"in target").unwrap();
    let t = Lookups::new(&m);
    for i in 0..ROUNDS {
        let n = |s: &str| format!("{s}{i}");
        let up = |s: &str| format!("{s}{i}").to_uppercase();
        let all = ["create", "rename", "link", "symlink", "fifo", "mkdir"];
        for s in all {
            missing(&m, &n(s));
        }
        t.take();
        for s in all {
            missing(&m, &n(s));
        }
        assert_eq!(t.take(), 0, "round {i}: the misses are cached");

        fs::File::create(m.p(&up("create"))).unwrap();
        assert!(fs::metadata(m.p(&n("create"))).is_ok(), "create, round {i}");

        fs::write(m.p(&n("src")), b"r").unwrap();
        fs::rename(m.p(&n("src")), m.p(&up("rename"))).unwrap();
        assert_eq!(
            fs::read(m.p(&n("rename"))).unwrap(),
            b"r",
            "rename, round {i}"
        );

        fs::hard_link(m.p(&n("rename")), m.p(&up("link"))).unwrap();
        assert_eq!(
            fs::metadata(m.p(&n("link"))).unwrap().nlink(),
            2,
            "link, round {i}"
        );

        std::os::unix::fs::symlink("target", m.p(&up("symlink"))).unwrap();
        assert_eq!(
            fs::read(m.p(&format!("{}/x", n("symlink")))).unwrap(),
            b"in target",
            "symlink, round {i}"
        );

        let fifo = cstr(&m.p(&up("fifo")));
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        assert!(
            fs::symlink_metadata(m.p(&n("fifo")))
                .unwrap()
                .file_type()
                .is_fifo_like(),
            "mknod, round {i}"
        );

        fs::create_dir(m.p(&up("mkdir"))).unwrap();
        assert!(
            fs::metadata(m.p(&n("mkdir"))).unwrap().is_dir(),
            "mkdir, round {i}"
        );
    }
    m.finish();
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

/// A miss below a directory that then becomes a junction: the walk through the junction
/// finds the name in its target at once.
#[test]
fn a_miss_below_a_directory_that_becomes_a_junction() {
    let m = Mounted::new();
    fs::create_dir(m.p("target")).unwrap();
    fs::write(m.p("target/x"), b"x").unwrap();
    let buf = junction(r"C:\target");
    let t = Lookups::new(&m);
    for i in 0..ROUNDS {
        fs::create_dir(m.p("j")).unwrap();
        missing(&m, "j/x");
        t.take();
        missing(&m, "j/x");
        assert_eq!(t.take(), 0, "round {i}: cached");
        xattr::set(m.p("j"), REPARSE, &buf).unwrap();
        assert_eq!(fs::read(m.p("j/x")).unwrap(), b"x", "round {i}");
        fs::remove_file(m.p("j")).unwrap();
    }
    m.finish();
}

/// Names made on the volume directly while mounted, and a directory whose case rule changes
/// behind the kernel's back: the volume tells the mount (vfs_core::NameWatcher), no call
/// needed.
#[test]
fn names_made_on_the_volume_directly_are_seen_after_a_miss() {
    let m = Mounted::new();
    let t = Lookups::new(&m);
    for i in 0..ROUNDS {
        // The exact spelling missed (the kernel made nothing itself: an epoch all the
        // same), then another spelling.
        for (missed, made) in [
            (format!("v{i}"), format!("v{i}")),
            (format!("w{i}"), format!("W{i}")),
        ] {
            missing(&m, &missed);
            missing(&m, &missed);
            m.vol.write_file_path(&format!(r"\{made}"), b"v").unwrap();
            assert_eq!(fs::read(m.p(&missed)).unwrap(), b"v", "{made}, round {i}");
        }
    }
    // A case-sensitive directory (A5): "Foo" exists, "foo" is missing there and cached so;
    // the flag is cleared on the volume directly.
    fs::create_dir(m.p("cs")).unwrap();
    let cs = m.vol.resolve(r"\cs", false).unwrap();
    m.vol.set_case_sensitive(cs, true).unwrap();
    fs::write(m.p("cs/Foo"), b"F").unwrap();
    missing(&m, "cs/foo");
    t.take();
    missing(&m, "cs/foo");
    assert_eq!(t.take(), 0, "cached");
    m.vol.set_case_sensitive(cs, false).unwrap();
    assert_eq!(
        fs::read(m.p("cs/foo")).unwrap(),
        b"F",
        "the case rule changed"
    );
    m.finish();
}

/// Two threads: one keeps missing a name under one spelling while the other creates it
/// under another; once the create returns, the name is seen. Never a stale miss.
#[test]
fn a_miss_racing_a_create_never_sticks() {
    let m = Mounted::new();
    let root = m.root().to_path_buf();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let round = std::sync::Arc::new(AtomicUsize::new(0));
    let reader = {
        let (stop, round, root) = (stop.clone(), round.clone(), root.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let r = round.load(Ordering::Relaxed);
                let _ = fs::symlink_metadata(root.join(format!("race{r}")));
                n += 1;
            }
            n
        })
    };
    for i in 0..200 {
        round.store(i, Ordering::Relaxed);
        for _ in 0..3 {
            let _ = fs::symlink_metadata(root.join(format!("race{i}")));
        }
        fs::write(root.join(format!("RACE{i}")), b"r").unwrap();
        assert!(
            fs::symlink_metadata(root.join(format!("race{i}"))).is_ok(),
            "round {i}: a stale miss"
        );
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    m.finish();
}

/// A case-only rename's new name is answered missing to the renaming thread only, and that
/// answer is never cached: afterwards the new spelling is there, and so is the old one (the
/// same entry).
#[test]
fn the_case_only_rename_target_is_never_cached() {
    let m = Mounted::new();
    for i in 0..ROUNDS {
        let (a, b) = (format!("Case{i}.txt"), format!("CASE{i}.TXT"));
        fs::write(m.p(&a), b"c").unwrap();
        fs::rename(m.p(&a), m.p(&b)).unwrap();
        assert!(fs::metadata(m.p(&b)).is_ok(), "round {i}");
        assert!(fs::metadata(m.p(&a)).is_ok(), "round {i}");
        let names: Vec<_> = fs::read_dir(m.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.eq_ignore_ascii_case(&b))
            .collect();
        assert_eq!(names, vec![b]);
    }
    m.finish();
}

/// A hard-linked file looked up under another spelling of one name: unlinking that name
/// leaves the other names with the file's inode number (the node is kept, the epoch drops
/// the removed name's spellings), and an open file keeps fstat working.
#[test]
fn unlinking_one_aliased_name_keeps_the_inode_number_of_the_others() {
    let m = Mounted::new();
    fs::write(m.p("keep"), b"k").unwrap();
    let ino = fs::metadata(m.p("keep")).unwrap().ino();
    for i in 0..ROUNDS {
        fs::hard_link(m.p("keep"), m.p("Name")).unwrap();
        assert_eq!(fs::metadata(m.p("Name")).unwrap().ino(), ino);
        assert_eq!(fs::metadata(m.p("NAME")).unwrap().ino(), ino, "aliased");
        let open = fs::File::open(m.p("nAmE")).unwrap();
        fs::remove_file(m.p(["name", "NAME", "Name"][i % 3])).unwrap();
        for s in ["Name", "NAME", "nAmE"] {
            assert_errno(fs::metadata(m.p(s)), libc::ENOENT);
        }
        let st = fs::metadata(m.p("keep")).unwrap();
        assert_eq!((st.ino(), st.nlink()), (ino, 1), "round {i}");
        assert_eq!(
            open.metadata().unwrap().nlink(),
            1,
            "fstat of the open file"
        );
        assert_eq!(fs::read(m.p("keep")).unwrap(), b"k");
    }
    m.finish();
}

/// The same for rename: a file looked up under other spellings of its name, renamed, keeps
/// its inode number under the new name, and the old spellings are gone at once; a hard-linked
/// file replaced by a rename (its replaced name looked up under another spelling) keeps its
/// inode number under its other name.
#[test]
fn renaming_an_aliased_name_keeps_the_inode_number() {
    let m = Mounted::new();
    for i in 0..ROUNDS {
        let (old, new) = (format!("Old{i}"), format!("new{i}"));
        fs::write(m.p(&old), b"o").unwrap();
        let ino = fs::metadata(m.p(&old)).unwrap().ino();
        let upper = old.to_uppercase();
        assert_eq!(fs::metadata(m.p(&upper)).unwrap().ino(), ino, "aliased");
        let open = fs::File::open(m.p(&old.to_lowercase())).unwrap();
        fs::rename(m.p(&upper), m.p(&new)).unwrap();
        for s in [old.clone(), upper.clone(), old.to_lowercase()] {
            assert_errno(fs::metadata(m.p(&s)), libc::ENOENT);
        }
        assert_eq!(fs::metadata(m.p(&new)).unwrap().ino(), ino, "round {i}");
        assert_eq!(
            open.metadata().unwrap().ino(),
            ino,
            "fstat of the open file"
        );

        // Replacing one name of a hard-linked file that was looked up under two spellings.
        let (keep, victim) = (format!("keep{i}"), format!("Victim{i}"));
        fs::write(m.p(&keep), b"k").unwrap();
        fs::hard_link(m.p(&keep), m.p(&victim)).unwrap();
        let kino = fs::metadata(m.p(&keep)).unwrap().ino();
        assert_eq!(
            fs::metadata(m.p(&victim.to_uppercase())).unwrap().ino(),
            kino
        );
        fs::rename(m.p(&new), m.p(&victim)).unwrap();
        let st = fs::metadata(m.p(&keep)).unwrap();
        assert_eq!(
            (st.ino(), st.nlink()),
            (kino, 1),
            "round {i}: the kept name"
        );
        for s in [victim.clone(), victim.to_uppercase()] {
            assert_eq!(
                fs::metadata(m.p(&s)).unwrap().ino(),
                ino,
                "the moved file at {s}"
            );
        }
    }
    m.finish();
}
