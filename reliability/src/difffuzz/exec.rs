//! Runs operations on one mount and reduces each outcome to text that can be compared with the
//! other mount's: `Ok(summary)` or the failure (an errno's name). Inode numbers, times,
//! directory sizes and the absolute mount path inside link targets are left out or normalised:
//! they differ between any two file systems without meaning anything.
//!
//! Each side is a conformance POSIX target ([`PosixTarget`]) on its mount, and each sequence
//! one of its sandboxes. An operation that is one of the target's ([`NtfsTarget`] methods:
//! create, mkdir, read, hard links, unlink, reparse points set, read and removed, listings)
//! runs through the sandbox, so the fuzzer and the conformance suite make the same calls the
//! same way, with the target's look after a reparse change (needed on ntfs-3g, registry entry
//! `kind-change-eio`; taken on both mounts, see [`Side::open`]). The others are
//! POSIX calls with no NTFS operation behind them (pwrite at an offset, truncate, lstat's file
//! type, rmdir and rename(2) on links, symlink(2), readlink, descriptors kept open, user
//! xattrs) and stay here, in the second half of [`Side::run`].

use super::op::{hash, pattern, xattr_value, Op, SLOTS, XATTR_NAMES};
use crate::errno;
use crate::sys::{self, Kind, Meta};
use conformance::target::{DeleteKind, Failure, NtfsTarget};
use conformance::targets::posix::{PosixSandbox, PosixTarget};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What an operation gave: a summary of the success, or the target's failure (an errno for
/// everything these mounts answer; [`Failure::errno`]).
pub type Outcome = Result<String, Failure>;

/// Outcome as report text: the summary, or the errno's name (a failure that is not an errno,
/// which no mount gives, as the target words it).
pub fn outcome_text(o: &Outcome) -> String {
    match o {
        Ok(s) => s.clone(),
        Err(f) => failure_text(f),
    }
}

/// A failure as report text: the errno's name, or the target's words.
pub fn failure_text(f: &Failure) -> String {
    match f.errno() {
        Some(e) => errno::name(e),
        None => f.to_string(),
    }
}

/// Is the outcome a failure with this errno?
pub fn is_errno(o: &Outcome, e: i32) -> bool {
    matches!(o, Err(f) if f.errno() == Some(e))
}

/// A fresh name for the run directory both sides of one comparison use (unique within the
/// process and across processes, with the process id).
pub fn run_name() -> String {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("difffuzz-{}-{n}", std::process::id())
}

/// One of the two mounts under comparison.
pub struct Side {
    /// "ntlinkfs" or "ntfs-3g".
    pub name: &'static str,
    /// The mount point (`<mnt>` in normalised link targets).
    pub mount: PathBuf,
    /// Where the sequence directories are: the POSIX target's run directory on the mount.
    pub root: PathBuf,
    target: PosixTarget,
    /// The current sequence's sandbox and its name.
    sandbox: Option<(String, PosixSandbox)>,
    /// EIOs met by the settling look of the sandboxes already finished.
    settled_before: u64,
    slots: Vec<Option<File>>,
}

