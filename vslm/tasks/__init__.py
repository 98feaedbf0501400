"""Task registry: one module per task. A task module declares its setting keys (`KEYS`),
`DEFAULTS`, the keys the validation set may set apart (`VALIDATION_KEYS`), its `VERSION` stamp,
its generator class (`TASK`), an independent checker (`split_text`, `solve`) and optionally
`ORIGINAL_KEYS` (the original's matrix keys and their names here). Adding a task is
one module plus its line here."""
from __future__ import annotations

from ..keys import SettingsError
from . import program, selcopy
from .base import Samples, Task, TrainStream, split_params

TASKS = {"selcopy": selcopy, "program": program}


def make_task(settings: dict, split: str = "train") -> Task:
    cls = TASKS[settings["task"]].TASK
    return cls(split_params(settings, split, cls.keys))


def validation_set(settings: dict) -> Samples:
    """The fixed validation set: the original's generator with ``random.Random(val-seed)``."""
    return make_task(settings, "validation").python_samples(settings["val-count"], seed=settings["val-seed"])


def train_stream(settings: dict, validation: Samples) -> TrainStream:
    return TrainStream(make_task(settings, "train"), validation, settings["seed"], settings["epoch"])


def check_task(settings: dict) -> None:
    """Raise SettingsError for task settings the generator cannot satisfy."""
    for split, prefix, needed in (("train", "", settings["epoch"]), ("validation", "val-", settings["val-count"])):
        task = make_task(settings, split)
        for key, reason in task.problems():
            name = prefix + key if prefix + key in settings else key
            raise SettingsError(name, settings[name], reason)
        if task.distinct_texts() < needed:
            key = "epoch" if split == "train" else "val-count"
            raise SettingsError(key, settings[key], f"the {split} task has at most {task.distinct_texts()} "
                                                    "distinct texts, fewer than this many samples")


def check_answer(task: str, text: str) -> bool:
    """Whether a full text's answer field is right, judged from its question alone."""
    module = TASKS[task]
    question, answer = module.split_text(text)
    return answer.rstrip(" ") == module.solve(question)
