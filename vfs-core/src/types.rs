//! Plain data types shared by the engine and its callers.

use std::collections::BTreeMap;

/// A file's identity on the volume: stable for the file's life, never reused while the volume
/// lives. Layout: the low 32 bits are the slab slot, the high 32 bits the slot's generation
/// (incremented each time the slot is reused), so an id of a deleted file never names another.
/// On Windows this is the FileId / IndexNumber that every name of a file shares (A1:
/// "nFileIndexHigh/Low identical for every link").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u64);

impl FileId {
    pub(crate) fn new(slot: usize, generation: u32) -> FileId {
        FileId(((generation as u64) << 32) | slot as u64)
    }
    pub(crate) fn slot(self) -> usize {
        (self.0 & 0xFFFF_FFFF) as usize
    }
    pub(crate) fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

/// An open handle on a file (a Windows HANDLE / a FUSE file handle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandleId(pub u64);

/// FILE_ATTRIBUTE_* values (MS-FSCC 2.6).
pub mod attrs {
    /// FILE_ATTRIBUTE_READONLY
    pub const READONLY: u32 = 0x1;
    /// FILE_ATTRIBUTE_HIDDEN
    pub const HIDDEN: u32 = 0x2;
    /// FILE_ATTRIBUTE_SYSTEM
    pub const SYSTEM: u32 = 0x4;
    /// FILE_ATTRIBUTE_DIRECTORY
    pub const DIRECTORY: u32 = 0x10;
    /// FILE_ATTRIBUTE_ARCHIVE
    pub const ARCHIVE: u32 = 0x20;
    /// FILE_ATTRIBUTE_NORMAL (reported when no other attribute is set)
    pub const NORMAL: u32 = 0x80;
    /// FILE_ATTRIBUTE_TEMPORARY
    pub const TEMPORARY: u32 = 0x100;
    /// FILE_ATTRIBUTE_SPARSE_FILE
    pub const SPARSE_FILE: u32 = 0x200;
    /// FILE_ATTRIBUTE_REPARSE_POINT
    pub const REPARSE_POINT: u32 = 0x400;
    /// FILE_ATTRIBUTE_COMPRESSED
    pub const COMPRESSED: u32 = 0x800;
    /// FILE_ATTRIBUTE_OFFLINE
    pub const OFFLINE: u32 = 0x1000;
    /// FILE_ATTRIBUTE_NOT_CONTENT_INDEXED
    pub const NOT_CONTENT_INDEXED: u32 = 0x2000;
    /// Attributes a caller may set with SetFileAttributes / FileBasicInformation. DIRECTORY and
    /// REPARSE_POINT are owned by the file system (MS-FSA 2.1.5.14.2).
    pub const SETTABLE: u32 = READONLY
        | HIDDEN
        | SYSTEM
        | ARCHIVE
        | TEMPORARY
        | OFFLINE
        | NOT_CONTENT_INDEXED
        | SPARSE_FILE
        | COMPRESSED;
}

/// 100-ns intervals since 1601-01-01 UTC (a Windows FILETIME).
pub type FileTime = u64;

/// Offset between the FILETIME epoch (1601) and the Unix epoch, in 100 ns units.
pub const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// The current time as a FILETIME.
pub fn now() -> FileTime {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    FILETIME_UNIX_EPOCH + d.as_secs() * 10_000_000 + u64::from(d.subsec_nanos() / 100)
}

/// The four NTFS timestamps of a file ($STANDARD_INFORMATION), shared by all its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Times {
    /// CreationTime
    pub creation: FileTime,
    /// LastAccessTime
    pub last_access: FileTime,
    /// LastWriteTime
    pub last_write: FileTime,
    /// ChangeTime
    pub change: FileTime,
}

/// A partial update of [`Times`] (None = leave alone), as FileBasicInformation / utimensat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetTimes {
    /// New CreationTime
    pub creation: Option<FileTime>,
    /// New LastAccessTime
    pub last_access: Option<FileTime>,
    /// New LastWriteTime
    pub last_write: Option<FileTime>,
    /// New ChangeTime
    pub change: Option<FileTime>,
}

