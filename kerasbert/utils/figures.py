"""Figures every floor draws: a CJK font for matplotlib, a pyplot-free figure, an atomic PNG save.

Figures are `matplotlib.figure.Figure` objects on an Agg canvas, so no
pyplot backend is touched.
"""

import os
import warnings

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kerasbert.utils.io import atomic_output_file

# Best first; any other family with "CJK" in its name comes after these.
PREFERRED_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)

_selected = None  # (family, file) once found
_warned = False


def _installed_fonts():
    """Family name -> font file, preferring the regular weight."""
    fonts = {}
    for entry in sorted(font_manager.fontManager.ttflist,
                        key=lambda e: (e.style != "normal", abs(_weight(e.weight) - 400))):
        fonts.setdefault(entry.name, entry.fname)
    return fonts


def _weight(weight):
    if isinstance(weight, (int, float)):
        return weight
    return font_manager.weight_dict.get(str(weight), 400)


def _pick(fonts):
    for family in PREFERRED_CJK_FAMILIES:
        if family in fonts:
            return family, fonts[family]
    others = sorted(name for name in fonts if "CJK" in name and "Mono" not in name)
    if others:
        return others[0], fonts[others[0]]
    return None


def _register_new_system_fonts():
    """Add CJK font files installed after matplotlib's font cache was built."""
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        lowered = os.path.basename(path).lower()
        if path not in known and any(key in lowered for key in ("cjk", "wqy", "simhei", "yahei", "sourcehan")):
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # unreadable font file: skip it
                pass


def find_cjk_font():
    """(family name, font file) of an installed CJK font, or None."""
    global _selected
    if _selected is None:
        found = _pick(_installed_fonts())
        if found is None:
            _register_new_system_fonts()
            found = _pick(_installed_fonts())
        _selected = found
    return _selected


def use_cjk_font():
    """Make matplotlib draw Chinese: returns the chosen family, or None.

    Warns once, naming the Debian package, when no CJK font is installed.
    """
    global _warned
    found = find_cjk_font()
    if found is None:
        if not _warned:
            warnings.warn(
                "No CJK font found: Chinese text in figures will show as boxes. "
                "Install one, e.g. `apt-get install fonts-noto-cjk` (Debian/Ubuntu).",
                RuntimeWarning,
                stacklevel=2,
            )
            _warned = True
        return None
    family = found[0]
    sans = [family] + [name for name in matplotlib.rcParams["font.sans-serif"] if name != family]
    if "DejaVu Sans" not in sans:
        sans.append("DejaVu Sans")  # fallback for glyphs the CJK font lacks
    matplotlib.rcParams["font.sans-serif"] = sans
    # A list, so matplotlib falls back glyph by glyph to DejaVu Sans.
    matplotlib.rcParams["font.family"] = [family, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family


def star_colors():
    """One colour per star, red (1★) to green (5★): a `(5, 4)` RGBA array."""
    # Red to green through orange and olive: every star stays visible on white.
    return np.array([(0.80, 0.15, 0.15, 1.0), (0.93, 0.49, 0.13, 1.0), (0.60, 0.55, 0.10, 1.0),
                     (0.45, 0.70, 0.20, 1.0), (0.10, 0.50, 0.25, 1.0)])


def new_figure(figsize):
    """A `Figure` on an Agg canvas with a CJK font selected (no pyplot)."""
    use_cjk_font()
    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, out_path, dpi=120):
    """Write `figure` as a PNG at `out_path` atomically; returns the path."""
    out_path = os.fspath(out_path)
    with atomic_output_file(out_path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return out_path
