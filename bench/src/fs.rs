//! The workloads, written once against a directory through system calls: they run unchanged on
//! tmpfs, ntfs-3g and the ntlinkfs FUSE mount. Paths are built before the clock starts, so the
//! timed loops make system calls and little else.

use super::report::{Config, Sample};
use super::targets::{Stance, KIND_CHANGE_EIO};
use anyhow::{bail, Context, Result};
use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;
use vfs_core::name::wide;

/// How `node_modules/<pkg>` points into `.pnpm` on this target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStyle {
    /// A relative Linux symlink (pnpm's layout on Linux): tmpfs cannot hold junctions.
    Symlink,
    /// An NTFS junction (pnpm's layout on Windows), made by writing a mount-point reparse buffer
    /// to the `system.ntfs_reparse_data` extended attribute, as ntfs-3g defines it.
    Junction,
    /// The ceiling's: `store/junction` times the calls a junction is made with on an NTFS
    /// target (mkdir, then setxattr of the same reparse buffer, which the ceiling only
    /// stores), so that fuse÷ceiling compares the same requests; then, outside that clock,
    /// the directories are replaced by the relative symlinks the walk follows, and making
    /// those is timed as `store/symlink` (what the ceiling's junction figure was before).
    JunctionCalls,
}

/// A directory to run the workloads in.
#[derive(Debug, Clone)]
pub struct PathTarget {
    /// Where the workloads make their files.
    pub dir: PathBuf,
    /// `dir` as a volume path below the drive root (`bench`), for junction targets (`C:\bench\...`).
    pub volume_dir: String,
    pub links: LinkStyle,
    /// Which registered divergences may show here (an EIO after a junction is set: only on
    /// ntfs-3g, registry entry `kind-change-eio`).
    pub stance: Stance,
    /// Junctions settled, and the EIOs met doing it (reported per target).
    pub settled: Cell<(u64, u64)>,
}

impl PathTarget {
    /// A target directory with nothing settled yet.
    pub fn new(dir: PathBuf, volume_dir: String, links: LinkStyle, stance: Stance) -> PathTarget {
        PathTarget {
            dir,
            volume_dir,
            links,
            stance,
            settled: Cell::new((0, 0)),
        }
    }
}

/// Where a sample goes: the operation ("workload/op") and what was measured.
pub type Sink<'a> = &'a mut dyn FnMut(&'static str, Sample);

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .with_context(|| format!("{} has a NUL byte", p.display()))
}

fn errno_err(what: &str, p: &CStr) -> anyhow::Error {
    let e = std::io::Error::last_os_error();
    anyhow::anyhow!("{what} {}: {e}", p.to_string_lossy())
}

fn create_empty(p: &CStr) -> Result<()> {
    // SAFETY: p is a NUL-terminated path; the returned descriptor is closed right away.
    unsafe {
        let fd = libc::open(
            p.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC,
            0o644,
        );
        if fd < 0 {
            return Err(errno_err("create", p));
        }
        libc::close(fd);
    }
    Ok(())
}

fn stat(p: &CStr) -> Result<libc::stat> {
    // SAFETY: p is NUL-terminated and st is a valid out-parameter.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::stat(p.as_ptr(), &mut st) != 0 {
            return Err(errno_err("stat", p));
        }
        Ok(st)
    }
}

fn lstat_raw(p: &CStr) -> std::io::Result<libc::stat> {
    // SAFETY: as in `stat`.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::lstat(p.as_ptr(), &mut st) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(st)
    }
}

/// A timed loop: its wall time, and the CPU time the process's other threads used meanwhile.
#[derive(Debug, Clone, Copy)]
struct Timed {
    secs: f64,
    server_cpu: f64,
}

