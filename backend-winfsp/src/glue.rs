//! The Windows glue: winfsp 0.13's `FileSystemContext` over [`WinFs`], and [`mount`].
//!
//! Each method converts WinFsp's arguments, calls the portable layer and copies the result
//! back; nothing here decides anything. Untested on Windows in this repository's own CI (see
//! README-windows.md).

use crate::fs::{FsOptions, OpenFile, WinFs};
use crate::info::FileInfo;
use crate::status::{
    FsResult, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_EAS_NOT_SUPPORTED,
};
use std::ffi::c_void;
use std::sync::Arc;
use vfs_core::Volume;
use winfsp::filesystem::{
    DirInfo, DirMarker, FileInfo as FspFileInfo, FileSecurity, FileSystemContext,
    ModificationDescriptor, OpenFileInfo, VolumeInfo, WideNameInfo,
};
use winfsp::host::{FileSystemHost, VolumeParams};
use winfsp::{FspError, U16CStr};

type R<T> = winfsp::Result<T>;

fn r<T>(x: FsResult<T>) -> R<T> {
    x.map_err(|s| FspError::NTSTATUS(s.as_i32()))
}

fn fill(dst: &mut FspFileInfo, src: &FileInfo) {
    dst.file_attributes = src.file_attributes;
    dst.reparse_tag = src.reparse_tag;
    dst.allocation_size = src.allocation_size;
    dst.file_size = src.file_size;
    dst.creation_time = src.creation_time;
    dst.last_access_time = src.last_access_time;
    dst.last_write_time = src.last_write_time;
    dst.change_time = src.change_time;
    dst.index_number = src.index_number;
    dst.hard_links = src.hard_links;
    dst.ea_size = src.ea_size;
}

/// Copies `data` into a WinFsp output buffer; too small → STATUS_BUFFER_TOO_SMALL.
fn copy_out(buffer: &mut [u8], data: &[u8]) -> R<u64> {
    let dst = buffer.get_mut(..data.len());
    let dst = r(dst.ok_or(STATUS_BUFFER_TOO_SMALL))?;
    dst.copy_from_slice(data);
    Ok(data.len() as u64)
}

/// Copies a security descriptor into WinFsp's untyped buffer (`[c_void]` of byte length).
fn copy_sd(buffer: &mut [c_void], sd: &[u8]) -> bool {
    if buffer.len() < sd.len() {
        return false;
    }
    // SAFETY: `buffer` is valid for `buffer.len()` bytes (c_void has size 1), which is at least
    // `sd.len()`, and the two do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(sd.as_ptr(), buffer.as_mut_ptr().cast::<u8>(), sd.len())
    };
    true
}

/// Applies a SetSecurity request to `current` with WinFsp's helper and returns the new
/// self-relative descriptor.
fn merge_security(
    current: &[u8],
    information: u32,
    modification: &ModificationDescriptor,
) -> R<Vec<u8>> {
    use windows::Win32::Security::{GetSecurityDescriptorLength, PSECURITY_DESCRIPTOR};
    use winfsp_sys::{FspDeleteSecurityDescriptor, FspSetSecurityDescriptor};
    let mut input = current.to_vec();
    let mut out: winfsp_sys::PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: `input` is a self-relative descriptor WinFsp only reads; `out` receives a
    // descriptor allocated by WinFsp, measured, copied and freed with the matching function.
    unsafe {
        let status = FspSetSecurityDescriptor(
            input.as_mut_ptr().cast(),
            information as winfsp_sys::SECURITY_INFORMATION,
            modification.as_mut_ptr(),
            &mut out,
        );
        if status < 0 {
            return Err(FspError::NTSTATUS(status));
        }
        let len = GetSecurityDescriptorLength(PSECURITY_DESCRIPTOR(out)) as usize;
        let bytes = std::slice::from_raw_parts(out.cast::<u8>(), len).to_vec();
        let create: unsafe extern "C" fn() -> winfsp_sys::NTSTATUS = std::mem::transmute(
            FspSetSecurityDescriptor
                as unsafe extern "C" fn(
                    winfsp_sys::PSECURITY_DESCRIPTOR,
                    winfsp_sys::SECURITY_INFORMATION,
                    winfsp_sys::PSECURITY_DESCRIPTOR,
                    *mut winfsp_sys::PSECURITY_DESCRIPTOR,
                ) -> winfsp_sys::NTSTATUS,
        );
        FspDeleteSecurityDescriptor(out, Some(create));
        Ok(bytes)
    }
}

