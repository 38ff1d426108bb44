#!/usr/bin/env python3
"""Checks distopt's layering: include direction, MPI-free method headers, CMake DEPS.

Usage: scripts/check_layers.py [SOURCE_DIR] [--print-deps] [--no-cmake]

Layers, lowest first (a file may include only its own layer and the layers below it):

    core -> comm -> io -> topology -> data -> model -> method -> compress
         -> {dataparallel, federated, gossip, bilevel} -> run -> apps

The four families are siblings: none may include another. A file's layer is its folder:
include/distopt/<layer>/..., src/<layer>/..., apps/... (layer "apps"); examples/... may include
anything. Only `#include "distopt/<layer>/..."` lines count.

Checks, each reported as `file:line: message`; the exit code is 1 if any fails:
  1. direction: no file includes a layer above its own or a sibling family;
  2. mpi: no header in include/distopt/{method,compress,<families>} includes <mpi.h>, directly or
     through a chain of distopt headers (followed transitively within include/);
  3. cmake (skip with --no-cmake): each `distopt_layer(<name> DEPS ...)` in CMakeLists.txt names
     exactly the distopt layers that the layer's headers and sources include (the `distopt_<layer>`
     entries; imported targets and ${variables} are ignored).
--print-deps prints the layer dependencies the include graph requires (the DEPS to declare).
Standard library only.
"""
import argparse
import os
import re
import sys

LAYERS = ["core", "comm", "io", "topology", "data", "model", "method", "compress",
          "dataparallel", "federated", "gossip", "bilevel", "run", "apps"]
FAMILIES = {"dataparallel", "federated", "gossip", "bilevel"}
MPI_FREE = {"method", "compress"} | FAMILIES
SOURCE_EXT = (".hpp", ".h", ".hh", ".hxx", ".ipp", ".tpp", ".cpp", ".cc", ".cxx", ".c", ".in")

# Rank of each layer; the families share one rank.
_rank = {}
_r = 0
for _l in LAYERS:
    if _l in FAMILIES:
        _rank[_l] = _rank.get("dataparallel", _r)
        if _l == "dataparallel":
            _r += 1
    else:
        _rank[_l] = _r
        _r += 1
RANK = _rank

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
DISTOPT_RE = re.compile(r'^distopt/([A-Za-z0-9_]+)/')


def may_include(own, other):
    """True if a file of layer `own` may include a header of layer `other`."""
    if own == other:
        return True
    if own in FAMILIES and other in FAMILIES:
        return False
    return RANK[other] < RANK[own]


def layer_of(rel):
    """The layer of a file given its path relative to the source dir; 'examples' or None."""
    parts = rel.split("/")
    if parts[0] == "include" and len(parts) >= 4 and parts[1] == "distopt":
        return parts[2]
    if parts[0] == "src" and len(parts) >= 3:
        return parts[1]
    if parts[0] == "apps":
        return "apps"
    if parts[0] == "examples":
        return "examples"
    return None


