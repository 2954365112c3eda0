//! NT-level cases (issue 18): operations through handles and the exact statuses WinBtrfs's test
//! program (whose expectations are checked against NTFS), Wine's tests and Microsoft's
//! documentation give. Each belongs to its rule's series; this module's ids start at 40 in
//! each series.

use super::*;
use crate::case::*;
use crate::target::{
    Access, Disposition, DispositionFlags, Feature, Handle, LinkFlags, NewName, OpenHow, Share,
};
use vfs_core::reparse::IO_REPARSE_TAG_SYMLINK;
use vfs_core::{attrs, Error};

const WINBTRFS_REPARSE: &str = "WinBtrfs src/tests/reparse.cpp (\"Overwrite symlink\", \"Check symlink overwritten\"; \"Set as symlink\" on reparse4/reparse5), run against NTFS";
const OVERWRITE_DECISION: &str = "WinBtrfs src/tests/reparse.cpp tests FILE_OVERWRITE only; MS-FSA 2.1.5.1.2 (Open of an Existing File) treats FILE_OVERWRITE_IF and FILE_SUPERSEDE as overwrites of an existing file and says nothing of reparse points — docs/NTFS-RULES.md A3 open point [VERIFY on Windows]";
const WINBTRFS_ORPHAN: &str = "WinBtrfs src/tests/create.cpp \"Try to open orphaned inode by file ID\" (STATUS_DELETE_PENDING)";
const WINBTRFS_LINKS: &str = "WinBtrfs src/tests/links.cpp test_links (link6, link7, link8, link12) and test_links_ex (linkex2, linkex3, file 2 without FILE_SHARE_DELETE); FILE_LINK_INFORMATION docs, https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-_file_link_information";
const WINBTRFS_ROOT_DIR: &str = "WinBtrfs src/tests/links.cpp link5/link6 and rename.cpp \"Move file via RootDirectory handle\"; FILE_LINK_INFORMATION / FILE_RENAME_INFORMATION docs (RootDirectory, FileName)";
const WINBTRFS_LINK_SAME: &str =
    "WinBtrfs src/tests/links.cpp link9 (\"same name\", \"same name but different case\")";
const WINBTRFS_RENAME_ACCESS: &str = "WinBtrfs src/tests/rename.cpp \"Try renaming file without DELETE access\" (STATUS_ACCESS_DENIED)";
const ON_CLOSE: &str = "FILE_DISPOSITION_INFORMATION_EX docs (FILE_DISPOSITION_ON_CLOSE), https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntddk/ns-ntddk-_file_disposition_information_ex [VERIFY on Windows]";
const STANDARD_INFO: &str = "MS-FSA 2.1.5.12.27 FileStandardInformation (DeletePending from Open.Link.IsDeleted; NumberOfLinks 0 sets it); WinBtrfs src/tests/delete.cpp (second handle after a POSIX delete: DeletePending, 0 links)";
const QUERY_DIR: &str = "Wine dlls/ntdll/tests/directory.c (test_flags_NtQueryDirectoryFile: STATUS_NO_SUCH_FILE for a mask matching nothing, later calls ignore their mask and end with STATUS_NO_MORE_FILES; a restart with a new mask gives SUCCESS or STATUS_NO_MORE_FILES); NtQueryDirectoryFile docs, https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/nf-ntifs-ntquerydirectoryfile; FsRtlIsNameInExpression docs (DOS_STAR, DOS_QM, DOS_DOT)";

const REPLACE: LinkFlags = LinkFlags {
    replace_if_exists: true,
    posix_semantics: false,
    ignore_readonly: false,
};

