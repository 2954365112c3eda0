//! Runs the chosen workloads on the chosen targets, one target at a time, with a progress bar,
//! then prints the table and the goals and writes the JSON document.

use super::fs::{LinkStyle, PathTarget};
use super::report::{self, Config, Machine, Results, Sample, TargetInfo};
use super::targets::{self, DivergenceUse, Met, Scratch, Stance};
use super::{ceiling, engine, fs, fuse, memory, BenchArgs, TargetName, WorkloadName};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::Path;
use vfs_core::{Volume, VolumeOptions};

fn config(a: &BenchArgs) -> Result<Config> {
    let q = a.quick;
    let pick = |v: Option<u32>, full: usize, quick: usize| {
        v.map_or(if q { quick } else { full }, |v| v as usize)
    };
    let data_size = a.data_size.unwrap_or(if q { 64 << 20 } else { 1 << 30 });
    let cfg = Config {
        quick: q,
        files: pick(a.files, 20_000, 300),
        list_entries: pick(a.list_entries, 10_000, 1_000),
        list_repeats: if q { 3 } else { 20 },
        store_files: pick(a.store_files, 5_000, 200),
        files_per_package: 50,
        projects: pick(a.projects, 20, 3),
        data_size,
        rand_reads: ((data_size / 4096) as usize).min(65_536),
        memory_files: pick(a.memory_files, 1_000_000, 20_000),
        repeat: a.repeat.map_or(1, |v| v as usize),
        mount_repeats: pick(a.mount_repeats, 10, 3),
    };
    for (name, v) in [
        ("--files", cfg.files),
        ("--list-entries", cfg.list_entries),
        ("--store-files", cfg.store_files),
        ("--projects", cfg.projects),
        ("--memory-files", cfg.memory_files),
        ("--repeat", cfg.repeat),
        ("--mount-repeats", cfg.mount_repeats),
    ] {
        if v == 0 {
            anyhow::bail!("{name} must be at least 1");
        }
    }
    if cfg.files > 9_999_999 || cfg.list_entries > 999_999 {
        anyhow::bail!("--files is limited to 9,999,999 and --list-entries to 999,999");
    }
    if data_size < 4096 {
        anyhow::bail!("--data-size must be at least 4K");
    }
    targets::check_link_limit(cfg.projects)?;
    Ok(cfg)
}

fn dedup<T: Ord + Copy>(v: &[T]) -> Vec<T> {
    let mut out = v.to_vec();
    out.sort();
    out.dedup();
    out
}

/// Fresh FUSE mounts the path workloads run on: as many as the ceiling's mounts (one per
/// serving-thread count) when the ceiling is measured too, so that each side's figure is the
/// best of the same number of runs (`--repeat` on each mount); else one.
fn fuse_mounts(targets: &[TargetName]) -> usize {
    if targets.contains(&TargetName::Ceiling) {
        ceiling::THREADS.len()
    } else {
        1
    }
}

/// Which workloads apply to a target (memory is the engine's and the FUSE daemon's; the
/// ceiling's mount time is nobody's question), and how many times each runs (the ceiling once
/// per thread count, the fuse target's path workloads once per mount of [`fuse_mounts`]).
fn applies(t: TargetName, w: WorkloadName, fuse_mounts: usize) -> u64 {
    match (t, w) {
        (TargetName::Engine, _) => 1,
        (TargetName::Fuse, WorkloadName::Memory | WorkloadName::Mount) => 1,
        (TargetName::Fuse, _) => fuse_mounts as u64,
        (_, WorkloadName::Memory) => 0,
        (TargetName::Ceiling, WorkloadName::Mount) => 0,
        (TargetName::Ceiling, _) => ceiling::THREADS.len() as u64,
        _ => 1,
    }
}

struct Run<'a> {
    cfg: &'a Config,
    results: Results,
    bar: ProgressBar,
    /// The registry entries the workloads meet, with their titles.
    met: Vec<(Met, String)>,
}

