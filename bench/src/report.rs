//! What `ntlinkfs bench` measured: the operations and their units, the best sample of each
//! (operation, target), the table with ratios against tmpfs and ntfs-3g, the goals of issue 7,
//! the machine, and the JSON document (`--json`).

use super::TargetName;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How an operation's value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Unit {
    /// Operations per second (count / seconds).
    #[serde(rename = "ops/s")]
    OpsPerSec,
    /// 10^6 bytes per second (bytes / seconds / 1e6).
    #[serde(rename = "MB/s")]
    MbPerSec,
    /// Milliseconds (the median of several attempts); lower is better.
    #[serde(rename = "ms")]
    Millis,
    /// Bytes per file (bytes / count); lower is better.
    #[serde(rename = "B/file")]
    BytesPerFile,
}

impl Unit {
    pub fn label(self) -> &'static str {
        match self {
            Unit::OpsPerSec => "ops/s",
            Unit::MbPerSec => "MB/s",
            Unit::Millis => "ms",
            Unit::BytesPerFile => "B/file",
        }
    }
    pub fn higher_is_better(self) -> bool {
        matches!(self, Unit::OpsPerSec | Unit::MbPerSec)
    }
}

/// One operation of a workload.
#[derive(Debug)]
pub struct OpDef {
    pub workload: &'static str,
    pub op: &'static str,
    pub unit: Unit,
    pub what: &'static str,
}

const fn op(workload: &'static str, op: &'static str, unit: Unit, what: &'static str) -> OpDef {
    OpDef {
        workload,
        op,
        unit,
        what,
    }
}

/// Every operation the benchmark reports, in table order.
pub const OPS: &[OpDef] = &[
    op(
        "meta",
        "create",
        Unit::OpsPerSec,
        "open(O_CREAT|O_EXCL)+close of a new empty file",
    ),
    op(
        "meta",
        "stat",
        Unit::OpsPerSec,
        "stat of an existing file, warm (second pass)",
    ),
    op(
        "meta",
        "link",
        Unit::OpsPerSec,
        "link(2): a second name in the same directory",
    ),
    op(
        "meta",
        "rename",
        Unit::OpsPerSec,
        "rename(2) of the second name to a new name",
    ),
    op("meta", "unlink", Unit::OpsPerSec, "unlink(2) of both names"),
    op(
        "meta",
        "miss",
        Unit::OpsPerSec,
        "stat of a missing name, asked before (PATH/include probing), ENOENT",
    ),
    op(
        "meta",
        "readdir",
        Unit::OpsPerSec,
        "entries listed per second in a 10,000-entry directory",
    ),
    op(
        "store",
        "populate",
        Unit::OpsPerSec,
        "store files written (mkdir + create + write + close)",
    ),
    op(
        "store",
        "link",
        Unit::OpsPerSec,
        "hard links made into the project trees (mkdirs included)",
    ),
    op(
        "store",
        "junction",
        Unit::OpsPerSec,
        "node_modules/<pkg> junctions: mkdir + setxattr of the reparse buffer (symlinks on tmpfs; on the ceiling the same two calls, the buffer only stored)",
    ),
    op(
        "store",
        "symlink",
        Unit::OpsPerSec,
        "node_modules/<pkg> as relative symlinks instead (the ceiling only: what a Linux pnpm makes)",
    ),
    op(
        "store",
        "walk",
        Unit::OpsPerSec,
        "files opened and read whole, walking every project through its links",
    ),
    op(
        "store",
        "store-walk",
        Unit::OpsPerSec,
        "entries listed and lstat'ed walking the store itself (pnpm store status/prune)",
    ),
    op(
        "store",
        "rm-rf",
        Unit::OpsPerSec,
        "names removed by `rm -rf` of every project's node_modules (links, dirs, junctions)",
    ),
    op(
        "data",
        "write-1m",
        Unit::MbPerSec,
        "sequential write, 1 MiB requests, close included",
    ),
    op(
        "data",
        "read-1m",
        Unit::MbPerSec,
        "sequential read after reopening, 1 MiB requests",
    ),
    op(
        "data",
        "write-4k",
        Unit::MbPerSec,
        "sequential write, 4 KiB requests, close included",
    ),
    op(
        "data",
        "read-4k",
        Unit::MbPerSec,
        "sequential read after reopening, 4 KiB requests",
    ),
    op(
        "data",
        "rand-read-4k",
        Unit::OpsPerSec,
        "pread of 4 KiB at random aligned offsets",
    ),
    op(
        "mount",
        "ready",
        Unit::Millis,
        "from the mount call to the mountpoint answering stat (median)",
    ),
    op(
        "mount",
        "ready-cli",
        Unit::Millis,
        "`ntlinkfs mount` started to its ready line (median)",
    ),
    op(
        "memory",
        "per-file",
        Unit::BytesPerFile,
        "engine heap per empty file (8-character names)",
    ),
    op(
        "memory",
        "names",
        Unit::BytesPerFile,
        "of which names (growth per name character × 8, from a second build with 40-character names; overstated since names of up to 11 units are kept in place)",
    ),
    op(
        "memory",
        "rss-one-dir",
        Unit::BytesPerFile,
        "resident-set growth per empty file created in one directory (fuse: the daemon, files made through the mount)",
    ),
    op(
        "memory",
        "heap-one-dir",
        Unit::BytesPerFile,
        "heap growth (mallinfo2) in the same run: engine plus backend-fuse's tables on fuse",
    ),
];

