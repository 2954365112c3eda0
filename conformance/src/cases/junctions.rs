//! A3 Junctions (IO_REPARSE_TAG_MOUNT_POINT) and raw reparse data.

use super::*;
use crate::case::*;
use crate::target::Feature;
use vfs_core::reparse::{IO_REPARSE_TAG_MOUNT_POINT, IO_REPARSE_TAG_SYMLINK};
use vfs_core::{attrs, Error};

const NODE_DANGLING: &str = "A3: target not validated at creation (Node test-fs-symlink-dir-junction \"invalid junction\"; CPython test_rmtree_works_on_junctions)";

pub(super) const CASES: &[Case] = &[
    Case {
        id: "J01",
        rule: Rule::A3,
        title: "A junction is a directory with REPARSE_POINT and the mount point tag",
        source: "A3: Wine test_reparse_points (attributes 0x410); MS-FSCC 2.1.2.5",
        expected: "FILE_ATTRIBUTE_DIRECTORY|FILE_ATTRIBUTE_REPARSE_POINT; tag IO_REPARSE_TAG_MOUNT_POINT",
        steps: j01,
    },
    Case {
        id: "J02",
        rule: Rule::A3,
        title: "A path through a junction reaches the target's files",
        source: HARD_LINKS_AND_JUNCTIONS,
        expected: "j\\f reads t\\f, is the same FileId, and j lists what t holds",
        steps: j02,
    },
    Case {
        id: "J03",
        rule: Rule::A3,
        title: "A mount point on a non-empty directory is refused",
        source: SET_REPARSE,
        expected: "STATUS_DIRECTORY_NOT_EMPTY; the directory and its file stay as they were",
        steps: j03,
    },
    Case {
        id: "J04",
        rule: Rule::A3,
        title: "A mount point on a file is refused",
        source: SET_REPARSE,
        expected: "STATUS_NOT_A_DIRECTORY",
        steps: j04,
    },
    Case {
        id: "J05",
        rule: Rule::A3,
        title: "A junction to a missing directory is created; paths through it are not found",
        source: NODE_DANGLING,
        expected: "creation succeeds; opening j\\f gives ERROR_PATH_NOT_FOUND, opening j gives ERROR_FILE_NOT_FOUND",
        steps: j05,
    },
    Case {
        id: "J06",
        rule: Rule::A3,
        title: "A junction goes stale when its target is removed and works again when it comes back",
        source: "A3: the target is a path, resolved at each open (hard-links-and-junctions)",
        expected: "the junction itself stays; j\\f is not found; after re-creating t\\f it is read",
        steps: j06,
    },
    Case {
        id: "J07",
        rule: Rule::A3,
        title: "Creating and deleting through a junction acts on the target directory",
        source: HARD_LINKS_AND_JUNCTIONS,
        expected: "j\\new appears as t\\new; deleting j\\new removes t\\new",
        steps: j07,
    },
    Case {
        id: "J08",
        rule: Rule::A3,
        title: "Replacing a reparse point needs the same tag",
        source: SET_REPARSE,
        expected: "STATUS_IO_REPARSE_TAG_MISMATCH; the junction's buffer is unchanged",
        steps: j08,
    },
    Case {
        id: "J09",
        rule: Rule::A3,
        title: "A junction is re-pointed by setting a new mount point buffer",
        source: SET_REPARSE,
        expected: "the junction now lists the second target",
        steps: j09,
    },
    Case {
        id: "J10",
        rule: Rule::A3,
        title: "ReparseDataLength that does not match the buffer size is refused",
        source: SET_REPARSE,
        expected: "ERROR_INVALID_REPARSE_DATA; the directory is not a reparse point",
        steps: j10,
    },
    Case {
        id: "J11",
        rule: Rule::A3,
        title: "A buffer shorter than its 8-byte header is refused",
        source: SET_REPARSE,
        expected: "ERROR_INVALID_REPARSE_DATA",
        steps: j11,
    },
    Case {
        id: "J12",
        rule: Rule::A3,
        title: "A buffer larger than 16 KiB is refused",
        source: "A3: MS-FSA 2.1.5.10.37 (MAXIMUM_REPARSE_DATA_BUFFER_SIZE 16384); Wine > 16 KiB test",
        expected: "ERROR_INVALID_REPARSE_DATA",
        steps: j12,
    },
    Case {
        id: "J13",
        rule: Rule::A3,
        title: "A substitute name outside the PathBuffer is refused",
        source: SET_REPARSE,
        expected: "ERROR_INVALID_REPARSE_DATA",
        steps: j13,
    },
    Case {
        id: "J14",
        rule: Rule::A3,
        title: "The reserved tag 0 cannot be set",
        source: "MS-FSCC 2.1.2.1 (IO_REPARSE_TAG_RESERVED_ZERO); MS-FSCC 2.3.82",
        expected: "ERROR_INVALID_REPARSE_DATA",
        steps: j14,
    },
    Case {
        id: "J15",
        rule: Rule::A3,
        title: "FSCTL_GET_REPARSE_POINT on an ordinary directory",
        source: "A3: FSCTL_GET_REPARSE_POINT, https://learn.microsoft.com/en-us/windows-hardware/drivers/ifs/fsctl-get-reparse-point",
        expected: "ERROR_NOT_A_REPARSE_POINT",
        steps: j15,
    },
    Case {
        id: "J16",
        rule: Rule::A3,
        title: "FSCTL_GET_REPARSE_POINT returns the buffer byte for byte",
        source: REPARSE_BUFFER,
        expected: "the bytes set are the bytes read",
        steps: j16,
    },
    Case {
        id: "J17",
        rule: Rule::A3,
        title: "FSCTL_DELETE_REPARSE_POINT turns a junction back into an empty directory",
        source: "A3: FSCTL_DELETE_REPARSE_POINT, https://learn.microsoft.com/en-us/windows-hardware/drivers/ifs/fsctl-delete-reparse-point",
        expected: "attributes DIRECTORY without REPARSE_POINT, no tag, nothing listed; the old target stays",
        steps: j17,
    },
    Case {
        id: "J18",
        rule: Rule::A3,
        title: "FSCTL_DELETE_REPARSE_POINT with another tag is refused",
        source: "A3: MS-FSA 2.1.5.10.3; Wine test_reparse_points",
        expected: "STATUS_IO_REPARSE_TAG_MISMATCH; the junction stays",
        steps: j18,
    },
    Case {
        id: "J19",
        rule: Rule::A3,
        title: "FSCTL_DELETE_REPARSE_POINT on an ordinary directory",
        source: "A3: MS-FSA 2.1.5.10.3",
        expected: "ERROR_NOT_A_REPARSE_POINT",
        steps: j19,
    },
    Case {
        id: "J20",
        rule: Rule::A3,
        title: "Setting a junction does not set FILE_ATTRIBUTE_ARCHIVE",
        source: "A3: WinBtrfs reparse tests (clears ARCHIVE, then expects exactly REPARSE_POINT); Wine (0x410)",
        expected: "attributes DIRECTORY|REPARSE_POINT, no ARCHIVE",
        steps: j20,
    },
    Case {
        id: "J21",
        rule: Rule::A3,
        title: "Renaming a junction moves the link; the target stays",
        source: "A3/A6: a rename moves the directory entry (MoveFileEx on the link's name)",
        expected: "the new name lists the target's files; the old name is gone; the target is untouched",
        steps: j21,
    },
    Case {
        id: "J22",
        rule: Rule::A3,
        title: "A junction may point at a file",
        source: "A3: CPython test_rmtree_works_on_junctions creates _winapi.CreateJunction(file, link)",
        expected: "creation succeeds; the junction carries the mount point tag",
        steps: j22,
    },
    Case {
        id: "J23",
        rule: Rule::A3,
        title: "A path crosses a junction to a junction",
        source: "A3/A4: each reparse point in a path is followed (63 at most)",
        expected: "j2\\f reads t\\f",
        steps: j23,
    },
    Case {
        id: "J24",
        rule: Rule::A3,
        title: "A directory made a junction is a junction for the very next call",
        source: SET_REPARSE,
        expected: "the next open sees the mount point and goes through it",
        steps: j24,
    },
    Case {
        id: "J25",
        rule: Rule::A3,
        title: "A junction's target directory can be removed while the junction exists",
        source: "A3: junctions hold a path, not a reference (hard-links-and-junctions)",
        expected: "RemoveDirectoryW(t) succeeds; the junction stays, dangling",
        steps: j25,
    },
    Case {
        id: "J26",
        rule: Rule::A3,
        title: "FILE_FLAG_OPEN_REPARSE_POINT opens the junction itself",
        source: "A4: FILE_FLAG_OPEN_REPARSE_POINT (CreateFileW docs)",
        expected: "the junction's FileId differs from its target's; without the flag the target's FileId",
        steps: j26,
    },
];

