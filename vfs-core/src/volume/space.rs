//! Allocation and the volume's size (A8, docs/NTFS-RULES.md): what each file occupies on an
//! NTFS volume, and the running total the volume keeps so that a write past the volume's
//! size fails with STATUS_DISK_FULL instead of growing the daemon's memory without bound.
//!
//! What a file is charged, in bytes:
//! - one file record ([`FILE_RECORD`], 1 KiB: NTFS's default file record size), for every
//!   file and directory, the root included;
//! - its data, once it has left the file record: every cluster up to end of file for a
//!   normal file (NTFS allocates the clusters of a non-sparse file when end of file moves:
//!   SetEndOfFile, FileEndOfFileInformation), only the clusters holding written data for a
//!   sparse one (FILE_ATTRIBUTE_SPARSE_FILE). Data of at most [`resident_limit`] bytes stays
//!   in the record and costs nothing more;
//! - its extended attributes and reparse data, byte for byte (name + value), on top of the
//!   record: both live in the record on NTFS while they fit, but counting the bytes keeps a
//!   runaway writer of xattrs bounded too;
//! - nothing for a name: a hard link adds a $FILE_NAME to the record and an index entry, which
//!   NTFS's index blocks absorb (a hard link adds no used space, the seeds' headline fact).
//!
//! The total lives in `State::used` and changes by each operation's delta (O(1), or O(the
//! bytes the operation touches) for sparse files); `Volume::check()` recounts it from scratch.
//!
//! Locking: runs under `Volume::state` like the rest of `volume/`.

use super::inode::{Body, Inode};
use super::store::State;
use crate::error::{Error, Result};
use crate::types::attrs;

/// Bytes of one file record: NTFS's default file record segment is 1 KiB (MS docs, "Master
/// File Table", and `fsutil fsinfo ntfsinfo`'s "Bytes Per FileRecord Segment: 1024").
pub(crate) const FILE_RECORD: u64 = 1024;

/// Bytes of a file record available to the $FILE_NAME and resident $DATA attributes on a
/// fresh ntfs-3g volume, measured (A8): data of `s` bytes stays resident while
/// `align8(s) + align8(90 + 2 × name length) <= 760`, where 90 is the $FILE_NAME attribute's
/// header and fixed part (24 + 66 bytes) and the other 264 bytes of the record hold its
/// header, $STANDARD_INFORMATION and the $DATA header.
const RESIDENT_SPACE: u64 = 760;

fn align8(n: u64) -> u64 {
    n.div_ceil(8) * 8
}

/// The largest data that stays in the file record of a file whose first name has
/// `name_units` UTF-16 units (A8; 664 bytes for a one-letter name, 536 for 64 letters).
pub(crate) fn resident_limit(name_units: usize) -> u64 {
    let name = align8(90 + 2 * name_units as u64);
    RESIDENT_SPACE.saturating_sub(name) / 8 * 8
}

/// The resident limit of this file: decided by its first name (the one it was created with
/// unless that was removed), as NTFS decides it when the data grows.
pub(crate) fn limit_of(inode: &Inode) -> u64 {
    resident_limit(inode.links.first().map_or(0, |l| l.display.len()))
}

pub(crate) fn is_sparse(inode: &Inode) -> bool {
    inode.attributes & attrs::SPARSE_FILE != 0
}

/// Bytes the file's data occupies outside its record (see the module docs).
pub(crate) fn data_charge(inode: &Inode, cluster: u64) -> u64 {
    let Body::File(d) = &inode.body else { return 0 };
    if !d.non_resident() {
        0
    } else if is_sparse(inode) {
        d.written_clusters(cluster) * cluster
    } else {
        d.size().div_ceil(cluster) * cluster
    }
}

/// Bytes of index allocation NTFS gives a directory of `entries` names (A8, measured on
/// ntfs-3g over a fresh mkntfs image with 13-character names: up to 3 entries fit in the
/// index root inside the file record, 0 blocks; 5 to 20 took one 4 KiB index record, 40 two,
/// 80 four, 300 fifteen: the B+ tree's index records are about half full, ~2080 bytes of
/// ~104-byte entries each). Modelled from the count alone, so that `stat` stays O(1): an
/// estimate for names of other lengths. Shown as the directory's st_blocks (what `du` adds
/// up) and not charged against the volume's size: the names' memory is small beside the 1 KiB
/// record each file is charged.
pub(crate) fn dir_index_allocation(entries: usize, cluster: u64) -> u64 {
    const INDEX_RECORD: u64 = 4096;
    const ENTRY: u64 = 104;
    const PER_RECORD: u64 = 2080;
    let n = entries as u64;
    if n <= 4 {
        return 0;
    }
    let records = (n * ENTRY).div_ceil(PER_RECORD).max(1);
    (records * INDEX_RECORD).div_ceil(cluster) * cluster
}

