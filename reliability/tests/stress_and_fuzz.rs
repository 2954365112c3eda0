//! Short versions of the long runs, on real mounts: the stress workers leave a consistent
//! engine; the differential fuzzer's harness sees no difference between two ntfs-3g mounts
//! (so what it reports against ntlinkfs comes from ntlinkfs), and every listed known divergence
//! still shows on its probe.

mod common;

use common::mount;
use reliability::difffuzz::exec::Side;
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
    let mut fz = Fuzzer::new(
        Side::open("ntlinkfs", a.mount_point(), 'C').unwrap(),
        Side::open("ntfs-3g", b.mount_point(), 'C').unwrap(),
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
    let mut fz = Fuzzer::new(
        Side::open("ntlinkfs", &m.dir, 'C').unwrap(),
        Side::open("ntfs-3g", n3.mount_point(), 'C').unwrap(),
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
