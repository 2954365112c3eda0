//! Kernel cache invalidations (FUSE_NOTIFY_INVAL_ENTRY / _INODE).
//!
//! Invalidating a *name* makes the kernel take the parent directory's inode lock. A request
//! such as UNLINK, RENAME or CREATE arrives while the kernel holds that lock for the calling
//! syscall, so a handler that invalidated a name of the same directory before replying would
//! wait for a lock that is only released after its own reply: a deadlock. Name invalidations
//! therefore run on this module's own thread, after the reply. A handler that needs one done
//! before its syscall returns (setxattr turning a directory into a junction: no directory lock
//! is held for it) does it itself when that is safe ([`Invalidator::names_then`], module
//! `spare`), and otherwise hands its reply to this thread, which sends it right after the
//! queued invalidations ([`Invalidator::then`]): the serving thread goes on at once. A guard
//! thread sends such a reply anyway once it has waited [`SYNC_WAIT`], so that a rare lock
//! chain (another syscall holding the directory and waiting for the file this setxattr holds)
//! delays the reply instead of deadlocking.
//!
//! Invalidating an inode's *attributes* takes no sleeping lock in the kernel (a spinlock and
//! the attribute version counter), so handlers do that directly, before replying.
//!
//! Raising the connection's *epoch* (FUSE_NOTIFY_INC_EPOCH, Linux 6.16 and later) takes no lock
//! either: it increments a counter, and every dentry of the mount stamped with an older epoch
//! (negative ones included) fails its next revalidation, so the kernel asks with LOOKUP again
//! (fs/fuse/dir.c, `fuse_dentry_revalidate`). fuser 0.18's `Notifier` has no call for it, so
//! the 16-byte notification (a `fuse_out_header` with `unique` 0 and the notification code in
//! `error`) is written to a duplicate of the session's /dev/fuse descriptor. A kernel without
//! it refuses the code (EINVAL); that is found out once, at mount ([`Invalidator::probe_epoch`]).

use crate::core::KernelCache;
use crate::nodes::KernelName;
use crate::spare::Spare;
use fuser::{INodeNo, Notifier};
use std::collections::VecDeque;
use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

/// How long a handler waits for a name invalidation it needs before replying anyway.
const SYNC_WAIT: Duration = Duration::from_millis(200);

enum Job {
    Entry(u64, Box<[u8]>),
    Pages(u64),
    /// Run once the jobs before it are done ([`Invalidator::wait`], [`Invalidator::then`]).
    Then(Arc<Deferred>),
}

/// A reply held back until the invalidations queued before it are done. Whichever comes
/// first sends it: the invalidation thread, or the guard thread after [`SYNC_WAIT`].
struct Deferred(parking_lot::Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl Deferred {
    fn new(f: Box<dyn FnOnce() + Send>) -> Arc<Deferred> {
        Arc::new(Deferred(parking_lot::Mutex::new(Some(f))))
    }

    fn run(&self) {
        let f = self.0.lock().take();
        if let Some(f) = f {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
                tracing::error!("deferred reply panicked");
            }
        }
    }
}

/// The deferred replies, oldest first, with the time each is sent at the latest.
#[derive(Default)]
struct Guard {
    queue: parking_lot::Mutex<Deferrals>,
    wake: parking_lot::Condvar,
}

#[derive(Default)]
struct Deferrals {
    entries: VecDeque<(Instant, Arc<Deferred>)>,
    /// The guard thread sleeps with nothing to look at: a new entry wakes it.
    idle: bool,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Guard")
    }
}

/// The invalidation thread's queue, and direct attribute invalidation.
#[derive(Debug, Clone)]
pub(crate) struct Invalidator {
    notifier: Arc<OnceLock<Notifier>>,
    tx: Sender<Job>,
    /// A duplicate of the session's /dev/fuse descriptor, for FUSE_NOTIFY_INC_EPOCH.
    dev: Arc<OnceLock<OwnedFd>>,
    /// Did the kernel take FUSE_NOTIFY_INC_EPOCH when [`Invalidator::probe_epoch`] tried it?
    epoch: Arc<AtomicBool>,
    /// Deferred replies not yet known to be sent, for the guard thread.
    guard: Arc<Guard>,
    /// The spare serving thread that makes inline name invalidations safe (module `spare`).
    spare: Arc<Spare<Arc<Deferred>>>,
}

