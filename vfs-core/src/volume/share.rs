//! Share access: NT's SHARE_ACCESS record of one file with open handles, checked the way
//! IoCheckShareAccess checks a new open.
//!
//! Locking: runs under `Volume::state` (see `mod.rs`).

use crate::error::{Error, Result};
use crate::types::*;

/// NT's SHARE_ACCESS for one file with open handles (IoCheckShareAccess).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ShareAccess {
    /// Every open handle.
    pub open_count: u32,
    /// Handles that take part in sharing (IoCheckShareAccess's OpenCount).
    pub participants: u32,
    pub readers: u32,
    pub writers: u32,
    pub deleters: u32,
    pub shared_read: u32,
    pub shared_write: u32,
    pub shared_delete: u32,
}

impl ShareAccess {
    /// Does an open with this access take part in sharing? IoCheckShareAccess ignores opens
    /// that ask for none of read, write or delete (e.g. FILE_READ_ATTRIBUTES only): they neither
    /// conflict nor count (conformance case R10: a rename succeeds while such a handle is open).
    fn participates(access: Access) -> bool {
        access.read || access.write || access.delete
    }
    /// IoCheckShareAccess: a new open conflicts if it asks for access an existing handle does not
    /// share, or refuses to share access an existing handle has.
    pub fn check(&self, access: Access, share: Share) -> Result<()> {
        if !Self::participates(access) {
            return Ok(());
        }
        let n = self.participants;
        if (access.read && self.shared_read < n)
            || (access.write && self.shared_write < n)
            || (access.delete && self.shared_delete < n)
            || (self.readers > 0 && !share.read)
            || (self.writers > 0 && !share.write)
            || (self.deleters > 0 && !share.delete)
        {
            return Err(Error::SharingViolation);
        }
        Ok(())
    }
    pub fn add(&mut self, access: Access, share: Share) {
        self.open_count += 1;
        if !Self::participates(access) {
            return;
        }
        self.participants += 1;
        self.readers += access.read as u32;
        self.writers += access.write as u32;
        self.deleters += access.delete as u32;
        self.shared_read += share.read as u32;
        self.shared_write += share.write as u32;
        self.shared_delete += share.delete as u32;
    }
    pub fn remove(&mut self, access: Access, share: Share) {
        self.open_count -= 1;
        if !Self::participates(access) {
            return;
        }
        self.participants -= 1;
        self.readers -= access.read as u32;
        self.writers -= access.write as u32;
        self.deleters -= access.delete as u32;
        self.shared_read -= share.read as u32;
        self.shared_write -= share.write as u32;
        self.shared_delete -= share.delete as u32;
    }
}
