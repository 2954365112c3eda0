//! FUSE passthrough (`MountOptions::passthrough`, module `passthrough`): writes that no
//! request carries still end up in the volume with NTFS's sizes, times, ARCHIVE bit and
//! volume size (A1, A8). Passthrough is on by default, so the rest of the suite runs with it
//! too, and once more without it (`NTLINKFS_TEST_NO_PASSTHROUGH`, scripts/test.sh).
#![cfg(target_os = "linux")]

mod common;

use backend_fuse::MountOptions;
use common::*;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt};
use vfs_core::{attrs, VolumeOptions};

/// A mount with passthrough, which must be in use: these tests fail rather than pass
/// without it.
fn mounted(vo: VolumeOptions) -> Mounted {
    mounted_with(vo, MountOptions::default())
}

fn mounted_with(vo: VolumeOptions, mo: MountOptions) -> Mounted {
    let m = Mounted::with_passthrough(vo, mo);
    assert!(
        m.handle().passthrough_active(),
        "FUSE passthrough is not in use: it needs the tests to run as root on Linux 6.9 or later"
    );
    m
}

fn sized(capacity: u64) -> VolumeOptions {
    VolumeOptions {
        capacity: Some(capacity),
        sparse_on_extend: true,
        ..VolumeOptions::default()
    }
}

fn mtime_ns(m: &fs::Metadata) -> i128 {
    i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
}

/// A1/A8: while a file is open for writing its data is lent, and stat through every name
/// shows each write's size and time; ARCHIVE is set by the write; at close the data is in
/// the volume, read back byte for byte, with the same times.
#[test]
fn writes_through_passthrough_show_in_stat_and_reach_the_volume() {
    let m = mounted(sized(64 << 20));
    fs::write(m.p("f"), b"old").unwrap();
    fs::hard_link(m.p("f"), m.p("F2")).unwrap();
    xattr::set(m.p("f"), "system.ntfs_attrib", &0u32.to_le_bytes()).unwrap();
    let before = fs::metadata(m.p("f")).unwrap();
    let mut f = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(m.p("f"))
        .unwrap();
    assert_eq!(
        m.handle().lent_files(),
        1,
        "an open for writing lends the data"
    );
    let block: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    for _ in 0..256 {
        f.write_all(&block).unwrap();
    }
    let through_link = fs::metadata(m.p("F2")).unwrap();
    assert_eq!(through_link.len(), 1 << 20);
    assert_eq!(
        through_link.blocks(),
        (1 << 20) / 512,
        "clusters of the data"
    );
    assert!(mtime_ns(&through_link) >= mtime_ns(&before));
    assert_ne!(
        ntfs_attrib(&m.p("F2")) & attrs::ARCHIVE,
        0,
        "the write set ARCHIVE"
    );
    drop(f);
    m.sync_released();
    assert_eq!(
        m.handle().lent_files(),
        0,
        "the last close gives the data back"
    );
    let after = fs::metadata(m.p("f")).unwrap();
    assert_eq!(mtime_ns(&after), mtime_ns(&through_link));
    let id = m.vol.stat_path(r"\f", false).unwrap().id;
    let mut got = vec![0u8; 1 << 20];
    assert_eq!(m.vol.read(id, 0, &mut got).unwrap(), 1 << 20);
    assert!(got.chunks(4096).all(|c| c == &block[..]));
    assert_eq!(
        fs::read(m.p("F2")).unwrap(),
        got,
        "read again through the mount"
    );
    m.assert_check_ok();
    m.finish();
}

