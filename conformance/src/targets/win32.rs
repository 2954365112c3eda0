//! `win32:DIR` (Windows only): a real NTFS directory, or a WinFsp mount of ntlinkfs, driven
//! through the Win32 calls the cases are named after: CreateHardLinkW, FindFirstFileNameW,
//! CreateSymbolicLinkW, DeviceIoControl(FSCTL_SET/GET/DELETE_REPARSE_POINT),
//! GetFileInformationByHandle, MoveFileExW and SetFileInformationByHandle; for the NT-level
//! cases also OpenFileById, GetFileInformationByHandleEx(FileStandardInfo), CreateFileW's
//! TRUNCATE_EXISTING / CREATE_ALWAYS, and FileRenameInfoEx with a RootDirectory handle
//! (FileLinkInformation and NtQueryDirectoryFile's FileName have no Win32 form: those cases are
//! n/a here). Errors are `GetLastError` codes ([`Failure::Win32`]).
//!
//! Untested on Windows: written against windows-sys 0.61's declarations, never run.
//!
//! A drive whose volume label is `ntlinkfs` (backend-winfsp's default) is judged as ntlinkfs:
//! its FAILs fail the run. Any other directory is Windows, the reference.
//!
//! Paths are passed with the `\\?\` prefix, so Win32 path normalisation (trailing dots and
//! spaces, DOS device names) does not interfere with NT-level name cases. Legacy delete
//! semantics cannot be chosen: Windows decides them (POSIX semantics on NTFS since Windows 10
//! 1903), so the legacy cases are n/a here.

use crate::target::*;
use std::collections::HashMap;
use std::ptr::{null, null_mut};
use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, ERROR_HANDLE_EOF, ERROR_MORE_DATA, ERROR_NO_MORE_FILES,
    ERROR_PRIVILEGE_NOT_HELD, GENERIC_READ, GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateDirectoryW, CreateFileW, CreateHardLinkW, CreateSymbolicLinkW, DeleteFileW,
    FileCaseSensitiveInfo, FileDispositionInfoEx, FileIdType, FileRenameInfoEx, FileStandardInfo,
    FindClose, FindFirstFileNameW, FindFirstFileW, FindNextFileNameW, FindNextFileW,
    GetFileInformationByHandle, GetFileInformationByHandleEx, GetVolumeInformationW, MoveFileExW,
    OpenFileById, ReadFile, RemoveDirectoryW, SetFileAttributesW, SetFileInformationByHandle,
    SetFilePointerEx, WriteFile, BY_HANDLE_FILE_INFORMATION, CREATE_ALWAYS, CREATE_NEW, DELETE,
    FILE_ATTRIBUTE_NORMAL, FILE_BEGIN, FILE_CASE_SENSITIVE_INFO, FILE_DISPOSITION_FLAG_DELETE,
    FILE_DISPOSITION_FLAG_IGNORE_READONLY_ATTRIBUTE, FILE_DISPOSITION_FLAG_ON_CLOSE,
    FILE_DISPOSITION_FLAG_POSIX_SEMANTICS, FILE_DISPOSITION_INFO_EX, FILE_FLAG_BACKUP_SEMANTICS,
    FILE_FLAG_DELETE_ON_CLOSE, FILE_FLAG_OPEN_REPARSE_POINT, FILE_GENERIC_READ, FILE_GENERIC_WRITE,
    FILE_ID_DESCRIPTOR, FILE_ID_DESCRIPTOR_0, FILE_READ_ATTRIBUTES, FILE_RENAME_INFO,
    FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_STANDARD_INFO,
    FILE_WRITE_ATTRIBUTES, MOVEFILE_REPLACE_EXISTING, OPEN_ALWAYS, OPEN_EXISTING,
    SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE, SYMBOLIC_LINK_FLAG_DIRECTORY, TRUNCATE_EXISTING,
    WIN32_FIND_DATAW,
};
use windows_sys::Win32::System::Ioctl::{FSCTL_DELETE_REPARSE_POINT, FSCTL_SET_REPARSE_POINT};

