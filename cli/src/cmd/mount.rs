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
    /// The drive letter mapped to the host root (`/`), so that `ln -s /abs/host/path` stores
    /// an NTFS symbolic link to `Z:\abs\host\path` that reads back as the path given and
    /// that the kernel follows (Z:, as Wine maps it to `/`). Linux mounts only.
    #[arg(long, default_value = "Z", value_parser = parse_letter)]
    pub host_drive: char,
    /// Map no letter to the host root: `ln -s` to an absolute host path outside every
    /// `--map-drive` directory fails with EPERM.
    #[arg(long, conflicts_with = "host_drive")]
    pub no_host_links: bool,
    /// Make the root directory case-sensitive (new subdirectories inherit it), like
    /// `fsutil file setCaseSensitiveInfo`.
    #[arg(long)]
    pub case_sensitive: bool,
    /// Delete with the semantics of Windows before 10 1903: a deleted file's name stays,
    /// delete-pending, until its last handle closes.
    #[arg(long)]
    pub legacy_delete: bool,
    /// Threads serving requests, exactly (default: 1 on machines with 1 or 2 CPUs, else one
    /// per CPU up to 8; image saves run on a worker thread either way, and one
    /// more serving thread stays parked for junctions, `MountOptions::spare_thread`).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Let the kernel cache writes (FUSE_WRITEBACK_CACHE): small writes return from the page
    /// cache and reach the drive at close, fsync or write-back; kept coherent with NTFS's
    /// rules (backend-fuse `MountOptions::writeback_cache`, docs/BENCHMARKS.md "Small writes
    /// and the writeback cache"). Off by default.
    #[arg(long)]
    pub writeback_cache: bool,
    /// Serve every write through the daemon, without FUSE passthrough. By default a file
    /// open for writing has its reads, writes and mmaps sent by the kernel to a file of the
    /// daemon's own, with no request per write (Linux 6.9 and later, daemon running as root;
    /// otherwise writes go through the daemon anyway); sizes, times, ARCHIVE and the drive's
    /// size stay NTFS's (backend-fuse `MountOptions::passthrough`). --writeback-cache implies
    /// it (the kernel takes only one of the two).
    #[arg(long)]
    pub no_passthrough: bool,
    /// Freed file data kept for reuse by newly written data, in MiB (default 64): a new
    /// file's data then needs no fresh memory from the system, which costs a page fault and
    /// clearing per 4 KiB page. 0 hands freed data straight back to the allocator.
    #[arg(long, value_name = "MIB")]
    pub keep_freed_data_mib: Option<usize>,
    /// Let other users reach the drive (needs `user_allow_other` in /etc/fuse.conf unless
    /// mounting as root).
    #[arg(long)]
    pub allow_other: bool,
    /// Who checks permission bits: `daemon` (the default without --allow-other: no
    /// `default_permissions`, so the kernel skips a GETATTR after every name change) or
    /// `kernel` (`default_permissions`, the default with --allow-other). `daemon` with
    /// --allow-other caches no names (each walk asks, as the walking user): for testing.
    /// Linux before 6.16 always gets `kernel`.
    #[arg(long, value_enum, value_name = "WHO")]
    pub permission_checks: Option<PermissionChecks>,
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
    /// The drive's size, e.g. `--size 2G` (suffixes K, M, G, T: powers of 1024; plain bytes
    /// otherwise). Writes past it fail with ENOSPC, and `df` shows it. Default: half of the
    /// memory available when mounting (MemAvailable), because the drive lives in memory.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub size: Option<u64>,
    /// Bytes per cluster, the unit of allocation (`du`, `df`): 4096 as on a default NTFS
    /// volume; a power of two from 4096 to 65536, suffixes allowed (`64K`).
    #[arg(long, value_name = "BYTES", default_value = "4096", value_parser = parse_cluster)]
    pub cluster_size: u32,
    /// Mount even on a directory that holds files (they are hidden while mounted), like
    /// FUSE's `nonempty`.
    #[arg(long)]
    pub nonempty: bool,
}

/// `--permission-checks`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionChecks {
    /// The daemon checks each request.
    Daemon,
    /// The kernel checks (`default_permissions`).
    Kernel,
}

/// Parses a size: digits with an optional K/M/G/T suffix (powers of 1024, case-insensitive,
/// an optional trailing `B` or `iB`).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let body = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (digits, shift) = match body.chars().last() {
        Some('K') => (&body[..body.len() - 1], 10),
        Some('M') => (&body[..body.len() - 1], 20),
        Some('G') => (&body[..body.len() - 1], 30),
        Some('T') => (&body[..body.len() - 1], 40),
        _ => (body, 0),
    };
    let bad = || {
        format!("'{s}' is not a size: give a number with an optional K, M, G or T suffix (e.g. 2G)")
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))?;
    if bytes == 0 {
        return Err(format!("'{s}': the size must be more than 0"));
    }
    Ok(bytes)
}

fn parse_cluster(s: &str) -> Result<u32, String> {
    let n = parse_size(s)?;
    let c = u32::try_from(n).map_err(|_| format!("cluster size '{s}' is too large"))?;
    let o = vfs_core::VolumeOptions {
        cluster_size: c,
        ..Default::default()
    };
    o.validate()?;
    Ok(c)
}

/// The default size: half of MemAvailable from /proc/meminfo at mount time (the drive's data
/// lives in this process's memory, and the other half is left to the machine, so a runaway
/// writer gets ENOSPC long before the OOM killer ends the daemon); 1 GiB if /proc/meminfo
/// cannot be read.
pub(crate) fn default_size() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| mem_available(&m))
        .map_or(1 << 30, |b| b / 2)
}

