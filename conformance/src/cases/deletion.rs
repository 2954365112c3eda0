//! A2 Deletion.

use super::*;
use crate::case::*;
use crate::target::{Access, DispositionFlags, Feature, OpenHow, Share};
use vfs_core::{attrs, Error};

const WINE_DISPOSITION: &str = "A2: Wine ntdll test_file_disposition_information; dotnet/corefx#38186 (DeleteFileW uses POSIX semantics since Windows 10 1903)";
const LEGACY: &str = "A2: WinFsp delete_pending_test (NTFS-verified); Wine test_file_disposition_information broken() results for Windows before 1903";
const WINE_REPARSE: &str = "A2: Wine kernel32 test_reparse_points";

const DELETE: DispositionFlags = DispositionFlags {
    delete: true,
    posix_semantics: false,
    ignore_readonly: false,
};
const DELETE_POSIX: DispositionFlags = DispositionFlags {
    delete: true,
    posix_semantics: true,
    ignore_readonly: false,
};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "D01",
        rule: Rule::A2,
        title: "DeleteFileW removes the name",
        source: WINE_DISPOSITION,
        expected: "the name is gone from lookups and listings",
        steps: d01,
    },
    Case {
        id: "D02",
        rule: Rule::A2,
        title: "POSIX delete: the name goes at once; an open handle still reads the data",
        source: WINE_DISPOSITION,
        expected: "lookup gives ERROR_FILE_NOT_FOUND right after DeleteFileW; ReadFile on the open handle returns the data",
        steps: d02,
    },
    Case {
        id: "D03",
        rule: Rule::A2,
        title: "POSIX delete releases the name for a new file while the old one is open",
        source: WINE_DISPOSITION,
        expected: "a new file of the same name is created; the old handle reads the old data and has another FileId",
        steps: d03,
    },
    Case {
        id: "D04",
        rule: Rule::A2,
        title: "Legacy delete: the name stays, delete-pending, while a handle is open",
        source: LEGACY,
        expected: "the name is still listed; opening it gives STATUS_DELETE_PENDING (ERROR_ACCESS_DENIED); after the close it is gone",
        steps: d04,
    },
    Case {
        id: "D05",
        rule: Rule::A2,
        title: "Legacy delete: the name goes when the last handle closes",
        source: LEGACY,
        expected: "listed after the first close, gone after the second",
        steps: d05,
    },
    Case {
        id: "D06",
        rule: Rule::A2,
        title: "Legacy delete of one name: NumberOfLinks leaves out the delete-pending name",
        source: "A1: FILE_STANDARD_INFORMATION.NumberOfLinks excludes delete-pending links (WinBtrfs links.cpp)",
        expected: "NumberOfLinks = 1 through the other name while the first is delete-pending",
        steps: d06,
    },
    Case {
        id: "D07",
        rule: Rule::A2,
        title: "DeleteFileW on a read-only file fails",
        source: "A2: DeleteFileW docs (\"If the file is read-only, the function fails\"); STATUS_CANNOT_DELETE",
        expected: "ERROR_ACCESS_DENIED (STATUS_CANNOT_DELETE); the file stays",
        steps: d07,
    },
    Case {
        id: "D08",
        rule: Rule::A2,
        title: "Clearing read-only lets the file be deleted",
        source: "DeleteFileW docs, https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-deletefilew",
        expected: "DeleteFileW succeeds after SetFileAttributesW(NORMAL)",
        steps: d08,
    },
    Case {
        id: "D09",
        rule: Rule::A2,
        title: "FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE deletes a read-only file",
        source: DISPOSITION_EX,
        expected: "the disposition succeeds and the name goes at close",
        steps: d09,
    },
    Case {
        id: "D10",
        rule: Rule::A2,
        title: "A delete disposition on a read-only file fails without IGNORE_READONLY",
        source: DISPOSITION_EX,
        expected: "STATUS_CANNOT_DELETE",
        steps: d10,
    },
    Case {
        id: "D11",
        rule: Rule::A2,
        title: "DeleteFileW while another handle does not share delete",
        source: "A2: DeleteFileW docs; IoCheckShareAccess",
        expected: "ERROR_SHARING_VIOLATION; works once that handle is closed",
        steps: d11,
    },
    Case {
        id: "D12",
        rule: Rule::A2,
        title: "RemoveDirectoryW on a non-empty directory fails",
        source: "A2: RemoveDirectoryW docs",
        expected: "ERROR_DIR_NOT_EMPTY; the directory and its file stay; once empty it is removed",
        steps: d12,
    },
    Case {
        id: "D13",
        rule: Rule::A2,
        title: "A delete disposition on a non-empty directory fails at once",
        source: "A2: at NT level the set-disposition call itself fails (MS-FSA 2.1.5.14.3)",
        expected: "STATUS_DIRECTORY_NOT_EMPTY from SetFileInformationByHandle",
        steps: d13,
    },
    Case {
        id: "D14",
        rule: Rule::A2,
        title: "DeleteFileW on a directory fails",
        source: "A2: DeleteFileW docs; Wine kernel32 tests",
        expected: "ERROR_ACCESS_DENIED (STATUS_FILE_IS_A_DIRECTORY)",
        steps: d14,
    },
    Case {
        id: "D15",
        rule: Rule::A2,
        title: "RemoveDirectoryW on a file fails",
        source: WINE_REPARSE,
        expected: "ERROR_DIRECTORY (STATUS_NOT_A_DIRECTORY)",
        steps: d15,
    },
    Case {
        id: "D16",
        rule: Rule::A2,
        title: "RemoveDirectoryW on a junction removes the link only",
        source: "A2/A3: Wine test_reparse_points; CPython test_rmtree_works_on_junctions",
        expected: "the junction is gone; the target directory and its file stay",
        steps: d16,
    },
    Case {
        id: "D17",
        rule: Rule::A2,
        title: "DeleteFileW on a junction fails",
        source: WINE_REPARSE,
        expected: "ERROR_ACCESS_DENIED; the junction stays",
        steps: d17,
    },
    Case {
        id: "D18",
        rule: Rule::A2,
        title: "DeleteFileW on a file symlink removes the link, not the target",
        source: WINE_REPARSE,
        expected: "the link is gone; the target keeps its data",
        steps: d18,
    },
    Case {
        id: "D19",
        rule: Rule::A2,
        title: "RemoveDirectoryW on a file symlink fails",
        source: WINE_REPARSE,
        expected: "ERROR_DIRECTORY (STATUS_NOT_A_DIRECTORY); the link stays",
        steps: d19,
    },
    Case {
        id: "D20",
        rule: Rule::A2,
        title: "RemoveDirectoryW on a directory symlink removes the link only",
        source: "A2: symbolic-link-effects-on-file-systems-functions (RemoveDirectory removes the link)",
        expected: "the link is gone; the target directory and its file stay",
        steps: d20,
    },
    Case {
        id: "D21",
        rule: Rule::A2,
        title: "FILE_FLAG_DELETE_ON_CLOSE removes the name when the handle closes",
        source: "CreateFileW docs (FILE_FLAG_DELETE_ON_CLOSE); MS-FSA 2.1.5.4",
        expected: "listed while the handle is open, gone after CloseHandle",
        steps: d21,
    },
    Case {
        id: "D22",
        rule: Rule::A2,
        title: "FILE_DISPOSITION_POSIX_SEMANTICS: the name goes when that handle closes; other handles keep the file",
        source: DISPOSITION_EX,
        expected: "lookup fails after the deleting handle closes; the other handle still reads the data",
        steps: d22,
    },
    Case {
        id: "D23",
        rule: Rule::A2,
        title: "A delete disposition can be cancelled before the close",
        source: "FILE_DISPOSITION_INFORMATION (DeleteFile = FALSE cancels), https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntddk/ns-ntddk-_file_disposition_information",
        expected: "the file is still there after CloseHandle",
        steps: d23,
    },
    Case {
        id: "D24",
        rule: Rule::A2,
        title: "While a delete is pending, new opens fail",
        source: LEGACY,
        expected: "STATUS_DELETE_PENDING (ERROR_ACCESS_DENIED); the name goes at close",
        steps: d24,
    },
];

