//! NTFS names: WTF-16 units, the $UpCase comparison, and the name rules (A5).
//!
//! A name has a *display* form (the units as the caller typed them) and a *canonical* form (every
//! unit passed through the volume's upcase table) that lookups compare. NTFS compares names with
//! its $UpCase table, a per-volume map of every UTF-16 code unit to its uppercase unit; the table
//! written by mkntfs and Windows is Unicode's *simple* uppercase mapping over the BMP (one unit to
//! one unit, never locale-dependent). Surrogate units map to themselves, so unpaired surrogates
//! are ordinary names (docs/NTFS-RULES.md A5: "NTFS accepts unpaired surrogates (WTF-16)").

use crate::error::{Error, Result};
pub use crate::wtf16::{narrow, wide};
use std::sync::OnceLock;

/// Longest NTFS name component, in UTF-16 units (MS-FSCC 2.1.5: "up to 255 Unicode characters").
pub const MAX_NAME_UNITS: usize = 255;

/// The volume's upcase table: 65,536 entries, one per UTF-16 unit.
fn upcase_table() -> &'static [u16] {
    static TABLE: OnceLock<Box<[u16]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![0u16; 0x1_0000].into_boxed_slice();
        for (unit, slot) in table.iter_mut().enumerate() {
            *slot = unit as u16;
            if let Some(c) = char::from_u32(unit as u32) {
                let mut upper = c.to_uppercase();
                // Simple mapping only: a character whose uppercase is several characters
                // (U+00DF ß → "SS") or leaves the BMP keeps its own unit, as in $UpCase.
                if let (Some(u), None) = (upper.next(), upper.next()) {
                    if (u as u32) < 0x1_0000 {
                        *slot = u as u16;
                    }
                }
            }
        }
        table
    })
}

/// Upcases one UTF-16 unit with the $UpCase table.
#[inline]
pub fn upcase_unit(unit: u16) -> u16 {
    upcase_table()[unit as usize]
}

/// The canonical (upcased) form of a name.
pub fn upcase(name: &[u16]) -> Vec<u16> {
    let table = upcase_table();
    name.iter().map(|&u| table[u as usize]).collect()
}

/// Do two names compare equal on NTFS (case-insensitively)?
pub fn eq_ignore_case(a: &[u16], b: &[u16]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(&x, &y)| upcase_unit(x) == upcase_unit(y))
}

/// Characters NTFS refuses in a name component (A5; MS-FSCC 2.1.5.2): `\ / : * ? " < > |` and NUL.
pub fn is_forbidden_unit(u: u16) -> bool {
    matches!(
        u,
        0 | 0x5C | 0x2F | 0x3A | 0x2A | 0x3F | 0x22 | 0x3C | 0x3E | 0x7C
    )
}

/// Checks one name component against NTFS's own rules (what the NT API accepts):
/// 1..=255 units, none of `\ / : * ? " < > |` or NUL, and not `.` or `..`.
/// Unpaired surrogates, control characters 1–31 and DOS device names are allowed here: they are
/// refused only by the Win32 layer ([`validate_win32_name`]).
pub fn validate_name(name: &[u16]) -> Result<()> {
    if name.is_empty() {
        return Err(Error::ObjectNameInvalid);
    }
    if name.len() > MAX_NAME_UNITS {
        return Err(Error::NameTooLong);
    }
    if name == [0x2E] || name == [0x2E, 0x2E] {
        return Err(Error::ObjectNameInvalid);
    }
    if name.iter().any(|&u| is_forbidden_unit(u)) {
        return Err(Error::ObjectNameInvalid);
    }
    Ok(())
}

/// DOS device names that Win32 path conversion reserves (naming-a-file; A5).
const DOS_DEVICES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "COM¹", "COM²",
    "COM³", "LPT¹", "LPT²", "LPT³",
];

/// The Win32-only rules (RtlDosPathNameToNtPathName; naming-a-file), for backends that receive
/// Win32 paths: control characters 1–31 refused, a trailing space or dot refused (Win32 would
/// strip it silently, so a name that keeps one cannot be reached), and the reserved DOS device
/// names (`CON`, `NUL`, `COM1`, ... with or without an extension) refused.
pub fn validate_win32_name(name: &[u16]) -> Result<()> {
    validate_name(name)?;
    if name.iter().any(|&u| (1..32).contains(&u)) {
        return Err(Error::ObjectNameInvalid);
    }
    if matches!(name.last(), Some(0x20) | Some(0x2E)) {
        return Err(Error::ObjectNameInvalid);
    }
    let s = narrow(name);
    let stem = s.split('.').next().unwrap_or("").trim_end_matches(' ');
    if DOS_DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        return Err(Error::ObjectNameInvalid);
    }
    Ok(())
}

