//! The codec's tests: layouts against Windows-made fixtures, every validation rule of
//! MS-FSCC / MS-FSA, and randomized inputs that must never panic.

use super::*;
use crate::wtf16::wide as w;

/// Hex bytes; whitespace is ignored and `#` starts a comment that runs to the end of
/// the line.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .lines()
        .flat_map(|line| line.split('#').next().unwrap_or_default().bytes())
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    assert!(
        digits.iter().all(u8::is_ascii_hexdigit),
        "stray character in hex fixture"
    );
    assert_eq!(digits.len() & 1, 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn err(bytes: &[u8]) -> &'static str {
    ReparseBuffer::parse(bytes).unwrap_err().0
}

/// A junction to `C:\target` exactly as `mklink /J link C:\target` writes it, laid out
/// by hand from [MS-FSCC] 2.1.2.5.
const MKLINK_J_C_TARGET: &str = r"
    03 00 00 A0                       # ReparseTag IO_REPARSE_TAG_MOUNT_POINT
    38 00                             # ReparseDataLength 56 = 8 + 26 + 2 + 18 + 2
    00 00                             # Reserved
    00 00                             # SubstituteNameOffset 0
    1A 00                             # SubstituteNameLength 26 (NUL excluded)
    1C 00                             # PrintNameOffset 28 (after the NUL)
    12 00                             # PrintNameLength 18 (NUL excluded)
    5C 00 3F 00 3F 00 5C 00 43 00 3A 00 5C 00
    74 00 61 00 72 00 67 00 65 00 74 00  # \??\C:\target
    00 00                             # NUL
    43 00 3A 00 5C 00
    74 00 61 00 72 00 67 00 65 00 74 00  # C:\target
    00 00                             # NUL
";

/// A symlink to `C:\target` exactly as CreateSymbolicLinkW writes it, laid out by hand
/// from [MS-FSCC] 2.1.2.4: PrintName first, no NULs.
const CREATE_SYMLINK_C_TARGET: &str = r"
    0C 00 00 A0                       # ReparseTag IO_REPARSE_TAG_SYMLINK
    38 00                             # ReparseDataLength 56 = 12 + 18 + 26
    00 00                             # Reserved
    12 00                             # SubstituteNameOffset 18 (after PrintName)
    1A 00                             # SubstituteNameLength 26
    00 00                             # PrintNameOffset 0
    12 00                             # PrintNameLength 18
    00 00 00 00                       # Flags 0 (absolute)
    43 00 3A 00 5C 00
    74 00 61 00 72 00 67 00 65 00 74 00  # C:\target
    5C 00 3F 00 3F 00 5C 00 43 00 3A 00 5C 00
    74 00 61 00 72 00 67 00 65 00 74 00  # \??\C:\target
";

/// A relative symlink to `..\target` as CreateSymbolicLinkW writes it.
const CREATE_SYMLINK_RELATIVE: &str = r"
    0C 00 00 A0                       # ReparseTag IO_REPARSE_TAG_SYMLINK
    30 00                             # ReparseDataLength 48 = 12 + 18 + 18
    00 00                             # Reserved
    12 00 12 00                       # SubstituteNameOffset 18, SubstituteNameLength 18
    00 00 12 00                       # PrintNameOffset 0, PrintNameLength 18
    01 00 00 00                       # Flags SYMLINK_FLAG_RELATIVE
    2E 00 2E 00 5C 00 74 00 61 00 72 00 67 00 65 00 74 00  # ..\target (print)
    2E 00 2E 00 5C 00 74 00 61 00 72 00 67 00 65 00 74 00  # ..\target (substitute)
";

/// A third-party reparse point: tag 0x00000123, a GUID, 3 bytes of data.
const THIRD_PARTY: &str = "
    23 01 00 00                       # ReparseTag 0x00000123 (M bit clear)
    03 00 00 00                       # ReparseDataLength 3, Reserved
    00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF  # ReparseGuid
    DE AD BF                          # data
";

