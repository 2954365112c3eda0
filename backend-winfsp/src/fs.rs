//! [`WinFs`]: every WinFsp `FileSystemContext` operation as a portable function over
//! `vfs_core::Volume`, with portable types. The Windows glue (`glue.rs`) only converts WinFsp's
//! arguments and results to and from these; all decisions are made here or in the engine, and
//! tested on Linux.
//!
//! How a file name reaches us: WinFsp resolves reparse points itself, component by component,
//! through [`WinFs::reparse_point_by_name`] (`FspFileSystemFindReparsePoint` for the components
//! before the last, the attributes from [`WinFs::security_by_name`] for the last one, then
//! `FspFileSystemResolveReparsePoints`): a relative symlink is substituted inside the volume; an
//! absolute symlink (`\??\N:\dir`) goes back to the I/O manager as a new name; a junction or any
//! other tag goes back to the I/O manager with its reparse data, which is how NTFS hands
//! junctions to Windows (`src/dll/fsop.c`). So Open and Create never meet a reparse point they
//! should follow.

use crate::cleanup;
use crate::create;
use crate::dir::{self, Batch};
use crate::info::FileInfo;
use crate::path;
use crate::rename;
use crate::security;
use crate::status::{FsResult, NtStatus, STATUS_EAS_NOT_SUPPORTED, STATUS_END_OF_FILE};
use std::sync::{Arc, Mutex};
use vfs_core::{attrs, Error, FileId, FileKind, HandleId, SetTimes, Volume};

/// One WinFsp file context: a CreateFile of a file or directory of the volume.
///
/// It holds an engine handle from Open/Create until Cleanup (a handle counts for sharing,
/// delete and rename until cleanup on NTFS) and a pin on the file until Close, because WinFsp
/// may still query or read a file after its Cleanup, even a deleted one (winfsp.h, Cleanup:
/// "The file system must be ready to receive additional operations until close time").
#[derive(Debug)]
pub struct OpenFile {
    /// The file (its IndexNumber).
    pub id: FileId,
    /// A directory?
    pub is_dir: bool,
    handle: Mutex<Option<HandleId>>,
}

