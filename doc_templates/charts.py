"""Charts of a 季度通报's figures as PNG images (matplotlib, drawn off screen).

``figures_chart(title, labels, series)`` draws one horizontal bar per unit and series
(报送信息, 推送省办, 省简报采用, 国家网站采用), the units top to bottom in the order given
(the 通报's 名次), with Chinese text in the first CJK font the machine has (Noto Sans CJK,
the Fandol fonts; see doc_templates/fonts/fonts.conf for printing). The image is small
enough to embed in a Prefect markdown artifact as a data URI.
"""

from __future__ import annotations

import functools
import io

#: Fonts tried for Chinese text, first found wins.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "FandolHei", "WenQuanYi Zen Hei", "SimHei")
#: One colour per series, in order.
COLOURS = ("#4472c4", "#70ad47", "#ed7d31", "#c00000")


@functools.cache
def _font_family() -> list[str]:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def figures_chart(title: str, labels: list[str], series: dict[str, list[int]]) -> bytes:
    """A grouped horizontal bar chart as PNG bytes: ``labels`` top to bottom, a bar per series."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows, groups = len(labels), len(series)
    figure = Figure(figsize=(8, 1.2 + 0.42 * max(rows, 1)), dpi=80)
    with matplotlib.rc_context({"font.family": _font_family(), "axes.unicode_minus": False}):
        axes = figure.subplots()
        height = 0.8 / max(groups, 1)
        for i, ((name, values), colour) in enumerate(zip(series.items(), COLOURS, strict=False)):
            positions = [row + (i - (groups - 1) / 2) * height for row in range(rows)]
            axes.barh(positions, values, height=height, label=name, color=colour)
        axes.set_yticks(range(rows), labels)
        axes.invert_yaxis()
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("条数")
        axes.set_title(title, pad=26)
        axes.grid(axis="x", alpha=0.3)
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=max(groups, 1), frameon=False)
        out = io.BytesIO()
        figure.savefig(out, format="png", bbox_inches="tight", metadata={"Software": None})
    return out.getvalue()
