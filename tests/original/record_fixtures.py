"""Record what the side-by-side tests establish, from the original's code alone, into
tests/fixtures/original.json, so that every CI run checks vslm against it (tests/test_fidelity.py)
without the original's code. Needs the folders the side-by-side tests need (their docstrings):

    VSLM_ORIGINAL=/tmp/orig python3 tests/original/record_fixtures.py

Each case: the original's generator's validation texts (hashed), and the original's model, given
vslm's seed-0 initial weights in float64, on the first 64 of them: logits, gradients of the
original trainer's loss, weights after 20 AdamW steps on vslm's seed-0 training batches.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import test_attention_original as attention  # noqa: E402
import test_selcopy_original as selcopy  # noqa: E402
from conftest import fidelity_facts, original_loss  # noqa: E402

from vslm.settings import resolve  # noqa: E402

OUT = HERE.parent / "fixtures" / "original.json"


def cases() -> dict:
    """name -> (settings, the original's model, the original's validation texts)."""
    _, selcopy_data = selcopy.original()
    _, program_data = attention.original()
    out = {"selcopy conv l6": (selcopy.SETTINGS, selcopy.models()[1],
                               [t for t, _ in selcopy_data(count=10000, num_items=10, area=40, seed=23,
                                                           with_masked=True)])}
    program = [t for t, _ in program_data(count=10000, seed=23, with_masked=True, num_items=26, input_length=5,
                                          num_operations=3, operators={">": 1})]
    for act in ("elu+1", "dpfp"):
        out[f"program conv l3 attention {act}"] = (dict(attention.SETTINGS, attnact=act),
                                                   attention.models(act)[1], program)
    return out


def main() -> None:
    facts = {name: {"settings": settings, **fidelity_facts(model, resolve(settings), strings, original_loss)}
             for name, (settings, model, strings) in cases().items()}
    OUT.write_text(json.dumps(facts, indent=1) + "\n")
    print(f"{len(facts)} cases -> {OUT}")


if __name__ == "__main__":
    main()
