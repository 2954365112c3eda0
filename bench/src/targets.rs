//! Setting up the filesystems the benchmark compares: a fresh tmpfs (or /dev/shm when mounting
//! is refused) and ntfs-3g on a fresh mkntfs image kept in that tmpfs (so ntfs-3g is measured,
//! not the disk; [`host::Ntfs3gImage`] makes it). Everything set up here is unmounted and
//! removed when dropped. Nothing is installed: a missing ntfs-3g or mkntfs is an error that
//! says what to install.

use anyhow::{bail, Context, Result};
use host::kmount::{is_mount_point, mount_tmpfs, unmount, wait_mounted};
use host::ntfs3g::{ImageOptions, Ntfs3gImage};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The source name the benchmark's tmpfs mounts show in mountinfo.
const TMPFS_SOURCE: &str = "ntlinkfs-bench";

/// The scratch area: a fresh tmpfs holding the tmpfs target's directory and the ntfs-3g image,
/// plus empty directories for the other mount points.
#[derive(Debug)]
pub struct Scratch {
    pub base: PathBuf,
    /// Where the tmpfs lives (the tmpfs mount, or a directory in /dev/shm).
    pub tmpfs: PathBuf,
    tmpfs_mounted: bool,
    shm_dir: Option<PathBuf>,
    /// How the tmpfs was made, for the report.
    pub tmpfs_note: String,
}

impl Scratch {
    pub fn new(parent: Option<&Path>) -> Result<Scratch> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let base = parent.join(format!("ntlinkfs-bench-{}", std::process::id()));
        if base.exists() {
            bail!("{} exists already; remove it first", base.display());
        }
        std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
        let tmpfs = base.join("tmpfs");
        std::fs::create_dir(&tmpfs)?;
        let mut s = Scratch {
            base,
            tmpfs: tmpfs.clone(),
            tmpfs_mounted: false,
            shm_dir: None,
            tmpfs_note: String::new(),
        };
        match mount_tmpfs(&tmpfs, TMPFS_SOURCE) {
            Ok(()) => {
                s.tmpfs_mounted = true;
                s.tmpfs_note = format!("a fresh tmpfs mounted at {}", tmpfs.display());
            }
            Err(e) => {
                let shm = PathBuf::from(format!("/dev/shm/ntlinkfs-bench-{}", std::process::id()));
                std::fs::create_dir_all(&shm).with_context(|| {
                    format!(
                        "mount -t tmpfs failed ({e}) and {} cannot be created",
                        shm.display()
                    )
                })?;
                s.tmpfs_note = format!(
                    "mounting a tmpfs failed ({e}); using {} (the /dev/shm tmpfs) instead",
                    shm.display()
                );
                s.tmpfs = shm.clone();
                s.shm_dir = Some(shm);
            }
        }
        Ok(s)
    }

    /// A new empty directory under the scratch base (for a mount point).
    pub fn mount_dir(&self, name: &str) -> Result<PathBuf> {
        let d = self.base.join(name);
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        Ok(d)
    }

    /// Times mounting a fresh tmpfs until the mount point answers stat, `repeats` times.
    pub fn tmpfs_mount_times(&self, repeats: usize) -> Result<Vec<f64>> {
        let d = self.mount_dir("tmpfs-mount-time")?;
        let parent_dev = std::fs::metadata(&self.base)?.dev();
        let mut times = Vec::new();
        for _ in 0..repeats {
            let t = Instant::now();
            mount_tmpfs(&d, TMPFS_SOURCE)
                .with_context(|| format!("mount -t tmpfs on {}", d.display()))?;
            wait_mounted(&d, parent_dev, Duration::from_secs(10))?;
            times.push(t.elapsed().as_secs_f64());
            unmount(&d)?;
        }
        std::fs::remove_dir(&d)?;
        Ok(times)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.tmpfs_mounted {
            let _ = unmount(&self.tmpfs);
        }
        if let Some(shm) = &self.shm_dir {
            let _ = std::fs::remove_dir_all(shm);
        }
        // Only empty directories are left here (mount points); never recurse into a mount.
        if let Ok(rd) = std::fs::read_dir(&self.base) {
            for e in rd.flatten() {
                if !is_mount_point(&e.path()) {
                    let _ = std::fs::remove_dir(e.path());
                }
            }
        }
        let _ = std::fs::remove_dir(&self.base);
    }
}

/// ntfs-3g on a fresh mkntfs image in the scratch tmpfs, its mount point in the scratch base.
pub fn ntfs3g(scratch: &Scratch, size: u64) -> Result<Ntfs3gImage> {
    Ntfs3gImage::create(&ImageOptions {
        size,
        label: Some("ntlinkfs-bench".into()),
        mount_options: None,
        image: Some(scratch.tmpfs.join("ntfs.img")),
        mount_point: Some(scratch.mount_dir("ntfs-3g")?),
    })
    .context("the ntfs-3g target (or leave ntfs-3g out of --targets)")
}

