"""Adding a task is one module plus its registry line: a toy task, registered here, trains end to
end; the key tables, defaults, run key stamps and the checker come from the module itself."""
import types

import numpy as np

import vslm.train as train_mod
from vslm import tasks
from vslm.keys import Key, integer, keyed
from vslm.settings import resolve, run_key, version_stamps
from vslm.tasks.base import Samples, Task


class Reverse(Task):
    """'0123:3210': the digits, then the digits reversed."""

    name = "reverse"
    keys = ["ndigit"]

    @property
    def answer_width(self):
        return self.p["ndigit"]

    @property
    def max_length(self):
        return 2 * self.p["ndigit"] + 1

    def python_text(self, rng):
        digits = "".join(rng.choice("0123456789") for _ in range(self.p["ndigit"]))
        return f"{digits}:{digits[::-1]}"

    def numpy_texts(self, gen, n):
        digits = gen.integers(0, 10, (n, self.p["ndigit"])).astype(np.uint8) + ord("0")
        text = np.concatenate([digits, np.full((n, 1), ord(":"), np.uint8), digits[:, ::-1]], axis=1)
        return Samples(text, np.full(n, self.max_length, np.int64), self.answer_width)

    def distinct_texts(self):
        return 10 ** self.p["ndigit"]

    def problems(self):
        return []


def toy_module() -> types.ModuleType:
    m = types.ModuleType("reverse")
    m.KEYS = keyed(Key("ndigit", integer, "reverse: number of digits"))
    m.DEFAULTS, m.VALIDATION_KEYS, m.VERSION, m.TASK = {"ndigit": 4}, ("ndigit",), 1, Reverse
    m.split_text = lambda text: tuple(text.split(":"))
    m.solve = lambda question: question[::-1]
    return m


def test_a_registered_toy_task_trains_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setitem(tasks.TASKS, "reverse", toy_module())
    s = resolve(dict(task="reverse", l=2, ch=16, ks=5, samples=1024, epoch=1024, threads=1, progress=False,
                     **{"val-count": 256, "val-every": 512}))
    assert s["ndigit"] == 4 and version_stamps()["task:reverse"] == 1
    result = train_mod.run(s, tmp_path)
    assert result["status"] == "done" and result["run_key"] == run_key(s)
    assert tasks.check_answer("reverse", "0123:3210") and not tasks.check_answer("reverse", "0123:0123")
