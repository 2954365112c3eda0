//! pjdfstest (crates.io `pjdfstest`) against a mount, held to a written list of expected
//! failures (`reliability/pjdfstest-expected-failures.toml`): every listed failure carries the
//! NTFS rule that causes it on purpose; any other failure, a listed test that passes, or a listed
//! test that no longer exists fails the check.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Every group pjdfstest 0.2.2 has: the check runs all of them, and fails if one of them ran
/// no test (a pjdfstest that renamed a group) or a test of a group not listed here ran (a
/// pjdfstest with a new group: add it here).
pub const GROUPS: [&str; 15] = [
    "chmod",
    "chown",
    "ftruncate",
    "link",
    "mkdir",
    "mkfifo",
    "mknod",
    "open",
    "posix_fallocate",
    "rename",
    "rmdir",
    "symlink",
    "truncate",
    "unlink",
    "utimensat",
];

/// The group of a test name (`group::test[::file_type]`).
pub fn group_of(test: &str) -> &str {
    test.split("::").next().unwrap_or(test)
}

/// Groups of [`GROUPS`] that ran no test in `run`, and groups that ran but are not in
/// [`GROUPS`].
pub fn group_coverage(run: &Run) -> (Vec<&'static str>, BTreeSet<String>) {
    let ran: BTreeSet<&str> = run.status.keys().map(|t| group_of(t)).collect();
    let missing = GROUPS
        .iter()
        .copied()
        .filter(|g| !ran.contains(g))
        .collect();
    let unknown = ran
        .iter()
        .filter(|g| !GROUPS.contains(g))
        .map(|g| g.to_string())
        .collect();
    (missing, unknown)
}

/// The expected-failures file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFailures {
    /// The entries.
    #[serde(default)]
    pub failure: Vec<Expected>,
}

/// Tests that fail on purpose for one reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Why NTFS semantics make them fail, with the source.
    pub reason: String,
    /// pjdfstest's test names (`group::test[::file_type]`), exact.
    pub tests: Vec<String>,
}

impl ExpectedFailures {
    /// Reads and checks the file: every entry has a reason, no test is listed twice.
    pub fn load(path: &Path) -> Result<ExpectedFailures> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        ExpectedFailures::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// [`ExpectedFailures::load`] from text.
    pub fn parse(text: &str) -> Result<ExpectedFailures> {
        let list: ExpectedFailures = toml::from_str(text)?;
        let mut seen = BTreeSet::new();
        for f in &list.failure {
            if f.reason.trim().len() < 10 {
                bail!(
                    "{:?} need a reason (the NTFS rule that makes them fail)",
                    f.tests
                );
            }
            for t in &f.tests {
                if !seen.insert(t.clone()) {
                    bail!("`{t}` is listed twice");
                }
                if !GROUPS.iter().any(|g| t.starts_with(&format!("{g}::"))) {
                    bail!(
                        "`{t}` is not in one of the groups run ({})",
                        GROUPS.join(", ")
                    );
                }
            }
        }
        Ok(list)
    }

    /// The listed test names.
    pub fn names(&self) -> BTreeSet<String> {
        self.failure
            .iter()
            .flat_map(|f| f.tests.iter().cloned())
            .collect()
    }

    /// The reason a test is listed.
    pub fn reason(&self, test: &str) -> Option<&str> {
        self.failure
            .iter()
            .find(|f| f.tests.iter().any(|t| t == test))
            .map(|f| f.reason.as_str())
    }
}

/// pjdfstest's configuration: the features a FUSE mount of ntlinkfs has (posix_fallocate:
/// FALLOCATE mode 0 grows a file, as SetEndOfFile / FileAllocationInformation), a nap long enough for
/// the kernel's timestamp granularity, the dummy users of a Debian machine, and the expected
/// failures (so pjdfstest itself reports them as such).
pub fn config_toml(expected: &BTreeSet<String>) -> String {
    let list: Vec<String> = expected.iter().map(|n| format!("  {n:?},")).collect();
    format!(
        r#"# Written by ntlinkfs-pjdfstest-check; do not edit.
[features]
utimensat = {{}}
utime_now = {{}}
rename_ctime = {{}}
posix_fallocate = {{}}

[settings]
naptime = 0.05
allow_remount = false
expected_failures = [
{}
]

[dummy_auth]
entries = [["nobody", "nogroup"], ["daemon", "daemon"]]
"#,
        list.join("\n")
    )
}

/// One test's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Passed.
    Ok,
    /// Failed, not listed.
    Failed,
    /// Failed, listed.
    FailedAsExpected,
    /// Passed, but listed.
    PassedUnexpectedly,
    /// Not run (missing feature, needs a remount, ...).
    Skipped,
}

/// A parsed run: each test's status and the message lines printed under it.
#[derive(Debug, Default)]
pub struct Run {
    /// Status by test name.
    pub status: BTreeMap<String, Status>,
    /// Indented lines after a test (failure message, skip reason).
    pub detail: BTreeMap<String, Vec<String>>,
}