/// File or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A file (data stream).
    File,
    /// A directory (index).
    Directory,
}

/// What GetFileInformationByHandle / FileStatInformation tell about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// The file's id (IndexNumber).
    pub id: FileId,
    /// File or directory.
    pub kind: FileKind,
    /// FILE_ATTRIBUTE_* (DIRECTORY and REPARSE_POINT included; NORMAL when nothing else is set).
    pub attributes: u32,
    /// End of file.
    pub size: u64,
    /// Bytes of memory actually holding data.
    pub allocated: u64,
    /// NTFS's AllocationSize (A8): the clusters the data occupies outside the file record
    /// (all of them up to end of file, or only the written ones for a sparse file), 0 for data
    /// resident in the record; for a directory, its estimated index allocation.
    pub allocation_size: u64,
    /// The data lives in the file record (A8): a file of at most about 650 bytes.
    pub resident: bool,
    /// Names that are not delete-pending (FILE_STANDARD_INFORMATION.NumberOfLinks, A1).
    pub links: u32,
    /// All names, delete-pending ones included (TotalNumberOfLinks).
    pub total_links: u32,
    /// The four timestamps.
    pub times: Times,
    /// Owner (POSIX view of the security).
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Permission bits (0o7777 part).
    pub mode: u32,
    /// The reparse tag, if the file is a reparse point.
    pub reparse_tag: Option<u32>,
    /// The POSIX special file a non-directory's reparse point makes it (FIFO, socket,
    /// device node: [`crate::reparse::SpecialFile`]); `None` for every other file.
    pub special: Option<crate::reparse::SpecialFile>,
    /// FILE_CS_FLAG_CASE_SENSITIVE_DIR on a directory.
    pub case_sensitive: bool,
    /// A delete is pending on some name of the file, or the file has no name left.
    pub delete_pending: bool,
    /// The file's data is lent out (`Volume::lend`): its size and allocation here are the
    /// engine's from before the lend, and the borrower knows the real ones.
    pub lent: bool,
}

/// How DeleteFileW behaves (A2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeleteSemantics {
    /// Windows 10 1903+ on NTFS: the name goes at once, open handles keep working.
    #[default]
    Posix,
    /// Before 1903: the name stays, delete-pending, until the last handle closes.
    Legacy,
}

/// How a symlink whose kind (file/directory) differs from its target's opens (A4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SymlinkKindRule {
    /// Windows 11: a file symlink to a directory, or a directory symlink to a file, fails to open.
    #[default]
    Windows11,
    /// Before Windows 11: the mismatch is ignored.
    Legacy,
}

/// The behaviour knobs of a volume: differences between Windows versions are data here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeOptions {
    /// The drive letter this volume answers to in absolute reparse targets (`\??\C:\dir`).
    pub drive_letter: char,
    /// Other drive letters and the host path (opaque to the engine) each maps to.
    pub drive_map: BTreeMap<char, String>,
    /// DeleteFileW semantics.
    pub delete_semantics: DeleteSemantics,
    /// Symlink file/directory mismatch rule.
    pub symlink_kind_rule: SymlinkKindRule,
    /// Make the root case-sensitive (inherited by new subdirectories, A5).
    pub case_sensitive: bool,
    /// Refuse every change.
    pub read_only: bool,
    /// Names per file (A1: 1024 on NTFS).
    pub max_links: usize,
    /// Reparse points followed in one path before giving up (A4: 63).
    pub max_reparse_points: usize,
    /// owner of new files when the caller gives none
    pub default_uid: u32,
    /// group of new files when the caller gives none
    pub default_gid: u32,
    /// Bytes per cluster (A8): 4 KiB as on a default NTFS volume; a power of two from 4 KiB
    /// to 64 KiB. Not kept in images: a mount chooses it.
    pub cluster_size: u32,
    /// The volume's size in bytes (A8): a change that would need more fails with
    /// [`crate::Error::DiskFull`]; None = no limit. Not kept in images.
    pub capacity: Option<u64>,
    /// Extending a file past its end (a write beyond end of file, a larger end of file)
    /// makes it sparse, as ntfs-3g does for POSIX callers (A8: observed on ntfs-3g, which
    /// sets FILE_ATTRIBUTE_SPARSE_FILE on `truncate -s` and on writes after a seek). Off:
    /// Windows, where a file becomes sparse only by FSCTL_SET_SPARSE. Not kept in images.
    pub sparse_on_extend: bool,
}