/// Entries examined per engine call while filling a ReadDirectory buffer.
const DIR_BATCH: usize = 128;

/// The WinFsp file system context.
pub struct Context {
    fs: WinFs,
}

impl FileSystemContext for Context {
    type FileContext = OpenFile;

    fn get_security_by_name(
        &self,
        file_name: &U16CStr,
        security_descriptor: Option<&mut [c_void]>,
        reparse_point_resolver: impl FnOnce(&U16CStr) -> Option<FileSecurity>,
    ) -> R<FileSecurity> {
        // A reparse point before the last component: WinFsp reparses (fs.rs, module docs).
        if let Some(found) = reparse_point_resolver(file_name) {
            return Ok(found);
        }
        let (attributes, sd) = r(self.fs.security_by_name(file_name.as_slice()))?;
        let size = match security_descriptor {
            None => sd.len() as u64,
            Some(buf) => {
                if copy_sd(buf, &sd) {
                    sd.len() as u64
                } else {
                    // winfsp 0.13 cannot report the size needed on STATUS_BUFFER_OVERFLOW
                    // (its wrapper writes the size only on success, and WinFsp would retry
                    // with the same buffer forever), so a descriptor larger than WinFsp's
                    // buffer (1024 bytes) is reported as absent: no access check for that
                    // file (README-windows.md).
                    0
                }
            }
        };
        Ok(FileSecurity {
            reparse: false,
            sz_security_descriptor: size,
            attributes,
        })
    }

    fn open(
        &self,
        file_name: &U16CStr,
        create_options: u32,
        granted_access: u32,
        file_info: &mut OpenFileInfo,
    ) -> R<OpenFile> {
        let (file, info, normalized) =
            r(self
                .fs
                .open(file_name.as_slice(), create_options, granted_access))?;
        fill(file_info.as_mut(), &info);
        if let Some(name) = normalized {
            file_info.set_normalized_name(&name, None);
        }
        Ok(file)
    }

    fn close(&self, context: OpenFile) {
        self.fs.close(context)
    }

