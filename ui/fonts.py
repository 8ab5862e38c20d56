"""The CJK font every generated PDF and chart image embeds.

It comes from the project's own pip install (the `mplfonts` package ships Noto Sans CJK SC,
SIL Open Font License), so documents never depend on a system font that may be missing.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import mplfonts

FONT_DIR = Path(mplfonts.__file__).parent / "fonts"
CJK_FONT = FONT_DIR / "NotoSansCJKsc-Regular.otf"
CJK_FAMILY = "Noto Sans CJK SC"


def cjk_font_path() -> Path:
    if not CJK_FONT.is_file():  # a broken install: say which file is missing
        raise FileNotFoundError(f"CJK font missing: {CJK_FONT} (pip install mplfonts)")
    return CJK_FONT


@cache
def chart_fonts_registered() -> bool:
    """Let vl-convert (Altair charts → PNG) draw Chinese labels with the bundled font."""
    import vl_convert

    vl_convert.register_font_directory(str(FONT_DIR))
    return True


def chart_png(spec_json: str, scale: float = 2.0) -> bytes:
    """A Vega-Lite chart (Altair `chart.to_json()`) as PNG bytes, Chinese labels included."""
    import vl_convert

    chart_fonts_registered()
    png: bytes = vl_convert.vegalite_to_png(spec_json, scale=scale)
    return png
