"""Object-level checks from S3 Inventory: the three formats, fields a delivery lacks, tampered files, S3 and Athena.

Deliveries are written in S3's own layout by :mod:`tests.inventory_support`; the planted violations must come
back exactly, with no API call for an inventoried object.
"""

from __future__ import annotations

import json
import random
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from governance.errors import InputError
from governance.policy import Status, load_policies
from governance.policy.collectors.base import Evidence
from governance.policy.inventory import AthenaSettings, read_manifest, scan_inventory
from governance.policy.operators import Compiler, compile_condition
from tests.inventory_support import CREATED, synthetic_objects, write_delivery

pytest.importorskip("duckdb")
NOW = CREATED + timedelta(hours=3)


def failures(result) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in result.findings:
        if finding.status is Status.FAIL:
            found.setdefault(finding.check.id, set()).add(finding.resource.id)
    return found


@pytest.mark.parametrize("fmt", ["CSV", "Parquet", "ORC"])
def test_planted_violations_come_back_exactly_with_no_api_call(tmp_path, fmt):
    bucket = f"models-{fmt.lower()}"
    columns, planted = synthetic_objects(bucket, 3000, seed=1, violations={"INV-ENC-001": 11, "INV-RET-001": 13})
    manifest = write_delivery(tmp_path, bucket, columns, fmt, rows_per_file=1000)
    result = scan_inventory([str(manifest)], now=NOW)
    assert failures(result) == planted
    assert result.exit_code == 1 and result.stats["api_calls_total"] == 0 and result.stats["head_object_calls"] == 0
    assert result.stats["resources"] == {"s3_inventory_object": 3000}
    passed = {f.check.id: f for f in result.findings if f.status is Status.PASS}
    assert passed["INV-ENC-001"].resource.hints["objects"] == 3000 - 11
    not_applicable = next(f for f in result.findings if f.status is Status.NA)
    assert not_applicable.resource.hints["objects"] == 600  # the logs/ prefix: every fifth object
    digest = read_manifest(str(manifest)).sha256
    one = next(f for f in result.findings if f.status is Status.FAIL and f.check.id == "INV-RET-001")
    _, evidence = result.evidence[f"s3_inventory_object:{one.resource.id}"]
    assert evidence.data["inventory"]["manifest_sha256"] == digest
    assert evidence.data["inventory"]["date"] == CREATED.isoformat()
    assert one.evidence_sha256 == evidence.sha256 and one.trace["assert"]["op"] == "any"


def test_csv_keys_are_url_decoded_and_versions_and_delete_markers_filtered(tmp_path):
    columns, _ = synthetic_objects("b", 10, violations={"INV-ENC-001": 10})
    columns["key"] = [f"models/a b+c%/ü{i}" for i in range(10)]
    columns["is_latest"] = [True] * 8 + [False, True]
    columns["is_delete_marker"] = [False] * 9 + [True]
    result = scan_inventory([str(write_delivery(tmp_path, "b", columns, "CSV"))], now=NOW)
    assert failures(result)["INV-ENC-001"] == {f"s3://b/models/a b+c%/ü{i}" for i in range(8)}


def test_fields_the_delivery_lacks_make_errors_never_passes(tmp_path):
    columns, planted = synthetic_objects("b", 500, violations={"INV-ENC-001": 4})
    for name in ("object_lock_mode", "object_lock_retain_until_date", "object_lock_legal_hold_status"):
        del columns[name]
    result = scan_inventory([str(write_delivery(tmp_path, "b", columns, "Parquet"))], now=NOW)
    assert failures(result) == {"INV-ENC-001": planted["INV-ENC-001"]}
    retention = [f for f in result.findings if f.check.id == "INV-RET-001"]
    assert {f.status for f in retention} == {Status.ERROR, Status.NA}
    assert "lacks the field" in next(f for f in retention if f.status is Status.ERROR).message
    assert result.exit_code == 1  # the FAILs outrank the ERRORs
    columns.pop("encryption_status")
    result = scan_inventory([str(write_delivery(tmp_path / "2", "b", columns, "ORC"))], now=NOW)
    assert result.exit_code == 3 and result.counts["PASS"] == 0


