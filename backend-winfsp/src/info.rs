//! The file information WinFsp wants for every open, create and query: `FSP_FSCTL_FILE_INFO`
//! (`inc/winfsp/fsctl.h`), field for field, filled from the engine's [`Stat`].

use vfs_core::{FileKind, Stat};

/// Cluster size the volume reports (`VolumeParams` sector size 512 × 8 sectors): allocation
/// sizes are rounded up to it, as NTFS reports whole clusters.
pub const ALLOCATION_UNIT: u64 = 4096;

/// `FSP_FSCTL_FILE_INFO`: the same fields, in the same order, as `winfsp::filesystem::FileInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileInfo {
    /// FILE_ATTRIBUTE_* (DIRECTORY and REPARSE_POINT included).
    pub file_attributes: u32,
    /// The reparse tag when FILE_ATTRIBUTE_REPARSE_POINT is set, else 0. WinFsp's driver copies
    /// it into the EaSize field of directory listings (FILE_FULL_DIR_INFORMATION and the
    /// BOTH/ID variants), which is where NTFS reports it (A3; WinFsp `src/sys/dirctl.c`,
    /// FILL_INFO_EASIZE, GitHub issue winfsp#380).
    pub reparse_tag: u32,
    /// AllocationSize (A8): the clusters the data occupies (all up to end of file, the written
    /// ones of a sparse file), the length rounded up to 8 for data resident in the file
    /// record; 0 for directories.
    pub allocation_size: u64,
    /// EndOfFile.
    pub file_size: u64,
    /// CreationTime (FILETIME).
    pub creation_time: u64,
    /// LastAccessTime.
    pub last_access_time: u64,
    /// LastWriteTime.
    pub last_write_time: u64,
    /// ChangeTime.
    pub change_time: u64,
    /// IndexNumber: the engine's FileId, identical for every name of a file (A1: "nFileIndexHigh/Low
    /// identical for every link").
    pub index_number: u64,
    /// Always 0: "unimplemented in WinFsp; set to 0" (`inc/winfsp/fsctl.h`). The driver reports
    /// NumberOfLinks = 1 whatever this says (`src/sys/fileinfo.c`); the true count is available
    /// through the control channel ([`crate::control`]).
    pub hard_links: u32,
    /// 0: the volume has no extended attributes. For reparse points the driver puts the tag in
    /// the listing's EaSize itself (see [`FileInfo::reparse_tag`]).
    pub ea_size: u32,
}

impl FileInfo {
    /// The information of a file from its engine stat.
    pub fn from_stat(st: &Stat) -> FileInfo {
        // The engine's AllocationSize (A8): the data's clusters, only the written ones of a
        // sparse file; data resident in the file record reports its length rounded up to 8
        // bytes, the resident attribute's allocated length.
        let allocation_size = match st.kind {
            FileKind::Directory => 0,
            FileKind::File if st.resident => st.size.div_ceil(8) * 8,
            FileKind::File => st.allocation_size,
        };
        FileInfo {
            file_attributes: st.attributes,
            reparse_tag: st.reparse_tag.unwrap_or(0),
            allocation_size,
            file_size: st.size,
            creation_time: st.times.creation,
            last_access_time: st.times.last_access,
            last_write_time: st.times.last_write,
            change_time: st.times.change,
            index_number: st.id.0,
            hard_links: 0,
            ea_size: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::{attrs, reparse::IO_REPARSE_TAG_MOUNT_POINT, NewFile, Volume, VolumeOptions};

    /// A1: every name of a file reports the same IndexNumber, data size and times.
    #[test]
    fn every_name_of_a_file_reports_the_same_index_number_size_and_times() {
        let v = Volume::new(VolumeOptions::default());
        v.write_file_path(r"\a", b"12345").unwrap();
        v.hard_link_path(r"\a", r"\b").unwrap();
        let a = FileInfo::from_stat(&v.stat_path(r"\a", false).unwrap());
        let b = FileInfo::from_stat(&v.stat_path(r"\B", false).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.file_size, 5);
        assert_eq!(a.index_number, v.resolve(r"\a", false).unwrap().0);
    }

    /// fsctl.h: HardLinks "unimplemented; set to 0" even for a file with two names.
    #[test]
    fn hard_links_field_is_zero_as_winfsp_requires() {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\a", &vfs_core::NewFile::file()).unwrap();
        v.hard_link_path(r"\a", r"\b").unwrap();
        let st = v.stat_path(r"\a", false).unwrap();
        assert_eq!(st.links, 2);
        assert_eq!(FileInfo::from_stat(&st).hard_links, 0);
    }

    /// NTFS reports whole clusters: allocation is end of file rounded up; directories 0.
    #[test]
    fn allocation_size_is_file_size_rounded_up_to_the_cluster() {
        let v = Volume::new(VolumeOptions::default());
        v.write_file_path(r"\f", &[1u8; 4097]).unwrap();
        v.create_path(r"\empty", &vfs_core::NewFile::file())
            .unwrap();
        v.create_path(r"\d", &vfs_core::NewFile::dir()).unwrap();
        let f = FileInfo::from_stat(&v.stat_path(r"\f", false).unwrap());
        assert_eq!((f.file_size, f.allocation_size), (4097, 8192));
        let e = FileInfo::from_stat(&v.stat_path(r"\empty", false).unwrap());
        assert_eq!(e.allocation_size, 0);
        let d = FileInfo::from_stat(&v.stat_path(r"\d", false).unwrap());
        assert_eq!(d.allocation_size, 0);
        assert_ne!(d.file_attributes & attrs::DIRECTORY, 0);
        // A8: a small file is resident in its record; a sparse file has only written clusters.
        v.write_file_path(r"\small", b"hello!").unwrap();
        let s = FileInfo::from_stat(&v.stat_path(r"\small", false).unwrap());
        assert_eq!((s.file_size, s.allocation_size), (6, 8));
        let id = v.create_path(r"\sparse", &NewFile::file()).unwrap();
        v.set_attributes(id, attrs::SPARSE_FILE).unwrap();
        v.set_size(id, 1 << 30).unwrap();
        v.write(id, 1 << 20, &[1; 10]).unwrap();
        let p = FileInfo::from_stat(&v.stat_path(r"\sparse", false).unwrap());
        assert_eq!((p.file_size, p.allocation_size), (1 << 30, 4096));
    }

    /// A3: a junction is DIRECTORY|REPARSE_POINT (0x410) with its tag, which WinFsp copies into
    /// the listing's EaSize (dirctl.c FILL_INFO_EASIZE).
    #[test]
    fn junction_reports_0x410_and_its_tag_for_the_listing_ea_size() {
        let v = Volume::new(VolumeOptions::default());
        v.create_junction(r"\j", r"C:\target").unwrap();
        let j = FileInfo::from_stat(&v.stat_path(r"\j", false).unwrap());
        assert_eq!(j.file_attributes & 0x410, 0x410);
        assert_eq!(j.reparse_tag, IO_REPARSE_TAG_MOUNT_POINT);
        assert_eq!(j.ea_size, 0);
    }
}
