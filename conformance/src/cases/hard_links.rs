//! A1 Hard links.

use super::*;
use crate::case::*;
use vfs_core::{attrs, reparse::IO_REPARSE_TAG_SYMLINK, Error, MAX_LINKS};

/// The evidence for H16 (and the rename twin R40): WinBtrfs's test program, whose expectations
/// are checked against NTFS, links and renames into `file\\file`.
pub(crate) const WINBTRFS_LINK_THROUGH_FILE: &str = "A1: WinBtrfs src/tests/links.cpp \"Try to link file within other file\" and rename.cpp \"Try to move file within other file\" (STATUS_INVALID_PARAMETER; run against NTFS)";

pub(super) const CASES: &[Case] = &[
    Case {
        id: "H01",
        rule: Rule::A1,
        title: "Two names of a file share its FileId and link count",
        source: "A1: GetFileInformationByHandle, nFileIndexHigh/Low identical for every link; CreateHardLinkW",
        expected: "both names report the same FileId and NumberOfLinks = 2",
        steps: h01,
    },
    Case {
        id: "H02",
        rule: Rule::A1,
        title: "Data written through one name is read through every name",
        source: HARD_LINKS_AND_JUNCTIONS,
        expected: "the other name reads the new data",
        steps: h02,
    },
    Case {
        id: "H03",
        rule: Rule::A1,
        title: "Attributes belong to the file: read-only through one name shows through the other",
        source: HARD_LINKS_AND_JUNCTIONS,
        expected: "GetFileInformationByHandle through the other name reports FILE_ATTRIBUTE_READONLY",
        steps: h03,
    },
    Case {
        id: "H04",
        rule: Rule::A1,
        title: "CreateHardLinkW on a directory fails",
        source: "A1: MS-FSA; MS test FileInfo_Set_FileLinkInfo_Dir_IsFileLinkInfoSupported; Wine kernel32 test_hard_link",
        expected: "STATUS_FILE_IS_A_DIRECTORY (ERROR_ACCESS_DENIED)",
        steps: h04,
    },
    Case {
        id: "H05",
        rule: Rule::A1,
        title: "CreateHardLinkW onto an existing name fails",
        source: CREATE_HARD_LINK,
        expected: "ERROR_ALREADY_EXISTS (STATUS_OBJECT_NAME_COLLISION); the existing file is untouched",
        steps: h05,
    },
    Case {
        id: "H06",
        rule: Rule::A1,
        title: "A new name differing only in case from an existing one collides",
        source: "A1 + A5: names compare case-insensitively (WinBtrfs link tests; Wine)",
        expected: "ERROR_ALREADY_EXISTS; one name in the directory",
        steps: h06,
    },
    Case {
        id: "H07",
        rule: Rule::A1,
        title: "The new name's directory does not exist",
        source: NTFS_RULES,
        expected: "STATUS_OBJECT_PATH_NOT_FOUND (ERROR_PATH_NOT_FOUND)",
        steps: h07,
    },
    Case {
        id: "H08",
        rule: Rule::A1,
        title: "The existing file does not exist",
        source: NTFS_RULES,
        expected: "ERROR_FILE_NOT_FOUND (the open of the source fails first)",
        steps: h08,
    },
    Case {
        id: "H09",
        rule: Rule::A1,
        title: "A file can have 1024 names",
        source: CREATE_HARD_LINK,
        expected: "1023 CreateHardLinkW calls succeed; NumberOfLinks = 1024",
        steps: h09,
    },
    Case {
        id: "H10",
        rule: Rule::A1,
        title: "The 1025th name fails with ERROR_TOO_MANY_LINKS",
        source: CREATE_HARD_LINK,
        expected: "ERROR_TOO_MANY_LINKS (STATUS_TOO_MANY_LINKS); NumberOfLinks stays 1024",
        steps: h10,
    },
    Case {
        id: "H11",
        rule: Rule::A1,
        title: "CreateHardLinkW on a symlink links the symlink itself",
        source: "A1: Rust symlink_hard_link test; CPython test_link_follow_symlinks (Windows does not follow)",
        expected: "the new name is a symlink with the link's FileId, not the target's",
        steps: h11,
    },
    Case {
        id: "H12",
        rule: Rule::A1,
        title: "FindFirstFileNameW lists every name, in every directory",
        source: FIND_FIRST_FILE_NAME,
        expected: "\\a, \\d1\\b and \\d2\\c, in any order",
        steps: h12,
    },
    Case {
        id: "H13",
        rule: Rule::A1,
        title: "Deleting one name leaves the file under its other names",
        source: HARD_LINKS_AND_JUNCTIONS,
        expected: "the other name reads the data; NumberOfLinks = 1; one name listed",
        steps: h13,
    },
    Case {
        id: "H14",
        rule: Rule::A1,
        title: "Each name keeps the case it was created with",
        source: "A1 + A5 (names preserve case); FindFirstFileNameW",
        expected: "FindFirstFileNameW returns \\Data.TXT and \\MiXeD.txt as typed",
        steps: h14,
    },
    Case {
        id: "H15",
        rule: Rule::A1,
        title: "A new name with a forbidden character is refused",
        source: NAMING,
        expected: "STATUS_OBJECT_NAME_INVALID (ERROR_INVALID_NAME)",
        steps: h15,
    },
    Case {
        id: "H16",
        rule: Rule::A1,
        title: "A file used as the new name's directory",
        source: WINBTRFS_LINK_THROUGH_FILE,
        expected: "STATUS_INVALID_PARAMETER (ERROR_INVALID_PARAMETER)",
        steps: h16,
    },
    Case {
        id: "H17",
        rule: Rule::A1,
        title: "Renaming one name keeps the FileId and the other names",
        source: "A1 + A6: a rename moves one directory entry of the file",
        expected: "names are \\a and \\d\\c; same FileId",
        steps: h17,
    },
    Case {
        id: "H18",
        rule: Rule::A1,
        title: "A hard link made through a junction names the target's file",
        source: "A1 + A3: junctions are followed in the middle of a path",
        expected: "FindFirstFileNameW lists \\t\\f and \\g",
        steps: h18,
    },
];

