//! The Windows side of the Windows-style commands: Win32 on any NTFS volume.
//!
//! CreateSymbolicLinkW, CreateHardLinkW, DeviceIoControl with FSCTL_SET_REPARSE_POINT /
//! FSCTL_GET_REPARSE_POINT / FSCTL_DELETE_REPARSE_POINT, FindFirstFileNameW,
//! GetFileAttributesW / SetFileAttributesW, GetFileInformationByHandle(Ex).
//!
//! Untested on Windows: written against windows-sys 0.61's declarations and never compiled
//! or run in this repository: it type-checks and passes clippy for x86_64-pc-windows-gnu.
//! `attrib` without /L follows a link to its target through GetFinalPathNameByHandleW on a
//! handle opened through the link.

use super::{Flavor, Ident, Vol};
use crate::wincmd_status::{self as st, CmdError};
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};
use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, ERROR_MORE_DATA, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateDirectoryW, CreateFileW, CreateHardLinkW, CreateSymbolicLinkW, DeleteFileW,
    FileStandardInfo, FindClose, FindFirstFileNameW, FindNextFileNameW, GetFileAttributesW,
    GetFileInformationByHandle, GetFileInformationByHandleEx, GetFinalPathNameByHandleW,
    GetFullPathNameW, GetVolumePathNameW, RemoveDirectoryW, SetFileAttributesW,
    BY_HANDLE_FILE_INFORMATION, CREATE_NEW, FILE_FLAG_BACKUP_SEMANTICS,
    FILE_FLAG_OPEN_REPARSE_POINT, FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_NAME_NORMALIZED,
    FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_STANDARD_INFO,
    INVALID_FILE_ATTRIBUTES, OPEN_EXISTING, SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE,
    SYMBOLIC_LINK_FLAG_DIRECTORY,
};
use windows_sys::Win32::System::Ioctl::{FSCTL_DELETE_REPARSE_POINT, FSCTL_SET_REPARSE_POINT};

const SHARE_ALL: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

fn wide(p: &Path) -> Vec<u16> {
    p.as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect()
}

fn fail(path: &Path) -> CmdError {
    // SAFETY: no preconditions.
    fail_with(path, unsafe { GetLastError() })
}

/// The command error for Win32 error `code` on `path`.
fn fail_with(path: &Path, code: u32) -> CmdError {
    CmdError::Ntfs {
        path: path.display().to_string(),
        status: st::from_win32(code).unwrap_or(st::IO_DEVICE_ERROR),
        detail: Some(format!("Win32 error {code}")),
    }
}

struct Handle(HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from CreateFileW and is closed once.
        unsafe { CloseHandle(self.0) };
    }
}

/// Opens `path` itself (never a link's target) for `access`.
fn open(path: &Path, access: u32) -> Result<Handle, CmdError> {
    let w = wide(path);
    // SAFETY: `w` is NUL-terminated; the other arguments are plain values.
    let h = unsafe {
        CreateFileW(
            w.as_ptr(),
            access,
            SHARE_ALL,
            null(),
            OPEN_EXISTING,
            FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
            null_mut(),
        )
    };
    if h == INVALID_HANDLE_VALUE {
        return Err(fail(path));
    }
    Ok(Handle(h))
}

/// Paths go to Win32 as typed (it takes `\`, `/` and drive letters itself).
pub fn host_path(arg: &str, _base: Option<&Vol>, _drive: char) -> Result<PathBuf, CmdError> {
    Ok(PathBuf::from(arg))
}

/// GetFullPathNameW.
pub fn full_path(target: &str) -> Result<String, CmdError> {
    let w = wide(Path::new(target));
    let mut buf = vec![0u16; 32768];
    // SAFETY: buffers valid for the lengths given.
    let n = unsafe { GetFullPathNameW(w.as_ptr(), buf.len() as u32, buf.as_mut_ptr(), null_mut()) };
    if n == 0 || n as usize >= buf.len() {
        return Err(fail(Path::new(target)));
    }
    Ok(String::from_utf16_lossy(&buf[..n as usize]))
}

/// The volume holding `path`: GetVolumePathNameW.
pub fn volume_of(path: &Path) -> Result<Vol, CmdError> {
    let w = wide(path);
    let mut buf = vec![0u16; 32768];
    // SAFETY: buffers valid for the lengths given.
    if unsafe { GetVolumePathNameW(w.as_ptr(), buf.as_mut_ptr(), buf.len() as u32) } == 0 {
        return Err(fail(path));
    }
    let end = buf.iter().position(|&u| u == 0).unwrap_or(buf.len());
    Ok(Vol {
        root: PathBuf::from(std::ffi::OsString::from_wide(&buf[..end])),
        flavor: Flavor::Win32,
    })
}

