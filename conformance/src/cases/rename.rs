//! A6 Rename / MoveFileEx.

use super::*;
use crate::case::*;
use crate::target::{Access, Feature, OpenHow, Share};
use vfs_core::{attrs, Error};

const WINE_MOVE: &str = "A6: Wine kernel32 test_MoveFileA (runs on Windows); MoveFileExW docs, https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-movefileexw";
const WINE_RENAME_INFO: &str =
    "A6: Wine ntdll test_file_rename_information (runs on Windows); FILE_RENAME_INFORMATION";
const WINFSP_RENAME: &str = "A6: Wine ntdll test_file_rename_information (directory with a child open: STATUS_ACCESS_DENIED); WinFsp rename_test; FastFat FatSetRenameInfo (microsoft/Windows-driver-samples filesys/fastfat/fileinfo.c)";

const NONE: RenameFlags = RenameFlags {
    replace_if_exists: false,
    posix_semantics: false,
    ignore_readonly: false,
};
const REPLACE: RenameFlags = RenameFlags {
    replace_if_exists: true,
    posix_semantics: false,
    ignore_readonly: false,
};
const REPLACE_POSIX: RenameFlags = RenameFlags {
    replace_if_exists: true,
    posix_semantics: true,
    ignore_readonly: false,
};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "R01",
        rule: Rule::A6,
        title: "MoveFileW renames a file; FileId and data stay",
        source: WINE_MOVE,
        expected: "the new name has the old FileId and data; the old name is gone",
        steps: r01,
    },
    Case {
        id: "R02",
        rule: Rule::A6,
        title: "MoveFileW moves a file to another directory",
        source: WINE_MOVE,
        expected: "d\\b holds the file; a is gone",
        steps: r02,
    },
    Case {
        id: "R03",
        rule: Rule::A6,
        title: "MoveFileW onto an existing name fails",
        source: WINE_MOVE,
        expected: "ERROR_ALREADY_EXISTS; both files unchanged",
        steps: r03,
    },
    Case {
        id: "R04",
        rule: Rule::A6,
        title: "MOVEFILE_REPLACE_EXISTING replaces a file",
        source: WINE_MOVE,
        expected: "the target name has the source's FileId and data",
        steps: r04,
    },
    Case {
        id: "R05",
        rule: Rule::A6,
        title: "REPLACE_EXISTING cannot replace a directory with a file",
        source: WINE_RENAME_INFO,
        expected: "ERROR_ACCESS_DENIED",
        steps: r05,
    },
    Case {
        id: "R06",
        rule: Rule::A6,
        title: "REPLACE_EXISTING cannot replace a directory with a directory",
        source: WINE_RENAME_INFO,
        expected: "ERROR_ACCESS_DENIED",
        steps: r06,
    },
    Case {
        id: "R07",
        rule: Rule::A6,
        title: "REPLACE_EXISTING replaces a file with a directory",
        source: WINE_RENAME_INFO,
        expected: "success: the name now holds the directory",
        steps: r07,
    },
    Case {
        id: "R08",
        rule: Rule::A6,
        title: "REPLACE_EXISTING onto a target that is open fails",
        source: WINE_RENAME_INFO,
        expected: "ERROR_ACCESS_DENIED",
        steps: r08,
    },
    Case {
        id: "R09",
        rule: Rule::A6,
        title: "A source open for DELETE without sharing cannot be renamed",
        source: "A6: Wine kernel32 test_MoveFileA (source open without FILE_SHARE_DELETE: ERROR_SHARING_VIOLATION); IoCheckShareAccess",
        expected: "ERROR_SHARING_VIOLATION",
        steps: r09,
    },
    Case {
        id: "R10",
        rule: Rule::A6,
        title: "A source open with no access, even without sharing, can be renamed",
        source: "A6; IoCheckShareAccess semantics: a handle without read, write or delete access takes no part in sharing (IoCheckShareAccess docs; ReactOS ntoskrnl IoCheckShareAccess/IoUpdateShareAccess)",
        expected: "success",
        steps: r10,
    },
    Case {
        id: "R11",
        rule: Rule::A6,
        title: "A directory with an open file beneath it cannot be renamed",
        source: WINFSP_RENAME,
        expected: "ERROR_ACCESS_DENIED",
        steps: r11,
    },
    Case {
        id: "R12",
        rule: Rule::A6,
        title: "A directory cannot move into its own subtree",
        source: "A6 [VERIFY on Windows]: `move` reports a sharing violation; FastFat logic gives access denied",
        expected: "a failure (ERROR_SHARING_VIOLATION, ERROR_ACCESS_DENIED or ERROR_INVALID_PARAMETER); the tree is unchanged",
        steps: r12,
    },
    Case {
        id: "R13",
        rule: Rule::A6,
        title: "FILE_RENAME_POSIX_SEMANTICS replaces an open target; its handle keeps the old file",
        source: RENAME_EX,
        expected: "success; the name holds the source; the open handle reads the old data",
        steps: r13,
    },
    Case {
        id: "R14",
        rule: Rule::A6,
        title: "FILE_RENAME_POSIX_SEMANTICS replaces an empty directory",
        source: RENAME_EX,
        expected: "success; the name holds the source directory and its files",
        steps: r14,
    },
    Case {
        id: "R15",
        rule: Rule::A6,
        title: "FILE_RENAME_POSIX_SEMANTICS onto a non-empty directory fails",
        source: RENAME_EX,
        expected: "STATUS_DIRECTORY_NOT_EMPTY",
        steps: r15,
    },
    Case {
        id: "R16",
        rule: Rule::A6,
        title: "FILE_RENAME_POSIX_SEMANTICS onto a target open without FILE_SHARE_DELETE fails",
        source: RENAME_EX,
        expected: "STATUS_SHARING_VIOLATION",
        steps: r16,
    },
    Case {
        id: "R17",
        rule: Rule::A6,
        title: "REPLACE_EXISTING onto a read-only file fails",
        source: "A6: MoveFileEx on a read-only target; FILE_RENAME_IGNORE_READONLY_ATTRIBUTE exists because of it (FILE_RENAME_INFORMATION docs)",
        expected: "ERROR_ACCESS_DENIED; the target stays",
        steps: r17,
    },
    Case {
        id: "R18",
        rule: Rule::A6,
        title: "FILE_RENAME_IGNORE_READONLY_ATTRIBUTE replaces a read-only file",
        source: RENAME_EX,
        expected: "success",
        steps: r18,
    },
    Case {
        id: "R19",
        rule: Rule::A6,
        title: "Renaming to another case re-cases the name; FileId stays",
        source: "A5/A6: WinBtrfs rename \"different case\"",
        expected: "the listing shows README.TXT only; same FileId",
        steps: r19,
    },
    Case {
        id: "R20",
        rule: Rule::A6,
        title: "An open file (sharing delete) can be renamed; its handle still works",
        source: WINE_MOVE,
        expected: "success; the handle reads the data; the new name reads it too",
        steps: r20,
    },
    Case {
        id: "R21",
        rule: Rule::A6,
        title: "Renaming into a missing directory",
        source: NTFS_RULES,
        expected: "ERROR_PATH_NOT_FOUND",
        steps: r21,
    },
    Case {
        id: "R22",
        rule: Rule::A6,
        title: "Renaming a missing file",
        source: NTFS_RULES,
        expected: "ERROR_FILE_NOT_FOUND",
        steps: r22,
    },
    Case {
        id: "R23",
        rule: Rule::A6,
        title: "Renaming to a name with a forbidden character",
        source: NAMING,
        expected: "ERROR_INVALID_NAME (STATUS_OBJECT_NAME_INVALID); the file keeps its name",
        steps: r23,
    },
    Case {
        id: "R24",
        rule: Rule::A6,
        title: "Renaming a directory moves its whole subtree",
        source: WINE_MOVE,
        expected: "e\\sub\\f is the old d\\sub\\f (same FileId)",
        steps: r24,
    },
    Case {
        id: "R25",
        rule: Rule::A6,
        title: "REPLACE_EXISTING onto a junction fails (it is a directory)",
        source: WINE_MOVE,
        expected: "ERROR_ACCESS_DENIED; the junction stays",
        steps: r25,
    },
    Case {
        id: "R26",
        rule: Rule::A6,
        title: "A file renamed into a junction lands in the junction's target",
        source: "A3/A6: the target path's directories are resolved like any path",
        expected: "t\\a holds the file",
        steps: r26,
    },
    Case {
        id: "R27",
        rule: Rule::A6,
        title: "REPLACE_EXISTING onto a name in another case takes the new spelling",
        source: WINE_MOVE,
        expected: "the listing shows the target name as spelled in the call, once",
        steps: r27,
    },
    Case {
        id: "R28",
        rule: Rule::A6,
        title: "MoveFileW of a file onto its own name succeeds",
        source: WINE_MOVE,
        expected: "success; the file is unchanged",
        steps: r28,
    },
];

