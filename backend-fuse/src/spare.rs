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
//!
//! **Widening when the machine is idle** ([`Spare::new`]'s `extra`, `MountOptions::
//! widen_when_idle`). One serving thread is fastest on a busy machine and two are on an idle
//! one (docs/BENCHMARKS.md, "Issue 17, seventh round": on a quiet 2-CPU machine, 2 threads
//! served the store's name operations about twice as fast as 1; with a CPU hog beside them,
//! 1 thread was 1.2–1.6× faster). So the mount may run one more thread still, parked as a
//! second parked thread while the machine is busy. The parked threads' periodic look reads
//! the machine's idle time (`/proc/stat`, at most every [`SAMPLE_EVERY`]): when at least
//! [`WIDEN_AT`] of all CPU time was idle since the last reading, one parked thread leaves to
//! serve; when less than [`NARROW_BELOW`] was, the next serving thread to finish a request
//! parks again. One thread always stays parked: the spare of the inline invalidations.

use parking_lot::Mutex;
use rustix::event::{PollFd, PollFlags};
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// How long an inline invalidation may take before the parked thread is woken to serve.
/// An invalidation not held up by a lock takes a few microseconds.
pub(crate) const STUCK_AFTER: Duration = Duration::from_millis(1);

/// How often a parked thread looks whether the connection has ended (and, when the mount
/// widens, at the machine's idle time).
const PARKED_LOOK: Duration = Duration::from_millis(200);

/// The shortest window the idle time is measured over.
const SAMPLE_EVERY: Duration = Duration::from_millis(150);

/// Widen (one more thread serves) when at least this share of all CPU time was idle. On the
/// quiet 2-CPU machine measured, the store workload left 56–65% idle with one or two threads
/// serving; beside a CPU hog 4–7%, beside a hog busy 30% of the time 40–46% (a tie between
/// the widths), at 60% 23–27% (one thread ahead). docs/BENCHMARKS.md, "Issue 17, seventh
/// round".
pub(crate) const WIDEN_AT: f64 = 0.50;

