//! Directory listings for WinFsp's ReadDirectory: resume after a marker, NTFS order, optional
//! pattern filter.
//!
//! WinFsp asks for entries *after* a marker, the last name it returned (`DirMarker`), and
//! keeps asking until a reply ends with the end-of-listing entry. NTFS lists `.` and `..`
//! first in every directory but the root, then the index in collation order (upcased UTF-16
//! units, A5), which is the engine's order. A marker is a name, not a position, so a listing
//! stays right while the directory changes: names added or removed behind the marker never
//! shift it (the engine's cursor, `vfs_core::DirCursor::after_name`).

use crate::info::FileInfo;
use crate::pattern::{matches_everything, name_in_expression};
use crate::status::{FsResult, NtStatus};
use vfs_core::{DirCursor, FileId, Volume};

const DOT: &[u16] = &[b'.' as u16];
const DOTDOT: &[u16] = &[b'.' as u16, b'.' as u16];

/// One entry for WinFsp's `DirInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEntry {
    /// The name as stored (display form), or `.` / `..`.
    pub name: Vec<u16>,
    /// Its file information.
    pub info: FileInfo,
}

/// One batch of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Entries that match, in listing order.
    pub entries: Vec<ListedEntry>,
    /// Where the next batch starts (the last name *looked at*, matching or not); None when the
    /// listing is complete.
    pub resume_after: Option<Vec<u16>>,
}

