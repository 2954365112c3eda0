//! Turns the SubstituteName of a symbolic link or junction into structure the path
//! resolver can walk.
//!
//! A substitute name is a pathname in the sense of [MS-FSCC] 2.1.5: for an absolute
//! symbolic link or a mount point it is an NT object path such as `\??\C:\dir`
//! ([MS-FSCC] 2.1.2.4, 2.1.2.5); for a symbolic link with `SYMLINK_FLAG_RELATIVE` it is
//! relative to the directory holding the link. Either form may contain the dot names `.`
//! and `..` ([MS-FSCC] 2.1.5.1, "Either pathname can contain dot directory names" in
//! 2.1.2.4). In a relative name they are kept as components, because only the resolver,
//! which knows where the link lives, can apply them. In an absolute name (drive, root-relative,
//! UNC, volume GUID) they are applied here, lexically, and `..` stops at the root of the drive
//! (or share): Windows normalizes a path the same way before any file system sees it
//! (Microsoft Learn, "File path formats on Windows systems", *Path normalization*: `.` segments
//! are removed, a `..` segment removes the segment before it, and nothing goes above the root).
//! So an absolute target can never name a place above its own root — on a POSIX backend, never
//! a host path outside the mount or outside a mapped drive's directory. A component holding `/`
//! (an invalid NTFS name character, MS-FSCC 2.1.5.2) would become a separator once shown as a
//! POSIX path, so a name with one is [`ReparseTarget::Other`]: kept, never resolved.
//!
//! Nothing here touches a volume or fails: a name that fits no known shape becomes
//! [`ReparseTarget::Other`], and the resolver reports it as it sees fit (NTFS reports
//! an unresolvable target when the link is opened, never when it is set — rules A3/A4).

use crate::wtf16::{ascii_byte, starts_with_ascii_ci, BACKSLASH, COLON, SLASH};

/// The structure of a substitute name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReparseTarget {
    /// Relative to the directory that holds the link (`SYMLINK_FLAG_RELATIVE`). Components
    /// may be `.` and `..`.
    Relative(Vec<Vec<u16>>),
    /// A path on a drive-letter volume: `\??\C:\x`, `\\?\C:\x`, `C:\x`, `C:`.
    Drive {
        /// Upper-case `A`–`Z`.
        letter: char,
        /// Path components below the drive's root.
        components: Vec<Vec<u16>>,
    },
    /// `\x\y`: absolute on the volume that holds the link, no drive given.
    RootRelative(Vec<Vec<u16>>),
    /// `\??\UNC\server\share\x` or `\\server\share\x`.
    Unc {
        /// Server name (never empty).
        server: Vec<u16>,
        /// Share name (never empty).
        share: Vec<u16>,
        /// Path components below the share.
        components: Vec<Vec<u16>>,
    },
    /// `\??\Volume{GUID}\x`: a volume named by its mount manager GUID.
    VolumeGuid {
        /// The GUID with its braces, as written: `{01234567-89ab-cdef-0123-456789abcdef}`.
        guid: Vec<u16>,
        /// Path components below the volume's root.
        components: Vec<Vec<u16>>,
    },
    /// Any other NT path (`\Device\HarddiskVolume1\x`, `\??\PhysicalDrive0`, …), or a
    /// non-relative name in no recognised shape; kept whole.
    Other(Vec<u16>),
}

/// Prefixes that name the DOS-devices directory of the object namespace (`\??\` and its
/// aliases) or the Win32 device-path forms that map onto it. Matched case-insensitively.
const DOS_DEVICE_PREFIXES: [&str; 5] = [
    "\\??\\",
    "\\\\?\\",
    "\\\\.\\",
    "\\DosDevices\\",
    "\\GLOBAL??\\",
];

/// First components of rooted names that are object-manager directories, not directories
/// on the link's volume: `\Device\HarddiskVolume2\x` is [`ReparseTarget::Other`], while
/// `\Users\x` is [`ReparseTarget::RootRelative`].
const OBJECT_DIRECTORIES: [&str; 4] = ["Device", "GLOBAL??", "SystemRoot", "ArcName"];

