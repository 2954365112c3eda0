//! Reparse points on a file (A3, A4): FSCTL_SET/GET/DELETE_REPARSE_POINT, creating a file that
//! holds one, and the two readings of a link's target (the Windows form and the POSIX form a
//! backend presents). The buffer codec itself is [`crate::reparse`].

use super::store::State;
use super::{LinkTarget, Volume, UNMAPPED_PREFIX};
use crate::error::{Error, Result};
use crate::name::{narrow, Name};
use crate::reparse::{self, ReparseBuffer};
use crate::types::*;
use tracing::trace_span;

impl Volume {
    /// FSCTL_SET_REPARSE_POINT (A3, MS-FSA 2.1.5.10.37): the buffer must parse
    /// (ReparseDataInvalid); a mount point needs an empty directory (NotADirectory,
    /// DirectoryNotEmpty); replacing needs the same tag (ReparseTagMismatch) and, for
    /// non-Microsoft tags, the same GUID (ReparseAttributeConflict). A symlink is refused on a
    /// file that holds data with ReparseDataInvalid (WinBtrfs reparse.cpp). Sets FILE_ATTRIBUTE_REPARSE_POINT and does not set ARCHIVE (WinBtrfs).
    pub fn set_reparse_point(&self, id: FileId, buffer: &[u8]) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_reparse_point").entered();
        self.writable()?;
        let rp = ReparseBuffer::parse(buffer).map_err(|_| Error::ReparseDataInvalid)?;
        let mut st = self.state.write();
        let inode = st.get(id)?;
        if let Some(old) = inode.reparse() {
            if old.tag() != rp.tag() {
                return Err(Error::ReparseTagMismatch);
            }
            if old.guid() != rp.guid() {
                return Err(Error::ReparseAttributeConflict);
            }
        }
        if rp.is_mount_point() {
            match inode.dir() {
                None => return Err(Error::NotADirectory),
                Some(d) if !d.is_empty() => return Err(Error::DirectoryNotEmpty),
                _ => {}
            }
        }
        if let Some(d) = inode.dir() {
            // "A reparse point cannot be set on a non-empty directory", whatever its tag
            // (FSCTL_SET_REPARSE_POINT, STATUS_DIRECTORY_NOT_EMPTY; A3).
            if !d.is_empty() {
                return Err(Error::DirectoryNotEmpty);
            }
        }
        let lent_data = st.lent.get(&id).is_some_and(|s| s.has_data);
        if rp.is_symlink() && (lent_data || inode.data().is_some_and(|d| d.has_data())) {
            // WinBtrfs reparse.cpp: a symlink on a file holding data is
            // STATUS_IO_REPARSE_DATA_INVALID; on an empty file it is accepted and data written
            // afterwards through the handle is kept.
            return Err(Error::ReparseDataInvalid);
        }
        // A8: reparse data is charged byte for byte.
        let old = inode.reparse().map_or(0, |r| r.as_bytes().len() as u64);
        st.recharge(old, rp.as_bytes().len() as u64, self.opts.capacity)?;
        let inode = st.get_mut(id)?;
        inode.set_reparse(rp);
        inode.times.change = now();
        st.reparse_changed(id);
        Ok(())
    }

    /// FSCTL_GET_REPARSE_POINT: the buffer byte for byte; not a reparse point →
    /// NotAReparsePoint.
    pub fn get_reparse_point(&self, id: FileId) -> Result<Vec<u8>> {
        let st = self.state.read();
        st.get(id)?
            .reparse()
            .map(|r| r.as_bytes().to_vec())
            .ok_or(Error::NotAReparsePoint)
    }

    /// FSCTL_DELETE_REPARSE_POINT with its header (tag, and GUID for non-Microsoft tags): wrong
    /// tag → ReparseTagMismatch, wrong GUID → ReparseAttributeConflict, none →
    /// NotAReparsePoint. Timestamps are left alone (A3: Wine checks LastAccessTime).
    pub fn delete_reparse_point(&self, id: FileId, header: &[u8]) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "delete_reparse_point").entered();
        self.writable()?;
        if header.len() >= 4 {
            let tag = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            if reparse::is_reserved_tag(tag) {
                return Err(Error::ReparseTagInvalid);
            }
        }
        let (tag, guid) =
            reparse::parse_delete_header(header).map_err(|_| Error::ReparseDataInvalid)?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let old = inode.reparse().ok_or(Error::NotAReparsePoint)?;
        if old.tag() != tag {
            return Err(Error::ReparseTagMismatch);
        }
        if old.guid() != guid {
            return Err(Error::ReparseAttributeConflict);
        }
        let freed = old.as_bytes().len() as u64;
        inode.clear_reparse();
        st.recharge(freed, 0, None)?;
        st.reparse_changed(id);
        Ok(())
    }

    /// Removes whatever reparse point the file has (ntfs-3g's removexattr of
    /// `system.ntfs_reparse_data`); none → NotAReparsePoint.
    pub fn remove_reparse_point(&self, id: FileId) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let Some(old) = inode.reparse() else {
            return Err(Error::NotAReparsePoint);
        };
        let freed = old.as_bytes().len() as u64;
        inode.clear_reparse();
        st.recharge(freed, 0, None)?;
        st.reparse_changed(id);
        Ok(())
    }

    /// The Windows form of a symlink's or junction's target (substitute and print names).
    pub fn read_link(&self, id: FileId) -> Result<LinkTarget> {
        let st = self.state.read();
        let rp = st.get(id)?.reparse().ok_or(Error::NotAReparsePoint)?;
        if !rp.is_symlink() && !rp.is_mount_point() {
            return Err(Error::IoReparseTagNotHandled);
        }
        Ok(LinkTarget {
            tag: rp.tag(),
            substitute_name: rp.substitute_name().unwrap_or(&[]).to_vec(),
            print_name: rp.print_name().unwrap_or(&[]).to_vec(),
            relative: rp.symlink_flags().unwrap_or(0) & reparse::SYMLINK_FLAG_RELATIVE != 0,
        })
    }

    /// The POSIX form of a link's target, for a backend mounted at `mount_path`: relative
    /// targets with `/`; absolute targets on this volume's letter (or root-relative) as
    /// `mount_path/dir`; mapped letters as the mapped host path; unmapped letters and UNC
    /// shares as a dangling path under [`UNMAPPED_PREFIX`].
    pub fn read_link_posix(&self, id: FileId, mount_path: &str) -> Result<String> {
        use crate::target::{parse_target, ReparseTarget};
        let t = self.read_link(id)?;
        let join = |base: &str, comps: &[Vec<u16>]| {
            let mut s = base.trim_end_matches('/').to_string();
            for c in comps {
                s.push('/');
                s.push_str(&narrow(c));
            }
            if s.is_empty() {
                s.push('/');
            }
            s
        };
        Ok(match parse_target(&t.substitute_name, t.relative) {
            ReparseTarget::Relative(c) => {
                let parts: Vec<String> = c.iter().map(|p| narrow(p)).collect();
                parts.join("/")
            }
            ReparseTarget::RootRelative(c) => join(mount_path, &c),
            ReparseTarget::Drive { letter, components } if letter == self.opts.drive_letter => {
                join(mount_path, &components)
            }
            ReparseTarget::Drive { letter, components } => match self.opts.drive_map.get(&letter) {
                Some(host) => join(host, &components),
                None => join(&format!("{UNMAPPED_PREFIX}/{letter}:"), &components),
            },
            ReparseTarget::Unc {
                server,
                share,
                components,
            } => join(
                &format!(
                    "{UNMAPPED_PREFIX}/UNC/{}/{}",
                    narrow(&server),
                    narrow(&share)
                ),
                &components,
            ),
            ReparseTarget::VolumeGuid { guid, components } => {
                join(&format!("{UNMAPPED_PREFIX}/{}", narrow(&guid)), &components)
            }
            // Never above the prefix: dot segments are left out (issue 14).
            ReparseTarget::Other(p) => {
                format!("{UNMAPPED_PREFIX}/{}", crate::target::other_to_posix(&p))
            }
        })
    }

    /// Creates `name` in `parent` already holding reparse buffer `rp`, in one locked step.
    /// A mount point needs a directory (A3: STATUS_NOT_A_DIRECTORY). mklink's files carry no
    /// ARCHIVE from the link itself (A3: setting a reparse point does not set ARCHIVE); the
    /// create already set it for files, as Windows does.
    pub(super) fn create_reparse_locked(
        &self,
        st: &mut State,
        parent: FileId,
        name: &Name,
        new: &NewFile,
        rp: ReparseBuffer,
    ) -> Result<FileId> {
        if rp.is_mount_point() && new.kind != FileKind::Directory {
            return Err(Error::NotADirectory);
        }
        // A8: the record and the reparse data must both fit.
        let bytes = rp.as_bytes().len() as u64;
        st.fits(super::space::FILE_RECORD + bytes, self.opts.capacity)?;
        let id = self.create_locked(st, parent, name, new)?;
        st.recharge(0, bytes, None)?;
        st.get_mut(id)?.set_reparse(rp);
        Ok(id)
    }
}
