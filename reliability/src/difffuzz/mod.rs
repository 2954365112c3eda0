//! Differential fuzzing: the same random operation sequences on an ntlinkfs mount and on
//! ntfs-3g (real NTFS code on an mkntfs image); every difference in outcome is either a listed
//! known divergence or a finding.
//!
//! Each sequence runs in a fresh directory `sN` on both mounts. At the first difference the
//! sequence stops (the two states may differ from then on); a sequence that ends without one
//! also compares the final trees. A finding is shrunk to a shorter sequence that still shows it
//! and printed in the text form `--replay` reads.

pub mod exec;
pub mod gen;
pub mod known;
pub mod op;

use exec::{outcome_text, Outcome, Side};
use gen::{Gen, GenConfig};
use known::{Ctx, KnownList};
use op::Op;
use std::collections::BTreeMap;

/// Settings of a fuzzing run.
#[derive(Debug, Clone)]
pub struct FuzzConfig {
    /// Seed of the whole run (sequence N uses seed + N).
    pub seed: u64,
    /// Stop after this many operations.
    pub ops: u64,
    /// Operations per sequence at most.
    pub seq_len: usize,
    /// One sequence in this many uses case variants of names.
    pub case_every: u64,
    /// Probability of a name NTFS or Win32 refuses.
    pub odd_name_rate: f64,
    /// Shrink findings.
    pub minimize: bool,
    /// Stop after this many findings.
    pub max_findings: usize,
}

/// A difference that no listed divergence explains.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The operations, the differing one last (or the whole sequence for a state difference).
    pub ops: Vec<Op>,
    /// "op" or "state".
    pub what: &'static str,
    /// ntlinkfs's side.
    pub ntlinkfs: String,
    /// ntfs-3g's side.
    pub ntfs3g: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "# {} difference after {} operations",
            self.what,
            self.ops.len()
        )?;
        writeln!(f, "# ntlinkfs: {}", self.ntlinkfs)?;
        writeln!(f, "# ntfs-3g:  {}", self.ntfs3g)?;
        for op in &self.ops {
            writeln!(f, "{op}")?;
        }
        Ok(())
    }
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Operations run (on each mount).
    pub ops: u64,
    /// Sequences run.
    pub sequences: u64,
    /// Sequences that ended on a known divergence, by id.
    pub known: BTreeMap<String, u64>,
    /// Differences no listed divergence explains.
    pub findings: Vec<Finding>,
    /// Sequence directories that could not be removed, by mount.
    pub cleanup_errors: Vec<String>,
    /// Operations by verb.
    pub by_verb: BTreeMap<&'static str, u64>,
    /// Operations that failed (same errno on both mounts), by errno name.
    pub errors: BTreeMap<String, u64>,
}

enum SeqEnd {
    Clean,
    Known(String),
    Unknown(Finding),
}

/// The two mounts and the divergence list.
pub struct Fuzzer<'a> {
    /// The ntlinkfs mount.
    pub a: Side,
    /// The ntfs-3g mount.
    pub b: Side,
    known: &'a KnownList,
    next_seq: u64,
}