fn r01(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"data")?;
    let before = expect_ok(t.stat("a", true), "stat a")?;
    expect_ok(t.rename("a", "b", NONE), "MoveFileW(a, b)")?;
    let after = expect_ok(t.stat("b", true), "stat b")?;
    ensure_eq(after.file_id, before.file_id, "FileId")?;
    ensure_eq(read(t, "b")?.as_str(), "data", "b")?;
    expect_err(t.stat("a", false), Error::ObjectNameNotFound, "stat a")
}

fn r02(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    put(t, "a", b"data")?;
    expect_ok(t.rename("a", "d\\b", NONE), "MoveFileW(a, d\\b)")?;
    ensure_eq(read(t, "d\\b")?.as_str(), "data", "d\\b")?;
    ensure(!listed(t, "", "a")?, "a is still listed")
}

fn r03(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"a")?;
    put(t, "b", b"b")?;
    expect_err(
        t.rename("a", "b", NONE),
        Error::NameCollision,
        "MoveFileW(a, existing b)",
    )?;
    ensure_eq(read(t, "a")?.as_str(), "a", "a")?;
    ensure_eq(read(t, "b")?.as_str(), "b", "b")
}

fn r04(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"source")?;
    put(t, "b", b"target")?;
    let src = expect_ok(t.stat("a", true), "stat a")?;
    expect_ok(
        t.rename("a", "b", REPLACE),
        "MoveFileExW(a, b, REPLACE_EXISTING)",
    )?;
    let st = expect_ok(t.stat("b", true), "stat b")?;
    ensure_eq(st.file_id, src.file_id, "FileId of b")?;
    ensure_eq(read(t, "b")?.as_str(), "source", "b")?;
    ensure(!listed(t, "", "a")?, "a is still listed")
}

