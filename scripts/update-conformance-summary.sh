#!/usr/bin/env bash
# Regenerates docs/CONFORMANCE.md with the conformance tool and splices its summary table into
# README.md between the conformance markers, so the README's figures are the tool's, not typed.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p ntlinkfs
target/release/ntlinkfs conformance --target core,fuse,ntfs-3g --markdown docs/CONFORMANCE.md >/dev/null
python3 - <<'PY'
import re
md = open("docs/CONFORMANCE.md").read()
# The first table of the generated file: the per-target summary.
lines = md.splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("| target"))
end = start
while end < len(lines) and lines[end].startswith("|"):
    end += 1
table = "\n".join(lines[start:end])
# The second table: one row per rule.
rstart = next(i for i, l in enumerate(lines) if l.startswith("| rule"))
rend = rstart
while rend < len(lines) and lines[rend].startswith("|"):
    rend += 1
rules = "\n".join(lines[rstart:rend])
readme = open("README.md").read()
readme = re.sub(r"<!-- conformance-rules:begin -->.*?<!-- conformance-rules:end -->",
                "<!-- conformance-rules:begin -->\n" + rules + "\n<!-- conformance-rules:end -->",
                readme, flags=re.S)
readme = re.sub(r"<!-- conformance:begin -->.*?<!-- conformance:end -->",
                "<!-- conformance:begin -->\n" + table + "\n<!-- conformance:end -->",
                readme, flags=re.S)
open("README.md", "w").write(readme)
PY
echo "README.md and docs/CONFORMANCE.md updated"