impl OpenFile {
    /// The engine handle, until Cleanup.
    pub fn engine_handle(&self) -> Option<HandleId> {
        *self.handle.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Takes the engine handle (Cleanup runs once per context).
    pub(crate) fn take_engine_handle(&self) -> Option<HandleId> {
        self.handle.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// What an Open or Create gives back to WinFsp.
pub type Opened = (OpenFile, FileInfo, Option<Vec<u16>>);

/// Volume-wide settings the file system reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsOptions {
    /// Size reported by GetDiskFreeSpace for a volume without `VolumeOptions::capacity` (then
    /// nominal: free space is this less what the files use); a volume with a size reports it.
    pub capacity: u64,
    /// Volume label (32 UTF-16 units at most are shown).
    pub label: String,
}

impl Default for FsOptions {
    fn default() -> Self {
        FsOptions {
            capacity: 64 << 30,
            label: "ntlinkfs".into(),
        }
    }
}

/// The portable WinFsp file system over one engine volume.
#[derive(Debug)]
pub struct WinFs {
    vol: Arc<Volume>,
    capacity: u64,
    label: Mutex<Vec<u16>>,
}

fn err(e: Error) -> NtStatus {
    NtStatus::from(e)
}

/// A FILETIME of 0 means "leave this time alone" (WinFsp also turns -1 into 0,
/// `src/sys/fileinfo.c` FspFsvolSetBasicInformation).
fn time_arg(t: u64) -> Option<u64> {
    (t != 0).then_some(t)
}

impl WinFs {
    /// A file system over `vol` with default options.
    pub fn new(vol: Arc<Volume>) -> WinFs {
        WinFs::with_options(vol, FsOptions::default())
    }

    /// A file system over `vol`.
    pub fn with_options(vol: Arc<Volume>, opts: FsOptions) -> WinFs {
        WinFs {
            vol,
            capacity: opts.capacity,
            label: Mutex::new(opts.label.encode_utf16().take(32).collect()),
        }
    }

    /// The engine volume.
    pub fn volume(&self) -> &Volume {
        &self.vol
    }

    fn info(&self, id: FileId) -> FsResult<FileInfo> {
        Ok(FileInfo::from_stat(&self.vol.stat(id).map_err(err)?))
    }

    /// Wraps a fresh engine handle in a context: pins the file until Close.
    fn context(&self, h: HandleId) -> FsResult<OpenFile> {
        let id = self.vol.handle_file(h).map_err(err)?;
        let pinned = self
            .vol
            .stat(id)
            .and_then(|st| self.vol.pin(id).map(|_| st));
        match pinned {
            Ok(st) => Ok(OpenFile {
                id,
                is_dir: st.kind == FileKind::Directory,
                handle: Mutex::new(Some(h)),
            }),
            Err(e) => {
                let _ = self.vol.close(h);
                Err(err(e))
            }
        }
    }

    /// GetSecurityByName: the attributes and security descriptor of a name (last component not
    /// followed). WinFsp uses the attributes to decide whether to reparse.
    pub fn security_by_name(&self, file_name: &[u16]) -> FsResult<(u32, Vec<u8>)> {
        path::components(file_name)?;
        let id = self.vol.resolve(file_name, false).map_err(err)?;
        let st = self.vol.stat(id).map_err(err)?;
        Ok((st.attributes, security::descriptor_of(&self.vol, id)?))
    }

    /// Open an existing name ([`create::open_options`]).
    pub fn open(&self, file_name: &[u16], create_options: u32, granted: u32) -> FsResult<Opened> {
        path::components(file_name)?;
        let h = self
            .vol
            .open_path(file_name, &create::open_options(create_options, granted))
            .map_err(err)?
            .handle;
        let file = self.context(h)?;
        let info = self.info(file.id)?;
        let normalized = path::normalized(&self.vol, file_name).unwrap_or(None);
        Ok((file, info, normalized))
    }

    /// Create a new name ([`create::create_options`]) with the security descriptor WinFsp
    /// computed and, if given, a reparse point. Extended attributes are refused (the volume
    /// does not announce them). If storing the descriptor or the reparse point fails, the new
    /// name is removed again.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &self,
        file_name: &[u16],
        create_options: u32,
        granted: u32,
        file_attributes: u32,
        security_descriptor: Option<&[u8]>,
        extra: Option<&[u8]>,
        extra_is_reparse_point: bool,
    ) -> FsResult<Opened> {
        path::components(file_name)?;
        if extra.is_some() && !extra_is_reparse_point {
            return Err(STATUS_EAS_NOT_SUPPORTED);
        }
        let opts = create::create_options(create_options, granted, file_attributes);
        let h = self.vol.open_path(file_name, &opts).map_err(err)?.handle;
        let id = self.vol.handle_file(h).map_err(err)?;
        let setup = || -> FsResult<()> {
            if let Some(sd) = security_descriptor {
                security::store(&self.vol, id, sd)?;
            }
            if let Some(rp) = extra {
                self.vol.set_reparse_point(id, rp).map_err(err)?;
            }
            Ok(())
        };
        if let Err(e) = setup() {
            let _ = self.vol.delete_at_cleanup(h);
            return Err(e);
        }
        let file = self.context(h)?;
        let info = self.info(file.id)?;
        let normalized = path::normalized(&self.vol, file_name).unwrap_or(None);
        Ok((file, info, normalized))
    }

    /// Overwrite (FILE_OVERWRITE[_IF], FILE_SUPERSEDE on an existing file): empties the file and
    /// sets the attributes ([`create::overwrite_attributes`]).
    pub fn overwrite(
        &self,
        f: &OpenFile,
        file_attributes: u32,
        replace: bool,
    ) -> FsResult<FileInfo> {
        let st = self.vol.stat(f.id).map_err(err)?;
        if st.reparse_tag.is_some() {
            // WinFsp reparses a reparse point before an overwrite unless FILE_OPEN_REPARSE_POINT
            // was given (its access check answers STATUS_REPARSE and the DLL resolves it:
            // `src/dll/fsop.c` FspFileSystemOverwriteCheck), so an Overwrite that reaches one
            // overwrites the link itself: it becomes a plain
            // empty file (WinBtrfs reparse.cpp "Overwrite symlink"; the engine's open_path does
            // the same, issue 18).
            self.vol.remove_reparse_point(f.id).map_err(err)?;
        }
        self.vol.set_size(f.id, 0).map_err(err)?;
        let new = create::overwrite_attributes(st.attributes, file_attributes, replace);
        self.vol.set_attributes(f.id, new).map_err(err)?;
        self.info(f.id)
    }

    /// Cleanup ([`cleanup::cleanup`]).
    pub fn cleanup(&self, f: &OpenFile, _file_name: Option<&[u16]>, flags: u32) {
        cleanup::cleanup(&self.vol, f.id, f.take_engine_handle(), flags)
    }

    /// Close: the context goes; its engine handle (if Cleanup never came) and its pin go.
    pub fn close(&self, f: OpenFile) {
        if let Some(h) = f.take_engine_handle() {
            let _ = self.vol.close(h);
        }
        let _ = self.vol.unpin(f.id, 1);
    }

    /// GetFileInfo.
    pub fn file_info(&self, f: &OpenFile) -> FsResult<FileInfo> {
        self.info(f.id)
    }

    /// Read: at or past end of file → STATUS_END_OF_FILE, as WinFsp expects.
    pub fn read(&self, f: &OpenFile, buf: &mut [u8], offset: u64) -> FsResult<u32> {
        let size = self.vol.stat(f.id).map_err(err)?.size;
        if offset >= size {
            return Err(STATUS_END_OF_FILE);
        }
        let n = self.vol.read(f.id, offset, buf).map_err(err)?;
        Ok(n as u32)
    }

    /// Write: `write_to_eof` appends; `constrained_io` (paging I/O) never extends the file.
    pub fn write(
        &self,
        f: &OpenFile,
        data: &[u8],
        offset: u64,
        write_to_eof: bool,
        constrained_io: bool,
    ) -> FsResult<(u32, FileInfo)> {
        let size = self.vol.stat(f.id).map_err(err)?.size;
        let offset = if write_to_eof { size } else { offset };
        let data = if constrained_io {
            if offset >= size {
                return Ok((0, self.info(f.id)?));
            }
            let room = usize::try_from(size - offset).unwrap_or(usize::MAX);
            &data[..data.len().min(room)]
        } else {
            data
        };
        let n = self.vol.write(f.id, offset, data).map_err(err)?;
        Ok((n as u32, self.info(f.id)?))
    }

    /// Flush: nothing is buffered outside the engine.
    pub fn flush(&self, f: Option<&OpenFile>) -> FsResult<Option<FileInfo>> {
        f.map(|f| self.info(f.id)).transpose()
    }

    /// SetBasicInfo: attributes `u32::MAX` and times 0 mean "leave alone"
    /// (`src/sys/fileinfo.c`). DIRECTORY and REPARSE_POINT stay the file system's
    /// (MS-FSA 2.1.5.14.2, in the engine).
    pub fn set_basic_info(
        &self,
        f: &OpenFile,
        file_attributes: u32,
        creation: u64,
        last_access: u64,
        last_write: u64,
        change: u64,
    ) -> FsResult<FileInfo> {
        if file_attributes != u32::MAX {
            self.vol
                .set_attributes(f.id, file_attributes & attrs::SETTABLE)
                .map_err(err)?;
        }
        let times = SetTimes {
            creation: time_arg(creation),
            last_access: time_arg(last_access),
            last_write: time_arg(last_write),
            change: time_arg(change),
        };
        if times != SetTimes::default() {
            self.vol.set_times(f.id, times).map_err(err)?;
        }
        self.info(f.id)
    }

    /// SetFileSize: end of file, or (`set_allocation_size`) allocation, which only truncates
    /// when it is below end of file (allocation is derived from the size here).
    pub fn set_file_size(
        &self,
        f: &OpenFile,
        size: u64,
        set_allocation_size: bool,
    ) -> FsResult<FileInfo> {
        if !set_allocation_size || size < self.vol.stat(f.id).map_err(err)?.size {
            self.vol.set_size(f.id, size).map_err(err)?;
        }
        self.info(f.id)
    }

    /// SetDelete ([`cleanup::set_delete`]).
    pub fn set_delete(&self, f: &OpenFile, delete: bool) -> FsResult<()> {
        cleanup::set_delete(&self.vol, f.engine_handle(), delete)
    }

    /// Rename ([`rename::rename`]); `ex_flags` are the FILE_RENAME_INFORMATION_EX flags.
    pub fn rename(
        &self,
        _f: &OpenFile,
        from: &[u16],
        to: &[u16],
        replace_if_exists: bool,
        ex_flags: u32,
    ) -> FsResult<()> {
        path::components(from)?;
        path::components(to)?;
        rename::rename(
            &self.vol,
            from,
            to,
            rename::rename_flags(replace_if_exists, ex_flags),
        )
    }

    /// ReadDirectory: one batch of at most `limit` examined entries ([`dir::list`]).
    pub fn read_directory(
        &self,
        f: &OpenFile,
        pattern: Option<&[u16]>,
        marker: Option<&[u16]>,
        limit: usize,
    ) -> FsResult<Batch> {
        if !f.is_dir {
            return Err(err(Error::NotADirectory));
        }
        dir::list(&self.vol, f.id, pattern, marker, limit)
    }

    /// GetSecurity.
    pub fn security(&self, f: &OpenFile) -> FsResult<Vec<u8>> {
        security::descriptor_of(&self.vol, f.id)
    }

    /// SetSecurity: stores the descriptor WinFsp merged (`FspSetSecurityDescriptor` in the
    /// glue). One descriptor per file, so every name sees it (A1).
    pub fn set_security(&self, f: &OpenFile, sd: &[u8]) -> FsResult<()> {
        security::store(&self.vol, f.id, sd)
    }

    /// GetReparsePoint (FSCTL_GET_REPARSE_POINT): the buffer byte for byte.
    pub fn reparse_point(&self, f: &OpenFile) -> FsResult<Vec<u8>> {
        self.vol.get_reparse_point(f.id).map_err(err)
    }

    /// GetReparsePointByName, WinFsp's resolver: the reparse data of a name (last component not
    /// followed); STATUS_NOT_A_REPARSE_POINT tells the resolver to go on.
    pub fn reparse_point_by_name(&self, file_name: &[u16]) -> FsResult<Vec<u8>> {
        path::components(file_name)?;
        let id = self.vol.resolve(file_name, false).map_err(err)?;
        self.vol.get_reparse_point(id).map_err(err)
    }

    /// SetReparsePoint (FSCTL_SET_REPARSE_POINT, A3: MS-FSA 2.1.5.10.37 in the engine).
    pub fn set_reparse_point(&self, f: &OpenFile, buffer: &[u8]) -> FsResult<()> {
        self.vol.set_reparse_point(f.id, buffer).map_err(err)
    }

    /// DeleteReparsePoint (FSCTL_DELETE_REPARSE_POINT with its header).
    pub fn delete_reparse_point(&self, f: &OpenFile, buffer: &[u8]) -> FsResult<()> {
        self.vol.delete_reparse_point(f.id, buffer).map_err(err)
    }

    /// DeviceControl: the control channel ([`crate::control`]).
    pub fn control(&self, code: u32, input: &[u8], output_len: usize) -> FsResult<Vec<u8>> {
        crate::control::serve(&self.vol, code, input, output_len)
    }

    /// GetVolumeInfo: (total bytes, free bytes, label). A volume with a size
    /// (`VolumeOptions::capacity`) reports it and its free clusters (A8, `Volume::space`), as
    /// `df` does on Linux; one without reports the nominal [`FsOptions::capacity`] less what
    /// its files use.
    pub fn volume_info(&self) -> (u64, u64, Vec<u16>) {
        let label = self.label.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let sp = self.vol.space();
        let used = sp.used_clusters * sp.cluster_size;
        let (total, free) = if self.vol.options().capacity.is_some() {
            (
                sp.total_clusters * sp.cluster_size,
                sp.free_clusters * sp.cluster_size,
            )
        } else {
            (self.capacity, self.capacity.saturating_sub(used))
        };
        (total, free, label)
    }

    /// SetVolumeLabel (kept for the life of the mount; 32 units at most).
    pub fn set_volume_label(&self, label: &[u16]) {
        *self.label.lock().unwrap_or_else(|e| e.into_inner()) =
            label.iter().copied().take(32).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::create::{
        DELETE, FILE_DIRECTORY_FILE, FILE_NON_DIRECTORY_FILE, FILE_READ_DATA, FILE_WRITE_DATA,
    };
    use crate::status::STATUS_NOT_A_REPARSE_POINT;
    use vfs_core::name::wide;
    use vfs_core::reparse::IO_REPARSE_TAG_SYMLINK;
    use vfs_core::VolumeOptions;

    fn fs() -> WinFs {
        WinFs::new(Arc::new(Volume::new(VolumeOptions::default())))
    }
    fn done(fs: &WinFs, f: OpenFile) {
        fs.cleanup(&f, None, 0);
        fs.close(f);
    }

    /// A1: a file with two names (from a fixture or the control channel) is the same file under
    /// both: a write through one name is read through the other at once, with the same FileId
    /// — nothing is cached per name, so no name can see stale data.
    #[test]
    fn a_write_through_one_name_is_read_through_the_other_at_once() {
        let fs = fs();
        fs.volume().write_file_path(r"\a", b"").unwrap();
        fs.volume().hard_link_path(r"\a", r"\b").unwrap();
        let (a, ia, _) = fs.open(&wide(r"\a"), 0, FILE_WRITE_DATA).unwrap();
        let (b, ib, _) = fs.open(&wide(r"\B"), 0, FILE_READ_DATA).unwrap();
        assert_eq!(ia.index_number, ib.index_number);
        let (n, info) = fs.write(&a, b"hello", 0, false, false).unwrap();
        assert_eq!((n, info.file_size), (5, 5));
        let mut buf = [0u8; 16];
        assert_eq!(fs.read(&b, &mut buf, 0), Ok(5));
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(fs.file_info(&b).unwrap(), fs.file_info(&a).unwrap());
        done(&fs, a);
        done(&fs, b);
        assert_eq!(fs.volume().open_handle_count(), 0);
        fs.volume().check().unwrap();
    }

    /// NtCreateFile: FILE_CREATE makes a directory with FILE_DIRECTORY_FILE and stores the
    /// descriptor WinFsp computed; opening it with FILE_NON_DIRECTORY_FILE fails
    /// STATUS_FILE_IS_A_DIRECTORY; an existing name collides.
    #[test]
    fn create_makes_files_and_directories_with_their_descriptor() {
        let fs = fs();
        let sd = security::default_descriptor();
        let (d, info, norm) = fs
            .create(
                &wide(r"\Dir"),
                FILE_DIRECTORY_FILE,
                0,
                0,
                Some(&sd),
                None,
                false,
            )
            .unwrap();
        assert!(d.is_dir);
        assert_ne!(info.file_attributes & attrs::DIRECTORY, 0);
        assert_eq!(norm, Some(wide(r"\Dir")));
        assert_eq!(fs.security(&d).unwrap(), sd);
        assert_eq!(
            fs.open(&wide(r"\dir"), FILE_NON_DIRECTORY_FILE, 0).err(),
            Some(Error::FileIsADirectory.into())
        );
        assert_eq!(
            fs.create(&wide(r"\DIR"), 0, 0, 0, None, None, false).err(),
            Some(Error::NameCollision.into())
        );
        let (f, info, _) = fs
            .create(
                &wide(r"\Dir\f.txt"),
                0,
                FILE_WRITE_DATA,
                attrs::HIDDEN,
                None,
                None,
                false,
            )
            .unwrap();
        assert_eq!(info.file_attributes, attrs::HIDDEN | attrs::ARCHIVE);
        done(&fs, f);
        done(&fs, d);
        assert_eq!(
            fs.create(&wide(r"\f"), 0, 0, 0, None, Some(b"ea"), false)
                .err(),
            Some(STATUS_EAS_NOT_SUPPORTED)
        );
    }

    /// A create whose reparse buffer is refused leaves no name behind.
    #[test]
    fn create_with_a_bad_reparse_buffer_leaves_nothing_behind() {
        let fs = fs();
        assert_eq!(
            fs.create(&wide(r"\l"), 0, 0, 0, None, Some(&[1, 2, 3]), true)
                .err(),
            Some(Error::ReparseDataInvalid.into())
        );
        assert_eq!(
            fs.volume().resolve(r"\l", false),
            Err(Error::ObjectNameNotFound)
        );
        assert_eq!(fs.volume().open_handle_count(), 0);
        fs.volume().check().unwrap();
    }

    /// A4: WinFsp's resolver gets a symlink's buffer by name and STATUS_NOT_A_REPARSE_POINT for
    /// ordinary names; opening the link (FILE_OPEN_REPARSE_POINT) opens the link itself.
    #[test]
    fn resolver_gets_reparse_data_by_name_and_open_gets_the_link_itself() {
        let fs = fs();
        fs.volume()
            .create_path(r"\target", &vfs_core::NewFile::dir())
            .unwrap();
        let link = fs.volume().create_symlink(r"\s", r"target", true).unwrap();
        let buf = fs.reparse_point_by_name(&wide(r"\s")).unwrap();
        assert_eq!(
            u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]),
            IO_REPARSE_TAG_SYMLINK
        );
        assert_eq!(
            fs.reparse_point_by_name(&wide(r"\target")),
            Err(STATUS_NOT_A_REPARSE_POINT)
        );
        let (attrs_s, _) = fs.security_by_name(&wide(r"\s")).unwrap();
        assert_ne!(attrs_s & attrs::REPARSE_POINT, 0);
        let (f, info, _) = fs
            .open(&wide(r"\s"), crate::create::FILE_OPEN_REPARSE_POINT, 0)
            .unwrap();
        assert_eq!(f.id, link);
        assert_eq!(info.reparse_tag, IO_REPARSE_TAG_SYMLINK);
        assert_eq!(fs.reparse_point(&f).unwrap(), buf);
        done(&fs, f);
    }