/// An open for writing that writes nothing changes neither the times nor ARCHIVE; a
/// ftruncate changes the times (as SetEndOfFile) and not ARCHIVE, as without passthrough.
#[test]
fn an_open_for_writing_without_a_write_changes_nothing() {
    let m = mounted(sized(64 << 20));
    fs::write(m.p("quiet"), vec![7u8; 10_000]).unwrap();
    xattr::set(m.p("quiet"), "system.ntfs_attrib", &0u32.to_le_bytes()).unwrap();
    let t0 = fs::metadata(m.p("quiet")).unwrap();
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(m.p("quiet"))
        .unwrap();
    let mut buf = [0u8; 4];
    f.read_exact_at(&mut buf, 100).unwrap();
    assert_eq!(buf, [7; 4]);
    let open = fs::metadata(m.p("quiet")).unwrap();
    assert_eq!((open.len(), mtime_ns(&open)), (10_000, mtime_ns(&t0)));
    drop(f);
    m.handle().sync().unwrap();
    let t1 = fs::metadata(m.p("quiet")).unwrap();
    assert_eq!((mtime_ns(&t1), t1.ctime()), (mtime_ns(&t0), t0.ctime()));
    assert_eq!(ntfs_attrib(&m.p("quiet")) & attrs::ARCHIVE, 0);
    let f = fs::OpenOptions::new()
        .write(true)
        .open(m.p("quiet"))
        .unwrap();
    f.set_len(3).unwrap();
    drop(f);
    m.handle().sync().unwrap();
    let t2 = fs::metadata(m.p("quiet")).unwrap();
    assert_eq!(t2.len(), 3);
    assert!(mtime_ns(&t2) > mtime_ns(&t0));
    assert_eq!(ntfs_attrib(&m.p("quiet")) & attrs::ARCHIVE, 0);
    assert_eq!(fs::read(m.p("quiet")).unwrap(), [7u8; 3]);
    m.finish();
}

/// A8 with data lent: a passthrough write fails with ENOSPC exactly when the volume is full
/// (df says 0 free), so do the engine's own charges (a new file's data, an xattr); a file
/// deleted meanwhile makes room for the open file at once; after the close everything
/// counts as before.
#[test]
fn the_volume_fills_exactly_with_passthrough_writes_a8() {
    let m = mounted(sized(4 << 20));
    fs::write(m.p("spare"), vec![1u8; 1 << 20]).unwrap();
    let f = fs::File::create(m.p("runaway")).unwrap();
    let chunk = vec![0xABu8; 4096];
    let mut written = 0u64;
    let err = loop {
        match f.write_at(&chunk, written) {
            Ok(n) => written += n as u64,
            Err(e) => break e,
        }
        assert!(written < 8 << 20, "no ENOSPC after {written} bytes");
    };
    assert_eq!(errno(&err), libc::ENOSPC, "{err}");
    let st = nix_statvfs(m.root());
    assert_eq!(st.0, 0, "df shows the volume full");
    assert_errno(
        xattr::set(m.p("spare"), "user.big", &vec![0u8; 8192]),
        libc::ENOSPC,
    );
    assert_errno(fs::write(m.p("more"), vec![1u8; 1 << 20]), libc::ENOSPC);
    // Room made while the file is open is the open file's at once.
    fs::remove_file(m.p("spare")).unwrap();
    m.handle().sync().unwrap();
    f.write_all_at(&vec![0xABu8; 512 << 10], written).unwrap();
    written += 512 << 10;
    assert_eq!(fs::metadata(m.p("runaway")).unwrap().len(), written);
    drop(f);
    m.sync_released();
    assert_eq!(m.handle().lent_files(), 0);
    let data = fs::read(m.p("runaway")).unwrap();
    assert_eq!(data.len() as u64, written);
    assert!(data.iter().all(|&b| b == 0xAB));
    m.assert_check_ok();
    m.finish();
}

/// A non-sparse extension of an open file allocates (ENOSPC when it does not fit, nothing
/// changed); with `sparse_on_extend` an extension makes the file sparse and needs no space.
#[test]
fn extending_an_open_file_allocates_as_ntfs_does_a8() {
    let m = mounted(VolumeOptions {
        capacity: Some(4 << 20),
        sparse_on_extend: false,
        ..VolumeOptions::default()
    });
    let f = fs::File::create(m.p("grow")).unwrap();
    f.write_all_at(b"abc", 0).unwrap();
    assert_errno(f.set_len(8 << 20), libc::ENOSPC);
    assert_eq!(
        f.metadata().unwrap().len(),
        3,
        "a failed extension changes nothing"
    );
    f.set_len(2 << 20).unwrap();
    assert_eq!(f.metadata().unwrap().blocks(), (2 << 20) / 512);
    drop(f);
    m.handle().sync().unwrap();
    assert_eq!(fs::metadata(m.p("grow")).unwrap().len(), 2 << 20);
    m.assert_check_ok();
    m.finish();

    let m = mounted(sized(4 << 20));
    let f = fs::File::create(m.p("sparse")).unwrap();
    f.set_len(1 << 40).unwrap();
    assert_ne!(ntfs_attrib(&m.p("sparse")) & attrs::SPARSE_FILE, 0);
    f.write_all_at(b"end", (1 << 40) - 3).unwrap();
    drop(f);
    m.handle().sync().unwrap();
    let meta = fs::metadata(m.p("sparse")).unwrap();
    assert_eq!(meta.len(), 1 << 40);
    assert!(
        meta.blocks() <= 8 * 16,
        "only the written cluster: {}",
        meta.blocks()
    );
    m.assert_check_ok();
    m.finish();
}