/// Narrow again (back to one thread fewer) when less than this share was idle. Between the
/// two the width stays as it is, so that the second thread's own CPU time does not flip it.
pub(crate) const NARROW_BELOW: f64 = 0.40;

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
    /// How many threads are parked.
    parked: AtomicUsize,
    /// Threads the mount may add while the machine is idle (0 or 1): parked while it is busy.
    extra: usize,
    /// Is the mount widened (its extra thread serving)?
    wide: AtomicBool,
    /// The machine's CPU time at the last reading (module docs, widening).
    sampled: Mutex<Option<(Instant, CpuTimes)>>,
    /// How many times the mount widened (diagnostics).
    widenings: AtomicU64,
    /// Where the CPU time is read from ([`CpuTimes::read`]; tests give their own).
    read_times: fn() -> Option<CpuTimes>,
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
            .field("wide", &self.wide.load(Ordering::Relaxed))
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
    /// A mount's spare state; `on`: the mount runs a spare thread; `extra`: threads it adds
    /// while the machine is idle (0 or 1; only with the spare).
    pub(crate) fn new(on: bool, extra: usize) -> Spare<R> {
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
        let on = on && timer.is_some();
        Spare {
            on,
            timer,
            dev: OnceLock::new(),
            parked: AtomicUsize::new(0),
            extra: if on { extra.min(1) } else { 0 },
            wide: AtomicBool::new(false),
            sampled: Mutex::new(None),
            widenings: AtomicU64::new(0),
            read_times: CpuTimes::read,
            busy: AtomicBool::new(false),
            held: Mutex::new(None),
            rescues: AtomicU64::new(0),
        }
    }

    /// Does the mount run a spare thread (and so one fuser thread more)?
    #[cfg(test)]
    fn is_on(&self) -> bool {
        self.on
    }

    /// Fuser threads beyond the mount's serving threads: the spare, and the one that serves
    /// only while the machine is idle.
    pub(crate) fn threads_beyond(&self) -> usize {
        usize::from(self.on) + self.extra
    }

    /// How many times the mount widened (its extra thread left to serve).
    #[cfg(test)]
    fn widenings(&self) -> u64 {
        self.widenings.load(Ordering::Relaxed)
    }

    /// How many threads should be parked now: the spare, and the extra thread while the
    /// machine is busy.
    fn parked_wanted(&self) -> usize {
        1 + usize::from(self.extra > 0 && !self.wide.load(Ordering::Relaxed))
    }

    /// Reads the machine's idle time and sets the width (module docs, widening), at most once
    /// per [`SAMPLE_EVERY`] whichever parked thread asks.
    fn sample(&self) {
        if self.extra == 0 {
            return;
        }
        let Some(mut last) = self.sampled.try_lock() else {
            return;
        };
        let now = Instant::now();
        if last.is_some_and(|(at, _)| now.duration_since(at) < SAMPLE_EVERY) {
            return;
        }
        let Some(times) = (self.read_times)() else {
            // No /proc/stat: stay as wide as the mount is (narrow unless it widened).
            return;
        };
        if let Some((_, before)) = last.replace((now, times)) {
            if let Some(idle) = times.idle_since(&before) {
                self.set_width(idle);
            }
        }
    }

    /// The width for an idle share `idle` of the CPU time since the last reading.
    fn set_width(&self, idle: f64) {
        let wide = self.wide.load(Ordering::Relaxed);
        if !wide && idle >= WIDEN_AT {
            self.wide.store(true, Ordering::Relaxed);
            let n = self.widenings.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::debug!(
                "machine {:.0}% idle: one more thread serves (widening {n})",
                idle * 100.0
            );
        } else if wide && idle < NARROW_BELOW {
            self.wide.store(false, Ordering::Relaxed);
            tracing::debug!("machine {:.0}% idle: one thread fewer serves", idle * 100.0);
        }
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

    /// Called by a serving thread after it has answered a request: parks it if fewer threads
    /// are parked than wanted (the spare, and the extra thread while the machine is busy) and
    /// no inline invalidation is in progress, until an inline invalidation gets stuck, the
    /// mount widens or the connection ends. Returns the reply a stuck invalidation held, for
    /// the guard thread.
    pub(crate) fn rest(&self) -> Option<Held<R>> {
        let dev = self.dev.get().filter(|_| self.on)?;
        let wanted = self.parked_wanted();
        if self.parked.load(Ordering::Relaxed) >= wanted || self.busy.load(Ordering::Acquire) {
            return None;
        }
        if self
            .parked
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < wanted).then_some(n + 1)
            })
            .is_err()
        {
            return None;
        }
        // Parks are rare (once per mount, after each rescue, and when the machine gets busy):
        // look at the connection first, so that a thread never parks on a session already
        // over.
        if connection_gone(dev) {
            self.parked.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        self.park()
    }

    /// The parked thread's sleep; see [`Spare::rest`]. Counts itself out of the parked
    /// threads when it leaves.
    fn park(&self) -> Option<Held<R>> {
        match self.parked_until() {
            Unparked::Rescue(held) => {
                self.parked.fetch_sub(1, Ordering::AcqRel);
                held
            }
            Unparked::Gone => {
                self.parked.fetch_sub(1, Ordering::AcqRel);
                None
            }
            // Its leaving already took it off the count.
            Unparked::Widened => None,
        }
    }

    /// [`Spare::park`]'s loop.
    fn parked_until(&self) -> Unparked<R> {
        let (Some(timer), Some(dev)) = (&self.timer, self.dev.get()) else {
            return Unparked::Gone;
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
                return Unparked::Gone;
            }
            if self.busy.load(Ordering::Acquire) {
                let mut h = self.held.lock();
                if h.as_ref().is_some_and(|h| h.since.elapsed() >= STUCK_AFTER) {
                    self.rescues.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!("an inline invalidation is stuck; the spare thread serves");
                    return Unparked::Rescue(h.take());
                }
            }
            self.sample();
            // Widened: one parked thread leaves to serve (the last one never does).
            let wanted = self.parked_wanted();
            if self
                .parked
                .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                    (n > wanted).then_some(n - 1)
                })
                .is_ok()
            {
                return Unparked::Widened;
            }
        }
    }
}

/// Why a parked thread woke for good ([`Spare::parked_until`]).
enum Unparked<R> {
    /// An inline invalidation is stuck: serve, with the reply it held (if still there).
    Rescue(Option<Held<R>>),
    /// The connection has ended (or there is no timer or device to park on).
    Gone,
    /// The mount widened: this thread serves, and has already counted itself out of the
    /// parked threads (so that no second one leaves for the same widening).
    Widened,
}

