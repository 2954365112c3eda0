//! A4 Symbolic links (IO_REPARSE_TAG_SYMLINK).

use super::*;
use crate::case::*;
use crate::target::Feature;
use vfs_core::reparse::IO_REPARSE_TAG_SYMLINK;
use vfs_core::{attrs, Error};

const CREATE_SYMLINK: &str =
    "CreateSymbolicLinkW, https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-createsymboliclinkw";
const WIN11_KIND: &str = "A4: WinFsp's comment on Windows 11 NTFS (a file symlink to a directory and vice versa fail to open: ERROR_ACCESS_DENIED or ERROR_DIRECTORY); Haskell directory docs";

pub(super) const CASES: &[Case] = &[
    Case {
        id: "S01",
        rule: Rule::A4,
        title: "A relative file symlink reads its target; the link has REPARSE_POINT and the symlink tag",
        source: CREATE_SYMLINK,
        expected: "data of the target; the link: REPARSE_POINT without DIRECTORY, tag IO_REPARSE_TAG_SYMLINK",
        steps: s01,
    },
    Case {
        id: "S02",
        rule: Rule::A4,
        title: "A relative symlink's .. is resolved from the link's directory",
        source: MSFSCC_SYMLINK,
        expected: "d\\s -> ..\\t\\f reads t\\f",
        steps: s02,
    },
    Case {
        id: "S03",
        rule: Rule::A4,
        title: "An absolute symlink (C:\\...) reaches its target",
        source: CREATE_SYMLINK,
        expected: "the link reads the target's data",
        steps: s03,
    },
    Case {
        id: "S04",
        rule: Rule::A4,
        title: "A directory symlink has DIRECTORY|REPARSE_POINT and paths go through it",
        source: "CreateSymbolicLinkW (SYMBOLIC_LINK_FLAG_DIRECTORY)",
        expected: "attributes DIRECTORY|REPARSE_POINT, tag SYMLINK; s\\f reads t\\f; s lists t's files",
        steps: s04,
    },
    Case {
        id: "S05",
        rule: Rule::A4,
        title: "A dangling symlink is created; opening it finds no file",
        source: SYMLINK_CONSIDERATIONS,
        expected: "creation succeeds; the link opens with FILE_FLAG_OPEN_REPARSE_POINT; following it gives ERROR_FILE_NOT_FOUND",
        steps: s05,
    },
    Case {
        id: "S06",
        rule: Rule::A4,
        title: "A symlink whose target's directory is missing",
        source: "A4: dangling links distinguish name and path not found (STATUS_OBJECT_PATH_NOT_FOUND)",
        expected: "ERROR_PATH_NOT_FOUND",
        steps: s06,
    },
    Case {
        id: "S07",
        rule: Rule::A4,
        title: "A symlink to itself cannot be resolved",
        source: "A4: WinFsp reparse_symlink_relative_test (\"loop\" -> \"loop\")",
        expected: "ERROR_CANT_RESOLVE_FILENAME (STATUS_REPARSE_POINT_NOT_RESOLVED)",
        steps: s07,
    },
    Case {
        id: "S08",
        rule: Rule::A4,
        title: "Two symlinks pointing at each other cannot be resolved",
        source: SYMLINK_CONSIDERATIONS,
        expected: "ERROR_CANT_RESOLVE_FILENAME",
        steps: s08,
    },
    Case {
        id: "S09",
        rule: Rule::A4,
        title: "A path through 63 reparse points resolves",
        source: "A4: \"There is a maximum of 63 reparse points (and therefore symbolic links) allowed in a particular path\" (symbolic-link-programming-considerations)",
        expected: "the 63rd link of a chain reads the file",
        steps: s09,
    },
    Case {
        id: "S10",
        rule: Rule::A4,
        title: "A path through 64 reparse points cannot be resolved",
        source: SYMLINK_CONSIDERATIONS,
        expected: "ERROR_CANT_RESOLVE_FILENAME (a POSIX target gives ELOOP earlier, at 41: the same outcome, from the kernel's limit)",
        steps: s10,
    },
    Case {
        id: "S11",
        rule: Rule::A4,
        title: "A file symlink that reaches a directory fails to open (Windows 11)",
        source: WIN11_KIND,
        expected: "ERROR_ACCESS_DENIED or ERROR_DIRECTORY",
        steps: s11,
    },
    Case {
        id: "S12",
        rule: Rule::A4,
        title: "A directory symlink that reaches a file fails to open (Windows 11)",
        source: WIN11_KIND,
        expected: "ERROR_DIRECTORY or ERROR_ACCESS_DENIED",
        steps: s12,
    },
    Case {
        id: "S13",
        rule: Rule::A4,
        title: "A relative symlink moved to another directory resolves from there",
        source: MSFSCC_SYMLINK,
        expected: "after the move the link reads the file its target names relative to the new directory",
        steps: s13,
    },
    Case {
        id: "S14",
        rule: Rule::A4,
        title: "FILE_FLAG_OPEN_REPARSE_POINT opens the symlink itself",
        source: "CreateFileW docs (FILE_FLAG_OPEN_REPARSE_POINT)",
        expected: "the link's FileId differs from the target's; following gives the target's",
        steps: s14,
    },
    Case {
        id: "S15",
        rule: Rule::A4,
        title: "FILE_FLAG_OPEN_REPARSE_POINT affects only the last component",
        source: "A4: WinBtrfs (open mp\\file with FILE_OPEN_REPARSE_POINT still traverses the junction)",
        expected: "j\\f and s\\f opened with the flag are t\\f",
        steps: s15,
    },
    Case {
        id: "S16",
        rule: Rule::A4,
        title: "A reparse point of a tag nobody handles cannot be opened",
        source: "A4: WinFsp reparse_guid_test; WinBtrfs (STATUS_IO_REPARSE_TAG_NOT_HANDLED)",
        expected: "ERROR_CANT_ACCESS_FILE (STATUS_IO_REPARSE_TAG_NOT_HANDLED)",
        steps: s16,
    },
    Case {
        id: "S17",
        rule: Rule::A4,
        title: "Removing a symlink's target leaves the link dangling; a new target revives it",
        source: SYMLINK_CONSIDERATIONS,
        expected: "the link stays; following it gives ERROR_FILE_NOT_FOUND until the target exists again",
        steps: s17,
    },
    Case {
        id: "S18",
        rule: Rule::A4,
        title: "A relative symlink reached through a junction resolves from the link's directory",
        source: MSFSCC_SYMLINK,
        expected: "j\\s -> ..\\t\\f (s in d, j -> d) reads t\\f",
        steps: s18,
    },
    Case {
        id: "S19",
        rule: Rule::A4,
        title: "A directory symlink to a junction: a path crosses both",
        source: "A4/A3: every reparse point of a path is followed",
        expected: "s\\f reads t\\f",
        steps: s19,
    },
    Case {
        id: "S20",
        rule: Rule::A4,
        title: "A symlink target is looked up case-insensitively",
        source: "A4 + A5: the target is an ordinary path, looked up like any other",
        expected: "s -> T\\FILE.TXT reads t\\File.txt",
        steps: s20,
    },
];

