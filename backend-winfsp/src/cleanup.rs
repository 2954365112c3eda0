//! Delete dispositions and Cleanup, in the order WinFsp sends them.
//!
//! Deleting on Windows is three steps: open (with DELETE access), request the delete
//! (FileDispositionInformation[Ex] → WinFsp `SetDelete`, or FILE_DELETE_ON_CLOSE at open), and
//! close. WinFsp's driver tracks the request per file node (= per name) and, on each handle's
//! Cleanup, decides whether the name goes now (`src/sys/file.c`, FspFileNodeCleanup):
//!
//! - POSIX semantics (FILE_DISPOSITION_POSIX_SEMANTICS, what DeleteFileW uses since Windows 10
//!   1903, A2): the Cleanup of the handle that asked carries `FspCleanupDelete`, even while
//!   other handles are open; they keep working on the now nameless file.
//! - Legacy semantics and FILE_DELETE_ON_CLOSE: the name stays, delete-pending (new opens fail
//!   with STATUS_DELETE_PENDING), and the *last* Cleanup of the name carries `FspCleanupDelete`.
//!
//! So `SetDelete` only marks the name delete-pending in the engine ([`set_delete`]) — it must
//! never delete (winfsp.h: "This function should NEVER delete the file") — and the Cleanup that
//! carries `FspCleanupDelete` removes the name ([`cleanup`], through
//! `Volume::delete_at_cleanup`). Every Cleanup closes the engine handle: on NTFS a handle stops
//! counting for sharing, delete and rename at cleanup, not at the final close.

use crate::fs::OpenFile;
use crate::status::{FsResult, NtStatus};
use vfs_core::{attrs, now, DispositionFlags, SetTimes, Volume};

/// FspCleanupDelete (`inc/winfsp/winfsp.h`): delete the name now.
pub const FSP_CLEANUP_DELETE: u32 = 0x01;
/// FspCleanupSetAllocationSize: nothing to do, allocation follows the size here.
pub const FSP_CLEANUP_SET_ALLOCATION_SIZE: u32 = 0x02;
/// FspCleanupSetArchiveBit: the file was modified through this handle.
pub const FSP_CLEANUP_SET_ARCHIVE_BIT: u32 = 0x10;
/// FspCleanupSetLastAccessTime.
pub const FSP_CLEANUP_SET_LAST_ACCESS_TIME: u32 = 0x20;
/// FspCleanupSetLastWriteTime.
pub const FSP_CLEANUP_SET_LAST_WRITE_TIME: u32 = 0x40;
/// FspCleanupSetChangeTime.
pub const FSP_CLEANUP_SET_CHANGE_TIME: u32 = 0x80;

/// WinFsp `SetDelete`: requests (`delete`) or cancels the delete of the handle's name. The
/// engine checks what NTFS checks when the disposition is set (a non-empty directory fails
/// here with STATUS_DIRECTORY_NOT_EMPTY, A2; the root cannot be deleted); READONLY was checked
/// by WinFsp before this call unless FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE waived it
/// (`src/dll/fsop.c`), so it is not checked again.
pub fn set_delete(vol: &Volume, file: &OpenFile, delete: bool) -> FsResult<()> {
    let h = file
        .engine_handle()
        .ok_or(NtStatus::from(vfs_core::Error::InvalidHandle))?;
    vol.set_disposition(
        h,
        DispositionFlags {
            delete,
            posix_semantics: false,
            ignore_readonly: true,
        },
    )
    .map_err(NtStatus::from)
}

/// WinFsp `Cleanup`: the last handle of one CreateFile closed. Applies the time and archive
/// updates WinFsp asks for, removes the name when `FspCleanupDelete` is set, and closes the
/// engine handle. Cleanup cannot fail on Windows; engine errors are dropped.
pub fn cleanup(vol: &Volume, file: &OpenFile, flags: u32) {
    let Some(h) = file.take_engine_handle() else {
        return;
    };
    if flags & FSP_CLEANUP_DELETE != 0 {
        let _ = vol.delete_at_cleanup(h);
        return;
    }
    apply_cleanup_updates(vol, file, flags);
    let _ = vol.close(h);
}

/// FspCleanupSetArchiveBit on a file sets ARCHIVE; FspCleanupSetLastWriteTime /
/// FspCleanupSetChangeTime stamp those times now (NTFS updates them when the handle is cleaned
/// up). A last-access-only request is not applied: it would move ChangeTime too, which NTFS
/// does not do for a read.
fn apply_cleanup_updates(vol: &Volume, file: &OpenFile, flags: u32) {
    let Ok(st) = vol.stat(file.id) else { return };
    if flags & FSP_CLEANUP_SET_ARCHIVE_BIT != 0
        && st.attributes & (attrs::DIRECTORY | attrs::ARCHIVE) == 0
    {
        let _ = vol.set_attributes(file.id, (st.attributes & attrs::SETTABLE) | attrs::ARCHIVE);
    }
    let write = flags & FSP_CLEANUP_SET_LAST_WRITE_TIME != 0;
    let change = flags & FSP_CLEANUP_SET_CHANGE_TIME != 0;
    if write || change {
        let t = now();
        let _ = vol.set_times(
            file.id,
            SetTimes {
                creation: None,
                last_access: (flags & FSP_CLEANUP_SET_LAST_ACCESS_TIME != 0).then_some(t),
                last_write: write.then_some(t),
                change: Some(t),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::create::{DELETE, FILE_DELETE_ON_CLOSE, FILE_READ_DATA};
    use crate::fs::WinFs;
    use crate::status::STATUS_SUCCESS;
    use std::sync::Arc;
    use vfs_core::name::wide;
    use vfs_core::{Error, VolumeOptions};

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
        fs.volume().create_file_path(r"\f").unwrap();
        let reader = open(&fs, r"\f", FILE_READ_DATA);
        let deleter = open(&fs, r"\f", DELETE);
        set_delete(fs.volume(), &deleter, true).unwrap();
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
        set_delete(fs.volume(), &deleter, true).unwrap();
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
        set_delete(fs.volume(), &h, true).unwrap();
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
        fs.volume().create_dir_path(r"\d").unwrap();
        fs.volume().create_file_path(r"\d\f").unwrap();
        let h = open(&fs, r"\d", DELETE);
        assert_eq!(
            set_delete(fs.volume(), &h, true),
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
        fs.volume().create_file_path(r"\f").unwrap();
        let h = open(&fs, r"\f", DELETE);
        set_delete(fs.volume(), &h, true).unwrap();
        set_delete(fs.volume(), &h, false).unwrap();
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
        let id = fs.volume().create_file_path(r"\f").unwrap();
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
