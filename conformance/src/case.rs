//! A case: an id, a title, its source, steps written against [`NtfsTarget`], the NTFS outcome
//! expected, and the divergences of targets that are known to differ from Windows.

use crate::target::{Failure, Flavor, NtfsTarget, Op};
use std::fmt::Debug;
use vfs_core::Error;

/// Rules of `docs/NTFS-RULES.md` the cases check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A1 Hard links.
    A1,
    /// A2 Deletion.
    A2,
    /// A3 Junctions.
    A3,
    /// A4 Symbolic links.
    A4,
    /// A5 Names.
    A5,
    /// A6 Rename / MoveFileEx.
    A6,
}

impl Rule {
    /// The rule id and its title.
    pub fn title(self) -> &'static str {
        match self {
            Rule::A1 => "A1 Hard links",
            Rule::A2 => "A2 Deletion",
            Rule::A3 => "A3 Junctions",
            Rule::A4 => "A4 Symbolic links",
            Rule::A5 => "A5 Names",
            Rule::A6 => "A6 Rename",
        }
    }
}

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The target did something other than NTFS does.
    Fail(String),
    /// The target cannot express the case.
    NotApplicable(String),
}

/// What a case's steps return.
pub type Verdict = Result<(), Problem>;

/// A step that failed unexpectedly fails the case; one the target cannot express makes it n/a.
impl From<Failure> for Problem {
    fn from(f: Failure) -> Problem {
        match f {
            Failure::Unsupported(why) => Problem::NotApplicable(why),
            other => Problem::Fail(format!("a setup step failed: {other}")),
        }
    }
}

/// A known difference between a target and Windows, recorded with its evidence in the one
/// divergence registry (`host/divergences.toml`, [`host::divergences`]). It applies only when
/// the case fails on that flavor *and* the failure message contains `signature`: the target
/// must differ in the documented way, otherwise the result stays FAIL (and a target that
/// unexpectedly matches Windows passes).
#[derive(Debug, Clone, Copy)]
pub struct Divergence {
    /// The kind of target that differs.
    pub flavor: Flavor,
    /// The registry entry's id.
    pub id: &'static str,
    /// Text the failure message must contain.
    pub signature: &'static str,
    /// What was observed, and where.
    pub evidence: &'static str,
}

/// The recorded divergences of case `case_id`, from the registry. The registry records
/// ntfs-3g's (real NTFS on Linux) only.
pub fn divergences(case_id: &str) -> Vec<Divergence> {
    let r: &'static host::divergences::Registry = host::divergences::registry();
    r.divergence
        .iter()
        .flat_map(|d| d.case.iter().map(move |c| (d, c)))
        .filter(|(_, c)| c.case == case_id)
        .map(|(d, c)| Divergence {
            flavor: Flavor::Ntfs3g,
            id: &d.id,
            signature: &c.signature,
            evidence: &c.evidence,
        })
        .collect()
}

/// One conformance case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Stable id (`H01`, `J07`, ...).
    pub id: &'static str,
    /// The rule of docs/NTFS-RULES.md it checks.
    pub rule: Rule,
    /// What it checks, in one line.
    pub title: &'static str,
    /// Where the expected behaviour comes from (Microsoft doc, MS-FSA/MS-FSCC section, a
    /// test suite that ran on NTFS, or an observation on real NTFS).
    pub source: &'static str,
    /// The NTFS outcome expected, in words.
    pub expected: &'static str,
    /// The steps, checking the outcome as they go. Known divergences of targets that are
    /// not ntlinkfs are in the registry, by case id ([`divergences`]).
    pub steps: fn(&mut dyn NtfsTarget) -> Verdict,
}

impl Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .field("title", &self.title)
            .finish()
    }
}

// ------------------------------------------------------------------------------ checks

/// Fails with `msg` unless `cond`.
pub fn ensure(cond: bool, msg: impl Into<String>) -> Verdict {
    if cond {
        Ok(())
    } else {
        Err(Problem::Fail(msg.into()))
    }
}

/// Fails unless `actual == expected`.
pub fn ensure_eq<T: PartialEq + Debug>(actual: T, expected: T, what: &str) -> Verdict {
    if actual == expected {
        Ok(())
    } else {
        Err(Problem::Fail(format!(
            "{what}: expected {expected:?}, got {actual:?}"
        )))
    }
}

/// Expects the NTFS outcome `expected` (compared at the target's granularity, see
/// [`Failure::matches`]). Success fails the case with "got success".
pub fn expect_err<T: Debug>(r: Op<T>, expected: Error, what: &str) -> Verdict {
    expect_one_of(r, &[expected], what)
}

/// Expects any of several NTFS outcomes (where the sources disagree or do not say which).
pub fn expect_one_of<T: Debug>(r: Op<T>, expected: &[Error], what: &str) -> Verdict {
    let names = expected
        .iter()
        .map(|e| format!("{e:?}"))
        .collect::<Vec<_>>()
        .join(" or ");
    match r {
        Ok(v) => Err(Problem::Fail(format!(
            "{what}: expected {names}, got success ({v:?})"
        ))),
        Err(Failure::Unsupported(why)) => Err(Problem::NotApplicable(why)),
        Err(f) if expected.iter().any(|e| f.matches(*e)) => Ok(()),
        Err(f) => Err(Problem::Fail(format!("{what}: expected {names}, got {f}"))),
    }
}

/// Expects success, failing with the step's name and the outcome otherwise.
pub fn expect_ok<T>(r: Op<T>, what: &str) -> Result<T, Problem> {
    match r {
        Ok(v) => Ok(v),
        Err(Failure::Unsupported(why)) => Err(Problem::NotApplicable(why)),
        Err(f) => Err(Problem::Fail(format!("{what}: expected success, got {f}"))),
    }
}

/// Asks the target for a feature; its absence makes the case n/a.
pub fn need(t: &mut dyn NtfsTarget, f: crate::target::Feature) -> Verdict {
    t.need(f).map_err(Problem::NotApplicable)
}

/// Sorts names for comparison (FindFirstFileNameW's order is unspecified, A1).
pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// `names` as owned strings.
pub fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}