fn r05(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    mkdir(t, "d")?;
    expect_err(
        t.rename("a", "d", REPLACE),
        Error::AccessDenied,
        "MoveFileExW(file, directory, REPLACE_EXISTING)",
    )?;
    ensure(listed(t, "", "a")?, "a was moved")
}

fn r06(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d1")?;
    mkdir(t, "d2")?;
    expect_err(
        t.rename("d1", "d2", REPLACE),
        Error::AccessDenied,
        "MoveFileExW(directory, directory, REPLACE_EXISTING)",
    )
}

fn r07(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    put(t, "d\\inside", b"in")?;
    put(t, "f", b"x")?;
    expect_ok(
        t.rename("d", "f", REPLACE),
        "MoveFileExW(directory, file, REPLACE_EXISTING)",
    )?;
    ensure_eq(read(t, "f\\inside")?.as_str(), "in", "f\\inside")
}

fn r08(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"a")?;
    put(t, "b", b"b")?;
    let h = expect_ok(t.open("b", OpenHow::read()), "open b")?;
    let r = expect_err(
        t.rename("a", "b", REPLACE),
        Error::AccessDenied,
        "MoveFileExW(a, open b, REPLACE_EXISTING)",
    );
    expect_ok(t.close(h), "CloseHandle")?;
    r?;
    ensure_eq(read(t, "b")?.as_str(), "b", "b")
}

fn r09(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::ShareModes)?;
    put(t, "a", b"x")?;
    let h = expect_ok(
        t.open(
            "a",
            OpenHow::read().access(Access::DELETE).share(Share::NONE),
        ),
        "open a for DELETE, share 0",
    )?;
    let r = expect_err(
        t.rename("a", "b", NONE),
        Error::SharingViolation,
        "MoveFileW(a, b)",
    );
    expect_ok(t.close(h), "CloseHandle")?;
    r
}