/// The notification code of FUSE_NOTIFY_INC_EPOCH (include/uapi/linux/fuse.h, protocol 7.44).
const FUSE_NOTIFY_INC_EPOCH: i32 = 8;

impl Invalidator {
    /// Starts the invalidation thread. It ends when every Invalidator is dropped. `spare`:
    /// the mount runs a spare serving thread (module `spare`), so that a junction's names
    /// may be dropped inline; `extra`: serving threads it adds while the machine is idle
    /// (0 or 1, only with the spare).
    pub(crate) fn start(
        notifier: Arc<OnceLock<Notifier>>,
        spare: bool,
        extra: usize,
    ) -> std::io::Result<Invalidator> {
        let (tx, rx) = mpsc::channel::<Job>();
        let n = notifier.clone();
        std::thread::Builder::new()
            .name("ntlinkfs-inval".into())
            .spawn(move || run(n, rx))?;
        let guard = Arc::new(Guard::default());
        let g = Arc::downgrade(&guard);
        std::thread::Builder::new()
            .name("ntlinkfs-guard".into())
            .spawn(move || run_guard(g))?;
        Ok(Invalidator {
            notifier,
            tx,
            dev: Arc::new(OnceLock::new()),
            epoch: Arc::new(AtomicBool::new(false)),
            guard,
            spare: Arc::new(Spare::new(spare, extra)),
        })
    }

    /// Fuser threads the mount needs beyond its serving threads: the spare, and the one
    /// that serves only while the machine is idle (module `spare`).
    pub(crate) fn threads_beyond(&self) -> usize {
        self.spare.threads_beyond()
    }

    /// How many times a stuck inline invalidation woke the spare thread.
    pub(crate) fn spare_rescues(&self) -> u64 {
        self.spare.rescues()
    }

    /// Wakes the parked spare thread to look at the connection (after an unmount).
    pub(crate) fn wake_spare(&self) {
        self.spare.wake()
    }

    /// Gives the invalidator the session's device (a duplicate of its descriptor) and finds
    /// out whether the kernel takes FUSE_NOTIFY_INC_EPOCH, by sending one: raising the epoch
    /// of a fresh mount only makes the kernel look its root's children up again.
    pub(crate) fn probe_epoch(&self, dev: OwnedFd) {
        match dev.try_clone() {
            Ok(d) => self.spare.connect(Arc::new(d)),
            Err(e) => tracing::debug!("dup of /dev/fuse: {e}; link names are dropped off-thread"),
        }
        let _ = self.dev.set(dev);
        let ok = self.send_epoch();
        if !ok {
            tracing::info!(
                "this kernel has no FUSE_NOTIFY_INC_EPOCH: missing names are not cached"
            );
        }
        self.epoch.store(ok, Ordering::Relaxed);
    }

    fn send_epoch(&self) -> bool {
        let Some(fd) = self.dev.get() else {
            return false;
        };
        // struct fuse_out_header { uint32_t len; int32_t error; uint64_t unique; }
        let mut msg = [0u8; 16];
        msg[0..4].copy_from_slice(&16u32.to_ne_bytes());
        msg[4..8].copy_from_slice(&FUSE_NOTIFY_INC_EPOCH.to_ne_bytes());
        // SAFETY: writes 16 bytes from a live stack buffer to a descriptor this struct owns.
        let n = unsafe { libc::write(fd.as_raw_fd(), msg.as_ptr().cast(), msg.len()) };
        if n != msg.len() as isize {
            tracing::debug!("FUSE_NOTIFY_INC_EPOCH: {}", std::io::Error::last_os_error());
            return false;
        }
        true
    }

