//! `ntlinkfs link`: make a hard link, or list a file's names, on an ntlinkfs WinFsp mount.
//!
//! WinFsp refuses CreateHardLinkW and FindFirstFileNameW on every file system it mounts
//! (STATUS_NOT_SUPPORTED), so on Windows this subcommand goes through the mount's control
//! channel (`backend_winfsp::control`). On Linux there is nothing to go around: an ntlinkfs FUSE
//! mount takes `ln` directly.

use std::path::PathBuf;

/// Arguments of `ntlinkfs link`.
#[derive(clap::Args, Debug)]
pub struct LinkArgs {
    /// The existing file (with --list: the file whose names to print), e.g. N:\dir\file.
    pub existing: PathBuf,
    /// The new name, on the same drive, e.g. N:\other\name (like `mklink /H NEW EXISTING`).
    #[arg(required_unless_present = "list")]
    pub new: Option<PathBuf>,
    /// Print every name of EXISTING (like `fsutil hardlink list`) instead of making a link.
    #[arg(long, conflicts_with = "new")]
    pub list: bool,
}

/// Runs `ntlinkfs link`.
pub fn run(a: LinkArgs) -> anyhow::Result<i32> {
    imp::run(a)
}

#[cfg(windows)]
mod imp {
    use super::LinkArgs;
    use anyhow::{anyhow, bail, Context};
    use backend_winfsp::{client, control};

    fn on_mount(p: &std::path::Path) -> anyhow::Result<(char, Vec<u16>)> {
        let abs = std::path::absolute(p).with_context(|| format!("{}", p.display()))?;
        control::volume_relative(&abs.to_string_lossy()).map_err(|e| anyhow!(e))
    }

    pub fn run(a: LinkArgs) -> anyhow::Result<i32> {
        let (drive, existing) = on_mount(&a.existing)?;
        if a.list {
            let mut first = 0;
            loop {
                let reply = client::send(
                    drive,
                    &control::Request::ListNames {
                        path: existing.clone(),
                        first,
                    },
                )
                .map_err(|e| anyhow!(e))?;
                let control::Reply::Names {
                    total, next, names, ..
                } = reply
                else {
                    bail!("unexpected reply to ListNames");
                };
                for (path, pending) in names {
                    let mark = if pending { "  (delete pending)" } else { "" };
                    println!("{}{mark}", String::from_utf16_lossy(&path));
                }
                if next >= total {
                    return Ok(0);
                }
                first = next;
            }
        }
        let new_arg = a.new.as_deref().context("give the new name")?;
        let (new_drive, new) = on_mount(new_arg)?;
        if new_drive != drive {
            bail!(
                "{} and {} are on different drives: a hard link stays on one volume \
                 (ERROR_NOT_SAME_DEVICE)",
                a.existing.display(),
                new_arg.display()
            );
        }
        let reply = client::send(drive, &control::Request::CreateHardLink { existing, new })
            .map_err(|e| anyhow!(e))?;
        if let control::Reply::Linked { links, .. } = reply {
            println!(
                "Hardlink created for {} <<===>> {} ({links} names)",
                new_arg.display(),
                a.existing.display()
            );
        }
        Ok(0)
    }
}

#[cfg(not(windows))]
mod imp {
    use super::LinkArgs;

    const EXPLANATION: &str = "\
ntlinkfs link talks to the control channel of an ntlinkfs drive mounted with WinFsp on Windows:
WinFsp itself refuses CreateHardLinkW and FindFirstFileNameW, so links are made and listed
there through this command.

On Linux nothing needs going around: on an ntlinkfs FUSE mount, hard links work directly.
  make a link:      ln EXISTING NEW
  count its names:  stat -c %h FILE
  list its names:   find MOUNT -samefile FILE";

    pub fn run(a: LinkArgs) -> anyhow::Result<i32> {
        let _ = (a.existing, a.new, a.list);
        eprintln!("{EXPLANATION}");
        Ok(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct T {
        #[command(flatten)]
        a: LinkArgs,
    }

    /// `link EXISTING NEW` makes a link; `link --list EXISTING` lists; a lone EXISTING or both
    /// forms at once are usage errors.
    #[test]
    fn arguments_are_either_two_names_or_list_and_one_name() {
        let t = T::try_parse_from(["x", r"N:\a", r"N:\b"]).unwrap();
        assert_eq!(t.a.new, Some(PathBuf::from(r"N:\b")));
        let t = T::try_parse_from(["x", "--list", r"N:\a"]).unwrap();
        assert!(t.a.list && t.a.new.is_none());
        assert!(T::try_parse_from(["x", r"N:\a"]).is_err());
        assert!(T::try_parse_from(["x", "--list", r"N:\a", r"N:\b"]).is_err());
    }

    /// On Linux the subcommand explains itself and exits 2 instead of failing obscurely.
    #[cfg(not(windows))]
    #[test]
    fn on_linux_link_explains_and_exits_2() {
        let t = T::try_parse_from(["x", "a", "b"]).unwrap();
        assert_eq!(run(t.a).unwrap(), 2);
    }
}