fn r10(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::ShareModes)?;
    put(t, "a", b"x")?;
    let h = expect_ok(
        t.open("a", OpenHow::read().access(Access::NONE).share(Share::NONE)),
        "open a with no access, share 0",
    )?;
    let r = expect_ok(t.rename("a", "b", NONE), "MoveFileW(a, b)");
    expect_ok(t.close(h), "CloseHandle")?;
    r
}

fn r11(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    put(t, "d\\f", b"x")?;
    let h = expect_ok(t.open("d\\f", OpenHow::read()), "open d\\f")?;
    let r = expect_err(
        t.rename("d", "e", NONE),
        Error::AccessDenied,
        "MoveFileW(d, e) with d\\f open",
    );
    expect_ok(t.close(h), "CloseHandle")?;
    r?;
    ensure(listed(t, "", "d")?, "d was renamed")
}

fn r12(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    mkdir(t, "d\\sub")?;
    expect_one_of(
        t.rename("d", "d\\sub\\x", NONE),
        &[
            Error::SharingViolation,
            Error::AccessDenied,
            Error::InvalidParameter,
        ],
        "MoveFileW(d, d\\sub\\x)",
    )?;
    ensure(listed(t, "d", "sub")?, "d\\sub is gone")
}

fn r13(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"new")?;
    put(t, "b", b"old")?;
    let h = expect_ok(t.open("b", OpenHow::read()), "open b")?;
    let r = expect_ok(
        t.rename("a", "b", REPLACE_POSIX),
        "rename(a, open b, REPLACE_IF_EXISTS|POSIX_SEMANTICS)",
    );
    let old = expect_ok(t.read_handle(h), "ReadFile on the old b's handle");
    expect_ok(t.close(h), "CloseHandle")?;
    r?;
    ensure_eq(
        old?.as_slice(),
        b"old".as_slice(),
        "data through the old handle",
    )?;
    ensure_eq(read(t, "b")?.as_str(), "new", "b")
}

fn r14(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d1")?;
    put(t, "d1\\f", b"moved")?;
    mkdir(t, "d2")?;
    expect_ok(
        t.rename("d1", "d2", REPLACE_POSIX),
        "rename(d1, empty d2, REPLACE_IF_EXISTS|POSIX_SEMANTICS)",
    )?;
    ensure_eq(read(t, "d2\\f")?.as_str(), "moved", "d2\\f")
}

fn r15(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d1")?;
    mkdir(t, "d2")?;
    put(t, "d2\\f", b"x")?;
    expect_err(
        t.rename("d1", "d2", REPLACE_POSIX),
        Error::DirectoryNotEmpty,
        "rename(d1, non-empty d2, REPLACE_IF_EXISTS|POSIX_SEMANTICS)",
    )
}

fn r16(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::ShareModes)?;
    put(t, "a", b"a")?;
    put(t, "b", b"b")?;
    let h = expect_ok(
        t.open("b", OpenHow::read().share(Share::READ_WRITE)),
        "open b without FILE_SHARE_DELETE",
    )?;
    let r = expect_err(
        t.rename("a", "b", REPLACE_POSIX),
        Error::SharingViolation,
        "rename(a, b, REPLACE_IF_EXISTS|POSIX_SEMANTICS)",
    );
    expect_ok(t.close(h), "CloseHandle")?;
    r
}

fn r17(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"a")?;
    put(t, "b", b"b")?;
    expect_ok(t.set_attributes("b", attrs::READONLY), "set READONLY on b")?;
    let r = expect_err(
        t.rename("a", "b", REPLACE),
        Error::AccessDenied,
        "MoveFileExW(a, read-only b, REPLACE_EXISTING)",
    );
    expect_ok(t.set_attributes("b", attrs::NORMAL), "clear READONLY")?;
    r?;
    ensure_eq(read(t, "b")?.as_str(), "b", "b")
}

