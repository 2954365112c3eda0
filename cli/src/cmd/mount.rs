//! `ntlinkfs mount MOUNTPOINT`: builds a volume from the options, mounts it in the foreground,
//! prints one line when the drive is ready, and unmounts cleanly on SIGINT or SIGTERM; an
//! outside `umount` / `fusermount3 -u` ends it too. Exit status 0 in all three cases.

use std::path::PathBuf;

/// Mount an NTFS-faithful drive at MOUNTPOINT (foreground).
#[derive(clap::Args, Debug)]
pub struct MountArgs {
    /// An existing empty directory to mount the drive on.
    pub mountpoint: PathBuf,
    /// The drive letter absolute link targets (`\??\C:\dir`) refer to inside this volume.
    #[arg(long, default_value = "C", value_parser = parse_letter)]
    pub drive_letter: char,
    /// Map another drive letter to a host directory, e.g. `--map-drive D=/srv/d`: links to
    /// `D:\x` then read as `/srv/d/x`. Repeatable.
    #[arg(long = "map-drive", value_name = "LETTER=PATH", value_parser = parse_map)]
    pub map_drive: Vec<(char, PathBuf)>,
    /// Make the root directory case-sensitive (new subdirectories inherit it), like
    /// `fsutil file setCaseSensitiveInfo`.
    #[arg(long)]
    pub case_sensitive: bool,
    /// Delete with the semantics of Windows before 10 1903: a deleted file's name stays,
    /// delete-pending, until its last handle closes.
    #[arg(long)]
    pub legacy_delete: bool,
    /// Threads serving requests (default: one per CPU, 2 to 8).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Let other users reach the drive (needs `user_allow_other` in /etc/fuse.conf unless
    /// mounting as root).
    #[arg(long)]
    pub allow_other: bool,
    /// Mount read-only.
    #[arg(long)]
    pub read_only: bool,
    /// Populate the drive from a fixture TOML (see examples/fixtures/). A fixture that breaks
    /// an NTFS rule is refused with its line and the rule, and nothing is mounted. With
    /// `--image`, the fixture is used only when the image does not exist yet.
    #[arg(long, value_name = "TREE.toml")]
    pub fixture: Option<PathBuf>,
    /// Load the drive from this image if it exists, and save it there at clean unmount
    /// (atomically: a crash leaves the previous image intact). `ntlinkfs save` saves on demand;
    /// `ntlinkfs unmount MOUNTPOINT` unmounts and returns once the image is saved.
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
}

/// Parses a drive letter (`C`, `c`, `C:`).
pub(crate) fn parse_letter(s: &str) -> Result<char, String> {
    let s = s.trim_end_matches(':');
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => Ok(c.to_ascii_uppercase()),
        _ => Err(format!("'{s}' is not a drive letter (A-Z)")),
    }
}

fn parse_map(s: &str) -> Result<(char, PathBuf), String> {
    let (l, p) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not LETTER=PATH (e.g. D=/srv/d)"))?;
    let letter = parse_letter(l)?;
    let path = PathBuf::from(p);
    if !path.is_absolute() {
        return Err(format!("'{p}' is not an absolute path"));
    }
    Ok((letter, path))
}

/// Runs the mount until it is unmounted; returns the exit status.
#[cfg(target_os = "linux")]
pub fn run(a: MountArgs) -> anyhow::Result<i32> {
    use std::io::Write;
    use std::sync::{mpsc, Arc};
    use std::time::Duration;
    use vfs_core::{DeleteSemantics, VolumeOptions};

    let mut vo = VolumeOptions {
        drive_letter: a.drive_letter,
        case_sensitive: a.case_sensitive,
        read_only: a.read_only,
        delete_semantics: if a.legacy_delete {
            DeleteSemantics::Legacy
        } else {
            DeleteSemantics::Posix
        },
        // The mounting user owns the root (and files made without an owner).
        // SAFETY: geteuid/getegid cannot fail.
        default_uid: unsafe { libc::geteuid() },
        // SAFETY: as above.
        default_gid: unsafe { libc::getegid() },
        ..VolumeOptions::default()
    };
    for (letter, path) in &a.map_drive {
        if *letter == a.drive_letter {
            anyhow::bail!("--map-drive {letter}= names the volume's own drive letter");
        }
        vo.drive_map
            .insert(*letter, path.to_string_lossy().into_owned());
    }
    let volume = Arc::new(build_volume(&a, vo)?);

    // SIGINT and SIGTERM are blocked in every thread (set before any thread starts) and
    // taken by one thread with sigwait, which asks for the unmount.
    let sigs = block_signals();
    let mut opts = backend_fuse::MountOptions {
        allow_other: a.allow_other,
        read_only: a.read_only,
        // Shown to `ntlinkfs unmount`, which says where the drive went.
        image: a.image.as_ref().map(std::path::absolute).transpose()?,
        ..Default::default()
    };
    if let Some(n) = a.threads {
        anyhow::ensure!(n >= 1, "--threads must be at least 1");
        opts.threads = n;
    }
    let handle = backend_fuse::mount(volume.clone(), &a.mountpoint, &opts)?;
    println!(
        "ntlinkfs: drive {}: mounted at {} (ready)",
        a.drive_letter,
        handle.mountpoint().display()
    );
    std::io::stdout().flush()?;

    let (tx, rx) = mpsc::channel::<i32>();
    let unmounter = handle.unmounter();
    std::thread::Builder::new()
        .name("ntlinkfs-signals".into())
        .spawn(move || loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: sigs is a valid, initialised signal set.
            if unsafe { libc::sigwait(&sigs, &mut sig) } == 0 {
                let _ = unmounter.unmount();
                let _ = tx.send(sig);
            }
        })?;
    loop {
        if let Some(r) = handle.wait_timeout(Duration::from_millis(200)) {
            r?;
            break;
        }
        if rx.try_recv().is_ok() {
            // Unmount requested. If files are still open the unmount was lazy: give the
            // session a moment to end, then leave anyway (the kernel ends it when we exit).
            if let Some(r) = handle.wait_timeout(Duration::from_secs(5)) {
                r?;
            }
            break;
        }
    }
    // The volume stays here, whole, after the unmount: save it if asked.
    drop(handle);
    if let Some(img) = &a.image {
        vfs_core::image::save_atomic(&volume, img)
            .map_err(|e| anyhow::anyhow!("saving the drive to {}: {e}", img.display()))?;
        eprintln!("ntlinkfs: saved the drive to {}", img.display());
    }
    drop(volume);
    Ok(0)
}