impl Side {
    /// A side on the mount at `mount`: a POSIX target whose flavor is detected from the mount
    /// (ntlinkfs by its type and source, ntfs-3g by its xattrs), with `drive` as the letter
    /// absolute junction targets use. Makes the target's run directory `run` on the mount:
    /// both sides of a comparison take the same name ([`run_name`]), so that a junction's
    /// absolute target, which holds it, is the same bytes on both.
    pub fn open(name: &'static str, mount: &Path, drive: char, run: &str) -> Result<Side, String> {
        let mut target = PosixTarget::open_in(mount, name, None, run)
            .map_err(|e| format!("{name}: cannot open {} as a target: {e}", mount.display()))?;
        if !target.has_ntfs_xattrs() {
            return Err(format!(
                "{name}: {} has no system.ntfs_* extended attributes: not an ntlinkfs or ntfs-3g mount",
                mount.display()
            ));
        }
        target.set_drive(drive);
        // The look after a reparse change is taken only where the registry calls for it
        // (ntfs-3g, `kind-change-eio`): on ntlinkfs the next operation sees the kernel's view
        // right after the change, as a program would, so kernel-cache staleness is a finding.
        // (Taking it on both mounts hid one such bug until it was fixed: a junction to itself
        // walked, renamed and unreparsed was still followed under its new name;
        // docs/RELIABILITY.md.) [`Side::settle_both`] restores the look on both sides.
        let ntfs3g = target.target_flavor() == conformance::target::Flavor::Ntfs3g;
        target.set_settle(ntfs3g);
        Ok(Side {
            name,
            mount: target.mount_root().to_path_buf(),
            root: target.run_dir().to_path_buf(),
            target,
            sandbox: None,
            settled_before: 0,
            slots: (0..SLOTS).map(|_| None).collect(),
        })
    }

    /// Takes the look after a reparse change on this side too (as the fuzzer did before the
    /// staleness it hid was fixed), for comparing with older runs. Applies to the sequences
    /// begun afterwards.
    pub fn settle_both(&mut self) {
        self.target.set_settle(true);
    }

    /// Times the look right after a reparse point change met EIO (the target's settling;
    /// on ntfs-3g that is registry entry `kind-change-eio`).
    pub fn settle_eio(&self) -> u64 {
        self.settled_before + self.sandbox.as_ref().map_or(0, |(_, s)| s.settle_eio())
    }

