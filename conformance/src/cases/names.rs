//! A5 Names.

use super::*;
use crate::case::*;
use crate::target::Feature;
use vfs_core::Error;

const CASE_INSENSITIVE: &str = "A5: NTFS compares names through the volume's $UpCase table and preserves case (WinBtrfs; Wine)";

pub(super) const CASES: &[Case] = &[
    Case {
        id: "N01",
        rule: Rule::A5,
        title: "Lookup ignores case",
        source: CASE_INSENSITIVE,
        expected: "a file created as Readme.TXT opens as README.txt",
        steps: n01,
    },
    Case {
        id: "N02",
        rule: Rule::A5,
        title: "A name keeps the case it was created with",
        source: CASE_INSENSITIVE,
        expected: "the listing shows Readme.TXT",
        steps: n02,
    },
    Case {
        id: "N03",
        rule: Rule::A5,
        title: "Creating a name that differs only in case collides",
        source: CASE_INSENSITIVE,
        expected: "ERROR_FILE_EXISTS (STATUS_OBJECT_NAME_COLLISION); one entry",
        steps: n03,
    },
    Case {
        id: "N04",
        rule: Rule::A5,
        title: "Case-insensitivity beyond ASCII follows $UpCase (é/É, ω/Ω)",
        source: "A5: $UpCase table; WinBtrfs",
        expected: "ÉTÉ-Ω opens été-ω",
        steps: n04,
    },
    Case {
        id: "N05",
        rule: Rule::A5,
        title: "Forbidden characters < > : \" | ? * are refused",
        source: NAMING,
        expected: "STATUS_OBJECT_NAME_INVALID for each; nothing created",
        steps: n05,
    },
    Case {
        id: "N06",
        rule: Rule::A5,
        title: "255 UTF-16 units are accepted, 256 are refused",
        source: NAMING,
        expected: "255 units: created; 256 units: STATUS_OBJECT_NAME_INVALID",
        steps: n06,
    },
    Case {
        id: "N07",
        rule: Rule::A5,
        title: "Name length counts UTF-16 units (emoji take two)",
        source: "A5: WinBtrfs create tests (64 emoji = 128 units); Go TestIllformedUTF16FileName",
        expected: "127 emoji + 1 letter (255 units) created; 128 emoji (256 units) refused",
        steps: n07,
    },
    Case {
        id: "N08",
        rule: Rule::A5,
        title: "A case-sensitive directory holds names differing only in case",
        source: CASE_SENSITIVE_INFO,
        expected: "a and A are two files",
        steps: n08,
    },
    Case {
        id: "N09",
        rule: Rule::A5,
        title: "New subdirectories inherit case sensitivity",
        source: CASE_SENSITIVE_INFO,
        expected: "x and X are two files in a subdirectory made after the flag was set",
        steps: n09,
    },
    Case {
        id: "N10",
        rule: Rule::A5,
        title: "Case sensitivity cannot be cleared while twins exist",
        source: "A5: WinBtrfs cs.cpp (STATUS_CASE_DIFFERING_NAMES_IN_DIR)",
        expected: "STATUS_CASE_DIFFERING_NAMES_IN_DIR",
        steps: n10,
    },
    Case {
        id: "N11",
        rule: Rule::A5,
        title: "Case sensitivity cannot be set on a file",
        source: CASE_SENSITIVE_INFO,
        expected: "STATUS_INVALID_PARAMETER",
        steps: n11,
    },
    Case {
        id: "N12",
        rule: Rule::A5,
        title: "Listings come in NTFS collation order (upcased UTF-16 units)",
        source: "MS-FSCC 2.1.5 / NTFS COLLATION_FILE_NAME (upcase, then compare code units)",
        expected: "a, A1, b, B2, Z, [, _x, ~, é",
        steps: n12,
    },
    Case {
        id: "N13",
        rule: Rule::A5,
        title: "Trailing dots and spaces are legal at the NT level",
        source: "A5: only Win32 path conversion strips them (RtlDosPathNameToNtPathName; naming-a-file: \\\\?\\ bypasses it)",
        expected: "\"a.\" and \"b \" are created and listed as typed",
        steps: n13,
    },
    Case {
        id: "N14",
        rule: Rule::A5,
        title: "DOS device names are ordinary names at the NT level",
        source: "A5: WinBtrfs \"Create file called CON\"; naming-a-file",
        expected: "CON and nul.txt are created and read back",
        steps: n14,
    },
    Case {
        id: "N15",
        rule: Rule::A5,
        title: "Directory components are looked up case-insensitively too",
        source: CASE_INSENSITIVE,
        expected: "DIR\\FILE reads dir\\file",
        steps: n15,
    },
];

fn n01(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "Readme.TXT", b"x")?;
    ensure_eq(read(t, "README.txt")?.as_str(), "x", "README.txt")
}

fn n02(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "Readme.TXT", b"x")?;
    ensure_eq(
        expect_ok(t.list_dir(""), "list")?,
        strings(&["Readme.TXT"]),
        "listing",
    )
}

