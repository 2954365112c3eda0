//! Smoke test of `ntlinkfs bench`: a quick run on the engine and tmpfs must finish and write a
//! JSON document of the documented shape. Timings are never checked (DEVELOPERS-GUIDE: speed
//! is measured in benchmarks, never in timed tests).
//! `ntlinkfs bench` runs on Linux only (it mounts tmpfs, ntfs-3g and FUSE).
#![cfg(target_os = "linux")]

use serde_json::Value;
use std::process::Command;

fn quick_run(targets: &str, extra: &[&str]) -> (Value, String) {
    // One directory per run: the tests run in parallel.
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ntlinkfs-bench-smoke-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_ntlinkfs"))
        .args([
            "bench",
            "--quick",
            "--targets",
            targets,
            "--no-progress",
            "--json",
        ])
        .arg(&json)
        .args(extra)
        .output()
        .expect("run ntlinkfs bench");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "ntlinkfs bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (doc, stdout)
}

fn row<'a>(doc: &'a Value, workload: &str, op: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["workload"] == workload && r["op"] == op)
        .unwrap_or_else(|| panic!("no result row {workload}/{op}"))
}

#[test]
fn quick_bench_on_engine_and_tmpfs_writes_the_documented_json() {
    let (doc, stdout) = quick_run("engine,tmpfs", &[]);
    assert_eq!(doc["schema"], "ntlinkfs-bench/1");
    for key in [
        "nproc",
        "mem_total_kib",
        "kernel",
        "cpu_model",
        "load_start",
        "load_end",
    ] {
        assert!(!doc["machine"][key].is_null(), "machine.{key} missing");
    }
    assert_eq!(doc["config"]["quick"], true);
    assert_eq!(doc["config"]["data_size"], 64 << 20);
    let names: Vec<&str> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tmpfs", "engine"]);
    // tmpfs cannot hold junctions: the run says what stands in for them.
    assert!(doc["targets"][0]["notes"][0]
        .as_str()
        .unwrap()
        .contains("symlinks"));

    let both = [
        ("meta", "create", "ops/s"),
        ("meta", "stat", "ops/s"),
        ("meta", "link", "ops/s"),
        ("meta", "rename", "ops/s"),
        ("meta", "unlink", "ops/s"),
        ("meta", "readdir", "ops/s"),
        ("store", "populate", "ops/s"),
        ("store", "link", "ops/s"),
        ("store", "junction", "ops/s"),
        ("store", "walk", "ops/s"),
        ("data", "write-1m", "MB/s"),
        ("data", "read-1m", "MB/s"),
        ("data", "write-4k", "MB/s"),
        ("data", "read-4k", "MB/s"),
        ("data", "rand-read-4k", "ops/s"),
        ("mount", "ready", "ms"),
    ];
    for (w, op, unit) in both {
        let r = row(&doc, w, op);
        assert_eq!(r["unit"], unit, "{w}/{op}");
        for t in ["tmpfs", "engine"] {
            let v = r["values"][t]
                .as_f64()
                .unwrap_or_else(|| panic!("{w}/{op} {t}"));
            assert!(v.is_finite() && v >= 0.0, "{w}/{op} {t} = {v}");
            assert!(r["samples"][t]["seconds"].is_number());
        }
        assert!(r["ratio_vs_tmpfs"]["engine"].is_number(), "{w}/{op}");
        assert!(r["ratio_vs_ntfs3g"].as_object().unwrap().is_empty());
    }
    // Counts are part of the shape: the quick sizes.
    assert_eq!(
        row(&doc, "meta", "create")["samples"]["tmpfs"]["count"],
        300
    );
    assert_eq!(
        row(&doc, "meta", "unlink")["samples"]["engine"]["count"],
        600
    );
    assert_eq!(row(&doc, "store", "walk")["samples"]["tmpfs"]["count"], 600);
    assert_eq!(
        row(&doc, "data", "write-1m")["samples"]["tmpfs"]["bytes"],
        64 << 20
    );

    let mem = row(&doc, "memory", "per-file");
    assert_eq!(mem["unit"], "B/file");
    assert!(mem["values"]["engine"].as_f64().unwrap() > 0.0);
    assert!(mem["values"].get("tmpfs").is_none());
    assert!(row(&doc, "memory", "names")["values"]["engine"].is_number());
    // The one-directory measures: the engine's beside the daemon's (the fuse target is not
    // in this run), at the quick size.
    for op in ["rss-one-dir", "heap-one-dir"] {
        let r = row(&doc, "memory", op);
        assert_eq!(r["unit"], "B/file", "{op}");
        assert!(r["values"]["engine"].as_f64().unwrap() > 0.0, "{op}");
        assert_eq!(r["samples"]["engine"]["count"], 20_000, "{op}");
        assert!(r["values"].get("tmpfs").is_none(), "{op}");
    }

    let goals = doc["goals"].as_array().unwrap();
    assert!(goals
        .iter()
        .any(|g| g["op"] == "memory/per-file" && g["met"].is_boolean()));

    // The table names every target and shows ratios against tmpfs.
    assert!(stdout.contains("engine÷tmpfs"), "{stdout}");
    assert!(stdout.contains("meta/create"), "{stdout}");
}

