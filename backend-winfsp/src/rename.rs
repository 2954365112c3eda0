//! Rename (MoveFileEx, FileRenameInformation[Ex]) with NTFS's replace rules (A6).
//!
//! WinFsp's driver has already applied the rules about *open handles* it can see, per name
//! (source or target open without POSIX semantics → STATUS_ACCESS_DENIED, a directory with open
//! handles below it; `src/sys/fileinfo.c` FspFsvolSetRenameInformation / FspFileNodeRenameCheck)
//! and answered an exact same-name rename itself. The engine applies the rest: replace only
//! with REPLACE_IF_EXISTS, never over a directory unless POSIX semantics and the directory is
//! empty, not over a READONLY file unless IGNORE_READONLY_ATTRIBUTE, a case-only rename
//! re-cases the entry (A5), and — what the driver cannot see — a target that is open through
//! *another name* of the same file.
//!
//! WinFsp's Rename callback passes only ReplaceIfExists; the FILE_RENAME_INFORMATION_EX flags
//! are in the request (`Req.SetInformation.Info.RenameEx.Flags`), which the Windows glue reads.

use crate::path;
use crate::status::{FsResult, NtStatus};
use vfs_core::{Error, FileKind, RenameFlags, Volume};

/// FILE_RENAME_REPLACE_IF_EXISTS (FILE_RENAME_INFORMATION_EX flags).
pub const FILE_RENAME_REPLACE_IF_EXISTS: u32 = 0x01;
/// FILE_RENAME_POSIX_SEMANTICS.
pub const FILE_RENAME_POSIX_SEMANTICS: u32 = 0x02;
/// FILE_RENAME_IGNORE_READONLY_ATTRIBUTE.
pub const FILE_RENAME_IGNORE_READONLY_ATTRIBUTE: u32 = 0x40;

/// The engine's flags from WinFsp's ReplaceIfExists and the request's RenameEx flags.
pub fn rename_flags(replace_if_exists: bool, ex_flags: u32) -> RenameFlags {
    RenameFlags {
        replace_if_exists: replace_if_exists || ex_flags & FILE_RENAME_REPLACE_IF_EXISTS != 0,
        posix_semantics: ex_flags & FILE_RENAME_POSIX_SEMANTICS != 0,
        ignore_readonly: ex_flags & FILE_RENAME_IGNORE_READONLY_ATTRIBUTE != 0,
    }
}

/// Renames the name `from` (the open file's name) to `to`; handles opened through the old name
/// follow it (`Volume::rename` moves them, MS-FSA 2.1.5.15.12).
pub fn rename(vol: &Volume, from: &[u16], to: &[u16], flags: RenameFlags) -> FsResult<()> {
    let (src_dir, src_name) = path::parent_dir(vol, from)?;
    let (dst_dir, dst_name) = path::parent_dir(vol, to)?;
    if vol.stat(dst_dir).map_err(NtStatus::from)?.kind != FileKind::Directory {
        // A target whose directory is a file: STATUS_INVALID_PARAMETER (WinBtrfs rename.cpp
        // "Try to move file within other file"), as the engine's path-level rename answers.
        return Err(Error::InvalidParameter.into());
    }
    vol.rename(src_dir, &src_name, dst_dir, &dst_name, flags)
        .map_err(NtStatus::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::name::{narrow, wide};
    use vfs_core::VolumeOptions;

    fn vol() -> Volume {
        Volume::new(VolumeOptions::default())
    }
    fn mv(v: &Volume, a: &str, b: &str, flags: RenameFlags) -> FsResult<()> {
        rename(v, &wide(a), &wide(b), flags)
    }

    /// FILE_RENAME_INFORMATION_EX flags map one for one; ReplaceIfExists from the callback
    /// counts as REPLACE_IF_EXISTS.
    #[test]
    fn rename_ex_flags_map_to_engine_flags() {
        let f = rename_flags(true, 0);
        assert!(f.replace_if_exists && !f.posix_semantics && !f.ignore_readonly);
        let f = rename_flags(false, 0x43);
        assert!(f.replace_if_exists && f.posix_semantics && f.ignore_readonly);
        assert_eq!(rename_flags(false, 0), RenameFlags::default());
    }

    /// A6: an existing target needs REPLACE_IF_EXISTS; a file replaces a file; nothing
    /// replaces a directory without POSIX semantics.
    #[test]
    fn replace_rules_follow_movefileex() {
        let v = vol();
        v.write_file_path(r"\a", b"new").unwrap();
        v.write_file_path(r"\b", b"old").unwrap();
        v.create_path(r"\d", &vfs_core::NewFile::dir()).unwrap();
        assert_eq!(
            mv(&v, r"\a", r"\b", rename_flags(false, 0)),
            Err(Error::NameCollision.into())
        );
        mv(&v, r"\a", r"\b", rename_flags(true, 0)).unwrap();
        assert_eq!(v.read_file_path(r"\b").unwrap(), b"new");
        assert_eq!(
            mv(&v, r"\b", r"\d", rename_flags(true, 0)),
            Err(Error::AccessDenied.into())
        );
        // POSIX semantics may replace an empty directory.
        mv(
            &v,
            r"\b",
            r"\d",
            rename_flags(true, FILE_RENAME_POSIX_SEMANTICS),
        )
        .unwrap();
        assert_eq!(v.read_file_path(r"\d").unwrap(), b"new");
        v.check().unwrap();
    }

    /// A5: a case-only rename re-cases the entry; the target directory must exist (A6).
    #[test]
    fn case_only_rename_recases_and_missing_target_directory_is_path_not_found() {
        let v = vol();
        v.create_path(r"\readme", &vfs_core::NewFile::file())
            .unwrap();
        mv(&v, r"\readme", r"\README", RenameFlags::default()).unwrap();
        let names: Vec<String> = v
            .read_dir_path(r"\")
            .unwrap()
            .iter()
            .map(|e| narrow(&e.name))
            .collect();
        assert_eq!(names, ["README"]);
        assert_eq!(
            mv(&v, r"\README", r"\no\x", RenameFlags::default()),
            Err(Error::ObjectPathNotFound.into())
        );
        v.create_path(r"\f", &vfs_core::NewFile::file()).unwrap();
        assert_eq!(
            mv(&v, r"\README", r"\f\x", RenameFlags::default()),
            Err(Error::InvalidParameter.into()),
            "WinBtrfs rename.cpp: a target inside a file"
        );
    }

    /// A1/A6: renaming one name of a linked file keeps the other name and the FileId.
    #[test]
    fn renaming_one_name_of_a_linked_file_keeps_the_other_name() {
        let v = vol();
        let id = v.write_file_path(r"\a", b"x").unwrap();
        v.hard_link_path(r"\a", r"\b").unwrap();
        mv(&v, r"\a", r"\c", RenameFlags::default()).unwrap();
        assert_eq!(v.resolve(r"\b", false).unwrap(), id);
        assert_eq!(v.resolve(r"\c", false).unwrap(), id);
        assert_eq!(v.stat(id).unwrap().links, 2);
        v.check().unwrap();
    }
}
