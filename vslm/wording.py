"""The article's fixed prose (workflow/report/text.yaml), each paragraph filled in by
`string.Template` (only `$name` substitution: nothing in the file is evaluated)."""
from __future__ import annotations

from pathlib import Path
from string import Template

import yaml

from .files import FileError, read_text

MAX_WORDING_BYTES = 200_000


class Wording:
    """The paragraphs of one wording file, by key."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            texts = yaml.safe_load(read_text(self.path, MAX_WORDING_BYTES))
        except yaml.YAMLError as e:
            raise FileError(f"{self.path}: not YAML ({str(e).splitlines()[0]})") from None
        if not isinstance(texts, dict) or not all(isinstance(v, str) for v in texts.values()):
            raise FileError(f"{self.path}: expected a mapping of keys to paragraphs of text")
        self.texts = texts

    def __call__(self, key: str, **values) -> str:
        """Paragraph `key` with its `$name`s filled in from `values`."""
        try:
            return Template(self.texts[key].strip()).substitute({k: str(v) for k, v in values.items()})
        except KeyError as e:
            raise FileError(f"{self.path}: key {key!r} is missing or names an unknown value {e}") from None
        except ValueError as e:
            raise FileError(f"{self.path} key {key!r}: {e}") from None
