//! Path conveniences: operations named by a path instead of a directory and a name. Each one
//! parses the path once (`resolve::parse_user_path`), walks it with the one walker
//! (`resolve::walk`) and hands the result to the operation by id in `names.rs`,
//! `handles.rs` or `reparse_points.rs`.

use super::resolve::{parse_user_path, walk, walk_literal, walk_parent, Walked};
use super::store::State;
use super::{Location, Volume};
use crate::error::{Error, Result};
use crate::name::Name;
use crate::path::VolumePath;
use crate::reparse::{self, ReparseBuffer};
use crate::types::*;
use tracing::trace_span;

impl Volume {
    /// Resolves a path to a file id, following reparse points in every component and, when
    /// `follow_final`, in the last one (A3, A4). Dangling → ObjectNameNotFound; a missing
    /// directory on the way → ObjectPathNotFound.
    pub fn resolve(&self, path: &(impl VolumePath + ?Sized), follow_final: bool) -> Result<FileId> {
        match self.locate(path, follow_final)? {
            Location::File(id) => Ok(id),
            Location::Missing { .. } => Err(Error::ObjectNameNotFound),
            Location::Mapped { .. } => Err(Error::NotOnThisVolume),
        }
    }

    /// Where a path leads, including links to mapped drive letters.
    pub fn locate(
        &self,
        path: &(impl VolumePath + ?Sized),
        follow_final: bool,
    ) -> Result<Location> {
        let _s = trace_span!(target: "vfs_core", "resolve").entered();
        let comps = parse_user_path(&path.units(), &self.opts)?;
        let st = self.state.read();
        Ok(match walk(&st, &self.opts, comps, follow_final)? {
            Walked::Found { id, .. } => Location::File(id),
            Walked::Missing { parent, name } => Location::Missing { parent, name },
            Walked::Mapped { letter, host, rest } => Location::Mapped { letter, host, rest },
        })
    }

    /// The path with every component in the case the volume stored it (`\Dir\File.TXT` for
    /// `\DIR\file.txt`; FileNameInformation reports the stored case, A5). No reparse point is
    /// followed, in any component: a path through a link has no stored form (ObjectPathNotFound
    /// or ObjectNameNotFound, as for a name below the empty directory a junction is, A3).
    pub fn stored_path(&self, path: &(impl VolumePath + ?Sized)) -> Result<Vec<u16>> {
        let comps = parse_user_path(&path.units(), &self.opts)?;
        let st = self.state.read();
        match walk_literal(&st, &self.opts, comps)? {
            (Walked::Found { .. }, trail) => {
                if trail.is_empty() {
                    return Ok(vec![crate::wtf16::BACKSLASH]);
                }
                let mut out = Vec::new();
                for c in trail {
                    out.push(crate::wtf16::BACKSLASH);
                    out.extend_from_slice(&c);
                }
                Ok(out)
            }
            (Walked::Missing { .. }, _) => Err(Error::ObjectNameNotFound),
            (Walked::Mapped { .. }, _) => Err(Error::NotOnThisVolume),
        }
    }

    /// The parent directory and final name of a path that is to be created.
    pub(super) fn parent_and_name(&self, st: &State, path: &[u16]) -> Result<(FileId, Name)> {
        self.parent_and_name_or(st, path, Error::ObjectPathNotFound)
    }

    /// The parent directory and final name of a hard link's or rename's target. A target whose
    /// directory part names a file (`a\new` with `a` a file) is STATUS_INVALID_PARAMETER for
    /// FileLinkInformation and FileRenameInformation (WinBtrfs links.cpp "Try to link file
    /// within other file", rename.cpp "Try to move file within other file"), not the
    /// STATUS_OBJECT_PATH_NOT_FOUND a create gets (rule A1/A6 open points).
    pub(super) fn target_parent_and_name(
        &self,
        st: &State,
        path: &[u16],
    ) -> Result<(FileId, Name)> {
        self.parent_and_name_or(st, path, Error::InvalidParameter)
    }

