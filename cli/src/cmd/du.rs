//! `ntlinkfs du [--json] PATH...`: the size of a tree, counting each file once.
//!
//! Windows has no du, and Explorer's folder size counts a file with several hard links once
//! per name — the directory-size problem the seeds quote ("multiple hard links count twice
//! ... I do not know of any solution to this problem"). This command walks the tree under
//! PATH without following symbolic links or junctions (a link is a name of its own, sized as
//! the link), and reports:
//!
//! * `names`: the non-directory names seen;
//! * `files`: the distinct files among them, by file id (NTFS's file reference; on Linux
//!   `st_ino` per device, the file id on ntlinkfs and the MFT reference on ntfs-3g);
//! * `apparent_bytes_all_names`: the bytes a naive tool counts, every name counted;
//! * `unique_bytes`: each file counted once;
//! * `shared_bytes`: the files with more than one name (link count > 1), once each;
//! * `shared_outside_bytes`: the files that also have a name outside PATH (link count larger
//!   than the names seen inside) — what deleting PATH would not free.
//!
//! Each byte figure has its allocated size beside it (`…_allocated`: `st_blocks * 512` on
//! Linux, the allocation size on Windows). A table by default, JSON with `--json` (one object
//! for one PATH, an array for several). A progress line goes to stderr on large trees, only
//! when stderr is a terminal.

use crate::wincmd_sys as sys;
use serde::Serialize;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `--help` text.
pub const LONG_HELP: &str = "\
The Windows original: none — Windows has no du, and Explorer's folder properties count a
file with several hard links once per name. This is du for NTFS hard links.

For the tree under each PATH (symbolic links and junctions are not followed; each counts as
a name of its own): the names, the distinct files (by file id), the bytes counted once per
name (what a naive tool reports), the bytes with each file counted once, the bytes in files
with more than one name, and the bytes in files that also have a name outside PATH (their
link count is larger than the names seen inside: deleting PATH would not free them). Each
with its allocated size. --json prints the same with the field names names, files,
apparent_bytes_all_names, unique_bytes, shared_bytes, shared_outside_bytes and an
..._allocated field beside each byte figure. Works on any file system; file ids come from
st_ino (ntlinkfs: the NTFS file id; ntfs-3g: the NTFS file reference).";

/// Arguments of `ntlinkfs du`.
#[derive(clap::Args, Debug)]
pub struct DuArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The trees to measure.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
}

/// The figures for one tree (field names as issue 15 fixes them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The PATH measured, as given.
    pub path: String,
    /// Non-directory names seen.
    pub names: u64,
    /// Distinct files among them.
    pub files: u64,
    /// Sizes summed over every name.
    pub apparent_bytes_all_names: u64,
    /// Allocated sizes summed over every name.
    pub apparent_bytes_all_names_allocated: u64,
    /// Sizes with each file once.
    pub unique_bytes: u64,
    /// Allocated sizes with each file once.
    pub unique_bytes_allocated: u64,
    /// Sizes of files with more than one name, once each.
    pub shared_bytes: u64,
    /// Their allocated sizes.
    pub shared_bytes_allocated: u64,
    /// Sizes of files that also have names outside the tree, once each.
    pub shared_outside_bytes: u64,
    /// Their allocated sizes.
    pub shared_outside_bytes_allocated: u64,
}

#[derive(Debug, Clone, Copy)]
struct Multi {
    nlink: u64,
    seen: u64,
    size: u64,
    allocated: u64,
}

/// The accounting, independent of how the names are found.
#[derive(Debug, Default)]
pub struct Tally {
    names: u64,
    single_files: u64,
    all: (u64, u64),
    single: (u64, u64),
    /// Files with more than one name, by key: only these can be seen twice.
    multi: HashMap<(u64, u64), Multi>,
    /// Bytes with each file once, kept as names come (for the progress line, which must not
    /// walk `multi` each time).
    unique_so_far: u64,
}

