//! The small trait of NTFS operations every case is written against, and the outcome types.
//!
//! A case never sees a file system directly: it calls [`NtfsTarget`] methods with paths relative
//! to its own fresh sandbox directory, `\`-separated (`dir\file`), and gets back either a value
//! or a [`Failure`] saying, as precisely as the target can, which NTFS outcome happened.

use std::fmt;
use vfs_core::error::TABLE as ERROR_TABLE;
use vfs_core::Error;

pub use vfs_core::{
    Access, Disposition, DispositionFlags, LinkFlags, RenameFlags, Share, SpecialFile,
};

/// What went wrong in one operation, as precisely as the target can say it.
///
/// Targets differ in how much of the NTFS outcome they can see: the engine reports the exact
/// NTSTATUS ([`Failure::Nt`]), a Win32 caller sees `GetLastError` ([`Failure::Win32`], where
/// ERROR_ACCESS_DENIED stands for five different NTSTATUS values), and a POSIX caller sees an
/// errno ([`Failure::Errno`], see [`errno_meanings`]). A case expecting an NTFS outcome compares
/// at the granularity the target has: see [`Failure::matches`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The exact NTSTATUS-level outcome (the in-process engine).
    Nt(Error),
    /// A Win32 error code (`GetLastError`).
    Win32(u32),
    /// A POSIX errno.
    Errno(i32),
    /// The target cannot express this operation; the case is reported n/a with this reason.
    Unsupported(String),
    /// The harness itself failed (not an NTFS outcome); the case fails with this message.
    Broken(String),
}

/// The result of one target operation.
pub type Op<T> = Result<T, Failure>;

impl Failure {
    /// Whether this failure can be the NTFS outcome `expected`, at the target's granularity:
    /// exact for [`Failure::Nt`] (with `NameTooLong` and `ObjectNameInvalid`, which share
    /// STATUS_OBJECT_NAME_INVALID, taken as one), the Win32 code of `expected` for
    /// [`Failure::Win32`], and the documented errno table ([`errno_meanings`]) for
    /// [`Failure::Errno`].
    pub fn matches(&self, expected: Error) -> bool {
        match self {
            Failure::Nt(e) => *e == expected || e.ntstatus() == expected.ntstatus(),
            Failure::Win32(code) => *code == expected.win32(),
            Failure::Errno(n) => errno_meanings(*n).contains(&expected),
            Failure::Unsupported(_) | Failure::Broken(_) => false,
        }
    }

    /// The errno of a POSIX target's failure ([`Failure::Errno`]), None for any other kind:
    /// what the differential fuzzer compares between two mounts.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Failure::Errno(n) => Some(*n),
            _ => None,
        }
    }

    /// A failure from an I/O error: its errno, or [`Failure::Broken`] when it has none.
    pub fn from_io(e: &std::io::Error) -> Failure {
        match e.raw_os_error() {
            Some(n) => Failure::Errno(n),
            None => Failure::Broken(e.to_string()),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Nt(e) => write!(f, "{e:?} (NTSTATUS {:#010x})", e.ntstatus()),
            Failure::Win32(code) => write!(f, "Win32 error {code}"),
            Failure::Errno(n) => match host::errno::name(*n) {
                Some(name) => write!(f, "errno {name} ({n})"),
                None => write!(f, "errno {n}"),
            },
            Failure::Unsupported(why) => write!(f, "not expressible: {why}"),
            Failure::Broken(why) => write!(f, "harness error: {why}"),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Nt(e)
    }
}

/// Linux errno values the table below uses (fixed numbers, so the table is the same on every
/// host that runs the suite; they are the x86-64/aarch64 Linux values): the engine's own, plus
/// two that only other file systems return.
pub mod errno {
    #![allow(missing_docs)]
    pub use vfs_core::error::errno::*;
    pub const ENOSPC: i32 = 28;
    pub const ERANGE: i32 = 34;
}

