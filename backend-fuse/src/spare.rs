//! The spare serving thread: what lets a serving thread drop a link's names itself.
//!
//! A setxattr that turns a directory into a junction (or back) must have the kernel drop the
//! directory's cached names before it replies (crate docs, "Caching" 4). The kernel's
//! FUSE_NOTIFY_INVAL_ENTRY takes the parent directory's inode lock, and a lookup, readdir or
//! name change in that directory holds the lock while it waits for its own answer. If the
//! serving thread sent the invalidation itself and such a request was queued behind it, the
//! invalidation would wait for the lock, the lock for the request, and the request for the
//! serving thread: a deadlock. So the invalidation thread used to send it and then the reply,
//! which costs a thread wake-up on every junction (about 16–27 µs, docs/BENCHMARKS.md).
//!
//! The mount now runs one serving thread more than it serves with, and that one is *parked*:
//! after replying to a request (any request: [`Spare::rest`] is called at the end of each),
//! the first thread that finds no thread parked stays in the handler, asleep, holding nothing
//! (its request is already answered). A serving thread may then send the invalidation inline
//! ([`Spare::enter`]) when
//! * no other thread is doing so (one at a time: the others use the invalidation thread), and
//! * no request is waiting to be read (poll(2) on the device), so no request already queued
//!   can hold the lock;
//!
//! and it arms a timer first. A request that takes the directory's lock in the microseconds
//! between the poll and the invalidation is the one case left: the invalidation then blocks,
//! the timer fires after [`STUCK_AFTER`], and the parked thread wakes, goes back to reading
//! the device and serves that request, which lets the lock go. It also hands the held reply
//! to the guard thread, which sends it after 200 ms if the invalidation is still stuck (the
//! lock chain of an `rmdir` of the same directory: the rmdir holds the parent and waits for
//! the directory, which the setxattr holds until its reply). No thread wakes on the fast
//! path: it costs one poll and one timer setting (the timer is not disarmed: it wakes the
//! parked thread once, after the last of a burst, for nothing).
//!
//! While an inline invalidation is in progress no thread parks, so a woken spare keeps
//! serving until the invalidation is done. A parked thread also wakes every
//! [`PARKED_LOOK`] to see whether the connection is gone (an unmount from outside), so that
//! the session can end; [`Spare::wake`] wakes it at once (`MountHandle::unmount`).

use parking_lot::Mutex;
use rustix::event::{PollFd, PollFlags};
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How long an inline invalidation may take before the parked thread is woken to serve.
/// An invalidation not held up by a lock takes a few microseconds.
pub(crate) const STUCK_AFTER: Duration = Duration::from_millis(1);

/// How often a parked thread looks whether the connection has ended.
const PARKED_LOOK: Duration = Duration::from_millis(200);

/// The reply an inline invalidation holds back, and when it began.
pub(crate) struct Held<R> {
    pub(crate) reply: R,
    pub(crate) since: Instant,
}

/// The spare thread's state, one per mount.
pub(crate) struct Spare<R> {
    /// Is there a spare thread (the mount runs one serving thread more)?
    on: bool,
    /// The timer armed around an inline invalidation (None: no timerfd, nothing inline).
    timer: Option<OwnedFd>,
    /// A duplicate of the session's /dev/fuse descriptor: pending requests, connection state.
    dev: OnceLock<Arc<OwnedFd>>,
    /// Is a thread parked?
    parked: AtomicBool,
    /// Is an inline invalidation in progress (the one-at-a-time token)?
    busy: AtomicBool,
    /// The reply held by the inline invalidation in progress.
    held: Mutex<Option<Held<R>>>,
    /// How many times the parked thread was woken because an invalidation was stuck.
    rescues: AtomicU64,
}

impl<R> std::fmt::Debug for Spare<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spare")
            .field("on", &self.on)
            .field("parked", &self.parked.load(Ordering::Relaxed))
            .field("busy", &self.busy.load(Ordering::Relaxed))
            .field("rescues", &self.rescues.load(Ordering::Relaxed))
            .finish()
    }
}

/// An inline invalidation in progress ([`Spare::enter`]); dropping it ends it.
pub(crate) struct Inline<'a, R> {
    spare: &'a Spare<R>,
}