    /// Makes every cached name of the mount fail its next revalidation, now.
    pub(crate) fn epoch_now(&self) {
        if self.epoch.load(Ordering::Relaxed) {
            self.send_epoch();
        }
    }

    /// Drops the kernel's cached attributes of a node, now (safe inside any handler).
    pub(crate) fn attrs_now(&self, ino: u64) {
        if let Some(n) = self.notifier.get() {
            if let Err(e) = n.inval_inode(INodeNo(ino), -1, 0) {
                tracing::debug!(ino, "inval_inode: {e}");
            }
        }
    }

    /// Drops a node's cached data pages (and attributes), now: only where no request of the
    /// node can be waiting for this thread (see `KernelCache::pages_now`).
    pub(crate) fn pages_now(&self, ino: u64) {
        if let Some(n) = self.notifier.get() {
            if let Err(e) = n.inval_inode(INodeNo(ino), 0, 0) {
                tracing::debug!(ino, "inval_inode: {e}");
            }
        }
    }

    /// Fills a node's cached pages with `data` at `offset`, now (see
    /// `KernelCache::store_pages` for where that is safe).
    pub(crate) fn store_pages(&self, ino: u64, offset: u64, data: &[u8]) {
        if let Some(n) = self.notifier.get() {
            if let Err(e) = n.store(INodeNo(ino), offset, data) {
                tracing::debug!(ino, "notify store: {e}");
            }
        }
    }

    /// Queues dropping a cached name (after the reply).
    pub(crate) fn entry_later(&self, parent: u64, name: &[u8]) {
        let _ = self.tx.send(Job::Entry(parent, name.into()));
    }

    /// Queues dropping a node's cached data pages.
    pub(crate) fn pages_later(&self, ino: u64) {
        let _ = self.tx.send(Job::Pages(ino));
    }

    /// Waits (a short while at most) until every queued invalidation is done.
    pub(crate) fn wait(&self) {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        let done = Deferred::new(Box::new(move || {
            let _ = done_tx.try_send(());
        }));
        // The waiter keeps its own time limit: no guard entry.
        if self.tx.send(Job::Then(done)).is_ok() {
            let _ = done_rx.recv_timeout(SYNC_WAIT);
        }
    }

    /// Runs `reply` once every invalidation queued before it is done, on the invalidation
    /// thread, or after [`SYNC_WAIT`] at most, on the guard thread; returns at once. This is
    /// [`Invalidator::wait`] without a thread waiting: the handler's thread goes on serving.
    pub(crate) fn then(&self, reply: Box<dyn FnOnce() + Send>) {
        let d = Deferred::new(reply);
        self.guard_at(Instant::now() + SYNC_WAIT, d.clone());
        if let Err(mpsc::SendError(Job::Then(d))) = self.tx.send(Job::Then(d)) {
            // The invalidation thread is gone (end of session): nothing is left to wait for.
            d.run();
        }
    }

    /// Has the guard thread send `d` at `at` if nothing has by then.
    fn guard_at(&self, at: Instant, d: Arc<Deferred>) {
        let mut q = self.guard.queue.lock();
        q.entries.push_back((at, d));
        if q.idle {
            q.idle = false;
            self.guard.wake.notify_one();
        }
    }

    /// Drops `names` from the kernel's cache, then runs `reply`; on this thread when that is
    /// safe (module `spare`), else as [`Invalidator::then`] after queueing them. Either way
    /// the guard thread sends the reply after [`SYNC_WAIT`] if the invalidation is stuck.
    pub(crate) fn names_then(&self, names: Vec<KernelName>, reply: Box<dyn FnOnce() + Send>) {
        let (Some(n), Some(inline)) = (self.notifier.get(), self.spare.enter()) else {
            for (p, name) in &names {
                self.entry_later(*p, name);
            }
            return self.then(reply);
        };
        let d = Deferred::new(reply);
        inline.hold(d.clone());
        for (p, name) in &names {
            if let Err(e) = n.inval_entry(INodeNo(*p), OsStr::from_bytes(name)) {
                tracing::debug!("invalidation: {e}");
            }
        }
        drop(inline);
        d.run();
    }