impl Tally {
    /// One name: the file's key (volume, file id), link count, size and allocation.
    pub fn add(&mut self, key: (u64, u64), nlink: u64, size: u64, allocated: u64) {
        self.names += 1;
        self.all.0 += size;
        self.all.1 += allocated;
        if nlink <= 1 {
            self.single_files += 1;
            self.single.0 += size;
            self.single.1 += allocated;
            self.unique_so_far += size;
            return;
        }
        match self.multi.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().seen += 1,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Multi {
                    nlink,
                    seen: 1,
                    size,
                    allocated,
                });
                self.unique_so_far += size;
            }
        }
    }

    /// Names counted so far.
    pub fn names(&self) -> u64 {
        self.names
    }

    /// Distinct files so far.
    pub fn files(&self) -> u64 {
        self.single_files + self.multi.len() as u64
    }

    /// Bytes with each file once, so far.
    pub fn unique_bytes(&self) -> u64 {
        self.unique_so_far
    }

    /// The figures.
    pub fn summary(&self, path: &str) -> Summary {
        let mut s = Summary {
            path: path.to_string(),
            names: self.names,
            files: self.single_files + self.multi.len() as u64,
            apparent_bytes_all_names: self.all.0,
            apparent_bytes_all_names_allocated: self.all.1,
            unique_bytes: self.single.0,
            unique_bytes_allocated: self.single.1,
            ..Summary::default()
        };
        for m in self.multi.values() {
            s.unique_bytes += m.size;
            s.unique_bytes_allocated += m.allocated;
            s.shared_bytes += m.size;
            s.shared_bytes_allocated += m.allocated;
            if m.nlink > m.seen {
                s.shared_outside_bytes += m.size;
                s.shared_outside_bytes_allocated += m.allocated;
            }
        }
        s
    }
}

/// `4.0 GiB` and the like.
pub fn human(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The table for people.
pub fn table(s: &Summary) -> String {
    let row = |label: &str, b: u64, a: u64| {
        format!(
            "  {label:<34} {b:>16} {:>10}   {a:>16} {:>10}\n",
            human(b),
            human(a)
        )
    };
    let mut out = format!("{}\n", s.path);
    out.push_str(&format!("  {:<34} {:>16}\n", "names", s.names));
    out.push_str(&format!(
        "  {:<34} {:>16}\n",
        "files (distinct file ids)", s.files
    ));
    out.push_str(&format!(
        "  {:<34} {:>27}   {:>27}\n",
        "", "bytes", "allocated"
    ));
    out.push_str(&row(
        "every name counted (naive)",
        s.apparent_bytes_all_names,
        s.apparent_bytes_all_names_allocated,
    ));
    out.push_str(&row(
        "each file once",
        s.unique_bytes,
        s.unique_bytes_allocated,
    ));
    out.push_str(&row(
        "in files with more than one name",
        s.shared_bytes,
        s.shared_bytes_allocated,
    ));
    out.push_str(&row(
        "also named outside (not freed)",
        s.shared_outside_bytes,
        s.shared_outside_bytes_allocated,
    ));
    out
}

/// Names after which a progress line appears (when stderr is a terminal).
const PROGRESS_AFTER_NAMES: u64 = 10_000;
/// …or time after which it appears.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// Walks the tree under `root` into a tally; unreadable entries are reported on stderr and
/// make the result incomplete (`false`).
pub fn measure(root: &Path) -> (Tally, bool) {
    let mut tally = Tally::default();
    let mut complete = true;
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let mut progress: Option<indicatif::ProgressBar> = None;
    let vol = sys::volume_of(root).ok();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("ntlinkfs du: {}: {e}", p.display());
                complete = false;
                continue;
            }
        };
        if md.is_dir() {
            match std::fs::read_dir(&p) {
                Ok(rd) => {
                    for e in rd {
                        match e {
                            Ok(e) => stack.push(e.path()),
                            Err(e) => {
                                eprintln!("ntlinkfs du: {}: {e}", p.display());
                                complete = false;
                            }
                        }
                    }
                }
                Err(e) => {
                    eprintln!("ntlinkfs du: {}: {e}", p.display());
                    complete = false;
                }
            }
            continue;
        }
        let ident = match &vol {
            Some(v) => sys::identify(v, &p, &md),
            None => sys::identify(
                &sys::Vol {
                    root: PathBuf::new(),
                    flavor: sys::Flavor::Host,
                },
                &p,
                &md,
            ),
        };
        tally.add(ident.key, ident.nlink, md.len(), ident.allocated);
        if tty && tally.names() % 1024 == 0 {
            if progress.is_none()
                && (tally.names() >= PROGRESS_AFTER_NAMES || started.elapsed() >= PROGRESS_AFTER)
            {
                progress = Some(indicatif::ProgressBar::new_spinner());
            }
            if let Some(pb) = &progress {
                pb.set_message(format!(
                    "{}: {} names, {} files, {} so far",
                    root.display(),
                    tally.names(),
                    tally.files(),
                    human(tally.unique_bytes())
                ));
                pb.tick();
            }
        }
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    (tally, complete)
}

