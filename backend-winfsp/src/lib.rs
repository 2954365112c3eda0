//! # backend-winfsp — ntlinkfs on Windows through WinFsp
//!
//! The design keeps the Windows-only part thin: everything WinFsp asks of a file system is
//! answered by portable code over [`vfs_core::Volume`], compiled and tested on Linux:
//!
//! - [`status`]: NTSTATUS from the engine's error (its one table) plus WinFsp's own codes;
//! - [`info`]: the `FSP_FSCTL_FILE_INFO` WinFsp wants (attributes, four times, FileId as
//!   IndexNumber, sizes, reparse tag);
//! - [`path`]: WinFsp's `\dir\name` names, NT name rules, stored-case normalized names;
//! - [`pattern`], [`dir`]: directory listings resuming after a marker, in NTFS order, with
//!   FsRtlIsNameInExpression wildcards;
//! - [`create`]: NtCreateFile options and access mapped to engine opens;
//! - [`cleanup`]: delete dispositions and Cleanup ordering for legacy and POSIX deletes;
//! - [`rename`]: rename with the replace rules;
//! - [`security`]: per-file security descriptors and the default one;
//! - [`control`]: the DeviceControl protocol that makes and lists hard links through a mount,
//!   which WinFsp itself does not support;
//! - [`fs`]: every `FileSystemContext` operation as a portable function.
//!
//! The `cfg(windows)` glue (`glue.rs`, against the winfsp 0.13 crate) converts arguments and
//! results and calls [`fs::WinFs`]; `client.rs` sends control requests for `ntlinkfs link`.
//! What works through a WinFsp mount and what does not is in `README-windows.md`.
//!
//! Licence: GPL-3.0-only, because the glue links the GPL-3.0 winfsp crate.

#![warn(missing_docs)]

pub mod cleanup;
pub mod control;
pub mod create;
pub mod dir;
pub mod fs;
pub mod info;
pub mod path;
/// Directory query patterns (FsRtlIsNameInExpression); the engine's one copy.
pub use vfs_core::pattern;
pub mod rename;
pub mod security;
pub mod status;

#[cfg(windows)]
mod glue;
#[cfg(windows)]
pub use glue::{mount, MountError, MountOptions, Mounted};

#[cfg(windows)]
pub mod client;
