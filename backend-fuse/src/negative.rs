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
use smallvec::SmallVec;
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

/// The name the request running on this thread creates, as the kernel spelled it.
struct Makes {
    dir: FileId,
    spelling: Vec<u8>,
    /// A miss under exactly this spelling was recorded and left to the kernel (no epoch).
    excused: bool,
}

thread_local! {
    /// The kernel turns the dentry of the spelling a CREATE (MKNOD, ...) names positive itself
    /// when a successful reply arrives, so a recorded miss under exactly that spelling needs
    /// no epoch.
    static KERNEL_MAKES: RefCell<Option<Makes>> = const { RefCell::new(None) };
}

/// Marks, for its life, that this thread's request makes `spelling` in `dir` (see
/// [`Negatives::kernel_makes`]). A request that made the name but then fails (its reply is
/// an error, so the kernel's dentry stays negative) must not leave the miss excused: unless
/// [`KernelMakes::replied`] was called, dropping the guard raises the epoch if it was.
pub(crate) struct KernelMakes<'a> {
    neg: &'a Negatives,
    replied: bool,
}

impl KernelMakes<'_> {
    /// The request succeeds: its reply gives the kernel the new name.
    pub(crate) fn replied(mut self) {
        self.replied = true;
    }
}

impl Drop for KernelMakes<'_> {
    fn drop(&mut self) {
        let made = KERNEL_MAKES.with(|k| k.borrow_mut().take());
        if !self.replied && made.is_some_and(|m| m.excused) {
            self.neg.epoch(&mut self.neg.record.lock());
        }
    }
}

/// What a lookup read before asking the engine (see the module docs on races).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    shard: usize,
    generation: u64,
}

/// One directory's misses: canonical name → the spellings (kernel bytes) answered missing.
/// Kept in place up to a size nearly every name fits: recording a miss is on the path of
/// every name a program creates (its LOOKUP comes first), and three small allocations per
/// miss showed in the daemon's profile (BENCHMARKS.md "Daemon CPU per request").
type DirMisses = HashMap<Canonical, Spellings>;
type Canonical = SmallVec<[u16; 16]>;
type Spellings = SmallVec<[Spelling; 1]>;
type Spelling = SmallVec<[u8; 24]>;

#[derive(Debug, Default)]
struct Record {
    /// Directory → its misses.
    dirs: HashMap<FileId, DirMisses>,
    entries: usize,
    /// The table of the last directory whose misses all went, kept for the next directory
    /// that gets one: "miss, then create that name" is how every program makes a file, and
    /// each such pair otherwise allocated and freed a directory's table. Only a small one
    /// is kept ([`SPARE_CAPACITY`]).
    spare: Option<DirMisses>,
}

