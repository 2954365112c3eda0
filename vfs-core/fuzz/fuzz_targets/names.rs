//! Fuzzes name validation and the $UpCase mapping (`vfs_core::name`, rule A5).
//!
//! Properties checked for every input (read as little-endian UTF-16 units, unpaired
//! surrogates included, as NTFS stores them):
//! * nothing panics: `validate_name`, `validate_win32_name`, `upcase`, `upcase_unit`,
//!   `eq_ignore_case`, `Name::new`, `narrow`;
//! * `upcase` keeps the length, agrees with `upcase_unit` unit by unit, and is idempotent;
//! * `eq_ignore_case(a, b)` is exactly `upcase(a) == upcase(b)`, for unrelated names and for
//!   a name against a case-changed copy of itself (which must compare equal);
//! * the Win32 rules only add to NTFS's own (`validate_win32_name` ok ⇒ `validate_name` ok),
//!   and `Name::new` succeeds exactly when `validate_name` does, with the upcased canonical
//!   form.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vfs_core::name::{
    eq_ignore_case, narrow, upcase, upcase_unit, validate_name, validate_win32_name, Name,
};

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    let units: Vec<u16> = rest
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();

    // Validation never panics; Win32's rules are stricter than NTFS's.
    let nt = validate_name(&units);
    let win32 = validate_win32_name(&units);
    if win32.is_ok() {
        assert!(nt.is_ok(), "a Win32-valid name must be NT-valid");
    }
    match Name::new(&units) {
        Ok(name) => {
            assert!(nt.is_ok());
            assert_eq!(name.display(), &units[..]);
            assert_eq!(name.canonical(), &upcase(&units)[..]);
        }
        Err(e) => assert_eq!(Err(e), nt),
    }
    let _ = narrow(&units);

    // upcase: length kept, unit-wise, idempotent.
    let up = upcase(&units);
    assert_eq!(up.len(), units.len());
    for (&u, &v) in units.iter().zip(&up) {
        assert_eq!(upcase_unit(u), v);
    }
    assert_eq!(upcase(&up), up, "upcase must be idempotent");
    assert!(eq_ignore_case(&units, &up));

    // eq_ignore_case against unrelated names: the two halves of the input.
    let (a, b) = units.split_at(units.len() / 2);
    assert_eq!(eq_ignore_case(a, b), upcase(a) == upcase(b));
    assert_eq!(eq_ignore_case(a, b), eq_ignore_case(b, a));

    // ... and against a copy whose letters changed case where `mode` says so.
    let flipped: Vec<u16> = units
        .iter()
        .enumerate()
        .map(|(i, &u)| {
            if (mode >> (i % 8)) & 1 == 0 {
                return u;
            }
            match char::from_u32(u32::from(u)) {
                Some(c) => {
                    let mut lower = c.to_lowercase();
                    match (lower.next(), lower.next()) {
                        // Only a lowercase letter that upcases back to the same unit is a
                        // case variant in $UpCase's sense.
                        (Some(l), None) if (l as u32) < 0x1_0000 => {
                            let l = l as u16;
                            if upcase_unit(l) == upcase_unit(u) {
                                l
                            } else {
                                u
                            }
                        }
                        _ => u,
                    }
                }
                None => u,
            }
        })
        .collect();
    assert!(eq_ignore_case(&units, &flipped));
    assert_eq!(upcase(&flipped), up);
});
