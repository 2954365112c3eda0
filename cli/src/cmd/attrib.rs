//! `ntlinkfs attrib [+R|-R] [+H|-H] [+S|-S] [+A|-A] [/L] PATH...`: attrib.exe.
//!
//! Without switches it prints each file's attributes as attrib does: the letters in fixed
//! columns (A at 0, S at 3, H at 4, R at 5, I at 8, the rarer letters near them), the full
//! path from column 21. With switches it sets and clears READONLY, HIDDEN, SYSTEM and ARCHIVE
//! (FILE_ATTRIBUTE_* values from [MS-FSCC] 2.6), keeping every other attribute; like attrib
//! it acts on a symbolic link's or junction's target unless `/L` is given, and it will not
//! change the other attributes of a hidden or system file unless the same command also sets
//! or clears H or S ("Not resetting hidden file - PATH", "Not resetting system file - PATH";
//! ss64.com's attrib page and Microsoft's attrib reference describe the rule).
//!
//! On Linux the attributes are ntfs-3g's `system.ntfs_attrib` (answered the same way by an
//! ntlinkfs mount); a file system without it gets the one-line refusal and exit 1.

use crate::wincmd_status::{CmdError, ACCESS_DENIED, NAME_NOT_FOUND, PATH_NOT_FOUND};
use crate::wincmd_sys as sys;
use std::path::Path;
use vfs_core::attrs;

/// `--help` text.
pub const LONG_HELP: &str = "\
The Windows original: attrib.exe.

  ntlinkfs attrib [+R | -R] [+H | -H] [+S | -S] [+A | -A] [/L] PATH...

  +  sets an attribute, - clears it
  R  read-only   H  hidden   S  system   A  archive   I  not content indexed
  /L acts on a symbolic link or junction itself rather than on its target
  Without switches: prints each PATH's attributes as attrib does (letters in columns, then
  the full path C:\\dir\\name).

Works on an ntlinkfs mount and on an ntfs-3g mount of real NTFS (the system.ntfs_attrib
attribute). On a file system with no NTFS attributes (tmpfs, ext4) it says so and exits 1.
Like attrib, it will not change the other attributes of a hidden or system file unless the
same command also sets or clears H or S. attrib's /S and /D (recursion) are not supported.
--drive-letter X (default C): the drive letter printed in the paths.";

/// Arguments of `ntlinkfs attrib`, as attrib takes them.
#[derive(clap::Args, Debug)]
pub struct AttribArgs {
    /// [+R|-R] [+H|-H] [+S|-S] [+A|-A] [/L] PATH...
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "[+R|-R] [+H|-H] [+S|-S] [+A|-A] [/L] PATH"
    )]
    pub args: Vec<String>,
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Attributes to set.
    pub set: u32,
    /// Attributes to clear.
    pub clear: u32,
    /// `/L`: the link itself.
    pub link_itself: bool,
    /// The paths.
    pub paths: Vec<String>,
    /// The drive letter for printed paths.
    pub drive: char,
}

/// Display columns: (attribute, letter, column). A at 0, S at 3, H at 4, R at 5, I at 8 and
/// the path at 21 are as attrib.exe prints them on Windows 10 (published transcripts, e.g.
/// `A   H   I            C:\Users\x\NTUSER.DAT`, `     R               C:\Program Files`);
/// the places of the rarer letters (O, X, V, P, U, B: none of them set by ntlinkfs or
/// ntfs-3g) are not taken from an observation: they fill the free columns in the order
/// attrib's help lists them.
const COLUMNS: &[(u32, char, usize)] = &[
    (attrs::ARCHIVE, 'A', 0),
    (attrs::SYSTEM, 'S', 3),
    (attrs::HIDDEN, 'H', 4),
    (attrs::READONLY, 'R', 5),
    (attrs::OFFLINE, 'O', 6),
    (attrs::NOT_CONTENT_INDEXED, 'I', 8),
    (0x0002_0000, 'X', 9),  // FILE_ATTRIBUTE_NO_SCRUB_DATA
    (0x0000_8000, 'V', 10), // FILE_ATTRIBUTE_INTEGRITY_STREAM
    (0x0008_0000, 'P', 11), // FILE_ATTRIBUTE_PINNED
    (0x0010_0000, 'U', 12), // FILE_ATTRIBUTE_UNPINNED
    (0x2000_0000, 'B', 13), // FILE_ATTRIBUTE_STRICTLY_SEQUENTIAL (SMR blob)
];

/// Where the path starts.
const PATH_COLUMN: usize = 21;

