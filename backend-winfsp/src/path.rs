//! File names as WinFsp hands them: UTF-16 (WTF-16: unpaired surrogates allowed), relative to
//! the volume root, `\`-separated, starting with `\` (`\` alone is the root).
//!
//! These are NT names, already past Win32's RtlDosPathNameToNtPathName, so NT rules apply
//! (`vfs_core::Name`, validated once here: `\ / : * ? " < > |` and NUL refused, 255 units at most,
//! not `.` or `..`). Win32-only rules (trailing dots and spaces, DOS device names) are *not*
//! applied: through the NT API those are ordinary names on NTFS (A5; WinBtrfs "Create file
//! called CON"). `:` is refused because the volume has no named streams.

use crate::status::{FsResult, NtStatus, STATUS_OBJECT_NAME_INVALID};
use vfs_core::{Error, FileId, Name, Volume};

const BACKSLASH: u16 = b'\\' as u16;

/// Longest normalized name WinFsp takes back from Open/Create, in UTF-16 units
/// (`FSP_FSCTL_TRANSACT_PATH_SIZEMAX` = 1024 WCHARs, `inc/winfsp/fsctl.h`; a longer one is
/// ignored by `FspFileSystemOpCreate`).
pub const MAX_NORMALIZED_UNITS: usize = 1024;

/// The components of a WinFsp file name, each validated once as an engine [`Name`] (NT's
/// name rules), in order.
pub fn components(path: &[u16]) -> FsResult<Vec<Name>> {
    if path.first() != Some(&BACKSLASH) {
        return Err(STATUS_OBJECT_NAME_INVALID);
    }
    path.split(|&u| u == BACKSLASH)
        .filter(|c| !c.is_empty())
        .map(|c| Name::new(c).map_err(NtStatus::from))
        .collect()
}

/// Splits a WinFsp file name into its parent's path and its last component. The root has no
/// parent: STATUS_OBJECT_NAME_INVALID.
pub fn split_parent(path: &[u16]) -> FsResult<(Vec<u16>, Name)> {
    let mut comps = components(path)?;
    let name = comps.pop().ok_or(STATUS_OBJECT_NAME_INVALID)?;
    let dirs: Vec<&[u16]> = comps.iter().map(Name::display).collect();
    Ok((join(&dirs), name))
}

/// `\a\b` from components (`\` for none).
pub fn join(comps: &[&[u16]]) -> Vec<u16> {
    if comps.is_empty() {
        return vec![BACKSLASH];
    }
    let mut out = Vec::new();
    for c in comps {
        out.push(BACKSLASH);
        out.extend_from_slice(c);
    }
    out
}

/// The directory a name lives in, for operations that make or move a name: the path's
/// directory must exist (else STATUS_OBJECT_PATH_NOT_FOUND, as NTFS answers for a missing
/// directory on the way). The engine's walker resolves it.
pub fn parent_dir(vol: &Volume, path: &[u16]) -> FsResult<(FileId, Name)> {
    let (dir, name) = split_parent(path)?;
    let id = vol.resolve(&dir, true).map_err(|e| match e {
        Error::ObjectNameNotFound => NtStatus::from(Error::ObjectPathNotFound),
        other => NtStatus::from(other),
    })?;
    Ok((id, name))
}

/// The path with every component in its stored case (NTFS keeps the case a name was created
/// with and FileNameInformation reports it, A5), for WinFsp's normalized name: the engine's
/// walker ([`Volume::stored_path`]) walks it without following links, as WinFsp resolves
/// reparse points before it opens (see [`crate::fs`]). None when the result would be longer
/// than [`MAX_NORMALIZED_UNITS`].
pub fn normalized(vol: &Volume, path: &[u16]) -> FsResult<Option<Vec<u16>>> {
    components(path)?;
    let out = vol.stored_path(path).map_err(NtStatus::from)?;
    Ok((out.len() <= MAX_NORMALIZED_UNITS).then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::{name::wide, VolumeOptions};

    /// A5: through the NT API a trailing dot and a DOS device name are ordinary names; `:`
    /// (streams are off), `*` and `/` are invalid.
    #[test]
    fn nt_name_rules_apply_not_win32_rules() {
        assert_eq!(components(&wide(r"\CON\a.")).unwrap().len(), 2);
        assert_eq!(components(&wide(r"\")).unwrap().len(), 0);
        for bad in [r"\a:s", r"\a*", r"\a/b", r"\..", r"a\b", ""] {
            assert_eq!(
                components(&wide(bad)),
                Err(STATUS_OBJECT_NAME_INVALID),
                "{bad}"
            );
        }
        let long = format!(r"\{}", "x".repeat(256));
        assert_eq!(
            components(&wide(&long)),
            Err(NtStatus::from(Error::NameTooLong))
        );
    }

    /// A5: FileNameInformation gives the stored case of each component, not the caller's.
    #[test]
    fn normalized_name_has_the_stored_case_of_every_component() {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\Dir", &vfs_core::NewFile::dir()).unwrap();
        v.create_path(r"\Dir\File.TXT", &vfs_core::NewFile::file())
            .unwrap();
        let n = normalized(&v, &wide(r"\DIR\file.txt")).unwrap().unwrap();
        assert_eq!(n, wide(r"\Dir\File.TXT"));
        assert_eq!(normalized(&v, &wide(r"\")).unwrap().unwrap(), wide(r"\"));
        assert_eq!(
            normalized(&v, &wide(r"\nope")),
            Err(STATUS_OBJECT_NAME_NOT_FOUND_)
        );
    }
    const STATUS_OBJECT_NAME_NOT_FOUND_: NtStatus = crate::status::STATUS_OBJECT_NAME_NOT_FOUND;

    /// A missing directory on the way is STATUS_OBJECT_PATH_NOT_FOUND (docs/NTFS-RULES.md error
    /// list: ERROR_PATH_NOT_FOUND).
    #[test]
    fn missing_parent_directory_is_object_path_not_found() {
        let v = Volume::new(VolumeOptions::default());
        assert_eq!(
            parent_dir(&v, &wide(r"\no\f")),
            Err(crate::status::STATUS_OBJECT_PATH_NOT_FOUND)
        );
        let (id, name) = parent_dir(&v, &wide(r"\f")).unwrap();
        assert_eq!((id, name.display()), (v.root(), &wide("f")[..]));
    }
}