fn target_with_file(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    put(t, "t\\f", b"data")
}

fn j01(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    let st = expect_ok(t.stat("j", false), "stat the junction")?;
    let both = attrs::DIRECTORY | attrs::REPARSE_POINT;
    ensure(
        st.attributes & both == both,
        format!(
            "attributes: expected DIRECTORY|REPARSE_POINT, got {:#x}",
            st.attributes
        ),
    )?;
    ensure_eq(
        st.reparse_tag,
        Some(IO_REPARSE_TAG_MOUNT_POINT),
        "reparse tag",
    )
}

fn j02(t: &mut dyn NtfsTarget) -> Verdict {
    target_with_file(t)?;
    junction(t, "j", "t")?;
    ensure_eq(read(t, "j\\f")?.as_str(), "data", "j\\f")?;
    let via = expect_ok(t.stat("j\\f", true), "stat j\\f")?;
    let direct = expect_ok(t.stat("t\\f", true), "stat t\\f")?;
    ensure_eq(via.file_id, direct.file_id, "FileId through the junction")?;
    let names = expect_ok(t.list_dir("j"), "list j")?;
    ensure_eq(names, strings(&["f"]), "listing through the junction")
}

fn j03(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "t")?;
    mkdir(t, "d")?;
    put(t, "d\\x", b"x")?;
    let buf = junction_buffer(t, "t")?;
    expect_err(
        t.set_reparse_point("d", &buf),
        Error::DirectoryNotEmpty,
        "FSCTL_SET_REPARSE_POINT(mount point) on a non-empty directory",
    )?;
    ensure_eq(read(t, "d\\x")?.as_str(), "x", "d\\x")
}

