//! The engine benchmark's operations as a plain loop, for instruction counts under callgrind:
//! on a shared machine wall-clock figures swing with the load, instruction counts do not.
//!
//! ```sh
//! cargo bench -p ntlinkfs-bench --bench ops --no-run    # prints the binary's path
//! OP=rename N=20000 valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect='ops::run*' <path>              # "Collected" / N = instructions per op
//! ```
//!
//! Without `OP` (as `cargo bench` runs it) every operation runs `N` (default 100,000) times
//! and the wall-clock time per operation is printed. The volumes are benches/engine.rs's
//! ([`ntlinkfs_bench::workloads::OpVolume`]); docs/ENGINE-BENCH.md has the figures.

use ntlinkfs_bench::workloads::{add_link_tree, nt_name, OpVolume};
use std::time::Instant;
use vfs_core::name::wide;
use vfs_core::*;

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
    ov: OpVolume,
    fresh_dir: FileId,
    target: FileId,
    data: FileId,
    fresh: Vec<Name>,
}

fn setup(op: &str, n: usize) -> Setup {
    let ov = OpVolume::new();
    let target = ov.link_target();
    ov.add_rename_file();
    let data = ov.add_data_file();
    add_link_tree(&ov.vol, false);
    let fresh = if op == "create" {
        (0..n).map(|i| nt_name(&format!("new{i:07}"))).collect()
    } else {
        Vec::new()
    };
    let fresh_dir = ov.vol.create_path(r"\fresh", &NewFile::dir()).unwrap();
    Setup {
        ov,
        fresh_dir,
        target,
        data,
        fresh,
    }
}

/// The measured loop (callgrind collects only inside this function).
#[inline(never)]
fn run(s: &Setup, op: &str, n: usize) {
    let v = &s.ov.vol;
    let dir = s.ov.dir;
    let upper = &s.ov.upper;
    let (a, b) = (nt_name("rename-a"), nt_name("rename-b"));
    let (tmp, link) = (nt_name("tmp-file.dat"), nt_name("extra-link"));
    let via_junction = wide(r"\j\er\FILE.TXT");
    let block = vec![0x5Au8; 4096];
    let mut buf = vec![0u8; 4096];
    for i in 0..n {
        let offset = ((i * 4096) % (1 << 20)) as u64;
        match op {
            "lookup" => {
                std::hint::black_box(v.lookup(dir, &upper[i % upper.len()]).unwrap());
            }
            "create" => {
                v.create(s.fresh_dir, &s.fresh[i], &NewFile::file())
                    .unwrap();
            }
            "create_unlink" => {
                v.create(dir, &tmp, &NewFile::file()).unwrap();
                v.unlink(dir, &tmp, UnlinkKind::File, false).unwrap();
            }
            "link_unlink" => {
                v.hard_link(s.target, dir, &link).unwrap();
                v.unlink(dir, &link, UnlinkKind::File, false).unwrap();
            }
            "rename" => {
                let (from, to) = if i % 2 == 1 { (&b, &a) } else { (&a, &b) };
                v.rename(dir, from, dir, to, RenameFlags::default())
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
        v.rename(dir, &b, dir, &a, RenameFlags::default()).unwrap();
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
