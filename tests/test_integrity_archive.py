"""The streaming inspector: a corpus of unsafe archives (one per finding), built here, each flagged without a byte
being written outside the test's temporary folder; and the safe archives it must leave alone."""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import os
import pickle
import tarfile
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest

from governance.integrity import CODES, Limits, inspect_artefact, inspect_stream
from governance.integrity.findings import BLOCKING
from governance.model_artifact import tarball_bytes


@functools.cache
def small_booster_bytes(fmt: str = "ubj", rounds: int = 4) -> bytes:
    """A real (tiny) XGBoost model in native format."""
    import xgboost

    rng = np.random.default_rng(3)
    features = rng.random((200, 4))
    labels = (features[:, 0] > 0.5).astype(int)
    booster = xgboost.train({"max_depth": 2, "nthread": 1}, xgboost.DMatrix(features, label=labels), rounds)
    return bytes(booster.save_raw(fmt))


def model_tarball(extra: dict[str, bytes] | None = None) -> bytes:
    return tarball_bytes({"xgboost-model": small_booster_bytes(), **(extra or {})})


def tar_gz(*members: tuple[tarfile.TarInfo, bytes], fmt: int = tarfile.PAX_FORMAT, encoding: str = "utf-8") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt, encoding=encoding) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return gzip.compress(raw.getvalue(), mtime=0)


def member(name: str, data: bytes = b"x", **fields) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = 0o644
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def _sparse_member() -> bytes:
    raw = bytearray(tarfile.TarInfo("holes").tobuf(tarfile.GNU_FORMAT))
    raw[156:157] = tarfile.GNUTYPE_SPARSE
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\0 " % sum(raw)
    return gzip.compress(bytes(raw) + bytes(1024))


