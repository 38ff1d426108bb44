#!/usr/bin/env python3
"""scripts/check_extending_doc.py [SOURCE_DIR]: docs/extending.md shows the examples' real code.

Every code block of docs/extending.md preceded by a line `<!-- file: PATH -->` must be exactly
the file PATH (relative to the source tree), so the documented code is the code that
scripts/test_install.sh builds and runs. Exits 1 naming each block that differs, 0 otherwise.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
doc = (root / "docs" / "extending.md").read_text()
blocks = re.findall(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```", doc, flags=re.S)
bad = []
for path, text in blocks:
    f = root / path
    if not f.is_file():
        bad.append(f"{path}: no such file")
    elif f.read_text() != text:
        bad.append(f"{path}: the block in docs/extending.md differs from the file")
for b in bad:
    print("check_extending_doc: " + b)
if not blocks:
    print("check_extending_doc: no <!-- file: ... --> blocks in docs/extending.md")
    sys.exit(1)
print(f"check_extending_doc: {len(blocks) - len(bad)} of {len(blocks)} blocks match their files")
sys.exit(1 if bad else 0)
