//! NTSTATUS values: the engine's errors (one table, `vfs_core::error::TABLE`) plus the few
//! success, warning and error codes WinFsp's protocol needs that are not engine outcomes.
//!
//! Values from MS-ERREF 2.3.1 (NTSTATUS values).

use vfs_core::Error;

/// An NTSTATUS as WinFsp exchanges it (its bit pattern; WinFsp's C type is a signed 32-bit
/// integer, see [`NtStatus::as_i32`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NtStatus(pub u32);

/// STATUS_SUCCESS.
pub const STATUS_SUCCESS: NtStatus = NtStatus(0x0000_0000);
/// STATUS_REPARSE: the I/O manager must reparse (WinFsp returns it for reparse points found
/// while resolving a path).
pub const STATUS_REPARSE: NtStatus = NtStatus(0x0000_0104);
/// STATUS_BUFFER_OVERFLOW (a warning: part of the data was returned).
pub const STATUS_BUFFER_OVERFLOW: NtStatus = NtStatus(0x8000_0005);
/// STATUS_NO_MORE_FILES.
pub const STATUS_NO_MORE_FILES: NtStatus = NtStatus(0x8000_0006);
/// STATUS_INVALID_DEVICE_REQUEST: what WinFsp answers for an operation the file system does not
/// implement.
pub const STATUS_INVALID_DEVICE_REQUEST: NtStatus = NtStatus(0xC000_0010);
/// STATUS_END_OF_FILE: a read at or past end of file.
pub const STATUS_END_OF_FILE: NtStatus = NtStatus(0xC000_0011);
/// STATUS_INVALID_PARAMETER.
pub const STATUS_INVALID_PARAMETER: NtStatus = NtStatus(0xC000_000D);
/// STATUS_BUFFER_TOO_SMALL: nothing fits in the caller's buffer.
pub const STATUS_BUFFER_TOO_SMALL: NtStatus = NtStatus(0xC000_0023);
/// STATUS_OBJECT_NAME_INVALID.
pub const STATUS_OBJECT_NAME_INVALID: NtStatus = NtStatus(0xC000_0033);
/// STATUS_OBJECT_NAME_NOT_FOUND.
pub const STATUS_OBJECT_NAME_NOT_FOUND: NtStatus = NtStatus(0xC000_0034);
/// STATUS_OBJECT_PATH_NOT_FOUND.
pub const STATUS_OBJECT_PATH_NOT_FOUND: NtStatus = NtStatus(0xC000_003A);
/// STATUS_EAS_NOT_SUPPORTED: extended attributes were sent with a create.
pub const STATUS_EAS_NOT_SUPPORTED: NtStatus = NtStatus(0xC000_004F);
/// STATUS_NOT_SUPPORTED: what WinFsp's driver answers for FileLinkInformation and
/// FileHardLinkInformation (`src/sys/fileinfo.c`).
pub const STATUS_NOT_SUPPORTED: NtStatus = NtStatus(0xC000_00BB);
/// STATUS_NOT_A_REPARSE_POINT.
pub const STATUS_NOT_A_REPARSE_POINT: NtStatus = NtStatus(0xC000_0275);

impl NtStatus {
    /// The value as WinFsp's `NTSTATUS` (a C `LONG`).
    pub fn as_i32(self) -> i32 {
        self.0 as i32
    }
    /// NT_SUCCESS: success and informational codes (severity 0 or 1).
    pub fn is_success(self) -> bool {
        self.as_i32() >= 0
    }
}

impl From<Error> for NtStatus {
    /// The engine already knows each error's NTSTATUS (docs/NTFS-RULES.md error list); WinFsp
    /// needs no different code for any of them.
    fn from(e: Error) -> NtStatus {
        NtStatus(e.ntstatus())
    }
}

impl std::fmt::Display for NtStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NTSTATUS {:#010x}", self.0)
    }
}

/// The result type of the portable layer: what a WinFsp callback returns.
pub type FsResult<T> = Result<T, NtStatus>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every engine error becomes exactly the NTSTATUS of the engine's one table, and each is
    /// an error (severity 3), so WinFsp fails the request; the one exception is
    /// STATUS_NO_MORE_FILES, a warning (severity 2, MS-ERREF 2.3), which still is no success.
    #[test]
    fn engine_errors_map_to_their_table_ntstatus_with_error_severity() {
        for (err, code, _, _) in vfs_core::error::TABLE {
            let st = NtStatus::from(*err);
            assert_eq!(st.0, *code, "{err:?}");
            assert!(!st.is_success(), "{err:?}");
            let severity = if *err == Error::NoMoreFiles { 2 } else { 3 };
            assert_eq!(st.0 >> 30, severity, "{err:?}");
        }
    }

    /// MS-ERREF 2.3.1 values of the WinFsp-specific codes; STATUS_REPARSE is a success code
    /// (the I/O manager reparses), STATUS_BUFFER_OVERFLOW a warning.
    #[test]
    fn winfsp_specific_codes_have_ms_erref_values_and_severities() {
        assert_eq!(STATUS_SUCCESS.0, 0);
        assert!(STATUS_REPARSE.is_success());
        assert_eq!(STATUS_REPARSE.0, 0x104);
        assert!(!STATUS_BUFFER_OVERFLOW.is_success());
        assert_eq!(STATUS_BUFFER_OVERFLOW.0 >> 30, 2);
        assert_eq!(STATUS_NOT_SUPPORTED.0, 0xC000_00BB);
        assert_eq!(STATUS_NOT_SUPPORTED, NtStatus::from(Error::NotSupported));
        assert_eq!(STATUS_END_OF_FILE.as_i32(), 0xC000_0011u32 as i32);
        assert_eq!(
            STATUS_OBJECT_NAME_NOT_FOUND,
            NtStatus::from(Error::ObjectNameNotFound)
        );
    }
}
