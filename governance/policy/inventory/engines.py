"""Where the inventory query runs: DuckDB in this process (files from a folder or ``s3://``), or Amazon Athena.

Both engines expose the delivery as one relation with the typed columns of :data:`~.sql.COLUMNS`; the checks'
query over it is the same text on both. DuckDB reads CSV.gz and Parquet itself and ORC through pyarrow; S3 files
are downloaded (and MD5-checked) first rather than read through a DuckDB extension, which would have to be
fetched from the network at run time. Athena queries the inventory table AWS documents for S3 Inventory
(partitioned by ``dt``) in the workgroup and output location given in :class:`AthenaSettings`.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import Incomplete, InputError
from governance.policy.inventory.manifest import Manifest, fetch_files
from governance.policy.inventory.sql import COLUMNS, FIELDS, identifier, literal

INSTALL_HINT = "pip install 'quickloan-governance[inventory]'"


def _snake(field: str) -> str:
    return FIELDS.get(field) or re.sub(r"(?<!^)(?=[A-Z])", "_", field).lower()


def manifest_columns(manifest: Manifest) -> list[str]:
    """The snake_case columns the delivery carries, from its ``fileSchema`` (CSV names, Parquet or ORC schema)."""
    schema = manifest.file_schema
    if manifest.file_format == "CSV":
        return [_snake(name) for name in manifest.csv_fields]
    if manifest.file_format == "Parquet":
        return re.findall(r"(?:required|optional|repeated)\s+\w+\s+([A-Za-z_][A-Za-z0-9_]*)", schema)
    inner = schema[schema.find("<") + 1:schema.rfind(">")]
    return [part.split(":", 1)[0].strip() for part in inner.split(",") if ":" in part]


@dataclass(frozen=True)
class Dialect:
    """The few functions that differ between DuckDB and Athena (Trino)."""

    name: str

    def epoch_of_text(self, sql: str) -> str:
        if self.name == "athena":
            return f"to_unixtime(from_iso8601_timestamp({sql}))"
        return f"epoch(TRY_CAST({sql} AS TIMESTAMPTZ))"

    def epoch_of_timestamp(self, sql: str) -> str:
        return f"to_unixtime({sql})" if self.name == "athena" else f"epoch(CAST({sql} AS TIMESTAMPTZ))"


def projection(present: set[str], text: bool, dialect: Dialect) -> tuple[list[str], set[str]]:
    """SELECT items mapping the raw inventory onto :data:`COLUMNS`, and which of those the inventory carries.

    ``text``: every raw column is a string (CSV files; keys URL-encoded, as S3 writes them in CSV).
    """
    def raw(name: str) -> str:
        return f"NULLIF({name}, '')" if text else name

    def flag(name: str, default: str) -> str:
        if name not in present:
            return default
        return f"(lower({name}) = 'true')" if text else name

    items = {
        "bucket": "bucket",
        "key": "url_decode(key)" if text else "key",
        "version_id": raw("version_id") if "version_id" in present else "CAST(NULL AS VARCHAR)",
        "is_latest": flag("is_latest", "true"),
        "is_delete_marker": flag("is_delete_marker", "false"),
        "size": (f"TRY_CAST({raw('size')} AS BIGINT)" if text else "CAST(size AS BIGINT)")
        if "size" in present else None,
        "last_modified_epoch": (dialect.epoch_of_text(raw("last_modified_date")) if text
                                else dialect.epoch_of_timestamp("last_modified_date"))
        if "last_modified_date" in present else None,
        "encryption_status": raw("encryption_status") if "encryption_status" in present else None,
        "bucket_key_status": raw("bucket_key_status") if "bucket_key_status" in present else None,
        "object_lock_mode": raw("object_lock_mode") if "object_lock_mode" in present else None,
        "retain_until_epoch": (dialect.epoch_of_text(raw("object_lock_retain_until_date")) if text
                               else dialect.epoch_of_timestamp("object_lock_retain_until_date"))
        if "object_lock_retain_until_date" in present else None,
        "legal_hold_status": raw("object_lock_legal_hold_status")
        if "object_lock_legal_hold_status" in present else None,
        "checksum_algorithm": raw("checksum_algorithm") if "checksum_algorithm" in present else None,
    }
    available = {name for name, sql in items.items() if sql is not None}
    select = [f"{sql if sql is not None else f'CAST(NULL AS {COLUMNS[name]})'} AS {name}"
              for name, sql in items.items()]
    return select, available


class DuckDBEngine:
    """The query in-process. One connection per scan; each delivery becomes one view."""

    name = "duckdb"
    dialect = Dialect("duckdb")

    def __init__(self, scratch: Path | None = None) -> None:
        try:
            import duckdb
        except ImportError:
            raise InputError("ENGINE_UNAVAILABLE", f"--engine duckdb needs the duckdb package ({INSTALL_HINT})") \
                from None
        self._scratch = tempfile.TemporaryDirectory(prefix="inventory-") if scratch is None else None
        self.scratch = Path(self._scratch.name) if self._scratch else scratch
        self.connection = duckdb.connect()
        self.connection.execute("SET TimeZone = 'UTC'")
        self._views = 0

    def close(self) -> None:
        self.connection.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    def source(self, manifest: Manifest) -> tuple[str, set[str]]:
        """A view over the delivery's data files; returns its name and the columns it carries."""
        folder = self.scratch / f"delivery-{self._views}"
        folder.mkdir(parents=True, exist_ok=True)
        files = fetch_files(manifest, folder)
        paths = "[" + ", ".join(literal(str(p)) for p in files) + "]"
        if manifest.file_format == "CSV":
            names = [_snake(f) for f in manifest.csv_fields]
            columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
            raw = (f"read_csv({paths}, header = false, columns = {columns}, delim = ',', quote = '\"', "
                   "escape = '\"', compression = 'gzip', auto_detect = false)")
            present, text = set(names), True
        else:
            raw = f"read_parquet({paths})" if manifest.file_format == "Parquet" else self._orc(files)
            present = {row[0] for row in self.connection.execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()}
            text = False
        missing = {"bucket", "key"} - present
        if missing:
            raise InputError("BAD_INVENTORY", f"{manifest.location}: the data files have no {sorted(missing)} column")
        select, available = projection(present, text, self.dialect)
        view = f"inventory_{self._views}"
        self._views += 1
        self.connection.execute(f"CREATE VIEW {view} AS SELECT {', '.join(select)} FROM {raw}")
        return view, available

    def _orc(self, files: list[Path]) -> str:
        try:
            import pyarrow as pa
            import pyarrow.orc as orc
        except ImportError:
            raise InputError("ENGINE_UNAVAILABLE", f"ORC inventories need pyarrow ({INSTALL_HINT})") from None
        table = pa.concat_tables([orc.read_table(str(path)) for path in files])
        name = f"orc_{self._views}"
        self.connection.register(name, table)
        return name

    def query(self, sql: str) -> list[tuple]:
        return self.connection.execute(sql).fetchall()

    def materialize(self, sql: str) -> str:
        """Run ``sql`` once into a temporary table (both queries then read it, not the files again)."""
        name = f"judged_{self._views}"
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        return name