/// The documented errno table: for each errno a POSIX target can return, the NTFS outcomes it
/// may stand for. It is deliberately many-to-one (EACCES is AccessDenied *or* DeletePending, ENOENT
/// is a missing name *or* a missing directory on the way), so a POSIX target is judged only at
/// this granularity. Besides the engine's own errno column ([`vfs_core::Error::errno`], which
/// the FUSE backend returns and which this table always contains), it lists what the Linux VFS
/// and ntfs-3g return for the same situations:
///
/// | errno        | NTFS outcomes                                                          |
/// |--------------|------------------------------------------------------------------------|
/// | ENOENT       | ObjectNameNotFound, ObjectPathNotFound, FileDeleted, NoSuchFile, NotOnThisVolume |
/// | ENOTDIR      | NotADirectory, ObjectPathNotFound (a file used as a directory on the way), InvalidParameter (a link or rename target whose directory is a file: NTFS says STATUS_INVALID_PARAMETER, the Linux VFS ENOTDIR) |
/// | EEXIST       | NameCollision, DirectoryNotEmpty (POSIX allows EEXIST for rmdir)       |
/// | ENOTEMPTY    | DirectoryNotEmpty                                                      |
/// | EISDIR       | FileIsADirectory                                                       |
/// | EPERM        | CannotDelete, AccessDenied, PrivilegeNotHeld, FileIsADirectory (the VFS refuses link(2) on a directory with EPERM) |
/// | EACCES       | AccessDenied, DeletePending, CannotDelete, FileDeleted                 |
/// | EBUSY        | SharingViolation, CannotDelete                                         |
/// | EMLINK       | TooManyLinks                                                           |
/// | EXDEV        | NotSameDevice                                                          |
/// | EINVAL       | ObjectNameInvalid, InvalidParameter, ReparseDataInvalid, ReparseTagMismatch, ReparseAttributeConflict, CaseDifferingNamesInDir |
/// | ENAMETOOLONG | NameTooLong, ObjectNameInvalid                                         |
/// | ELOOP        | ReparsePointNotResolved                                                |
/// | ENODATA      | NotAReparsePoint                                                       |
/// | EIO          | IoReparseTagNotHandled                                                 |
/// | EROFS        | ReadOnlyVolume                                                         |
/// | EFBIG, ENOSPC| FileTooLarge                                                           |
/// | EOPNOTSUPP, ENOSYS | NotSupported                                                     |
/// | ESTALE       | StaleFileId                                                            |
/// | EBADF        | InvalidHandle                                                          |
pub fn errno_meanings(n: i32) -> Vec<Error> {
    use errno::*;
    let extra: &[Error] = match n {
        ENOENT => &[
            Error::ObjectNameNotFound,
            Error::ObjectPathNotFound,
            Error::FileDeleted,
            Error::NoSuchFile,
            Error::NotOnThisVolume,
        ],
        ENOTDIR => &[
            Error::NotADirectory,
            Error::ObjectPathNotFound,
            Error::InvalidParameter,
        ],
        EEXIST => &[Error::NameCollision, Error::DirectoryNotEmpty],
        ENOTEMPTY => &[Error::DirectoryNotEmpty],
        EISDIR => &[Error::FileIsADirectory],
        EPERM => &[
            Error::CannotDelete,
            Error::AccessDenied,
            Error::PrivilegeNotHeld,
            Error::FileIsADirectory,
        ],
        EACCES => &[
            Error::AccessDenied,
            Error::DeletePending,
            Error::CannotDelete,
            Error::FileDeleted,
        ],
        EBUSY => &[Error::SharingViolation, Error::CannotDelete],
        EMLINK => &[Error::TooManyLinks],
        EXDEV => &[Error::NotSameDevice],
        EINVAL => &[
            Error::ObjectNameInvalid,
            Error::InvalidParameter,
            Error::ReparseDataInvalid,
            Error::ReparseTagMismatch,
            Error::ReparseAttributeConflict,
            Error::CaseDifferingNamesInDir,
        ],
        ENAMETOOLONG => &[Error::NameTooLong, Error::ObjectNameInvalid],
        ELOOP => &[Error::ReparsePointNotResolved],
        ENODATA => &[Error::NotAReparsePoint],
        EIO => &[Error::IoReparseTagNotHandled],
        EROFS => &[Error::ReadOnlyVolume],
        EFBIG | ENOSPC => &[Error::FileTooLarge],
        EOPNOTSUPP | ENOSYS => &[Error::NotSupported],
        ESTALE => &[Error::StaleFileId],
        EBADF => &[Error::InvalidHandle],
        _ => &[],
    };
    let mut out: Vec<Error> = extra.to_vec();
    // The engine's own column: whatever the FUSE backend returns for an outcome means it.
    for row in ERROR_TABLE {
        if row.3 == n && !out.contains(&row.0) {
            out.push(row.0);
        }
    }
    out
}