fn j04(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "t")?;
    put(t, "f", b"")?;
    let buf = junction_buffer(t, "t")?;
    expect_err(
        t.set_reparse_point("f", &buf),
        Error::NotADirectory,
        "FSCTL_SET_REPARSE_POINT(mount point) on a file",
    )
}

fn j05(t: &mut dyn NtfsTarget) -> Verdict {
    junction(t, "j", "missing")?;
    let st = expect_ok(t.stat("j", false), "stat the dangling junction")?;
    ensure_eq(
        st.reparse_tag,
        Some(IO_REPARSE_TAG_MOUNT_POINT),
        "reparse tag",
    )?;
    expect_err(t.read_file("j\\f"), Error::ObjectPathNotFound, "open j\\f")?;
    expect_err(
        t.stat("j", true),
        Error::ObjectNameNotFound,
        "open j, following it",
    )
}

fn j06(t: &mut dyn NtfsTarget) -> Verdict {
    target_with_file(t)?;
    junction(t, "j", "t")?;
    expect_ok(t.delete("t\\f", crate::DeleteKind::File), "delete t\\f")?;
    expect_ok(t.delete("t", crate::DeleteKind::Directory), "remove t")?;
    expect_ok(t.stat("j", false), "stat the stale junction")?;
    expect_err(t.read_file("j\\f"), Error::ObjectPathNotFound, "open j\\f")?;
    mkdir(t, "t")?;
    put(t, "t\\f", b"again")?;
    ensure_eq(
        read(t, "j\\f")?.as_str(),
        "again",
        "j\\f after re-creating t",
    )
}

fn j07(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    put(t, "j\\new", b"n")?;
    ensure_eq(read(t, "t\\new")?.as_str(), "n", "t\\new")?;
    expect_ok(
        t.delete("j\\new", crate::DeleteKind::File),
        "DeleteFileW(j\\new)",
    )?;
    ensure(!listed(t, "t", "new")?, "t\\new is still there")
}

fn j08(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    let before = expect_ok(t.get_reparse_point("j"), "FSCTL_GET_REPARSE_POINT")?;
    let sym = symlink_buffer("t")?;
    expect_err(
        t.set_reparse_point("j", &sym),
        Error::ReparseTagMismatch,
        "FSCTL_SET_REPARSE_POINT(symlink) on a junction",
    )?;
    let after = expect_ok(t.get_reparse_point("j"), "FSCTL_GET_REPARSE_POINT")?;
    ensure(after == before, "the junction's buffer changed")
}

