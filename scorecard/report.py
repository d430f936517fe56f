"""Display helpers for the report notebooks and pages.

Quarto adds require.js and jQuery from a CDN as soon as a cell output carries ``text/html``
or ``application/javascript``. These helpers emit Markdown only: tables as Markdown tables,
plotly figures as a raw HTML block inside Markdown, with plotly.js inlined by the first
figure of each page (no CDN, no MathJax), so that the site works offline and from disk.
"""

from __future__ import annotations

import pandas as pd

_page = {"plotly_included": False}


def _display_markdown(text: str) -> None:
    from IPython.display import display

    display({"text/markdown": text}, raw=True)


def md(text: str) -> None:
    """Show a Markdown paragraph (one sentence saying what to read from a table or figure)."""
    _display_markdown(text)


def table(frame: pd.DataFrame, digits: int = 4, index: bool = False) -> None:
    """Show a DataFrame as a Markdown table."""
    shown = frame.copy()
    for column in shown.select_dtypes("float").columns:
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:,.{digits}f}".rstrip("0").rstrip("."))
    _display_markdown(shown.to_markdown(index=index))


def figure_html(fig, include_plotlyjs: bool) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, include_mathjax=False,
                       config={"displaylogo": False, "responsive": True})


def figure(fig) -> None:
    """Show a plotly figure as raw HTML; the first figure of the page carries plotly.js."""
    first = not _page["plotly_included"]
    _page["plotly_included"] = True
    _display_markdown("```{=html}\n" + figure_html(fig, include_plotlyjs=first) + "\n```")
