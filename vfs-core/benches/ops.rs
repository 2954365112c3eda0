//! The engine benchmark's operations as a plain loop, for instruction counts under callgrind:
//! on a shared machine wall-clock figures swing with the load, instruction counts do not.
//!
//! ```sh
//! cargo bench -p vfs-core --bench ops --no-run        # prints the binary's path
//! OP=rename N=20000 valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect='ops::run*' <path>              # "Collected" / N = instructions per op
//! ```
//!
//! Without `OP` (as `cargo bench` runs it) every operation runs `N` (default 100,000) times
//! and the wall-clock time per operation is printed. The workloads are those of
//! benches/engine.rs; docs/ENGINE-BENCH.md has the figures.

use std::time::Instant;
use vfs_core::name::wide;
use vfs_core::*;

/// Names are validated and upcased once, where a backend receives them ([`Name`]); the loop
/// counts the engine operation that takes them.
fn name(s: &str) -> Name {
    Name::from_str_checked(s).unwrap()
}

const OPS: &[&str] = &[
    "lookup",
    "create",
    "create_unlink",
    "link_unlink",
    "rename",
    "write",
    "read",
    "resolve_junction",
];

struct Setup {
    vol: Volume,
    dir: FileId,
    fresh_dir: FileId,
    target: FileId,
    data: FileId,
    upper: Vec<Name>,
    fresh: Vec<Name>,
}

fn setup(op: &str, n: usize) -> Setup {
    let vol = Volume::new(VolumeOptions::default());
    let dir = vol.create_path(r"\dir", &NewFile::dir()).unwrap();
    let names: Vec<Name> = (0..10_000)
        .map(|i| name(&format!("File{i:05}.txt")))
        .collect();
    for n in &names {
        vol.create(dir, n, &NewFile::file()).unwrap();
    }
    let upper = names
        .iter()
        .map(|n| name(&n.to_string_lossy().to_uppercase()))
        .collect();
    let target = vol.lookup(dir, &names[0]).unwrap();
    vol.create(dir, &name("rename-a"), &NewFile::file())
        .unwrap();
    let data = vol
        .create(dir, &name("data.bin"), &NewFile::file())
        .unwrap();
    vol.write(data, 0, &vec![1u8; 1 << 20]).unwrap();
    for d in [r"\real", r"\real\deep", r"\real\deep\er"] {
        vol.create_path(d, &NewFile::dir()).unwrap();
    }
    vol.write_file_path(r"\real\deep\er\file.txt", b"x")
        .unwrap();
    vol.create_junction(r"\j", r"C:\real\deep").unwrap();
    let fresh = if op == "create" {
        (0..n).map(|i| name(&format!("new{i:07}"))).collect()
    } else {
        Vec::new()
    };
    let fresh_dir = vol.create_path(r"\fresh", &NewFile::dir()).unwrap();
    Setup {
        vol,
        dir,
        fresh_dir,
        target,
        data,
        upper,
        fresh,
    }
}

/// The measured loop (callgrind collects only inside this function).
#[inline(never)]
fn run(s: &Setup, op: &str, n: usize) {
    let v = &s.vol;
    let (a, b) = (name("rename-a"), name("rename-b"));
    let (tmp, link) = (name("tmp-file.dat"), name("extra-link"));
    let via_junction = wide(r"\j\er\FILE.TXT");
    let block = vec![0x5Au8; 4096];
    let mut buf = vec![0u8; 4096];
    for i in 0..n {
        let offset = ((i * 4096) % (1 << 20)) as u64;
        match op {
            "lookup" => {
                std::hint::black_box(v.lookup(s.dir, &s.upper[i % s.upper.len()]).unwrap());
            }
            "create" => {
                v.create(s.fresh_dir, &s.fresh[i], &NewFile::file())
                    .unwrap();
            }
            "create_unlink" => {
                v.create(s.dir, &tmp, &NewFile::file()).unwrap();
                v.unlink(s.dir, &tmp, UnlinkKind::File, false).unwrap();
            }
            "link_unlink" => {
                v.hard_link(s.target, s.dir, &link).unwrap();
                v.unlink(s.dir, &link, UnlinkKind::File, false).unwrap();
            }
            "rename" => {
                let (from, to) = if i % 2 == 1 { (&b, &a) } else { (&a, &b) };
                v.rename(s.dir, from, s.dir, to, RenameFlags::default())
                    .unwrap();
            }
            "write" => {
                v.write(s.data, offset, &block).unwrap();
            }
            "read" => {
                v.read(s.data, offset, &mut buf).unwrap();
            }
            "resolve_junction" => {
                std::hint::black_box(v.resolve(&via_junction, true).unwrap());
            }
            other => panic!("unknown OP {other:?}; one of {OPS:?}"),
        }
    }
    if op == "rename" && n % 2 == 1 {
        // Leave the name as found, so a second run starts the same way.
        v.rename(s.dir, &b, s.dir, &a, RenameFlags::default())
            .unwrap();
    }
}

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    match std::env::var("OP") {
        Ok(op) => run(&setup(&op, n), &op, n),
        Err(_) => {
            for op in OPS {
                let s = setup(op, n);
                let t = Instant::now();
                run(&s, op, n);
                let ns = t.elapsed().as_nanos() as f64 / n as f64;
                println!("ops: {op:<18} {ns:8.1} ns/op  {:>12.0} ops/s", 1e9 / ns);
            }
        }
    }
}
