//! The operations of the differential fuzzer, with a one-line text form that `--replay` reads
//! back. Paths are relative to the sequence's own directory; junction targets too. The
//! operations marked *target* run through the conformance POSIX target's sandbox (see
//! [`super::exec`]); the others are POSIX calls the fuzzer makes itself.

use crate::sys::RenameMode;
use std::fmt;

/// Number of descriptor slots an `open` can fill.
pub const SLOTS: usize = 4;

/// One operation, run the same way on both mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// *target* `create_file`: `open(O_CREAT|O_EXCL|O_WRONLY)` + close.
    Create(String),
    /// *target* `create_dir`: `mkdir`.
    Mkdir(String),
    /// open an existing file, `pwrite(len bytes made from seed, off)`, close.
    Write(String, u64, u32, u8),
    /// `truncate` (follows links).
    Truncate(String, u64),
    /// *target* `read_file`: open read-only, read everything, close: length and hash.
    Read(String),
    /// `lstat`.
    Stat(String),
    /// `stat` (follows links).
    StatFollow(String),
    /// *target* `hard_link`: `link(src, dst)`.
    Link(String, String),
    /// *target* `delete`: `unlink` (DeleteFileW, or RemoveDirectoryW on a directory link).
    Unlink(String),
    /// `rmdir`.
    Rmdir(String),
    /// `renameat2(src, dst, mode)`.
    Rename(String, String, RenameMode),
    /// `symlink(target, path)` with a relative target.
    Symlink(String, String),
    /// `readlink`.
    Readlink(String),
    /// *target* `set_reparse_point`: `lsetxattr(path, system.ntfs_reparse_data, mount point
    /// buffer for target)`: a junction (A3) made the way ntfs-3g users make one.
    Junction(String, String),
    /// *target* `get_reparse_point` for the tag, then `delete_reparse_point`:
    /// `lremovexattr(path, system.ntfs_reparse_data)`.
    Unreparse(String),
    /// *target* `get_reparse_point`: `lgetxattr(path, system.ntfs_reparse_data)`.
    GetReparse(String),
    /// *target* `list_dir`: `readdir`, names sorted, libfuse hidden names left out.
    List(String),
    /// `open(O_RDWR)` kept in a slot.
    Open(usize, String),
    /// `pwrite` through a slot.
    FdWrite(usize, u64, u32, u8),
    /// read a slot's file whole.
    FdRead(usize),
    /// `fstat` through a slot.
    FdStat(usize),
    /// `ftruncate` through a slot.
    FdTruncate(usize, u64),
    /// `close` a slot.
    Close(usize),
    /// *target* `hard_link` `link(path, path.lK)` for K in 1..=n: stops at the first failure
    /// (the 1024-link probe).
    LinkMany(String, u32),
    /// `lsetxattr(path, XATTR_NAMES[k], value from seed)`.
    SetXattr(String, usize, u8),
    /// `lgetxattr(path, XATTR_NAMES[k])`: length and hash.
    GetXattr(String, usize),
    /// `lremovexattr(path, XATTR_NAMES[k])`.
    RemoveXattr(String, usize),
    /// `llistxattr(path)`, names sorted.
    ListXattr(String),
}

/// The extended attribute names the xattr operations use: stored `user.*` names, one that is
/// not ASCII, and two that are not UTF-8 and would be one name if converted lossily (issue
/// 14: refused with EILSEQ on both sides). No case variants: NTFS stream names, where ntfs-3g
/// keeps `user.*` attributes, are case-insensitive.
pub const XATTR_NAMES: [&[u8]; 5] = [
    b"user.a",
    b"user.b",
    "user.é".as_bytes(),
    b"user.\xff\xfe",
    b"user.\xfe\xff",
];

/// The value a SetXattr writes: 1 to 7 bytes from the seed.
pub fn xattr_value(seed: u8) -> Vec<u8> {
    (0..=(seed % 7)).map(|i| seed.wrapping_add(i)).collect()
}

/// An index into [`XATTR_NAMES`] read from an operation's text.
fn xattr_index(k: u64) -> Result<usize, String> {
    usize::try_from(k)
        .ok()
        .filter(|&k| k < XATTR_NAMES.len())
        .ok_or_else(|| format!("xattr name index {k} out of range"))
}