pub(super) const CASES: &[Case] = &[
    Case {
        id: "H40",
        rule: Rule::A1,
        title: "FileLinkInformation with ReplaceIfExists replaces a file, not a directory, an open or a read-only file",
        source: WINBTRFS_LINKS,
        expected: "without replace STATUS_OBJECT_NAME_COLLISION; a closed file is replaced; a directory, an open file, a read-only file: STATUS_ACCESS_DENIED",
        steps: h40,
    },
    Case {
        id: "H41",
        rule: Rule::A1,
        title: "FILE_LINK_INFORMATION_EX: IGNORE_READONLY_ATTRIBUTE and POSIX semantics",
        source: WINBTRFS_LINKS,
        expected: "a read-only target is replaced with IGNORE_READONLY; an open target sharing delete is replaced with POSIX semantics and its handle sees DeletePending and 0 links; not sharing delete: STATUS_SHARING_VIOLATION",
        steps: h41,
    },
    Case {
        id: "H42",
        rule: Rule::A1,
        title: "A link relative to a RootDirectory handle; that handle must share write",
        source: WINBTRFS_ROOT_DIR,
        expected: "directory handle without FILE_SHARE_WRITE: STATUS_SHARING_VIOLATION; with it the link is made in that directory",
        steps: h42,
    },
    Case {
        id: "H43",
        rule: Rule::A1,
        title: "Linking a file over its own name: collision, nothing, or a new case",
        source: WINBTRFS_LINK_SAME,
        expected: "without replace STATUS_OBJECT_NAME_COLLISION; with replace success and one name, in the new case",
        steps: h43,
    },
    Case {
        id: "D40",
        rule: Rule::A2,
        title: "Opening by id a POSIX-deleted file that is still open",
        source: WINBTRFS_ORPHAN,
        expected: "STATUS_DELETE_PENDING (ERROR_ACCESS_DENIED)",
        steps: d40,
    },
    Case {
        id: "D41",
        rule: Rule::A2,
        title: "FILE_DISPOSITION_ON_CLOSE sets and clears the delete-on-close state",
        source: ON_CLOSE,
        expected: "set: the name opens until the handle closes, then it is gone; cleared on a FILE_FLAG_DELETE_ON_CLOSE handle: the file stays",
        steps: d41,
    },
    Case {
        id: "D42",
        rule: Rule::A2,
        title: "FILE_STANDARD_INFORMATION.DeletePending is the handle's own name",
        source: STANDARD_INFO,
        expected: "after a legacy delete of name b, the handle on a says DeletePending FALSE, the handle on b TRUE; after a POSIX delete of the last name: TRUE and 0 links",
        steps: d42,
    },
    Case {
        id: "J40",
        rule: Rule::A3,
        title: "FILE_OVERWRITE on a symlink opened as itself makes a plain empty file",
        source: WINBTRFS_REPARSE,
        expected: "without FILE_FLAG_OPEN_REPARSE_POINT the target is overwritten and the link stays; with it the file is no reparse point any more, empty",
        steps: j40,
    },
    Case {
        id: "J41",
        rule: Rule::A3,
        title: "FILE_OVERWRITE_IF and FILE_SUPERSEDE on a symlink opened as itself",
        source: OVERWRITE_DECISION,
        expected: "the file is no reparse point any more, empty; the target keeps its data",
        steps: j41,
    },
    Case {
        id: "J42",
        rule: Rule::A3,
        title: "A symlink reparse point on a file holding data is refused; on an empty file later data stays",
        source: WINBTRFS_REPARSE,
        expected: "STATUS_IO_REPARSE_DATA_INVALID (ERROR_INVALID_REPARSE_DATA); on an empty file success, and data written afterwards through the handle is kept",
        steps: j42,
    },
    Case {
        id: "N40",
        rule: Rule::A5,
        title: "NtQueryDirectoryFile with a pattern: DOS wildcards, NO_SUCH_FILE, NO_MORE_FILES",
        source: QUERY_DIR,
        expected: "<.txt lists a.txt and B.TXT; the next call, whatever its mask, STATUS_NO_MORE_FILES; a pattern matching nothing STATUS_NO_SUCH_FILE on the first call; a restart with a new mask: its matches, or STATUS_NO_MORE_FILES",
        steps: n40,
    },
    Case {
        id: "R40",
        rule: Rule::A6,
        title: "A rename target whose directory is a file",
        source: super::hard_links::WINBTRFS_LINK_THROUGH_FILE,
        expected: "STATUS_INVALID_PARAMETER (ERROR_INVALID_PARAMETER)",
        steps: r40,
    },
    Case {
        id: "R41",
        rule: Rule::A6,
        title: "Rename through a handle: DELETE access, RootDirectory, bare name",
        source: WINBTRFS_RENAME_ACCESS,
        expected: "without DELETE access STATUS_ACCESS_DENIED; relative to a directory handle the file moves there; a bare name renames in place",
        steps: r41,
    },
];

