//! `ntlinkfs mklink [/D | /H | /J] LINK TARGET`: cmd.exe's `mklink`, with its switches,
//! messages and exit codes, on an ntlinkfs mount, an ntfs-3g mount of real NTFS, a host file
//! system (hard links and POSIX symlinks only) or, in the Windows build, any NTFS volume.
//!
//! What cmd's mklink does, and so this command (Microsoft, "mklink", Windows Commands
//! reference; messages as cmd prints them):
//! * no switch: a file symbolic link (CreateSymbolicLinkW, flags 0); `/D`: a directory
//!   symbolic link (SYMBOLIC_LINK_FLAG_DIRECTORY); `/H`: a hard link (CreateHardLinkW);
//!   `/J`: a junction, its target made absolute first (GetFullPathNameW), as a mount point
//!   reparse buffer set with FSCTL_SET_REPARSE_POINT on a new empty directory;
//! * success prints `symbolic link created for LINK <<===>> TARGET` (both symlink forms),
//!   `Hardlink created for …` or `Junction created for …`, with TARGET as typed; exit 0;
//! * a LINK that exists: `Cannot create a file when that file already exists.`, exit 1; any
//!   failure prints the Win32 message and exits 1; bad syntax prints `The syntax of the
//!   command is incorrect.` and exits 1.
//!
//! On Linux the reparse buffers come from the engine's codec
//! ([`vfs_core::reparse::symlink_for_target`], [`vfs_core::reparse::junction_for_target`]),
//! laid out exactly as CreateSymbolicLinkW and `mklink /J` write them, and are stored through
//! `system.ntfs_reparse_data` on a new empty file or directory: so a link made here is an
//! NTFS link of the kind asked for, on ntlinkfs and on real NTFS alike (ntfs-3g's own
//! `ln -s` would make an Interix symlink instead).

use crate::wincmd_status::{CmdError, NAME_INVALID, REPARSE_DATA_INVALID};
use crate::wincmd_sys as sys;
use std::path::Path;

/// `--help` text.
pub const LONG_HELP: &str = "\
The Windows original: cmd.exe's built-in MKLINK (Windows Vista and later).

  ntlinkfs mklink [/D | /H | /J] LINK TARGET

  (no switch)  a file symbolic link
  /D           a directory symbolic link
  /H           a hard link (TARGET must be an existing file)
  /J           a directory junction; TARGET is made absolute first, as mklink /J does
  LINK         the name to create; it must not exist
  TARGET       what the link refers to: relative or absolute, with \\ or /, or with the
               drive letter (C:\\store); a Linux path inside the mount becomes C:\\path,
               on NTFS any other path starting with / is read as root-relative (\\path)