def test_a_tampered_data_file_is_not_read(tmp_path):
    columns, _ = synthetic_objects("b", 200)
    manifest = write_delivery(tmp_path, "b", columns, "CSV")
    data = next((tmp_path / "b" / "daily" / "data").iterdir())
    body = bytearray(data.read_bytes())
    body[len(body) // 2] ^= 0x01
    data.write_bytes(bytes(body))
    result = scan_inventory([str(manifest)], now=NOW)
    assert result.exit_code == 3 and result.counts["PASS"] == 0
    assert all("MD5" in f.message for f in result.findings)


def test_bad_manifests_are_input_errors(tmp_path):
    columns, _ = synthetic_objects("b", 10)
    manifest = write_delivery(tmp_path, "b", columns, "CSV")
    body = json.loads(manifest.read_text())
    for broken in ({**body, "fileFormat": "XLSX"}, {**body, "files": []}, {**body, "creationTimestamp": "soon"}):
        manifest.write_text(json.dumps(broken))
        with pytest.raises(InputError):
            scan_inventory([str(manifest)], now=NOW)
    manifest.write_text("{not json")
    with pytest.raises(InputError):
        read_manifest(str(manifest))


def _random_row(rng: random.Random) -> dict:
    pick = rng.choice
    modified = pick([None, 1.7e9, 1.7e9 + rng.random() * 1e6])
    until = pick([None, modified + 86400 * pick([1, 3649.97, 3650, 4000]) if modified else 1.9e9])
    return {"bucket": "b", "key": pick(["models/x", "logs/x", "model", "", "quickloan/é"]), "version_id": None,
            "size": pick([None, 0, 10]), "last_modified_epoch": modified,
            "encryption_status": pick([None, "SSE-KMS", "DSSE-KMS", "SSE-S3", "SSE-C", "NOT-SSE"]),
            "bucket_key_status": pick([None, "ENABLED", "DISABLED"]),
            "object_lock_mode": pick([None, "COMPLIANCE", "GOVERNANCE"]), "retain_until_epoch": until,
            "legal_hold_status": pick([None, "ON", "OFF"]), "checksum_algorithm": pick([None, "SHA256", "CRC32"])}


CONDITIONS = [
    {"in": {"path": "encryption.algorithm", "values": ["aws:kms", "aws:kms:dsse"]}},
    {"not_in": {"path": "encryption.status", "values": ["NOT-SSE", None]}},
    {"ne": {"path": "lock.mode", "value": "GOVERNANCE"}},
    {"eq": {"path": "lock.mode", "value": None}},
    {"exists": "checksum.algorithm"},
    {"eq": {"path": "encryption.bucket_key_enabled", "value": True}},
    {"eq": {"path": "size", "value": True}},
    {"lt": {"path": "lock.retained_days", "value": 3650}},
    {"gte": {"path": "size", "value": 1}},
    {"prefix_overlaps": {"path": "key", "values": ["models/x/y", "q"]}},
    {"any": [{"eq": {"path": "lock.locked_now", "value": True}}, {"not": {"startswith": {"path": "key",
                                                                                          "values": ["models/"]}}}]},
]


def test_sql_and_the_policy_engine_agree_on_every_condition():
    """Every condition on random rows (missing values included): the SQL answer equals the engine's."""
    duckdb = pytest.importorskip("duckdb")
    from governance.policy.collectors import COLLECTORS
    from governance.policy.inventory.scan import _ROW, _object_evidence
    from governance.policy.inventory.sql import COLUMNS, condition_sql

    rng = random.Random(4)
    rows = [_random_row(rng) for _ in range(400)]
    connection = duckdb.connect()
    connection.execute("CREATE TABLE inventory (" + ", ".join(f"{c} {t}" for c, t in COLUMNS.items()) + ")")
    for row in rows:
        connection.execute(f"INSERT INTO inventory VALUES ({', '.join('?' for _ in COLUMNS)})",
                           [True if c == "is_latest" else False if c == "is_delete_marker" else row.get(c)
                            for c in COLUMNS])
    compiler = Compiler(shape=COLLECTORS["s3_inventory_object"].shape)
    available = set(COLUMNS)
    now = datetime(2026, 11, 30, tzinfo=UTC)
    for spec in CONDITIONS:
        condition = compile_condition(spec, compiler)
        sql = condition_sql(condition, available=available, now_epoch=now.timestamp())
        answers = connection.execute(f"SELECT {', '.join(_ROW)}, {sql} FROM inventory").fetchall()
        for answer in answers:
            values = dict(zip(_ROW, answer[:-1], strict=True))
            engine = condition.evaluate(_view(_object_evidence(values, available, {}, now)))
            assert engine.value == answer[-1], (spec, values, engine.trace)


def _view(evidence: Evidence):
    from governance.policy.operators import EvidenceView

    return EvidenceView(evidence.data, evidence.errors)


def test_policy_checks_inventory_cannot_evaluate_are_refused(tmp_path):
    policy = tmp_path / "custom.yaml"
    policy.write_text("kind: policy\nname: custom\nchecks:\n  - id: INV-X-1\n    title: regex on keys\n"
                      "    resource: s3_inventory_object\n    severity: low\n"
                      "    assert: {matches: {path: key, pattern: 'models/.*'}}\n    remediation: none needed\n")
    columns, _ = synthetic_objects("b", 10)
    with pytest.raises(InputError, match="cannot run on an inventory"):
        scan_inventory([str(write_delivery(tmp_path, "b", columns, "CSV"))], policy, now=NOW)


def test_waivers_apply_to_inventory_failures(tmp_path):
    columns, planted = synthetic_objects("legacy", 300, violations={"INV-ENC-001": 2})
    manifest = write_delivery(tmp_path, "legacy", columns, "Parquet")
    bundle = load_policies(None)
    from governance.policy.schema import SourcedWaiver
    from governance.waivers import Waiver

    waiver = Waiver(check="INV-ENC-001", resource="s3://legacy/*", reason="migration", approver="J. Doe",
                    expires=(NOW + timedelta(days=30)).date())
    bundle.waivers.append(SourcedWaiver(waiver, "test"))
    result = scan_inventory([str(manifest)], bundle=bundle, now=NOW)
    waived = {f.resource.id for f in result.findings if f.status is Status.WAIVED}
    assert waived == planted["INV-ENC-001"] and result.counts["FAIL"] == 0


def test_command_line_exit_codes(tmp_path, capsys):
    from governance.cli import main

    columns, planted = synthetic_objects("b", 400, violations={"INV-RET-001": 3})
    manifest = write_delivery(tmp_path, "b", columns, "CSV")
    out = tmp_path / "result.json"
    assert main(["scan", "--inventory", str(manifest), "--output", str(out), "--quiet"]) == 1
    written = json.loads(out.read_text())
    assert {f["resource"] for f in written["findings"] if f["status"] == "FAIL"} == planted["INV-RET-001"]
    assert written["stats"]["inventories"][0]["objects"] == 400
    assert main(["scan", "s3://x", "--inventory", str(manifest)]) == 2
    assert main(["scan", "--inventory", str(manifest), "--state", str(tmp_path / "state.json")]) == 2
    assert main(["scan", "--inventory", str(tmp_path / "nope.json")]) == 2
    assert main(["scan"]) == 2
    assert "give at least one TARGET" in capsys.readouterr().err


@pytest.mark.servers
def test_manifest_and_files_on_s3_and_objects_newer_than_the_delivery(seaweedfs, tmp_path, monkeypatch):
    s3 = seaweedfs.client()
    for name, value in (("AWS_ENDPOINT_URL", seaweedfs.endpoint), ("AWS_ACCESS_KEY_ID", "weed"),
                        ("AWS_SECRET_ACCESS_KEY", "weed"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    destination, source = "inv-destination", "inv-source"
    for bucket in (destination, source):
        s3.create_bucket(Bucket=bucket)
    columns, planted = synthetic_objects(source, 500, violations={"INV-ENC-001": 5}, created=NOW)
    manifest = write_delivery(tmp_path, source, columns, "CSV", destination=destination, created=NOW)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            s3.put_object(Bucket=destination, Key=path.relative_to(tmp_path).as_posix(), Body=path.read_bytes())
    # Written after the delivery: one unencrypted object the inventory cannot know about.
    s3.put_object(Bucket=source, Key="models/new.bin", Body=b"new")
    uri = f"s3://{destination}/{manifest.relative_to(tmp_path).as_posix()}"
    result = scan_inventory([uri], now=datetime.now(UTC), list_newer=True)
    assert failures(result)["INV-ENC-001"] == planted["INV-ENC-001"]
    head = [f for f in result.findings if f.resource.type == "s3_object"]
    assert {f.resource.id for f in head} == {f"s3://{source}/models/new.bin"}
    assert result.stats["head_object_calls"] == 1  # the new object only; none for the 500 inventoried ones


def test_data_files_without_keys_are_refused(tmp_path):
    with pytest.raises(InputError, match="no \\['key'\\] column"):
        scan_inventory([str(_no_key_manifest(tmp_path))], now=NOW)


def _no_key_manifest(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "b" / "daily"
    (folder / "data").mkdir(parents=True)
    pq.write_table(pa.table({"bucket": ["b"], "size": [1]}), folder / "data" / "x.parquet")
    import hashlib

    data = (folder / "data" / "x.parquet").read_bytes()
    (folder / "2026-11-29T01-00Z").mkdir()
    manifest = folder / "2026-11-29T01-00Z" / "manifest.json"
    manifest.write_text(json.dumps({"sourceBucket": "b", "destinationBucket": "arn:aws:s3:::d", "fileFormat":
                                    "Parquet", "fileSchema": "message s3.inventory { required binary bucket; }",
                                    "creationTimestamp": "1764378000000", "files": [
                                        {"key": "b/daily/data/x.parquet", "size": len(data),
                                         "MD5checksum": hashlib.md5(data, usedforsecurity=False).hexdigest()}]}))
    return manifest


def test_athena_engine_runs_the_same_query_and_reads_its_results(aws, tmp_path):
    """moto does not execute SQL: the answers DuckDB gives are queued as Athena's, and the query text is compared."""
    import boto3

    from governance.policy.inventory import engines

    columns, planted = synthetic_objects("athena-src", 300, violations={"INV-ENC-001": 3, "INV-RET-001": 2})
    manifest = write_delivery(tmp_path, "athena-src", columns, "Parquet")
    judged: list[str] = []
    answers: list[tuple[str, list[tuple]]] = []
    materialize, query = engines.DuckDBEngine.materialize, engines.DuckDBEngine.query

    def recording_materialize(self, sql):
        judged.append(sql)
        return materialize(self, sql)

    def recording_query(self, sql):
        rows = query(self, sql)
        answers.append((sql, rows))
        return rows

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engines.DuckDBEngine, "materialize", recording_materialize)
        patch.setattr(engines.DuckDBEngine, "query", recording_query)
        expected = scan_inventory([str(manifest)], now=NOW)
    from governance.policy.inventory.scan import _ROW

    def athena_rows(sql: str, rows: list[tuple]) -> dict:
        names = ["bucket", "c0", "c1", "n"] if "count(*)" in sql else [*_ROW, "c0", "c1"]

        def cell(value):
            return {} if value is None else {"VarCharValue": str(value)}

        return {"rows": [{"Data": [cell(n) for n in names]}] + [{"Data": [cell(v) for v in row]} for row in rows],
                "column_info": [{"Name": n, "Type": "varchar"} for n in names]}

    payload = {"results": [athena_rows(sql, rows) for sql, rows in answers]}
    request = urllib.request.Request(f"{aws.endpoint}/moto-api/static/athena/query-results",
                                     data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
    settings = AthenaSettings("inventory_db", "models_inventory", "primary", "s3://athena-results/")
    result = scan_inventory([str(manifest)], engine="athena", athena=settings, now=NOW)
    assert failures(result) == failures(expected) == {k: v for k, v in planted.items() if v}
    assert result.counts == expected.counts
    assert result.stats["api_calls"]["athena:StartQueryExecution"] == 2
    athena = boto3.client("athena")
    sent = [athena.get_query_execution(QueryExecutionId=e)["QueryExecution"]["Query"]
            for e in athena.list_query_executions()["QueryExecutionIds"]]
    assert len(sent) == 2
    # The checks' SQL is the same text on both engines; only the relation it reads differs (DuckDB's view over
    # the files, Athena's partition of the inventory table).
    checks_sql = judged[0].split(" FROM (SELECT * FROM ", 1)
    for query_text in sent:
        assert query_text.count(checks_sql[0]) == 1
        assert 'FROM "inventory_db"."models_inventory" WHERE "dt" = \'2026-11-29-01-00\'' in query_text
        assert " AS raw WHERE is_latest AND NOT is_delete_marker" in query_text


@pytest.mark.servers
def test_every_scanned_bucket_needs_a_daily_inventory_with_the_fields(aws):
    import boto3

    from governance.policy import scan
    from governance.policy.collectors.s3_inventory import REQUIRED_FIELDS

    s3 = boto3.client("s3")

    def configure(bucket: str, frequency: str = "Daily", fields=REQUIRED_FIELDS, prefix: str | None = None):
        s3.create_bucket(Bucket=bucket)
        config = {"Id": "inv", "IsEnabled": True, "IncludedObjectVersions": "Current",
                  "Schedule": {"Frequency": frequency}, "OptionalFields": list(fields),
                  "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::dest", "Format": "CSV"}}}
        if prefix:
            config["Filter"] = {"Prefix": prefix}
        s3.put_bucket_inventory_configuration(Bucket=bucket, Id="inv", InventoryConfiguration=config)

    configure("inv-weekly", frequency="Weekly")
    configure("inv-partial", prefix="models/")
    s3.create_bucket(Bucket="inv-none")
    result = scan([f"s3://{b}" for b in ("inv-weekly", "inv-partial", "inv-none")])
    got = {f.resource.id: str(f.status) for f in result.findings if f.check.id == "INV-S3-001"}
    assert got == {"s3://inv-weekly": "FAIL", "s3://inv-partial": "FAIL", "s3://inv-none": "FAIL"}
    _, evidence = result.evidence["s3_bucket_inventory:s3://inv-weekly"]
    assert evidence.data["configurations"][0]["frequency"] == "Weekly"


def test_inventory_configuration_evidence_and_its_verdicts():
    """The PASS side on S3's response shape (moto returns OptionalFields as ["Field"], so it cannot show it)."""
    from governance.policy.collectors.base import Evidence, ResourceRef
    from governance.policy.collectors.s3_inventory import REQUIRED_FIELDS, configuration_summary, is_sufficient
    from governance.policy.engine import evaluate

    def config(**change):
        base = {"Id": "daily", "IsEnabled": True, "IncludedObjectVersions": "Current",
                "Schedule": {"Frequency": "Daily"}, "OptionalFields": list(REQUIRED_FIELDS),
                "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::d", "Format": "Parquet"}}}
        return {**base, **change}

    check = next(c for c in load_policies(None).checks if c.id == "INV-S3-001")
    cases = {"good": (config(), "PASS"), "weekly": (config(Schedule={"Frequency": "Weekly"}), "FAIL"),
             "disabled": (config(IsEnabled=False), "FAIL"),
             "thin": (config(OptionalFields=list(REQUIRED_FIELDS[1:])), "FAIL"),
             "prefix": (config(Filter={"Prefix": "models/"}), "FAIL")}
    for name, (raw, expected) in cases.items():
        summary = configuration_summary(raw, list(REQUIRED_FIELDS))
        evidence = Evidence(data={"bucket": name, "configurations": [summary],
                                  "daily_with_required_fields": is_sufficient(summary)})
        assert str(evaluate(check, ResourceRef("s3_bucket_inventory", f"s3://{name}"), evidence).status) == expected
    assert configuration_summary(config(OptionalFields=["Size"]), ["Size", "ObjectLockMode"])["missing_fields"] \
        == ["ObjectLockMode"]
