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

use crate::status::{FsResult, NtStatus};
use vfs_core::{attrs, now, DispositionFlags, FileId, HandleId, SetTimes, Volume};

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
///
/// `handle` is the context's engine handle (None once its Cleanup ran). This module knows
/// engine handles, not WinFsp file contexts (`crate::fs::OpenFile`), so that it depends on the
/// engine only and `fs` depends on it, not the other way round.
pub fn set_delete(vol: &Volume, handle: Option<HandleId>, delete: bool) -> FsResult<()> {
    let h = handle.ok_or(NtStatus::from(vfs_core::Error::InvalidHandle))?;
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
///
/// `handle` is the engine handle taken from the context of file `id` (None: its Cleanup
/// already ran, nothing to do).
pub fn cleanup(vol: &Volume, id: FileId, handle: Option<HandleId>, flags: u32) {
    let Some(h) = handle else {
        return;
    };
    if flags & FSP_CLEANUP_DELETE != 0 {
        let _ = vol.delete_at_cleanup(h);
        return;
    }
    apply_cleanup_updates(vol, id, flags);
    let _ = vol.close(h);
}

/// FspCleanupSetArchiveBit on a file sets ARCHIVE; FspCleanupSetLastWriteTime /
/// FspCleanupSetChangeTime stamp those times now (NTFS updates them when the handle is cleaned
/// up). A last-access-only request is not applied: it would move ChangeTime too, which NTFS
/// does not do for a read.
fn apply_cleanup_updates(vol: &Volume, id: FileId, flags: u32) {
    let Ok(st) = vol.stat(id) else { return };
    if flags & FSP_CLEANUP_SET_ARCHIVE_BIT != 0
        && st.attributes & (attrs::DIRECTORY | attrs::ARCHIVE) == 0
    {
        let _ = vol.set_attributes(id, (st.attributes & attrs::SETTABLE) | attrs::ARCHIVE);
    }
    let write = flags & FSP_CLEANUP_SET_LAST_WRITE_TIME != 0;
    let change = flags & FSP_CLEANUP_SET_CHANGE_TIME != 0;
    if write || change {
        let t = now();
        let _ = vol.set_times(
            id,
            SetTimes {
                creation: None,
                last_access: (flags & FSP_CLEANUP_SET_LAST_ACCESS_TIME != 0).then_some(t),
                last_write: write.then_some(t),
                change: Some(t),
            },
        );
    }
}
