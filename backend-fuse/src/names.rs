//! Linux names (bytes) ⇄ NTFS names (UTF-16 units).
//!
//! NTFS stores names as UTF-16 units and accepts unpaired surrogates (A5: "NTFS accepts
//! unpaired surrogates (WTF-16)"). Linux names are bytes. The bridge is WTF-8: UTF-8 extended
//! so that an unpaired surrogate is written as its 3-byte generalized UTF-8 form. Every NTFS
//! name then has exactly one Linux spelling and back, so a name made on Windows with a lone
//! surrogate can still be opened, renamed and deleted from Linux. Byte strings that are neither
//! UTF-8 nor canonical WTF-8 (stray bytes, overlong forms, a surrogate pair written as two
//! 3-byte sequences) name nothing on NTFS: the caller answers EINVAL, as for a forbidden name.

/// The UTF-16 units of a Linux name, or None if the bytes are not (WTF-)8.
/// The buffer has room for the engine's canonical form as well (`vfs_core::name::
/// with_name_capacity`): a request's name then costs one allocation, not three (the UTF-16
/// iterator's growth and the upcased copy; daemon profiles of name operations, BENCHMARKS.md
/// "Daemon CPU per request").
pub(crate) fn to_units(bytes: &[u8]) -> Option<Vec<u16>> {
    if bytes.is_ascii() {
        let mut out = vfs_core::name::with_name_capacity(bytes.len());
        out.extend(bytes.iter().map(|&b| u16::from(b)));
        return Some(out);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        // A UTF-8 name has at most as many UTF-16 units as bytes.
        let mut out = vfs_core::name::with_name_capacity(bytes.len());
        out.extend(s.encode_utf16());
        return Some(out);
    }
    decode_wtf8(bytes)
}

/// The Linux spelling (WTF-8 bytes) of UTF-16 units.
pub(crate) fn to_bytes(units: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    to_bytes_into(units, &mut out);
    out
}

/// [`to_bytes`] into `out`, which is cleared first: a listing spells every entry into one
/// buffer. ASCII names (most) are copied a unit at a time, without the per-character
/// `encode_utf8` copy (daemon profile of a READDIR loop: BENCHMARKS.md, "Listings").
pub(crate) fn to_bytes_into(units: &[u16], out: &mut Vec<u8>) {
    out.clear();
    if units.iter().all(|&u| u < 0x80) {
        out.extend(units.iter().map(|&u| u as u8));
        return;
    }
    out.reserve(units.len() + units.len() / 2);
    for r in char::decode_utf16(units.iter().copied()) {
        match r {
            Ok(c) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            Err(e) => {
                let u = e.unpaired_surrogate();
                out.push(0xE0 | (u >> 12) as u8);
                out.push(0x80 | ((u >> 6) & 0x3F) as u8);
                out.push(0x80 | (u & 0x3F) as u8);
            }
        }
    }
}

fn decode_wtf8(b: &[u8]) -> Option<Vec<u16>> {
    let mut out = vfs_core::name::with_name_capacity(b.len());
    let mut i = 0;
    let cont = |x: Option<&u8>| {
        x.filter(|&&c| c & 0xC0 == 0x80)
            .map(|&c| u32::from(c & 0x3F))
    };
    while i < b.len() {
        let c0 = b[i];
        let (cp, len) = match c0 {
            0x00..=0x7F => (u32::from(c0), 1),
            0xC2..=0xDF => ((u32::from(c0 & 0x1F) << 6) | cont(b.get(i + 1))?, 2),
            0xE0..=0xEF => {
                let cp =
                    (u32::from(c0 & 0x0F) << 12) | (cont(b.get(i + 1))? << 6) | cont(b.get(i + 2))?;
                if cp < 0x800 {
                    return None; // overlong
                }
                (cp, 3)
            }
            0xF0..=0xF4 => {
                let cp = (u32::from(c0 & 0x07) << 18)
                    | (cont(b.get(i + 1))? << 12)
                    | (cont(b.get(i + 2))? << 6)
                    | cont(b.get(i + 3))?;
                if !(0x1_0000..=0x10_FFFF).contains(&cp) {
                    return None;
                }
                (cp, 4)
            }
            _ => return None,
        };
        if (0xD800..=0xDBFF).contains(&cp) {
            // A lead surrogate followed by a trail surrogate must be written as one 4-byte
            // sequence in WTF-8; two 3-byte sequences are not canonical.
            if let Some(&0xED) = b.get(i + 3) {
                if b.get(i + 4).is_some_and(|&c| (0xB0..=0xBF).contains(&c)) {
                    return None;
                }
            }
        }
        match char::from_u32(cp) {
            Some(c) => {
                let mut buf = [0u16; 2];
                out.extend_from_slice(c.encode_utf16(&mut buf));
            }
            None => out.push(cp as u16), // an unpaired surrogate
        }
        i += len;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_round_trips() {
        for s in ["a", "Readme.TXT", "éàü", "日本語", "😀x", ""] {
            let u = to_units(s.as_bytes()).unwrap();
            assert_eq!(u, s.encode_utf16().collect::<Vec<_>>());
            assert_eq!(to_bytes(&u), s.as_bytes());
        }
    }

    #[test]
    fn one_buffer_spells_names_in_turn_as_to_bytes_does() {
        let mut buf = Vec::new();
        for units in [
            "日本語".encode_utf16().collect::<Vec<_>>(),
            "a.txt".encode_utf16().collect(),
            vec![0x61, 0xDC00, 0x62],
            Vec::new(),
            "Readme.TXT".encode_utf16().collect(),
        ] {
            to_bytes_into(&units, &mut buf);
            assert_eq!(buf, to_bytes(&units));
            assert_eq!(to_units(&buf).unwrap(), units);
        }
    }

    #[test]
    fn unpaired_surrogates_round_trip_as_wtf8_a5() {
        for units in [
            vec![0xD800u16],
            vec![0x61, 0xDC00, 0x62],
            vec![0xDBFF, 0x61],
            vec![0xDC00, 0xD800],
        ] {
            let b = to_bytes(&units);
            assert!(std::str::from_utf8(&b).is_err());
            assert_eq!(to_units(&b).unwrap(), units, "{b:x?}");
        }
    }

    #[test]
    fn invalid_bytes_name_nothing() {
        for b in [
            &[0xFFu8][..],
            &[0x80],
            &[0xC0, 0xAF],                         // overlong '/'
            &[0xE0, 0x80, 0xAF],                   // overlong
            &[0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80], // CESU pair
            &[0xF5, 0x80, 0x80, 0x80],
            &[0xE2, 0x82],
        ] {
            assert_eq!(to_units(b), None, "{b:x?}");
        }
    }
}
