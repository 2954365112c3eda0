//! # host — what ntlinkfs's tools need from the machine they run on
//!
//! One home for the host plumbing the conformance suite, the reliability tools, the benchmark
//! and the CLI share, so each piece exists once:
//!
//! | module          | what                                                                  | where    |
//! |-----------------|-----------------------------------------------------------------------|----------|
//! | [`errno`]       | symbolic names of Linux errno values (`ENOTEMPTY`, not `39`)            | anywhere |
//! | [`xattrs`]      | the names of ntfs-3g's `system.ntfs_*` attributes and of ntlinkfs's `user.ntlinkfs.*` control attributes | anywhere |
//! | [`divergences`] | the one registry of known ntfs-3g divergences from Windows' NTFS (`divergences.toml`) | anywhere |
//! | [`program`]     | finding a program in `PATH` and the sbin directories, or saying what to install | anywhere |
//! | `sys`           | thin system-call wrappers that return the raw errno                     | Linux    |
//! | `mountinfo`     | `/proc/self/mountinfo`: which mount holds a path, is a path a mount point | Linux    |
//! | `kmount`        | mount(2)/umount2(2): a tmpfs, unmounting with retries, waiting for a mount | Linux    |
//! | `ntfs3g`        | [`Ntfs3gImage`]: the one place that makes real-NTFS images (mkntfs) and mounts them (ntfs-3g) | Linux    |
//! | `ntlinkfs`      | [`NtlinkfsMount`]: an `ntlinkfs mount` child process (start, wait until ready, unmount, clean up a dead mount) | Linux    |
//! | `tree`          | a host directory as vfs-core's `HostTree`, for dumping a drive as a fixture | Linux    |
//! | `win32`         | the DeviceIoControl calls of the Windows tools: FSCTL_GET_REPARSE_POINT, a control code with an input buffer | Windows  |
//!
//! The OS modules are compiled only where they work (`cfg(target_os = "linux")`, `win32`:
//! `cfg(windows)`), so the crate, and every crate that uses its portable part, builds for
//! Windows too. The only ntlinkfs crate it uses is vfs-core (for `tree`, and the reparse
//! buffer size of `win32`): backends and tools sit above it.

#![warn(missing_docs)]

pub mod divergences;
pub mod errno;
pub mod program;
pub mod xattrs;

#[cfg(target_os = "linux")]
pub mod kmount;
#[cfg(target_os = "linux")]
pub mod mountinfo;
#[cfg(target_os = "linux")]
pub mod ntfs3g;
#[cfg(target_os = "linux")]
pub mod ntlinkfs;
#[cfg(target_os = "linux")]
pub mod sys;
#[cfg(target_os = "linux")]
pub mod tree;
#[cfg(windows)]
pub mod win32;

#[cfg(target_os = "linux")]
pub use ntfs3g::Ntfs3gImage;
#[cfg(target_os = "linux")]
pub use ntlinkfs::NtlinkfsMount;

use std::fmt;

/// An error of the host layer: what failed, in words a user can act on (a missing program
/// names the package to install).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Error {
        Error(msg.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// A host-layer result.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error`] from a format string.
macro_rules! err {
    ($($t:tt)*) => { $crate::Error::new(format!($($t)*)) };
}
pub(crate) use err;