fn d01(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    expect_ok(t.delete("a", DeleteKind::File), "DeleteFileW(a)")?;
    expect_err(t.stat("a", false), Error::ObjectNameNotFound, "stat a")?;
    ensure(!listed(t, "", "a")?, "a is still listed")
}

fn d02(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"data")?;
    let h = expect_ok(t.open("a", OpenHow::read()), "open a")?;
    expect_ok(t.delete("a", DeleteKind::File), "DeleteFileW(a) while open")?;
    expect_err(t.stat("a", false), Error::ObjectNameNotFound, "stat a")?;
    ensure(!listed(t, "", "a")?, "a is still listed")?;
    let data = expect_ok(t.read_handle(h), "ReadFile on the open handle")?;
    expect_ok(t.close(h), "CloseHandle")?;
    ensure_eq(
        data.as_slice(),
        b"data".as_slice(),
        "data through the handle",
    )
}

fn d03(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"old")?;
    let h = expect_ok(t.open("a", OpenHow::read()), "open a")?;
    let old = expect_ok(t.stat_handle(h), "stat the handle")?;
    expect_ok(t.delete("a", DeleteKind::File), "DeleteFileW(a) while open")?;
    put(t, "a", b"new")?;
    ensure_eq(read(t, "a")?.as_str(), "new", "data of the new a")?;
    let new = expect_ok(t.stat("a", true), "stat the new a")?;
    let data = expect_ok(t.read_handle(h), "ReadFile on the old handle")?;
    expect_ok(t.close(h), "CloseHandle")?;
    ensure_eq(
        data.as_slice(),
        b"old".as_slice(),
        "data through the old handle",
    )?;
    ensure(new.file_id != old.file_id, "the new a has the old FileId")
}

