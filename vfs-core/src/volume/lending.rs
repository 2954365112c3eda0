//! Lending a file's data to a backend that keeps it elsewhere while the file is open (the FUSE
//! backend's passthrough opens, where the kernel reads and writes a file of the daemon's own
//! and no request reaches the engine), and the space such data may take (A8).
//!
//! While a file is lent its data has left the engine: [`Volume::lend`] moves the
//! [`FileData`] out (the inode keeps an empty one), and [`Volume::give_back`] puts what the
//! backend has then back, with the times and the ARCHIVE bit of a write if it was written.
//! Nothing in between reads or writes the file's data through the engine; the backend answers
//! for its size, allocation and times (it knows them from its own copy).
//!
//! The space the lent data may occupy is a **reservation**: bytes counted in the volume's
//! total like any charge, so the engine's own writes, records and xattrs cannot take them,
//! and given to the backend's store as its limit through [`SpaceLender::set_limit`] (a
//! write there past the limit fails in write(2) with ENOSPC, as NTFS fails WriteFile with
//! STATUS_DISK_FULL). While anything is lent the reservation is *all the free space*: every
//! byte the engine frees goes to it at once, and an engine charge that does not fit takes
//! back what the store does not use (the limit lowered first; if the store holds more, the
//! charge fails with DiskFull). So a write fails, in the engine or in the store, exactly
//! when the files' charges and the store's usage together would pass the volume's size.
//! When nothing is lent the reservation is 0 and the store's limit is never consulted.
//!
//! A lent file's own charge moves into the reservation when it is lent (the store holds that
//! data now) and comes back out of it when it is given back.

use super::inode::Body;
use super::space;
use super::store::State;
use super::Volume;
use crate::data::FileData;
use crate::error::{Error, Result};
use crate::types::{attrs, FileId, FileTime};
use std::sync::Arc;

/// The backend's store of lent data, as the engine sees it.
pub trait SpaceLender: Send + Sync + std::fmt::Debug {
    /// Makes `limit` bytes the most the lent data may occupy (`u64::MAX`: no limit, for a
    /// volume without a size). Returns false, changing nothing, when the store already
    /// holds more than `limit`. Called under the volume's lock: it must not call the volume.
    fn set_limit(&self, limit: u64) -> bool;
}

/// What the backend needs to answer for a lent file's allocation (A8) while it holds the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LentShape {
    /// FILE_ATTRIBUTE_SPARSE_FILE: only written clusters count.
    pub sparse: bool,
    /// The data had left the file record when it was lent (it never comes back into it).
    pub non_resident: bool,
    /// The most data the file's record holds (A8, decided by its first name).
    pub resident_limit: u64,
    /// Bytes per cluster.
    pub cluster: u64,
    /// The lent data holds bytes (as the backend last said, `Volume::lent_holds_data`): a
    /// symbolic link is not set on such a file (`Volume::set_reparse_point`).
    pub has_data: bool,
}

impl LentShape {
    /// NTFS's AllocationSize for the lent data at `size` bytes with `written` bytes of it
    /// written (for a sparse file), and whether it is resident: what [`crate::Stat`] would
    /// say with the data in the engine.
    pub fn allocation(&self, size: u64, written: u64) -> (u64, bool) {
        let resident = !self.non_resident && size <= self.resident_limit;
        if resident {
            (0, true)
        } else if self.sparse {
            (written.div_ceil(self.cluster) * self.cluster, false)
        } else {
            (size.div_ceil(self.cluster) * self.cluster, false)
        }
    }
}

impl State {
    /// Is some file's data lent out?
    pub(crate) fn lending(&self) -> bool {
        !self.lent.is_empty() && self.lender.is_some()
    }

    /// Data calls on a lent file are refused: its data is not here (SharingViolation).
    pub(crate) fn not_lent(&self, id: FileId) -> Result<()> {
        if self.lent.contains_key(&id) {
            return Err(Error::SharingViolation);
        }
        Ok(())
    }

