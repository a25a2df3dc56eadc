"""What the commands leave behind: PNG plots (matplotlib, headless) and a report page written
twice, as Markdown and as HTML, next to a JSON file of the numbers."""

from __future__ import annotations

import html
import json
import pathlib

import numpy as np

PLOTS_EXTRA = 'pip install "rnnkit[plots]"'


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (nothing is ever shown on screen)."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(f"rnnkit's plots need matplotlib: {PLOTS_EXTRA}") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


COLORS = {"SimpleRNN": "tab:red", "LSTM": "tab:blue", "GRU": "tab:green"}


def line_panels(path, panels, xlabel, ylabel, logy=True):
    """One row of panels; panels: [(title, {label: (x, y, style)})]. Writes the PNG at path."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False,
                             sharey=logy)
    for ax, (title, lines) in zip(axes[0], panels):
        for label, (x, y, style) in lines.items():
            y = np.asarray(y, dtype=float)
            if logy:  # a gradient that underflowed to 0 leaves the line instead of diving
                y = np.where(y > 0, y, np.nan)
            ax.plot(x, y, style, color=COLORS.get(label.split()[0]), label=label)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        if logy:
            ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return pathlib.Path(path)


class Report:
    """A page of headings, paragraphs, tables and images, saved as <stem>.md and <stem>.html."""

    def __init__(self, title: str):
        self.title, self.blocks = title, []

    def text(self, paragraph: str):
        self.blocks.append(("text", paragraph))

    def heading(self, title: str):
        self.blocks.append(("heading", title))

    def table(self, header, rows):
        self.blocks.append(("table", (list(header), [list(map(str, r)) for r in rows])))

    def image(self, path, caption: str):
        self.blocks.append(("image", (pathlib.Path(path).name, caption)))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for kind, body in self.blocks:
            if kind == "text":
                out += [body, ""]
            elif kind == "heading":
                out += [f"## {body}", ""]
            elif kind == "table":
                header, rows = body
                out += ["| " + " | ".join(header) + " |",
                        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
                out += ["| " + " | ".join(r) + " |" for r in rows] + [""]
            else:
                out += [f"![{body[1]}]({body[0]})", ""]
        return "\n".join(out)

    def html(self) -> str:
        e = html.escape
        out = ["<!doctype html>", "<meta charset='utf-8'>", f"<title>{e(self.title)}</title>",
               "<style>body{font-family:sans-serif;max-width:64em;margin:2em auto}"
               "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}"
               "td:not(:first-child){text-align:right}img{max-width:100%}</style>",
               f"<h1>{e(self.title)}</h1>"]
        for kind, body in self.blocks:
            if kind == "text":
                out.append(f"<p>{e(body)}</p>")
            elif kind == "heading":
                out.append(f"<h2>{e(body)}</h2>")
            elif kind == "table":
                header, rows = body
                out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows]
                out.append("</table>")
            else:
                out.append(f"<figure><img src='{e(body[0])}' alt='{e(body[1])}'>"
                           f"<figcaption>{e(body[1])}</figcaption></figure>")
        return "\n".join(out) + "\n"

    def save(self, folder, stem: str, numbers: dict) -> pathlib.Path:
        folder = pathlib.Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.md").write_text(self.markdown(), encoding="utf-8")
        (folder / f"{stem}.html").write_text(self.html(), encoding="utf-8")
        (folder / f"{stem}.json").write_text(json.dumps(numbers, indent=1, default=_plain),
                                             encoding="utf-8")
        return folder / f"{stem}.md"


def _plain(value):
    return value.tolist() if hasattr(value, "tolist") else str(value)