@dataclass(frozen=True)
class AthenaSettings:
    """Where the inventory table lives and where Athena may write: the query's context, from the command line."""

    database: str
    table: str
    workgroup: str = "primary"
    output_location: str | None = None
    partition_column: str = "dt"
    poll_seconds: float = 1.0
    timeout_seconds: float = 600.0


class AthenaEngine:
    """The same query on Amazon Athena, over the inventory table (one partition per delivery)."""

    name = "athena"
    dialect = Dialect("athena")

    def __init__(self, settings: AthenaSettings) -> None:
        import boto3

        self.settings = settings
        self.client = boto3.client("athena")
        self.calls: list[str] = []
        self.queries: list[str] = []

    def close(self) -> None:
        return None

    def source(self, manifest: Manifest) -> tuple[str, set[str]]:
        present = set(manifest_columns(manifest))
        select, available = projection(present, manifest.file_format == "CSV", self.dialect)
        table = f"{identifier(self.settings.database)}.{identifier(self.settings.table)}"
        # The AWS table DDL partitions deliveries by dt = 'YYYY-MM-DD-HH-MM'.
        partition = manifest.delivery.replace("T", "-").rstrip("Z")
        relation = (f"(SELECT {', '.join(select)} FROM {table} WHERE {identifier(self.settings.partition_column)} = "
                    f"{literal(partition)} AND bucket = {literal(manifest.source_bucket)})")
        return relation, available

    def materialize(self, sql: str) -> str:
        """Athena reads the partition once per query; the relation stays a subquery (no CTAS location needed)."""
        return f"({sql})"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        from botocore.exceptions import BotoCoreError, ClientError

        settings = self.settings
        request: dict[str, Any] = {"QueryString": sql, "WorkGroup": settings.workgroup,
                                   "QueryExecutionContext": {"Database": settings.database}}
        if settings.output_location:
            request["ResultConfiguration"] = {"OutputLocation": settings.output_location}
        try:
            self.queries.append(sql)
            self.calls.append("athena:StartQueryExecution")
            execution = self.client.start_query_execution(**request)["QueryExecutionId"]
            deadline = time.monotonic() + settings.timeout_seconds
            while True:
                self.calls.append("athena:GetQueryExecution")
                status = self.client.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
                state = status.get("State")
                if state == "SUCCEEDED":
                    break
                if state in ("FAILED", "CANCELLED"):
                    raise Incomplete("ATHENA_QUERY_FAILED",
                                     f"Athena query {execution} {state}: {status.get('StateChangeReason', '')}")
                if time.monotonic() > deadline:
                    raise Incomplete("ATHENA_TIMEOUT", f"Athena query {execution} still {state} after "
                                                       f"{settings.timeout_seconds:g} s")
                time.sleep(settings.poll_seconds)
            rows: list[tuple] = []
            header = True
            for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=execution):
                self.calls.append("athena:GetQueryResults")
                for row in page["ResultSet"]["Rows"]:
                    values = tuple(cell.get("VarCharValue") for cell in row["Data"])
                    if header:
                        header = False
                        continue
                    rows.append(values)
            return rows
        except (ClientError, BotoCoreError) as err:
            from governance.storage import aws_error

            raise aws_error(err, "Athena") from None
