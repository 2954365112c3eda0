//! The known divergences between ntlinkfs and ntfs-3g, as the fuzzer reads them from the one
//! registry (`host/divergences.toml`, [`host::divergences`], shared with the conformance
//! suite): each entry says what NTFS does and why ntfs-3g differs; the entries the fuzzer reads
//! give a probe (an operation sequence that shows it, with both mounts' outcomes) and name the
//! matcher that recognises it in a fuzzing run. The matchers are code; the list is data: an
//! entry whose matcher does not exist is an error, and a matcher no entry names is unused.

use super::exec::{is_errno, outcome_text, Outcome};
use super::op::Op;
use crate::sys::RenameMode;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// The registry's entries the fuzzer reads (those with a matcher), in file order.
#[derive(Debug)]
pub struct KnownList {
    /// The entries.
    pub divergence: Vec<Known>,
}

/// One known divergence, as the fuzzer reads it.
#[derive(Debug, Clone)]
pub struct Known {
    /// Stable id, used in reports.
    pub id: String,
    /// One line.
    pub title: String,
    /// What NTFS (Windows) does, with its source.
    pub ntfs: String,
    /// What ntfs-3g does and the evidence.
    pub ntfs_3g: String,
    /// Which matcher recognises it (see [`MATCHERS`]).
    pub matcher: String,
    /// Operations that show it, in the `--replay` text form.
    pub probe: Vec<String>,
    /// ntlinkfs's outcome of each probe operation.
    pub ntlinkfs_outcomes: Vec<String>,
    /// ntfs-3g's outcome of each probe operation.
    pub ntfs_3g_outcomes: Vec<String>,
}

/// What a matcher sees: the sequence so far (the differing operation last) and both outcomes
/// of that operation.
pub struct Ctx<'a> {
    /// Operations of the sequence up to and including the one that differed.
    pub ops: &'a [Op],
    /// ntlinkfs's outcome.
    pub ntlinkfs: &'a Outcome,
    /// ntfs-3g's outcome.
    pub ntfs3g: &'a Outcome,
    /// For a read: ntfs-3g's outcome of the same read after its cached pages were dropped.
    pub ntfs3g_uncached: Option<&'a Outcome>,
    /// ntfs-3g shows some junction of the sequence as a link into `MOUNT/.NTFS-3G/` (its
    /// target is missing or not a directory), and does not follow it.
    pub ntfs3g_unresolved_junction: bool,
    /// ntfs-3g held libfuse hidden files (`.fuse_hidden*`: open files whose name was unlinked
    /// or replaced) below the sequence directory at some point of the sequence.
    pub ntfs3g_hidden_files: bool,
}

impl Ctx<'_> {
    fn op(&self) -> Option<&Op> {
        self.ops.last()
    }
}

type Matcher = fn(&Ctx) -> bool;

/// The matchers by name.
pub const MATCHERS: &[(&str, Matcher)] = &[
    ("case-variant", case_variant),
    ("link-limit", link_limit),
    ("junction-on-non-empty-directory", junction_non_empty),
    ("rename-flags", rename_flags),
    ("win32-only-name", win32_only_name),
    ("invalid-name-lookup", invalid_name_lookup),
    ("junction-on-file", junction_on_file),
    ("symlink-not-reparse-point", symlink_not_reparse_point),
    ("hard-link-to-junction", hard_link_to_junction),
    ("unlinked-open-file-nlink", unlinked_open_file_nlink),
    ("stale-page-cache", stale_page_cache),
    ("rename-over-junction", rename_over_junction),
    ("ntfs3g-unresolved-junction", ntfs3g_unresolved_junction),
    ("ntfs3g-hidden-files", ntfs3g_hidden_files),
    (
        "symlink-drive-relative-target",
        symlink_drive_relative_target,
    ),
    (
        "rename-directory-with-open-files",
        rename_directory_with_open_files,
    ),
];

fn has_upper(p: &str) -> bool {
    p.bytes().any(|b| b.is_ascii_uppercase())
}

/// A name in another case was used in this sequence: from then on the two mounts may hold
/// different files (NTFS: one file; ntfs-3g's POSIX namespace: two).
fn case_variant(c: &Ctx) -> bool {
    c.ops
        .iter()
        .any(|op| op.paths().iter().any(|p| has_upper(p)))
}

