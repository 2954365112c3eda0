//! Threaded stress test: 8 threads × 10,000 random operations on one shared `Arc<Volume>`:
//! creates, hard links, deletes, renames of files and directories, opens and closes of
//! handles, reads and writes through them, delete dispositions, delete-on-close, symbolic
//! links and junctions, and path resolution through junctions, symlinks, loops and `..`.
//! Errors are expected (the threads race for the same small namespace); what must hold:
//! nothing panics or deadlocks, `check()` passes while the threads run and after they stop,
//! every handle a thread opened is closed by it, and once all are closed no unnamed file
//! survives and every live file is reachable from the root.
//!
//! The operations are cheap (short paths, writes of at most 64 bytes) so the whole run takes
//! a few seconds even in a debug build. `STRESS_OPS=100000 cargo test -p vfs-core --release
//! --test stress` runs longer.

use std::collections::HashSet;
use std::sync::Arc;
use vfs_core::*;

const THREADS: usize = 8;
const DEFAULT_OPS: usize = 10_000;

/// Components of random paths: directories made up front, the links to them, and names the
/// threads fight over.
const COMPONENTS: &[&str] = &[
    "s", "S", "j", "l", "d0", "D1", "d2", "x", "X", "y", "z", "up", "loop", "..", ".",
];

/// splitmix64: a tiny deterministic generator, one per thread, so a failure can be replayed
/// from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn path(&mut self) -> String {
        let depth = 1 + self.below(4);
        let mut p = String::new();
        for _ in 0..depth {
            p.push('\\');
            p.push_str(COMPONENTS[self.below(COMPONENTS.len())]);
        }
        p
    }
    fn access(&mut self) -> Access {
        Access {
            read: self.chance(70),
            write: self.chance(50),
            delete: self.chance(40),
        }
    }
    fn share(&mut self) -> Share {
        match self.below(6) {
            0 => Share::READ_WRITE,
            1 => Share::NONE,
            _ => Share::ALL,
        }
    }
}

fn setup(vol: &Volume) {
    for d in [r"\s", r"\s\d0", r"\s\D1", r"\s\d2", r"\s\d0\x"] {
        vol.create_path(d, &NewFile::dir()).unwrap();
    }
    vol.write_file_path(r"\s\d0\y", b"hello").unwrap();
    vol.hard_link_path(r"\s\d0\y", r"\s\D1\y").unwrap();
    vol.create_junction(r"\j", r"C:\s").unwrap();
    vol.create_symlink(r"\l", r"s\d0", true).unwrap();
    vol.create_symlink(r"\s\d0\up", r"..\..", true).unwrap();
    vol.create_symlink(r"\s\loop", "loop", false).unwrap();
    vol.create_junction(r"\s\D1\j", r"C:\j").unwrap();
}

