"""Turning what the user typed (paths, ``s3://`` URIs, SageMaker ARNs) into the resources to scan.

=======================================================  ===========================================================
Target                                                   Resources
=======================================================  ===========================================================
``path/to/file`` or ``path/to/folder``                   ``local_file`` per file; ``artefact`` per model archive
``s3://bucket`` / ``s3://bucket/prefix``                 ``s3_bucket`` and ``s3_bucket_inventory``; ``s3_object`` per
                                                         current object version (ListObjectVersions); ``artefact``
                                                         per model archive
``s3://bucket/key`` (an existing key)                    that object (and its bucket)
``arn:aws:sagemaker:…:model-package-group/NAME``         ``sagemaker_model_package`` per version (ListModelPackages)
``sagemaker:model-package-group/NAME``                   the same, in the current account and region
``…:model-package/NAME/N``, ``…:training-job/NAME``,     that one resource
``…:model/NAME``
``aws:discover`` (``governance scan --discover``)        every bucket of the account (each as ``s3://bucket``) and
                                                         every KMS key of the region (ListBuckets, ListKeys)
=======================================================  ===========================================================

Listing is the only work done here; evidence is collected later, in parallel.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from governance.errors import InputError
from governance.policy.aws import AwsCallError
from governance.policy.collectors.base import ResourceRef, ScanContext
from governance.policy.collectors.local_file import file_ref
from governance.policy.collectors.s3_bucket import bucket_ref
from governance.policy.collectors.s3_inventory import inventory_ref
from governance.policy.collectors.s3_object import _iso, object_ref
from governance.storage import parse_s3_uri

# The pseudo-target behind ``--discover``: everything the account holds, so a scheduled scan misses nothing.
DISCOVER_TARGET = "aws:discover"
# What counts as a model artefact (gets the artefact checks), unless the policies say otherwise.
DEFAULT_ARTEFACT_PATTERNS = ("*.tar.gz", "*.tgz")
_SAGEMAKER = re.compile(
    r"^(?:arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:\d*:|sagemaker:)"
    r"(?P<kind>model-package-group|model-package|training-job|model)/(?P<name>.+)$"
)


@dataclass(frozen=True)
class DiscoveryError:
    """A listing that failed: checks of ``ref.type`` on it report ERROR with ``reason``."""

    ref: ResourceRef
    reason: str


def is_artefact(name: str, patterns: tuple[str, ...] = DEFAULT_ARTEFACT_PATTERNS) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def discover(
    target: str,
    ctx: ScanContext,
    wanted: set[str],
    *,
    artefact_patterns: tuple[str, ...] = DEFAULT_ARTEFACT_PATTERNS,
    listing_calls: list[str] | None = None,
    on_error: Callable[[DiscoveryError], None] = lambda error: None,
) -> Iterator[ResourceRef]:
    """Yield the resources behind ``target`` whose types are in ``wanted`` (the types some check applies to)."""
    calls = listing_calls if listing_calls is not None else []
    if target == DISCOVER_TARGET:
        yield from _discover_account(ctx, wanted, artefact_patterns, calls, on_error)
    elif target.startswith("s3://"):
        yield from _discover_s3(target, ctx, wanted, artefact_patterns, calls, on_error)
    elif match := _SAGEMAKER.match(target):
        yield from _discover_sagemaker(target, match.group("kind"), match.group("name"), ctx, wanted, calls, on_error)
    elif target.startswith("arn:"):
        raise InputError("BAD_TARGET", f"{target}: not a SageMaker model package group, model package, "
                                       "training job or model ARN")
    else:
        yield from _discover_local(Path(target), wanted, artefact_patterns, on_error)


def _discover_local(path: Path, wanted: set[str], patterns: tuple[str, ...],
                    on_error: Callable[[DiscoveryError], None] = lambda error: None) -> Iterator[ResourceRef]:
    if not path.exists():
        raise InputError("FILE_NOT_FOUND", f"{path}: no such file or folder")
    if path.is_file():
        files = [path]
    else:
        files = []

        def unreadable(err: OSError) -> None:
            # A folder that cannot be listed hides its files from every check: ERROR, never a silent pass.
            where = str(Path(err.filename or path).absolute())
            for kind in sorted(wanted & {"local_file", "artefact"}):
                on_error(DiscoveryError(ResourceRef(kind, where), f"{where}: cannot list: {err.strerror or err}"))

        for root, dirs, names in os.walk(path, onerror=unreadable):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
    for file in files:
        if "local_file" in wanted:
            yield file_ref(file)
        if "artefact" in wanted and is_artefact(file.name, patterns):
            yield ResourceRef("artefact", str(file.absolute()))


def expand_account(ctx: ScanContext, wanted: set[str], calls: list[str],
                   on_error: Callable[[DiscoveryError], None]) -> tuple[list[str], list[ResourceRef]]:
    """``(targets, refs)`` for ``--discover``: an ``s3://bucket`` target per bucket (listed in parallel by the scan)
    and every KMS key the caller can list. A listing that fails is an ERROR on the account, never an empty (and
    passing) scan."""
    targets: list[str] = []
    refs: list[ResourceRef] = []
    if wanted & {"s3_bucket", "s3_object", "artefact"}:
        try:
            targets = [f"s3://{bucket['Name']}" for page in ctx.aws.paginate("s3", "list_buckets", calls)
                       for bucket in page.get("Buckets") or []]
        except AwsCallError as err:
            on_error(DiscoveryError(ResourceRef("s3_bucket", "s3://*"), str(err)))
    if "kms_key" in wanted:
        try:
            for page in ctx.aws.paginate("kms", "list_keys", calls):
                refs.extend(ResourceRef("kms_key", key["KeyArn"]) for key in page.get("Keys") or [])
        except AwsCallError as err:
            on_error(DiscoveryError(ResourceRef("kms_key", f"arn:aws:kms:{ctx.aws.region}:*:key/*"), str(err)))
    return targets, refs


def _discover_account(ctx: ScanContext, wanted: set[str], patterns: tuple[str, ...], calls: list[str],
                      on_error: Callable[[DiscoveryError], None]) -> Iterator[ResourceRef]:
    targets, refs = expand_account(ctx, wanted, calls, on_error)
    for target in targets:
        yield from _discover_s3(target, ctx, wanted, patterns, calls, on_error)
    yield from refs


def _discover_s3(target: str, ctx: ScanContext, wanted: set[str], patterns: tuple[str, ...], calls: list[str],
                 on_error: Callable[[DiscoveryError], None]) -> Iterator[ResourceRef]:
    location = parse_s3_uri(target)
    if "s3_bucket" in wanted:
        yield bucket_ref(location.bucket)
    if "s3_bucket_inventory" in wanted:
        yield inventory_ref(location.bucket)
    if not wanted & {"s3_object", "artefact"}:
        return
    prefix = location.key
    try:
        try:
            refs = list(_list_current_versions(ctx, location.bucket, prefix, calls))
        except AwsCallError as err:
            if err.kind not in ("denied", "unavailable"):
                raise
            # Without s3:ListBucketVersions (or on a store without versions) list the current objects instead.
            refs = list(_list_objects(ctx, location.bucket, prefix, calls))
    except AwsCallError as err:
        on_error(DiscoveryError(ResourceRef("s3_object", f"s3://{location.bucket}/{prefix}*"), str(err)))
        return
    exact = [r for r in refs if r.id == f"s3://{location.bucket}/{prefix}"] if prefix and not prefix.endswith("/") \
        else []
    for ref in exact or refs:
        if "s3_object" in wanted:
            yield ref
        if "artefact" in wanted and is_artefact(ref.id.rsplit("/", 1)[-1], patterns):
            yield ResourceRef("artefact", ref.id, ref.hints)


def _list_current_versions(ctx: ScanContext, bucket: str, prefix: str, calls: list[str]) -> Iterator[ResourceRef]:
    # ListObjectVersions gives VersionId and ETag together (ListObjectsV2 has no VersionId), so the incremental
    # scan can tell an unchanged object without asking for it; unversioned buckets answer VersionId "null".
    params = {"Bucket": bucket, **({"Prefix": prefix} if prefix else {})}
    for page in ctx.aws.paginate("s3", "list_object_versions", calls, **params):
        for version in page.get("Versions") or []:
            if not version.get("IsLatest"):
                continue
            key = version["Key"]
            if key.endswith("/") and not version.get("Size"):
                continue  # a console "folder" marker
            yield object_ref(bucket, key, version_id=version.get("VersionId") or "null", etag=version.get("ETag"),
                             size=version.get("Size"), last_modified=_iso(version.get("LastModified")))


def _list_objects(ctx: ScanContext, bucket: str, prefix: str, calls: list[str]) -> Iterator[ResourceRef]:
    params = {"Bucket": bucket, **({"Prefix": prefix} if prefix else {})}
    for page in ctx.aws.paginate("s3", "list_objects_v2", calls, **params):
        for item in page.get("Contents") or []:
            key = item["Key"]
            if key.endswith("/") and not item.get("Size"):
                continue
            # No VersionId in this listing: the state keys on the modification time instead.
            yield object_ref(bucket, key, version_id=f"modified:{_iso(item.get('LastModified'))}",
                             etag=item.get("ETag"), size=item.get("Size"),
                             last_modified=_iso(item.get("LastModified")))


def _discover_sagemaker(target: str, kind: str, name: str, ctx: ScanContext, wanted: set[str], calls: list[str],
                        on_error: Callable[[DiscoveryError], None]) -> Iterator[ResourceRef]:
    if kind == "training-job":
        yield ResourceRef("sagemaker_training_job", target)
    elif kind == "model":
        yield ResourceRef("sagemaker_model", target)
    elif kind == "model-package":
        yield ResourceRef("sagemaker_model_package", target)
    else:
        try:
            for page in ctx.aws.paginate("sagemaker", "list_model_packages", calls, ModelPackageGroupName=name):
                for summary in page.get("ModelPackageSummaryList") or []:
                    yield ResourceRef("sagemaker_model_package", summary["ModelPackageArn"])
        except AwsCallError as err:
            on_error(DiscoveryError(ResourceRef("sagemaker_model_package", target), str(err)))
