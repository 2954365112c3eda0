//! NtCreateFile's CreateOptions and the granted access, as WinFsp passes them to Open and
//! Create, mapped to the engine's [`OpenOptions`].
//!
//! What WinFsp has already done before these calls (`src/dll/fsop.c` FspFileSystemOpCreate and
//! `src/dll/security.c` FspAccessCheckEx):
//! - chosen Open or Create from the disposition and whether the name exists (FILE_OPEN_IF,
//!   FILE_OVERWRITE_IF and FILE_SUPERSEDE arrive as Open + Overwrite when the file exists);
//! - resolved every reparse point on the way, and the last one too unless
//!   FILE_OPEN_REPARSE_POINT was given (it answers STATUS_REPARSE before calling Open). So the
//!   engine is always asked *not* to follow the last component: by then the name is either not
//!   a reparse point or the caller asked for the reparse point itself (A4);
//! - checked the access and the share modes (per name: see README-windows.md), READONLY against
//!   write access and FILE_DELETE_ON_CLOSE.
//!
//! FILE_DELETE_ON_CLOSE is not passed to the engine: WinFsp's driver turns it into a Cleanup
//! with `FspCleanupDelete` at the right handle ([`crate::cleanup`]).

use vfs_core::{attrs, Access, Disposition, FileKind, NewFile, OpenOptions, Share};

/// FILE_DIRECTORY_FILE (NtCreateFile CreateOptions).
pub const FILE_DIRECTORY_FILE: u32 = 0x0000_0001;
/// FILE_NON_DIRECTORY_FILE.
pub const FILE_NON_DIRECTORY_FILE: u32 = 0x0000_0040;
/// FILE_DELETE_ON_CLOSE.
pub const FILE_DELETE_ON_CLOSE: u32 = 0x0000_1000;
/// FILE_OPEN_REPARSE_POINT.
pub const FILE_OPEN_REPARSE_POINT: u32 = 0x0020_0000;

/// FILE_READ_DATA (ACCESS_MASK, MS-DTYP 2.4.3 / MS-SMB2 2.2.13.1.1).
pub const FILE_READ_DATA: u32 = 0x0000_0001;
/// FILE_WRITE_DATA.
pub const FILE_WRITE_DATA: u32 = 0x0000_0002;
/// FILE_APPEND_DATA.
pub const FILE_APPEND_DATA: u32 = 0x0000_0004;
/// DELETE.
pub const DELETE: u32 = 0x0001_0000;

/// The engine's access from an NT granted-access mask (WinFsp maps GENERIC_* and
/// MAXIMUM_ALLOWED before it calls the file system).
pub fn access_from_mask(granted: u32) -> Access {
    Access {
        read: granted & FILE_READ_DATA != 0,
        write: granted & (FILE_WRITE_DATA | FILE_APPEND_DATA) != 0,
        delete: granted & DELETE != 0,
    }
}

/// FILE_DIRECTORY_FILE → a directory is required; FILE_NON_DIRECTORY_FILE → a file.
pub fn kind_from_options(create_options: u32) -> Option<FileKind> {
    if create_options & FILE_DIRECTORY_FILE != 0 {
        Some(FileKind::Directory)
    } else if create_options & FILE_NON_DIRECTORY_FILE != 0 {
        Some(FileKind::File)
    } else {
        None
    }
}

/// Share mode given to the engine: all. WinFsp's Open and Create do not pass the caller's
/// share access; the driver enforces it per file node, that is per *name*
/// (`IoCheckShareAccess` on the node; README-windows.md explains what this means for links).
pub const ENGINE_SHARE: Share = Share::ALL;

/// Options for WinFsp's Open of an existing name.
pub fn open_options(create_options: u32, granted_access: u32) -> OpenOptions {
    OpenOptions {
        disposition: Disposition::Open,
        kind: kind_from_options(create_options),
        open_reparse_point: true,
        delete_on_close: false,
        access: access_from_mask(granted_access),
        share: ENGINE_SHARE,
        new_file: NewFile::file(),
    }
}

