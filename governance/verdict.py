"""The governance verdict ``governance.json``: its format, its statuses and its signed reading and writing.

The govern step writes it, the SageMaker definition's registration condition reads its ``status`` and
``customer_metadata``, and the deployment gate (``governance approve``) trusts it only when its DSSE signature
(``governance.json.sig``, whose subject is the artefact) verifies. One module, so the three agree on every name.

Every check ends as PASS, FAIL (it ran and found a problem), ERROR (it could not run — never a pass) or SKIPPED (the
caller turned it off; reported, never silently). The verdict is PASS only when no check FAILed or ERRORed.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from governance import __version__, storage
from governance.errors import CheckFailed, Incomplete, InputError, NotFound
from governance.jsonio import MAX_BYTES, dumps, loads, write_json
from governance.signing import Signer, dsse

VERDICT_FILE = "governance.json"
VERDICT_SIGNATURE = "governance.json.sig"
VERDICT_FORMAT = "quickloan-governance/verdict/v1"
VERDICT_PREDICATE_TYPE = "https://quickloan-governance.dev/verdict/v1"
AUDIT_PACK = "audit-pack.pdf"
PASS, FAIL, ERROR, SKIPPED = "PASS", "FAIL", "ERROR", "SKIPPED"
# In the order they run; each later check can use what the earlier ones wrote into the evidence folder.
CHECKS = ("integrity", "lineage", "fairness", "explain", "policy", "evidence", "audit_pack")
# The checks a PASS verdict must show as PASS before approval: a check the caller skipped is not a check that passed.
REQUIRED_CHECKS = ("integrity", "lineage", "fairness", "explain", "policy", "evidence")
# The verdict's customer_metadata keys, registered with the model package (the Register step reads these).
CUSTOMER_METADATA_KEYS = ("artefact_sha256", "signature_uri", "evidence_uri", "audit_pack_uri", "governance_uri")
# The reports whose digests the verdict records (key in ``digests`` → file in the evidence folder).
EVIDENCE_REPORTS = {"evaluation": "evaluation.json", "fairness": "fairness.json", "explain": "explain.json"}


@dataclass
class CheckOutcome:
    """One check's result: what ran, how it ended, why, and which evidence files it wrote."""

    name: str
    status: str
    message: str
    reason: str | None = None
    verdict: str | None = None  # green | amber | red, for checks that grade rather than pass/fail
    evidence: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def blocking(self) -> bool:
        return self.status in (FAIL, ERROR)

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value not in (None, [])}


@dataclass
class Verdict:
    """The content of ``governance.json`` and where it was written."""

    status: str
    summary: str
    artefact: dict
    checks: list[CheckOutcome]
    customer_metadata: dict[str, str]
    digests: dict[str, str]
    context: dict
    generated_at: str
    path: Path | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def exit_code(self) -> int:
        return {PASS: 0, FAIL: CheckFailed.exit_code}.get(self.status, Incomplete.exit_code)

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.reason or c.status}: {c.message}" for c in self.checks if c.blocking]

    def to_dict(self) -> dict:
        return {
            "format": VERDICT_FORMAT,
            "status": self.status,
            "passed": self.passed,
            "summary": self.summary,
            "reasons": self.reasons,
            "artefact": self.artefact,
            "checks": [c.to_dict() for c in self.checks],
            "customer_metadata": self.customer_metadata,
            "digests": self.digests,
            "context": self.context,
            "generated_at": self.generated_at,
            "generator": {"package": "quickloan-governance", "version": __version__},
        }


def overall_status(checks: list[CheckOutcome]) -> str:
    """FAIL if any check failed, else ERROR if any could not run, else PASS."""
    statuses = {c.status for c in checks}
    return FAIL if FAIL in statuses else ERROR if ERROR in statuses else PASS


