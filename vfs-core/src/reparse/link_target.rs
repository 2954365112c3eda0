//! Win32 link targets → the NT names a reparse buffer holds, the way CreateSymbolicLinkW and
//! `mklink /J` convert them (A3, A4): the builders [`symlink_for_target`] and
//! [`junction_for_target`].

use super::*;
use crate::wtf16::{is_ascii_letter, starts_with_ascii_ci, wide, BACKSLASH, COLON, SLASH};

/// Turns a link target as a user types it into the symbolic link buffer that
/// CreateSymbolicLinkW (and `mklink`) would write, on a volume mounted as `drive`:
///
/// | target           | SubstituteName                | PrintName        | relative |
/// |------------------|-------------------------------|------------------|----------|
/// | `X:\path`        | `\??\X:\path`                 | `X:\path`        | no       |
/// | `\path`          | `\??\D:\path` (D = `drive`)   | `D:\path`        | no       |
/// | `\\srv\share\x`  | `\??\UNC\srv\share\x`         | `\\srv\share\x`  | no       |
/// | `\??\…`          | unchanged                     | Win32 form       | no       |
/// | `\\?\…`, `\\.\…` | `\??\…`                       | Win32 form       | no       |
/// | anything else    | target with `/` → `\`         | same             | yes      |
///
/// Absolute DOS and UNC targets are normalised as GetFullPathNameW does: `/` becomes `\`,
/// repeated separators collapse, `.` and `..` are resolved (never above the root). The
/// `\\?\` and `\??\` forms are taken verbatim. Root-relative targets are made absolute on
/// `drive` (rule A4, Go `TestRootRelativeDirSymlink`). A drive-relative target (`X:path`)
/// depends on the process's current directory on that drive, which this codec cannot know,
/// so it is an error; resolve it before calling. The target is read as a C string: it ends
/// at the first NUL.
pub fn symlink_for_target(
    target: &[u16],
    drive: char,
) -> Result<ReparseBuffer, InvalidReparseData> {
    match convert_target(target, drive)? {
        Converted::Absolute { nt, win32 } => ReparseBuffer::symlink(&nt, &win32, false),
        Converted::Relative(rel) => ReparseBuffer::symlink(&rel, &rel, true),
    }
}

/// Turns a junction target into the mount point buffer `mklink /J` would write on a volume
/// mounted as `drive`: SubstituteName `\??\X:\path`, PrintName `X:\path`. The target must be
/// absolute (`X:\path`, or root-relative `\path`, made absolute on `drive`) or already an
/// NT / `\\?\` path; relative targets are refused, and so are UNC targets because junctions
/// may only point at local volumes (rule A3). Normalisation is as in [`symlink_for_target`].
pub fn junction_for_target(
    target: &[u16],
    drive: char,
) -> Result<ReparseBuffer, InvalidReparseData> {
    match convert_target(target, drive)? {
        Converted::Absolute { nt, .. } if starts_with_ascii_ci(&nt, "\\??\\UNC\\") => {
            Err(InvalidReparseData(JUNCTION_REMOTE))
        }
        Converted::Absolute { nt, win32 } => ReparseBuffer::mount_point(&nt, &win32),
        Converted::Relative(_) => Err(InvalidReparseData(JUNCTION_RELATIVE)),
    }
}

// ---------------------------------------------------------------------------------------
// Win32 target strings → NT names, the way CreateSymbolicLinkW / mklink do it.

fn is_sep(unit: u16) -> bool {
    unit == BACKSLASH || unit == SLASH
}

/// The target up to its first NUL, as the Win32 API would see an LPCWSTR.
fn c_string(target: &[u16]) -> &[u16] {
    match target.iter().position(|&u| u == 0) {
        Some(end) => &target[..end],
        None => target,
    }
}

/// Path types in the spirit of RtlDetermineDosPathNameType_U, plus the NT `\??\` prefix
/// which the Win32 layer passes through untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathKind {
    /// `\??\…`
    Nt,
    /// `\\?\…` (no normalisation)
    Verbatim,
    /// `\\.\…`
    LocalDevice,
    /// `\\server\share…`
    Unc,
    /// `X:\…`
    DriveAbsolute,
    /// `X:…`
    DriveRelative,
    /// `\…`
    Rooted,
    /// anything else
    Relative,
}

fn classify(path: &[u16]) -> PathKind {
    let at = |i: usize| path.get(i).copied();
    let sep_at = |i: usize| at(i).is_some_and(is_sep);
    if path.starts_with(&wide("\\??\\")) {
        return PathKind::Nt;
    }
    // Only the exact `\\?\` prefix suppresses normalisation; `//?/` is an ordinary
    // device path like `\\.\`.
    if path.starts_with(&wide("\\\\?\\")) {
        return PathKind::Verbatim;
    }
    if sep_at(0) && sep_at(1) {
        if sep_at(3) && matches!(at(2), Some(c) if c == u16::from(b'.') || c == u16::from(b'?')) {
            return PathKind::LocalDevice;
        }
        return PathKind::Unc;
    }
    if sep_at(0) {
        return PathKind::Rooted;
    }
    if at(0).is_some_and(is_ascii_letter) && at(1) == Some(COLON) {
        return if sep_at(2) {
            PathKind::DriveAbsolute
        } else {
            PathKind::DriveRelative
        };
    }
    PathKind::Relative
}