/// Options for WinFsp's Create of a new name: FILE_CREATE with the attributes given (the engine
/// keeps the settable ones and adds ARCHIVE to files, DIRECTORY to directories).
pub fn create_options(
    create_options: u32,
    granted_access: u32,
    file_attributes: u32,
) -> OpenOptions {
    let kind = if create_options & FILE_DIRECTORY_FILE != 0 {
        FileKind::Directory
    } else {
        FileKind::File
    };
    OpenOptions {
        disposition: Disposition::Create,
        kind: Some(kind),
        open_reparse_point: true,
        delete_on_close: false,
        access: access_from_mask(granted_access),
        share: ENGINE_SHARE,
        new_file: NewFile {
            kind,
            attributes: file_attributes & attrs::SETTABLE,
            uid: None,
            gid: None,
            mode: None,
        },
    }
}

/// The attributes after FILE_OVERWRITE / FILE_SUPERSEDE (WinFsp Overwrite, `inc/winfsp/winfsp.h`:
/// "When TRUE the existing file attributes should be replaced with the new ones. When FALSE
/// [they] should be merged (or'ed)"); an overwritten file is modified, so ARCHIVE is set, as
/// WinFsp's reference file system does. NORMAL alone means none.
pub fn overwrite_attributes(old: u32, given: u32, replace: bool) -> u32 {
    let given = given & attrs::SETTABLE;
    let kept = if replace { 0 } else { old & attrs::SETTABLE };
    kept | given | attrs::ARCHIVE
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NtCreateFile: FILE_DIRECTORY_FILE asks for a directory, FILE_NON_DIRECTORY_FILE for a
    /// file, neither for either; the last component is never followed by the engine because
    /// WinFsp has answered STATUS_REPARSE already unless FILE_OPEN_REPARSE_POINT was given.
    #[test]
    fn directory_and_non_directory_options_map_to_the_kind_and_reparse_is_never_followed() {
        assert_eq!(
            open_options(FILE_DIRECTORY_FILE, 0).kind,
            Some(FileKind::Directory)
        );
        assert_eq!(
            open_options(FILE_NON_DIRECTORY_FILE, 0).kind,
            Some(FileKind::File)
        );
        assert_eq!(open_options(0, 0).kind, None);
        for opts in [0, FILE_OPEN_REPARSE_POINT] {
            assert!(open_options(opts, 0).open_reparse_point);
        }
        let c = create_options(FILE_DIRECTORY_FILE, 0, 0);
        assert_eq!(
            (c.disposition, c.new_file.kind),
            (Disposition::Create, FileKind::Directory)
        );
    }

    /// FILE_DELETE_ON_CLOSE is left to WinFsp's driver, which sends FspCleanupDelete.
    #[test]
    fn delete_on_close_is_driven_by_the_cleanup_flag_not_the_engine() {
        assert!(!open_options(FILE_DELETE_ON_CLOSE, DELETE).delete_on_close);
        assert!(open_options(FILE_DELETE_ON_CLOSE, DELETE).access.delete);
    }

    /// The engine's access follows the granted mask: FILE_APPEND_DATA is write access, DELETE
    /// is delete access; sharing is left to WinFsp's driver.
    #[test]
    fn granted_access_maps_to_engine_access() {
        let a = access_from_mask(FILE_READ_DATA | FILE_APPEND_DATA);
        assert_eq!((a.read, a.write, a.delete), (true, true, false));
        assert_eq!(access_from_mask(DELETE), Access::DELETE);
        assert_eq!(open_options(0, 0).share, Share::ALL);
    }

    /// winfsp.h Overwrite: supersede replaces the attributes, overwrite adds; both set ARCHIVE; DIRECTORY,
    /// REPARSE_POINT and NORMAL are never taken from the caller.
    #[test]
    fn overwrite_adds_attributes_and_supersede_replaces_them() {
        let old = attrs::HIDDEN | attrs::ARCHIVE;
        assert_eq!(
            overwrite_attributes(old, attrs::SYSTEM, false),
            attrs::HIDDEN | attrs::SYSTEM | attrs::ARCHIVE
        );
        assert_eq!(
            overwrite_attributes(old, attrs::SYSTEM, true),
            attrs::SYSTEM | attrs::ARCHIVE
        );
        assert_eq!(
            overwrite_attributes(0, attrs::NORMAL | attrs::DIRECTORY, true),
            attrs::ARCHIVE
        );
    }
}