/// Bytes of extended attributes and reparse data.
pub(crate) fn extra_charge(inode: &Inode) -> u64 {
    inode.extra.as_ref().map_or(0, |e| {
        e.reparse.as_ref().map_or(0, |r| r.as_bytes().len() as u64)
            + e.xattrs
                .iter()
                .map(|(k, v)| (k.len() + v.len()) as u64)
                .sum::<u64>()
    })
}

/// Everything a file is charged.
pub(crate) fn charge(inode: &Inode, cluster: u64) -> u64 {
    FILE_RECORD + data_charge(inode, cluster) + extra_charge(inode)
}

/// What writing `[offset, offset + len)` changes: (old part, new part, leaves the record).
/// `end` was checked against MAX_FILE_SIZE by the caller.
pub(crate) fn write_change(inode: &Inode, offset: u64, end: u64, cluster: u64) -> (u64, u64, bool) {
    let Body::File(d) = &inode.body else {
        return (0, 0, false);
    };
    let new_size = d.size().max(end);
    let leaves = !d.non_resident() && new_size > limit_of(inode);
    let non_resident = d.non_resident() || leaves;
    if !non_resident || end <= offset {
        return (0, 0, leaves && end > offset);
    }
    if is_sparse(inode) {
        // Only the clusters of the range that hold nothing yet are new; leaving the record
        // also brings the (few) clusters the resident data had.
        let before = if leaves {
            d.written_clusters(cluster)
        } else {
            0
        };
        let added = d.unwritten_clusters_in(offset, end - offset, cluster);
        (0, (before + added) * cluster, leaves)
    } else {
        let old = data_charge(inode, cluster);
        (old, new_size.div_ceil(cluster) * cluster, leaves)
    }
}

/// What setting end of file to `size` changes when it grows or keeps the size: (old part,
/// new part, leaves the record). A shrink is measured instead (`shrink_part`): it frees.
pub(crate) fn grow_change(inode: &Inode, size: u64, cluster: u64) -> (u64, u64, bool) {
    let Body::File(d) = &inode.body else {
        return (0, 0, false);
    };
    let leaves = !d.non_resident() && size > limit_of(inode);
    if !(d.non_resident() || leaves) {
        return (0, 0, false);
    }
    if is_sparse(inode) {
        // Extending a sparse file allocates nothing (MS-FSCC 2.1.5.x, FSCTL_SET_SPARSE).
        let resident = if leaves {
            d.written_clusters(cluster)
        } else {
            0
        };
        (0, resident * cluster, leaves)
    } else {
        (
            data_charge(inode, cluster),
            size.div_ceil(cluster) * cluster,
            leaves,
        )
    }
}

/// The part of the data charge a truncation to `size` can change: measured before and after
/// the truncation, their difference is what it frees.
pub(crate) fn shrink_part(inode: &Inode, size: u64, cluster: u64) -> u64 {
    let Body::File(d) = &inode.body else { return 0 };
    if !d.non_resident() {
        0
    } else if is_sparse(inode) {
        d.written_clusters_from(size, cluster) * cluster
    } else {
        d.size().div_ceil(cluster) * cluster
    }
}

impl State {
    /// Sets the cluster size of a new state (only the root exists: its record's charge does
    /// not depend on the cluster).
    pub fn set_cluster(&mut self, cluster: u64) {
        self.cluster = cluster;
    }

    /// Replaces `old` charged bytes by `new`; more than the volume holds → DiskFull and
    /// nothing changes (STATUS_DISK_FULL).
    pub fn recharge(&mut self, old: u64, new: u64, capacity: Option<u64>) -> Result<()> {
        let mut used = self.used - old.min(self.used) + new;
        if let Some(c) = capacity.filter(|&c| new > old && used > c) {
            // What is reserved for lent data and not used by it comes back first
            // (`lending.rs`).
            if !self.reclaim(used - c) {
                return Err(Error::DiskFull);
            }
            used = self.used - old.min(self.used) + new;
        }
        self.used = used;
        if new < old {
            self.reserve_free();
        }
        Ok(())
    }

    /// Would `more` bytes still fit? (Taking them back from the reservation for lent data
    /// if they would only fit so.)
    pub fn fits(&mut self, more: u64, capacity: Option<u64>) -> Result<()> {
        if let Some(c) = capacity.filter(|&c| self.used + more > c) {
            if !self.reclaim(self.used + more - c) {
                return Err(Error::DiskFull);
            }
        }
        Ok(())
    }