fn h01(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"data")?;
    expect_ok(t.hard_link("a", "b"), "CreateHardLinkW(b, a)")?;
    let a = expect_ok(t.stat("a", true), "stat a")?;
    let b = expect_ok(t.stat("b", true), "stat b")?;
    ensure_eq(b.file_id, a.file_id, "FileId of b vs a")?;
    ensure_eq(a.links, 2, "NumberOfLinks of a")?;
    ensure_eq(b.links, 2, "NumberOfLinks of b")
}

fn h02(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"one")?;
    expect_ok(t.hard_link("a", "b"), "CreateHardLinkW(b, a)")?;
    put(t, "b", b"two, longer")?;
    ensure_eq(read(t, "a")?.as_str(), "two, longer", "data read through a")
}

fn h03(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    expect_ok(t.hard_link("a", "b"), "CreateHardLinkW(b, a)")?;
    expect_ok(
        t.set_attributes("a", attrs::READONLY | attrs::ARCHIVE),
        "SetFileAttributesW(a, READONLY)",
    )?;
    let b = expect_ok(t.stat("b", true), "stat b")?;
    let r = ensure(
        b.attributes & attrs::READONLY != 0,
        format!(
            "attributes of b: expected READONLY, got {:#x}",
            b.attributes
        ),
    );
    expect_ok(t.set_attributes("a", attrs::ARCHIVE), "clear READONLY")?;
    r
}

fn h04(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    expect_err(
        t.hard_link("d", "e"),
        Error::FileIsADirectory,
        "CreateHardLinkW(e, directory d)",
    )?;
    expect_err(t.stat("e", false), Error::ObjectNameNotFound, "stat e")
}

fn h05(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"a")?;
    put(t, "c", b"c")?;
    expect_err(
        t.hard_link("a", "c"),
        Error::NameCollision,
        "CreateHardLinkW(c, a) with c existing",
    )?;
    ensure_eq(read(t, "c")?.as_str(), "c", "data of c")
}

fn h06(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a.txt", b"x")?;
    expect_err(
        t.hard_link("a.txt", "A.TXT"),
        Error::NameCollision,
        "CreateHardLinkW(A.TXT, a.txt)",
    )?;
    let names = expect_ok(t.list_dir(""), "list")?;
    ensure_eq(names, strings(&["a.txt"]), "directory listing")
}

fn h07(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    expect_err(
        t.hard_link("a", "nodir\\b"),
        Error::ObjectPathNotFound,
        "CreateHardLinkW(nodir\\b, a)",
    )
}

fn h08(t: &mut dyn NtfsTarget) -> Verdict {
    expect_err(
        t.hard_link("missing", "b"),
        Error::ObjectNameNotFound,
        "CreateHardLinkW(b, missing)",
    )
}

fn make_1024_names(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    put(t, "d\\a", b"x")?;
    for i in 1..MAX_LINKS {
        expect_ok(
            t.hard_link("d\\a", &format!("d\\l{i:04}")),
            &format!("link number {}", i + 1),
        )?;
    }
    Ok(())
}

fn h09(t: &mut dyn NtfsTarget) -> Verdict {
    make_1024_names(t)?;
    let st = expect_ok(t.stat("d\\a", true), "stat a")?;
    ensure_eq(st.links, MAX_LINKS as u32, "NumberOfLinks")
}

