//! The report's faces: the matrix for a terminal, JSON, JUnit XML for CI systems, and a
//! Markdown summary for the README.

use crate::runner::{Outcome, Report};
use std::fmt::Write as _;

fn cell(o: &Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail(_) => "FAIL",
        Outcome::NotApplicable(_) => "n/a",
        Outcome::Divergence { .. } => "divergence",
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The matrix (case × target) followed by the details of every FAIL and divergence, the n/a
/// reasons when `verbose`, and one summary line per target.
pub fn matrix(r: &Report, verbose: bool) -> String {
    let mut out = String::new();
    let title_w = 58;
    let widths: Vec<usize> = r
        .targets
        .iter()
        .map(|t| t.name.chars().count().max(10))
        .collect();
    let _ = write!(out, "{:<5} {:<title_w$}", "case", "title");
    for (t, w) in r.targets.iter().zip(&widths) {
        let _ = write!(out, "  {:<w$}", t.name);
    }
    out.push('\n');
    for (case, row) in r.cases.iter().zip(&r.results) {
        let _ = write!(
            out,
            "{:<5} {:<title_w$}",
            case.id,
            truncate(case.title, title_w)
        );
        for (o, w) in row.iter().zip(&widths) {
            let _ = write!(out, "  {:<w$}", cell(o));
        }
        out.push('\n');
    }
    let mut details = String::new();
    for (case, row) in r.cases.iter().zip(&r.results) {
        for (o, t) in row.iter().zip(&r.targets) {
            let show = match o {
                Outcome::Pass => false,
                Outcome::Fail(_) | Outcome::Divergence { .. } => true,
                Outcome::NotApplicable(_) => verbose,
            };
            if show {
                let _ = writeln!(
                    details,
                    "{} on {}: {}: {}",
                    case.id,
                    t.name,
                    cell(o),
                    o.detail()
                );
            }
        }
    }
    if !details.is_empty() {
        out.push('\n');
        out.push_str(&details);
    }
    out.push('\n');
    for (i, t) in r.targets.iter().enumerate() {
        let (p, f, n, d) = r.counts(i);
        let _ = writeln!(
            out,
            "{}: {p} pass, {f} FAIL, {n} n/a, {d} divergence{}",
            t.name,
            t.error
                .as_ref()
                .map(|e| format!(" (target error: {e})"))
                .unwrap_or_default()
        );
    }
    out
}

/// `{"targets": [...], "cases": [{"id", "title", "source", "rule", "expected", "results":
/// {TARGET: "pass"|"fail"|"n/a"|"divergence"}, "details": {TARGET: text}}]}`.
pub fn json(r: &Report) -> String {
    let cases: Vec<serde_json::Value> = r
        .cases
        .iter()
        .zip(&r.results)
        .map(|(case, row)| {
            let mut results = serde_json::Map::new();
            let mut details = serde_json::Map::new();
            for (o, t) in row.iter().zip(&r.targets) {
                results.insert(t.name.clone(), o.word().into());
                if !matches!(o, Outcome::Pass) {
                    details.insert(t.name.clone(), o.detail().into());
                }
            }
            serde_json::json!({
                "id": case.id,
                "title": case.title,
                "source": case.source,
                "rule": case.rule.title(),
                "expected": case.expected,
                "results": results,
                "details": details,
            })
        })
        .collect();
    let targets: Vec<serde_json::Value> = r.targets.iter().map(|t| t.name.clone().into()).collect();
    let v = serde_json::json!({ "targets": targets, "cases": cases });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one `<testsuite>` per target; FAIL is a `<failure>`, n/a is `<skipped>` with
/// its reason, a divergence passes with its evidence in `<system-out>`.
pub fn junit(r: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total_fail: usize = (0..r.targets.len()).map(|t| r.counts(t).1).sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"ntlinkfs conformance\" tests=\"{}\" failures=\"{total_fail}\">",
        r.cases.len() * r.targets.len()
    );
    for (t, col) in r.targets.iter().enumerate() {
        let (_, f, n, _) = r.counts(t);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" skipped=\"{n}\" errors=\"{}\">",
            xml_escape(&col.name),
            r.cases.len(),
            usize::from(col.error.is_some())
        );
        for (case, row) in r.cases.iter().zip(&r.results) {
            let _ = write!(
                out,
                "    <testcase classname=\"conformance.{}\" name=\"{} {}\"",
                xml_escape(&col.name),
                case.id,
                xml_escape(case.title)
            );
            match &row[t] {
                Outcome::Pass => out.push_str("/>\n"),
                Outcome::Fail(m) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\">{}\nexpected: {}\nsource: {}</failure>\n    </testcase>",
                        xml_escape(&truncate(m, 200)),
                        xml_escape(m),
                        xml_escape(case.expected),
                        xml_escape(case.source)
                    );
                }
                Outcome::NotApplicable(why) => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"n/a: {}\"/>\n    </testcase>",
                        xml_escape(why)
                    );
                }
                d @ Outcome::Divergence { .. } => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>divergence: {}</system-out>\n    </testcase>",
                        xml_escape(&d.detail())
                    );
                }
            }
        }
        if let Some(e) = &col.error {
            let _ = writeln!(
                out,
                "    <testcase classname=\"conformance.{0}\" name=\"target {0}\">\n      <error message=\"{1}\"/>\n    </testcase>",
                xml_escape(&col.name),
                xml_escape(e)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// A Markdown summary for the README: counts per target and rule, then every case that is not
/// a pass everywhere, with what was seen.
pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} cases × {} targets (`pass` = same outcome as NTFS on Windows; `n/a` = the target cannot express the case; `divergence` = a recorded, observed difference of that target from Windows).\n",
        r.cases.len(),
        r.targets.len()
    );
    out.push_str("| target | pass | FAIL | n/a | divergence |\n|---|---:|---:|---:|---:|\n");
    for (i, t) in r.targets.iter().enumerate() {
        let (p, f, n, d) = r.counts(i);
        let _ = writeln!(out, "| {} | {p} | {f} | {n} | {d} |", t.name);
    }
    out.push('\n');
    // One row per rule, in rule order (a module's cases may check several rules).
    let mut rules: Vec<_> = r.cases.iter().map(|c| c.rule).collect();
    rules.sort();
    rules.dedup();
    out.push_str("| rule | cases |");
    for t in &r.targets {
        let _ = write!(out, " {} |", t.name);
    }
    out.push_str("\n|---|---:|");
    for _ in &r.targets {
        out.push_str("---|");
    }
    out.push('\n');
    for rule in rules {
        let rows: Vec<usize> = (0..r.cases.len())
            .filter(|&i| r.cases[i].rule == rule)
            .collect();
        let _ = write!(out, "| {} | {} |", rule.title(), rows.len());
        for t in 0..r.targets.len() {
            let pass = rows
                .iter()
                .filter(|&&i| r.results[i][t] == Outcome::Pass)
                .count();
            let fail = rows
                .iter()
                .filter(|&&i| matches!(r.results[i][t], Outcome::Fail(_)))
                .count();
            let na = rows
                .iter()
                .filter(|&&i| matches!(r.results[i][t], Outcome::NotApplicable(_)))
                .count();
            let div = rows.len() - pass - fail - na;
            let _ = write!(out, " {pass} pass");
            for (n, w) in [(fail, "FAIL"), (na, "n/a"), (div, "divergence")] {
                if n > 0 {
                    let _ = write!(out, ", {n} {w}");
                }
            }
            out.push_str(" |");
        }
        out.push('\n');
    }
    let notable: Vec<usize> = (0..r.cases.len())
        .filter(|&i| {
            r.results[i]
                .iter()
                .any(|o| matches!(o, Outcome::Fail(_) | Outcome::Divergence { .. }))
        })
        .collect();
    if !notable.is_empty() {
        out.push_str("\nCases where a target differs from Windows:\n\n| case | title |");
        for t in &r.targets {
            let _ = write!(out, " {} |", t.name);
        }
        out.push_str("\n|---|---|");
        for _ in &r.targets {
            out.push_str("---|");
        }
        out.push('\n');
        for i in notable {
            let c = &r.cases[i];
            let _ = write!(out, "| {} | {} |", c.id, c.title.replace('|', "\\|"));
            for o in &r.results[i] {
                let _ = write!(out, " {} |", cell(o));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::TargetColumn;
    use crate::target::Flavor;

    fn sample() -> Report {
        let cases: Vec<_> = crate::all_cases().into_iter().take(3).collect();
        Report {
            targets: vec![
                TargetColumn {
                    name: "core".into(),
                    flavor: Flavor::Core,
                    error: None,
                },
                TargetColumn {
                    name: "ntfs-3g".into(),
                    flavor: Flavor::Ntfs3g,
                    error: None,
                },
            ],
            results: vec![
                vec![
                    Outcome::Pass,
                    Outcome::NotApplicable("no <share> & \"modes\"".into()),
                ],
                vec![
                    Outcome::Fail("expected X, got \u{1}Y".into()),
                    Outcome::Divergence {
                        observed: "got success".into(),
                        evidence: "seen".into(),
                    },
                ],
                vec![Outcome::Pass, Outcome::Pass],
            ],
            cases,
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let r = sample();
        let v: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(v["targets"], serde_json::json!(["core", "ntfs-3g"]));
        let c = &v["cases"][1];
        assert_eq!(c["id"], r.cases[1].id);
        assert_eq!(c["title"], r.cases[1].title);
        assert_eq!(c["source"], r.cases[1].source);
        assert_eq!(c["results"]["core"], "fail");
        assert_eq!(c["results"]["ntfs-3g"], "divergence");
        assert_eq!(v["cases"][0]["results"]["ntfs-3g"], "n/a");
        assert_eq!(v["cases"][2]["results"]["core"], "pass");
    }

    #[test]
    fn junit_escapes_and_counts() {
        let x = junit(&sample());
        assert!(x.contains("no &lt;share&gt; &amp; &quot;modes&quot;"));
        assert!(!x.contains('\u{1}'));
        assert!(x.contains("<testsuite name=\"core\" tests=\"3\" failures=\"1\" skipped=\"0\""));
        assert!(x.contains("<testsuite name=\"ntfs-3g\" tests=\"3\" failures=\"0\" skipped=\"1\""));
        assert_eq!(x.matches("<failure").count(), 1);
    }

    #[test]
    fn matrix_and_markdown_show_every_outcome() {
        let r = sample();
        let m = matrix(&r, true);
        for w in ["pass", "FAIL", "n/a", "divergence"] {
            assert!(m.contains(w), "{w}");
        }
        assert!(m.contains("core: 2 pass, 1 FAIL, 0 n/a, 0 divergence"));
        let md = markdown(&r);
        assert!(md.contains("| core | 2 | 1 | 0 | 0 |"));
        assert!(md.contains("| ntfs-3g | 1 | 0 | 1 | 1 |"));
    }
}
