//! File contents: read, write and end of file, through any name (A1: every name sees the same
//! data).

use super::inode::Body;
use super::space;
use super::store::State;
use super::Volume;
use crate::error::{Error, Result};
use crate::types::*;
use tracing::trace_span;

impl Volume {
    /// Reads file data at `offset`.
    pub fn read(&self, id: FileId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let _s = trace_span!(target: "vfs_core", "read").entered();
        let st = self.state.read();
        st.not_lent(id)?;
        match &st.get(id)?.body {
            Body::File(d) => Ok(d.read(offset, buf)),
            Body::Dir(_) => Err(Error::FileIsADirectory),
        }
    }

    /// Writes file data at `offset` (through any name; every name sees it, A1). A write that
    /// needs more space than the volume has left fails whole with DiskFull and changes
    /// nothing (A8); with `sparse_on_extend`, a write that leaves a hole makes the file sparse.
    pub fn write(&self, id: FileId, offset: u64, data: &[u8]) -> Result<usize> {
        self.write_stamped(id, offset, data, true)
    }

    /// [`Volume::write`] that leaves LastWriteTime and ChangeTime as they are (ARCHIVE is set
    /// all the same), for a backend whose writes get their times from elsewhere: FUSE's
    /// writeback cache, where the kernel stamps them itself and sends them as a SETATTR.
    /// One step under the volume's lock, so no other call sees the data without the times
    /// or the times undone.
    pub fn write_keep_times(&self, id: FileId, offset: u64, data: &[u8]) -> Result<usize> {
        self.write_stamped(id, offset, data, false)
    }

    fn write_stamped(&self, id: FileId, offset: u64, data: &[u8], stamp: bool) -> Result<usize> {
        let _s = trace_span!(target: "vfs_core", "write").entered();
        self.writable()?;
        let end = offset
            .checked_add(data.len() as u64)
            .filter(|&e| e <= MAX_FILE_SIZE)
            .ok_or(Error::FileTooLarge)?;
        let cap = self.opts.capacity;
        let mut st = self.state.write();
        st.not_lent(id)?;
        let cluster = st.cluster;
        let inode = st.get(id)?;
        let Body::File(d) = &inode.body else {
            return Err(Error::FileIsADirectory);
        };
        let hole = offset > d.size() && !data.is_empty();
        let made_sparse = hole && self.opts.sparse_on_extend && !space::is_sparse(inode);
        if made_sparse {
            set_sparse_locked(&mut st, id, true, cap)?;
        }
        let (old, new, leaves) = space::write_change(st.get(id)?, offset, end, cluster);
        if let Err(e) = st.recharge(old, new, cap) {
            if made_sparse {
                // Nothing changes on DiskFull: back to a normal file (this frees, it fits).
                let _ = set_sparse_locked(&mut st, id, false, None);
            }
            return Err(e);
        }
        let inode = st.get_mut(id)?;
        let Body::File(d) = &mut inode.body else {
            unreachable!("checked above")
        };
        let n = d.write(offset, data)?;
        if leaves {
            d.make_non_resident();
        }
        if stamp {
            let t = now();
            inode.times.last_write = t;
            inode.times.change = t;
        }
        inode.attributes |= attrs::ARCHIVE;
        Ok(n)
    }

