//! `ntlinkfs save MOUNTPOINT FILE` and `ntlinkfs dump MOUNTPOINT|IMAGE`.
//!
//! `save` asks the daemon serving a mounted drive to write its image: the client sets the
//! extended attribute `user.ntlinkfs.save` on the mount's root, its value the absolute path
//! of FILE; the daemon saves the volume atomically there ([`vfs_core::image::save_atomic`])
//! and answers the `setxattr` with 0 or the errno of the failure.
//!
//! `dump` prints a drive as fixture TOML ([`vfs_core::fixture`]). Given an image file it
//! loads it; given a directory it walks it with system calls, never following a link
//! (`host::tree`, through vfs-core's `Fixture::from_host_tree`), so it works on an ntlinkfs
//! mount and on an ntfs-3g mount of real NTFS alike.

use anyhow::Context;
use std::path::PathBuf;

/// The name of the control attribute a running drive saves itself on (extended attributes:
/// the client side exists on unix only).
#[cfg(unix)]
pub const SAVE_XATTR: &str = host::xattrs::control::SAVE;

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

use crate::cmd::mount::parse_letter;

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

#[cfg(not(target_os = "linux"))]
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

#[cfg(target_os = "linux")]
mod imp {
    use super::{SaveArgs, SAVE_XATTR};
    use anyhow::{anyhow, bail, Context};
    use host::sys;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};
    use vfs_core::fixture::Fixture;

    /// Asks the daemon serving `a.mountpoint` to save its drive to `a.file`.
    pub fn save(a: &SaveArgs) -> anyhow::Result<()> {
        let mp = a
            .mountpoint
            .canonicalize()
            .with_context(|| format!("{}", a.mountpoint.display()))?;
        // Only an ntlinkfs drive answers its control attributes; anywhere else a user.*
        // attribute would simply be stored, so check before setting one.
        let fileid = host::xattrs::control::FILEID;
        let probe = sys::lgetxattr(&mp, fileid);
        if probe == Err(libc::EPERM) {
            bail!(
                "{}: only the user who mounted the drive, or root, may save it ({})",
                a.mountpoint.display(),
                std::io::Error::from_raw_os_error(libc::EPERM)
            );
        }
        if probe.is_err() {
            bail!(
                "{} is not a running ntlinkfs drive (it does not answer {fileid})",
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
        sys::lsetxattr(&mp, SAVE_XATTR, file.as_os_str().as_bytes()).map_err(|errno| {
            let hint = match errno {
                libc::EINVAL | libc::EPERM | libc::EOPNOTSUPP => {
                    " (the daemon serving this drive may predate `ntlinkfs save`)"
                }
                _ => "",
            };
            anyhow!(
                "saving {} to {} failed: {}{hint}",
                a.mountpoint.display(),
                file.display(),
                std::io::Error::from_raw_os_error(errno)
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

    /// Walks `root` into a fixture ([`host::tree::dump_dir`]).
    pub fn walk(root: &Path, drive: char, owners: bool) -> anyhow::Result<Fixture> {
        host::tree::dump_dir(root, drive, owners).map_err(|e| anyhow!("{e}"))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use host::xattrs::ntfs::{ATTRIB, REPARSE_DATA as REPARSE};
    use std::os::unix::fs::symlink;
    use std::path::Path;
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
        let mut image = host::Ntfs3gImage::create_mounted(&host::ntfs3g::ImageOptions {
            size: 32 << 20,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("ntfs-3g mount failed (needs root and /dev/fuse): {e}"));
        let mnt = image.mount_point().to_path_buf();
        // Build a small tree on real NTFS.
        std::fs::create_dir(mnt.join("Store")).unwrap();
        std::fs::write(mnt.join("Store/pkg.js"), "module.exports = 1;\n").unwrap();
        std::fs::hard_link(mnt.join("Store/pkg.js"), mnt.join("copy.js")).unwrap();
        std::fs::create_dir(mnt.join("j")).unwrap();
        let junction =
            vfs_core::reparse::junction_for_target(&vfs_core::name::wide(r"C:\Store"), 'C')
                .unwrap();
        host::sys::lsetxattr(&mnt.join("j"), REPARSE, junction.as_bytes()).unwrap();
        std::fs::write(mnt.join("s"), "").unwrap();
        let sl = vfs_core::reparse::symlink_for_target(&vfs_core::name::wide(r"Store\pkg.js"), 'C')
            .unwrap();
        host::sys::lsetxattr(&mnt.join("s"), REPARSE, sl.as_bytes()).unwrap();
        host::sys::lsetxattr(&mnt.join("copy.js"), ATTRIB, &0x21u32.to_le_bytes()).unwrap();
        // Remount: the kernel still has j and s cached as the directory and file they were
        // before they became reparse points (a changed inode type reads as EIO).
        image.unmount().unwrap();
        image.mount().unwrap();
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

    /// Special files on ntfs-3g, in both of its forms: its default Interix system files and,
    /// with special_files=wsl, WSL's reparse points (empty data, the device number in the
    /// $LXDEV EA). Both dump as the same [[special]] entries, type and number from lstat.
    #[test]
    fn dump_of_ntfs3g_special_files_in_both_forms() {
        for opts in [None, Some("special_files=wsl".to_string())] {
            let mut image = host::Ntfs3gImage::create_mounted(&host::ntfs3g::ImageOptions {
                size: 32 << 20,
                mount_options: opts.clone(),
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("ntfs-3g mount failed (needs root and /dev/fuse): {e}"));
            let mnt = image.mount_point().to_path_buf();
            std::fs::create_dir(mnt.join("d")).unwrap();
            make_special(&mnt.join("d/fifo"), libc::S_IFIFO, 0);
            make_special(&mnt.join("d/null"), libc::S_IFCHR, libc::makedev(1, 3));
            make_special(&mnt.join("d/sda2"), libc::S_IFBLK, libc::makedev(8, 2));
            std::os::unix::net::UnixListener::bind(mnt.join("d/app.sock")).unwrap();
            let text = dump(&mnt);
            for (name, kind) in [
                ("app.sock", "kind = \"socket\"\n"),
                ("fifo", "kind = \"fifo\"\n"),
                ("null", "kind = \"char\"\ndevice = [1, 3]\n"),
                ("sda2", "kind = \"block\"\ndevice = [8, 2]\n"),
            ] {
                let entry = format!("[[special]]\npath = \"d/{name}\"\n{kind}");
                let at = text.find(&entry);
                assert!(at.is_some(), "{opts:?}: {entry}\n---\n{text}");
                // No attribute list: the Interix SYSTEM marker is not carried over.
                let block = text[at.unwrap_or(0)..].split("\n\n").next().unwrap_or("");
                assert!(!block.contains("attributes"), "{opts:?}: {block}");
            }
            let v = Volume::from_fixture_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(
                v.stat_path(r"\d\null", false).unwrap().special,
                Some(vfs_core::SpecialFile::CharDevice { major: 1, minor: 3 })
            );
            assert_eq!(v.to_fixture().unwrap(), text);
            image.unmount().unwrap();
        }
    }

    fn make_special(p: &Path, ty: libc::mode_t, dev: libc::dev_t) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        let r = unsafe { libc::mknod(c.as_ptr(), ty | 0o644, dev) };
        assert_eq!(
            r,
            0,
            "mknod {}: {}",
            p.display(),
            std::io::Error::last_os_error()
        );
    }

    /// Special files on an ntlinkfs mount dump as [[special]] entries and build back into the
    /// same drive.
    #[test]
    fn dump_of_an_ntlinkfs_mount_keeps_special_files() {
        let v = std::sync::Arc::new(
            Volume::from_fixture_str(
                "[[dir]]\npath = \"run\"\n\n[[special]]\npath = \"run/q\"\nkind = \"fifo\"\n\n\
                 [[special]]\npath = \"run/s\"\nkind = \"socket\"\n\n\
                 [[special]]\npath = \"tty\"\nkind = \"char\"\ndevice = [4, 64]\n\n\
                 [[special]]\npath = \"disk\"\nkind = \"block\"\ndevice = [259, 1]\n",
            )
            .unwrap(),
        );
        let dir = Scratch::new("fuse-special");
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
        assert!(
            text.contains("path = \"tty\"\nkind = \"char\"\ndevice = [4, 64]"),
            "{text}"
        );
        let back = Volume::from_fixture_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(v.same_tree(&back), "{:?}", v.tree_difference(&back));
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
        assert_eq!(
            host::sys::lgetxattr(dir.path(), SAVE_XATTR),
            Err(libc::ENODATA)
        );
    }
}
