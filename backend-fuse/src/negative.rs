//! Missing names the kernel may cache (negative dentries), with the bookkeeping that drops
//! them before a name they hide can be seen.
//!
//! A LOOKUP that finds nothing is answered with node id 0 and the entry TTL: the kernel then
//! keeps a negative dentry for that exact spelling and answers ENOENT itself until the TTL
//! ends (fs/fuse/dir.c, `fuse_lookup_name`: "Zero nodeid is same as -ENOENT, but with valid
//! timeout"). NTFS names are case-insensitive (docs/NTFS-RULES.md A5) but the kernel's name
//! cache is keyed by exact spelling, so a miss on `foo` stays cached when `FOO` is created:
//! the kernel only turns the one dentry of the spelling it sent positive.
//!
//! So every spelling answered negatively is recorded, per directory, under the name's
//! canonical (upcased) form. Whatever makes a recorded canonical name exist in that
//! directory — CREATE, MKNOD, MKDIR, SYMLINK, LINK, RENAME, a re-case, or a call on the
//! [`Volume`] itself — reaches [`Negatives`] as a [`NameWatcher`], under the engine's lock at
//! the moment of the change. If a spelling other than the one the kernel is turning positive
//! for this very request is recorded, the connection's epoch is raised there and then
//! (FUSE_NOTIFY_INC_EPOCH, `KernelCache::epoch_now`): every dentry stamped with an older
//! epoch, negative ones included, fails its next revalidation (`fuse_dentry_revalidate`
//! compares `d_time` with the connection's epoch before anything else), and the whole
//! record is cleared, since it describes only dentries that are now stale. The epoch takes
//! no kernel lock, so it is safe inside CREATE and the others, which run with the parent's
//! inode lock held (FUSE_NOTIFY_INVAL_ENTRY would deadlock there, see `inval`).
//! A directory whose lookups change without a new name (case flag, becoming a junction)
//! raises the epoch when it has recorded misses; a removed directory's record is dropped.
//!
//! A LOOKUP racing a create: the engine's lookup finds nothing, another thread creates the
//! name and looks at the record (not there yet), then the first thread records and replies
//! negative — a stale entry. Each directory shard has a generation, raised by every change
//! the watcher sees, before it looks at the record; a lookup reads it before asking the
//! engine and records its miss (under the record's lock) only if it has not moved, otherwise
//! the miss is answered uncached (as an error, which leaves the kernel's dentry expired).
//! Either the change's record check comes after the miss is recorded (and raises the epoch:
//! the kernel read the epoch for this LOOKUP before sending it, `fuse_lookup`), or the
//! generation moved before the record was written (and the miss is not cached), or the
//! change came before the generation was read (and the engine's lookup sees the name).
//!
//! Bounds: at most [`MAX_ENTRIES`] spellings are recorded; the next miss past that raises
//! the epoch and starts a fresh record (entries are never expired by time: the kernel sets
//! a dentry's timeout when the requesting thread resumes, which the daemon cannot see, so
//! only an epoch proves an entry gone). Only when the kernel takes FUSE_NOTIFY_INC_EPOCH
//! (Linux 6.16 and later); otherwise misses stay uncached.

use crate::core::KernelCache;
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use vfs_core::{FileId, Name, NameWatcher};

/// Most spellings recorded at once (about 100 bytes each); one more raises the epoch and
/// clears the record.
pub(crate) const MAX_ENTRIES: usize = 16 * 1024;

/// Generation shards (directories share one by the low bits of their id: the slab slot).
const SHARDS: usize = 64;

fn shard(dir: FileId) -> usize {
    (dir.0 as u32 as usize) % SHARDS
}

