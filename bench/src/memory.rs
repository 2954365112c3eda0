//! Memory per empty file in one directory (issue 17 item 5): what the ntlinkfs daemon's
//! resident set grows by when N files are created through the FUSE mount, and beside it what
//! the engine alone costs for the same tree.
//!
//! * `fuse`: a fresh volume is mounted in this process (as the fuse target's other workloads
//!   do), so this process's resident set *is* the daemon's. The client side is the same
//!   process's main thread, which allocates nothing per file: every path is written into one
//!   reused buffer and created with `open(O_CREAT|O_EXCL)` + `close`, so the kernel sends a
//!   LOOKUP (a miss) and a CREATE for each file and backend-fuse's node table keeps a node per
//!   file, as it does for any program creating files. The kernel's own dentries and inodes do
//!   not count in a process's resident set. Before the first reading, freed memory of earlier
//!   workloads is handed back to the system (the engine's free chunks, then `malloc_trim`), so the growth cannot hide in
//!   memory those workloads left behind; the second reading is taken as is (nothing trimmed),
//!   as a separate daemon's `VmRSS` would read.
//! * `engine`: the same names in one directory built through [`Volume::create`] in process,
//!   read the same two ways: the growth of the resident set and of the heap (glibc
//!   `mallinfo2`).

use super::engine::heap_in_use;
use super::fuse;
use super::report::{Config, Sample};
use super::workloads::nt_name;
use anyhow::{anyhow, bail, Context, Result};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use vfs_core::{NewFile, Volume, VolumeOptions};

/// Where a sample goes: the operation ("workload/op") and what was measured.
pub type Sink<'a> = &'a mut dyn FnMut(&'static str, Sample);

/// Files made before the first reading, so that one-time costs (the serving threads' request
/// buffers, their malloc arenas, the first allocations of every table) are not counted per file.
const WARM_UP: usize = 1000;

/// Digits of a file's name: every file of the measure has an 8-character name (`f` and 7
/// digits), the length the engine's `memory/per-file` uses.
const DIGITS: usize = 7;

/// This process's resident set in bytes (`/proc/self/statm`, second field, in pages).
pub fn resident_bytes() -> Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").context("reading /proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("/proc/self/statm has no resident field: {statm:?}"))?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Ok(pages * page.max(1) as u64)
}