impl Run<'_> {
    fn step(&self, t: TargetName, w: WorkloadName) {
        self.bar
            .set_message(format!("{} {:?}", t.label(), w).to_lowercase());
    }

    /// Runs the syscall workloads in `dir`.
    fn path_workloads(
        &mut self,
        t: TargetName,
        pt: &PathTarget,
        ws: &[WorkloadName],
    ) -> Result<()> {
        for &w in ws {
            let f: fn(&PathTarget, &Config, fs::Sink) -> Result<()> = match w {
                WorkloadName::Meta => fs::meta,
                WorkloadName::Store => fs::store,
                WorkloadName::Data => fs::data,
                _ => continue,
            };
            self.step(t, w);
            for _ in 0..self.cfg.repeat {
                let results = &mut self.results;
                f(pt, self.cfg, &mut |op, s| results.add(op, t, s))
                    .with_context(|| format!("{} {w:?} workload", t.label()))?;
            }
            self.bar.inc(1);
        }
        Ok(())
    }

    /// The path workloads on a mounted directory: in a fresh `bench` directory there
    /// (removed afterwards), after the case probe on NTFS targets; returns how the registered
    /// divergences stood in the run (none for targets that are not NTFS).
    fn on_mounted_dir(
        &mut self,
        t: TargetName,
        mounted: &Path,
        links: LinkStyle,
        stance: Stance,
        ws: &[WorkloadName],
    ) -> Result<Vec<DivergenceUse>> {
        let dir = mounted.join("bench");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let case_insensitive = match stance {
            Stance::NotNtfs => None,
            _ => Some(targets::case_insensitive(&dir)?),
        };
        // Junction targets name the directory below the volume's root (`C:\bench\...`).
        let volume_dir = match links {
            LinkStyle::Junction | LinkStyle::JunctionCalls => "bench",
            LinkStyle::Symlink => "",
        };
        let pt = PathTarget::new(dir.clone(), volume_dir.into(), links, stance);
        self.path_workloads(t, &pt, ws)?;
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        let (junctions, eio) = pt.settled.get();
        targets::divergence_uses(
            stance,
            &self.met,
            junctions,
            eio,
            case_insensitive,
            self.cfg.projects,
        )
        .with_context(|| format!("{} target", t.label()))
    }

    /// One round of the ceiling: a fresh mount served by `threads` threads, the path workloads
    /// of `ws` on it, unmounted.
    fn ceiling_round(&mut self, s: &Scratch, threads: usize, ws: &[WorkloadName]) -> Result<()> {
        let mnt = s.mount_dir("ceiling")?;
        let m = ceiling::mount(&mnt, threads)?;
        let t = TargetName::Ceiling;
        self.on_mounted_dir(t, &m.dir, LinkStyle::JunctionCalls, Stance::NotNtfs, ws)?;
        m.finish()?;
        let _ = std::fs::remove_dir(&mnt);
        Ok(())
    }

    fn mount_sample(&mut self, t: TargetName, op: &'static str, mut times: Vec<f64>) {
        self.results.add(op, t, engine::median_sample(&mut times));
    }
}

/// The divergences of several mounts of one target: each registry entry once, the mount on
/// which it showed (was relied on) winning over one on which it did not.
fn merge_divergences(into: &mut Vec<DivergenceUse>, seen: Vec<DivergenceUse>) {
    for d in seen {
        match into.iter_mut().find(|e| e.id == d.id) {
            Some(e) => {
                if d.relied_on && !e.relied_on {
                    *e = d;
                }
            }
            None => into.push(d),
        }
    }
}

/// Holds this thread, and every thread and process started from it later, to `cpu`;
/// returns how many CPUs the process could use before.
fn pin_to(cpu: usize) -> Result<usize> {
    let before = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    anyhow::ensure!(cpu < max, "--cpu {cpu}: at most {} here", max - 1);
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes inside it (cpu < its size).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: pid 0 is the calling thread; `set` is a valid set of the size given.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) } != 0 {
        anyhow::bail!(
            "--cpu {cpu}: {} (this machine has {before} CPUs to run on)",
            std::io::Error::last_os_error()
        );
    }
    Ok(before)
}

