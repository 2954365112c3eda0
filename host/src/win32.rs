//! The DeviceIoControl calls the Windows tools share (the `win32:DIR` conformance target and
//! the Windows side of `ntlinkfs mklink`/`fsutil`): FSCTL_GET_REPARSE_POINT into a buffer of
//! the largest size a reparse point can have, and a control code with an input buffer and no
//! output (FSCTL_SET_REPARSE_POINT, FSCTL_DELETE_REPARSE_POINT). Errors are the `GetLastError`
//! code; each caller words it its own way (a conformance `Failure::Win32`, a command's
//! NTSTATUS-style message).
//!
//! Untested on Windows: written against windows-sys 0.61's declarations; it type-checks and
//! passes clippy for the Windows targets `scripts/windows-cross.sh` builds.

use std::ptr::{null, null_mut};
use windows_sys::Win32::Foundation::{GetLastError, HANDLE};
use windows_sys::Win32::System::Ioctl::FSCTL_GET_REPARSE_POINT;
use windows_sys::Win32::System::IO::DeviceIoControl;

/// A Win32 error code (`GetLastError`).
pub type Win32Error = u32;

fn last_error() -> Win32Error {
    // SAFETY: no preconditions.
    unsafe { GetLastError() }
}

/// FSCTL_GET_REPARSE_POINT on an open handle (opened with FILE_FLAG_OPEN_REPARSE_POINT): the
/// reparse buffer as the file system returns it. The output buffer is
/// MAXIMUM_REPARSE_DATA_BUFFER_SIZE (16 KiB, [`vfs_core::reparse::MAX_REPARSE_DATA_SIZE`]), so
/// ERROR_MORE_DATA cannot happen.
// A HANDLE is an opaque kernel handle that nothing in user mode dereferences: DeviceIoControl
// checks it in the kernel (ERROR_INVALID_HANDLE), so passing any value is memory-safe.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn get_reparse_point(h: HANDLE) -> Result<Vec<u8>, Win32Error> {
    let mut buf = vec![0u8; vfs_core::reparse::MAX_REPARSE_DATA_SIZE];
    let mut n = 0u32;
    // SAFETY: the output buffer is valid for its length; no input; synchronous (no
    // OVERLAPPED), so nothing outlives the call.
    let ok = unsafe {
        DeviceIoControl(
            h,
            FSCTL_GET_REPARSE_POINT,
            null(),
            0,
            buf.as_mut_ptr().cast(),
            buf.len() as u32,
            &mut n,
            null_mut(),
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// DeviceIoControl with control code `code`, `input` as the input buffer and no output: how
/// FSCTL_SET_REPARSE_POINT and FSCTL_DELETE_REPARSE_POINT are called.
// A HANDLE is an opaque kernel handle that nothing in user mode dereferences: DeviceIoControl
// checks it in the kernel (ERROR_INVALID_HANDLE), so passing any value is memory-safe.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn fsctl_in(h: HANDLE, code: u32, input: &[u8]) -> Result<(), Win32Error> {
    let len = u32::try_from(input.len())
        .map_err(|_| windows_sys::Win32::Foundation::ERROR_INVALID_PARAMETER)?;
    let mut n = 0u32;
    // SAFETY: the input buffer is valid for its length; no output; synchronous.
    let ok = unsafe {
        DeviceIoControl(
            h,
            code,
            input.as_ptr().cast(),
            len,
            null_mut(),
            0,
            &mut n,
            null_mut(),
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    Ok(())
}