fn h10(t: &mut dyn NtfsTarget) -> Verdict {
    make_1024_names(t)?;
    expect_err(
        t.hard_link("d\\a", "d\\one-too-many"),
        Error::TooManyLinks,
        "the 1025th CreateHardLinkW",
    )?;
    let st = expect_ok(t.stat("d\\a", true), "stat a")?;
    ensure_eq(st.links, MAX_LINKS as u32, "NumberOfLinks")
}

fn h11(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "target", b"x")?;
    symlink(t, "s", "target", false)?;
    expect_ok(t.hard_link("s", "s2"), "CreateHardLinkW(s2, symlink s)")?;
    let s = expect_ok(t.stat("s", false), "stat s (the link)")?;
    let s2 = expect_ok(t.stat("s2", false), "stat s2 (the link)")?;
    let target = expect_ok(t.stat("target", false), "stat target")?;
    ensure_eq(s2.file_id, s.file_id, "FileId of s2 vs the symlink")?;
    ensure(
        s2.file_id != target.file_id,
        "s2 is the target file, not the symlink",
    )?;
    ensure_eq(
        s2.reparse_tag,
        Some(IO_REPARSE_TAG_SYMLINK),
        "reparse tag of s2",
    )?;
    ensure_eq(s.links, 2, "NumberOfLinks of the symlink")?;
    ensure_eq(target.links, 1, "NumberOfLinks of the target")
}

fn h12(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d1")?;
    mkdir(t, "d2")?;
    put(t, "a", b"x")?;
    expect_ok(t.hard_link("a", "d1\\b"), "CreateHardLinkW(d1\\b, a)")?;
    expect_ok(
        t.hard_link("d1\\b", "d2\\c"),
        "CreateHardLinkW(d2\\c, d1\\b)",
    )?;
    let names = expect_ok(t.link_names("d2\\c"), "FindFirstFileNameW(d2\\c)")?;
    ensure_eq(
        sorted(names),
        strings(&["\\a", "\\d1\\b", "\\d2\\c"]),
        "names",
    )
}

fn h13(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"kept")?;
    expect_ok(t.hard_link("a", "b"), "CreateHardLinkW(b, a)")?;
    expect_ok(t.delete("a", DeleteKind::File), "DeleteFileW(a)")?;
    ensure_eq(read(t, "b")?.as_str(), "kept", "data through b")?;
    let st = expect_ok(t.stat("b", true), "stat b")?;
    ensure_eq(st.links, 1, "NumberOfLinks")?;
    let names = expect_ok(t.link_names("b"), "FindFirstFileNameW(b)")?;
    ensure_eq(names, strings(&["\\b"]), "names")
}

fn h14(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "Data.TXT", b"x")?;
    expect_ok(t.hard_link("Data.TXT", "MiXeD.txt"), "CreateHardLinkW")?;
    let names = expect_ok(t.link_names("Data.TXT"), "FindFirstFileNameW")?;
    ensure_eq(
        sorted(names),
        strings(&["\\Data.TXT", "\\MiXeD.txt"]),
        "names",
    )
}

fn h15(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    expect_err(
        t.hard_link("a", "b?c"),
        Error::ObjectNameInvalid,
        "CreateHardLinkW(b?c, a)",
    )
}

fn h16(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    put(t, "f", b"x")?;
    expect_err(
        t.hard_link("a", "f\\b"),
        Error::InvalidParameter,
        "CreateHardLinkW(f\\b, a) with f a file",
    )
}

fn h17(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    put(t, "a", b"x")?;
    expect_ok(t.hard_link("a", "b"), "CreateHardLinkW(b, a)")?;
    let before = expect_ok(t.stat("a", true), "stat a")?;
    expect_ok(
        t.rename("b", "d\\c", RenameFlags::default()),
        "MoveFileW(b, d\\c)",
    )?;
    let names = expect_ok(t.link_names("a"), "FindFirstFileNameW(a)")?;
    ensure_eq(sorted(names), strings(&["\\a", "\\d\\c"]), "names")?;
    let after = expect_ok(t.stat("d\\c", true), "stat d\\c")?;
    ensure_eq(after.file_id, before.file_id, "FileId")?;
    ensure_eq(after.links, 2, "NumberOfLinks")
}

fn h18(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"x")?;
    junction(t, "j", "t")?;
    expect_ok(t.hard_link("j\\f", "g"), "CreateHardLinkW(g, j\\f)")?;
    let names = expect_ok(t.link_names("g"), "FindFirstFileNameW(g)")?;
    ensure_eq(sorted(names), strings(&["\\g", "\\t\\f"]), "names")
}
