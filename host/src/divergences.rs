//! The one registry of known divergences of ntfs-3g from Windows' NTFS (`host/divergences.toml`),
//! read by the conformance suite (a case's failure on ntfs-3g that matches a recorded
//! signature is a *divergence*, not a FAIL), by the differential fuzzer (a difference its
//! matcher recognises is counted under the entry's id) and by the benchmark (the workarounds
//! of its ntfs-3g target name their entries, and each target reports which it relied on). The
//! file's header describes the fields; this module parses and checks them.

use crate::{err, Result};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Where the registry lives in the source tree (the fuzzer's default `--known`).
pub const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/divergences.toml");

/// The registry as built into this binary.
pub const TEXT: &str = include_str!("../divergences.toml");

/// The parsed file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// The entries, in file order (the fuzzer tries matchers in this order).
    pub divergence: Vec<Divergence>,
}

/// One known divergence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    /// Stable id, used in reports.
    pub id: String,
    /// One line.
    pub title: String,
    /// What NTFS (Windows) does, with its source.
    pub ntfs: String,
    /// What ntfs-3g does, and the evidence.
    pub ntfs_3g: String,
    /// Conformance cases whose failure on ntfs-3g this is.
    #[serde(default)]
    pub case: Vec<CaseSignature>,
    /// The fuzzer's matcher that recognises it (see reliability's `difffuzz::known`).
    #[serde(default)]
    pub matcher: Option<String>,
    /// Operations that show it, in the fuzzer's `--replay` text form.
    #[serde(default)]
    pub probe: Vec<String>,
    /// ntlinkfs's outcome of each probe operation.
    #[serde(default)]
    pub ntlinkfs_outcomes: Vec<String>,
    /// ntfs-3g's outcome of each probe operation.
    #[serde(default)]
    pub ntfs_3g_outcomes: Vec<String>,
}

/// How a conformance case's failure is recognised as this divergence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSignature {
    /// The case id (`H10`, `J03`, ...).
    pub case: String,
    /// Text the failure message must contain.
    pub signature: String,
    /// What the case observed on ntfs-3g, shown in the report.
    pub evidence: String,
}

impl Registry {
    /// Parses and checks a registry: ids are unique, every entry says what NTFS and ntfs-3g
    /// do and is read by at least one tool, a fuzzer entry has one outcome per probe operation
    /// on each side, and a case is named by at most one entry.
    pub fn parse(text: &str) -> Result<Registry> {
        let r: Registry = toml::from_str(text).map_err(|e| err!("{e}"))?;
        let mut ids = BTreeSet::new();
        let mut cases = BTreeSet::new();
        for d in &r.divergence {
            if !ids.insert(d.id.as_str()) {
                return Err(err!("divergence `{}` is listed twice", d.id));
            }
            if d.ntfs.trim().is_empty() || d.ntfs_3g.trim().is_empty() {
                return Err(err!(
                    "divergence `{}` needs its NTFS rule and its ntfs-3g evidence",
                    d.id
                ));
            }
            if d.case.is_empty() && d.matcher.is_none() {
                return Err(err!(
                    "divergence `{}` has neither a conformance case nor a fuzzer matcher",
                    d.id
                ));
            }
            match &d.matcher {
                Some(_) => {
                    if d.probe.is_empty()
                        || d.ntlinkfs_outcomes.len() != d.probe.len()
                        || d.ntfs_3g_outcomes.len() != d.probe.len()
                    {
                        return Err(err!(
                            "divergence `{}`: a probe, and one outcome per probe operation on each side",
                            d.id
                        ));
                    }
                }
                None => {
                    if !d.probe.is_empty()
                        || !d.ntlinkfs_outcomes.is_empty()
                        || !d.ntfs_3g_outcomes.is_empty()
                    {
                        return Err(err!("divergence `{}` has a probe but no matcher", d.id));
                    }
                }
            }
            for c in &d.case {
                if c.signature.is_empty() || c.evidence.trim().is_empty() {
                    return Err(err!(
                        "divergence `{}`: case {} needs a signature and its evidence",
                        d.id,
                        c.case
                    ));
                }
                if !cases.insert(c.case.as_str()) {
                    return Err(err!(
                        "case {} is named by two divergences (or twice)",
                        c.case
                    ));
                }
            }
        }
        Ok(r)
    }

    /// The entries the fuzzer reads (those with a matcher), in file order.
    pub fn fuzzer_entries(&self) -> impl Iterator<Item = &Divergence> {
        self.divergence.iter().filter(|d| d.matcher.is_some())
    }

    /// The recorded divergences of conformance case `case_id`, with their entry.
    pub fn for_case<'a>(
        &'a self,
        case_id: &'a str,
    ) -> impl Iterator<Item = (&'a Divergence, &'a CaseSignature)> + 'a {
        self.divergence
            .iter()
            .flat_map(|d| d.case.iter().map(move |c| (d, c)))
            .filter(move |(_, c)| c.case == case_id)
    }

    /// Every conformance case id the registry names.
    pub fn case_ids(&self) -> impl Iterator<Item = &str> {
        self.divergence
            .iter()
            .flat_map(|d| d.case.iter().map(|c| c.case.as_str()))
    }
}

/// The registry built into this binary ([`TEXT`]), parsed once.
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        // The text is compiled in and checked by this crate's tests; a broken file cannot ship.
        Registry::parse(TEXT).unwrap_or_else(|e| panic!("host/divergences.toml: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_registry_is_valid() {
        let r = Registry::parse(TEXT).unwrap();
        assert!(r.fuzzer_entries().count() >= 10);
        assert!(r.case_ids().count() >= 10);
        assert_eq!(std::fs::read_to_string(PATH).unwrap(), TEXT);
    }

    #[test]
    fn case_lookup_finds_its_signature() {
        let r = registry();
        let found: Vec<_> = r.for_case("H10").collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.id, "link-limit-1024");
        assert_eq!(found[0].1.signature, "got success");
        assert_eq!(r.for_case("no-such-case").count(), 0);
    }

    const ENTRY: &str = r#"
[[divergence]]
id = "x"
title = "t"
ntfs = "n"
ntfs_3g = "m"
"#;

    #[test]
    fn an_entry_no_tool_reads_is_refused() {
        let e = Registry::parse(ENTRY).unwrap_err();
        assert!(e.message().contains("neither"), "{e}");
    }

    #[test]
    fn broken_entries_are_refused() {
        let probe_without_outcomes = format!("{ENTRY}matcher = \"m\"\nprobe = [\"create a\"]\n");
        assert!(Registry::parse(&probe_without_outcomes).is_err());
        let twice = format!(
            "{ENTRY}[[divergence.case]]\ncase = \"A\"\nsignature = \"s\"\nevidence = \"e\"\n{}",
            ENTRY.replace("\"x\"", "\"y\"")
                + "[[divergence.case]]\ncase = \"A\"\nsignature = \"s\"\nevidence = \"e\"\n"
        );
        assert!(Registry::parse(&twice)
            .unwrap_err()
            .message()
            .contains("case A"));
        let dup = format!(
            "{ENTRY}[[divergence.case]]\ncase = \"A\"\nsignature = \"s\"\nevidence = \"e\"\n{ENTRY}"
        );
        assert!(Registry::parse(&dup)
            .unwrap_err()
            .message()
            .contains("twice"));
        assert!(Registry::parse("[[divergence]]\nid = 1\n").is_err());
    }
}