fn mode_str(m: RenameMode) -> &'static str {
    match m {
        RenameMode::Replace => "replace",
        RenameMode::NoReplace => "noreplace",
        RenameMode::Exchange => "exchange",
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Create(p) => write!(f, "create {p}"),
            Op::Mkdir(p) => write!(f, "mkdir {p}"),
            Op::Write(p, o, l, s) => write!(f, "write {p} {o} {l} {s}"),
            Op::Truncate(p, n) => write!(f, "truncate {p} {n}"),
            Op::Read(p) => write!(f, "read {p}"),
            Op::Stat(p) => write!(f, "stat {p}"),
            Op::StatFollow(p) => write!(f, "statf {p}"),
            Op::Link(a, b) => write!(f, "link {a} {b}"),
            Op::Unlink(p) => write!(f, "unlink {p}"),
            Op::Rmdir(p) => write!(f, "rmdir {p}"),
            Op::Rename(a, b, m) => write!(f, "rename {a} {b} {}", mode_str(*m)),
            Op::Symlink(t, p) => write!(f, "symlink {t} {p}"),
            Op::Readlink(p) => write!(f, "readlink {p}"),
            Op::Junction(p, t) => write!(f, "junction {p} {t}"),
            Op::Unreparse(p) => write!(f, "unreparse {p}"),
            Op::GetReparse(p) => write!(f, "getreparse {p}"),
            Op::List(p) => write!(f, "ls {p}"),
            Op::Open(s, p) => write!(f, "open {s} {p}"),
            Op::FdWrite(s, o, l, v) => write!(f, "fwrite {s} {o} {l} {v}"),
            Op::FdRead(s) => write!(f, "fread {s}"),
            Op::FdStat(s) => write!(f, "fstat {s}"),
            Op::FdTruncate(s, n) => write!(f, "ftruncate {s} {n}"),
            Op::Close(s) => write!(f, "close {s}"),
            Op::LinkMany(p, n) => write!(f, "linkmany {p} {n}"),
            Op::SetXattr(p, k, v) => write!(f, "setx {p} {k} {v}"),
            Op::GetXattr(p, k) => write!(f, "getx {p} {k}"),
            Op::RemoveXattr(p, k) => write!(f, "rmx {p} {k}"),
            Op::ListXattr(p) => write!(f, "lsx {p}"),
        }
    }
}

impl std::str::FromStr for Op {
    type Err = String;