pub fn op_def(op: &str) -> &'static OpDef {
    OPS.iter()
        .find(|d| format!("{}/{}", d.workload, d.op) == op)
        .unwrap_or_else(|| panic!("bench op {op:?} is not in OPS"))
}

/// A measured sample: `count` operations (or `bytes` bytes) in `secs` seconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    pub count: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// CPU seconds used, during the timed loop, by the threads of this process other than the
    /// one making the calls: the serving threads of the in-process FUSE targets (fuse and
    /// ceiling), whose cost per request is then seen apart from the kernel's round trip
    /// and far less swayed by the machine's load than wall time. None where not measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu: Option<f64>,
}

impl Sample {
    pub fn value(&self, unit: Unit) -> f64 {
        let secs = self.seconds.max(1e-9);
        match unit {
            Unit::OpsPerSec => self.count as f64 / secs,
            Unit::MbPerSec => self.bytes as f64 / secs / 1e6,
            Unit::Millis => self.seconds * 1e3,
            Unit::BytesPerFile => self.bytes as f64 / (self.count.max(1)) as f64,
        }
    }
}

/// Where samples go while the workloads run: keeps the best sample per (operation, target).
#[derive(Debug, Default)]
pub struct Results {
    best: BTreeMap<(&'static str, TargetName), Sample>,
}

impl Results {
    /// Records a sample of `op` ("workload/op") on `target`; keeps the better of two runs.
    pub fn add(&mut self, op: &'static str, target: TargetName, s: Sample) {
        let unit = op_def(op).unit;
        let better = |new: &Sample, old: &Sample| {
            if unit.higher_is_better() {
                new.value(unit) > old.value(unit)
            } else {
                new.value(unit) < old.value(unit)
            }
        };
        match self.best.get(&(op, target)) {
            Some(old) if !better(&s, old) => {}
            _ => {
                self.best.insert((op, target), s);
            }
        }
    }

    pub fn get(&self, op: &str, target: TargetName) -> Option<(Sample, f64)> {
        let d = op_def(op);
        self.best
            .iter()
            .find(|((o, t), _)| *o == op && *t == target)
            .map(|(_, s)| (*s, s.value(d.unit)))
    }