/// CPU time of a clock (`CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_THREAD_CPUTIME_ID`), in seconds.
fn cpu_clock(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write; both clocks exist on every Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The process's CPU time beside this thread's: the difference is what every other thread
/// of the process used (the in-process FUSE servers; the workloads make their calls from
/// this one thread).
fn others_cpu() -> f64 {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID) - cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn timed(f: impl FnOnce() -> Result<()>) -> Result<Timed> {
    let c = others_cpu();
    let t = Instant::now();
    f()?;
    let secs = t.elapsed().as_secs_f64();
    Ok(Timed {
        secs,
        server_cpu: (others_cpu() - c).max(0.0),
    })
}

fn fresh_dir(p: &Path) -> Result<()> {
    if p.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(p).with_context(|| format!("removing {}", p.display()))?;
    }
    std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))
}

/// (a) Metadata: create N files, stat each (warm), hard-link each, rename each link, unlink
/// both names; then list a directory of `list_entries` entries `list_repeats` times.
pub fn meta(t: &PathTarget, cfg: &Config, sink: Sink) -> Result<()> {
    let n = cfg.files;
    let d = t.dir.join("meta");
    fresh_dir(&d)?;
    let names = |prefix: &str| -> Result<Vec<CString>> {
        (0..n)
            .map(|i| cpath(&d.join(format!("{prefix}{i:07}"))))
            .collect()
    };
    let (f, l, r) = (names("f")?, names("l")?, names("r")?);
    let secs = timed(|| f.iter().try_for_each(|p| create_empty(p)))?;
    sink("meta/create", ops(n, secs));

    // The first pass fills the caches; the second is the warm stat the issue asks for.
    for p in &f {
        stat(p)?;
    }
    let secs = timed(|| f.iter().try_for_each(|p| stat(p).map(drop)))?;
    sink("meta/stat", ops(n, secs));

    let secs = timed(|| {
        for (a, b) in f.iter().zip(&l) {
            // SAFETY: both are NUL-terminated paths.
            if unsafe { libc::link(a.as_ptr(), b.as_ptr()) } != 0 {
                return Err(errno_err("link to", b));
            }
        }
        Ok(())
    })?;
    sink("meta/link", ops(n, secs));
    let links = stat(&f[0])?.st_nlink;
    if links != 2 {
        bail!(
            "after link(2), {} has {links} links, not 2",
            f[0].to_string_lossy()
        );
    }

    let secs = timed(|| {
        for (a, b) in l.iter().zip(&r) {
            // SAFETY: both are NUL-terminated paths.
            if unsafe { libc::rename(a.as_ptr(), b.as_ptr()) } != 0 {
                return Err(errno_err("rename to", b));
            }
        }
        Ok(())
    })?;
    sink("meta/rename", ops(n, secs));

    let secs = timed(|| {
        for p in r.iter().chain(&f) {
            // SAFETY: p is a NUL-terminated path.
            if unsafe { libc::unlink(p.as_ptr()) } != 0 {
                return Err(errno_err("unlink", p));
            }
        }
        Ok(())
    })?;
    sink("meta/unlink", ops(2 * n, secs));
    let left = std::fs::read_dir(&d)?.count();
    if left != 0 {
        bail!(
            "{} still has {left} entries after unlinking everything",
            d.display()
        );
    }
    std::fs::remove_dir(&d)?;

    // Repeated misses, as PATH, include and import probing make them: stat of names that do
    // not exist in a directory that does, a first pass and then a timed second pass (what a
    // negative-entry cache would answer without a round trip; issue 17 item 3).
    let md = t.dir.join("miss");
    fresh_dir(&md)?;
    let missing: Vec<CString> = (0..n)
        .map(|i| cpath(&md.join(format!("missing-{i:07}.js"))))
        .collect::<Result<_>>()?;
    let probe = |p: &CString| -> Result<()> {
        match lstat_raw(p) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            Err(e) => bail!("stat {}: {e}, expected ENOENT", p.to_string_lossy()),
            Ok(_) => bail!("{} exists, expected ENOENT", p.to_string_lossy()),
        }
    };
    missing.iter().try_for_each(probe)?;
    let secs = timed(|| missing.iter().try_for_each(probe))?;
    sink("meta/miss", ops(n, secs));
    std::fs::remove_dir(&md)?;

    let ld = t.dir.join("list");
    fresh_dir(&ld)?;
    for i in 0..cfg.list_entries {
        create_empty(&cpath(&ld.join(format!("entry-{i:06}.txt")))?)?;
    }
    let list = || -> Result<usize> { Ok(std::fs::read_dir(&ld)?.count()) };
    list()?;
    let mut listed = 0;
    let secs = timed(|| {
        for _ in 0..cfg.list_repeats {
            listed += list()?;
        }
        Ok(())
    })?;
    if listed != cfg.list_entries * cfg.list_repeats {
        bail!(
            "listing {} gave {listed} entries in {} listings, expected {} each",
            ld.display(),
            cfg.list_repeats,
            cfg.list_entries
        );
    }
    sink("meta/readdir", ops(listed, secs));
    std::fs::remove_dir_all(&ld)?;
    Ok(())
}

