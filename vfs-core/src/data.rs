//! File contents in fixed-size chunks, so that memory follows what was written: a sparse file
//! costs only the chunks that hold data (issue "sparse file data"; NTFS sparse files, MS-FSCC
//! FSCTL_SET_SPARSE). Unwritten ranges read as zeros.

use crate::error::{Error, Result};
use crate::types::MAX_FILE_SIZE;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt;

/// Size of one chunk of file data.
pub const CHUNK_SIZE: usize = 64 * 1024;
const CHUNK: u64 = CHUNK_SIZE as u64;

/// The data of one file. An empty file holds no allocation and costs one pointer in its inode
/// (the engine benchmark's ≤ 200 bytes per empty file, docs/ENGINE-BENCH.md); `inner` is
/// `None` exactly when the size is 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileData {
    inner: Option<Box<Inner>>,
}

/// Granularity of the written-range record: one bit per 4 KiB page of a chunk, so that a
/// sparse file's allocation can be counted in clusters of 4 KiB to 64 KiB (A8).
pub const PAGE: u64 = 4096;
const PAGES_PER_CHUNK: u64 = CHUNK / PAGE;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Inner {
    size: u64,
    chunks: BTreeMap<u64, Chunk>,
    /// The data has left the file record (A8): set when the file first grows past the
    /// resident limit, kept when it shrinks (as NTFS does: ntfs-3g still reports a whole
    /// cluster for a file cut back to 100 bytes), cleared only with the data at size 0.
    non_resident: bool,
    /// Written pages over all chunks (the sum of the chunks' bits), so that a sparse file's
    /// allocation in 4 KiB clusters is known without a walk over its chunks.
    pages: u64,
}

/// One chunk: its bytes and which of its pages were written (bit i = page i).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Chunk {
    written: u16,
    bytes: Bytes,
}

/// Freed chunk memory kept for the next full chunk, process-wide, by default at most this
/// many bytes (1,024 chunks; [`set_free_chunks_limit`] changes it). Why: a full chunk taken
/// fresh from the allocator is memory the kernel has to fault in and clear page by page on
/// first touch, and glibc hands freed chunks back to the system (heap trimming), so every
/// newly written file paid that again; on a FUSE writeback mount the faults were a third of
/// the serving thread's time (docs/BENCHMARKS.md, "Small writes and the writeback cache
/// (item 4)"). Bounded so that deleting a large file still returns its memory past this
/// amount: 64 MiB is about 0.3 % of a 24 GiB machine.
pub const DEFAULT_FREE_CHUNKS_BYTES: usize = 64 << 20;

/// The free list: full-size ([`CHUNK_SIZE`]) buffers only, each holding the stale bytes of
/// the file it came from, so every taker overwrites or zeroes all of it before it is read
/// ([`Bytes::fill_full`]). Process-wide rather than per volume so that a file's data needs
/// no pointer back to its volume (an empty file's cost stays one pointer).
static FREE_CHUNKS: Mutex<FreeChunks> = parking_lot::const_mutex(FreeChunks {
    kept: Vec::new(),
    limit: DEFAULT_FREE_CHUNKS_BYTES / CHUNK_SIZE,
});

struct FreeChunks {
    kept: Vec<Box<[u8]>>,
    /// At most this many chunks are kept; changed only under the lock, so `kept.len() <=
    /// limit` whenever the lock is free.
    limit: usize,
}

/// A freed full chunk, if one is kept. Its bytes are another file's old data: the caller
/// must overwrite every byte.
fn take_full_chunk() -> Option<Box<[u8]>> {
    FREE_CHUNKS.lock().kept.pop()
}

/// Bytes of freed chunk memory kept for reuse now, and the most that may be kept.
pub fn free_chunk_bytes() -> (usize, usize) {
    let f = FREE_CHUNKS.lock();
    (f.kept.len() * CHUNK_SIZE, f.limit * CHUNK_SIZE)
}

/// Sets how much freed chunk memory is kept for reuse (rounded down to whole chunks; 0 keeps
/// none, so freed file data goes straight back to the allocator); what is kept beyond it is
/// handed back at once.
pub fn set_free_chunks_limit(bytes: usize) {
    let excess = {
        let mut f = FREE_CHUNKS.lock();
        f.limit = bytes / CHUNK_SIZE;
        let keep = f.kept.len().min(f.limit);
        f.kept.split_off(keep)
    };
    // Freed outside the lock: handing back 64 MiB should not hold up a concurrent writer.
    drop(excess);
}

