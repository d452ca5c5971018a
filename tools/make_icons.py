"""Draw the Teams app icons, manifest/color.png (192x192) and manifest/outline.png (32x32).

Run once when the design changes (`python tools/make_icons.py`); the PNGs are committed.
Plain Python (zlib + struct), so no imaging library is needed: a bell, drawn with
4x4 supersampling for smooth edges. Teams wants the outline icon white on transparent.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent.parent / "manifest"
BACKGROUND = (0x0F, 0x6C, 0xBD)  # Entra blue
WHITE = (0xFF, 0xFF, 0xFF)
DOT = (0xF7, 0x63, 0x0C)
SAMPLES = 4

Shape = Callable[[float, float], bool]


def _circle(cx: float, cy: float, r: float) -> Shape:
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _bell(x: float, y: float) -> bool:
    """The bell in unit coordinates (0..1, y down)."""
    dome = y <= 0.42 and _circle(0.5, 0.42, 0.22)(x, y)
    half = 0.22 + (0.30 - 0.22) * (y - 0.42) / 0.26
    body = 0.42 <= y <= 0.68 and abs(x - 0.5) <= half
    rim = 0.66 <= y <= 0.74 and 0.16 <= x <= 0.84
    return dome or body or rim or _circle(0.5, 0.81, 0.07)(x, y) or _circle(0.5, 0.19, 0.05)(x, y)


def _coverage(shape: Shape, px: int, py: int, size: int) -> float:
    hits = sum(
        shape((px + (i + 0.5) / SAMPLES) / size, (py + (j + 0.5) / SAMPLES) / size)
        for i in range(SAMPLES)
        for j in range(SAMPLES)
    )
    return hits / (SAMPLES * SAMPLES)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def color_icon(size: int = 192) -> list[list[tuple[int, int, int, int]]]:
    dot = _circle(0.73, 0.27, 0.085)
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            pixel = _mix(BACKGROUND, WHITE, _coverage(_bell, px, py, size))
            pixel = _mix(pixel, DOT, _coverage(dot, px, py, size))
            row.append((*pixel, 255))
        rows.append(row)
    return rows


def outline_icon(size: int = 32) -> list[list[tuple[int, int, int, int]]]:
    return [
        [(*WHITE, round(255 * _coverage(_bell, px, py, size))) for px in range(size)]
        for py in range(size)
    ]


def png(pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """RGBA PNG bytes."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(c for p in row for c in p) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    (MANIFEST / "color.png").write_bytes(png(color_icon()))
    (MANIFEST / "outline.png").write_bytes(png(outline_icon()))
    print(f"wrote {MANIFEST / 'color.png'} and {MANIFEST / 'outline.png'}")


if __name__ == "__main__":
    main()
