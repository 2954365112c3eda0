//! The delete step of an IRP_MJ_CLEANUP that carries the delete.
//!
//! WinFsp's kernel driver (FSD) decides *when* a name is deleted: it sends Cleanup with
//! `FspCleanupDelete` to the handle whose cleanup must remove the name (the handle that set a
//! POSIX disposition, or the last handle of the name when a legacy disposition or
//! FILE_DELETE_ON_CLOSE is pending; WinFsp `src/sys/file.c` FspFileNodeCleanup). The file
//! system then removes that name at once, whatever other names or handles the file has.
//! [`Volume::delete_at_cleanup`] is that step, reusing the engine's own deletion checks.

use super::store::State;
use super::Volume;
use crate::error::{Error, Result};
use crate::types::*;

impl Volume {
    /// Cleanup with WinFsp's `FspCleanupDelete`: removes the name handle `h` was opened
    /// through (if it still names the handle's file and the file may be deleted), then closes
    /// the handle. The read-only check is not repeated: WinFsp made it when the delete was
    /// requested (`src/dll/fsop.c`, FspFileSystemOpSetInformation; FILE_DELETE_ON_CLOSE is
    /// checked at open), and FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE may have waived it. A
    /// directory that is not empty keeps its name (A2). Returns whether a name was removed.
    pub fn delete_at_cleanup(&self, h: HandleId) -> Result<bool> {
        let removing = {
            let mut st = self.state.write();
            let handle = st.handles.get(&h.0).ok_or(Error::InvalidHandle)?.clone();
            match handle.link {
                Some((parent, display)) if self.writable().is_ok() => {
                    let names_file = st
                        .dir(parent)
                        .ok()
                        .and_then(|d| d.find_exact(&display))
                        .is_some_and(|n| n.id() == handle.file);
                    if names_file && self.check_deletable(&st, handle.file, true).is_ok() {
                        mark_posix_delete(&mut st, h, parent, &display);
                        true
                    } else {
                        false
                    }
                }
                _ => false,
            }
        };
        // `close` removes a delete-pending name whose handle carries a POSIX disposition.
        self.close(h)?;
        Ok(removing)
    }
}

/// Marks the handle's name delete-pending and gives the handle a POSIX disposition, so that
/// closing it removes the name now.
fn mark_posix_delete(st: &mut State, h: HandleId, parent: FileId, display: &[u16]) {
    if let Some(n) = st
        .dir_mut(parent)
        .ok()
        .and_then(|d| d.find_exact_mut(display))
    {
        n.set_pending(true);
        st.names_marked_pending = true;
    }
    if let Some(handle) = st.handles.get_mut(&h.0) {
        handle.disposition = Some(DispositionFlags {
            delete: true,
            posix_semantics: true,
            ignore_readonly: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::handle_names::open;
    use super::super::*;

    /// WinFsp file.c FspFileNodeCleanup: the Cleanup that carries FspCleanupDelete removes the
    /// name at once even while another name of the file is open (A1: data belongs to the file).
    #[test]
    fn delete_at_cleanup_removes_this_name_while_other_name_is_open() {
        let v = Volume::new(VolumeOptions {
            delete_semantics: DeleteSemantics::Legacy,
            ..VolumeOptions::default()
        });
        v.write_file_path(r"\a", b"data").unwrap();
        v.hard_link_path(r"\a", r"\b").unwrap();
        let hb = open(&v, r"\b", false);
        let ha = open(&v, r"\a", true);
        assert!(v.delete_at_cleanup(ha).unwrap());
        assert_eq!(v.resolve(r"\a", false), Err(Error::ObjectNameNotFound));
        assert_eq!(v.read_file_path(r"\b").unwrap(), b"data");
        assert_eq!(v.stat_path(r"\b", false).unwrap().links, 1);
        v.close(hb).unwrap();
        v.check().unwrap();
    }

    /// A2: a directory that is not empty is not deleted at cleanup (the handle still closes).
    #[test]
    fn delete_at_cleanup_keeps_a_non_empty_directory() {
        let v = Volume::new(VolumeOptions::default());
        v.create_path(r"\d", &NewFile::dir()).unwrap();
        v.create_path(r"\d\f", &NewFile::file()).unwrap();
        let h = open(&v, r"\d", true);
        assert!(!v.delete_at_cleanup(h).unwrap());
        assert!(v.resolve(r"\d\f", false).is_ok());
        assert_eq!(v.open_handle_count(), 0);
        v.check().unwrap();
    }

    /// WinFsp checks READONLY when the delete is requested (fsop.c); the cleanup does not
    /// check again, so FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE works (A2).
    #[test]
    fn delete_at_cleanup_does_not_recheck_readonly() {
        let v = Volume::new(VolumeOptions::default());
        let id = v.create_path(r"\ro", &NewFile::file()).unwrap();
        v.set_attributes(id, attrs::READONLY).unwrap();
        let h = open(&v, r"\ro", true);
        assert!(v.delete_at_cleanup(h).unwrap());
        assert_eq!(v.resolve(r"\ro", false), Err(Error::ObjectNameNotFound));
        v.check().unwrap();
    }

    /// A handle opened by id has no name to delete; cleanup only closes it.
    #[test]
    fn delete_at_cleanup_of_handle_without_name_only_closes() {
        let v = Volume::new(VolumeOptions::default());
        let id = v.create_path(r"\f", &NewFile::file()).unwrap();
        let h = v.open(id, Access::DELETE, Share::ALL).unwrap();
        assert!(!v.delete_at_cleanup(h).unwrap());
        assert!(v.resolve(r"\f", false).is_ok());
        assert_eq!(v.delete_at_cleanup(h), Err(Error::InvalidHandle));
    }
}