impl VolumeOptions {
    /// Checks the values the engine cannot work with; the message names the option.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let c = self.cluster_size;
        if !c.is_power_of_two() || !(4096..=65536).contains(&c) {
            return Err(format!(
                "cluster size {c} is not a power of two from 4096 to 65536 bytes"
            ));
        }
        Ok(())
    }
}

impl Default for VolumeOptions {
    fn default() -> Self {
        VolumeOptions {
            drive_letter: 'C',
            drive_map: BTreeMap::new(),
            delete_semantics: DeleteSemantics::Posix,
            symlink_kind_rule: SymlinkKindRule::Windows11,
            case_sensitive: false,
            read_only: false,
            max_links: MAX_LINKS,
            max_reparse_points: MAX_REPARSE_POINTS_IN_PATH,
            default_uid: 0,
            default_gid: 0,
            cluster_size: DEFAULT_CLUSTER_SIZE,
            capacity: None,
            sparse_on_extend: false,
        }
    }
}

/// A default NTFS volume's cluster: 4 KiB for volumes up to 16 TB (MS docs, "Default cluster
/// size for NTFS, FAT, and exFAT"; A8).
pub const DEFAULT_CLUSTER_SIZE: u32 = 4096;

/// NTFS's limit of names per file: "maximum number of hard links ... is 1023 per file" beyond
/// the first (CreateHardLinkW docs; A1).
pub const MAX_LINKS: usize = 1024;

/// "There is a maximum of 63 reparse points (and therefore symbolic links) allowed in a
/// particular path" (symbolic-link-programming-considerations; A4).
pub const MAX_REPARSE_POINTS_IN_PATH: usize = 63;

/// Permission bits after a write by a caller without CAP_FSETID, as Linux leaves them
/// (`file_remove_privs`): set-user-ID goes, and set-group-ID with group execute (without it,
/// the bit means mandatory locking and stays).
pub fn mode_after_write(mode: u32) -> u32 {
    let mut mode = mode & !0o4000;
    if mode & 0o2010 == 0o2010 {
        mode &= !0o2000;
    }
    mode
}

/// NTFS's maximum file size: 2^44 - 64 KiB on Windows 8+ with 4 KiB clusters
/// (https://learn.microsoft.com/windows-server/storage/file-server/ntfs-overview, "16 TB minus
/// 64 KB").
pub const MAX_FILE_SIZE: u64 = (1 << 44) - 64 * 1024;

/// Parameters of a new file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// File or directory.
    pub kind: FileKind,
    /// Initial FILE_ATTRIBUTE_* (only [`attrs::SETTABLE`] bits are kept; ARCHIVE is added to files).
    pub attributes: u32,
    /// Owner; None = the volume default.
    pub uid: Option<u32>,
    /// Group; None = the volume default.
    pub gid: Option<u32>,
    /// Permission bits; None = 0o755 for directories, 0o644 for files.
    pub mode: Option<u32>,
}

impl NewFile {
    /// A plain file with default attributes.
    pub fn file() -> NewFile {
        NewFile {
            kind: FileKind::File,
            attributes: 0,
            uid: None,
            gid: None,
            mode: None,
        }
    }
    /// A directory with default attributes.
    pub fn dir() -> NewFile {
        NewFile {
            kind: FileKind::Directory,
            ..NewFile::file()
        }
    }
}

/// Desired access of a handle (the subset of ACCESS_MASK the engine tracks for sharing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// FILE_READ_DATA
    pub read: bool,
    /// FILE_WRITE_DATA / FILE_APPEND_DATA
    pub write: bool,
    /// DELETE
    pub delete: bool,
}