    /// The total recounted from scratch (`check()` compares it with `used`).
    pub fn recount(&self, cluster: u64) -> u64 {
        self.inodes
            .iter()
            .map(|(_, i)| charge(i, cluster))
            .sum::<u64>()
            + self.reserved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::*;
    use crate::{Error, Volume};

    /// The thresholds measured on ntfs-3g over a fresh mkntfs image (A8): the first size that
    /// left the record was 665 for a 1-letter name, 657 for 4 letters, 649 for 8, 609 for
    /// 30, 537 for 64.
    #[test]
    fn resident_limit_matches_the_ntfs3g_measurements() {
        assert_eq!(resident_limit(1), 664);
        assert_eq!(resident_limit(4), 656);
        assert_eq!(resident_limit(8), 648);
        assert_eq!(resident_limit(30), 608);
        assert_eq!(resident_limit(64), 536);
        assert_eq!(resident_limit(255), 160);
    }

    fn sized(capacity: Option<u64>) -> Volume {
        Volume::new(VolumeOptions {
            capacity,
            ..VolumeOptions::default()
        })
    }

    fn alloc(v: &Volume, p: &str) -> (u64, bool) {
        let s = v.stat_path(p, false).unwrap();
        (s.allocation_size, s.resident)
    }

    /// A8: small data stays in the record; past the limit whole 4 KiB clusters; a file cut
    /// back keeps its cluster (as ntfs-3g shows); at size 0 it is resident again.
    #[test]
    fn small_files_are_resident_and_larger_ones_take_clusters() {
        let v = sized(None);
        v.write_file_path(r"\f", &[1; 6]).unwrap();
        assert_eq!(alloc(&v, r"\f"), (0, true));
        let id = v.write_file_path(r"\g", &[1; 664]).unwrap();
        assert_eq!(alloc(&v, r"\g"), (0, true));
        v.write(id, 664, &[2]).unwrap();
        assert_eq!(alloc(&v, r"\g"), (4096, false));
        v.write(id, 4096, &[2]).unwrap();
        assert_eq!(alloc(&v, r"\g"), (8192, false));
        v.set_size(id, 100).unwrap();
        assert_eq!(alloc(&v, r"\g"), (4096, false));
        v.set_size(id, 0).unwrap();
        assert_eq!(alloc(&v, r"\g"), (0, true));
        v.write(id, 0, b"hi").unwrap();
        assert_eq!(alloc(&v, r"\g"), (0, true));
        // A longer name leaves less room in the record.
        let long = format!(r"\{}", "n".repeat(64));
        v.write_file_path(&long, &[1; 537]).unwrap();
        assert_eq!(alloc(&v, &long), (4096, false));
        v.check().unwrap();
    }

    /// Issue 13: a copy doubles the used space, a hard link adds none, a delete frees.
    #[test]
    fn copy_doubles_used_space_and_a_hard_link_adds_none() {
        let v = sized(None);
        let base = v.space().used_bytes;
        v.write_file_path(r"\a", &vec![7; 100_000]).unwrap();
        let one = v.space().used_bytes - base;
        assert_eq!(one, FILE_RECORD + 25 * 4096);
        v.hard_link_path(r"\a", r"\b").unwrap();
        assert_eq!(v.space().used_bytes - base, one);
        v.write_file_path(r"\c", &vec![7; 100_000]).unwrap();
        assert_eq!(v.space().used_bytes - base, 2 * one);
        v.delete_path(r"\c", UnlinkKind::File).unwrap();
        v.delete_path(r"\a", UnlinkKind::File).unwrap();
        assert_eq!(v.space().used_bytes - base, one);
        v.delete_path(r"\b", UnlinkKind::File).unwrap();
        assert_eq!(v.space().used_bytes, base);
        v.check().unwrap();
    }

    /// A8: a normal file allocates up to end of file (SetEndOfFile allocates); a sparse one
    /// only the clusters written.
    #[test]
    fn sparse_files_are_charged_only_written_clusters() {
        let v = sized(None);
        let n = v.create_path(r"\normal", &NewFile::file()).unwrap();
        v.set_size(n, 10 << 20).unwrap();
        assert_eq!(alloc(&v, r"\normal").0, 10 << 20);
        let s = v.create_path(r"\sparse", &NewFile::file()).unwrap();
        v.set_attributes(s, attrs::SPARSE_FILE).unwrap();
        v.set_size(s, 10 << 20).unwrap();
        assert_eq!(alloc(&v, r"\sparse").0, 0);
        v.write(s, 100 * 4096, &[1; 4096]).unwrap();
        assert_eq!(alloc(&v, r"\sparse").0, 4096);
        v.write(s, 5_000_000, &[1]).unwrap();
        assert_eq!(alloc(&v, r"\sparse").0, 8192);
        // Rewriting a written cluster adds nothing; a write across two clusters takes both.
        v.write(s, 100 * 4096 + 10, &[3; 10]).unwrap();
        assert_eq!(alloc(&v, r"\sparse").0, 8192);
        v.write(s, 8 << 20 | 4000, &[3; 200]).unwrap();
        assert_eq!(alloc(&v, r"\sparse").0, 16384);
        v.check().unwrap();
        // Truncating releases the clusters past the new end (the one holding the new end
        // stays); clearing the flag allocates every hole (FSCTL_SET_SPARSE, SetSparse = FALSE).
        v.set_size(s, 5_000_000).unwrap();
        assert_eq!(alloc(&v, r"\sparse").0, 8192);
        v.set_size(s, 4_000_000).unwrap();
        assert_eq!(alloc(&v, r"\sparse").0, 4096);
        v.set_size(s, 5_000_000).unwrap();
        v.check().unwrap();
        v.set_attributes(s, 0).unwrap();
        assert_eq!(alloc(&v, r"\sparse").0, 5_001_216);
        v.check().unwrap();
    }

    /// ntfs-3g's rule for POSIX callers (A8): extending past end of file makes a file sparse.
    #[test]
    fn sparse_on_extend_makes_holes_free() {
        let v = Volume::new(VolumeOptions {
            sparse_on_extend: true,
            ..VolumeOptions::default()
        });
        let a = v.write_file_path(r"\a", &[1; 5000]).unwrap();
        v.set_size(a, 100_000).unwrap();
        let st = v.stat_path(r"\a", false).unwrap();
        assert_ne!(st.attributes & attrs::SPARSE_FILE, 0);
        assert_eq!(st.allocation_size, 8192);
        let b = v.create_path(r"\b", &NewFile::file()).unwrap();
        v.write(b, 1 << 30, b"x").unwrap();
        assert_eq!(alloc(&v, r"\b").0, 4096);
        // Appending leaves no hole: a plain file stays plain.
        let c = v.write_file_path(r"\c", &[1; 5000]).unwrap();
        v.write(c, 5000, &[1; 5000]).unwrap();
        let st = v.stat_path(r"\c", false).unwrap();
        assert_eq!(st.attributes & attrs::SPARSE_FILE, 0);
        // fallocate allocates the holes it covers.
        v.allocate(b, 0, 8192).unwrap();
        assert_eq!(alloc(&v, r"\b").0, 3 * 4096);
        v.check().unwrap();
    }

    /// Issue 13: past the size, DiskFull; the file keeps what it had, nothing else changes,
    /// and deleting frees at once (at the last close for a file deleted while open).
    #[test]
    fn a_full_volume_refuses_growth_and_deleting_frees() {
        let v = sized(Some(64 * 1024));
        let a = v.create_path(r"\a", &NewFile::file()).unwrap();
        let mut written = 0u64;
        let err = loop {
            match v.write(a, written, &[9; 4096]) {
                Ok(n) => written += n as u64,
                Err(e) => break e,
            }
        };
        assert_eq!(err, Error::DiskFull);
        assert_eq!(err.errno(), 28);
        assert_eq!((err.ntstatus(), err.win32()), (0xC000_007F, 112));
        assert!(written > 0);
        let st = v.stat_path(r"\a", false).unwrap();
        assert_eq!(st.size, written);
        assert_eq!(v.read_file_path(r"\a").unwrap(), vec![9; written as usize]);
        let used = v.space().used_bytes;
        assert!(used <= 64 * 1024);
        // Every kind of growth is refused and changes nothing.
        assert_eq!(v.set_size(a, written + (1 << 20)), Err(Error::DiskFull));
        assert_eq!(v.allocate(a, 0, written + (1 << 20)), Err(Error::DiskFull));
        assert_eq!(
            v.set_xattr(a, "user.big", Some(&vec![0; 64 * 1024])),
            Err(Error::DiskFull)
        );
        assert_eq!(v.space().used_bytes, used);
        assert_eq!(v.stat_path(r"\a", false).unwrap().size, written);
        v.check().unwrap();
        // A file deleted while open keeps its space until the last close.
        let h = v
            .open_path(r"\a", &OpenOptions::default())
            .map(|x| x.handle)
            .unwrap();
        v.delete_path(r"\a", UnlinkKind::File).unwrap();
        assert_eq!(v.space().used_bytes, used);
        v.close(h).unwrap();
        assert!(v.space().used_bytes < used);
        v.write_file_path(r"\b", &[1; 20_000]).unwrap();
        v.check().unwrap();
    }

    /// A backend reference (a FUSE lookup count) is no NT open: a deleted file's data goes at
    /// once even while the kernel still holds it; its record goes with the reference.
    #[test]
    fn a_pinned_deleted_file_frees_its_data_at_once() {
        let v = sized(None);
        let base = v.space().used_bytes;
        let id = v.write_file_path(r"\f", &[1; 100_000]).unwrap();
        v.pin(id).unwrap();
        v.delete_path(r"\f", UnlinkKind::File).unwrap();
        assert_eq!(v.space().used_bytes, base + FILE_RECORD);
        v.check().unwrap();
        v.unpin(id, 1).unwrap();
        assert_eq!(v.space().used_bytes, base);
        v.check().unwrap();
    }

    /// A full volume refuses new files (each needs a record) and reparse data.
    #[test]
    fn a_full_volume_refuses_new_files() {
        let v = sized(Some(8 * 1024));
        let mut made = 0;
        let err = loop {
            match v.create_path(&format!(r"\f{made}"), &NewFile::file()) {
                Ok(_) => made += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(err, Error::DiskFull);
        // The root's record and seven more fill 8 KiB.
        assert_eq!(made, 7);
        assert_eq!(v.space().free_clusters, 0);
        v.check().unwrap();
    }

    /// xattrs and reparse data are charged byte for byte, and freed with them.
    #[test]
    fn xattrs_and_reparse_data_are_charged() {
        let v = sized(None);
        let id = v.create_path(r"\f", &NewFile::file()).unwrap();
        let base = v.space().used_bytes;
        v.set_xattr(id, "user.k", Some(b"12345")).unwrap();
        assert_eq!(v.space().used_bytes, base + 11);
        v.set_xattr(id, "user.k", Some(b"1")).unwrap();
        assert_eq!(v.space().used_bytes, base + 7);
        v.set_xattr(id, "user.k", None).unwrap();
        assert_eq!(v.space().used_bytes, base);
        v.check().unwrap();
        v.delete_path(r"\f", UnlinkKind::File).unwrap();
        v.check().unwrap();
    }

    /// `check()` recounts the running total (invariant 7).
    #[test]
    fn check_catches_a_wrong_running_total() {
        let v = sized(None);
        v.write_file_path(r"\f", &[1; 10_000]).unwrap();
        v.check().unwrap();
        v.state.write().used += 1;
        let e = v.check().unwrap_err();
        assert!(e.to_string().contains("running total"), "{e}");
    }

    /// The directory index model against the ntfs-3g measurements (A8).
    #[test]
    fn directory_index_allocation_follows_the_measurements() {
        let blocks = |n| dir_index_allocation(n, 4096) / 4096;
        assert_eq!(
            [1, 3, 5, 10, 20, 40, 80, 300].map(blocks),
            [0, 0, 1, 1, 1, 2, 4, 15]
        );
        assert_eq!(dir_index_allocation(10, 65536), 65536);
    }

    /// Other cluster sizes; an image too large for the size is refused with both sizes.
    #[test]
    fn cluster_size_and_images_over_the_size() {
        let v = Volume::new(VolumeOptions {
            cluster_size: 65536,
            ..VolumeOptions::default()
        });
        v.write_file_path(r"\f", &[1; 700]).unwrap();
        assert_eq!(alloc(&v, r"\f").0, 65536);
        assert_eq!(v.space().cluster_size, 65536);
        let bad = VolumeOptions {
            cluster_size: 5000,
            ..VolumeOptions::default()
        };
        assert!(bad.validate().unwrap_err().contains("5000"));

        let big = sized(None);
        big.write_file_path(r"\f", &vec![1; 1 << 20]).unwrap();
        let snap = big.snapshot();
        let small = VolumeOptions {
            capacity: Some(512 * 1024),
            ..VolumeOptions::default()
        };
        let e = Volume::from_snapshot_sized(snap.clone(), &small).unwrap_err();
        let needs = big.space().used_bytes;
        assert_eq!(
            e,
            crate::SizedLoadError::TooLarge {
                needs,
                size: 512 * 1024
            }
        );
        assert!(e.to_string().contains("volume's size"), "{e}");
        let back = Volume::from_snapshot_sized(snap, &VolumeOptions::default()).unwrap();
        assert_eq!(back.space(), big.space());
        back.check().unwrap();
    }
}