    /// Starts sequence `seq`: removes what an earlier run left under that name and makes a
    /// fresh sandbox for it.
    pub fn begin_seq(&mut self, seq: &str) -> Result<(), String> {
        self.remove_seq(seq)?;
        let sb = self.target.posix_sandbox(seq)?;
        self.sandbox = Some((seq.to_string(), sb));
        Ok(())
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

    /// Replaces the sequence directory at the start of a link target with `<seq>` (and the
    /// mount path with `<mnt>`), so targets compare across mounts.
    pub fn normalise_target(&self, seq: &str, t: &str) -> String {
        let root = self.mount.to_string_lossy();
        let seq_root = self.root.join(seq);
        let seq_root = seq_root.to_string_lossy();
        let t = match (
            t.strip_prefix(seq_root.as_ref()),
            t.strip_prefix(root.as_ref()),
        ) {
            (Some(rest), _) if rest.is_empty() || rest.starts_with('/') => format!("<seq>{rest}"),
            (_, Some(rest)) if rest.is_empty() || rest.starts_with('/') => format!("<mnt>{rest}"),
            _ => t.to_string(),
        };
        // The sequence directory can appear further in, after the run directory
        // (ntfs-3g's `.NTFS-3G/C:/RUN/sN/..`): both components become `<seq>`.
        let run = self
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parts: Vec<&str> = t.split('/').collect();
        let mut out: Vec<&str> = Vec::with_capacity(parts.len());
        let mut i = 0;
        while i < parts.len() {
            if parts[i] == run && parts.get(i + 1) == Some(&seq) {
                out.push("<seq>");
                i += 2;
            } else {
                out.push(if parts[i] == seq { "<seq>" } else { parts[i] });
                i += 1;
            }
        }
        out.join("/")
    }

    /// The sandbox of sequence `seq`, or why there is none.
    fn sandbox(&mut self, seq: &str) -> Result<&mut PosixSandbox, Failure> {
        match &mut self.sandbox {
            Some((s, sb)) if s == seq => Ok(sb),
            _ => Err(Failure::Broken(format!(
                "{}: sequence {seq} was not begun",
                self.name
            ))),
        }
    }

    /// Runs one operation inside sequence directory `seq`: through the conformance target
    /// when it is one of the target's operations, as a POSIX call otherwise.
    pub fn run(&mut self, seq: &str, op: &Op) -> Outcome {
        // Sandbox paths are `\`-separated (Op's parser refuses a `\` in a path).
        let w = |p: &str| {
            if p == "." {
                String::new()
            } else {
                p.replace('/', "\\")
            }
        };
        match op {
            Op::Create(p) => self.sandbox(seq)?.create_file(&w(p)).map(|_| ok()),
            Op::Mkdir(p) => self.sandbox(seq)?.create_dir(&w(p)).map(|_| ok()),
            Op::Read(p) => self
                .sandbox(seq)?
                .read_file(&w(p))
                .map(|d| data_summary(&d)),
            Op::Link(a, b) => self.sandbox(seq)?.hard_link(&w(a), &w(b)).map(|_| ok()),
            Op::LinkMany(p, n) => {
                let sb = self.sandbox(seq)?;
                let mut made = 0;
                for k in 1..=*n {
                    if let Err(f) = sb.hard_link(&w(p), &w(&format!("{p}.l{k}"))) {
                        return Ok(format!("made {made} then {}", failure_text(&f)));
                    }
                    made += 1;
                }
                Ok(format!("made {made}"))
            }
            Op::Unlink(p) => {
                // unlink(2) is DeleteFileW on a file and RemoveDirectoryW on a junction or
                // directory symlink (the target says which it cannot express, never both).
                let sb = self.sandbox(seq)?;
                match sb.delete(&w(p), DeleteKind::File) {
                    Err(Failure::Unsupported(_)) => sb.delete(&w(p), DeleteKind::Directory),
                    r => r,
                }
                .map(|_| ok())
            }
            Op::Junction(p, t) => {
                // `\??\X:\RUN\sN\target` as `mklink /J` writes it (A3), set on what `p` is
                // (any file or directory: FSCTL_SET_REPARSE_POINT, not `mklink /J`'s mkdir).
                let sb = self.sandbox(seq)?;
                let win = sb.absolute(&w(t));
                let buf = vfs_core::reparse::junction_for_target(
                    &vfs_core::name::wide(&win),
                    win.chars().next().unwrap_or('C'),
                )
                .map(|b| b.into_bytes())
                .unwrap_or_default();
                sb.set_reparse_point(&w(p), &buf).map(|_| ok())
            }
            Op::Unreparse(p) => {
                // FSCTL_DELETE_REPARSE_POINT needs the tag: read it first (FSCTL_GET), as a
                // Windows program removing whatever reparse point is there does.
                let sb = self.sandbox(seq)?;
                let stored = sb.get_reparse_point(&w(p))?;
                sb.delete_reparse_point(&w(p), &stored[..stored.len().min(8)])
                    .map(|_| ok())
            }
            Op::GetReparse(p) => self.sandbox(seq)?.get_reparse_point(&w(p)).map(|b| {
                let tag = b
                    .get(..4)
                    .map(|t| u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
                    .unwrap_or(0);
                format!("tag={tag:#x} len={} h={:08x}", b.len(), hash(&b))
            }),
            Op::List(p) => self.sandbox(seq)?.list_dir(&w(p)).map(|mut n| {
                // Sorted, and without libfuse's hidden names (see sys::list_dir): the order
                // and those names are no NTFS behaviour.
                n.retain(|x| !sys::is_fuse_hidden(x));
                n.sort();
                format!("[{}]", n.join(", "))
            }),
            // The rest are POSIX calls with no conformance-target operation behind them.
            Op::Write(p, off, len, seed) => posix(
                sys::open_rw(&self.at(seq, p))
                    .and_then(|f| sys::pwrite(&f, *off, &pattern(*seed, *off, *len)))
                    .map(|_| ok()),
            ),
            Op::Truncate(p, n) => posix(sys::truncate(&self.at(seq, p), *n).map(|_| ok())),
            // lstat's file type and st_nlink (the target's stat is the NTFS view through the
            // xattrs, where ntfs-3g's symlink(2) links are no reparse points).
            Op::Stat(p) => posix(sys::lstat(&self.at(seq, p)).map(|m| meta_summary(&m))),
            Op::StatFollow(p) => posix(sys::stat(&self.at(seq, p)).map(|m| meta_summary(&m))),
            // rmdir(2) of a junction is ENOTDIR, where RemoveDirectoryW removes it.
            Op::Rmdir(p) => posix(sys::rmdir(&self.at(seq, p)).map(|_| ok())),
            // renameat2 with its Linux modes, onto anything: MoveFileExW is a narrower call
            // (the target refuses what rename(2) cannot express of it).
            Op::Rename(a, b, m) => {
                posix(sys::rename(&self.at(seq, a), &self.at(seq, b), *m).map(|_| ok()))
            }
            // symlink(2) itself (the target's CreateSymbolicLinkW writes reparse data).
            Op::Symlink(t, p) => posix(sys::symlink(t, &self.at(seq, p)).map(|_| ok())),
            Op::Readlink(p) => {
                posix(sys::readlink(&self.at(seq, p)).map(|t| self.normalise_target(seq, &t)))
            }
            Op::SetXattr(p, k, v) => posix(
                sys::lsetxattr(&self.at(seq, p), XATTR_NAMES[*k], &xattr_value(*v)).map(|_| ok()),
            ),
            Op::GetXattr(p, k) => posix(
                sys::lgetxattr(&self.at(seq, p), XATTR_NAMES[*k])
                    .map(|b| format!("len={} h={:08x}", b.len(), hash(&b))),
            ),
            Op::RemoveXattr(p, k) => {
                posix(sys::lremovexattr(&self.at(seq, p), XATTR_NAMES[*k]).map(|_| ok()))
            }
            Op::ListXattr(p) => posix(sys::llistxattr(&self.at(seq, p)).map(|mut n| {
                n.sort();
                let shown: Vec<String> = n.iter().map(|b| b.escape_ascii().to_string()).collect();
                format!("[{}]", shown.join(", "))
            })),
            // Descriptors kept open for pwrite, ftruncate and fstat at any point: the
            // target's handles read and stat only.
            Op::Open(s, p) => posix(sys::open_rw(&self.at(seq, p)).map(|f| {
                self.slots[*s] = Some(f);
                ok()
            })),
            Op::FdWrite(s, off, len, seed) => posix(
                self.slot(*s)
                    .and_then(|f| sys::pwrite(f, *off, &pattern(*seed, *off, *len)))
                    .map(|_| ok()),
            ),
            Op::FdRead(s) => posix(
                self.slot(*s)
                    .and_then(sys::read_all)
                    .map(|d| data_summary(&d)),
            ),
            Op::FdStat(s) => posix(self.slot(*s).and_then(sys::fstat).map(|m| meta_summary(&m))),
            Op::FdTruncate(s, n) => posix(
                self.slot(*s)
                    .and_then(|f| sys::ftruncate(f, *n))
                    .map(|_| ok()),
            ),
            Op::Close(s) => posix(self.slots[*s].take().map(|_| ok()).ok_or(libc::EBADF)),
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
            Op::Read(p) => Some(posix(sys::open_ro(&self.at(seq, p)).and_then(|f| read(&f)))),
            Op::FdRead(s) => Some(posix(self.slot(*s).and_then(read))),
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
        if let Some((_, sb)) = self.sandbox.take() {
            self.settled_before += sb.settle_eio();
        }
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
                sys::settle_after_kind_change(p);
                remove_tree(p)
            }
            Err(e) => Err(format!("unlink {}: {}", p.display(), errno::name(e))),
        },
    }
}

fn ok() -> String {
    "ok".to_string()
}

/// A POSIX call's result as an outcome.
fn posix(r: sys::SysResult<String>) -> Outcome {
    r.map_err(Failure::Errno)
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

impl Drop for Side {
    /// Removes the target's run directory (the sequences are removed as they end; what is
    /// left is reported by them, not here).
    fn drop(&mut self) {
        self.close_all();
        self.sandbox = None;
        let _ = conformance::target::Target::finish(&mut self.target);
    }
}
