//! Runs operations on one mount and reduces each outcome to text that can be compared with the
//! other mount's: `Ok(summary)` or the errno's name. Inode numbers, times, directory sizes and
//! the absolute mount path inside link targets are left out or normalised: they differ between
//! any two file systems without meaning anything.

use super::op::{hash, pattern, xattr_value, Op, SLOTS, XATTR_NAMES};
use crate::errno;
use crate::sys::{self, Kind, Meta};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What an operation gave: a summary of the success, or an errno.
pub type Outcome = Result<String, i32>;

/// Outcome as report text: the summary, or the errno's name.
pub fn outcome_text(o: &Outcome) -> String {
    match o {
        Ok(s) => s.clone(),
        Err(e) => errno::name(*e),
    }
}

/// One of the two mounts under comparison.
pub struct Side {
    /// "ntlinkfs" or "ntfs-3g".
    pub name: &'static str,
    /// The mount point.
    pub root: PathBuf,
    /// The drive letter absolute junction targets use for this volume.
    pub drive: char,
    /// Times the look right after a reparse point change met EIO (see [`settle`]).
    pub settle_eio: u64,
    slots: Vec<Option<File>>,
}

impl Side {
    /// A side rooted at `root`.
    pub fn new(name: &'static str, root: &Path, drive: char) -> Side {
        Side {
            name,
            root: root.to_path_buf(),
            drive,
            settle_eio: 0,
            slots: (0..SLOTS).map(|_| None).collect(),
        }
    }

    fn at(&self, seq: &str, rel: &str) -> PathBuf {
        let base = self.root.join(seq);
        if rel == "." {
            base
        } else {
            base.join(rel)
        }
    }

    /// Closes every descriptor slot.
    pub fn close_all(&mut self) {
        for s in &mut self.slots {
            *s = None;
        }
    }

    /// The junction buffer for a sequence-relative target: `\??\C:\seq\target` as `mklink /J`
    /// writes it (vfs_core::reparse::junction_for_target, A3).
    pub fn junction_buffer(&self, seq: &str, target: &str) -> Vec<u8> {
        let mut win = format!("{}:\\{seq}", self.drive);
        if target != "." {
            win.push('\\');
            win.push_str(&target.replace('/', "\\"));
        }
        vfs_core::reparse::junction_for_target(&vfs_core::name::wide(&win), self.drive)
            .map(|b| b.into_bytes())
            .unwrap_or_default()
    }