fn s01(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "target", b"data")?;
    symlink(t, "s", "target", false)?;
    ensure_eq(read(t, "s")?.as_str(), "data", "data through s")?;
    let st = expect_ok(t.stat("s", false), "stat the link")?;
    ensure(
        st.attributes & attrs::REPARSE_POINT != 0 && st.attributes & attrs::DIRECTORY == 0,
        format!(
            "attributes: expected REPARSE_POINT without DIRECTORY, got {:#x}",
            st.attributes
        ),
    )?;
    ensure_eq(st.reparse_tag, Some(IO_REPARSE_TAG_SYMLINK), "reparse tag")
}

fn s02(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"up")?;
    mkdir(t, "d")?;
    symlink(t, "d\\s", "..\\t\\f", false)?;
    ensure_eq(read(t, "d\\s")?.as_str(), "up", "d\\s")
}

fn s03(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"abs")?;
    let abs = t.absolute("t\\f");
    symlink(t, "s", &abs, false)?;
    ensure_eq(read(t, "s")?.as_str(), "abs", "s")
}

fn s04(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"in")?;
    symlink(t, "s", "t", true)?;
    let st = expect_ok(t.stat("s", false), "stat the link")?;
    let both = attrs::DIRECTORY | attrs::REPARSE_POINT;
    ensure(
        st.attributes & both == both,
        format!(
            "attributes: expected DIRECTORY|REPARSE_POINT, got {:#x}",
            st.attributes
        ),
    )?;
    ensure_eq(st.reparse_tag, Some(IO_REPARSE_TAG_SYMLINK), "reparse tag")?;
    ensure_eq(read(t, "s\\f")?.as_str(), "in", "s\\f")?;
    ensure_eq(
        expect_ok(t.list_dir("s"), "list s")?,
        strings(&["f"]),
        "listing of s",
    )
}

fn s05(t: &mut dyn NtfsTarget) -> Verdict {
    symlink(t, "s", "missing", false)?;
    expect_ok(t.stat("s", false), "open the link itself")?;
    expect_err(t.read_file("s"), Error::ObjectNameNotFound, "open s")
}

fn s06(t: &mut dyn NtfsTarget) -> Verdict {
    symlink(t, "s", "nodir\\f", false)?;
    expect_err(t.read_file("s"), Error::ObjectPathNotFound, "open s")
}

fn s07(t: &mut dyn NtfsTarget) -> Verdict {
    symlink(t, "loop", "loop", false)?;
    expect_err(
        t.read_file("loop"),
        Error::ReparsePointNotResolved,
        "open loop",
    )
}