/// The volume to mount: from an existing image, from a fixture, or empty. The command line's
/// read-only flag, drive map and owner apply to a loaded image; a fixture takes its drive letter,
/// case sensitivity, delete semantics and link limit from its `[volume]` table.
#[cfg(target_os = "linux")]
fn build_volume(a: &MountArgs, vo: vfs_core::VolumeOptions) -> anyhow::Result<vfs_core::Volume> {
    use vfs_core::Volume;
    if let Some(img) = &a.image {
        // A save killed earlier (a crashed daemon) left a full-size temporary file (issue 14).
        let n = vfs_core::image::remove_stale_temps(img)
            .map_err(|e| anyhow::anyhow!("{}: {e}", img.display()))?;
        if n > 0 {
            eprintln!("ntlinkfs: removed {n} temporary file(s) of an interrupted save");
        }
    }
    if let Some(img) = a.image.as_ref().filter(|p| p.exists()) {
        let mut snap = vfs_core::image::read_file(img)
            .map_err(|e| anyhow::anyhow!("{}: {e}", img.display()))?;
        let mut o = snap.options();
        o.read_only = vo.read_only;
        o.drive_map = vo.drive_map.clone();
        snap.set_options(&o);
        return Volume::from_snapshot(snap).map_err(|e| anyhow::anyhow!("{}: {e}", img.display()));
    }
    if let Some(fx) = &a.fixture {
        let fixture = vfs_core::fixture::Fixture::read(fx).map_err(|e| anyhow::anyhow!("{e}"))?;
        return fixture.build_with(&vo).map_err(|e| anyhow::anyhow!("{e}"));
    }
    Ok(Volume::new(vo))
}

#[cfg(target_os = "linux")]
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise the set; pthread_sigmask blocks it in this
    // thread, and threads started later inherit the mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// `ntlinkfs mount X:` on Windows, through WinFsp (untested on Windows: this repository's CI
/// compiles it for Windows and, under Wine, sees it fail cleanly without WinFsp, but has never
/// mounted a drive with it). The volume's drive letter is the mount's, so that
/// absolute link targets written through the mount (`\??\X:\...`) land in this volume.
#[cfg(windows)]
pub fn run(a: MountArgs) -> anyhow::Result<i32> {
    use std::sync::Arc;
    let drive = a
        .mountpoint
        .to_string_lossy()
        .trim_end_matches('\\')
        .to_string();
    let letter = parse_letter(&drive).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut vo = vfs_core::VolumeOptions {
        drive_letter: letter,
        case_sensitive: a.case_sensitive,
        read_only: a.read_only,
        delete_semantics: if a.legacy_delete {
            vfs_core::DeleteSemantics::Legacy
        } else {
            vfs_core::DeleteSemantics::Posix
        },
        ..Default::default()
    };
    for (l, path) in &a.map_drive {
        vo.drive_map.insert(*l, path.to_string_lossy().into_owned());
    }
    let volume = Arc::new(if let Some(fx) = &a.fixture {
        vfs_core::fixture::Fixture::read(fx)
            .and_then(|f| f.build_with(&vo))
            .map_err(|e| anyhow::anyhow!("{e}"))?
    } else if let Some(img) = a.image.as_ref().filter(|p| p.exists()) {
        vfs_core::image::load_file(img).map_err(|e| anyhow::anyhow!("{}: {e}", img.display()))?
    } else {
        vfs_core::Volume::new(vo)
    });
    let _mounted = backend_winfsp::mount(
        volume,
        &format!("{letter}:"),
        &backend_winfsp::MountOptions::default(),
    )?;
    println!("ntlinkfs: drive {letter}: mounted (ready)");
    // Ctrl+C ends the process; WinFsp removes the mount with it.
    loop {
        std::thread::park();
    }
}

/// Mounting needs FUSE (Linux) or WinFsp (Windows).
#[cfg(not(any(target_os = "linux", windows)))]
pub fn run(_a: MountArgs) -> anyhow::Result<i32> {
    anyhow::bail!(
        "`ntlinkfs mount` through FUSE runs on Linux; on Windows the WinFsp backend mounts"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_maps_parse() {
        assert_eq!(parse_letter("c"), Ok('C'));
        assert_eq!(parse_letter("D:"), Ok('D'));
        assert!(parse_letter("CD").is_err());
        assert!(parse_letter("1").is_err());
        // An absolute path as the host spells it: `/srv/d` is relative on Windows (no drive).
        let abs = if cfg!(windows) { r"E:\srv\d" } else { "/srv/d" };
        assert_eq!(
            parse_map(&format!("d={abs}")),
            Ok(('D', PathBuf::from(abs)))
        );
        assert!(parse_map("d=rel").is_err());
        assert!(parse_map("/srv").is_err());
        if cfg!(windows) {
            assert!(parse_map("d=/srv/d").is_err());
        }
    }
}
