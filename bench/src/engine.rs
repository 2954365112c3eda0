//! The same workloads against the engine in process, through [`vfs_core::Volume`]'s API: what
//! ntlinkfs costs before any kernel round trip. Each step calls what a FUSE request for the
//! same system call ends in (lookup by parent and name, stat by id, create, hard_link, rename,
//! unlink, read_dir in pages, read and write by id).

use super::fs::{pattern, random_offsets, StoreLayout};
use super::report::{Config, Sample};
use super::workloads::nt_name;
use anyhow::{anyhow, bail, Result};
use std::time::Instant;
use vfs_core::{FileId, FileKind, Name, NewFile, RenameFlags, UnlinkKind, Volume, VolumeOptions};

/// Where a sample goes: the operation ("workload/op") and what was measured.
pub type Sink<'a> = &'a mut dyn FnMut(&'static str, Sample);

fn e(what: &str) -> impl FnOnce(vfs_core::Error) -> anyhow::Error + '_ {
    move |err| anyhow!("engine: {what}: {err}")
}

fn timed(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64())
}

fn ops(n: usize, secs: f64) -> Sample {
    Sample {
        count: n as u64,
        bytes: 0,
        seconds: secs,
        server_cpu: None,
    }
}

fn bytes(n: u64, secs: f64) -> Sample {
    Sample {
        count: 0,
        bytes: n,
        seconds: secs,
        server_cpu: None,
    }
}

