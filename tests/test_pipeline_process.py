"""The process step: schema validation, imputation, stratified split, split format and the dataset profile."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from governance.credit_data import FEATURES, MAY_BE_MISSING, RAW_COLUMNS, SYNTHETIC_INDEX_COLUMN, read_raw
from governance.errors import InputError
from pipeline.steps.process import process
from pipeline.synthetic import generate

HEADER = "," + ",".join(RAW_COLUMNS)


def _write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(n: int = 40) -> list[str]:
    frame = generate(max(n, 10), seed=3).head(n)
    frame = frame.drop(columns=[SYNTHETIC_INDEX_COLUMN])
    return [",".join(["" if pd.isna(v) else str(v) for v in row]) for row in frame.itertuples()]


def _run(tmp_path, path):
    return process(path, tmp_path / "out", tmp_path / "out", tmp_path / "out")


@pytest.mark.parametrize(
    ("mutate", "reason", "fragment"),
    [
        (lambda h, rows: h.replace(",age,", ",Age_years,"), "SCHEMA_MISMATCH", "missing column 'age'"),
        (lambda h, rows: h.replace("DebtRatio", "DebtRatoi"), "SCHEMA_MISMATCH", "misspelt"),
        (lambda h, rows: h + ",extra", "SCHEMA_MISMATCH", None),
    ],
)
def test_schema_errors_name_the_column(tmp_path, mutate, reason, fragment):
    rows = _rows()
    header = mutate(HEADER, rows)
    if header.endswith(",extra"):
        rows = [r + ",1" for r in rows]
    path = _write(tmp_path, "\n".join([header, *rows]) + "\n")
    with pytest.raises(InputError) as err:
        _run(tmp_path, path)
    assert err.value.reason == reason
    if fragment:
        assert fragment in err.value.message
    assert not (tmp_path / "out" / "train.csv").exists()


def test_non_numeric_value_names_line_and_column(tmp_path):
    rows = _rows()
    cells = rows[4].split(",")
    cells[3] = "forty"  # age
    rows[4] = ",".join(cells)
    path = _write(tmp_path, "\n".join([HEADER, *rows]) + "\n")
    with pytest.raises(InputError) as err:
        _run(tmp_path, path)
    assert err.value.reason == "MALFORMED_CSV"
    assert "line 6" in err.value.message and "'age'" in err.value.message and "forty" in err.value.message


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400"])
def test_infinite_value_names_line_and_column(tmp_path, value):
    rows = _rows()
    cells = rows[2].split(",")
    cells[5] = value  # DebtRatio
    rows[2] = ",".join(cells)
    path = _write(tmp_path, "\n".join([HEADER, *rows]) + "\n")
    with pytest.raises(InputError) as err:
        _run(tmp_path, path)
    assert err.value.reason == "MALFORMED_CSV"
    assert "line 4" in err.value.message and "'DebtRatio'" in err.value.message
    assert not (tmp_path / "out" / "train.csv").exists()


@pytest.mark.parametrize(("text", "reason"), [("", "EMPTY_DATA"), (HEADER + "\n", "EMPTY_DATA")])
def test_empty_inputs(tmp_path, text, reason):
    with pytest.raises(InputError) as err:
        _run(tmp_path, _write(tmp_path, text))
    assert err.value.reason == reason


def test_single_class_target_is_refused(tmp_path):
    rows = [",".join(["1", "0", *r.split(",")[2:]]) for r in _rows()]
    with pytest.raises(InputError) as err:
        _run(tmp_path, _write(tmp_path, "\n".join([HEADER, *rows]) + "\n"))
    assert err.value.reason == "SINGLE_CLASS"


def test_missing_values_outside_imputed_columns_are_refused(tmp_path):
    rows = _rows()
    cells = rows[2].split(",")
    cells[4] = "NA"  # NumberOfTime30-59DaysPastDueNotWorse
    rows[2] = ",".join(cells)
    with pytest.raises(InputError) as err:
        _run(tmp_path, _write(tmp_path, "\n".join([HEADER, *rows]) + "\n"))
    assert err.value.reason == "MISSING_VALUES"


def test_corrupt_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "data.csv.gz"
    whole = gzip.compress("\n".join([HEADER, *_rows()]).encode())
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError) as err:
        _run(tmp_path, path)
    assert err.value.reason == "MALFORMED_CSV"


def test_imputation_really_fills_and_uses_training_statistics(tmp_path, synthetic_csv):
    raw, synthetic = read_raw(synthetic_csv)
    assert synthetic
    assert raw["MonthlyIncome"].isna().sum() > 0 and raw["NumberOfDependents"].isna().sum() > 0
    result = _run(tmp_path, synthetic_csv)
    train = pd.read_csv(result.train_path, header=None)
    validation = pd.read_csv(result.validation_path, header=None)
    # Only the remediated columns (sentinel codes, debt amounts without income) may be empty; imputed ones never.
    allowed = [1 + FEATURES.index(c) for c in MAY_BE_MISSING]
    for split in (train, validation):
        assert not split.drop(columns=allowed).isna().any().any()
    imputation = result.profile["imputation"]
    income_column = 1 + FEATURES.index("MonthlyIncome")
    # The imputed median is present in the training split exactly as many extra times as values were missing.
    filled = imputation["MonthlyIncome"]["filled_train"]
    assert filled > 0
    assert (train[income_column] == imputation["MonthlyIncome"]["value"]).sum() >= filled
    assert imputation["NumberOfDependents"]["value"] == 0.0  # the mode of a Poisson(0.76)


def test_split_is_stratified_headerless_and_target_first(tmp_path, synthetic_csv):
    result = _run(tmp_path, synthetic_csv)
    train = pd.read_csv(result.train_path, header=None)
    validation = pd.read_csv(result.validation_path, header=None)
    assert train.shape[1] == validation.shape[1] == 1 + len(FEATURES)
    assert set(train[0].unique()) == {0, 1}
    test = pd.read_csv(result.test_path, header=None)
    total = len(train) + len(validation) + len(test)
    assert len(validation) == pytest.approx(0.2 * total, abs=1) and len(test) == pytest.approx(0.2 * total, abs=1)
    rates = result.profile["target_rate"]
    assert abs(rates["train"] - rates["validation"]) < 0.002 and abs(rates["train"] - rates["test"]) < 0.002
    assert result.profile["split"]["out_of_time"] is False
    first_line = result.train_path.read_text().splitlines()[0]
    assert not any(c.isalpha() for c in first_line)


def test_profile_reports_data_quality_quirks(tmp_path, synthetic_csv):
    profile = _run(tmp_path, synthetic_csv).profile
    codes = {(f["code"], f["column"]) for f in profile["data_quality"]}
    assert ("AGE_OUT_OF_RANGE", "age") in codes
    assert ("SENTINEL_CODE", "NumberOfTimes90DaysLate") in codes
    assert ("EXTREME_RATIO", "RevolvingUtilizationOfUnsecuredLines") in codes
    assert profile["columns"]["age"]["min"] == 0.0
    assert profile["synthetic"] is True


def test_same_input_gives_same_splits(tmp_path, synthetic_csv):
    first = process(synthetic_csv, tmp_path / "a", tmp_path / "a", tmp_path / "a")
    second = process(synthetic_csv, tmp_path / "b", tmp_path / "b", tmp_path / "b")
    assert first.profile["outputs"] == second.profile["outputs"]


@pytest.mark.realdata
def test_real_data_profile_matches_the_published_shape(tmp_path, real_data):
    from tests.conftest import REAL_DATA_SHA256

    profile = _run(tmp_path, real_data).profile
    # One applicant aged 0 is excluded; 60/20/20 of the remaining 149,999.
    assert profile["rows"] == {"total": 150_000, "remediated": 149_999, "train": 89_999, "validation": 30_000,
                               "test": 30_000}
    assert profile["columns_after_remediation"]["NumberOfTimes90DaysLate"]["max"] < 96
    assert profile["columns"]["MonthlyIncome"]["missing"] == 29_731
    assert profile["columns"]["NumberOfDependents"]["missing"] == 3_924
    assert profile["target_rate"]["total"] == pytest.approx(0.06684, abs=1e-5)
    assert profile["source"]["content_sha256"] == REAL_DATA_SHA256
    assert profile["synthetic"] is False


def _with_dates(tmp_path, synthetic_csv, values=None):
    frame = pd.read_csv(synthetic_csv)
    dates = pd.date_range("2020-01-01", periods=len(frame), freq="h")
    frame["application_date"] = values if values is not None else dates.strftime("%Y-%m-%d %H:%M")
    path = tmp_path / "dated.csv"
    frame.to_csv(path, index=False)
    return path, dates


def test_split_column_makes_the_test_split_out_of_time(tmp_path, synthetic_csv):
    path, dates = _with_dates(tmp_path, synthetic_csv)
    result = process(path, tmp_path / "out", tmp_path / "out", tmp_path / "out", split_column="application_date")
    split = result.profile["split"]
    assert split["out_of_time"] is True and split["split_column"] == "application_date"
    test_rows = len(pd.read_csv(result.test_path, header=None))
    assert test_rows == pytest.approx(0.2 * result.profile["rows"]["remediated"], abs=2)
    assert pd.Timestamp(split["cut"]) >= dates[int(0.79 * len(dates))]
    # Without the column the split says it is not out-of-time.
    assert _run(tmp_path / "plain", synthetic_csv).profile["split"]["out_of_time"] is False


def test_a_bad_or_absent_split_column_is_refused(tmp_path, synthetic_csv):
    path, _ = _with_dates(tmp_path, synthetic_csv, values="not a date")
    with pytest.raises(InputError) as err:
        process(path, tmp_path / "o", tmp_path / "o", tmp_path / "o", split_column="application_date")
    assert err.value.reason == "BAD_SPLIT_COLUMN"
    with pytest.raises(InputError) as err:
        process(synthetic_csv, tmp_path / "o", tmp_path / "o", tmp_path / "o", split_column="application_date")
    assert err.value.reason == "SCHEMA_MISMATCH"


def test_remediation_is_recorded_and_applied(tmp_path, synthetic_csv):
    raw, _ = read_raw(synthetic_csv)
    result = _run(tmp_path, synthetic_csv)
    remediation = result.profile["remediation"]
    assert remediation["rows_in"] == len(raw)
    assert remediation["excluded_rows"]["age_out_of_range"] == int(((raw["age"] < 18) | (raw["age"] > 120)).sum())
    for column, count in remediation["sentinel_to_missing"].items():
        assert count == int(raw[column].isin([96, 98]).sum())
    kept = raw[(raw["age"] >= 18) & (raw["age"] <= 120)]
    assert remediation["debt_ratio_without_income"]["set_missing"] == int(kept["MonthlyIncome"].isna().sum()) > 0
    assert "columns_after_remediation" in result.profile
    for path in (result.train_path, result.validation_path, result.test_path):
        split = pd.read_csv(path, header=None)
        late = [1 + FEATURES.index(c) for c in MAY_BE_MISSING if c != "DebtRatio"]
        assert not split[late].isin([96, 98]).any().any()
        assert split[1 + FEATURES.index("age")].min() >= 18
