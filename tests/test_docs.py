"""The docs cannot rot: every ```python block in README.md and docs/*.md runs, the numbers in
docs/how-it-works.md match the source, and every page is in the site's navigation.

A block runs unless the line just before its fence says why not:
    <!-- requires: torch -->         runs only where torch can be imported
    <!-- no-test: the reason -->     never runs (keep these rare)
    <!-- file: examples/x.py -->     runs, and must be that file of the repository, verbatim
Each page's blocks run in order in one namespace, in a fresh temporary folder. A fenced block
marked `<!-- output -->` after a python block (before the next one) is what that block prints:
the test compares them, so a sample output on a page is always the real one.
"""

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

import tinygrad_drop.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = r"(?:<!-- (?P<kind>no-test|requires|file): *(?P<arg>.*?) *-->\n)?"
BLOCK = re.compile(rf"^{MARKER}```python\n(?P<code>.*?)^```", re.M | re.S)
OUTPUT = re.compile(r"^<!-- output -->\n```\w*\n(?P<text>.*?)^```", re.M | re.S)


def _blocks_and_outputs(page):
    """(first line number, code, kind, argument, expected output or None) for each python block of a page."""
    text = page.read_text()
    matches = list(BLOCK.finditer(text))
    blocks = []
    for i, match in enumerate(matches):
        first_line = text.count("\n", 0, match.start("code")) + 1
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        output = OUTPUT.search(text, match.end(), stop)
        blocks.append((first_line, match["code"], match["kind"], match["arg"], output and output["text"]))
    return blocks


def _same_output(printed, expected):
    """Equal up to trailing spaces on each line and blank lines at the end."""
    def lines(text):
        return [line.rstrip() for line in text.rstrip().splitlines()]
    return lines(printed) == lines(expected)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(F, "_warned_call_sites", set())  # a page that shows a once-per-call-site warning sees it
    namespace = {"__name__": "__main__"}
    for first_line, code, kind, arg, expected in _blocks_and_outputs(page):
        if kind == "no-test":
            assert arg, f"{page.name}:{first_line}: say why the block is not tested: <!-- no-test: reason -->"
            continue
        if kind == "requires":
            missing = [name for name in arg.split(",") if importlib.util.find_spec(name.strip()) is None]
            if missing:
                continue
        if kind == "file":
            assert code == (ROOT / arg).read_text(), f"{page.name}:{first_line}: the block differs from {arg}"
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            # padded with blank lines, so that tracebacks give the line numbers of the page itself
            exec(compile("\n" * (first_line - 1) + code, str(page), "exec"), namespace)
        if expected is not None:
            assert _same_output(printed.getvalue(), expected), (
                f"{page.name}:{first_line}: the block prints something else than the page shows under it.\n"
                f"--- the page shows:\n{expected}--- the block printed:\n{printed.getvalue()}")


def test_pages_with_several_blocks_say_that_they_run_in_order():
    for page in PAGES:
        tested = [block for block in _blocks_and_outputs(page) if block[2] != "no-test"]
        if len(tested) > 1:
            assert "The blocks on this page run in order" in page.read_text(), (
                f"{page.name} has {len(tested)} python blocks: say that they run in order (see docs/dropout.md)")


def _core_size_script():
    spec = importlib.util.spec_from_file_location("core_size", ROOT / "scripts" / "core_size.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.mutation_unsafe  # reads source line numbers, which mutmut's rewritten files change
def test_how_it_works_matches_the_source():
    script = _core_size_script()
    text = script.PAGE.read_text()
    assert len(list(script.REFERENCE.finditer(text))) >= 10
    problems = script.problems(text)
    assert not problems, ("docs/how-it-works.md is out of date; run `python scripts/core_size.py --update`:\n  "
                          + "\n  ".join(problems))


@pytest.mark.mutation_unsafe  # reads source line numbers, which mutmut's rewritten files change
def test_core_size_script_reports_the_core(capsys):
    assert _core_size_script().main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("core: ") and "Function.apply" in out


def test_every_page_is_in_the_navigation_and_every_navigation_entry_exists():
    nav = re.findall(r"^  - [^:\n]+: (\S+\.md)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert sorted(set(pages) - set(nav)) == [], "add these pages to the nav in mkdocs.yml"
    assert sorted(set(nav) - set(pages)) == [], "mkdocs.yml lists pages that docs/ does not have"