    fn value(&self, op: &str, target: TargetName) -> Option<f64> {
        self.get(op, target).map(|(_, v)| v)
    }
}

/// How many times better `value` is than `reference` (>1 = better), whatever the unit's
/// direction.
pub fn ratio(unit: Unit, value: f64, reference: f64) -> Option<f64> {
    if value <= 0.0 || reference <= 0.0 || !value.is_finite() || !reference.is_finite() {
        return None;
    }
    Some(if unit.higher_is_better() {
        value / reference
    } else {
        reference / value
    })
}

/// The machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub mem_total_kib: u64,
    pub kernel: String,
    pub cpu_model: String,
    /// The 1-minute load average when the run started and when it ended: other work on the
    /// machine makes every figure noisy, and the kernel round trips of FUSE targets most.
    pub load_start: f64,
    pub load_end: f64,
    /// The one CPU the run was held to (`--cpu`), and how many the machine has.
    pub pinned: Option<(usize, usize)>,
}

/// The 1-minute load average (0 when /proc/loadavg cannot be read).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

impl Machine {
    pub fn read() -> Machine {
        let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_total_kib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        // SAFETY: uname fills the struct it is given; a zeroed utsname is a valid argument.
        let kernel = unsafe {
            let mut u: libc::utsname = std::mem::zeroed();
            if libc::uname(&mut u) == 0 {
                let release = std::ffi::CStr::from_ptr(u.release.as_ptr());
                let sysname = std::ffi::CStr::from_ptr(u.sysname.as_ptr());
                format!(
                    "{} {}",
                    sysname.to_string_lossy(),
                    release.to_string_lossy()
                )
            } else {
                "unknown".into()
            }
        };
        Machine {
            nproc,
            mem_total_kib,
            kernel,
            cpu_model,
            load_start: load_average(),
            load_end: 0.0,
            pinned: None,
        }
    }
}

/// The sizes a run used.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub quick: bool,
    pub files: usize,
    pub list_entries: usize,
    pub list_repeats: usize,
    pub store_files: usize,
    pub files_per_package: usize,
    pub projects: usize,
    pub data_size: u64,
    pub rand_reads: usize,
    pub memory_files: usize,
    pub repeat: usize,
    pub mount_repeats: usize,
}

/// One target as set up in this run.
#[derive(Debug, Clone, Serialize)]
pub struct TargetInfo {
    pub name: &'static str,
    pub description: String,
    pub notes: Vec<String>,
    /// How the registered divergences of ntfs-3g (`host/divergences.toml`) that the workloads
    /// meet stood on this target (NTFS targets only: ntfs-3g and the FUSE mount).
    pub divergences: Vec<super::targets::DivergenceUse>,
}

/// One goal of issue 7, checked against the figures (informational: never asserted).
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub goal: String,
    pub op: String,
    pub measured: f64,
    pub required: f64,
    pub met: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    workload: &'static str,
    op: &'static str,
    unit: Unit,
    higher_is_better: bool,
    description: &'static str,
    values: BTreeMap<&'static str, f64>,
    samples: BTreeMap<&'static str, Sample>,
    ratio_vs_tmpfs: BTreeMap<&'static str, f64>,
    ratio_vs_ntfs3g: BTreeMap<&'static str, f64>,
    ratio_vs_ceiling: BTreeMap<&'static str, f64>,
}

/// The JSON document of a run.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    schema: &'static str,
    command: &'a str,
    machine: &'a Machine,
    config: &'a Config,
    targets: &'a [TargetInfo],
    results: Vec<Row>,
    goals: Vec<Goal>,
    notes: &'a [String],
}

const COMPARED: [TargetName; 2] = [TargetName::Fuse, TargetName::Engine];

