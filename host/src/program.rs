//! Finding the programs the tools run (mkntfs, ntfs-3g, fusermount3, ...), or saying what to
//! install. The sbin directories are searched after `PATH` because a non-login root shell
//! often lacks them, and mkntfs lives in /usr/sbin.

use crate::{err, Result};
use std::path::PathBuf;

/// Directories searched after `PATH`.
const EXTRA_DIRS: [&str; 5] = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The program's path: the first `PATH` entry holding it, else the first of the sbin and bin
/// directories.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(EXTRA_DIRS.map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The program's path, searched like [`find`] and then in the directories cargo installs
/// binaries to (`$CARGO_HOME/bin`, `~/.cargo/bin`), for tools installed with `cargo install`.
pub fn find_with_cargo_bin(name: &str) -> Option<PathBuf> {
    let cargo_dirs = [
        std::env::var_os("CARGO_HOME").map(|h| PathBuf::from(h).join("bin")),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin")),
    ];
    find(name).or_else(|| {
        cargo_dirs
            .into_iter()
            .flatten()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// The program's path, or an error naming the package to install.
pub fn require(name: &str, package: &str) -> Result<PathBuf> {
    find(name).ok_or_else(|| {
        err!(
            "`{name}` is missing: install {package} (Debian/Ubuntu: apt-get install {package}; \
             scripts/install-deps.sh installs it)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn finds_a_program_every_system_has() {
        assert!(find("sh").is_some());
    }

    #[test]
    fn a_missing_program_names_its_package() {
        let e = require("no-such-program-ntlinkfs", "some-package").unwrap_err();
        assert!(e.message().contains("install some-package"), "{e}");
        assert!(e.message().contains("no-such-program-ntlinkfs"), "{e}");
    }
}
