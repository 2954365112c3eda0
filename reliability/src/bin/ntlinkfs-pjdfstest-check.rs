//! `ntlinkfs-pjdfstest-check`: runs every pjdfstest group (chmod, chown, ftruncate, link,
//! mkdir, mkfifo, mknod, open, posix_fallocate, rename, rmdir, symlink, truncate, unlink,
//! utimensat) on an ntlinkfs mount and fails on any failure not listed (with its NTFS reason)
//! in `pjdfstest-expected-failures.toml`, on a listed test that passes, on a listed test that
//! did not run, and on a group that ran no test or that the check does not know. Exit status
//! 0 = as listed, 1 = not, 2 = the run could not be made.

use anyhow::{bail, Context, Result};
use clap::Parser;
use reliability::mounts::{ntlinkfs_bin, NtlinkfsMount};
use reliability::pjdfstest::{self, ExpectedFailures};
use std::path::PathBuf;
use std::time::Instant;

/// pjdfstest on ntlinkfs, held to the expected-failures list.
#[derive(Parser, Debug)]
#[command(name = "ntlinkfs-pjdfstest-check", version)]
struct Args {
    /// The expected failures.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/pjdfstest-expected-failures.toml"))]
    list: PathBuf,
    /// Run on this mount instead of starting one.
    #[arg(long)]
    mount: Option<PathBuf>,
    /// The ntlinkfs binary to start (default: next to this tool, or $NTLINKFS_BIN).
    #[arg(long)]
    ntlinkfs_bin: Option<PathBuf>,
    /// The pjdfstest binary (default: on PATH or in ~/.cargo/bin).
    #[arg(long)]
    pjdfstest: Option<PathBuf>,
    /// Write pjdfstest's whole output here.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Who checks permissions on the mount started (`ntlinkfs mount --permission-checks`):
    /// `kernel` (what --allow-other gives by default) or `daemon`, so that the daemon's own
    /// checks meet pjdfstest's users.
    #[arg(long, value_name = "WHO", value_parser = ["daemon", "kernel"])]
    permission_checks: Option<String>,
}

fn main() {
    let args = Args::parse();
    match run(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ntlinkfs-pjdfstest-check: {e:#}");
            std::process::exit(2);
        }
    }
}

fn find_pjdfstest() -> Result<PathBuf> {
    host::program::find_with_cargo_bin("pjdfstest").context(
        "pjdfstest is missing: run scripts/install-deps.sh (cargo install --locked pjdfstest)",
    )
}

fn run(args: Args) -> Result<i32> {
    let list = ExpectedFailures::load(&args.list)?;
    let expected = list.names();
    let pjd = match &args.pjdfstest {
        Some(p) => p.clone(),
        None => find_pjdfstest()?,
    };
    let tmp = tempfile::Builder::new()
        .prefix("ntlinkfs-pjdfstest-")
        .tempdir()?;
    let mut _mount = None;
    let dir = match &args.mount {
        Some(d) => d.clone(),
        None => {
            let bin = match &args.ntlinkfs_bin {
                Some(b) => b.clone(),
                None => ntlinkfs_bin()?,
            };
            let d = tmp.path().join("mnt");
            // pjdfstest plays other users (seteuid to nobody and daemon) to test permission
            // checks; on a default mount the kernel refuses every other user outright
            // (no allow_other), which tests/access.rs checks.
            let mut mount_args = vec!["--allow-other"];
            if let Some(who) = &args.permission_checks {
                mount_args.extend(["--permission-checks", who.as_str()]);
            }
            _mount = Some(NtlinkfsMount::start(&bin, &d, &mount_args)?);
            d
        }
    };
    // The secondary file system for EXDEV cases: the temporary directory's own (not the mount).
    let secondary = tmp.path().join("secondary");
    std::fs::create_dir(&secondary)?;
    let config = tmp.path().join("pjdfstest.toml");
    std::fs::write(&config, pjdfstest::config_toml(&expected))?;

    let start = Instant::now();
    let out = pjdfstest::run(&pjd, &dir, &secondary, &config)?;
    let secs = start.elapsed().as_secs_f64();
    if let Some(log) = &args.log {
        std::fs::write(log, &out)?;
    }
    let run = pjdfstest::parse_output(&out);
    if run.status.is_empty() {
        bail!("pjdfstest ran no test; its output:\n{out}");
    }
    let verdict = pjdfstest::judge(&run, &expected);
    let (missing_groups, unknown_groups) = pjdfstest::group_coverage(&run);
    let counts: Vec<String> = verdict
        .counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    println!(
        "pjdfstest ({}): {} tests in {secs:.1} s: {}",
        pjdfstest::GROUPS.join(" "),
        run.status.len(),
        counts.join(", ")
    );
    for name in &verdict.unexpected_failures {
        println!("FAILED (not in {}): {name}", args.list.display());
        for d in run.detail.get(name).into_iter().flatten().take(6) {
            println!("    {d}");
        }
    }
    for name in &verdict.unexpected_passes {
        println!("PASSES but is listed as an expected failure (remove it from the list): {name}");
    }
    for name in &verdict.stale {
        println!("listed but did not run (renamed, removed or skipped): {name}");
    }
    let skipped: Vec<&String> = run
        .status
        .iter()
        .filter(|(_, s)| **s == pjdfstest::Status::Skipped)
        .map(|(n, _)| n)
        .collect();
    for n in skipped {
        let why = run
            .detail
            .get(n)
            .and_then(|d| d.first())
            .cloned()
            .unwrap_or_default();
        println!("skipped: {n}: {why}");
    }
    for g in &missing_groups {
        println!("group ran no test (renamed or removed in this pjdfstest?): {g}");
    }
    for g in &unknown_groups {
        println!(
            "group not known to the check (add it to reliability/src/pjdfstest.rs GROUPS): {g}"
        );
    }
    if verdict.ok() && missing_groups.is_empty() && unknown_groups.is_empty() {
        println!(
            "result: ok ({} expected failures, each with its reason in {})",
            expected.len(),
            args.list.display()
        );
        Ok(0)
    } else {
        println!("result: FAIL");
        Ok(1)
    }
}