fn d04(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::LegacyDelete)?;
    put(t, "a", b"x")?;
    let h = expect_ok(t.open("a", OpenHow::read()), "open a")?;
    expect_ok(t.delete("a", DeleteKind::File), "DeleteFileW(a) while open")?;
    ensure(listed(t, "", "a")?, "a is no longer listed")?;
    expect_err(
        t.open("a", OpenHow::read()),
        Error::DeletePending,
        "open the delete-pending a",
    )?;
    expect_ok(t.close(h), "CloseHandle")?;
    expect_err(
        t.stat("a", false),
        Error::ObjectNameNotFound,
        "stat a after close",
    )
}

fn d05(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::LegacyDelete)?;
    put(t, "a", b"x")?;
    let h1 = expect_ok(t.open("a", OpenHow::read()), "open a")?;
    let h2 = expect_ok(t.open("a", OpenHow::read()), "open a again")?;
    expect_ok(t.delete("a", DeleteKind::File), "DeleteFileW(a)")?;
    expect_ok(t.close(h1), "close the first handle")?;
    ensure(listed(t, "", "a")?, "a went at the first close")?;
    expect_ok(t.close(h2), "close the last handle")?;
    ensure(
        !listed(t, "", "a")?,
        "a is still listed after the last close",
    )
}

fn d06(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::LegacyDelete)?;
    put(t, "a", b"x")?;
    expect_ok(t.hard_link("a", "b"), "CreateHardLinkW(b, a)")?;
    let h = expect_ok(t.open("a", OpenHow::read()), "open a")?;
    expect_ok(t.delete("a", DeleteKind::File), "DeleteFileW(a)")?;
    let st = expect_ok(t.stat("b", true), "stat b")?;
    ensure_eq(st.links, 1, "NumberOfLinks while a is delete-pending")?;
    expect_ok(t.close(h), "CloseHandle")?;
    let st = expect_ok(t.stat("b", true), "stat b after close")?;
    ensure_eq(st.links, 1, "NumberOfLinks after close")?;
    ensure(!listed(t, "", "a")?, "a is still listed")
}

fn d07(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    expect_ok(t.set_attributes("a", attrs::READONLY), "set READONLY")?;
    let r = expect_err(
        t.delete("a", DeleteKind::File),
        Error::CannotDelete,
        "DeleteFileW on a read-only file",
    );
    if t.stat("a", false).is_ok() {
        expect_ok(t.set_attributes("a", attrs::NORMAL), "clear READONLY")?;
    }
    r?;
    ensure(listed(t, "", "a")?, "a was deleted")
}