    /// [`Volume::parent_and_name`] with the error for a directory part that names a file.
    fn parent_and_name_or(
        &self,
        st: &State,
        path: &[u16],
        file_as_dir: Error,
    ) -> Result<(FileId, Name)> {
        let mut comps = parse_user_path(path, &self.opts)?;
        let name = comps.pop().ok_or(Error::ObjectNameInvalid)?.into_name()?;
        match walk_parent(st, &self.opts, comps)? {
            Walked::Found { id, pending, .. } => {
                if pending {
                    // Adding a name opens the directory through its delete-pending name (A2).
                    return Err(Error::DeletePending);
                }
                if st.get(id)?.dir().is_none() {
                    return Err(file_as_dir);
                }
                Ok((id, name))
            }
            Walked::Missing { .. } => Err(Error::ObjectPathNotFound),
            Walked::Mapped { .. } => Err(Error::NotSameDevice),
        }
    }

    /// The directory entry a path names, without following a reparse point in the last
    /// component (what delete, rename and link act on).
    pub(super) fn entry_of(&self, st: &State, path: &[u16]) -> Result<(FileId, Name, FileId)> {
        let comps = parse_user_path(path, &self.opts)?;
        match walk(st, &self.opts, comps, false)? {
            Walked::Found {
                id,
                entry: Some((parent, display)),
                ..
            } => Ok((parent, Name::from_valid_units(display.into_vec()), id)),
            Walked::Found { entry: None, .. } => Err(Error::AccessDenied),
            Walked::Missing { .. } => Err(Error::ObjectNameNotFound),
            Walked::Mapped { .. } => Err(Error::NotSameDevice),
        }
    }

    /// Creates a file or directory at `path` (CreateDirectoryW for [`NewFile::dir`]; for
    /// [`NewFile::file`] an empty file, failing if the name exists).
    pub fn create_path(&self, path: &(impl VolumePath + ?Sized), new: &NewFile) -> Result<FileId> {
        self.writable()?;
        let mut st = self.state.write();
        let (parent, name) = self.parent_and_name(&st, &path.units())?;
        self.create_locked(&mut st, parent, &name, new)
    }

    /// Creates or truncates the file at `path` (following links) and writes `data`.
    pub fn write_file_path(
        &self,
        path: &(impl VolumePath + ?Sized),
        data: &[u8],
    ) -> Result<FileId> {
        let Opened { handle, id, .. } = self.open_path(
            path,
            &OpenOptions {
                disposition: Disposition::OverwriteIf,
                kind: Some(FileKind::File),
                ..OpenOptions::default()
            },
        )?;
        let r = self.write(id, 0, data);
        self.close(handle)?;
        r.map(|_| id)
    }