    /// Takes `need` bytes back from the reservation (the store's limit lowered first).
    pub(crate) fn reclaim(&mut self, need: u64) -> bool {
        if !self.lending() || need > self.reserved {
            return false;
        }
        let target = self.reserved - need;
        if !self.lender.as_ref().is_some_and(|l| l.set_limit(target)) {
            return false;
        }
        self.reserved = target;
        self.used -= need;
        true
    }

    /// Gives every free byte to the reservation (while anything is lent).
    pub(crate) fn reserve_free(&mut self) {
        let Some(cap) = self.lend_cap else { return };
        if !self.lending() || self.used >= cap {
            return;
        }
        let free = cap - self.used;
        if self
            .lender
            .as_ref()
            .is_some_and(|l| l.set_limit(self.reserved + free))
        {
            self.reserved += free;
            self.used += free;
        }
    }
}

impl Volume {
    /// Sets the store that lent data lives in (the backend's); `None` ends lending (nothing
    /// may be lent then).
    pub fn set_space_lender(&self, lender: Option<Arc<dyn SpaceLender>>) -> Result<()> {
        let mut st = self.state.write();
        if !st.lent.is_empty() {
            return Err(Error::SharingViolation);
        }
        st.lender = lender;
        Ok(())
    }

    /// Moves a regular file's data out of the engine to the backend (module docs); returns
    /// it with the shape the backend reports allocation by. The file's charge becomes part
    /// of the reservation, and so does every free byte. Fails for a directory, a file already
    /// lent, or with no [`SpaceLender`] set.
    pub fn lend(&self, id: FileId) -> Result<(FileData, LentShape)> {
        let cap = self.opts.capacity;
        let mut st = self.state.write();
        if st.lender.is_none() || st.lent.contains_key(&id) {
            return Err(Error::SharingViolation);
        }
        let cluster = st.cluster;
        let inode = st.get(id)?;
        let Body::File(d) = &inode.body else {
            return Err(Error::FileIsADirectory);
        };
        let shape = LentShape {
            sparse: space::is_sparse(inode),
            non_resident: d.non_resident(),
            resident_limit: space::limit_of(inode),
            cluster,
            has_data: d.has_data(),
        };
        let charge = space::data_charge(inode, cluster);
        let inode = st.get_mut(id)?;
        let Body::File(d) = &mut inode.body else {
            unreachable!("checked above")
        };
        let data = std::mem::take(d);
        // Used stays: the file's charge is now reserved for the store that holds its data.
        st.reserved += charge;
        st.lent.insert(id, shape);
        st.lend_cap = cap;
        if cap.is_none() {
            // A volume without a size: the store has no limit either.
            if let Some(l) = &st.lender {
                l.set_limit(u64::MAX);
            }
        }
        st.reserve_free();
        Ok((data, shape))
    }

    /// Is `id`'s data lent out?
    pub fn is_lent(&self, id: FileId) -> bool {
        self.state.read().lent.contains_key(&id)
    }

    /// Puts a lent file's data back (module docs); the times and ARCHIVE of its writes were
    /// stamped as they were seen ([`Volume::lent_written`]). Never refuses for space (the
    /// data was on the volume already, in the store); a file that is gone meanwhile is only
    /// taken off the list.
    pub fn give_back(&self, id: FileId, mut data: FileData) -> Result<()> {
        let mut st = self.state.write();
        let Some(shape) = st.lent.remove(&id) else {
            return Err(Error::InvalidParameter);
        };
        let cluster = st.cluster;
        let charge = match st.get_mut(id) {
            Ok(inode) => {
                if shape.non_resident || data.size() > space::limit_of(inode) {
                    data.make_non_resident();
                }
                let Body::File(d) = &mut inode.body else {
                    unreachable!("only files are lent")
                };
                *d = data;
                space::data_charge(inode, cluster)
            }
            Err(_) => 0,
        };
        if st.lent.is_empty() {
            // Nothing is lent any more: the reservation goes, the data's charge stays.
            st.used = st.used - st.reserved + charge;
            st.reserved = 0;
        } else {
            // The data's charge comes out of the reservation; its place in the store is free.
            let back = charge.min(st.reserved);
            if !st.reclaim(back) {
                tracing::warn!(
                    target: "vfs_core",
                    "give_back: the store holds more than the volume has left; {charge} bytes over"
                );
            }
            st.used += charge;
            st.reserve_free();
        }
        Ok(())
    }

