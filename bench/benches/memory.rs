//! One-shot measurement: builds a tree of 1,000,000 empty files (1,000 directories of 1,000
//! files) in one thread, times it, and counts the heap the volume holds with a counting global
//! allocator (requested bytes of live allocations, vector capacity included).
//!
//! The names' share is measured, not guessed: the same tree is built twice, with names of
//! `SHORT` and of `LONG` UTF-16 units, and the bytes per file are fitted as
//! `base + per_unit × units`. `base` is the cost of an empty file with its names excluded;
//! `per_unit × units` is what the names cost.
//!
//! The tree is the one `ntlinkfs bench --workloads memory` builds
//! ([`ntlinkfs_bench::workloads::empty_file_tree`]).
//!
//! `cargo bench -p ntlinkfs-bench --bench memory` (FILES=100000 for a quicker run). Figures and the
//! ≤ 200 bytes-per-file target: docs/ENGINE-BENCH.md.

use ntlinkfs_bench::workloads::empty_file_tree;
use ntlinkfs_bench::workloads::nt_name;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use vfs_core::{Name, Volume, VolumeOptions};

/// Counts live heap bytes (requested sizes) on top of the system allocator.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SHORT: usize = 4;
const LONG: usize = 16;

/// Resident set size of this process in bytes (Linux), for a cross-check of the count.
fn rss() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

struct Built {
    files: usize,
    seconds: f64,
    heap: usize,
    rss: Option<usize>,
}

/// A name of exactly `units` UTF-16 units, unique for `i` below 10^units.
fn name(prefix: char, i: usize, units: usize) -> Name {
    nt_name(&format!("{prefix}{i:0width$}", width = units - 1))
}

fn build(files: usize, units: usize) -> (Volume, Built) {
    let per_dir = 1_000.min(files);
    let dirs = files.div_ceil(per_dir);
    // Names are made before the clock and the counter start, and freed after the count.
    let dir_names: Vec<Name> = (0..dirs).map(|d| name('d', d, units)).collect();
    let file_names: Vec<Name> = (0..per_dir).map(|f| name('f', f, units)).collect();
    let rss_before = rss();
    let heap_before = LIVE.load(Ordering::Relaxed);
    let t = Instant::now();
    let vol = Volume::new(VolumeOptions::default());
    let made = empty_file_tree(
        &vol,
        files,
        per_dir,
        |d| &dir_names[d],
        |_, j| &file_names[j],
    )
    .unwrap();
    let seconds = t.elapsed().as_secs_f64();
    let heap = LIVE.load(Ordering::Relaxed) - heap_before;
    let rss = rss().zip(rss_before).map(|(a, b)| a.saturating_sub(b));
    assert_eq!(vol.file_count(), made + dirs + 1);
    (
        vol,
        Built {
            files: made,
            seconds,
            heap,
            rss,
        },
    )
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let files: usize = std::env::var("FILES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let (vol, short) = build(files, SHORT);
    vol.check().unwrap();
    drop(vol);
    let (vol, mut long) = build(files, LONG);
    drop(vol);
    // The allocator keeps what the first tree freed, so only the first RSS figure means much.
    long.rss = None;

    let per_file = |b: &Built| b.heap as f64 / b.files as f64;
    let per_unit = (per_file(&long) - per_file(&short)) / (LONG - SHORT) as f64;
    let base = per_file(&short) - per_unit * SHORT as f64;
    for (units, b) in [(SHORT, &short), (LONG, &long)] {
        println!(
            "memory: {} empty files, names of {units} units: built in {:.3} s = {:.0} creates/s; \
             heap {} bytes = {:.1} bytes/file{}",
            b.files,
            b.seconds,
            b.files as f64 / b.seconds,
            b.heap,
            per_file(b),
            match b.rss {
                Some(r) => format!(" (RSS grew {:.1} bytes/file)", r as f64 / b.files as f64),
                None => String::new(),
            }
        );
    }
    println!(
        "memory: names cost {per_unit:.2} bytes per UTF-16 unit per file \
         ({:.1} bytes/file for {SHORT}-unit names); \
         an empty file with its names excluded costs {base:.1} bytes (target <= 200)",
        per_unit * SHORT as f64
    );
}
