"""Validation examples as text and as an image like the article's figures:
per sample the original text, the masked input and the model output, right
characters tinted green and wrong ones red."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MASK_GLYPH = "\u2588"


def _text(row: np.ndarray) -> str:
    return "".join(MASK_GLYPH if b == 0 else chr(b) if 32 <= b < 127 else "?" for b in row)


def examples_text(target: np.ndarray, masked: np.ndarray, output: np.ndarray, lengths: np.ndarray) -> str:
    lines = []
    for t, m, o, n in zip(target, masked, output, lengths):
        marks = "".join("^" if a != b else " " for a, b in zip(t[:n], o[:n])).rstrip()
        lines += [f"target  {_text(t[:n])}", f"input   {_text(m[:n])}", f"output  {_text(o[:n])}"]
        lines += [f"wrong   {marks}"] if marks else []
        lines.append("")
    return "\n".join(lines)


def examples_png(target: np.ndarray, masked: np.ndarray, output: np.ndarray, lengths: np.ndarray,
                 columns: int = 2) -> bytes:
    font = ImageFont.load_default()
    cw, chh = 7, 12
    width = int(lengths.max())
    rows = (len(target) + columns - 1) // columns
    cell_w, cell_h = (width + 2) * cw, 4 * chh
    img = Image.new("RGB", (columns * cell_w, rows * cell_h), (0, 0, 0))
    draw = ImageDraw.Draw(img)
    for i, (t, m, o, n) in enumerate(zip(target, masked, output, lengths)):
        x0, y0 = (i % columns) * cell_w + cw, (i // columns) * cell_h + 2
        for j in range(n):
            x = x0 + j * cw
            draw.text((x, y0), chr(t[j]), fill=(200, 200, 200), font=font)
            if m[j] == 0:
                draw.rectangle([x, y0 + chh, x + cw - 2, y0 + 2 * chh - 2], fill=(255, 255, 255))
            else:
                draw.text((x, y0 + chh), chr(m[j]), fill=(200, 200, 200), font=font)
            ok = o[j] == t[j]
            draw.rectangle([x, y0 + 2 * chh, x + cw - 1, y0 + 3 * chh - 1], fill=(0, 90, 0) if ok else (140, 0, 0))
            glyph = chr(o[j]) if 32 <= o[j] < 127 else "?"
            draw.text((x, y0 + 2 * chh), glyph, fill=(255, 255, 255), font=font)
    buf = io.BytesIO()
    img.convert("P", palette=Image.ADAPTIVE, colors=16).save(buf, format="PNG", optimize=True)  # 2.5x smaller
    return buf.getvalue()