fn r18(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"a")?;
    put(t, "b", b"b")?;
    expect_ok(t.set_attributes("b", attrs::READONLY), "set READONLY on b")?;
    let flags = RenameFlags {
        ignore_readonly: true,
        ..REPLACE_POSIX
    };
    let r = expect_ok(
        t.rename("a", "b", flags),
        "rename(a, read-only b, REPLACE_IF_EXISTS|POSIX_SEMANTICS|IGNORE_READONLY_ATTRIBUTE)",
    );
    if r.is_err() {
        expect_ok(t.set_attributes("b", attrs::NORMAL), "clear READONLY")?;
    }
    r?;
    ensure_eq(read(t, "b")?.as_str(), "a", "b")
}

fn r19(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "readme.txt", b"x")?;
    let before = expect_ok(t.stat("readme.txt", true), "stat")?;
    expect_ok(
        t.rename("readme.txt", "README.TXT", NONE),
        "MoveFileW(readme.txt, README.TXT)",
    )?;
    ensure_eq(
        expect_ok(t.list_dir(""), "list")?,
        strings(&["README.TXT"]),
        "listing",
    )?;
    let after = expect_ok(t.stat("README.TXT", true), "stat")?;
    ensure_eq(after.file_id, before.file_id, "FileId")
}

fn r20(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"data")?;
    let h = expect_ok(t.open("a", OpenHow::read()), "open a")?;
    let r = expect_ok(t.rename("a", "b", NONE), "MoveFileW(open a, b)");
    let via = expect_ok(t.read_handle(h), "ReadFile on the handle");
    expect_ok(t.close(h), "CloseHandle")?;
    r?;
    ensure_eq(
        via?.as_slice(),
        b"data".as_slice(),
        "data through the handle",
    )?;
    ensure_eq(read(t, "b")?.as_str(), "data", "b")
}

fn r21(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    expect_err(
        t.rename("a", "nodir\\b", NONE),
        Error::ObjectPathNotFound,
        "MoveFileW(a, nodir\\b)",
    )
}

fn r22(t: &mut dyn NtfsTarget) -> Verdict {
    expect_err(
        t.rename("missing", "b", NONE),
        Error::ObjectNameNotFound,
        "MoveFileW(missing, b)",
    )
}

fn r23(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    expect_err(
        t.rename("a", "b|c", NONE),
        Error::ObjectNameInvalid,
        "MoveFileW(a, b|c)",
    )?;
    ensure(listed(t, "", "a")?, "a was renamed")
}

fn r24(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    mkdir(t, "d\\sub")?;
    put(t, "d\\sub\\f", b"deep")?;
    let before = expect_ok(t.stat("d\\sub\\f", true), "stat d\\sub\\f")?;
    expect_ok(t.rename("d", "e", NONE), "MoveFileW(d, e)")?;
    let after = expect_ok(t.stat("e\\sub\\f", true), "stat e\\sub\\f")?;
    ensure_eq(after.file_id, before.file_id, "FileId")?;
    ensure_eq(read(t, "e\\sub\\f")?.as_str(), "deep", "e\\sub\\f")
}

fn r25(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    put(t, "a", b"x")?;
    expect_err(
        t.rename("a", "j", REPLACE),
        Error::AccessDenied,
        "MoveFileExW(a, junction j, REPLACE_EXISTING)",
    )?;
    let st = expect_ok(t.stat("j", false), "stat j")?;
    ensure(st.is_reparse_point(), "j is no longer a junction")
}

fn r26(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    put(t, "a", b"landed")?;
    expect_ok(t.rename("a", "j\\a", NONE), "MoveFileW(a, j\\a)")?;
    ensure_eq(read(t, "t\\a")?.as_str(), "landed", "t\\a")
}

fn r27(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "Remove Me", b"old")?;
    put(t, "Remove Be", b"new")?;
    expect_ok(
        t.rename("Remove Be", "remove me", REPLACE),
        "MoveFileExW(Remove Be, remove me, REPLACE_EXISTING)",
    )?;
    ensure(
        !listed(t, "", "Remove Me")?,
        "the old spelling Remove Me is still listed",
    )?;
    ensure(listed(t, "", "remove me")?, "remove me is not listed")?;
    ensure_eq(read(t, "remove me")?.as_str(), "new", "remove me")
}

fn r28(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"same")?;
    expect_ok(t.rename("a", "a", NONE), "MoveFileW(a, a)")?;
    ensure_eq(read(t, "a")?.as_str(), "same", "a")
}