/// FILE_RENAME_INFORMATION_EX flags (ntifs.h).
const FILE_RENAME_FLAG_REPLACE_IF_EXISTS: u32 = 0x1;
const FILE_RENAME_FLAG_POSIX_SEMANTICS: u32 = 0x2;
const FILE_RENAME_FLAG_IGNORE_READONLY_ATTRIBUTE: u32 = 0x40;
/// FILE_CS_FLAG_CASE_SENSITIVE_DIR (ntifs.h).
const FILE_CS_FLAG_CASE_SENSITIVE_DIR: u32 = 0x1;
const SHARE_ALL: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn last() -> Failure {
    // SAFETY: no preconditions.
    Failure::Win32(unsafe { GetLastError() })
}

fn ok(b: i32) -> Op<()> {
    if b != 0 {
        Ok(())
    } else {
        Err(last())
    }
}

/// A handle closed on drop.
struct Owned(HANDLE);

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the handle came from CreateFileW and is closed once.
        unsafe { CloseHandle(self.0) };
    }
}

/// The volume label of an ntlinkfs drive mounted through WinFsp (backend-winfsp's default).
pub const NTLINKFS_LABEL: &str = "ntlinkfs";

/// The `win32:DIR` target.
#[derive(Debug)]
pub struct Win32Target {
    name: String,
    flavor: Flavor,
    /// The run directory, absolute, without the `\\?\` prefix (`D:\tests\conformance-…`).
    run_dir: String,
}

