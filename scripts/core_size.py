"""The size of the core in lines, and the line ranges that docs/how-it-works.md points at.

    python scripts/core_size.py            # print the core's size and every reference in the page
    python scripts/core_size.py --update   # rewrite the page's numbers and line ranges from the source
    python scripts/core_size.py --update docs/dropout.md   # the line ranges of another page

The core is tensor.py, autograd.py and ops/. The page states its size as "**N lines**" and lists
the source in reading order in table rows such as  | `Function.apply` | `tinygrad_drop/autograd.py` | 75-92 |.
tests/test_docs.py fails when a range no longer matches its definition, or the size is off by more
than 10%, and says to run --update.
"""

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "how-it-works.md"
CORE = ["tinygrad_drop/tensor.py", "tinygrad_drop/autograd.py", "tinygrad_drop/ops/*.py"]
SIZE = re.compile(r"\*\*([\d,]+) lines\*\*")
REFERENCE = re.compile(r"^\| `(?P<name>[\w.]+)` \| `(?P<path>[\w/]+\.py)` \| (?P<start>\d+)-(?P<end>\d+) \|", re.M)


def core_files():
    return sorted(path for pattern in CORE for path in ROOT.glob(pattern))


def core_lines():
    """Lines in the core, blank lines and docstrings included."""
    return sum(len(path.read_text().splitlines()) for path in core_files())


def line_range(path, name):
    """(first, last) line of the def or class `name` ("Class.method" for a method), decorators included."""
    body = ast.parse((ROOT / path).read_text()).body
    node = None
    for part in name.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part), None)
        if node is None:
            raise LookupError(f"{path} has no def or class {name}")
        body = node.body
    return min([node.lineno] + [d.lineno for d in node.decorator_list]), node.end_lineno


def problems(text):
    """What in the page no longer matches the source: an empty list when it is current."""
    found = []
    stated = SIZE.search(text)
    actual = core_lines()
    if stated is None:
        found.append("the page does not state the core's size as **N lines**")
    elif abs(int(stated[1].replace(",", "")) - actual) > 0.1 * actual:
        found.append(f"the page says the core is {stated[1]} lines, but it is {actual:,}")
    for ref in REFERENCE.finditer(text):
        try:
            start, end = line_range(ref["path"], ref["name"])
        except LookupError as err:
            found.append(str(err))
            continue
        if (int(ref["start"]), int(ref["end"])) != (start, end):
            found.append(f"{ref['name']} is at {ref['path']}:{start}-{end}, the page says {ref['start']}-{ref['end']}")
    return found


def updated(text, with_size=True):
    """The page with the current line ranges (and the core's current size)."""
    if with_size:
        text = SIZE.sub(f"**{core_lines():,} lines**", text, count=1)

    def current(ref):
        start, end = line_range(ref["path"], ref["name"])
        return f"| `{ref['name']}` | `{ref['path']}` | {start}-{end} |"

    return REFERENCE.sub(current, text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the numbers in docs/how-it-works.md")
    parser.add_argument("pages", nargs="*", type=Path, help="other pages whose line ranges to --update")
    args = parser.parse_args(argv)
    text = PAGE.read_text()
    print(f"core: {core_lines():,} lines in {len(core_files())} files (tensor.py, autograd.py, ops/)")
    for ref in REFERENCE.finditer(text):
        start, end = line_range(ref["path"], ref["name"])
        print(f"  {ref['name']:<28} {ref['path']}:{start}-{end}")
    if args.update:
        PAGE.write_text(updated(text))
        for page in args.pages:
            page.write_text(updated(page.read_text(), with_size=False))
        print(f"updated {', '.join(str(p) for p in [PAGE.relative_to(ROOT), *args.pages])}")
    elif problems(text):
        print("docs/how-it-works.md is out of date:\n  " + "\n  ".join(problems(text)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