    fn from_str(line: &str) -> Result<Op, String> {
        let w: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("cannot read operation `{line}`");
        let s = |i: usize| w.get(i).map(|x| x.to_string()).ok_or_else(bad);
        let n = |i: usize| -> Result<u64, String> {
            w.get(i).and_then(|x| x.parse().ok()).ok_or_else(bad)
        };
        let slot = |i: usize| -> Result<usize, String> {
            let v = n(i)? as usize;
            if v < SLOTS {
                Ok(v)
            } else {
                Err(format!("slot {v} out of range in `{line}`"))
            }
        };
        let want = |k: usize| {
            if w.len() == k {
                Ok(())
            } else {
                Err(bad())
            }
        };
        let op = match w.first().copied() {
            Some("create") => want(2).and_then(|_| Ok(Op::Create(s(1)?)))?,
            Some("mkdir") => want(2).and_then(|_| Ok(Op::Mkdir(s(1)?)))?,
            Some("write") => {
                want(5)?;
                Op::Write(s(1)?, n(2)?, n(3)? as u32, n(4)? as u8)
            }
            Some("truncate") => {
                want(3)?;
                Op::Truncate(s(1)?, n(2)?)
            }
            Some("read") => want(2).and_then(|_| Ok(Op::Read(s(1)?)))?,
            Some("stat") => want(2).and_then(|_| Ok(Op::Stat(s(1)?)))?,
            Some("statf") => want(2).and_then(|_| Ok(Op::StatFollow(s(1)?)))?,
            Some("link") => {
                want(3)?;
                Op::Link(s(1)?, s(2)?)
            }
            Some("unlink") => want(2).and_then(|_| Ok(Op::Unlink(s(1)?)))?,
            Some("rmdir") => want(2).and_then(|_| Ok(Op::Rmdir(s(1)?)))?,
            Some("rename") => {
                want(4)?;
                let m = match w[3] {
                    "replace" => RenameMode::Replace,
                    "noreplace" => RenameMode::NoReplace,
                    "exchange" => RenameMode::Exchange,
                    _ => return Err(bad()),
                };
                Op::Rename(s(1)?, s(2)?, m)
            }
            Some("symlink") => {
                want(3)?;
                Op::Symlink(s(1)?, s(2)?)
            }
            Some("readlink") => want(2).and_then(|_| Ok(Op::Readlink(s(1)?)))?,
            Some("junction") => {
                want(3)?;
                Op::Junction(s(1)?, s(2)?)
            }
            Some("unreparse") => want(2).and_then(|_| Ok(Op::Unreparse(s(1)?)))?,
            Some("getreparse") => want(2).and_then(|_| Ok(Op::GetReparse(s(1)?)))?,
            Some("ls") => want(2).and_then(|_| Ok(Op::List(s(1)?)))?,
            Some("open") => {
                want(3)?;
                Op::Open(slot(1)?, s(2)?)
            }
            Some("fwrite") => {
                want(5)?;
                Op::FdWrite(slot(1)?, n(2)?, n(3)? as u32, n(4)? as u8)
            }
            Some("fread") => want(2).and_then(|_| Ok(Op::FdRead(slot(1)?)))?,
            Some("fstat") => want(2).and_then(|_| Ok(Op::FdStat(slot(1)?)))?,
            Some("ftruncate") => {
                want(3)?;
                Op::FdTruncate(slot(1)?, n(2)?)
            }
            Some("close") => want(2).and_then(|_| Ok(Op::Close(slot(1)?)))?,
            Some("linkmany") => {
                want(3)?;
                Op::LinkMany(s(1)?, n(2)? as u32)
            }
            Some("setx") => {
                want(4)?;
                Op::SetXattr(s(1)?, xattr_index(n(2)?)?, n(3)? as u8)
            }
            Some("getx") => {
                want(3)?;
                Op::GetXattr(s(1)?, xattr_index(n(2)?)?)
            }
            Some("rmx") => {
                want(3)?;
                Op::RemoveXattr(s(1)?, xattr_index(n(2)?)?)
            }
            Some("lsx") => want(2).and_then(|_| Ok(Op::ListXattr(s(1)?)))?,
            _ => return Err(bad()),
        };
        // Paths reach the conformance target's sandbox, whose separator is `\`: a `\` in a
        // name would split it (a symlink(2) target is passed as it is).
        let sandbox_paths = match &op {
            Op::Symlink(_, p) => vec![p.as_str()],
            _ => op.paths(),
        };
        if sandbox_paths.iter().any(|p| p.contains('\\')) {
            return Err(format!(
                "`{line}`: a path cannot hold `\\` (the separator of the conformance target's paths)"
            ));
        }
        Ok(op)
    }
}

impl Op {
    /// The paths (relative to the sequence directory) the operation names, targets included.
    pub fn paths(&self) -> Vec<&str> {
        match self {
            Op::Create(p)
            | Op::Mkdir(p)
            | Op::Write(p, ..)
            | Op::Truncate(p, _)
            | Op::Read(p)
            | Op::Stat(p)
            | Op::StatFollow(p)
            | Op::Unlink(p)
            | Op::Rmdir(p)
            | Op::Readlink(p)
            | Op::Unreparse(p)
            | Op::GetReparse(p)
            | Op::List(p)
            | Op::Open(_, p)
            | Op::LinkMany(p, _)
            | Op::SetXattr(p, ..)
            | Op::GetXattr(p, _)
            | Op::RemoveXattr(p, _)
            | Op::ListXattr(p) => vec![p],
            Op::Link(a, b) | Op::Rename(a, b, _) | Op::Junction(a, b) | Op::Symlink(a, b) => {
                vec![a, b]
            }
            Op::FdWrite(..) | Op::FdRead(_) | Op::FdStat(_) | Op::FdTruncate(..) | Op::Close(_) => {
                vec![]
            }
        }
    }