    /// Reads the whole file at `path` (following links).
    pub fn read_file_path(&self, path: &(impl VolumePath + ?Sized)) -> Result<Vec<u8>> {
        let id = self.resolve(path, true)?;
        let size = self.stat(id)?.size;
        if size > isize::MAX as u64 {
            return Err(Error::FileTooLarge);
        }
        let mut buf = vec![0u8; size as usize];
        let n = self.read(id, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Stat by path; `follow` = follow a reparse point in the last component.
    pub fn stat_path(&self, path: &(impl VolumePath + ?Sized), follow: bool) -> Result<Stat> {
        self.stat(self.resolve(path, follow)?)
    }

    /// CreateHardLinkW(new, existing): the existing path's last component is not followed, so
    /// a symlink is linked itself (A1); a delete-pending name → DeletePending (A2). Returns the
    /// file's id.
    pub fn hard_link_path(
        &self,
        existing: &(impl VolumePath + ?Sized),
        new: &(impl VolumePath + ?Sized),
    ) -> Result<FileId> {
        let id = {
            let st = self.state.read();
            let comps = parse_user_path(&existing.units(), &self.opts)?;
            match walk(&st, &self.opts, comps, false)? {
                Walked::Found { pending: true, .. } => return Err(Error::DeletePending),
                Walked::Found { id, .. } => id,
                Walked::Missing { .. } => return Err(Error::ObjectNameNotFound),
                Walked::Mapped { .. } => return Err(Error::NotSameDevice),
            }
        };
        let (parent, name) = {
            let st = self.state.read();
            self.target_parent_and_name(&st, &new.units())?
        };
        self.hard_link(id, parent, &name)?;
        Ok(id)
    }

    /// DeleteFileW (`UnlinkKind::File`) / RemoveDirectoryW (`UnlinkKind::Directory`) by path;
    /// the last component is never followed, so removing a link removes the link (A2).
    pub fn delete_path(&self, path: &(impl VolumePath + ?Sized), kind: UnlinkKind) -> Result<()> {
        let (parent, name, _) = {
            let st = self.state.read();
            self.entry_of(&st, &path.units())?
        };
        self.unlink(parent, &name, kind, false)
    }

    /// MoveFileEx / SetFileInformationByHandle(FileRenameInfoEx) by path. The source's last
    /// component is not followed (a link is renamed, not its target).
    pub fn rename_path(
        &self,
        src: &(impl VolumePath + ?Sized),
        dst: &(impl VolumePath + ?Sized),
        flags: RenameFlags,
    ) -> Result<()> {
        let (sp, sn, dp, dn) = {
            let st = self.state.read();
            let (sp, sn, _) = self.entry_of(&st, &src.units())?;
            let (dp, dn) = self.target_parent_and_name(&st, &dst.units())?;
            (sp, sn, dp, dn)
        };
        self.rename(sp, &sn, dp, &dn, flags)
    }

    /// Lists a directory by path (following links), whole, in NTFS order.
    pub fn read_dir_path(&self, path: &(impl VolumePath + ?Sized)) -> Result<Vec<DirEntry>> {
        let id = self.resolve(path, true)?;
        self.read_dir(id, None, usize::MAX)
    }

    /// CreateSymbolicLinkW(path, target, directory ? SYMBOLIC_LINK_FLAG_DIRECTORY : 0): makes
    /// an empty file or directory holding a symlink reparse buffer laid out as
    /// CreateSymbolicLinkW writes it (A4). The target is not checked.
    pub fn create_symlink(
        &self,
        path: &(impl VolumePath + ?Sized),
        target: &(impl VolumePath + ?Sized),
        directory: bool,
    ) -> Result<FileId> {
        let _s = trace_span!(target: "vfs_core", "create_symlink").entered();
        let rp = reparse::symlink_for_target(&target.units(), self.opts.drive_letter)
            .map_err(|_| Error::ReparseDataInvalid)?;
        self.create_with_reparse(&path.units(), directory, rp)
    }

    /// `mklink /J path target`: an empty directory holding a mount-point buffer as mklink
    /// writes it (A3). The target must be absolute; it is not checked.
    pub fn create_junction(
        &self,
        path: &(impl VolumePath + ?Sized),
        target: &(impl VolumePath + ?Sized),
    ) -> Result<FileId> {
        let _s = trace_span!(target: "vfs_core", "create_junction").entered();
        let rp = reparse::junction_for_target(&target.units(), self.opts.drive_letter)
            .map_err(|_| Error::ReparseDataInvalid)?;
        self.create_with_reparse(&path.units(), true, rp)
    }

    fn create_with_reparse(&self, path: &[u16], dir: bool, rp: ReparseBuffer) -> Result<FileId> {
        self.writable()?;
        let mut st = self.state.write();
        let (parent, name) = self.parent_and_name(&st, path)?;
        let new = if dir { NewFile::dir() } else { NewFile::file() };
        self.create_reparse_locked(&mut st, parent, &name, &new, rp)
    }

    /// Deletes a tree without ever following a junction or symlink out of it: links inside
    /// are removed as links (A2; CPython `test_rmtree_works_on_junctions`). Read-only files
    /// are deleted as with FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE.
    pub fn remove_tree(&self, path: &(impl VolumePath + ?Sized)) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "remove_tree").entered();
        self.writable()?;
        let (parent, name, id) = {
            let st = self.state.read();
            self.entry_of(&st, &path.units())?
        };
        self.remove_tree_id(id)?;
        self.unlink(parent, &name, UnlinkKind::Any, true)
    }

    fn remove_tree_id(&self, id: FileId) -> Result<()> {
        let st = self.stat(id)?;
        if st.kind != FileKind::Directory || st.reparse_tag.is_some() {
            return Ok(());
        }
        loop {
            let batch = self.read_dir(id, None, 256)?;
            if batch.is_empty() {
                return Ok(());
            }
            for e in batch {
                self.remove_tree_id(e.stat.id)?;
                // A stored name is valid (invariant 4 of `check`).
                self.unlink(id, &Name::from_valid_units(e.name), UnlinkKind::Any, true)?;
            }
        }
    }
}