/// FSCTL_GET_REPARSE_POINT ([`host::win32::get_reparse_point`]).
pub fn read_reparse(_vol: &Vol, path: &Path) -> Result<Vec<u8>, CmdError> {
    let h = open(path, FILE_READ_ATTRIBUTES)?;
    host::win32::get_reparse_point(h.0).map_err(|code| fail_with(path, code))
}

/// DeviceIoControl with an input buffer on the file itself ([`host::win32::fsctl_in`]).
fn fsctl(path: &Path, code: u32, input: &[u8]) -> Result<(), CmdError> {
    let h = open(path, FILE_GENERIC_READ | FILE_GENERIC_WRITE)?;
    host::win32::fsctl_in(h.0, code, input).map_err(|e| fail_with(path, e))
}

/// FSCTL_SET_REPARSE_POINT.
pub fn write_reparse(_vol: &Vol, path: &Path, buffer: &[u8]) -> Result<(), CmdError> {
    fsctl(path, FSCTL_SET_REPARSE_POINT, buffer)
}

/// FSCTL_DELETE_REPARSE_POINT, naming the tag (and GUID) the file carries: the input is the
/// buffer's header with ReparseDataLength 0 ([MS-FSCC] 2.3.5/2.3.6).
pub fn delete_reparse(vol: &Vol, path: &Path) -> Result<(), CmdError> {
    let current = read_reparse(vol, path)?;
    let parsed = vfs_core::reparse::ReparseBuffer::parse(&current)
        .map_err(|_| CmdError::ntfs(path, st::REPARSE_DATA_INVALID))?;
    let mut header = Vec::with_capacity(24);
    header.extend_from_slice(&parsed.tag().to_le_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    if let Some(guid) = parsed.guid() {
        header.extend_from_slice(&guid);
    }
    fsctl(path, FSCTL_DELETE_REPARSE_POINT, &header)
}

/// The file a link leads to: GetFinalPathNameByHandleW on a handle opened through it.
fn final_path(path: &Path) -> Result<PathBuf, CmdError> {
    let w = wide(path);
    // SAFETY: `w` is NUL-terminated; the other arguments are plain values.
    let h = unsafe {
        CreateFileW(
            w.as_ptr(),
            FILE_READ_ATTRIBUTES,
            SHARE_ALL,
            null(),
            OPEN_EXISTING,
            FILE_FLAG_BACKUP_SEMANTICS,
            null_mut(),
        )
    };
    if h == INVALID_HANDLE_VALUE {
        return Err(fail(path));
    }
    let h = Handle(h);
    let mut buf = vec![0u16; 32768];
    // SAFETY: the buffer is valid for its length.
    let n = unsafe {
        GetFinalPathNameByHandleW(
            h.0,
            buf.as_mut_ptr(),
            buf.len() as u32,
            FILE_NAME_NORMALIZED,
        )
    };
    if n == 0 || n as usize >= buf.len() {
        return Err(fail(path));
    }
    Ok(PathBuf::from(std::ffi::OsString::from_wide(
        &buf[..n as usize],
    )))
}

/// GetFileAttributesW, of a link's target when `follow`.
pub fn get_attributes(_vol: &Vol, path: &Path, follow: bool) -> Result<u32, CmdError> {
    let target;
    let path = if follow {
        target = final_path(path)?;
        target.as_path()
    } else {
        path
    };
    let w = wide(path);
    // SAFETY: `w` is NUL-terminated.
    let a = unsafe { GetFileAttributesW(w.as_ptr()) };
    if a == INVALID_FILE_ATTRIBUTES {
        return Err(fail(path));
    }
    Ok(a)
}

/// SetFileAttributesW, on a link's target when `follow`.
pub fn set_attributes(_vol: &Vol, path: &Path, follow: bool, a: u32) -> Result<(), CmdError> {
    let target;
    let path = if follow {
        target = final_path(path)?;
        target.as_path()
    } else {
        path
    };
    let w = wide(path);
    // SAFETY: `w` is NUL-terminated.
    if unsafe { SetFileAttributesW(w.as_ptr(), a) } == 0 {
        return Err(fail(path));
    }
    Ok(())
}

/// CreateDirectoryW, or CreateFileW with CREATE_NEW.
pub fn create_empty(path: &Path, dir: bool) -> Result<(), CmdError> {
    let w = wide(path);
    if dir {
        // SAFETY: `w` is NUL-terminated.
        if unsafe { CreateDirectoryW(w.as_ptr(), null()) } == 0 {
            return Err(fail(path));
        }
        return Ok(());
    }
    // SAFETY: as in `open`.
    let h = unsafe {
        CreateFileW(
            w.as_ptr(),
            FILE_GENERIC_WRITE,
            SHARE_ALL,
            null(),
            CREATE_NEW,
            0,
            null_mut(),
        )
    };
    if h == INVALID_HANDLE_VALUE {
        return Err(fail(path));
    }
    drop(Handle(h));
    Ok(())
}

/// Removes what [`create_empty`] made.
pub fn remove_empty(path: &Path, dir: bool) {
    let w = wide(path);
    // SAFETY: `w` is NUL-terminated.
    unsafe {
        if dir {
            RemoveDirectoryW(w.as_ptr());
        } else {
            DeleteFileW(w.as_ptr());
        }
    }
}

/// CreateHardLinkW(new, existing).
pub fn hard_link(existing: &Path, new: &Path) -> Result<(), CmdError> {
    let (e, n) = (wide(existing), wide(new));
    // SAFETY: both NUL-terminated.
    if unsafe { CreateHardLinkW(n.as_ptr(), e.as_ptr(), null()) } == 0 {
        return Err(fail(new));
    }
    Ok(())
}

/// CreateSymbolicLinkW (unprivileged creation allowed where Developer Mode is on).
pub fn win_symlink(link: &Path, target: &str, dir: bool) -> Result<(), CmdError> {
    let (l, t) = (wide(link), wide(Path::new(target)));
    let mut flags = SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE;
    if dir {
        flags |= SYMBOLIC_LINK_FLAG_DIRECTORY;
    }
    // SAFETY: both NUL-terminated.
    if unsafe { CreateSymbolicLinkW(l.as_ptr(), t.as_ptr(), flags) } {
        Ok(())
    } else {
        Err(fail(link))
    }
}

/// FindFirstFileNameW / FindNextFileNameW: every name, volume-relative.
pub fn names(_vol: &Vol, path: &Path) -> Result<Vec<String>, CmdError> {
    let w = wide(path);
    let mut buf = vec![0u16; 32768];
    let mut len = buf.len() as u32;
    // SAFETY: buf is valid for len units.
    let find = unsafe { FindFirstFileNameW(w.as_ptr(), 0, &mut len, buf.as_mut_ptr()) };
    if find == INVALID_HANDLE_VALUE {
        return Err(fail(path));
    }
    let mut out = Vec::new();
    loop {
        let end = buf.iter().position(|&u| u == 0).unwrap_or(buf.len());
        out.push(String::from_utf16_lossy(&buf[..end]));
        len = buf.len() as u32;
        // SAFETY: as above.
        if unsafe { FindNextFileNameW(find, &mut len, buf.as_mut_ptr()) } == 0 {
            // SAFETY: no preconditions.
            let e = unsafe { GetLastError() };
            if e == ERROR_MORE_DATA {
                continue;
            }
            break;
        }
    }
    // SAFETY: `find` came from FindFirstFileNameW.
    unsafe { FindClose(find) };
    Ok(out)
}

/// Volume serial and file index, link count, allocation size.
pub fn identify(_vol: &Vol, path: &Path, md: &std::fs::Metadata) -> Ident {
    let fallback = Ident {
        key: (0, 0),
        nlink: 1,
        allocated: md.len(),
    };
    let Ok(h) = open(path, FILE_READ_ATTRIBUTES) else {
        return fallback;
    };
    // SAFETY: plain C structs, zero is a valid bit pattern.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is valid for writes.
    if unsafe { GetFileInformationByHandle(h.0, &mut info) } == 0 {
        return fallback;
    }
    // SAFETY: as above.
    let mut std_info: FILE_STANDARD_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer is a FILE_STANDARD_INFO of the size given.
    let got = unsafe {
        GetFileInformationByHandleEx(
            h.0,
            FileStandardInfo,
            (&mut std_info as *mut FILE_STANDARD_INFO).cast(),
            std::mem::size_of::<FILE_STANDARD_INFO>() as u32,
        )
    };
    Ident {
        key: (
            u64::from(info.dwVolumeSerialNumber),
            (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
        ),
        nlink: u64::from(info.nNumberOfLinks),
        allocated: if got != 0 {
            u64::try_from(std_info.AllocationSize).unwrap_or(0)
        } else {
            md.len()
        },
    }
}
