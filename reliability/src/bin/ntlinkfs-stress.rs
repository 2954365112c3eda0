//! `ntlinkfs-stress`: workers racing on one tree of an ntlinkfs mount, then the engine's own
//! consistency check through the control xattr, a memory check (big files written and deleted,
//! the daemon's RSS read around each round), and a clean unmount. Exit status 0 = all good,
//! 1 = a failure (printed), 2 = the run could not be made.

use anyhow::{Context, Result};
use clap::Parser;
use reliability::control;
use reliability::mounts::{ntlinkfs_bin, NtlinkfsMount};
use reliability::stress::{self, StressConfig};
use reliability::sys;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Stress an ntlinkfs mount.
#[derive(Parser, Debug)]
#[command(name = "ntlinkfs-stress", version)]
struct Args {
    /// Seconds the workers run.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Worker threads.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Largest single write in bytes.
    #[arg(long, default_value_t = 256 * 1024)]
    max_write: u32,
    /// Seconds without any finished operation that count as a deadlock.
    #[arg(long, default_value_t = 60)]
    stall_seconds: u64,
    /// The ntlinkfs binary (default: next to this tool, or $NTLINKFS_BIN).
    #[arg(long)]
    ntlinkfs_bin: Option<PathBuf>,
    /// Drive letter of the volume (junction targets).
    #[arg(long, default_value_t = 'C')]
    drive: char,
    /// Leave out junction set/remove.
    #[arg(long)]
    no_reparse: bool,
    /// Memory check: rounds of writing and deleting big files.
    #[arg(long, default_value_t = 3)]
    rss_rounds: usize,
    /// Memory check: files per round.
    #[arg(long, default_value_t = 8)]
    rss_files: usize,
    /// Memory check: MiB per file.
    #[arg(long, default_value_t = 64)]
    rss_file_mib: usize,
    /// Memory check: how far above its starting RSS the checking daemon may end (MiB).
    #[arg(long, default_value_t = 16)]
    rss_slack_mib: u64,
}

fn main() {
    let args = Args::parse();
    match run(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ntlinkfs-stress: {e:#}");
            std::process::exit(2);
        }
    }
}

fn run(args: Args) -> Result<i32> {
    let bin = match &args.ntlinkfs_bin {
        Some(b) => b.clone(),
        None => ntlinkfs_bin()?,
    };
    let tmp = tempfile::Builder::new()
        .prefix("ntlinkfs-stress-")
        .tempdir()?;
    let dir = tmp.path().join("mnt");
    let mut mount = NtlinkfsMount::start(&bin, &dir, &[])?;
    let pid = mount.pid();
    let mut failures: Vec<String> = Vec::new();
    let baseline = sys::rss_kib(pid).context("cannot read the daemon's RSS")?;
    println!("daemon pid {pid}, RSS at start {} MiB", baseline / 1024);

    let cfg = StressConfig {
        workers: args.workers,
        duration: Duration::from_secs(args.seconds),
        seed: args.seed,
        max_write: args.max_write,
        drive: args.drive,
        stall: Duration::from_secs(args.stall_seconds),
        no_reparse: args.no_reparse,
    };
    let start = Instant::now();
    let rep = stress::run(&dir.join("stress"), &cfg);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "stress: {} workers, {:.1} s, {} operations ({:.0}/s), {} MiB written, longest pause without a finished operation {:.2} s",
        args.workers,
        secs,
        rep.ops,
        rep.ops as f64 / secs,
        rep.bytes_written >> 20,
        rep.longest_quiet.as_secs_f64()
    );
    let verbs: Vec<String> = rep
        .by_verb
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("operations: {}", verbs.join(", "));
    let errs: Vec<String> = rep.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "answers about the files (expected under races): {}",
        errs.join(", ")
    );
    if let Some(ex) = rep.examples.get("ESTALE") {
        // ESTALE reaches a program when a path walk races a junction being set or removed on
        // a directory of the path twice in a row (the FUSE backend retires the kernel node of
        // a file whose type changes; the kernel retries a walk once). Without junction
        // changes it must never happen.
        let msg = format!(
            "{} operations failed with ESTALE, e.g.\n    {}",
            rep.errors["ESTALE"],
            ex.join("\n    ")
        );
        if args.no_reparse {
            failures.push(msg);
        } else {
            println!("races with junction changes: {msg}");
        }
    }
    if let Some(doing) = &rep.stalled {
        println!(
            "FAIL: no operation finished for {} s (deadlock?)",
            args.stall_seconds
        );
        for d in doing {
            println!("  {d}");
        }
        // Workers are stuck in the kernel: unmount lazily so they get ENOTCONN, then leave.
        reliability::mounts::clean_up_dead_mount(&dir);
        return Ok(1);
    }
    for f in rep.fatal.iter().take(20) {
        failures.push(format!("file system error: {f}"));
    }
    if rep.ops == 0 {
        failures.push("no operation ran".into());
    }
    if let Some(st) = mount.try_wait() {
        failures.push(format!(
            "the daemon exited during the run ({st}): {}",
            mount.log_text()
        ));
        report(&failures);
        return Ok(1);
    }

    let peak = sys::rss_kib(pid)?;
    match control::check(&dir) {
        Ok(v) if v == "ok" => println!("engine check after the workers: ok"),
        Ok(v) => failures.push(format!("engine check after the workers: {v}")),
        Err(e) => failures.push(format!("engine check unreadable: {e:#}")),
    }
    let left = stress::remove_tree(&dir.join("stress"));
    if left > 0 {
        failures.push(format!(
            "{left} entries of the stress tree could not be removed"
        ));
    }
    match control::check(&dir) {
        Ok(v) if v == "ok" => println!("engine check after removing the tree: ok"),
        Ok(v) => failures.push(format!("engine check after removing the tree: {v}")),
        Err(e) => failures.push(format!("engine check unreadable: {e:#}")),
    }
    match control::open_handles_settled(&dir) {
        Ok(Some(0)) => println!("open handles in the engine: 0"),
        Ok(Some(n)) => failures.push(format!(
            "{n} handles still open in the engine after every file was closed"
        )),
        Ok(None) => println!("open handles: not reported by this mount"),
        Err(e) => failures.push(format!("open handle count unreadable: {e:#}")),
    }
    let after_stress = control::settled_rss_kib(pid)?;
    println!(
        "RSS: start {} MiB, after the workers {} MiB, after removing their tree {} MiB",
        baseline / 1024,
        peak / 1024,
        after_stress / 1024
    );

    // Memory, as the stress daemon's allocator shows it (reported, not judged: glibc keeps
    // freed heap memory for reuse, so RSS need not fall when files are deleted).
    if args.rss_rounds > 0 {
        let rounds = stress::rss_rounds(
            &dir.join("rss"),
            pid,
            args.rss_rounds,
            args.rss_files,
            args.rss_file_mib,
        )
        .context("memory rounds")?;
        let settled = control::settled_rss_kib(pid)?;
        for (i, r) in rounds.iter().enumerate() {
            println!(
                "stress daemon, memory round {}: {} x {} MiB written: RSS {} MiB; deleted: RSS {} MiB",
                i + 1,
                args.rss_files,
                args.rss_file_mib,
                r.full_kib / 1024,
                r.after_delete_kib / 1024
            );
        }
        println!(
            "stress daemon, RSS after the last round settled: {} MiB",
            settled / 1024
        );
        match control::check(&dir) {
            Ok(v) if v == "ok" => {}
            Ok(v) => failures.push(format!("engine check after the memory rounds: {v}")),
            Err(e) => failures.push(format!("engine check unreadable: {e:#}")),
        }
    }

    let log_before = mount.log_text();
    let status = mount.unmount()?;
    if !status.success() {
        failures.push(format!("the daemon exited with {status} on unmount"));
    }
    if log_before.contains("panicked") {
        failures.push(format!("the daemon panicked: {log_before}"));
    }
    if args.rss_rounds > 0 {
        failures.extend(memory_check(&bin, &args)?);
    }
    report(&failures);
    drop(tmp);
    if failures.is_empty() {
        Ok(0)
    } else {
        Ok(1)
    }
}

