"""The service-latency benchmark runs end to end at a tiny size: it starts `scorecard serve`,
sends real single-applicant requests to both endpoints (latency runs and a bounded load run),
gets no error, stops the server and writes its table. No timing is asserted (benchmarks
measure, tests do not)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from conftest import ROOT, project_env


def test_service_latency_benchmark_runs(tmp_path, pipeline):
    """Needs the pipeline's outputs (data/processed/test.parquet): `pipeline` runs dvc repro."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "service_latency.py"), "--requests", "60",
         "--concurrency", "1", "3", "--load", "200", "--load-concurrency", "20", "--out-dir", str(tmp_path)],
        cwd=ROOT, env=project_env(), capture_output=True, text=True, timeout=600)
    print(result.stdout, result.stderr[-2000:])
    assert result.returncode == 0, result.stderr[-4000:]
    with (tmp_path / "service_latency.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["endpoint"], r["concurrency"], r["requests"]) for r in rows] == [
        ("/score", "1", "60"), ("/score", "3", "60"), ("/score", "20", "200"),
        ("/score/application", "1", "60"), ("/score/application", "3", "60"), ("/score/application", "20", "200")]
    for row in rows:
        assert row["errors"] == "0"
        assert 0 < float(row["p50_ms"]) <= float(row["p90_ms"]) <= float(row["p99_ms"]) <= float(row["max_ms"])
    meta = json.loads((tmp_path / "service_latency.json").read_text())
    assert meta["cpus"] and len(meta["load_average"]) == 3 and meta["rows"][0]["error_examples"] == []


def test_committed_latency_results_cover_both_endpoints():
    path = ROOT / "reports" / "benchmarks" / "service_latency.csv"
    assert path.is_file(), f"{path} missing: run `.venv/bin/python benchmarks/service_latency.py`"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["endpoint"] for r in rows} == {"/score", "/score/application"}
    assert all(r["errors"] == "0" and int(r["requests"]) >= 5000 for r in rows)
    # The bounded load run of the issue: 20,000 requests at 50 concurrent, per endpoint, 0 errors.
    load = {r["endpoint"] for r in rows if int(r["concurrency"]) >= 50 and int(r["requests"]) >= 20000}
    assert load == {"/score", "/score/application"}
    assert all(float(r["p99_ms"]) > 0 for r in rows)