fn d08(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    expect_ok(t.set_attributes("a", attrs::READONLY), "set READONLY")?;
    expect_ok(
        t.set_attributes("a", attrs::NORMAL),
        "SetFileAttributesW(NORMAL)",
    )?;
    expect_ok(t.delete("a", DeleteKind::File), "DeleteFileW(a)")?;
    ensure(!listed(t, "", "a")?, "a is still listed")
}

fn d09(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::Dispositions)?;
    put(t, "a", b"x")?;
    expect_ok(t.set_attributes("a", attrs::READONLY), "set READONLY")?;
    let h = expect_ok(
        t.open("a", OpenHow::read().access(Access::DELETE)),
        "open for DELETE",
    )?;
    let flags = DispositionFlags {
        ignore_readonly: true,
        ..DELETE_POSIX
    };
    expect_ok(
        t.set_disposition(h, flags),
        "FileDispositionInfoEx(DELETE|POSIX|IGNORE_READONLY)",
    )?;
    expect_ok(t.close(h), "CloseHandle")?;
    ensure(!listed(t, "", "a")?, "a is still listed")
}

fn d10(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::Dispositions)?;
    put(t, "a", b"x")?;
    expect_ok(t.set_attributes("a", attrs::READONLY), "set READONLY")?;
    let h = expect_ok(
        t.open("a", OpenHow::read().access(Access::DELETE)),
        "open for DELETE",
    )?;
    let r = expect_err(
        t.set_disposition(h, DELETE_POSIX),
        Error::CannotDelete,
        "FileDispositionInfoEx(DELETE|POSIX) on a read-only file",
    );
    expect_ok(t.close(h), "CloseHandle")?;
    expect_ok(t.set_attributes("a", attrs::NORMAL), "clear READONLY")?;
    r
}

fn d11(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::ShareModes)?;
    put(t, "a", b"x")?;
    let h = expect_ok(
        t.open("a", OpenHow::read().share(Share::READ_WRITE)),
        "open a sharing read and write only",
    )?;
    let r = expect_err(
        t.delete("a", DeleteKind::File),
        Error::SharingViolation,
        "DeleteFileW(a)",
    );
    expect_ok(t.close(h), "CloseHandle")?;
    r?;
    expect_ok(
        t.delete("a", DeleteKind::File),
        "DeleteFileW(a) after the close",
    )
}

fn d12(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    put(t, "d\\f", b"x")?;
    expect_err(
        t.delete("d", DeleteKind::Directory),
        Error::DirectoryNotEmpty,
        "RemoveDirectoryW(d)",
    )?;
    ensure_eq(read(t, "d\\f")?.as_str(), "x", "d\\f")?;
    expect_ok(t.delete("d\\f", DeleteKind::File), "DeleteFileW(d\\f)")?;
    expect_ok(
        t.delete("d", DeleteKind::Directory),
        "RemoveDirectoryW(empty d)",
    )?;
    ensure(!listed(t, "", "d")?, "d is still listed")
}

fn d13(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::Dispositions)?;
    mkdir(t, "d")?;
    put(t, "d\\f", b"x")?;
    let h = expect_ok(
        t.open("d", OpenHow::read().access(Access::DELETE)),
        "open d for DELETE",
    )?;
    let r = expect_err(
        t.set_disposition(h, DELETE),
        Error::DirectoryNotEmpty,
        "FileDispositionInfo(DELETE) on a non-empty directory",
    );
    expect_ok(t.close(h), "CloseHandle")?;
    r?;
    ensure(listed(t, "", "d")?, "d was deleted")
}

fn d14(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    expect_one_of(
        t.delete("d", DeleteKind::File),
        &[Error::FileIsADirectory, Error::AccessDenied],
        "DeleteFileW on a directory",
    )?;
    ensure(listed(t, "", "d")?, "d was deleted")
}

fn d15(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "f", b"x")?;
    expect_err(
        t.delete("f", DeleteKind::Directory),
        Error::NotADirectory,
        "RemoveDirectoryW on a file",
    )?;
    ensure(listed(t, "", "f")?, "f was deleted")
}

