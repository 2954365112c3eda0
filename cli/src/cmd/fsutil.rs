//! `ntlinkfs fsutil hardlink list|create` and `ntlinkfs fsutil reparsepoint query|delete`:
//! the matching parts of Windows' fsutil.exe, with its output layout and messages.
//!
//! * `hardlink list FILE`: every name of the file, volume-relative with a leading `\`, one
//!   per line (FindFirstFileNameW / FindNextFileNameW, which fsutil prints as they come).
//! * `hardlink create NEW EXISTING`: CreateHardLinkW; prints
//!   `Hardlink created for NEW <<===>> EXISTING`.
//! * `reparsepoint query PATH`: FSCTL_GET_REPARSE_POINT, printed as fsutil prints it: the
//!   tag value, one `Tag value:` line per meaning of its bits and for the tag itself
//!   ([MS-FSCC] 2.1.2.1), the name fields of a symbolic link or mount point ([MS-FSCC]
//!   2.1.2.4, 2.1.2.5; the misspelt "Substitue" is fsutil's own), and the reparse data as a
//!   hex and ASCII dump, 16 bytes a line behind a 4-digit hex offset.
//! * `reparsepoint delete PATH`: FSCTL_DELETE_REPARSE_POINT; the file or directory stays,
//!   empty.
//!
//! The layout follows fsutil's output as published transcripts of it show (Windows 10): the
//! `Reparse Tag Value : 0x%08x` line, `Tag value:` lines, for a mount point the name fields
//! (with the misspelling), a blank line, `Reparse Data Length: 0x%08x`, `Reparse Data:` and
//! the dump (`0000:  61 1e 00 00 45 00 2d 00  56 00 …  a...E.-.V`), and `GUID : {…}` in
//! upper case for a third-party tag. fsutil shows the name fields only for mount points; here
//! a symbolic link gets them too (and its Flags), because they are what a reader of the
//! query wants to see.
//!
//! Failures print fsutil's `Error:  ` and the Win32 message, then the path and NTSTATUS, and
//! exit 1. Decoding uses the engine's codec ([`vfs_core::reparse::ReparseBuffer`]).

use crate::wincmd_status::CmdError;
use crate::wincmd_sys as sys;
use std::fmt::Write as _;
use std::path::Path;
use vfs_core::reparse::{self, ReparseBuffer, ReparseData};

/// `--help` text.
pub const LONG_HELP: &str = "\
The Windows original: fsutil.exe (fsutil hardlink, fsutil reparsepoint).

  ntlinkfs fsutil hardlink list FILE           every name of FILE, volume-relative (\\dir\\name)
  ntlinkfs fsutil hardlink create NEW EXISTING a new name NEW for the file EXISTING
  ntlinkfs fsutil reparsepoint query PATH      the reparse tag, its meaning, the substitute and
                                               print names and the data, as fsutil dumps them
  ntlinkfs fsutil reparsepoint delete PATH     remove the reparse point; the (empty) file or
                                               directory stays

Works on an ntlinkfs mount and on an ntfs-3g mount of real NTFS (reparse points through the
system.ntfs_reparse_data attribute). Names: on ntlinkfs from the control attribute
user.ntlinkfs.names; ntfs-3g has no such attribute, so its names are found by walking the
volume from the mount root for entries with the file's inode number (ntfs-3g reports the
NTFS file reference as st_ino), which takes time on a large volume. On a file system with no
NTFS reparse points (tmpfs, ext4) reparsepoint is refused; hardlink works with the host's
links. Exit 1 on failure, with fsutil's `Error:  ` message and a line naming the path and
the NTSTATUS.";

/// Arguments of `ntlinkfs fsutil`, as fsutil takes them.
#[derive(clap::Args, Debug)]
pub struct FsutilArgs {
    /// hardlink list FILE | hardlink create NEW EXISTING | reparsepoint query|delete PATH
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND ARGS"
    )]
    pub args: Vec<String>,
}

