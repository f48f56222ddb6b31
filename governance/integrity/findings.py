"""Archive safety findings: one reason code per risk, a severity, and the member it concerns.

A *blocking* finding stops signing (unless the signer says ``--allow-unsafe``) and stops the deploy gate; a
*warning* is shown prominently but does not block.

>>> ArchiveFinding("SYMLINK", "link -> /etc/passwd is a symbolic link", member="link").blocking
True
>>> ArchiveFinding("CODE_PRESENT", "code/ is installed at serving time").blocking
False
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

BLOCKING = "blocking"
WARNING = "warning"

# Reason code → (severity, what it means). The table is the single definition the docs and tests read.
CODES: dict[str, tuple[str, str]] = {
    "ABSOLUTE_PATH": (BLOCKING, "a member name is an absolute path"),
    "PATH_TRAVERSAL": (BLOCKING, "a member name has a '..' segment"),
    "SYMLINK": (BLOCKING, "a member is a symbolic link"),
    "HARDLINK": (BLOCKING, "a member is a hard link"),
    "DEVICE_NODE": (BLOCKING, "a member is a character or block device"),
    "FIFO": (BLOCKING, "a member is a named pipe"),
    "SETUID_SETGID": (BLOCKING, "a member has the setuid or setgid bit"),
    "DUPLICATE_MEMBER": (BLOCKING, "two members have the same name (the later one silently wins on extraction)"),
    "NON_UTF8_NAME": (BLOCKING, "a member name is not valid UTF-8"),
    "UNSUPPORTED_MEMBER": (BLOCKING, "a member of an unknown tar type (extractors fall back to different readings)"),
    "AMBIGUOUS_ARCHIVE": (BLOCKING, "a tar or gzip construct extractors read differently (pax global header, sparse, "
                                    "GNU long name, non-canonical number, second gzip member, ...)"),
    "TWIN_NAMES": (BLOCKING, "two member names differ only in case or Unicode normalisation"),
    "TOO_MANY_MEMBERS": (BLOCKING, "more members than the limit (tar bomb)"),
    "TOO_LARGE": (BLOCKING, "the uncompressed size is over the limit (tar bomb)"),
    "COMPRESSION_RATIO": (BLOCKING, "the compression ratio is over the limit (gzip bomb)"),
    "CORRUPT_ARCHIVE": (BLOCKING, "the gzip or tar stream is corrupt, or not a tar.gz at all"),
    "TRUNCATED_ARCHIVE": (BLOCKING, "the gzip or tar stream ends early"),
    "TRAILING_DATA": (BLOCKING, "bytes follow the end of the archive"),
    "PICKLE_DATA": (BLOCKING, "pickle data (loading it can run arbitrary code), found by its bytes"),
    "BAD_XGBOOST_MODEL": (BLOCKING, "xgboost-model is not a parseable native XGBoost model (JSON/UBJ) alone"),
    "MODEL_UNPARSEABLE": (BLOCKING, "xgboost-model crashed, hung or exhausted XGBoost's parser, or nests too deep "
                                    "to hand to it"),
    "CODE_PRESENT": (WARNING, "code/ is installed and run by the serving container (code/requirements.txt via pip)"),
    "NO_MODEL_MEMBER": (WARNING, "no top-level xgboost-model member (not a SageMaker XGBoost model archive)"),
}


@dataclass(frozen=True)
class ArchiveFinding:
    """A safety code found in an archive (``SYMLINK``, ``PICKLE_OPCODES``…), with the member it concerns."""

    code: str
    message: str
    member: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")

    @property
    def severity(self) -> str:
        return CODES[self.code][0]

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING

    def to_dict(self) -> dict:
        return {**asdict(self), "severity": self.severity}

    @classmethod
    def from_dict(cls, data: dict) -> ArchiveFinding:
        code = data.get("code")
        if code not in CODES:  # a finding from a newer inspector: keep it, and block on it to fail closed
            return cls("UNSUPPORTED_MEMBER", f"unknown finding {code!r}: {data.get('message', '')}", data.get("member"))
        return cls(code, str(data.get("message", "")), data.get("member"))


@dataclass(frozen=True)
class Limits:
    """Tar-bomb limits. A ``model.tar.gz`` for this model is a few MB; these leave room for much larger models."""

    max_members: int = 10_000
    max_total_bytes: int = 16 << 30
    # XGBoost JSON compresses about 5-15x; runs of zeros compress ~1000x. 200x is far above any model we have seen.
    max_ratio: float = 200.0
    # Ratios are only meaningful once some bytes have been inflated.
    ratio_floor_bytes: int = 16 << 20

    def to_dict(self) -> dict:
        return asdict(self)