/// Hands every kept free chunk back to the allocator (for a memory measurement or under
/// memory pressure; later full chunks are kept again up to the limit).
pub fn release_free_chunks() {
    let kept = std::mem::take(&mut FREE_CHUNKS.lock().kept);
    drop(kept);
}

/// A chunk's bytes: at most [`CHUNK_SIZE`]; a full-size buffer goes to the free list when
/// dropped (truncation, deletion, a file's data replaced), while the list has room.
#[derive(Default, PartialEq, Eq)]
struct Bytes(Box<[u8]>);

impl Bytes {
    /// A full chunk holding `head` at 0, `src` at `lo` (`head.len() <= lo`) and zeros
    /// everywhere else, in a kept free buffer if there is one. Each byte is written once
    /// either way: a fresh buffer is built by appending (no zeroing before the copy), a kept
    /// one is overwritten in place, its old contents never left readable.
    fn full_with(head: &[u8], lo: usize, src: &[u8]) -> Bytes {
        let hi = lo + src.len();
        debug_assert!(head.len() <= lo && hi <= CHUNK_SIZE);
        Bytes::fill_full(take_full_chunk(), head, lo, src)
    }

    /// [`Bytes::full_with`] in `kept` (a free buffer of [`CHUNK_SIZE`] bytes holding old
    /// data) or, without one, in fresh memory.
    fn fill_full(kept: Option<Box<[u8]>>, head: &[u8], lo: usize, src: &[u8]) -> Bytes {
        let hi = lo + src.len();
        if let Some(mut b) = kept {
            debug_assert_eq!(b.len(), CHUNK_SIZE);
            b[..head.len()].copy_from_slice(head);
            b[head.len()..lo].fill(0);
            b[lo..hi].copy_from_slice(src);
            b[hi..].fill(0);
            return Bytes(b);
        }
        Bytes(laid_out(head, lo, src, CHUNK_SIZE))
    }
}

/// `len` fresh bytes holding `head` at 0, `src` at `lo` (`head.len() <= lo`, `lo +
/// src.len() <= len`) and zeros elsewhere, each byte written once (no zeroing before the
/// copy).
fn laid_out(head: &[u8], lo: usize, src: &[u8], len: usize) -> Box<[u8]> {
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(head);
    v.resize(lo, 0);
    v.extend_from_slice(src);
    v.resize(len, 0);
    v.into_boxed_slice()
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Clone for Bytes {
    fn clone(&self) -> Bytes {
        if self.0.len() == CHUNK_SIZE {
            // A snapshot copy of a full chunk reuses kept memory too.
            Bytes::full_with(&self.0, CHUNK_SIZE, &[])
        } else {
            Bytes(self.0.clone())
        }
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        if self.0.len() != CHUNK_SIZE {
            return;
        }
        let b = std::mem::take(&mut self.0);
        let mut free = FREE_CHUNKS.lock();
        if free.kept.len() < free.limit {
            free.kept.push(b);
        } else {
            drop(free);
            drop(b);
        }
    }
}

impl fmt::Debug for Bytes {
    // The length only: a chunk's 64 KiB of bytes would drown any assertion message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({})", self.0.len())
    }
}

/// Bits of the pages `[lo, hi)` of a chunk (page indexes within the chunk).
fn page_bits(lo: u64, hi: u64) -> u16 {
    debug_assert!(lo < hi && hi <= PAGES_PER_CHUNK);
    let ones = if hi - lo == 16 {
        u16::MAX
    } else {
        (1u16 << (hi - lo)) - 1
    };
    ones << lo
}

/// Clusters of `per` pages each (1, 2, 4, 8 or 16) that hold a written page, in a chunk
/// whose written pages are `mask`, restricted to the pages in `bits`.
fn clusters_in(mask: u16, bits: u16, per: u64) -> u64 {
    let group = if per == 16 {
        u16::MAX
    } else {
        (1u16 << per) - 1
    };
    (0..PAGES_PER_CHUNK / per)
        .filter(|i| {
            let g = group << (i * per);
            bits & g != 0 && mask & g != 0
        })
        .count() as u64
}

/// Pages per cluster; `cluster` is a power of two in [`PAGE`]..=[`CHUNK_SIZE`] (checked by
/// `VolumeOptions::validate`).
fn per_cluster(cluster: u64) -> u64 {
    (cluster / PAGE).clamp(1, PAGES_PER_CHUNK)
}