fn rw() -> OpenHow {
    OpenHow::read().access(Access {
        read: true,
        write: true,
        delete: false,
    })
}

fn del() -> OpenHow {
    OpenHow::read().access(Access::DELETE)
}

fn close(t: &mut dyn NtfsTarget, h: Handle) -> Verdict {
    expect_ok(t.close(h), "CloseHandle")
}

fn h40(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"a")?;
    put(t, "b", b"b")?;
    put(t, "c", b"c")?;
    mkdir(t, "d")?;
    put(t, "ro", b"ro")?;
    expect_ok(t.set_attributes("ro", attrs::READONLY), "make ro read-only")?;
    let h = expect_ok(t.open("a", del()), "open a")?;
    expect_err(
        t.link_handle(h, NewName::Path("b"), LinkFlags::default()),
        Error::NameCollision,
        "FileLinkInformation(b) without ReplaceIfExists",
    )?;
    expect_ok(
        t.link_handle(h, NewName::Path("b"), REPLACE),
        "FileLinkInformation(b) with ReplaceIfExists",
    )?;
    ensure_eq(read(t, "b")?.as_str(), "a", "b after the link")?;
    expect_err(
        t.link_handle(h, NewName::Path("d"), REPLACE),
        Error::AccessDenied,
        "FileLinkInformation over directory d",
    )?;
    expect_err(
        t.link_handle(h, NewName::Path("ro"), REPLACE),
        Error::AccessDenied,
        "FileLinkInformation over read-only ro",
    )?;
    let hc = expect_ok(t.open("c", OpenHow::read()), "open c")?;
    let r = t.link_handle(h, NewName::Path("c"), REPLACE);
    close(t, hc)?;
    expect_err(r, Error::AccessDenied, "FileLinkInformation over open c")?;
    let names = expect_ok(t.link_names("a"), "names of a")?;
    close(t, h)?;
    ensure_eq(sorted(names), strings(&["\\a", "\\b"]), "names of a")
}

fn h41(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::ShareModes)?;
    put(t, "a", b"a")?;
    put(t, "ro", b"ro")?;
    put(t, "open", b"old")?;
    put(t, "locked", b"locked")?;
    expect_ok(t.set_attributes("ro", attrs::READONLY), "make ro read-only")?;
    let h = expect_ok(t.open("a", del()), "open a")?;
    let ignore = LinkFlags {
        ignore_readonly: true,
        ..REPLACE
    };
    expect_ok(
        t.link_handle(h, NewName::Path("ro"), ignore),
        "FileLinkInformationEx(ro, REPLACE_IF_EXISTS | IGNORE_READONLY_ATTRIBUTE)",
    )?;
    let posix = LinkFlags {
        posix_semantics: true,
        ..REPLACE
    };
    let h2 = expect_ok(t.open("open", OpenHow::read()), "open 'open'")?;
    let r = t.link_handle(h, NewName::Path("open"), posix);
    let replaced = r.is_ok();
    let info2 = t.standard_info(h2);
    let data2 = t.read_handle(h2);
    close(t, h2)?;
    expect_ok(
        r,
        "FileLinkInformationEx(open, REPLACE_IF_EXISTS | POSIX_SEMANTICS)",
    )?;
    let info2 = expect_ok(info2, "FILE_STANDARD_INFORMATION of the replaced file")?;
    ensure(
        replaced && info2.delete_pending,
        "replaced file: DeletePending",
    )?;
    ensure_eq(info2.links, 0, "replaced file: NumberOfLinks")?;
    ensure_eq(
        expect_ok(data2, "read the replaced file")?.as_slice(),
        b"old".as_slice(),
        "the replaced file's handle still reads it",
    )?;
    let h3 = expect_ok(
        t.open("locked", OpenHow::read().share(Share::READ_WRITE)),
        "open locked without FILE_SHARE_DELETE",
    )?;
    let r = t.link_handle(h, NewName::Path("locked"), posix);
    close(t, h3)?;
    let info = t.standard_info(h);
    close(t, h)?;
    expect_err(r, Error::SharingViolation, "POSIX link over locked")?;
    let info = expect_ok(info, "FILE_STANDARD_INFORMATION of a")?;
    ensure_eq(info.links, 3, "NumberOfLinks of a")?;
    ensure(!info.delete_pending, "a is not delete-pending")?;
    ensure_eq(read(t, "open")?.as_str(), "a", "open now names a")
}

