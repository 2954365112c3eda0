//! FIFOs, AF_UNIX sockets and device nodes on a real mount: made with mkfifo, bind and mknod,
//! stored as the reparse points Windows and WSL use (IO_REPARSE_TAG_LX_FIFO, AF_UNIX, LX_CHR,
//! LX_BLK; MS-FSCC 2.1.2.1), shown with their type and device number, and served by the
//! kernel (a pipe through the FIFO, a connection through the socket).

mod common;
use common::*;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use vfs_core::reparse::{
    ReparseBuffer, IO_REPARSE_TAG_AF_UNIX, IO_REPARSE_TAG_LX_BLK, IO_REPARSE_TAG_LX_CHR,
    IO_REPARSE_TAG_LX_FIFO,
};
use vfs_core::{attrs, SpecialFile};

fn mknod(p: &std::path::Path, mode: u32, dev: libc::dev_t) -> std::io::Result<()> {
    let c = cstr(p);
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    if unsafe { libc::mknod(c.as_ptr(), mode, dev) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[test]
fn mkfifo_makes_an_lx_fifo_reparse_point_the_kernel_serves_as_a_pipe() {
    let m = Mounted::new();
    let p = m.p("queue");
    mknod(&p, libc::S_IFIFO | 0o640, 0).unwrap();
    let md = fs::symlink_metadata(&p).unwrap();
    assert!(md.file_type().is_fifo());
    assert_eq!(md.permissions().mode() & 0o7777, 0o640 & !current_umask());
    assert_eq!((md.len(), md.nlink(), md.rdev()), (0, 1, 0));
    // The engine holds the WSL FIFO reparse point, readable as ntfs-3g shows reparse data.
    let st = m.vol.stat_path(r"\QUEUE", false).unwrap();
    assert_eq!(st.reparse_tag, Some(IO_REPARSE_TAG_LX_FIFO));
    assert_ne!(st.attributes & attrs::REPARSE_POINT, 0);
    assert_eq!(
        xattr::get(&p, REPARSE).unwrap().unwrap(),
        ReparseBuffer::special(SpecialFile::Fifo).as_bytes()
    );
    // A pipe: what a writer puts in comes out of the reader, never through the daemon.
    let reader = {
        let p = p.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            fs::File::open(&p).unwrap().read_to_string(&mut s).unwrap();
            s
        })
    };
    fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .write_all(b"through the pipe")
        .unwrap();
    assert_eq!(reader.join().unwrap(), "through the pipe");
    // Names work as for any file: a hard link, a rename, an unlink.
    fs::hard_link(&p, m.p("queue2")).unwrap();
    assert_eq!(fs::symlink_metadata(m.p("QUEUE2")).unwrap().nlink(), 2);
    fs::rename(m.p("queue2"), m.p("q3")).unwrap();
    assert!(fs::symlink_metadata(m.p("q3"))
        .unwrap()
        .file_type()
        .is_fifo());
    fs::remove_file(m.p("q3")).unwrap();
    fs::remove_file(&p).unwrap();
    assert_errno(fs::symlink_metadata(&p), libc::ENOENT);
    m.finish();
}

#[test]
fn binding_a_unix_socket_makes_an_af_unix_reparse_point_that_accepts_connections() {
    let m = Mounted::new();
    let p = m.p("app.sock");
    let listener = UnixListener::bind(&p).unwrap();
    let md = fs::symlink_metadata(&p).unwrap();
    assert!(md.file_type().is_socket());
    assert_eq!(
        m.vol.stat_path(r"\app.sock", false).unwrap().reparse_tag,
        Some(IO_REPARSE_TAG_AF_UNIX)
    );
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut b = [0u8; 5];
        s.read_exact(&mut b).unwrap();
        s.write_all(&b).unwrap();
    });
    let mut c = UnixStream::connect(&p).unwrap();
    c.write_all(b"hello").unwrap();
    let mut back = [0u8; 5];
    c.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"hello");
    server.join().unwrap();
    // Binding again over the existing name: EADDRINUSE, as on any Linux file system.
    assert_errno(UnixListener::bind(&p), libc::EADDRINUSE);
    fs::remove_file(&p).unwrap();
    m.finish();
}

