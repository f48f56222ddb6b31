"""The complete scan result as deterministic JSON: findings with traces, and the evidence behind them."""

from __future__ import annotations

from governance.jsonio import dumps
from governance.policy.findings import ScanResult


def render(result: ScanResult) -> bytes:
    return dumps(result.to_dict())
