#!/usr/bin/python3
"""tidy_files.py: which sources clang-tidy must check after a change.

    scripts/tidy_files.py BASE   # prints src/**/*.cc (non-test) to check, one per line

clang-tidy over all ~300 sources takes 20 minutes on a 2-core CI machine, most of it
re-parsing the same headers. A source whose text and whose whole include closure are
unchanged since BASE cannot gain a new diagnostic (same clang-tidy, same .clang-tidy), so
only the others are checked: every changed non-test source, and every non-test source that
includes a changed header, directly or through other project headers. Headers themselves
are checked through the sources that include them (HeaderFilterRegex).

BASE is a commit whose whole tree passed clang-tidy (.ci/tidy-baseline). Everything is
checked when BASE is empty or not in the history (a shallow clone), when .clang-tidy or
CMakePresets.json changed, when a changed line of CMakeLists.txt or cmake/ sets compile
options or definitions, or when SAGEBOX_TIDY_ALL=1.
"""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def all_sources():
    out = []
    for root, _, files in os.walk("src"):
        for f in files:
            if f.endswith(".cc") and not f.endswith(("_test.cc", "_fuzz.cc", "_bench.cc")):
                out.append(os.path.join(root, f))
    return sorted(out)


def changed_since(base):
    """Paths changed between BASE and the work tree, or None when BASE is unusable."""
    if not base:
        return None
    ok = subprocess.run(["git", "cat-file", "-e", base + "^{commit}"],
                        stderr=subprocess.DEVNULL).returncode == 0
    if not ok:
        return None
    diff = subprocess.run(["git", "diff", "--name-only", base, "--"],
                          check=True, capture_output=True, text=True).stdout
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard"],
                               check=True, capture_output=True, text=True).stdout
    return set(diff.split()) | set(untracked.split())


FLAGS = re.compile(r"^[+-].*\b(add_compile_options|add_compile_definitions|add_definitions|"
                   r"target_compile_definitions|target_compile_options|CMAKE_CXX_FLAGS|"
                   r"CMAKE_CXX_STANDARD)\b", re.M)


def flags_changed(base):
    """True when the CMake files' diff touches compile flags or definitions: adding a
    layer or a test does not change how existing sources compile, a new flag may."""
    diff = subprocess.run(["git", "diff", base, "--", "CMakeLists.txt", "cmake"],
                          check=True, capture_output=True, text=True).stdout
    return FLAGS.search(diff) is not None


def includes(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [os.path.join("src", inc) for inc in INCLUDE.findall(f.read())]
    except OSError:
        return []


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else ""
    sources = all_sources()
    changed = None if os.environ.get("SAGEBOX_TIDY_ALL") == "1" else changed_since(base)
    if changed is None or ".clang-tidy" in changed or "CMakePresets.json" in changed or \
            flags_changed(base):
        print("\n".join(sources))
        print("tidy_files: checking every source", file=sys.stderr)
        return
    memo = {}

    def touched(path, stack=()):
        # True when `path` or anything it includes (project headers only) changed.
        if path in memo:
            return memo[path]
        if path in stack:  # include cycle: the guard makes it harmless
            return False
        hit = path in changed or any(
            touched(inc, stack + (path,)) for inc in includes(path) if os.path.exists(inc))
        memo[path] = hit
        return hit

    picked = [s for s in sources if touched(s)]
    print("\n".join(picked))
    print(f"tidy_files: {len(picked)} of {len(sources)} sources changed since {base[:12]} "
          "(themselves or through a header)", file=sys.stderr)


if __name__ == "__main__":
    main()
