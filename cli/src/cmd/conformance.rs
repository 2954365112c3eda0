//! `ntlinkfs conformance`: runs the conformance suite and prints the case × target matrix.

use conformance::{report, select_cases, Outcome, Progress, Target, TargetSpec};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Run the NTFS conformance suite against the engine, a FUSE mount, real NTFS (ntfs-3g) or any
/// mounted directory.
#[derive(clap::Args, Debug)]
pub struct ConformanceArgs {
    /// Targets, comma-separated: core, fuse, ntfs-3g, posix:DIR, win32:DIR (Windows).
    #[arg(long, default_value = "core")]
    pub target: String,
    /// Cases to run: ids or prefixes, `*`/`?` wildcards, comma-separated (`H*,J0?`).
    #[arg(long = "case")]
    pub case: Option<String>,
    /// Write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write JUnit XML to FILE (for CI systems).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary to FILE (for the README).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// List the cases (id, rule, title, source, expected outcome) and exit.
    #[arg(long)]
    pub list: bool,
    /// Also print the reason of every n/a.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Exit status: 0 when no ntlinkfs target (core, fuse, posix on an ntlinkfs mount) failed a
/// case, 1 when one did, 2 when a target could not be set up.
pub fn run(a: ConformanceArgs) -> anyhow::Result<i32> {
    let cases = select_cases(a.case.as_deref());
    if cases.is_empty() {
        anyhow::bail!("no case matches {:?}", a.case.unwrap_or_default());
    }
    if a.list {
        for c in &cases {
            println!(
                "{}  [{}] {}\n      source:   {}\n      expected: {}",
                c.id,
                c.rule.title(),
                c.title,
                c.source,
                c.expected
            );
        }
        return Ok(0);
    }
    let specs = TargetSpec::parse_list(&a.target).map_err(anyhow::Error::msg)?;
    let mut targets: Vec<Box<dyn Target>> = Vec::new();
    for spec in &specs {
        eprintln!("conformance: setting up {spec}");
        match spec.open() {
            Ok(t) => targets.push(t),
            Err(e) => {
                // Already-open targets unmount when dropped.
                eprintln!("conformance: cannot set up {spec}: {e}");
                return Ok(2);
            }
        }
    }
    let tty = std::io::stderr().is_terminal();
    let report = conformance::run(&cases, &mut targets, |p| progress(p, tty));
    drop(targets);
    print!("{}", report::matrix(&report, a.verbose));
    if let Some(path) = &a.json {
        std::fs::write(path, report::json(&report))?;
    }
    if let Some(path) = &a.junit {
        std::fs::write(path, report::junit(&report))?;
    }
    if let Some(path) = &a.markdown {
        std::fs::write(path, report::markdown(&report))?;
    }
    Ok(if report.ntlinkfs_failed() { 1 } else { 0 })
}

fn progress(p: Progress<'_>, tty: bool) {
    let mut err = std::io::stderr().lock();
    match p {
        Progress::TargetStart { target, cases } => {
            let _ = writeln!(err, "conformance: {target}: {cases} cases");
        }
        Progress::CaseDone {
            target,
            index,
            of,
            case,
            outcome,
        } => {
            let word = match outcome {
                Outcome::Fail(_) => "FAIL",
                o => o.word(),
            };
            if tty {
                let _ = write!(err, "\r\x1b[K{target} {index}/{of} {} {word}", case.id);
            } else if index % 20 == 0 || index == of || matches!(outcome, Outcome::Fail(_)) {
                let _ = writeln!(
                    err,
                    "conformance: {target} {index}/{of} ({} {word})",
                    case.id
                );
            }
        }
        Progress::TargetDone { target } => {
            if tty {
                let _ = write!(err, "\r\x1b[K");
            }
            let _ = writeln!(err, "conformance: {target}: done");
        }
    }
}