/// Parses pjdfstest's output (one `name   status` line per test, details indented below).
pub fn parse_output(out: &str) -> Run {
    let mut run = Run::default();
    let mut last: Option<String> = None;
    for line in out.lines() {
        if line.starts_with('\t') {
            if let Some(n) = &last {
                run.detail
                    .entry(n.clone())
                    .or_default()
                    .push(line.trim().to_string());
            }
            continue;
        }
        let t = line.trim_end();
        let status = if t.ends_with("failed as expected") {
            Some(Status::FailedAsExpected)
        } else if t.ends_with("PASSED UNEXPECTEDLY") {
            Some(Status::PassedUnexpectedly)
        } else if t.ends_with(" FAILED") {
            Some(Status::Failed)
        } else if t.ends_with(" skipped") {
            Some(Status::Skipped)
        } else if t.ends_with(" ok") {
            Some(Status::Ok)
        } else {
            None
        };
        match (status, t.split_whitespace().next()) {
            (Some(s), Some(name)) if name.contains("::") => {
                run.status.insert(name.to_string(), s);
                last = Some(name.to_string());
            }
            _ => last = None,
        }
    }
    run
}

/// The verdict on a run against the list.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Failed and not listed.
    pub unexpected_failures: Vec<String>,
    /// Listed and passed.
    pub unexpected_passes: Vec<String>,
    /// Listed but not run at all (renamed, removed, or skipped).
    pub stale: Vec<String>,
    /// Counts by status.
    pub counts: BTreeMap<&'static str, usize>,
}

impl Verdict {
    /// Nothing outside the list.
    pub fn ok(&self) -> bool {
        self.unexpected_failures.is_empty()
            && self.unexpected_passes.is_empty()
            && self.stale.is_empty()
    }
}

/// Holds a run to the list.
pub fn judge(run: &Run, expected: &BTreeSet<String>) -> Verdict {
    let mut v = Verdict::default();
    for (name, st) in &run.status {
        let listed = expected.contains(name);
        let key = match (st, listed) {
            (Status::Ok, false) => "passed",
            (Status::Ok, true) | (Status::PassedUnexpectedly, _) => {
                v.unexpected_passes.push(name.clone());
                "passed unexpectedly"
            }
            (Status::Failed, true) | (Status::FailedAsExpected, _) => "failed as expected",
            (Status::Failed, false) => {
                v.unexpected_failures.push(name.clone());
                "failed"
            }
            (Status::Skipped, _) => "skipped",
        };
        *v.counts.entry(key).or_default() += 1;
    }
    for name in expected {
        match run.status.get(name) {
            None | Some(Status::Skipped) => v.stale.push(name.clone()),
            _ => {}
        }
    }
    v
}

/// Runs every pjdfstest test on `dir` (with `secondary` as the other file system for EXDEV
/// cases): no name filter, so no group can be left out; returns its whole output.
pub fn run(pjdfstest: &Path, dir: &Path, secondary: &Path, config: &Path) -> Result<String> {
    let out = Command::new(pjdfstest)
        .arg("-c")
        .arg(config)
        .arg("-p")
        .arg(dir)
        .arg("-s")
        .arg(secondary)
        .env("RUST_BACKTRACE", "0")
        .output()
        .with_context(|| format!("cannot run {}", pjdfstest.display()))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
link::a                                                 ok
link::b                                             FAILED
\tassertion `left == right` failed
link::c                                            skipped
\tRemounts (allow_remount) are not allowed
link::d                                 failed as expected
link::e                                PASSED UNEXPECTEDLY

Summary: 2 failed, 1 skipped, 1 passed, 1 expected failures, 5 total
";

    #[test]
    fn output_is_parsed_with_details() {
        let r = parse_output(SAMPLE);
        assert_eq!(r.status.len(), 5);
        assert_eq!(r.status["link::b"], Status::Failed);
        assert_eq!(r.status["link::d"], Status::FailedAsExpected);
        assert_eq!(
            r.detail["link::b"],
            vec!["assertion `left == right` failed"]
        );
    }

    #[test]
    fn judge_flags_unlisted_failures_unexpected_passes_and_stale_entries() {
        let r = parse_output(SAMPLE);
        let expected: BTreeSet<String> = ["link::d", "link::e", "link::gone"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let v = judge(&r, &expected);
        assert_eq!(v.unexpected_failures, vec!["link::b"]);
        assert_eq!(v.unexpected_passes, vec!["link::e"]);
        assert_eq!(v.stale, vec!["link::gone"]);
        assert!(!v.ok());
    }

    #[test]
    fn group_coverage_names_missing_and_unknown_groups() {
        let r = parse_output(SAMPLE);
        let (missing, unknown) = group_coverage(&r);
        assert!(missing.contains(&"mknod") && !missing.contains(&"link"));
        assert!(unknown.is_empty());
        let r = parse_output("chflags::x   ok\n");
        let (_, unknown) = group_coverage(&r);
        assert_eq!(unknown.into_iter().collect::<Vec<_>>(), vec!["chflags"]);
    }

    #[test]
    fn the_repository_list_loads() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("pjdfstest-expected-failures.toml");
        ExpectedFailures::load(&p).unwrap();
    }

    #[test]
    fn an_entry_without_reason_is_refused() {
        let t = "[[failure]]\ntests = [\"link::x\"]\nreason = \"\"\n";
        assert!(ExpectedFailures::parse(t).is_err());
    }

    #[test]
    fn config_lists_expected_failures() {
        let set: BTreeSet<String> = ["link::x".to_string()].into();
        let c = config_toml(&set);
        let v: toml::Value = toml::from_str(&c).unwrap();
        assert_eq!(
            v["settings"]["expected_failures"][0].as_str(),
            Some("link::x")
        );
    }
}