/// A parsed fsutil command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `hardlink list FILE`
    List(String),
    /// `hardlink create NEW EXISTING`
    Create {
        /// NEW
        new: String,
        /// EXISTING
        existing: String,
    },
    /// `reparsepoint query PATH`
    Query(String),
    /// `reparsepoint delete PATH`
    Delete(String),
    /// Usage text for a command group (exit 1, as fsutil does for an incomplete line).
    Usage(&'static str),
}

const TOP_USAGE: &str = "\
---- Commands Supported ----

hardlink          Hardlink management
reparsePoint      Reparse point management";

const HARDLINK_USAGE: &str = "\
---- HARDLINK Commands Supported ----

create          Create a hardlink
list            Enumerate hardlinks on a file";

const HARDLINK_CREATE_USAGE: &str = "\
Usage : fsutil hardlink create <new filename> <existing filename>
   Eg : fsutil hardlink create c:\\foo.txt c:\\bar.txt";

const HARDLINK_LIST_USAGE: &str = "\
Usage : fsutil hardlink list <filename>
   Eg : fsutil hardlink list c:\\foo.txt";

const REPARSE_USAGE: &str = "\
---- REPARSEPOINT Commands Supported ----

delete          Delete a reparse point
query           Query a reparse point";

const QUERY_USAGE: &str = "\
Usage : fsutil reparsePoint query <filename>
   Eg : fsutil reparsePoint query C:\\Server";

const DELETE_USAGE: &str = "\
Usage : fsutil reparsePoint delete <filename>
   Eg : fsutil reparsePoint delete C:\\Server";

/// Parses the command line; command words are case-insensitive, as fsutil's are.
pub fn parse(args: &[String]) -> Op {
    let word = |i: usize| args.get(i).map(|s| s.to_ascii_lowercase());
    let rest = |from: usize| &args[from.min(args.len())..];
    match word(0).as_deref() {
        Some("hardlink") => match word(1).as_deref() {
            Some("list") => match rest(2) {
                [f] => Op::List(f.clone()),
                _ => Op::Usage(HARDLINK_LIST_USAGE),
            },
            Some("create") => match rest(2) {
                [n, e] => Op::Create {
                    new: n.clone(),
                    existing: e.clone(),
                },
                _ => Op::Usage(HARDLINK_CREATE_USAGE),
            },
            _ => Op::Usage(HARDLINK_USAGE),
        },
        Some("reparsepoint") => match word(1).as_deref() {
            Some("query") => match rest(2) {
                [p] => Op::Query(p.clone()),
                _ => Op::Usage(QUERY_USAGE),
            },
            Some("delete") => match rest(2) {
                [p] => Op::Delete(p.clone()),
                _ => Op::Usage(DELETE_USAGE),
            },
            _ => Op::Usage(REPARSE_USAGE),
        },
        _ => Op::Usage(TOP_USAGE),
    }
}

/// Runs `ntlinkfs fsutil`.
pub fn run(a: FsutilArgs) -> anyhow::Result<i32> {
    if a.args
        .iter()
        .any(|s| s == "/?" || s == "--help" || s == "-h")
    {
        println!("{LONG_HELP}");
        return Ok(0);
    }
    let r = match parse(&a.args) {
        Op::Usage(text) => {
            println!("{text}");
            return Ok(1);
        }
        Op::List(f) => list(&f).map(|names| {
            for n in names {
                println!("{n}");
            }
        }),
        Op::Create { new, existing } => create(&new, &existing)
            .map(|()| println!("Hardlink created for {new} <<===>> {existing}")),
        Op::Query(p) => query(&p).map(|text| print!("{text}")),
        Op::Delete(p) => delete(&p),
    };
    Ok(match r {
        Ok(()) => 0,
        Err(e) => e.report("fsutil", "Error:  "),
    })
}

fn arg_path(arg: &str) -> Result<std::path::PathBuf, CmdError> {
    sys::host_path(arg, None, 'C')
}

/// `hardlink list`.
pub fn list(file: &str) -> Result<Vec<String>, CmdError> {
    let p = arg_path(file)?;
    let vol = sys::volume_of(&p)?;
    sys::names(&vol, &p)
}