fn h42(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::ShareModes)?;
    put(t, "f", b"f")?;
    mkdir(t, "dir")?;
    let h = expect_ok(t.open("f", del()), "open f")?;
    let dh = expect_ok(
        t.open("dir", OpenHow::read().share(Share::NONE)),
        "open dir sharing nothing",
    )?;
    let r = t.link_handle(h, NewName::Relative(dh, "file"), LinkFlags::default());
    close(t, dh)?;
    expect_err(
        r,
        Error::SharingViolation,
        "link through a directory handle",
    )?;
    let share_write = Share {
        read: false,
        write: true,
        delete: false,
    };
    let dh = expect_ok(
        t.open("dir", OpenHow::read().share(share_write)),
        "open dir sharing write",
    )?;
    let r = t.link_handle(h, NewName::Relative(dh, "file"), LinkFlags::default());
    close(t, dh)?;
    close(t, h)?;
    expect_ok(r, "link relative to the directory handle")?;
    let names = expect_ok(t.link_names("f"), "names of f")?;
    ensure_eq(
        sorted(names),
        strings(&["\\dir\\file", "\\f"]),
        "names of f",
    )
}

fn h43(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "link9", b"x")?;
    let h = expect_ok(t.open("link9", OpenHow::read()), "open link9")?;
    let r1 = t.link_handle(h, NewName::Path("link9"), LinkFlags::default());
    let r2 = t.link_handle(h, NewName::Path("link9"), REPLACE);
    let r3 = t.link_handle(h, NewName::Path("LINK9"), REPLACE);
    close(t, h)?;
    expect_err(r1, Error::NameCollision, "link over its own name")?;
    expect_ok(r2, "link over its own name with ReplaceIfExists")?;
    expect_ok(r3, "link over its own name in another case")?;
    let names = expect_ok(t.link_names("link9"), "names")?;
    ensure_eq(names, strings(&["\\LINK9"]), "names after the links")
}

fn d40(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "f", b"x")?;
    let h = expect_ok(t.open("f", OpenHow::read()), "open f")?;
    let id = expect_ok(t.stat_handle(h), "FileId of f")?.file_id;
    expect_ok(t.delete("f", DeleteKind::File), "DeleteFileW(f) (POSIX)")?;
    let r = t.open_by_id(id, OpenHow::read());
    if let Ok(h2) = &r {
        close(t, *h2)?;
    }
    close(t, h)?;
    expect_err(r, Error::DeletePending, "OpenFileById of the deleted file")
}