fn rows(res: &Results, targets: &[TargetName]) -> Vec<Row> {
    let mut out = Vec::new();
    for d in OPS {
        let key = format!("{}/{}", d.workload, d.op);
        let mut row = Row {
            workload: d.workload,
            op: d.op,
            unit: d.unit,
            higher_is_better: d.unit.higher_is_better(),
            description: d.what,
            values: BTreeMap::new(),
            samples: BTreeMap::new(),
            ratio_vs_tmpfs: BTreeMap::new(),
            ratio_vs_ntfs3g: BTreeMap::new(),
            ratio_vs_ceiling: BTreeMap::new(),
        };
        for &t in targets {
            if let Some((s, v)) = res.get(&key, t) {
                row.values.insert(t.label(), v);
                row.samples.insert(t.label(), s);
            }
        }
        if row.values.is_empty() {
            continue;
        }
        for t in COMPARED {
            let Some(v) = res.value(&key, t) else {
                continue;
            };
            if let Some(r) = res
                .value(&key, TargetName::Tmpfs)
                .and_then(|r| ratio(d.unit, v, r))
            {
                row.ratio_vs_tmpfs.insert(t.label(), r);
            }
            if let Some(r) = res
                .value(&key, TargetName::Ntfs3g)
                .and_then(|r| ratio(d.unit, v, r))
            {
                row.ratio_vs_ntfs3g.insert(t.label(), r);
            }
            if let Some(r) = res
                .value(&key, TargetName::Ceiling)
                .and_then(|r| ratio(d.unit, v, r))
            {
                row.ratio_vs_ceiling.insert(t.label(), r);
            }
        }
        out.push(row);
    }
    out
}

/// The goals of issues 7 and 17 that this run's figures can say something about.
pub fn goals(res: &Results) -> Vec<Goal> {
    let mut out = Vec::new();
    let fuse = TargetName::Fuse;
    // Every workload at least 5x faster than ntfs-3g.
    for d in OPS.iter().filter(|d| d.workload != "memory") {
        let key = format!("{}/{}", d.workload, d.op);
        if let (Some(v), Some(n)) = (res.value(&key, fuse), res.value(&key, TargetName::Ntfs3g)) {
            if let Some(r) = ratio(d.unit, v, n) {
                out.push(Goal {
                    goal: "fuse at least 5x ntfs-3g".into(),
                    op: key.clone(),
                    measured: r,
                    required: 5.0,
                    met: r >= 5.0,
                });
            }
        }
    }
    // Warm stat at least 50% of tmpfs; create, link, unlink, rename at least 15%.
    for (op, need) in [
        ("meta/stat", 0.5),
        ("meta/create", 0.15),
        ("meta/link", 0.15),
        ("meta/unlink", 0.15),
        ("meta/rename", 0.15),
    ] {
        if let (Some(v), Some(t)) = (res.value(op, fuse), res.value(op, TargetName::Tmpfs)) {
            let r = v / t;
            out.push(Goal {
                goal: format!("fuse at least {:.0}% of tmpfs", need * 100.0),
                op: op.into(),
                measured: r,
                required: need,
                met: r >= need,
            });
        }
    }
    // Sequential read and write at least 1 GB/s.
    for op in [
        "data/write-1m",
        "data/read-1m",
        "data/write-4k",
        "data/read-4k",
    ] {
        if let Some(v) = res.value(op, fuse) {
            out.push(Goal {
                goal: "fuse sequential at least 1 GB/s (MB/s)".into(),
                op: op.into(),
                measured: v,
                required: 1000.0,
                met: v >= 1000.0,
            });
        }
    }
    // Mount ready in under 50 ms.
    for op in ["mount/ready", "mount/ready-cli"] {
        if let Some(v) = res.value(op, fuse) {
            out.push(Goal {
                goal: "fuse mount ready under 50 ms".into(),
                op: op.into(),
                measured: v,
                required: 50.0,
                met: v < 50.0,
            });
        }
    }
    // Issue 17: every name operation at least 0.9x the ceiling; rm -rf of node_modules faster
    // than ntfs-3g; 4 KiB writes at least half of tmpfs. The store's populate (mkdir, create,
    // one write, close per file) and junctions (mkdir + setxattr, the same calls on the
    // ceiling) make names too.
    for op in [
        "meta/create",
        "meta/link",
        "meta/rename",
        "meta/unlink",
        "store/populate",
        "store/link",
        "store/junction",
        "store/rm-rf",
    ] {
        let unit = op_def(op).unit;
        if let (Some(v), Some(c)) = (res.value(op, fuse), res.value(op, TargetName::Ceiling)) {
            if let Some(r) = ratio(unit, v, c) {
                out.push(Goal {
                    goal: "fuse at least 0.9x the ceiling".into(),
                    op: op.into(),
                    measured: r,
                    required: 0.9,
                    met: r >= 0.9,
                });
            }
        }
    }
    if let (Some(v), Some(n)) = (
        res.value("store/rm-rf", fuse),
        res.value("store/rm-rf", TargetName::Ntfs3g),
    ) {
        out.push(Goal {
            goal: "fuse rm -rf node_modules faster than ntfs-3g".into(),
            op: "store/rm-rf".into(),
            measured: v / n,
            required: 1.0,
            met: v > n,
        });
    }
    if let (Some(v), Some(t)) = (
        res.value("data/write-4k", fuse),
        res.value("data/write-4k", TargetName::Tmpfs),
    ) {
        out.push(Goal {
            goal: "fuse 4 KiB writes at least 50% of tmpfs".into(),
            op: "data/write-4k".into(),
            measured: v / t,
            required: 0.5,
            met: v / t >= 0.5,
        });
    }
    // At most 200 bytes of engine memory per empty file.
    if let Some(v) = res.value("memory/per-file", TargetName::Engine) {
        out.push(Goal {
            goal: "engine memory at most 200 B per empty file".into(),
            op: "memory/per-file".into(),
            measured: v,
            required: 200.0,
            met: v <= 200.0,
        });
    }
    // Issue 17: the daemon's resident set at most 350 bytes per empty file.
    if let Some(v) = res.value("memory/rss-one-dir", fuse) {
        out.push(Goal {
            goal: "fuse daemon RSS at most 350 B per empty file".into(),
            op: "memory/rss-one-dir".into(),
            measured: v,
            required: 350.0,
            met: v <= 350.0,
        });
    }
    out
}