/// Largest table kept as [`Record::spare`].
const SPARE_CAPACITY: usize = 64;

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
        let Record { dirs, spare, .. } = &mut *r;
        let names = dirs
            .entry(dir)
            .or_insert_with(|| spare.take().unwrap_or_default());
        let spellings = match names.get_mut(name.canonical()) {
            Some(s) => s,
            None => names.entry(name.canonical().into()).or_default(),
        };
        if spellings.iter().any(|s| **s == *spelling) {
            return true;
        }
        spellings.push(spelling.into());
        r.entries += 1;
        true
    }

    /// Marks this thread's request as the one making `spelling` in `dir` until the guard
    /// drops (CREATE, MKNOD, MKDIR, SYMLINK, LINK, RENAME's new name).
    pub(crate) fn kernel_makes(&self, dir: FileId, spelling: &[u8]) -> KernelMakes<'_> {
        KERNEL_MAKES.with(|k| {
            *k.borrow_mut() = Some(Makes {
                dir,
                spelling: spelling.to_vec(),
                excused: false,
            })
        });
        KernelMakes {
            neg: self,
            replied: false,
        }
    }

    /// How many spellings are recorded (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.record.lock().entries
    }

    /// Raises the epoch for another reason (a name lost, see `Core::unlink`): every cached
    /// miss goes with it.
    pub(crate) fn raise_epoch(&self) {
        self.epoch(&mut self.record.lock());
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
            if let Some(table) = r.dirs.remove(&dir) {
                if table.capacity() <= SPARE_CAPACITY {
                    r.spare = Some(table);
                }
            }
        }
        r.entries -= spellings.len();
        let others = KERNEL_MAKES.with(|k| {
            let mut k = k.borrow_mut();
            let own = k.as_mut().filter(|m| m.dir == dir);
            let own_spelling = own.as_ref().map(|m| m.spelling.as_slice());
            let others = spellings.iter().any(|s| Some(&**s) != own_spelling);
            if let Some(m) = own {
                m.excused |= spellings.iter().any(|s| **s == *m.spelling);
            }
            others
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
            r.entries -= names.values().map(|s| s.len()).sum::<usize>();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::{core, Inval, ROOT};
    use crate::core::Core;
    use crate::errno::Errno;
    use crate::nodes::ROOT_INO;
    use vfs_core::{NewFile, Volume};

    fn name(s: &str) -> Name {
        Name::from_str_checked(s).unwrap()
    }

    /// LOOKUP by the kernel: found (true), a miss recorded for caching (false), or the error.
    fn look(c: &Core, parent: u64, n: &[u8]) -> Result<bool, Errno> {
        c.lookup_entry(ROOT, parent, n).map(|a| a.is_some())
    }

    fn epochs(rec: &crate::core::testing::Recorder) -> usize {
        rec.take().iter().filter(|i| **i == Inval::Epoch).count()
    }

    /// A miss is recorded once per spelling; the kernel creating that very spelling needs no
    /// epoch (its own dentry turns positive) and empties the record.
    #[test]
    fn a_create_under_the_missed_spelling_needs_no_epoch() {
        let (c, rec) = core();
        assert_eq!(look(&c, ROOT_INO, b"foo"), Ok(false));
        assert_eq!(look(&c, ROOT_INO, b"foo"), Ok(false));
        assert_eq!(c.neg.len(), 1);
        c.mknod(ROOT, ROOT_INO, b"foo", 0o100644, 0).unwrap();
        assert_eq!(c.neg.len(), 0);
        assert_eq!(epochs(&rec), 0);
        assert!(look(&c, ROOT_INO, b"FOO").unwrap());
        c.destroy();
        c.vol.check().unwrap();
    }

    /// Every request that makes a name, and a call on the volume itself, raises the epoch
    /// before it returns when another spelling of the name was answered missing.
    #[test]
    fn every_way_of_making_a_name_under_another_spelling_raises_the_epoch() {
        let (c, rec) = core();
        let src = c.mknod(ROOT, ROOT_INO, b"src", 0o100644, 0).unwrap();
        c.mknod(ROOT, ROOT_INO, b"mv", 0o100644, 0).unwrap();
        type Make<'a> = Box<dyn Fn(&Core, &[u8]) + 'a>;
        let ways: Vec<(&str, Make)> = vec![
            (
                "mknod",
                Box::new(|c, n| {
                    c.mknod(ROOT, ROOT_INO, n, 0o100644, 0).unwrap();
                }),
            ),
            (
                "mkdir",
                Box::new(|c, n| {
                    c.mkdir(ROOT, ROOT_INO, n, 0o755, 0).unwrap();
                }),
            ),
            (
                "create",
                Box::new(|c, n| {
                    let (a, h) = c.create(ROOT, ROOT_INO, n, 0o644, 0, libc::O_RDWR).unwrap();
                    c.release(a.ino, h);
                }),
            ),
            (
                "symlink",
                Box::new(|c, n| {
                    c.symlink(ROOT, ROOT_INO, n, b"src").unwrap();
                }),
            ),
            (
                "link",
                Box::new(|c, n| {
                    c.link(ROOT, src.ino, ROOT_INO, n).unwrap();
                }),
            ),
            (
                "rename",
                Box::new(|c, n| {
                    c.rename(ROOT, ROOT_INO, b"mv", ROOT_INO, n, 0).unwrap();
                }),
            ),
            (
                "volume",
                Box::new(|c, n| {
                    let s = String::from_utf8(n.to_vec()).unwrap();
                    c.vol.create(c.root, &name(&s), &NewFile::file()).unwrap();
                }),
            ),
        ];
        for (what, make) in ways {
            let missed = format!("{what}-x");
            assert_eq!(look(&c, ROOT_INO, missed.as_bytes()), Ok(false));
            rec.take();
            make(&c, missed.to_uppercase().as_bytes());
            assert_eq!(epochs(&rec), 1, "{what}");
            assert_eq!(c.neg.len(), 0, "{what}: the record is cleared");
            assert!(c
                .lookup_entry(ROOT, ROOT_INO, missed.as_bytes())
                .unwrap()
                .is_some());
        }
        // On the volume itself even the missed spelling needs the epoch: the kernel made
        // no dentry positive.
        assert_eq!(look(&c, ROOT_INO, b"direct"), Ok(false));
        rec.take();
        c.vol
            .create(c.root, &name("direct"), &NewFile::file())
            .unwrap();
        assert_eq!(epochs(&rec), 1);
        c.destroy();
        c.vol.check().unwrap();
    }

    /// A request that made the name under the missed spelling but then fails (its reply is an
    /// error, so the kernel's negative dentry stays) raises the epoch; one that succeeds
    /// does not.
    #[test]
    fn a_request_failing_after_making_the_name_raises_the_epoch() {
        let (c, rec) = core();
        for (n, replied) in [(&b"ok"[..], true), (b"failed", false)] {
            assert_eq!(look(&c, ROOT_INO, n), Ok(false));
            rec.take();
            let k = c.neg.kernel_makes(c.root, n);
            let s = String::from_utf8(n.to_vec()).unwrap();
            c.vol.create(c.root, &name(&s), &NewFile::file()).unwrap();
            if replied {
                k.replied();
            } else {
                drop(k);
            }
            assert_eq!(epochs(&rec), usize::from(!replied), "{s}");
            assert_eq!(c.neg.len(), 0);
        }
        c.destroy();
    }

    /// Unlinking an aliased name of a file that keeps other names keeps its node (the epoch
    /// drops the removed name's spellings); its last name still retires it.
    #[test]
    fn an_aliased_hard_link_loses_a_name_without_retiring() {
        let (c, rec) = core();
        let a = c.mknod(ROOT, ROOT_INO, b"keep", 0o100644, 0).unwrap();
        c.link(ROOT, a.ino, ROOT_INO, b"Name").unwrap();
        assert_eq!(c.lookup(ROOT_INO, b"NAME").unwrap().ino, a.ino);
        rec.take();
        assert!(c.unlink(ROOT, ROOT_INO, b"name").unwrap().is_empty());
        assert_eq!(rec.take(), vec![Inval::Attrs(a.ino), Inval::Epoch]);
        assert_eq!(c.nodes.live(a.ino), Ok(FileId(a.ino)));
        // The last name: retired as before (ESTALE, names dropped after the reply).
        c.lookup(ROOT_INO, b"KEEP").unwrap();
        assert!(!c.unlink(ROOT, ROOT_INO, b"keep").unwrap().is_empty());
        assert_eq!(c.nodes.live(a.ino), Err(Errno::ESTALE));
        c.destroy();
        c.vol.check().unwrap();
    }

    /// The race of the module docs: the engine says missing, the name is made before the
    /// miss is recorded; the miss is then refused (answered uncached).
    #[test]
    fn a_miss_overtaken_by_a_create_is_not_cached() {
        let (c, rec) = core();
        let t = c.neg.ticket(c.root).unwrap();
        c.vol
            .create(c.root, &name("FOO"), &NewFile::file())
            .unwrap();
        assert!(!c.neg.missed(t, c.root, &name("foo"), b"foo"));
        assert_eq!(c.neg.len(), 0);
        assert_eq!(epochs(&rec), 0, "nothing was recorded, nothing to drop");
        // A change in another directory of another shard does not refuse the miss.
        let d = c.mkdir(ROOT, ROOT_INO, b"d", 0o755, 0).unwrap();
        let t = c.neg.ticket(c.root).unwrap();
        if shard(FileId(d.ino)) != shard(c.root) {
            c.mknod(ROOT, d.ino, b"elsewhere", 0o100644, 0).unwrap();
        }
        assert!(c.neg.missed(t, c.root, &name("bar"), b"bar"));
        c.destroy();
    }

    /// Only "no such name" is recorded: invalid and too long names, a delete-pending name
    /// (EACCES), a lookup below a file, a stale parent are errors as before.
    #[test]
    fn only_missing_names_are_recorded() {
        let (c, _) = core();
        let f = c.mknod(ROOT, ROOT_INO, b"file", 0o100644, 0).unwrap();
        assert_eq!(look(&c, ROOT_INO, b"\xff"), Err(Errno::EINVAL));
        let long = vec![b'a'; 256];
        assert_eq!(look(&c, ROOT_INO, &long), Err(Errno::ENAMETOOLONG));
        assert!(look(&c, f.ino, b"x").is_err());
        assert_eq!(look(&c, 0xdead_0000_0001, b"x").unwrap_err(), Errno::ESTALE);
        assert_eq!(c.neg.len(), 0);
        c.destroy();
    }

    /// A removed directory's record goes (no epoch: nothing can be added to it); a directory
    /// whose lookups change raises the epoch only when it has recorded misses.
    #[test]
    fn directory_changes_and_removal() {
        let (c, rec) = core();
        let d = c.mkdir(ROOT, ROOT_INO, b"d", 0o755, 0).unwrap();
        let did = c.nodes.live(d.ino).unwrap();
        c.vol.set_case_sensitive(did, true).unwrap();
        assert_eq!(epochs(&rec), 0, "nothing recorded below d");
        assert_eq!(look(&c, d.ino, b"x"), Ok(false));
        c.vol.set_case_sensitive(did, false).unwrap();
        assert_eq!(epochs(&rec), 1);
        assert_eq!(c.neg.len(), 0);
        assert_eq!(look(&c, d.ino, b"x"), Ok(false));
        assert_eq!(look(&c, d.ino, b"y"), Ok(false));
        assert_eq!(look(&c, ROOT_INO, b"z"), Ok(false));
        assert_eq!(c.neg.len(), 3);
        c.rmdir(ROOT, ROOT_INO, b"D").unwrap();
        assert_eq!(c.neg.len(), 1, "d's two misses went with it");
        assert_eq!(epochs(&rec), 0);
        c.destroy();
        c.vol.check().unwrap();
    }

    /// The record holds at most MAX_ENTRIES spellings; the next miss raises the epoch and
    /// starts afresh.
    #[test]
    fn the_record_is_bounded() {
        let (c, rec) = core();
        for i in 0..MAX_ENTRIES {
            let n = format!("n{i}");
            assert_eq!(look(&c, ROOT_INO, n.as_bytes()), Ok(false));
        }
        assert_eq!(c.neg.len(), MAX_ENTRIES);
        assert_eq!(epochs(&rec), 0);
        assert_eq!(look(&c, ROOT_INO, b"one-more"), Ok(false));
        assert_eq!(epochs(&rec), 1);
        assert_eq!(c.neg.len(), 1);
        c.destroy();
    }

    /// A kernel without FUSE_NOTIFY_INC_EPOCH: misses are errors (uncached), as before.
    #[test]
    fn without_the_epoch_misses_are_not_cached() {
        #[derive(Debug)]
        struct Old;
        impl KernelCache for Old {
            fn attrs_now(&self, _: u64) {}
            fn entry_later(&self, _: u64, _: &[u8]) {}
            fn pages_later(&self, _: u64) {}
            fn pages_now(&self, _: u64) {}
            fn wait(&self) {}
            fn epoch_now(&self) {
                panic!("no epoch on this kernel");
            }
            fn has_epoch(&self) -> bool {
                false
            }
        }
        let vol = Arc::new(Volume::new(vfs_core::VolumeOptions::default()));
        let c = Core::new(vol, std::path::Path::new("/mnt/t"), Arc::new(Old), None);
        assert_eq!(look(&c, ROOT_INO, b"foo"), Err(Errno::ENOENT));
        assert_eq!(c.neg.len(), 0);
        c.mknod(ROOT, ROOT_INO, b"FOO", 0o100644, 0).unwrap();
        c.destroy();
    }

    /// At the end of the session the mount stops watching the volume, which lives on.
    #[test]
    fn the_watcher_goes_with_the_session() {
        let (c, rec) = core();
        assert_eq!(look(&c, ROOT_INO, b"later"), Ok(false));
        c.destroy();
        rec.take();
        c.vol
            .create(c.root, &name("LATER"), &NewFile::file())
            .unwrap();
        assert!(rec.take().is_empty());
    }
}
