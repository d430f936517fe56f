"""Static PNG images of the headline figures, for the README and the e-mail report.

The figures are the report's own plotly figures (:mod:`scorecard.report.plots`), drawn from the
numbers the evaluate stage wrote (``metrics.json``, ``reports/plots/*.csv``) and the scores of
the scorecard stage; kaleido 1.x renders them in a headless Chromium. Debian's
``/usr/bin/chromium`` is used unless ``BROWSER_PATH`` (read by kaleido's choreographer) or
``SCORECARD_CHROMIUM`` names another; MathJax is switched off so that nothing is fetched from a
CDN.

Run ``python -m scorecard.report.images`` (the ``images`` stage of ``dvc.yaml``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from scorecard.report import plots

IMAGES_DIR = "reports/images"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: Pixel size of every image (a README column, an e-mail body).
WIDTH, HEIGHT, SCALE = 900, 500, 2


def headline_figures(metrics: dict, roc: pd.DataFrame, ks: pd.DataFrame, gains: pd.DataFrame,
                     scores: dict[str, pd.Series]) -> dict:
    """The headline figures, by file stem.

    Parameters
    ----------
    metrics : dict
        ``metrics.json``.
    roc, ks, gains : DataFrame
        ``reports/plots/roc.csv``, ``ks.csv`` and ``gains.csv`` (a ``sample`` column each).
    scores : dict of str to Series
        The score of every applicant per sample (``train``, ``test``).

    Returns
    -------
    dict of str to plotly Figure
        ``roc``, ``ks_test``, ``score_distribution`` and ``score_bands``, each titled with the
        card version.
    """
    version = metrics["model_version"]
    figures = {
        "roc": plots.roc_chart(roc, metrics),
        "ks_test": plots.ks_chart(ks, "test", metrics["test"]["ks"]),
        "score_distribution": plots.score_histogram(scores),
        "score_bands": plots.gains_chart({s: g.reset_index(drop=True) for s, g in gains.groupby("sample", sort=False)}),
    }
    for fig in figures.values():
        fig.update_layout(title_text=f"{fig.layout.title.text} · card {version}", height=HEIGHT, width=WIDTH)
    return figures


def chromium_path() -> str:
    """The Chromium kaleido drives: ``BROWSER_PATH``, else ``SCORECARD_CHROMIUM``, else Debian's."""
    path = os.environ.get("BROWSER_PATH") or os.environ.get("SCORECARD_CHROMIUM") or DEFAULT_CHROMIUM
    if not Path(path).is_file():
        raise FileNotFoundError(f"Chromium not found at {path}: install Debian's chromium (apt) or set BROWSER_PATH")
    return path


def write_images(figures: dict, out_dir: str | Path, width: int = WIDTH, height: int = HEIGHT,
                 scale: int = SCALE) -> list[Path]:
    """Write each figure as ``<out_dir>/<name>.png`` with kaleido (one browser for all).

    Parameters
    ----------
    figures : dict of str to plotly Figure
        File stem to figure.
    out_dir : path
        Created when missing; PNGs of names not in ``figures`` are removed, so the folder
        holds exactly these images.
    width, height, scale : int
        Layout size in CSS pixels and the device scale factor of the PNG.

    Returns
    -------
    list of Path
        The PNG files, in the order of ``figures``.
    """
    import kaleido

    os.environ["BROWSER_PATH"] = chromium_path()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png" for name in figures]
    jobs = [{"fig": fig, "path": path, "opts": {"format": "png", "width": width, "height": height, "scale": scale}}
            for fig, path in zip(figures.values(), paths)]
    kaleido.write_fig_from_object_sync(jobs, kopts={"mathjax": False})
    for stale in set(out.glob("*.png")) - set(paths):
        stale.unlink()
    missing = [p for p in paths if not p.is_file() or p.stat().st_size == 0]
    if missing:
        raise RuntimeError(f"kaleido wrote no image for {missing}")
    return paths


def run(metrics_path: str | Path = "metrics.json", plots_dir: str | Path = "reports/plots",
        processed_dir: str | Path = "data/processed", out_dir: str | Path = IMAGES_DIR) -> list[Path]:
    """The images stage: read the pipeline's outputs and write the headline PNGs."""
    plots_dir, processed = Path(plots_dir), Path(processed_dir)
    metrics = json.loads(Path(metrics_path).read_text())
    scores = {s: pd.read_parquet(processed / f"scores_{s}.parquet", columns=["score"])["score"] for s in ("train", "test")}
    figures = headline_figures(metrics, pd.read_csv(plots_dir / "roc.csv"), pd.read_csv(plots_dir / "ks.csv"),
                               pd.read_csv(plots_dir / "gains.csv", dtype={"band": str}), scores)
    return write_images(figures, out_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scorecard.report.images", description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", default="metrics.json")
    parser.add_argument("--plots-dir", default="reports/plots")
    parser.add_argument("--processed-dir", default="data/processed")
    parser.add_argument("--out", default=IMAGES_DIR)
    args = parser.parse_args(argv)
    for path in run(args.metrics, args.plots_dir, args.processed_dir, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