    /// Sets end of file (truncate, or extend with zeros). Extending a normal file allocates
    /// its clusters (NTFS allocates on SetEndOfFile), so it can fail with DiskFull and then
    /// changes nothing; a sparse file allocates nothing; truncating frees at once (A8).
    /// With `sparse_on_extend`, extending makes the file sparse (as ntfs-3g does).
    pub fn set_size(&self, id: FileId, size: u64) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "set_size").entered();
        self.writable()?;
        let mut st = self.state.write();
        st.not_lent(id)?;
        if st.get(id)?.is_dir() {
            return Err(Error::FileIsADirectory);
        }
        set_size_locked(
            &mut st,
            id,
            size,
            self.opts.sparse_on_extend,
            self.opts.capacity,
        )?;
        let inode = st.get_mut(id)?;
        let t = now();
        inode.times.last_write = t;
        inode.times.change = t;
        Ok(())
    }

    /// fallocate(2) mode 0 / FileAllocationInformation up to a range's end: end of file grows
    /// to `offset + len` if it is smaller, without making the file sparse, and the range's
    /// clusters are allocated (a sparse file's holes in the range get zeros), so later writes
    /// into it cannot fail for space (A8). Too big → DiskFull and nothing changes.
    pub fn allocate(&self, id: FileId, offset: u64, len: u64) -> Result<()> {
        let _s = trace_span!(target: "vfs_core", "allocate").entered();
        self.writable()?;
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= MAX_FILE_SIZE)
            .ok_or(Error::FileTooLarge)?;
        let cap = self.opts.capacity;
        let mut st = self.state.write();
        st.not_lent(id)?;
        let cluster = st.cluster;
        let inode = st.get(id)?;
        let Body::File(d) = &inode.body else {
            return Err(Error::FileIsADirectory);
        };
        let grows = end > d.size();
        if space::is_sparse(inode) {
            // The holes of the range become written zeros: charge them as a write would.
            let (old, new, leaves) = space::write_change(inode, offset, end, cluster);
            st.recharge(old, new, cap)?;
            let Body::File(d) = &mut st.get_mut(id)?.body else {
                unreachable!("checked above")
            };
            if grows {
                d.set_size(end)?;
            }
            d.fill_holes(offset, end);
            if leaves {
                d.make_non_resident();
            }
        } else if grows {
            set_size_locked(&mut st, id, end, false, cap)?;
        } else {
            return Ok(());
        }
        let inode = st.get_mut(id)?;
        let t = now();
        inode.times.last_write = t;
        inode.times.change = t;
        Ok(())
    }
}

/// End of file with its accounting (A8): see [`Volume::set_size`]. `extend_sparse`: an
/// extension makes the file sparse first (`sparse_on_extend`).
pub(super) fn set_size_locked(
    st: &mut State,
    id: FileId,
    size: u64,
    extend_sparse: bool,
    cap: Option<u64>,
) -> Result<()> {
    if size > MAX_FILE_SIZE {
        return Err(Error::FileTooLarge);
    }
    let cluster = st.cluster;
    let inode = st.get(id)?;
    let Body::File(d) = &inode.body else {
        return Err(Error::FileIsADirectory);
    };
    let cur = d.size();
    if size >= cur {
        let made_sparse = size > cur && extend_sparse && !space::is_sparse(inode);
        if made_sparse {
            set_sparse_locked(st, id, true, cap)?;
        }
        let (old, new, leaves) = space::grow_change(st.get(id)?, size, cluster);
        if let Err(e) = st.recharge(old, new, cap) {
            if made_sparse {
                let _ = set_sparse_locked(st, id, false, None);
            }
            return Err(e);
        }
        let Body::File(d) = &mut st.get_mut(id)?.body else {
            unreachable!("checked above")
        };
        d.set_size(size)?;
        if leaves {
            d.make_non_resident();
        }
    } else {
        // A truncation frees: measure the part it can change before and after.
        let before = space::shrink_part(inode, size, cluster);
        let inode = st.get_mut(id)?;
        let Body::File(d) = &mut inode.body else {
            unreachable!("checked above")
        };
        d.set_size(size)?;
        let after = space::shrink_part(st.get(id)?, size, cluster);
        st.recharge(before, after, cap)?;
    }
    Ok(())
}

/// Sets or clears FILE_ATTRIBUTE_SPARSE_FILE with its accounting (A8): a sparse file is
/// charged only its written clusters; clearing the flag allocates the holes (as
/// FSCTL_SET_SPARSE with SetSparse = FALSE does), which can fail with DiskFull, and then
/// nothing changes.
pub(super) fn set_sparse_locked(
    st: &mut State,
    id: FileId,
    on: bool,
    cap: Option<u64>,
) -> Result<()> {
    let cluster = st.cluster;
    let inode = st.get_mut(id)?;
    if space::is_sparse(inode) == on {
        return Ok(());
    }
    let old = space::data_charge(inode, cluster);
    inode.attributes ^= attrs::SPARSE_FILE;
    let new = space::data_charge(inode, cluster);
    if let Err(e) = st.recharge(old, new, cap) {
        st.get_mut(id)?.attributes ^= attrs::SPARSE_FILE;
        return Err(e);
    }
    Ok(())
}