def summarise(checks: list[CheckOutcome], status: str) -> str:
    """One line for the pipeline's Fail step and the registry: what blocked, or what passed and how."""
    if status == PASS:
        graded = [f"{c.name} {c.verdict}" for c in checks if c.verdict]
        skipped = [c.name for c in checks if c.status == SKIPPED]
        extra = (f"; {', '.join(graded)}" if graded else "") + (f"; skipped: {', '.join(skipped)}" if skipped else "")
        return f"every blocking check passed{extra}"
    # The Fail step quotes this line: say what each blocking check found, not only that it failed.
    return "; ".join(f"{c.name} {c.status} ({c.reason}): {_shorten(c.message, SUMMARY_MESSAGE_CHARS)}"
                     for c in checks if c.blocking)


SUMMARY_MESSAGE_CHARS = 400


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def verdict_statement(verdict: dict) -> dict:
    """The in-toto statement ``governance.json.sig`` signs: the artefact as subject, the verdict as predicate."""
    artefact = verdict["artefact"]
    name = Path(str(artefact["uri"]).rstrip("/")).name or "model.tar.gz"
    return dsse.statement([{"name": name, "digest": {"sha256": artefact["sha256"]}}], VERDICT_PREDICATE_TYPE, verdict)


def write_verdict(verdict: Verdict, out_dir: str | os.PathLike, signer: Signer) -> Path:
    """``governance.json`` and its DSSE signature; the signature first, so a verdict file never stands unsigned."""
    content = verdict.to_dict()
    out = Path(out_dir)
    storage.write_bytes_atomic(out / VERDICT_SIGNATURE, dumps(dsse.sign_statement(verdict_statement(content), signer)))
    return Path(write_json(out / VERDICT_FILE, content))


def signature_location(location: str) -> str:
    """Where the signature of the verdict at ``location`` lives (``governance.json.sig`` beside it)."""
    if location.endswith(VERDICT_FILE):
        return location[: -len(VERDICT_FILE)] + VERDICT_SIGNATURE
    return location + ".sig"


def read_verdict(path: str | os.PathLike, verifier=None) -> dict:
    """Read ``governance.json`` (local or ``s3://``); with a ``verifier`` its signature must verify and match."""
    location = str(path)
    try:
        verdict = loads(storage.read_bytes(location, max_bytes=MAX_BYTES), what=location,
                        error=lambda _, message: InputError("MALFORMED_VERDICT", message))
    except (ValueError, UnicodeDecodeError):
        raise InputError("MALFORMED_VERDICT", f"{location}: not a JSON governance verdict") from None
    if not isinstance(verdict, dict) or verdict.get("format") != VERDICT_FORMAT:
        raise InputError("MALFORMED_VERDICT", f"{location}: not a {VERDICT_FORMAT} document")
    if verifier is not None:
        signature = signature_location(location)
        try:
            envelope = loads(storage.read_bytes(signature, max_bytes=MAX_BYTES), what=signature,
                             error=lambda _, message: InputError("MALFORMED_ENVELOPE", message))
        except (ValueError, UnicodeDecodeError):
            raise InputError("MALFORMED_ENVELOPE", f"{signature}: not a DSSE envelope") from None
        except NotFound:
            raise CheckFailed("VERDICT_UNSIGNED", f"{location}: no signature beside it ({signature})") from None
        signed = dsse.verify_envelope(envelope, verifier)
        if signed != verdict_statement(verdict):
            raise CheckFailed("VERDICT_TAMPERED", f"{location}: differs from what its signature covers")
    return verdict


__all__ = ["AUDIT_PACK", "CHECKS", "CUSTOMER_METADATA_KEYS", "ERROR", "EVIDENCE_REPORTS", "FAIL", "PASS",
           "REQUIRED_CHECKS", "SKIPPED", "VERDICT_FILE", "VERDICT_FORMAT", "VERDICT_PREDICATE_TYPE",
           "VERDICT_SIGNATURE", "CheckOutcome", "Verdict", "overall_status", "read_verdict", "signature_location",
           "summarise", "verdict_statement", "write_verdict"]
