"""Differential test of the archive reader: for every construct tar readers can disagree on, ``inspect`` either
refuses the archive, or lists exactly the members Python's ``tarfile`` and GNU tar read from it.

Hostile headers ``tarfile`` will not write are built by hand (:func:`block`), with a correct checksum, so the
readers see what an attacker would send.
"""

from __future__ import annotations

import gzip
import io
import pickle
import shutil
import subprocess
import tarfile

import pytest

from governance.integrity import inspect_stream
from tests.test_integrity_archive import small_booster_bytes


def _gnu_tar() -> str | None:
    path = shutil.which("tar")
    if path is None:
        return None
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    return path if "GNU tar" in version else None


GNU_TAR = _gnu_tar()
USTAR = b"ustar\x0000"
GNU = b"ustar  \x00"


def block(name: bytes, size: int = 0, kind: bytes = b"0", *, magic: bytes = USTAR, linkname: bytes = b"",
          prefix: bytes = b"", fields: dict[int, bytes] | None = None) -> bytes:
    """One 512-byte tar header, fields placed by offset, checksum computed last."""
    raw = bytearray(512)
    raw[0:len(name)] = name
    raw[100:108] = b"0000644\0"
    raw[108:116] = raw[116:124] = b"0000000\0"
    raw[124:136] = b"%011o\0" % size
    raw[136:148] = b"00000000000\0"
    raw[156:157] = kind
    raw[157:157 + len(linkname)] = linkname
    raw[257:265] = magic
    raw[345:345 + len(prefix)] = prefix
    for offset, value in (fields or {}).items():
        raw[offset:offset + len(value)] = value
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\0 " % sum(raw)
    return bytes(raw)


def data(payload: bytes) -> bytes:
    return payload + bytes(-len(payload) % 512)


def pax(records: dict[str, str] | list[tuple[str, str]], kind: bytes = b"x", *, raw: bytes | None = None) -> bytes:
    """A pax header block plus its records (``raw`` replaces the encoded records verbatim)."""
    items = records.items() if isinstance(records, dict) else records
    body = raw if raw is not None else b"".join(_record(k, v) for k, v in items)
    return block(b"PaxHeaders/x", len(body), kind) + data(body)


def _record(key: str, value: str) -> bytes:
    text = f" {key}={value}\n".encode()
    length = len(text) + len(str(len(text)))
    length = len(text) + len(str(length))
    return str(length).encode() + text


def file_member(name: bytes, payload: bytes, **options) -> bytes:
    return block(name, len(payload), **options) + data(payload)


def archive(*parts: bytes) -> bytes:
    return gzip.compress(b"".join(parts) + bytes(1024), mtime=0)


MODEL = small_booster_bytes()
MODEL_PART = file_member(b"xgboost-model", MODEL)
EVIL = b"#!/bin/sh\necho owned\n"