/// One thread's run; returns how many operations succeeded.
fn worker(vol: &Volume, seed: u64, ops: usize) -> usize {
    let mut rng = Rng(seed);
    let mut handles: Vec<HandleId> = Vec::new();
    let mut ok = 0usize;
    for i in 0..ops {
        let succeeded = match rng.below(20) {
            0 | 1 => vol.create_path(&rng.path(), &NewFile::file()).is_ok(),
            2 => vol.create_path(&rng.path(), &NewFile::dir()).is_ok(),
            3 => vol.hard_link_path(&rng.path(), &rng.path()).is_ok(),
            4 => {
                let kind = match rng.below(3) {
                    0 => UnlinkKind::File,
                    1 => UnlinkKind::Directory,
                    _ => UnlinkKind::Any,
                };
                vol.delete_path(&rng.path(), kind).is_ok()
            }
            5 | 6 => {
                let flags = RenameFlags {
                    replace_if_exists: rng.chance(50),
                    posix_semantics: rng.chance(30),
                    ignore_readonly: rng.chance(10),
                };
                vol.rename_path(&rng.path(), &rng.path(), flags).is_ok()
            }
            7..=9 => vol.resolve(&rng.path(), rng.chance(80)).is_ok(),
            10 | 11 => {
                let disposition = match rng.below(4) {
                    0 => Disposition::Open,
                    1 => Disposition::OpenIf,
                    2 => Disposition::Create,
                    _ => Disposition::OverwriteIf,
                };
                let opts = OpenOptions {
                    disposition,
                    kind: None,
                    open_reparse_point: rng.chance(20),
                    delete_on_close: rng.chance(10),
                    access: rng.access(),
                    share: rng.share(),
                    new_file: if rng.chance(20) {
                        NewFile::dir()
                    } else {
                        NewFile::file()
                    },
                };
                match vol.open_path(&rng.path(), &opts) {
                    Ok(opened) => {
                        handles.push(opened.handle);
                        true
                    }
                    Err(_) => false,
                }
            }
            12 | 13 if !handles.is_empty() => {
                let h = handles.swap_remove(rng.below(handles.len()));
                vol.close(h).expect("a handle this thread opened closes");
                true
            }
            14 if !handles.is_empty() => {
                let h = handles[rng.below(handles.len())];
                let id = vol.handle_file(h).expect("open handle");
                let data = [i as u8; 64];
                let offset = rng.below(4096) as u64;
                let len = rng.below(64);
                match rng.below(3) {
                    0 => vol.write(id, offset, &data[..len]).is_ok(),
                    1 => vol.set_size(id, offset).is_ok(),
                    _ => {
                        let mut buf = [0u8; 64];
                        vol.read(id, offset, &mut buf).is_ok()
                    }
                }
            }
            15 if !handles.is_empty() => {
                let h = handles[rng.below(handles.len())];
                let flags = DispositionFlags {
                    delete: rng.chance(80),
                    posix_semantics: rng.chance(50),
                    ignore_readonly: rng.chance(20),
                };
                vol.set_disposition(h, flags).is_ok()
            }
            16 => vol
                .create_symlink(&rng.path(), &rng.path()[1..], rng.chance(50))
                .is_ok(),
            17 => vol
                .create_junction(&rng.path(), &format!("C:{}", rng.path()))
                .is_ok(),
            18 => vol.read_dir_path(&rng.path()).is_ok(),
            _ => vol.stat_path(&rng.path(), rng.chance(50)).is_ok(),
        };
        ok += usize::from(succeeded);
        if i % 2_000 == 1_999 {
            if let Err(e) = vol.check() {
                panic!("check() failed while running (seed {seed}, op {i}): {e}");
            }
        }
    }
    for h in handles {
        vol.close(h).expect("a handle this thread opened closes");
    }
    ok
}

/// Every file reachable from the root through directory entries (reparse points are not
/// followed: a junction is one file).
fn reachable(vol: &Volume) -> HashSet<FileId> {
    let mut seen = HashSet::from([vol.root()]);
    let mut todo = vec![vol.root()];
    while let Some(dir) = todo.pop() {
        for e in vol.read_dir(dir, None, usize::MAX).unwrap() {
            if seen.insert(e.stat.id) && e.stat.kind == FileKind::Directory {
                todo.push(e.stat.id);
            }
        }
    }
    seen
}

fn run(opts: VolumeOptions, seed: u64) {
    let ops = std::env::var("STRESS_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_OPS);
    let vol = Arc::new(Volume::new(opts));
    setup(&vol);
    let threads: Vec<_> = (0..THREADS as u64)
        .map(|t| {
            let vol = Arc::clone(&vol);
            std::thread::spawn(move || {
                worker(&vol, seed ^ (t + 1).wrapping_mul(0x1234_5678_9ABC), ops)
            })
        })
        .collect();
    let succeeded: usize = threads
        .into_iter()
        .map(|t| t.join().expect("worker thread panicked"))
        .sum();
    assert!(succeeded > 0, "no operation ever succeeded");
    println!(
        "{succeeded} of {} operations succeeded; {} files live",
        THREADS * ops,
        vol.file_count()
    );
    assert_eq!(vol.open_handle_count(), 0, "handles leaked");
    vol.check().unwrap();
    let reachable = reachable(&vol);
    assert_eq!(
        vol.file_count(),
        reachable.len(),
        "files not reachable from the root survived closing every handle"
    );
    // The volume still works: the whole tree can be removed without following links.
    for e in vol.read_dir_path(r"\").unwrap() {
        vol.remove_tree(&format!(r"\{}", name::narrow(&e.name)))
            .unwrap();
    }
    assert_eq!(vol.file_count(), 1);
    vol.check().unwrap();
}

/// POSIX delete semantics (Windows 10 1903+, A2) and the Windows 11 symlink rule (A4).
#[test]
fn eight_threads_posix_delete() {
    run(VolumeOptions::default(), 0x5EED_0001);
}

/// Legacy delete semantics: names stay delete-pending until the last handle closes (A2), so
/// the end-of-run close must remove them.
#[test]
fn eight_threads_legacy_delete() {
    run(
        VolumeOptions {
            delete_semantics: DeleteSemantics::Legacy,
            symlink_kind_rule: SymlinkKindRule::Legacy,
            ..VolumeOptions::default()
        },
        0x5EED_0002,
    );
}