fn ops(n: usize, t: Timed) -> Sample {
    Sample {
        count: n as u64,
        bytes: 0,
        seconds: t.secs,
        server_cpu: Some(t.server_cpu),
    }
}

/// The package store's shape, shared with the engine's version of the workload.
pub struct StoreLayout {
    /// Packages; package `k` holds files `start..end` of the store.
    pub packages: Vec<(usize, usize)>,
}

impl StoreLayout {
    pub fn new(cfg: &Config) -> StoreLayout {
        let per = cfg.files_per_package.max(1);
        let packages = (0..cfg.store_files)
            .step_by(per)
            .map(|s| (s, (s + per).min(cfg.store_files)))
            .collect();
        StoreLayout { packages }
    }

    /// Path of file `j` inside its package directory: a third of the files sit in `lib/`.
    pub fn file_rel(j: usize) -> String {
        if j.is_multiple_of(3) {
            format!("lib/m{j}.js")
        } else {
            format!("f{j}.js")
        }
    }

    /// Content of store file `j`: 256 B to 8 KiB, deterministic.
    pub fn content(j: usize) -> Vec<u8> {
        let len = 256 + (j.wrapping_mul(2_654_435_761) % 7937);
        (0..len).map(|i| (i ^ j) as u8 | 1).collect()
    }

    /// `.pnpm/<pkg>@1.0.0/node_modules/<pkg>`: where a project's copy of package `k` lives.
    pub fn pnpm_rel(k: usize) -> String {
        format!(".pnpm/pkg{k}@1.0.0/node_modules/pkg{k}")
    }
}