/// Share mode of a handle (FILE_SHARE_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// FILE_SHARE_READ
    pub read: bool,
    /// FILE_SHARE_WRITE
    pub write: bool,
    /// FILE_SHARE_DELETE
    pub delete: bool,
}

impl Share {
    /// FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE (what POSIX callers get).
    pub const ALL: Share = Share {
        read: true,
        write: true,
        delete: true,
    };
    /// FILE_SHARE_READ | FILE_SHARE_WRITE (what most Win32 programs pass).
    pub const READ_WRITE: Share = Share {
        read: true,
        write: true,
        delete: false,
    };
    /// No sharing.
    pub const NONE: Share = Share {
        read: false,
        write: false,
        delete: false,
    };
}

impl Access {
    /// Read and write data.
    pub const READ_WRITE: Access = Access {
        read: true,
        write: true,
        delete: false,
    };
    /// Read data.
    pub const READ: Access = Access {
        read: true,
        write: false,
        delete: false,
    };
    /// No data access (attributes only).
    pub const NONE: Access = Access {
        read: false,
        write: false,
        delete: false,
    };
    /// DELETE access only.
    pub const DELETE: Access = Access {
        read: false,
        write: false,
        delete: true,
    };
}

/// NtCreateFile's CreateDisposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// FILE_OPEN: open an existing file.
    Open,
    /// FILE_CREATE: create, fail if it exists.
    Create,
    /// FILE_OPEN_IF: open or create.
    OpenIf,
    /// FILE_OVERWRITE: open an existing file and truncate it.
    Overwrite,
    /// FILE_OVERWRITE_IF: open and truncate, or create.
    OverwriteIf,
    /// FILE_SUPERSEDE: replace or create.
    Supersede,
}

/// How to open or create a file by path (NtCreateFile's parameters the engine honours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOptions {
    /// CreateDisposition.
    pub disposition: Disposition,
    /// FILE_DIRECTORY_FILE (Some(Directory)) / FILE_NON_DIRECTORY_FILE (Some(File)).
    pub kind: Option<FileKind>,
    /// FILE_OPEN_REPARSE_POINT: do not follow a reparse point in the last component.
    pub open_reparse_point: bool,
    /// FILE_DELETE_ON_CLOSE.
    pub delete_on_close: bool,
    /// Desired access.
    pub access: Access,
    /// Share mode.
    pub share: Share,
    /// Attributes and owner of a file this call creates.
    pub new_file: NewFile,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            disposition: Disposition::Open,
            kind: None,
            open_reparse_point: false,
            delete_on_close: false,
            access: Access::READ_WRITE,
            share: Share::ALL,
            new_file: NewFile::file(),
        }
    }
}

/// FILE_DISPOSITION_INFORMATION_EX flags (A2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DispositionFlags {
    /// FILE_DISPOSITION_DELETE (false = clear a pending delete on this handle).
    pub delete: bool,
    /// FILE_DISPOSITION_POSIX_SEMANTICS: the name goes when this handle closes.
    pub posix_semantics: bool,
    /// FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE.
    pub ignore_readonly: bool,
}

/// FILE_RENAME_INFORMATION_EX flags (A6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenameFlags {
    /// FILE_RENAME_REPLACE_IF_EXISTS (MOVEFILE_REPLACE_EXISTING).
    pub replace_if_exists: bool,
    /// FILE_RENAME_POSIX_SEMANTICS: replace a target that is open with FILE_SHARE_DELETE, or an
    /// empty directory.
    pub posix_semantics: bool,
    /// FILE_RENAME_IGNORE_READONLY_ATTRIBUTE.
    pub ignore_readonly: bool,
}

/// What unlink (DeleteFileW / RemoveDirectoryW) expects of the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnlinkKind {
    /// DeleteFileW: a file, a file symlink; a directory → FileIsADirectory (Win32 access denied).
    File,
    /// RemoveDirectoryW: a directory, a junction, a directory symlink; a file → NotADirectory.
    Directory,
    /// Either (FUSE unlink of a symlink shown as a symlink, internal use).
    #[default]
    Any,
}

