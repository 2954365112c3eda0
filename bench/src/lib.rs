//! # ntlinkfs-bench — `ntlinkfs bench` and the engine micro-benchmarks
//!
//! `ntlinkfs bench`: ntlinkfs side by side with what a user would pick instead, in one run.
//!
//! Targets: a fresh tmpfs (the kernel's in-memory filesystem: the limit), real NTFS through
//! ntfs-3g on an mkntfs image (what a Linux user has today), the ntlinkfs FUSE mount, the
//! ceiling (a minimal in-tree FUSE file system with no semantics: what any FUSE daemon can
//! reach, `ceiling.rs`), and the engine in process. Workloads: metadata, a pnpm-style package store, sequential and random
//! data, mount-to-ready time, and engine memory per file. The syscall workloads are written once
//! against a directory path (`fs.rs`) and run unchanged on tmpfs, ntfs-3g and the FUSE
//! mount; the engine runs the same steps through [`vfs_core::Volume`] (`engine.rs`).
//!
//! Timings are reported, never asserted: the command fails only when a target cannot be set
//! up or a workload gets a wrong answer (a missing file, a wrong byte count).

/// Which filesystems to measure.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetName {
    /// A fresh tmpfs mount (or /dev/shm when mounting is refused).
    Tmpfs,
    /// ntfs-3g on a fresh mkntfs image.
    #[value(name = "ntfs-3g")]
    Ntfs3g,
    /// The ntlinkfs FUSE mount.
    Fuse,
    /// The ceiling reference: a minimal in-memory FUSE file system with no semantics and no
    /// `default_permissions` (what a /dev/fuse daemon can reach on this kernel).
    Ceiling,
    /// The ntlinkfs engine in process.
    Engine,
}

// Only the report (Linux: the bench mounts tmpfs, ntfs-3g and FUSE) prints target names.
#[cfg(target_os = "linux")]
impl TargetName {
    /// The name used in tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            TargetName::Tmpfs => "tmpfs",
            TargetName::Ntfs3g => "ntfs-3g",
            TargetName::Fuse => "fuse",
            TargetName::Ceiling => "ceiling",
            TargetName::Engine => "engine",
        }
    }
}

/// Which workloads to run.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadName {
    /// create, stat, hard-link, rename, unlink N files; list a 10,000-entry directory.
    Meta,
    /// 5,000 files hard-linked into 20 project trees with node_modules junctions, then a walk
    /// through the projects, a walk of the store, and `rm -rf` of every node_modules.
    Store,
    /// 1 GiB sequential write and read (1 MiB and 4 KiB requests), random 4 KiB reads.
    Data,
    /// Mount-to-ready time.
    Mount,
    /// Memory per empty file at 1,000,000 files: the engine's heap (1,000 to a directory),
    /// and the FUSE daemon's resident set and heap beside the engine's, all in one directory.
    Memory,
}