fn j09(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "t1")?;
    put(t, "t1\\a", b"")?;
    mkdir(t, "t2")?;
    put(t, "t2\\b", b"")?;
    junction(t, "j", "t1")?;
    let buf = junction_buffer(t, "t2")?;
    expect_ok(
        t.set_reparse_point("j", &buf),
        "FSCTL_SET_REPARSE_POINT(new target)",
    )?;
    let names = expect_ok(t.list_dir("j"), "list j")?;
    ensure_eq(
        names,
        strings(&["b"]),
        "listing through the re-pointed junction",
    )
}

/// Sets a malformed buffer on an empty directory and checks the refusal left it alone.
fn refused(t: &mut dyn NtfsTarget, buf: &[u8], what: &str) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "d")?;
    expect_err(
        t.set_reparse_point("d", buf),
        Error::ReparseDataInvalid,
        what,
    )?;
    let st = expect_ok(t.stat("d", false), "stat d")?;
    ensure(
        st.attributes & attrs::REPARSE_POINT == 0,
        "d became a reparse point",
    )
}

fn j10(t: &mut dyn NtfsTarget) -> Verdict {
    let mut buf = junction_buffer(t, "t")?;
    let len = u16::from_le_bytes([buf[4], buf[5]]) + 2;
    buf[4..6].copy_from_slice(&len.to_le_bytes());
    refused(t, &buf, "ReparseDataLength 2 bytes too long")
}

fn j11(t: &mut dyn NtfsTarget) -> Verdict {
    let buf = IO_REPARSE_TAG_MOUNT_POINT.to_le_bytes();
    refused(t, &buf, "a 4-byte buffer")
}

fn j12(t: &mut dyn NtfsTarget) -> Verdict {
    // A mount point whose PrintName pads the buffer to 16384 + 8 bytes.
    let data_len: usize = 16384;
    let mut buf = IO_REPARSE_TAG_MOUNT_POINT.to_le_bytes().to_vec();
    buf.extend_from_slice(&(data_len as u16).to_le_bytes());
    buf.extend_from_slice(&[0, 0]);
    let sub: Vec<u8> = "\\??\\C:\\t"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let print_len = data_len - 8 - sub.len();
    for v in [0, sub.len(), sub.len(), print_len] {
        buf.extend_from_slice(&(v as u16).to_le_bytes());
    }
    buf.extend_from_slice(&sub);
    buf.resize(8 + data_len, b'a');
    refused(t, &buf, "a 16392-byte buffer")
}

fn j13(t: &mut dyn NtfsTarget) -> Verdict {
    let mut buf = junction_buffer(t, "t")?;
    // SubstituteNameLength far past the PathBuffer.
    buf[10..12].copy_from_slice(&0x4000u16.to_le_bytes());
    refused(t, &buf, "SubstituteNameLength past the end")
}

fn j14(t: &mut dyn NtfsTarget) -> Verdict {
    refused(t, &[0u8; 8], "tag 0 with no data")
}

fn j15(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "d")?;
    expect_err(
        t.get_reparse_point("d"),
        Error::NotAReparsePoint,
        "FSCTL_GET_REPARSE_POINT on a directory",
    )
}

fn j16(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "t")?;
    mkdir(t, "j")?;
    let buf = junction_buffer(t, "t")?;
    expect_ok(t.set_reparse_point("j", &buf), "FSCTL_SET_REPARSE_POINT")?;
    let got = expect_ok(t.get_reparse_point("j"), "FSCTL_GET_REPARSE_POINT")?;
    ensure(got == buf, format!("got {got:02x?}, set {buf:02x?}"))
}

fn j17(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    target_with_file(t)?;
    junction(t, "j", "t")?;
    expect_ok(
        t.delete_reparse_point("j", &delete_header(IO_REPARSE_TAG_MOUNT_POINT)),
        "FSCTL_DELETE_REPARSE_POINT",
    )?;
    let st = expect_ok(t.stat("j", false), "stat j")?;
    ensure(
        st.attributes & attrs::DIRECTORY != 0 && st.attributes & attrs::REPARSE_POINT == 0,
        format!(
            "attributes: expected DIRECTORY only, got {:#x}",
            st.attributes
        ),
    )?;
    ensure_eq(st.reparse_tag, None, "reparse tag")?;
    ensure_eq(
        expect_ok(t.list_dir("j"), "list j")?,
        Vec::<String>::new(),
        "listing of j",
    )?;
    ensure_eq(read(t, "t\\f")?.as_str(), "data", "t\\f")
}

