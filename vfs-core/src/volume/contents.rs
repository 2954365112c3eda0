//! File contents: read, write and end of file, through any name (A1: every name sees the same
//! data).

use super::inode::Body;
use super::Volume;
use crate::error::{Error, Result};
use crate::types::*;
use tracing::trace_span;

impl Volume {
    /// Reads file data at `offset`.
    pub fn read(&self, id: FileId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let _s = trace_span!(target: "vfs_core", "read").entered();
        let st = self.state.read();
        match &st.get(id)?.body {
            Body::File(d) => Ok(d.read(offset, buf)),
            Body::Dir(_) => Err(Error::FileIsADirectory),
        }
    }

    /// Writes file data at `offset` (through any name; every name sees it, A1).
    pub fn write(&self, id: FileId, offset: u64, data: &[u8]) -> Result<usize> {
        let _s = trace_span!(target: "vfs_core", "write").entered();
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        let n = match &mut inode.body {
            Body::File(d) => d.write(offset, data)?,
            Body::Dir(_) => return Err(Error::FileIsADirectory),
        };
        let t = now();
        inode.times.last_write = t;
        inode.times.change = t;
        inode.attributes |= attrs::ARCHIVE;
        Ok(n)
    }

    /// Sets end of file (truncate or extend with zeros, allocating nothing).
    pub fn set_size(&self, id: FileId, size: u64) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_size").entered();
        self.writable()?;
        let mut st = self.state.write();
        let inode = st.get_mut(id)?;
        match &mut inode.body {
            Body::File(d) => d.set_size(size)?,
            Body::Dir(_) => return Err(Error::FileIsADirectory),
        }
        let t = now();
        inode.times.last_write = t;
        inode.times.change = t;
        Ok(())
    }
}