/// Reads a whole directory the way a FUSE READDIR does: pages resumed from a cursor.
fn list_all(vol: &Volume, dir: FileId) -> Result<Vec<vfs_core::DirEntry>> {
    let mut out: Vec<vfs_core::DirEntry> = Vec::new();
    loop {
        let cursor = out.last().map(|e| e.cursor.clone());
        let page = vol
            .read_dir(dir, cursor.as_ref(), 512)
            .map_err(e("read_dir"))?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}

/// (a) Metadata, as in `fs::meta`.
pub fn meta(vol: &Volume, cfg: &Config, sink: Sink) -> Result<()> {
    let n = cfg.files;
    let root = vol.root();
    let d = vol
        .create(root, &nt_name("meta"), &NewFile::dir())
        .map_err(e("mkdir meta"))?;
    let names = |p: &str| -> Vec<Name> { (0..n).map(|i| nt_name(&format!("{p}{i:07}"))).collect() };
    let (f, l, r) = (names("f"), names("l"), names("r"));
    let file = NewFile::file();
    let mut ids = Vec::with_capacity(n);
    let secs = timed(|| {
        for name in &f {
            ids.push(vol.create(d, name, &file).map_err(e("create"))?);
        }
        Ok(())
    })?;
    sink("meta/create", ops(n, secs));
    let stat_all = || -> Result<()> {
        for name in &f {
            let id = vol.lookup(d, name).map_err(e("lookup"))?;
            vol.stat(id).map_err(e("stat"))?;
        }
        Ok(())
    };
    stat_all()?;
    let secs = timed(stat_all)?;
    sink("meta/stat", ops(n, secs));
    let secs = timed(|| {
        for (id, name) in ids.iter().zip(&l) {
            vol.hard_link(*id, d, name).map_err(e("hard_link"))?;
        }
        Ok(())
    })?;
    sink("meta/link", ops(n, secs));
    if vol.stat(ids[0]).map_err(e("stat"))?.links != 2 {
        bail!("engine: a hard-linked file does not have 2 links");
    }
    let secs = timed(|| {
        for (a, b) in l.iter().zip(&r) {
            vol.rename(d, a, d, b, RenameFlags::default())
                .map_err(e("rename"))?;
        }
        Ok(())
    })?;
    sink("meta/rename", ops(n, secs));
    let secs = timed(|| {
        for name in r.iter().chain(&f) {
            vol.unlink(d, name, UnlinkKind::File, false)
                .map_err(e("unlink"))?;
        }
        Ok(())
    })?;
    sink("meta/unlink", ops(2 * n, secs));
    if vol.dir_len(d).map_err(e("dir_len"))? != 0 {
        bail!("engine: meta directory not empty after unlinking everything");
    }
    vol.unlink(root, &nt_name("meta"), UnlinkKind::Directory, false)
        .map_err(e("rmdir"))?;

    let ld = vol
        .create(root, &nt_name("list"), &NewFile::dir())
        .map_err(e("mkdir list"))?;
    for i in 0..cfg.list_entries {
        vol.create(ld, &nt_name(&format!("entry-{i:06}.txt")), &file)
            .map_err(e("create"))?;
    }
    list_all(vol, ld)?;
    let mut listed = 0;
    let secs = timed(|| {
        for _ in 0..cfg.list_repeats {
            listed += list_all(vol, ld)?.len();
        }
        Ok(())
    })?;
    if listed != cfg.list_entries * cfg.list_repeats {
        bail!("engine: listing gave {listed} entries");
    }
    sink("meta/readdir", ops(listed, secs));
    vol.remove_tree(r"\list").map_err(e("remove_tree"))?;
    Ok(())
}

/// (b) The package store, as in `fs::store`, with real junctions.
pub fn store(vol: &Volume, cfg: &Config, sink: Sink) -> Result<()> {
    let lay = StoreLayout::new(cfg);
    let contents: Vec<Vec<u8>> = (0..cfg.store_files).map(StoreLayout::content).collect();
    let root = vol
        .create(vol.root(), &nt_name("store-bench"), &NewFile::dir())
        .map_err(e("mkdir"))?;
    let file = NewFile::file();
    let dir = NewFile::dir();
    let mkdirs = |mut at: FileId, rel: &str| -> Result<FileId> {
        for c in rel.split('/') {
            at = match vol.lookup(at, &nt_name(c)) {
                Ok(id) => id,
                Err(_) => vol.create(at, &nt_name(c), &dir).map_err(e("mkdir"))?,
            };
        }
        Ok(at)
    };
    // (file id, index) of every store file, by package.
    let mut store_ids: Vec<Vec<(FileId, usize)>> = Vec::new();
    let secs = timed(|| {
        let store = vol
            .create(root, &nt_name("store"), &dir)
            .map_err(e("mkdir"))?;
        for (k, &(s, end)) in lay.packages.iter().enumerate() {
            let pd = vol
                .create(store, &nt_name(&format!("pkg{k}")), &dir)
                .map_err(e("mkdir"))?;
            let lib = vol.create(pd, &nt_name("lib"), &dir).map_err(e("mkdir"))?;
            let mut ids = Vec::new();
            for (j, c) in contents.iter().enumerate().take(end).skip(s) {
                let rel = StoreLayout::file_rel(j);
                let (parent, name) = match rel.strip_prefix("lib/") {
                    Some(n) => (lib, n),
                    None => (pd, rel.as_str()),
                };
                let id = vol
                    .create(parent, &nt_name(name), &file)
                    .map_err(e("create"))?;
                vol.write(id, 0, c).map_err(e("write"))?;
                ids.push((id, j));
            }
            store_ids.push(ids);
        }
        Ok(())
    })?;
    sink("store/populate", ops(cfg.store_files, secs));

    let mut nlinks = 0;
    let secs = timed(|| {
        for p in 0..cfg.projects {
            let nm = mkdirs(root, &format!("p{p}/node_modules"))?;
            for (k, ids) in store_ids.iter().enumerate() {
                let copy = mkdirs(nm, &StoreLayout::pnpm_rel(k))?;
                let lib = vol
                    .create(copy, &nt_name("lib"), &dir)
                    .map_err(e("mkdir"))?;
                for &(id, j) in ids {
                    let rel = StoreLayout::file_rel(j);
                    let (parent, name) = match rel.strip_prefix("lib/") {
                        Some(n) => (lib, n),
                        None => (copy, rel.as_str()),
                    };
                    vol.hard_link(id, parent, &nt_name(name))
                        .map_err(e("hard_link"))?;
                    nlinks += 1;
                }
            }
        }
        Ok(())
    })?;
    sink("store/link", ops(nlinks, secs));

    let mut junctions = Vec::new();
    for p in 0..cfg.projects {
        for k in 0..lay.packages.len() {
            let path = format!(r"\store-bench\p{p}\node_modules\pkg{k}");
            let target = format!(
                r"C:\store-bench\p{p}\node_modules\{}",
                StoreLayout::pnpm_rel(k).replace('/', "\\")
            );
            junctions.push((path, target));
        }
    }
    let secs = timed(|| {
        for (path, target) in &junctions {
            vol.create_junction(path, target)
                .map_err(e("create_junction"))?;
        }
        Ok(())
    })?;
    sink("store/junction", ops(junctions.len(), secs));

    let mut buf = vec![0u8; 64 * 1024];
    let (mut files, mut nbytes) = (0usize, 0u64);
    let secs = timed(|| {
        for p in 0..cfg.projects {
            let nm_path = format!(r"\store-bench\p{p}\node_modules");
            let nm = vol.resolve(&nm_path, true).map_err(e("resolve"))?;
            for ent in list_all(vol, nm)? {
                if ent.name.first() == Some(&u16::from(b'.')) {
                    continue;
                }
                // A junction: follow it the way the kernel follows the symlink FUSE shows.
                let path = format!(r"{nm_path}\{}", String::from_utf16_lossy(&ent.name));
                let target = vol.resolve(&path, true).map_err(e("resolve junction"))?;
                walk(vol, target, &mut buf, &mut files, &mut nbytes)?;
            }
        }
        Ok(())
    })?;
    let want_bytes: u64 =
        contents.iter().map(|c| c.len() as u64).sum::<u64>() * cfg.projects as u64;
    if files != cfg.projects * cfg.store_files || nbytes != want_bytes {
        bail!("engine: the walk read {files} files and {nbytes} bytes");
    }
    sink("store/walk", ops(files, secs));
    vol.remove_tree(r"\store-bench").map_err(e("remove_tree"))?;
    Ok(())
}

fn walk(
    vol: &Volume,
    dir: FileId,
    buf: &mut [u8],
    files: &mut usize,
    nbytes: &mut u64,
) -> Result<()> {
    for ent in list_all(vol, dir)? {
        match ent.stat.kind {
            FileKind::Directory => walk(vol, ent.stat.id, buf, files, nbytes)?,
            FileKind::File => {
                let mut off = 0u64;
                loop {
                    let n = vol.read(ent.stat.id, off, buf).map_err(e("read"))?;
                    if n == 0 {
                        break;
                    }
                    off += n as u64;
                }
                *nbytes += off;
                *files += 1;
            }
        }
    }
    Ok(())
}

/// (c) Data, as in `fs::data`, by file id.
pub fn data(vol: &Volume, cfg: &Config, sink: Sink) -> Result<()> {
    let size = cfg.data_size;
    let src = pattern((2 << 20) + 4096);
    let mut buf = vec![0u8; 1 << 20];
    let root = vol.root();
    let write = |name: &str, req: usize| -> Result<(FileId, f64)> {
        let id = vol
            .create(root, &nt_name(name), &NewFile::file())
            .map_err(e("create"))?;
        let secs = timed(|| {
            let mut off = 0u64;
            while off < size {
                let n = req.min((size - off) as usize);
                let at = ((off % src.len() as u64) as usize).min(src.len() - n);
                vol.write(id, off, &src[at..at + n]).map_err(e("write"))?;
                off += n as u64;
            }
            Ok(())
        })?;
        Ok((id, secs))
    };
    let (a, secs) = write("big-1m.bin", 1 << 20)?;
    sink("data/write-1m", bytes(size, secs));
    for (op, req) in [("data/read-1m", 1usize << 20), ("data/read-4k", 4096)] {
        let mut got = 0u64;
        let secs = timed(|| {
            loop {
                let n = vol.read(a, got, &mut buf[..req]).map_err(e("read"))?;
                if n == 0 {
                    break;
                }
                got += n as u64;
            }
            Ok(())
        })?;
        if got != size {
            bail!("engine: read {got} bytes of {size}");
        }
        sink(op, bytes(size, secs));
    }
    vol.read(a, 0, &mut buf[..4096]).map_err(e("read"))?;
    if buf[..4096] != src[..4096] {
        bail!("engine: the file does not hold the bytes written");
    }
    let offsets = random_offsets(size, cfg.rand_reads);
    let secs = timed(|| {
        for &off in &offsets {
            if vol.read(a, off, &mut buf[..4096]).map_err(e("read"))? != 4096 {
                bail!("engine: short random read");
            }
        }
        Ok(())
    })?;
    sink("data/rand-read-4k", ops(offsets.len(), secs));
    vol.unlink(root, &nt_name("big-1m.bin"), UnlinkKind::File, false)
        .map_err(e("unlink"))?;
    let (_, secs) = write("big-4k.bin", 4096)?;
    sink("data/write-4k", bytes(size, secs));
    vol.unlink(root, &nt_name("big-4k.bin"), UnlinkKind::File, false)
        .map_err(e("unlink"))?;
    Ok(())
}

/// (d) The engine's share of mount-to-ready: a new volume answering a stat of its root.
pub fn mount(cfg: &Config, sink: Sink) -> Result<()> {
    let mut times = Vec::new();
    for _ in 0..cfg.mount_repeats {
        let t = Instant::now();
        let vol = Volume::new(VolumeOptions::default());
        vol.stat(vol.root()).map_err(e("stat root"))?;
        times.push(t.elapsed().as_secs_f64());
    }
    sink("mount/ready", median_sample(&mut times));
    Ok(())
}

/// The median of several timings, as a sample whose `seconds` is that median.
pub fn median_sample(times: &mut [f64]) -> Sample {
    times.sort_by(|a, b| a.total_cmp(b));
    let m = if times.is_empty() {
        0.0
    } else if times.len() % 2 == 1 {
        times[times.len() / 2]
    } else {
        (times[times.len() / 2 - 1] + times[times.len() / 2]) / 2.0
    };
    Sample {
        count: times.len() as u64,
        bytes: 0,
        seconds: m,
        server_cpu: None,
    }
}

/// Bytes the allocator has handed out and not taken back (glibc's mallinfo2: arena and mmap).
#[cfg(target_env = "gnu")]
pub fn heap_in_use() -> u64 {
    // SAFETY: mallinfo2 takes no argument and returns a plain struct.
    let mi = unsafe { libc::mallinfo2() };
    (mi.uordblks + mi.hblkhd) as u64
}

/// Without glibc: the resident set from /proc/self/statm (coarser: pages, not bytes).
#[cfg(not(target_env = "gnu"))]
pub fn heap_in_use() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Builds `files` empty files named with `name_len` characters, 1,000 to a directory, and
/// returns the heap they cost per file (directories included).
fn heap_per_file(files: usize, name_len: usize) -> Result<f64> {
    let vol = Volume::new(VolumeOptions::default());
    let before = heap_in_use();
    // The names are built inside the loop and freed at once, so they are not counted.
    crate::workloads::empty_file_tree(
        &vol,
        files,
        1000,
        |d| nt_name(&format!("d{d:07}")),
        |i, _| nt_name(&format!("{i:0width$}", width = name_len)),
    )
    .map_err(e("create"))?;
    let after = heap_in_use();
    if vol.file_count() != files + files.div_ceil(1000) + 1 {
        bail!("engine: built {} files, expected {files}", vol.file_count());
    }
    let per = after.saturating_sub(before) as f64 / files as f64;
    drop(vol);
    Ok(per)
}

/// (e) Engine memory per empty file at `memory_files` files: heap growth measured by the
/// allocator (mallinfo2), with 8-character names; a second build with 40-character names
/// gives the share of the names (the growth per name character times 8).
pub fn memory(cfg: &Config, sink: Sink) -> Result<()> {
    let n = cfg.memory_files.max(1000);
    let short = heap_per_file(n, 8)?;
    let long = heap_per_file(n, 40)?;
    let per_char = ((long - short) / 32.0).max(0.0);
    let names = per_char * 8.0;
    sink(
        "memory/per-file",
        Sample {
            count: n as u64,
            bytes: (short * n as f64).round() as u64,
            seconds: 0.0,
            server_cpu: None,
        },
    );
    sink(
        "memory/names",
        Sample {
            count: n as u64,
            bytes: (names * n as f64).round() as u64,
            seconds: 0.0,
            server_cpu: None,
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Config {
        Config {
            quick: true,
            files: 20,
            list_entries: 30,
            list_repeats: 2,
            store_files: 25,
            files_per_package: 10,
            projects: 2,
            data_size: 1 << 20,
            rand_reads: 10,
            memory_files: 2000,
            repeat: 1,
            mount_repeats: 3,
        }
    }

    /// The engine workloads give the same counts as the syscall ones (not timings).
    #[test]
    fn engine_workloads_run_and_leave_the_volume_consistent() {
        let vol = Volume::new(VolumeOptions::default());
        let cfg = tiny();
        let mut got: Vec<(&str, Sample)> = Vec::new();
        let mut sink = |op: &'static str, s: Sample| got.push((op, s));
        meta(&vol, &cfg, &mut sink).unwrap();
        store(&vol, &cfg, &mut sink).unwrap();
        data(&vol, &cfg, &mut sink).unwrap();
        mount(&cfg, &mut sink).unwrap();
        memory(&cfg, &mut sink).unwrap();
        vol.check().unwrap();
        assert_eq!(vol.file_count(), 1, "everything was removed");
        let count = |op: &str| got.iter().find(|(o, _)| *o == op).unwrap().1.count;
        assert_eq!(count("meta/unlink"), 40);
        assert_eq!(count("store/link"), 50);
        assert_eq!(count("store/walk"), 50);
        assert_eq!(count("mount/ready"), 3);
        assert_eq!(got.len(), 18);
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median_sample(&mut [3.0, 1.0, 2.0]).seconds, 2.0);
        assert_eq!(median_sample(&mut [4.0, 1.0, 2.0, 3.0]).seconds, 2.5);
    }
}
