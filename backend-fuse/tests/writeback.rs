//! The writeback cache made coherent (issue 17 item 4), on real mounts with
//! `MountOptions::writeback_cache`: readers of the engine see data the kernel still holds
//! dirty (control attributes, `user.ntlinkfs.save`, `MountHandle::sync`, the end of the
//! session), the kernel's times become NTFS's without refusing a writer who is not the owner,
//! every name and node of a file shows the same data and size, a write that does not fit
//! fails in write(2) itself (A8), a write through a direct handle moves the mtime stat shows
//! and the later of a cached and a direct write sets LastWriteTime, and READONLY set after
//! an open keeps that handle writing.
#![cfg(target_os = "linux")]

mod common;

use backend_fuse::{MountOptions, Permissions};
use common::*;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use vfs_core::{Volume, VolumeOptions};

fn wb() -> MountOptions {
    MountOptions {
        writeback_cache: true,
        ..MountOptions::default()
    }
}

/// A writeback mount of an 8 MiB drive: below the free-space margin, so every open for
/// writing is direct (`Writeback::direct_io`).
fn small_drive() -> Mounted {
    let vo = VolumeOptions {
        capacity: Some(8 << 20),
        ..VolumeOptions::default()
    };
    Mounted::with(vo, wb())
}

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// FILETIME (100 ns since 1601) of a stat's mtime, as the backend converts it.
fn filetime(secs: i64, nsecs: i64) -> u64 {
    const UNIX_EPOCH_FILETIME: u64 = 116_444_736_000_000_000;
    UNIX_EPOCH_FILETIME + secs as u64 * 10_000_000 + nsecs as u64 / 100
}

/// LastWriteTime from `system.ntfs_times` (creation, last write, last access, change).
fn ntfs_last_write(p: &std::path::Path) -> u64 {
    let v = xattr::get(p, "system.ntfs_times").unwrap().unwrap();
    u64::from_le_bytes(v[8..16].try_into().unwrap())
}

/// Data written but not yet closed is in the kernel's page cache only; the image save, the
/// times attribute and `MountHandle::sync` make the kernel write it back first.
#[test]
fn saves_and_state_reads_see_data_the_kernel_holds_dirty() {
    saves_and_state_reads(wb());
}

/// The same with two serving threads and no worker asked for (`--threads 2`): a writeback
/// mount has the worker anyway, which runs the syncfs.
#[test]
fn saves_and_state_reads_with_two_serving_threads() {
    saves_and_state_reads(MountOptions {
        threads: 2,
        wait_worker: false,
        widen_when_idle: false,
        ..wb()
    });
}

fn saves_and_state_reads(mo: MountOptions) {
    let m = Mounted::with(VolumeOptions::default(), mo);
    let img_dir = tempfile::tempdir().unwrap();
    for round in 0..3u8 {
        let name = format!("f{round}");
        let data = pattern(300_000 + round as usize * 4096, round);
        fs::write(m.p(&name), b"").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let mut f = fs::OpenOptions::new().write(true).open(m.p(&name)).unwrap();
        f.write_all(&data).unwrap();
        // The image: saved while the file is open and its pages dirty.
        let img = img_dir.path().join(format!("{name}.img"));
        xattr::set(
            m.root(),
            "user.ntlinkfs.save",
            img.as_os_str().as_encoded_bytes(),
        )
        .unwrap();
        let saved = vfs_core::image::load_file(&img).unwrap();
        assert_eq!(
            saved.read_file_path(&format!("\\{name}")).unwrap(),
            data,
            "round {round}: the image has what was written"
        );
        // LastWriteTime as the engine has it is the mtime the kernel shows.
        let st = lstat(&m.p(&name)).unwrap();
        assert_eq!(
            ntfs_last_write(&m.p(&name)),
            filetime(st.st_mtime, st.st_mtime_nsec),
            "round {round}: system.ntfs_times after a write still dirty"
        );
        m.assert_check_ok();
        // MountHandle::sync for a caller reading the volume directly.
        let more = pattern(70_000, round + 100);
        f.write_all(&more).unwrap();
        m.handle().sync().unwrap();
        let mut want = data.clone();
        want.extend_from_slice(&more);
        assert_eq!(m.vol.read_file_path(&format!("\\{name}")).unwrap(), want);
        drop(f);
        // Close wrote it back: the engine's times are exactly the kernel's.
        let st = lstat(&m.p(&name)).unwrap();
        let id = m.vol.resolve(&format!("\\{name}"), false).unwrap();
        let t = m.vol.stat(id).unwrap().times;
        assert_eq!(t.last_write, filetime(st.st_mtime, st.st_mtime_nsec));
        assert_eq!(t.change, filetime(st.st_ctime, st.st_ctime_nsec));
    }
    m.finish();
}