/// The machine's CPU time so far, in clock ticks (the first line of `/proc/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CpuTimes {
    /// Idle and iowait.
    idle: u64,
    /// All of it (user, nice, system, idle, iowait, irq, softirq, steal).
    total: u64,
}

impl CpuTimes {
    fn read() -> Option<CpuTimes> {
        use std::io::Read;
        let mut buf = [0u8; 256];
        let n = std::fs::File::open("/proc/stat")
            .and_then(|mut f| f.read(&mut buf))
            .ok()?;
        CpuTimes::parse(&buf[..n])
    }

    /// Parses the aggregate `cpu` line of `/proc/stat` (proc(5)); None if it is not there.
    pub(crate) fn parse(stat: &[u8]) -> Option<CpuTimes> {
        let line = stat.split(|&b| b == b'\n').next()?;
        let line = std::str::from_utf8(line).ok()?;
        let mut f = line.split_ascii_whitespace();
        if f.next()? != "cpu" {
            return None;
        }
        let v: Vec<u64> = f.take(8).map(str::parse).collect::<Result<_, _>>().ok()?;
        if v.len() < 4 {
            return None;
        }
        Some(CpuTimes {
            idle: v[3] + v.get(4).copied().unwrap_or(0),
            total: v.iter().sum(),
        })
    }

    /// The idle share of the CPU time since `before`; None when no tick passed.
    pub(crate) fn idle_since(&self, before: &CpuTimes) -> Option<f64> {
        let total = self.total.checked_sub(before.total)?;
        let idle = self.idle.checked_sub(before.idle)?;
        (total > 0).then(|| idle.min(total) as f64 / total as f64)
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
        let s = Arc::new(Spare::new(true, 0));
        assert!(s.is_on());
        s.connect(Arc::new(OwnedFd::from(dev)));
        (s, peer)
    }