/// `hardlink create`.
pub fn create(new: &str, existing: &str) -> Result<(), CmdError> {
    sys::hard_link(&arg_path(existing)?, &arg_path(new)?)
}

/// `reparsepoint query`: the text fsutil prints.
pub fn query(path: &str) -> Result<String, CmdError> {
    let p = arg_path(path)?;
    let vol = sys::volume_of(&p)?;
    let raw = sys::read_reparse(&vol, &p)?;
    Ok(format_query(&raw))
}

/// `reparsepoint delete`.
pub fn delete(path: &str) -> Result<(), CmdError> {
    let p = arg_path(path)?;
    let vol = sys::volume_of(&p)?;
    sys::delete_reparse(&vol, Path::new(&p))
}

/// The name of a reparse tag ([MS-FSCC] 2.1.2.1; the two fsutil names for the link tags).
pub fn tag_name(tag: u32) -> Option<&'static str> {
    Some(match tag {
        reparse::IO_REPARSE_TAG_MOUNT_POINT => "Mount Point",
        reparse::IO_REPARSE_TAG_SYMLINK => "Symbolic Link",
        0xC000_0004 => "Hierarchical Storage Management",
        0x8000_0006 => "Hierarchical Storage Management (HSM2)",
        0x8000_0007 => "Single Instance Storage",
        0x8000_0008 => "Windows Imaging (WIM)",
        0x8000_0009 => "Cluster Shared Volumes",
        0x8000_000A => "Distributed File System",
        0x8000_0012 => "DFS Replication",
        0x8000_0013 => "Data Deduplication",
        0x8000_0014 => "Network File System",
        0x8000_0015 => "File Placeholder",
        0x8000_0017 => "Windows Overlay Filter",
        0x8000_0018 => "Windows Container Isolation",
        0x9000_1018 => "Windows Container Isolation (WCI_1)",
        0x8000_0019 => "Global Reparse",
        0x8000_001B => "App Execution Alias",
        0x9000_001C => "Projected File System",
        0xA000_001D => "Linux Symbolic Link (WSL)",
        0x8000_001E => "Azure File Sync",
        0xA000_001F => "Windows Container Isolation Tombstone",
        0x8000_0020 => "Unhandled",
        0x8000_0021 => "OneDrive",
        0xA000_0022 => "Projected File System Tombstone",
        0x8000_0023 => "AF_UNIX Socket (WSL)",
        0x8000_0024 => "Linux FIFO (WSL)",
        0x8000_0025 => "Linux Character Device (WSL)",
        0x8000_0026 => "Linux Block Device (WSL)",
        0xA000_0027 => "Windows Container Isolation Link",
        t if t & 0xFFFF_0FFF == 0x9000_001A => "Cloud Files",
        _ => return None,
    })
}

/// The `Tag value:` lines: one per meaning of the tag's flag bits ([MS-FSCC] 2.1.2.1: bit 31
/// Microsoft, bit 29 name surrogate, bit 28 directory; bit 30, reserved there, is the
/// "high latency" bit of ntifs.h's IsReparseTagHighLatency), then the tag's own name.
pub fn tag_meanings(tag: u32) -> Vec<&'static str> {
    let mut out = Vec::new();
    if reparse::is_microsoft_tag(tag) {
        out.push("Microsoft");
    }
    if tag & 0x4000_0000 != 0 {
        out.push("High Latency");
    }
    if reparse::is_name_surrogate_tag(tag) {
        out.push("Name Surrogate");
    }
    if tag & 0x1000_0000 != 0 {
        out.push("Directory");
    }
    if let Some(n) = tag_name(tag) {
        out.push(n);
    }
    out
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .unwrap_or(0)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .unwrap_or(0)
}

/// The 16-bytes-a-line dump fsutil prints: `0000:  xx xx … xx  xx … xx  ASCII`, the two
/// halves of a line apart by one more space, non-printable bytes shown as `.`.
pub fn hex_dump(data: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in data.chunks(16).enumerate() {
        let _ = write!(out, "{:04x}:  ", line * 16);
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push(' ');
            }
        }
        out.push(' ');
        out.extend(chunk.iter().map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
    out
}