    /// A lent file was written at `t` (the backend saw its copy change): LastWriteTime
    /// becomes `t`, ChangeTime too unless it is later already, and ARCHIVE is set, as an
    /// engine write does (A1: the times and attributes belong to the file, whatever name);
    /// set-user-ID (and set-group-ID with group execute) go, as for an unprivileged writer.
    pub fn lent_written(&self, id: FileId, t: FileTime) -> Result<()> {
        let mut st = self.state.write();
        if !st.lent.contains_key(&id) {
            return Err(Error::InvalidParameter);
        }
        let inode = st.get_mut(id)?;
        inode.times.last_write = t;
        inode.times.change = inode.times.change.max(t);
        inode.attributes |= attrs::ARCHIVE;
        // The backend cannot tell who wrote: taken as a caller without CAP_FSETID.
        inode.mode = crate::types::mode_after_write(inode.mode);
        Ok(())
    }

    /// A lent file's end of file moved (the backend resized its copy; a non-sparse
    /// extension has allocated it there, so the space is the store's): as
    /// [`Volume::set_size`] does, an extension makes the file sparse first with
    /// `sparse_on_extend`, and LastWriteTime and ChangeTime become now. (Whether an
    /// extension needs allocating, the backend decides beforehand the same way:
    /// [`Volume::lent_shape`]'s `sparse`, or `sparse_on_extend`.)
    pub fn lent_resized(&self, id: FileId, extends: bool) -> Result<()> {
        let mut st = self.state.write();
        if !st.lent.contains_key(&id) {
            return Err(Error::InvalidParameter);
        }
        let inode = st.get_mut(id)?;
        let was_sparse = space::is_sparse(inode);
        let sparse = was_sparse || (extends && self.opts.sparse_on_extend);
        if sparse && !was_sparse {
            // No data here to recharge: the file's clusters are the store's while it is lent.
            inode.attributes |= attrs::SPARSE_FILE;
        }
        let t = crate::types::now();
        inode.times.last_write = t;
        inode.times.change = t;
        Ok(())
    }

    /// Whether a lent file's data holds any byte now (the backend saw its size).
    pub fn lent_holds_data(&self, id: FileId, has_data: bool) -> Result<()> {
        let mut st = self.state.write();
        let shape = st.lent.get_mut(&id).ok_or(Error::InvalidParameter)?;
        shape.has_data = has_data;
        Ok(())
    }

    /// Makes a lent file sparse (FILE_ATTRIBUTE_SPARSE_FILE) without changing its times: a
    /// write through the backend left a gap, which a sparse file does not allocate. Its data
    /// is not here, so nothing is recharged until it comes back.
    pub fn lent_set_sparse(&self, id: FileId) -> Result<()> {
        let mut st = self.state.write();
        if !st.lent.contains_key(&id) {
            return Err(Error::InvalidParameter);
        }
        st.get_mut(id)?.attributes |= attrs::SPARSE_FILE;
        Ok(())
    }