    /// The operation's verb (first word of its text form).
    pub fn verb(&self) -> &'static str {
        match self {
            Op::Create(_) => "create",
            Op::Mkdir(_) => "mkdir",
            Op::Write(..) => "write",
            Op::Truncate(..) => "truncate",
            Op::Read(_) => "read",
            Op::Stat(_) => "stat",
            Op::StatFollow(_) => "statf",
            Op::Link(..) => "link",
            Op::Unlink(_) => "unlink",
            Op::Rmdir(_) => "rmdir",
            Op::Rename(..) => "rename",
            Op::Symlink(..) => "symlink",
            Op::Readlink(_) => "readlink",
            Op::Junction(..) => "junction",
            Op::Unreparse(_) => "unreparse",
            Op::GetReparse(_) => "getreparse",
            Op::List(_) => "ls",
            Op::Open(..) => "open",
            Op::FdWrite(..) => "fwrite",
            Op::FdRead(_) => "fread",
            Op::FdStat(_) => "fstat",
            Op::FdTruncate(..) => "ftruncate",
            Op::Close(_) => "close",
            Op::LinkMany(..) => "linkmany",
            Op::SetXattr(..) => "setx",
            Op::GetXattr(..) => "getx",
            Op::RemoveXattr(..) => "rmx",
            Op::ListXattr(_) => "lsx",
        }
    }
}

/// The bytes a write puts down: a pattern fixed by the seed, different at every offset so that
/// a misplaced block shows.
pub fn pattern(seed: u8, off: u64, len: u32) -> Vec<u8> {
    (0..u64::from(len))
        .map(|i| {
            let x = off + i;
            (x as u8) ^ ((x >> 8) as u8).wrapping_mul(31) ^ seed
        })
        .collect()
}

/// FNV-1a, enough to tell two file contents apart in a report.
pub fn hash(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in data {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_round_trips_through_text() {
        let ops = [
            Op::Create("a/b".into()),
            Op::Mkdir("d".into()),
            Op::Write("a".into(), 5, 100, 7),
            Op::Truncate("a".into(), 9),
            Op::Read("a".into()),
            Op::Stat("a".into()),
            Op::StatFollow("a".into()),
            Op::Link("a".into(), "b".into()),
            Op::Unlink("a".into()),
            Op::Rmdir("a".into()),
            Op::Rename("a".into(), "b".into(), RenameMode::Exchange),
            Op::Symlink("../x".into(), "s".into()),
            Op::Symlink("..\\x".into(), "s".into()),
            Op::Readlink("s".into()),
            Op::Junction("j".into(), "d/e".into()),
            Op::Unreparse("j".into()),
            Op::GetReparse("j".into()),
            Op::List(".".into()),
            Op::Open(3, "a".into()),
            Op::FdWrite(1, 2, 3, 4),
            Op::FdRead(0),
            Op::FdStat(2),
            Op::FdTruncate(1, 0),
            Op::Close(3),
            Op::LinkMany("f".into(), 1100),
            Op::SetXattr("a".into(), 3, 200),
            Op::GetXattr("a/b".into(), 4),
            Op::RemoveXattr("a".into(), 0),
            Op::ListXattr(".".into()),
        ];
        for op in ops {
            let text = op.to_string();
            assert_eq!(text.parse::<Op>(), Ok(op.clone()), "{text}");
            assert!(text.starts_with(op.verb()));
        }
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        for line in [
            "",
            "create",
            "write a 1 2",
            "open 9 a",
            "rename a b sideways",
            "zap a",
            "setx a 5 1",
            "getx a",
            "create a\\b",
            "junction j d\\e",
        ] {
            assert!(line.parse::<Op>().is_err(), "{line}");
        }
    }

    #[test]
    fn pattern_depends_on_offset_and_seed() {
        assert_ne!(pattern(1, 0, 16), pattern(1, 16, 16));
        assert_ne!(pattern(1, 0, 16), pattern(2, 0, 16));
        assert_eq!(pattern(3, 10, 5), pattern(3, 0, 15)[10..].to_vec());
    }
}