fn s08(t: &mut dyn NtfsTarget) -> Verdict {
    symlink(t, "a", "b", false)?;
    symlink(t, "b", "a", false)?;
    expect_err(t.read_file("a"), Error::ReparsePointNotResolved, "open a")
}

/// `l1 -> f`, `l2 -> l1`, ... `ln -> l(n-1)`.
fn chain(t: &mut dyn NtfsTarget, n: usize) -> Verdict {
    put(t, "f", b"end")?;
    symlink(t, "l1", "f", false)?;
    for i in 2..=n {
        symlink(t, &format!("l{i}"), &format!("l{}", i - 1), false)?;
    }
    Ok(())
}

fn s09(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::DeepReparseChains)?;
    chain(t, 63)?;
    ensure_eq(read(t, "l63")?.as_str(), "end", "l63")
}

fn s10(t: &mut dyn NtfsTarget) -> Verdict {
    chain(t, 64)?;
    expect_err(
        t.read_file("l64"),
        Error::ReparsePointNotResolved,
        "open l64",
    )
}

fn s11(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::SymlinkKindCheck)?;
    mkdir(t, "t")?;
    symlink(t, "s", "t", false)?;
    expect_one_of(
        t.list_dir("s"),
        &[
            Error::AccessDenied,
            Error::FileIsADirectory,
            Error::NotADirectory,
        ],
        "open the file symlink s to a directory",
    )
}

fn s12(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::SymlinkKindCheck)?;
    put(t, "f", b"x")?;
    symlink(t, "s", "f", true)?;
    expect_one_of(
        t.read_file("s"),
        &[
            Error::NotADirectory,
            Error::AccessDenied,
            Error::FileIsADirectory,
        ],
        "open the directory symlink s to a file",
    )
}

fn s13(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"top")?;
    mkdir(t, "d")?;
    mkdir(t, "d\\t")?;
    put(t, "d\\t\\f", b"inner")?;
    symlink(t, "s", "t\\f", false)?;
    ensure_eq(read(t, "s")?.as_str(), "top", "s before the move")?;
    expect_ok(
        t.rename("s", "d\\s", RenameFlags::default()),
        "MoveFileW(s, d\\s)",
    )?;
    ensure_eq(read(t, "d\\s")?.as_str(), "inner", "d\\s after the move")
}

fn s14(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "target", b"x")?;
    symlink(t, "s", "target", false)?;
    link_has_own_file_id(t, "s", "target")
}

fn s15(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"x")?;
    junction(t, "j", "t")?;
    symlink(t, "s", "t", true)?;
    let direct = expect_ok(t.stat("t\\f", false), "stat t\\f")?;
    let via_j = expect_ok(
        t.stat("j\\f", false),
        "stat j\\f with FILE_FLAG_OPEN_REPARSE_POINT",
    )?;
    let via_s = expect_ok(
        t.stat("s\\f", false),
        "stat s\\f with FILE_FLAG_OPEN_REPARSE_POINT",
    )?;
    ensure_eq(via_j.file_id, direct.file_id, "FileId of j\\f")?;
    ensure_eq(via_s.file_id, direct.file_id, "FileId of s\\f")
}

fn s16(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "u")?;
    // A third-party tag (bit 31 clear) in a REPARSE_GUID_DATA_BUFFER.
    let guid = [0x5a; 16];
    let buf = vfs_core::reparse::ReparseBuffer::other(0x0000_0099, Some(guid), b"data")
        .map_err(|e| Problem::Fail(format!("building the buffer: {e}")))?
        .into_bytes();
    expect_ok(
        t.set_reparse_point("u", &buf),
        "FSCTL_SET_REPARSE_POINT(tag 0x99)",
    )?;
    expect_err(
        t.list_dir("u"),
        Error::IoReparseTagNotHandled,
        "open u (tag 0x99) without FILE_FLAG_OPEN_REPARSE_POINT",
    )
}

fn s17(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "target", b"one")?;
    symlink(t, "s", "target", false)?;
    expect_ok(
        t.delete("target", crate::DeleteKind::File),
        "DeleteFileW(target)",
    )?;
    expect_ok(t.stat("s", false), "stat the link")?;
    expect_err(t.read_file("s"), Error::ObjectNameNotFound, "open s")?;
    put(t, "target", b"two")?;
    ensure_eq(read(t, "s")?.as_str(), "two", "s with a new target")
}

fn s18(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"via")?;
    mkdir(t, "d")?;
    symlink(t, "d\\s", "..\\t\\f", false)?;
    junction(t, "j", "d")?;
    ensure_eq(read(t, "j\\s")?.as_str(), "via", "j\\s")
}

fn s19(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"both")?;
    junction(t, "j", "t")?;
    symlink(t, "s", "j", true)?;
    ensure_eq(read(t, "s\\f")?.as_str(), "both", "s\\f")
}

fn s20(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\File.txt", b"case")?;
    symlink(t, "s", "T\\FILE.TXT", false)?;
    ensure_eq(read(t, "s")?.as_str(), "case", "s")
}
