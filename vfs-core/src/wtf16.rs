//! WTF-16 helpers, in one place: conversion between Rust strings and UTF-16 units (NTFS names
//! and paths are UTF-16 units that may hold unpaired surrogates, A5), and the ASCII tests that
//! path and reparse-target parsing share (`\??\`, `UNC\`, drive letters are ASCII and compared
//! case-insensitively, as the Windows object manager and Rtl path functions do).

/// `\`.
pub const BACKSLASH: u16 = b'\\' as u16;
/// `/`.
pub const SLASH: u16 = b'/' as u16;
/// `:`.
pub const COLON: u16 = b':' as u16;

/// Converts a Rust string to UTF-16 units.
#[inline]
pub fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// Converts UTF-16 units to a Rust string, replacing unpaired surrogates with U+FFFD.
#[inline]
pub fn narrow(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

/// The code unit as an ASCII byte, if it is one.
#[inline]
pub fn ascii_byte(unit: u16) -> Option<u8> {
    u8::try_from(unit).ok().filter(u8::is_ascii)
}

/// Does `s` start with the ASCII string `prefix`, compared case-insensitively?
#[inline]
pub fn starts_with_ascii_ci(s: &[u16], prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.iter()
            .zip(prefix.bytes())
            .all(|(&u, p)| ascii_byte(u).is_some_and(|b| b.eq_ignore_ascii_case(&p)))
}

/// Does `s` start with the ASCII string `prefix`, unit for unit (no allocation)?
#[inline]
pub fn starts_with_ascii(s: &[u16], prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.iter()
            .zip(prefix.bytes())
            .all(|(&u, p)| u == u16::from(p))
}

/// An ASCII letter (a drive letter's unit).
#[inline]
pub fn is_ascii_letter(unit: u16) -> bool {
    ascii_byte(unit).is_some_and(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_and_narrow_round_trip_and_lone_surrogates_become_replacement() {
        assert_eq!(narrow(&wide("aé😀")), "aé😀");
        assert_eq!(narrow(&[0xD800, 0x61]), "\u{FFFD}a");
    }

    #[test]
    fn ascii_prefix_is_case_insensitive_and_ascii_only() {
        assert!(starts_with_ascii_ci(&wide(r"unc\server"), r"UNC\"));
        assert!(!starts_with_ascii_ci(&wide("UN"), "UNC"));
        assert!(starts_with_ascii(&wide(r"\??\C:"), r"\??\"));
        assert!(!starts_with_ascii(&wide(r"\??"), r"\??\"));
        assert!(!starts_with_ascii(&wide("unc"), "UNC"));
        // U+212A KELVIN SIGN upcases to K in Unicode but is not ASCII.
        assert!(!starts_with_ascii_ci(&[0x212A], "k"));
        assert!(is_ascii_letter(b'z' as u16) && !is_ascii_letter(b'1' as u16));
        assert_eq!(ascii_byte(0x100), None);
    }
}