/// How a target stands to the divergence registry (`host/divergences.toml`, the one place that
/// says where ntfs-3g differs from NTFS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stance {
    /// ntlinkfs (the FUSE mount): it must behave as NTFS, so no registered divergence may show;
    /// the benchmark fails where one would.
    Ntlinkfs,
    /// ntfs-3g: the registered divergences are its behaviour; the benchmark works around the
    /// ones its workloads meet and reports each.
    Ntfs3g,
    /// Not NTFS (tmpfs, the ceiling): the registry says nothing about it.
    NotNtfs,
}

/// A registry entry the workloads meet, and what the benchmark does about it.
#[derive(Debug, Clone, Copy)]
pub struct Met {
    /// The entry's id in `host/divergences.toml`.
    pub id: &'static str,
    /// What the benchmark does where the divergence shows.
    pub how: &'static str,
}

/// Registry entry: the first lookup after a directory becomes a junction fails with EIO.
pub const KIND_CHANGE_EIO: &str = "kind-change-eio";
/// Registry entry: ntfs-3g looks names up case-sensitively.
pub const CASE_INSENSITIVE_NAMES: &str = "case-insensitive-names";
/// Registry entry: NTFS allows 1024 names per file, ntfs-3g more.
pub const LINK_LIMIT: &str = "link-limit-1024";

/// The entries the workloads meet. Every id must be in the registry ([`check_registry`]): a
/// workaround without its entry is no longer the registry's word.
pub const MET: [Met; 3] = [
    Met {
        id: KIND_CHANGE_EIO,
        how: "store/junction: one lstat per junction outside the clock, where an EIO is taken as this divergence on ntfs-3g (counted) and is an error on ntlinkfs",
    },
    Met {
        id: CASE_INSENSITIVE_NAMES,
        how: "meta and store look names up in their stored case; a probe before the workloads (create Case-Probe, lstat case-probe) records whether lookups compare case-insensitively, which ntlinkfs must and ntfs-3g does not: its lookup figures are case-sensitive ones",
    },
    Met {
        id: LINK_LIMIT,
        how: "store/link gives each store file one name per project plus its own; --projects is limited so that no file passes NTFS's 1024 names, where ntlinkfs would refuse what ntfs-3g allows",
    },
];

/// How one registered divergence stood in a target's run: reported per target in the table's
/// header and in the JSON document (`targets[].divergences`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DivergenceUse {
    /// The registry id.
    pub id: &'static str,
    /// The registry's title.
    pub title: String,
    /// What the benchmark does about it ([`Met::how`]).
    pub how: &'static str,
    /// Whether the target's figures were produced under this divergence (it showed, or it is
    /// the target's registered behaviour that the figures measure).
    pub relied_on: bool,
    /// What the run saw.
    pub observed: String,
}

/// Checks that every entry the benchmark works around is in the registry built into this
/// binary, and returns them with their titles.
pub fn check_registry() -> Result<Vec<(Met, String)>> {
    let reg = host::divergences::registry();
    MET.iter()
        .map(|m| {
            let d = reg
                .divergence
                .iter()
                .find(|d| d.id == m.id)
                .with_context(|| {
                    format!(
                        "the benchmark works around divergence `{}`, which host/divergences.toml no longer lists: the workaround in bench/src has lost its reason",
                        m.id
                    )
                })?;
            Ok((*m, d.title.clone()))
        })
        .collect()
}

/// The most names a store file gets ([`LINK_LIMIT`]): its own and one per project.
pub fn names_per_store_file(projects: usize) -> usize {
    projects.saturating_add(1)
}

/// Refuses a project count that would give a store file more names than NTFS allows.
pub fn check_link_limit(projects: usize) -> Result<()> {
    let names = names_per_store_file(projects);
    if names > vfs_core::types::MAX_LINKS {
        bail!(
            "--projects {projects} gives each store file {names} names; NTFS allows {} (docs/NTFS-RULES.md A1), and ntfs-3g's allowing more is registered divergence `{LINK_LIMIT}`: use at most {}",
            vfs_core::types::MAX_LINKS,
            vfs_core::types::MAX_LINKS - 1
        );
    }
    Ok(())
}

/// Does `dir` look names up case-insensitively? Creates `Case-Probe`, looks up `case-probe`,
/// removes the file. Outside any clock.
pub fn case_insensitive(dir: &Path) -> Result<bool> {
    let made = dir.join("Case-Probe");
    std::fs::File::create(&made).with_context(|| format!("creating {}", made.display()))?;
    let other = dir.join("case-probe");
    let found = match std::fs::symlink_metadata(&other) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => bail!("lstat {}: {e}", other.display()),
    };
    std::fs::remove_file(&made).with_context(|| format!("removing {}", made.display()))?;
    Ok(found)
}

