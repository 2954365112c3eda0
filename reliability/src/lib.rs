//! # reliability — proof that an ntlinkfs mount keeps working and loses nothing
//!
//! Tools (binaries) and the pieces they share:
//! - `ntlinkfs-stress`: workers racing on one tree, then the engine's `check()` through the
//!   control xattr, a memory check and a clean unmount ([`stress`]);
//! - `ntlinkfs-difffuzz`: the same random operations on ntlinkfs and on ntfs-3g, every
//!   difference either listed in the divergence registry (`host/divergences.toml`) or reported ([`difffuzz`]);
//! - `ntlinkfs-pjdfstest-check`: runs pjdfstest and holds its failures to
//!   `pjdfstest-expected-failures.toml` ([`pjdfstest`]).
//!
//! The host plumbing (system calls, mounts, the divergence registry) is the `host` crate's;
//! the fuzzer's operations that are the conformance POSIX target's run through that target.
//!
//! `scripts/reliability.sh --short` (CI) and `--long` run them with fsx; docs/RELIABILITY.md
//! records the long runs.

pub mod control;
pub mod difffuzz;
pub mod errno;
pub mod mounts;
pub mod pjdfstest;
pub mod stress;

/// The raw-errno system calls the tools compare outcomes with.
pub use host::sys;