def strip_comments(text):
    """Removes /* */ comments (keeping newlines) so commented-out includes do not count."""
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def scan(path):
    """[(line number, '<' or '"', target)] for every #include in the file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = strip_comments(f.read())
    except OSError:
        return []
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        m = INCLUDE_RE.match(line)
        if m:
            out.append((n, m.group(1), m.group(2).strip()))
    return out


def collect(root):
    files = []
    for top in ("include", "src", "apps", "examples"):
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "build")
            for fn in sorted(filenames):
                if fn.endswith(SOURCE_EXT):
                    full = os.path.join(dirpath, fn)
                    files.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return files


def check_direction(root, files, includes, problems, deps):
    for rel in files:
        own = layer_of(rel)
        if own is None:
            continue
        if own not in RANK and own != "examples":
            problems.append(f"{rel}:1: folder '{own}' is not a known layer "
                            f"(known: {', '.join(LAYERS)})")
            continue
        for n, _, target in includes[rel]:
            m = DISTOPT_RE.match(target)
            if not m:
                continue
            other = m.group(1)
            if other not in RANK or other == "apps":
                problems.append(f"{rel}:{n}: includes '{target}' of unknown layer '{other}'")
                continue
            if own == "examples":
                continue
            if own != other and may_include(own, other):
                deps.setdefault(own, {}).setdefault(other, f"{rel}:{n}")
            if not may_include(own, other):
                if own in FAMILIES and other in FAMILIES:
                    why = f"layer {own} includes sibling family {other}"
                else:
                    why = f"layer {own} includes layer {other} above it"
                problems.append(f"{rel}:{n}: {why} ({target})")


def check_mpi(root, files, includes, problems):
    headers = {rel for rel in files if rel.startswith("include/")}
    # Direct edges between headers in include/, and headers that include <mpi.h> themselves.
    edges = {}
    direct = {}
    for rel in headers:
        edges[rel] = []
        for n, kind, target in includes[rel]:
            if target == "mpi.h":
                direct.setdefault(rel, n)
            elif DISTOPT_RE.match(target):
                dep = "include/" + target
                if dep in headers:
                    edges[rel].append((n, dep))
            elif kind == '"':
                dep = os.path.normpath(os.path.join(os.path.dirname(rel), target)).replace(os.sep, "/")
                if dep in headers:
                    edges[rel].append((n, dep))
    # Shortest chain from each header to a header that includes <mpi.h> (BFS, reversed).
    chain = {}
    for h, n in direct.items():
        chain[h] = [(h, n, "<mpi.h>")]
    frontier = sorted(direct)
    while frontier:
        nxt = []
        for rel in sorted(headers):
            if rel in chain:
                continue
            for n, dep in edges[rel]:
                if dep in chain and dep in frontier:
                    chain[rel] = [(rel, n, dep)] + chain[dep]
                    nxt.append(rel)
                    break
        frontier = nxt
    for rel in sorted(headers):
        layer = layer_of(rel)
        if layer in MPI_FREE and rel in chain:
            steps = chain[rel]
            via = " -> ".join(f"{f}:{n}" for f, n, _ in steps)
            if len(steps) == 1:
                problems.append(f"{rel}:{steps[0][1]}: layer {layer} header includes <mpi.h>")
            else:
                problems.append(f"{rel}:{steps[0][1]}: layer {layer} header reaches <mpi.h> "
                                f"via {via} -> <mpi.h>")


def parse_cmake_deps(root):
    """{layer: ([distopt layers in DEPS], line)} from distopt_layer(...) calls."""
    path = os.path.join(root, "CMakeLists.txt")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    text_nc = re.sub(r"#[^\n]*", "", text)
    out = {}
    for m in re.finditer(r"\bdistopt_layer\s*\(([^)]*)\)", text_nc):
        args = m.group(1).split()
        if not args or args[0].startswith("$"):
            continue
        name = args[0]
        line = text_nc.count("\n", 0, m.start()) + 1
        deps = []
        if "DEPS" in args:
            for a in args[args.index("DEPS") + 1:]:
                if a.isupper() and "::" not in a:  # next keyword
                    break
                mm = re.fullmatch(r"distopt_([A-Za-z0-9_]+)", a)
                if mm:
                    deps.append(mm.group(1))
        out[name] = (deps, line)
    return out


def check_cmake(root, deps, problems):
    declared = parse_cmake_deps(root)
    if declared is None:
        problems.append("CMakeLists.txt:1: not found (use --no-cmake to skip the DEPS check)")
        return
    for layer in LAYERS:
        if layer == "apps":
            continue
        need = set(deps.get(layer, {}))
        if layer not in declared:
            if need or os.path.isdir(os.path.join(root, "src", layer)) or \
               os.path.isdir(os.path.join(root, "include", "distopt", layer)):
                problems.append(f"CMakeLists.txt:1: no distopt_layer({layer} ...) for an existing layer")
            continue
        have, line = declared[layer]
        for miss in sorted(need - set(have), key=LAYERS.index):
            problems.append(f"CMakeLists.txt:{line}: distopt_layer({layer}) lacks DEPS distopt_{miss} "
                            f"(included at {deps[layer][miss]})")
        for extra in sorted(set(have) - need, key=lambda x: LAYERS.index(x) if x in LAYERS else 99):
            problems.append(f"CMakeLists.txt:{line}: distopt_layer({layer}) lists DEPS distopt_{extra} "
                            f"but no file of layer {layer} includes distopt/{extra}/")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--print-deps", action="store_true",
                    help="print the layer dependencies the include graph requires")
    ap.add_argument("--no-cmake", action="store_true", help="skip the CMake DEPS check")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if not os.path.isdir(os.path.join(root, "include", "distopt")):
        print(f"check_layers: {root} has no include/distopt", file=sys.stderr)
        return 2

    files = collect(root)
    includes = {rel: scan(os.path.join(root, rel)) for rel in files}
    problems = []
    deps = {}
    check_direction(root, files, includes, problems, deps)
    n_dir = len(problems)
    check_mpi(root, files, includes, problems)
    n_mpi = len(problems) - n_dir
    if not args.no_cmake:
        check_cmake(root, deps, problems)
    n_cmake = len(problems) - n_dir - n_mpi

    if args.print_deps:
        print("Layer dependencies required by the include graph (direct includes):")
        for layer in LAYERS:
            if layer in deps:
                need = sorted(deps[layer], key=LAYERS.index)
                print(f"  {layer}: " + " ".join(f"distopt_{d}" for d in need))
            elif layer != "bilevel":
                print(f"  {layer}: (none)")
    nfiles = sum(1 for f in files if layer_of(f))
    if problems:
        print(f"check_layers: {len(problems)} problem(s) in {nfiles} files "
              f"({n_dir} include direction, {n_mpi} <mpi.h> in MPI-free headers, "
              f"{n_cmake} CMake DEPS):")
        for p in problems:
            print("  " + p)
        return 1
    order = [l for l in LAYERS if l not in FAMILIES]
    order.insert(order.index("run"), "{" + ", ".join(l for l in LAYERS if l in FAMILIES) + "}")
    print(f"check_layers: OK ({nfiles} files; layers {' -> '.join(order)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