/// Runs `ntlinkfs du`.
pub fn run(a: DuArgs) -> anyhow::Result<i32> {
    let mut summaries = Vec::new();
    let mut code = 0;
    for p in &a.paths {
        if let Err(e) = std::fs::symlink_metadata(p) {
            eprintln!("ntlinkfs du: {}: {e}", p.display());
            code = 1;
            continue;
        }
        let (tally, complete) = measure(p);
        if !complete {
            code = 1;
        }
        summaries.push(tally.summary(&p.display().to_string()));
    }
    if a.json {
        let text = if summaries.len() == 1 {
            serde_json::to_string_pretty(&summaries[0])?
        } else {
            serde_json::to_string_pretty(&summaries)?
        };
        println!("{text}");
    } else {
        for s in &summaries {
            print!("{}", table(s));
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds' case: a 4 GiB file with three names, two of them inside the tree, plus a
    /// plain file and a symlink.
    #[test]
    fn each_file_once_and_what_is_shared() {
        let mut t = Tally::default();
        let iso = 4 << 30;
        t.add((1, 10), 3, iso, 4096);
        t.add((1, 10), 3, iso, 4096);
        t.add((1, 11), 1, 100, 4096);
        t.add((1, 12), 2, 7, 512); // both names inside
        t.add((1, 12), 2, 7, 512);
        let s = t.summary("p");
        assert_eq!(s.names, 5);
        assert_eq!(s.files, 3);
        assert_eq!(s.apparent_bytes_all_names, 2 * iso + 100 + 14);
        assert_eq!(s.apparent_bytes_all_names_allocated, 3 * 4096 + 1024);
        assert_eq!(s.unique_bytes, iso + 100 + 7);
        assert_eq!(s.unique_bytes_allocated, 2 * 4096 + 512);
        assert_eq!(s.shared_bytes, iso + 7);
        assert_eq!(s.shared_bytes_allocated, 4096 + 512);
        assert_eq!(s.shared_outside_bytes, iso);
        assert_eq!(s.shared_outside_bytes_allocated, 4096);
        // The running figures agree with the summary.
        assert_eq!(
            (t.names(), t.files(), t.unique_bytes()),
            (5, 3, s.unique_bytes)
        );
    }

    /// The same file id on another volume is another file.
    #[test]
    fn keys_include_the_volume() {
        let mut t = Tally::default();
        t.add((1, 10), 2, 5, 0);
        t.add((2, 10), 2, 5, 0);
        let s = t.summary("p");
        assert_eq!(
            (s.files, s.unique_bytes, s.shared_outside_bytes),
            (2, 10, 10)
        );
    }

    #[test]
    fn json_field_names_are_the_issues() {
        let v = serde_json::to_value(Tally::default().summary("x")).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "names",
            "files",
            "apparent_bytes_all_names",
            "apparent_bytes_all_names_allocated",
            "unique_bytes",
            "unique_bytes_allocated",
            "shared_bytes",
            "shared_bytes_allocated",
            "shared_outside_bytes",
            "shared_outside_bytes_allocated",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(4 << 30), "4.0 GiB");
        assert_eq!(human(1536), "1.5 KiB");
    }

    #[test]
    fn table_rows() {
        let mut t = Tally::default();
        t.add((1, 1), 2, 2048, 4096);
        let text = table(&t.summary("tree"));
        assert!(text.starts_with("tree\n"));
        assert!(text
            .lines()
            .any(|l| l.contains("each file once") && l.contains("2048")));
        assert!(text
            .lines()
            .any(|l| l.contains("also named outside") && l.contains("4.0 KiB")));
    }

    /// A real walk on the host file system: hard links inside and outside the tree.
    #[cfg(unix)]
    #[test]
    fn walk_counts_hard_links_once() {
        let base = std::env::temp_dir().join(format!("ntlinkfs-du-{}", std::process::id()));
        let tree = base.join("tree");
        std::fs::create_dir_all(tree.join("sub")).unwrap();
        std::fs::write(tree.join("a"), vec![1u8; 3000]).unwrap();
        std::fs::hard_link(tree.join("a"), tree.join("sub/a2")).unwrap();
        std::fs::hard_link(tree.join("a"), base.join("outside")).unwrap();
        std::fs::write(tree.join("b"), b"xy").unwrap();
        std::os::unix::fs::symlink("a", tree.join("link")).unwrap();
        let (t, complete) = measure(&tree);
        std::fs::remove_dir_all(&base).unwrap();
        assert!(complete);
        let s = t.summary("tree");
        assert_eq!(s.names, 4);
        assert_eq!(s.files, 3);
        assert_eq!(s.apparent_bytes_all_names, 3000 * 2 + 2 + 1);
        assert_eq!(s.unique_bytes, 3000 + 2 + 1);
        assert_eq!(s.shared_bytes, 3000);
        assert_eq!(s.shared_outside_bytes, 3000);
    }
}