/// (b) A package-manager store: `store_files` files in packages, hard-linked into `projects`
/// trees laid out as pnpm does (`node_modules/.pnpm/<pkg>@<ver>/node_modules/<pkg>`), with
/// `node_modules/<pkg>` pointing at that copy (a junction on Windows; here a junction on the
/// NTFS targets and a symlink on tmpfs), then a walk through every project's `node_modules`
/// that follows those links and reads every file.
pub fn store(t: &PathTarget, cfg: &Config, sink: Sink) -> Result<()> {
    let lay = StoreLayout::new(cfg);
    let root = t.dir.join("store-bench");
    fresh_dir(&root)?;
    let store = root.join("store");
    let contents: Vec<Vec<u8>> = (0..cfg.store_files).map(StoreLayout::content).collect();
    let secs = timed(|| {
        for (k, &(s, e)) in lay.packages.iter().enumerate() {
            let pd = store.join(format!("pkg{k}"));
            std::fs::create_dir_all(pd.join("lib"))?;
            for (j, c) in contents.iter().enumerate().take(e).skip(s) {
                std::fs::write(pd.join(StoreLayout::file_rel(j)), c)?;
            }
        }
        Ok(())
    })?;
    sink("store/populate", ops(cfg.store_files, secs));

    // Paths first, so that the timed loop links and little else.
    let mut links: Vec<(CString, CString)> = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for p in 0..cfg.projects {
        let nm = root.join(format!("p{p}")).join("node_modules");
        for (k, &(s, e)) in lay.packages.iter().enumerate() {
            let copy = nm.join(StoreLayout::pnpm_rel(k));
            dirs.push(copy.join("lib"));
            let src = store.join(format!("pkg{k}"));
            for j in s..e {
                let rel = StoreLayout::file_rel(j);
                links.push((cpath(&src.join(&rel))?, cpath(&copy.join(&rel))?));
            }
        }
    }
    let secs = timed(|| {
        for d in &dirs {
            std::fs::create_dir_all(d).with_context(|| format!("mkdir {}", d.display()))?;
        }
        for (a, b) in &links {
            // SAFETY: both are NUL-terminated paths.
            if unsafe { libc::link(a.as_ptr(), b.as_ptr()) } != 0 {
                return Err(errno_err("link to", b));
            }
        }
        Ok(())
    })?;
    sink("store/link", ops(links.len(), secs));

    let mut made: Vec<(PathBuf, Vec<u8>, String)> = Vec::new();
    for p in 0..cfg.projects {
        let nm_rel = format!("store-bench/p{p}/node_modules");
        let nm = root.join(format!("p{p}")).join("node_modules");
        for k in 0..lay.packages.len() {
            let target_rel = StoreLayout::pnpm_rel(k);
            let payload = match t.links {
                LinkStyle::Symlink => target_rel.clone().into_bytes(),
                LinkStyle::Junction | LinkStyle::JunctionCalls => {
                    let win = format!(
                        "C:\\{}\\{nm_rel}\\{target_rel}",
                        t.volume_dir.trim_matches('\\')
                    )
                    .replace('/', "\\")
                    .replace("\\\\", "\\");
                    vfs_core::reparse::junction_for_target(&wide(&win), 'C')
                        .map_err(|e| anyhow::anyhow!("junction buffer for {win}: {e}"))?
                        .into_bytes()
                }
            };
            made.push((nm.join(format!("pkg{k}")), payload, target_rel));
        }
    }
    let cmade: Vec<(CString, &[u8])> = made
        .iter()
        .map(|(p, b, _)| Ok((cpath(p)?, &b[..])))
        .collect::<Result<_>>()?;
    let secs = timed(|| {
        for (p, payload) in &cmade {
            make_link(t.links, p, payload)?;
        }
        Ok(())
    })?;
    sink("store/junction", ops(made.len(), secs));
    if t.links == LinkStyle::JunctionCalls {
        for (p, _) in &cmade {
            // SAFETY: a NUL-terminated path.
            if unsafe { libc::rmdir(p.as_ptr()) } != 0 {
                return Err(errno_err("rmdir", p));
            }
        }
        let links: Vec<(&CString, CString)> = cmade
            .iter()
            .zip(&made)
            .map(|((p, _), (_, _, rel))| Ok((p, CString::new(rel.as_str())?)))
            .collect::<Result<_>>()?;
        let secs = timed(|| {
            for (p, target) in &links {
                // SAFETY: both are NUL-terminated.
                if unsafe { libc::symlink(target.as_ptr(), p.as_ptr()) } != 0 {
                    return Err(errno_err("symlink", p));
                }
            }
            Ok(())
        })?;
        sink("store/symlink", ops(links.len(), secs));
    }
    if t.links == LinkStyle::Junction {
        for (p, _) in &cmade {
            settle_junction(t, p)?;
        }
    }

    let mut buf = vec![0u8; 64 * 1024];
    let (mut files, mut bytes) = (0usize, 0u64);
    let secs = timed(|| {
        for p in 0..cfg.projects {
            let nm = root.join(format!("p{p}")).join("node_modules");
            for e in std::fs::read_dir(&nm)? {
                let e = e?;
                if e.file_name().as_bytes().starts_with(b".") {
                    continue;
                }
                walk(&e.path(), &mut buf, &mut files, &mut bytes)?;
            }
        }
        Ok(())
    })?;
    let want_files = cfg.projects * cfg.store_files;
    let want_bytes: u64 =
        contents.iter().map(|c| c.len() as u64).sum::<u64>() * cfg.projects as u64;
    if files != want_files || bytes != want_bytes {
        bail!(
            "the walk read {files} files and {bytes} bytes through the links, expected {want_files} files and {want_bytes} bytes"
        );
    }
    sink("store/walk", ops(files, secs));

    // The store walked by itself, as `pnpm store status` and `pnpm store prune` do: list each
    // directory and lstat each entry, following nothing.
    let mut entries = 0usize;
    let secs = timed(|| lstat_tree(&store, &mut entries))?;
    // Every file, every package directory and its lib/.
    let want = cfg.store_files + 2 * lay.packages.len();
    if entries != want {
        bail!(
            "the store walk found {entries} entries in {}, expected {want}",
            store.display()
        );
    }
    sink("store/store-walk", ops(entries, secs));

    // `rm -rf` of every project's node_modules (the real rm, one process for all of them):
    // the hard links, the .pnpm directories, and the node_modules/<pkg> junctions or symlinks,
    // which rm unlinks without following. Counted first, outside the clock.
    let nms: Vec<PathBuf> = (0..cfg.projects)
        .map(|p| root.join(format!("p{p}")).join("node_modules"))
        .collect();
    let mut names = 0usize;
    for nm in &nms {
        lstat_tree(nm, &mut names)?;
        names += 1;
    }
    let secs = timed(|| {
        let out = std::process::Command::new("rm")
            .arg("-rf")
            .args(&nms)
            .output()
            .context("running rm -rf (coreutils)")?;
        if !out.status.success() {
            bail!(
                "rm -rf of the node_modules trees failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    })?;
    if let Some(nm) = nms.iter().find(|nm| nm.symlink_metadata().is_ok()) {
        bail!("{} is still there after rm -rf", nm.display());
    }
    sink("store/rm-rf", ops(names, secs));
    std::fs::remove_dir_all(&root).with_context(|| format!("removing {}", root.display()))?;
    Ok(())
}

/// Lists every directory below `p` and lstats every entry, following no link; counts entries.
fn lstat_tree(p: &Path, entries: &mut usize) -> Result<()> {
    for e in std::fs::read_dir(p).with_context(|| format!("listing {}", p.display()))? {
        let e = e?;
        let path = e.path();
        let md = std::fs::symlink_metadata(&path)
            .with_context(|| format!("lstat {}", path.display()))?;
        *entries += 1;
        if md.is_dir() {
            lstat_tree(&path, entries)?;
        }
    }
    Ok(())
}

fn make_link(style: LinkStyle, p: &CStr, payload: &[u8]) -> Result<()> {
    match style {
        LinkStyle::Symlink => {
            let target = CString::new(payload)?;
            // SAFETY: both are NUL-terminated.
            if unsafe { libc::symlink(target.as_ptr(), p.as_ptr()) } != 0 {
                return Err(errno_err("symlink", p));
            }
        }
        LinkStyle::Junction | LinkStyle::JunctionCalls => {
            // SAFETY: p and the attribute name are NUL-terminated; the value pointer and
            // length describe `payload`.
            unsafe {
                if libc::mkdir(p.as_ptr(), 0o755) != 0 {
                    return Err(errno_err("mkdir", p));
                }
                if libc::lsetxattr(
                    p.as_ptr(),
                    host::xattrs::ntfs::REPARSE_DATA_C.as_ptr(),
                    payload.as_ptr().cast(),
                    payload.len(),
                    0,
                ) != 0
                {
                    return Err(errno_err("set system.ntfs_reparse_data on", p));
                }
            }
        }
    }
    Ok(())
}

/// After a directory becomes a junction, ntfs-3g's kernel inode, cached as a directory,
/// reports the changed file type once as EIO (fuse_change_attributes marks the old inode bad);
/// the next lookup gets the new one. That is registered divergence `kind-change-eio`: one
/// lstat outside the clock lets it happen before the walk, and the EIOs are counted. NTFS
/// shows the junction at once, so where the registry does not say the target differs (the
/// ntlinkfs mount) an EIO is an error.
fn settle_junction(t: &PathTarget, p: &CStr) -> Result<()> {
    let (junctions, eio) = t.settled.get();
    t.settled.set((junctions + 1, eio));
    for _ in 0..3 {
        match lstat_raw(p) {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => return Ok(()),
            Ok(st) => bail!(
                "{} is not shown as a link after setting its junction (mode {:o})",
                p.to_string_lossy(),
                st.st_mode
            ),
            Err(e) if e.raw_os_error() == Some(libc::EIO) && t.stance == Stance::Ntfs3g => {
                let (junctions, eio) = t.settled.get();
                t.settled.set((junctions, eio + 1));
            }
            Err(e) if e.raw_os_error() == Some(libc::EIO) => bail!(
                "lstat {}: EIO right after its junction was set; NTFS shows a junction at once and only ntfs-3g is registered to differ (host/divergences.toml `{KIND_CHANGE_EIO}`)",
                p.to_string_lossy()
            ),
            Err(e) => bail!("lstat {}: {e}", p.to_string_lossy()),
        }
    }
    bail!("lstat {} keeps failing with EIO", p.to_string_lossy())
}

/// Reads every file below `p`, following links (as Node's resolver does).
fn walk(p: &Path, buf: &mut [u8], files: &mut usize, bytes: &mut u64) -> Result<()> {
    for e in std::fs::read_dir(p).with_context(|| format!("listing {}", p.display()))? {
        let e = e?;
        let mut ft = e.file_type()?;
        if ft.is_symlink() {
            ft = std::fs::metadata(e.path())?.file_type();
        }
        if ft.is_dir() {
            walk(&e.path(), buf, files, bytes)?;
        } else {
            let mut f = std::fs::File::open(e.path())
                .with_context(|| format!("opening {}", e.path().display()))?;
            loop {
                let n = f.read(buf)?;
                if n == 0 {
                    break;
                }
                *bytes += n as u64;
            }
            *files += 1;
        }
    }
    Ok(())
}

/// A buffer of pseudo-random bytes (xorshift), so no filesystem can store it as zeros.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Offsets of the random 4 KiB reads: deterministic, 4 KiB aligned, below `size`.
pub fn random_offsets(size: u64, count: usize) -> Vec<u64> {
    let blocks = (size / 4096).max(1);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % blocks) * 4096
        })
        .collect()
}

fn write_all_fd(fd: libc::c_int, buf: &[u8], p: &CStr) -> Result<()> {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the pointer and length describe the unwritten tail of `buf`.
        let n = unsafe { libc::write(fd, buf[done..].as_ptr().cast(), buf.len() - done) };
        if n <= 0 {
            return Err(errno_err("write", p));
        }
        done += n as usize;
    }
    Ok(())
}

