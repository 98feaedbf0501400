"""Very selective copying: run a tiny program on distinct input letters.

Operations (1-based positions): ``i>j`` swaps two cells, ``-i`` removes cell i and
pushes it on a stack, ``+i`` pops the most recently pushed letter (LIFO) and inserts
it at position i. The answer is the remaining cells, space-padded to the largest
input length. Two text formats, as in the article:

    tight  'NPFKT:5>4 3>1 1>4 4>2 1>3:NFTPK'
    loose  'CFUR: 4>2: CRUF '   (the preliminary experiment; ops joined by ', ')
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..keys import Key, choice, int_range, integer, keyed
from .base import SPACE, Samples, Task, compact, lo_hi

KEYS = keyed(
    Key("nitem", integer, "number of letters (selcopy: A.. in order; program: alphabet size)"),
    Key("len", lambda k, v: int_range(k, v, 1), "program: input length, N or lo,hi"),
    Key("nops", lambda k, v: int_range(k, v, 0), "program: number of operations, N or lo,hi"),
    Key("operators", choice(["all", "swap"]), "program: all = swap and stack ops (1 : 1/3 : 1/3), "
        "swap = swap only"),
    Key("format", choice(["tight", "loose"]), "program: tight 'AB:1>2:BA' or the older loose 'AB: 1>2: BA'"),
)
DEFAULTS = {"nitem": 26, "len": 5, "nops": 3, "operators": "swap", "format": "tight"}
VALIDATION_KEYS = ("nitem", "len", "nops", "operators")  # may be set apart for the validation set
VERSION = 1  # bump when a change alters results: exactly this task's runs retrain
ORIGINAL_KEYS = {"nitem": "nitem", "len": "len", "nops": "nops", "vnops": "val-nops"}  # the original's matrix keys

OPERATORS = {"all": {">": 1.0, "-": 1 / 3, "+": 1 / 3}, "swap": {">": 1.0}}
SEPARATORS = {"tight": (":", " "), "loose": (": ", ", ")}  # (after input and program, between ops)


class Program(Task):
    keys = list(KEYS)

    @property
    def answer_width(self) -> int:
        return lo_hi(self.p["len"])[1]

    @property
    def _digits(self) -> int:
        return len(str(self.answer_width))

    @property
    def max_length(self) -> int:
        sep, join = SEPARATORS[self.p["format"]]
        nops = lo_hi(self.p["nops"])[1]
        token = 2 * self._digits + 1
        program = nops * token + max(0, nops - 1) * len(join)
        return 2 * self.answer_width + 2 * len(sep) + program

    def python_text(self, rng) -> str:
        """The original generator, random call for random call."""
        n_in = rng.randint(*self.p["len"]) if isinstance(self.p["len"], list) else self.p["len"]
        n_ops = rng.randint(*self.p["nops"]) if isinstance(self.p["nops"], list) else self.p["nops"]
        items = [chr(ord("A") + i) for i in range(self.p["nitem"])]
        rng.shuffle(items)
        cells = items[:n_in]
        program_input = list(cells)
        ops_table = OPERATORS[self.p["operators"]]
        names, weights = list(ops_table), list(ops_table.values())
        stack, ops = [], []
        while cells and len(ops) < n_ops:
            op = rng.choices(names, weights)[0]
            if op == "-":
                idx = rng.randrange(len(cells))
                stack.append(cells.pop(idx))
                ops.append(f"-{idx + 1}")
            elif op == "+" and stack:
                idx = rng.randrange(len(cells))
                cells.insert(idx, stack.pop())
                ops.append(f"+{idx + 1}")
            elif op == ">" and len(cells) >= 2:
                indices = list(range(len(cells)))
                rng.shuffle(indices)
                i1, i2 = indices[:2]
                cells[i1], cells[i2] = cells[i2], cells[i1]
                ops.append(f"{i1 + 1}>{i2 + 1}")
        sep, join = SEPARATORS[self.p["format"]]
        answer = "".join(cells).ljust(self.answer_width)[: self.answer_width]
        return "".join(program_input) + sep + join.join(ops) + sep + answer

    def numpy_texts(self, gen: np.random.Generator, n: int) -> Samples:
        """A batch from the same distribution, vectorised over samples (loop over op slots only).

        Discarding an inapplicable operator and drawing again, as the original does,
        equals drawing from the weights of the applicable operators, which is done here.
        """
        (l_lo, hi), (o_lo, o_hi) = lo_hi(self.p["len"]), lo_hi(self.p["nops"])
        n_in = gen.integers(l_lo, hi + 1, n) if l_lo < hi else np.full(n, hi)
        n_ops = gen.integers(o_lo, o_hi + 1, n) if o_lo < o_hi else np.full(n, o_hi)
        letters = np.argsort(gen.random((n, self.p["nitem"])), axis=1)[:, :hi].astype(np.int16) + ord("A")
        cells, stack = letters.copy(), np.zeros((n, hi), dtype=np.int16)
        clen, ssize, done = n_in.copy(), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        kind = np.full((n, o_hi), -1)  # 0 swap, 1 remove/push, 2 pop/insert
        arg_a, arg_b = np.zeros((n, o_hi), dtype=np.int64), np.zeros((n, o_hi), dtype=np.int64)
        w = OPERATORS[self.p["operators"]]
        rows, cols = np.arange(n), np.arange(hi)[None, :]
        for k in range(o_hi):
            active = (done < n_ops) & (clen > 0)
            ws, wm = w.get(">", 0) * (clen >= 2), w.get("-", 0) * (clen >= 1)
            wp = w.get("+", 0) * (ssize > 0)
            u = gen.random(n) * (ws + wm + wp)
            swap, push = active & (u < ws), active & (u >= ws) & (u < ws + wm)
            pop = active & ~swap & ~push
            i1 = np.minimum((gen.random(n) * clen).astype(np.int64), np.maximum(clen - 1, 0))
            i2 = np.minimum((gen.random(n) * (clen - 1)).astype(np.int64), np.maximum(clen - 2, 0))
            i2 += i2 >= i1
            r = rows[swap]
            cells[r, i1[swap]], cells[r, i2[swap]] = cells[r, i2[swap]], cells[r, i1[swap]]
            r = rows[push]
            stack[r, ssize[r]] = cells[r, i1[r]]
            src = np.minimum(cols + (cols >= i1[r, None]), hi - 1)
            cells[r] = np.take_along_axis(cells[r], src, axis=1)
            ssize[r] += 1
            clen[r] -= 1
            r = rows[pop]
            item = stack[r, ssize[r] - 1]
            src = np.maximum(cols - (cols > i1[r, None]), 0)
            cells[r] = np.take_along_axis(cells[r], src, axis=1)
            cells[r, i1[r]] = item
            ssize[r] -= 1
            clen[r] += 1
            kind[active, k] = np.select([swap, push], [0, 1], 2)[active]
            arg_a[:, k], arg_b[:, k] = i1 + 1, i2 + 1
            done += active
        return self._format(letters, n_in, kind, arg_a, arg_b, cells, clen)

    def _format(self, letters, n_in, kind, arg_a, arg_b, cells, clen) -> Samples:
        n, hi = letters.shape
        cols = np.arange(hi)[None, :]
        sep, join = SEPARATORS[self.p["format"]]

        def chars(s):
            return np.tile(np.array([ord(c) for c in s], dtype=np.int16), (n, 1))

        def where(cond, a, b):
            return np.where(cond[:, None], a, b)

        def digits(v):
            out = np.stack([(v // 10 ** p) % 10 + ord("0") for p in reversed(range(self._digits))], axis=1)
            out[:, :-1][v[:, None] < 10 ** np.arange(self._digits - 1, 0, -1)] = -1
            return out.astype(np.int16)

        empty = np.full((n, 1), -1, dtype=np.int16)
        parts = [np.where(cols < n_in[:, None], letters, -1), chars(sep)]
        for k in range(kind.shape[1]):
            has = kind[:, k] >= 0
            if k:
                parts.append(where(has, chars(join), -1))
            t = kind[:, k]
            parts.append(np.select([t == 1, t == 2], [ord("-"), ord("+")], -1)[:, None].astype(np.int16))
            parts.append(where(has, digits(arg_a[:, k]), -1))
            parts.append(where(t == 0, chars(">"), empty))
            parts.append(where(t == 0, digits(arg_b[:, k]), -1))
        parts += [chars(sep), np.where(cols < clen[:, None], cells, SPACE)]
        text, length = compact(np.concatenate(parts, axis=1).astype(np.int16))
        return Samples(np.ascontiguousarray(text[:, : self.max_length]), length, self.answer_width)

    def distinct_texts(self) -> int:
        """An upper bound on the number of distinct texts (for feasibility checks)."""
        (l_lo, l_hi), (o_lo, o_hi) = lo_hi(self.p["len"]), lo_hi(self.p["nops"])
        per_op = l_hi * (l_hi - 1) + (2 * l_hi if self.p["operators"] == "all" else 0)
        return sum(math.perm(self.p["nitem"], m) * sum(per_op**k for k in range(o_lo, o_hi + 1))
                   for m in range(l_lo, l_hi + 1))

    def problems(self) -> list[tuple[str, str]]:
        (l_lo, l_hi), (_, o_hi) = lo_hi(self.p["len"]), lo_hi(self.p["nops"])
        if self.p["nitem"] > 26:
            return [("nitem", "at most 26 letters (A..Z)")]
        if l_hi > self.p["nitem"]:
            return [("len", f"input longer than the alphabet (nitem={self.p['nitem']})")]
        if self.p["operators"] == "swap" and l_lo < 2 and o_hi > 0:
            return [("len", "swap-only programs need inputs of at least 2 letters")]
        return []


def split_text(text: str) -> tuple[str, str]:
    """(question, answer field) of a tight or loose text."""
    sep = ": " if text[text.index(":") + 1:].startswith(" ") else ":"
    cut = text.rindex(sep)
    return text[:cut], text[cut + len(sep):]


def solve(question: str) -> str:
    """The answer of a program, computed from the question text alone."""
    inp, program = question.split(":", 1)
    cells, stack = list(inp.strip()), []
    for op in re.findall(r"\d+>\d+|[-+]\d+", program):
        if ">" in op:
            i, j = (int(x) - 1 for x in op.split(">"))
            cells[i], cells[j] = cells[j], cells[i]
        elif op[0] == "-":
            stack.append(cells.pop(int(op[1:]) - 1))
        else:
            cells.insert(int(op[1:]) - 1, stack.pop())
    return "".join(cells)


TASK = Program