fn n03(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "Readme.TXT", b"x")?;
    expect_err(
        t.create_file("readme.txt"),
        Error::NameCollision,
        "CreateFileW(readme.txt, CREATE_NEW)",
    )?;
    ensure_eq(
        expect_ok(t.list_dir(""), "list")?,
        strings(&["Readme.TXT"]),
        "listing",
    )
}

fn n04(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "été-ω", b"u")?;
    ensure_eq(read(t, "ÉTÉ-Ω")?.as_str(), "u", "ÉTÉ-Ω")
}

fn n05(t: &mut dyn NtfsTarget) -> Verdict {
    for c in ['<', '>', ':', '"', '|', '?', '*'] {
        let name = format!("a{c}b");
        expect_err(
            t.create_file(&name),
            Error::ObjectNameInvalid,
            &format!("CreateFileW({name})"),
        )?;
    }
    ensure_eq(
        expect_ok(t.list_dir(""), "list")?,
        Vec::<String>::new(),
        "listing",
    )
}

fn n06(t: &mut dyn NtfsTarget) -> Verdict {
    let ok = "x".repeat(255);
    expect_ok(t.create_file(&ok), "create a 255-unit name")?;
    ensure(listed(t, "", &ok)?, "the 255-unit name is not listed")?;
    expect_one_of(
        t.create_file(&"y".repeat(256)),
        &[Error::NameTooLong, Error::ObjectNameInvalid],
        "create a 256-unit name",
    )
}

fn n07(t: &mut dyn NtfsTarget) -> Verdict {
    let ok = format!("{}z", "\u{1F600}".repeat(127));
    expect_ok(t.create_file(&ok), "create 127 emoji + z (255 units)")?;
    expect_one_of(
        t.create_file(&"\u{1F601}".repeat(128)),
        &[Error::NameTooLong, Error::ObjectNameInvalid],
        "create 128 emoji (256 units)",
    )
}

fn n08(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::CaseSensitiveDirectories)?;
    mkdir(t, "d")?;
    expect_ok(
        t.set_case_sensitive("d", true),
        "set FILE_CS_FLAG_CASE_SENSITIVE_DIR",
    )?;
    put(t, "d\\a", b"lower")?;
    put(t, "d\\A", b"upper")?;
    ensure_eq(read(t, "d\\a")?.as_str(), "lower", "d\\a")?;
    ensure_eq(read(t, "d\\A")?.as_str(), "upper", "d\\A")
}

fn n09(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::CaseSensitiveDirectories)?;
    mkdir(t, "d")?;
    expect_ok(
        t.set_case_sensitive("d", true),
        "set FILE_CS_FLAG_CASE_SENSITIVE_DIR",
    )?;
    mkdir(t, "d\\sub")?;
    put(t, "d\\sub\\x", b"1")?;
    expect_ok(t.create_file("d\\sub\\X"), "create d\\sub\\X")?;
    ensure_eq(
        expect_ok(t.list_dir("d\\sub"), "list")?.len(),
        2,
        "entries in d\\sub",
    )
}

fn n10(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::CaseSensitiveDirectories)?;
    mkdir(t, "d")?;
    expect_ok(t.set_case_sensitive("d", true), "set the flag")?;
    put(t, "d\\a", b"")?;
    put(t, "d\\A", b"")?;
    expect_err(
        t.set_case_sensitive("d", false),
        Error::CaseDifferingNamesInDir,
        "clear the flag",
    )
}

fn n11(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::CaseSensitiveDirectories)?;
    put(t, "f", b"")?;
    expect_err(
        t.set_case_sensitive("f", true),
        Error::InvalidParameter,
        "set the flag on a file",
    )
}

fn n12(t: &mut dyn NtfsTarget) -> Verdict {
    for name in ["~", "b", "é", "_x", "Z", "A1", "[", "B2", "a"] {
        put(t, name, b"")?;
    }
    ensure_eq(
        expect_ok(t.list_dir(""), "list")?,
        strings(&["a", "A1", "b", "B2", "Z", "[", "_x", "~", "é"]),
        "listing order",
    )
}

fn n13(t: &mut dyn NtfsTarget) -> Verdict {
    expect_ok(t.create_file("a."), "create \"a.\"")?;
    expect_ok(t.create_file("b "), "create \"b \"")?;
    ensure_eq(
        sorted(expect_ok(t.list_dir(""), "list")?),
        strings(&["a.", "b "]),
        "listing",
    )
}

fn n14(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "CON", b"con")?;
    put(t, "nul.txt", b"nul")?;
    ensure_eq(read(t, "CON")?.as_str(), "con", "CON")?;
    ensure_eq(read(t, "nul.txt")?.as_str(), "nul", "nul.txt")
}

fn n15(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "dir")?;
    put(t, "dir\\file", b"deep")?;
    ensure_eq(read(t, "DIR\\FILE")?.as_str(), "deep", "DIR\\FILE")
}
