//! Engine micro-benchmarks, one thread, through the public API a backend calls (by id, as a
//! FUSE request ends up, and by path, as WinFsp's do). Each benchmark reports its throughput in
//! operations per second (criterion's `thrpt`, one element per operation).
//!
//! `cargo bench -p ntlinkfs-bench --bench engine`. The 1,000,000-file tree and the memory per
//! file are measured once by `cargo bench -p ntlinkfs-bench --bench memory`. The volumes are
//! set up by [`ntlinkfs_bench::workloads::OpVolume`], shared with `benches/ops.rs`. Figures and targets:
//! docs/ENGINE-BENCH.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ntlinkfs_bench::workloads::{
    add_link_tree, nt_name, numbered_names as names, OpVolume, DIR_FILES,
};
use std::time::{Duration, Instant};
use vfs_core::name::wide;
use vfs_core::*;

fn by_id(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));

    // lookup: case-insensitive, in another case than stored (A5), as a Windows caller may.
    let ov = OpVolume::new();
    let (vol, dir, upper) = (&ov.vol, ov.dir, &ov.upper);
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
    let tmp = nt_name("tmp-file.dat");
    g.bench_function("create+unlink pair", |b| {
        b.iter(|| {
            vol.create(dir, &tmp, &NewFile::file()).unwrap();
            vol.unlink(dir, &tmp, UnlinkKind::File, false).unwrap();
        })
    });

    // hard link + unlink of the extra name (A1).
    let target = ov.link_target();
    let link = nt_name("extra-link");
    g.bench_function("hard_link+unlink pair", |b| {
        b.iter(|| {
            vol.hard_link(target, dir, &link).unwrap();
            vol.unlink(dir, &link, UnlinkKind::File, false).unwrap();
        })
    });

    // rename within the directory, alternating between two names.
    let (a, bname) = (nt_name("rename-a"), nt_name("rename-b"));
    ov.add_rename_file();
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
    let f = ov.add_data_file();
    let block = vec![0x5Au8; 4096];
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
    add_link_tree(&vol, true);
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