fn j18(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::DeleteReparseTagCheck)?;
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    expect_err(
        t.delete_reparse_point("j", &delete_header(IO_REPARSE_TAG_SYMLINK)),
        Error::ReparseTagMismatch,
        "FSCTL_DELETE_REPARSE_POINT(symlink tag) on a junction",
    )?;
    let st = expect_ok(t.stat("j", false), "stat j")?;
    ensure_eq(
        st.reparse_tag,
        Some(IO_REPARSE_TAG_MOUNT_POINT),
        "reparse tag",
    )
}

fn j19(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "d")?;
    expect_err(
        t.delete_reparse_point("d", &delete_header(IO_REPARSE_TAG_MOUNT_POINT)),
        Error::NotAReparsePoint,
        "FSCTL_DELETE_REPARSE_POINT on a directory",
    )
}

fn j20(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    mkdir(t, "t")?;
    mkdir(t, "j")?;
    expect_ok(
        t.set_attributes("j", attrs::NORMAL),
        "SetFileAttributesW(NORMAL)",
    )?;
    let buf = junction_buffer(t, "t")?;
    expect_ok(t.set_reparse_point("j", &buf), "FSCTL_SET_REPARSE_POINT")?;
    let st = expect_ok(t.stat("j", false), "stat j")?;
    let both = attrs::DIRECTORY | attrs::REPARSE_POINT;
    ensure(
        st.attributes & both == both && st.attributes & attrs::ARCHIVE == 0,
        format!(
            "attributes: expected DIRECTORY|REPARSE_POINT without ARCHIVE, got {:#x}",
            st.attributes
        ),
    )
}

fn j21(t: &mut dyn NtfsTarget) -> Verdict {
    target_with_file(t)?;
    junction(t, "j", "t")?;
    expect_ok(
        t.rename("j", "k", RenameFlags::default()),
        "MoveFileW(junction j, k)",
    )?;
    ensure_eq(
        expect_ok(t.list_dir("k"), "list k")?,
        strings(&["f"]),
        "listing of k",
    )?;
    expect_err(t.stat("j", false), Error::ObjectNameNotFound, "stat j")?;
    let st = expect_ok(t.stat("k", false), "stat k")?;
    ensure_eq(
        st.reparse_tag,
        Some(IO_REPARSE_TAG_MOUNT_POINT),
        "reparse tag of k",
    )?;
    ensure_eq(read(t, "t\\f")?.as_str(), "data", "t\\f")
}

fn j22(t: &mut dyn NtfsTarget) -> Verdict {
    put(t, "f", b"x")?;
    junction(t, "j", "f")?;
    let st = expect_ok(t.stat("j", false), "stat j")?;
    ensure_eq(
        st.reparse_tag,
        Some(IO_REPARSE_TAG_MOUNT_POINT),
        "reparse tag",
    )
}

fn j23(t: &mut dyn NtfsTarget) -> Verdict {
    target_with_file(t)?;
    junction(t, "j1", "t")?;
    junction(t, "j2", "j1")?;
    ensure_eq(read(t, "j2\\f")?.as_str(), "data", "j2\\f")
}

fn j24(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseTransitions)?;
    need(t, Feature::RawReparseData)?;
    target_with_file(t)?;
    mkdir(t, "j")?;
    // Look at it first, so a kernel cache holds it as a directory.
    expect_ok(t.stat("j", false), "stat j before")?;
    let buf = junction_buffer(t, "t")?;
    expect_ok(t.set_reparse_point("j", &buf), "FSCTL_SET_REPARSE_POINT")?;
    let st = expect_ok(t.stat("j", false), "the first stat of j after the change")?;
    ensure_eq(
        st.reparse_tag,
        Some(IO_REPARSE_TAG_MOUNT_POINT),
        "reparse tag",
    )?;
    ensure_eq(read(t, "j\\f")?.as_str(), "data", "j\\f")
}

fn j25(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    expect_ok(
        t.delete("t", crate::DeleteKind::Directory),
        "RemoveDirectoryW(t)",
    )?;
    let st = expect_ok(t.stat("j", false), "stat j")?;
    ensure_eq(
        st.reparse_tag,
        Some(IO_REPARSE_TAG_MOUNT_POINT),
        "reparse tag",
    )
}

fn j26(t: &mut dyn NtfsTarget) -> Verdict {
    mkdir(t, "t")?;
    junction(t, "j", "t")?;
    link_has_own_file_id(t, "j", "t")
}
