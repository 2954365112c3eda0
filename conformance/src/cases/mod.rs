//! The cases, one module per rule of `docs/NTFS-RULES.md`, and small helpers they share.
//!
//! Ids: `H` hard links (A1), `D` deletion (A2), `J` junctions and reparse data (A3), `S`
//! symbolic links (A4), `N` names (A5), `R` rename (A6), `X` POSIX special files stored as
//! reparse points (A3, with A1 and A4 cases on them).

use crate::case::{expect_ok, Case, Problem};
use crate::target::{DeleteKind, NtfsTarget, Op, RenameFlags};
use vfs_core::{name::wide, reparse};

mod deletion;
mod hard_links;
mod junctions;
mod names;
mod nt_level;
mod rename;
mod special;
mod symlinks;

/// Every case, in id order within each rule.
pub fn all() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend_from_slice(hard_links::CASES);
    v.extend_from_slice(deletion::CASES);
    v.extend_from_slice(junctions::CASES);
    v.extend_from_slice(symlinks::CASES);
    v.extend_from_slice(names::CASES);
    v.extend_from_slice(rename::CASES);
    v.extend_from_slice(special::CASES);
    v.extend_from_slice(nt_level::CASES);
    v
}

// ------------------------------------------------------------------------------ sources

pub(crate) const NTFS_RULES: &str = "docs/NTFS-RULES.md";
pub(crate) const CREATE_HARD_LINK: &str =
    "CreateHardLinkW, https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-createhardlinkw";
pub(crate) const HARD_LINKS_AND_JUNCTIONS: &str =
    "https://learn.microsoft.com/en-us/windows/win32/fileio/hard-links-and-junctions";
pub(crate) const FIND_FIRST_FILE_NAME: &str =
    "FindFirstFileNameW, https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-findfirstfilenamew";
pub(crate) const DISPOSITION_EX: &str =
    "FILE_DISPOSITION_INFORMATION_EX, https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntddk/ns-ntddk-_file_disposition_information_ex";
pub(crate) const SET_REPARSE: &str = "MS-FSA 2.1.5.10.37 FSCTL_SET_REPARSE_POINT; MS-FSCC 2.3.82";
pub(crate) const REPARSE_BUFFER: &str =
    "REPARSE_DATA_BUFFER, https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-_reparse_data_buffer; MS-FSCC 2.1.2";
pub(crate) const SYMLINK_CONSIDERATIONS: &str =
    "https://learn.microsoft.com/en-us/windows/win32/fileio/symbolic-link-programming-considerations";
pub(crate) const MSFSCC_SYMLINK: &str =
    "MS-FSCC 2.1.2.4 Symbolic Link Reparse Data Buffer (SYMLINK_FLAG_RELATIVE: relative to the link's directory)";
pub(crate) const NAMING: &str =
    "Naming Files, Paths, and Namespaces, https://learn.microsoft.com/en-us/windows/win32/fileio/naming-a-file";
pub(crate) const CASE_SENSITIVE_INFO: &str =
    "FILE_CASE_SENSITIVE_INFORMATION, https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-_file_case_sensitive_information";
pub(crate) const RENAME_EX: &str =
    "FILE_RENAME_INFORMATION (ex flags), https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-_file_rename_information";

// ------------------------------------------------------------------------------ helpers

/// Writes `data` to a new file (a setup step: a failure fails the case).
pub(crate) fn put(t: &mut dyn NtfsTarget, path: &str, data: &[u8]) -> Result<(), Problem> {
    expect_ok(t.write_file(path, data), &format!("write {path}"))
}

/// Creates a directory (setup step).
pub(crate) fn mkdir(t: &mut dyn NtfsTarget, path: &str) -> Result<(), Problem> {
    expect_ok(t.create_dir(path), &format!("create directory {path}"))
}

