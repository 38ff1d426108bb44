#!/usr/bin/env python3
"""Every `docs/...` path that README.md and docs/*.md cite must exist in the repository.

Usage: check_doc_links.py REPO_ROOT. Paths under a build directory (build/docs/..., the Doxygen
output) are not checked. Exits 1 listing each file:line and missing path, 0 if all resolve.
"""
import pathlib
import re
import sys

PATH = re.compile(r"(?<![\w/.-])docs/[\w./-]*[\w/]")


def main(root):
    root = pathlib.Path(root)
    files = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    missing = []
    checked = 0
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            for m in PATH.finditer(line):
                path = m.group(0).rstrip("/")
                checked += 1
                if not (root / path).exists():
                    missing.append(f"{f.relative_to(root)}:{n}: {path}")
    for m in missing:
        print(f"missing: {m}")
    print(f"{checked} docs/ paths checked in {len(files)} files, {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