    fn create(
        &self,
        file_name: &U16CStr,
        create_options: u32,
        granted_access: u32,
        file_attributes: u32,
        security_descriptor: Option<&[c_void]>,
        _allocation_size: u64,
        extra_buffer: Option<&[u8]>,
        extra_buffer_is_reparse_point: bool,
        file_info: &mut OpenFileInfo,
    ) -> R<OpenFile> {
        // SAFETY: WinFsp gives the descriptor's bytes (GetSecurityDescriptorLength long).
        let sd = security_descriptor
            .map(|s| unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), s.len()) });
        let (file, info, normalized) = r(self.fs.create(
            file_name.as_slice(),
            create_options,
            granted_access,
            file_attributes,
            sd,
            extra_buffer,
            extra_buffer_is_reparse_point,
        ))?;
        fill(file_info.as_mut(), &info);
        if let Some(name) = normalized {
            file_info.set_normalized_name(&name, None);
        }
        Ok(file)
    }

    fn cleanup(&self, context: &OpenFile, file_name: Option<&U16CStr>, flags: u32) {
        self.fs
            .cleanup(context, file_name.map(|n| n.as_slice()), flags)
    }

    fn flush(&self, context: Option<&OpenFile>, file_info: &mut FspFileInfo) -> R<()> {
        if let Some(info) = r(self.fs.flush(context))? {
            fill(file_info, &info);
        }
        Ok(())
    }

    fn get_file_info(&self, context: &OpenFile, file_info: &mut FspFileInfo) -> R<()> {
        fill(file_info, &r(self.fs.file_info(context))?);
        Ok(())
    }

    fn get_security(
        &self,
        context: &OpenFile,
        security_descriptor: Option<&mut [c_void]>,
    ) -> R<u64> {
        let sd = r(self.fs.security(context))?;
        if let Some(buf) = security_descriptor {
            if !copy_sd(buf, &sd) {
                return r(Err(STATUS_BUFFER_OVERFLOW));
            }
        }
        Ok(sd.len() as u64)
    }

    fn set_security(
        &self,
        context: &OpenFile,
        security_information: u32,
        modification_descriptor: ModificationDescriptor,
    ) -> R<()> {
        let current = r(self.fs.security(context))?;
        let merged = merge_security(&current, security_information, &modification_descriptor)?;
        r(self.fs.set_security(context, &merged))
    }

    fn overwrite(
        &self,
        context: &OpenFile,
        file_attributes: u32,
        replace_file_attributes: bool,
        _allocation_size: u64,
        extra_buffer: Option<&[u8]>,
        file_info: &mut FspFileInfo,
    ) -> R<()> {
        if extra_buffer.is_some() {
            return r(Err(STATUS_EAS_NOT_SUPPORTED));
        }
        let info = r(self
            .fs
            .overwrite(context, file_attributes, replace_file_attributes))?;
        fill(file_info, &info);
        Ok(())
    }

    fn read_directory(
        &self,
        context: &OpenFile,
        pattern: Option<&U16CStr>,
        marker: DirMarker,
        buffer: &mut [u8],
    ) -> R<u32> {
        let pattern = pattern.map(|p| p.as_slice());
        let mut resume: Option<Vec<u16>> = marker.inner().map(|m| m.to_vec());
        let mut cursor = 0u32;
        loop {
            let batch = r(self
                .fs
                .read_directory(context, pattern, resume.as_deref(), DIR_BATCH))?;
            for entry in &batch.entries {
                let mut dir_info = DirInfo::<255>::new();
                dir_info.set_name_raw(entry.name.as_slice())?;
                fill(dir_info.file_info_mut(), &entry.info);
                if !dir_info.append_to_buffer(buffer, &mut cursor) {
                    // Full: WinFsp asks again after the last name it got.
                    return Ok(cursor);
                }
            }
            match batch.resume_after {
                Some(m) => resume = Some(m),
                None => {
                    DirInfo::<255>::finalize_buffer(buffer, &mut cursor);
                    return Ok(cursor);
                }
            }
        }
    }

    fn rename(
        &self,
        context: &OpenFile,
        file_name: &U16CStr,
        new_file_name: &U16CStr,
        replace_if_exists: bool,
    ) -> R<()> {
        // FILE_RENAME_INFORMATION_EX flags travel in the request (src/sys/fileinfo.c sets
        // RenameEx.Flags for both information classes).
        // SAFETY: called while servicing this Rename request, outside the closure's caller.
        let ex_flags = unsafe {
            self.with_operation_request(|req| req.Req.SetInformation.Info.RenameEx.Flags)
        }
        .unwrap_or(0);
        r(self.fs.rename(
            context,
            file_name.as_slice(),
            new_file_name.as_slice(),
            replace_if_exists,
            ex_flags,
        ))
    }

    fn set_basic_info(
        &self,
        context: &OpenFile,
        file_attributes: u32,
        creation_time: u64,
        last_access_time: u64,
        last_write_time: u64,
        last_change_time: u64,
        file_info: &mut FspFileInfo,
    ) -> R<()> {
        let info = r(self.fs.set_basic_info(
            context,
            file_attributes,
            creation_time,
            last_access_time,
            last_write_time,
            last_change_time,
        ))?;
        fill(file_info, &info);
        Ok(())
    }

    fn set_delete(&self, context: &OpenFile, _file_name: &U16CStr, delete_file: bool) -> R<()> {
        r(self.fs.set_delete(context, delete_file))
    }

    fn set_file_size(
        &self,
        context: &OpenFile,
        new_size: u64,
        set_allocation_size: bool,
        file_info: &mut FspFileInfo,
    ) -> R<()> {
        fill(
            file_info,
            &r(self
                .fs
                .set_file_size(context, new_size, set_allocation_size))?,
        );
        Ok(())
    }

    fn read(&self, context: &OpenFile, buffer: &mut [u8], offset: u64) -> R<u32> {
        r(self.fs.read(context, buffer, offset))
    }

    fn write(
        &self,
        context: &OpenFile,
        buffer: &[u8],
        offset: u64,
        write_to_eof: bool,
        constrained_io: bool,
        file_info: &mut FspFileInfo,
    ) -> R<u32> {
        let (n, info) = r(self
            .fs
            .write(context, buffer, offset, write_to_eof, constrained_io))?;
        fill(file_info, &info);
        Ok(n)
    }

    fn get_volume_info(&self, out_volume_info: &mut VolumeInfo) -> R<()> {
        let (total, free, label) = self.fs.volume_info();
        out_volume_info.total_size = total;
        out_volume_info.free_size = free;
        out_volume_info.set_volume_label(String::from_utf16_lossy(&label));
        Ok(())
    }

    fn set_volume_label(&self, volume_label: &U16CStr, volume_info: &mut VolumeInfo) -> R<()> {
        self.fs.set_volume_label(volume_label.as_slice());
        self.get_volume_info(volume_info)
    }

    fn get_reparse_point_by_name(
        &self,
        file_name: &U16CStr,
        _is_directory: bool,
        buffer: &mut [u8],
    ) -> R<u64> {
        let data = r(self.fs.reparse_point_by_name(file_name.as_slice()))?;
        copy_out(buffer, &data)
    }

    fn get_reparse_point(
        &self,
        context: &OpenFile,
        _file_name: &U16CStr,
        buffer: &mut [u8],
    ) -> R<u64> {
        let data = r(self.fs.reparse_point(context))?;
        copy_out(buffer, &data)
    }

    fn set_reparse_point(&self, context: &OpenFile, _file_name: &U16CStr, buffer: &[u8]) -> R<()> {
        r(self.fs.set_reparse_point(context, buffer))
    }

    fn delete_reparse_point(
        &self,
        context: &OpenFile,
        _file_name: &U16CStr,
        buffer: &[u8],
    ) -> R<()> {
        r(self.fs.delete_reparse_point(context, buffer))
    }

    fn control(
        &self,
        _context: &OpenFile,
        control_code: u32,
        input: &[u8],
        output: &mut [u8],
    ) -> R<u32> {
        let reply = r(self.fs.control(control_code, input, output.len()))?;
        Ok(copy_out(output, &reply)? as u32)
    }
}

