//! The stress run: workers doing random create, write, read, link, unlink, rename, mkdir/rmdir,
//! symlink and junction set/remove in one shared tree, so that they race on the same names. An
//! answer about the files (ENOENT, EEXIST, ENOTEMPTY, ...) is expected under such races; an
//! answer that means the file system broke (EIO, ENOTCONN, ...) fails the run. A watchdog
//! reports a stall: no worker finishing an operation for `stall` (a deadlock guard, not a speed
//! check).

use crate::errno;
use crate::sys::{self, RenameMode};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Settings of a stress run.
#[derive(Debug, Clone)]
pub struct StressConfig {
    /// Worker threads.
    pub workers: usize,
    /// How long the workers run.
    pub duration: Duration,
    /// Seed (worker i uses seed + i).
    pub seed: u64,
    /// Largest write.
    pub max_write: u32,
    /// Drive letter of the volume, for junction targets.
    pub drive: char,
    /// No operation finishing for this long is a stall.
    pub stall: Duration,
    /// Leave out junction set/remove (to tell their effects from others').
    pub no_reparse: bool,
}

/// What a stress run saw.
#[derive(Debug, Default)]
pub struct StressReport {
    /// Operations finished.
    pub ops: u64,
    /// Operations by verb.
    pub by_verb: BTreeMap<&'static str, u64>,
    /// Expected errors by errno name.
    pub errors: BTreeMap<String, u64>,
    /// The first few operations that met each errno.
    pub examples: BTreeMap<String, Vec<String>>,
    /// Errors that mean the file system broke, with the operation.
    pub fatal: Vec<String>,
    /// Longest time no worker finished an operation.
    pub longest_quiet: Duration,
    /// The watchdog fired: what each worker was doing.
    pub stalled: Option<Vec<String>>,
    /// Bytes written.
    pub bytes_written: u64,
}

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

/// Operations kept as examples per errno.
const EXAMPLES: usize = 8;

struct Shared {
    stop: AtomicBool,
    last_done_ms: Vec<AtomicU64>,
    current: Vec<Mutex<String>>,
    start: Instant,
}

fn rel_path(rng: &mut fastrand::Rng) -> String {
    let depth = 1 + rng.usize(..3);
    (0..depth)
        .map(|_| NAMES[rng.usize(..NAMES.len())])
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs the workers in `root` (made if missing) and returns what they saw.
pub fn run(root: &Path, cfg: &StressConfig) -> StressReport {
    let _ = std::fs::create_dir_all(root);
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        last_done_ms: (0..cfg.workers).map(|_| AtomicU64::new(0)).collect(),
        current: (0..cfg.workers)
            .map(|_| Mutex::new(String::new()))
            .collect(),
        start: Instant::now(),
    });
    let mut handles = Vec::new();
    for w in 0..cfg.workers {
        let shared = shared.clone();
        let root = root.to_path_buf();
        let cfg = cfg.clone();
        handles.push(std::thread::spawn(move || worker(w, &root, &cfg, &shared)));
    }
    let mut report = StressReport::default();
    let deadline = Instant::now() + cfg.duration;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let now_ms = shared.start.elapsed().as_millis() as u64;
        let newest = shared
            .last_done_ms
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        let quiet = Duration::from_millis(now_ms.saturating_sub(newest));
        report.longest_quiet = report.longest_quiet.max(quiet);
        if quiet > cfg.stall {
            let doing = shared
                .current
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    format!(
                        "worker {i}: {}",
                        m.lock().map(|s| s.clone()).unwrap_or_default()
                    )
                })
                .collect();
            report.stalled = Some(doing);
            shared.stop.store(true, Ordering::Relaxed);
            // Stuck workers may never return: leave them to the process exit.
            return report;
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    shared.stop.store(true, Ordering::Relaxed);
    for h in handles {
        if let Ok(part) = h.join() {
            merge(&mut report, part);
        } else {
            report.fatal.push("a worker thread panicked".into());
        }
    }
    report
}

fn merge(into: &mut StressReport, part: StressReport) {
    into.ops += part.ops;
    into.bytes_written += part.bytes_written;
    for (k, v) in part.by_verb {
        *into.by_verb.entry(k).or_default() += v;
    }
    for (k, v) in part.errors {
        *into.errors.entry(k).or_default() += v;
    }
    for (k, v) in part.examples {
        let e = into.examples.entry(k).or_default();
        e.extend(v);
        e.truncate(EXAMPLES);
    }
    into.fatal.extend(part.fatal);
}