/// Side-by-side benchmark: tmpfs, ntfs-3g, the ntlinkfs FUSE mount and the engine in process.
///
/// Needs root (to mount), ntfs-3g and mkntfs (Debian: `apt-get install ntfs-3g`) for the
/// ntfs-3g target, and /dev/fuse with fusermount3 (`apt-get install fuse3`) for the FUSE target.
/// Installs nothing by itself.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Targets to measure, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tmpfs,ntfs-3g,fuse,ceiling,engine"
    )]
    pub targets: Vec<TargetName>,
    /// Workloads to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "meta,store,data,mount,memory"
    )]
    pub workloads: Vec<WorkloadName>,
    /// Short run for smoke tests and CI: small counts and 64 MiB of data.
    #[arg(long)]
    pub quick: bool,
    /// Files in the metadata workload (default 20000; 300 with --quick).
    #[arg(long)]
    pub files: Option<u32>,
    /// Entries in the directory that is listed (default 10000; 1000 with --quick).
    #[arg(long)]
    pub list_entries: Option<u32>,
    /// Files in the package store (default 5000; 200 with --quick).
    #[arg(long)]
    pub store_files: Option<u32>,
    /// Project trees linked to the store (default 20; 3 with --quick).
    #[arg(long)]
    pub projects: Option<u32>,
    /// Bytes of the data workload's file, with an optional K, M or G suffix (binary units;
    /// default 1G; 64M with --quick).
    #[arg(long, value_parser = parse_size)]
    pub data_size: Option<u64>,
    /// Empty files built for the memory measures (default 1000000; 20000 with --quick).
    #[arg(long)]
    pub memory_files: Option<u32>,
    /// Runs of each workload; the best run of each operation is reported (default 1).
    #[arg(long)]
    pub repeat: Option<u32>,
    /// Mounts timed per target for mount-to-ready; the median is reported (default 10; 3
    /// with --quick).
    #[arg(long)]
    pub mount_repeats: Option<u32>,
    /// Threads serving the FUSE mount, exactly (default: backend-fuse's default, as `ntlinkfs
    /// mount`: one thread on 2 CPUs).
    #[arg(long)]
    pub fuse_threads: Option<u32>,
    /// Serve the FUSE mount without the worker thread for the handlers that wait (reparse
    /// setxattr, image save): they then run on a serving thread, as before issue 17.
    #[arg(long)]
    pub fuse_no_wait_worker: bool,
    /// Mount the FUSE target with FUSE_WRITEBACK_CACHE (backend-fuse
    /// `MountOptions::writeback_cache`; off by default).
    #[arg(long)]
    pub fuse_writeback: bool,
    /// Mount the FUSE target without FUSE passthrough (backend-fuse
    /// `MountOptions::passthrough`, on by default: used when the bench runs as root on Linux
    /// 6.9 or later), so every write is a request.
    #[arg(long)]
    pub fuse_no_passthrough: bool,
    /// Mount the FUSE target without the spare serving thread (backend-fuse
    /// `MountOptions::spare_thread`, on by default), so that every junction's old names are
    /// dropped by the invalidation thread.
    #[arg(long)]
    pub fuse_no_spare_thread: bool,
    /// Run the whole benchmark on this one CPU (0-based): its threads, the FUSE daemons it
    /// serves in process and the programs it starts (ntfs-3g, rm) all inherit it. A round
    /// trip then costs no cross-CPU wake-up, so the ratios compare the CPU work of each
    /// target; on a VM whose idle CPUs halt, the wake-ups otherwise dominate the name
    /// operations (docs/BENCHMARKS.md, "Issue 17, seventh round").
    #[arg(long)]
    pub cpu: Option<usize>,
    /// Serve the FUSE mount with one thread more while the machine is idle (backend-fuse
    /// `MountOptions::widen_when_idle`, off by default: a case-only rename race with two
    /// serving threads is not fixed yet).
    #[arg(long)]
    pub fuse_widen_when_idle: bool,
    /// Write the results as JSON to this file (`-` for standard output, the table then goes to
    /// standard error).
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Directory for the scratch mounts and the ntfs-3g image (default: the system temporary
    /// directory). Everything made there is removed at the end.
    #[arg(long)]
    pub scratch: Option<std::path::PathBuf>,
}

/// Parses `1G`, `64M`, `4096`, `512K` (binary units).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix {c:?} (use K, M or G)")),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 1G, 64M, 4096)"))?;
    n.checked_mul(mult)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("{s:?} is not a usable size"))
}

#[cfg(target_os = "linux")]
mod ceiling;
#[cfg(target_os = "linux")]
mod engine;
#[cfg(target_os = "linux")]
mod fs;
#[cfg(target_os = "linux")]
mod fuse;
#[cfg(target_os = "linux")]
mod memory;
#[cfg(target_os = "linux")]
mod report;
#[cfg(target_os = "linux")]
mod run;
#[cfg(target_os = "linux")]
mod targets;
pub mod workloads;

/// Runs the benchmark; returns the process exit code.
pub fn run(a: BenchArgs) -> anyhow::Result<i32> {
    #[cfg(target_os = "linux")]
    {
        run::run(a)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = a;
        anyhow::bail!("`ntlinkfs bench` runs on Linux only (it mounts tmpfs, ntfs-3g and FUSE)")
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
    }

    #[test]
    fn bad_sizes_are_refused_with_a_message() {
        assert!(parse_size("").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("99999999999G").is_err());
        assert!(parse_size("M").is_err());
    }
}