/// MemAvailable in bytes from /proc/meminfo's text.
pub(crate) fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
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
        cluster_size: a.cluster_size,
        capacity: Some(a.size.unwrap_or_else(default_size)),
        // Linux programs make sparse files by seeking or truncating past the end; ntfs-3g
        // marks such files sparse (A8), and so does the mount.
        sparse_on_extend: true,
        ..VolumeOptions::default()
    };
    for (letter, path) in &a.map_drive {
        if *letter == a.drive_letter {
            anyhow::bail!("--map-drive {letter}= names the volume's own drive letter");
        }
        vo.drive_map
            .insert(*letter, path.to_string_lossy().into_owned());
    }
    let host_drive = host_drive(&a)?;
    if let Some(letter) = host_drive {
        vo.drive_map.insert(letter, "/".into());
    }
    if let Some(mib) = a.keep_freed_data_mib {
        let bytes = mib
            .checked_mul(1 << 20)
            .ok_or_else(|| anyhow::anyhow!("--keep-freed-data-mib {mib} is too large"))?;
        vfs_core::data::set_free_chunks_limit(bytes);
    }
    let volume = Arc::new(build_volume(&a, vo)?);
    // A fixture's `[volume]` table or an image brings its own drive letter; links to that
    // letter land on the volume, so it cannot also be the host root's.
    let drive_letter = volume.options().drive_letter;
    if host_drive == Some(drive_letter) {
        anyhow::bail!(
            "the drive's letter {drive_letter}: (from its fixture or image) is the host root's \
             letter: choose another with --host-drive, or pass --no-host-links"
        );
    }

    // SIGINT and SIGTERM are blocked in every thread (set before any thread starts) and
    // taken by one thread with sigwait, which asks for the unmount.
    let sigs = block_signals();
    let mut opts = backend_fuse::MountOptions {
        allow_other: a.allow_other,
        permissions: match a.permission_checks {
            None => backend_fuse::Permissions::Auto,
            Some(PermissionChecks::Daemon) => backend_fuse::Permissions::Daemon,
            Some(PermissionChecks::Kernel) => backend_fuse::Permissions::Kernel,
        },
        read_only: a.read_only,
        nonempty: a.nonempty,
        // Shown to `ntlinkfs unmount`, which says where the drive went.
        image: a.image.as_ref().map(std::path::absolute).transpose()?,
        writeback_cache: a.writeback_cache,
        passthrough: !a.no_passthrough && !a.writeback_cache,
        ..Default::default()
    };
    if let Some(n) = a.threads {
        anyhow::ensure!(n >= 1, "--threads must be at least 1");
        opts.threads = n;
        opts.widen_when_idle = false;
    }
    let handle = backend_fuse::mount(volume.clone(), &a.mountpoint, &opts)?;
    println!(
        "{}",
        ready_line(drive_letter, handle.mountpoint(), host_drive)
    );
    std::io::stdout().flush()?;
    let sp = volume.space();
    eprintln!(
        "ntlinkfs: size {} ({} clusters of {} bytes), {} used",
        super::du::human(sp.total_clusters * sp.cluster_size),
        sp.total_clusters,
        sp.cluster_size,
        super::du::human(sp.used_bytes)
    );

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

/// The letter mapped to the host root, if any: `--host-drive` (default Z) unless
/// `--no-host-links`. It must be neither the volume's own letter nor a letter `--map-drive`
/// gives another directory (an explicit `--map-drive Z=/` is the same mapping).
#[cfg(target_os = "linux")]
fn host_drive(a: &MountArgs) -> anyhow::Result<Option<char>> {
    if a.no_host_links {
        return Ok(None);
    }
    let letter = a.host_drive;
    if letter == a.drive_letter {
        anyhow::bail!(
            "the host root's letter {letter}: is the volume's own drive letter: choose another \
             with --host-drive, or pass --no-host-links"
        );
    }
    if let Some((_, p)) = a
        .map_drive
        .iter()
        .find(|(l, p)| *l == letter && p != std::path::Path::new("/"))
    {
        anyhow::bail!(
            "--map-drive {letter}={} takes the host root's letter {letter}: choose another \
             with --host-drive, or pass --no-host-links",
            p.display()
        );
    }
    Ok(Some(letter))
}

/// The one line printed when the drive can be used.
#[cfg(target_os = "linux")]
fn ready_line(letter: char, mountpoint: &std::path::Path, host: Option<char>) -> String {
    match host {
        Some(h) => format!(
            "ntlinkfs: drive {letter}: mounted at {}, host / on {h}: (ready)",
            mountpoint.display()
        ),
        None => format!(
            "ntlinkfs: drive {letter}: mounted at {} (ready)",
            mountpoint.display()
        ),
    }
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
        return Volume::from_snapshot_sized(snap, &vo).map_err(|e| match e {
            vfs_core::SizedLoadError::TooLarge { needs, size } => anyhow::anyhow!(
                "{}: the drive needs {needs} bytes, more than --size {size}: give a larger --size",
                img.display()
            ),
            other => anyhow::anyhow!("{}: {other}", img.display()),
        });
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
        cluster_size: a.cluster_size,
        capacity: Some(a.size.unwrap_or_else(default_size)),
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

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10MB"), Ok(10 << 20));
        for bad in [
            "",
            "G",
            "2X",
            "-1",
            "1.5G",
            "0",
            "0K",
            "99999999999T",
            "2 G",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_cluster("64K"), Ok(65536));
        assert!(parse_cluster("1000").unwrap_err().contains("cluster size"));
    }

    #[test]
    fn default_size_is_half_of_mem_available() {
        let meminfo =
            "MemTotal:       16000000 kB\nMemFree:         1000 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(mem_available(meminfo), Some(8_000_000 * 1024));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        assert!(default_size() > 0);
    }
}
