//! Short versions of the long runs, on real mounts: the stress workers leave a consistent
//! engine; the differential fuzzer's harness sees no difference between two ntfs-3g mounts
//! (so what it reports against ntlinkfs comes from ntlinkfs), and every listed known divergence
//! still shows on its probe.

mod common;

use common::mount;
use reliability::difffuzz::exec::Side;
use reliability::difffuzz::known::KnownList;
use reliability::difffuzz::{FuzzConfig, Fuzzer};
use reliability::mounts::reference_ntfs3g;
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
        Side::new("ntlinkfs", a.mount_point(), 'C'),
        Side::new("ntfs-3g", b.mount_point(), 'C'),
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
        Side::new("ntlinkfs", &m.dir, 'C'),
        Side::new("ntfs-3g", n3.mount_point(), 'C'),
        &list,
    );
    let stale = fz.check_known();
    assert!(stale.is_empty(), "{stale:#?}");
}
