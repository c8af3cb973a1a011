"""PNG charts with matplotlib (`make bench` installs it); without it the report has no charts."""
from __future__ import annotations

from pathlib import Path

from .common import log
from .report import valid

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
except ImportError:
    matplotlib = plt = FuncFormatter = None


def pyplot(what: str):
    """matplotlib.pyplot, or None with a warning that `what` is not drawn."""
    if plt is None:
        log(f"WARNING: matplotlib unavailable (pip install matplotlib, or make bench), no {what} written")
    return plt


def grouped_bars(ax, groups: tuple[str, ...], names: list[str], value, colors: dict[str, str], width: float,
                 label, rotation: float = 0) -> None:
    """One bar per name in each group (`value(group, name)`, left out when missing), labelled."""
    for i, name in enumerate(names):
        xs, vs = [], []
        for j, group in enumerate(groups):
            v = value(group, name)
            if valid(v):
                xs.append(j + (i - (len(names) - 1) / 2) * width)
                vs.append(v)
        if vs:
            bars = ax.bar(xs, vs, width, color=colors[name])
            ax.bar_label(bars, labels=[label(v) for v in vs], fontsize=7, padding=2, rotation=rotation)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_xticks(range(len(groups)))


def log_scale(ax, minor: bool = False) -> None:
    """A log y axis with plain numbers (1, 2, 5, 10, ... rather than 10^0); `minor`: label the
    minor ticks that start with 1, 2, 3 or 5 too."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    if minor:
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if str(v)[0] in "1235" else ""))


def save_with_legend(fig, path: Path, names, colors: dict[str, str], labels: dict[str, str], title: str) -> None:
    """A legend of `names` under the panels, the title above them; written at 100 dpi."""
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[n]) for n in names]
    fig.legend(handles, [labels[n] for n in names], loc="lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
