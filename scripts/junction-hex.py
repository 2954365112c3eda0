#!/usr/bin/env python3
"""Prints the hex of a junction (mount-point) reparse buffer, laid out as `mklink /J` writes it
(MS-FSCC 2.1.2.5: SubstituteName `\\??\\C:\\dir` then PrintName `C:\\dir`, each NUL-terminated),
for `setfattr -n system.ntfs_reparse_data -v 0x$(scripts/junction-hex.py 'C:\\dir') DIR` on an
ntlinkfs or ntfs-3g mount."""
import struct
import sys

if len(sys.argv) != 2 or len(sys.argv[1]) < 3 or sys.argv[1][1:3] != ":\\":
    sys.exit("usage: junction-hex.py 'C:\\path'  (an absolute Windows path)")
target = sys.argv[1]
sub = ("\\??\\" + target).encode("utf-16-le")
prn = target.encode("utf-16-le")
path = sub + b"\0\0" + prn + b"\0\0"
data = struct.pack("<HHHH", 0, len(sub), len(sub) + 2, len(prn)) + path
buf = struct.pack("<IHH", 0xA0000003, len(data), 0) + data
print(buf.hex())