fn guid_text(g: &[u8; 16]) -> String {
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
        u32::from_le_bytes([g[0], g[1], g[2], g[3]]),
        u16::from_le_bytes([g[4], g[5]]),
        u16::from_le_bytes([g[6], g[7]]),
        g[8],
        g[9],
        g[10],
        g[11],
        g[12],
        g[13],
        g[14],
        g[15]
    )
}

/// The text of `fsutil reparsepoint query` for a raw reparse buffer. A buffer the codec
/// refuses (which no NTFS volume should hand back) still gets its tag and a dump, with the
/// reason.
pub fn format_query(raw: &[u8]) -> String {
    let mut out = String::new();
    let tag = u32_at(raw, 0);
    let data_len = usize::from(u16_at(raw, 4));
    let _ = writeln!(out, "Reparse Tag Value : 0x{tag:08x}");
    for m in tag_meanings(tag) {
        let _ = writeln!(out, "Tag value: {m}");
    }
    let parsed = ReparseBuffer::parse(raw);
    let data_start = match &parsed {
        Ok(b) if b.guid().is_some() => reparse::REPARSE_GUID_DATA_BUFFER_HEADER_SIZE,
        _ => reparse::REPARSE_DATA_BUFFER_HEADER_SIZE,
    };
    match &parsed {
        Ok(b) => {
            if let Some(g) = b.guid() {
                let _ = writeln!(out, "GUID : {}", guid_text(&g));
            }
            if let (
                ReparseData::Symlink { .. } | ReparseData::MountPoint { .. },
                Some(sub),
                Some(print),
            ) = (b.data(), b.substitute_name(), b.print_name())
            {
                // The four u16 fields that start the tag data ([MS-FSCC] 2.1.2.4/2.1.2.5).
                let f = |i: usize| u16_at(raw, reparse::REPARSE_DATA_BUFFER_HEADER_SIZE + 2 * i);
                let _ = writeln!(out, "Substitue Name offset: {}", f(0));
                let _ = writeln!(out, "Substitue Name length: {}", f(1));
                let _ = writeln!(out, "Print Name offset:     {}", f(2));
                let _ = writeln!(out, "Print Name Length:     {}", f(3));
                let _ = writeln!(
                    out,
                    "Substitute Name:       {}",
                    String::from_utf16_lossy(sub)
                );
                let _ = writeln!(
                    out,
                    "Print Name:            {}",
                    String::from_utf16_lossy(print)
                );
                if let Some(flags) = b.symlink_flags() {
                    let what = if flags & reparse::SYMLINK_FLAG_RELATIVE != 0 {
                        " (relative)"
                    } else {
                        " (absolute)"
                    };
                    let _ = writeln!(out, "Flags:                 0x{flags:x}{what}");
                }
            }
        }
        Err(e) => {
            let _ = writeln!(out, "({e})");
        }
    }
    let data = raw.get(data_start..).unwrap_or_default();
    let _ = writeln!(out);
    let _ = writeln!(out, "Reparse Data Length: 0x{data_len:08x}");
    let _ = writeln!(out, "Reparse Data:");
    out.push_str(&hex_dump(data));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_words_are_case_insensitive() {
        assert_eq!(parse(&a(&["HardLink", "LIST", "f"])), Op::List("f".into()));
        assert_eq!(
            parse(&a(&["hardlink", "create", "n", "e"])),
            Op::Create {
                new: "n".into(),
                existing: "e".into()
            }
        );
        assert_eq!(
            parse(&a(&["reparsePoint", "query", "p"])),
            Op::Query("p".into())
        );
        assert_eq!(
            parse(&a(&["reparsepoint", "Delete", "p"])),
            Op::Delete("p".into())
        );
        assert_eq!(parse(&a(&["hardlink"])), Op::Usage(HARDLINK_USAGE));
        assert_eq!(
            parse(&a(&["hardlink", "list"])),
            Op::Usage(HARDLINK_LIST_USAGE)
        );
        assert_eq!(parse(&a(&["reparsepoint", "x"])), Op::Usage(REPARSE_USAGE));
        assert_eq!(parse(&a(&["volume"])), Op::Usage(TOP_USAGE));
        assert_eq!(parse(&[]), Op::Usage(TOP_USAGE));
    }

    #[test]
    fn tag_bits_and_names() {
        assert_eq!(
            tag_meanings(reparse::IO_REPARSE_TAG_MOUNT_POINT),
            ["Microsoft", "Name Surrogate", "Mount Point"]
        );
        assert_eq!(
            tag_meanings(reparse::IO_REPARSE_TAG_SYMLINK),
            ["Microsoft", "Name Surrogate", "Symbolic Link"]
        );
        assert_eq!(
            tag_meanings(0x9000_301A),
            ["Microsoft", "Directory", "Cloud Files"]
        );
        assert_eq!(tag_meanings(0x0000_1234), Vec::<&str>::new());
        assert_eq!(
            tag_meanings(0xC000_0004)[..2],
            ["Microsoft", "High Latency"]
        );
    }

    #[test]
    fn dump_layout() {
        let d: Vec<u8> = (0x41..0x41 + 20).collect();
        let text = hex_dump(&d);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "0000:  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP"
        );
        assert_eq!(
            lines[1],
            format!("0010:  51 52 53 54 {}  QRST", " ".repeat(3 * 12))
        );
        // 13 empty slots, the gap between the halves, the gap before the text.
        assert_eq!(
            hex_dump(&[0, 0x7f, b' ']),
            format!("0000:  00 7f 20 {} .. \n", " ".repeat(3 * 13 + 1))
        );
    }

    /// A junction as `mklink /J` writes it, queried: the fields fsutil shows, from the codec.
    #[test]
    fn junction_query_text() {
        let j = reparse::junction_for_target(&"C:\\store".encode_utf16().collect::<Vec<_>>(), 'C')
            .unwrap();
        let text = format_query(j.as_bytes());
        let expect_head = "\
Reparse Tag Value : 0xa0000003
Tag value: Microsoft
Tag value: Name Surrogate
Tag value: Mount Point
Substitue Name offset: 0
Substitue Name length: 24
Print Name offset:     26
Print Name Length:     16
Substitute Name:       \\??\\C:\\store
Print Name:            C:\\store

Reparse Data Length: 0x00000034
Reparse Data:
0000:  00 00 18 00 1a 00 10 00  5c 00 3f 00 3f 00 5c 00  ........\\.?.?.\\.
";
        assert!(text.starts_with(expect_head), "{text}");
        // 0x34 = 52 bytes of data: 4 lines.
        assert_eq!(text.lines().filter(|l| l.starts_with("00")).count(), 4);
    }

    #[test]
    fn symlink_query_shows_flags_and_a_guid_tag_its_guid() {
        let s =
            reparse::symlink_for_target(&"..\\x".encode_utf16().collect::<Vec<_>>(), 'C').unwrap();
        let text = format_query(s.as_bytes());
        assert!(text.contains("Tag value: Symbolic Link\n"));
        assert!(text.contains("Substitute Name:       ..\\x\n"));
        assert!(text.contains("Flags:                 0x1 (relative)\n"));
        let g = [1u8, 0, 0, 0, 2, 0, 3, 0, 4, 5, 6, 7, 8, 9, 10, 11];
        let o = ReparseBuffer::other(0x0000_1234, Some(g), b"hi").unwrap();
        let text = format_query(o.as_bytes());
        assert!(
            text.contains("GUID : {00000001-0002-0003-0405-060708090A0B}\n"),
            "{text}"
        );
        assert!(text.contains("Reparse Data Length: 0x00000002\nReparse Data:\n0000:  68 69 "));
        // A buffer no codec accepts still shows its tag and bytes.
        let text = format_query(&[0x0c, 0, 0, 0xa0, 1, 0, 0, 0, 0xff]);
        assert!(text.contains("invalid reparse data"), "{text}");
        assert!(text.contains("0000:  ff "));
    }
}