/// The session ends only after the last file is closed, and close writes back (also what a
/// shared mapping dirtied): a lazy unmount with the file still open and mapped loses nothing.
/// The writer is a child process: munmap waits for the write-back with the mapping lock of
/// its process held, which the daemon's threads would need if they shared that process.
#[test]
fn the_end_of_the_session_has_every_byte() {
    let dir = tempfile::Builder::new()
        .prefix("ntlinkfs-test-")
        .tempdir()
        .unwrap();
    let vol = Arc::new(Volume::new(VolumeOptions::default()));
    let h = backend_fuse::mount(vol.clone(), dir.path(), &wb()).unwrap();
    let p = h.mountpoint().join("m");
    // Writes 1 MiB of 0x5a, maps 2 MiB shared and fills the second MiB with 0xab, unmaps,
    // says "ready" and keeps the file open until its stdin closes.
    let script = r#"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"\x5a" * (1 << 20))
os.ftruncate(fd, 2 << 20)
m = mmap.mmap(fd, 2 << 20, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[1 << 20:] = b"\xab" * (1 << 20)
m.close()
print("ready", flush=True)
sys.stdin.read()
os.close(fd)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(&p)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (apt-get install python3)");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    h.unmounter().unmount().unwrap();
    assert!(
        h.wait_timeout(Duration::from_millis(300)).is_none(),
        "the session waits for the open file"
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    // The session ends with the close. After a shared mapping's pages were written back the
    // serving thread's read of /dev/fuse sometimes fails with ECONNABORTED instead of ENODEV
    // (Linux 6.18); after a requested unmount that is the same end (`MountHandle::unmount`
    // takes it so), and what the volume holds is checked below either way.
    match h
        .wait_timeout(Duration::from_secs(10))
        .expect("session ended after the close")
    {
        Ok(()) => {}
        Err(backend_fuse::MountError::Session { cause, .. })
            if cause.kind() == std::io::ErrorKind::ConnectionAborted => {}
        Err(e) => panic!("{e}"),
    }
    let got = vol.read_file_path(r"\m").unwrap();
    assert_eq!(got.len(), 2 << 20);
    assert!(got[..1 << 20].iter().all(|&b| b == 0x5a), "written data");
    assert!(got[1 << 20..].iter().all(|&b| b == 0xab), "mapped data");
    vol.check().unwrap();
    assert_eq!(vol.open_handle_count(), 0);
}

/// Hard links share one kernel inode, so one page cache: what one name wrote (still dirty)
/// is read and sized through every other name, and through every spelling (A5).
#[test]
fn every_name_and_spelling_sees_dirty_data() {
    let m = Mounted::with(VolumeOptions::default(), wb());
    fs::write(m.p("Foo"), b"").unwrap();
    fs::hard_link(m.p("Foo"), m.p("link")).unwrap();
    let mut f = fs::OpenOptions::new().write(true).open(m.p("Foo")).unwrap();
    let data = pattern(123_457, 3);
    f.write_all(&data).unwrap();
    for other in ["FOO", "foo", "link", "LINK", "Foo"] {
        assert_eq!(
            fs::metadata(m.p(other)).unwrap().len(),
            data.len() as u64,
            "{other}"
        );
        assert_eq!(fs::read(m.p(other)).unwrap(), data, "{other}");
    }
    drop(f);
    assert_eq!(m.vol.read_file_path(r"\link").unwrap(), data);
    m.finish();
}

/// A retired node (here by `MountHandle::invalidate`) stays alive for its open handle while
/// a fresh node serves new lookups; each has its own page cache. Data the old node holds
/// dirty is written back before the fresh node is handed out and opened, and the fresh
/// node's handles are direct, so they read what the old one writes next.
#[test]
fn a_fresh_node_sees_what_the_retired_one_holds_dirty() {
    let m = Mounted::with(VolumeOptions::default(), wb());
    for round in 0..5u8 {
        let p = m.p(&format!("r{round}"));
        fs::write(&p, b"").unwrap();
        let id = m.vol.resolve(&format!("\\r{round}"), false).unwrap();
        let mut old = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        let data = pattern(200_000, round);
        old.write_all(&data).unwrap();
        let ino_before = fs::metadata(&p).unwrap().ino();
        m.handle().invalidate(id);
        let meta = fs::metadata(&p).unwrap();
        assert_ne!(meta.ino(), ino_before, "round {round}: a fresh node");
        assert_eq!(
            meta.len(),
            data.len() as u64,
            "round {round}: size via the fresh node"
        );
        let mut fresh = fs::File::open(&p).unwrap();
        let mut got = Vec::new();
        fresh.read_to_end(&mut got).unwrap();
        assert_eq!(got, data, "round {round}: data via the fresh node");
        // The old node writes on; the fresh node's direct handle reads the engine.
        old.seek(SeekFrom::Start(0)).unwrap();
        old.write_all(b"changed").unwrap();
        old.sync_data().unwrap();
        let mut head = [0u8; 7];
        fresh.seek(SeekFrom::Start(0)).unwrap();
        fresh.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"changed", "round {round}");
        // The old node writes again, dirty in its cache; an open through the fresh node
        // has it written back first.
        old.seek(SeekFrom::Start(0)).unwrap();
        old.write_all(b"AGAIN").unwrap();
        let mut again = fs::File::open(&p).unwrap();
        again.read_exact(&mut head[..5]).unwrap();
        assert_eq!(
            &head[..5],
            b"AGAIN",
            "round {round}: open after a dirty write"
        );
        // The fresh node writes (direct: at once in the engine), the old node reads it.
        fresh.seek(SeekFrom::Start(10)).unwrap();
        let mut w = fs::OpenOptions::new().write(true).open(&p).unwrap();
        w.seek(SeekFrom::Start(10)).unwrap();
        w.write_all(b"fresh").unwrap();
        // The old node's cached pages are dropped right after the WRITE's reply, from the
        // invalidation thread (`others_changed`: inside the request the kernel could have to
        // write those pages back first, through the thread that is serving it), so the read
        // may have to come again once.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        loop {
            old.seek(SeekFrom::Start(10)).unwrap();
            old.read_exact(&mut head[..5]).unwrap();
            if &head[..5] == b"fresh" || std::time::Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            &head[..5],
            b"fresh",
            "round {round}: the old node reads the fresh one's write"
        );
    }
    m.finish();
}

