"""The bundled Tiny Shakespeare text, the character tokenizer and random training windows."""

import numpy as np
import pytest

import tinygrad_drop as td
from tinygrad_drop.data import CharTokenizer, load_shakespeare, random_windows


def test_shakespeare_is_bundled_whole():
    text = load_shakespeare()
    assert isinstance(text, str) and len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")


def test_tokenizer_round_trip_and_vocabulary():
    text = load_shakespeare()
    tokenizer = CharTokenizer(text)
    assert tokenizer.vocab_size == 65 and tokenizer.chars == sorted(set(text))
    ids = tokenizer.encode(text[:1000])
    assert ids.dtype == np.int64 and ids.shape == (1000,)
    assert tokenizer.decode(ids) == text[:1000]
    assert tokenizer.decode(td.Tensor(ids[:5])) == text[:5] and tokenizer.decode([0]) == "\n"
    assert repr(tokenizer) == "CharTokenizer(vocab_size=65)"


def test_tokenizer_errors():
    tokenizer = CharTokenizer("abc")
    with pytest.raises(ValueError, match="character 'z' is not in the vocabulary"):
        tokenizer.encode("abz")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 2\], got 0..3"):
        tokenizer.decode([0, 3])
    with pytest.raises(ValueError, match="non-empty text"):
        CharTokenizer("")


def test_random_windows_are_shifted_pairs_from_the_framework_generator():
    ids = np.arange(1000)
    td.manual_seed(1)
    x, y = random_windows(ids, 64, 8)
    assert x.shape == y.shape == (64, 8)
    np.testing.assert_array_equal(y, x + 1)  # each target is the next token
    np.testing.assert_array_equal(np.diff(x, axis=1), 1)  # contiguous windows
    td.manual_seed(1)
    np.testing.assert_array_equal(random_windows(ids, 64, 8)[0], x)  # reproducible from the seed


def test_random_window_starts_are_uniform():
    ids, block, n = np.arange(20), 4, 32_000
    starts = random_windows(ids, n, block)[0][:, 0]
    counts = np.bincount(starts, minlength=len(ids) - block)
    assert len(counts) == len(ids) - block  # every start in [0, len - block), none past it
    expected = n / (len(ids) - block)
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))  # 5 standard deviations per start


def test_random_windows_errors():
    with pytest.raises(ValueError, match="more than block_size=8 ids"):
        random_windows(np.arange(8), 2, 8)