Prints `symbolic link created for LINK <<===>> TARGET`, `Hardlink created for ...` or
`Junction created for ...`. Exit 1 on failure, with cmd's message (`Cannot create a file when
that file already exists.` for an existing LINK) and a second line naming the path and the
NTSTATUS.

Works on an ntlinkfs mount and on an ntfs-3g mount of real NTFS (through the
system.ntfs_reparse_data attribute; links are NTFS reparse points laid out as
CreateSymbolicLinkW and mklink /J write them). On a file system with no NTFS reparse points
(tmpfs, ext4) /H makes a hard link and the symlink forms a POSIX symlink; /J is refused.

--drive-letter X (default C): the drive letter the volume answers to, for targets written
as X:\\path or \\path (an ntlinkfs mount started with --drive-letter X).";

/// Arguments of `ntlinkfs mklink`, as cmd takes them.
#[derive(clap::Args, Debug)]
pub struct MklinkArgs {
    /// [/D | /H | /J] LINK TARGET (switches as cmd takes them, in any case, anywhere).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "[/D|/H|/J] LINK TARGET"
    )]
    pub args: Vec<String>,
}

/// What kind of link to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No switch.
    FileSymlink,
    /// `/D`.
    DirSymlink,
    /// `/H`.
    Hard,
    /// `/J`.
    Junction,
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The link kind.
    pub kind: Kind,
    /// LINK as typed.
    pub link: String,
    /// TARGET as typed.
    pub target: String,
    /// The volume's drive letter.
    pub drive: char,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Make a link.
    Run(Request),
    /// `/?`, or no arguments at all (cmd prints the usage then).
    Help,
}

/// cmd's message for a malformed command line.
pub const SYNTAX: &str = "The syntax of the command is incorrect.";

/// Parses `[/D | /H | /J] LINK TARGET` the way cmd's mklink does: switches are two
/// characters, any case, anywhere on the line; one kind at most; exactly two names.
pub fn parse(args: &[String]) -> Result<Parsed, CmdError> {
    let mut kind = None;
    let mut names = Vec::new();
    let mut drive = 'C';
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--drive-letter") {
            let v = match v.strip_prefix('=') {
                Some(v) => v.to_string(),
                None if v.is_empty() => it.next().cloned().unwrap_or_default(),
                None => return Err(CmdError::Usage(SYNTAX.into())),
            };
            drive = parse_drive(&v)?;
            continue;
        }
        let b = a.as_bytes();
        if b.len() == 2 && b[0] == b'/' {
            let k = match b[1].to_ascii_uppercase() {
                b'?' => return Ok(Parsed::Help),
                b'D' => Kind::DirSymlink,
                b'H' => Kind::Hard,
                b'J' => Kind::Junction,
                _ => return Err(CmdError::Usage(SYNTAX.into())),
            };
            if kind.is_some_and(|old| old != k) {
                return Err(CmdError::Usage(SYNTAX.into()));
            }
            kind = Some(k);
            continue;
        }
        names.push(a.clone());
    }
    if names.is_empty() && kind.is_none() {
        return Ok(Parsed::Help);
    }
    let [link, target] =
        <[String; 2]>::try_from(names).map_err(|_| CmdError::Usage(SYNTAX.into()))?;
    Ok(Parsed::Run(Request {
        kind: kind.unwrap_or(Kind::FileSymlink),
        link,
        target,
        drive,
    }))
}

/// A drive letter option value: one letter A–Z.
pub fn parse_drive(v: &str) -> Result<char, CmdError> {
    let mut c = v.trim_end_matches(':').chars();
    match (c.next(), c.next()) {
        (Some(l), None) if l.is_ascii_alphabetic() => Ok(l.to_ascii_uppercase()),
        _ => Err(CmdError::Usage(format!(
            "--drive-letter takes one letter A-Z, not {v:?}"
        ))),
    }
}

/// The line mklink prints on success.
pub fn success_line(r: &Request) -> String {
    let what = match r.kind {
        Kind::FileSymlink | Kind::DirSymlink => "symbolic link",
        Kind::Hard => "Hardlink",
        Kind::Junction => "Junction",
    };
    format!("{what} created for {} <<===>> {}", r.link, r.target)
}

/// Runs `ntlinkfs mklink`.
pub fn run(a: MklinkArgs) -> anyhow::Result<i32> {
    match parse(&a.args) {
        Ok(Parsed::Help) => {
            println!("{LONG_HELP}");
            Ok(if a.args.is_empty() { 1 } else { 0 })
        }
        Ok(Parsed::Run(r)) => match make(&r) {
            Ok(()) => {
                println!("{}", success_line(&r));
                Ok(0)
            }
            Err(e) => Ok(e.report("mklink", "")),
        },
        Err(e) => Ok(e.report("mklink", "")),
    }
}

/// The codec's refusal of a target, as NTFS reports it.
fn invalid_target(target: &str, e: vfs_core::reparse::InvalidReparseData) -> CmdError {
    CmdError::Ntfs {
        path: target.to_string(),
        status: REPARSE_DATA_INVALID,
        detail: Some(e.0.to_string()),
    }
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// How a target string begins, as far as turning it into a Linux path matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(windows, allow(dead_code))] // used by the Linux `make` (Win32 resolves targets itself)
enum Shape {
    /// `/…`: a Linux absolute path, or (outside the mount) a root-relative Windows path.
    SlashAbsolute,
    /// Anything Windows reads as absolute or root-relative (`C:\`, `\x`, `\\srv`, `\??\`),
    /// or drive-relative (`C:x`, which the codec refuses with its reason).
    Windows,
    /// A relative path.
    Relative,
}

#[cfg_attr(windows, allow(dead_code))] // used by the Linux `make` (Win32 resolves targets itself)
fn shape(t: &str) -> Shape {
    let b = t.as_bytes();
    if b.first() == Some(&b'/') && b.get(1) != Some(&b'/') {
        Shape::SlashAbsolute
    } else if b.first().is_some_and(|&c| c == b'\\' || c == b'/')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
    {
        Shape::Windows
    } else {
        Shape::Relative
    }
}

/// `p` with `.` and `..` resolved lexically (as GetFullPathNameW does).
#[cfg_attr(windows, allow(dead_code))] // used by the Linux `make` (Win32 resolves targets itself)
fn normalize(p: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// A Linux absolute path on the volume as `X:\path`, or None when it is elsewhere.
#[cfg_attr(windows, allow(dead_code))] // used by the Linux `make` (Win32 resolves targets itself)
fn on_volume(host: &Path, vol: &sys::Vol, drive: char) -> Option<String> {
    let lexical = normalize(host);
    let rel = lexical
        .strip_prefix(&vol.root)
        .ok()
        .map(Path::to_path_buf)
        .or_else(|| {
            let c = lexical.canonicalize().ok()?;
            c.strip_prefix(&vol.root).ok().map(Path::to_path_buf)
        })?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(format!("{drive}:\\{}", parts.join("\\")))
}

/// The target of an NTFS symbolic link, as CreateSymbolicLinkW would get it: as typed,
/// except that a Linux absolute path inside the mount becomes `X:\path` (as `ln -s` into an
/// ntlinkfs mount does).
#[cfg_attr(windows, allow(dead_code))] // used by the Linux `make` (Win32 resolves targets itself)
fn symlink_target(target: &str, vol: &sys::Vol, drive: char) -> String {
    if shape(target) == Shape::SlashAbsolute {
        if let Some(w) = on_volume(Path::new(target), vol, drive) {
            return w;
        }
    }
    target.to_string()
}

/// The target of a junction made absolute, as `mklink /J` does with GetFullPathNameW: a
/// relative target is taken against the current directory, which must be on the volume.
#[cfg_attr(windows, allow(dead_code))] // used by the Linux `make` (Win32 resolves targets itself)
fn junction_target(
    target: &str,
    vol: &sys::Vol,
    drive: char,
    cwd: &Path,
) -> Result<String, CmdError> {
    match shape(target) {
        Shape::Windows => Ok(target.to_string()),
        Shape::SlashAbsolute => {
            Ok(on_volume(Path::new(target), vol, drive).unwrap_or_else(|| target.to_string()))
        }
        Shape::Relative => {
            let host = cwd.join(target.replace('\\', "/"));
            on_volume(&host, vol, drive).ok_or_else(|| CmdError::Ntfs {
                path: target.to_string(),
                status: NAME_INVALID,
                detail: Some(format!(
                    "made absolute it is {}, which is not on the volume mounted at {}",
                    normalize(&host).display(),
                    vol.root.display()
                )),
            })
        }
    }
}

/// Makes the link (Linux).
#[cfg(unix)]
pub fn make(r: &Request) -> Result<(), CmdError> {
    use vfs_core::reparse::{junction_for_target, symlink_for_target};
    let link = sys::host_path(&r.link, None, r.drive)?;
    let vol = sys::volume_of(&link)?;
    let create = |dir: bool, buf: vfs_core::reparse::ReparseBuffer| {
        sys::create_empty(&link, dir)?;
        if let Err(e) = sys::write_reparse(&vol, &link, buf.as_bytes()) {
            sys::remove_empty(&link, dir);
            return Err(e);
        }
        Ok(())
    };
    match r.kind {
        Kind::Hard => {
            let target = sys::host_path(&r.target, Some(&vol), r.drive)?;
            sys::hard_link(&target, &link)
        }
        Kind::FileSymlink | Kind::DirSymlink if vol.has_ntfs() => {
            let t = symlink_target(&r.target, &vol, r.drive);
            let buf = symlink_for_target(&utf16(&t), r.drive)
                .map_err(|e| invalid_target(&r.target, e))?;
            create(r.kind == Kind::DirSymlink, buf)
        }
        Kind::FileSymlink | Kind::DirSymlink => {
            // A host file system: a POSIX symlink, the one kind of symlink it has.
            let t = sys::host_path(&r.target, Some(&vol), r.drive)?;
            sys::host_symlink(&t.to_string_lossy(), &link)
        }
        Kind::Junction => {
            vol.require_ntfs(&link)?;
            let cwd = std::env::current_dir().map_err(|e| CmdError::io(Path::new("."), &e))?;
            let t = junction_target(&r.target, &vol, r.drive, &cwd)?;
            let buf = junction_for_target(&utf16(&t), r.drive)
                .map_err(|e| invalid_target(&r.target, e))?;
            create(true, buf)
        }
    }
}

/// Makes the link (Windows: CreateSymbolicLinkW, CreateHardLinkW, or a new directory with a
/// mount point buffer from the engine's codec set by FSCTL_SET_REPARSE_POINT).
#[cfg(windows)]
pub fn make(r: &Request) -> Result<(), CmdError> {
    let link = Path::new(&r.link);
    match r.kind {
        Kind::Hard => sys::hard_link(Path::new(&r.target), link),
        Kind::FileSymlink => sys::win_symlink(link, &r.target, false),
        Kind::DirSymlink => sys::win_symlink(link, &r.target, true),
        Kind::Junction => {
            let full = sys::full_path(&r.target)?;
            let drive = full
                .chars()
                .next()
                .filter(char::is_ascii_alphabetic)
                .unwrap_or(r.drive);
            let buf = vfs_core::reparse::junction_for_target(&utf16(&full), drive)
                .map_err(|e| invalid_target(&r.target, e))?;
            let vol = sys::volume_of(link)?;
            sys::create_empty(link, true)?;
            if let Err(e) = sys::write_reparse(&vol, link, buf.as_bytes()) {
                sys::remove_empty(link, true);
                return Err(e);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    fn req(s: &[&str]) -> Request {
        match parse(&args(s)).unwrap() {
            Parsed::Run(r) => r,
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn switches_as_cmd_takes_them() {
        assert_eq!(req(&["l", "t"]).kind, Kind::FileSymlink);
        assert_eq!(req(&["/D", "l", "t"]).kind, Kind::DirSymlink);
        assert_eq!(req(&["/h", "l", "t"]).kind, Kind::Hard);
        // Anywhere on the line, any case.
        let r = req(&["l", "/j", "t"]);
        assert_eq!(
            (r.kind, r.link.as_str(), r.target.as_str()),
            (Kind::Junction, "l", "t")
        );
        assert_eq!(req(&["/J", "/J", "l", "t"]).kind, Kind::Junction);
        assert_eq!(req(&["--drive-letter", "d", "l", "t"]).drive, 'D');
        assert_eq!(req(&["--drive-letter=E:", "l", "t"]).drive, 'E');
        // Linux absolute paths are names, not switches.
        assert_eq!(req(&["/H", "/tmp/l", "/tmp/t"]).link, "/tmp/l");
    }

    #[test]
    fn bad_lines_are_syntax_errors() {
        for bad in [
            &["/D", "/H", "l", "t"][..],
            &["l"],
            &["/J", "l"],
            &["l", "t", "u"],
            &["/X", "l", "t"],
        ] {
            match parse(&args(bad)) {
                Err(CmdError::Usage(m)) => assert_eq!(m, SYNTAX, "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(parse(&args(&["--drive-letter", "12", "l", "t"])).is_err());
        assert_eq!(parse(&args(&["/?"])).unwrap(), Parsed::Help);
        assert_eq!(parse(&[]).unwrap(), Parsed::Help);
    }

    #[test]
    fn success_lines_are_cmds() {
        let mut r = req(&["link", r"C:\store"]);
        assert_eq!(
            success_line(&r),
            r"symbolic link created for link <<===>> C:\store"
        );
        r.kind = Kind::DirSymlink;
        assert_eq!(
            success_line(&r),
            r"symbolic link created for link <<===>> C:\store"
        );
        r.kind = Kind::Hard;
        assert_eq!(
            success_line(&r),
            r"Hardlink created for link <<===>> C:\store"
        );
        r.kind = Kind::Junction;
        assert_eq!(
            success_line(&r),
            r"Junction created for link <<===>> C:\store"
        );
    }

    fn vol(root: &str) -> sys::Vol {
        sys::Vol {
            root: root.into(),
            flavor: sys::Flavor::Ntlinkfs,
        }
    }

    #[test]
    fn junction_targets_are_made_absolute() {
        let v = vol("/mnt/d");
        let cwd = Path::new("/mnt/d/proj");
        assert_eq!(
            junction_target(r"..\store", &v, 'C', cwd).unwrap(),
            r"C:\store"
        );
        assert_eq!(
            junction_target("lib/x", &v, 'D', cwd).unwrap(),
            r"D:\proj\lib\x"
        );
        assert_eq!(
            junction_target(r"C:\store", &v, 'C', cwd).unwrap(),
            r"C:\store"
        );
        assert_eq!(junction_target(r"\store", &v, 'C', cwd).unwrap(), r"\store");
        assert_eq!(
            junction_target("/mnt/d/store/", &v, 'C', cwd).unwrap(),
            r"C:\store"
        );
        // Not inside the mount: a root-relative Windows path, made absolute by the codec.
        assert_eq!(junction_target("/store", &v, 'C', cwd).unwrap(), "/store");
        // A relative target from outside the mount cannot be made absolute on it.
        let e = junction_target("x", &v, 'C', Path::new("/home")).unwrap_err();
        assert_eq!(e.status(), Some(NAME_INVALID));
    }

    #[test]
    fn symlink_targets_stay_as_typed_unless_a_linux_path_into_the_mount() {
        let v = vol("/mnt/d");
        assert_eq!(symlink_target(r"..\store", &v, 'C'), r"..\store");
        assert_eq!(symlink_target("../store", &v, 'C'), "../store");
        assert_eq!(symlink_target("/mnt/d/a/b", &v, 'C'), r"C:\a\b");
        assert_eq!(symlink_target("/elsewhere", &v, 'C'), "/elsewhere");
    }

    /// The codec gives the buffers mklink writes: a junction's names carry the NT prefix and
    /// the absolute print name; a relative symlink keeps its target and the relative flag.
    #[test]
    fn buffers_come_from_the_engine_codec() {
        let j = vfs_core::reparse::junction_for_target(&utf16(r"C:\store"), 'C').unwrap();
        assert_eq!(
            String::from_utf16(j.substitute_name().unwrap()).unwrap(),
            r"\??\C:\store"
        );
        assert_eq!(
            String::from_utf16(j.print_name().unwrap()).unwrap(),
            r"C:\store"
        );
        let s = vfs_core::reparse::symlink_for_target(&utf16("../store"), 'C').unwrap();
        assert_eq!(
            s.symlink_flags(),
            Some(vfs_core::reparse::SYMLINK_FLAG_RELATIVE)
        );
        assert_eq!(
            String::from_utf16(s.substitute_name().unwrap()).unwrap(),
            r"..\store"
        );
        let e = vfs_core::reparse::junction_for_target(&utf16("rel"), 'C').unwrap_err();
        assert_eq!(
            invalid_target("rel", e).status(),
            Some(REPARSE_DATA_INVALID)
        );
    }
}