    /// How a lent file's allocation is reported now ([`Volume::lend`]'s shape, with what
    /// changed since).
    pub fn lent_shape(&self, id: FileId) -> Option<LentShape> {
        let st = self.state.read();
        let mut shape = st.lent.get(&id).copied()?;
        // The sparse flag (`system.ntfs_attrib`) and the first name (a rename) may have
        // changed since the file was lent: read as they are now.
        if let Ok(inode) = st.get(id) {
            shape.sparse = space::is_sparse(inode);
            shape.resident_limit = space::limit_of(inode);
        }
        Some(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::*;
    use parking_lot::Mutex;

    /// A store that holds `used` bytes and takes any limit at or above it.
    #[derive(Debug, Default)]
    struct Store {
        limit: Mutex<u64>,
        used: Mutex<u64>,
    }

    impl SpaceLender for Store {
        fn set_limit(&self, limit: u64) -> bool {
            if limit < *self.used.lock() {
                return false;
            }
            *self.limit.lock() = limit;
            true
        }
    }

    const CAP: u64 = 1 << 20;

    fn volume() -> (Volume, Arc<Store>) {
        let v = Volume::new(VolumeOptions {
            capacity: Some(CAP),
            ..VolumeOptions::default()
        });
        let store = Arc::new(Store::default());
        v.set_space_lender(Some(store.clone())).unwrap();
        (v, store)
    }

    /// Lending moves the data out, reserves the file's charge and every free byte for the
    /// store, refuses data calls on the file meanwhile; giving back restores the data and,
    /// if written, the write's times and ARCHIVE; the volume checks clean throughout.
    #[test]
    fn lent_data_leaves_the_engine_and_comes_back() {
        let (v, store) = volume();
        let id = v.write_file_path(r"\f", &[7; 10_000]).unwrap();
        v.set_attributes(id, attrs::NORMAL).unwrap();
        let before = v.space();
        let (data, shape) = v.lend(id).unwrap();
        assert_eq!(data.size(), 10_000);
        assert!(shape.non_resident && !shape.sparse);
        assert_eq!(shape.allocation(10_000, 10_000), (12_288, false));
        assert_eq!(v.stat(id).unwrap().size, 0, "the data is out");
        assert!(v.is_lent(id));
        assert_eq!(v.read(id, 0, &mut [0; 4]), Err(Error::SharingViolation));
        assert_eq!(v.write(id, 0, b"x"), Err(Error::SharingViolation));
        let sp = v.space();
        assert_eq!(sp.used_bytes, CAP, "everything free is reserved");
        assert_eq!(sp.lent_reserved, CAP - before.used_bytes + 12_288);
        assert_eq!(*store.limit.lock(), sp.lent_reserved);
        v.check().unwrap();
        let mut back = data.clone();
        back.write(10_000, b"more").unwrap();
        // The write seen, later than every time the file has.
        let t: FileTime = crate::types::now() + 10_000_000;
        v.lent_written(id, t).unwrap();
        v.give_back(id, back).unwrap();
        let st = v.stat(id).unwrap();
        assert_eq!(st.size, 10_004);
        assert_eq!(st.times.last_write, t);
        assert_eq!(st.times.change, t);
        assert_ne!(st.attributes & attrs::ARCHIVE, 0);
        assert_eq!(v.space().lent_reserved, 0);
        assert_eq!(v.space().used_bytes, before.used_bytes);
        v.check().unwrap();
        // Not written: times and attributes stay.
        v.set_attributes(id, attrs::NORMAL).unwrap();
        let st = v.stat(id).unwrap();
        let (data, _) = v.lend(id).unwrap();
        v.give_back(id, data).unwrap();
        let again = v.stat(id).unwrap();
        assert_eq!(again.times, st.times);
        assert_eq!(again.attributes & attrs::ARCHIVE, 0);
        v.check().unwrap();
    }

    /// A8 while lending: an engine charge takes back what the store does not use, and fails
    /// with DiskFull only when the store's usage and the charges together pass the size;
    /// what the engine frees goes to the store at once.
    #[test]
    fn the_engine_and_the_store_share_the_volume_exactly() {
        let (v, store) = volume();
        let id = v.write_file_path(r"\lent", &[]).unwrap();
        let other = v.write_file_path(r"\other", &[]).unwrap();
        v.lend(id).unwrap();
        let own = CAP - v.space().lent_reserved;
        // The store fills all but 64 KiB.
        *store.used.lock() = CAP - own - (64 << 10);
        assert!(v.write(other, 0, &[1; 32 << 10]).is_ok());
        assert_eq!(*store.limit.lock(), CAP - own - (32 << 10));
        assert_eq!(
            v.write(other, 32 << 10, &[1; 64 << 10]),
            Err(Error::DiskFull),
            "only 32 KiB are left"
        );
        assert_eq!(v.stat(other).unwrap().size, 32 << 10, "nothing changed");
        v.check().unwrap();
        // Freed in the engine: the store may use it.
        v.set_size(other, 0).unwrap();
        assert_eq!(*store.limit.lock(), CAP - own + 4096 - 4096);
        assert_eq!(v.space().used_bytes, CAP);
        v.check().unwrap();
        // The store gives its space back with the data.
        *store.used.lock() = 0;
        v.give_back(id, FileData::new()).unwrap();
        assert_eq!(v.space().lent_reserved, 0);
        v.write(other, 0, &[1; 512 << 10]).unwrap();
        v.check().unwrap();
    }

    /// A write seen in lent data clears set-user-ID, and set-group-ID with group execute,
    /// as Linux does for a writer without CAP_FSETID.
    #[test]
    fn a_lent_write_clears_set_id_bits() {
        let (v, _) = volume();
        let id = v.write_file_path(r"\tool", b"#!").unwrap();
        v.set_owner_mode(id, None, None, Some(0o6755)).unwrap();
        v.lend(id).unwrap();
        v.lent_written(id, 133_000_000_000_000_000).unwrap();
        assert_eq!(v.stat(id).unwrap().mode, 0o0755);
        v.set_owner_mode(id, None, None, Some(0o2745)).unwrap();
        v.lent_written(id, 133_000_000_000_000_001).unwrap();
        assert_eq!(
            v.stat(id).unwrap().mode,
            0o2745,
            "no group execute: a lock bit"
        );
        v.give_back(id, FileData::new()).unwrap();
        v.check().unwrap();
    }

    /// A file deleted while something is lent frees its space for the store at once, also
    /// when it goes at its last close (the inode freed, not a recharge).
    #[test]
    fn space_freed_by_a_delete_goes_to_the_store() {
        let (v, store) = volume();
        let lent = v.write_file_path(r"\lent", &[]).unwrap();
        let gone = v.write_file_path(r"\gone", &[1; 200_000]).unwrap();
        v.lend(lent).unwrap();
        let before = *store.limit.lock();
        let h = v.open(gone, Access::READ, Share::ALL).unwrap();
        let name = crate::Name::from_str_checked("gone").unwrap();
        v.unlink(v.root(), &name, UnlinkKind::Any, false).unwrap();
        assert_eq!(*store.limit.lock(), before, "open: not freed yet");
        v.close(h).unwrap();
        assert_eq!(
            *store.limit.lock(),
            before + 200_704 + 1024,
            "data and record"
        );
        v.check().unwrap();
        *store.used.lock() = 0;
        v.give_back(lent, FileData::new()).unwrap();
        v.check().unwrap();
    }

    /// Two files lent: giving one back keeps the reservation for the other (less the data
    /// that came back), and a file deleted meanwhile is only taken off the list.
    #[test]
    fn giving_one_back_keeps_the_other_lent() {
        let (v, store) = volume();
        let a = v.write_file_path(r"\a", &[1; 100_000]).unwrap();
        let b = v.write_file_path(r"\b", &[]).unwrap();
        let (da, _) = v.lend(a).unwrap();
        v.lend(b).unwrap();
        *store.used.lock() = 0;
        v.give_back(a, da).unwrap();
        assert!(v.is_lent(b) && !v.is_lent(a));
        assert_eq!(v.space().used_bytes, CAP);
        assert_eq!(v.stat(a).unwrap().size, 100_000);
        v.check().unwrap();
        let name = crate::Name::from_str_checked("b").unwrap();
        v.unlink(v.root(), &name, UnlinkKind::Any, false).unwrap();
        v.give_back(b, FileData::new()).unwrap();
        assert_eq!(v.space().lent_reserved, 0);
        v.check().unwrap();
    }
}