impl FileData {
    /// An empty file.
    pub fn new() -> FileData {
        FileData::default()
    }

    /// End of file.
    pub fn size(&self) -> u64 {
        self.inner.as_ref().map_or(0, |i| i.size)
    }

    /// Bytes of memory holding data, counted in whole chunks (a chunk may hold less: only
    /// what was written into it).
    pub fn allocated(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.chunks.len() as u64 * CHUNK)
    }

    /// Has the data left the file record (A8)? False for an empty file.
    pub fn non_resident(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.non_resident)
    }

    /// Moves the data out of the file record (A8); nothing to do for an empty file.
    pub fn make_non_resident(&mut self) {
        if let Some(i) = self.inner.as_mut() {
            i.non_resident = true;
        }
    }

    /// Clusters of `cluster` bytes that hold a written page: what a sparse file allocates
    /// (A8). Costs one step per allocated chunk.
    pub fn written_clusters(&self, cluster: u64) -> u64 {
        if cluster == PAGE {
            // The common case, a default 4 KiB cluster: one page is one cluster.
            return self.inner.as_ref().map_or(0, |i| i.pages);
        }
        self.written_clusters_from(0, cluster)
    }

    /// [`FileData::written_clusters`] counting only the clusters at or after byte `from`
    /// (rounded down to its cluster): the part a truncation to `from` can release.
    pub fn written_clusters_from(&self, from: u64, cluster: u64) -> u64 {
        let Some(inner) = &self.inner else { return 0 };
        let per = per_cluster(cluster);
        let first_page = from / cluster * per;
        let first = first_page / PAGES_PER_CHUNK;
        inner
            .chunks
            .range(first..)
            .map(|(&index, c)| {
                let lo = first_page.saturating_sub(index * PAGES_PER_CHUNK);
                if lo >= PAGES_PER_CHUNK {
                    0
                } else {
                    clusters_in(c.written, page_bits(lo, PAGES_PER_CHUNK), per)
                }
            })
            .sum()
    }

    /// Clusters of `cluster` bytes touched by the range `[offset, offset + len)` that hold no
    /// written page yet: what writing the range adds to a sparse file's allocation (A8).
    /// Costs one step per chunk of the range.
    pub fn unwritten_clusters_in(&self, offset: u64, len: u64, cluster: u64) -> u64 {
        if len == 0 {
            return 0;
        }
        let per = per_cluster(cluster);
        let end = offset.saturating_add(len);
        // Whole clusters: a cluster touched by the range counts once.
        let first_page = offset / cluster * per;
        let end_page = end.div_ceil(cluster) * per;
        let chunks = self.inner.as_ref().map(|i| &i.chunks);
        let mut n = 0;
        let mut page = first_page;
        while page < end_page {
            let index = page / PAGES_PER_CHUNK;
            let lo = page % PAGES_PER_CHUNK;
            let hi = (end_page - index * PAGES_PER_CHUNK).min(PAGES_PER_CHUNK);
            let bits = page_bits(lo, hi);
            let mask = chunks.and_then(|c| c.get(&index)).map_or(0, |c| c.written);
            n += clusters_in(!0, bits, per) - clusters_in(mask, bits, per);
            page = (index + 1) * PAGES_PER_CHUNK;
        }
        n
    }

    /// Writes zeros into the pages of `[offset, end)` that hold no written byte, so that the
    /// range is allocated (fallocate on a sparse file, A8); written pages keep their bytes.
    /// Only the part below end of file is filled (the caller extends the file first).
    pub fn fill_holes(&mut self, offset: u64, end: u64) {
        let end = end.min(self.size());
        let zeros = [0u8; PAGE as usize];
        let mut page = offset / PAGE;
        while page * PAGE < end {
            let index = page * PAGE / CHUNK;
            let bit = 1u16 << (page % PAGES_PER_CHUNK);
            let written = self
                .inner
                .as_ref()
                .and_then(|i| i.chunks.get(&index))
                .is_some_and(|c| c.written & bit != 0);
            if !written {
                let at = (page * PAGE).max(offset);
                let to = ((page + 1) * PAGE).min(end);
                // Below end of file and below MAX_FILE_SIZE: the write cannot fail.
                let _ = self.write(at, &zeros[..(to - at) as usize]);
            }
            page += 1;
        }
    }

    /// Does the file hold any written byte?
    pub fn has_data(&self) -> bool {
        self.size() > 0
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns the count (0 at or past end of file).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        let Some(inner) = &self.inner else { return 0 };
        if offset >= inner.size {
            return 0;
        }
        let len = (buf.len() as u64).min(inner.size - offset) as usize;
        let buf = &mut buf[..len];
        let end = offset + len as u64;
        let first = offset / CHUNK;
        let last = (end - 1) / CHUNK;
        // Only the holes are zeroed (each byte of `buf` is written once): chunks come in
        // offset order and do not overlap, so `filled` only moves forward.
        let mut filled = 0;
        for (&index, chunk) in inner.chunks.range(first..=last) {
            let chunk = &chunk.bytes;
            let chunk_start = index * CHUNK;
            let from = offset.max(chunk_start);
            // A chunk holds what was written into it; past its length it reads as zeros.
            let to = end.min(chunk_start + chunk.len() as u64);
            if from >= to {
                continue;
            }
            let src = &chunk[(from - chunk_start) as usize..(to - chunk_start) as usize];
            let at = (from - offset) as usize;
            buf[filled..at].fill(0);
            buf[at..at + src.len()].copy_from_slice(src);
            filled = at + src.len();
        }
        buf[filled..].fill(0);
        len
    }

    /// Writes `data` at `offset`, extending the file as needed.
    /// Past NTFS's maximum file size → [`Error::FileTooLarge`], and nothing changes.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<usize> {
        let end = offset
            .checked_add(data.len() as u64)
            .filter(|&e| e <= MAX_FILE_SIZE)
            .ok_or(Error::FileTooLarge)?;
        if data.is_empty() {
            return Ok(0);
        }
        let inner = self.inner.get_or_insert_with(Default::default);
        let mut pos = offset;
        while pos < end {
            let index = pos / CHUNK;
            let chunk_start = index * CHUNK;
            let to = end.min(chunk_start + CHUNK);
            let src = &data[(pos - offset) as usize..(to - offset) as usize];
            let (lo, hi) = ((pos - chunk_start) as usize, (to - chunk_start) as usize);
            let chunk = inner.chunks.entry(index).or_default();
            let bits = page_bits(lo as u64 / PAGE, (hi as u64).div_ceil(PAGE));
            inner.pages += u64::from((bits & !chunk.written).count_ones());
            chunk.written |= bits;
            let chunk = &mut chunk.bytes;
            if chunk.len() < hi {
                grow_with(chunk, lo, src);
            } else {
                chunk[lo..hi].copy_from_slice(src);
            }
            pos = to;
        }
        inner.size = inner.size.max(end);
        Ok(data.len())
    }

    /// Sets end of file: truncating frees whole chunks past the end and zeroes the tail of the
    /// last one (so a later extension reads zeros); extending allocates nothing.
    pub fn set_size(&mut self, size: u64) -> Result<()> {
        if size > MAX_FILE_SIZE {
            return Err(Error::FileTooLarge);
        }
        if size == 0 {
            // Truncating to nothing frees every chunk: back to the empty representation.
            self.inner = None;
            return Ok(());
        }
        let inner = self.inner.get_or_insert_with(Default::default);
        if size < inner.size {
            let keep = size.div_ceil(CHUNK);
            let gone = inner.chunks.split_off(&keep);
            inner.pages -= gone
                .values()
                .map(|c| u64::from(c.written.count_ones()))
                .sum::<u64>();
            let tail = (size % CHUNK) as usize;
            if tail != 0 {
                if let Some(chunk) = inner.chunks.get_mut(&(size / CHUNK)) {
                    // Pages wholly past the new end are no longer written (A8).
                    let keep_pages = (tail as u64).div_ceil(PAGE);
                    if keep_pages < PAGES_PER_CHUNK {
                        let cut = chunk.written & page_bits(keep_pages, PAGES_PER_CHUNK);
                        inner.pages -= u64::from(cut.count_ones());
                        chunk.written &= !cut;
                    }
                    let chunk = &mut chunk.bytes;
                    if tail < chunk.len() {
                        chunk[tail..].fill(0);
                    }
                }
            }
        }
        inner.size = size;
        Ok(())
    }

    /// The allocated chunks in offset order: (chunk index, its bytes: at most [`CHUNK_SIZE`],
    /// the rest of the chunk reads as zeros). Holes are absent; an image stores only these
    /// (issue "test drives that start ready").
    pub fn allocated_chunks(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.inner
            .iter()
            .flat_map(|i| i.chunks.iter())
            .map(|(&index, chunk)| (index, &chunk.bytes[..]))
    }
}