pub fn run(a: BenchArgs) -> Result<i32> {
    // First, so that every thread and mount started below inherits it.
    let pinned = match a.cpu {
        Some(c) => Some((c, pin_to(c)?)),
        None => None,
    };
    let cfg = config(&a)?;
    let targets = dedup(&a.targets);
    let workloads = dedup(&a.workloads);
    let mut machine = Machine::read();
    machine.pinned = pinned;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut notes: Vec<String> = Vec::new();
    if workloads.contains(&WorkloadName::Memory) && !targets.contains(&TargetName::Engine) {
        notes.push(
            "the engine's memory/per-file is measured on the engine target only; add engine to --targets"
                .into(),
        );
    }
    let total: u64 = targets
        .iter()
        .map(|&t| {
            workloads
                .iter()
                .map(|&w| applies(t, w, fuse_mounts(&targets)))
                .sum::<u64>()
        })
        .sum();
    let bar = if a.no_progress {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };
    let mut run = Run {
        cfg: &cfg,
        results: Results::default(),
        bar,
        met: targets::check_registry()?,
    };
    let mut infos: Vec<TargetInfo> = Vec::new();
    let needs_scratch = targets.iter().any(|t| *t != TargetName::Engine);
    let scratch = if needs_scratch {
        Some(Scratch::new(a.scratch.as_deref())?)
    } else {
        None
    };
    let has = |w: WorkloadName| workloads.contains(&w);

    for &t in &targets {
        match t {
            TargetName::Tmpfs => {
                let s = scratch.as_ref().context("scratch")?;
                let divergences = run.on_mounted_dir(
                    t,
                    &s.tmpfs,
                    LinkStyle::Symlink,
                    Stance::NotNtfs,
                    &workloads,
                )?;
                infos.push(TargetInfo {
                    name: t.label(),
                    description: s.tmpfs_note.clone(),
                    notes: vec![
                        "node_modules/<pkg> are relative Linux symlinks: junctions cannot exist on tmpfs"
                            .into(),
                    ],
                    divergences,
                });
                if has(WorkloadName::Mount) {
                    run.step(t, WorkloadName::Mount);
                    let times = s.tmpfs_mount_times(cfg.mount_repeats)?;
                    run.mount_sample(t, "mount/ready", times);
                    run.bar.inc(1);
                }
            }
            TargetName::Ntfs3g => {
                let s = scratch.as_ref().context("scratch")?;
                let size = (cfg.data_size + (1 << 30)).max(1 << 30);
                let mut n = targets::ntfs3g(s, size)?;
                n.mount()?;
                let version = n.version();
                let divergences = run.on_mounted_dir(
                    t,
                    n.mount_point(),
                    LinkStyle::Junction,
                    Stance::Ntfs3g,
                    &workloads,
                )?;
                n.unmount()?;
                infos.push(TargetInfo {
                    name: t.label(),
                    description: format!(
                        "{} with default options on a fresh {} MiB mkntfs image kept in tmpfs",
                        if version.is_empty() {
                            "ntfs-3g"
                        } else {
                            &version
                        },
                        size >> 20
                    ),
                    notes: vec![
                        "node_modules/<pkg> are real junctions (system.ntfs_reparse_data)".into(),
                    ],
                    divergences,
                });
                if has(WorkloadName::Mount) {
                    run.step(t, WorkloadName::Mount);
                    let mut times = Vec::new();
                    for _ in 0..cfg.mount_repeats {
                        times.push(n.mount()?.as_secs_f64());
                        n.unmount()?;
                    }
                    run.mount_sample(t, "mount/ready", times);
                    run.bar.inc(1);
                }
            }
            TargetName::Fuse => {
                let s = scratch.as_ref().context("scratch")?;
                let mnt = s.mount_dir("fuse")?;
                let threads = a.fuse_threads.map(|t| t as usize);
                let opts = fuse::options(threads, &a);
                // Memory first: after the data workload (256 MiB and more written, read and
                // freed in this process) the resident-set measure read about half its real
                // growth in some runs (175 against 328 B per file, 2 of 4 runs of `--targets
                // fuse --workloads data,memory --repeat 2`), presumably memory that the
                // allocator kept resident being reused; the heap measure did not move.
                if has(WorkloadName::Memory) {
                    run.step(t, WorkloadName::Memory);
                    for _ in 0..cfg.repeat {
                        let results = &mut run.results;
                        memory::fuse(&mnt, &opts, &cfg, &mut |op, smp| results.add(op, t, smp))
                            .context("fuse Memory workload")?;
                    }
                    run.bar.inc(1);
                }
                let path_ws: Vec<WorkloadName> = workloads
                    .iter()
                    .copied()
                    .filter(|w| !matches!(w, WorkloadName::Mount | WorkloadName::Memory))
                    .collect();
                let interleaved = targets.contains(&TargetName::Ceiling);
                let mut divergences: Vec<DivergenceUse> = Vec::new();
                for round in 0..fuse_mounts(&targets) {
                    let m = fuse::mount(&mnt, &opts)?;
                    let seen = run.on_mounted_dir(
                        t,
                        &m.dir,
                        LinkStyle::Junction,
                        Stance::Ntlinkfs,
                        &path_ws,
                    )?;
                    m.finish()?;
                    merge_divergences(&mut divergences, seen);
                    // With the ceiling measured, its rounds take turns with these, so that a
                    // change in the machine's load between rounds falls on both sides.
                    if let Some(&threads) =
                        interleaved.then(|| ceiling::THREADS.get(round)).flatten()
                    {
                        run.ceiling_round(s, threads, &path_ws)?;
                    }
                }
                infos.push(TargetInfo {
                    name: t.label(),
                    description: format!(
                        "the ntlinkfs FUSE mount of a fresh volume, served in process by {} threads{}{}{}{}{}{}",
                        opts.threads,
                        if opts.widen_when_idle { " (one more while the machine is idle)" } else { "" },
                        if opts.spare_thread { " (and a parked spare)" } else { "" },
                        if opts.wait_worker { " and a worker for waiting handlers" } else { "" },
                        if opts.writeback_cache { ", writeback cache" } else { "" },
                        if opts.passthrough { ", passthrough for opens for writing" } else { "" },
                        match fuse_mounts(&targets) {
                            1 => String::new(),
                            n => format!(
                                "; the path workloads on {n} fresh mounts, as many as the ceiling's and \
                                 taking turns with them, so both figures are the best of as many runs"
                            ),
                        }
                    ),
                    notes: vec![
                        "node_modules/<pkg> are real junctions (system.ntfs_reparse_data)".into(),
                        "default MountOptions; the engine's invariants are checked after the run"
                            .into(),
                        "mount/ready-cli: `ntlinkfs mount` started to its ready line".into(),
                    ],
                    divergences,
                });
                if has(WorkloadName::Mount) {
                    run.step(t, WorkloadName::Mount);
                    let times = fuse::mount_times(&mnt, &cfg, &opts)?;
                    run.mount_sample(t, "mount/ready", times);
                    let times = fuse::cli_mount_times(&mnt, &cfg, threads)?;
                    run.mount_sample(t, "mount/ready-cli", times);
                    run.bar.inc(1);
                }
                let _ = std::fs::remove_dir(&mnt);
            }
            TargetName::Ceiling => {
                let s = scratch.as_ref().context("scratch")?;
                let ws: Vec<WorkloadName> = workloads
                    .iter()
                    .copied()
                    .filter(|w| *w != WorkloadName::Mount)
                    .collect();
                // With the fuse target measured, the ceiling's rounds run in turn with its
                // (the fuse branch above).
                if !targets.contains(&TargetName::Fuse) {
                    for &threads in &ceiling::THREADS {
                        run.ceiling_round(s, threads, &ws)?;
                    }
                }
                infos.push(TargetInfo {
                    name: t.label(),
                    description: format!(
                        "the ceiling: a minimal in-memory fuser file system (bench/src/ceiling.rs), \
                         no semantics, no default_permissions, the faster of {:?} serving threads per operation{}",
                        ceiling::THREADS,
                        if targets.contains(&TargetName::Fuse) {
                            "; its mounts take turns with the fuse target's"
                        } else {
                            ""
                        }
                    ),
                    notes: vec![
                        "store/junction times a junction's calls (mkdir + setxattr of the reparse buffer, only stored); the node_modules/<pkg> the walk follows are relative symlinks, made after and timed as store/symlink"
                            .into(),
                    ],
                    divergences: Vec::new(),
                });
            }
            TargetName::Engine => {
                infos.push(TargetInfo {
                    name: t.label(),
                    description: "the vfs-core engine in process, through Volume's API (no kernel)"
                        .into(),
                    notes: vec![
                        "node_modules/<pkg> are real junctions (create_junction)".into(),
                        "mount/ready is Volume::new plus a stat of the root".into(),
                    ],
                    divergences: Vec::new(),
                });
                // Memory first, as on the fuse target: its resident-set measure is read
                // before the data workload has passed through the allocator.
                let memory_first = workloads
                    .iter()
                    .filter(|w| **w == WorkloadName::Memory)
                    .chain(workloads.iter().filter(|w| **w != WorkloadName::Memory));
                for &w in memory_first {
                    run.step(t, w);
                    for _ in 0..cfg.repeat {
                        let results = &mut run.results;
                        let mut sink = |op: &'static str, smp: Sample| results.add(op, t, smp);
                        match w {
                            WorkloadName::Meta | WorkloadName::Store | WorkloadName::Data => {
                                let vol = Volume::new(VolumeOptions::default());
                                match w {
                                    WorkloadName::Meta => engine::meta(&vol, &cfg, &mut sink),
                                    WorkloadName::Store => engine::store(&vol, &cfg, &mut sink),
                                    _ => engine::data(&vol, &cfg, &mut sink),
                                }
                            }
                            WorkloadName::Mount => engine::mount(&cfg, &mut sink),
                            WorkloadName::Memory => engine::memory(&cfg, &mut sink)
                                .and_then(|()| memory::engine(&cfg, &mut sink)),
                        }
                        .with_context(|| format!("engine {w:?} workload"))?;
                    }
                    run.bar.inc(1);
                }
            }
        }
    }
    run.bar.finish_and_clear();
    drop(scratch);

    machine.load_end = report::load_average();
    if machine.load_start.max(machine.load_end) > machine.nproc as f64 / 2.0 {
        notes.push(format!(
            "the machine was busy (load average {:.1} at the start, {:.1} at the end, on {} CPUs): \
             every figure is noisy, the FUSE targets' round trips most; compare ratios within one run",
            machine.load_start, machine.load_end, machine.nproc
        ));
    }
    let results = run.results;
    let doc = report::document(&command, &machine, &cfg, &infos, &targets, &results, &notes);
    let goals = report::goals(&results);
    let mut text = String::new();
    text.push_str(&format!(
        "ntlinkfs bench: {}, {} MiB RAM, {}, {}, load {:.1} -> {:.1}\n",
        match machine.pinned {
            Some((c, of)) => format!("held to CPU {c} of {of} (--cpu)"),
            None => format!("{} CPUs", machine.nproc),
        },
        machine.mem_total_kib / 1024,
        machine.kernel,
        machine.cpu_model,
        machine.load_start,
        machine.load_end
    ));
    for i in &infos {
        text.push_str(&format!("  {:<8} {}\n", i.name, i.description));
        for n in &i.notes {
            text.push_str(&format!("  {:<8}   note: {n}\n", ""));
        }
        for d in &i.divergences {
            text.push_str(&format!(
                "  {:<8}   divergence {} ({}): {}\n",
                "",
                d.id,
                if d.relied_on {
                    "relied on"
                } else {
                    "not relied on"
                },
                d.observed
            ));
        }
    }
    text.push('\n');
    text.push_str(&report::table(&results, &targets));
    text.push_str("(÷ columns: times faster, or smaller, than the reference; >1 is better)\n");
    let cpu = report::server_cpu_table(&results, &targets);
    if !cpu.is_empty() {
        text.push('\n');
        text.push_str(&cpu);
        text.push_str("(CPU the serving threads used per operation, in the best run; fuse-ceil is ntlinkfs's own work per request)\n");
    }
    if !goals.is_empty() {
        text.push_str("\ngoals (issues 7 and 17; reported, never asserted):\n");
        text.push_str(&report::goals_text(&goals));
    }
    for n in &notes {
        text.push_str(&format!("note: {n}\n"));
    }
    let json = serde_json::to_string_pretty(&doc)?;
    match a.json.as_deref() {
        Some(p) if p.as_os_str() == "-" => {
            eprint!("{text}");
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}")?;
        }
        Some(p) => {
            print!("{text}");
            std::fs::write(p, json + "\n").with_context(|| format!("writing {}", p.display()))?;
        }
        None => print!("{text}"),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(id: &'static str, relied_on: bool, observed: &str) -> DivergenceUse {
        DivergenceUse {
            id,
            title: id.into(),
            how: "",
            relied_on,
            observed: observed.into(),
        }
    }

    #[test]
    fn the_fuse_target_gets_as_many_mounts_as_the_ceiling() {
        assert_eq!(fuse_mounts(&[TargetName::Fuse]), 1);
        assert_eq!(fuse_mounts(&[TargetName::Tmpfs, TargetName::Fuse]), 1);
        let both = [TargetName::Fuse, TargetName::Ceiling];
        assert_eq!(fuse_mounts(&both), ceiling::THREADS.len());
        // The progress bar counts each mount's path workloads, and memory and mount once.
        let n = fuse_mounts(&both);
        assert_eq!(applies(TargetName::Fuse, WorkloadName::Meta, n), n as u64);
        assert_eq!(applies(TargetName::Fuse, WorkloadName::Memory, n), 1);
        assert_eq!(applies(TargetName::Fuse, WorkloadName::Mount, n), 1);
        assert_eq!(
            applies(TargetName::Ceiling, WorkloadName::Store, n),
            ceiling::THREADS.len() as u64
        );
    }

    #[test]
    fn divergences_of_several_mounts_are_listed_once_and_a_showing_one_wins() {
        let mut all = Vec::new();
        merge_divergences(
            &mut all,
            vec![used("a", false, "first"), used("b", true, "b1")],
        );
        merge_divergences(
            &mut all,
            vec![used("a", true, "second"), used("b", false, "b2")],
        );
        merge_divergences(&mut all, vec![used("c", false, "c")]);
        let got: Vec<(&str, bool, &str)> = all
            .iter()
            .map(|d| (d.id, d.relied_on, d.observed.as_str()))
            .collect();
        assert_eq!(
            got,
            [("a", true, "second"), ("b", true, "b1"), ("c", false, "c")]
        );
    }
}