    /// Called by a serving thread after each request it answered: the spare thread parks
    /// here (module `spare`). A stuck invalidation's reply it was woken for goes to the guard.
    pub(crate) fn rest(&self) {
        if let Some(h) = self.spare.rest() {
            self.guard_at(h.since + SYNC_WAIT, h.reply);
        }
    }
}

impl KernelCache for Invalidator {
    fn attrs_now(&self, ino: u64) {
        Invalidator::attrs_now(self, ino)
    }
    fn entry_later(&self, parent: u64, name: &[u8]) {
        Invalidator::entry_later(self, parent, name)
    }
    fn pages_later(&self, ino: u64) {
        Invalidator::pages_later(self, ino)
    }
    fn pages_now(&self, ino: u64) {
        Invalidator::pages_now(self, ino)
    }
    fn store_pages(&self, ino: u64, offset: u64, data: &[u8]) {
        Invalidator::store_pages(self, ino, offset, data)
    }
    fn wait(&self) {
        Invalidator::wait(self)
    }
    fn then(&self, reply: Box<dyn FnOnce() + Send>) {
        Invalidator::then(self, reply)
    }
    fn epoch_now(&self) {
        Invalidator::epoch_now(self)
    }
    fn has_epoch(&self) -> bool {
        self.epoch.load(Ordering::Relaxed)
    }
    fn names_then(&self, names: Vec<KernelName>, reply: Box<dyn FnOnce() + Send>) {
        Invalidator::names_then(self, names, reply)
    }
    fn rest(&self) {
        Invalidator::rest(self)
    }
}

fn run(notifier: Arc<OnceLock<Notifier>>, rx: Receiver<Job>) {
    while let Ok(job) = rx.recv() {
        let r = match (job, notifier.get()) {
            (Job::Then(d), _) => {
                d.run();
                Ok(())
            }
            // No session yet: the kernel has cached nothing.
            (_, None) => Ok(()),
            (Job::Entry(parent, name), Some(n)) => {
                n.inval_entry(INodeNo(parent), OsStr::from_bytes(&name))
            }
            (Job::Pages(ino), Some(n)) => n.inval_inode(INodeNo(ino), 0, 0),
        };
        if let Err(e) = r {
            // ENOTCONN after unmount, or nothing cached: nothing to do either way.
            tracing::debug!("invalidation: {e}");
        }
    }
}

/// How often the guard thread looks at the deferred replies while there are any: a stuck
/// invalidation's reply goes out between [`SYNC_WAIT`] and this much later.
const GUARD_TICK: Duration = Duration::from_millis(50);

/// The guard thread: sends each deferred reply the invalidation thread has not sent within
/// [`SYNC_WAIT`]. While replies are deferred it looks every [`GUARD_TICK`] (not at each
/// reply's time: a burst of junctions would wake it once per junction, taking a CPU from the
/// threads doing the work), dropping the ones already sent; while none are, it sleeps until
/// [`Invalidator::then`] wakes it (and once a second, to see whether the session is over).
fn run_guard(guard: Weak<Guard>) {
    while let Some(g) = guard.upgrade() {
        let mut q = g.queue.lock();
        while q.entries.front().is_some_and(|(_, d)| d.0.lock().is_none()) {
            q.entries.pop_front();
        }
        let now = Instant::now();
        let mut late = Vec::new();
        while q.entries.front().is_some_and(|&(at, _)| at <= now) {
            late.extend(q.entries.pop_front().map(|(_, d)| d));
        }
        if !late.is_empty() {
            drop(q);
            for d in late {
                if d.0.lock().is_some() {
                    tracing::debug!(
                        "an invalidation took longer than its wait limit; replying anyway"
                    );
                }
                d.run();
            }
            continue;
        }
        if q.entries.is_empty() {
            q.idle = true;
            g.wake.wait_for(&mut q, Duration::from_secs(1));
            q.idle = false;
        } else {
            g.wake.wait_for(&mut q, GUARD_TICK);
        }
    }
}