#[test]
fn mount_point_layout_matches_mklink_j() {
    let built = ReparseBuffer::mount_point(&w(r"\??\C:\target"), &w(r"C:\target")).unwrap();
    assert_eq!(built.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
    assert_eq!(built.as_bytes().len(), 64);
}

#[test]
fn symlink_layout_matches_create_symbolic_link_w() {
    let built = ReparseBuffer::symlink(&w(r"\??\C:\target"), &w(r"C:\target"), false).unwrap();
    assert_eq!(built.as_bytes(), hex(CREATE_SYMLINK_C_TARGET).as_slice());
    let rel = ReparseBuffer::symlink(&w(r"..\target"), &w(r"..\target"), true).unwrap();
    assert_eq!(rel.as_bytes(), hex(CREATE_SYMLINK_RELATIVE).as_slice());
}

#[test]
fn parse_windows_junction_fixture() {
    let b = ReparseBuffer::parse(&hex(MKLINK_J_C_TARGET)).unwrap();
    assert!(b.is_mount_point() && !b.is_symlink());
    assert!(b.is_name_surrogate());
    assert_eq!(b.tag(), IO_REPARSE_TAG_MOUNT_POINT);
    assert_eq!(b.substitute_name(), Some(w(r"\??\C:\target").as_slice()));
    assert_eq!(b.print_name(), Some(w(r"C:\target").as_slice()));
    assert_eq!(b.symlink_flags(), None);
    assert_eq!(b.guid(), None);
}

#[test]
fn parse_windows_symlink_fixtures() {
    let b = ReparseBuffer::parse(&hex(CREATE_SYMLINK_C_TARGET)).unwrap();
    assert!(b.is_symlink() && b.is_name_surrogate());
    assert_eq!(b.substitute_name(), Some(w(r"\??\C:\target").as_slice()));
    assert_eq!(b.print_name(), Some(w(r"C:\target").as_slice()));
    assert_eq!(b.symlink_flags(), Some(0));

    let r = ReparseBuffer::parse(&hex(CREATE_SYMLINK_RELATIVE)).unwrap();
    assert_eq!(r.symlink_flags(), Some(SYMLINK_FLAG_RELATIVE));
    assert_eq!(r.substitute_name(), Some(w(r"..\target").as_slice()));
}

#[test]
fn parse_third_party_guid_buffer_msfscc_2_1_2_3() {
    let bytes = hex(THIRD_PARTY);
    let b = ReparseBuffer::parse(&bytes).unwrap();
    assert_eq!(b.tag(), 0x123);
    let guid: [u8; 16] = bytes[8..24].try_into().unwrap();
    assert_eq!(b.guid(), Some(guid));
    assert_eq!(
        b.data(),
        &ReparseData::Other {
            tag: 0x123,
            guid: Some(guid),
            data: vec![0xDE, 0xAD, 0xBF]
        }
    );
    assert!(!b.is_name_surrogate());
    assert_eq!(b.substitute_name(), None);
    assert_eq!(b.print_name(), None);
    assert_eq!(
        ReparseBuffer::other(0x123, Some(guid), &[0xDE, 0xAD, 0xBF]).unwrap(),
        b
    );
}

#[test]
fn other_microsoft_tag_has_no_guid() {
    // IO_REPARSE_TAG_DEDUP 0x80000013 with 4 bytes of opaque data.
    let bytes = hex("13 00 00 80 04 00 00 00 01 02 03 04");
    let b = ReparseBuffer::parse(&bytes).unwrap();
    assert_eq!(
        b.data(),
        &ReparseData::Other {
            tag: 0x8000_0013,
            guid: None,
            data: vec![1, 2, 3, 4]
        }
    );
    assert_eq!(b.guid(), None);
    assert_eq!(
        ReparseBuffer::other(0x8000_0013, None, &[1, 2, 3, 4]).unwrap(),
        b
    );
    // An empty-data Microsoft buffer is just the header.
    let empty = ReparseBuffer::parse(&hex("13 00 00 80 00 00 00 00")).unwrap();
    assert_eq!(empty.as_bytes().len(), 8);
}

#[test]
fn round_trip_is_byte_for_byte() {
    // Non-canonical but valid buffers must come back untouched: Reserved set, names in
    // unusual order, overlapping names, slack bytes nobody points at.
    let cases = [
        hex(MKLINK_J_C_TARGET),
        hex(CREATE_SYMLINK_C_TARGET),
        hex(CREATE_SYMLINK_RELATIVE),
        hex(THIRD_PARTY),
        // Reserved = 0xBEEF.
        hex("03 00 00 A0 0C 00 EF BE 00 00 02 00 00 00 02 00 41 00 42 00"),
        // Both names point at the same "A"; a trailing slack unit "Z".
        hex("0C 00 00 A0 10 00 00 00 00 00 02 00 00 00 02 00 00 00 00 00 41 00 5A 00"),
    ];
    for bytes in cases {
        let parsed = ReparseBuffer::parse(&bytes).unwrap();
        assert_eq!(parsed.as_bytes(), bytes.as_slice());
        assert_eq!(parsed.clone().into_bytes(), bytes);
        assert_eq!(ReparseBuffer::parse(parsed.as_bytes()).unwrap(), parsed);
    }
}

#[test]
fn buffer_shorter_than_header_is_invalid_msfsa_2_1_5_10_37() {
    for len in 0..8 {
        assert_eq!(err(&vec![0u8; len]), TOO_SHORT);
    }
    assert_eq!(err(&hex("03 00 00 A0 00 00 00")), TOO_SHORT);
}

#[test]
fn buffer_over_16k_is_invalid() {
    // Exactly 16384 bytes is fine ...
    let mut ok = vec![0u8; MAX_REPARSE_DATA_SIZE];
    ok[..4].copy_from_slice(&0x8000_0013u32.to_le_bytes());
    ok[4..6].copy_from_slice(&((MAX_REPARSE_DATA_SIZE - 8) as u16).to_le_bytes());
    assert!(ReparseBuffer::parse(&ok).is_ok());
    // ... one more byte is not, whatever the header says.
    let mut big = ok.clone();
    big.push(0);
    assert_eq!(err(&big), TOO_LONG);
    let mut guid_big = vec![0u8; MAX_REPARSE_DATA_SIZE + 1];
    guid_big[..4].copy_from_slice(&0x123u32.to_le_bytes());
    assert_eq!(err(&guid_big), TOO_LONG);
}

#[test]
fn builders_refuse_over_16k() {
    // Symlink: 20 header bytes + 2 per unit.
    let max_units = (MAX_REPARSE_DATA_SIZE - 20) / 2;
    let name = vec![u16::from(b'a'); max_units];
    assert_eq!(
        ReparseBuffer::symlink(&name, &[], true)
            .unwrap()
            .as_bytes()
            .len(),
        MAX_REPARSE_DATA_SIZE
    );
    let too_long = vec![u16::from(b'a'); max_units + 1];
    assert_eq!(
        ReparseBuffer::symlink(&too_long, &[], true).unwrap_err().0,
        BUILD_TOO_LONG
    );
    assert_eq!(
        ReparseBuffer::symlink(&name, &name, false).unwrap_err().0,
        BUILD_TOO_LONG
    );
    // Mount point: 16 fixed bytes + 4 for the two NULs + 2 per unit.
    let mp_units = (MAX_REPARSE_DATA_SIZE - 20) / 2;
    let mp = vec![u16::from(b'b'); mp_units];
    assert_eq!(
        ReparseBuffer::mount_point(&mp, &[])
            .unwrap()
            .as_bytes()
            .len(),
        MAX_REPARSE_DATA_SIZE
    );
    let mp_long = vec![u16::from(b'b'); mp_units + 1];
    assert_eq!(
        ReparseBuffer::mount_point(&mp_long, &[]).unwrap_err().0,
        BUILD_TOO_LONG
    );
    // Other: Microsoft tags get 16376 data bytes, others 16360.
    assert!(ReparseBuffer::other(0x8000_0013, None, &vec![0; 16376]).is_ok());
    assert_eq!(
        ReparseBuffer::other(0x8000_0013, None, &vec![0; 16377])
            .unwrap_err()
            .0,
        BUILD_TOO_LONG
    );
    assert!(ReparseBuffer::other(0x123, Some([7; 16]), &vec![0; 16360]).is_ok());
    assert_eq!(
        ReparseBuffer::other(0x123, Some([7; 16]), &vec![0; 16361])
            .unwrap_err()
            .0,
        BUILD_TOO_LONG
    );
    // A data length that does not even fit ReparseDataLength.
    assert_eq!(
        ReparseBuffer::other(0x8000_0013, None, &vec![0; 70_000])
            .unwrap_err()
            .0,
        BUILD_TOO_LONG
    );
}

#[test]
fn reparse_data_length_mismatch_is_invalid_msfscc_2_1_2_2() {
    let mut bytes = hex(MKLINK_J_C_TARGET);
    for wrong in [0u16, 1, 55, 57, 0xFFFF] {
        bytes[4..6].copy_from_slice(&wrong.to_le_bytes());
        assert_eq!(err(&bytes), LENGTH_MISMATCH, "ReparseDataLength {wrong}");
    }
    // Trailing junk after a correct buffer.
    let mut junk = hex(CREATE_SYMLINK_C_TARGET);
    junk.push(0);
    assert_eq!(err(&junk), LENGTH_MISMATCH);
    // Truncated buffer.
    let short = hex(CREATE_SYMLINK_C_TARGET);
    assert_eq!(err(&short[..short.len() - 2]), LENGTH_MISMATCH);
}

#[test]
fn guid_required_for_non_microsoft_tag() {
    // Tag 0x123 as a plain REPARSE_DATA_BUFFER: ReparseDataLength + 8 == length.
    assert_eq!(err(&hex("23 01 00 00 02 00 00 00 AA BB")), GUID_REQUIRED);
    // Header only, no GUID.
    assert_eq!(err(&hex("23 01 00 00 00 00 00 00")), GUID_REQUIRED);
    // Too short to hold the GUID and lengths inconsistent.
    assert_eq!(err(&hex("23 01 00 00 05 00 00 00 AA BB")), LENGTH_MISMATCH);
    // Builder side.
    assert_eq!(
        ReparseBuffer::other(0x123, None, b"x").unwrap_err().0,
        GUID_REQUIRED
    );
}

#[test]
fn guid_form_for_microsoft_tag_is_invalid() {
    // IO_REPARSE_TAG_DEDUP in REPARSE_GUID_DATA_BUFFER form.
    let mut bytes = hex("13 00 00 80 00 00 00 00");
    bytes.extend_from_slice(&[9; 16]);
    assert_eq!(err(&bytes), GUID_NOT_ALLOWED);
    // Symlink data behind a GUID.
    let plain = hex(CREATE_SYMLINK_C_TARGET);
    let mut guid_form = plain[..8].to_vec();
    guid_form.extend_from_slice(&[0; 16]);
    guid_form.extend_from_slice(&plain[8..]);
    assert_eq!(err(&guid_form), GUID_NOT_ALLOWED);
    assert_eq!(
        ReparseBuffer::other(0x8000_0013, Some([1; 16]), b"")
            .unwrap_err()
            .0,
        GUID_NOT_ALLOWED
    );
}

#[test]
fn reserved_tags_are_invalid_msfscc_2_1_2_1() {
    for tag in [0u32, 1, 2] {
        let mut plain = tag.to_le_bytes().to_vec();
        plain.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(err(&plain), RESERVED_TAG);
        let mut guid = plain.clone();
        guid.extend_from_slice(&[1; 16]);
        assert_eq!(err(&guid), RESERVED_TAG);
        assert_eq!(
            ReparseBuffer::other(tag, Some([1; 16]), b"").unwrap_err().0,
            RESERVED_TAG
        );
        assert!(is_reserved_tag(tag));
    }
    assert!(!is_reserved_tag(3));
    // Tag 3 (not reserved, non-Microsoft) is fine with a GUID.
    let mut three = hex("03 00 00 00 00 00 00 00");
    three.extend_from_slice(&[1; 16]);
    assert!(ReparseBuffer::parse(&three).is_ok());
}

#[test]
fn tag_bits_msfscc_2_1_2_1() {
    assert!(is_microsoft_tag(IO_REPARSE_TAG_SYMLINK));
    assert!(is_microsoft_tag(IO_REPARSE_TAG_MOUNT_POINT));
    assert!(is_microsoft_tag(0x8000_0000));
    assert!(!is_microsoft_tag(0x7FFF_FFFF));
    assert!(is_name_surrogate_tag(IO_REPARSE_TAG_SYMLINK));
    assert!(is_name_surrogate_tag(IO_REPARSE_TAG_MOUNT_POINT));
    assert!(!is_name_surrogate_tag(0x8000_0013));
    let dedup = ReparseBuffer::other(0x8000_0013, None, b"").unwrap();
    assert!(!dedup.is_name_surrogate());
    let third_party_surrogate = ReparseBuffer::other(0x2000_0042, Some([3; 16]), b"").unwrap();
    assert!(third_party_surrogate.is_name_surrogate());
}

#[test]
fn symlink_data_shorter_than_12_bytes_is_invalid_msfscc_2_1_2_4() {
    for data_len in 0..12u16 {
        let mut bytes = hex("0C 00 00 A0");
        bytes.extend_from_slice(&data_len.to_le_bytes());
        bytes.extend_from_slice(&[0, 0]);
        bytes.extend(std::iter::repeat_n(0u8, usize::from(data_len)));
        assert_eq!(err(&bytes), SYMLINK_TOO_SHORT, "data length {data_len}");
    }
    // 12 bytes of zeros: two empty names, flags 0 — valid.
    let mut min = hex("0C 00 00 A0 0C 00 00 00");
    min.extend_from_slice(&[0; 12]);
    let b = ReparseBuffer::parse(&min).unwrap();
    assert_eq!(b.substitute_name(), Some(&[][..]));
}

#[test]
fn mount_point_data_shorter_than_8_bytes_is_invalid_msfscc_2_1_2_5() {
    for data_len in 0..8u16 {
        let mut bytes = hex("03 00 00 A0");
        bytes.extend_from_slice(&data_len.to_le_bytes());
        bytes.extend_from_slice(&[0, 0]);
        bytes.extend(std::iter::repeat_n(0u8, usize::from(data_len)));
        assert_eq!(err(&bytes), MOUNT_POINT_TOO_SHORT, "data length {data_len}");
    }
    let mut min = hex("03 00 00 A0 08 00 00 00");
    min.extend_from_slice(&[0; 8]);
    assert!(ReparseBuffer::parse(&min).unwrap().is_mount_point());
}

/// Offsets of the four name fields from the start of the buffer.
const SUB_OFF: usize = 8;
const SUB_LEN: usize = 10;
const PRINT_OFF: usize = 12;
const PRINT_LEN: usize = 14;

fn with_field(fixture: &str, at: usize, value: u16) -> Vec<u8> {
    let mut bytes = hex(fixture);
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
    bytes
}

#[test]
fn odd_name_length_is_invalid() {
    for fixture in [MKLINK_J_C_TARGET, CREATE_SYMLINK_C_TARGET] {
        assert_eq!(err(&with_field(fixture, SUB_LEN, 25)), ODD_LENGTH);
        assert_eq!(err(&with_field(fixture, PRINT_LEN, 17)), ODD_LENGTH);
    }
}

#[test]
fn odd_name_offset_is_invalid() {
    for fixture in [MKLINK_J_C_TARGET, CREATE_SYMLINK_C_TARGET] {
        assert_eq!(err(&with_field(fixture, SUB_OFF, 1)), ODD_OFFSET);
        assert_eq!(err(&with_field(fixture, PRINT_OFF, 3)), ODD_OFFSET);
    }
}

#[test]
fn name_outside_path_buffer_is_invalid() {
    // Junction PathBuffer is 48 bytes, symlink PathBuffer 44.
    assert_eq!(
        err(&with_field(MKLINK_J_C_TARGET, SUB_LEN, 50)),
        NAME_OUTSIDE
    );
    assert_eq!(
        err(&with_field(MKLINK_J_C_TARGET, PRINT_OFF, 32)),
        NAME_OUTSIDE
    );
    assert_eq!(
        err(&with_field(MKLINK_J_C_TARGET, PRINT_OFF, 0xFFFE)),
        NAME_OUTSIDE
    );
    assert_eq!(
        err(&with_field(MKLINK_J_C_TARGET, PRINT_LEN, 0xFFFE)),
        NAME_OUTSIDE
    );
    assert_eq!(
        err(&with_field(CREATE_SYMLINK_C_TARGET, SUB_OFF, 20)),
        NAME_OUTSIDE
    );
    assert_eq!(
        err(&with_field(CREATE_SYMLINK_C_TARGET, PRINT_LEN, 46)),
        NAME_OUTSIDE
    );
    // A name that ends exactly at the end of PathBuffer is inside.
    let edge = with_field(MKLINK_J_C_TARGET, PRINT_LEN, 20);
    assert_eq!(
        ReparseBuffer::parse(&edge)
            .unwrap()
            .print_name()
            .unwrap()
            .last(),
        Some(&0)
    );
}

#[test]
fn symlink_flags_other_than_relative_are_invalid_msfscc_2_1_2_4() {
    let mut bytes = hex(CREATE_SYMLINK_C_TARGET);
    for flags in [2u32, 3, 0x8000_0000, u32::MAX] {
        bytes[16..20].copy_from_slice(&flags.to_le_bytes());
        assert_eq!(err(&bytes), BAD_SYMLINK_FLAGS, "flags {flags:#x}");
    }
    bytes[16..20].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(
        ReparseBuffer::parse(&bytes).unwrap().symlink_flags(),
        Some(SYMLINK_FLAG_RELATIVE)
    );
}

#[test]
fn blank_print_name_junction_is_valid() {
    // Sysinternals `junction` / Go `TestDirectoryJunction/have_blank_print_name`.
    let b = ReparseBuffer::mount_point(&w(r"\??\C:\dir"), &[]).unwrap();
    let again = ReparseBuffer::parse(b.as_bytes()).unwrap();
    assert_eq!(again.print_name(), Some(&[][..]));
    assert_eq!(again.substitute_name(), Some(w(r"\??\C:\dir").as_slice()));
}

#[test]
fn other_with_symlink_tag_decodes_or_refuses() {
    let data = &hex(CREATE_SYMLINK_C_TARGET)[8..];
    let b = ReparseBuffer::other(IO_REPARSE_TAG_SYMLINK, None, data).unwrap();
    assert!(b.is_symlink());
    assert_eq!(b.as_bytes(), hex(CREATE_SYMLINK_C_TARGET).as_slice());
    assert_eq!(
        ReparseBuffer::other(IO_REPARSE_TAG_MOUNT_POINT, None, &[0; 4])
            .unwrap_err()
            .0,
        MOUNT_POINT_TOO_SHORT
    );
}

#[test]
fn delete_header_msfscc_2_3_5() {
    assert_eq!(
        parse_delete_header(&hex("03 00 00 A0 00 00 00 00")),
        Ok((IO_REPARSE_TAG_MOUNT_POINT, None))
    );
    // Microsoft tag in the 24-byte form: accepted, GUID ignored ([MS-FSCC] 2.3.6).
    let mut ms24 = hex("0C 00 00 A0 00 00 00 00");
    ms24.extend_from_slice(&[5; 16]);
    assert_eq!(
        parse_delete_header(&ms24),
        Ok((IO_REPARSE_TAG_SYMLINK, None))
    );
    // Third-party tag: 24 bytes with the GUID.
    let mut tp = hex("23 01 00 00 00 00 00 00");
    tp.extend_from_slice(&[7; 16]);
    assert_eq!(parse_delete_header(&tp), Ok((0x123, Some([7; 16]))));
    assert_eq!(parse_delete_header(&tp[..8]).unwrap_err().0, GUID_REQUIRED);
    // ReparseDataLength must be 0, even when the data is there.
    assert_eq!(
        parse_delete_header(&hex(MKLINK_J_C_TARGET)).unwrap_err().0,
        DELETE_DATA_LENGTH
    );
    // Neither 8 nor 24 bytes.
    assert_eq!(
        parse_delete_header(&hex("03 00 00 A0 00 00 00 00 00 00"))
            .unwrap_err()
            .0,
        DELETE_SIZE
    );
    assert_eq!(parse_delete_header(&[0; 7]).unwrap_err().0, TOO_SHORT);
    assert_eq!(
        parse_delete_header(&hex("01 00 00 00 00 00 00 00"))
            .unwrap_err()
            .0,
        RESERVED_TAG
    );
}

#[test]
fn symlink_for_absolute_target_create_symbolic_link_w() {
    let b = symlink_for_target(&w(r"C:\target"), 'C').unwrap();
    assert_eq!(b.as_bytes(), hex(CREATE_SYMLINK_C_TARGET).as_slice());
    // Another drive, forward slashes, dots: normalised like GetFullPathNameW.
    let b = symlink_for_target(&w("d:/a/./b/../c"), 'C').unwrap();
    assert_eq!(b.substitute_name(), Some(w(r"\??\d:\a\c").as_slice()));
    assert_eq!(b.print_name(), Some(w(r"d:\a\c").as_slice()));
    assert_eq!(b.symlink_flags(), Some(0));
    // `..` never climbs above the drive root; trailing separator kept.
    let b = symlink_for_target(&w(r"C:\..\..\x\"), 'C').unwrap();
    assert_eq!(b.substitute_name(), Some(w(r"\??\C:\x\").as_slice()));
    let root = symlink_for_target(&w(r"C:\"), 'C').unwrap();
    assert_eq!(root.substitute_name(), Some(w(r"\??\C:\").as_slice()));
}

#[test]
fn root_relative_symlink_is_made_absolute_go_test_root_relative_dir_symlink() {
    let b = symlink_for_target(&w(r"\dir\sub"), 'e').unwrap();
    assert_eq!(b.substitute_name(), Some(w(r"\??\E:\dir\sub").as_slice()));
    assert_eq!(b.print_name(), Some(w(r"E:\dir\sub").as_slice()));
    assert_eq!(b.symlink_flags(), Some(0));
    assert_eq!(
        symlink_for_target(&w(r"\dir"), '1').unwrap_err().0,
        BAD_DRIVE
    );
}

#[test]
fn unc_symlink_target_gets_unc_prefix() {
    let b = symlink_for_target(&w(r"\\server\share\x"), 'C').unwrap();
    assert_eq!(
        b.substitute_name(),
        Some(w(r"\??\UNC\server\share\x").as_slice())
    );
    assert_eq!(b.print_name(), Some(w(r"\\server\share\x").as_slice()));
    assert_eq!(b.symlink_flags(), Some(0));
    let bare = symlink_for_target(&w(r"\\server\share"), 'C').unwrap();
    assert_eq!(
        bare.substitute_name(),
        Some(w(r"\??\UNC\server\share").as_slice())
    );
    let dots = symlink_for_target(&w(r"\\server\share\..\..\y"), 'C').unwrap();
    assert_eq!(
        dots.substitute_name(),
        Some(w(r"\??\UNC\server\share\y").as_slice())
    );
}

#[test]
fn nt_and_verbatim_symlink_targets() {
    let nt = symlink_for_target(&w(r"\??\C:\x\..\y"), 'D').unwrap();
    assert_eq!(nt.substitute_name(), Some(w(r"\??\C:\x\..\y").as_slice()));
    assert_eq!(nt.print_name(), Some(w(r"C:\x\..\y").as_slice()));
    let nt_unc = symlink_for_target(&w(r"\??\UNC\srv\sh"), 'D').unwrap();
    assert_eq!(nt_unc.print_name(), Some(w(r"\\srv\sh").as_slice()));
    let verbatim = symlink_for_target(&w(r"\\?\C:\a/b"), 'D').unwrap();
    assert_eq!(
        verbatim.substitute_name(),
        Some(w(r"\??\C:\a/b").as_slice())
    );
    assert_eq!(verbatim.print_name(), Some(w(r"C:\a/b").as_slice()));
    let volume = symlink_for_target(
        &w(r"\\?\Volume{01234567-89ab-cdef-0123-456789abcdef}\"),
        'D',
    )
    .unwrap();
    assert_eq!(
        volume.substitute_name(),
        Some(w(r"\??\Volume{01234567-89ab-cdef-0123-456789abcdef}\").as_slice())
    );
    let device = symlink_for_target(&w(r"\\.\C:\a\..\b"), 'D').unwrap();
    assert_eq!(device.substitute_name(), Some(w(r"\??\C:\b").as_slice()));
    let device_root = symlink_for_target(&w(r"\\.\C:\"), 'D').unwrap();
    assert_eq!(
        device_root.substitute_name(),
        Some(w(r"\??\C:\").as_slice())
    );
}

#[test]
fn relative_symlink_target_sets_symlink_flag_relative() {
    let b = symlink_for_target(&w("../target"), 'C').unwrap();
    assert_eq!(b.as_bytes(), hex(CREATE_SYMLINK_RELATIVE).as_slice());
    let plain = symlink_for_target(&w("file.txt"), 'C').unwrap();
    assert_eq!(plain.symlink_flags(), Some(SYMLINK_FLAG_RELATIVE));
    assert_eq!(plain.substitute_name(), plain.print_name());
}

#[test]
fn drive_relative_and_empty_targets_are_refused() {
    assert_eq!(
        symlink_for_target(&w("C:dir"), 'C').unwrap_err().0,
        DRIVE_RELATIVE
    );
    assert_eq!(
        symlink_for_target(&w("C:"), 'C').unwrap_err().0,
        DRIVE_RELATIVE
    );
    assert_eq!(symlink_for_target(&[], 'C').unwrap_err().0, EMPTY_TARGET);
    assert_eq!(
        symlink_for_target(&[0, 65], 'C').unwrap_err().0,
        EMPTY_TARGET
    );
    assert_eq!(junction_for_target(&[], 'C').unwrap_err().0, EMPTY_TARGET);
    // The target is a C string: it ends at the first NUL.
    let mut nul = w(r"C:\target");
    nul.extend_from_slice(&[0, 65, 66]);
    assert_eq!(
        symlink_for_target(&nul, 'C').unwrap().as_bytes(),
        hex(CREATE_SYMLINK_C_TARGET).as_slice()
    );
}

#[test]
fn junction_for_target_matches_mklink_j() {
    let b = junction_for_target(&w(r"C:\target"), 'C').unwrap();
    assert_eq!(b.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
    let rooted = junction_for_target(&w(r"\target"), 'c').unwrap();
    assert_eq!(rooted.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
    let slashes = junction_for_target(&w("C:/x/../target"), 'C').unwrap();
    assert_eq!(slashes.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
    let nt = junction_for_target(&w(r"\??\C:\target"), 'D').unwrap();
    assert_eq!(nt.as_bytes(), hex(MKLINK_J_C_TARGET).as_slice());
}

#[test]
fn junction_target_must_be_absolute_and_local() {
    for relative in ["target", r"..\target", "./x"] {
        assert_eq!(
            junction_for_target(&w(relative), 'C').unwrap_err().0,
            JUNCTION_RELATIVE
        );
    }
    assert_eq!(
        junction_for_target(&w("C:target"), 'C').unwrap_err().0,
        DRIVE_RELATIVE
    );
    for remote in [r"\\server\share", r"\??\UNC\srv\sh\x", r"\\?\unc\srv\sh"] {
        assert_eq!(
            junction_for_target(&w(remote), 'C').unwrap_err().0,
            JUNCTION_REMOTE,
            "{remote}"
        );
    }
}

#[test]
fn unc_target_needs_server_and_share() {
    for bad in [r"\\", r"\\server", r"\\server\", "//x"] {
        assert_eq!(
            symlink_for_target(&w(bad), 'C').unwrap_err().0,
            INCOMPLETE_UNC,
            "{bad}"
        );
    }
    // Forward slashes are separators in a UNC path too; a trailing one is kept.
    let b = symlink_for_target(&w("//srv/sh/"), 'C').unwrap();
    assert_eq!(b.substitute_name(), Some(w(r"\??\UNC\srv\sh\").as_slice()));
}

#[test]
fn forward_slash_question_mark_prefix_is_not_verbatim() {
    // `//?/C:/a/../b` is a normalised device path, unlike `\\?\`.
    let b = symlink_for_target(&w("//?/C:/a/../b"), 'C').unwrap();
    assert_eq!(b.substitute_name(), Some(w(r"\??\C:\b").as_slice()));
}

#[test]
fn error_display_and_trait() {
    let e = InvalidReparseData(TOO_SHORT);
    assert_eq!(e.to_string(), format!("invalid reparse data: {TOO_SHORT}"));
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.source().is_none());
}

/// xorshift64*, so the randomized tests need no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Whatever parse says, it must not panic, and an accepted buffer must round-trip.
fn check_no_panic(bytes: &[u8]) -> bool {
    let _ = parse_delete_header(bytes);
    match ReparseBuffer::parse(bytes) {
        Ok(parsed) => {
            assert_eq!(parsed.as_bytes(), bytes);
            assert_eq!(
                ReparseBuffer::parse(parsed.as_bytes()).as_ref(),
                Ok(&parsed)
            );
            let _ = (parsed.substitute_name(), parsed.print_name(), parsed.guid());
            true
        }
        Err(_) => false,
    }
}

#[test]
fn randomized_truncated_and_mutated_buffers_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let seeds = [
        hex(MKLINK_J_C_TARGET),
        hex(CREATE_SYMLINK_C_TARGET),
        hex(CREATE_SYMLINK_RELATIVE),
        hex(THIRD_PARTY),
    ];
    let mut accepted = 0;
    for round in 0..20_000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        match rng.below(4) {
            0 => bytes.truncate(rng.below(bytes.len() + 1)),
            1 => {
                for _ in 0..=rng.below(4) {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
            }
            2 => {
                // Random name field, keeping the header consistent so the name checks
                // are what gets exercised.
                let field = 8 + 2 * rng.below(4);
                let value = rng.next() as u16 % 96;
                bytes[field..field + 2].copy_from_slice(&value.to_le_bytes());
            }
            _ => {
                // Grow or shrink the tail and fix up ReparseDataLength.
                let new_len = 8 + rng.below(80);
                bytes.resize(new_len, rng.next() as u8);
                let header = if is_microsoft_tag(u32::from_le_bytes(bytes[..4].try_into().unwrap()))
                {
                    8
                } else {
                    24
                };
                let dl = new_len.saturating_sub(header) as u16;
                bytes[4..6].copy_from_slice(&dl.to_le_bytes());
            }
        }
        if check_no_panic(&bytes) {
            accepted += 1;
        }
    }
    // The mutations must reach the accepting paths too, or the loop proves little.
    assert!(accepted > 1_000, "only {accepted} mutated buffers parsed");
}

#[test]
fn randomized_garbage_never_panics() {
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    let tags = [
        IO_REPARSE_TAG_SYMLINK,
        IO_REPARSE_TAG_MOUNT_POINT,
        0x8000_0013,
        0x123,
        0,
        1,
        2,
    ];
    for _ in 0..20_000 {
        let len = rng.below(120);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len >= 8 && rng.below(2) == 0 {
            bytes[..4].copy_from_slice(&tags[rng.below(tags.len())].to_le_bytes());
            bytes[4..6].copy_from_slice(&((len - 8) as u16).to_le_bytes());
        }
        check_no_panic(&bytes);
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        for target in [
            units.clone(),
            // Bias towards separators, dots, colons and letters.
            units
                .iter()
                .map(|&u| [92, 47, 46, 58, 63, 65, 85][usize::from(u) % 7])
                .collect(),
        ] {
            for built in [
                symlink_for_target(&target, 'C'),
                junction_for_target(&target, 'C'),
            ]
            .into_iter()
            .flatten()
            {
                check_no_panic(built.as_bytes());
            }
        }
    }
    // Sizes near and past the limit.
    for len in [16_383, 16_384, 16_385, 70_000] {
        let mut big = vec![0u8; len];
        big[..4].copy_from_slice(&IO_REPARSE_TAG_SYMLINK.to_le_bytes());
        big[4..6].copy_from_slice(&((len.min(65_543) - 8) as u16).to_le_bytes());
        check_no_panic(&big);
    }
}

#[test]
fn builders_round_trip_random_names() {
    let mut rng = XorShift(42);
    for _ in 0..2_000 {
        let sub: Vec<u16> = (0..rng.below(40)).map(|_| rng.next() as u16).collect();
        let print: Vec<u16> = (0..rng.below(40)).map(|_| rng.next() as u16).collect();
        let relative = rng.below(2) == 0;
        let s = ReparseBuffer::symlink(&sub, &print, relative).unwrap();
        let again = ReparseBuffer::parse(s.as_bytes()).unwrap();
        assert_eq!(again, s);
        assert_eq!(s.substitute_name(), Some(sub.as_slice()));
        assert_eq!(s.print_name(), Some(print.as_slice()));
        assert_eq!(s.symlink_flags(), Some(u32::from(relative)));
        let m = ReparseBuffer::mount_point(&sub, &print).unwrap();
        assert_eq!(ReparseBuffer::parse(m.as_bytes()).unwrap(), m);
        assert_eq!(m.substitute_name(), Some(sub.as_slice()));
        assert_eq!(m.print_name(), Some(print.as_slice()));
    }
}