    /// FILE_OVERWRITE empties the file and merges attributes; supersede replaces them.
    #[test]
    fn overwrite_empties_the_file_and_sets_attributes() {
        let fs = fs();
        fs.volume().write_file_path(r"\f", b"old data").unwrap();
        let (f, _, _) = fs.open(&wide(r"\f"), 0, FILE_WRITE_DATA).unwrap();
        fs.set_basic_info(&f, attrs::HIDDEN, 0, 0, 0, 0).unwrap();
        let info = fs.overwrite(&f, attrs::SYSTEM, false).unwrap();
        assert_eq!(info.file_size, 0);
        assert_eq!(
            info.file_attributes,
            attrs::HIDDEN | attrs::SYSTEM | attrs::ARCHIVE
        );
        let info = fs.overwrite(&f, 0, true).unwrap();
        assert_eq!(info.file_attributes, attrs::ARCHIVE);
        done(&fs, f);
    }

    /// An Overwrite of a symlink opened as itself leaves a plain empty file (WinBtrfs
    /// reparse.cpp "Overwrite symlink"); the target keeps its data.
    #[test]
    fn overwrite_of_a_reparse_point_removes_it() {
        let fs = fs();
        fs.volume().write_file_path(r"\t", b"target").unwrap();
        fs.volume().create_symlink(r"\l", "t", false).unwrap();
        let (f, _, _) = fs
            .open(
                &wide(r"\l"),
                crate::create::FILE_OPEN_REPARSE_POINT,
                FILE_WRITE_DATA,
            )
            .unwrap();
        let info = fs.overwrite(&f, 0, false).unwrap();
        assert_eq!(info.file_size, 0);
        assert_eq!(info.file_attributes & attrs::REPARSE_POINT, 0);
        assert_eq!(info.reparse_tag, 0);
        assert_eq!(fs.volume().read_file_path(r"\t").unwrap(), b"target");
        done(&fs, f);
    }