/// How to mount.
#[derive(Debug, Clone)]
pub struct MountOptions {
    /// Capacity and label reported to Windows.
    pub fs: FsOptions,
    /// File system name GetVolumeInformation reports. "NTFS" by default, so that programs
    /// that pick their code path by file system name take the NTFS one (they meet the
    /// WinFsp limits listed in README-windows.md either way).
    pub filesystem_name: String,
    /// Let WinFsp pass directory query patterns to [`crate::dir`] (fewer transfers; the driver
    /// filters again with its own matcher either way). Off by default.
    pub pass_query_directory_pattern: bool,
    /// Dispatcher threads (0 = WinFsp's default).
    pub threads: u32,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            fs: FsOptions::default(),
            filesystem_name: "NTFS".into(),
            pass_query_directory_pattern: false,
            threads: 0,
        }
    }
}

/// Why a mount failed.
#[derive(Debug)]
pub struct MountError(pub String);

impl std::fmt::Display for MountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MountError {}

/// A mounted volume; dropping it (or [`Mounted::unmount`]) unmounts.
pub struct Mounted {
    host: FileSystemHost<Context>,
}

impl Mounted {
    /// Stops serving and removes the mount point.
    pub fn unmount(self) {
        drop(self.host);
    }
}

/// The volume parameters, each chosen for NTFS fidelity:
/// - FileInfoTimeout 0: WinFsp caches neither file information nor (without the infinite
///   timeout) file data (`src/sys/create.c` enables caching only for an infinite timeout).
///   WinFsp keeps one file node per *name*, so any cache would let two names of one file
///   disagree; with none, every read, write and query reaches the engine, where both names are
///   the same file.
/// - Case-insensitive search, case-preserved names, Unicode names (A5).
/// - Persistent ACLs: per-file security descriptors, checked by WinFsp.
/// - Reparse points on, with WinFsp's access check (SeCreateSymbolicLinkPrivilege for symlinks,
///   as NTFS requires, A4; `src/sys/fsctl.c`).
/// - No named streams, no extended attributes (the engine has neither).
/// - Every Cleanup and every SetDelete reaches the file system (the engine must close handles
///   and mark delete-pending names), POSIX unlink and rename supported (A2, A6).
/// - DeviceControl on, for the control channel.
fn volume_params(volume: &Volume, opts: &MountOptions) -> VolumeParams {
    let now = vfs_core::now();
    let mut vp = VolumeParams::new();
    vp.filesystem_name(&opts.filesystem_name)
        .sector_size(512)
        .sectors_per_allocation_unit(8)
        .max_component_length(255)
        .volume_creation_time(now)
        .volume_serial_number((now >> 16) as u32)
        .file_info_timeout(0)
        .case_sensitive_search(false)
        .case_preserved_names(true)
        .unicode_on_disk(true)
        .persistent_acls(true)
        .reparse_points(true)
        .reparse_points_access_check(true)
        .named_streams(false)
        .extended_attributes(false)
        .post_cleanup_when_modified_only(false)
        .post_disposition_only_when_necessary(false)
        .pass_query_directory_pattern(opts.pass_query_directory_pattern)
        .device_control(true)
        .supports_posix_unlink_rename(true)
        .flush_and_purge_on_cleanup(true)
        .read_only_volume(volume.options().read_only);
    vp
}

