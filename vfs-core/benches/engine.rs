//! Engine micro-benchmarks, one thread, through the public API a backend calls (by id, as a
//! FUSE request ends up, and by path, as WinFsp's do). Each benchmark reports its throughput in
//! operations per second (criterion's `thrpt`, one element per operation).
//!
//! `cargo bench -p vfs-core --bench engine`. The 1,000,000-file tree and the memory per file
//! are measured once by `cargo bench -p vfs-core --bench memory`. Figures and targets:
//! docs/ENGINE-BENCH.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::time::{Duration, Instant};
use vfs_core::name::wide;
use vfs_core::*;

/// Files in the directory the lookups search: big enough that the index is not trivially
/// small.
const DIR_FILES: usize = 10_000;

/// Names are validated and upcased once, where a backend receives them ([`Name`]); the
/// benchmarks below time the engine operation that takes them.
fn name(s: &str) -> Name {
    Name::from_str_checked(s).unwrap()
}

fn names(n: usize, prefix: &str) -> Vec<Name> {
    (0..n)
        .map(|i| name(&format!("{prefix}{i:05}.txt")))
        .collect()
}

fn volume_with_dir(files: usize) -> (Volume, FileId, Vec<Name>) {
    let vol = Volume::new(VolumeOptions::default());
    let dir = vol.create_path(r"\dir", &NewFile::dir()).unwrap();
    let names = names(files, "File");
    for n in &names {
        vol.create(dir, n, &NewFile::file()).unwrap();
    }
    (vol, dir, names)
}

fn by_id(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));

    // lookup: case-insensitive, in another case than stored (A5), as a Windows caller may.
    let (vol, dir, stored) = volume_with_dir(DIR_FILES);
    let upper: Vec<Name> = stored
        .iter()
        .map(|n| name(&n.to_string_lossy().to_uppercase()))
        .collect();
    let mut i = 0usize;
    g.bench_function("lookup", |b| {
        b.iter(|| {
            i = (i + 1) % DIR_FILES;
            black_box(vol.lookup(dir, &upper[i]).unwrap())
        })
    });

    // create alone: into a directory that grows from empty to 10,000 entries, then a fresh
    // volume (made and dropped outside the timing).
    let fresh = names(10_000, "new");
    g.bench_function("create", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                let n = left.min(fresh.len());
                let v = Volume::new(VolumeOptions::default());
                let d = v.create_path(r"\d", &NewFile::dir()).unwrap();
                let t = Instant::now();
                for name in &fresh[..n] {
                    black_box(v.create(d, name, &NewFile::file()).unwrap());
                }
                total += t.elapsed();
                left -= n;
            }
            total
        })
    });

    // create + unlink of the same name in a directory of DIR_FILES entries: one pair per
    // iteration.
    let tmp = name("tmp-file.dat");
    g.bench_function("create+unlink pair", |b| {
        b.iter(|| {
            vol.create(dir, &tmp, &NewFile::file()).unwrap();
            vol.unlink(dir, &tmp, UnlinkKind::File, false).unwrap();
        })
    });

    // hard link + unlink of the extra name (A1).
    let target = vol.lookup(dir, &stored[0]).unwrap();
    let link = name("extra-link");
    g.bench_function("hard_link+unlink pair", |b| {
        b.iter(|| {
            vol.hard_link(target, dir, &link).unwrap();
            vol.unlink(dir, &link, UnlinkKind::File, false).unwrap();
        })
    });

    // rename within the directory, alternating between two names.
    let (a, bname) = (name("rename-a"), name("rename-b"));
    vol.create(dir, &a, &NewFile::file()).unwrap();
    let mut flip = false;
    g.bench_function("rename", |b| {
        b.iter(|| {
            let (from, to) = if flip { (&bname, &a) } else { (&a, &bname) };
            vol.rename(dir, from, dir, to, RenameFlags::default())
                .unwrap();
            flip = !flip;
        })
    });

    // 4 KiB write and read at offsets within one 1 MiB file.
    let f = vol
        .create(dir, &name("data.bin"), &NewFile::file())
        .unwrap();
    let block = vec![0x5Au8; 4096];
    vol.write(f, 0, &vec![1u8; 1 << 20]).unwrap();
    let mut off = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function("write 4 KiB", |b| {
        b.iter(|| {
            off = (off + 4096) % (1 << 20);
            black_box(vol.write(f, off, &block).unwrap())
        })
    });
    let mut buf = vec![0u8; 4096];
    g.bench_function("read 4 KiB", |b| {
        b.iter(|| {
            off = (off + 4096) % (1 << 20);
            black_box(vol.read(f, off, &mut buf).unwrap())
        })
    });
    g.finish();
}

fn by_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));
    let vol = Volume::new(VolumeOptions::default());
    for d in [r"\real", r"\real\deep", r"\real\deep\er"] {
        vol.create_path(d, &NewFile::dir()).unwrap();
    }
    vol.write_file_path(r"\real\deep\er\file.txt", b"x")
        .unwrap();
    vol.create_junction(r"\j", r"C:\real\deep").unwrap();
    vol.create_symlink(r"\s", r"real\deep\er\file.txt", false)
        .unwrap();
    let direct = wide(r"\real\deep\er\file.txt");
    let via_junction = wide(r"\j\er\FILE.TXT");
    let via_symlink = wide(r"\s");
    g.bench_function("resolve (4 components)", |b| {
        b.iter(|| black_box(vol.resolve(&direct, true).unwrap()))
    });
    g.bench_function("resolve through a junction (A3)", |b| {
        b.iter(|| black_box(vol.resolve(&via_junction, true).unwrap()))
    });
    g.bench_function("resolve through a symlink (A4)", |b| {
        b.iter(|| black_box(vol.resolve(&via_symlink, true).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, by_id, by_path);
criterion_main!(benches);
