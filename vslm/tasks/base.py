"""What the two tasks share: byte encoding, masks, the validation set and the training stream.

A task turns settings into texts two ways: `python_text` follows the original
per-sample generator call for call (it builds the bit-identical validation set
from ``random.Random(23)``), `numpy_texts` draws a whole batch from the same
distribution with numpy (the fast training stream).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

SPACE, MASK = 32, 0
_HASH_MULT = np.random.default_rng(12345).integers(1, 2**63, size=512, dtype=np.uint64) | np.uint64(1)


@dataclass
class Samples:
    """Texts as space-padded bytes ``text[n, W]`` with their true ``length[n]``."""

    text: np.ndarray
    length: np.ndarray
    answer_width: int

    def __len__(self):
        return len(self.length)

    def masked(self) -> np.ndarray:
        """The model input: the answer field (last `answer_width` chars of each text) set to NUL."""
        out = self.text.copy()
        cols = np.arange(out.shape[1])
        out[(cols >= self.length[:, None] - self.answer_width) & (cols < self.length[:, None])] = MASK
        return out

    def strings(self) -> list[str]:
        return [bytes(r[:n]).decode("ascii") for r, n in zip(self.text, self.length)]

    def take(self, index) -> Samples:
        return Samples(self.text[index], self.length[index], self.answer_width)

    def hashes(self) -> np.ndarray:
        """64-bit row hashes (text and length) for de-duplication and exclusion."""
        with np.errstate(over="ignore"):
            h = (self.text.astype(np.uint64) * _HASH_MULT[: self.text.shape[1]]).sum(axis=1, dtype=np.uint64)
            return h ^ (self.length.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))


def encode(texts: list[str], width: int, answer_width: int) -> Samples:
    arr = np.full((len(texts), width), SPACE, dtype=np.uint8)
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        b = t.encode("ascii")
        arr[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
        lengths[i] = len(b)
    return Samples(arr, lengths, answer_width)


def compact(slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of int16 slots (-1 = empty) -> left-aligned uint8 text padded with spaces, lengths."""
    keep = slots >= 0
    order = np.argsort(~keep, axis=1, kind="stable")
    text = np.take_along_axis(slots, order, axis=1)
    lengths = keep.sum(axis=1)
    text[np.arange(slots.shape[1])[None, :] >= lengths[:, None]] = SPACE
    return text.astype(np.uint8), lengths.astype(np.int64)


def lo_hi(v) -> tuple[int, int]:
    return (v[0], v[1]) if isinstance(v, list) else (v, v)


class Task:
    """One task at one parameter setting (`params` holds only this task's keys)."""

    def __init__(self, params: dict):
        self.p = params

    # subclasses define: answer_width, max_length, python_text(rng), numpy_texts(gen, n)

    def python_samples(self, count: int, seed: int | None = None, rng=None) -> Samples:
        """`count` distinct texts from the original's per-sample generator."""
        rng = rng or random.Random(seed)
        seen, texts = set(), []
        while len(texts) < count:
            t = self.python_text(rng)
            if t not in seen:
                seen.add(t)
                texts.append(t)
        return encode(texts, self.max_length, self.answer_width)


def split_params(settings: dict, split: str, keys: list[str]) -> dict:
    """Task parameters of one split: ``val-X`` overrides X for the validation split only."""
    p = {k: settings[k] for k in keys}
    if split == "validation":
        p.update({k: settings["val-" + k] for k in keys if "val-" + k in settings})
    return p


class TrainStream:
    """Endless, seeded training texts, in epochs of `epoch` samples.

    Each epoch is drawn from its own generator seeded by (seed, epoch), so a
    resumed run regenerates exactly the epoch it stopped in. As in the original,
    a text never repeats within an epoch and never equals a validation text.
    """

    def __init__(self, task: Task, validation: Samples, seed: int, epoch: int, chunk: int = 8192):
        self.task, self.seed, self.epoch_size, self.chunk = task, seed, epoch, chunk
        hashes = validation.hashes()
        self.val_hashes = np.sort(hashes)
        self.val_by_hash = {int(h): i for i, h in enumerate(hashes)}
        self.validation = validation

    def _in_validation(self, s: Samples, h: np.ndarray) -> np.ndarray:
        if not len(self.val_hashes):
            return np.zeros(len(h), dtype=bool)
        pos = np.searchsorted(self.val_hashes, h).clip(0, len(self.val_hashes) - 1)
        hit = self.val_hashes[pos] == h
        for i in np.flatnonzero(hit):  # confirm hash hits exactly (rare)
            j = self.val_by_hash[int(h[i])]
            v = self.validation
            same = v.length[j] == s.length[i] and np.array_equal(v.text[j, : v.length[j]], s.text[i, : s.length[i]])
            hit[i] = same
        return hit

    def epoch(self, index: int) -> Samples:
        gen = np.random.default_rng([self.seed, index])
        parts, seen, total = [], set(), 0
        while total < self.epoch_size:
            s = self.task.numpy_texts(gen, self.chunk)
            h = s.hashes()
            _, first = np.unique(h, return_index=True)
            keep = np.zeros(len(h), dtype=bool)
            keep[first] = True
            keep &= ~self._in_validation(s, h)
            keep &= np.fromiter((x not in seen for x in h.tolist()), dtype=bool, count=len(h))
            idx = np.flatnonzero(keep)[: self.epoch_size - total]
            seen.update(h[idx].tolist())
            parts.append(s.take(idx))
            total += len(idx)
        return Samples(np.concatenate([p.text for p in parts]), np.concatenate([p.length for p in parts]),
                       self.task.answer_width)
