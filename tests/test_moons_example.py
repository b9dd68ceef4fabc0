"""examples/moons_bce.py runs in its quick mode, learns the moons, and saves its decision-boundary picture."""

import importlib.util
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_moons_bce_quick(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location("moons_bce", EXAMPLES / "moons_bce.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "moons.png"
    result = module.main(["--quick", "--plot", str(path)])
    assert "test accuracy" in capsys.readouterr().out
    assert result["loss_last"] < 0.2 * result["loss_first"]
    assert result["train_acc"] > 0.95 and result["test_acc"] > 0.9
    if importlib.util.find_spec("matplotlib") is not None:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    module.main(["--quick", "--steps", "2", "--plot", str(tmp_path / "none.png")])
    assert 'pip install "tinygrad_drop[examples]"' in capsys.readouterr().out
    assert not (tmp_path / "none.png").exists()