/// ntlinkfs refused a name past the 1024th (EMLINK); ntfs-3g made it.
fn link_limit(c: &Ctx) -> bool {
    matches!(c.op(), Some(Op::Link(..)) | Some(Op::LinkMany(..)))
        && outcome_text(c.ntlinkfs).contains("EMLINK")
}

/// ntlinkfs refused a junction on a non-empty directory (ENOTEMPTY); ntfs-3g set it.
fn junction_non_empty(c: &Ctx) -> bool {
    matches!(c.op(), Some(Op::Junction(..)))
        && is_errno(c.ntlinkfs, libc::ENOTEMPTY)
        && c.ntfs3g.is_ok()
}

/// renameat2 with RENAME_NOREPLACE or RENAME_EXCHANGE: ntfs-3g (FUSE 2 protocol) gets EINVAL
/// from the kernel.
fn rename_flags(c: &Ctx) -> bool {
    matches!(
        c.op(),
        Some(Op::Rename(
            _,
            _,
            RenameMode::NoReplace | RenameMode::Exchange
        ))
    ) && is_errno(c.ntfs3g, libc::EINVAL)
}

/// A name only Win32 refuses (DOS device name, trailing dot): ntfs-3g's windows_names refuses
/// it with EINVAL, NTFS through the NT API (which ntlinkfs models) accepts it.
fn win32_only_name(c: &Ctx) -> bool {
    let win32_only = |p: &str| {
        p.split('/')
            .any(|n| n.eq_ignore_ascii_case("con") || n.ends_with('.') || n.ends_with(' '))
    };
    is_errno(c.ntfs3g, libc::EINVAL)
        && c.op()
            .is_some_and(|op| op.paths().iter().any(|p| win32_only(p)))
}

/// A name with a character NTFS forbids (MS-FSCC 2.1.5.2) was used in this sequence, in a
/// path or a symlink target: ntlinkfs refuses the name wherever it meets it (EINVAL); ntfs-3g
/// only checks names it creates, so looking one up gives ENOENT (or the error of the next
/// check, e.g. EPERM for a hard link to a directory).
fn invalid_name_lookup(c: &Ctx) -> bool {
    let invalid = |p: &str| p.chars().any(|ch| ":*?\"<>|\\".contains(ch));
    is_errno(c.ntlinkfs, libc::EINVAL)
        && c.ntfs3g.is_err()
        && c.ops.iter().any(|op| op.paths().iter().any(|p| invalid(p)))
}

/// A junction set on a file: ntlinkfs answers ENOTDIR (STATUS_NOT_A_DIRECTORY), ntfs-3g
/// EINVAL.
fn junction_on_file(c: &Ctx) -> bool {
    matches!(c.op(), Some(Op::Junction(..)))
        && is_errno(c.ntlinkfs, libc::ENOTDIR)
        && is_errno(c.ntfs3g, libc::EINVAL)
}

/// The reparse data of a POSIX symlink: ntlinkfs made an NTFS symbolic link (a reparse point,
/// A4); ntfs-3g made a symlink without reparse data (ENODATA).
fn symlink_not_reparse_point(c: &Ctx) -> bool {
    matches!(c.op(), Some(Op::GetReparse(_)) | Some(Op::Unreparse(_)))
        && is_errno(c.ntfs3g, libc::ENODATA)
        && c.ops.iter().any(|op| matches!(op, Op::Symlink(..)))
}

/// A hard link to a junction or a directory symlink: ntlinkfs refuses it (both are
/// directories on NTFS, and hard links are for files only, A1) with EPERM, what link(2)
/// answers for a directory; ntfs-3g makes it.
fn hard_link_to_junction(c: &Ctx) -> bool {
    matches!(c.op(), Some(Op::Link(..)))
        && is_errno(c.ntlinkfs, libc::EPERM)
        && c.ntfs3g.is_ok()
        && c.ops
            .iter()
            .any(|op| matches!(op, Op::Junction(..) | Op::Symlink(..)))
}