/// Up to `limit` entries of directory `dir` (examined, not only matching) after `marker`,
/// filtered by `pattern` (FsRtlIsNameInExpression rules, case-insensitive unless the directory
/// is case-sensitive, A5). `.` and `..` come first except in the root; `..` of a directory
/// reports its parent's information.
pub fn list(
    vol: &Volume,
    dir: FileId,
    pattern: Option<&[u16]>,
    marker: Option<&[u16]>,
    limit: usize,
) -> FsResult<Batch> {
    let limit = limit.max(1);
    let st = vol.stat(dir).map_err(NtStatus::from)?;
    let ignore_case = !st.case_sensitive;
    let wanted = |name: &[u16]| match pattern {
        None => true,
        Some(p) if matches_everything(p) => true,
        Some(p) => name_in_expression(p, name, ignore_case),
    };
    let mut entries = Vec::new();
    let mut examined = 0usize;
    let mut last: Option<Vec<u16>> = None;

    // The two dot entries (not in the root: NTFS's root lists neither).
    let is_root = dir == vol.root();
    let dots_done = match marker {
        _ if is_root => true,
        None => false,
        Some(m) => m != DOT,
    };
    if !dots_done {
        let parent = vol
            .names(dir)
            .ok()
            .and_then(|n| n.first().map(|l| l.parent))
            .unwrap_or_else(|| vol.root());
        let dots: &[(&[u16], FileId)] = if marker == Some(DOT) {
            &[(DOTDOT, parent)]
        } else {
            &[(DOT, dir), (DOTDOT, parent)]
        };
        for (name, id) in dots {
            examined += 1;
            last = Some(name.to_vec());
            if wanted(name) {
                let info = FileInfo::from_stat(&vol.stat(*id).map_err(NtStatus::from)?);
                entries.push(ListedEntry {
                    name: name.to_vec(),
                    info,
                });
            }
        }
    }

    // The index, after the marker unless the marker is one of the dot entries.
    let cursor = match marker {
        Some(m) if m != DOT && m != DOTDOT => Some(DirCursor::after_name(m)),
        _ => None,
    };
    let room = limit.saturating_sub(examined);
    if room == 0 {
        return Ok(Batch {
            entries,
            resume_after: last,
        });
    }
    let batch = vol
        .read_dir(dir, cursor.as_ref(), room)
        .map_err(NtStatus::from)?;
    let complete = batch.len() < room;
    for e in batch {
        if wanted(&e.name) {
            entries.push(ListedEntry {
                name: e.name.clone(),
                info: FileInfo::from_stat(&e.stat),
            });
        }
        last = Some(e.name);
    }
    Ok(Batch {
        entries,
        resume_after: if complete { None } else { last },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vfs_core::{name::wide, VolumeOptions};

    fn names(b: &Batch) -> Vec<String> {
        b.entries
            .iter()
            .map(|e| String::from_utf16_lossy(&e.name))
            .collect()
    }

    fn all(v: &Volume, dir: FileId, pattern: Option<&str>, limit: usize) -> Vec<String> {
        let p = pattern.map(wide);
        let mut marker: Option<Vec<u16>> = None;
        let mut out = Vec::new();
        loop {
            let b = list(v, dir, p.as_deref(), marker.as_deref(), limit).unwrap();
            out.extend(names(&b));
            match b.resume_after {
                Some(m) => marker = Some(m),
                None => return out,
            }
        }
    }

    /// NTFS: `.` and `..` first, then collation order (upcased units), names in stored case.
    #[test]
    fn listing_gives_dot_entries_then_ntfs_collation_order() {
        let v = Volume::new(VolumeOptions::default());
        let d = v.create_path(r"\d", &vfs_core::NewFile::dir()).unwrap();
        for n in ["b", "A", "_x", "C"] {
            v.create_path(&format!(r"\d\{n}"), &vfs_core::NewFile::file())
                .unwrap();
        }
        // '_' (0x5F) sorts after the upcased letters (0x41..0x5A).
        assert_eq!(all(&v, d, None, 100), [".", "..", "A", "b", "C", "_x"]);
    }

    /// NTFS's root lists no `.` and `..`.
    #[test]
    fn root_listing_has_no_dot_entries() {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\f", &vfs_core::NewFile::file()).unwrap();
        assert_eq!(all(&v, v.root(), None, 100), ["f"]);
    }

    /// WinFsp resumes after the marker; every batch size gives the same listing, with no name
    /// twice and none skipped.
    #[test]
    fn listing_resumes_after_marker_for_every_batch_size() {
        let v = Volume::new(VolumeOptions::default());
        let d = v.create_path(r"\d", &vfs_core::NewFile::dir()).unwrap();
        for i in 0..10 {
            v.create_path(&format!(r"\d\f{i}"), &vfs_core::NewFile::file())
                .unwrap();
        }
        let whole = all(&v, d, None, 1000);
        assert_eq!(whole.len(), 12);
        for limit in 1..=13 {
            assert_eq!(all(&v, d, None, limit), whole, "limit {limit}");
        }
        // Markers `.` and `..` resume at the next entry.
        let b = list(&v, d, None, Some(&wide(".")), 2).unwrap();
        assert_eq!(names(&b), ["..", "f0"]);
        let b = list(&v, d, None, Some(&wide("..")), 1).unwrap();
        assert_eq!(names(&b), ["f0"]);
    }

    /// A marker is a name: deleting the marker's entry or adding names behind it does not shift
    /// the listing; the marker matches case-insensitively (A5).
    #[test]
    fn marker_survives_deletion_and_insertion() {
        let v = Volume::new(VolumeOptions::default());
        let d = v.create_path(r"\d", &vfs_core::NewFile::dir()).unwrap();
        for n in ["a", "b", "c", "d"] {
            v.create_path(&format!(r"\d\{n}"), &vfs_core::NewFile::file())
                .unwrap();
        }
        v.delete_path(r"\d\b", vfs_core::UnlinkKind::File).unwrap();
        v.create_path(r"\d\a0", &vfs_core::NewFile::file()).unwrap();
        let b = list(&v, d, None, Some(&wide("B")), 100).unwrap();
        assert_eq!(names(&b), ["c", "d"]);
        assert_eq!(b.resume_after, None);
    }

    /// The pattern filters with FsRtlIsNameInExpression rules; `..` reports the parent's
    /// IndexNumber and `.` the directory's own.
    #[test]
    fn pattern_filters_and_dot_entries_carry_the_right_file() {
        let v = Volume::new(VolumeOptions::default());
        let d = v.create_path(r"\d", &vfs_core::NewFile::dir()).unwrap();
        for n in ["a.txt", "b.TXT", "c.md"] {
            v.create_path(&format!(r"\d\{n}"), &vfs_core::NewFile::file())
                .unwrap();
        }
        assert_eq!(all(&v, d, Some("<.txt"), 2), ["a.txt", "b.TXT"]);
        assert_eq!(all(&v, d, Some("*"), 100).len(), 5);
        let b = list(&v, d, None, None, 100).unwrap();
        assert_eq!(b.entries[0].info.index_number, d.0);
        assert_eq!(b.entries[1].info.index_number, v.root().0);
    }

    /// A1: two names of one file are two entries with the same IndexNumber.
    #[test]
    fn two_names_of_one_file_list_with_the_same_index_number() {
        let v = Volume::new(VolumeOptions::default());
        v.write_file_path(r"\x", b"1").unwrap();
        v.hard_link_path(r"\x", r"\y").unwrap();
        let b = list(&v, v.root(), None, None, 100).unwrap();
        assert_eq!(names(&b), ["x", "y"]);
        assert_eq!(b.entries[0].info, b.entries[1].info);
    }
}
