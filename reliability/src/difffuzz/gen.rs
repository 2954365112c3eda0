//! Random operation sequences over a small name space, so that operations keep meeting the
//! files earlier ones made: names `a`, `b`, `c` (and case variants `A`, `B`, `C` in sequences
//! that allow them), up to three levels deep. Half the paths are picked from what exists on the
//! reference mount, so most operations do something rather than fail with ENOENT.

use super::op::{Op, SLOTS, XATTR_NAMES};
use crate::sys::{Kind, RenameMode};

const NAMES: [&str; 3] = ["a", "b", "c"];

/// Names NTFS refuses (A5: `\ / : * ? " < > |` are invalid in NT names) or that only Win32
/// refuses (DOS device names, trailing dot or space).
const ODD_NAMES: [&str; 6] = ["q:r", "q*", "q?", "q|r", "con", "q."];

/// The generator's settings.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Use upper-case variants of names (NTFS is case-insensitive, ntfs-3g's POSIX namespace is
    /// not: a known divergence, so only some sequences do).
    pub case_variants: bool,
    /// Probability of a name NTFS or Win32 refuses.
    pub odd_name_rate: f64,
}

/// A seeded generator of operations.
pub struct Gen {
    rng: fastrand::Rng,
    cfg: GenConfig,
    existing: Vec<(String, Kind)>,
    open: [bool; SLOTS],
    /// Paths where this sequence set a junction that worked (symlinks look the same from
    /// Linux; reparse-point operations aim at these).
    junctions: Vec<String>,
}

impl Gen {
    /// A generator with a seed (same seed and same outcomes → same operations).
    pub fn new(seed: u64, cfg: GenConfig) -> Gen {
        Gen {
            rng: fastrand::Rng::with_seed(seed),
            cfg,
            existing: Vec::new(),
            open: [false; SLOTS],
            junctions: Vec::new(),
        }
    }

    /// Tells the generator how an operation it made turned out on the reference mount.
    pub fn observe(&mut self, op: &Op, ok: bool) {
        match op {
            Op::Open(s, _) => self.open[*s] = ok,
            Op::Junction(p, _) if ok => self.junctions.push(p.clone()),
            _ => {}
        }
    }

    /// An empty directory if there is one (NTFS takes a junction only on an empty directory,
    /// A3; ntfs-3g takes it on any: a listed divergence that would end the sequence).
    fn empty_dir(&mut self) -> Option<String> {
        let dirs: Vec<&String> = self
            .existing
            .iter()
            .filter(|(p, k)| {
                *k == Kind::Dir
                    && !self.existing.iter().any(|(q, _)| {
                        q.len() > p.len()
                            && q.starts_with(p.as_str())
                            && q.as_bytes()[p.len()] == b'/'
                    })
            })
            .map(|(p, _)| p)
            .collect();
        if dirs.is_empty() {
            None
        } else {
            Some(dirs[self.rng.usize(..dirs.len())].clone())
        }
    }

    /// A path that holds a reparse point: mostly one where this sequence set a junction.
    fn reparse_path(&mut self) -> String {
        if !self.junctions.is_empty() && self.rng.u32(..10) < 8 {
            return self.junctions[self.rng.usize(..self.junctions.len())].clone();
        }
        self.existing(Some(Kind::Symlink))
    }

    /// Tells the generator what exists now (paths relative to the sequence directory).
    pub fn set_existing(&mut self, paths: Vec<(String, Kind)>) {
        self.existing = paths;
    }

    fn name(&mut self) -> String {
        if self.cfg.odd_name_rate > 0.0 && self.rng.f64() < self.cfg.odd_name_rate {
            return ODD_NAMES[self.rng.usize(..ODD_NAMES.len())].to_string();
        }
        let n = NAMES[self.rng.usize(..NAMES.len())];
        if self.cfg.case_variants && self.rng.f64() < 0.15 {
            n.to_uppercase()
        } else {
            n.to_string()
        }
    }

