//! # conformance — the ntlinkfs conformance suite
//!
//! Cases are written once against [`NtfsTarget`], a small trait of NTFS operations (create,
//! write/read, hard link and name listing, symlinks and junctions, raw reparse data,
//! attributes, handles, delete, rename, listing, stat), and run on several targets:
//! the engine in process (`core`), any mounted directory (`posix:DIR`), ntlinkfs through FUSE
//! (`fuse`), real NTFS through ntfs-3g (`ntfs-3g`) and, on Windows, real NTFS through Win32
//! (`win32:DIR`). Each case cites its source; real NTFS is the judge.
//!
//! A case a target cannot express reports n/a with the reason; a recorded difference of a
//! target that is not ntlinkfs from Windows reports `divergence` when it is observed as
//! documented. ntlinkfs itself (core, fuse) must pass every case it can express.
//!
//! Comparisons happen at the granularity a target can express: the engine reports the exact
//! NTSTATUS, Win32 reports `GetLastError`, POSIX reports an errno read through a documented,
//! deliberately many-to-one table ([`target::errno_meanings`]).
//!
//! ## Running it
//!
//! ```text
//! ntlinkfs conformance --target core,fuse,ntfs-3g --json out.json --junit out.xml
//! ntlinkfs conformance --target posix:/mnt/mydrive --case 'J*'   # any mounted directory
//! ntlinkfs conformance --list                                    # the cases and their sources
//! ```
//!
//! On Windows (untested there): build `ntlinkfs` and point `win32:` at a directory on an NTFS
//! volume, and at an ntlinkfs drive mounted through WinFsp (recognised by its volume label
//! `ntlinkfs`, and then judged as ntlinkfs):
//!
//! ```text
//! ntlinkfs conformance --target core,win32:C:\conformance,win32:N:\ --markdown windows.md
//! ```
//!
//! Symbolic link cases need Developer Mode or SeCreateSymbolicLinkPrivilege (else they are
//! n/a); legacy-delete cases are n/a (Windows picks DeleteFileW's semantics itself).
//!
//! Running the suite against your own in-process file system: implement [`NtfsTarget`] for
//! one case's sandbox and [`Target`] to hand out fresh sandboxes, then call [`run`] (see
//! `examples/own_target.rs`).

#![warn(missing_docs)]

pub mod case;
pub mod cases;
pub mod report;
pub mod runner;
pub mod target;
pub mod targets;

pub use case::{Case, Divergence, Problem, Rule, Verdict};
pub use runner::{matches_pattern, run, run_case, Outcome, Progress, Report};
pub use target::{
    DeleteKind, Failure, Feature, Flavor, Handle, Info, NtfsTarget, Op, OpenHow, SpecialFile,
    Target,
};
pub use targets::TargetSpec;

/// Every case of the suite.
pub fn all_cases() -> Vec<Case> {
    cases::all()
}

/// The cases whose id matches `pattern` (see [`matches_pattern`]); all when `None`.
pub fn select_cases(pattern: Option<&str>) -> Vec<Case> {
    all_cases()
        .into_iter()
        .filter(|c| pattern.is_none_or(|p| matches_pattern(c.id, p)))
        .collect()
}