/// fstat of an open file after one of its names was unlinked or replaced: ntlinkfs counts the
/// names left (0 when none: POSIX delete semantics, A2); ntfs-3g one more, because libfuse
/// hides the file under `.fuse_hidden*` instead of removing the name while it is open.
fn unlinked_open_file_nlink(c: &Ctx) -> bool {
    let nlink = |s: &str| -> Option<(u64, String)> {
        let rest = s.strip_prefix("file nlink=")?;
        let (n, tail) = rest.split_once(' ')?;
        Some((n.parse().ok()?, tail.to_string()))
    };
    match (c.op(), c.ntlinkfs, c.ntfs3g) {
        (Some(Op::FdStat(_)), Ok(a), Ok(b)) => match (nlink(a), nlink(b)) {
            (Some((na, ta)), Some((nb, tb))) => nb == na + 1 && ta == tb,
            _ => false,
        },
        _ => false,
    }
}

/// A read on ntfs-3g returned stale data that its file system no longer holds: the same read
/// with the file's cached pages dropped agrees with ntlinkfs. libfuse's high-level API gives
/// each name of a hard-linked file its own kernel inode, so a write through one name leaves
/// the other name's cached pages stale.
fn stale_page_cache(c: &Ctx) -> bool {
    matches!(c.op(), Some(Op::Read(_)) | Some(Op::FdRead(_)))
        && c.ntfs3g_uncached == Some(c.ntlinkfs)
        && c.ops
            .iter()
            .any(|op| matches!(op, Op::Link(..) | Op::LinkMany(..)))
}

/// rename(2) onto a junction or a directory symlink: ntlinkfs refuses (both are directories on
/// NTFS, and MoveFileEx with REPLACE_EXISTING over a directory → ERROR_ACCESS_DENIED, A6) with
/// EACCES; ntfs-3g replaces it like a symlink.
fn rename_over_junction(c: &Ctx) -> bool {
    matches!(c.op(), Some(Op::Rename(..)))
        && is_errno(c.ntlinkfs, libc::EACCES)
        && c.ntfs3g.is_ok()
        && c.ops
            .iter()
            .any(|op| matches!(op, Op::Junction(..) | Op::Symlink(..)))
}

/// rename(2) of a directory while a file below it is open: ntlinkfs refuses (A6: WinFsp
/// rename_test, FastFat FatSetRenameInfo) with EACCES, before any other check; ntfs-3g renames,
/// or answers what POSIX says about the target (ENOTEMPTY, ...).
fn rename_directory_with_open_files(c: &Ctx) -> bool {
    matches!(c.op(), Some(Op::Rename(..)))
        && is_errno(c.ntlinkfs, libc::EACCES)
        && !is_errno(c.ntfs3g, libc::EACCES)
        && c.ops.iter().any(|op| matches!(op, Op::Open(..)))
}

/// A junction whose target is missing or a file: ntfs-3g shows it as a link into
/// `MOUNT/.NTFS-3G/` and never follows it; ntlinkfs shows the target's path and follows it
/// to a file too (A3: a junction may point at a file).
fn ntfs3g_unresolved_junction(c: &Ctx) -> bool {
    c.ntfs3g_unresolved_junction
}

/// ntfs-3g keeps a file that is open under a `.fuse_hidden*` name after its name was unlinked
/// or replaced: the directory is not empty, the file keeps an extra link, and a rename between
/// two names of one file is not the no-op Linux makes it on one inode.
fn ntfs3g_hidden_files(c: &Ctx) -> bool {
    c.ntfs3g_hidden_files
}

/// symlink(2) with a target like `q:r`: NTFS stores no drive-relative target (CreateSymbolicLinkW
/// makes it absolute with the process's current directory on that drive, A4), which a mount
/// cannot know, so ntlinkfs refuses it (EINVAL); ntfs-3g stores the text.
fn symlink_drive_relative_target(c: &Ctx) -> bool {
    let drive_relative = |t: &str| {
        let b = t.as_bytes();
        b.len() >= 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && !matches!(b.get(2), Some(b'/' | b'\\'))
    };
    matches!(c.op(), Some(Op::Symlink(t, _)) if drive_relative(t))
        && is_errno(c.ntlinkfs, libc::EINVAL)
}