/// Reads a file as text (a check: a failure fails the case).
pub(crate) fn read(t: &mut dyn NtfsTarget, path: &str) -> Result<String, Problem> {
    let v = expect_ok(t.read_file(path), &format!("read {path}"))?;
    Ok(String::from_utf8_lossy(&v).into_owned())
}

/// A junction at `link` to the sandbox path `target` (setup step).
pub(crate) fn junction(t: &mut dyn NtfsTarget, link: &str, target: &str) -> Result<(), Problem> {
    let abs = t.absolute(target);
    expect_ok(
        t.create_junction(link, &abs),
        &format!("junction {link} -> {abs}"),
    )
}

/// A symlink at `link` to `target` as given (setup step).
pub(crate) fn symlink(
    t: &mut dyn NtfsTarget,
    link: &str,
    target: &str,
    directory: bool,
) -> Result<(), Problem> {
    expect_ok(
        t.create_symlink(link, target, directory),
        &format!("symlink {link} -> {target}"),
    )
}

/// The mount point buffer `mklink /J` writes for the sandbox path `target`.
pub(crate) fn junction_buffer(t: &dyn NtfsTarget, target: &str) -> Op<Vec<u8>> {
    reparse::junction_for_target(&wide(&t.absolute(target)), 'C')
        .map(|b| b.into_bytes())
        .map_err(|e| crate::target::Failure::Broken(e.to_string()))
}

/// The symbolic link buffer CreateSymbolicLinkW writes for `target`.
pub(crate) fn symlink_buffer(target: &str) -> Op<Vec<u8>> {
    reparse::symlink_for_target(&wide(target), 'C')
        .map(|b| b.into_bytes())
        .map_err(|e| crate::target::Failure::Broken(e.to_string()))
}

/// The 8-byte header FSCTL_DELETE_REPARSE_POINT takes for a Microsoft tag.
pub(crate) fn delete_header(tag: u32) -> Vec<u8> {
    let mut v = tag.to_le_bytes().to_vec();
    v.extend_from_slice(&[0, 0, 0, 0]);
    v
}

/// A link (junction or symlink) is a file of its own: opened with FILE_FLAG_OPEN_REPARSE_POINT
/// it has its own FileId; followed, it has its target's (A3, A4).
pub(crate) fn link_has_own_file_id(
    t: &mut dyn NtfsTarget,
    link: &str,
    target: &str,
) -> crate::case::Verdict {
    let own = expect_ok(
        t.stat(link, false),
        &format!("open {link} with FILE_FLAG_OPEN_REPARSE_POINT"),
    )?;
    let followed = expect_ok(t.stat(link, true), &format!("open {link}"))?;
    let target_stat = expect_ok(t.stat(target, false), &format!("open {target}"))?;
    crate::case::ensure(
        own.file_id != target_stat.file_id,
        "the link has its target's FileId",
    )?;
    crate::case::ensure_eq(
        followed.file_id,
        target_stat.file_id,
        &format!("FileId of {link} followed"),
    )
}

/// Whether the listing of `dir` holds `name` exactly.
pub(crate) fn listed(t: &mut dyn NtfsTarget, dir: &str, name: &str) -> Result<bool, Problem> {
    let names = expect_ok(t.list_dir(dir), &format!("list {dir:?}"))?;
    Ok(names.iter().any(|n| n == name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_cover_every_rule() {
        let cases = all();
        let ids: HashSet<&str> = cases.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), cases.len(), "duplicate case id");
        assert!(cases.len() >= 80, "only {} cases", cases.len());
        for rule in [
            crate::Rule::A1,
            crate::Rule::A2,
            crate::Rule::A3,
            crate::Rule::A4,
            crate::Rule::A5,
            crate::Rule::A6,
        ] {
            assert!(cases.iter().any(|c| c.rule == rule), "{rule:?}");
        }
        for c in &cases {
            assert!(!c.source.is_empty() && !c.expected.is_empty(), "{}", c.id);
        }
    }
}