/// A8: a write that does not fit fails whole with DiskFull (ENOSPC). Near the volume's
/// capacity opens for writing are direct, so write(2) itself fails, not close, and nothing
/// written before is lost.
#[test]
fn a_write_that_does_not_fit_fails_in_write_itself() {
    let m = small_drive();
    let mut f = fs::File::create(m.p("fill")).unwrap();
    let chunk = pattern(256 << 10, 9);
    let mut written = 0u64;
    let err = loop {
        match f.write(&chunk) {
            Ok(n) => {
                assert_eq!(n, chunk.len(), "a write fits whole or fails whole");
                written += n as u64;
            }
            Err(e) => break e,
        }
        assert!(written < 16 << 20, "the volume has 8 MiB");
    };
    assert_eq!(errno(&err), libc::ENOSPC, "{err}");
    assert!(written > 4 << 20, "{written} bytes fitted");
    f.sync_all().expect("nothing is left to fail at fsync");
    drop(f);
    assert_eq!(fs::metadata(m.p("fill")).unwrap().len(), written);
    let got = m.vol.read_file_path(r"\fill").unwrap();
    assert_eq!(got.len() as u64, written);
    assert!(got.chunks(chunk.len()).all(|c| c == &chunk[..c.len()]));
    m.assert_check_ok();
    m.finish();
}

const READONLY: u32 = 0x1;

/// READONLY is checked at open (the engine's `open`; A2), never per write: a handle opened
/// before `+R` keeps writing, an open for writing after it fails — with and without the cache.
#[test]
fn readonly_after_open_keeps_the_handle_writing() {
    for writeback_cache in [false, true] {
        let mo = MountOptions {
            writeback_cache,
            ..MountOptions::default()
        };
        let m = Mounted::with(VolumeOptions::default(), mo);
        let p = m.p("ro");
        let mut f = fs::File::create(&p).unwrap();
        f.write_all(b"before ").unwrap();
        let a = u32::from_le_bytes(
            xattr::get(&p, "system.ntfs_attrib").unwrap().unwrap()[..4]
                .try_into()
                .unwrap(),
        );
        xattr::set(&p, "system.ntfs_attrib", &(a | READONLY).to_le_bytes()).unwrap();
        f.write_all(b"after").unwrap();
        drop(f);
        assert_eq!(
            fs::read(&p).unwrap(),
            b"before after",
            "cache {writeback_cache}"
        );
        // Read directly: `MountHandle::sync` first (the RELEASE, which gives passthrough
        // data back, may still be on its way).
        m.sync_released();
        assert_eq!(m.vol.read_file_path(r"\ro").unwrap(), b"before after");
        assert_errno(fs::OpenOptions::new().write(true).open(&p), libc::EACCES);
        xattr::set(&p, "system.ntfs_attrib", &a.to_le_bytes()).unwrap();
        m.finish();
    }
}