/// Mounts `volume` at `mount_point` (`"X:"`, or an empty directory path) and starts serving.
/// Build the volume with `VolumeOptions::drive_letter` equal to the mount's letter, so that
/// absolute link targets written through the mount (`\??\X:\dir`) are on this volume for the
/// engine too. Needs WinFsp installed (https://winfsp.dev/rel/).
pub fn mount(
    volume: Arc<Volume>,
    mount_point: &str,
    opts: &MountOptions,
) -> Result<Mounted, MountError> {
    winfsp::winfsp_init().map_err(|e| {
        MountError(format!(
            "cannot load WinFsp ({e:?}): install it from https://winfsp.dev/rel/ \
             (or `choco install winfsp`)"
        ))
    })?;
    let params = volume_params(&volume, opts);
    let context = Context {
        fs: WinFs::with_options(volume, opts.fs.clone()),
    };
    let mut host: FileSystemHost<Context> = FileSystemHost::new(params, context)
        .map_err(|e| MountError(format!("creating the WinFsp file system failed: {e}")))?;
    host.mount(mount_point)
        .map_err(|e| MountError(format!("mounting at {mount_point} failed: {e}")))?;
    host.start_with_threads(opts.threads)
        .map_err(|e| MountError(format!("starting the WinFsp dispatcher failed: {e}")))?;
    Ok(Mounted { host })
}
