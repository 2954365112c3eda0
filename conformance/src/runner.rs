//! Runs cases on targets and collects one [`Outcome`] per case and target.

use crate::case::{Case, Problem};
use crate::target::{Flavor, Target};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The result of one case on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The target did what NTFS does.
    Pass,
    /// It did not; the message says how.
    Fail(String),
    /// The target cannot express the case; the reason says why.
    NotApplicable(String),
    /// A recorded, observed divergence of a target that is not ntlinkfs.
    Divergence {
        /// What the case observed.
        observed: String,
        /// The recorded evidence.
        evidence: String,
    },
}

impl Outcome {
    /// `pass`, `fail`, `n/a` or `divergence` (the JSON and matrix words, FAIL shown upper-case
    /// in the matrix).
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "fail",
            Outcome::NotApplicable(_) => "n/a",
            Outcome::Divergence { .. } => "divergence",
        }
    }
    /// The message, reason or observation (empty for a pass).
    pub fn detail(&self) -> String {
        match self {
            Outcome::Pass => String::new(),
            Outcome::Fail(m) | Outcome::NotApplicable(m) => m.clone(),
            Outcome::Divergence { observed, evidence } => {
                format!("{observed} — known divergence: {evidence}")
            }
        }
    }
}

/// One target's column.
#[derive(Debug, Clone)]
pub struct TargetColumn {
    /// The target's name.
    pub name: String,
    /// Its flavor.
    pub flavor: Flavor,
    /// A setup or teardown problem of the target as a whole.
    pub error: Option<String>,
}

/// Everything a run found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The targets, in the order run.
    pub targets: Vec<TargetColumn>,
    /// The cases run, in order.
    pub cases: Vec<Case>,
    /// `results[case][target]`.
    pub results: Vec<Vec<Outcome>>,
}

impl Report {
    /// Counts of (pass, fail, n/a, divergence) for target column `t`.
    pub fn counts(&self, t: usize) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for row in &self.results {
            match row[t] {
                Outcome::Pass => c.0 += 1,
                Outcome::Fail(_) => c.1 += 1,
                Outcome::NotApplicable(_) => c.2 += 1,
                Outcome::Divergence { .. } => c.3 += 1,
            }
        }
        c
    }

    /// Whether an ntlinkfs target (core, fuse, posix on an ntlinkfs mount) failed a case or
    /// could not run: the run's exit status.
    pub fn ntlinkfs_failed(&self) -> bool {
        self.targets.iter().enumerate().any(|(t, col)| {
            col.flavor.is_ntlinkfs()
                && (col.error.is_some()
                    || self
                        .results
                        .iter()
                        .any(|row| matches!(row[t], Outcome::Fail(_))))
        })
    }

    /// Whether any target failed a case that is not a recorded divergence.
    pub fn any_failed(&self) -> bool {
        self.results
            .iter()
            .any(|row| row.iter().any(|o| matches!(o, Outcome::Fail(_))))
    }
}

/// Progress events for a long run.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    /// A target starts.
    TargetStart {
        /// Its name.
        target: &'a str,
        /// Number of cases.
        cases: usize,
    },
    /// One case finished.
    CaseDone {
        /// Target name.
        target: &'a str,
        /// 1-based index.
        index: usize,
        /// Number of cases.
        of: usize,
        /// The case.
        case: &'a Case,
        /// Its outcome.
        outcome: &'a Outcome,
    },
    /// A target finished.
    TargetDone {
        /// Its name.
        target: &'a str,
    },
}

/// Runs one case on one target: a fresh sandbox, the steps, and the divergence rule.
pub fn run_case(case: &Case, target: &mut dyn Target) -> Outcome {
    let flavor = target.flavor();
    let mut sandbox = match target.sandbox(case.id) {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(format!("could not make a sandbox: {e}")),
    };
    let steps = case.steps;
    let r = catch_unwind(AssertUnwindSafe(|| steps(sandbox.as_mut())));
    drop(sandbox);
    let verdict = match r {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            Err(Problem::Fail(format!("the case panicked: {msg}")))
        }
    };
    match verdict {
        Ok(()) => Outcome::Pass,
        Err(Problem::NotApplicable(why)) => Outcome::NotApplicable(why),
        Err(Problem::Fail(msg)) => {
            if !flavor.is_ntlinkfs() {
                for d in crate::case::divergences(case.id) {
                    if d.flavor == flavor && msg.contains(d.signature) {
                        return Outcome::Divergence {
                            observed: msg,
                            evidence: d.evidence.to_string(),
                        };
                    }
                }
            }
            Outcome::Fail(msg)
        }
    }
}

