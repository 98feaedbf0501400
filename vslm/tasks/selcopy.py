"""Selective copying: `nitem` letters A, B, ... (each once, in order) scattered in a row of
`area` spaces; the answer is the letters read left to right.

    ' C   B  J         AE  I G  F     H   D  : CBJAEIGFHD'
"""
from __future__ import annotations

import math

import numpy as np

from ..keys import Key, integer, keyed, upto
from .base import SPACE, Samples, Task

KEYS = keyed(
    Key("nitem", integer, "number of letters (selcopy: A.. in order; program: alphabet size)"),
    Key("area", upto(100_000), "selcopy: width of the row the letters are scattered in"),
)
DEFAULTS = {"nitem": 10, "area": 40}
VALIDATION_KEYS = ("nitem", "area")  # may be set apart for the validation set (val-area=80)
VERSION = 1  # bump when a change alters results: exactly this task's runs retrain
ORIGINAL_KEYS = {"nitem": "nitem", "area": "area"}  # the original's matrix keys of this task: their names here


class SelectiveCopying(Task):
    keys = list(KEYS)

    @property
    def answer_width(self) -> int:
        return self.p["nitem"]

    @property
    def max_length(self) -> int:
        return self.p["area"] + 2 + self.p["nitem"]

    def python_text(self, rng) -> str:
        """The original generator, random call for random call."""
        cells = [" "] * self.p["area"]
        for i in range(self.p["nitem"]):
            while True:
                x = rng.randrange(self.p["area"])
                if cells[x] == " ":
                    break
            cells[x] = chr(ord("A") + i)
        question = "".join(cells)
        return question + ": " + question.replace(" ", "").ljust(self.p["nitem"])

    def numpy_texts(self, gen: np.random.Generator, n: int) -> Samples:
        area, nitem = self.p["area"], self.p["nitem"]
        pos = np.argsort(gen.random((n, area)), axis=1)[:, :nitem]  # letter i sits at pos[:, i]
        text = np.full((n, self.max_length), SPACE, dtype=np.uint8)
        rows = np.arange(n)[:, None]
        text[rows, pos] = ord("A") + np.arange(nitem, dtype=np.uint8)
        text[:, area] = ord(":")
        text[:, area + 2:] = ord("A") + np.argsort(pos, axis=1)
        return Samples(text, np.full(n, self.max_length, dtype=np.int64), nitem)

    def distinct_texts(self) -> int:
        return math.comb(self.p["area"], self.p["nitem"])

    def problems(self) -> list[tuple[str, str]]:
        if self.p["nitem"] > 26:
            return [("nitem", "at most 26 letters (A..Z)")]
        if self.p["nitem"] > self.p["area"]:
            return [("nitem", f"{self.p['nitem']} letters do not fit in area={self.p['area']}")]
        return []


def split_text(text: str) -> tuple[str, str]:
    """(question, answer field)."""
    cut = text.rindex(": ")
    return text[:cut], text[cut + 2:]


def solve(question: str) -> str:
    """The answer of a selective-copying question: its letters left to right."""
    return question.replace(" ", "")


TASK = SelectiveCopying
