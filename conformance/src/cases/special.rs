//! POSIX special files on NTFS: FIFOs, AF_UNIX sockets and device nodes are reparse points of
//! their own Microsoft tags (A3 reparse data; MS-FSCC 2.1.2.1). AF_UNIX socket files are made
//! by Windows 10 1803 and later (afunix.sys) and by WSL; FIFOs and device nodes by WSL.
//! None of the tags is a name surrogate, so nothing follows them (A4: a tag no filter handles
//! cannot be opened). ntfs-3g's recorded differences are in host/divergences.toml
//! (`special-files-are-interix-files`, `lx-fifo-buffer-refused`).

use super::*;
use crate::case::*;
use crate::target::{Feature, SpecialFile};
use vfs_core::reparse::{
    IO_REPARSE_TAG_AF_UNIX, IO_REPARSE_TAG_LX_BLK, IO_REPARSE_TAG_LX_CHR, IO_REPARSE_TAG_LX_FIFO,
};
use vfs_core::{attrs, Error};

const TAGS: &str = "MS-FSCC 2.1.2.1 Reparse Tags (IO_REPARSE_TAG_AF_UNIX 0x80000023, LX_FIFO 0x80000024, LX_CHR 0x80000025, LX_BLK 0x80000026)";
const WSL_LAYOUT: &str = "MS-FSCC 2.1.2.1; the data WSL writes, as ntfs-3g 2022.10.3 writes it with special_files=wsl (observed: system.ntfs_reparse_data = 2400008000000000 for a FIFO, 2300008000000000 for a socket: ReparseDataLength 0)";

pub(super) const CASES: &[Case] = &[
    Case {
        id: "X01",
        rule: Rule::A3,
        title: "A FIFO is a file holding an IO_REPARSE_TAG_LX_FIFO reparse point with no data",
        source: WSL_LAYOUT,
        expected: "FILE_ATTRIBUTE_REPARSE_POINT, not a directory, tag 0x80000024, ReparseDataLength 0, one link, size 0",
        steps: x01,
    },
    Case {
        id: "X02",
        rule: Rule::A3,
        title: "An AF_UNIX socket file holds an IO_REPARSE_TAG_AF_UNIX reparse point",
        source: "MS-FSCC 2.1.2.1; AF_UNIX comes to Windows (https://devblogs.microsoft.com/commandline/af_unix-comes-to-windows/); Go os.Stat reports ModeSocket for IO_REPARSE_TAG_AF_UNIX (go.dev/issue/33357)",
        expected: "FILE_ATTRIBUTE_REPARSE_POINT, not a directory, tag 0x80000023",
        steps: x02,
    },
    Case {
        id: "X03",
        rule: Rule::A3,
        title: "Character and block device nodes hold IO_REPARSE_TAG_LX_CHR and LX_BLK",
        source: TAGS,
        expected: "tags 0x80000025 and 0x80000026 on files with FILE_ATTRIBUTE_REPARSE_POINT",
        steps: x03,
    },
    Case {
        id: "X04",
        rule: Rule::A4,
        title: "A special file cannot be opened without FILE_FLAG_OPEN_REPARSE_POINT; with it, the file itself opens",
        source: "A4 (a tag no filter handles: STATUS_IO_REPARSE_TAG_NOT_HANDLED, as S16); MS-FSCC 2.1.2.1 (none of the four tags has the name-surrogate bit); Go os.Stat opens AF_UNIX socket files with FILE_FLAG_OPEN_REPARSE_POINT for this reason (go.dev/issue/33357)",
        expected: "ERROR_CANT_ACCESS_FILE (STATUS_IO_REPARSE_TAG_NOT_HANDLED) following links; the FIFO's own FileId with FILE_FLAG_OPEN_REPARSE_POINT",
        steps: x04,
    },
    Case {
        id: "X05",
        rule: Rule::A1,
        title: "A special file takes hard links, renames and DeleteFileW like any file",
        source: "A1 (CreateHardLinkW on any file); A2, A6; the reparse point belongs to the file, so every name shows it",
        expected: "two names, both with tag 0x80000024; the renamed name keeps it; DeleteFileW removes each",
        steps: x05,
    },
    Case {
        id: "X06",
        rule: Rule::A3,
        title: "An empty file becomes a FIFO by FSCTL_SET_REPARSE_POINT and a file again by FSCTL_DELETE_REPARSE_POINT",
        source: SET_REPARSE,
        expected: "tag 0x80000024 after the set, the buffer read back byte for byte; no reparse point after the delete",
        steps: x06,
    },
];

/// Makes `path` as `special` and checks its attributes and tag (not followed).
fn made_as(t: &mut dyn NtfsTarget, path: &str, special: SpecialFile, tag: u32) -> Verdict {
    expect_ok(
        t.create_special(path, special),
        &format!("create the {} {path}", special.kind_name()),
    )?;
    let info = expect_ok(t.stat(path, false), &format!("stat {path} itself"))?;
    ensure_eq(
        info.reparse_tag,
        Some(tag),
        &format!("reparse tag of {path}"),
    )?;
    ensure(
        info.is_reparse_point(),
        format!(
            "{path}: FILE_ATTRIBUTE_REPARSE_POINT missing ({:#x})",
            info.attributes
        ),
    )?;
    ensure(!info.is_dir(), format!("{path} is a directory"))?;
    ensure_eq(info.links, 1, &format!("links of {path}"))
}