/// Parses a SubstituteName. `relative_flag` is `SYMLINK_FLAG_RELATIVE` of a symbolic link
/// (always `false` for a mount point).
///
/// * relative: split on `\` and `/`; a leading separator makes it
///   [`ReparseTarget::RootRelative`] (relative to the link's volume root);
/// * otherwise the prefixes `\??\`, `\\?\`, `\\.\`, `\DosDevices\` and `\GLOBAL??\` lead to
///   `X:` ([`ReparseTarget::Drive`]), `UNC\server\share` ([`ReparseTarget::Unc`]) or
///   `Volume{GUID}` ([`ReparseTarget::VolumeGuid`]); `\\server\share` is UNC; `X:\…` and
///   `X:` are drive paths; `\x` is root-relative unless `x` is an object directory such as
///   `Device`. Only `\` separates components in these NT forms (`/` is an ordinary, if
///   invalid, name character there).
///
/// Empty components (`\\` inside a path) are dropped. `.` and `..` are kept in a
/// [`ReparseTarget::Relative`] name and applied (stopping at the root) in every absolute one;
/// an absolute name with a `/` in a component, or a UNC name whose server or share is a dot
/// name, is [`ReparseTarget::Other`] (see the module docs).
pub fn parse_target(substitute: &[u16], relative_flag: bool) -> ReparseTarget {
    if relative_flag {
        let is_sep = |u: u16| u == BACKSLASH || u == SLASH;
        let components = split(substitute, is_sep);
        return if substitute.first().copied().is_some_and(is_sep) {
            ReparseTarget::RootRelative(normalize(components).expect("split on `/` too"))
        } else {
            ReparseTarget::Relative(components)
        };
    }
    let parsed = parse_absolute(substitute);
    normalize_absolute(parsed).unwrap_or_else(|| ReparseTarget::Other(substitute.to_vec()))
}

/// Applies `.` and `..` to the components of an absolute target, lexically, never above the
/// root; None when a component holds `/` (or a UNC server or share is a dot name or holds
/// one), which makes the target [`ReparseTarget::Other`].
fn normalize_absolute(t: ReparseTarget) -> Option<ReparseTarget> {
    Some(match t {
        ReparseTarget::Drive { letter, components } => ReparseTarget::Drive {
            letter,
            components: normalize(components)?,
        },
        ReparseTarget::RootRelative(c) => ReparseTarget::RootRelative(normalize(c)?),
        ReparseTarget::Unc {
            server,
            share,
            components,
        } => {
            for root in [&server, &share] {
                if is_dot_name(root) || root.contains(&SLASH) {
                    return None;
                }
            }
            ReparseTarget::Unc {
                server,
                share,
                components: normalize(components)?,
            }
        }
        ReparseTarget::VolumeGuid { guid, components } => ReparseTarget::VolumeGuid {
            guid,
            components: normalize(components)?,
        },
        t @ (ReparseTarget::Relative(_) | ReparseTarget::Other(_)) => t,
    })
}

/// `.` or `..`.
fn is_dot_name(c: &[u16]) -> bool {
    matches!(c, [0x2E] | [0x2E, 0x2E])
}