enum Converted {
    Absolute { nt: Vec<u16>, win32: Vec<u16> },
    Relative(Vec<u16>),
}

/// `root` followed by the components of `rest` with `.` and `..` resolved as
/// GetFullPathNameW does (`..` never climbs above `root`), joined by `\`. A trailing
/// separator on a non-empty result is kept.
fn normalise(root: &[u16], rest: &[u16]) -> Vec<u16> {
    let dot = wide(".");
    let dot_dot = wide("..");
    let mut parts: Vec<&[u16]> = Vec::new();
    for part in rest.split(|&u| is_sep(u)) {
        if part.is_empty() || part == dot.as_slice() {
            continue;
        }
        if part == dot_dot.as_slice() {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    let mut out = root.to_vec();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(BACKSLASH);
        }
        out.extend_from_slice(part);
    }
    if !parts.is_empty() && rest.last().copied().is_some_and(is_sep) {
        out.push(BACKSLASH);
    }
    out
}

/// The Win32 (display) form of an NT path below `\??\`: `UNC\srv\x` → `\\srv\x`,
/// `C:\x` → `C:\x`, anything else unchanged.
fn win32_form(after_prefix: &[u16]) -> Vec<u16> {
    if starts_with_ascii_ci(after_prefix, "UNC\\") {
        let mut out = wide("\\\\");
        out.extend_from_slice(&after_prefix[4..]);
        out
    } else {
        after_prefix.to_vec()
    }
}

fn nt_path(after_prefix: &[u16]) -> Vec<u16> {
    let mut nt = wide("\\??\\");
    nt.extend_from_slice(after_prefix);
    nt
}

fn convert_target(target: &[u16], drive: char) -> Result<Converted, InvalidReparseData> {
    let target = c_string(target);
    if target.is_empty() {
        return Err(InvalidReparseData(EMPTY_TARGET));
    }
    // `win32` is the normalised Win32 path, `after_prefix` what follows `\??\` in the NT path.
    let absolute = |win32: Vec<u16>, after_prefix: &[u16]| Converted::Absolute {
        nt: nt_path(after_prefix),
        win32,
    };
    Ok(match classify(target) {
        PathKind::Nt => Converted::Absolute {
            nt: target.to_vec(),
            win32: win32_form(&target[4..]),
        },
        PathKind::Verbatim => {
            let rest = &target[4..];
            absolute(win32_form(rest), rest)
        }
        PathKind::LocalDevice => {
            // `\\.\C:\x` → `\??\C:\x`; the device name (first component) is the root that
            // `..` cannot climb above.
            let rest = &target[4..];
            let device_len = rest.iter().position(|&u| is_sep(u)).unwrap_or(rest.len());
            let normal = if device_len < rest.len() {
                let mut root = rest[..device_len].to_vec();
                root.push(BACKSLASH);
                normalise(&root, &rest[device_len..])
            } else {
                rest.to_vec()
            };
            absolute(win32_form(&normal), &normal)
        }
        PathKind::Unc => {
            // `\\server\share` is the root; `..` stops there.
            let body = &target[2..];
            let mut pieces = body.split(|&u| is_sep(u)).filter(|p| !p.is_empty());
            let (server, share) = match (pieces.next(), pieces.next()) {
                (Some(server), Some(share)) => (server, share),
                _ => return Err(InvalidReparseData(INCOMPLETE_UNC)),
            };
            let mut root = wide("\\\\");
            root.extend_from_slice(server);
            root.push(BACKSLASH);
            root.extend_from_slice(share);
            let rest = &body[position_after_components(body, 2)..];
            let win32 = if rest.is_empty() {
                root
            } else {
                root.push(BACKSLASH);
                normalise(&root, rest)
            };
            let mut after_prefix = wide("UNC");
            after_prefix.extend_from_slice(&win32[1..]);
            absolute(win32, &after_prefix)
        }
        PathKind::DriveAbsolute => {
            let win32 = normalise(&[target[0], COLON, BACKSLASH], &target[2..]);
            absolute(win32.clone(), &win32)
        }
        PathKind::Rooted => {
            if !drive.is_ascii_alphabetic() {
                return Err(InvalidReparseData(BAD_DRIVE));
            }
            let letter = u16::from(drive.to_ascii_uppercase() as u8);
            let win32 = normalise(&[letter, COLON, BACKSLASH], target);
            absolute(win32.clone(), &win32)
        }
        PathKind::DriveRelative => return Err(InvalidReparseData(DRIVE_RELATIVE)),
        PathKind::Relative => Converted::Relative(
            target
                .iter()
                .map(|&u| if u == SLASH { BACKSLASH } else { u })
                .collect(),
        ),
    })
}

/// Index in `s` just past its first `count` non-empty separator-delimited components.
fn position_after_components(s: &[u16], count: usize) -> usize {
    let mut seen = 0;
    let mut i = 0;
    while i < s.len() && seen < count {
        while i < s.len() && is_sep(s[i]) {
            i += 1;
        }
        if i == s.len() {
            break;
        }
        while i < s.len() && !is_sep(s[i]) {
            i += 1;
        }
        seen += 1;
    }
    i
}