impl KnownList {
    /// Reads and checks the list: every matcher exists, every probe parses, outcome lists are
    /// as long as the probe.
    pub fn load(path: &Path) -> Result<KnownList> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        KnownList::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// [`KnownList::load`] from text: the registry's own checks
    /// ([`host::divergences::Registry::parse`]), then the fuzzer's.
    pub fn parse(text: &str) -> Result<KnownList> {
        let registry = host::divergences::Registry::parse(text)?;
        let mut divergence = Vec::new();
        for d in registry.fuzzer_entries() {
            let matcher = d.matcher.clone().unwrap_or_default();
            if !MATCHERS.iter().any(|(n, _)| *n == matcher) {
                bail!("divergence `{}` names unknown matcher `{matcher}`", d.id);
            }
            for line in &d.probe {
                line.parse::<Op>().map_err(anyhow::Error::msg)?;
            }
            divergence.push(Known {
                id: d.id.clone(),
                title: d.title.clone(),
                ntfs: d.ntfs.clone(),
                ntfs_3g: d.ntfs_3g.clone(),
                matcher,
                probe: d.probe.clone(),
                ntlinkfs_outcomes: d.ntlinkfs_outcomes.clone(),
                ntfs_3g_outcomes: d.ntfs_3g_outcomes.clone(),
            });
        }
        Ok(KnownList { divergence })
    }

    /// The first listed divergence that explains this difference.
    pub fn classify(&self, c: &Ctx) -> Option<&Known> {
        self.divergence.iter().find(|k| {
            MATCHERS
                .iter()
                .find(|(n, _)| *n == k.matcher)
                .is_some_and(|(_, m)| m(c))
        })
    }

    /// Does a state difference at the end of this sequence come from a listed divergence
    /// that changes state without an operation differing (case variants; libfuse hidden files
    /// when `hidden`; junctions ntfs-3g cannot resolve when `unresolved`)?
    pub fn classify_state(&self, ops: &[Op], hidden: bool, unresolved: bool) -> Option<&Known> {
        let ok: Outcome = Ok(String::new());
        let c = Ctx {
            ops,
            ntlinkfs: &ok,
            ntfs3g: &ok,
            ntfs3g_uncached: None,
            ntfs3g_unresolved_junction: unresolved,
            ntfs3g_hidden_files: hidden,
        };
        self.divergence.iter().find(|k| {
            matches!(
                k.matcher.as_str(),
                "case-variant" | "ntfs3g-hidden-files" | "ntfs3g-unresolved-junction"
            ) && MATCHERS
                .iter()
                .find(|(n, _)| *n == k.matcher)
                .is_some_and(|(_, m)| m(&c))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_list_loads() {
        let list = KnownList::load(Path::new(host::divergences::PATH)).unwrap();
        assert!(!list.divergence.is_empty());
        // Every matcher is named by an entry: none is dead code.
        for (m, _) in MATCHERS {
            assert!(
                list.divergence.iter().any(|k| k.matcher == *m),
                "matcher {m} is unused"
            );
        }
    }

    #[test]
    fn unknown_matcher_is_refused() {
        let t = r#"
[[divergence]]
id = "x"
title = "t"
ntfs = "n"
ntfs_3g = "m"
matcher = "nope"
probe = ["create a"]
ntlinkfs_outcomes = ["ok"]
ntfs_3g_outcomes = ["ok"]
"#;
        assert!(KnownList::parse(t).is_err());
    }

    #[test]
    fn case_variant_matches_the_whole_sequence() {
        let ops = vec![Op::Create("A".into()), Op::Create("a".into())];
        let ok: Outcome = Ok("ok".into());
        let e: Outcome = Err(conformance::target::Failure::Errno(libc::EEXIST));
        let c = Ctx {
            ops: &ops,
            ntlinkfs: &e,
            ntfs3g: &ok,
            ntfs3g_uncached: None,
            ntfs3g_unresolved_junction: false,
            ntfs3g_hidden_files: false,
        };
        assert!(case_variant(&c));
        assert!(!case_variant(&Ctx {
            ops: &ops[1..],
            ntlinkfs: &e,
            ntfs3g: &ok,
            ntfs3g_uncached: None,
            ntfs3g_unresolved_junction: false,
            ntfs3g_hidden_files: false,
        }));
    }
}