fn d16(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"kept")?;
    junction(t, "j", "t")?;
    expect_ok(
        t.delete("j", DeleteKind::Directory),
        "RemoveDirectoryW(junction)",
    )?;
    ensure(!listed(t, "", "j")?, "the junction is still listed")?;
    ensure_eq(read(t, "t\\f")?.as_str(), "kept", "the target's file")
}

fn d17(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::DeleteFileOnDirectoryLink)?;
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    expect_err(
        t.delete("j", DeleteKind::File),
        Error::AccessDenied,
        "DeleteFileW on a junction",
    )?;
    ensure(listed(t, "", "j")?, "the junction was deleted")
}

fn d18(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "target", b"kept")?;
    symlink(t, "s", "target", false)?;
    expect_ok(t.delete("s", DeleteKind::File), "DeleteFileW(symlink)")?;
    ensure(!listed(t, "", "s")?, "the link is still listed")?;
    ensure_eq(read(t, "target")?.as_str(), "kept", "the target")
}

fn d19(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "target", b"x")?;
    symlink(t, "s", "target", false)?;
    expect_err(
        t.delete("s", DeleteKind::Directory),
        Error::NotADirectory,
        "RemoveDirectoryW on a file symlink",
    )?;
    ensure(listed(t, "", "s")?, "the link was deleted")
}

fn d20(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"kept")?;
    symlink(t, "s", "t", true)?;
    expect_ok(
        t.delete("s", DeleteKind::Directory),
        "RemoveDirectoryW(directory symlink)",
    )?;
    ensure(!listed(t, "", "s")?, "the link is still listed")?;
    ensure_eq(read(t, "t\\f")?.as_str(), "kept", "the target's file")
}

fn d21(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::Dispositions)?;
    put(t, "a", b"x")?;
    let h = expect_ok(
        t.open("a", OpenHow::read().delete_on_close()),
        "open with FILE_FLAG_DELETE_ON_CLOSE",
    )?;
    let before = listed(t, "", "a")?;
    expect_ok(t.close(h), "CloseHandle")?;
    ensure(before, "a went before the close")?;
    ensure(!listed(t, "", "a")?, "a is still listed after the close")
}

fn d22(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::Dispositions)?;
    put(t, "a", b"data")?;
    let reader = expect_ok(t.open("a", OpenHow::read()), "open a for reading")?;
    let deleter = expect_ok(
        t.open("a", OpenHow::read().access(Access::DELETE)),
        "open a for DELETE",
    )?;
    expect_ok(
        t.set_disposition(deleter, DELETE_POSIX),
        "FileDispositionInfoEx(DELETE|POSIX_SEMANTICS)",
    )?;
    expect_ok(t.close(deleter), "close the deleting handle")?;
    expect_err(t.stat("a", false), Error::ObjectNameNotFound, "stat a")?;
    let data = expect_ok(t.read_handle(reader), "ReadFile on the other handle")?;
    expect_ok(t.close(reader), "close the other handle")?;
    ensure_eq(data.as_slice(), b"data".as_slice(), "data")
}

fn d23(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::Dispositions)?;
    put(t, "a", b"x")?;
    let h = expect_ok(
        t.open("a", OpenHow::read().access(Access::DELETE)),
        "open for DELETE",
    )?;
    expect_ok(t.set_disposition(h, DELETE), "FileDispositionInfo(TRUE)")?;
    expect_ok(
        t.set_disposition(h, DispositionFlags::default()),
        "FileDispositionInfo(FALSE)",
    )?;
    expect_ok(t.close(h), "CloseHandle")?;
    ensure(listed(t, "", "a")?, "a was deleted")
}

fn d24(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::Dispositions)?;
    put(t, "a", b"x")?;
    let h = expect_ok(
        t.open("a", OpenHow::read().access(Access::DELETE)),
        "open for DELETE",
    )?;
    expect_ok(t.set_disposition(h, DELETE), "FileDispositionInfo(TRUE)")?;
    let r = expect_err(
        t.open("a", OpenHow::read()),
        Error::DeletePending,
        "open a while its delete is pending",
    );
    expect_ok(t.close(h), "CloseHandle")?;
    r?;
    ensure(!listed(t, "", "a")?, "a is still listed after the close")
}