/// Do deleted files free their data? A daemon whose allocator gives every data chunk its own
/// mapping (glibc `MALLOC_MMAP_THRESHOLD_` at the engine's 64 KiB chunk size) and that keeps
/// no freed chunks for reuse (`--keep-freed-data-mib 0`), so that memory freed by the engine
/// leaves RSS at once: each round writes big files, deletes them, and RSS
/// must come back to where it started.
fn memory_check(bin: &std::path::Path, args: &Args) -> Result<Vec<String>> {
    let mut failures = Vec::new();
    let tmp = tempfile::Builder::new()
        .prefix("ntlinkfs-memory-")
        .tempdir()?;
    let dir = tmp.path().join("mnt");
    let threshold = vfs_core::data::CHUNK_SIZE.to_string();
    // The engine keeps no freed chunks for reuse either (its default keeps up to 64 MiB,
    // vfs_core::data::DEFAULT_FREE_CHUNKS_BYTES): like the allocator's setting, so that RSS
    // shows what the engine still holds.
    let mount = NtlinkfsMount::start_with_env(
        bin,
        &dir,
        &["--keep-freed-data-mib", "0"],
        &[("MALLOC_MMAP_THRESHOLD_", &threshold)],
    )?;
    let pid = mount.pid();
    let baseline = sys::rss_kib(pid)?;
    let written_mib = (args.rss_files * args.rss_file_mib) as u64;
    let rounds = stress::rss_rounds(
        &dir.join("rss"),
        pid,
        args.rss_rounds,
        args.rss_files,
        args.rss_file_mib,
    )
    .context("memory check")?;
    let settled = control::settled_rss_kib(pid)?;
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "memory check round {}: {} x {} MiB written: RSS {} MiB; deleted: RSS {} MiB (start {} MiB)",
            i + 1,
            args.rss_files,
            args.rss_file_mib,
            r.full_kib / 1024,
            r.after_delete_kib / 1024,
            baseline / 1024
        );
        if r.full_kib < baseline + written_mib * 1024 / 2 {
            failures.push(format!(
                "memory check did not measure: RSS with {written_mib} MiB written was only {} MiB",
                r.full_kib / 1024
            ));
        }
    }
    println!(
        "memory check: RSS after the last round settled {} MiB",
        settled / 1024
    );
    if settled > baseline + args.rss_slack_mib * 1024 {
        failures.push(format!(
            "deleted files' data is not freed: RSS {} MiB after deleting {written_mib} MiB, {} MiB at start",
            settled / 1024,
            baseline / 1024
        ));
    }
    match control::check(&dir) {
        Ok(v) if v == "ok" => {}
        Ok(v) => failures.push(format!("engine check after the memory check: {v}")),
        Err(e) => failures.push(format!("engine check unreadable: {e:#}")),
    }
    let st = mount.unmount()?;
    if !st.success() {
        failures.push(format!("the memory-check daemon exited with {st}"));
    }
    Ok(failures)
}

fn report(failures: &[String]) {
    if failures.is_empty() {
        println!("result: ok");
    } else {
        for f in failures {
            println!("FAIL: {f}");
        }
    }
}
