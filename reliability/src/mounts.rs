//! The mounts the tools run against: an `ntlinkfs mount` child process
//! ([`host::NtlinkfsMount`]) and the fuzzer's reference, ntfs-3g on a fresh mkntfs image
//! ([`host::Ntfs3gImage`]: real NTFS code on Linux) with the options below.

use host::ntfs3g::{ImageOptions, Ntfs3gImage};
pub use host::ntlinkfs::{clean_up_dead_mount, ntlinkfs_bin, NtlinkfsMount};

/// ntfs-3g options for the reference mount: permissions kept, Windows name rules for new names
/// (what NTFS enforces through Win32), no kernel attribute caching so that a reparse point
/// change is seen at once, and NTFS's own directory link count (1: no `posix_nlink`), which is
/// what ntlinkfs reports too.
pub const NTFS3G_OPTIONS: &str =
    "permissions,windows_names,attr_timeout=0,entry_timeout=0,negative_timeout=0";

/// The reference mount: a `size_mib` image in a temporary directory, mounted with
/// [`NTFS3G_OPTIONS`]; unmounted and removed when dropped.
pub fn reference_ntfs3g(size_mib: u64) -> host::Result<Ntfs3gImage> {
    Ntfs3gImage::create_mounted(&ImageOptions {
        size: size_mib << 20,
        mount_options: Some(NTFS3G_OPTIONS.into()),
        ..Default::default()
    })
}

/// [`reference_ntfs3g`] with `allow_other`: other users reach the mount (and `permissions`
/// checks their rights), for runs as an unprivileged user.
pub fn reference_ntfs3g_shared(size_mib: u64) -> host::Result<Ntfs3gImage> {
    Ntfs3gImage::create_mounted(&ImageOptions {
        size: size_mib << 20,
        mount_options: Some(format!("{NTFS3G_OPTIONS},allow_other")),
        ..Default::default()
    })
}

/// Fails with what to install when a program the tools need is missing.
pub fn require_program(name: &str, package: &str) -> host::Result<()> {
    host::program::require(name, package).map(drop)
}