impl<R> Drop for Inline<'_, R> {
    fn drop(&mut self) {
        // The timer is left running (one syscall less per junction): when it fires, the
        // parked thread finds nothing in progress and sleeps on; a burst of junctions keeps
        // re-arming it, so it fires once after the last.
        self.spare.held.lock().take();
        self.spare.busy.store(false, Ordering::Release);
    }
}

impl<R> Inline<'_, R> {
    /// Holds `reply` where the parked thread finds it if this invalidation gets stuck, and
    /// arms the timer.
    pub(crate) fn hold(&self, reply: R) {
        *self.spare.held.lock() = Some(Held {
            reply,
            since: Instant::now(),
        });
        self.spare.set_timer(STUCK_AFTER);
    }
}

impl<R> Spare<R> {
    /// A mount's spare state; `on`: the mount runs a spare thread.
    pub(crate) fn new(on: bool) -> Spare<R> {
        let timer = if on {
            match rustix::time::timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
            ) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::info!("timerfd_create: {e}; link names are dropped off-thread");
                    None
                }
            }
        } else {
            None
        };
        Spare {
            on: on && timer.is_some(),
            timer,
            dev: OnceLock::new(),
            parked: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            held: Mutex::new(None),
            rescues: AtomicU64::new(0),
        }
    }

    /// Does the mount run a spare thread (and so one fuser thread more)?
    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    /// Gives the spare the session's device, after its first request.
    pub(crate) fn connect(&self, dev: Arc<OwnedFd>) {
        let _ = self.dev.set(dev);
    }

    /// How many times a stuck inline invalidation woke the parked thread.
    pub(crate) fn rescues(&self) -> u64 {
        self.rescues.load(Ordering::Relaxed)
    }

    /// Starts an inline invalidation, if one is safe now (see the module docs); None: queue
    /// it to the invalidation thread instead.
    pub(crate) fn enter(&self) -> Option<Inline<'_, R>> {
        if !self.on {
            return None;
        }
        let dev = self.dev.get()?;
        if self
            .busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        let inline = Inline { spare: self };
        // A request already queued may hold the directory's lock.
        let mut fds = [PollFd::new(&**dev, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&Timespec::default())) {
            Ok(0) => Some(inline),
            _ => None,
        }
    }

    fn set_timer(&self, after: Duration) {
        let Some(t) = &self.timer else { return };
        let value = Timespec {
            tv_sec: after.as_secs() as _,
            tv_nsec: after.subsec_nanos() as _,
        };
        let spec = Itimerspec {
            it_interval: Timespec::default(),
            it_value: value,
        };
        if let Err(e) = rustix::time::timerfd_settime(t, TimerfdTimerFlags::empty(), &spec) {
            tracing::debug!("timerfd_settime: {e}");
        }
    }

    /// Wakes a parked thread now (an unmount: it looks at the connection).
    pub(crate) fn wake(&self) {
        if self.on {
            self.set_timer(Duration::from_nanos(1));
        }
    }

    /// Called by a serving thread after it has answered a request: parks it if no thread is
    /// parked (and no inline invalidation is in progress), until an inline invalidation gets
    /// stuck or the connection ends. Returns the reply a stuck invalidation held, for the
    /// guard thread.
    pub(crate) fn rest(&self) -> Option<Held<R>> {
        let dev = self.dev.get().filter(|_| self.on)?;
        if self.parked.load(Ordering::Relaxed) || self.busy.load(Ordering::Acquire) {
            return None;
        }
        if self
            .parked
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        // Parks are rare (once per mount, and after each rescue): look at the connection
        // first, so that a thread never parks on a session already over.
        let held = if connection_gone(dev) {
            None
        } else {
            self.park()
        };
        self.parked.store(false, Ordering::Release);
        held
    }

    /// The parked thread's sleep; see [`Spare::rest`].
    fn park(&self) -> Option<Held<R>> {
        let (Some(timer), Some(dev)) = (&self.timer, self.dev.get()) else {
            return None;
        };
        let look = Timespec {
            tv_sec: PARKED_LOOK.as_secs() as _,
            tv_nsec: PARKED_LOOK.subsec_nanos() as _,
        };
        loop {
            let mut fds = [PollFd::new(timer, PollFlags::IN)];
            let _ = rustix::event::poll(&mut fds, Some(&look));
            let mut ticks = [0u8; 8];
            // Reading clears the expiry (EAGAIN when there was none: nonblocking).
            let _ = rustix::io::read(timer, &mut ticks);
            if connection_gone(dev) {
                return None;
            }
            if self.busy.load(Ordering::Acquire) {
                let mut h = self.held.lock();
                if h.as_ref().is_some_and(|h| h.since.elapsed() >= STUCK_AFTER) {
                    self.rescues.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!("an inline invalidation is stuck; the spare thread serves");
                    return h.take();
                }
            }
        }
    }
}

