//! Path resolution in one place (A3, A4): walks components case-insensitively (exactly in
//! case-sensitive directories), follows junctions and symbolic links the way the Windows I/O
//! manager reparses, counts reparse points against NTFS's limit of 63 per path.

use super::store::State;
use crate::error::{Error, Result};
use crate::name::{validate_name, Name};
use crate::target::{parse_target, ReparseTarget};
use crate::types::{FileId, SymlinkKindRule, VolumeOptions};
use crate::wtf16::starts_with_ascii;
use std::collections::VecDeque;

/// Where a path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Walked {
    /// An existing file; `entry` is the directory entry that named it (None for the root or
    /// for a path ending in `..`).
    Found {
        id: FileId,
        entry: Option<(FileId, Box<[u16]>)>,
        pending: bool,
    },
    /// The last component does not exist, its directory does (dangling links end here too).
    Missing { parent: FileId, name: Name },
    /// A link led to another drive letter that the caller mapped to a host path.
    Mapped {
        letter: char,
        host: String,
        rest: Vec<Vec<u16>>,
    },
}

/// One component of a path on its way through the walker: `.` and `..` (applied lexically),
/// a [`Name`] validated once when the path was parsed, or units that are no valid name. An
/// invalid component is kept, not refused at parse time, because NTFS reports what it meets
/// first: a missing directory before it is `ObjectPathNotFound`, a file used as a directory
/// before it too; only a walk that reaches it answers with its error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Comp {
    Dot,
    DotDot,
    Name(Name),
    Invalid { units: Vec<u16>, error: Error },
}

impl Comp {
    #[inline]
    pub fn from_units(units: Vec<u16>) -> Comp {
        if is_dot(&units) {
            Comp::Dot
        } else if is_dotdot(&units) {
            Comp::DotDot
        } else {
            match validate_name(&units) {
                Ok(()) => Comp::Name(Name::from_valid_units(units)),
                Err(error) => Comp::Invalid { units, error },
            }
        }
    }

    /// The component's units as they were given.
    pub fn units(&self) -> &[u16] {
        match self {
            Comp::Dot => &[DOT],
            Comp::DotDot => &[DOT, DOT],
            Comp::Name(n) => n.display(),
            Comp::Invalid { units, .. } => units,
        }
    }

    /// The component as a name to look up or create.
    pub fn into_name(self) -> Result<Name> {
        match self {
            Comp::Name(n) => Ok(n),
            Comp::Invalid { error, .. } => Err(error),
            // `.`/`..` never survive parsing of a caller's path (see `parse_user_path`); as a
            // name they are what NTFS refuses (naming-a-file; A5).
            Comp::Dot | Comp::DotDot => Err(Error::ObjectNameInvalid),
        }
    }
}

const DOT: u16 = b'.' as u16;

/// Parses a caller's path into components, once, at the engine's boundary. Accepted forms:
/// `\a\b`, `a\b` (from the root), `/a/b`, `C:\a\b`, `\??\C:\a`, `\\?\C:\a`. Another
/// drive letter is refused with [`Error::NotOnThisVolume`].
pub(crate) fn parse_user_path(path: &[u16], opts: &VolumeOptions) -> Result<Vec<Comp>> {
    let mut p = path;
    let mut verbatim = false;
    for prefix in [r"\??\", r"\\?\", r"\\.\"] {
        if starts_with_ascii(p, prefix) {
            p = &p[prefix.len()..];
            verbatim = prefix != r"\\.\";
            break;
        }
    }
    if p.len() >= 2 && p[1] == b':' as u16 && (p[0] as u32) < 128 {
        let letter = (p[0] as u8 as char).to_ascii_uppercase();
        if letter.is_ascii_alphabetic() {
            if letter != opts.drive_letter.to_ascii_uppercase() {
                return Err(Error::NotOnThisVolume);
            }
            p = &p[2..];
        }
    }
    let comps = p
        .split(|&u| u == b'\\' as u16 || u == b'/' as u16)
        .filter(|c| !c.is_empty());
    let mut out: Vec<Comp> = Vec::new();
    for c in comps {
        if verbatim {
            // `\\?\` and NT paths skip Win32 normalization: `.` and `..` reach NTFS as names,
            // which it refuses (naming-a-file; A5).
            if is_dot(c) || is_dotdot(c) {
                return Err(Error::ObjectNameInvalid);
            }
            out.push(Comp::from_units(c.to_vec()));
        } else if is_dot(c) {
        } else if is_dotdot(c) {
            // Win32 (RtlDosPathNameToNtPathName) removes `..` lexically before the file system
            // sees the path, so `\j\..\x` is `\x` even when `j` is a junction (A5).
            out.pop();
        } else {
            out.push(Comp::from_units(c.to_vec()));
        }
    }
    Ok(out)
}