/// One output line.
pub fn format_line(attributes: u32, full_path: &str) -> String {
    let mut cols = [' '; PATH_COLUMN];
    for &(bit, letter, col) in COLUMNS {
        if attributes & bit != 0 {
            cols[col] = letter;
        }
    }
    let mut s: String = cols.iter().collect();
    s.push_str(full_path);
    s
}

/// Parses the command line: `+X`/`-X` switches (any case), `/L`, `--drive-letter X`.
pub fn parse(args: &[String]) -> Result<Request, CmdError> {
    let mut r = Request {
        drive: 'C',
        ..Request::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--drive-letter") {
            let v = match v.strip_prefix('=') {
                Some(v) => v.to_string(),
                None => it.next().cloned().unwrap_or_default(),
            };
            r.drive = crate::cmd::mklink::parse_drive(&v)?;
            continue;
        }
        let b = a.as_bytes();
        if b.len() == 2 && (b[0] == b'+' || b[0] == b'-') {
            let bit = match b[1].to_ascii_uppercase() {
                b'R' => attrs::READONLY,
                b'H' => attrs::HIDDEN,
                b'S' => attrs::SYSTEM,
                b'A' => attrs::ARCHIVE,
                b'I' => attrs::NOT_CONTENT_INDEXED,
                _ => {
                    return Err(CmdError::Usage(format!(
                        "Parameter format not correct - {a}"
                    )))
                }
            };
            if b[0] == b'+' {
                r.set |= bit;
                r.clear &= !bit;
            } else {
                r.clear |= bit;
                r.set &= !bit;
            }
            continue;
        }
        if b.len() == 2 && b[0] == b'/' {
            match b[1].to_ascii_uppercase() {
                b'L' => r.link_itself = true,
                b'S' | b'D' => {
                    return Err(CmdError::Usage(format!(
                        "ntlinkfs attrib: {a} (recursion) is not supported; give the paths"
                    )))
                }
                _ => return Err(CmdError::Usage(format!("Invalid switch - {a}"))),
            }
            continue;
        }
        r.paths.push(a.clone());
    }
    if r.paths.is_empty() {
        return Err(CmdError::Usage(
            "ntlinkfs attrib: give a PATH (attrib without one lists the current directory, which this command does not do)".into(),
        ));
    }
    Ok(r)
}

/// What to do with one file's attributes: the new value, or the refusal attrib prints for a
/// hidden or system file (the letter that protects it).
pub fn change(r: &Request, current: u32) -> Result<Option<u32>, char> {
    if r.set == 0 && r.clear == 0 {
        return Ok(None);
    }
    let touches_hs = (r.set | r.clear) & (attrs::HIDDEN | attrs::SYSTEM) != 0;
    let touches_other = (r.set | r.clear) & !(attrs::HIDDEN | attrs::SYSTEM) != 0;
    if touches_other && !touches_hs {
        if current & attrs::SYSTEM != 0 {
            return Err('S');
        }
        if current & attrs::HIDDEN != 0 {
            return Err('H');
        }
    }
    Ok(Some((current & !r.clear) | r.set))
}

/// Runs `ntlinkfs attrib`.
pub fn run(a: AttribArgs) -> anyhow::Result<i32> {
    if a.args
        .iter()
        .any(|s| s == "/?" || s == "--help" || s == "-h")
    {
        println!("{LONG_HELP}");
        return Ok(0);
    }
    let r = match parse(&a.args) {
        Ok(r) => r,
        Err(e) => return Ok(e.report("attrib", "")),
    };
    let mut code = 0;
    for p in &r.paths {
        if let Err(e) = one(&r, p) {
            code = match &e {
                CmdError::Ntfs { path, status, .. } => {
                    // attrib's own messages (its message table: "File not found - %1",
                    // "Path not found - %1", "Access denied - %1", "Unable to change
                    // attribute - %1"), then the status line.
                    let what = match *status {
                        NAME_NOT_FOUND => "File not found",
                        PATH_NOT_FOUND => "Path not found",
                        ACCESS_DENIED => "Access denied",
                        _ => "Unable to change attribute",
                    };
                    eprintln!("{what} - {path}");
                    eprintln!(
                        "ntlinkfs attrib: {path}: {} ({:#010X}, Win32 error {}): {}",
                        status.name, status.ntstatus, status.win32, status.message
                    );
                    1
                }
                e => e.report("attrib", ""),
            };
        }
    }
    Ok(code)
}

