//! `ntlinkfs save MOUNTPOINT FILE` and `ntlinkfs dump MOUNTPOINT|IMAGE`.
//!
//! `save` asks the daemon serving a mounted drive to write its image: the client sets the
//! extended attribute `user.ntlinkfs.save` on the mount's root, its value the absolute path
//! of FILE; the daemon saves the volume atomically there ([`vfs_core::image::save_atomic`])
//! and answers the `setxattr` with 0 or the errno of the failure.
//!
//! `dump` prints a drive as fixture TOML ([`vfs_core::fixture`]). Given an image file it
//! loads it; given a directory it walks it with system calls, never following a link, so it
//! works on an ntlinkfs mount and on an ntfs-3g mount of real NTFS alike: `st_ino` groups the
//! names of one file into `links`, `system.ntfs_reparse_data` gives reparse buffers (symlinks
//! and junctions with their targets), `system.ntfs_attrib` the attributes and
//! `system.ntfs_times` the four times (ntfs-3g's formats).

use anyhow::Context;
use std::path::PathBuf;

/// The name of the control attribute a running drive saves itself on (extended attributes:
/// the client side exists on unix only).
#[cfg(unix)]
pub const SAVE_XATTR: &str = "user.ntlinkfs.save";

/// Save a running drive to an image file (atomically: the old image survives a failure).
#[derive(clap::Args, Debug)]
pub struct SaveArgs {
    /// The mount point of a running ntlinkfs drive.
    pub mountpoint: PathBuf,
    /// The image file to write (replaced atomically; made absolute for the daemon).
    pub file: PathBuf,
}

/// Print a drive (a mounted directory, walked without following links) or an image file as
/// fixture TOML.
#[derive(clap::Args, Debug)]
pub struct DumpArgs {
    /// A directory (an ntlinkfs or ntfs-3g mount, or any directory) or an image file.
    pub path: PathBuf,
    /// Drive letter the walked drive answers to in absolute link targets (an image knows
    /// its own).
    #[arg(long, default_value = "C", value_parser = parse_letter)]
    pub drive_letter: char,
    /// Include owner, group and permission bits of each entry (walked directories).
    #[arg(long)]
    pub owners: bool,
    /// Write the fixture to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

use crate::mount::parse_letter;

/// Runs `ntlinkfs save`.
pub fn run_save(a: SaveArgs) -> anyhow::Result<i32> {
    imp::save(&a)?;
    println!("saved {} to {}", a.mountpoint.display(), a.file.display());
    Ok(0)
}

/// Runs `ntlinkfs dump`.
pub fn run_dump(a: DumpArgs) -> anyhow::Result<i32> {
    let toml = dump_to_string(&a)?;
    match &a.output {
        Some(out) => {
            std::fs::write(out, toml).with_context(|| format!("writing {}", out.display()))?
        }
        None => {
            use std::io::Write;
            let mut o = std::io::stdout().lock();
            o.write_all(toml.as_bytes())?;
            o.flush()?;
        }
    }
    Ok(0)
}

fn dump_to_string(a: &DumpArgs) -> anyhow::Result<String> {
    let md = std::fs::metadata(&a.path).with_context(|| format!("{}", a.path.display()))?;
    if md.is_dir() {
        let fx = imp::walk(&a.path, a.drive_letter, a.owners)?;
        return Ok(fx.to_toml());
    }
    let vol = vfs_core::image::load_file(&a.path)
        .with_context(|| format!("loading image {}", a.path.display()))?;
    Ok(vol.to_fixture()?)
}

#[cfg(not(unix))]
mod imp {
    use super::SaveArgs;
    use std::path::Path;
    use vfs_core::fixture::Fixture;

    pub fn save(_a: &SaveArgs) -> anyhow::Result<()> {
        anyhow::bail!("`ntlinkfs save` talks to a FUSE mount through extended attributes (Linux)")
    }