fn d41(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::Dispositions)?;
    put(t, "f", b"x")?;
    let h = expect_ok(t.open("f", del()), "open f for DELETE")?;
    let r = t.set_disposition_on_close(h, true);
    let reopened = t.open("f", OpenHow::read());
    if let Ok(h2) = &reopened {
        close(t, *h2)?;
    }
    close(t, h)?;
    expect_ok(r, "FILE_DISPOSITION_DELETE | FILE_DISPOSITION_ON_CLOSE")?;
    expect_ok(reopened, "open f while the on-close state is set")?;
    expect_err(
        t.stat("f", false),
        Error::ObjectNameNotFound,
        "f after the close",
    )?;
    put(t, "g", b"x")?;
    let h = expect_ok(t.open("g", OpenHow::read().delete_on_close()), "open g")?;
    let r = t.set_disposition_on_close(h, false);
    close(t, h)?;
    expect_ok(r, "FILE_DISPOSITION_ON_CLOSE without DELETE")?;
    expect_ok(t.stat("g", false), "g after the close").map(|_| ())
}

fn d42(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::LegacyDelete)?;
    need(t, Feature::Dispositions)?;
    put(t, "a", b"x")?;
    expect_ok(t.hard_link("a", "b"), "CreateHardLinkW(b, a)")?;
    let ha = expect_ok(t.open("a", OpenHow::read()), "open a")?;
    let hb = expect_ok(t.open("b", del()), "open b for DELETE")?;
    let flags = DispositionFlags {
        delete: true,
        ..DispositionFlags::default()
    };
    let r = t.set_disposition(hb, flags);
    let ia = t.standard_info(ha);
    let ib = t.standard_info(hb);
    close(t, hb)?;
    close(t, ha)?;
    expect_ok(r, "FileDispositionInformation on b")?;
    let ia = expect_ok(ia, "FILE_STANDARD_INFORMATION through a")?;
    let ib = expect_ok(ib, "FILE_STANDARD_INFORMATION through b")?;
    ensure(
        !ia.delete_pending,
        "a's handle: DeletePending must be FALSE",
    )?;
    ensure(ib.delete_pending, "b's handle: DeletePending must be TRUE")?;
    ensure_eq(ia.links, 1, "NumberOfLinks without the pending name")
}

fn j40(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "t", b"target")?;
    expect_ok(
        t.create_symlink("l", "t", false),
        "CreateSymbolicLinkW(l, t)",
    )?;
    let h = expect_ok(
        t.open_disposition("l", rw(), Disposition::Overwrite),
        "FILE_OVERWRITE through l",
    )?;
    close(t, h)?;
    let l = expect_ok(t.stat("l", false), "stat l")?;
    ensure_eq(l.reparse_tag, Some(IO_REPARSE_TAG_SYMLINK), "l's tag")?;
    ensure_eq(
        read(t, "t")?.as_str(),
        "",
        "t after the overwrite through l",
    )?;
    put(t, "t", b"target")?;
    overwrite_itself(t, Disposition::Overwrite)
}

fn overwrite_itself(t: &mut dyn NtfsTarget, disposition: Disposition) -> Verdict {
    let h = expect_ok(
        t.open_disposition("l", rw().open_reparse_point(), disposition),
        &format!("{disposition:?} of l with FILE_FLAG_OPEN_REPARSE_POINT"),
    )?;
    close(t, h)?;
    let l = expect_ok(t.stat("l", false), "stat l")?;
    ensure_eq(l.reparse_tag, None, "l's tag after the overwrite")?;
    ensure(
        !l.is_reparse_point(),
        "l still has FILE_ATTRIBUTE_REPARSE_POINT",
    )?;
    ensure_eq(l.size, 0, "l's size")?;
    ensure_eq(read(t, "t")?.as_str(), "target", "t")
}

fn j41(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "t", b"target")?;
    for d in [Disposition::OverwriteIf, Disposition::Supersede] {
        expect_ok(
            t.create_symlink("l", "t", false),
            "CreateSymbolicLinkW(l, t)",
        )?;
        overwrite_itself(t, d)?;
        expect_ok(t.delete("l", DeleteKind::File), "DeleteFileW(l)")?;
    }
    Ok(())
}

