//! The whole suite on the Linux targets: `core` must pass every case it can express, `ntfs-3g`
//! (real NTFS) must show no FAIL that is not a recorded divergence, and `fuse` (ntlinkfs
//! mounted) must pass like `core`.

use conformance::targets::core::CoreTarget;
use conformance::{all_cases, report, run, Outcome, Report, Target};

fn run_on(target: Box<dyn Target>) -> Report {
    let mut targets = vec![target];
    let report = run(&all_cases(), &mut targets, |_| {});
    println!("{}", report::matrix(&report, true));
    report
}

fn failures(r: &Report) -> Vec<String> {
    r.cases
        .iter()
        .zip(&r.results)
        .filter_map(|(c, row)| match &row[0] {
            Outcome::Fail(m) => Some(format!("{}: {m}", c.id)),
            _ => None,
        })
        .collect()
}

#[test]
fn core_passes_every_case() {
    let r = run_on(Box::new(CoreTarget::default()));
    assert_eq!(failures(&r), Vec::<String>::new());
    // The engine expresses everything: no n/a, no divergence.
    let (pass, _, na, div) = r.counts(0);
    assert_eq!((na, div), (0, 0));
    assert_eq!(pass, r.cases.len());
}

#[cfg(target_os = "linux")]
#[test]
fn ntfs3g_has_no_unexpected_failure() {
    let t = conformance::targets::ntfs3g::Ntfs3gTarget::start()
        .unwrap_or_else(|e| panic!("the ntfs-3g target needs mkntfs, ntfs-3g and /dev/fuse: {e}"));
    let r = run_on(Box::new(t));
    assert_eq!(failures(&r), Vec::<String>::new());
    assert!(r.targets[0].error.is_none(), "{:?}", r.targets[0].error);
}

#[cfg(target_os = "linux")]
#[test]
fn fuse_passes_every_case_it_can_express() {
    let t = conformance::targets::fuse::FuseTarget::start().unwrap_or_else(|e| {
        panic!("the fuse target needs /dev/fuse (apt-get install fuse3; modprobe fuse): {e}")
    });
    let r = run_on(Box::new(t));
    assert_eq!(failures(&r), Vec::<String>::new());
    assert!(r.targets[0].error.is_none(), "{:?}", r.targets[0].error);
}