/// What GetFileInformationByHandle (plus the reparse tag) tells about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// FileId / nFileIndexHigh:Low (st_ino on POSIX targets).
    pub file_id: u64,
    /// NumberOfLinks (st_nlink on POSIX targets).
    pub links: u32,
    /// End of file.
    pub size: u64,
    /// FILE_ATTRIBUTE_* ([`vfs_core::attrs`]).
    pub attributes: u32,
    /// The reparse tag when the file is a reparse point.
    pub reparse_tag: Option<u32>,
}

impl Info {
    /// FILE_ATTRIBUTE_DIRECTORY is set.
    pub fn is_dir(&self) -> bool {
        self.attributes & vfs_core::attrs::DIRECTORY != 0
    }
    /// FILE_ATTRIBUTE_REPARSE_POINT is set.
    pub fn is_reparse_point(&self) -> bool {
        self.attributes & vfs_core::attrs::REPARSE_POINT != 0
    }
}

/// An open handle of a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle(pub u64);

/// How to open an existing file (CreateFileW with OPEN_EXISTING).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenHow {
    /// Desired access.
    pub access: Access,
    /// Share mode.
    pub share: Share,
    /// FILE_FLAG_OPEN_REPARSE_POINT: open a link itself, not what it points to.
    pub open_reparse_point: bool,
    /// FILE_FLAG_DELETE_ON_CLOSE.
    pub delete_on_close: bool,
}

impl OpenHow {
    /// Read access, sharing read, write and delete (what a POSIX open gives).
    pub fn read() -> OpenHow {
        OpenHow {
            access: Access::READ,
            share: Share::ALL,
            open_reparse_point: false,
            delete_on_close: false,
        }
    }
    /// This share mode instead.
    pub fn share(mut self, share: Share) -> OpenHow {
        self.share = share;
        self
    }
    /// This access instead.
    pub fn access(mut self, access: Access) -> OpenHow {
        self.access = access;
        self
    }
    /// With FILE_FLAG_DELETE_ON_CLOSE (and DELETE access).
    pub fn delete_on_close(mut self) -> OpenHow {
        self.delete_on_close = true;
        self.access.delete = true;
        self
    }
    /// With FILE_FLAG_OPEN_REPARSE_POINT.
    pub fn open_reparse_point(mut self) -> OpenHow {
        self.open_reparse_point = true;
        self
    }
}

/// The new name of a link or rename through a handle (FILE_LINK_INFORMATION /
/// FILE_RENAME_INFORMATION's RootDirectory and FileName).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewName<'a> {
    /// A sandbox path (`dir\name`), passed as a full path with RootDirectory NULL.
    Path(&'a str),
    /// A bare name with RootDirectory NULL: it stays in the directory of the handle's name.
    Bare(&'a str),
    /// A name relative to the directory handle given as RootDirectory.
    Relative(Handle, &'a str),
}

/// What FILE_STANDARD_INFORMATION tells through one handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardInfo {
    /// NumberOfLinks (names that are not delete-pending).
    pub links: u32,
    /// DeletePending as this handle sees it (MS-FSA 2.1.5.12.27).
    pub delete_pending: bool,
}

/// DeleteFileW or RemoveDirectoryW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteKind {
    /// DeleteFileW: a file or a file symlink.
    File,
    /// RemoveDirectoryW: a directory, a junction or a directory symlink.
    Directory,
}

