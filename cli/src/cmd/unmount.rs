//! `ntlinkfs unmount MOUNTPOINT`: unmounts a drive and returns only when its daemon has
//! saved the drive (with `--image`) and exited, then says where the image is.
//!
//! A plain `umount` returns as soon as the kernel lets go of the mount; the daemon saves the
//! image after that (1.6 s later for 400 MB), so `umount M && cp drive.img ...` could copy
//! the previous image (issue 14). This command asks the drive for its daemon's pid and image
//! (`user.ntlinkfs.pid`, `user.ntlinkfs.image`: the mounting user's and root's only), holds a
//! pidfd on the daemon, unmounts without detaching (a busy drive is an error, not a session
//! that ends whenever its last file closes), waits for the daemon to exit, and checks that a
//! new image file is in place.

use std::path::PathBuf;

/// Unmount a drive and wait until its daemon has saved the image and exited.
#[derive(clap::Args, Debug)]
pub struct UnmountArgs {
    /// The mount point of a drive started by `ntlinkfs mount`.
    pub mountpoint: PathBuf,
}

/// Runs `ntlinkfs unmount`; returns the exit status.
#[cfg(target_os = "linux")]
pub fn run(a: UnmountArgs) -> anyhow::Result<i32> {
    use anyhow::{bail, Context};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;

    let mp = a
        .mountpoint
        .canonicalize()
        .with_context(|| format!("{}", a.mountpoint.display()))?;
    let control = |name: &str| -> anyhow::Result<Option<Vec<u8>>> {
        let full = format!("{}{name}", backend_fuse::CONTROL_PREFIX);
        match xattr::get(&mp, &full) {
            Ok(v) => Ok(v),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES)) => bail!(
                "{}: only the user who mounted the drive, or root, may unmount it this way ({e})",
                mp.display()
            ),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTSUP) | Some(libc::ENODATA)) => {
                bail!(
                    "{} is not the mount point of an ntlinkfs drive ({e})",
                    mp.display()
                )
            }
            Err(e) => Err(e).with_context(|| format!("reading {full} of {}", mp.display())),
        }
    };
    let pid_text = control("pid")?.with_context(|| {
        format!(
            "{} is not the mount point of an ntlinkfs drive (no daemon pid)",
            mp.display()
        )
    })?;
    let pid: libc::pid_t = std::str::from_utf8(&pid_text)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .with_context(|| format!("{}: unreadable daemon pid {pid_text:?}", mp.display()))?;
    let image = control("image")?.map(|b| PathBuf::from(std::ffi::OsStr::from_bytes(&b)));

    // The pidfd names this daemon even if its pid is reused after it exits.
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    if pidfd < 0 {
        bail!(
            "cannot watch the daemon (pid {pid}) of {}: {}",
            mp.display(),
            std::io::Error::last_os_error()
        );
    }
    // SAFETY: pidfd is a descriptor this process just opened and owns.
    let pidfd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(pidfd) };
    let identity = |p: &PathBuf| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let before = image.as_ref().and_then(identity);

    backend_fuse::unmount_now(&mp).map_err(|e| {
        if e.raw_os_error() == Some(libc::EBUSY) {
            anyhow::anyhow!(
                "{} is busy: files are open in it (see `fuser -vm {}`); close them and retry",
                mp.display(),
                mp.display()
            )
        } else {
            anyhow::anyhow!("unmounting {}: {e}", mp.display())
        }
    })?;

    // The daemon saves after the session ends, then exits: wait for the exit, however long
    // the save takes, saying every 10 s what is being waited for (a process that mounted a
    // drive as a library and goes on running after the unmount is waited for too).
    loop {
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&pidfd),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd and a timeout in milliseconds.
        let r = unsafe { libc::poll(&mut pfd, 1, 10_000) };
        if r > 0 {
            break;
        }
        if r == 0 {
            eprintln!(
                "ntlinkfs: {} is unmounted; waiting for its daemon (pid {pid}) to {}exit",
                mp.display(),
                if image.is_some() {
                    "save the drive and "
                } else {
                    ""
                }
            );
            continue;
        }
        let e = std::io::Error::last_os_error();
        if r < 0 && e.raw_os_error() != Some(libc::EINTR) {
            bail!("waiting for the daemon (pid {pid}): {e}");
        }
    }

    match image {
        Some(img) => {
            let after = identity(&img);
            // A save renames a new file over the image: a new inode, or a new file.
            if after.is_none() || after == before {
                bail!(
                    "unmounted {}, but its daemon (pid {pid}) exited without saving the drive \
                     to {} (see the daemon's output)",
                    mp.display(),
                    img.display()
                );
            }
            println!(
                "ntlinkfs: unmounted {}; the drive is saved in {}",
                mp.display(),
                img.display()
            );
        }
        None => println!(
            "ntlinkfs: unmounted {} (it was mounted without --image: its contents are gone)",
            mp.display()
        ),
    }
    Ok(0)
}

/// Only the FUSE backend (Linux) has this command; on Windows the WinFsp mount ends with its
/// process.
#[cfg(not(target_os = "linux"))]
pub fn run(_a: UnmountArgs) -> anyhow::Result<i32> {
    anyhow::bail!("`ntlinkfs unmount` unmounts FUSE drives on Linux")
}