    #[test]
    fn nothing_is_inline_without_a_spare_or_a_device() {
        let off: Spare<u32> = Spare::new(false, 0);
        assert!(!off.is_on());
        assert!(off.enter().is_none());
        assert!(off.rest().is_none());
        let unconnected: Spare<u32> = Spare::new(true, 0);
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
            s.parked.load(Ordering::Relaxed) == 1,
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
        assert_eq!(s.parked.load(Ordering::Relaxed), 1, "still parked");
        assert_eq!(s.rescues(), 0);
        // The connection ends: the parked thread goes, with nothing to hand on.
        drop(peer);
        s.wake();
        assert_eq!(parked.join().unwrap(), None);
        assert_eq!(s.parked.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_idle_share_comes_from_the_cpu_line_of_proc_stat() {
        let a = CpuTimes::parse(b"cpu  100 5 50 800 20 1 2 0 0 0\ncpu0 50 2 25 400 10 0 1 0 0 0\n")
            .unwrap();
        assert_eq!(
            a,
            CpuTimes {
                idle: 820,
                total: 978
            }
        );
        let b = CpuTimes::parse(b"cpu  150 5 70 900 20 1 2 0 0 0\nintr 1 2 3\n").unwrap();
        assert_eq!(b.idle_since(&a), Some(100.0 / 170.0));
        assert_eq!(a.idle_since(&a), None, "no tick passed");
        assert_eq!(a.idle_since(&b), None, "going backwards is no reading");
        assert_eq!(
            CpuTimes::parse(b"cpu0 1 2 3 4\n"),
            None,
            "not the aggregate line"
        );
        assert_eq!(CpuTimes::parse(b"cpu  1 2\n"), None, "too short");
        assert_eq!(CpuTimes::parse(b"cpu  1 2 x 4\n"), None);
        assert_eq!(CpuTimes::parse(b""), None);
        // The machine's own, where there is one.
        if std::path::Path::new("/proc/stat").exists() {
            assert!(CpuTimes::read().is_some());
        }
    }

    #[test]
    fn the_width_changes_only_past_its_thresholds() {
        let s: Spare<u32> = Spare::new(true, 1);
        assert_eq!(
            s.parked_wanted(),
            2,
            "narrow: the spare and the extra thread parked"
        );
        s.set_width(NARROW_BELOW + 0.05);
        assert!(
            !s.wide.load(Ordering::Relaxed),
            "between the thresholds: as it was"
        );
        s.set_width(WIDEN_AT);
        assert!(s.wide.load(Ordering::Relaxed));
        assert_eq!(s.parked_wanted(), 1, "wide: only the spare parked");
        s.set_width(NARROW_BELOW + 0.05);
        assert!(
            s.wide.load(Ordering::Relaxed),
            "between the thresholds: as it was"
        );
        s.set_width(NARROW_BELOW - 0.01);
        assert!(!s.wide.load(Ordering::Relaxed));
        assert_eq!(s.widenings(), 1);
        let fixed: Spare<u32> = Spare::new(true, 0);
        fixed.set_width(1.0);
        assert_eq!(
            fixed.parked_wanted(),
            1,
            "no extra thread: always the spare alone"
        );
        assert_eq!(Spare::<u32>::new(true, 1).threads_beyond(), 2);
        assert_eq!(
            Spare::<u32>::new(false, 1).threads_beyond(),
            0,
            "no widening without the spare"
        );
    }

    /// CPU time the tests' spares read: idle or busy as `IDLE` says, a second's ticks per
    /// reading.
    static IDLE: AtomicBool = AtomicBool::new(false);
    static TICKS: AtomicU64 = AtomicU64::new(0);
    fn fake_times() -> Option<CpuTimes> {
        let t = TICKS.fetch_add(100, Ordering::Relaxed) + 100;
        static IDLE_TICKS: AtomicU64 = AtomicU64::new(0);
        let idle = if IDLE.load(Ordering::Relaxed) {
            IDLE_TICKS.fetch_add(90, Ordering::Relaxed) + 90
        } else {
            IDLE_TICKS.fetch_add(5, Ordering::Relaxed) + 5
        };
        Some(CpuTimes { idle, total: t })
    }

    #[test]
    fn the_extra_thread_serves_while_the_machine_is_idle_and_parks_when_it_is_busy() {
        let (dev, peer) = UnixStream::pair().unwrap();
        let mut s: Spare<u32> = Spare::new(true, 1);
        s.read_times = fake_times;
        s.connect(Arc::new(OwnedFd::from(dev)));
        let s = Arc::new(s);
        let parked = |s: &Arc<Spare<u32>>| s.parked.load(Ordering::Relaxed);
        let wait_for = |s: &Arc<Spare<u32>>, n: usize| {
            let t = Instant::now();
            while parked(s) != n {
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "{n} parked never came"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        // Busy: both resting threads park.
        IDLE.store(false, Ordering::Relaxed);
        let spawn = |s: &Arc<Spare<u32>>| {
            let s = s.clone();
            std::thread::spawn(move || s.rest().map(|h| h.reply))
        };
        let a = spawn(&s);
        wait_for(&s, 1);
        let b = spawn(&s);
        wait_for(&s, 2);
        assert!(
            s.rest().is_none(),
            "a third finds both places taken and serves on"
        );
        assert_eq!(parked(&s), 2);
        // Idle: within a few looks one of them leaves to serve, the spare stays.
        IDLE.store(true, Ordering::Relaxed);
        wait_for(&s, 1);
        assert!(s.wide.load(Ordering::Relaxed));
        assert_eq!(s.widenings(), 1);
        let mut threads = vec![a, b];
        let t = Instant::now();
        let i = loop {
            if let Some(i) = threads.iter().position(|h| h.is_finished()) {
                break i;
            }
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "the leaving thread never returned"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(
            threads.swap_remove(i).join().unwrap(),
            None,
            "it serves: no reply held"
        );
        assert!(s.rest().is_none(), "wide: a resting thread serves on");
        assert_eq!(parked(&s), 1);
        // Busy again: the next thread to rest parks as the extra one.
        IDLE.store(false, Ordering::Relaxed);
        let t = Instant::now();
        while s.wide.load(Ordering::Relaxed) {
            assert!(t.elapsed() < Duration::from_secs(5), "never narrowed");
            std::thread::sleep(Duration::from_millis(5));
        }
        let c = spawn(&s);
        wait_for(&s, 2);
        // The connection ends: every parked thread goes.
        drop(peer);
        s.wake();
        wait_for(&s, 0);
        assert_eq!(c.join().unwrap(), None);
        assert_eq!(threads.pop().unwrap().join().unwrap(), None);
    }

    #[test]
    fn a_thread_never_parks_on_a_connection_that_is_gone() {
        let (s, peer) = spare();
        drop(peer);
        let t = Instant::now();
        assert!(s.rest().is_none());
        assert!(t.elapsed() < PARKED_LOOK);
        assert_eq!(s.parked.load(Ordering::Relaxed), 0);
    }
}