fn one(r: &Request, arg: &str) -> Result<(), CmdError> {
    let p = sys::host_path(arg, None, r.drive)?;
    std::fs::symlink_metadata(&p).map_err(|e| CmdError::io(Path::new(arg), &e))?;
    let vol = sys::volume_of(&p)?;
    vol.require_ntfs(Path::new(arg))?;
    let follow = !r.link_itself;
    let current = sys::get_attributes(&vol, &p, follow)?;
    let full = full_path(&vol, &p, r.drive)?;
    match change(r, current) {
        Ok(None) => println!("{}", format_line(current, &full)),
        Ok(Some(new)) => {
            // Only what SetFileAttributesW can set is written; DIRECTORY, REPARSE_POINT and
            // the like belong to the file system ([MS-FSCC] 2.6).
            sys::set_attributes(&vol, &p, follow, new & attrs::SETTABLE)?;
        }
        Err('S') => println!("Not resetting system file - {full}"),
        Err(_) => println!("Not resetting hidden file - {full}"),
    }
    Ok(())
}

/// The path as attrib prints it: `C:\dir\name`.
fn full_path(vol: &sys::Vol, p: &Path, drive: char) -> Result<String, CmdError> {
    #[cfg(windows)]
    {
        let _ = (vol, drive);
        sys::full_path(&p.to_string_lossy())
    }
    #[cfg(not(windows))]
    {
        Ok(format!("{drive}:{}", sys::volume_path(vol, p)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lines_have_attribs_columns() {
        assert_eq!(
            format_line(attrs::ARCHIVE, r"C:\a.txt"),
            format!("A{}C:\\a.txt", " ".repeat(20))
        );
        assert_eq!(
            format_line(
                attrs::ARCHIVE | attrs::SYSTEM | attrs::HIDDEN | attrs::DIRECTORY,
                r"C:\x"
            ),
            format!("A  SH{}C:\\x", " ".repeat(16))
        );
        assert_eq!(
            format_line(attrs::READONLY, r"C:\r"),
            format!("     R{}C:\\r", " ".repeat(15))
        );
        assert_eq!(format_line(0, r"C:\n"), format!("{}C:\\n", " ".repeat(21)));
        // Observed: `A   H   I            C:\Users\acer\NTUSER.DAT`.
        assert_eq!(
            format_line(
                attrs::ARCHIVE | attrs::HIDDEN | attrs::NOT_CONTENT_INDEXED,
                r"C:\Users\acer\NTUSER.DAT"
            ),
            r"A   H   I            C:\Users\acer\NTUSER.DAT"
        );
    }

    #[test]
    fn switches() {
        let r = parse(&a(&["+r", "-A", "+H", "f", "/l", "g"])).unwrap();
        assert_eq!(r.set, attrs::READONLY | attrs::HIDDEN);
        assert_eq!(r.clear, attrs::ARCHIVE);
        assert!(r.link_itself);
        assert_eq!(r.paths, ["f", "g"]);
        // The last of +X / -X wins.
        assert_eq!(
            parse(&a(&["+i", "f"])).unwrap().set,
            attrs::NOT_CONTENT_INDEXED
        );
        let r = parse(&a(&["+R", "-R", "f"])).unwrap();
        assert_eq!((r.set, r.clear), (0, attrs::READONLY));
        assert!(matches!(parse(&a(&["+Q", "f"])), Err(CmdError::Usage(m)) if m.contains("+Q")));
        assert!(matches!(parse(&a(&["/S", "f"])), Err(CmdError::Usage(_))));
        assert!(
            matches!(parse(&a(&["/Q", "f"])), Err(CmdError::Usage(m)) if m == "Invalid switch - /Q")
        );
        assert!(matches!(parse(&a(&["+R"])), Err(CmdError::Usage(_))));
        assert_eq!(parse(&a(&["--drive-letter", "n", "f"])).unwrap().drive, 'N');
    }

    #[test]
    fn hidden_and_system_files_keep_their_other_attributes() {
        let r = parse(&a(&["+R", "f"])).unwrap();
        assert_eq!(
            change(&r, attrs::ARCHIVE),
            Ok(Some(attrs::ARCHIVE | attrs::READONLY))
        );
        assert_eq!(change(&r, attrs::HIDDEN), Err('H'));
        assert_eq!(change(&r, attrs::HIDDEN | attrs::SYSTEM), Err('S'));
        let r = parse(&a(&["-H", "+R", "f"])).unwrap();
        assert_eq!(change(&r, attrs::HIDDEN), Ok(Some(attrs::READONLY)));
        let r = parse(&a(&["f"])).unwrap();
        assert_eq!(change(&r, attrs::HIDDEN), Ok(None));
    }
}