    /// WinFsp's read/write contract: reads at end of file are STATUS_END_OF_FILE; write-to-EOF
    /// appends; constrained (paging) writes never extend the file; the allocation size only
    /// truncates.
    #[test]
    fn read_write_and_size_follow_winfsp_rules() {
        let fs = fs();
        fs.volume().write_file_path(r"\f", b"abc").unwrap();
        let (f, _, _) = fs
            .open(&wide(r"\f"), 0, FILE_WRITE_DATA | FILE_READ_DATA)
            .unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(fs.read(&f, &mut buf, 3), Err(STATUS_END_OF_FILE));
        assert_eq!(fs.write(&f, b"de", 0, true, false).unwrap().1.file_size, 5);
        let (n, info) = fs.write(&f, b"XYZ", 4, false, true).unwrap();
        assert_eq!((n, info.file_size), (1, 5));
        assert_eq!(fs.write(&f, b"Q", 9, false, true).unwrap().0, 0);
        assert_eq!(fs.volume().read_file_path(r"\f").unwrap(), b"abcdX");
        assert_eq!(fs.set_file_size(&f, 100, true).unwrap().file_size, 5);
        assert_eq!(fs.set_file_size(&f, 2, true).unwrap().file_size, 2);
        assert_eq!(fs.set_file_size(&f, 10, false).unwrap().file_size, 10);
        done(&fs, f);
    }