/// Runs `ntlinkfs bench --quick --targets engine ARGS`, which must fail; its standard error.
fn refused(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ntlinkfs"))
        .args(["bench", "--quick", "--targets", "engine"])
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "bench {args:?} ran");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bench_refuses_bad_sizes_with_a_message() {
    let err = refused(&["--data-size", "12X"]);
    assert!(err.contains("size suffix"), "{err}");
    let err = refused(&["--files", "0"]);
    assert!(err.contains("--files must be at least 1"), "{err}");
}

/// The NTFS targets report the registered divergences of ntfs-3g (host/divergences.toml) that
/// the workloads meet: ntfs-3g's figures are produced under them (its case-sensitive lookups
/// always; the EIO after a junction is set when it shows), the ntlinkfs mount under none.
/// Mounts ntfs-3g and FUSE: needs root, ntfs-3g and /dev/fuse (fails, never skips).
#[test]
fn ntfs_targets_report_the_registered_divergences_they_meet() {
    let (doc, stdout) = quick_run(
        "ntfs-3g,fuse",
        &["--workloads", "meta,store", "--data-size", "4M"],
    );
    let target = |name: &str| {
        doc["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no target {name}"))
            .clone()
    };
    let div = |t: &Value, id: &str| {
        t["divergences"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("{}: no divergence {id}", t["name"]))
            .clone()
    };
    let n3 = target("ntfs-3g");
    let fuse = target("fuse");
    for id in [
        "kind-change-eio",
        "case-insensitive-names",
        "link-limit-1024",
    ] {
        for t in [&n3, &fuse] {
            let d = div(t, id);
            assert!(d["title"].as_str().is_some_and(|s| !s.is_empty()), "{d}");
            assert!(d["observed"].as_str().is_some_and(|s| !s.is_empty()), "{d}");
        }
        assert_eq!(div(&fuse, id)["relied_on"], false, "fuse {id}");
    }
    assert_eq!(div(&n3, "case-insensitive-names")["relied_on"], true);
    assert_eq!(div(&n3, "link-limit-1024")["relied_on"], false);
    // 3 projects x the quick store's packages, each node_modules/<pkg> a junction.
    let eio = div(&n3, "kind-change-eio");
    assert!(
        eio["observed"].as_str().unwrap().contains("new junctions"),
        "{eio}"
    );
    assert!(div(&fuse, "kind-change-eio")["observed"]
        .as_str()
        .unwrap()
        .starts_with("EIO at the first lstat of 0 of "));
    assert!(
        stdout.contains("divergence case-insensitive-names (relied on)"),
        "{stdout}"
    );
}

#[test]
fn bench_refuses_more_projects_than_ntfs_gives_names() {
    let err = refused(&["--projects", "1024"]);
    assert!(
        err.contains("link-limit-1024") && err.contains("at most 1023"),
        "{err}"
    );
}

/// The in-process FUSE targets report the CPU their serving threads used per timed loop, and
/// the text shows it per operation with the difference (mounts FUSE: needs root and
/// /dev/fuse; fails, never skips). Only presence and sign are checked, never a speed.
#[test]
fn fuse_and_ceiling_samples_carry_the_serving_cpu() {
    let (doc, stdout) = quick_run("tmpfs,fuse,ceiling", &["--workloads", "meta"]);
    for op in ["create", "link", "rename", "unlink"] {
        let r = row(&doc, "meta", op);
        for t in ["fuse", "ceiling"] {
            let cpu = r["samples"][t]["server_cpu"]
                .as_f64()
                .unwrap_or_else(|| panic!("meta/{op} {t}: no server_cpu"));
            // 300 name operations make the serving threads run.
            assert!(cpu > 0.0, "meta/{op} {t}: server_cpu {cpu}");
        }
        // Where nothing serves in process, the field is still there (the calling thread did
        // the work), and never negative.
        let tmpfs = r["samples"]["tmpfs"]["server_cpu"].as_f64().unwrap();
        assert!(tmpfs >= 0.0, "meta/{op} tmpfs: {tmpfs}");
    }
    assert!(stdout.contains("serving CPU µs/op"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("meta/link") && l.split_whitespace().count() == 4)
        .unwrap_or_else(|| panic!("no serving CPU row for meta/link:\n{stdout}"));
    assert!(
        line.split_whitespace()
            .skip(1)
            .all(|v| v.parse::<f64>().is_ok()),
        "{line}"
    );
}

/// `--cpu N` holds the whole run to one CPU, says so in the header and the JSON, and a CPU
/// the machine lacks is refused with a message.
#[test]
fn bench_held_to_one_cpu_says_so() {
    let (doc, stdout) = quick_run("engine", &["--workloads", "meta", "--cpu", "0"]);
    assert!(stdout.contains("held to CPU 0 of"), "{stdout}");
    assert_eq!(doc["machine"]["pinned"][0], 0, "{}", doc["machine"]);
    assert_eq!(
        doc["machine"]["nproc"], 1,
        "one CPU to run on: {}",
        doc["machine"]
    );
    let err = refused(&["--cpu", "100000"]);
    assert!(err.contains("--cpu 100000"), "{err}");
}