#[test]
fn mknod_of_devices_keeps_the_device_number_in_the_lx_reparse_data() {
    let m = Mounted::new();
    mknod(&m.p("null"), libc::S_IFCHR | 0o666, libc::makedev(1, 3)).unwrap();
    mknod(
        &m.p("disk"),
        libc::S_IFBLK | 0o600,
        libc::makedev(259, 70000),
    )
    .unwrap();
    let c = fs::symlink_metadata(m.p("null")).unwrap();
    assert!(c.file_type().is_char_device());
    assert_eq!(c.rdev(), libc::makedev(1, 3));
    let b = fs::symlink_metadata(m.p("disk")).unwrap();
    assert!(b.file_type().is_block_device());
    assert_eq!(b.rdev(), libc::makedev(259, 70000));
    // Major then minor, u32 little-endian each, after the 8-byte header.
    let buf = xattr::get(m.p("null"), REPARSE).unwrap().unwrap();
    assert_eq!(
        buf,
        [0x25, 0, 0, 0x80, 8, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0],
        "LX_CHR 1:3"
    );
    assert_eq!(
        m.vol.stat_path(r"\null", false).unwrap().reparse_tag,
        Some(IO_REPARSE_TAG_LX_CHR)
    );
    assert_eq!(
        m.vol.stat_path(r"\disk", false).unwrap().reparse_tag,
        Some(IO_REPARSE_TAG_LX_BLK)
    );
    // The mount is nodev (FUSE's default): a device node is there but does not open.
    assert_errno(fs::File::open(m.p("null")), libc::EACCES);
    m.finish();
}

#[test]
fn device_nodes_need_cap_mknod_fifos_do_not() {
    // Another user reaches the mount only with allow_other.
    let m = Mounted::with(
        vfs_core::VolumeOptions::default(),
        backend_fuse::MountOptions {
            allow_other: true,
            ..Default::default()
        },
    );
    fs::set_permissions(m.root(), fs::Permissions::from_mode(0o777)).unwrap();
    let dir = m.root().to_path_buf();
    // A child that drops to an unprivileged user (nobody) tries both.
    // SAFETY: after fork the child calls only async-signal-safe functions (setgid, setuid,
    // mknod, _exit) on memory prepared before the fork.
    let (fifo, chr) = (cstr(&dir.join("u.fifo")), cstr(&dir.join("u.chr")));
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        unsafe {
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                libc::_exit(10);
            }
            if libc::mknod(fifo.as_ptr(), libc::S_IFIFO | 0o644, 0) != 0 {
                libc::_exit(11);
            }
            let r = libc::mknod(chr.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 3));
            let e = *libc::__errno_location();
            libc::_exit(if r == -1 && e == libc::EPERM { 0 } else { 12 });
        }
    }
    let mut status = 0;
    // SAFETY: waiting for the child forked above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(libc::WIFEXITED(status));
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "child failed (10 setuid, 11 fifo, 12 chr)"
    );
    let f = fs::symlink_metadata(dir.join("u.fifo")).unwrap();
    assert!(f.file_type().is_fifo());
    assert_eq!((f.uid(), f.gid()), (65534, 65534));
    assert_errno(fs::symlink_metadata(dir.join("u.chr")), libc::ENOENT);
    m.finish();
}

#[test]
fn setting_an_lx_fifo_reparse_point_on_a_file_makes_it_a_fifo_at_once() {
    let m = Mounted::new();
    let p = m.p("f");
    fs::write(&p, b"").unwrap();
    assert!(fs::metadata(&p).unwrap().is_file()); // cached as a file
    let buf = ReparseBuffer::special(SpecialFile::Fifo).into_bytes();
    xattr::set(&p, REPARSE, &buf).unwrap();
    assert!(fs::symlink_metadata(&p).unwrap().file_type().is_fifo());
    // And removing it makes it a file again.
    xattr::remove(&p, REPARSE).unwrap();
    assert!(fs::symlink_metadata(&p).unwrap().is_file());
    assert_eq!(m.vol.stat_path(r"\f", false).unwrap().special, None);
    m.finish();
}

fn current_umask() -> u32 {
    // SAFETY: umask only swaps the process's mask; it is put back at once.
    unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old as u32
    }
}
