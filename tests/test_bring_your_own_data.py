"""Nothing is hard-wired to LendingClub's names: the whole pipeline runs on a differently shaped
file (Spanish column names, Latin-1 encoding, an id column, a different target rule) described
only by its parameters."""

import yaml

from conftest import ROOT, copy_project_inputs, sample_rows, write_csv
from scorecard import card as cardlib
from scorecard.config import parse_params
from scorecard.pipeline import run_all

RENAME = {
    "annual_inc": "ingreso_anual", "addr_state": "estado", "issue_d": "fecha_solicitud",
    "loan_status": "resultado", "loan_amnt": "monto_solicitado", "dti": "deuda_ingreso",
    "revol_util": "uso_credito_revolvente", "inq_last_6mths": "consultas_6m", "term": "plazo",
    "purpose": "destino", "emp_length": "antiguedad_empleo", "earliest_cr_line": "primer_credito",
}
OUTCOME = {"Charged Off": "incumplido", "Does not meet the credit policy. Status:Charged Off": "incumplido",
           "Fully Paid": "pagado", "Does not meet the credit policy. Status:Fully Paid": "pagado"}


def renamed(node):
    """params with every key and value that names a renamed column replaced."""
    if isinstance(node, dict):
        return {RENAME.get(k, k): renamed(v) for k, v in node.items()}
    if isinstance(node, list):
        return [renamed(v) for v in node]
    return RENAME.get(node, node) if isinstance(node, str) else node


def test_pipeline_runs_on_a_differently_shaped_file(raw_text, tmp_path):
    frame = sample_rows(raw_text, 1500, seed=11).rename(columns=RENAME)
    frame["resultado"] = frame["resultado"].map(OUTCOME)
    frame.insert(0, "solicitud_id", [f"MX-{i:06d}" for i in range(len(frame))])
    frame = frame[[c for c in frame.columns if c in set(RENAME.values()) | {"solicitud_id", "open_acc", "emp_title",
                                                                            "total_acc", "revol_bal", "home_ownership",
                                                                            "verification_status", "delinq_2yrs",
                                                                            "pub_rec", "pub_rec_bankruptcies",
                                                                            "mths_since_last_delinq", "mths_since_last_record"}]]
    frame.loc[frame.index[0], "destino"] = "educación"  # a category with an accent: the file is Latin-1
    project = copy_project_inputs(tmp_path / "project")
    applicants = write_csv(frame, project / "data/raw/solicitudes.csv", encoding="latin-1")

    raw = renamed(yaml.safe_load((ROOT / "params.yaml").read_text()))
    raw["data"]["applicants"] = {"path": str(applicants), "sha256": None, "encoding": "latin-1"}
    raw["data"]["id_column"] = "solicitud_id"
    raw["data"]["target"] = {"column": "resultado", "bad": ["incumplido"], "good": ["pagado"], "flag_values": []}
    raw["binning"]["overrides_path"] = None
    # The project's rules read annual_inc and dti, which this file names otherwise: the ETL would
    # refuse them (tests/test_rules_fit.py); these data have no rules of their own.
    raw["rules"] = {"path": None}
    params = parse_params(raw)

    out = tmp_path / "out"
    result = run_all(params, project, out)

    s = result.etl.summary
    assert s["rows_in"] == len(frame) == s["rows_train"] + s["rows_test"] + s["rows_excluded"]
    assert result.etl.train["applicant_id"].str.startswith("MX-").all()
    card = cardlib.load(out / "scorecard.json")
    assert set(card.feature_names) <= set(params.features.model_features)
    assert any(name in RENAME.values() for name in card.feature_names), card.feature_names
    assert not set(card.feature_names) & set(RENAME)  # no LendingClub name survived
    assert "resultado in ['incumplido']" == card.document["target"]["definition"]
    metrics = result.evaluation["metrics"]
    assert metrics["test"]["rows"] == s["rows_test"]
    assert metrics["test"]["auc"] > 0.6