    pub fn walk(_root: &Path, _drive: char, _owners: bool) -> anyhow::Result<Fixture> {
        anyhow::bail!(
            "dumping a directory reads ntfs-3g extended attributes (Linux); dump an image"
        )
    }
}

#[cfg(unix)]
mod imp {
    use super::{SaveArgs, SAVE_XATTR};
    use anyhow::{anyhow, bail, Context};
    use std::collections::HashMap;
    use std::io::Read;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};
    use vfs_core::data::CHUNK_SIZE;
    use vfs_core::fixture::{
        default_attributes, file_data_of, reparse_kind, Entry, EntryKind, Fixture, Meta,
        VolumeSettings,
    };
    use vfs_core::name::{upcase, wide};
    use vfs_core::{attrs, FILETIME_UNIX_EPOCH};

    /// Asks the daemon serving `a.mountpoint` to save its drive to `a.file`.
    pub fn save(a: &SaveArgs) -> anyhow::Result<()> {
        let mp = a
            .mountpoint
            .canonicalize()
            .with_context(|| format!("{}", a.mountpoint.display()))?;
        // Only an ntlinkfs drive answers its control attributes; anywhere else a user.*
        // attribute would simply be stored, so check before setting one.
        let is_ntlinkfs = matches!(xattr::get(&mp, "user.ntlinkfs.fileid"), Ok(Some(_)));
        if !is_ntlinkfs {
            bail!(
                "{} is not a running ntlinkfs drive (it does not answer user.ntlinkfs.fileid)",
                a.mountpoint.display()
            );
        }
        let parent_dev = mp
            .parent()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.dev());
        if parent_dev == Some(std::fs::metadata(&mp)?.dev()) {
            bail!(
                "{} is inside an ntlinkfs drive, not its mount point: give the mount point",
                a.mountpoint.display()
            );
        }
        let file = absolute(&a.file)?;
        if file.starts_with(&mp) {
            bail!(
                "{} is inside the drive being saved; save the image outside it",
                a.file.display()
            );
        }
        xattr::set(&mp, SAVE_XATTR, file.as_os_str().as_bytes()).map_err(|e| {
            let hint = match e.raw_os_error() {
                Some(libc::EINVAL) | Some(libc::EPERM) | Some(libc::EOPNOTSUPP) => {
                    " (the daemon serving this drive may predate `ntlinkfs save`)"
                }
                _ => "",
            };
            anyhow!(
                "saving {} to {} failed: {e}{hint}",
                a.mountpoint.display(),
                file.display()
            )
        })
    }

    /// `path` made absolute against the current directory, its directory resolved.
    fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
        let abs = std::path::absolute(path).with_context(|| format!("{}", path.display()))?;
        let name = abs
            .file_name()
            .with_context(|| format!("{} names no file", path.display()))?;
        let dir = abs.parent().unwrap_or(Path::new("/"));
        let dir = dir
            .canonicalize()
            .with_context(|| format!("directory {}", dir.display()))?;
        Ok(dir.join(name))
    }

    struct Walker {
        drive: char,
        owners: bool,
        fx: Fixture,
        /// (st_dev, st_ino) → index of the entry holding that file's first name.
        seen: HashMap<(u64, u64), usize>,
    }

    /// Walks `root` into a fixture.
    pub fn walk(root: &Path, drive: char, owners: bool) -> anyhow::Result<Fixture> {
        let mut w = Walker {
            drive,
            owners,
            fx: Fixture {
                file: root.display().to_string(),
                volume: VolumeSettings {
                    drive_letter: drive,
                    ..VolumeSettings::default()
                },
                root: Meta::default(),
                entries: Vec::new(),
            },
            seen: HashMap::new(),
        };
        let md = std::fs::metadata(root)?;
        w.fx.root = w.meta(root, &md, attrs::HIDDEN | attrs::SYSTEM, true)?;
        w.dir(root, "")?;
        w.fx.factor_default_time();
        Ok(w.fx)
    }

    fn ntfs_attrib(p: &Path) -> Option<u32> {
        let v = xattr::get(p, "system.ntfs_attrib").ok()??;
        Some(u32::from_le_bytes(v.get(..4)?.try_into().ok()?))
    }

    /// Creation, last access, last write, change.
    fn times(p: &Path, md: &std::fs::Metadata) -> [u64; 4] {
        if let Some(v) = xattr::get(p, "system.ntfs_times").ok().flatten() {
            if v.len() >= 32 {
                let t = |i: usize| u64::from_le_bytes(v[i * 8..i * 8 + 8].try_into().expect("8"));
                // ntfs-3g's order: CreationTime, LastWriteTime, LastAccessTime, ChangeTime.
                return [t(0), t(2), t(1), t(3)];
            }
        }
        let ft = |s: i64, ns: i64| {
            let ticks = i128::from(s) * 10_000_000 + i128::from(ns) / 100;
            u64::try_from(ticks + i128::from(FILETIME_UNIX_EPOCH)).unwrap_or(0)
        };
        let created = md
            .created()
            .ok()
            .and_then(|c| c.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(ft(md.ctime(), md.ctime_nsec()), |d| {
                ft(d.as_secs() as i64, i64::from(d.subsec_nanos()))
            });
        [
            created,
            ft(md.atime(), md.atime_nsec()),
            ft(md.mtime(), md.mtime_nsec()),
            ft(md.ctime(), md.ctime_nsec()),
        ]
    }

    impl Walker {
        fn meta(
            &self,
            p: &Path,
            md: &std::fs::Metadata,
            default_attrs: u32,
            is_dir: bool,
        ) -> anyhow::Result<Meta> {
            let t = times(p, md);
            let attributes = ntfs_attrib(p)
                .map(|a| a & attrs::SETTABLE)
                .filter(|a| *a != default_attrs);
            let mode = md.mode() & 0o7777;
            let default_mode = if is_dir { 0o755 } else { 0o644 };
            Ok(Meta {
                attributes,
                created: Some(t[0]),
                accessed: Some(t[1]),
                modified: Some(t[2]),
                changed: Some(t[3]),
                uid: (self.owners && md.uid() != 0).then_some(md.uid()),
                gid: (self.owners && md.gid() != 0).then_some(md.gid()),
                mode: (self.owners && mode != default_mode).then_some(mode),
                case_sensitive: None,
            })
        }

        fn dir(&mut self, dir: &Path, rel: &str) -> anyhow::Result<()> {
            let mut names = Vec::new();
            for e in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
                let e = e?;
                let name = e.file_name().into_string().map_err(|n| {
                    anyhow!(
                        "{}: a name that is not UTF-8 ({:?}) cannot be an NTFS name here",
                        dir.display(),
                        n
                    )
                })?;
                names.push(name);
            }
            // NTFS collation: upcased UTF-16 units, then the name itself (A5).
            names.sort_by_cached_key(|n| (upcase(&wide(n)), wide(n)));
            // No attribute tells a directory's case sensitivity, but names that differ only in
            // case exist only in a case-sensitive directory (A5), so they prove it.
            let twins = names
                .windows(2)
                .any(|w| upcase(&wide(&w[0])) == upcase(&wide(&w[1])));
            if twins {
                let meta = match self.fx.entries.iter_mut().rev().find(|e| e.path == rel) {
                    Some(e) if !rel.is_empty() => &mut e.meta,
                    _ => &mut self.fx.root,
                };
                meta.case_sensitive = Some(true);
            }
            for name in names {
                let p = dir.join(&name);
                let path = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let md =
                    std::fs::symlink_metadata(&p).with_context(|| format!("{}", p.display()))?;
                if !md.is_dir() && md.nlink() > 1 {
                    if let Some(&i) = self.seen.get(&(md.dev(), md.ino())) {
                        // Another name of a file already described (A1).
                        self.fx.entries[i].links.push((path, 0));
                        continue;
                    }
                    self.seen
                        .insert((md.dev(), md.ino()), self.fx.entries.len());
                }
                let attrib = ntfs_attrib(&p);
                let is_dir = match attrib {
                    Some(a) => a & attrs::DIRECTORY != 0,
                    // Without NTFS attributes, a link's kind is its target's (if any).
                    None if md.file_type().is_symlink() => {
                        std::fs::metadata(&p).is_ok_and(|m| m.is_dir())
                    }
                    None => md.is_dir(),
                };
                let reparse = xattr::get(&p, "system.ntfs_reparse_data").ok().flatten();
                let kind = if let Some(buf) = reparse {
                    reparse_kind(&buf, is_dir, self.drive, None, Vec::new())
                } else if md.file_type().is_symlink() {
                    let t = std::fs::read_link(&p)?;
                    EntryKind::Symlink {
                        target: posix_target(dir, &t)?,
                        directory: is_dir,
                    }
                } else if md.is_dir() {
                    EntryKind::Dir
                } else if md.is_file() {
                    let (size, extents) = read_data(&p, &md)?;
                    EntryKind::File { size, extents }
                } else {
                    bail!(
                        "{} is not a file, a directory or a link: NTFS has no such thing",
                        p.display()
                    );
                };
                let descend = kind == EntryKind::Dir;
                let meta = self.meta(&p, &md, default_attributes(&kind), is_dir)?;
                self.fx.entries.push(Entry {
                    path: path.clone(),
                    line: 0,
                    kind,
                    meta,
                    links: Vec::new(),
                });
                if descend {
                    self.dir(&p, &path)?;
                }
            }
            Ok(())
        }
    }

    /// A POSIX symlink's target in Windows form: relative with `\`, or an absolute path as a
    /// root-relative one (made absolute on the drive when built).
    fn posix_target(dir: &Path, t: &Path) -> anyhow::Result<String> {
        let s = t
            .to_str()
            .with_context(|| format!("{}: a link target that is not UTF-8", dir.display()))?;
        Ok(s.replace('/', "\\"))
    }

    /// The file's data in chunks. A file with no blocks allocated is all holes and is not
    /// read (a 4 GiB sparse ISO costs nothing to dump); otherwise only the ranges
    /// `SEEK_DATA`/`SEEK_HOLE` report are read (a file system without them reports the whole
    /// file as data, and then all of it is read).
    fn read_data(
        p: &Path,
        md: &std::fs::Metadata,
    ) -> anyhow::Result<(Option<u64>, Vec<vfs_core::fixture::Extent>)> {
        use std::io::{Seek, SeekFrom};
        let size = md.len();
        if size > 0 && md.blocks() == 0 {
            return Ok(file_data_of(size, std::iter::empty()));
        }
        let mut f = std::fs::File::open(p).with_context(|| format!("{}", p.display()))?;
        let chunk = CHUNK_SIZE as u64;
        let mut chunks: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut buf = vec![0u8; CHUNK_SIZE];
        for (start, end) in data_ranges(&f, size) {
            let mut index = start / chunk;
            while index * chunk < end {
                f.seek(SeekFrom::Start(index * chunk))?;
                let mut filled = 0;
                while filled < buf.len() {
                    let n = f.read(&mut buf[filled..])?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                if buf[..filled].iter().any(|&b| b != 0)
                    && chunks.last().is_none_or(|(i, _)| *i < index)
                {
                    chunks.push((index, buf[..filled].to_vec()));
                }
                if filled < buf.len() {
                    break;
                }
                index += 1;
            }
        }
        Ok(file_data_of(
            size,
            chunks.iter().map(|(i, c)| (*i, c.as_slice())),
        ))
    }

    /// The data ranges of a file by `lseek(SEEK_DATA/SEEK_HOLE)`; the whole file when the
    /// calls fail.
    fn data_ranges(f: &std::fs::File, size: u64) -> Vec<(u64, u64)> {
        use std::os::unix::io::AsRawFd;
        let fd = f.as_raw_fd();
        let whole = vec![(0, size)];
        let mut out = Vec::new();
        let mut pos = 0u64;
        while pos < size {
            let Ok(at) = libc::off_t::try_from(pos) else {
                return whole;
            };
            // SAFETY: lseek on a descriptor we own; it only moves the file offset.
            let data = unsafe { libc::lseek(fd, at, libc::SEEK_DATA) };
            if data < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO) {
                    break; // No data past `pos`.
                }
                return whole;
            }
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
            if hole < 0 {
                return whole;
            }
            out.push((data as u64, hole as u64));
            pos = hole as u64;
        }
        out
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::Path;
    use std::process::Command;
    use vfs_core::Volume;

    /// A scratch directory removed at drop (the cli has no tempfile dependency).
    struct Scratch(std::path::PathBuf);
    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let p = std::env::temp_dir()
                .join(format!("ntlinkfs-image-cmd-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Scratch(p)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dump(path: &Path) -> String {
        dump_to_string(&DumpArgs {
            path: path.to_path_buf(),
            drive_letter: 'C',
            owners: false,
            output: None,
        })
        .unwrap()
    }

    #[test]
    fn dump_of_an_image_is_the_volume_as_a_fixture() {
        let dir = Scratch::new("image");
        let v = Volume::from_fixture_str(
            "[[dir]]\npath = \"d\"\n[[file]]\npath = \"d/f\"\ntext = \"x\"\nlinks = [\"g\"]\n",
        )
        .unwrap();
        let img = dir.path().join("drive.img");
        vfs_core::image::save_atomic(&v, &img).unwrap();
        assert_eq!(dump(&img), v.to_fixture().unwrap());
        // Not an image: a clear error naming the file.
        std::fs::write(dir.path().join("junk"), b"junk").unwrap();
        let e = dump_to_string(&DumpArgs {
            path: dir.path().join("junk"),
            drive_letter: 'C',
            owners: false,
            output: None,
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("not an ntlinkfs image"), "{e:#}");
    }

    /// A plain Linux directory: hard links by st_ino, symlinks by readlink, sparse by blocks.
    #[test]
    fn dump_of_a_plain_directory_shows_links_as_links() {
        let dir = Scratch::new("plain");
        let r = dir.path();
        std::fs::create_dir(r.join("sub")).unwrap();
        std::fs::write(r.join("sub/a.txt"), "shared\n").unwrap();
        std::fs::hard_link(r.join("sub/a.txt"), r.join("b.txt")).unwrap();
        symlink("sub/a.txt", r.join("l")).unwrap();
        symlink("sub", r.join("ld")).unwrap();
        let f = std::fs::File::create(r.join("sparse")).unwrap();
        f.set_len(1 << 30).unwrap();
        // Data in the middle of a hole: found by SEEK_DATA, not by reading 1 GiB.
        let f = std::fs::File::create(r.join("holey")).unwrap();
        f.set_len(1 << 30).unwrap();
        std::os::unix::fs::FileExt::write_at(&f, b"found", 512 << 20).unwrap();
        let text = dump(r);
        let v = Volume::from_fixture_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(v.stat_path(r"\b.txt", false).unwrap().links, 2, "{text}");
        assert_eq!(text.matches("shared").count(), 1, "{text}");
        assert_eq!(v.read_file_path(r"\l").unwrap(), b"shared\n");
        assert!(v.stat_path(r"\ld", false).unwrap().kind == vfs_core::FileKind::Directory);
        assert_eq!(v.stat_path(r"\sparse", false).unwrap().size, 1 << 30);
        assert!(text.contains("size = 1073741824"), "{text}");
        assert!(
            text.contains("offset = 536870912\ntext = \"found\""),
            "{text}"
        );
        let h = v.stat_path(r"\holey", false).unwrap();
        assert_eq!(h.size, 1 << 30);
        let mut b = [0u8; 5];
        v.read(h.id, 512 << 20, &mut b).unwrap();
        assert_eq!(&b, b"found");
    }

    /// Real NTFS through ntfs-3g: junctions and symlinks come back with their targets, hard
    /// links as links, attributes and times from ntfs-3g's attributes.
    #[test]
    fn dump_of_an_ntfs3g_mount_of_real_ntfs() {
        for tool in ["mkntfs", "ntfs-3g"] {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(found, "{tool} is missing: apt-get install ntfs-3g");
        }
        let dir = Scratch::new("ntfs3g");
        let img = dir.path().join("ntfs.img");
        std::fs::File::create(&img)
            .unwrap()
            .set_len(32 << 20)
            .unwrap();
        let ok = Command::new("mkntfs")
            .args(["-F", "-f", "-q"])
            .arg(&img)
            .output()
            .unwrap();
        assert!(ok.status.success(), "mkntfs: {ok:?}");
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        let ok = Command::new("ntfs-3g")
            .arg(&img)
            .arg(&mnt)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "ntfs-3g mount failed (needs root and /dev/fuse): {ok:?}"
        );
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = Command::new("umount").arg(self.0).status();
            }
        }
        let _guard = Unmount(&mnt);
        // Build a small tree on real NTFS.
        std::fs::create_dir(mnt.join("Store")).unwrap();
        std::fs::write(mnt.join("Store/pkg.js"), "module.exports = 1;\n").unwrap();
        std::fs::hard_link(mnt.join("Store/pkg.js"), mnt.join("copy.js")).unwrap();
        std::fs::create_dir(mnt.join("j")).unwrap();
        let junction =
            vfs_core::reparse::junction_for_target(&vfs_core::name::wide(r"C:\Store"), 'C')
                .unwrap();
        xattr::set(
            mnt.join("j"),
            "system.ntfs_reparse_data",
            junction.as_bytes(),
        )
        .unwrap();
        std::fs::write(mnt.join("s"), "").unwrap();
        let sl = vfs_core::reparse::symlink_for_target(&vfs_core::name::wide(r"Store\pkg.js"), 'C')
            .unwrap();
        xattr::set(mnt.join("s"), "system.ntfs_reparse_data", sl.as_bytes()).unwrap();
        xattr::set(
            mnt.join("copy.js"),
            "system.ntfs_attrib",
            &0x21u32.to_le_bytes(),
        )
        .unwrap();
        // Remount: the kernel still has j and s cached as the directory and file they were
        // before they became reparse points (a changed inode type reads as EIO).
        let ok = Command::new("umount").arg(&mnt).output().unwrap();
        assert!(ok.status.success(), "umount: {ok:?}");
        let ok = Command::new("ntfs-3g")
            .arg(&img)
            .arg(&mnt)
            .output()
            .unwrap();
        assert!(ok.status.success(), "ntfs-3g remount: {ok:?}");
        let text = dump(&mnt);
        assert!(
            text.contains("[[junction]]\npath = \"j\"\ntarget = 'C:\\Store'"),
            "{text}"
        );
        assert!(
            text.contains("[[symlink]]\npath = \"s\"\ntarget = 'Store\\pkg.js'"),
            "{text}"
        );
        assert!(text.contains("links = [\"Store/pkg.js\"]"), "{text}");
        assert!(
            text.contains("attributes = [\"readonly\", \"archive\"]"),
            "{text}"
        );
        let v = Volume::from_fixture_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            v.read_file_path(r"\j\pkg.js").unwrap(),
            b"module.exports = 1;\n"
        );
        assert_eq!(v.read_file_path(r"\s").unwrap(), b"module.exports = 1;\n");
        // Times come from ntfs_times: the dump of the built drive keeps them.
        let again = v.to_fixture().unwrap();
        assert_eq!(again, text);
    }

    /// An ntlinkfs FUSE mount dumps as the same tree as the engine's own dump (hard links
    /// by st_ino, links from system.ntfs_reparse_data, times from system.ntfs_times, case
    /// sensitivity inferred from case twins); only which name of a file comes first may differ.
    #[test]
    fn dump_of_an_ntlinkfs_mount_is_the_drive() {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fixtures");
        for name in ["classics.toml", "pnpm-store.toml"] {
            let v = std::sync::Arc::new(Volume::from_fixture_file(&examples.join(name)).unwrap());
            let dir = Scratch::new("fuse");
            let h = backend_fuse::mount(v.clone(), dir.path(), &Default::default())
                .unwrap_or_else(|e| panic!("mounting needs /dev/fuse and fuse3: {e}"));
            let text = dump_to_string(&DumpArgs {
                path: dir.path().to_path_buf(),
                drive_letter: 'C',
                owners: false,
                output: None,
            });
            h.unmount().unwrap();
            let text = text.unwrap();
            let back = Volume::from_fixture_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert!(v.same_tree(&back), "{name}: {:?}", v.tree_difference(&back));
        }
    }

    #[test]
    fn save_refuses_what_is_not_an_ntlinkfs_drive() {
        let dir = Scratch::new("save");
        let e = run_save(SaveArgs {
            mountpoint: dir.path().to_path_buf(),
            file: dir.path().join("x.img"),
        })
        .unwrap_err();
        assert!(
            e.to_string().contains("is not a running ntlinkfs drive"),
            "{e}"
        );
        // And nothing was stored on the directory.
        assert_eq!(xattr::get(dir.path(), SAVE_XATTR).unwrap(), None);
    }
}
