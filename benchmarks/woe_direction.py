"""Does each card feature point the same way on the test year as on the development sample?

For every bin of every card feature: its applicants and bad rate on the training window and on
the out-of-time test window (``split.method: time``; for the committed parameters 2007-2010
and 2011), and the WoE computed on each sample. Without an application date there is no time
to turn around in: the script says so and stops (``split.method`` random or stratified). A bin *flips* when its
train and test WoE have opposite signs and both are farther than ``--tolerance`` from 0 (its
points clearly point one way in development and the evidence clearly the other way on test);
a bin near 0 in training (0 or 1 point) whose test WoE has the other sign is listed as
*near-neutral drift*, not as a flip; a feature *reverses* when the Spearman
correlation of its bins' train and test WoE is negative. Bins with fewer than ``--min-count``
test applicants are listed but not judged.

Run from the project root after the pipeline (or pass --card and --processed); the card must
have been built from ``--params`` (its ``created_from.params_sha256``)::

    .venv/bin/python benchmarks/woe_direction.py   # writes reports/benchmarks/woe_direction.csv (+ .json)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TARGET = "bad"


def woe(bad: np.ndarray, count: np.ndarray) -> np.ndarray:
    """ln(share of goods / share of bads) per bin (0 for an empty bin or one without goods/bads)."""
    good = count - bad
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log((good / good.sum()) / (bad / bad.sum()))
    return np.where(np.isfinite(out), out, 0.0)


def direction_table(card, train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    from scorecard.card import bin_label

    rows = []
    ids = {s: card.bin_ids(f)[0] for s, f in (("train", train), ("test", test))}
    for feature in card.features:
        name = feature["name"]
        stats = {}
        for sample, frame in (("train", train), ("test", test)):
            grouped = pd.DataFrame({"id": ids[sample][name].to_numpy(), "bad": frame[TARGET].to_numpy()})
            agg = grouped.groupby("id")["bad"].agg(["size", "sum"])
            count = np.array([agg["size"].get(b["id"], 0) for b in feature["bins"]], dtype=float)
            bad = np.array([agg["sum"].get(b["id"], 0) for b in feature["bins"]], dtype=float)
            stats[sample] = (count, bad, woe(bad, count))
        for i, b in enumerate(feature["bins"]):
            rows.append({"feature": name, "bin": bin_label(b), "points": b["points"],
                         "train_count": int(stats["train"][0][i]), "test_count": int(stats["test"][0][i]),
                         "train_bad_rate": stats["train"][1][i] / stats["train"][0][i] if stats["train"][0][i] else np.nan,
                         "test_bad_rate": stats["test"][1][i] / stats["test"][0][i] if stats["test"][0][i] else np.nan,
                         "train_woe": stats["train"][2][i], "test_woe": stats["test"][2][i]})
    return pd.DataFrame(rows)


def judge(table: pd.DataFrame, tolerance: float, min_count: int) -> pd.DataFrame:
    judged = table["test_count"] >= min_count
    opposite = judged & (np.sign(table["train_woe"]) * np.sign(table["test_woe"]) < 0)
    table["flips"] = opposite & (table["test_woe"].abs() > tolerance) & (table["train_woe"].abs() > tolerance)
    table["near_neutral_drift"] = opposite & ~table["flips"]
    summary = []
    for name, g in table.groupby("feature", sort=False):
        g = g[g["test_count"] >= min_count]
        rho = g["train_woe"].rank().corr(g["test_woe"].rank()) if len(g) > 1 else np.nan
        summary.append({"feature": name, "bins_judged": len(g), "bins_flipped": int(g["flips"].sum()),
                        "bins_near_neutral_drift": int(g["near_neutral_drift"].sum()),
                        "spearman_train_test_woe": round(float(rho), 3) if rho == rho else None,
                        "reverses": bool(rho < 0) if rho == rho else False})
    return pd.DataFrame(summary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml", help="parameters file (relative to --root)")
    parser.add_argument("--root", default=str(ROOT), help="project root the paths are relative to")
    parser.add_argument("--card", default="scorecard/scorecard.json")
    parser.add_argument("--processed", default="data/processed")
    parser.add_argument("--out", default="reports/benchmarks/woe_direction.csv")
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--min-count", type=int, default=100)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from model_quality import split_record, write_sidecar
    from scorecard import card as cardlib
    from scorecard.config import load_params
    from scorecard.build.etl import load_processed
    from scorecard.report import benchmark_identity

    root = Path(args.root).resolve()
    params = load_params(root / args.params)
    if params.split.method != "time":
        print(f"{args.params}: split.method is '{params.split.method}': the WoE direction out of time needs an "
              "application date (data.date_column) and split.method time; nothing written", file=sys.stderr)
        return 2
    card = cardlib.load(root / args.card)
    built_from = card.document.get("created_from", {}).get("params_sha256")
    if built_from != params.digest():
        print(f"{args.card} was built from parameters with digest {built_from}, not from {args.params} "
              f"({params.digest()}): build the card first (dvc repro) or pass --card; nothing written", file=sys.stderr)
        return 2
    identity = benchmark_identity(params, root)
    train, test = load_processed(root / args.processed)
    table = direction_table(card, train, test)
    summary = judge(table, args.tolerance, args.min_count)
    out = root / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    table.round(6).to_csv(out, index=False)
    write_sidecar(out, "woe_direction", identity, params_file=args.params, card_version=card.version,
                  split=split_record(params, train, test), tolerance=args.tolerance, min_count=args.min_count)
    print(summary.to_string(index=False))
    for column, title in (("flips", "bins whose WoE flips sign on the test year"),
                          ("near_neutral_drift", "bins near 0 in training whose test WoE has the other sign")):
        chosen = table[table[column]]
        print(f"\n{title}: {len(chosen) or 'none'}")
        if len(chosen):
            print(chosen[["feature", "bin", "points", "train_count", "test_count", "train_woe", "test_woe"]]
                  .round(3).to_string(index=False))
    print(f"\nfeatures with a flipped bin or a reversed trend: "
          f"{', '.join(summary.loc[(summary['bins_flipped'] > 0) | summary['reverses'], 'feature']) or 'none'}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
