"""A local file: who may read and write it, what it holds (sha256), and whether a signature sits beside it."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, ClassVar

from governance.hashing import sha256_file
from governance.policy.collectors.base import Collector, Evidence, ResourceRef, ScanContext, register


def file_ref(path: str | os.PathLike) -> ResourceRef:
    return ResourceRef("local_file", str(Path(path).absolute()))


@register
class LocalFileCollector(Collector):
    resource_type = "local_file"
    description = "A file on local disk: permission bits, owner, size, sha256, and a sibling .sig file if any."
    shape: ClassVar[dict[str, Any]] = {
        "path": str,
        "name": str,
        "size": int,
        "sha256": str,
        "mode": str,
        "owner_uid": int,
        "is_symlink": bool,
        "world_writable": bool,
        "world_readable": bool,
        "group_writable": bool,
        "group_readable": bool,
        "signature_file": str,
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        path = Path(ref.id)
        evidence = Evidence()
        try:
            info = path.lstat()
            digest = sha256_file(path) if stat.S_ISREG(path.stat().st_mode) else None
        except OSError as err:
            return Evidence.failed(f"{path}: {err.strerror or err}")
        mode = stat.S_IMODE(info.st_mode)
        signature = path.with_name(path.name + ".sig")
        evidence.data.update(
            path=str(path),
            name=path.name,
            size=info.st_size,
            sha256=digest,
            mode=f"{mode:04o}",
            owner_uid=info.st_uid,
            is_symlink=stat.S_ISLNK(info.st_mode),
            world_writable=bool(mode & stat.S_IWOTH),
            world_readable=bool(mode & stat.S_IROTH),
            group_writable=bool(mode & stat.S_IWGRP),
            group_readable=bool(mode & stat.S_IRGRP),
            signature_file=str(signature) if signature.is_file() else None,
        )
        return evidence