/// The kernel keeps one I/O mode per file: opens of a lent file are all passthrough (a
/// read-only open sees the writes), and a file already open without passthrough is not lent
/// by a later open for writing, whose writes go through the daemon (and are read back by the
/// first open).
#[test]
fn opens_of_one_file_share_one_mode() {
    let m = mounted(sized(64 << 20));
    let w = fs::File::create(m.p("a")).unwrap();
    w.write_all_at(b"lent data", 0).unwrap();
    let r = fs::File::open(m.p("a")).unwrap();
    let mut buf = [0u8; 9];
    r.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"lent data");
    drop((w, r));
    m.handle().sync().unwrap();

    fs::write(m.p("b"), b"cached").unwrap();
    m.handle().sync().unwrap();
    let r = fs::File::open(m.p("b")).unwrap();
    let mut buf = [0u8; 6];
    r.read_exact_at(&mut buf, 0).unwrap();
    let w = fs::OpenOptions::new().write(true).open(m.p("b")).unwrap();
    assert_eq!(m.handle().lent_files(), 0, "b is open without passthrough");
    w.write_all_at(b"CACHED", 0).unwrap();
    r.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"CACHED");
    drop((w, r));
    // Data given back after passthrough writes is read fresh by a later open without
    // passthrough, not from pages the kernel kept from before.
    let r = fs::File::open(m.p("a")).unwrap();
    r.read_exact_at(&mut [0u8; 4], 0).unwrap();
    drop(r);
    m.handle().sync().unwrap();
    let w = fs::OpenOptions::new().write(true).open(m.p("a")).unwrap();
    w.write_all_at(b"LENT", 0).unwrap();
    drop(w);
    m.handle().sync().unwrap();
    assert_eq!(fs::read(m.p("a")).unwrap(), b"LENT data");
    m.finish();
}

/// A shared mapping of a lent file writes into the data that comes back.
#[test]
fn a_shared_mapping_of_an_open_file_is_kept() {
    let m = mounted(sized(64 << 20));
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(m.p("mapped"))
        .unwrap();
    f.set_len(8192).unwrap();
    // SAFETY: a fresh shared mapping of 8192 bytes of an open file, unmapped below.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            std::os::fd::AsRawFd::as_raw_fd(&f),
            0,
        );
        assert_ne!(p, libc::MAP_FAILED, "{}", std::io::Error::last_os_error());
        std::ptr::copy_nonoverlapping(b"mapped!".as_ptr(), p.cast::<u8>().add(4096), 7);
        assert_eq!(libc::msync(p, 8192, libc::MS_SYNC), 0);
        assert_eq!(libc::munmap(p, 8192), 0);
    }
    drop(f);
    m.handle().sync().unwrap();
    let data = fs::read(m.p("mapped")).unwrap();
    assert_eq!(&data[4096..4103], b"mapped!");
    m.finish();
}

