//! Fuzzes the REPARSE_DATA_BUFFER codec (`vfs_core::reparse`) and the substitute-name
//! parser (`vfs_core::target`).
//!
//! Properties checked for every input:
//! * nothing panics: `ReparseBuffer::parse`, `parse_delete_header`, `symlink_for_target`,
//!   `junction_for_target`, `parse_target`;
//! * a buffer that parses keeps its bytes exactly (`as_bytes() == input`), so
//!   FSCTL_GET_REPARSE_POINT returns what FSCTL_SET_REPARSE_POINT was given, and it
//!   re-parses to the same value;
//! * rebuilding the decoded view with the builders gives a buffer that parses to the same
//!   decoded view (the builders write the canonical Windows layouts, so the bytes may differ);
//! * everything the builders produce parses.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vfs_core::reparse::{
    self, ReparseBuffer, ReparseData, MAX_REPARSE_DATA_SIZE, SYMLINK_FLAG_RELATIVE,
};
use vfs_core::target::{other_to_posix, parse_target, to_posix_relative, ReparseTarget};

fuzz_target!(|input: &[u8]| {
    let _ = reparse::parse_delete_header(input);

    if let Ok(parsed) = ReparseBuffer::parse(input) {
        assert_eq!(parsed.as_bytes(), input, "bytes must round-trip exactly");
        assert_eq!(
            ReparseBuffer::parse(parsed.as_bytes()).as_ref(),
            Ok(&parsed)
        );
        rebuild(&parsed);
        if let Some(substitute) = parsed.substitute_name() {
            let relative = parsed.symlink_flags() == Some(SYMLINK_FLAG_RELATIVE);
            check_target(substitute, relative);
        }
    }

    // The same bytes as a UTF-16 target string typed by a user, and as a substitute name.
    let units: Vec<u16> = input
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    for built in [
        reparse::symlink_for_target(&units, 'C'),
        reparse::junction_for_target(&units, 'C'),
    ]
    .into_iter()
    .flatten()
    {
        check_built(&built);
    }
    check_target(&units, false);
    check_target(&units, true);
});

/// Rebuilds `parsed` from its decoded view and checks the result decodes identically.
fn rebuild(parsed: &ReparseBuffer) {
    let rebuilt = match parsed.data() {
        ReparseData::Symlink {
            substitute_name,
            print_name,
            flags,
        } => ReparseBuffer::symlink(
            substitute_name,
            print_name,
            flags & SYMLINK_FLAG_RELATIVE != 0,
        ),
        ReparseData::MountPoint {
            substitute_name,
            print_name,
        } => ReparseBuffer::mount_point(substitute_name, print_name),
        ReparseData::Other { tag, guid, data } => ReparseBuffer::other(*tag, *guid, data),
    };
    match rebuilt {
        Ok(rebuilt) => {
            check_built(&rebuilt);
            assert_eq!(rebuilt.data(), parsed.data());
            assert_eq!(rebuilt.tag(), parsed.tag());
            assert_eq!(rebuilt.guid(), parsed.guid());
        }
        Err(_) => {
            // Only names that overlap or share bytes in the input can grow past the limit
            // once laid out canonically; opaque data always fits again.
            let names = parsed.substitute_name().unwrap_or_default().len()
                + parsed.print_name().unwrap_or_default().len();
            assert!(
                !matches!(parsed.data(), ReparseData::Other { .. }),
                "rebuilding opaque data failed"
            );
            assert!(
                2 * names + 20 > MAX_REPARSE_DATA_SIZE,
                "rebuild refused a small buffer"
            );
        }
    }
}

/// Builder output must always be a valid buffer that round-trips.
fn check_built(built: &ReparseBuffer) {
    assert!(built.as_bytes().len() <= MAX_REPARSE_DATA_SIZE);
    let again = ReparseBuffer::parse(built.as_bytes()).expect("builder output must parse");
    assert_eq!(&again, built);
}

fn check_target(substitute: &[u16], relative: bool) {
    // Issue 14: an absolute name never keeps a dot name or a `/` in a component, so that no
    // POSIX presentation of it climbs above its root (the mount, a mapped directory, the
    // unmapped prefix).
    let clean = |components: &[Vec<u16>]| {
        components.iter().all(|c| {
            !c.is_empty()
                && c.as_slice() != [0x2E]
                && c.as_slice() != [0x2E, 0x2E]
                && !c.contains(&0x2F)
        })
    };
    match parse_target(substitute, relative) {
        ReparseTarget::Relative(components) => {
            assert!(components.iter().all(|c| !c.is_empty()));
            let _ = to_posix_relative(&components);
        }
        ReparseTarget::RootRelative(components) => assert!(clean(&components)),
        ReparseTarget::Drive { letter, components } => {
            assert!(letter.is_ascii_uppercase());
            assert!(clean(&components));
        }
        ReparseTarget::Unc {
            server,
            share,
            components,
        } => {
            assert!(!server.is_empty() && !share.is_empty());
            assert!(clean(&[server, share]) && clean(&components));
        }
        ReparseTarget::VolumeGuid { guid, components } => {
            assert_eq!(guid.len(), 38);
            assert!(clean(&components));
        }
        ReparseTarget::Other(whole) => {
            assert_eq!(whole, substitute);
            let shown = other_to_posix(&whole);
            assert!(
                shown.is_empty()
                    || shown
                        .split('/')
                        .all(|s| !s.is_empty() && s != "." && s != "..")
            );
        }
    }
}