/// Runs `args` as nobody; (success, stderr).
fn as_nobody(args: &[&str]) -> (bool, String) {
    as_user(NOBODY, args)
}

/// The kernel sends the times it stamped as a SETATTR at write-back, from the writer's
/// context: a writer who may write but does not own the file must not get EPERM for it (at
/// close), nor for `touch` (UTIME_NOW, which the kernel resolves itself with the cache); an
/// explicit time still needs the owner (utimensat(2)). A write by nobody clears set-user-ID.
#[test]
fn a_writer_who_is_not_the_owner_keeps_the_kernels_times() {
    let mo = MountOptions {
        allow_other: true,
        permissions: Permissions::Daemon,
        ..wb()
    };
    let m = Mounted::with(VolumeOptions::default(), mo);
    let p = m.p("shared");
    fs::write(&p, b"").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).unwrap();
    let ps = p.to_str().unwrap();
    for round in 0..3 {
        let of = format!("of={ps}");
        let (ok, err) = as_nobody(&[
            "dd",
            "if=/dev/zero",
            &of,
            "bs=4096",
            "count=8",
            "conv=notrunc",
            "status=none",
        ]);
        assert!(ok, "round {round}: nobody writes a 0666 file: {err}");
        let st = lstat(&p).unwrap();
        let id = m.vol.resolve(r"\shared", false).unwrap();
        let t = m.vol.stat(id).unwrap().times;
        assert_eq!(t.last_write, filetime(st.st_mtime, st.st_mtime_nsec));
        let (ok, err) = as_nobody(&["touch", ps]);
        assert!(ok, "round {round}: touch by a writer: {err}");
        let (ok, _) = as_nobody(&["touch", "-m", "-d", "@1000000000", ps]);
        assert!(!ok, "an explicit time needs the owner");
    }
    // Set-user-ID goes on a write by another user (the kernel writes through for it).
    fs::set_permissions(&p, fs::Permissions::from_mode(0o4777)).unwrap();
    let (ok, err) = as_nobody(&[
        "dd",
        "if=/dev/zero",
        &format!("of={ps}"),
        "bs=512",
        "count=1",
        "conv=notrunc",
        "status=none",
    ]);
    assert!(ok, "{err}");
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o777);
    m.finish();
}

/// `system.ntfs_times` sets LastWriteTime and ChangeTime behind the kernel, which keeps its
/// own for a regular file with the cache and writes them back right after the setxattr; the
/// file's node is retired instead, so stat shows the times set and the engine keeps them,
/// also while the file is open for writing.
#[test]
fn times_set_through_the_xattr_are_kept() {
    let m = Mounted::with(VolumeOptions::default(), wb());
    let p = m.p("t");
    let t = 0x01c0_73aa_5a1f_4000u64; // 2001-01-01
    for open in [false, true] {
        fs::write(&p, b"data").unwrap();
        let f = open.then(|| fs::OpenOptions::new().write(true).open(&p).unwrap());
        let mut v = Vec::new();
        for x in [t, t + 10_000_000, t + 20_000_000, t + 30_000_000] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        xattr::set(&p, "system.ntfs_times", &v).unwrap();
        let st = lstat(&p).unwrap();
        assert_eq!(
            filetime(st.st_mtime, st.st_mtime_nsec),
            t + 10_000_000,
            "open {open}"
        );
        assert_eq!(
            filetime(st.st_ctime, st.st_ctime_nsec),
            t + 30_000_000,
            "open {open}"
        );
        m.handle().sync().unwrap();
        drop(f);
        assert_eq!(
            xattr::get(&p, "system.ntfs_times").unwrap().unwrap(),
            v,
            "open {open}"
        );
        let id = m.vol.resolve(r"\t", false).unwrap();
        assert_eq!(m.vol.stat(id).unwrap().times.last_write, t + 10_000_000);
    }
    m.finish();
}