/// Runs every case on every target (targets one after the other, cases in order).
pub fn run(
    cases: &[Case],
    targets: &mut [Box<dyn Target>],
    mut progress: impl FnMut(Progress<'_>),
) -> Report {
    let mut results = vec![Vec::with_capacity(targets.len()); cases.len()];
    let mut columns = Vec::new();
    for target in targets.iter_mut() {
        let name = target.name();
        progress(Progress::TargetStart {
            target: &name,
            cases: cases.len(),
        });
        for (i, case) in cases.iter().enumerate() {
            let outcome = run_case(case, target.as_mut());
            progress(Progress::CaseDone {
                target: &name,
                index: i + 1,
                of: cases.len(),
                case,
                outcome: &outcome,
            });
            results[i].push(outcome);
        }
        let error = target.finish().err();
        progress(Progress::TargetDone { target: &name });
        columns.push(TargetColumn {
            name,
            flavor: target.flavor(),
            error,
        });
    }
    Report {
        targets: columns,
        cases: cases.to_vec(),
        results,
    }
}

/// Whether a case id matches a pattern: `*` matches any run of characters, `?` one character,
/// case-insensitively; a comma separates alternatives (`H*,J0?`). A pattern without wildcards
/// matches ids that start with it (`H` is every hard-link case).
pub fn matches_pattern(id: &str, pattern: &str) -> bool {
    pattern.split(',').map(str::trim).any(|p| {
        if p.is_empty() {
            return false;
        }
        let p = p.to_ascii_uppercase();
        let id = id.to_ascii_uppercase();
        if !p.contains(['*', '?']) {
            return id.starts_with(&p);
        }
        glob(p.as_bytes(), id.as_bytes())
    })
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Rule, Verdict};
    use crate::target::NtfsTarget;

    struct Fake(Flavor);
    impl Target for Fake {
        fn name(&self) -> String {
            self.0.label().into()
        }
        fn flavor(&self) -> Flavor {
            self.0
        }
        fn sandbox(&mut self, id: &str) -> Result<Box<dyn NtfsTarget>, String> {
            crate::targets::core::CoreSandbox::new(Default::default(), id)
                .map(|s| Box::new(s) as Box<dyn NtfsTarget>)
                .map_err(|e| e.to_string())
        }
    }

    fn unexpected_success(_: &mut dyn NtfsTarget) -> Verdict {
        Err(Problem::Fail(
            "step: expected NameCollision, got success (())".into(),
        ))
    }
    fn other_failure(_: &mut dyn NtfsTarget) -> Verdict {
        Err(Problem::Fail(
            "step: expected NameCollision, got errno EIO (5)".into(),
        ))
    }
    fn passes(_: &mut dyn NtfsTarget) -> Verdict {
        Ok(())
    }
    fn panics(_: &mut dyn NtfsTarget) -> Verdict {
        panic!("boom")
    }

    /// A case under the id of D07, whose ntfs-3g divergence the registry records with the
    /// signature "got success".
    fn case(steps: fn(&mut dyn NtfsTarget) -> Verdict) -> Case {
        Case {
            id: "D07",
            rule: Rule::A1,
            title: "t",
            source: "s",
            expected: "e",
            steps,
        }
    }

    #[test]
    fn divergence_needs_the_flavor_and_the_documented_failure() {
        let mut n3g = Fake(Flavor::Ntfs3g);
        let mut nt = Fake(Flavor::Ntlinkfs);
        assert!(matches!(
            run_case(&case(unexpected_success), &mut n3g),
            Outcome::Divergence { .. }
        ));
        // Another failure than the recorded one stays FAIL.
        assert!(matches!(
            run_case(&case(other_failure), &mut n3g),
            Outcome::Fail(_)
        ));
        // ntlinkfs never gets a divergence.
        assert!(matches!(
            run_case(&case(unexpected_success), &mut nt),
            Outcome::Fail(_)
        ));
        // A target that unexpectedly matches Windows passes.
        assert_eq!(run_case(&case(passes), &mut n3g), Outcome::Pass);
        // A panicking case is a FAIL, not a crash.
        assert!(matches!(run_case(&case(panics), &mut nt), Outcome::Fail(m) if m.contains("boom")));
    }

    #[test]
    fn exit_status_follows_ntlinkfs_targets_only() {
        let cases = vec![case(other_failure)];
        let mut only_ntfs3g: Vec<Box<dyn Target>> = vec![Box::new(Fake(Flavor::Ntfs3g))];
        let r = run(&cases, &mut only_ntfs3g, |_| {});
        assert!(r.any_failed() && !r.ntlinkfs_failed());
        let mut with_core: Vec<Box<dyn Target>> = vec![Box::new(Fake(Flavor::Core))];
        assert!(run(&cases, &mut with_core, |_| {}).ntlinkfs_failed());
    }

    /// Every case the registry names exists, and the suite records each of its ntfs-3g
    /// divergences there.
    #[test]
    fn the_registry_names_existing_cases() {
        let ids: Vec<&str> = crate::all_cases().iter().map(|c| c.id).collect();
        let named: Vec<&str> = host::divergences::registry().case_ids().collect();
        for id in &named {
            assert!(
                ids.contains(id),
                "host/divergences.toml names unknown case {id}"
            );
        }
        assert_eq!(named.len(), 25);
        let j42 = crate::case::divergences("J42");
        assert_eq!(j42.len(), 1);
        assert_eq!(j42[0].id, "symlink-on-file-with-data");
        let d = crate::case::divergences("J03");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, "junction-on-non-empty-directory");
        assert_eq!(d[0].flavor, Flavor::Ntfs3g);
        assert!(crate::case::divergences("H01").is_empty());
    }

    #[test]
    fn patterns() {
        assert!(matches_pattern("H01", "H"));
        assert!(matches_pattern("H01", "h*"));
        assert!(matches_pattern("J07", "H*,J0?"));
        assert!(!matches_pattern("J17", "J0?"));
        assert!(matches_pattern("R12", "*2"));
        assert!(!matches_pattern("R12", ""));
    }
}