/// Has the kernel ended the connection (the device reports an error)?
fn connection_gone(dev: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(dev, PollFlags::empty())];
    match rustix::event::poll(&mut fds, Some(&Timespec::default())) {
        Ok(_) => fds[0]
            .revents()
            .intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    /// A spare whose "device" is one end of a socket pair: readable when the other end wrote
    /// (a request waiting), hung up when it is closed (the connection gone).
    fn spare() -> (Arc<Spare<u32>>, UnixStream) {
        let (dev, peer) = UnixStream::pair().unwrap();
        let s = Arc::new(Spare::new(true));
        assert!(s.is_on());
        s.connect(Arc::new(OwnedFd::from(dev)));
        (s, peer)
    }

    #[test]
    fn nothing_is_inline_without_a_spare_or_a_device() {
        let off: Spare<u32> = Spare::new(false);
        assert!(!off.is_on());
        assert!(off.enter().is_none());
        assert!(off.rest().is_none());
        let unconnected: Spare<u32> = Spare::new(true);
        assert!(unconnected.enter().is_none(), "no device yet");
        assert!(unconnected.rest().is_none(), "no device yet: nothing parks");
    }

    #[test]
    fn one_inline_invalidation_at_a_time_and_none_while_a_request_waits() {
        let (s, mut peer) = spare();
        let first = s.enter().expect("inline when nothing waits");
        assert!(
            s.enter().is_none(),
            "a second one goes to the invalidation thread"
        );
        drop(first);
        assert!(s.enter().is_some(), "the token is back");
        peer.write_all(b"request").unwrap();
        assert!(
            s.enter().is_none(),
            "a queued request may hold the directory's lock"
        );
    }

    #[test]
    fn a_stuck_inline_invalidation_wakes_the_parked_thread_with_its_reply() {
        let (s, _peer) = spare();
        let s2 = s.clone();
        let parked = std::thread::spawn(move || {
            let t = Instant::now();
            (s2.rest().map(|h| h.reply), t.elapsed())
        });
        // Let it park, then get "stuck" well past STUCK_AFTER.
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            s.parked.load(Ordering::Relaxed),
            "the resting thread parked"
        );
        let inline = s.enter().unwrap();
        inline.hold(7);
        let (reply, waited) = parked.join().unwrap();
        assert_eq!(reply, Some(7), "the parked thread took the held reply");
        assert!(
            waited < PARKED_LOOK,
            "woken by the timer, not its periodic look"
        );
        assert_eq!(s.rescues(), 1);
        assert!(
            s.rest().is_none(),
            "nothing parks while the invalidation is in progress"
        );
        drop(inline);
        assert!(!s.busy.load(Ordering::Relaxed));
        assert!(s.held.lock().is_none());
    }

    #[test]
    fn a_quick_inline_invalidation_leaves_the_parked_thread_asleep() {
        let (s, peer) = spare();
        let s2 = s.clone();
        let parked = std::thread::spawn(move || s2.rest().map(|h| h.reply));
        std::thread::sleep(Duration::from_millis(50));
        for _ in 0..100 {
            let inline = s.enter().unwrap();
            inline.hold(1);
            drop(inline);
        }
        std::thread::sleep(Duration::from_millis(20));
        assert!(s.parked.load(Ordering::Relaxed), "still parked");
        assert_eq!(s.rescues(), 0);
        // The connection ends: the parked thread goes, with nothing to hand on.
        drop(peer);
        s.wake();
        assert_eq!(parked.join().unwrap(), None);
        assert!(!s.parked.load(Ordering::Relaxed));
    }

    #[test]
    fn a_thread_never_parks_on_a_connection_that_is_gone() {
        let (s, peer) = spare();
        drop(peer);
        let t = Instant::now();
        assert!(s.rest().is_none());
        assert!(t.elapsed() < PARKED_LOOK);
        assert!(!s.parked.load(Ordering::Relaxed));
    }
}