/// `user.ntlinkfs.save` while a file is open for writing saves the data the open file has
/// now (it is in the pool, not in the engine).
#[test]
fn an_image_saved_while_a_file_is_open_has_its_data() {
    let m = mounted(sized(64 << 20));
    let f = fs::File::create(m.p("open.txt")).unwrap();
    f.write_all_at(b"not yet closed", 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("drive.img");
    xattr::set(
        m.root(),
        "user.ntlinkfs.save",
        image.as_os_str().as_encoded_bytes(),
    )
    .unwrap();
    let saved = vfs_core::image::load_file(&image).unwrap();
    let id = saved.stat_path(r"\open.txt", false).unwrap().id;
    let mut buf = [0u8; 14];
    assert_eq!(saved.read(id, 0, &mut buf).unwrap(), 14);
    assert_eq!(&buf, b"not yet closed");
    assert_ne!(saved.stat(id).unwrap().attributes & attrs::ARCHIVE, 0);
    saved.check().unwrap();
    drop(f);
    m.finish();
}

/// A set-user-ID file is not lent (a passthrough write would not ask the daemon to clear
/// the bit): written by another user, it loses set-user-ID as on Linux; a plain file written
/// by that user keeps its mode.
#[test]
fn a_set_user_id_file_is_not_lent_and_loses_the_bit_to_another_writer() {
    need("setpriv", "util-linux");
    let m = mounted_with(
        sized(64 << 20),
        MountOptions {
            allow_other: true,
            ..MountOptions::default()
        },
    );
    let perm = |p: &std::path::Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    };
    perm(m.root(), 0o777);
    fs::write(m.p("suid"), b"#!/bin/sh\n").unwrap();
    perm(&m.p("suid"), 0o4777);
    fs::write(m.p("plain"), b"x").unwrap();
    perm(&m.p("plain"), 0o666);
    let open = fs::OpenOptions::new()
        .append(true)
        .open(m.p("suid"))
        .unwrap();
    assert_eq!(m.handle().lent_files(), 0, "a set-user-ID file is not lent");
    drop(open);
    for name in ["suid", "plain"] {
        let p = m.p(name);
        let (ok, err) = as_user(
            NOBODY,
            &[
                "sh".as_ref(),
                "-c".as_ref(),
                "printf more >> \"$0\"".as_ref(),
                p.as_os_str(),
            ],
        );
        assert!(ok, "{err}");
    }
    m.handle().sync().unwrap();
    assert_eq!(fs::metadata(m.p("suid")).unwrap().mode() & 0o7777, 0o777);
    assert_eq!(fs::metadata(m.p("plain")).unwrap().mode() & 0o7777, 0o666);
    assert_eq!(fs::read(m.p("suid")).unwrap(), b"#!/bin/sh\nmore");
    assert_eq!(fs::read(m.p("plain")).unwrap(), b"xmore");
    m.finish();
}

/// A write past NTFS's largest file size through passthrough is not refused (the kernel
/// asks the daemon nothing): stat shows the file at the maximum, and at close what lies
/// past it is dropped; the data below stays, and the volume is consistent. A size change
/// past it is still EFBIG.
#[test]
fn a_write_past_the_largest_file_is_cut_at_the_maximum() {
    let m = mounted(sized(64 << 20));
    let max = vfs_core::MAX_FILE_SIZE;
    let f = fs::File::create(m.p("huge")).unwrap();
    f.write_all_at(b"start", 0).unwrap();
    assert_errno(f.set_len(max + 1), libc::EFBIG);
    f.write_all_at(b"end!", max - 2).unwrap();
    f.write_all_at(b"past", max + (1 << 20)).unwrap();
    assert_eq!(fs::metadata(m.p("huge")).unwrap().len(), max);
    // Data only far past the maximum: nothing of it comes back.
    let g = fs::File::create(m.p("beyond")).unwrap();
    g.write_all_at(b"past", max + (1 << 20)).unwrap();
    drop(g);
    drop(f);
    m.sync_released();
    assert_eq!(m.handle().lent_files(), 0);
    let f = fs::File::open(m.p("huge")).unwrap();
    assert_eq!(f.metadata().unwrap().len(), max);
    let mut buf = [0u8; 5];
    f.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"start");
    let mut tail = [0u8; 2];
    f.read_exact_at(&mut tail, max - 2).unwrap();
    assert_eq!(&tail, b"en");
    drop(f);
    let g = fs::File::open(m.p("beyond")).unwrap();
    assert_eq!(g.metadata().unwrap().len(), max);
    g.read_exact_at(&mut buf, max - 5).unwrap();
    assert_eq!(buf, [0; 5]);
    drop(g);
    m.assert_check_ok();
    m.finish();
}

