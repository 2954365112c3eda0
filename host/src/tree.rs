//! A host directory tree as [`vfs_core::fixture::HostTree`], so `ntlinkfs dump DIR` can
//! describe a mounted drive (ntlinkfs, or real NTFS through ntfs-3g) or any directory as a
//! fixture: system calls only, never following a link; `st_ino` groups the names of one file,
//! `system.ntfs_reparse_data` gives reparse buffers, `system.ntfs_attrib` the attributes and
//! `system.ntfs_times` the four times (ntfs-3g's formats); a FIFO, socket or device node is
//! described by its `lstat` type and `st_rdev`, never opened. The walk itself (order, links,
//! kinds) is vfs-core's ([`vfs_core::fixture::Fixture::from_host_tree`]).

use crate::sys;
use crate::xattrs::ntfs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use vfs_core::data::CHUNK_SIZE;
use vfs_core::fixture::{
    file_data_of, Extent, Fixture, FixtureError, HostKind, HostStat, HostTree,
};
use vfs_core::FILETIME_UNIX_EPOCH;

/// Walks `root` into a fixture (see the module docs); absolute link targets are read on drive
/// `drive`; `owners` keeps uid, gid and mode.
pub fn dump_dir(root: &Path, drive: char, owners: bool) -> Result<Fixture, FixtureError> {
    let mut t = Dir {
        root: root.to_path_buf(),
    };
    Fixture::from_host_tree(&mut t, &root.display().to_string(), drive, owners)
}

/// A directory on the host.
struct Dir {
    root: PathBuf,
}

impl Dir {
    fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }
}

fn io_err(p: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", p.display())
}

/// Creation, last access, last write, change: from `system.ntfs_times` when the file system
/// has it, else from `stat`.
fn times(p: &Path, md: &std::fs::Metadata) -> [u64; 4] {
    if let Ok(v) = sys::lgetxattr(p, ntfs::TIMES) {
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

impl HostTree for Dir {
    fn display(&self, rel: &str) -> String {
        self.path(rel).display().to_string()
    }

    fn names(&mut self, rel: &str) -> Result<Vec<String>, String> {
        let dir = self.path(rel);
        let mut names = Vec::new();
        for e in std::fs::read_dir(&dir).map_err(|e| io_err(&dir, e))? {
            let e = e.map_err(|e| io_err(&dir, e))?;
            let name = e.file_name().into_string().map_err(|n| {
                format!(
                    "{}: a name that is not UTF-8 ({:?}) cannot be an NTFS name here",
                    dir.display(),
                    n
                )
            })?;
            names.push(name);
        }
        Ok(names)
    }

    fn stat(&mut self, rel: &str) -> Result<HostStat, String> {
        let p = self.path(rel);
        let md = if rel.is_empty() {
            std::fs::metadata(&p)
        } else {
            std::fs::symlink_metadata(&p)
        }
        .map_err(|e| io_err(&p, e))?;
        let ft = md.file_type();
        let kind = if ft.is_symlink() {
            HostKind::Symlink
        } else if ft.is_dir() {
            HostKind::Dir
        } else if ft.is_file() {
            HostKind::File
        } else {
            special_of(&md).map_or(HostKind::Other, HostKind::Special)
        };
        Ok(HostStat {
            kind,
            nlink: md.nlink(),
            file_key: (md.dev(), md.ino()),
            uid: md.uid(),
            gid: md.gid(),
            mode: md.mode(),
            times: times(&p, &md),
        })
    }

    fn ntfs_attributes(&mut self, rel: &str) -> Option<u32> {
        let v = sys::lgetxattr(&self.path(rel), ntfs::ATTRIB).ok()?;
        Some(u32::from_le_bytes(v.get(..4)?.try_into().ok()?))
    }

    fn reparse_data(&mut self, rel: &str) -> Option<Vec<u8>> {
        sys::lgetxattr(&self.path(rel), ntfs::REPARSE_DATA).ok()
    }

    fn target_is_dir(&mut self, rel: &str) -> bool {
        std::fs::metadata(self.path(rel)).is_ok_and(|m| m.is_dir())
    }

    fn read_link(&mut self, rel: &str) -> Result<String, String> {
        let p = self.path(rel);
        let t = std::fs::read_link(&p).map_err(|e| io_err(&p, e))?;
        t.to_str().map(str::to_string).ok_or_else(|| {
            format!(
                "{}: a link target that is not UTF-8",
                p.parent().unwrap_or(&p).display()
            )
        })
    }

    fn file_data(&mut self, rel: &str) -> Result<(Option<u64>, Vec<Extent>), String> {
        let p = self.path(rel);
        read_data(&p).map_err(|e| io_err(&p, e))
    }
}

/// The special file an lstat describes (FIFO, socket, character or block device), with the
/// device number of a device node from `st_rdev`.
fn special_of(md: &std::fs::Metadata) -> Option<vfs_core::SpecialFile> {
    use std::os::unix::fs::FileTypeExt;
    use vfs_core::SpecialFile;
    let t = md.file_type();
    let dev = md.rdev() as libc::dev_t;
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    if t.is_fifo() {
        Some(SpecialFile::Fifo)
    } else if t.is_socket() {
        Some(SpecialFile::Socket)
    } else if t.is_char_device() {
        Some(SpecialFile::CharDevice { major, minor })
    } else if t.is_block_device() {
        Some(SpecialFile::BlockDevice { major, minor })
    } else {
        None
    }
}

/// The file's data in chunks. A file with no blocks allocated is all holes and is not read (a
/// 4 GiB sparse ISO costs nothing to dump); otherwise only the ranges `SEEK_DATA`/`SEEK_HOLE`
/// report are read (a file system without them reports the whole file as data, and then all
/// of it is read).
fn read_data(p: &Path) -> std::io::Result<(Option<u64>, Vec<Extent>)> {
    let md = std::fs::symlink_metadata(p)?;
    let size = md.len();
    if size > 0 && md.blocks() == 0 {
        return Ok(file_data_of(size, std::iter::empty()));
    }
    let mut f = std::fs::File::open(p)?;
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

/// The data ranges of a file by `lseek(SEEK_DATA/SEEK_HOLE)`; the whole file when the calls
/// fail.
fn data_ranges(f: &std::fs::File, size: u64) -> Vec<(u64, u64)> {
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