def _truncated() -> bytes:
    data = model_tarball()
    return data[: len(data) // 2]


def _corrupt_header() -> bytes:
    # A valid first member, then a header with a broken checksum: the standard library's reader would
    # stop quietly here (as if the archive ended) and never show the member after it.
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in ("xgboost-model", "hidden.bin"):
            info = tarfile.TarInfo(name)
            data = small_booster_bytes() if name == "xgboost-model" else b"payload"
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = bytearray(raw.getvalue())
    second = data.index(b"hidden.bin")
    data[second + 148] ^= 0x11
    return gzip.compress(bytes(data), mtime=0)


def _torch_like_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": [1.0, 2.0]}, protocol=2))
    return out.getvalue()


ESCAPE = f"governance-escape-{uuid.uuid4().hex}"

# One archive per finding. Each entry: (finding code, archive bytes, limits or None).
CORPUS: dict[str, tuple[str, bytes, Limits | None]] = {
    "absolute-path": ("ABSOLUTE_PATH", tar_gz(member(f"/tmp/{ESCAPE}")), None),
    "windows-absolute": ("ABSOLUTE_PATH", tar_gz(member(f"C:\\{ESCAPE}")), None),
    "dot-dot": ("PATH_TRAVERSAL", tar_gz(member(f"code/../../{ESCAPE}")), None),
    "symlink": ("SYMLINK", tar_gz(member("xgboost-model", type=tarfile.SYMTYPE, linkname="/etc/passwd")), None),
    "hardlink": ("HARDLINK", tar_gz(member("a"), member("b", type=tarfile.LNKTYPE, linkname="/etc/shadow")), None),
    "char-device": ("DEVICE_NODE", tar_gz(member("tty", type=tarfile.CHRTYPE, devmajor=5, devminor=0)), None),
    "block-device": ("DEVICE_NODE", tar_gz(member("sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0)), None),
    "fifo": ("FIFO", tar_gz(member("pipe", type=tarfile.FIFOTYPE)), None),
    "setuid": ("SETUID_SETGID", tar_gz(member("code/run.sh", b"#!/bin/sh\n", mode=0o4755)), None),
    "setgid": ("SETUID_SETGID", tar_gz(member("tool", b"x", mode=0o2755)), None),
    "duplicate": ("DUPLICATE_MEMBER", tar_gz(member("xgboost-model", b"{}"), member("./xgboost-model", b"[]")), None),
    "non-utf8": ("NON_UTF8_NAME", tar_gz(member("caf\xe9.bin"), fmt=tarfile.USTAR_FORMAT, encoding="latin-1"), None),
    "gnu-sparse": ("AMBIGUOUS_ARCHIVE", _sparse_member(), None),
    "unknown-type": ("UNSUPPORTED_MEMBER", tar_gz(member("odd", type=b"Q")), None),
    "case-twins": ("TWIN_NAMES", tar_gz(member("code/Inference.py"), member("code/inference.py")), None),
    "unicode-twins": ("TWIN_NAMES", tar_gz(member("caf\u00e9"), member("cafe\u0301")), None),
    "model-deep-nesting": ("MODEL_UNPARSEABLE", tar_gz(member("xgboost-model", b'{"a":' + b"[" * 200_000
                                                             + b"]" * 200_000 + b"}")), None),
    "too-many": ("TOO_MANY_MEMBERS", tar_gz(*(member(f"m{i}") for i in range(6))), Limits(max_members=5)),
    "too-large": ("TOO_LARGE", tar_gz(member("big", os.urandom(300_000))), Limits(max_total_bytes=200_000)),
    "gzip-bomb": ("COMPRESSION_RATIO", tar_gz(member("zeros", bytes(4 << 20))),
                  Limits(max_ratio=50, ratio_floor_bytes=1 << 20)),
    "not-gzip": ("CORRUPT_ARCHIVE", b"PK\x03\x04 this is a zip, not a tar.gz", None),
    "empty-file": ("CORRUPT_ARCHIVE", b"", None),
    "corrupt-header": ("CORRUPT_ARCHIVE", _corrupt_header(), None),
    "bad-crc": ("CORRUPT_ARCHIVE", (lambda d: d[:-8] + bytes([d[-8] ^ 1]) + d[-7:])(model_tarball()), None),
    "truncated": ("TRUNCATED_ARCHIVE", _truncated(), None),
    "no-end-marker": ("TRUNCATED_ARCHIVE", gzip.compress(gzip.decompress(model_tarball())[:1024 + 512]), None),
    "trailing-bytes": ("TRAILING_DATA", model_tarball() + b"appended payload", None),
    "data-after-end": ("TRAILING_DATA", gzip.compress(gzip.decompress(model_tarball()) + b"hidden"), None),
    "pickle-by-bytes": ("PICKLE_DATA", tar_gz(member("weights.bin", pickle.dumps(os.system, protocol=4))), None),
    "pickle-protocol-0": ("PICKLE_DATA", tar_gz(member("notes.txt", pickle.dumps({"a": [1]}, protocol=0))), None),
    "pickle-embedded": ("PICKLE_DATA", tar_gz(member("blob", os.urandom(5000) + pickle.dumps(os.system, 3))), None),
    "pickle-gzipped": ("PICKLE_DATA", tar_gz(member("model.joblib", gzip.compress(pickle.dumps([1, 2], 4)))), None),
    "pickle-bzip2": ("PICKLE_DATA", tar_gz(member("m.bz2", bz2.compress(pickle.dumps([1, 2], 2)))), None),
    "pickle-in-zip": ("PICKLE_DATA", tar_gz(member("checkpoint.pt", _torch_like_zip())), None),
    "pickle-after-model": ("PICKLE_DATA", tar_gz(member("xgboost-model", small_booster_bytes("json")
                                                        + pickle.dumps({"a": 1}, protocol=0))), None),
    "bytes-after-model": ("BAD_XGBOOST_MODEL", tar_gz(member("xgboost-model", small_booster_bytes() + b"junk")), None),
    "pickle-as-model": ("PICKLE_DATA", tar_gz(member("xgboost-model", pickle.dumps({"booster": 1}, 4))), None),
    "model-not-xgboost": ("BAD_XGBOOST_MODEL", tar_gz(member("xgboost-model", b'{"learner": "no"}')), None),
    "model-binary": ("BAD_XGBOOST_MODEL", tar_gz(member("xgboost-model", b"binf\x00\x00legacy")), None),
    "model-bad-utf8": ("BAD_XGBOOST_MODEL", tar_gz(member("xgboost-model", b'{"learner":\xff\xfe}')), None),
    "model-is-dir": ("BAD_XGBOOST_MODEL", tar_gz(member("xgboost-model", type=tarfile.DIRTYPE, mode=0o755)), None),
    "code-dir": ("CODE_PRESENT", tarball_bytes({"xgboost-model": small_booster_bytes(),
                                                "code/requirements.txt": b"evil-package==6.6.6\n"}), None),
    "no-model": ("NO_MODEL_MEMBER", tar_gz(member("model.json", b"{}")), None),
}


def test_every_finding_code_has_a_corpus_archive():
    assert {code for code, _, _ in CORPUS.values()} == set(CODES)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_unsafe_archive_is_flagged_and_nothing_is_written(case, tmp_path, monkeypatch):
    code, data, limits = CORPUS[case]
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(data)
    monkeypatch.chdir(workdir)
    before = sorted(tmp_path.rglob("*"))

    report = inspect_artefact(artefact, limits=limits)

    assert code in [f.code for f in report.findings], report.to_dict()["findings"]
    assert all(f.code in CODES for f in report.findings)
    assert report.safe is (CODES[code][0] != BLOCKING)
    assert sorted(tmp_path.rglob("*")) == before
    assert not Path(f"/tmp/{ESCAPE}").exists() and not (tmp_path.parent / ESCAPE).exists()
    # The file digest covers every byte, even when reading the archive had to stop early.
    import hashlib

    assert report.sha256 == hashlib.sha256(data).hexdigest() and report.size == len(data)


def test_safe_model_archive_has_no_findings_and_a_full_manifest():
    booster = small_booster_bytes()
    data = tarball_bytes({"xgboost-model": booster})
    report = inspect_stream(io.BytesIO(data), name="model.tar.gz")
    assert report.findings == [] and report.complete and report.safe
    import hashlib

    [only] = report.members
    assert (only.name, only.type, only.size, only.mode) == ("xgboost-model", "file", len(booster), 0o644)
    assert only.sha256 == hashlib.sha256(booster).hexdigest()
    assert report.uncompressed_size == len(gzip.decompress(data))


def test_json_model_and_sagemaker_style_layout_are_safe():
    # tar czf model.tar.gz -C dir .  gives "./" and "./xgboost-model"; JSON models are native too.
    data = tar_gz(member("./", type=tarfile.DIRTYPE, mode=0o755),
                  member("./xgboost-model", small_booster_bytes("json")))
    report = inspect_stream(io.BytesIO(data))
    assert report.findings == [], report.findings
    assert [m.type for m in report.members] == ["directory", "file"]


def test_code_members_are_listed_prominently():
    data = tarball_bytes({"xgboost-model": small_booster_bytes(), "code/inference.py": b"def model_fn(d): ...\n",
                          "code/requirements.txt": b"numpy\n"})
    report = inspect_stream(io.BytesIO(data))
    assert report.code_members == ["code/inference.py", "code/requirements.txt"]
    [finding] = report.findings
    assert finding.code == "CODE_PRESENT" and not finding.blocking and "requirements.txt" in finding.message
    assert report.to_dict()["code_members"] == report.code_members


def test_member_details_and_link_targets_are_reported():
    data = tar_gz(member("xgboost-model", small_booster_bytes()),
                  member("latest", type=tarfile.SYMTYPE, linkname="xgboost-model"))
    report = inspect_stream(io.BytesIO(data))
    link = report.members[1]
    assert (link.type, link.linkname, link.sha256) == ("symlink", "xgboost-model", None)
    assert report.to_dict()["members"][1]["linkname"] == "xgboost-model"


def test_long_names_in_pax_headers_are_read_and_gnu_long_names_refused():
    long_name = "code/" + "d" * 150 + "/inference.py"
    report = inspect_stream(io.BytesIO(tar_gz(member("xgboost-model", small_booster_bytes()),
                                              member(long_name, b"print()"), fmt=tarfile.PAX_FORMAT)))
    assert [m.name for m in report.members] == ["xgboost-model", long_name]
    assert report.complete
    report = inspect_stream(io.BytesIO(tar_gz(member("xgboost-model", small_booster_bytes()),
                                              member(long_name, b"print()"), fmt=tarfile.GNU_FORMAT)))
    assert [f.code for f in report.blocking] == ["AMBIGUOUS_ARCHIVE"] and "long-name" in report.blocking[0].message


@pytest.mark.parametrize("tail", [b"", bytes(64)])
def test_concatenated_gzip_members_are_refused(tail):
    raw = gzip.decompress(model_tarball())
    report = inspect_stream(io.BytesIO(gzip.compress(raw[:4096]) + gzip.compress(raw[4096:]) + tail))
    assert [f.code for f in report.blocking] == ["AMBIGUOUS_ARCHIVE"] and not report.complete


def test_zero_padding_after_the_gzip_stream_is_refused():
    report = inspect_stream(io.BytesIO(model_tarball() + bytes(64)))
    assert [f.code for f in report.blocking] == ["TRAILING_DATA"]


def test_random_weights_are_not_mistaken_for_pickle():
    rng = np.random.default_rng(11)
    data = tarball_bytes({"xgboost-model": small_booster_bytes(), "weights.bin": rng.bytes(8 << 20),
                          "floats.npy": rng.random(200_000).tobytes()})
    report = inspect_stream(io.BytesIO(data))
    assert report.findings == []


def test_pickle_finding_names_member_and_imports():
    data = tar_gz(member("xgboost-model", small_booster_bytes()),
                  member("extra/state.bin", pickle.dumps(os.system, protocol=2)))
    [finding] = inspect_stream(io.BytesIO(data)).findings
    assert finding.member == "extra/state.bin" and "system" in finding.message


def test_missing_artefact_is_bad_input(tmp_path):
    from governance.errors import InputError

    with pytest.raises(InputError):
        inspect_artefact(tmp_path / "absent.tar.gz")