fn write_file(p: &CStr, size: u64, req: usize, data: &[u8]) -> Result<()> {
    // SAFETY: p is NUL-terminated; fd is closed before returning.
    let fd = unsafe {
        libc::open(
            p.as_ptr(),
            libc::O_CREAT | libc::O_TRUNC | libc::O_WRONLY | libc::O_CLOEXEC,
            0o644,
        )
    };
    if fd < 0 {
        return Err(errno_err("create", p));
    }
    let mut off = 0u64;
    let r = (|| {
        while off < size {
            let n = req.min((size - off) as usize);
            let at = (off % data.len() as u64) as usize;
            let at = at.min(data.len() - n);
            write_all_fd(fd, &data[at..at + n], p)?;
            off += n as u64;
        }
        Ok(())
    })();
    // SAFETY: fd is ours. close() sends FUSE's FLUSH: it belongs to the write.
    if unsafe { libc::close(fd) } != 0 && r.is_ok() {
        return Err(errno_err("close", p));
    }
    r
}

fn read_file(p: &CStr, req: usize, buf: &mut [u8]) -> Result<u64> {
    // SAFETY: p is NUL-terminated; fd is closed before returning.
    let fd = unsafe { libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(errno_err("open", p));
    }
    let mut total = 0u64;
    let r = loop {
        // SAFETY: buf has at least `req` bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), req) };
        if n < 0 {
            break Err(errno_err("read", p));
        }
        if n == 0 {
            break Ok(total);
        }
        total += n as u64;
    };
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    r
}

