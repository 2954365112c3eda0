//! The client side of the control channel, for `ntlinkfs link` on Windows: sends one request
//! to a drive-letter mount with DeviceIoControl on a handle to its root directory.
//! Untested on Windows in this repository's own CI (see README-windows.md).

use crate::control::{self, Reply, Request, MAX_MESSAGE};
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use windows::Win32::Foundation::HANDLE;
use windows::Win32::System::IO::DeviceIoControl;

/// FILE_FLAG_BACKUP_SEMANTICS: needed to open a directory.
const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
/// FILE_READ_ATTRIBUTES: enough for a FILE_ANY_ACCESS control code.
const FILE_READ_ATTRIBUTES: u32 = 0x0080;

/// Sends `request` to the ntlinkfs mount on `drive` and decodes the reply.
pub fn send(drive: char, request: &Request) -> Result<Reply, String> {
    let (code, input) = control::encode_request(request).map_err(|e| e.to_string())?;
    let root = format!("{drive}:\\");
    let dir = std::fs::OpenOptions::new()
        .access_mode(FILE_READ_ATTRIBUTES)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(&root)
        .map_err(|e| format!("{root}: {e}"))?;
    let mut output = vec![0u8; MAX_MESSAGE];
    let mut returned = 0u32;
    // SAFETY: both buffers live across the call and their lengths are the ones passed; the
    // handle stays open until `dir` drops.
    unsafe {
        DeviceIoControl(
            HANDLE(dir.as_raw_handle()),
            code,
            Some(input.as_ptr().cast()),
            input.len() as u32,
            Some(output.as_mut_ptr().cast()),
            output.len() as u32,
            Some(&mut returned),
            None,
        )
    }
    .map_err(|e| {
        format!("{root}: the control request failed: {e} (is {drive}: an ntlinkfs WinFsp mount?)")
    })?;
    output.truncate(returned as usize);
    control::decode_reply(code, &output).map_err(|e| format!("{root}: bad reply: {e}"))
}
