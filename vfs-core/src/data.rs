//! File contents in fixed-size chunks, so that memory follows what was written: a sparse file
//! costs only the chunks that hold data (issue "sparse file data"; NTFS sparse files, MS-FSCC
//! FSCTL_SET_SPARSE). Unwritten ranges read as zeros.

use crate::error::{Error, Result};
use crate::types::MAX_FILE_SIZE;
use std::collections::BTreeMap;

/// Size of one chunk of file data.
pub const CHUNK_SIZE: usize = 64 * 1024;
const CHUNK: u64 = CHUNK_SIZE as u64;

/// The data of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileData {
    size: u64,
    chunks: BTreeMap<u64, Box<[u8]>>,
}

impl FileData {
    /// An empty file.
    pub fn new() -> FileData {
        FileData::default()
    }

    /// End of file.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes of memory holding data.
    pub fn allocated(&self) -> u64 {
        self.chunks.len() as u64 * CHUNK
    }

    /// Does the file hold any written byte?
    pub fn has_data(&self) -> bool {
        self.size > 0
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns the count (0 at or past end of file).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.size {
            return 0;
        }
        let len = (buf.len() as u64).min(self.size - offset) as usize;
        let buf = &mut buf[..len];
        buf.fill(0);
        let end = offset + len as u64;
        let first = offset / CHUNK;
        let last = (end - 1) / CHUNK;
        for (&index, chunk) in self.chunks.range(first..=last) {
            let chunk_start = index * CHUNK;
            let from = offset.max(chunk_start);
            let to = end.min(chunk_start + CHUNK);
            let src = &chunk[(from - chunk_start) as usize..(to - chunk_start) as usize];
            buf[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
        }
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
        let mut pos = offset;
        while pos < end {
            let index = pos / CHUNK;
            let chunk_start = index * CHUNK;
            let to = end.min(chunk_start + CHUNK);
            let src = &data[(pos - offset) as usize..(to - offset) as usize];
            let chunk = self
                .chunks
                .entry(index)
                .or_insert_with(|| vec![0u8; CHUNK_SIZE].into_boxed_slice());
            chunk[(pos - chunk_start) as usize..(to - chunk_start) as usize].copy_from_slice(src);
            pos = to;
        }
        self.size = self.size.max(end);
        Ok(data.len())
    }

    /// Sets end of file: truncating frees whole chunks past the end and zeroes the tail of the
    /// last one (so a later extension reads zeros); extending allocates nothing.
    pub fn set_size(&mut self, size: u64) -> Result<()> {
        if size > MAX_FILE_SIZE {
            return Err(Error::FileTooLarge);
        }
        if size < self.size {
            let keep = size.div_ceil(CHUNK);
            self.chunks.split_off(&keep);
            let tail = (size % CHUNK) as usize;
            if tail != 0 {
                if let Some(chunk) = self.chunks.get_mut(&(size / CHUNK)) {
                    chunk[tail..].fill(0);
                }
            }
        }
        self.size = size;
        Ok(())
    }
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
