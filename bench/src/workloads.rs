//! Engine workloads shared by `ntlinkfs bench` (the engine target, `engine.rs`) and the engine
//! micro-benchmarks (`benches/engine.rs`, `benches/ops.rs`, `benches/memory.rs`), so each
//! measure is set up once. Only [`vfs_core::Volume`]'s API: no OS code.

use std::borrow::Borrow;
use vfs_core::{FileId, Name, NewFile, Volume, VolumeOptions};

/// A name a workload makes up (ASCII letters, digits, `-`, `.`): always a valid NTFS name.
/// Names are validated and upcased once, where a backend receives them ([`Name`]); the
/// measures time the engine operation that takes them.
pub fn nt_name(s: &str) -> Name {
    Name::from_str_checked(s).expect("workload names are valid NTFS names")
}

/// Files in the directory the micro-benchmarks' lookups search: big enough that the index is
/// not trivially small.
pub const DIR_FILES: usize = 10_000;

/// `{prefix}00000.txt`, `{prefix}00001.txt`, ...: `n` names.
pub fn numbered_names(n: usize, prefix: &str) -> Vec<Name> {
    (0..n)
        .map(|i| nt_name(&format!("{prefix}{i:05}.txt")))
        .collect()
}

/// The micro-benchmarks' volume: `\dir` holding [`DIR_FILES`] files named `File00000.txt`...
/// (plus what its `add_*` methods add).
pub struct OpVolume {
    /// The volume.
    pub vol: Volume,
    /// `\dir`.
    pub dir: FileId,
    /// The names in `\dir`, as stored.
    pub stored: Vec<Name>,
    /// The same names upper-cased: a lookup in another case than stored (A5), as a Windows
    /// caller may make.
    pub upper: Vec<Name>,
}

impl OpVolume {
    /// A fresh volume with `\dir` and its files.
    pub fn new() -> OpVolume {
        let vol = Volume::new(VolumeOptions::default());
        let dir = vol
            .create_path(r"\dir", &NewFile::dir())
            .expect("mkdir \\dir");
        let stored = numbered_names(DIR_FILES, "File");
        for n in &stored {
            vol.create(dir, n, &NewFile::file()).expect("create");
        }
        let upper = stored
            .iter()
            .map(|n| nt_name(&n.to_string_lossy().to_uppercase()))
            .collect();
        OpVolume {
            vol,
            dir,
            stored,
            upper,
        }
    }

    /// The file the hard-link measure links to (the first in `\dir`).
    pub fn link_target(&self) -> FileId {
        self.vol.lookup(self.dir, &self.stored[0]).expect("lookup")
    }

    /// Creates `rename-a` in `\dir` (the rename measure flips it with `rename-b`).
    pub fn add_rename_file(&self) {
        self.vol
            .create(self.dir, &nt_name("rename-a"), &NewFile::file())
            .expect("create rename-a");
    }

    /// Creates `\dir\data.bin` with 1 MiB written (the 4 KiB read and write measures).
    pub fn add_data_file(&self) -> FileId {
        let f = self
            .vol
            .create(self.dir, &nt_name("data.bin"), &NewFile::file())
            .expect("create data.bin");
        self.vol.write(f, 0, &vec![1u8; 1 << 20]).expect("write");
        f
    }
}

/// The path measures' tree: `\real\deep\er\file.txt`, a junction `\j` → `C:\real\deep`
/// (A3); with `symlink`, also a symlink `\s` → `real\deep\er\file.txt` (A4).
pub fn add_link_tree(v: &Volume, symlink: bool) {
    for d in [r"\real", r"\real\deep", r"\real\deep\er"] {
        v.create_path(d, &NewFile::dir()).expect("mkdir");
    }
    v.write_file_path(r"\real\deep\er\file.txt", b"x")
        .expect("write");
    v.create_junction(r"\j", r"C:\real\deep").expect("junction");
    if symlink {
        v.create_symlink(r"\s", r"real\deep\er\file.txt", false)
            .expect("symlink");
    }
}

impl Default for OpVolume {
    fn default() -> Self {
        OpVolume::new()
    }
}

/// Builds the memory measures' tree in `vol`: `files` empty files, `per_dir` to a directory,
/// the directories in the root. `dir_name(d)` names directory `d`; `file_name(i, j)` names
/// file `i` (the `j`-th of its directory). Returns the files made.
pub fn empty_file_tree<D: Borrow<Name>, F: Borrow<Name>>(
    vol: &Volume,
    files: usize,
    per_dir: usize,
    mut dir_name: impl FnMut(usize) -> D,
    mut file_name: impl FnMut(usize, usize) -> F,
) -> vfs_core::Result<usize> {
    let root = vol.root();
    let (file, dir) = (NewFile::file(), NewFile::dir());
    let per_dir = per_dir.max(1);
    let mut made = 0;
    let mut d = 0;
    while made < files {
        let parent = vol.create(root, dir_name(d).borrow(), &dir)?;
        for j in 0..per_dir.min(files - made) {
            vol.create(parent, file_name(made, j).borrow(), &file)?;
            made += 1;
        }
        d += 1;
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_has_the_asked_shape() {
        let vol = Volume::new(VolumeOptions::default());
        let made = empty_file_tree(
            &vol,
            2500,
            1000,
            |d| nt_name(&format!("d{d}")),
            |i, _| nt_name(&format!("{i:06}")),
        )
        .unwrap();
        assert_eq!(made, 2500);
        // 2500 files, 3 directories, the root.
        assert_eq!(vol.file_count(), 2500 + 3 + 1);
        assert_eq!(
            vol.dir_len(vol.lookup(vol.root(), &nt_name("d2")).unwrap())
                .unwrap(),
            500
        );
        vol.check().unwrap();
    }

    #[test]
    fn the_op_volume_finds_every_name_in_any_case() {
        let o = OpVolume::new();
        o.add_rename_file();
        o.add_data_file();
        add_link_tree(&o.vol, true);
        assert_eq!(
            o.vol.lookup(o.dir, &o.upper[9_999]).unwrap(),
            o.vol.lookup(o.dir, &o.stored[9_999]).unwrap()
        );
        assert_eq!(o.vol.read_file_path(r"\j\er\FILE.TXT").unwrap(), b"x");
        o.vol.check().unwrap();
    }
}