/// (c) Data: `data_size` bytes written sequentially with 1 MiB requests, read back with 1 MiB
/// and 4 KiB requests (each after reopening the file), `rand_reads` 4 KiB preads at random
/// offsets, then a second file written with 4 KiB requests.
pub fn data(t: &PathTarget, cfg: &Config, sink: Sink) -> Result<()> {
    let d = t.dir.join("data");
    fresh_dir(&d)?;
    let size = cfg.data_size;
    let src = pattern((2 << 20) + 4096);
    let mut buf = vec![0u8; 1 << 20];
    let a = cpath(&d.join("big-1m.bin"))?;
    let secs = timed(|| write_file(&a, size, 1 << 20, &src))?;
    sink("data/write-1m", bytes(size, secs));
    let st = stat(&a)?;
    if st.st_size as u64 != size {
        bail!(
            "{} has {} bytes after writing {size}",
            a.to_string_lossy(),
            st.st_size
        );
    }
    for (op, req) in [("data/read-1m", 1usize << 20), ("data/read-4k", 4096)] {
        let mut got = 0;
        let secs = timed(|| {
            got = read_file(&a, req, &mut buf)?;
            Ok(())
        })?;
        if got != size {
            bail!(
                "read {got} bytes of {}, expected {size}",
                a.to_string_lossy()
            );
        }
        sink(op, bytes(size, secs));
    }
    // A spot check that the data is what was written.
    {
        let mut f = std::fs::File::open(d.join("big-1m.bin"))?;
        let mut head = vec![0u8; 4096];
        f.read_exact(&mut head)?;
        if head != src[..4096] {
            bail!("{} does not hold the bytes written", a.to_string_lossy());
        }
    }
    let offsets = random_offsets(size, cfg.rand_reads);
    // SAFETY: a is NUL-terminated; fd is closed below.
    let fd = unsafe { libc::open(a.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(errno_err("open", &a));
    }
    let r = timed(|| {
        for &off in &offsets {
            // SAFETY: buf has at least 4096 bytes.
            let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), 4096, off as libc::off_t) };
            if n != 4096 {
                return Err(errno_err("pread", &a));
            }
        }
        Ok(())
    });
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    sink("data/rand-read-4k", ops(offsets.len(), r?));
    // SAFETY: a is NUL-terminated.
    unsafe { libc::unlink(a.as_ptr()) };

    let b = cpath(&d.join("big-4k.bin"))?;
    let secs = timed(|| write_file(&b, size, 4096, &src))?;
    sink("data/write-4k", bytes(size, secs));
    if stat(&b)?.st_size as u64 != size {
        bail!("{} has the wrong size after writing", b.to_string_lossy());
    }
    std::fs::remove_dir_all(&d)?;
    Ok(())
}

