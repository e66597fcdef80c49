"""Pick an installed CJK font for matplotlib so Chinese text renders."""

import os
import warnings

import matplotlib
from matplotlib import font_manager

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
