//! Short versions of the long runs, on real mounts: the stress workers leave a consistent
//! engine; the differential fuzzer's harness sees no difference between two ntfs-3g mounts
//! (so what it reports against ntlinkfs comes from ntlinkfs), and every listed known divergence
//! still shows on its probe.

mod common;

use common::mount;
use reliability::difffuzz::exec::{run_name, Side};
use reliability::difffuzz::known::KnownList;
use reliability::difffuzz::{FuzzConfig, Fuzzer};
use reliability::mounts::{reference_ntfs3g, reference_ntfs3g_shared};
use reliability::stress::{self, StressConfig};
use reliability::{control, sys};
use std::path::Path;
use std::time::Duration;

fn known() -> KnownList {
    KnownList::load(Path::new(host::divergences::PATH)).unwrap()
}

#[test]
fn stress_workers_leave_the_engine_consistent() {
    let m = mount(&[]);
    let cfg = StressConfig {
        workers: 4,
        duration: Duration::from_secs(3),
        seed: 7,
        max_write: 64 * 1024,
        drive: 'C',
        stall: Duration::from_secs(120),
        no_reparse: false,
    };
    let rep = stress::run(&m.dir.join("stress"), &cfg);
    assert!(rep.stalled.is_none(), "{:?}", rep.stalled);
    assert!(rep.fatal.is_empty(), "{:?}", rep.fatal);
    assert!(rep.ops > 0);
    assert_eq!(control::check(&m.dir).unwrap(), "ok");
    assert_eq!(stress::remove_tree(&m.dir.join("stress")), 0);
    assert_eq!(control::check(&m.dir).unwrap(), "ok");
    assert_eq!(sys::list_dir(&m.dir).unwrap(), Vec::<String>::new());
}

#[test]
fn the_fuzzer_sees_no_difference_between_two_ntfs3g_mounts() {
    let a = reference_ntfs3g(256).unwrap();
    let b = reference_ntfs3g(256).unwrap();
    let list = known();
    let run = run_name();
    let mut fz = Fuzzer::new(
        Side::open("ntlinkfs", a.mount_point(), 'C', &run).unwrap(),
        Side::open("ntfs-3g", b.mount_point(), 'C', &run).unwrap(),
        &list,
    );
    let cfg = FuzzConfig {
        seed: 5,
        ops: 1500,
        seq_len: 100,
        case_every: 3,
        odd_name_rate: 0.01,
        minimize: false,
        max_findings: 1,
    };
    let rep = fz.fuzz(&cfg, |_| {});
    assert_eq!(rep.ops, 1500);
    assert!(rep.findings.is_empty(), "{}", rep.findings[0]);
    assert!(rep.known.is_empty(), "{:?}", rep.known);
}

#[test]
fn every_known_divergence_still_shows_on_its_probe() {
    let m = mount(&[]);
    let n3 = reference_ntfs3g(256).unwrap();
    let list = known();
    let run = run_name();
    let mut fz = Fuzzer::new(
        Side::open("ntlinkfs", &m.dir, 'C', &run).unwrap(),
        Side::open("ntfs-3g", n3.mount_point(), 'C', &run).unwrap(),
        &list,
    );
    let stale = fz.check_known();
    assert!(stale.is_empty(), "{stale:#?}");
}

/// Issue 14: the differential fuzzer run as an unprivileged user (nobody, through `setpriv`,
/// no capabilities) against an `--allow-other` ntlinkfs drive and an ntfs-3g mount with
/// `permissions,allow_other`: every operation, junctions and reparse data included, on the
/// user's own files behaves as on ntfs-3g, where the daemon's own checks (owner-only
/// `system.ntfs_*`) now apply.
#[test]
fn the_fuzzer_as_an_unprivileged_user_finds_nothing_new() {
    use std::os::unix::fs::PermissionsExt;
    common::need("setpriv", "util-linux");
    let m = mount(&["--allow-other"]);
    let n3 = reference_ntfs3g_shared(256).unwrap();
    for d in [m.dir.as_path(), n3.mount_point()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_ntlinkfs-difffuzz"))
        .arg("--ntlinkfs-dir")
        .arg(&m.dir)
        .arg("--ntfs3g-dir")
        .arg(n3.mount_point())
        .args([
            "--ops",
            "1500",
            "--seed",
            "14",
            "--no-minimize",
            "--max-findings",
            "1",
        ])
        .output()
        .expect("run ntlinkfs-difffuzz as nobody");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "findings as nobody ({}):\n{text}",
        out.status
    );
    assert!(
        text.contains("1500 operations") && text.contains("result: 0 findings"),
        "the fuzzer did not run its 1500 operations:\n{text}"
    );
    assert_eq!(control::check(&m.dir).unwrap(), "ok");
}