thread_local! {
    /// The name the request running on this thread creates, as the kernel spelled it: the
    /// kernel turns that dentry positive itself when the reply arrives, so a recorded miss
    /// under exactly that spelling needs no epoch.
    static KERNEL_MAKES: RefCell<Option<(FileId, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Marks, for its life, that this thread's request makes `spelling` in `dir` (see
/// [`Negatives::kernel_makes`]).
pub(crate) struct KernelMakes(());

impl Drop for KernelMakes {
    fn drop(&mut self) {
        KERNEL_MAKES.with(|k| *k.borrow_mut() = None);
    }
}

/// What a lookup read before asking the engine (see the module docs on races).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    shard: usize,
    generation: u64,
}

#[derive(Debug, Default)]
struct Record {
    /// Directory → canonical name → the spellings answered missing.
    dirs: HashMap<FileId, HashMap<Box<[u16]>, Vec<Box<[u8]>>>>,
    entries: usize,
}

/// The record of cached misses of one mount; a [`NameWatcher`] of its volume.
#[derive(Debug)]
pub(crate) struct Negatives {
    inval: Arc<dyn KernelCache>,
    generations: Box<[AtomicU64]>,
    record: Mutex<Record>,
}

impl Negatives {
    pub(crate) fn new(inval: Arc<dyn KernelCache>) -> Negatives {
        Negatives {
            inval,
            generations: (0..SHARDS).map(|_| AtomicU64::new(0)).collect(),
            record: Mutex::new(Record::default()),
        }
    }

    /// Before the engine lookup of a name in `dir`: None when misses are not cached on this
    /// kernel.
    pub(crate) fn ticket(&self, dir: FileId) -> Option<Ticket> {
        if !self.inval.has_epoch() {
            return None;
        }
        let shard = shard(dir);
        Some(Ticket {
            shard,
            generation: self.generations[shard].load(Ordering::SeqCst),
        })
    }

    /// The engine found no `name` in `dir`, asked as `spelling`: records the miss and says
    /// whether the reply may be cached (false: nothing may have changed in between).
    pub(crate) fn missed(&self, t: Ticket, dir: FileId, name: &Name, spelling: &[u8]) -> bool {
        let mut r = self.record.lock();
        if self.generations[t.shard].load(Ordering::SeqCst) != t.generation {
            return false;
        }
        if r.entries >= MAX_ENTRIES {
            self.epoch(&mut r);
        }
        let spellings = r
            .dirs
            .entry(dir)
            .or_default()
            .entry(name.canonical().into())
            .or_default();
        if spellings.iter().any(|s| **s == *spelling) {
            return true;
        }
        spellings.push(spelling.into());
        r.entries += 1;
        true
    }

    /// Marks this thread's request as the one making `spelling` in `dir` until the guard
    /// drops (CREATE, MKNOD, MKDIR, SYMLINK, LINK, RENAME's new name).
    pub(crate) fn kernel_makes(dir: FileId, spelling: &[u8]) -> KernelMakes {
        KERNEL_MAKES.with(|k| *k.borrow_mut() = Some((dir, spelling.to_vec())));
        KernelMakes(())
    }

    /// How many spellings are recorded (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.record.lock().entries
    }

    /// Every cached miss is stale from now on: raise the epoch, forget them all.
    fn epoch(&self, r: &mut Record) {
        self.inval.epoch_now();
        r.dirs.clear();
        r.entries = 0;
    }

    fn changed(&self, dir: FileId) {
        // Before the record is looked at: a lookup that read the old generation and has
        // not recorded its miss yet will see it moved (module docs).
        self.generations[shard(dir)].fetch_add(1, Ordering::SeqCst);
    }
}

impl NameWatcher for Negatives {
    fn name_added(&self, dir: FileId, name: &Name) {
        self.changed(dir);
        let mut r = self.record.lock();
        let Some(names) = r.dirs.get_mut(&dir) else {
            return;
        };
        let Some(spellings) = names.remove(name.canonical()) else {
            return;
        };
        if names.is_empty() {
            r.dirs.remove(&dir);
        }
        r.entries -= spellings.len();
        let others = KERNEL_MAKES.with(|k| {
            let k = k.borrow();
            let own = k
                .as_ref()
                .filter(|(d, _)| *d == dir)
                .map(|(_, s)| s.as_slice());
            spellings.iter().any(|s| Some(&**s) != own)
        });
        if others {
            self.epoch(&mut r);
        }
    }

    fn lookups_changed(&self, dir: FileId) {
        self.changed(dir);
        let mut r = self.record.lock();
        if r.dirs.contains_key(&dir) {
            self.epoch(&mut r);
        }
    }

    fn dir_removed(&self, dir: FileId) {
        let mut r = self.record.lock();
        if let Some(names) = r.dirs.remove(&dir) {
            r.entries -= names.values().map(Vec::len).sum::<usize>();
        }
    }
}
