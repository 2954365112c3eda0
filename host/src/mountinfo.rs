//! `/proc/self/mountinfo`: which mount holds a path, and whether a path is a mount point.
//! Reading mountinfo works on a dead FUSE mount too, where every other look at the path fails
//! with ENOTCONN.
//!
//! Line format (proc(5)): `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE
//! SOURCE SUPEROPTIONS`; the mount point and the source write space, tab, newline and
//! backslash as `\ooo` (octal).

use crate::{err, Result};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// One line of mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted (decoded).
    pub mount_point: PathBuf,
    /// The file system type (`fuse`, `fuse.ntlinkfs`, `fuseblk`, `tmpfs`, ...).
    pub fstype: String,
    /// The source (device, image or FSName), decoded.
    pub source: String,
    /// The per-mount options (`rw,nosuid,...`).
    pub options: String,
    /// The file system's own options (for FUSE: `user_id=0,default_permissions,...`).
    pub super_options: String,
}

impl Mount {
    /// Is it a FUSE file system (`fuse`, `fuse.NAME`, `fuseblk`)?
    pub fn is_fuse(&self) -> bool {
        self.fstype.starts_with("fuse")
    }
}

/// The mounts of a mountinfo text, in its order (a later line over the same mount point is
/// stacked on the earlier one). Lines that do not parse are skipped.
pub fn parse(text: &str) -> Vec<Mount> {
    let mut out = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        if sep < 5 || fields.len() < sep + 3 {
            continue;
        }
        out.push(Mount {
            mount_point: PathBuf::from(OsStr::from_bytes(&unescape(fields[4]))),
            fstype: fields[sep + 1].to_string(),
            source: String::from_utf8_lossy(&unescape(fields[sep + 2])).into_owned(),
            options: fields[5].to_string(),
            super_options: fields.get(sep + 3).map_or(String::new(), |o| o.to_string()),
        });
    }
    out
}

/// This process's mounts (`/proc/self/mountinfo`).
pub fn read() -> Result<Vec<Mount>> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse(&t))
        .map_err(|e| err!("/proc/self/mountinfo: {e}"))
}

/// The mount holding `path` (absolute, canonical): the longest mount point it is under, the
/// topmost of stacked mounts.
pub fn holding(path: &Path) -> Result<Mount> {
    holding_in(&read()?, path).ok_or_else(|| err!("no mount holds {}", path.display()))
}

fn holding_in(mounts: &[Mount], path: &Path) -> Option<Mount> {
    let mut best: Option<&Mount> = None;
    for m in mounts {
        if !path.starts_with(&m.mount_point) {
            continue;
        }
        let len = m.mount_point.as_os_str().len();
        if best.is_none_or(|b| len >= b.mount_point.as_os_str().len()) {
            best = Some(m);
        }
    }
    best.cloned()
}

/// The mounts at exactly `path` (absolute), bottom first: more than one when mounts are
/// stacked.
pub fn at(path: &Path) -> Vec<Mount> {
    read()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.mount_point == path)
        .collect()
}

/// Is `path` (absolute) a mount point? False when mountinfo cannot be read.
pub fn is_mountpoint(path: &Path) -> bool {
    !at(path).is_empty()
}

/// Is `path` (absolute) the mount point of a FUSE file system?
pub fn is_fuse_mountpoint(path: &Path) -> bool {
    at(path).iter().any(Mount::is_fuse)
}

/// Decodes mountinfo's `\ooo` escapes; anything else is kept as it is.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = b[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, &c| acc * 8 + u32::from(c - b'0'));
            if let Ok(v) = u8::try_from(v) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /tmp rw shared:2 - tmpfs tmpfs rw
41 40 0:36 / /tmp/a\\040b rw,nosuid - fuse.ntlinkfs ntlinkfs rw,user_id=0
42 40 0:37 / /tmp/img rw - fuseblk /tmp/x\\134y.img rw
43 40 0:38 / /tmp/img rw - tmpfs over rw
garbage line
";

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(unescape(r"/mnt/a\040b"), b"/mnt/a b");
        assert_eq!(unescape(r"/x\134y"), b"/x\\y");
        assert_eq!(unescape("/plain"), b"/plain");
        assert_eq!(unescape(r"/x\0"), br"/x\0");
        assert_eq!(unescape(r"/x\777"), br"/x\777");
        assert_eq!(unescape(r"/x\04"), br"/x\04");
    }

    #[test]
    fn fuse_mounts_are_told_by_type_and_unescaped_point() {
        let info = "36 35 0:40 / /tmp/a\\040b rw,nosuid - fuse.ntlinkfs ntlinkfs rw\n\
                    37 35 0:41 / /x\\134y rw - fuse ntlinkfs rw\n\
                    38 35 0:42 / /plain rw shared:1 - tmpfs tmpfs rw\n\
                    garbage without dash\n";
        let m = parse(info);
        let fuse_at = |p: &str| {
            m.iter()
                .any(|x| x.mount_point == Path::new(p) && x.is_fuse())
        };
        assert!(fuse_at("/tmp/a b"));
        assert!(fuse_at("/x\\y"));
        assert!(!fuse_at("/plain"), "not FUSE");
        assert!(!fuse_at("/tmp/a"));
        assert_eq!(m.len(), 3, "a line without the separator is skipped");
    }

    #[test]
    fn lines_parse() {
        let m = parse(SAMPLE);
        assert_eq!(m.len(), 5);
        assert_eq!(m[2].mount_point, Path::new("/tmp/a b"));
        assert_eq!(m[2].fstype, "fuse.ntlinkfs");
        assert_eq!(m[2].source, "ntlinkfs");
        assert!(m[2].is_fuse() && m[3].is_fuse() && !m[1].is_fuse());
        assert_eq!(m[3].source, r"/tmp/x\y.img");
        assert_eq!(m[2].options, "rw,nosuid");
        assert_eq!(m[2].super_options, "rw,user_id=0");
    }

    #[test]
    fn the_longest_and_topmost_mount_holds_a_path() {
        let m = parse(SAMPLE);
        let h = |p: &str| holding_in(&m, Path::new(p)).unwrap();
        assert_eq!(h("/tmp/a b/c").fstype, "fuse.ntlinkfs");
        assert_eq!(h("/tmp/a bc").fstype, "tmpfs");
        assert_eq!(h("/etc").fstype, "ext4");
        assert_eq!(h("/tmp/img/f").source, "over");
    }

    #[test]
    fn this_process_has_a_root_mount() {
        assert!(is_mountpoint(Path::new("/")));
        assert!(holding(Path::new("/proc/self")).is_ok());
    }
}