def _sparse_pax() -> bytes:
    # PAX sparse 1.0 as GNU tar writes it: the real name hides in GNU.sparse.name.
    return archive(MODEL_PART, pax({"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                                    "GNU.sparse.name": "code/inference.py", "GNU.sparse.realsize": "21"}),
                   file_member(b"GNUSparseFile.0/x", b"1\n0\n21\n" + bytes(505) + EVIL))


def _global_header_hiding_a_member() -> bytes:
    hidden = file_member(b"code/inference.py", EVIL)
    return archive(MODEL_PART, block(b"pax_global_header", len(hidden), b"g"), hidden)


HOSTILE: dict[str, bytes] = {
    "pax-global-path": archive(pax({"path": "../../evil.sh"}, b"g"), file_member(b"notes.txt", EVIL), MODEL_PART),
    "pax-global-size-hides-member": _global_header_hiding_a_member(),
    "gnu-longname-then-pax-path": archive(MODEL_PART, block(b"././@LongLink", 10, b"L", magic=GNU)
                                          + data(b"harmless\0\0"), pax({"path": "../../evil.sh"}),
                                          file_member(b"x", EVIL)),
    "gnu-longname": archive(MODEL_PART, block(b"././@LongLink", 18, b"L", magic=GNU) + data(b"code/inference.py\0"),
                            file_member(b"short", EVIL, magic=GNU)),
    "gnu-longlink": archive(MODEL_PART, block(b"././@LongLink", 12, b"K", magic=GNU) + data(b"/etc/passwd\0"),
                            block(b"link", 0, b"2", magic=GNU, linkname=b"harmless")),
    "gnu-sparse-old": archive(MODEL_PART, file_member(b"code/inference.py", EVIL, kind=b"S", magic=GNU)),
    "pax-sparse-name": _sparse_pax(),
    "pax-sparse-0.0": archive(MODEL_PART, pax({"GNU.sparse.size": "21", "GNU.sparse.numblocks": "1",
                                               "GNU.sparse.offset": "0", "GNU.sparse.numbytes": "21"}),
                              file_member(b"code/inference.py", EVIL)),
    "pax-length-plus": archive(MODEL_PART, pax({}, raw=b"+30 path=code/inference.py\n"), file_member(b"x", EVIL)),
    "pax-length-leading-zero": archive(MODEL_PART, pax({}, raw=b"027 path=code/inference.py\n"),
                                       file_member(b"x", EVIL)),
    "pax-length-overruns": archive(MODEL_PART, pax({}, raw=b"99 path=code/inference.py\n"), file_member(b"x", EVIL)),
    "pax-duplicate-key": archive(MODEL_PART, pax([("path", "a.txt"), ("path", "code/inference.py")]),
                                 file_member(b"x", EVIL)),
    "pax-size-plus": archive(MODEL_PART, pax({"size": "+21"}), file_member(b"x", EVIL)),
    "pax-hdrcharset": archive(MODEL_PART, pax({"hdrcharset": "BINARY", "path": "x"}), file_member(b"x", EVIL)),
    "pax-path-with-nul": archive(MODEL_PART, pax({"path": "a.txt\0../../evil.sh"}), file_member(b"x", EVIL)),
    "pax-then-pax": archive(MODEL_PART, pax({"path": "a.txt"}), pax({"path": "code/inference.py"}),
                            file_member(b"x", EVIL)),
    "pax-then-end": archive(MODEL_PART, pax({"path": "code/inference.py"})),
    "pax-with-gnu-magic": archive(MODEL_PART, block(b"PaxHeaders/x", 30, b"x", magic=GNU)
                                  + data(_record("path", "code/inference.py")), file_member(b"x", EVIL)),
    "size-leading-plus": archive(MODEL_PART, file_member(b"x", EVIL, fields={124: b"+0000000025\0"})),
    "size-leading-spaces": archive(MODEL_PART, file_member(b"x", EVIL, fields={124: b"        25 \0"})),
    "size-base256-small": archive(MODEL_PART, file_member(b"x", EVIL, fields={124: b"\x80" + bytes(10) + b"\x15"})),
    "mode-leading-plus": archive(MODEL_PART, file_member(b"x", EVIL, fields={100: b"+000644\0"})),
    "mtime-negative-base256": archive(MODEL_PART, file_member(b"x", EVIL, fields={136: b"\xff" * 12})),
    "gnu-magic-with-prefix": archive(MODEL_PART, file_member(b"inference.py", EVIL, magic=GNU, prefix=b"code")),
    "v7-no-magic": archive(MODEL_PART, file_member(b"x", EVIL, magic=bytes(8))),
    "file-named-like-dir": archive(MODEL_PART, file_member(b"code/", EVIL)),
    "unknown-type": archive(MODEL_PART, file_member(b"x", EVIL, kind=b"Q")),
    "gnu-volume-header": archive(MODEL_PART, file_member(b"x", EVIL, kind=b"V", magic=GNU)),
    "data-after-end-blocks": gzip.compress(MODEL_PART + bytes(1024) + file_member(b"code/inference.py", EVIL)
                                           + bytes(1024), mtime=0),
    "lone-zero-block-then-member": gzip.compress(MODEL_PART + bytes(512) + file_member(b"code/inference.py", EVIL)
                                                 + bytes(1024), mtime=0),
    "two-gzip-members": archive(MODEL_PART) + archive(file_member(b"code/inference.py", EVIL)),
    "trailing-garbage": archive(MODEL_PART) + b"garbage",
    "trailing-zeros": archive(MODEL_PART) + bytes(512),
    "dir-with-data": archive(MODEL_PART, file_member(b"code", EVIL, kind=b"5")),
    "pickle-after-model": archive(file_member(b"xgboost-model", small_booster_bytes("json")
                                              + pickle.dumps({"a": 1}, protocol=0))),
    "case-twins": archive(MODEL_PART, file_member(b"Xgboost-model", MODEL)),
    "nfc-nfd-twins": archive(MODEL_PART, file_member("caf\u00e9".encode(), b"1"),
                             file_member("cafe\u0301".encode(), b"2")),
}

# Archives readers agree on: inspect must accept them and list what both readers list.
BENIGN: dict[str, bytes] = {
    "ustar": archive(MODEL_PART, file_member(b"code/inference.py", EVIL)),
    "ustar-prefix": archive(MODEL_PART, file_member(b"inference.py", EVIL, prefix=b"code/" + b"d" * 120)),
    "gnu-magic-short": archive(file_member(b"xgboost-model", MODEL, magic=GNU)),
    "pax-long-path": archive(MODEL_PART, pax({"path": "code/" + "d" * 150 + "/inference.py", "mtime": "1.5"}),
                             file_member(b"x", EVIL)),
    "pax-utf8-path": archive(MODEL_PART, pax({"path": "code/caf\u00e9.py"}), file_member(b"x", EVIL)),
    "pax-size": archive(MODEL_PART, pax({"size": str(len(EVIL))}), file_member(b"x", EVIL)),
    "empty-devmajor": archive(file_member(b"xgboost-model", MODEL, magic=GNU, fields={329: bytes(16)})),
}


def _tarfile_members(raw: bytes) -> list[tuple[str, int]]:
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        return [(m.name, m.size) for m in tar.getmembers()]


def _gnu_tar_names(raw: bytes, tmp_path) -> list[str]:
    path = tmp_path / "a.tar.gz"
    path.write_bytes(raw)
    listed = subprocess.run([GNU_TAR, "-tzf", str(path)], capture_output=True, check=True)
    return [line.rstrip("/") for line in listed.stdout.decode().splitlines()]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_construct_is_refused_or_listed_exactly_as_extractors_read_it(case, tmp_path):
    raw = HOSTILE[case]
    report = inspect_stream(io.BytesIO(raw))
    if report.blocking:
        return  # refused: sign and verify stop on a blocking finding
    # Accepted: then inspect must see exactly what tarfile and GNU tar extract.
    assert [(m.name, m.size) for m in report.members] == _tarfile_members(raw)
    if GNU_TAR:
        assert [m.name for m in report.members] == _gnu_tar_names(raw, tmp_path)


EXPECTED_REFUSAL = {
    "data-after-end-blocks": "TRAILING_DATA", "lone-zero-block-then-member": "TRAILING_DATA",
    "trailing-garbage": "TRAILING_DATA", "trailing-zeros": "TRAILING_DATA", "unknown-type": "UNSUPPORTED_MEMBER",
    "dir-with-data": "CORRUPT_ARCHIVE", "pickle-after-model": "PICKLE_DATA", "case-twins": "TWIN_NAMES",
    "nfc-nfd-twins": "TWIN_NAMES",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_each_hostile_construct_gets_its_specific_finding(case):
    report = inspect_stream(io.BytesIO(HOSTILE[case]))
    codes = [f.code for f in report.blocking]
    assert EXPECTED_REFUSAL.get(case, "AMBIGUOUS_ARCHIVE") in codes, report.to_dict()["findings"]


@pytest.mark.parametrize("case", sorted(BENIGN))
def test_benign_dialects_are_accepted_and_listed_as_extractors_list_them(case, tmp_path):
    raw = BENIGN[case]
    report = inspect_stream(io.BytesIO(raw))
    assert report.complete and not report.blocking, report.to_dict()["findings"]
    assert [(m.name, m.size) for m in report.members] == _tarfile_members(raw)
    if GNU_TAR:
        assert [m.name for m in report.members] == _gnu_tar_names(raw, tmp_path)


@pytest.mark.skipif(GNU_TAR is None, reason="GNU tar is not installed")
@pytest.mark.parametrize("fmt", ["gnu", "posix", "ustar", "sparse"])
def test_archives_written_by_gnu_tar(fmt, tmp_path):
    source = tmp_path / "model"
    source.mkdir()
    (source / "xgboost-model").write_bytes(MODEL)
    options = [f"--format={fmt}"] if fmt != "sparse" else ["--sparse"]
    if fmt == "sparse":
        with open(source / "holes.bin", "wb") as handle:
            handle.seek(1 << 20)
            handle.write(b"end")
    out = tmp_path / "model.tar.gz"
    subprocess.run([GNU_TAR, *options, "-czf", str(out), "-C", str(source), "."], check=True)
    raw = out.read_bytes()
    report = inspect_stream(io.BytesIO(raw))
    if fmt == "sparse":
        assert [f.code for f in report.blocking] == ["AMBIGUOUS_ARCHIVE"] and "sparse" in report.blocking[0].message
        return
    assert report.complete and not report.blocking, report.to_dict()["findings"]
    assert [(m.name, m.size) for m in report.members] == _tarfile_members(raw)
    assert [m.name for m in report.members] == _gnu_tar_names(raw, tmp_path)


def test_sign_and_verify_refuse_what_inspect_refuses(tmp_path):
    from governance.errors import CheckFailed
    from governance.integrity import sign_artefact
    from governance.signing.signer import load_signer, write_key_pair

    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(HOSTILE["pax-global-size-hides-member"])
    private, _ = write_key_pair(tmp_path / "keys")
    with pytest.raises(CheckFailed) as caught:
        sign_artefact(artefact, load_signer(private))
    assert caught.value.reason == "UNSAFE_ARCHIVE" and "AMBIGUOUS_ARCHIVE" in caught.value.message
    assert not (tmp_path / "model.tar.gz.sig").exists()