/// The 8-byte header of a special file's reparse point with ReparseDataLength 0.
fn header(tag: u32) -> Vec<u8> {
    let mut v = tag.to_le_bytes().to_vec();
    v.extend_from_slice(&[0, 0, 0, 0]);
    v
}

fn x01(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    made_as(t, "p", SpecialFile::Fifo, IO_REPARSE_TAG_LX_FIFO)?;
    let info = expect_ok(t.stat("p", false), "stat p itself")?;
    ensure_eq(info.size, 0, "size of p")?;
    let buf = expect_ok(t.get_reparse_point("p"), "FSCTL_GET_REPARSE_POINT(p)")?;
    ensure_eq(buf, header(IO_REPARSE_TAG_LX_FIFO), "reparse buffer of p")
}

fn x02(t: &mut dyn NtfsTarget) -> Verdict {
    made_as(t, "s.sock", SpecialFile::Socket, IO_REPARSE_TAG_AF_UNIX)
}

fn x03(t: &mut dyn NtfsTarget) -> Verdict {
    // The data of these two differs between writers (WSL keeps the device number in the
    // $LXDEV extended attribute, ntlinkfs in the reparse data), so only the tags are checked.
    made_as(
        t,
        "null",
        SpecialFile::CharDevice { major: 1, minor: 3 },
        IO_REPARSE_TAG_LX_CHR,
    )?;
    made_as(
        t,
        "sda",
        SpecialFile::BlockDevice { major: 8, minor: 0 },
        IO_REPARSE_TAG_LX_BLK,
    )
}

fn x04(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::NtOpenOfSpecialFiles)?;
    expect_ok(
        t.create_special("p", SpecialFile::Fifo),
        "create the FIFO p",
    )?;
    expect_err(
        t.read_file("p"),
        Error::IoReparseTagNotHandled,
        "open p without FILE_FLAG_OPEN_REPARSE_POINT",
    )?;
    let own = expect_ok(t.stat("p", false), "stat p itself")?;
    let h = expect_ok(
        t.open("p", crate::target::OpenHow::read().open_reparse_point()),
        "open p with FILE_FLAG_OPEN_REPARSE_POINT",
    )?;
    let via = expect_ok(t.stat_handle(h), "stat the handle")?;
    expect_ok(t.close(h), "close")?;
    ensure_eq(via.file_id, own.file_id, "FileId through the handle")?;
    ensure_eq(
        via.reparse_tag,
        Some(IO_REPARSE_TAG_LX_FIFO),
        "tag through the handle",
    )
}

fn x05(t: &mut dyn NtfsTarget) -> Verdict {
    made_as(t, "p", SpecialFile::Fifo, IO_REPARSE_TAG_LX_FIFO)?;
    expect_ok(t.hard_link("p", "q"), "CreateHardLinkW(q, p)")?;
    let names = expect_ok(t.link_names("p"), "names of p")?;
    ensure_eq(sorted(names), strings(&["\\p", "\\q"]), "names of p")?;
    let q = expect_ok(t.stat("q", false), "stat q itself")?;
    ensure_eq(
        q.reparse_tag,
        Some(IO_REPARSE_TAG_LX_FIFO),
        "reparse tag of q",
    )?;
    ensure_eq(q.links, 2, "links of q")?;
    expect_ok(
        t.rename("q", "r", RenameFlags::default()),
        "MoveFileExW(q, r)",
    )?;
    let r = expect_ok(t.stat("r", false), "stat r itself")?;
    ensure_eq(
        r.reparse_tag,
        Some(IO_REPARSE_TAG_LX_FIFO),
        "reparse tag of r",
    )?;
    ensure_eq(r.file_id, q.file_id, "FileId of r")?;
    expect_ok(t.delete("r", DeleteKind::File), "DeleteFileW(r)")?;
    expect_ok(t.delete("p", DeleteKind::File), "DeleteFileW(p)")?;
    ensure_eq(
        expect_ok(t.list_dir(""), "list the sandbox")?,
        Vec::<String>::new(),
        "names left",
    )
}

fn x06(t: &mut dyn NtfsTarget) -> Verdict {
    need(t, Feature::RawReparseData)?;
    expect_ok(t.create_file("f"), "create f")?;
    let buf = header(IO_REPARSE_TAG_LX_FIFO);
    expect_ok(
        t.set_reparse_point("f", &buf),
        "FSCTL_SET_REPARSE_POINT(f, LX_FIFO)",
    )?;
    let info = expect_ok(t.stat("f", false), "stat f itself")?;
    ensure_eq(
        info.reparse_tag,
        Some(IO_REPARSE_TAG_LX_FIFO),
        "reparse tag of f",
    )?;
    ensure(
        info.attributes & attrs::REPARSE_POINT != 0,
        "FILE_ATTRIBUTE_REPARSE_POINT missing after the set",
    )?;
    ensure_eq(
        expect_ok(t.get_reparse_point("f"), "FSCTL_GET_REPARSE_POINT(f)")?,
        buf.clone(),
        "buffer read back",
    )?;
    expect_ok(
        t.delete_reparse_point("f", &buf),
        "FSCTL_DELETE_REPARSE_POINT(f)",
    )?;
    let after = expect_ok(t.stat("f", false), "stat f after the delete")?;
    ensure_eq(after.reparse_tag, None, "reparse tag after the delete")?;
    ensure(
        after.attributes & attrs::REPARSE_POINT == 0,
        "FILE_ATTRIBUTE_REPARSE_POINT still set",
    )
}