fn is_dot(c: &[u16]) -> bool {
    c == [DOT]
}
fn is_dotdot(c: &[u16]) -> bool {
    c == [DOT, DOT]
}

/// Walks `comps` from the root. Reparse points in every non-final component are followed; in
/// the final one only when `follow_final` (FILE_OPEN_REPARSE_POINT affects only the last
/// component, A4/WinBtrfs). `.` and `..` are lexical, applied to the path as substituted so far,
/// which is how a relative symlink's `..` is resolved against the link's parent (MS-FSCC
/// 2.1.2.4: SYMLINK_FLAG_RELATIVE targets are relative to the directory holding the link).
pub(crate) fn walk(
    st: &State,
    opts: &VolumeOptions,
    comps: Vec<Comp>,
    follow_final: bool,
) -> Result<Walked> {
    let mode = Mode {
        follow_links: true,
        follow_final,
        kind_rule: true,
    };
    walk_with(st, opts, comps, mode, None)
}

/// Walks the directory part of a path whose last component is about to be created, linked or
/// renamed to: reparse points are followed everywhere, and the directory is treated as a
/// middle component, so the Windows 11 file/directory symlink rule (A4) is not applied to it
/// (`create_path(r"\filelink\x")` then agrees with `open_path` of the same path, which walks
/// the link mid-path).
pub(crate) fn walk_parent(st: &State, opts: &VolumeOptions, comps: Vec<Comp>) -> Result<Walked> {
    let mode = Mode {
        follow_links: true,
        follow_final: true,
        kind_rule: false,
    };
    walk_with(st, opts, comps, mode, None)
}

/// Walks `comps` as they are, following no reparse point at all (a reparse-point directory is
/// then the empty directory it is, A3), and returns, with where the path leads, the display
/// form of every component walked: the path as the volume stores it (FileNameInformation's
/// normalized name, A5).
pub(crate) fn walk_literal(
    st: &State,
    opts: &VolumeOptions,
    comps: Vec<Comp>,
) -> Result<(Walked, Vec<Box<[u16]>>)> {
    let mode = Mode {
        follow_links: false,
        follow_final: false,
        kind_rule: false,
    };
    let mut trail = Vec::new();
    let walked = walk_with(st, opts, comps, mode, Some(&mut trail))?;
    Ok((walked, trail))
}

/// How a walk treats reparse points.
#[derive(Debug, Clone, Copy)]
struct Mode {
    /// Follow reparse points in non-final components.
    follow_links: bool,
    /// Follow a reparse point in the final component (not FILE_OPEN_REPARSE_POINT).
    follow_final: bool,
    /// Apply the Windows 11 symlink kind rule (A4) to what the final component reaches.
    kind_rule: bool,
}