/// Something a case needs beyond the basic operations. A case asks with [`NtfsTarget::need`]
/// before anything else; a target that cannot provide it says why, and the case is n/a.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// DeleteFileW as before Windows 10 1903: the name stays delete-pending while handles are
    /// open (A2). A target may switch this sandbox to that behaviour.
    LegacyDelete,
    /// Handles with share modes other than "share everything", or with DELETE access checked.
    ShareModes,
    /// FileDispositionInformation(Ex) on a handle and FILE_FLAG_DELETE_ON_CLOSE.
    Dispositions,
    /// FILE_CASE_SENSITIVE_INFORMATION on directories (A5).
    CaseSensitiveDirectories,
    /// Paths through more than 40 reparse points (NTFS allows 63, A4).
    DeepReparseChains,
    /// Windows 11's refusal to open a file symlink that reaches a directory and vice versa (A4).
    SymlinkKindCheck,
    /// DeleteFileW and RemoveDirectoryW told apart on a junction or directory symlink (A2).
    DeleteFileOnDirectoryLink,
    /// The first access right after a directory or file becomes (or stops being) a reparse
    /// point, with no workaround for a stale kernel cache in between.
    RawReparseTransitions,
    /// The tag check of FSCTL_DELETE_REPARSE_POINT (its header names the tag to delete).
    DeleteReparseTagCheck,
    /// Reparse points set and read as raw buffers (FSCTL_SET/GET_REPARSE_POINT).
    RawReparseData,
    /// The NT open (CreateFileW) of a FIFO, socket or device node, whose outcome the reparse
    /// tag decides. On Linux the kernel serves such an open itself (a pipe, a socket, a
    /// driver) and the file system never sees it.
    NtOpenOfSpecialFiles,
}

/// The operations of one case's sandbox: a fresh, empty directory on the target. Paths are
/// relative to it and use `\` between components.
///
/// Every method returns [`Op`]: a value, an NTFS outcome ([`Failure::Nt`], [`Failure::Win32`],
/// [`Failure::Errno`]), or [`Failure::Unsupported`] when the target cannot express the
/// operation (the case is then n/a, never pass or fail).
pub trait NtfsTarget {
    /// Asks for a [`Feature`]; `Err(reason)` makes the case n/a. Called before any other
    /// operation, so a target may reconfigure the fresh sandbox (the engine switches to legacy
    /// delete semantics here).
    fn need(&mut self, feature: Feature) -> Result<(), String>;

    /// The absolute Win32 path (`C:\...\path`) of a sandbox path, as a link target.
    fn absolute(&self, path: &str) -> String;

    /// CreateFileW(CREATE_NEW) and close: an empty file.
    fn create_file(&mut self, path: &str) -> Op<()>;
    /// CreateDirectoryW.
    fn create_dir(&mut self, path: &str) -> Op<()>;
    /// CreateFileW(CREATE_ALWAYS) following links, WriteFile, close.
    fn write_file(&mut self, path: &str, data: &[u8]) -> Op<()>;
    /// CreateFileW(OPEN_EXISTING) following links, ReadFile to the end, close.
    fn read_file(&mut self, path: &str) -> Op<Vec<u8>>;

    /// CreateHardLinkW(new, existing).
    fn hard_link(&mut self, existing: &str, new: &str) -> Op<()>;
    /// FindFirstFileNameW/FindNextFileNameW: every name of the file, as sandbox paths with a
    /// leading `\` (`\dir\name`), in any order.
    fn link_names(&mut self, path: &str) -> Op<Vec<String>>;