    /// Replaces the mount path at the start of a link target with `<mnt>` (and the sequence
    /// directory with `<seq>`), so targets compare across mounts.
    pub fn normalise_target(&self, seq: &str, t: &str) -> String {
        let root = self.root.to_string_lossy();
        let seq_root = format!("{root}/{seq}");
        let t = match (t.strip_prefix(&seq_root), t.strip_prefix(root.as_ref())) {
            (Some(rest), _) if rest.is_empty() || rest.starts_with('/') => format!("<seq>{rest}"),
            (_, Some(rest)) if rest.is_empty() || rest.starts_with('/') => format!("<mnt>{rest}"),
            _ => t.to_string(),
        };
        // The sequence directory's name can appear further in (ntfs-3g's `.NTFS-3G/C:/sN/..`).
        t.split('/')
            .map(|c| if c == seq { "<seq>" } else { c })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Runs one operation inside sequence directory `seq`.
    pub fn run(&mut self, seq: &str, op: &Op) -> Outcome {
        match op {
            Op::Create(p) => sys::create_new(&self.at(seq, p)).map(|_| ok()),
            Op::Mkdir(p) => sys::mkdir(&self.at(seq, p)).map(|_| ok()),
            Op::Write(p, off, len, seed) => {
                let f = sys::open_rw(&self.at(seq, p))?;
                sys::pwrite(&f, *off, &pattern(*seed, *off, *len)).map(|_| ok())
            }
            Op::Truncate(p, n) => sys::truncate(&self.at(seq, p), *n).map(|_| ok()),
            Op::Read(p) => {
                let f = sys::open_ro(&self.at(seq, p))?;
                sys::read_all(&f).map(|d| data_summary(&d))
            }
            Op::Stat(p) => sys::lstat(&self.at(seq, p)).map(|m| meta_summary(&m)),
            Op::StatFollow(p) => sys::stat(&self.at(seq, p)).map(|m| meta_summary(&m)),
            Op::Link(a, b) => sys::link(&self.at(seq, a), &self.at(seq, b)).map(|_| ok()),
            Op::Unlink(p) => sys::unlink(&self.at(seq, p)).map(|_| ok()),
            Op::Rmdir(p) => sys::rmdir(&self.at(seq, p)).map(|_| ok()),
            Op::Rename(a, b, m) => {
                sys::rename(&self.at(seq, a), &self.at(seq, b), *m).map(|_| ok())
            }
            Op::Symlink(t, p) => sys::symlink(t, &self.at(seq, p)).map(|_| ok()),
            Op::Readlink(p) => {
                sys::readlink(&self.at(seq, p)).map(|t| self.normalise_target(seq, &t))
            }
            Op::Junction(p, t) => {
                let path = self.at(seq, p);
                let buf = self.junction_buffer(seq, t);
                let r = sys::lsetxattr(&path, host::xattrs::ntfs::REPARSE_DATA, &buf).map(|_| ok());
                self.settle_eio += settle(&path);
                r
            }
            Op::Unreparse(p) => {
                let path = self.at(seq, p);
                let r = sys::lremovexattr(&path, host::xattrs::ntfs::REPARSE_DATA).map(|_| ok());
                self.settle_eio += settle(&path);
                r
            }
            Op::GetReparse(p) => sys::lgetxattr(&self.at(seq, p), host::xattrs::ntfs::REPARSE_DATA)
                .map(|b| {
                    let tag = b
                        .get(..4)
                        .map(|t| u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
                        .unwrap_or(0);
                    format!("tag={tag:#x} len={} h={:08x}", b.len(), hash(&b))
                }),
            Op::List(p) => sys::list_dir(&self.at(seq, p)).map(|n| format!("[{}]", n.join(", "))),
            Op::SetXattr(p, k, v) => {
                sys::lsetxattr(&self.at(seq, p), XATTR_NAMES[*k], &xattr_value(*v)).map(|_| ok())
            }
            Op::GetXattr(p, k) => sys::lgetxattr(&self.at(seq, p), XATTR_NAMES[*k])
                .map(|b| format!("len={} h={:08x}", b.len(), hash(&b))),
            Op::RemoveXattr(p, k) => {
                sys::lremovexattr(&self.at(seq, p), XATTR_NAMES[*k]).map(|_| ok())
            }
            Op::ListXattr(p) => sys::llistxattr(&self.at(seq, p)).map(|mut n| {
                n.sort();
                let shown: Vec<String> = n.iter().map(|b| b.escape_ascii().to_string()).collect();
                format!("[{}]", shown.join(", "))
            }),
            Op::Open(s, p) => {
                let f = sys::open_rw(&self.at(seq, p))?;
                self.slots[*s] = Some(f);
                Ok(ok())
            }
            Op::FdWrite(s, off, len, seed) => {
                let f = self.slot(*s)?;
                sys::pwrite(f, *off, &pattern(*seed, *off, *len)).map(|_| ok())
            }
            Op::FdRead(s) => sys::read_all(self.slot(*s)?).map(|d| data_summary(&d)),
            Op::FdStat(s) => sys::fstat(self.slot(*s)?).map(|m| meta_summary(&m)),
            Op::FdTruncate(s, n) => sys::ftruncate(self.slot(*s)?, *n).map(|_| ok()),
            Op::Close(s) => {
                self.slots[*s].take().ok_or(libc::EBADF)?;
                Ok(ok())
            }
            Op::LinkMany(p, n) => {
                let src = self.at(seq, p);
                let mut made = 0;
                for k in 1..=*n {
                    let dst = self.at(seq, &format!("{p}.l{k}"));
                    if let Err(e) = sys::link(&src, &dst) {
                        return Ok(format!("made {made} then {}", errno::name(e)));
                    }
                    made += 1;
                }
                Ok(format!("made {made}"))
            }
        }
    }

    /// Is some descriptor slot open?
    pub fn any_open(&self) -> bool {
        self.slots.iter().any(|s| s.is_some())
    }

    /// Does ntfs-3g show a junction below the sequence directory as a link into its
    /// `MOUNT/.NTFS-3G/`, or with a `\\` left in its target (how it presents a junction it
    /// cannot resolve to an existing directory)?
    pub fn has_unresolved_junction(&self, seq: &str) -> bool {
        self.paths(seq).iter().any(|(p, k)| {
            *k == Kind::Symlink
                && sys::readlink(&self.at(seq, p)).is_ok_and(|t| {
                    self.normalise_target(seq, &t)
                        .starts_with("<mnt>/.NTFS-3G/")
                        || t.contains('\\')
                })
        })
    }

    /// Runs a read again after dropping the file's cached pages (None for other operations):
    /// tells a stale kernel page cache from wrong data in the file system.
    pub fn reread_uncached(&mut self, seq: &str, op: &Op) -> Option<Outcome> {
        let read = |f: &File| {
            sys::drop_page_cache(f)?;
            sys::read_all(f).map(|d| data_summary(&d))
        };
        match op {
            Op::Read(p) => Some(sys::open_ro(&self.at(seq, p)).and_then(|f| read(&f))),
            Op::FdRead(s) => Some(self.slot(*s).and_then(read)),
            _ => None,
        }
    }

    fn slot(&self, s: usize) -> Result<&File, i32> {
        self.slots
            .get(s)
            .and_then(|f| f.as_ref())
            .ok_or(libc::EBADF)
    }

    /// Every entry below the sequence directory, one line each (kind, link count, size and
    /// content hash of files, normalised link targets), sorted: the state to compare when a
    /// sequence ends without a difference.
    pub fn snapshot(&self, seq: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(seq, &self.root.join(seq), "", &mut out, 0);
        out.sort();
        out
    }

    fn walk(&self, seq: &str, dir: &Path, rel: &str, out: &mut Vec<String>, depth: usize) {
        let names = match sys::list_dir(dir) {
            Ok(n) => n,
            Err(e) => {
                out.push(format!("{rel}/ list {}", errno::name(e)));
                return;
            }
        };
        for n in names {
            let p = dir.join(&n);
            let r = if rel.is_empty() {
                n.clone()
            } else {
                format!("{rel}/{n}")
            };
            match sys::lstat(&p) {
                Err(e) => out.push(format!("{r} {}", errno::name(e))),
                Ok(m) => match m.kind {
                    Kind::File => {
                        // Read what the file system holds, not the kernel's cached pages
                        // (ntfs-3g's can be stale across hard links; see host/divergences.toml).
                        let data = sys::open_ro(&p).and_then(|f| {
                            sys::drop_page_cache(&f)?;
                            sys::read_all(&f)
                        });
                        let d = match data {
                            Ok(d) => data_summary(&d),
                            Err(e) => errno::name(e),
                        };
                        out.push(format!("{r} file nlink={} {d}", m.nlink));
                    }
                    Kind::Dir => {
                        out.push(format!("{r} dir nlink={}", m.nlink));
                        if depth < 16 {
                            self.walk(seq, &p, &r, out, depth + 1);
                        }
                    }
                    Kind::Symlink => {
                        let t = sys::readlink(&p)
                            .map(|t| self.normalise_target(seq, &t))
                            .unwrap_or_else(errno::name);
                        out.push(format!("{r} symlink -> {t}"));
                    }
                    Kind::Other => out.push(format!("{r} other")),
                },
            }
        }
    }

    /// The paths below the sequence directory (not through links), for the generator.
    pub fn paths(&self, seq: &str) -> Vec<(String, Kind)> {
        let mut out = Vec::new();
        let mut stack = vec![(self.root.join(seq), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            for n in sys::list_dir(&dir).unwrap_or_default() {
                let p = dir.join(&n);
                let r = if rel.is_empty() {
                    n.clone()
                } else {
                    format!("{rel}/{n}")
                };
                if let Ok(m) = sys::lstat(&p) {
                    if m.kind == Kind::Dir && r.matches('/').count() < 4 {
                        stack.push((p, r.clone()));
                    }
                    out.push((r, m.kind));
                }
            }
        }
        out.sort();
        out
    }

    /// Removes a sequence directory and everything in it, removing links as links (never
    /// following them). Returns the first error.
    pub fn remove_seq(&mut self, seq: &str) -> Result<(), String> {
        self.close_all();
        let p = self.root.join(seq);
        // A second pass catches what the first met in a transient state (an EIO right after a
        // reparse point was dropped, a hidden file not yet released).
        remove_tree(&p).or_else(|_| remove_tree(&p)).map_err(|e| {
            let mut left = Vec::new();
            self.walk(seq, &p, "", &mut left, 0);
            format!("{e} (left: {})", left.join("; "))
        })
    }

    /// Are there libfuse hidden files (open files whose name was unlinked or replaced, see
    /// [`sys::list_dir`]) below the sequence directory?
    pub fn has_hidden_files(&self, seq: &str) -> bool {
        let mut stack = vec![self.root.join(seq)];
        while let Some(d) = stack.pop() {
            for n in sys::list_dir_all(&d).unwrap_or_default() {
                if sys::is_fuse_hidden(&n) {
                    return true;
                }
                let p = d.join(&n);
                if sys::lstat(&p).is_ok_and(|m| m.kind == Kind::Dir) {
                    stack.push(p);
                }
            }
        }
        false
    }
}

fn remove_tree(p: &Path) -> Result<(), String> {
    match sys::lstat(p) {
        Err(libc::ENOENT) => Ok(()),
        Err(e) => Err(format!("lstat {}: {}", p.display(), errno::name(e))),
        Ok(m) if m.kind == Kind::Dir => {
            let mut first = Ok(());
            // A libfuse hidden file goes when its last descriptor's release reaches the
            // daemon, which close(2) does not wait for: list again a few times, and in the
            // end remove the hidden file itself.
            let mut seen = Vec::new();
            for attempt in 0..50 {
                let names = sys::list_dir_all(p)
                    .map_err(|e| format!("list {}: {}", p.display(), errno::name(e)))?;
                for n in &names {
                    if sys::is_fuse_hidden(n) && attempt < 20 {
                        continue;
                    }
                    if let Err(e) = remove_tree(&p.join(n)) {
                        if first.is_ok() {
                            first = Err(e);
                        }
                    }
                }
                match sys::rmdir(p) {
                    Ok(()) => return first,
                    Err(libc::ENOTEMPTY) if attempt < 49 => {
                        seen = names;
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(e) => {
                        return Err(format!(
                            "rmdir {}: {} (entries: {})",
                            p.display(),
                            errno::name(e),
                            seen.join(", ")
                        ));
                    }
                }
            }
            first
        }
        Ok(m) => match sys::unlink(p) {
            Ok(()) => Ok(()),
            // A junction that hides entries (ntfs-3g sets one on a non-empty directory): drop
            // the reparse point and remove what is below.
            Err(_)
                if m.kind == Kind::Symlink
                    && sys::lremovexattr(p, host::xattrs::ntfs::REPARSE_DATA).is_ok() =>
            {
                settle(p);
                remove_tree(p)
            }
            Err(e) => Err(format!("unlink {}: {}", p.display(), errno::name(e))),
        },
    }
}

fn ok() -> String {
    "ok".to_string()
}

fn data_summary(d: &[u8]) -> String {
    format!("len={} h={:08x}", d.len(), hash(d))
}

/// `lstat` summary: kind, link count, and the size of files (directory and link sizes differ
/// between any two file systems).
fn meta_summary(m: &Meta) -> String {
    match m.kind {
        Kind::File => format!("file nlink={} size={}", m.nlink, m.size),
        Kind::Dir => format!("dir nlink={}", m.nlink),
        k => k.as_str().to_string(),
    }
}

/// The look after a reparse change ([`sys::settle_after_kind_change`]): not compared, but the
/// EIOs are counted (returned) and reported.
fn settle(p: &Path) -> u64 {
    sys::settle_after_kind_change(p)
}