    fn fresh_path(&mut self) -> String {
        let depth = match self.rng.u32(..10) {
            0..=4 => 1,
            5..=8 => 2,
            _ => 3,
        };
        (0..depth)
            .map(|_| self.name())
            .collect::<Vec<_>>()
            .join("/")
    }

    fn existing_of(&mut self, want: Option<Kind>) -> Option<String> {
        let pool: Vec<&String> = self
            .existing
            .iter()
            .filter(|(_, k)| want.is_none_or(|w| *k == w))
            .map(|(p, _)| p)
            .collect();
        if pool.is_empty() {
            None
        } else {
            Some(pool[self.rng.usize(..pool.len())].clone())
        }
    }

    /// A path that should exist: mostly one that does (of the kind wanted), sometimes one
    /// that does not.
    fn existing(&mut self, want: Option<Kind>) -> String {
        let r = self.rng.f64();
        if r < 0.8 {
            if let Some(p) = self.existing_of(want).or_else(|| self.existing_of(None)) {
                return p;
            }
        } else if r < 0.9 {
            if let Some(d) = self.existing_of(Some(Kind::Dir)) {
                let n = self.name();
                return format!("{d}/{n}");
            }
        }
        self.fresh_path()
    }

    /// A path to create: mostly a new name in an existing directory, sometimes one that
    /// exists (to meet collisions), sometimes anywhere.
    fn new_path(&mut self) -> String {
        let r = self.rng.f64();
        if r < 0.5 {
            if let Some(d) = self.existing_of(Some(Kind::Dir)) {
                if self.rng.u32(..3) > 0 {
                    let n = self.name();
                    return format!("{d}/{n}");
                }
            }
            return self.name();
        } else if r < 0.8 {
            if let Some(p) = self.existing_of(None) {
                return p;
            }
        }
        self.fresh_path()
    }

    /// A slot: mostly one the generator opened and has not closed.
    fn slot(&mut self) -> usize {
        let open: Vec<usize> = (0..SLOTS).filter(|s| self.open[*s]).collect();
        if !open.is_empty() && self.rng.f64() < 0.85 {
            open[self.rng.usize(..open.len())]
        } else {
            self.rng.usize(..SLOTS)
        }
    }

    fn size(&mut self) -> u64 {
        match self.rng.u32(..10) {
            0..=5 => self.rng.u64(..4096),
            6..=8 => self.rng.u64(..200_000),
            _ => self.rng.u64(..2_000_000),
        }
    }

    fn len(&mut self) -> u32 {
        match self.rng.u32(..10) {
            0..=6 => self.rng.u32(1..5000),
            _ => self.rng.u32(1..150_000),
        }
    }

    /// A relative symlink target: a name, a path, or one that climbs out with `..`.
    fn link_target(&mut self) -> String {
        let p = self.existing(None);
        match self.rng.u32(..4) {
            0 => format!("../{p}"),
            _ => p,
        }
    }