impl<'a> Fuzzer<'a> {
    /// A fuzzer over two mounted sides.
    pub fn new(a: Side, b: Side, known: &'a KnownList) -> Fuzzer<'a> {
        Fuzzer {
            a,
            b,
            known,
            next_seq: 0,
        }
    }

    fn fresh_seq(&mut self) -> Result<String, String> {
        let seq = format!("s{}", self.next_seq);
        self.next_seq += 1;
        for side in [&mut self.a, &mut self.b] {
            side.begin_seq(&seq)
                .map_err(|e| format!("{}: {e}", side.name))?;
        }
        Ok(seq)
    }

    fn cleanup(&mut self, seq: &str, report: &mut Report) {
        for side in [&mut self.a, &mut self.b] {
            if let Err(e) = side.remove_seq(seq) {
                report.cleanup_errors.push(format!("{}: {e}", side.name));
            }
        }
    }

    /// Runs one sequence: generated (`gen`) or fixed (`fixed`), at most `max` operations.
    fn run_seq(
        &mut self,
        seq: &str,
        mut gen: Option<&mut Gen>,
        fixed: &[Op],
        max: usize,
        report: &mut Report,
    ) -> (Vec<Op>, SeqEnd) {
        let mut ops: Vec<Op> = Vec::new();
        let mut hidden = false;
        for i in 0..max {
            let op = match gen.as_deref_mut() {
                Some(g) => g.op(),
                None => match fixed.get(i) {
                    Some(op) => op.clone(),
                    None => break,
                },
            };
            let ra = self.a.run(seq, &op);
            let rb = self.b.run(seq, &op);
            ops.push(op.clone());
            if matches!(op, Op::Unlink(_) | Op::Rename(..)) && self.b.any_open() {
                hidden |= self.b.has_hidden_files(seq);
            }
            report.ops += 1;
            *report.by_verb.entry(op.verb()).or_default() += 1;
            if ra != rb {
                let uncached = self.b.reread_uncached(seq, &op);
                let c = Ctx {
                    ops: &ops,
                    ntlinkfs: &ra,
                    ntfs3g: &rb,
                    ntfs3g_uncached: uncached.as_ref(),
                    ntfs3g_unresolved_junction: self.b.has_unresolved_junction(seq),
                    ntfs3g_hidden_files: hidden || self.b.has_hidden_files(seq),
                };
                return match self.known.classify(&c) {
                    Some(k) => (ops, SeqEnd::Known(k.id.clone())),
                    None => (
                        ops.clone(),
                        SeqEnd::Unknown(Finding {
                            ops,
                            what: "op",
                            ntlinkfs: outcome_text(&ra),
                            ntfs3g: outcome_text(&rb),
                        }),
                    ),
                };
            }
            if let Err(e) = &rb {
                *report.errors.entry(exec::failure_text(e)).or_default() += 1;
            }
            if let Some(g) = gen.as_deref_mut() {
                g.observe(&op, rb.is_ok());
                if rb.is_ok() && changes_names(&op) {
                    g.set_existing(self.b.paths(seq));
                }
            }
        }
        let sa = self.a.snapshot(seq);
        let sb = self.b.snapshot(seq);
        if sa != sb {
            let hidden = hidden || self.b.has_hidden_files(seq);
            let unresolved = self.b.has_unresolved_junction(seq);
            if let Some(k) = self.known.classify_state(&ops, hidden, unresolved) {
                return (ops, SeqEnd::Known(k.id.clone()));
            }
            let (la, lb) = first_difference(&sa, &sb);
            return (
                ops.clone(),
                SeqEnd::Unknown(Finding {
                    ops,
                    what: "state",
                    ntlinkfs: la,
                    ntfs3g: lb,
                }),
            );
        }
        (ops, SeqEnd::Clean)
    }

    /// The fuzzing run. `progress` is called after each sequence with the report so far.
    pub fn fuzz(&mut self, cfg: &FuzzConfig, mut progress: impl FnMut(&Report)) -> Report {
        let mut report = Report::default();
        let mut n: u64 = 0;
        while report.ops < cfg.ops && report.findings.len() < cfg.max_findings {
            let seq = match self.fresh_seq() {
                Ok(s) => s,
                Err(e) => {
                    report.cleanup_errors.push(e);
                    break;
                }
            };
            let gcfg = GenConfig {
                case_variants: cfg.case_every > 0 && n % cfg.case_every == cfg.case_every - 1,
                odd_name_rate: cfg.odd_name_rate,
            };
            let mut g = Gen::new(cfg.seed.wrapping_add(n), gcfg);
            let left = (cfg.ops - report.ops).min(cfg.seq_len as u64) as usize;
            let (ops, end) = self.run_seq(&seq, Some(&mut g), &[], left, &mut report);
            let before = report.cleanup_errors.len();
            self.cleanup(&seq, &mut report);
            for e in &mut report.cleanup_errors[before..] {
                let text: Vec<String> = ops.iter().map(|o| o.to_string()).collect();
                e.push_str(&format!(" after: {}", text.join("; ")));
            }
            report.sequences += 1;
            n += 1;
            match end {
                SeqEnd::Clean => {}
                SeqEnd::Known(id) => *report.known.entry(id).or_default() += 1,
                SeqEnd::Unknown(f) => {
                    let f = if cfg.minimize { self.minimize(f) } else { f };
                    report.findings.push(f);
                }
            }
            progress(&report);
        }
        report
    }

    /// Runs fixed operations in a fresh sequence; the finding they end on, if any.
    pub fn reproduce(&mut self, ops: &[Op]) -> Option<Finding> {
        let mut scratch = Report::default();
        let seq = self.fresh_seq().ok()?;
        let (_, end) = self.run_seq(&seq, None, ops, ops.len(), &mut scratch);
        self.cleanup(&seq, &mut scratch);
        match end {
            SeqEnd::Unknown(f) => Some(f),
            _ => None,
        }
    }

    /// Shrinks a finding greedily: drops each operation in turn and keeps the drop when a
    /// difference of the same kind still shows (at most a few hundred replays).
    pub fn minimize(&mut self, f: Finding) -> Finding {
        let mut best = f;
        let mut budget = 300;
        let mut i = best.ops.len();
        while i > 0 && budget > 0 {
            i -= 1;
            if best.ops.len() <= 1 {
                break;
            }
            let mut trial = best.ops.clone();
            trial.remove(i);
            budget -= 1;
            if let Some(g) = self.reproduce(&trial) {
                if g.what == best.what {
                    best = g;
                    i = i.min(best.ops.len());
                }
            }
        }
        best
    }

    /// Runs fixed operations in a fresh sequence without stopping at differences; both
    /// outcomes of each.
    pub fn run_all(&mut self, ops: &[Op]) -> Result<Vec<(Outcome, Outcome)>, String> {
        let seq = self.fresh_seq()?;
        let out = ops
            .iter()
            .map(|op| (self.a.run(&seq, op), self.b.run(&seq, op)))
            .collect();
        let mut scratch = Report::default();
        self.cleanup(&seq, &mut scratch);
        Ok(out)
    }

    /// Runs every listed divergence's probe and checks both mounts still give the listed
    /// outcomes; returns one line per entry that no longer holds.
    pub fn check_known(&mut self) -> Vec<String> {
        let mut bad = Vec::new();
        let known = self.known;
        for k in &known.divergence {
            let ops: Vec<Op> = k.probe.iter().filter_map(|l| l.parse().ok()).collect();
            match self.run_all(&ops) {
                Err(e) => bad.push(format!("{}: {e}", k.id)),
                Ok(outs) => {
                    for (i, (ra, rb)) in outs.iter().enumerate() {
                        let (ta, tb) = (outcome_text(ra), outcome_text(rb));
                        if ta != k.ntlinkfs_outcomes[i] || tb != k.ntfs_3g_outcomes[i] {
                            bad.push(format!(
                                "{}: probe `{}` gave ntlinkfs {ta} / ntfs-3g {tb}, the list says {} / {}",
                                k.id, ops[i], k.ntlinkfs_outcomes[i], k.ntfs_3g_outcomes[i]
                            ));
                        }
                    }
                }
            }
        }
        bad
    }
}

/// Operations after whose success the generator re-reads what exists.
fn changes_names(op: &Op) -> bool {
    matches!(
        op,
        Op::Create(_)
            | Op::Mkdir(_)
            | Op::Link(..)
            | Op::Unlink(_)
            | Op::Rmdir(_)
            | Op::Rename(..)
            | Op::Symlink(..)
            | Op::Junction(..)
            | Op::Unreparse(_)
            | Op::LinkMany(..)
    )
}

/// The first line where two sorted snapshots differ (a line only one side has).
fn first_difference(a: &[String], b: &[String]) -> (String, String) {
    let only_a = a.iter().find(|l| !b.contains(l));
    let only_b = b.iter().find(|l| !a.contains(l));
    (
        only_a.cloned().unwrap_or_else(|| "(nothing more)".into()),
        only_b.cloned().unwrap_or_else(|| "(nothing more)".into()),
    )
}