/// Hands memory freed earlier back to the system (glibc; elsewhere nothing to do), the
/// engine's kept free chunks (vfs-core's free list of file data) first, so that what the
/// data workload left there is neither counted nor able to absorb growth.
fn trim() {
    vfs_core::data::release_free_chunks();
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The resident set and the heap now.
fn reading() -> Result<(u64, u64)> {
    Ok((resident_bytes()?, heap_in_use()))
}

fn per_file(n: usize, before: (u64, u64), after: (u64, u64)) -> (Sample, Sample) {
    let s = |b: u64, a: u64| Sample {
        count: n as u64,
        bytes: a.saturating_sub(b),
        seconds: 0.0,
        server_cpu: None,
    };
    (s(before.0, after.0), s(before.1, after.1))
}

/// One reused, NUL-terminated path buffer `DIR/fNNNNNNN` whose digits are rewritten in place.
struct PathBuffer {
    bytes: Vec<u8>,
    digits_at: usize,
}

impl PathBuffer {
    fn new(dir: &Path) -> Result<PathBuffer> {
        let mut bytes = dir.as_os_str().as_bytes().to_vec();
        if bytes.contains(&0) {
            bail!("{} has a NUL byte", dir.display());
        }
        bytes.extend_from_slice(b"/f");
        let digits_at = bytes.len();
        bytes.extend_from_slice(&[b'0'; DIGITS]);
        bytes.push(0);
        Ok(PathBuffer { bytes, digits_at })
    }

    /// Creates empty file number `i` (open O_CREAT|O_EXCL, then close).
    fn create(&mut self, i: usize) -> Result<()> {
        let mut v = i;
        for k in (0..DIGITS).rev() {
            self.bytes[self.digits_at + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        // SAFETY: the buffer is NUL-terminated and has no other NUL; the descriptor is closed
        // at once.
        unsafe {
            let fd = libc::open(
                self.bytes.as_ptr().cast(),
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC,
                0o644,
            );
            if fd < 0 {
                let e = std::io::Error::last_os_error();
                let p = String::from_utf8_lossy(&self.bytes[..self.bytes.len() - 1]).into_owned();
                bail!("create {p}: {e}");
            }
            libc::close(fd);
        }
        Ok(())
    }
}

fn check_count(n: usize) -> Result<()> {
    if n + WARM_UP >= 10usize.pow(DIGITS as u32) {
        bail!(
            "--memory-files is limited to {} for the one-directory measure",
            10usize.pow(DIGITS as u32) - WARM_UP - 1
        );
    }
    Ok(())
}

/// The daemon: `cfg.memory_files` empty files created in one directory through a fresh FUSE
/// mount at `mnt`; reports `memory/rss-one-dir` and `memory/heap-one-dir` for the fuse target.
pub fn fuse(mnt: &Path, opts: &backend_fuse::MountOptions, cfg: &Config, sink: Sink) -> Result<()> {
    let n = cfg.memory_files;
    check_count(n)?;
    let m = fuse::mount(mnt, opts)?;
    let dir = m.dir.join("mem");
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut path = PathBuffer::new(&dir)?;
    for i in 0..WARM_UP {
        path.create(i)?;
    }
    trim();
    let before = reading()?;
    for i in WARM_UP..WARM_UP + n {
        path.create(i)?;
    }
    let after = reading()?;
    // Every file must be there, as one directory of the volume.
    let vol = m.volume().context("the mount has no volume")?.clone();
    let id = vol
        .lookup(vol.root(), &nt_name("mem"))
        .map_err(|e| anyhow!("looking up the measure's directory in the volume: {e}"))?;
    let len = vol
        .dir_len(id)
        .map_err(|e| anyhow!("counting the measure's directory: {e}"))?;
    if len != n + WARM_UP {
        bail!(
            "fuse memory: the directory holds {len} files, {} were created",
            n + WARM_UP
        );
    }
    drop(vol);
    m.finish()?;
    let (rss, heap) = per_file(n, before, after);
    sink("memory/rss-one-dir", rss);
    sink("memory/heap-one-dir", heap);
    Ok(())
}

/// The engine alone: the same files and names in one directory, made with `Volume::create`.
pub fn engine(cfg: &Config, sink: Sink) -> Result<()> {
    let n = cfg.memory_files;
    check_count(n)?;
    let vol = Volume::new(VolumeOptions::default());
    let (file, dir) = (NewFile::file(), NewFile::dir());
    let e = |what: &'static str| move |err: vfs_core::Error| anyhow!("engine: {what}: {err}");
    let parent = vol
        .create(vol.root(), &nt_name("mem"), &dir)
        .map_err(e("mkdir"))?;
    let name = |i: usize| nt_name(&format!("f{i:0DIGITS$}"));
    for i in 0..WARM_UP {
        vol.create(parent, &name(i), &file).map_err(e("create"))?;
    }
    trim();
    let before = reading()?;
    // Each name is built and freed in turn, so only what the engine keeps is counted.
    for i in WARM_UP..WARM_UP + n {
        vol.create(parent, &name(i), &file).map_err(e("create"))?;
    }
    let after = reading()?;
    let len = vol.dir_len(parent).map_err(e("dir_len"))?;
    if len != n + WARM_UP {
        bail!(
            "engine memory: the directory holds {len} files, {} were created",
            n + WARM_UP
        );
    }
    let (rss, heap) = per_file(n, before, after);
    sink("memory/rss-one-dir", rss);
    sink("memory/heap-one-dir", heap);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The heap figures are process-wide (`mallinfo2`), and the test harness runs the crate's
    /// other tests on other threads at the same time: one of them freeing a buffer while this
    /// one measures makes the growth read as nothing. So the measurement runs in a child: this
    /// test binary started again with only this test, which the variable below tells to
    /// measure instead of starting another child.
    #[test]
    fn engine_measure_counts_what_it_made() {
        const CHILD: &str = "NTLINKFS_BENCH_MEMORY_TEST_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "memory::tests::engine_measure_counts_what_it_made",
                    "--test-threads",
                    "1",
                ])
                .env(CHILD, "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("1 passed"),
                "the measurement in a child process failed:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let cfg = Config {
            quick: true,
            files: 1,
            list_entries: 1,
            list_repeats: 1,
            store_files: 1,
            files_per_package: 1,
            projects: 1,
            data_size: 4096,
            rand_reads: 1,
            memory_files: 5000,
            repeat: 1,
            mount_repeats: 1,
        };
        let mut got: Vec<(&str, Sample)> = Vec::new();
        engine(&cfg, &mut |op, s| got.push((op, s))).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "memory/rss-one-dir");
        assert_eq!(got[1].0, "memory/heap-one-dir");
        assert!(got.iter().all(|(_, s)| s.count == 5000));
        // 5,000 files cannot fit in no heap at all.
        assert!(got[1].1.bytes > 5000 * 24, "{:?}", got[1]);
    }

    #[test]
    fn too_many_files_for_the_names_is_refused() {
        assert!(check_count(10_000_000).is_err());
        assert!(check_count(1_000_000).is_ok());
    }

    #[test]
    fn the_path_buffer_writes_the_digits_in_place() {
        let mut p = PathBuffer::new(Path::new("/nonexistent-dir-for-test")).unwrap();
        let err = p.create(42).unwrap_err().to_string();
        assert!(err.contains("/nonexistent-dir-for-test/f0000042"), "{err}");
    }
}
