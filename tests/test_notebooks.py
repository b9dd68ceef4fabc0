"""The exercise notebooks cannot rot: each notebooks/*.py (jupytext percent format, plain Python)
runs as a script in its own folder (as Jupyter runs it), and every expected output that its
markdown shows (a ```text block) appears in what it prints, in order. Needs only NumPy and pytest:
Jupyter and jupytext are for reading the notebooks, not for this test.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.mutation_unsafe  # mutmut's wrapped package cannot run in the notebooks' subprocesses

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
CELL = re.compile(r"^# %%(?P<header>.*)$", re.M)
EXPECTED = re.compile(r"^# ```text\n(?P<body>.*?)^# ```$", re.M | re.S)


def _cells(text):
    """(header, body) of each cell: the header is what follows `# %%`, e.g. ' [markdown]'."""
    marks = list(CELL.finditer(text))
    return [(m["header"], text[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)])
            for i, m in enumerate(marks)]


def _expected_outputs(text):
    """The ```text blocks of the markdown cells, each as a list of lines."""
    blocks = []
    for header, body in _cells(text):
        if "[markdown]" in header:
            for match in EXPECTED.finditer(body):
                blocks.append([line[2:] if line.startswith("# ") else line[1:] for line in match["body"].splitlines()])
    return blocks


def test_there_are_five_exercises():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_a_task_a_hidden_solution_and_an_expected_output(notebook):
    text = notebook.read_text()
    headers = [header for header, _ in _cells(text)]
    assert "**Task.**" in text, f"{notebook.name}: state the task as **Task.**"
    assert any('tags=["solution"]' in h and '"source_hidden": true' in h for h in headers), (
        f'{notebook.name}: mark the solution cell with  # %% tags=["solution"] jupyter={{"source_hidden": true}}')
    assert _expected_outputs(text), f"{notebook.name}: show the expected output in a ```text block"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_prints_what_it_promises(notebook):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, str(notebook)], cwd=notebook.parent, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, f"{notebook.name} failed:\n{run.stderr}"
    printed = [line.rstrip() for line in run.stdout.splitlines()]
    position = 0
    for block in _expected_outputs(notebook.read_text()):
        block = [line.rstrip() for line in block]
        for start in range(position, len(printed) - len(block) + 1):
            if printed[start:start + len(block)] == block:
                position = start + len(block)
                break
        else:
            pytest.fail(f"{notebook.name} promises this output, which it did not print (after line {position}):\n"
                        + "\n".join(block) + "\n--- it printed:\n" + run.stdout)


def test_notebooks_open_as_jupyter_notebooks():
    jupytext = pytest.importorskip("jupytext", reason="jupytext is in the docs and examples extras")
    for notebook in NOTEBOOKS:
        nb = jupytext.read(notebook)
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert solutions and all(c.metadata["jupyter"]["source_hidden"] for c in solutions), notebook.name