fn walk_with(
    st: &State,
    opts: &VolumeOptions,
    comps: Vec<Comp>,
    mode: Mode,
    mut trail: Option<&mut Vec<Box<[u16]>>>,
) -> Result<Walked> {
    let Mode {
        follow_links,
        follow_final,
        kind_rule,
    } = mode;
    let mut stack: Vec<(FileId, Option<Box<[u16]>>)> = vec![(st.root, None)];
    let mut queue: VecDeque<Comp> = comps.into();
    let mut reparse_points = 0usize;
    // The kind (directory?) of the symlink followed in the final position, for the Windows 11
    // file/directory mismatch rule (A4).
    let mut final_link_is_dir: Option<bool> = None;
    while let Some(comp) = queue.pop_front() {
        let comp = match comp {
            Comp::Dot => continue,
            Comp::DotDot => {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            other => other,
        };
        let last = queue.iter().all(|c| matches!(c, Comp::Dot));
        let dir_id = stack.last().expect("stack holds the root").0;
        let dir = match st.get(dir_id)?.dir() {
            Some(d) => d,
            // A file used as a directory: STATUS_OBJECT_PATH_NOT_FOUND (ERROR_PATH_NOT_FOUND).
            None => return Err(Error::ObjectPathNotFound),
        };
        let comp = comp.into_name()?;
        let named = match dir.find(&comp) {
            Some(n) => n,
            None if last => {
                return Ok(Walked::Missing {
                    parent: dir_id,
                    name: comp,
                })
            }
            None => return Err(Error::ObjectPathNotFound),
        };
        if named.pending() && !last {
            return Err(Error::DeletePending);
        }
        let inode = st.get(named.id())?;
        if let Some(rp) = inode.reparse() {
            if (!last && follow_links) || (last && follow_final) {
                reparse_points += 1;
                if reparse_points > opts.max_reparse_points {
                    // Loops end here too: Windows has no loop detector beyond the count
                    // (ERROR_CANT_RESOLVE_FILENAME; WinFsp reparse_symlink_relative_test).
                    return Err(Error::ReparsePointNotResolved);
                }
                if !rp.is_symlink() && !rp.is_mount_point() {
                    // A tag no filter handles (A4: STATUS_IO_REPARSE_TAG_NOT_HANDLED).
                    return Err(Error::IoReparseTagNotHandled);
                }
                let relative = rp.is_symlink()
                    && rp.symlink_flags().unwrap_or(0) & crate::reparse::SYMLINK_FLAG_RELATIVE != 0;
                let substitute = rp.substitute_name().unwrap_or(&[]);
                if last {
                    final_link_is_dir = if rp.is_symlink() {
                        Some(inode.is_dir())
                    } else {
                        None
                    };
                }
                let rest: Vec<Comp> = queue.drain(..).collect();
                let target_comps = match parse_target(substitute, relative) {
                    ReparseTarget::Relative(c) => c,
                    ReparseTarget::RootRelative(c) => {
                        stack.truncate(1);
                        c
                    }
                    ReparseTarget::Drive { letter, components }
                        if letter == opts.drive_letter.to_ascii_uppercase() =>
                    {
                        stack.truncate(1);
                        components
                    }
                    ReparseTarget::Drive { letter, components } => {
                        return match opts.drive_map.get(&letter) {
                            Some(host) => Ok(Walked::Mapped {
                                letter,
                                host: host.clone(),
                                rest: components
                                    .into_iter()
                                    .chain(rest.iter().map(|c| c.units().to_vec()))
                                    .collect(),
                            }),
                            None => Err(Error::NotOnThisVolume),
                        };
                    }
                    _ => return Err(Error::NotOnThisVolume),
                };
                queue.extend(target_comps.into_iter().map(Comp::from_units));
                queue.extend(rest);
                continue;
            }
        }
        if last {
            if kind_rule {
                check_symlink_kind(opts, final_link_is_dir, inode.is_dir())?;
            }
            if let Some(t) = trail.as_mut() {
                t.extend(stack[1..].iter().filter_map(|(_, d)| d.clone()));
                t.push(named.display[..].into());
            }
            return Ok(Walked::Found {
                id: named.id(),
                entry: Some((dir_id, named.display[..].into())),
                pending: named.pending(),
            });
        }
        stack.push((named.id(), Some(named.display[..].into())));
    }
    if let Some(t) = trail.as_mut() {
        t.extend(stack[1..].iter().filter_map(|(_, d)| d.clone()));
    }
    let n = stack.len();
    let (id, display) = stack.pop().expect("stack holds the root");
    if kind_rule {
        // A final symlink whose target ends in `.` or `..` (or is a drive root) lands here,
        // not in the loop above; the same Windows 11 rule applies to what it reached.
        check_symlink_kind(opts, final_link_is_dir, st.get(id)?.is_dir())?;
    }
    let entry = match (display, n) {
        (Some(d), n) if n >= 2 => Some((stack[n - 2].0, d)),
        _ => None,
    };
    Ok(Walked::Found {
        id,
        entry,
        pending: false,
    })
}

/// Windows 11 refuses to open a file symlink that reaches a directory (ERROR_ACCESS_DENIED)
/// and a directory symlink that reaches a file (ERROR_DIRECTORY) (A4, WinFsp's comment on
/// Win11 NTFS). `final_link_is_dir` is the kind of the symlink followed in the final position.
fn check_symlink_kind(
    opts: &VolumeOptions,
    final_link_is_dir: Option<bool>,
    target_is_dir: bool,
) -> Result<()> {
    match final_link_is_dir {
        Some(link_is_dir)
            if opts.symlink_kind_rule == SymlinkKindRule::Windows11
                && link_is_dir != target_is_dir =>
        {
            Err(if link_is_dir {
                Error::NotADirectory
            } else {
                Error::FileIsADirectory
            })
        }
        _ => Ok(()),
    }
}
