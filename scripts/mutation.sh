#!/usr/bin/env bash
# Mutation testing: plant small bugs (mutants) in the source with mutmut and count how many the
# test suite catches, per file. Not part of CI: the whole run (about 5,000 mutants) takes hours
# on two cores.
#
#   scripts/mutation.sh                        # ops/, autograd.py, gradcheck.py, nn/functional.py
#   scripts/mutation.sh tinygrad_drop/ops/reduce.py tinygrad_drop/gradcheck.py    # some files only
#   MUTATION_JOBS=8 scripts/mutation.sh        # parallel test processes (default: the CPU count)
#   MUTATION_QUICK=1 scripts/mutation.sh       # leave out the end-to-end example and memory tests too
#
# It works on a copy of the checkout in a temporary folder, so the tree is left as it was. Tests
# marked `mutation_unsafe` (they check warning call sites or source line numbers, which mutmut's
# wrappers change) are left out. A mutant counts as caught when a test fails, times out or
# crashes; the score is caught / all mutants. Survivors are listed with `mutmut show NAME`-ready
# names; set MUTATION_KEEP=1 to keep the folder and inspect them there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$#" -gt 0 ]; then files=("$@"); else
  files=(tinygrad_drop/ops/*.py tinygrad_drop/autograd.py tinygrad_drop/gradcheck.py tinygrad_drop/nn/functional.py)
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mutation.XXXXXX")
if [ "${MUTATION_KEEP:-0}" = 1 ]; then echo "working folder: $work"; else trap 'rm -rf "$work"' EXIT; fi

cd "$root"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --no-dereference --parents -t "$work"  # links (docs/notebooks) as links
cd "$work"
# The example and memory tests train models for seconds each; the unit tests cover the same functions.
quick=$([ "${MUTATION_QUICK:-0}" = 1 ] && echo ', "-k", "not _examples and not test_memory"' || true)
only=$(printf '"%s", ' "${files[@]}")
copy=$(git -C "$root" ls-files | cut -d/ -f1 | sort -u | grep -vx -e tinygrad_drop -e tests | sed 's/.*/"&", /' | tr -d '\n')
cat >> pyproject.toml <<TOML

[tool.mutmut]
source_paths = ["tinygrad_drop"]
only_mutate = [${only%, }]
also_copy = [${copy%, }]
pytest_add_cli_args = ["-q", "-m", "not mutation_unsafe"${quick}]
use_git_change_detection = false
TOML

# Tests that start a Python subprocess find the mutated package through PYTHONPATH. The folder must
# exist before Python starts, or Python caches it as missing and mutmut's own import of it fails.
mkdir -p mutants
PYTHONPATH="$work/mutants" OMP_NUM_THREADS=1 mutmut run --max-children "${MUTATION_JOBS:-$(nproc)}" > mutmut.log 2>&1 || {
  tail -n 40 mutmut.log; echo "mutmut failed; the log is $work/mutmut.log"; exit 1; }
mutmut results --all true > results.txt

python3 - "${files[@]}" <<'PY'
"""Print the score per file and the surviving mutants, from `mutmut results --all true`."""
import collections
import sys

caught_statuses = {"killed", "timeout", "segfault", "caught by type check"}
by_file = collections.defaultdict(collections.Counter)
survivors = collections.defaultdict(list)
for line in open("results.txt"):
    name, _, status = line.strip().rpartition(": ")
    if not name:
        continue
    module = name.split(".x_")[0].split(".xǁ")[0]
    path = module.replace(".", "/") + ".py"
    by_file[path]["caught" if status in caught_statuses else "missed"] += 1
    if status not in caught_statuses:
        survivors[path].append(f"{name} ({status})")
groups = collections.defaultdict(collections.Counter)
print(f"{'file':40} {'mutants':>8} {'caught':>8} {'score':>7}")
for path in sorted(by_file):
    counts = by_file[path]
    total = counts["caught"] + counts["missed"]
    print(f"{path:40} {total:8} {counts['caught']:8} {100 * counts['caught'] / total:6.1f}%")
    group = "tinygrad_drop/ops/" if path.startswith("tinygrad_drop/ops/") else path
    groups[group].update(counts)
print()
for group, counts in sorted(groups.items()):
    total = counts["caught"] + counts["missed"]
    print(f"{group:40} {total:8} {counts['caught']:8} {100 * counts['caught'] / total:6.1f}%")
for path in sorted(survivors):
    print(f"\nsurvivors in {path}:")
    for name in survivors[path]:
        print(f"  {name}")
PY