/// The components below a root with `.` dropped and each `..` removing the one before it
/// (none at the root); None if one holds `/`.
fn normalize(components: Vec<Vec<u16>>) -> Option<Vec<Vec<u16>>> {
    let mut out: Vec<Vec<u16>> = Vec::with_capacity(components.len());
    for c in components {
        if c.contains(&SLASH) {
            return None;
        }
        match c.as_slice() {
            [0x2E] => {}
            [0x2E, 0x2E] => {
                out.pop();
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

/// A non-relative substitute name, before dot names are applied.
fn parse_absolute(substitute: &[u16]) -> ReparseTarget {
    let other = || ReparseTarget::Other(substitute.to_vec());
    for prefix in DOS_DEVICE_PREFIXES {
        if starts_with_ascii_ci(substitute, prefix) {
            return parse_dos_device(&substitute[prefix.len()..]).unwrap_or_else(other);
        }
    }
    if substitute.starts_with(&[BACKSLASH, BACKSLASH]) {
        return parse_unc(&substitute[2..]).unwrap_or_else(other);
    }
    if let Some(target) = parse_drive(substitute) {
        return target;
    }
    if substitute.first() == Some(&BACKSLASH) {
        let components = split(substitute, is_backslash);
        let object_directory = components.first().is_some_and(|first| {
            OBJECT_DIRECTORIES
                .iter()
                .any(|dir| first.len() == dir.len() && starts_with_ascii_ci(first, dir))
        });
        return if object_directory {
            other()
        } else {
            ReparseTarget::RootRelative(components)
        };
    }
    other()
}

/// The text of a [`ReparseTarget::Other`] name as a POSIX path below a prefix of the
/// backend's (a dangling link that shows what the name was): its `\` become `/`, and empty,
/// `.` and `..` segments are left out, so that the path cannot climb above the prefix.
pub fn other_to_posix(name: &[u16]) -> String {
    name.split(|&u| u == BACKSLASH || u == SLASH)
        .filter(|c| !c.is_empty() && !is_dot_name(c))
        .map(String::from_utf16_lossy)
        .collect::<Vec<_>>()
        .join("/")
}

/// Joins components with `/`, converting each from UTF-16 lossily (unpaired surrogates
/// become U+FFFD) — for a POSIX backend that presents a relative link as a symlink.
pub fn to_posix_relative(components: &[Vec<u16>]) -> String {
    components
        .iter()
        .map(|component| String::from_utf16_lossy(component))
        .collect::<Vec<_>>()
        .join("/")
}

fn is_backslash(unit: u16) -> bool {
    unit == BACKSLASH
}

fn split(path: &[u16], is_sep: impl Fn(u16) -> bool) -> Vec<Vec<u16>> {
    path.split(|&u| is_sep(u))
        .filter(|component| !component.is_empty())
        .map(<[u16]>::to_vec)
        .collect()
}

/// `X:` or `X:\…` → [`ReparseTarget::Drive`].
fn parse_drive(path: &[u16]) -> Option<ReparseTarget> {
    let letter = ascii_byte(*path.first()?).filter(u8::is_ascii_alphabetic)?;
    if path.get(1) != Some(&COLON) {
        return None;
    }
    let rest = &path[2..];
    if !rest.is_empty() && rest[0] != BACKSLASH {
        // `X:name` is drive-relative, which has no meaning in the object namespace.
        return None;
    }
    Some(ReparseTarget::Drive {
        letter: char::from(letter.to_ascii_uppercase()),
        components: split(rest, is_backslash),
    })
}

/// What follows `\??\` (or an alias).
fn parse_dos_device(rest: &[u16]) -> Option<ReparseTarget> {
    if let Some(drive) = parse_drive(rest) {
        return Some(drive);
    }
    if starts_with_ascii_ci(rest, "UNC\\") {
        return parse_unc(&rest[4..]);
    }
    parse_volume_guid(rest)
}

/// `server\share\…` (after the `\\` or `UNC\`).
fn parse_unc(rest: &[u16]) -> Option<ReparseTarget> {
    let mut components = split(rest, is_backslash).into_iter();
    let server = components.next()?;
    let share = components.next()?;
    Some(ReparseTarget::Unc {
        server,
        share,
        components: components.collect(),
    })
}

/// `Volume{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}` optionally followed by `\…`.
fn parse_volume_guid(rest: &[u16]) -> Option<ReparseTarget> {
    const VOLUME: &str = "Volume";
    const GUID_LEN: usize = 38; // braces included
    if !starts_with_ascii_ci(rest, VOLUME) {
        return None;
    }
    let guid = rest.get(VOLUME.len()..VOLUME.len() + GUID_LEN)?;
    let after = &rest[VOLUME.len() + GUID_LEN..];
    if !is_braced_guid(guid) || after.first().is_some_and(|&u| u != BACKSLASH) {
        return None;
    }
    Some(ReparseTarget::VolumeGuid {
        guid: guid.to_vec(),
        components: split(after, is_backslash),
    })
}

/// `{8-4-4-4-12}` hex digits, either case.
fn is_braced_guid(s: &[u16]) -> bool {
    const DASHES: [usize; 4] = [9, 14, 19, 24];
    s.len() == 38
        && s[0] == u16::from(b'{')
        && s[37] == u16::from(b'}')
        && s[1..37].iter().enumerate().all(|(i, &u)| {
            if DASHES.contains(&(i + 1)) {
                u == u16::from(b'-')
            } else {
                ascii_byte(u).is_some_and(|b| b.is_ascii_hexdigit())
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wtf16::wide as w;

    fn ws(parts: &[&str]) -> Vec<Vec<u16>> {
        parts.iter().map(|p| w(p)).collect()
    }

    fn abs(s: &str) -> ReparseTarget {
        parse_target(&w(s), false)
    }

    fn rel(s: &str) -> ReparseTarget {
        parse_target(&w(s), true)
    }

    fn drive(letter: char, parts: &[&str]) -> ReparseTarget {
        ReparseTarget::Drive {
            letter,
            components: ws(parts),
        }
    }

    const GUID: &str = "{01234567-89ab-CDEF-0123-456789abcdef}";

    #[test]
    fn nt_drive_path_as_mklink_writes_it() {
        assert_eq!(abs(r"\??\C:\target"), drive('C', &["target"]));
        assert_eq!(abs(r"\??\c:\a\b\"), drive('C', &["a", "b"]));
        assert_eq!(abs(r"\??\C:\"), drive('C', &[]));
        assert_eq!(abs(r"\??\C:"), drive('C', &[]));
    }

    #[test]
    fn all_dos_device_prefixes_are_recognised_case_insensitively() {
        for prefix in [
            r"\??\",
            r"\\?\",
            r"\\.\",
            r"\DosDevices\",
            r"\dosdevices\",
            r"\DOSDEVICES\",
            r"\GLOBAL??\",
            r"\Global??\",
        ] {
            assert_eq!(
                abs(&format!(r"{prefix}D:\x\y")),
                drive('D', &["x", "y"]),
                "{prefix}"
            );
        }
    }

    #[test]
    fn plain_drive_paths() {
        assert_eq!(abs(r"C:\x"), drive('C', &["x"]));
        assert_eq!(abs("z:"), drive('Z', &[]));
        assert_eq!(abs(r"z:\"), drive('Z', &[]));
        // Drive-relative has no meaning for a kernel path.
        assert_eq!(abs("C:x"), ReparseTarget::Other(w("C:x")));
        assert_eq!(abs(r"\??\C:x"), ReparseTarget::Other(w(r"\??\C:x")));
    }

    #[test]
    fn empty_components_are_dropped_dots_kept_only_when_relative() {
        assert_eq!(abs(r"\??\C:\\a\\\.\..\b\\"), drive('C', &["b"]));
        assert_eq!(
            rel(r"a//b\\.\..\"),
            ReparseTarget::Relative(ws(&["a", "b", ".", ".."]))
        );
    }

    #[test]
    fn relative_flag_splits_on_both_separators_msfscc_2_1_2_4() {
        assert_eq!(
            rel(r"..\target"),
            ReparseTarget::Relative(ws(&["..", "target"]))
        );
        assert_eq!(rel("a/b\\c"), ReparseTarget::Relative(ws(&["a", "b", "c"])));
        assert_eq!(rel("."), ReparseTarget::Relative(ws(&["."])));
        assert_eq!(rel(""), ReparseTarget::Relative(vec![]));
        // A relative link whose name starts at the root is relative to the volume root.
        assert_eq!(rel(r"\x\y"), ReparseTarget::RootRelative(ws(&["x", "y"])));
        assert_eq!(rel("/x"), ReparseTarget::RootRelative(ws(&["x"])));
    }

    /// `/` does not separate NT path components, and a component holding one would become
    /// a separator in a POSIX presentation (`D:\x/../../etc`): such names are never resolved.
    #[test]
    fn forward_slash_is_not_a_separator_in_nt_paths_and_never_resolves() {
        for t in [
            r"\??\C:\a/b",
            r"\a/b",
            r"D:\x/..\..",
            r"\??\UNC\s/v\share\x",
            r"\\srv\sh/are\x",
        ] {
            assert_eq!(abs(t), ReparseTarget::Other(w(t)), "{t}");
        }
    }

    /// Issue 14: `..` in an absolute target is applied lexically and stops at the root of the
    /// drive or share, as Windows path normalization does.
    #[test]
    fn dot_dot_in_absolute_targets_stops_at_the_root() {
        assert_eq!(abs(r"\??\C:\..\..\..\etc"), drive('C', &["etc"]));
        assert_eq!(abs(r"D:\..\.."), drive('D', &[]));
        assert_eq!(abs(r"D:\a\..\..\b\.\c"), drive('D', &["b", "c"]));
        assert_eq!(
            abs(r"\..\..\etc"),
            ReparseTarget::RootRelative(ws(&["etc"]))
        );
        assert_eq!(
            rel(r"\..\..\etc"),
            ReparseTarget::RootRelative(ws(&["etc"]))
        );
        assert_eq!(
            abs(r"\??\UNC\srv\share\..\..\x"),
            ReparseTarget::Unc {
                server: w("srv"),
                share: w("share"),
                components: ws(&["x"]),
            }
        );
        for t in [r"\\srv\..\x", r"\\..\share\x", r"\??\UNC\.\s\x"] {
            assert_eq!(abs(t), ReparseTarget::Other(w(t)), "{t}");
        }
        let guid = "{01234567-89ab-cdef-0123-456789abcdef}";
        assert_eq!(
            abs(&format!(r"\??\Volume{guid}\..\x")),
            ReparseTarget::VolumeGuid {
                guid: w(guid),
                components: ws(&["x"]),
            }
        );
        // Relative names keep them for the resolver (the kernel, on Linux).
        assert_eq!(
            rel(r"..\..\etc"),
            ReparseTarget::Relative(ws(&["..", "..", "etc"]))
        );
    }

    #[test]
    fn other_names_shown_as_posix_cannot_climb() {
        assert_eq!(other_to_posix(&w(r"\Device\..\..\etc")), "Device/etc");
        assert_eq!(other_to_posix(&w(r"\??\C:\a/../../b")), "??/C:/a/b");
        assert_eq!(other_to_posix(&w("..")), "");
    }

    #[test]
    fn root_relative() {
        assert_eq!(abs(r"\x\y"), ReparseTarget::RootRelative(ws(&["x", "y"])));
        assert_eq!(abs(r"\"), ReparseTarget::RootRelative(vec![]));
        // Dot names are applied; `..` stops at the root.
        assert_eq!(abs(r"\..\x"), ReparseTarget::RootRelative(ws(&["x"])));
    }

    #[test]
    fn unc_forms() {
        let unc = ReparseTarget::Unc {
            server: w("srv"),
            share: w("share"),
            components: ws(&["x", "y"]),
        };
        assert_eq!(abs(r"\??\UNC\srv\share\x\y"), unc);
        assert_eq!(abs(r"\??\unc\srv\share\x\y"), unc);
        assert_eq!(abs(r"\\?\UNC\srv\share\x\y"), unc);
        assert_eq!(abs(r"\\srv\share\x\y"), unc);
        assert_eq!(abs(r"\\srv\\share\\x\y\"), unc);
        assert_eq!(
            abs(r"\\srv\share"),
            ReparseTarget::Unc {
                server: w("srv"),
                share: w("share"),
                components: vec![]
            }
        );
        // Without a share it is not a UNC path.
        assert_eq!(abs(r"\??\UNC\srv"), ReparseTarget::Other(w(r"\??\UNC\srv")));
        assert_eq!(abs(r"\\srv"), ReparseTarget::Other(w(r"\\srv")));
        assert_eq!(abs(r"\??\UNC"), ReparseTarget::Other(w(r"\??\UNC")));
    }

    #[test]
    fn volume_guid() {
        assert_eq!(
            abs(&format!(r"\??\Volume{GUID}\dir\f")),
            ReparseTarget::VolumeGuid {
                guid: w(GUID),
                components: ws(&["dir", "f"])
            }
        );
        assert_eq!(
            abs(&format!(r"\\?\volume{GUID}")),
            ReparseTarget::VolumeGuid {
                guid: w(GUID),
                components: vec![]
            }
        );
        // Malformed GUIDs, or something glued to the GUID, are not volume names.
        for bad in [
            r"\??\Volume{0123}\x".to_string(),
            r"\??\Volume{01234567-89ab-cdef-0123-456789abcdeg}".to_string(),
            r"\??\Volume{01234567_89ab-cdef-0123-456789abcdef}".to_string(),
            format!(r"\??\Volume{GUID}x"),
        ] {
            assert_eq!(abs(&bad), ReparseTarget::Other(w(&bad)), "{bad}");
        }
    }

    #[test]
    fn other_nt_paths() {
        for other in [
            r"\Device\HarddiskVolume2\x",
            r"\device\Mup\srv\share",
            r"\GLOBAL??",
            r"\SystemRoot\System32",
            r"\??\PhysicalDrive0",
            r"\??\GLOBALROOT\Device\x",
            "plain-name",
            "",
        ] {
            assert_eq!(abs(other), ReparseTarget::Other(w(other)), "{other}");
        }
        // A directory merely starting with an object-directory name is on the volume.
        assert_eq!(
            abs(r"\Devices\x"),
            ReparseTarget::RootRelative(ws(&["Devices", "x"]))
        );
    }

    #[test]
    fn non_ascii_and_unpaired_surrogates_pass_through() {
        let mut name = w(r"\??\C:\");
        name.extend_from_slice(&[0xD800, u16::from(b'x')]);
        name.push(BACKSLASH);
        name.extend(w("日本"));
        assert_eq!(
            parse_target(&name, false),
            ReparseTarget::Drive {
                letter: 'C',
                components: vec![vec![0xD800, u16::from(b'x')], w("日本")]
            }
        );
        // A non-ASCII letter is not a drive letter.
        assert_eq!(abs(r"Ä:\x"), ReparseTarget::Other(w(r"Ä:\x")));
    }

    #[test]
    fn posix_relative_join() {
        assert_eq!(to_posix_relative(&ws(&["..", "a", "b.txt"])), "../a/b.txt");
        assert_eq!(to_posix_relative(&[]), "");
        assert_eq!(
            to_posix_relative(&[vec![0xD800, u16::from(b'x')], w("é")]),
            "\u{FFFD}x/é"
        );
    }

    #[test]
    fn randomized_names_never_panic() {
        let mut state: u64 = 0x1234_5678_9ABC_DEF1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: Vec<u16> = w("\\/?.:CUNcVolume{}-0aGLOBAL日")
            .into_iter()
            .chain([0xD800])
            .collect();
        for _ in 0..50_000 {
            let len = (next() % 48) as usize;
            let name: Vec<u16> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 8 == 0 {
                        r as u16 >> 3
                    } else {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            for relative in [false, true] {
                match parse_target(&name, relative) {
                    ReparseTarget::Relative(c) | ReparseTarget::RootRelative(c) => {
                        assert!(c.iter().all(|part| !part.is_empty()));
                        let _ = to_posix_relative(&c);
                    }
                    ReparseTarget::Drive { letter, components } => {
                        assert!(letter.is_ascii_uppercase());
                        assert!(components.iter().all(|part| !part.is_empty()));
                    }
                    ReparseTarget::Unc { server, share, .. } => {
                        assert!(!server.is_empty() && !share.is_empty());
                    }
                    ReparseTarget::VolumeGuid { guid, .. } => assert_eq!(guid.len(), 38),
                    ReparseTarget::Other(whole) => assert_eq!(whole, name),
                }
            }
        }
    }
}