/// A validated name, the engine's currency for one path component: its display form (the
/// units as the caller typed them, what listings show and the directory stores) and its
/// canonical form (every unit upcased, what lookups compare, A5). Validation against NTFS's
/// name rules ([`validate_name`]) happens once, when the `Name` is made; everything that takes
/// a `Name` can rely on it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name {
    // One buffer, the display form followed by the canonical form, so that a name costs one
    // allocation (every name operation of a mount makes one or two `Name`s). Equality and
    // hashing over the whole buffer are those of the display form: the canonical half is
    // derived from it. A Vec, not a Box: `from_units` takes a caller's buffer as it is, and
    // one with room for both halves is never reallocated (see `with_name_capacity`).
    units: Vec<u16>,
    display_len: usize,
}

/// A buffer for the units of a name of `len` units that [`Name::from_units`] then takes
/// without reallocating (it appends the canonical form behind the display form).
pub fn with_name_capacity(len: usize) -> Vec<u16> {
    Vec::with_capacity(2 * len)
}

impl Name {
    /// Validates `units` with [`validate_name`] and builds both forms.
    pub fn new(units: &[u16]) -> Result<Name> {
        let mut buf = with_name_capacity(units.len());
        buf.extend_from_slice(units);
        Name::from_units(buf)
    }
    /// [`Name::new`] that keeps `units` as the display form without copying them.
    pub fn from_units(units: Vec<u16>) -> Result<Name> {
        validate_name(&units)?;
        Ok(Name::from_valid_units(units))
    }
    /// A name from units the caller has already checked with [`validate_name`].
    pub(crate) fn from_valid_units(mut units: Vec<u16>) -> Name {
        debug_assert!(validate_name(&units).is_ok());
        let table = upcase_table();
        let len = units.len();
        units.reserve_exact(len);
        for i in 0..len {
            let u = table[units[i] as usize];
            units.push(u);
        }
        Name {
            units,
            display_len: len,
        }
    }
    /// Validates a Rust string as a name.
    pub fn from_str_checked(s: &str) -> Result<Name> {
        Name::from_units(wide(s))
    }
    /// The name as typed.
    pub fn display(&self) -> &[u16] {
        &self.units[..self.display_len]
    }
    /// The upcased form compared by lookups.
    pub fn canonical(&self) -> &[u16] {
        &self.units[self.display_len..]
    }
    /// The display form, given up.
    pub fn into_display(mut self) -> Vec<u16> {
        self.units.truncate(self.display_len);
        self.units
    }
    /// The display form as a (lossy) Rust string.
    pub fn to_string_lossy(&self) -> String {
        narrow(self.display())
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Name")
            .field("display", &self.display())
            .field("canonical", &self.canonical())
            .finish()
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_keeps_both_forms_in_one_buffer_a5() {
        let n = Name::new(&wide("Read Me.Txt")).unwrap();
        assert_eq!(n.display(), &wide("Read Me.Txt")[..]);
        assert_eq!(n.canonical(), &wide("READ ME.TXT")[..]);
        assert_eq!(n, Name::new(&wide("Read Me.Txt")).unwrap());
        assert_ne!(
            n,
            Name::new(&wide("READ ME.TXT")).unwrap(),
            "equality is the display's"
        );
        assert_eq!(format!("{n}"), "Read Me.Txt");
        assert!(format!("{n:?}").contains("canonical"));
        assert_eq!(n.into_display(), wide("Read Me.Txt"));
        // A buffer made with room for both forms is taken as it is: no reallocation.
        let mut buf = with_name_capacity(3);
        buf.extend(wide("a.b"));
        let at = buf.as_ptr();
        let n = Name::from_units(buf).unwrap();
        assert_eq!(n.display().as_ptr(), at);
        assert_eq!(n.canonical(), &wide("A.B")[..]);
        // Validation still comes first.
        assert!(Name::from_units(wide("a:b")).is_err());
        assert!(Name::from_units(Vec::new()).is_err());
    }

    #[test]
    fn upcase_ascii_a5() {
        assert_eq!(upcase(&wide("readme.Txt")), wide("README.TXT"));
    }

    #[test]
    fn upcase_covers_bmp_not_only_ascii_a5() {
        // Latin-1, Greek, Cyrillic, Armenian, Georgian-free fullwidth forms.
        assert_eq!(upcase(&wide("éàöçñ")), wide("ÉÀÖÇÑ"));
        assert_eq!(upcase(&wide("αβγ")), wide("ΑΒΓ"));
        assert_eq!(upcase(&wide("привет")), wide("ПРИВЕТ"));
        assert_eq!(upcase(&wide("ａｂｃ")), wide("ＡＢＣ"));
        assert!(eq_ignore_case(&wide("Straße"), &wide("STRAßE")));
    }

    #[test]
    fn upcase_is_simple_mapping_not_full_a5() {
        // ß has no single-unit uppercase: $UpCase keeps it.
        assert_eq!(upcase(&wide("ß")), wide("ß"));
        // ﬁ ligature likewise.
        assert_eq!(upcase(&wide("ﬁ")), wide("ﬁ"));
        // Not locale-dependent: dotless i and i stay distinct, i → I.
        assert_eq!(upcase(&wide("i")), wide("I"));
        assert_eq!(upcase(&wide("ı")), wide("I"));
    }

    #[test]
    fn upcase_leaves_surrogates_alone_wtf16_a5() {
        let lone = [0xD800u16, 0x61];
        assert_eq!(upcase(&lone), vec![0xD800, 0x41]);
        let emoji = wide("😀");
        assert_eq!(upcase(&emoji), emoji);
    }

    #[test]
    fn name_length_1_to_255_units_a5() {
        assert_eq!(validate_name(&[]), Err(Error::ObjectNameInvalid));
        assert!(validate_name(&vec![0x61; 255]).is_ok());
        assert_eq!(validate_name(&vec![0x61; 256]), Err(Error::NameTooLong));
        // 64 emoji = 128 units are fine (WinBtrfs; Go TestIllformedUTF16FileName).
        assert!(validate_name(&wide(&"😀".repeat(64))).is_ok());
        assert_eq!(
            validate_name(&wide(&"😀".repeat(128))),
            Err(Error::NameTooLong)
        );
    }

    #[test]
    fn forbidden_characters_refused_a5() {
        for c in ["\\", "/", ":", "*", "?", "\"", "<", ">", "|", "\0"] {
            let n = wide(&format!("a{c}b"));
            assert_eq!(validate_name(&n), Err(Error::ObjectNameInvalid), "{c:?}");
        }
    }

    #[test]
    fn dot_and_dotdot_not_storable_a5() {
        assert_eq!(validate_name(&wide(".")), Err(Error::ObjectNameInvalid));
        assert_eq!(validate_name(&wide("..")), Err(Error::ObjectNameInvalid));
        assert!(validate_name(&wide("...")).is_ok());
        assert!(validate_name(&wide(".hidden")).is_ok());
    }

    #[test]
    fn unpaired_surrogates_allowed_a5() {
        assert!(validate_name(&[0xD800]).is_ok());
        assert!(validate_name(&[0x61, 0xDC00, 0x62]).is_ok());
    }

    #[test]
    fn nt_names_allow_device_names_and_trailing_dots_a5() {
        // Via the NT API "CON" is an ordinary name (WinBtrfs "Create file called CON").
        assert!(validate_name(&wide("CON")).is_ok());
        assert!(validate_name(&wide("name.")).is_ok());
        assert!(validate_name(&wide("tab\there")).is_ok());
    }

    #[test]
    fn win32_rules_refuse_devices_trailing_dots_controls_a5() {
        for n in [
            "CON",
            "con.txt",
            "NUL",
            "nul.tar.gz",
            "COM1",
            "lpt9",
            "AUX",
            "PRN",
            "COM¹",
        ] {
            assert_eq!(
                validate_win32_name(&wide(n)),
                Err(Error::ObjectNameInvalid),
                "{n}"
            );
        }
        for n in ["name.", "name ", "a\u{1}b"] {
            assert_eq!(
                validate_win32_name(&wide(n)),
                Err(Error::ObjectNameInvalid),
                "{n:?}"
            );
        }
        for n in ["CONSOLE", "COM10", "file.txt", "lpt"] {
            assert!(validate_win32_name(&wide(n)).is_ok(), "{n}");
        }
    }
}