    /// The next operation.
    pub fn op(&mut self) -> Op {
        let file = Some(Kind::File);
        let dir = Some(Kind::Dir);
        let link = Some(Kind::Symlink);
        let mut w = self.rng.u32(..128);
        if (104..120).contains(&w) && !self.open.iter().any(|o| *o) && self.rng.bool() {
            // A descriptor operation with nothing open: often open something instead.
            w = 100;
        }
        match w {
            0..=9 => Op::Create(self.new_path()),
            10..=17 => Op::Mkdir(self.new_path()),
            18..=26 => {
                let p = self.existing(file);
                let off = self.size();
                let len = self.len();
                Op::Write(p, off, len, self.rng.u8(..))
            }
            27..=29 => {
                let p = self.existing(file);
                Op::Truncate(p, self.size())
            }
            30..=35 => Op::Read(self.existing(file)),
            36..=41 => Op::Stat(self.existing(None)),
            42..=43 => Op::StatFollow(self.existing(link)),
            44..=52 => {
                let a = self.existing(file);
                Op::Link(a, self.new_path())
            }
            53..=59 => Op::Unlink(self.existing(None)),
            60..=64 => Op::Rmdir(self.existing(dir)),
            65..=76 => {
                let a = self.existing(None);
                let b = if self.rng.u32(..5) < 3 {
                    self.new_path()
                } else {
                    self.existing(None)
                };
                // RENAME_NOREPLACE onto a new name is a listed divergence (ntfs-3g: EINVAL)
                // that ends the sequence: keep it rare.
                let m = match self.rng.u32(..40) {
                    0..=35 => RenameMode::Replace,
                    36 => RenameMode::NoReplace,
                    _ => RenameMode::Exchange,
                };
                Op::Rename(a, b, m)
            }
            77..=80 => {
                let t = self.link_target();
                Op::Symlink(t, self.new_path())
            }
            81..=82 => Op::Readlink(self.existing(link)),
            83..=88 => {
                // Mostly an empty directory: a junction on a file or on a non-empty directory
                // is a listed divergence that ends the sequence.
                // Sometimes an existing junction: a new target for it (the kernel may cache
                // link targets; a stale one would show in the next readlink or walk).
                let p = match self.rng.u32(..10) {
                    0 => self.existing(dir),
                    1 if !self.junctions.is_empty() => self.reparse_path(),
                    _ => match self.empty_dir() {
                        Some(d) => d,
                        None => self.fresh_path(),
                    },
                };
                let t = if self.rng.u32(..8) == 0 {
                    ".".to_string()
                } else {
                    self.existing(dir)
                };
                Op::Junction(p, t)
            }
            89..=91 => Op::Unreparse(self.reparse_path()),
            92..=93 => {
                if self.rng.u32(..5) > 0 {
                    Op::GetReparse(self.reparse_path())
                } else {
                    Op::GetReparse(self.existing(None))
                }
            }
            94..=99 => {
                let p = if self.rng.u32(..4) == 0 {
                    ".".to_string()
                } else {
                    self.existing(dir)
                };
                Op::List(p)
            }
            100..=103 => {
                let s = self.rng.usize(..SLOTS);
                self.open[s] = true;
                Op::Open(s, self.existing(file))
            }
            104..=107 => {
                let s = self.slot();
                let off = self.size();
                let len = self.len();
                Op::FdWrite(s, off, len, self.rng.u8(..))
            }
            108..=110 => Op::FdRead(self.slot()),
            111..=113 => Op::FdStat(self.slot()),
            114..=115 => {
                let s = self.slot();
                Op::FdTruncate(s, self.size())
            }
            116..=119 => {
                let s = self.slot();
                self.open[s] = false;
                Op::Close(s)
            }
            120..=122 => {
                let k = self.rng.usize(..XATTR_NAMES.len());
                Op::SetXattr(self.existing(None), k, self.rng.u8(..))
            }
            123..=124 => {
                let k = self.rng.usize(..XATTR_NAMES.len());
                Op::GetXattr(self.existing(None), k)
            }
            125 => {
                let k = self.rng.usize(..XATTR_NAMES.len());
                Op::RemoveXattr(self.existing(None), k)
            }
            _ => Op::ListXattr(self.existing(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> GenConfig {
        GenConfig {
            case_variants: true,
            odd_name_rate: 0.01,
        }
    }

    #[test]
    fn same_seed_same_operations() {
        let mut a = Gen::new(7, cfg());
        let mut b = Gen::new(7, cfg());
        for _ in 0..500 {
            assert_eq!(a.op(), b.op());
        }
    }

    #[test]
    fn every_generated_operation_reads_back_from_its_text() {
        let mut g = Gen::new(11, cfg());
        g.set_existing(vec![("a".into(), Kind::Dir), ("a/b".into(), Kind::File)]);
        for _ in 0..2000 {
            let op = g.op();
            assert_eq!(op.to_string().parse::<Op>(), Ok(op.clone()));
        }
    }

    #[test]
    fn without_case_variants_names_are_lower_case() {
        let mut g = Gen::new(
            3,
            GenConfig {
                case_variants: false,
                odd_name_rate: 0.0,
            },
        );
        for _ in 0..2000 {
            let op = g.op();
            for p in op.paths() {
                assert_eq!(p, p.to_lowercase(), "{op}");
            }
        }
    }
}