    /// FileBasicInformation: 0 times and INVALID_FILE_ATTRIBUTES leave things alone; set times
    /// are shared by every name (A1).
    #[test]
    fn set_basic_info_leaves_zero_fields_alone_and_is_shared_by_names() {
        let fs = fs();
        fs.volume()
            .create_path(r"\a", &vfs_core::NewFile::file())
            .unwrap();
        fs.volume().hard_link_path(r"\a", r"\b").unwrap();
        let (a, before, _) = fs.open(&wide(r"\a"), 0, 0).unwrap();
        let info = fs.set_basic_info(&a, u32::MAX, 0, 0, 12345, 0).unwrap();
        assert_eq!(info.last_write_time, 12345);
        assert_eq!(info.creation_time, before.creation_time);
        assert_eq!(info.file_attributes, before.file_attributes);
        let (b, ib, _) = fs.open(&wide(r"\b"), 0, 0).unwrap();
        assert_eq!(ib.last_write_time, 12345);
        done(&fs, a);
        done(&fs, b);
    }

    /// The root has no parent: opening it works, deleting it is refused by the engine too.
    #[test]
    fn root_opens_and_cannot_be_deleted() {
        let fs = fs();
        let (r, info, norm) = fs.open(&wide(r"\"), FILE_DIRECTORY_FILE, DELETE).unwrap();
        assert!(r.is_dir);
        assert_eq!(info.index_number, fs.volume().root().0);
        assert_eq!(norm, Some(wide(r"\")));
        assert!(fs.set_delete(&r, true).is_err());
        let batch = fs.read_directory(&r, None, None, 10).unwrap();
        assert!(batch.entries.is_empty());
        done(&fs, r);
    }

    /// A1 + control channel through the file system: a link made through DeviceControl is
    /// opened by its new name as the same file.
    #[test]
    fn link_made_through_device_control_opens_as_the_same_file() {
        let fs = fs();
        fs.volume().write_file_path(r"\a", b"z").unwrap();
        let (code, req) =
            crate::control::encode_request(&crate::control::Request::CreateHardLink {
                existing: wide(r"\a"),
                new: wide(r"\z"),
            })
            .unwrap();
        fs.control(code, &req, 4096).unwrap();
        let (z, info, _) = fs.open(&wide(r"\z"), 0, FILE_READ_DATA).unwrap();
        assert_eq!(
            info.index_number,
            fs.volume().resolve(r"\a", false).unwrap().0
        );
        done(&fs, z);
        let (total, free, label) = fs.volume_info();
        let used = fs.volume().space().used_clusters * 4096;
        assert_eq!((total, free), (64 << 30, (64 << 30) - used));
        assert_eq!(label, wide("ntlinkfs"));
        fs.set_volume_label(&wide("X"));
        assert_eq!(fs.volume_info().2, wide("X"));
    }

    /// A8: a volume with a size reports it, and the free space follows the files' clusters:
    /// a copy takes its clusters, a hard link none, as `df` shows on Linux.
    #[test]
    fn volume_info_reports_the_size_and_the_clusters_used() {
        let fs = WinFs::new(Arc::new(Volume::new(VolumeOptions {
            capacity: Some(16 << 20),
            ..VolumeOptions::default()
        })));
        let (total, free0, _) = fs.volume_info();
        assert_eq!(total, 16 << 20);
        fs.volume().write_file_path(r"\a", &[1; 40_960]).unwrap();
        let (_, free1, _) = fs.volume_info();
        // 10 clusters of data and a 1 KiB file record.
        assert!(free0 - free1 >= 40_960 && free0 - free1 <= 40_960 + 4096);
        fs.volume().hard_link_path(r"\a", r"\b").unwrap();
        assert_eq!(fs.volume_info().1, free1);
    }
}

/// Delete dispositions and Cleanup through the WinFsp entry points ([`cleanup`]).
#[cfg(test)]
mod cleanup_tests {
    use super::*;
    use crate::cleanup::*;
    use crate::create::{DELETE, FILE_DELETE_ON_CLOSE, FILE_READ_DATA};
    use crate::fs::WinFs;
    use crate::status::STATUS_SUCCESS;
    use std::sync::Arc;
    use vfs_core::name::wide;
    use vfs_core::{attrs, Error, VolumeOptions};

    fn fs() -> WinFs {
        WinFs::new(Arc::new(Volume::new(VolumeOptions::default())))
    }
    fn open(fs: &WinFs, p: &str, access: u32) -> OpenFile {
        fs.open(&wide(p), 0, access).unwrap().0
    }
    fn gone(fs: &WinFs, p: &str) -> bool {
        fs.volume().resolve(p, false) == Err(Error::ObjectNameNotFound)
    }

    /// A2 legacy: SetDelete marks the name delete-pending (new opens fail with
    /// STATUS_DELETE_PENDING); the name goes at the Cleanup that carries FspCleanupDelete.
    #[test]
    fn set_delete_marks_pending_and_the_flagged_cleanup_removes_the_name() {
        let fs = fs();
        fs.volume()
            .create_path(r"\f", &vfs_core::NewFile::file())
            .unwrap();
        let reader = open(&fs, r"\f", FILE_READ_DATA);
        let deleter = open(&fs, r"\f", DELETE);
        fs.set_delete(&deleter, true).unwrap();
        assert_eq!(
            fs.open(&wide(r"\f"), 0, FILE_READ_DATA).err(),
            Some(Error::DeletePending.into())
        );
        // Not the last handle of the name: WinFsp sends no delete flag.
        fs.cleanup(&deleter, None, 0);
        assert!(!gone(&fs, r"\f"));
        // The last Cleanup of the name carries it.
        fs.cleanup(&reader, Some(&wide(r"\f")), FSP_CLEANUP_DELETE);
        assert!(gone(&fs, r"\f"));
        fs.close(deleter);
        fs.close(reader);
        fs.volume().check().unwrap();
    }

    /// A2 POSIX (DeleteFileW since 1903): the deleting handle's Cleanup carries the flag while
    /// another handle is open; the name goes now and the open handle keeps reading the data.
    #[test]
    fn posix_delete_removes_the_name_while_another_handle_keeps_the_data() {
        let fs = fs();
        fs.volume().write_file_path(r"\f", b"kept").unwrap();
        let reader = open(&fs, r"\f", FILE_READ_DATA);
        let deleter = open(&fs, r"\f", DELETE);
        fs.set_delete(&deleter, true).unwrap();
        fs.cleanup(&deleter, Some(&wide(r"\f")), FSP_CLEANUP_DELETE);
        assert!(gone(&fs, r"\f"));
        let mut buf = [0u8; 8];
        assert_eq!(fs.read(&reader, &mut buf, 0), Ok(4));
        assert_eq!(&buf[..4], b"kept");
        fs.cleanup(&reader, None, 0);
        fs.close(reader);
        fs.close(deleter);
        assert_eq!(fs.volume().file_count(), 1, "only the root is left");
        fs.volume().check().unwrap();
    }

    /// A1: deleting one name of a hard-linked file leaves the other name with the data.
    #[test]
    fn deleting_one_name_keeps_the_file_under_its_other_name() {
        let fs = fs();
        fs.volume().write_file_path(r"\a", b"data").unwrap();
        fs.volume().hard_link_path(r"\a", r"\b").unwrap();
        let h = open(&fs, r"\a", DELETE);
        fs.set_delete(&h, true).unwrap();
        fs.cleanup(&h, Some(&wide(r"\a")), FSP_CLEANUP_DELETE);
        fs.close(h);
        assert!(gone(&fs, r"\a"));
        assert_eq!(fs.volume().read_file_path(r"\b").unwrap(), b"data");
        fs.volume().check().unwrap();
    }

    /// A2: at NT level the disposition call itself fails on a non-empty directory; a
    /// FILE_DELETE_ON_CLOSE directory that is not empty keeps its name at cleanup.
    #[test]
    fn non_empty_directory_refuses_set_delete_and_survives_delete_on_close() {
        let fs = fs();
        fs.volume()
            .create_path(r"\d", &vfs_core::NewFile::dir())
            .unwrap();
        fs.volume()
            .create_path(r"\d\f", &vfs_core::NewFile::file())
            .unwrap();
        let h = open(&fs, r"\d", DELETE);
        assert_eq!(
            fs.set_delete(&h, true),
            Err(Error::DirectoryNotEmpty.into())
        );
        fs.cleanup(&h, None, 0);
        fs.close(h);
        let doc = fs
            .open(&wide(r"\d"), FILE_DELETE_ON_CLOSE, DELETE)
            .unwrap()
            .0;
        fs.cleanup(&doc, Some(&wide(r"\d")), FSP_CLEANUP_DELETE);
        fs.close(doc);
        assert!(!gone(&fs, r"\d"));
        assert_eq!(fs.volume().open_handle_count(), 0);
    }

    /// SetDelete(FALSE) cancels a pending delete: later opens succeed.
    #[test]
    fn set_delete_false_cancels_the_pending_delete() {
        let fs = fs();
        fs.volume()
            .create_path(r"\f", &vfs_core::NewFile::file())
            .unwrap();
        let h = open(&fs, r"\f", DELETE);
        fs.set_delete(&h, true).unwrap();
        fs.set_delete(&h, false).unwrap();
        let again = open(&fs, r"\f", FILE_READ_DATA);
        fs.cleanup(&again, None, 0);
        fs.close(again);
        fs.cleanup(&h, None, 0);
        fs.close(h);
        assert!(!gone(&fs, r"\f"));
    }

    /// FspCleanupSetArchiveBit sets ARCHIVE on a file whose ARCHIVE was cleared; a second
    /// Cleanup of the same context is harmless.
    #[test]
    fn cleanup_sets_the_archive_bit_and_runs_once() {
        let fs = fs();
        let id = fs
            .volume()
            .create_path(r"\f", &vfs_core::NewFile::file())
            .unwrap();
        fs.volume().set_attributes(id, attrs::HIDDEN).unwrap();
        let h = open(&fs, r"\f", FILE_READ_DATA);
        fs.cleanup(
            &h,
            None,
            FSP_CLEANUP_SET_ARCHIVE_BIT | FSP_CLEANUP_SET_LAST_WRITE_TIME,
        );
        fs.cleanup(&h, None, FSP_CLEANUP_DELETE);
        let st = fs.volume().stat(id).unwrap();
        assert_eq!(st.attributes, attrs::HIDDEN | attrs::ARCHIVE);
        assert!(!gone(&fs, r"\f"), "second cleanup did nothing");
        fs.close(h);
        assert_eq!(STATUS_SUCCESS.0, 0);
    }
}
