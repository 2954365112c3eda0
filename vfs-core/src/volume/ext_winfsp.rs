//! Engine calls the WinFsp backend needs beyond the common API.
//!
//! WinFsp's kernel driver (FSD) decides *when* a name is deleted: it sends Cleanup with
//! `FspCleanupDelete` to the handle whose cleanup must remove the name (the handle that set a
//! POSIX disposition, or the last handle of the name when a legacy disposition or
//! FILE_DELETE_ON_CLOSE is pending; WinFsp `src/sys/file.c` FspFileNodeCleanup). The user-mode
//! file system then removes that name at once, whatever other names or handles the file has.
//! [`Volume::delete_at_cleanup`] is that step, reusing the engine's own deletion checks.
//!
//! WinFsp also renames through an open handle and then may delete through the same handle, so
//! after a rename every handle opened through the old name must follow it
//! ([`Volume::rename_open`]).

use super::resolve::{split_user_path, walk, Walked};
use super::store::State;
use crate::error::{Error, Result};
use crate::types::*;

impl super::Volume {
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

    /// Renames like [`Volume::rename`]; every handle that was opened through the old name then
    /// stands for the new one, as WinFsp renames the file node all those handles share
    /// (`src/sys/fileinfo.c` FspFsvolSetRenameInformationSuccess).
    pub fn rename_open(
        &self,
        src_parent: FileId,
        src_name: &[u16],
        dst_parent: FileId,
        dst_name: &[u16],
        flags: RenameFlags,
    ) -> Result<()> {
        // `Volume::rename` itself moves the handles opened through the old name (MS-FSA
        // 2.1.5.15.12: the rename changes Open.Link, which every open through that name shares).
        self.rename(src_parent, src_name, dst_parent, dst_name, flags)
    }

    /// Every name of a file as a volume-relative WTF-16 path (`\dir\name`, what
    /// FindFirstFileNameW returns, A1) with its legacy delete-pending flag, in the order the
    /// names were made. Unlike [`Volume::link_paths`] nothing is lost to UTF-8 conversion.
    pub fn link_paths_w(&self, id: FileId) -> Result<Vec<(Vec<u16>, bool)>> {
        let st = self.state.read();
        let inode = st.get(id)?;
        Ok(inode
            .links
            .iter()
            .map(|l| {
                let pending = st
                    .dir(l.parent)
                    .ok()
                    .and_then(|d| d.find_exact(&l.display))
                    .is_some_and(|n| n.pending());
                (st.path_of(l.parent, &l.display), pending)
            })
            .collect())
    }

    /// CreateHardLinkW(new, existing) for WTF-16 volume paths: the existing path's last
    /// component is not followed, so a symlink is linked itself (A1); a delete-pending name →
    /// DeletePending (A2). Returns the file's id.
    pub fn hard_link_path_w(&self, existing: &[u16], new: &[u16]) -> Result<FileId> {
        let id = {
            let st = self.state.read();
            let comps = split_user_path(existing, &self.opts)?;
            match walk(&st, &self.opts, comps, false)? {
                Walked::Found { pending: true, .. } => return Err(Error::DeletePending),
                Walked::Found { id, .. } => id,
                Walked::Missing { .. } => return Err(Error::ObjectNameNotFound),
                Walked::Mapped { .. } => return Err(Error::NotSameDevice),
            }
        };
        let (parent, name) = {
            let st = self.state.read();
            self.parent_and_name(&st, new)?
        };
        self.hard_link(id, parent, &name)?;
        Ok(id)
    }

    /// The name a handle was opened through: (parent directory, name as stored). None for a
    /// handle opened by id or on the root.
    pub fn handle_link(&self, h: HandleId) -> Result<Option<(FileId, Vec<u16>)>> {
        let st = self.state.read();
        let handle = st.handles.get(&h.0).ok_or(Error::InvalidHandle)?;
        Ok(handle.link.as_ref().map(|(p, d)| (*p, d.to_vec())))
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
    use super::super::*;
    use crate::name::{narrow, wide};

    fn open(v: &Volume, path: &str, delete: bool) -> HandleId {
        v.open_path(
            path,
            &OpenOptions {
                access: Access {
                    read: true,
                    write: false,
                    delete,
                },
                ..OpenOptions::default()
            },
        )
        .unwrap()
        .0
    }

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
        v.create_dir_path(r"\d").unwrap();
        v.create_file_path(r"\d\f").unwrap();
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
        let id = v.create_file_path(r"\ro").unwrap();
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
        let id = v.create_file_path(r"\f").unwrap();
        let h = v.open(id, Access::DELETE, Share::ALL).unwrap();
        assert!(!v.delete_at_cleanup(h).unwrap());
        assert!(v.resolve(r"\f", false).is_ok());
        assert_eq!(v.delete_at_cleanup(h), Err(Error::InvalidHandle));
    }

    /// WinFsp renames the file node shared by every handle of the old name; a later delete
    /// through one of those handles removes the new name.
    #[test]
    fn rename_open_moves_handles_to_the_new_name() {
        let v = Volume::new(VolumeOptions::default());
        v.create_dir_path(r"\d").unwrap();
        v.create_file_path(r"\d\old").unwrap();
        let h = open(&v, r"\d\OLD", true);
        let d = v.resolve(r"\d", false).unwrap();
        let root = v.root();
        v.rename_open(d, &wide("old"), root, &wide("New"), RenameFlags::default())
            .unwrap();
        assert_eq!(v.handle_link(h).unwrap(), Some((root, wide("New"))));
        assert!(v.delete_at_cleanup(h).unwrap());
        assert_eq!(v.resolve(r"\new", false), Err(Error::ObjectNameNotFound));
        v.check().unwrap();
    }

    /// A1: linking a symlink links the symlink itself; a missing parent of the new name is
    /// STATUS_OBJECT_PATH_NOT_FOUND; a directory cannot be linked.
    #[test]
    fn hard_link_path_w_links_the_symlink_itself_and_checks_like_createhardlinkw() {
        let v = Volume::new(VolumeOptions::default());
        v.create_file_path(r"\t").unwrap();
        let s = v.create_symlink(r"\s", r"C:\t", false).unwrap();
        assert_eq!(v.hard_link_path_w(&wide(r"\s"), &wide(r"\s2")).unwrap(), s);
        assert_eq!(v.stat(s).unwrap().links, 2);
        assert_eq!(
            v.hard_link_path_w(&wide(r"\t"), &wide(r"\no\x")),
            Err(Error::ObjectPathNotFound)
        );
        v.create_dir_path(r"\d").unwrap();
        assert_eq!(
            v.hard_link_path_w(&wide(r"\d"), &wide(r"\d2")),
            Err(Error::FileIsADirectory)
        );
        v.check().unwrap();
    }

    /// A1: FindFirstFileNameW paths, leading backslash, no drive; WTF-16 survives.
    #[test]
    fn link_paths_w_lists_every_name_in_wtf16() {
        let v = Volume::new(VolumeOptions::default());
        v.create_dir_path(r"\d").unwrap();
        let id = v.create_file_path(r"\d\a").unwrap();
        let root = v.root();
        let lone = vec![0xD800u16, b'x' as u16];
        v.hard_link(id, root, &lone).unwrap();
        let paths = v.link_paths_w(id).unwrap();
        assert_eq!(paths.len(), 2);
        assert_eq!(narrow(&paths[0].0), r"\d\a");
        let mut want = vec![b'\\' as u16];
        want.extend_from_slice(&lone);
        assert_eq!(paths[1], (want, false));
    }
}