/// (mtime, ctime, size) as stat(2) shows them through `p`, mtime and ctime as FILETIMEs.
fn stat_times(p: &std::path::Path) -> (u64, u64, u64) {
    let st = lstat(p).unwrap();
    (
        filetime(st.st_mtime, st.st_mtime_nsec),
        filetime(st.st_ctime, st.st_ctime_nsec),
        st.st_size as u64,
    )
}

/// (LastWriteTime, ChangeTime, size) as the engine has them for `path`.
fn engine_times(m: &Mounted, path: &str) -> (u64, u64, u64) {
    let id = m.vol.resolve(path, false).unwrap();
    let st = m.vol.stat(id).unwrap();
    (st.times.last_write, st.times.change, st.size)
}

/// Waits (2 s at most) until stat's mtime through `p` is no longer `old`; the new one.
fn mtime_after(p: &std::path::Path, old: u64) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let (mtime, _, _) = stat_times(p);
        if mtime != old || std::time::Instant::now() > deadline {
            return mtime;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Every name and spelling shows the engine's LastWriteTime, ChangeTime and size.
#[track_caller]
fn agree(m: &Mounted, names: &[&str], what: &str) -> (u64, u64, u64) {
    let engine = engine_times(m, r"\Foo");
    for n in names {
        assert_eq!(
            stat_times(&m.p(n)),
            engine,
            "{what}: stat through {n} vs engine"
        );
    }
    engine
}

/// Free space below the margin under which opens for writing get FOPEN_DIRECT_IO (module
/// `writeback`): a file through the mount allocated up to 8 MiB short of the capacity.
fn fill_volume(m: &Mounted) {
    let sp = m.vol.space();
    let free = sp.free_clusters * sp.cluster_size;
    fs::File::create(m.p("filler"))
        .unwrap()
        .set_len(free - (8 << 20))
        .unwrap();
}

const NAMES: [&str; 5] = ["Foo", "foo", "FOO", "link", "LINK"];

/// A write through a direct handle (here: free space below the margin, so every open for
/// writing is direct) sets LastWriteTime (the time the file was last written to,
/// FILE_BASIC_INFO; the same through every name, docs/NTFS-RULES.md A1 item 4), and stat
/// shows it through every name and spelling. The kernel stamps no times for such a write and
/// keeps its own mtime and ctime of a regular file whatever the daemon answers; before the
/// touch thread (module `writeback`) stat kept the mtime from before the write for good while
/// the engine had stamped it (measured on Linux 6.18). Spellings and hard links share one
/// kernel node, so a second spelling alone never makes an open direct.
#[test]
fn a_direct_write_moves_the_mtime_stat_shows() {
    let m = small_drive();
    fs::write(m.p("Foo"), pattern(10_000, 1)).unwrap();
    fs::hard_link(m.p("Foo"), m.p("link")).unwrap();
    // fs::write's own write was direct too: its touch is waited for.
    m.handle().sync().unwrap();
    let mut seen = agree(&m, &NAMES, "created");
    let mut f = fs::OpenOptions::new().write(true).open(m.p("foo")).unwrap();
    for (round, (offset, len)) in [(0u64, 100usize), (20_000, 5000), (64, 1 << 20)]
        .into_iter()
        .enumerate()
    {
        // Past the kernel's clock tick, so that a new stamp differs from the last one.
        std::thread::sleep(Duration::from_millis(30));
        f.seek(SeekFrom::Start(offset)).unwrap();
        f.write_all(&pattern(len, round as u8)).unwrap();
        let mtime = mtime_after(&m.p("FOO"), seen.0);
        assert!(
            mtime > seen.0,
            "round {round}: stat kept the mtime from before the direct write"
        );
        let now = agree(&m, &NAMES, &format!("round {round}, file open"));
        assert!(
            now.0 > seen.0 && now.1 > seen.1,
            "round {round}: {now:?} after {seen:?}"
        );
        assert_eq!(
            now.2,
            (seen.2).max(offset + len as u64),
            "round {round}: size"
        );
        assert_eq!(ntfs_last_write(&m.p("link")), now.0, "round {round}");
        seen = now;
    }
    drop(f);
    m.handle().sync().unwrap();
    assert_eq!(agree(&m, &NAMES, "closed"), seen, "nothing moved at close");
    m.finish();
}

/// A write through the page cache (a handle opened while space was plentiful) and one through
/// a direct handle (opened after the volume filled up), in either order: the later write's
/// time wins, in stat and in the engine, and LastWriteTime never goes back (before the fix the
/// kernel's write-back of the cached write's older mtime, at close or syncfs, took it back
/// behind the direct write, and stat never showed the direct write's time).
#[test]
fn the_later_of_a_cached_and_a_direct_write_sets_the_time() {
    for cached_first in [true, false] {
        let vo = VolumeOptions {
            capacity: Some(1 << 30),
            ..VolumeOptions::default()
        };
        let m = Mounted::with(vo, wb());
        fs::write(m.p("Foo"), pattern(10_000, 1)).unwrap();
        fs::hard_link(m.p("Foo"), m.p("link")).unwrap();
        let mut cached = fs::OpenOptions::new().write(true).open(m.p("Foo")).unwrap();
        fill_volume(&m);
        let mut direct = fs::OpenOptions::new().write(true).open(m.p("foo")).unwrap();
        let start = agree(&m, &NAMES, "opened");
        // The engine's LastWriteTime, sampled after every step, never goes back.
        let mut last = start.0;
        let mut never_back = |m: &Mounted, step: &str| {
            let lw = engine_times(m, r"\Foo").0;
            assert!(
                lw >= last,
                "{step}: LastWriteTime went back from {last} to {lw}"
            );
            last = lw;
        };
        let mut write = |cached_write: bool| {
            std::thread::sleep(Duration::from_millis(30));
            let f = if cached_write {
                &mut cached
            } else {
                &mut direct
            };
            f.seek(SeekFrom::Start(if cached_write { 100 } else { 200 }))
                .unwrap();
            f.write_all(if cached_write { b"cached" } else { b"direct" })
                .unwrap();
        };
        write(cached_first);
        let first = mtime_after(&m.p("Foo"), start.0);
        assert!(
            first > start.0,
            "cached first {cached_first}: first write's mtime"
        );
        never_back(&m, "first write");
        write(!cached_first);
        let second = mtime_after(&m.p("LINK"), first);
        assert!(
            second > first,
            "cached first {cached_first}: stat still shows the first write's mtime"
        );
        never_back(&m, "second write");
        m.handle().sync().unwrap();
        never_back(&m, "syncfs");
        assert_eq!(
            agree(&m, &NAMES, "synced").0,
            second,
            "cached first {cached_first}"
        );
        drop(cached);
        never_back(&m, "close of the cached handle");
        drop(direct);
        m.handle().sync().unwrap();
        never_back(&m, "close of the direct handle");
        let end = agree(&m, &NAMES, "closed");
        assert_eq!(
            end.0, second,
            "cached first {cached_first}: the later write's time"
        );
        let data = m.vol.read_file_path(r"\link").unwrap();
        assert_eq!(&data[100..106], b"cached");
        assert_eq!(&data[200..206], b"direct");
        m.finish();
    }
}

/// The other way to a direct handle: a fresh node beside a retired one still open (rule 7).
/// The file is opened under another spelling than the stored one, whose cached name the
/// retirement dropped, so the touch's walk (by the stored name) needs a LOOKUP, which for a
/// file with a second node waits on the worker for a syncfs: that wait must not wait for the
/// touch itself (it did: the touch hung for the whole wait limit, stat did not move in 2 s).
#[test]
fn a_direct_write_through_a_fresh_node_moves_its_mtime() {
    let m = Mounted::with(VolumeOptions::default(), wb());
    for round in 0..3u8 {
        let (stored, other) = (format!("Fresh{round}"), format!("fresh{round}"));
        fs::write(m.p(&stored), b"x").unwrap();
        let id = m.vol.resolve(&format!("\\{stored}"), false).unwrap();
        let mut old = fs::OpenOptions::new()
            .write(true)
            .open(m.p(&stored))
            .unwrap();
        m.handle().invalidate(id);
        let mut fresh = fs::OpenOptions::new()
            .write(true)
            .open(m.p(&other))
            .unwrap();
        m.handle().sync().unwrap();
        let (before, _, _) = stat_times(&m.p(&other));
        std::thread::sleep(Duration::from_millis(30));
        let t = std::time::Instant::now();
        fresh.write_all(b"fresh").unwrap();
        let after = mtime_after(&m.p(&other), before);
        assert!(after > before, "round {round}: stat kept the mtime");
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "round {round}: the touch took {:?}",
            t.elapsed()
        );
        let engine = engine_times(&m, &format!("\\{stored}"));
        let st = stat_times(&m.p(&stored));
        assert_eq!((st.0, st.1), (engine.0, engine.1), "round {round}");
        old.write_all(b"old").unwrap();
        drop(old);
        drop(fresh);
    }
    m.finish();
}