fn j42(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    let buf = expect_ok(symlink_buffer("target"), "symlink buffer")?;
    put(t, "full", b"data")?;
    expect_err(
        t.set_reparse_point("full", &buf),
        Error::ReparseDataInvalid,
        "FSCTL_SET_REPARSE_POINT(symlink) on a file with data",
    )?;
    expect_ok(t.create_file("empty"), "create empty")?;
    let h = expect_ok(
        t.open("empty", rw().open_reparse_point()),
        "open empty with FILE_FLAG_OPEN_REPARSE_POINT",
    )?;
    let set = t.set_reparse_point("empty", &buf);
    let wrote = t.write_handle(h, b"later");
    close(t, h)?;
    expect_ok(set, "FSCTL_SET_REPARSE_POINT(symlink) on an empty file")?;
    expect_ok(wrote, "WriteFile after the reparse point")?;
    let st = expect_ok(t.stat("empty", false), "stat empty")?;
    ensure_eq(st.reparse_tag, Some(IO_REPARSE_TAG_SYMLINK), "tag")?;
    ensure_eq(st.size, 5, "size of the data written after the link")
}

fn n40(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "d")?;
    for n in ["a.txt", "B.TXT", "c.md"] {
        put(t, &format!("d\\{n}"), b"x")?;
    }
    let h = expect_ok(t.open("d", OpenHow::read()), "open d")?;
    let first = t.query_dir(h, Some("<.txt"), false);
    let second = t.query_dir(h, Some("*"), false);
    close(t, h)?;
    let first = expect_ok(first, "NtQueryDirectoryFile(<.txt)")?;
    ensure_eq(sorted(first), strings(&["B.TXT", "a.txt"]), "<.txt")?;
    expect_err(
        second,
        Error::NoMoreFiles,
        "the next call (its mask is ignored)",
    )?;
    let h = expect_ok(t.open("d", OpenHow::read()), "open d")?;
    let q = t.query_dir(h, Some("?.MD"), false);
    let none = t.query_dir(h, Some("zz*"), true);
    close(t, h)?;
    ensure_eq(
        expect_ok(q, "NtQueryDirectoryFile(?.MD)")?,
        strings(&["c.md"]),
        "?.MD (case-insensitive)",
    )?;
    match none {
        // The new mask ignored: the scan restarts with ?.MD.
        Ok(names) => ensure_eq(names, strings(&["c.md"]), "restart, mask ignored")?,
        Err(f) => expect_err::<()>(Err(f), Error::NoMoreFiles, "restart with zz*")?,
    }
    let h = expect_ok(t.open("d", OpenHow::read()), "open d")?;
    let none = t.query_dir(h, Some("zz*"), false);
    close(t, h)?;
    expect_err(none, Error::NoSuchFile, "NtQueryDirectoryFile(zz*)")
}

fn r40(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "a", b"x")?;
    put(t, "f", b"x")?;
    expect_err(
        t.rename("a", "f\\b", RenameFlags::default()),
        Error::InvalidParameter,
        "MoveFileW(a, f\\b) with f a file",
    )?;
    ensure(listed(t, "", "a")?, "a is gone")
}

fn r41(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "f", b"x")?;
    mkdir(t, "dir")?;
    let h = expect_ok(t.open("f", OpenHow::read()), "open f without DELETE")?;
    let r = t.rename_handle(h, NewName::Path("g"), RenameFlags::default());
    close(t, h)?;
    expect_err(r, Error::AccessDenied, "rename without DELETE access")?;
    let h = expect_ok(t.open("f", del()), "open f for DELETE")?;
    let dh = expect_ok(t.open("dir", OpenHow::read()), "open dir")?;
    let moved = t.rename_handle(h, NewName::Relative(dh, "moved"), RenameFlags::default());
    close(t, dh)?;
    let again = t.rename_handle(h, NewName::Bare("again"), RenameFlags::default());
    close(t, h)?;
    expect_ok(moved, "rename relative to the directory handle")?;
    expect_ok(again, "rename to a bare name")?;
    ensure(listed(t, "dir", "again")?, "dir\\again is missing")?;
    ensure(!listed(t, "", "f")?, "f is still there")
}