/// One name of a file: the directory holding it and the name as stored (FILE_LINK_ENTRY_INFORMATION).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkName {
    /// ParentFileId.
    pub parent: FileId,
    /// FileName (display form).
    pub name: Vec<u16>,
    /// Delete-pending name (legacy semantics).
    pub delete_pending: bool,
}

/// One name of a file as a volume-relative path (`\dir\name`, what FindFirstFileNameW and
/// `fsutil hardlink list` return, A1), in WTF-16 so that nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPath {
    /// The path, with a leading `\` and no drive.
    pub path: Vec<u16>,
    /// Delete-pending name (legacy semantics).
    pub delete_pending: bool,
}

impl LinkPath {
    /// The path as a Rust string (unpaired surrogates become U+FFFD).
    pub fn to_string_lossy(&self) -> String {
        crate::wtf16::narrow(&self.path)
    }
}

/// A link path equals a string when its units are the string's (the delete-pending flag is not
/// compared), so a listing reads as the paths it holds: `link_paths(id)? == [r"\a", r"\b"]`.
impl PartialEq<&str> for LinkPath {
    fn eq(&self, other: &&str) -> bool {
        self.path.iter().copied().eq(other.encode_utf16())
    }
}

/// What [`crate::Volume::lookup_stat`] finds, as of one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The file the name leads to.
    pub id: FileId,
    /// The name as stored (display form), which may differ in case from the name looked up.
    pub name: Vec<u16>,
    /// The file's attributes and times.
    pub stat: Stat,
    /// The name is delete-pending (legacy semantics, A2).
    pub delete_pending: bool,
}

/// A handle opened by [`crate::Volume::open_path`] or [`crate::Volume::create_open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// The handle.
    pub handle: HandleId,
    /// The file it is open on.
    pub id: FileId,
    /// The open created the file (a create disposition found no file).
    pub created: bool,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The name as stored (display form).
    pub name: Vec<u16>,
    /// Where to resume after this entry: the listing continues after this key even if the
    /// directory changes meanwhile.
    pub cursor: DirCursor,
    /// The file's attributes and times.
    pub stat: Stat,
}

/// One entry of [`crate::Volume::read_dir_ids`]: a [`DirEntry`] without the attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirName {
    /// The name as stored (display form).
    pub name: Vec<u16>,
    /// Where to resume after this entry.
    pub cursor: DirCursor,
    /// The file it names.
    pub id: FileId,
}

/// A resumable position in a directory listing: the collation key of the last entry returned
/// (its canonical form, then its display name, which tells case twins apart). Both live in one
/// buffer, canonical first: a listing makes a cursor per entry, and a FUSE directory handle
/// keeps them all for its offsets (one allocation each instead of two; BENCHMARKS.md,
/// "Listings").
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DirCursor {
    units: Box<[u16]>,
    split: usize,
}

impl DirCursor {
    /// A cursor that resumes after the entry with this display name (a WinFsp "marker").
    pub fn after_name(name: &[u16]) -> DirCursor {
        DirCursor::new(&crate::name::upcase(name), name)
    }

    pub(crate) fn new(canonical: &[u16], display: &[u16]) -> DirCursor {
        let mut units = Vec::with_capacity(canonical.len() + display.len());
        units.extend_from_slice(canonical);
        units.extend_from_slice(display);
        DirCursor {
            units: units.into_boxed_slice(),
            split: canonical.len(),
        }
    }

    /// The collation key (upcased name) of the entry.
    pub(crate) fn canonical(&self) -> &[u16] {
        &self.units[..self.split]
    }

    /// The entry's name as stored.
    pub(crate) fn display(&self) -> &[u16] {
        &self.units[self.split..]
    }
}

impl std::fmt::Debug for DirCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirCursor")
            .field("canonical", &self.canonical())
            .field("display", &self.display())
            .finish()
    }
}

/// Collation order: canonical form, then display name (as the listing's own order).
impl Ord for DirCursor {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.canonical(), self.display()).cmp(&(other.canonical(), other.display()))
    }
}

impl PartialOrd for DirCursor {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