    /// CreateSymbolicLinkW(link, target, directory ? SYMBOLIC_LINK_FLAG_DIRECTORY : 0).
    fn create_symlink(&mut self, link: &str, target: &str, directory: bool) -> Op<()>;
    /// `mklink /J link target`: CreateDirectoryW, then FSCTL_SET_REPARSE_POINT with the mount
    /// point buffer `mklink` writes. `target` is absolute (see [`NtfsTarget::absolute`]).
    fn create_junction(&mut self, link: &str, target: &str) -> Op<()>;
    /// A POSIX special file: mkfifo(3), bind(2) of an AF_UNIX socket, mknod(2) of a device
    /// node (on Windows: bind(2) of an AF_UNIX socket, or WSL for the others). NTFS stores
    /// each as a reparse point of its own tag ([`SpecialFile`], MS-FSCC 2.1.2.1).
    fn create_special(&mut self, path: &str, special: SpecialFile) -> Op<()>;
    /// FSCTL_SET_REPARSE_POINT with a raw buffer, on the file itself (not followed).
    fn set_reparse_point(&mut self, path: &str, buffer: &[u8]) -> Op<()>;
    /// FSCTL_GET_REPARSE_POINT: the buffer, byte for byte.
    fn get_reparse_point(&mut self, path: &str) -> Op<Vec<u8>>;
    /// FSCTL_DELETE_REPARSE_POINT with a REPARSE_DATA_BUFFER header naming the tag.
    fn delete_reparse_point(&mut self, path: &str, header: &[u8]) -> Op<()>;

    /// SetFileAttributesW on the file itself.
    fn set_attributes(&mut self, path: &str, attributes: u32) -> Op<()>;

    /// CreateFileW(OPEN_EXISTING) keeping the handle.
    fn open(&mut self, path: &str, how: OpenHow) -> Op<Handle>;
    /// ReadFile from offset 0 to the end, through a handle.
    fn read_handle(&mut self, h: Handle) -> Op<Vec<u8>>;
    /// GetFileInformationByHandle.
    fn stat_handle(&mut self, h: Handle) -> Op<Info>;
    /// SetFileInformationByHandle(FileDispositionInfoEx).
    fn set_disposition(&mut self, h: Handle, flags: DispositionFlags) -> Op<()>;
    /// CloseHandle.
    fn close(&mut self, h: Handle) -> Op<()>;

    /// DeleteFileW or RemoveDirectoryW (never follows a link in the last component).
    fn delete(&mut self, path: &str, kind: DeleteKind) -> Op<()>;
    /// MoveFileExW / SetFileInformationByHandle(FileRenameInfoEx) with these flags.
    fn rename(&mut self, src: &str, dst: &str, flags: RenameFlags) -> Op<()>;
    /// FindFirstFileW/FindNextFileW on `path\*`: the names, in the order the file system
    /// returns them, without `.` and `..`.
    fn list_dir(&mut self, path: &str) -> Op<Vec<String>>;
    /// GetFileInformationByHandle on a handle opened by path; `follow` = without
    /// FILE_FLAG_OPEN_REPARSE_POINT.
    fn stat(&mut self, path: &str, follow: bool) -> Op<Info>;
    /// FILE_CASE_SENSITIVE_INFORMATION on a directory.
    fn set_case_sensitive(&mut self, dir: &str, on: bool) -> Op<()>;

    // The operations below reach NT-level behaviour through a handle. A target that cannot
    // express one keeps the default, which makes the case n/a.