/// What the registry's entries were in one target's run, from what the run saw: `eio` EIOs
/// met settling `junctions` junctions, the case probe's answer, and the project count.
pub fn divergence_uses(
    stance: Stance,
    met: &[(Met, String)],
    junctions: u64,
    eio: u64,
    case_insensitive: Option<bool>,
    projects: usize,
) -> Result<Vec<DivergenceUse>> {
    if stance == Stance::NotNtfs {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (m, title) in met {
        let (relied_on, observed) = match m.id {
            KIND_CHANGE_EIO => {
                if stance == Stance::Ntlinkfs && eio > 0 {
                    bail!(
                        "{eio} of {junctions} junctions answered EIO to the first lstat after they were set: NTFS shows a junction at once, and only ntfs-3g is registered to differ (`{KIND_CHANGE_EIO}`)"
                    );
                }
                if junctions == 0 {
                    (
                        false,
                        "no junction was made (no store workload)".to_string(),
                    )
                } else {
                    (
                        eio > 0,
                        format!("EIO at the first lstat of {eio} of {junctions} new junctions"),
                    )
                }
            }
            CASE_INSENSITIVE_NAMES => match case_insensitive {
                None => continue,
                Some(true) => {
                    if stance == Stance::Ntfs3g {
                        bail!(
                            "this ntfs-3g looks names up case-insensitively, which registered divergence `{CASE_INSENSITIVE_NAMES}` says it does not: the registry or the mount options are wrong"
                        );
                    }
                    (
                        false,
                        "lookups are case-insensitive, as on NTFS".to_string(),
                    )
                }
                Some(false) => {
                    if stance == Stance::Ntlinkfs {
                        bail!(
                            "the ntlinkfs mount looks names up case-sensitively; NTFS does not (docs/NTFS-RULES.md A5)"
                        );
                    }
                    (
                        true,
                        "lookups are case-sensitive: the meta and store lookup figures are for case-sensitive lookups".to_string(),
                    )
                }
            },
            LINK_LIMIT => (
                false,
                format!(
                    "at most {} names per file, within NTFS's {}",
                    names_per_store_file(projects),
                    vfs_core::types::MAX_LINKS
                ),
            ),
            _ => continue,
        };
        out.push(DivergenceUse {
            id: m.id,
            title: title.clone(),
            how: m.how,
            relied_on,
            observed,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workaround_has_its_registry_entry() {
        let met = check_registry().unwrap();
        assert_eq!(met.len(), MET.len());
        assert!(met.iter().all(|(_, title)| !title.is_empty()));
    }

    #[test]
    fn too_many_projects_are_refused_with_the_registry_entry() {
        assert!(check_link_limit(1023).is_ok());
        let e = check_link_limit(1024).unwrap_err().to_string();
        assert!(e.contains(LINK_LIMIT) && e.contains("1023"), "{e}");
    }

    #[test]
    fn what_each_stance_may_show() {
        let met = check_registry().unwrap();
        // ntfs-3g: the EIO and the case-sensitive lookups are relied on and reported.
        let u = divergence_uses(Stance::Ntfs3g, &met, 60, 60, Some(false), 20).unwrap();
        let by = |id: &str| u.iter().find(|d| d.id == id).unwrap();
        assert!(by(KIND_CHANGE_EIO).relied_on);
        assert!(by(CASE_INSENSITIVE_NAMES).relied_on);
        assert!(!by(LINK_LIMIT).relied_on);
        assert!(by(LINK_LIMIT).observed.contains("21 names"));
        // An ntfs-3g that no longer shows the EIO is fine; one that is case-insensitive is
        // not what the registry says.
        let u = divergence_uses(Stance::Ntfs3g, &met, 60, 0, None, 20).unwrap();
        assert!(!u.iter().any(|d| d.relied_on));
        assert!(divergence_uses(Stance::Ntfs3g, &met, 60, 0, Some(true), 20).is_err());
        // ntlinkfs must behave as NTFS.
        let u = divergence_uses(Stance::Ntlinkfs, &met, 60, 0, Some(true), 20).unwrap();
        assert!(!u.iter().any(|d| d.relied_on));
        assert!(divergence_uses(Stance::Ntlinkfs, &met, 60, 1, Some(true), 20).is_err());
        assert!(divergence_uses(Stance::Ntlinkfs, &met, 60, 0, Some(false), 20).is_err());
        // Not NTFS: nothing to say.
        assert!(
            divergence_uses(Stance::NotNtfs, &met, 0, 0, Some(false), 20)
                .unwrap()
                .is_empty()
        );
    }
}