fn worker(w: usize, root: &Path, cfg: &StressConfig, shared: &Shared) -> StressReport {
    let mut rng = fastrand::Rng::with_seed(cfg.seed.wrapping_add(w as u64));
    let mut rep = StressReport::default();
    let mut held: Vec<std::fs::File> = Vec::new();
    let root_name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let buf: Vec<u8> = (0..cfg.max_write).map(|i| (i as u8) ^ (w as u8)).collect();
    while !shared.stop.load(Ordering::Relaxed) {
        let p = root.join(rel_path(&mut rng));
        let q = root.join(rel_path(&mut rng));
        let mut choice = rng.u32(..100);
        if cfg.no_reparse && (78..=84).contains(&choice) {
            choice = 88;
        }
        let (verb, desc, r): (&'static str, String, sys::SysResult<()>) = match choice {
            0..=11 => (
                "create",
                format!("create {}", p.display()),
                sys::create_new(&p),
            ),
            12..=23 => {
                let len = rng.u32(1..=cfg.max_write) as usize;
                let off = rng.u64(..(4 << 20));
                let r = sys::open_rw(&p).and_then(|f| sys::pwrite(&f, off, &buf[..len]));
                if r.is_ok() {
                    rep.bytes_written += len as u64;
                }
                ("write", format!("write {} {off} {len}", p.display()), r)
            }
            24..=29 => (
                "read",
                format!("read {}", p.display()),
                sys::open_ro(&p).and_then(|f| sys::read_all(&f)).map(drop),
            ),
            30..=33 => {
                let n = rng.u64(..(1 << 20));
                (
                    "truncate",
                    format!("truncate {} {n}", p.display()),
                    sys::truncate(&p, n),
                )
            }
            34..=43 => (
                "link",
                format!("link {} {}", p.display(), q.display()),
                sys::link(&p, &q),
            ),
            44..=53 => ("unlink", format!("unlink {}", p.display()), sys::unlink(&p)),
            54..=63 => {
                let mode = if rng.bool() {
                    RenameMode::Replace
                } else {
                    RenameMode::NoReplace
                };
                (
                    "rename",
                    format!("rename {} {} {mode:?}", p.display(), q.display()),
                    sys::rename(&p, &q, mode),
                )
            }
            64..=71 => ("mkdir", format!("mkdir {}", p.display()), sys::mkdir(&p)),
            72..=77 => ("rmdir", format!("rmdir {}", p.display()), sys::rmdir(&p)),
            78..=81 => {
                let rel = q
                    .strip_prefix(root)
                    .unwrap_or(&q)
                    .to_string_lossy()
                    .replace('/', "\\");
                let win = format!("{}:\\{root_name}\\{rel}", cfg.drive);
                let buf =
                    vfs_core::reparse::junction_for_target(&vfs_core::name::wide(&win), cfg.drive)
                        .map(|b| b.into_bytes())
                        .unwrap_or_default();
                (
                    "junction",
                    format!("junction {} {win}", p.display()),
                    sys::lsetxattr(&p, host::xattrs::ntfs::REPARSE_DATA, &buf),
                )
            }
            82..=84 => (
                "unreparse",
                format!("unreparse {}", p.display()),
                sys::lremovexattr(&p, host::xattrs::ntfs::REPARSE_DATA),
            ),
            85..=87 => (
                "symlink",
                format!("symlink {}", p.display()),
                sys::symlink(NAMES[rng.usize(..NAMES.len())], &p),
            ),
            88..=91 => (
                "stat",
                format!("stat {}", p.display()),
                sys::lstat(&p).map(drop),
            ),
            92..=94 => (
                "list",
                format!("list {}", p.display()),
                sys::list_dir(&p).map(drop),
            ),
            95..=97 => {
                // Hold a file open across other workers' unlinks: a deleted file stays
                // readable through the handle until it closes (A2 POSIX semantics).
                let r = sys::open_rw(&p).map(|f| {
                    held.push(f);
                });
                ("open", format!("open {}", p.display()), r)
            }
            _ => {
                let r = match held.pop() {
                    Some(f) => sys::read_all(&f).map(drop),
                    None => Ok(()),
                };
                ("close", "close".to_string(), r)
            }
        };
        if let Ok(mut c) = shared.current[w].lock() {
            c.clone_from(&desc);
        }
        rep.ops += 1;
        *rep.by_verb.entry(verb).or_default() += 1;
        if let Err(e) = r {
            if errno::is_fatal(e) {
                rep.fatal.push(format!("{desc}: {}", errno::name(e)));
            } else {
                *rep.errors.entry(errno::name(e)).or_default() += 1;
                let ex = rep.examples.entry(errno::name(e)).or_default();
                if ex.len() < EXAMPLES {
                    ex.push(desc.clone());
                }
            }
        }
        if held.len() > 8 {
            held.remove(0);
        }
        shared.last_done_ms[w].store(shared.start.elapsed().as_millis() as u64, Ordering::Relaxed);
        if let Ok(mut c) = shared.current[w].lock() {
            c.clear();
            c.push_str("(between operations)");
        }
    }
    rep
}

/// Removes a tree, links as links; returns how many entries could not be removed.
pub fn remove_tree(p: &Path) -> usize {
    match sys::lstat(p) {
        Err(_) => 0,
        Ok(m) if m.kind == sys::Kind::Dir => {
            let mut bad = 0;
            for n in sys::list_dir(p).unwrap_or_default() {
                bad += remove_tree(&p.join(n));
            }
            bad + usize::from(sys::rmdir(p).is_err())
        }
        Ok(_) => usize::from(sys::unlink(p).is_err()),
    }
}

/// One round of the memory check: `files` files of `mib` MiB written, RSS read, files deleted,
/// RSS read again.
#[derive(Debug, Clone, Copy)]
pub struct RssRound {
    /// RSS (KiB) with the files written and closed.
    pub full_kib: u64,
    /// RSS (KiB) after deleting them.
    pub after_delete_kib: u64,
}

/// Writes and deletes big files in `dir`, reading the daemon's RSS around each round.
pub fn rss_rounds(
    dir: &Path,
    pid: u32,
    rounds: usize,
    files: usize,
    mib: usize,
) -> std::io::Result<Vec<RssRound>> {
    std::fs::create_dir_all(dir)?;
    let chunk: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    for r in 0..rounds {
        let paths: Vec<PathBuf> = (0..files)
            .map(|i| dir.join(format!("big-{r}-{i}")))
            .collect();
        for p in &paths {
            use std::io::Write;
            let mut f = std::fs::File::create(p)?;
            for _ in 0..mib {
                f.write_all(&chunk)?;
            }
        }
        let full_kib = sys::rss_kib(pid)?;
        for p in &paths {
            std::fs::remove_file(p)?;
        }
        let after_delete_kib = sys::rss_kib(pid)?;
        out.push(RssRound {
            full_kib,
            after_delete_kib,
        });
    }
    Ok(out)
}
