//! [`Volume`]: the public face of the engine, split by concept the way the operations are
//! named in NTFS:
//!
//! | file | what it holds |
//! |---|---|
//! | `store.rs` | `State`, everything behind the lock: the inode slab and its generation table, handles, share access; linking and unlinking a directory entry together with its back link |
//! | `inode.rs` | the inode (attributes, times, owner, back links, body, out-of-line extras) |
//! | `dir_index.rs` | a directory's index, keyed by canonical name (A5) |
//! | `share.rs` | SHARE_ACCESS and IoCheckShareAccess |
//! | `resolve.rs` | the one path walker (A3, A4) and the parsing of a caller's path into components |
//! | `names.rs` | lookup, listing, create, hard link (A1), unlink (A2), rename (A6) |
//! | `attributes.rs` | stat, attributes, times, owner/mode, security, case-sensitive flag, xattrs |
//! | `contents.rs` | read, write, end of file |
//! | `reparse_points.rs` | set/get/delete reparse points, link targets (A3, A4) |
//! | `handles.rs` | open by path and by id, disposition, close, pins |
//! | `by_handle.rs` | operations through a handle: FileLinkInformation[Ex], FileRenameInformation[Ex] with RootDirectory, FILE_DISPOSITION_ON_CLOSE, the handle's DeletePending, NtQueryDirectoryFile with a pattern |
//! | `paths.rs` | path conveniences over the operations above |
//! | `atomic.rs` | compound operations done under one acquisition of the lock |
//! | `delete_at_cleanup.rs` | the delete step of an IRP_MJ_CLEANUP that carries the delete |
//! | `snapshot.rs` | export to and rebuild from a [`crate::snapshot::Snapshot`], comparison |
//! | `check.rs` | `Volume::check`, the invariants verified from scratch |
//! | `watch.rs` | [`NameWatcher`]: a backend told, under the lock, of every name added and every directory whose lookups changed or that went away |
//!
//! # Lock order
//!
//! `Volume::state` (one `parking_lot::RwLock<State>`) is the only lock in the engine. Every
//! public operation takes it once, read for queries and write for changes, and never calls
//! another public operation while holding it; the functions that need the lock held take
//! `&State` / `&mut State` (names ending in `_locked`, and everything in `store.rs`,
//! `inode.rs`, `dir_index.rs`, `share.rs`, `resolve.rs`). Hence no deadlock is possible inside
//! the engine and every operation is atomic with respect to every other. Backends call in
//! holding at most their own maps' locks (backend maps → `Volume::state`, never the reverse).

mod atomic;
mod attributes;
mod by_handle;
mod check;
mod contents;
mod delete_at_cleanup;
mod dir_index;
mod handles;
mod inode;
mod lending;
mod names;
mod paths;
mod reparse_points;
mod resolve;
mod share;
mod snapshot;
mod space;
mod store;
mod units;
mod watch;

pub use by_handle::{LinkFlags, FILE_DISPOSITION_ON_CLOSE};
pub use check::CheckError;
pub use lending::{LentShape, SpaceLender};
pub use names::Renamed;
pub use snapshot::SizedLoadError;
pub use watch::NameWatcher;

use crate::error::{Error, Result};
use crate::name::Name;
use crate::types::*;
use parking_lot::RwLock;
use store::State;

/// An in-memory NTFS volume. `Send + Sync`: share it between threads behind an `Arc`.
#[derive(Debug)]
pub struct Volume {
    opts: VolumeOptions,
    state: RwLock<State>,
}

/// Where a path leads when links are followed (see [`Volume::locate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file on this volume.
    File(FileId),
    /// A file that does not exist in an existing directory (a dangling link ends here).
    Missing {
        /// The directory that would hold it.
        parent: FileId,
        /// The missing name.
        name: Name,
    },
    /// A link led to another drive letter that [`VolumeOptions::drive_map`] maps to a host path.
    Mapped {
        /// The drive letter.
        letter: char,
        /// The host path the drive map gives for the letter.
        host: String,
        /// The components below that letter's root.
        rest: Vec<Vec<u16>>,
    },
}

/// The two forms of a link's target (see [`Volume::read_link`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    /// The reparse tag (symlink or mount point).
    pub tag: u32,
    /// SubstituteName: what Windows follows (`\??\C:\dir` or a relative path).
    pub substitute_name: Vec<u16>,
    /// PrintName: what tools show.
    pub print_name: Vec<u16>,
    /// SYMLINK_FLAG_RELATIVE.
    pub relative: bool,
}

/// What [`Volume::space`] reports (A8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes per cluster.
    pub cluster_size: u64,
    /// The volume's size in clusters (`VolumeOptions::capacity` rounded down; with no limit,
    /// as many as a u64 of bytes holds).
    pub total_clusters: u64,
    /// Clusters the files occupy: their records, data clusters, xattrs and reparse data.
    pub used_clusters: u64,
    /// `total_clusters - used_clusters`.
    pub free_clusters: u64,
    /// The exact byte total behind `used_clusters`.
    pub used_bytes: u64,
    /// The part of `used_bytes` reserved for data lent to the backend ([`Volume::lend`]):
    /// the backend's store holds what of it is in use.
    pub lent_reserved: u64,
}

/// Prefix of the POSIX form of a link to a drive letter nobody mapped: a path that does not
/// exist on the host, so the link dangles, and that still shows the letter
/// (`/.ntlinkfs-unmapped/D:/dir`).
pub const UNMAPPED_PREFIX: &str = "/.ntlinkfs-unmapped";

impl Volume {
    /// A new, empty volume.
    ///
    /// Options that [`VolumeOptions::validate`] refuses (a cluster size the engine cannot
    /// count in) are replaced by the default cluster size: check them first.
    pub fn new(mut opts: VolumeOptions) -> Volume {
        if opts.validate().is_err() {
            opts.cluster_size = DEFAULT_CLUSTER_SIZE;
        }
        opts.drive_letter = opts.drive_letter.to_ascii_uppercase();
        opts.drive_map = opts
            .drive_map
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        let mut state = State::new(opts.case_sensitive, opts.default_uid, opts.default_gid);
        state.set_cluster(u64::from(opts.cluster_size));
        Volume {
            opts,
            state: RwLock::new(state),
        }
    }

    /// The options this volume was built with.
    pub fn options(&self) -> &VolumeOptions {
        &self.opts
    }

    /// The root directory's id.
    pub fn root(&self) -> FileId {
        self.state.read().root
    }

    pub(super) fn writable(&self) -> Result<()> {
        if self.opts.read_only {
            Err(Error::ReadOnlyVolume)
        } else {
            Ok(())
        }
    }

    /// Checks every invariant of the store; see [`CheckError`].
    pub fn check(&self) -> std::result::Result<(), CheckError> {
        let st = self.state.read();
        check::check(&st, &self.opts)
    }

    /// The volume's size and what its files occupy (A8), for statfs / GetDiskFreeSpaceEx.
    pub fn space(&self) -> Space {
        let st = self.state.read();
        let cluster = st.cluster;
        let used_clusters = st.used.div_ceil(cluster);
        let total_clusters = match self.opts.capacity {
            Some(c) => c / cluster,
            None => used_clusters.max(u64::MAX / cluster),
        };
        Space {
            cluster_size: cluster,
            total_clusters,
            used_clusters,
            free_clusters: total_clusters.saturating_sub(used_clusters),
            used_bytes: st.used,
            lent_reserved: st.reserved,
        }
    }

    /// Number of live files and directories (root included).
    pub fn file_count(&self) -> usize {
        self.state.read().inodes.len()
    }
}

#[cfg(test)]
mod tests;
