"""Bad input stops the ETL with a message naming the column, the rule and the offending rows.

Fixtures are small samples of the real applicant file, broken on purpose. Each test prints the
message a user sees (run pytest with -s to read them).
"""

import gzip

import pandas as pd
import pytest

from conftest import sample_rows, write_csv
from scorecard.build import etl
from scorecard.build.data import ID, POLICY_FLAG, TARGET, load_applicants, validate_applicants
from scorecard.errors import DataValidationError


@pytest.fixture()
def text(raw_text):
    """200 real loans (40 per issue year), every column as text."""
    return sample_rows(raw_text, 40).reset_index(drop=True)


def expect_error(func, *patterns):
    with pytest.raises(DataValidationError) as error:
        func()
    message = str(error.value)
    print(message)
    for pattern in patterns:
        assert pattern in message, f"{pattern!r} not in {message!r}"
    return message


def test_valid_sample_is_typed(text, params):
    frame = validate_applicants(text, params)
    assert len(frame) == len(text)
    assert frame["annual_inc"].dtype == "float64"
    assert str(frame["issue_d"].dtype).startswith("datetime64")
    assert set(frame[TARGET].unique()) <= {0, 1}
    assert frame[ID].is_unique
    # "n/a" employment length is a value, not a gap.
    assert (text["emp_length"] == "n/a").sum() == (frame["emp_length"] == "n/a").sum()


def test_missing_required_column(text, params):
    expect_error(lambda: validate_applicants(text.drop(columns=["annual_inc"]), params),
                 "missing required column(s) ['annual_inc']")


def test_wrong_type(text, params):
    text.loc[3, "annual_inc"] = "fifty thousand"
    expect_error(lambda: validate_applicants(text, params),
                 "column 'annual_inc': expected a number", "line 5: 'fifty thousand'")


@pytest.mark.parametrize("income", ["-1200", "0"])
def test_negative_or_zero_income(text, params, income):
    text.loc[0, "annual_inc"] = income
    expect_error(lambda: validate_applicants(text, params),
                 "column 'annual_inc': rule min_exclusive: expected values > 0.0", f"line 2: '{income}'")


def test_infinite_income(text, params):
    text.loc[1, "annual_inc"] = "inf"
    expect_error(lambda: validate_applicants(text, params), "column 'annual_inc': expected a finite number")


def test_date_out_of_range(text, params):
    text.loc[2, "issue_d"] = "2031-01-01"
    expect_error(lambda: validate_applicants(text, params),
                 "column 'issue_d': rule max: expected values <= 2011-12-31", "line 4: '2031-01-01'")


def test_impossible_date(text, params):
    text.loc[2, "earliest_cr_line"] = "2001-02-30"
    expect_error(lambda: validate_applicants(text, params),
                 "column 'earliest_cr_line': expected a date as yyyy-mm-dd", "'2001-02-30'")


def test_unexpected_target_status(text, params):
    text.loc[[5, 6], "loan_status"] = "Current"
    expect_error(lambda: validate_applicants(text, params),
                 "column 'loan_status': target rule", "{'Current': 2}")


def test_category_not_allowed(text, params):
    text.loc[7, "home_ownership"] = "CASTLE"
    expect_error(lambda: validate_applicants(text, params),
                 "column 'home_ownership': expected one of ['RENT'", "'CASTLE'")


def test_key_column_must_not_be_empty(text, params):
    text.loc[8, "addr_state"] = None
    expect_error(lambda: validate_applicants(text, params), "column 'addr_state': must not be empty", "lines 10")


def test_all_violations_reported_together(text, params):
    text.loc[0, "annual_inc"] = "-5"
    text.loc[1, "dti"] = "lots"
    message = expect_error(lambda: validate_applicants(text, params), "2 schema violation(s)")
    assert "annual_inc" in message and "dti" in message


def test_duplicate_applicant_ids(text, params):
    params = params.model_copy(update={"data": params.data.model_copy(update={"id_column": "member_id"})})
    text["member_id"] = [str(i) for i in range(len(text))]
    text.loc[4, "member_id"] = "0"
    expect_error(lambda: validate_applicants(text, params),
                 "column 'member_id': expected unique, non-empty applicant ids; 2 rows share an id")


def test_empty_file(tmp_path, params):
    path = tmp_path / "empty.csv"
    path.write_text("")
    expect_error(lambda: load_applicants(params, path=path), "the file is empty")


def test_header_only_file(tmp_path, text, params):
    path = write_csv(text.head(0), tmp_path / "header.csv")
    expect_error(lambda: load_applicants(params, path=path), "has a header but no data rows")


def test_malformed_csv_row(tmp_path, text, params):
    path = write_csv(text.head(5), tmp_path / "malformed.csv")
    with open(path, "a") as handle:
        handle.write("1,2,3," + ",".join(["x"] * (len(text.columns) + 5)) + "\n")
    expect_error(lambda: load_applicants(params, path=path), "malformed CSV")


def test_wrong_encoding(tmp_path, text, params):
    text.loc[0, "purpose"] = "préstamo"
    path = write_csv(text, tmp_path / "latin1.csv", encoding="latin-1")
    expect_error(lambda: load_applicants(params, path=path), "not valid utf-8 text", "set the file's encoding")


def test_not_gzip(tmp_path, params):
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(b"this is not gzip")
    expect_error(lambda: load_applicants(params, path=path), "not a valid gzip file")


def test_checksum_mismatch(tmp_path, params, root):
    raw = params.data.applicants.path
    copy = tmp_path / raw
    copy.parent.mkdir(parents=True)
    copy.write_bytes(gzip.compress(b"loan_amnt\n1\n"))
    expect_error(lambda: load_applicants(params, root=tmp_path), "sha256 mismatch", "restore it")


def test_unknown_state_stops_the_join(tmp_path, text, params, root):
    text.loc[9, "addr_state"] = "ZZ"
    path = write_csv(text, tmp_path / "zz.csv")
    expect_error(lambda: etl.run(params, root=root, applicants_path=path),
                 "column 'addr_state'", "does not cover", "['ZZ']")


def test_rows_in_equal_rows_out_on_the_real_file(params, root):
    result = etl.run(params, root=root)
    s = result.summary
    assert s["rows_in"] == 42535
    assert s["rows_train"] + s["rows_test"] + s["rows_excluded"] == s["rows_in"]
    assert (s["rows_train"], s["rows_test"]) == (20814, 21721)
    # Both charged-off statuses are bad; the policy-exception loans are kept and flagged.
    both = pd.concat([result.train, result.test])
    assert int(both[TARGET].sum()) == 5670 + 761
    assert int(both[POLICY_FLAG].sum()) == 1988 + 761