/// The fuzzer still reports what the registry does not explain: for each entry it reads, the
/// same registry without that entry makes the entry's probe a finding (a planted divergence:
/// ntlinkfs behaves as NTFS, ntfs-3g does not, and nothing says why), while the whole registry
/// explains it. The matchers that explain a whole sequence once it met their condition (names
/// in other cases, libfuse hidden files, junctions ntfs-3g cannot resolve) may explain another
/// entry's probe too (an open file unlinked leaves a hidden file on ntfs-3g); then they are
/// left out as well.
#[test]
fn a_divergence_left_out_of_the_registry_is_a_finding_on_its_probe() {
    use reliability::difffuzz::op::Op;
    const SEQUENCE_WIDE: [&str; 3] = [
        "case-variant",
        "ntfs3g-hidden-files",
        "ntfs3g-unresolved-junction",
    ];
    let m = mount(&[]);
    let n3 = reference_ntfs3g(256).unwrap();
    let full = known();
    let mut missed = Vec::new();
    for k in &full.divergence {
        let probe: Vec<Op> = k.probe.iter().map(|l| l.parse().unwrap()).collect();
        let reproduce = |list: &KnownList| {
            let run = run_name();
            let mut fz = Fuzzer::new(
                Side::open("ntlinkfs", &m.dir, 'C', &run).unwrap(),
                Side::open("ntfs-3g", n3.mount_point(), 'C', &run).unwrap(),
                list,
            );
            fz.reproduce(&probe)
        };
        let mut without = known();
        without.divergence.retain(|d| d.id != k.id);
        let found = reproduce(&without).or_else(|| {
            without
                .divergence
                .retain(|d| !SEQUENCE_WIDE.contains(&d.matcher.as_str()));
            reproduce(&without)
        });
        match found {
            Some(f) => assert!(
                k.ntlinkfs_outcomes.contains(&f.ntlinkfs) || f.what == "state",
                "{}: the finding is not the probe's difference:\n{f}",
                k.id
            ),
            None => missed.push(k.id.clone()),
        }
        assert!(
            reproduce(&full).is_none(),
            "{}: the whole registry does not explain its own probe",
            k.id
        );
    }
    assert!(
        missed.is_empty(),
        "left out of the registry, these probes were no finding: {missed:?}"
    );
    assert_eq!(control::check(&m.dir).unwrap(), "ok");
}

/// A fuzzing run, not only a probe: without the case-insensitivity entry, sequences that use
/// names in other cases end in findings, shrunk to the operations that show them.
#[test]
fn the_fuzzer_finds_a_divergence_the_registry_does_not_list() {
    let m = mount(&[]);
    let n3 = reference_ntfs3g(256).unwrap();
    let mut list = known();
    list.divergence.retain(|d| d.id != "case-insensitive-names");
    let run = run_name();
    let mut fz = Fuzzer::new(
        Side::open("ntlinkfs", &m.dir, 'C', &run).unwrap(),
        Side::open("ntfs-3g", n3.mount_point(), 'C', &run).unwrap(),
        &list,
    );
    let cfg = FuzzConfig {
        seed: 3,
        ops: 1500,
        seq_len: 100,
        case_every: 1,
        odd_name_rate: 0.0,
        minimize: true,
        max_findings: 1,
    };
    let rep = fz.fuzz(&cfg, |_| {});
    assert_eq!(
        rep.findings.len(),
        1,
        "no finding in {} operations",
        rep.ops
    );
    let f = &rep.findings[0];
    assert!(
        f.ops.iter().any(|op| op
            .paths()
            .iter()
            .any(|p| p.bytes().any(|b| b.is_ascii_uppercase()))),
        "the finding does not use a name in another case:\n{f}"
    );
    // Shrunk: a case difference shows in a handful of operations.
    assert!(f.ops.len() <= 10, "not shrunk:\n{f}");
}