/// Reparse points on a file open for writing, whose data is lent: the engine's rules hold
/// as without passthrough (a junction needs a directory: ENOTDIR; a symbolic link is refused on a file
/// holding data and accepted on an empty one: IO_REPARSE_DATA_INVALID, A3), the data
/// written meanwhile counting.
#[test]
fn reparse_points_on_an_open_file_follow_the_engine_rules() {
    let m = mounted(sized(64 << 20));
    let full = fs::File::create(m.p("full")).unwrap();
    full.write_all_at(b"data", 0).unwrap();
    let empty = fs::File::create(m.p("empty")).unwrap();
    assert_eq!(m.handle().lent_files(), 2);
    let rd = "system.ntfs_reparse_data";
    assert_errno(
        xattr::set(m.p("full"), rd, &junction(r"C:\")),
        libc::ENOTDIR,
    );
    assert_errno(
        xattr::set(m.p("full"), rd, &symlink_buf(r"C:\x")),
        libc::EINVAL,
    );
    xattr::set(m.p("empty"), rd, &symlink_buf(r"C:\x")).unwrap();
    drop((full, empty));
    m.handle().sync().unwrap();
    assert_eq!(fs::read(m.p("full")).unwrap(), b"data");
    assert!(fs::symlink_metadata(m.p("empty"))
        .unwrap()
        .file_type()
        .is_symlink());
    m.assert_check_ok();
    m.finish();
}

/// Which pages of the file at `p` are in the kernel's page cache (mincore(2) of a read-only
/// mapping: mapping a file reads nothing).
fn cached_pages(p: &std::path::Path) -> Vec<bool> {
    let f = fs::File::open(p).unwrap();
    let len = f.metadata().unwrap().len() as usize;
    let pages = len.div_ceil(4096);
    let mut v = vec![0u8; pages];
    // SAFETY: a fresh read-only mapping of `len` bytes of an open file, never dereferenced
    // (mincore only looks at residency), unmapped below.
    unsafe {
        let a = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            std::os::fd::AsRawFd::as_raw_fd(&f),
            0,
        );
        assert_ne!(a, libc::MAP_FAILED, "{}", std::io::Error::last_os_error());
        assert_eq!(libc::mincore(a, len, v.as_mut_ptr()), 0);
        assert_eq!(libc::munmap(a, len), 0);
    }
    v.into_iter().map(|b| b & 1 == 1).collect()
}

/// Passthrough writes fill no page cache of the FUSE inode, so at close the data given back
/// also fills it (FUSE_NOTIFY_STORE): the first read after costs no READ. The pages are the
/// data as written, a later write through a new open replaces them (never stale), and a
/// sparse file's holes get none.
#[test]
fn a_file_written_through_passthrough_is_cached_when_it_is_closed() {
    let m = mounted(sized(256 << 20));
    let p = m.p("f");
    let first: Vec<u8> = (0..(1 << 20) + 100).map(|i| (i % 251) as u8).collect();
    fs::write(&p, &first).unwrap();
    m.sync_released();
    assert_eq!(m.handle().lent_files(), 0);
    let pages = cached_pages(&p);
    assert_eq!(pages.len(), 257);
    assert!(
        pages.iter().all(|&c| c),
        "every page cached at close: {pages:?}"
    );
    assert_eq!(fs::read(&p).unwrap(), first);
    // A second open for writing: its writes go to the pool again, and at its close the
    // cache holds the new bytes.
    let f = fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.write_all_at(b"second", 4096 + 10).unwrap();
    drop(f);
    m.handle().sync().unwrap();
    let mut want = first.clone();
    want[4106..4112].copy_from_slice(b"second");
    assert_eq!(fs::read(&p).unwrap(), want);
    assert!(cached_pages(&p).iter().all(|&c| c));
    // Sparse: two written pages 64 MiB apart; only they are cached, the hole reads zeros.
    let s = m.p("sparse");
    let f = fs::File::create(&s).unwrap();
    f.write_all_at(b"head", 0).unwrap();
    f.write_all_at(b"tail", 64 << 20).unwrap();
    drop(f);
    m.handle().sync().unwrap();
    let pages = cached_pages(&s);
    assert!(
        pages[0] && pages[pages.len() - 1],
        "the written pages are cached"
    );
    assert_eq!(
        pages.iter().filter(|&&c| c).count(),
        2,
        "no pages for the hole"
    );
    let mut mid = [1u8; 4096];
    fs::File::open(&s)
        .unwrap()
        .read_exact_at(&mut mid, 32 << 20)
        .unwrap();
    assert_eq!(mid, [0u8; 4096]);
    // The volume has the same bytes.
    assert_eq!(m.vol.read_file_path(r"\f").unwrap(), want);
    m.finish();
}

/// statvfs of the mount: (free blocks, block size).
fn nix_statvfs(p: &std::path::Path) -> (u64, u64) {
    // SAFETY: a zeroed struct filled by statvfs for a NUL-terminated path.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::statvfs(cstr(p).as_ptr(), &mut s) }, 0);
    (s.f_bfree, s.f_bsize)
}