impl Win32Target {
    /// A target for directory `dir`; cases run in a fresh run directory inside it.
    pub fn open(dir: &str) -> Result<Win32Target, String> {
        // GetFullPathNameW, not canonicalize: a WinFsp drive has no final path of its own.
        let full = std::path::absolute(dir).map_err(|e| format!("{dir}: {e}"))?;
        if !full.is_dir() {
            return Err(format!("{dir} is not a directory"));
        }
        let full = full
            .to_str()
            .ok_or_else(|| format!("{dir}: not valid Unicode"))?
            .trim_start_matches(r"\\?\")
            .to_string();
        if full.len() < 3 || !full.as_bytes()[0].is_ascii_alphabetic() || &full[1..3] != ":\\" {
            return Err(format!(
                "{dir}: needs a drive-letter path (D:\\dir), got {full}"
            ));
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let run_dir = format!(
            "{}\\conformance-{stamp}-{}",
            full.trim_end_matches('\\'),
            std::process::id()
        );
        std::fs::create_dir(&run_dir).map_err(|e| format!("{run_dir}: {e}"))?;
        // An ntlinkfs drive reports "NTFS" as its file system name; its label tells it apart.
        let flavor = if volume_label(&full[..3]).as_deref() == Some(NTLINKFS_LABEL) {
            Flavor::Ntlinkfs
        } else {
            Flavor::Windows
        };
        Ok(Win32Target {
            name: format!("win32:{dir}"),
            flavor,
            run_dir,
        })
    }
}

/// The label of the volume whose root is `root` (`D:\`).
fn volume_label(root: &str) -> Option<String> {
    let r = wide(root);
    let mut label = [0u16; 64];
    // SAFETY: NUL-terminated root; label valid for its length; other outputs not wanted.
    let done = unsafe {
        GetVolumeInformationW(
            r.as_ptr(),
            label.as_mut_ptr(),
            label.len() as u32,
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
            0,
        )
    };
    (done != 0).then(|| {
        let end = label.iter().position(|&u| u == 0).unwrap_or(label.len());
        String::from_utf16_lossy(&label[..end])
    })
}

impl Target for Win32Target {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn flavor(&self) -> Flavor {
        self.flavor
    }
    fn sandbox(&mut self, case_id: &str) -> Result<Box<dyn NtfsTarget>, String> {
        let root = format!("{}\\{case_id}", self.run_dir);
        std::fs::create_dir(&root).map_err(|e| format!("{root}: {e}"))?;
        Ok(Box::new(Win32Sandbox {
            root,
            handles: HashMap::new(),
            next: 1,
        }))
    }
    fn finish(&mut self) -> Result<(), String> {
        std::fs::remove_dir_all(&self.run_dir)
            .map_err(|e| format!("could not remove {}: {e}", self.run_dir))
    }
}

/// One case's directory on Windows.
struct Win32Sandbox {
    /// Absolute, without `\\?\`.
    root: String,
    handles: HashMap<u64, Owned>,
    next: u64,
}

impl Win32Sandbox {
    /// The sandbox path as an absolute Win32 path (no prefix).
    fn plain(&self, path: &str) -> String {
        if path.is_empty() {
            self.root.clone()
        } else {
            format!("{}\\{path}", self.root)
        }
    }

    /// The `\\?\` form, NUL-terminated UTF-16.
    fn p(&self, path: &str) -> Vec<u16> {
        wide(&format!(r"\\?\{}", self.plain(path)))
    }

    fn create(
        &self,
        path: &str,
        access: u32,
        share: u32,
        disposition: u32,
        flags: u32,
    ) -> Op<Owned> {
        let p = self.p(path);
        // SAFETY: p is NUL-terminated; null security attributes and template.
        let h = unsafe {
            CreateFileW(
                p.as_ptr(),
                access,
                share,
                null(),
                disposition,
                flags,
                null_mut(),
            )
        };
        if h == INVALID_HANDLE_VALUE {
            Err(last())
        } else {
            Ok(Owned(h))
        }
    }

    /// A handle on the file itself (links not followed), for FSCTLs and attributes.
    fn open_link(&self, path: &str, access: u32) -> Op<Owned> {
        self.create(
            path,
            access,
            SHARE_ALL,
            OPEN_EXISTING,
            FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS,
        )
    }

    fn handle(&self, h: Handle) -> Op<HANDLE> {
        self.handles.get(&h.0).map(|o| o.0).ok_or(Failure::Win32(6)) // ERROR_INVALID_HANDLE
    }

    /// The volume-relative form of the sandbox root (`\tests\run\H01`), as FindFirstFileNameW
    /// reports names.
    fn volume_relative_root(&self) -> String {
        self.root[2..].to_string()
    }
}

fn read_all(h: HANDLE) -> Op<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut n = 0u32;
        // SAFETY: buf is valid for buf.len() bytes; synchronous handle, no OVERLAPPED.
        ok(unsafe { ReadFile(h, buf.as_mut_ptr(), buf.len() as u32, &mut n, null_mut()) })?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
}

fn info_of(h: HANDLE) -> Op<Info> {
    let mut bhfi = BY_HANDLE_FILE_INFORMATION::default();
    // SAFETY: bhfi is a valid out pointer.
    ok(unsafe { GetFileInformationByHandle(h, &mut bhfi) })?;
    let attributes = bhfi.dwFileAttributes;
    let reparse_tag = if attributes & vfs_core::attrs::REPARSE_POINT != 0 {
        reparse_of(h)
            .ok()
            .filter(|b| b.len() >= 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    } else {
        None
    };
    Ok(Info {
        file_id: (u64::from(bhfi.nFileIndexHigh) << 32) | u64::from(bhfi.nFileIndexLow),
        links: bhfi.nNumberOfLinks,
        size: (u64::from(bhfi.nFileSizeHigh) << 32) | u64::from(bhfi.nFileSizeLow),
        attributes,
        reparse_tag,
    })
}

/// FSCTL_GET_REPARSE_POINT ([`host::win32::get_reparse_point`]).
fn reparse_of(h: HANDLE) -> Op<Vec<u8>> {
    host::win32::get_reparse_point(h).map_err(Failure::Win32)
}

/// DeviceIoControl with an input buffer ([`host::win32::fsctl_in`]).
fn fsctl_in(h: HANDLE, code: u32, input: &[u8]) -> Op<()> {
    host::win32::fsctl_in(h, code, input).map_err(Failure::Win32)
}

impl Win32Sandbox {
    fn keep(&mut self, h: Owned) -> Handle {
        let n = self.next;
        self.next += 1;
        self.handles.insert(n, h);
        Handle(n)
    }

    fn open_how(&mut self, path: &str, how: OpenHow, creation: u32) -> Op<Handle> {
        let (access, share, flags) = win32_open_args(how);
        let h = self.create(path, access, share, creation, flags)?;
        Ok(self.keep(h))
    }
}

/// SetFileInformationByHandle(FileRenameInfoEx) on `h`: `name` is an NT path, a bare name, or
/// (with `root`) a name relative to that directory handle.
fn set_rename_info(h: HANDLE, root: HANDLE, name: &str, flags: RenameFlags) -> Op<()> {
    let name: Vec<u16> = name.encode_utf16().collect();
    let mut f = 0;
    if flags.replace_if_exists {
        f |= FILE_RENAME_FLAG_REPLACE_IF_EXISTS;
    }
    if flags.posix_semantics {
        f |= FILE_RENAME_FLAG_POSIX_SEMANTICS;
    }
    if flags.ignore_readonly {
        f |= FILE_RENAME_FLAG_IGNORE_READONLY_ATTRIBUTE;
    }
    let header = std::mem::size_of::<FILE_RENAME_INFO>();
    let size = header + name.len() * 2;
    // u64 storage keeps the structure 8-byte aligned.
    let mut storage = vec![0u64; size.div_ceil(8)];
    let info = storage.as_mut_ptr().cast::<FILE_RENAME_INFO>();
    // SAFETY: storage is zeroed, aligned and large enough for the header plus the name
    // (FileName is the trailing array; the name is written from its first element).
    unsafe {
        (*info).Anonymous.Flags = f;
        (*info).RootDirectory = root;
        (*info).FileNameLength = (name.len() * 2) as u32;
        let dst_ptr = std::ptr::addr_of_mut!((*info).FileName).cast::<u16>();
        std::ptr::copy_nonoverlapping(name.as_ptr(), dst_ptr, name.len());
    }
    // SAFETY: info points to `size` valid bytes; h and root are valid handles or root is null.
    ok(unsafe { SetFileInformationByHandle(h, FileRenameInfoEx, info.cast(), size as u32) })
}

/// CreateFileW's access, share mode and flags for an [`OpenHow`].
fn win32_open_args(how: OpenHow) -> (u32, u32, u32) {
    let mut access = 0;
    if how.access.read {
        access |= FILE_GENERIC_READ;
    }
    if how.access.write {
        access |= FILE_GENERIC_WRITE;
    }
    if how.access.delete {
        access |= DELETE;
    }
    let mut share = 0;
    if how.share.read {
        share |= FILE_SHARE_READ;
    }
    if how.share.write {
        share |= FILE_SHARE_WRITE;
    }
    if how.share.delete {
        share |= FILE_SHARE_DELETE;
    }
    let mut flags = FILE_FLAG_BACKUP_SEMANTICS;
    if how.open_reparse_point {
        flags |= FILE_FLAG_OPEN_REPARSE_POINT;
    }
    if how.delete_on_close {
        flags |= FILE_FLAG_DELETE_ON_CLOSE;
    }
    (access, share, flags)
}

impl NtfsTarget for Win32Sandbox {
    fn need(&mut self, feature: Feature) -> Result<(), String> {
        match feature {
            Feature::LegacyDelete => Err(
                "Windows chooses DeleteFileW's semantics itself (POSIX semantics on NTFS since Windows 10 1903); the suite cannot select the legacy ones".into(),
            ),
            _ => Ok(()),
        }
    }

    fn absolute(&self, path: &str) -> String {
        self.plain(path)
    }

    fn create_file(&mut self, path: &str) -> Op<()> {
        self.create(
            path,
            GENERIC_WRITE,
            SHARE_ALL,
            CREATE_NEW,
            FILE_ATTRIBUTE_NORMAL,
        )
        .map(drop)
    }

    fn create_dir(&mut self, path: &str) -> Op<()> {
        let p = self.p(path);
        // SAFETY: NUL-terminated path, default security.
        ok(unsafe { CreateDirectoryW(p.as_ptr(), null()) })
    }

    fn write_file(&mut self, path: &str, data: &[u8]) -> Op<()> {
        let h = self.create(
            path,
            GENERIC_WRITE,
            SHARE_ALL,
            CREATE_ALWAYS,
            FILE_ATTRIBUTE_NORMAL,
        )?;
        let mut done = 0usize;
        while done < data.len() {
            let chunk = &data[done..data.len().min(done + (1 << 20))];
            let mut n = 0u32;
            // SAFETY: chunk valid for its length.
            ok(unsafe { WriteFile(h.0, chunk.as_ptr(), chunk.len() as u32, &mut n, null_mut()) })?;
            done += n as usize;
        }
        Ok(())
    }

    fn read_file(&mut self, path: &str) -> Op<Vec<u8>> {
        let h = self.create(path, GENERIC_READ, SHARE_ALL, OPEN_EXISTING, 0)?;
        read_all(h.0)
    }

    fn hard_link(&mut self, existing: &str, new: &str) -> Op<()> {
        let (e, n) = (self.p(existing), self.p(new));
        // SAFETY: NUL-terminated paths.
        ok(unsafe { CreateHardLinkW(n.as_ptr(), e.as_ptr(), null()) })
    }

    fn link_names(&mut self, path: &str) -> Op<Vec<String>> {
        let p = self.p(path);
        let mut names = Vec::new();
        let mut buf = vec![0u16; 512];
        let mut len = buf.len() as u32;
        // SAFETY: buf is valid for len units; on ERROR_MORE_DATA len is the size needed.
        let mut find = unsafe { FindFirstFileNameW(p.as_ptr(), 0, &mut len, buf.as_mut_ptr()) };
        if find == INVALID_HANDLE_VALUE {
            let e = last();
            if e != Failure::Win32(ERROR_MORE_DATA) {
                return Err(e);
            }
            buf.resize(len as usize + 1, 0);
            len = buf.len() as u32;
            // SAFETY: as above, with the size asked for.
            find = unsafe { FindFirstFileNameW(p.as_ptr(), 0, &mut len, buf.as_mut_ptr()) };
            if find == INVALID_HANDLE_VALUE {
                return Err(last());
            }
        }
        let find = FindGuard(find);
        let prefix: Vec<u16> = self.volume_relative_root().encode_utf16().collect();
        loop {
            let end = buf.iter().position(|&u| u == 0).unwrap_or(buf.len());
            let name = &buf[..end];
            let inside = name.len() > prefix.len()
                && vfs_core::name::eq_ignore_case(&name[..prefix.len()], &prefix);
            if !inside {
                return Err(Failure::Broken(format!(
                    "name {} is outside the sandbox",
                    String::from_utf16_lossy(name)
                )));
            }
            names.push(String::from_utf16_lossy(&name[prefix.len()..]));
            len = buf.len() as u32;
            // SAFETY: buf valid for len units.
            if unsafe { FindNextFileNameW(find.0, &mut len, buf.as_mut_ptr()) } == 0 {
                match last() {
                    Failure::Win32(ERROR_HANDLE_EOF) => return Ok(names),
                    Failure::Win32(ERROR_MORE_DATA) => {
                        buf.resize(len as usize + 1, 0);
                        len = buf.len() as u32;
                        // SAFETY: as above.
                        ok(unsafe { FindNextFileNameW(find.0, &mut len, buf.as_mut_ptr()) })?;
                    }
                    e => return Err(e),
                }
            }
        }
    }

    fn create_special(&mut self, _path: &str, special: SpecialFile) -> Op<()> {
        // FIFOs and device nodes exist on NTFS only as WSL makes them; an AF_UNIX socket file
        // needs Winsock's AF_UNIX bind, which this target does not link.
        Err(Failure::Unsupported(format!(
            "the Win32 target cannot make a {} (WSL or an AF_UNIX bind makes these)",
            special.kind_name()
        )))
    }

    fn create_symlink(&mut self, link: &str, target: &str, directory: bool) -> Op<()> {
        let l = self.p(link);
        let t = wide(target);
        let mut flags = SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE;
        if directory {
            flags |= SYMBOLIC_LINK_FLAG_DIRECTORY;
        }
        // SAFETY: NUL-terminated strings.
        if unsafe { CreateSymbolicLinkW(l.as_ptr(), t.as_ptr(), flags) } {
            return Ok(());
        }
        match last() {
            Failure::Win32(ERROR_PRIVILEGE_NOT_HELD) => Err(Failure::Unsupported(
                "CreateSymbolicLinkW needs Developer Mode or SeCreateSymbolicLinkPrivilege (ERROR_PRIVILEGE_NOT_HELD)".into(),
            )),
            e => Err(e),
        }
    }

    fn create_junction(&mut self, link: &str, target: &str) -> Op<()> {
        let drive = target.chars().next().unwrap_or('C');
        let buf = vfs_core::reparse::junction_for_target(&vfs_core::name::wide(target), drive)
            .map_err(|e| Failure::Broken(e.to_string()))?
            .into_bytes();
        self.create_dir(link)?;
        let r = self
            .open_link(link, FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES)
            .and_then(|h| fsctl_in(h.0, FSCTL_SET_REPARSE_POINT, &buf));
        if r.is_err() {
            let p = self.p(link);
            // SAFETY: NUL-terminated path.
            unsafe { RemoveDirectoryW(p.as_ptr()) };
        }
        r
    }

    fn set_reparse_point(&mut self, path: &str, buffer: &[u8]) -> Op<()> {
        let h = self.open_link(path, FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES)?;
        fsctl_in(h.0, FSCTL_SET_REPARSE_POINT, buffer)
    }

    fn get_reparse_point(&mut self, path: &str) -> Op<Vec<u8>> {
        let h = self.open_link(path, FILE_READ_ATTRIBUTES)?;
        reparse_of(h.0)
    }

    fn delete_reparse_point(&mut self, path: &str, header: &[u8]) -> Op<()> {
        let h = self.open_link(path, FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES)?;
        fsctl_in(h.0, FSCTL_DELETE_REPARSE_POINT, header)
    }

    fn set_attributes(&mut self, path: &str, attributes: u32) -> Op<()> {
        let p = self.p(path);
        // SAFETY: NUL-terminated path.
        ok(unsafe { SetFileAttributesW(p.as_ptr(), attributes) })
    }

    fn open(&mut self, path: &str, how: OpenHow) -> Op<Handle> {
        self.open_how(path, how, OPEN_EXISTING)
    }

    fn open_disposition(
        &mut self,
        path: &str,
        how: OpenHow,
        disposition: Disposition,
    ) -> Op<Handle> {
        // CreateFileW's creation dispositions are NtCreateFile's (CREATE_ALWAYS is
        // FILE_OVERWRITE_IF, TRUNCATE_EXISTING FILE_OVERWRITE); Win32 has no FILE_SUPERSEDE.
        let creation = match disposition {
            Disposition::Open => OPEN_EXISTING,
            Disposition::Create => CREATE_NEW,
            Disposition::OpenIf => OPEN_ALWAYS,
            Disposition::Overwrite => TRUNCATE_EXISTING,
            Disposition::OverwriteIf => CREATE_ALWAYS,
            Disposition::Supersede => {
                return Err(Failure::Unsupported(
                    "Win32 has no FILE_SUPERSEDE (CreateFileW)".into(),
                ))
            }
        };
        self.open_how(path, how, creation)
    }

    fn write_handle(&mut self, h: Handle, data: &[u8]) -> Op<()> {
        let h = self.handle(h)?;
        // SAFETY: valid handle; null out pointer allowed.
        ok(unsafe { SetFilePointerEx(h, 0, null_mut(), FILE_BEGIN) })?;
        let mut written = 0u32;
        let len =
            u32::try_from(data.len()).map_err(|_| Failure::Broken("write too large".into()))?;
        // SAFETY: data is valid for len bytes; written is a valid out pointer; no OVERLAPPED.
        ok(unsafe { WriteFile(h, data.as_ptr(), len, &mut written, null_mut()) })?;
        if written as usize != data.len() {
            return Err(Failure::Broken(format!("short write: {written} of {len}")));
        }
        Ok(())
    }

    fn open_by_id(&mut self, file_id: u64, how: OpenHow) -> Op<Handle> {
        // OpenFileById needs a handle on any file of the volume as a hint: the sandbox root.
        let hint = self.open_link("", FILE_READ_ATTRIBUTES)?;
        let id = FILE_ID_DESCRIPTOR {
            dwSize: std::mem::size_of::<FILE_ID_DESCRIPTOR>() as u32,
            Type: FileIdType,
            Anonymous: FILE_ID_DESCRIPTOR_0 {
                FileId: file_id as i64,
            },
        };
        let (access, share, flags) = win32_open_args(how);
        // SAFETY: hint is a valid handle, id a valid descriptor; null security attributes.
        let h = unsafe { OpenFileById(hint.0, &id, access, share, null(), flags) };
        if h == INVALID_HANDLE_VALUE {
            return Err(last());
        }
        Ok(self.keep(Owned(h)))
    }

    fn rename_handle(&mut self, h: Handle, new: NewName<'_>, flags: RenameFlags) -> Op<()> {
        let h = self.handle(h)?;
        let (root, name): (HANDLE, String) = match new {
            NewName::Path(p) => (null_mut(), format!(r"\??\{}", self.plain(p))),
            NewName::Bare(n) => (null_mut(), n.to_string()),
            NewName::Relative(r, n) => (self.handle(r)?, n.to_string()),
        };
        set_rename_info(h, root, &name, flags)
    }

    fn set_disposition_on_close(&mut self, h: Handle, delete: bool) -> Op<()> {
        let h = self.handle(h)?;
        let mut f = FILE_DISPOSITION_FLAG_ON_CLOSE;
        if delete {
            f |= FILE_DISPOSITION_FLAG_DELETE;
        }
        let info = FILE_DISPOSITION_INFO_EX { Flags: f };
        // SAFETY: info is a valid FILE_DISPOSITION_INFO_EX of the size given.
        ok(unsafe {
            SetFileInformationByHandle(
                h,
                FileDispositionInfoEx,
                (&info as *const FILE_DISPOSITION_INFO_EX).cast(),
                std::mem::size_of::<FILE_DISPOSITION_INFO_EX>() as u32,
            )
        })
    }

    fn standard_info(&mut self, h: Handle) -> Op<StandardInfo> {
        let h = self.handle(h)?;
        let mut info = FILE_STANDARD_INFO::default();
        // SAFETY: info is a writable FILE_STANDARD_INFO of the size given.
        ok(unsafe {
            GetFileInformationByHandleEx(
                h,
                FileStandardInfo,
                (&mut info as *mut FILE_STANDARD_INFO).cast(),
                std::mem::size_of::<FILE_STANDARD_INFO>() as u32,
            )
        })?;
        Ok(StandardInfo {
            links: info.NumberOfLinks,
            delete_pending: info.DeletePending,
        })
    }

    fn read_handle(&mut self, h: Handle) -> Op<Vec<u8>> {
        let h = self.handle(h)?;
        // SAFETY: valid handle; null out pointer allowed.
        ok(unsafe { SetFilePointerEx(h, 0, null_mut(), FILE_BEGIN) })?;
        read_all(h)
    }

    fn stat_handle(&mut self, h: Handle) -> Op<Info> {
        info_of(self.handle(h)?)
    }

    fn set_disposition(&mut self, h: Handle, flags: DispositionFlags) -> Op<()> {
        let h = self.handle(h)?;
        let mut f = 0;
        if flags.delete {
            f |= FILE_DISPOSITION_FLAG_DELETE;
        }
        if flags.posix_semantics {
            f |= FILE_DISPOSITION_FLAG_POSIX_SEMANTICS;
        }
        if flags.ignore_readonly {
            f |= FILE_DISPOSITION_FLAG_IGNORE_READONLY_ATTRIBUTE;
        }
        let info = FILE_DISPOSITION_INFO_EX { Flags: f };
        // SAFETY: info is a valid FILE_DISPOSITION_INFO_EX of the size given.
        ok(unsafe {
            SetFileInformationByHandle(
                h,
                FileDispositionInfoEx,
                (&info as *const FILE_DISPOSITION_INFO_EX).cast(),
                std::mem::size_of::<FILE_DISPOSITION_INFO_EX>() as u32,
            )
        })
    }

    fn close(&mut self, h: Handle) -> Op<()> {
        match self.handles.remove(&h.0) {
            Some(o) => {
                let raw = o.0;
                std::mem::forget(o);
                // SAFETY: the handle is ours and closed once.
                ok(unsafe { CloseHandle(raw) })
            }
            None => Err(Failure::Win32(6)),
        }
    }

    fn delete(&mut self, path: &str, kind: DeleteKind) -> Op<()> {
        let p = self.p(path);
        // SAFETY: NUL-terminated path.
        ok(unsafe {
            match kind {
                DeleteKind::File => DeleteFileW(p.as_ptr()),
                DeleteKind::Directory => RemoveDirectoryW(p.as_ptr()),
            }
        })
    }

    fn rename(&mut self, src: &str, dst: &str, flags: RenameFlags) -> Op<()> {
        if !flags.posix_semantics && !flags.ignore_readonly {
            let (s, d) = (self.p(src), self.p(dst));
            let f = if flags.replace_if_exists {
                MOVEFILE_REPLACE_EXISTING
            } else {
                0
            };
            // SAFETY: NUL-terminated paths.
            return ok(unsafe { MoveFileExW(s.as_ptr(), d.as_ptr(), f) });
        }
        // FILE_RENAME_INFORMATION_EX through SetFileInformationByHandle(FileRenameInfoEx):
        // the new name as an NT path.
        let h = self.open_link(src, DELETE | FILE_READ_ATTRIBUTES)?;
        set_rename_info(h.0, null_mut(), &format!(r"\??\{}", self.plain(dst)), flags)
    }

    fn list_dir(&mut self, path: &str) -> Op<Vec<String>> {
        let p = wide(&format!(r"\\?\{}\*", self.plain(path)));
        let mut data = WIN32_FIND_DATAW::default();
        // SAFETY: NUL-terminated pattern, valid out structure.
        let find = unsafe { FindFirstFileW(p.as_ptr(), &mut data) };
        if find == INVALID_HANDLE_VALUE {
            return Err(last());
        }
        let find = FindGuard(find);
        let mut names = Vec::new();
        loop {
            let end = data.cFileName.iter().position(|&u| u == 0).unwrap_or(260);
            let name = String::from_utf16_lossy(&data.cFileName[..end]);
            if name != "." && name != ".." {
                names.push(name);
            }
            // SAFETY: valid find handle and out structure.
            if unsafe { FindNextFileW(find.0, &mut data) } == 0 {
                return match last() {
                    Failure::Win32(ERROR_NO_MORE_FILES) => Ok(names),
                    e => Err(e),
                };
            }
        }
    }

    fn stat(&mut self, path: &str, follow: bool) -> Op<Info> {
        let mut flags = FILE_FLAG_BACKUP_SEMANTICS;
        if !follow {
            flags |= FILE_FLAG_OPEN_REPARSE_POINT;
        }
        let h = self.create(path, FILE_READ_ATTRIBUTES, SHARE_ALL, OPEN_EXISTING, flags)?;
        info_of(h.0)
    }

    fn set_case_sensitive(&mut self, dir: &str, on: bool) -> Op<()> {
        let h = self.create(
            dir,
            FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES,
            SHARE_ALL,
            OPEN_EXISTING,
            FILE_FLAG_BACKUP_SEMANTICS,
        )?;
        let info = FILE_CASE_SENSITIVE_INFO {
            Flags: if on {
                FILE_CS_FLAG_CASE_SENSITIVE_DIR
            } else {
                0
            },
        };
        // SAFETY: info is a valid FILE_CASE_SENSITIVE_INFO of the size given.
        ok(unsafe {
            SetFileInformationByHandle(
                h.0,
                FileCaseSensitiveInfo,
                (&info as *const FILE_CASE_SENSITIVE_INFO).cast(),
                std::mem::size_of::<FILE_CASE_SENSITIVE_INFO>() as u32,
            )
        })
    }
}

/// A FindFirstFile* handle closed on drop.
struct FindGuard(HANDLE);

impl Drop for FindGuard {
    fn drop(&mut self) {
        // SAFETY: a find handle, closed once.
        unsafe { FindClose(self.0) };
    }
}