pub fn document<'a>(
    command: &'a str,
    machine: &'a Machine,
    config: &'a Config,
    targets_info: &'a [TargetInfo],
    targets: &[TargetName],
    res: &Results,
    notes: &'a [String],
) -> Document<'a> {
    Document {
        schema: "ntlinkfs-bench/1",
        command,
        machine,
        config,
        targets: targets_info,
        results: rows(res, targets),
        goals: goals(res),
        notes,
    }
}

fn fmt_value(v: f64) -> String {
    if v >= 100.0 {
        // Thousands separators make the big rates readable.
        let n = v.round() as u64;
        let s = n.to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        out
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_ratio(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}x")
    } else if r >= 10.0 {
        format!("{r:.1}x")
    } else {
        format!("{r:.2}x")
    }
}

/// The human table: one row per operation, one column per target, then the ratios of the
/// fuse and engine columns against tmpfs and ntfs-3g (>1 = faster or smaller).
pub fn table(res: &Results, targets: &[TargetName]) -> String {
    let rows = rows(res, targets);
    let mut header: Vec<String> = vec!["workload/op".into(), "unit".into()];
    header.extend(targets.iter().map(|t| t.label().to_string()));
    let mut ratio_cols: Vec<(TargetName, TargetName)> = Vec::new();
    for t in COMPARED {
        if !targets.contains(&t) {
            continue;
        }
        for r in [TargetName::Tmpfs, TargetName::Ntfs3g, TargetName::Ceiling] {
            // The engine makes no round trip: its ratio to the ceiling says nothing.
            if r == TargetName::Ceiling && t != TargetName::Fuse {
                continue;
            }
            if targets.contains(&r) {
                ratio_cols.push((t, r));
                header.push(format!("{}÷{}", t.label(), r.label()));
            }
        }
    }
    let mut lines: Vec<Vec<String>> = vec![header];
    for row in &rows {
        let mut l = vec![
            format!("{}/{}", row.workload, row.op),
            row.unit.label().into(),
        ];
        for t in targets {
            l.push(
                row.values
                    .get(t.label())
                    .map_or_else(|| "-".into(), |v| fmt_value(*v)),
            );
        }
        for (t, r) in &ratio_cols {
            let m = match r {
                TargetName::Tmpfs => &row.ratio_vs_tmpfs,
                TargetName::Ceiling => &row.ratio_vs_ceiling,
                _ => &row.ratio_vs_ntfs3g,
            };
            l.push(
                m.get(t.label())
                    .map_or_else(|| "-".into(), |v| fmt_ratio(*v)),
            );
        }
        lines.push(l);
    }
    let ncols = lines[0].len();
    let widths: Vec<usize> = (0..ncols)
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        for (c, cell) in l.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c < 2 {
                let _ = write!(out, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "{}{cell}", " ".repeat(pad));
            }
            if c + 1 < ncols {
                out.push_str("  ");
            }
        }
        out.push('\n');
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (ncols - 1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

/// The serving threads' CPU per operation on the two in-process FUSE targets, for each
/// operation counted in operations that both ran: fuse's, the ceiling's, and the difference,
/// in µs. The difference is what ntlinkfs's own work adds to each request (both pay the same
/// kernel round trip and fuser's parsing); unlike the wall-time ratio it hardly moves with the
/// machine's load. Empty unless both targets ran.
pub fn server_cpu_table(res: &Results, targets: &[TargetName]) -> String {
    if !targets.contains(&TargetName::Fuse) || !targets.contains(&TargetName::Ceiling) {
        return String::new();
    }
    let per_op = |key: &str, t: TargetName| -> Option<f64> {
        let (s, _) = res.get(key, t)?;
        (s.count > 0).then_some(s.server_cpu? * 1e6 / s.count as f64)
    };
    let mut out = String::new();
    for d in OPS.iter().filter(|d| d.unit == Unit::OpsPerSec) {
        let key = format!("{}/{}", d.workload, d.op);
        let (Some(f), Some(c)) = (
            per_op(&key, TargetName::Fuse),
            per_op(&key, TargetName::Ceiling),
        ) else {
            continue;
        };
        if out.is_empty() {
            let _ = writeln!(
                out,
                "{:<22} {:>10} {:>10} {:>10}",
                "serving CPU µs/op", "fuse", "ceiling", "fuse-ceil"
            );
        }
        let _ = writeln!(out, "{key:<22} {f:>10.2} {c:>10.2} {:>10.2}", f - c);
    }
    out
}

/// The goals as lines of text.
pub fn goals_text(goals: &[Goal]) -> String {
    let mut out = String::new();
    for g in goals {
        let _ = writeln!(
            out,
            "  [{}] {:<42} {:<17} measured {:>10}  needed {}",
            if g.met { "met" } else { "NOT met" },
            g.goal,
            g.op,
            fmt_value(g.measured),
            fmt_value(g.required)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(count: u64, bytes: u64, seconds: f64) -> Sample {
        Sample {
            count,
            bytes,
            seconds,
            server_cpu: None,
        }
    }

    #[test]
    fn every_op_name_is_unique() {
        for (i, a) in OPS.iter().enumerate() {
            for b in &OPS[i + 1..] {
                assert!(
                    (a.workload, a.op) != (b.workload, b.op),
                    "{}/{}",
                    a.workload,
                    a.op
                );
            }
        }
    }

    #[test]
    fn results_keep_the_best_run_in_each_direction() {
        let mut r = Results::default();
        r.add("meta/create", TargetName::Tmpfs, sample(100, 0, 2.0));
        r.add("meta/create", TargetName::Tmpfs, sample(100, 0, 1.0));
        r.add("meta/create", TargetName::Tmpfs, sample(100, 0, 4.0));
        assert_eq!(r.value("meta/create", TargetName::Tmpfs), Some(100.0));
        r.add("mount/ready", TargetName::Fuse, sample(5, 0, 0.010));
        r.add("mount/ready", TargetName::Fuse, sample(5, 0, 0.020));
        assert_eq!(r.value("mount/ready", TargetName::Fuse), Some(10.0));
    }

    #[test]
    fn ratios_read_as_times_better() {
        assert_eq!(ratio(Unit::OpsPerSec, 50.0, 100.0), Some(0.5));
        assert_eq!(ratio(Unit::Millis, 10.0, 100.0), Some(10.0));
        assert_eq!(ratio(Unit::OpsPerSec, 0.0, 100.0), None);
    }

    #[test]
    fn table_and_goals_show_ratios() {
        let mut r = Results::default();
        r.add("meta/stat", TargetName::Tmpfs, sample(1000, 0, 1.0));
        r.add("meta/stat", TargetName::Ntfs3g, sample(200, 0, 1.0));
        r.add("meta/stat", TargetName::Fuse, sample(600, 0, 1.0));
        let t = table(
            &r,
            &[TargetName::Tmpfs, TargetName::Ntfs3g, TargetName::Fuse],
        );
        assert!(t.contains("fuse÷tmpfs"), "{t}");
        assert!(t.contains("0.60x"), "{t}");
        assert!(t.contains("3.00x"), "{t}");
        let g = goals(&r);
        assert!(g
            .iter()
            .any(|g| g.op == "meta/stat" && g.met && g.required == 0.5));
        assert!(g
            .iter()
            .any(|g| g.op == "meta/stat" && !g.met && g.required == 5.0));
    }

    #[test]
    fn the_ceiling_is_a_reference_for_fuse_only() {
        let mut r = Results::default();
        r.add("meta/create", TargetName::Ceiling, sample(1000, 0, 1.0));
        r.add("meta/create", TargetName::Fuse, sample(800, 0, 1.0));
        r.add("meta/create", TargetName::Engine, sample(9000, 0, 1.0));
        let ts = [TargetName::Fuse, TargetName::Ceiling, TargetName::Engine];
        let t = table(&r, &ts);
        assert!(t.contains("fuse÷ceiling"), "{t}");
        assert!(!t.contains("engine÷ceiling"), "{t}");
        assert!(t.contains("0.80x"), "{t}");
        let g = goals(&r);
        assert!(g
            .iter()
            .any(|g| g.op == "meta/create" && !g.met && g.required == 0.9));
        let rows = rows(&r, &ts);
        assert_eq!(rows[0].ratio_vs_ceiling.get("fuse"), Some(&0.8));
    }

    #[test]
    fn serving_cpu_is_shown_per_operation_for_fuse_beside_the_ceiling() {
        let with_cpu = |count, secs, cpu| Sample {
            server_cpu: Some(cpu),
            ..sample(count, 0, secs)
        };
        let mut r = Results::default();
        r.add("meta/link", TargetName::Fuse, with_cpu(1000, 0.030, 0.012));
        r.add(
            "meta/link",
            TargetName::Ceiling,
            with_cpu(1000, 0.025, 0.010),
        );
        // Only one of the two: no row.
        r.add(
            "meta/create",
            TargetName::Fuse,
            with_cpu(1000, 0.030, 0.012),
        );
        let both = [TargetName::Fuse, TargetName::Ceiling];
        let t = server_cpu_table(&r, &both);
        let row = t.lines().find(|l| l.starts_with("meta/link")).expect(&t);
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[1..], ["12.00", "10.00", "2.00"], "{t}");
        assert!(!t.contains("meta/create"), "{t}");
        assert!(server_cpu_table(&r, &[TargetName::Fuse]).is_empty());
    }

    #[test]
    fn big_values_get_thousands_separators() {
        assert_eq!(fmt_value(1234567.0), "1,234,567");
        assert_eq!(fmt_value(123.4), "123");
        assert_eq!(fmt_value(12.34), "12.3");
        assert_eq!(fmt_value(1.234), "1.23");
    }
}