    /// NtCreateFile / CreateFileW on an existing file with this disposition (FILE_OVERWRITE is
    /// TRUNCATE_EXISTING, FILE_OVERWRITE_IF CREATE_ALWAYS), keeping the handle.
    fn open_disposition(
        &mut self,
        _path: &str,
        _how: OpenHow,
        _disposition: Disposition,
    ) -> Op<Handle> {
        Err(Failure::Unsupported("no NtCreateFile dispositions".into()))
    }
    /// WriteFile at offset 0 through a handle.
    fn write_handle(&mut self, _h: Handle, _data: &[u8]) -> Op<()> {
        Err(Failure::Unsupported("no writes through a handle".into()))
    }
    /// OpenFileById / NtCreateFile with FILE_OPEN_BY_FILE_ID.
    fn open_by_id(&mut self, _file_id: u64, _how: OpenHow) -> Op<Handle> {
        Err(Failure::Unsupported("no open by file id".into()))
    }
    /// NtSetInformationFile(FileLinkInformationEx) on a handle.
    fn link_handle(&mut self, _h: Handle, _new: NewName<'_>, _flags: LinkFlags) -> Op<()> {
        Err(Failure::Unsupported("no FileLinkInformation".into()))
    }
    /// SetFileInformationByHandle(FileRenameInfoEx) / NtSetInformationFile on a handle.
    fn rename_handle(&mut self, _h: Handle, _new: NewName<'_>, _flags: RenameFlags) -> Op<()> {
        Err(Failure::Unsupported("no rename through a handle".into()))
    }
    /// FileDispositionInfoEx with FILE_DISPOSITION_FLAG_ON_CLOSE (and DELETE when `delete`).
    fn set_disposition_on_close(&mut self, _h: Handle, _delete: bool) -> Op<()> {
        Err(Failure::Unsupported("no FILE_DISPOSITION_ON_CLOSE".into()))
    }
    /// GetFileInformationByHandleEx(FileStandardInfo).
    fn standard_info(&mut self, _h: Handle) -> Op<StandardInfo> {
        Err(Failure::Unsupported("no FILE_STANDARD_INFORMATION".into()))
    }
    /// One NtQueryDirectoryFile call on a directory handle: the names returned, `.` and `..`
    /// included, in the order returned; `pattern` is FileName (NT wildcards, `<` `>` `"`
    /// included), `restart` SL_RESTART_SCAN.
    fn query_dir(&mut self, _h: Handle, _pattern: Option<&str>, _restart: bool) -> Op<Vec<String>> {
        Err(Failure::Unsupported("no NtQueryDirectoryFile".into()))
    }
}

/// What kind of file system a target is, for divergences and for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flavor {
    /// The engine in process.
    Core,
    /// An ntlinkfs mount (FUSE, or a `posix:DIR` that is one).
    Ntlinkfs,
    /// ntfs-3g on real NTFS.
    Ntfs3g,
    /// Windows (real NTFS, or a WinFsp mount).
    Windows,
    /// Anything else (another prototype, tmpfs, ...).
    Other,
}

impl Flavor {
    /// Whether a FAIL on this flavor fails the run (ntlinkfs must match Windows).
    pub fn is_ntlinkfs(self) -> bool {
        matches!(self, Flavor::Core | Flavor::Ntlinkfs)
    }
    /// Short name for reports.
    pub fn label(self) -> &'static str {
        match self {
            Flavor::Core => "core",
            Flavor::Ntlinkfs => "ntlinkfs",
            Flavor::Ntfs3g => "ntfs-3g",
            Flavor::Windows => "windows",
            Flavor::Other => "other",
        }
    }
}

/// A place cases run: hands out one fresh sandbox per case.
pub trait Target {
    /// Name in reports (`core`, `fuse`, `ntfs-3g`, `posix:/mnt/x`).
    fn name(&self) -> String;
    /// The kind of file system.
    fn flavor(&self) -> Flavor;
    /// A fresh, empty sandbox for case `case_id`.
    fn sandbox(&mut self, case_id: &str) -> Result<Box<dyn NtfsTarget>, String>;
    /// Called once after the last case (unmount, clean up). Errors are reported, not fatal.
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every errno the engine's table gives means, in the suite's table, the outcome it came
    /// from: the FUSE backend's answers are always understood.
    #[test]
    fn errno_table_contains_engine_column() {
        for row in ERROR_TABLE {
            assert!(
                errno_meanings(row.3).contains(&row.0),
                "{:?} -> errno {}",
                row.0,
                row.3
            );
            assert!(Failure::Errno(row.3).matches(row.0));
            assert!(Failure::Win32(row.2).matches(row.0));
            assert!(Failure::Nt(row.0).matches(row.0));
        }
    }

    #[test]
    fn errno_table_is_ambiguous_where_documented() {
        assert!(Failure::Errno(errno::EACCES).matches(Error::DeletePending));
        assert!(Failure::Errno(errno::EACCES).matches(Error::AccessDenied));
        assert!(!Failure::Errno(errno::EACCES).matches(Error::NameCollision));
        assert!(Failure::Errno(errno::EPERM).matches(Error::FileIsADirectory));
        assert!(!Failure::Unsupported("x".into()).matches(Error::AccessDenied));
    }
}
