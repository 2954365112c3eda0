/* Stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 (Debian bookworm) lacks. Rust's
 * std takes its random bytes (HashMap seeds) from ProcessPrng in that DLL, so without
 * it no Rust program starts under that Wine. This one fills the buffer from RtlGenRandom
 * (exported by advapi32 as SystemFunction036), which Wine has. For running tests under Wine
 * only: scripts/windows-cross.sh installs it into its own Wine prefix, never elsewhere. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a ULONG length: hand it at most 64 KiB at a time. */
    while (length > 0) {
        ULONG chunk = length > 0x10000 ? 0x10000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
