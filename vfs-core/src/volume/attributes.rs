//! Attributes: what a file carries besides its names and data — FILE_ATTRIBUTE_* bits, the four
//! times, owner/group/mode, the security descriptor, the case-sensitive flag of a directory
//! (A5) and extended attributes. Shared by every name of the file (A1).

use super::Volume;
use crate::error::{Error, Result};
use crate::types::*;
use tracing::trace_span;

impl Volume {
    /// GetFileInformationByHandle and more.
    pub fn stat(&self, id: FileId) -> Result<Stat> {
        let _s = trace_span!(target: "vfs_core", "stat").entered();
        self.state.read().stat(id)
    }

    /// SetFileAttributes: only [`attrs::SETTABLE`] bits change; DIRECTORY and REPARSE_POINT
    /// belong to the file system (MS-FSA 2.1.5.14.2). NORMAL alone clears everything.
    pub fn set_attributes(&self, id: FileId, attributes: u32) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_attributes").entered();
        self.writable()?;
        let mut st = self.state.write();
        if !st.get(id)?.is_dir() {
            // A8: the sparse flag decides what the data is charged; clearing it can fail
            // with DiskFull, and then nothing changes.
            let sparse = attributes & attrs::SPARSE_FILE != 0;
            super::contents::set_sparse_locked(&mut st, id, sparse, self.opts.capacity)?;
        }
        let inode = st.get_mut(id)?;
        let fixed = inode.attributes & (attrs::DIRECTORY | attrs::REPARSE_POINT);
        inode.attributes = fixed | (attributes & attrs::SETTABLE);
        inode.times.change = now();
        Ok(())
    }

    /// Sets any of the four timestamps (FileBasicInformation).
    pub fn set_times(&self, id: FileId, times: SetTimes) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let t = &mut inode.times;
        if let Some(v) = times.creation {
            t.creation = v;
        }
        if let Some(v) = times.last_access {
            t.last_access = v;
        }
        if let Some(v) = times.last_write {
            t.last_write = v;
        }
        t.change = times.change.unwrap_or_else(now);
        Ok(())
    }

    /// Sets owner, group and permission bits (the POSIX view of the file's security, shared by
    /// every name).
    pub fn set_owner_mode(
        &self,
        id: FileId,
        uid: Option<u32>,
        gid: Option<u32>,
        mode: Option<u32>,
    ) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        if let Some(u) = uid {
            inode.uid = u;
        }
        if let Some(g) = gid {
            inode.gid = g;
        }
        if let Some(m) = mode {
            inode.mode = m & 0o7777;
        }
        inode.times.change = now();
        Ok(())
    }

    /// The file's opaque security descriptor, if one was set.
    pub fn security(&self, id: FileId) -> Result<Option<Vec<u8>>> {
        let st = self.state.read();
        Ok(st.get(id)?.extra.as_ref().and_then(|e| e.security.clone()))
    }

    /// Stores an opaque security descriptor (None removes it).
    pub fn set_security(&self, id: FileId, sd: Option<Vec<u8>>) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        inode.extra_mut().security = sd;
        inode.shrink_extra();
        inode.times.change = now();
        Ok(())
    }

    /// Sets or clears FILE_CS_FLAG_CASE_SENSITIVE_DIR (A5): a file → InvalidParameter;
    /// clearing while names differing only in case exist → CaseDifferingNamesInDir.
    pub fn set_case_sensitive(&self, id: FileId, enable: bool) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let dir = inode.dir_mut().ok_or(Error::InvalidParameter)?;
        if !enable && dir.has_case_twins() {
            return Err(Error::CaseDifferingNamesInDir);
        }
        let changed = dir.case_sensitive != enable;
        dir.case_sensitive = enable;
        if changed {
            for w in &st.watchers {
                w.lookups_changed(id);
            }
        }
        Ok(())
    }

    /// An extended attribute (`user.*` in the FUSE backend), stored per file.
    pub fn xattr(&self, id: FileId, name: &str) -> Result<Option<Vec<u8>>> {
        let st = self.state.read();
        Ok(st
            .get(id)?
            .extra
            .as_ref()
            .and_then(|e| e.xattrs.get(name).cloned()))
    }

    /// Names of the stored extended attributes.
    pub fn xattr_names(&self, id: FileId) -> Result<Vec<String>> {
        let st = self.state.read();
        Ok(st
            .get(id)?
            .extra
            .as_ref()
            .map(|e| e.xattrs.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// Sets (Some) or removes (None) an extended attribute; removing a missing one →
    /// ObjectNameNotFound.
    pub fn set_xattr(&self, id: FileId, name: &str, value: Option<&[u8]>) -> Result<()> {
        self.writable()?;
        let mut st = self.state.write();
        // A8: xattrs are charged name + value bytes.
        let old = st
            .get(id)?
            .extra
            .as_ref()
            .and_then(|e| e.xattrs.get(name))
            .map_or(0, |v| (name.len() + v.len()) as u64);
        let new = value.map_or(0, |v| (name.len() + v.len()) as u64);
        if value.is_some() {
            st.recharge(old, new, self.opts.capacity)?;
        }
        let inode = st.get_mut(id)?;
        match value {
            Some(v) => {
                inode
                    .extra_mut()
                    .xattrs
                    .insert(name.to_string(), v.to_vec());
            }
            None => {
                let removed = inode
                    .extra
                    .as_mut()
                    .and_then(|e| e.xattrs.remove(name))
                    .is_some();
                inode.shrink_extra();
                if !removed {
                    return Err(Error::ObjectNameNotFound);
                }
                st.recharge(old, 0, None)?;
                let inode = st.get_mut(id)?;
                inode.times.change = now();
                return Ok(());
            }
        }
        inode.times.change = now();
        Ok(())
    }
}
