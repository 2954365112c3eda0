//! The targets: where cases run.
//!
//! | spec        | what                                                                    |
//! |-------------|-------------------------------------------------------------------------|
//! | `core`      | the engine in process, a fresh volume per case                          |
//! | `posix:DIR` | any mounted directory through system calls and the ntfs-3g xattrs       |
//! | `fuse`      | ntlinkfs mounted through FUSE in a temporary directory, run as `posix`   |
//! | `ntfs-3g`   | an mkntfs image mounted with ntfs-3g, run as `posix` (real NTFS)         |
//! | `win32:DIR` | Windows only: a real NTFS directory or a WinFsp mount, through Win32     |

pub mod core;
#[cfg(target_os = "linux")]
pub mod fuse;
#[cfg(target_os = "linux")]
pub mod ntfs3g;
#[cfg(target_os = "linux")]
pub mod posix;
#[cfg(windows)]
pub mod win32;

use crate::target::Target;

/// A target named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// `core`
    Core,
    /// `fuse`
    Fuse,
    /// `ntfs-3g`
    Ntfs3g,
    /// `posix:DIR`
    Posix(String),
    /// `win32:DIR`
    Win32(String),
}

impl std::fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetSpec::Core => f.write_str("core"),
            TargetSpec::Fuse => f.write_str("fuse"),
            TargetSpec::Ntfs3g => f.write_str("ntfs-3g"),
            TargetSpec::Posix(d) => write!(f, "posix:{d}"),
            TargetSpec::Win32(d) => write!(f, "win32:{d}"),
        }
    }
}

impl TargetSpec {
    /// Parses one spec.
    pub fn parse(s: &str) -> Result<TargetSpec, String> {
        let s = s.trim();
        if let Some(dir) = s.strip_prefix("posix:") {
            return if dir.is_empty() {
                Err("posix: needs a directory (posix:/mnt/x)".into())
            } else {
                Ok(TargetSpec::Posix(dir.into()))
            };
        }
        if let Some(dir) = s.strip_prefix("win32:") {
            return if dir.is_empty() {
                Err("win32: needs a directory (win32:D:\\test)".into())
            } else {
                Ok(TargetSpec::Win32(dir.into()))
            };
        }
        match s {
            "core" => Ok(TargetSpec::Core),
            "fuse" => Ok(TargetSpec::Fuse),
            "ntfs-3g" | "ntfs3g" => Ok(TargetSpec::Ntfs3g),
            other => Err(format!(
                "unknown target {other:?}: expected core, fuse, ntfs-3g, posix:DIR or win32:DIR"
            )),
        }
    }

    /// Parses a comma-separated list.
    pub fn parse_list(s: &str) -> Result<Vec<TargetSpec>, String> {
        let v: Vec<TargetSpec> = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(TargetSpec::parse)
            .collect::<Result<_, _>>()?;
        if v.is_empty() {
            return Err("no target given".into());
        }
        Ok(v)
    }

    /// Sets the target up (mounts, formats, checks the directory).
    pub fn open(&self) -> Result<Box<dyn Target>, String> {
        match self {
            TargetSpec::Core => Ok(Box::new(self::core::CoreTarget::default())),
            #[cfg(target_os = "linux")]
            TargetSpec::Fuse => Ok(Box::new(fuse::FuseTarget::start()?)),
            #[cfg(target_os = "linux")]
            TargetSpec::Ntfs3g => Ok(Box::new(ntfs3g::Ntfs3gTarget::start()?)),
            #[cfg(target_os = "linux")]
            TargetSpec::Posix(dir) => Ok(Box::new(posix::PosixTarget::open(
                std::path::Path::new(dir),
                &format!("posix:{dir}"),
                None,
            )?)),
            #[cfg(not(target_os = "linux"))]
            TargetSpec::Fuse | TargetSpec::Ntfs3g | TargetSpec::Posix(_) => {
                Err(format!("{self} runs on Linux only"))
            }
            #[cfg(windows)]
            TargetSpec::Win32(dir) => Ok(Box::new(win32::Win32Target::open(dir)?)),
            #[cfg(not(windows))]
            TargetSpec::Win32(_) => Err("win32:DIR runs on Windows only".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(
            TargetSpec::parse_list("core, fuse,ntfs-3g,posix:/mnt/a b").unwrap(),
            vec![
                TargetSpec::Core,
                TargetSpec::Fuse,
                TargetSpec::Ntfs3g,
                TargetSpec::Posix("/mnt/a b".into())
            ]
        );
        assert!(TargetSpec::parse("posix:").is_err());
        assert!(TargetSpec::parse("nope").is_err());
        assert!(TargetSpec::parse_list(",").is_err());
    }
}