/// Makes `chunk`, shorter than `lo + src.len()`, hold `src` at `lo`. A new chunk gets exactly
/// what is written (a 300-byte file costs 300 bytes, not a whole chunk: issue 7, the package
/// store workload); a chunk that grows at least doubles, up to [`CHUNK_SIZE`], so sequential
/// small writes copy little. Bytes between the old end and `lo` are zeros. A chunk that
/// becomes full takes kept free memory when there is some ([`DEFAULT_FREE_CHUNKS_BYTES`]).
fn grow_with(chunk: &mut Bytes, lo: usize, src: &[u8]) {
    let hi = lo + src.len();
    let len = if chunk.is_empty() {
        hi
    } else {
        hi.max(chunk.len() * 2).min(CHUNK_SIZE)
    };
    let head = &chunk[..lo.min(chunk.len())];
    if len == CHUNK_SIZE {
        *chunk = Bytes::full_with(head, lo, src);
        return;
    }
    *chunk = Bytes(laid_out(head, lo, src, len));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_4gib_file_with_1mib_written_costs_about_1mib() {
        let mut d = FileData::new();
        d.set_size(4 << 30).unwrap();
        d.write(2 << 30, &vec![7u8; 1 << 20]).unwrap();
        assert_eq!(d.size(), 4 << 30);
        assert!(d.allocated() <= (1 << 20) + 2 * CHUNK, "{}", d.allocated());
        let mut b = [1u8; 16];
        assert_eq!(d.read(1 << 30, &mut b), 16);
        assert_eq!(b, [0u8; 16]);
        assert_eq!(d.read(2 << 30, &mut b), 16);
        assert_eq!(b, [7u8; 16]);
    }

    /// Issue 7: a small file holds only its bytes; growing it in small steps, with gaps,
    /// and overwriting inside it reads back exactly, zeros in the gaps.
    #[test]
    fn small_writes_grow_a_chunk_and_read_back() {
        let mut d = FileData::new();
        d.write(0, &[3u8; 300]).unwrap();
        assert_eq!(d.allocated_chunks().next().unwrap().1.len(), 300);
        let mut model = vec![3u8; 300];
        for (at, len, byte) in [
            (300usize, 4096usize, 4u8),
            (9000, 10, 5),
            (100, 50, 6),
            (65_000, 2000, 7),
        ] {
            d.write(at as u64, &vec![byte; len]).unwrap();
            if model.len() < at + len {
                model.resize(at + len, 0);
            }
            model[at..at + len].fill(byte);
        }
        let mut out = vec![9u8; model.len() + 10];
        assert_eq!(d.read(0, &mut out), model.len());
        assert_eq!(&out[..model.len()], &model[..]);
        for (i, c) in d.allocated_chunks() {
            assert!(c.len() <= CHUNK_SIZE, "chunk {i} has {} bytes", c.len());
        }
        d.set_size(350).unwrap();
        d.set_size(1000).unwrap();
        let mut out = vec![9u8; 1000];
        assert_eq!(d.read(0, &mut out), 1000);
        assert_eq!(&out[..350], &model[..350]);
        assert!(out[350..].iter().all(|&b| b == 0));
    }

    #[test]
    fn write_across_chunk_boundaries_reads_back() {
        let mut d = FileData::new();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        d.write(12345, &data).unwrap();
        let mut out = vec![0u8; data.len() + 100];
        let n = d.read(12345, &mut out);
        assert_eq!(n, data.len());
        assert_eq!(&out[..n], &data[..]);
        let mut head = vec![9u8; 12345];
        assert_eq!(d.read(0, &mut head), 12345);
        assert!(head.iter().all(|&b| b == 0));
    }

    #[test]
    fn truncate_then_extend_reads_zeros() {
        let mut d = FileData::new();
        d.write(0, &[5u8; 200_000]).unwrap();
        d.set_size(100).unwrap();
        assert_eq!(d.allocated(), CHUNK);
        d.set_size(200_000).unwrap();
        let mut out = vec![1u8; 200_000];
        assert_eq!(d.read(0, &mut out), 200_000);
        assert!(out[..100].iter().all(|&b| b == 5));
        assert!(out[100..].iter().all(|&b| b == 0));
    }

    #[test]
    fn past_max_file_size_is_refused_and_nothing_changes() {
        let mut d = FileData::new();
        assert_eq!(d.write(MAX_FILE_SIZE, &[1]), Err(Error::FileTooLarge));
        assert_eq!(d.write(u64::MAX, &[1]), Err(Error::FileTooLarge));
        assert_eq!(d.set_size(MAX_FILE_SIZE + 1), Err(Error::FileTooLarge));
        assert_eq!(d.size(), 0);
        assert_eq!(d.allocated(), 0);
        d.write(MAX_FILE_SIZE - 1, &[1]).unwrap();
        assert_eq!(d.size(), MAX_FILE_SIZE);
    }

    /// A8: the page count kept on the side equals a walk over the chunks, for every
    /// cluster size, through writes, truncations and hole filling.
    #[test]
    fn written_page_count_matches_a_walk() {
        let mut d = FileData::new();
        let walk = |d: &FileData, c: u64| d.written_clusters_from(0, c);
        let steps: [(u64, usize); 6] = [
            (0, 10),
            (4095, 2),
            (1 << 20, 70_000),
            (10 << 20, 1),
            (3 * 65536 + 8192, 4096),
            (5000, 100_000),
        ];
        for (at, len) in steps {
            d.write(at, &vec![1; len]).unwrap();
            assert_eq!(d.written_clusters(PAGE), walk(&d, PAGE));
        }
        for cut in [10 << 20, 1_100_000, 70_000, 4097, 0] {
            d.set_size(cut).unwrap();
            assert_eq!(d.written_clusters(PAGE), walk(&d, PAGE), "cut to {cut}");
        }
        d.write(0, b"x").unwrap();
        d.set_size(1 << 20).unwrap();
        d.fill_holes(100_000, 300_000);
        assert_eq!(d.written_clusters(PAGE), walk(&d, PAGE));
        assert_eq!(d.written_clusters(65536), 1 + 4);
    }

    /// A kept free buffer holds another file's bytes: a chunk built in it shows only what
    /// was written into the new chunk, zeros elsewhere (deterministic: the buffer is handed
    /// in, not taken from the process-wide list other tests share).
    #[test]
    fn a_kept_buffer_shows_none_of_its_old_bytes() {
        let old = || vec![0xABu8; CHUNK_SIZE].into_boxed_slice();
        // A small piece in the middle of a hole.
        let b = Bytes::fill_full(Some(old()), &[], 40_000, &[7u8; 100]);
        assert!(b[..40_000].iter().all(|&x| x == 0));
        assert!(b[40_000..40_100].iter().all(|&x| x == 7));
        assert!(b[40_100..].iter().all(|&x| x == 0));
        // A growing chunk: its old head, a gap, the new piece.
        let b = Bytes::fill_full(Some(old()), &[1u8; 300], 1000, &[2u8; 60_000]);
        assert!(b[..300].iter().all(|&x| x == 1));
        assert!(b[300..1000].iter().all(|&x| x == 0));
        assert!(b[1000..61_000].iter().all(|&x| x == 2));
        assert!(b[61_000..].iter().all(|&x| x == 0));
        // Fresh memory gives the same bytes.
        assert!(Bytes::fill_full(None, &[1u8; 300], 1000, &[2u8; 60_000]) == b);
        assert_eq!(b.len(), CHUNK_SIZE);
    }

    /// Freed chunks are reused for new files: a new file's small write into a hole (its
    /// chunk full size because the write ends at the chunk's end) and reads elsewhere in
    /// the chunk see zeros, never the old file's bytes; its written pages and clusters are
    /// exactly the ones written (A8), whatever buffer the chunk came from.
    #[test]
    fn reused_chunks_never_leak_old_data_and_count_exactly() {
        for round in 0..4 {
            let mut old = FileData::new();
            old.write(0, &vec![0xCDu8; 32 * CHUNK_SIZE]).unwrap();
            if round % 2 == 0 {
                drop(old);
            } else {
                old.set_size(1).unwrap();
            }
            let mut d = FileData::new();
            d.set_size(10 * CHUNK).unwrap();
            // Chunk 3: 100 bytes ending at its end; chunk 5: one byte at its end, one whole
            // page at its start is not written.
            d.write(4 * CHUNK - 100, &[9u8; 100]).unwrap();
            d.write(6 * CHUNK - 1, &[8u8]).unwrap();
            assert_eq!(d.allocated(), 2 * CHUNK);
            assert_eq!(d.written_clusters(PAGE), 2);
            assert_eq!(d.written_clusters(16 * PAGE), 2);
            assert_eq!(d.unwritten_clusters_in(3 * CHUNK, CHUNK, PAGE), 15);
            let mut out = vec![1u8; 10 * CHUNK_SIZE];
            assert_eq!(d.read(0, &mut out), out.len());
            let (at3, at5) = (4 * CHUNK_SIZE - 100, 6 * CHUNK_SIZE - 1);
            for (i, &b) in out.iter().enumerate() {
                let want = if (at3..at3 + 100).contains(&i) {
                    9
                } else if i == at5 {
                    8
                } else {
                    0
                };
                assert_eq!(b, want, "round {round}, byte {i}");
            }
            for (_, c) in d.allocated_chunks() {
                assert_eq!(c.len(), CHUNK_SIZE);
            }
            // A copy (volume snapshots clone file data) reads the same.
            assert!(d.clone() == d);
        }
    }

    /// The free list keeps at most its limit, however much is freed, and a lower limit hands
    /// the excess back at once. One test for both: the limit is process-wide, and tests run
    /// in parallel (the others only see more or less reuse, never other bytes).
    #[test]
    fn the_free_list_is_bounded() {
        let mut d = FileData::new();
        d.write(0, &vec![1u8; 2 * DEFAULT_FREE_CHUNKS_BYTES])
            .unwrap();
        drop(d);
        let (kept, limit) = free_chunk_bytes();
        assert_eq!(limit, DEFAULT_FREE_CHUNKS_BYTES);
        assert!(kept <= limit, "{kept} kept");
        set_free_chunks_limit(3 * CHUNK_SIZE + 5);
        let (kept, limit) = free_chunk_bytes();
        assert_eq!(limit, 3 * CHUNK_SIZE);
        assert!(kept <= limit, "{kept} kept");
        let mut d = FileData::new();
        d.write(0, &vec![1u8; 10 * CHUNK_SIZE]).unwrap();
        drop(d);
        assert!(free_chunk_bytes().0 <= 3 * CHUNK_SIZE);
        set_free_chunks_limit(0);
        assert_eq!(free_chunk_bytes(), (0, 0));
        let mut d = FileData::new();
        d.write(0, &vec![1u8; 2 * CHUNK_SIZE]).unwrap();
        drop(d);
        assert_eq!(free_chunk_bytes(), (0, 0));
        set_free_chunks_limit(DEFAULT_FREE_CHUNKS_BYTES);
        release_free_chunks();
        assert!(free_chunk_bytes().0 <= DEFAULT_FREE_CHUNKS_BYTES);
    }

    /// Reads zero exactly the holes between and around chunks, also when the buffer held
    /// other bytes, and short chunks read as zeros past their length.
    #[test]
    fn reads_zero_the_holes_around_chunks() {
        let mut d = FileData::new();
        d.write(100, &[5u8; 10]).unwrap(); // a short chunk 0
        d.write(2 * CHUNK + 7, &[6u8; 3]).unwrap();
        d.set_size(4 * CHUNK).unwrap();
        let mut out = vec![0xEEu8; 4 * CHUNK_SIZE];
        assert_eq!(d.read(50, &mut out), 4 * CHUNK_SIZE - 50);
        for (i, &b) in out[..4 * CHUNK_SIZE - 50].iter().enumerate() {
            let at = i + 50;
            let want = if (100..110).contains(&at) {
                5
            } else if (2 * CHUNK_SIZE + 7..2 * CHUNK_SIZE + 10).contains(&at) {
                6
            } else {
                0
            };
            assert_eq!(b, want, "byte {at}");
        }
        assert!(out[4 * CHUNK_SIZE - 50..].iter().all(|&b| b == 0xEE));
    }

    #[test]
    fn read_past_end_returns_zero() {
        let mut d = FileData::new();
        d.write(0, b"abc").unwrap();
        let mut b = [0u8; 8];
        assert_eq!(d.read(3, &mut b), 0);
        assert_eq!(d.read(u64::MAX, &mut b), 0);
        assert_eq!(d.read(1, &mut b), 2);
    }
}