fn bytes(n: u64, t: Timed) -> Sample {
    Sample {
        count: 0,
        bytes: n,
        seconds: t.secs,
        server_cpu: Some(t.server_cpu),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Config {
        Config {
            quick: true,
            files: 20,
            list_entries: 30,
            list_repeats: 2,
            store_files: 25,
            files_per_package: 10,
            projects: 2,
            data_size: 1 << 20,
            rand_reads: 10,
            memory_files: 100,
            repeat: 1,
            mount_repeats: 1,
        }
    }

    /// The syscall workloads run in a plain temporary directory (counts, not timings).
    #[test]
    fn workloads_run_in_a_plain_directory() {
        let dir =
            std::env::temp_dir().join(format!("ntlinkfs-bench-fs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = PathTarget::new(
            dir.clone(),
            String::new(),
            LinkStyle::Symlink,
            Stance::NotNtfs,
        );
        let cfg = tiny();
        let mut got: Vec<(&str, Sample)> = Vec::new();
        let mut sink = |op: &'static str, s: Sample| got.push((op, s));
        meta(&t, &cfg, &mut sink).unwrap();
        store(&t, &cfg, &mut sink).unwrap();
        data(&t, &cfg, &mut sink).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let count = |op: &str| got.iter().find(|(o, _)| *o == op).unwrap().1.count;
        assert_eq!(count("meta/create"), 20);
        assert_eq!(count("meta/unlink"), 40);
        assert_eq!(count("meta/readdir"), 60);
        assert_eq!(count("meta/miss"), 20);
        assert_eq!(count("store/link"), 50);
        assert_eq!(count("store/junction"), 6);
        assert_eq!(count("store/walk"), 50);
        // 25 files, 3 package directories and their lib/.
        assert_eq!(count("store/store-walk"), 31);
        // Per project: node_modules, .pnpm, 3 x (pkg@1.0.0, node_modules, pkg, lib), 25 links,
        // 3 node_modules/<pkg> links.
        assert_eq!(count("store/rm-rf"), 2 * (2 + 12 + 25 + 3));
        assert_eq!(got.len(), 18);
    }

    /// On the ceiling a junction's calls are timed (mkdir + setxattr, the buffer only
    /// stored), then the links the walk follows are symlinks: the walk and `rm -rf` see the
    /// same tree as on every other target.
    #[test]
    fn the_ceiling_times_a_junctions_calls_and_walks_symlinks() {
        let base = std::env::temp_dir().join(format!(
            "ntlinkfs-bench-ceiling-test-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&base).unwrap();
        let m = crate::ceiling::mount(&base, 1).unwrap();
        let t = PathTarget::new(
            m.dir.join("bench"),
            "bench".into(),
            LinkStyle::JunctionCalls,
            Stance::NotNtfs,
        );
        std::fs::create_dir_all(&t.dir).unwrap();
        let cfg = tiny();
        let mut got: Vec<(&str, Sample)> = Vec::new();
        let mut sink = |op: &'static str, s: Sample| got.push((op, s));
        store(&t, &cfg, &mut sink).unwrap();
        let count = |op: &str| got.iter().find(|(o, _)| *o == op).unwrap().1.count;
        assert_eq!(count("store/junction"), 6);
        assert_eq!(count("store/symlink"), 6);
        assert_eq!(count("store/walk"), 50);
        assert_eq!(count("store/rm-rf"), 2 * (2 + 12 + 25 + 3));
        m.finish().unwrap();
        let _ = std::fs::remove_dir(&base);
    }

    #[test]
    fn store_layout_covers_every_file_once() {
        let cfg = tiny();
        let lay = StoreLayout::new(&cfg);
        assert_eq!(lay.packages, vec![(0, 10), (10, 20), (20, 25)]);
    }

    #[test]
    fn random_offsets_are_aligned_and_inside() {
        for off in random_offsets(1 << 20, 1000) {
            assert_eq!(off % 4096, 0);
            assert!(off < 1 << 20);
        }
    }
}
