"""Environment sources on the real public files: US state unemployment and income, and the
ready CONAPO source for Mexican applicants (Latin-1 file, names with accents, census years)."""

import pandas as pd
import pytest

from scorecard.build.environment import join_source, load_source, mx_state_code, us_state_code
from scorecard.errors import DataValidationError


def applicants(states, dates):
    return pd.DataFrame({"state": states, "date": pd.to_datetime(dates)})


@pytest.fixture(scope="module")
def sources(params):
    return params.environment.sources


def test_unemployment_at_the_month_of_application(sources, root):
    spec = sources["state_unemployment"]
    table = load_source(spec, root)
    joined = join_source(applicants(["CA", "NY", "CA"], ["2011-06-01", "2011-06-01", "2008-01-01"]),
                         table, spec, "state_unemployment", "state", "date")
    # Values as printed in the BLS/FRED file for June 2011 and January 2008.
    assert joined["state_unemployment_rate"].tolist() == [11.9, 8.3, 5.9]


def test_median_income_at_the_year_with_footnoted_and_duplicate_years(sources, root):
    spec = sources["state_median_income"]
    table = load_source(spec, root)
    assert set(table["key"]) >= {"CA", "NY", "DC"} and "United States" not in set(table["key"])
    joined = join_source(applicants(["CA", "California", "DC"], ["2011-03-01", "2011-09-01", "2013-01-01"]),
                         table, spec, "state_median_income", "state", "date")
    # 2011: 53,367 for California. 2013 appears twice (Census "2013 (39)" and "2013 (38)"): the
    # first, newer estimate (60,057 for DC) is kept.
    assert joined["state_median_income"].tolist() == [53367.0, 53367.0, 60057.0]


def test_mexican_marginalization_nearest_earlier_census(sources, root):
    spec = sources["mx_marginalization"]
    assert spec.encoding == "latin-1" and not spec.enabled
    table = load_source(spec, root)
    assert sorted(table["key"].unique()) == list(range(1, 33))
    people = applicants(["Nuevo León", "nuevo leon", "19", "Distrito Federal", "Ciudad de México", "Yucatán"],
                        ["2012-03-01", "2012-03-01", "2007-05-01", "2016-01-01", "2016-01-01", "2015-12-31"])
    joined = join_source(people, table, spec, "mx_marginalization", "state", "date")
    # CONAPO values for Nuevo León 2010 and 2005, and Mexico City 2015.
    assert joined["mx_illiteracy_pct"].tolist()[:5] == [2.24, 2.24, 2.78, 1.49, 1.49]
    assert joined["mx_marginalization_index"].tolist()[:3] == [-1.38, -1.38, -1.33]
    assert joined["mx_marginalization_degree"].iloc[0] == "Muy bajo"
    assert joined["mx_illiteracy_pct"].notna().all()


def test_mexican_state_codes_and_names():
    assert mx_state_code("Querétaro de Arteaga") == mx_state_code("Queretaro") == 22
    assert mx_state_code("Veracruz") == mx_state_code(30) == 30
    assert mx_state_code("CDMX") == 9
    assert mx_state_code("Texas") is None and mx_state_code(33) is None
    assert us_state_code("New York") == us_state_code("ny") == "NY"


def test_unknown_state_is_named(sources, root):
    spec = sources["mx_marginalization"]
    table = load_source(spec, root)
    with pytest.raises(DataValidationError, match=r"does not cover, e.g. \['Texas'\]") as error:
        join_source(applicants(["Jalisco", "Texas"], ["2012-01-01", "2012-01-01"]), table, spec, "mx", "state", "date")
    print(error.value)


def test_date_before_the_source_is_named(sources, root):
    spec = sources["mx_marginalization"]
    table = load_source(spec, root)
    with pytest.raises(DataValidationError, match="no value for 1 applicants' key and period \\(column 'state'") as error:
        join_source(applicants(["Jalisco"], ["1985-01-01"]), table, spec, "mx", "state", "date")
    print(error.value)


def test_checksum_of_every_declared_source_is_verified(sources, root, tmp_path):
    spec = sources["state_unemployment"]
    broken = spec.model_copy(update={"path": str(tmp_path / "u.csv")})
    (tmp_path / "u.csv").write_text("observation_date,CA\n2011-01-01,1\n")
    with pytest.raises(DataValidationError, match="sha256 mismatch"):
        load_source(broken, root)
