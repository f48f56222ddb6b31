"""AWS calls for collectors: one client per service, every request counted, throttling retried with backoff.

botocore's own retries are switched off so each HTTP request is visible here: the scan reports exactly how many
calls it made (the incremental scan's promise is checked against these numbers) and a throttled call is retried
with exponential backoff and full jitter before it becomes an ERROR finding.

>>> classify("SlowDown"), classify("AccessDenied"), classify("NotImplemented"), classify("NoSuchKey")
('throttled', 'denied', 'unavailable', 'not_found')
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded", "LimitExceededException", "PriorRequestNotComplete", "EC2ThrottledException",
    "ServiceUnavailable", "503",
})
DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "403", "Forbidden", "UnauthorizedOperation", "AllAccessDisabled",
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException",
})
UNAVAILABLE_CODES = frozenset({
    "NotImplemented", "501", "MethodNotAllowed", "405", "UnknownOperationException", "InvalidAction",
    "UnsupportedOperation", "InternalError", "500",
})
NOT_FOUND_CODES = frozenset({
    "NoSuchBucket", "NoSuchKey", "NoSuchVersion", "404", "NotFound", "NotFoundException", "ResourceNotFound",
    "ValidationException",
})


def classify(code: str) -> str:
    """Sort an error code into throttled / denied / unavailable / not_found / error."""
    if code in THROTTLING_CODES:
        return "throttled"
    if code in DENIED_CODES:
        return "denied"
    if code in UNAVAILABLE_CODES:
        return "unavailable"
    if code in NOT_FOUND_CODES:
        return "not_found"
    return "error"


class AwsCallError(Exception):
    """A call that did not return evidence; ``kind`` is what :func:`classify` says, ``code`` the service's code."""

    def __init__(self, api: str, code: str, message: str, kind: str, attempts: int = 1) -> None:
        self.api, self.code, self.kind, self.attempts = api, code, kind, attempts
        detail = {
            "throttled": f"throttled after {attempts} attempts",
            "denied": "access denied",
            "unavailable": "API not available on this endpoint",
            "not_found": "not found",
        }.get(kind, "failed")
        super().__init__(f"{api}: {detail} ({code}{': ' + message if message and message != code else ''})")


@dataclass
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        # Full jitter (AWS architecture blog, "Exponential Backoff And Jitter").
        return random.uniform(0, min(self.max_delay, self.base_delay * (2 ** attempt)))


class AwsCaller:
    """Thread-safe: clients are created once per service under a lock and shared by the worker threads."""

    def __init__(self, *, region: str | None = None, retry: RetryPolicy | None = None, pool_size: int = 16,
                 session: Any = None) -> None:
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        # A boto3 session with other credentials (an assumed role in another account); default: the caller's.
        self.session = session
        self.retry = retry or RetryPolicy()
        self.pool_size = pool_size
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()  # API name -> HTTP requests sent (retries included)

    def client(self, service: str):
        with self._lock:
            if service not in self._clients:
                import boto3
                from botocore.config import Config

                endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL")
                config = Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    max_pool_connections=self.pool_size + 4,
                    connect_timeout=10,
                    read_timeout=60,
                    s3={"addressing_style": "path" if endpoint else "auto"},
                )
                session = self.session or boto3.session.Session()
                client = session.client(service, region_name=self.region, config=config)
                if endpoint and service == "s3control":
                    # s3control puts the account id in front of the host name, which a local endpoint
                    # (moto, an emulator) cannot resolve; its endpoint rules ignore inject_host_prefix.
                    client.meta.events.register("before-sign.s3-control", _strip_account_host)
                self._clients[service] = client
            return self._clients[service]

    def call(self, service: str, operation: str, calls: list[str] | None = None, **params: Any) -> dict:
        """Send ``operation`` (the boto3 method name) with retries on throttling; raise :class:`AwsCallError`."""
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, EndpointConnectionError

        client = self.client(service)
        api = f"{service}:{_api_name(operation)}"
        method = getattr(client, operation)
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.counts[api] += 1
            if calls is not None:
                calls.append(api)
            try:
                response = method(**params)
                response.pop("ResponseMetadata", None)
                return response
            except ClientError as err:
                error = err.response.get("Error", {})
                code = str(error.get("Code") or err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
                kind = classify(code)
                if kind == "throttled" and attempt < self.retry.attempts:
                    time.sleep(self.retry.delay(attempt))
                    continue
                raise AwsCallError(api, code, str(error.get("Message") or ""), kind, attempt) from None
            except (EndpointConnectionError, ConnectionError) as err:
                if attempt < min(3, self.retry.attempts):
                    time.sleep(self.retry.delay(attempt))
                    continue
                raise AwsCallError(api, "EndpointUnreachable", str(err), "error", attempt) from None
            except BotoCoreError as err:
                raise AwsCallError(api, type(err).__name__, str(err), "error", attempt) from None

    def paginate(self, service: str, operation: str, calls: list[str] | None = None, **params: Any):
        """Yield pages of a paginated operation, each page one counted (and retried) call."""
        client = self.client(service)
        paginator = client.get_paginator(operation)
        token_in = paginator._pagination_cfg["input_token"]
        token_out = paginator._pagination_cfg["output_token"]
        token_in = token_in if isinstance(token_in, list) else [token_in]
        token_out = token_out if isinstance(token_out, list) else [token_out]
        more_key = paginator._pagination_cfg.get("more_results")
        request = dict(params)
        while True:
            page = self.call(service, operation, calls, **request)
            yield page
            next_tokens = [_dig(page, path) for path in token_out]
            if more_key is not None and not _dig(page, more_key):
                return
            if not any(next_tokens):
                return
            for name, value in zip(token_in, next_tokens, strict=True):
                if value:
                    request[name] = value
                else:
                    request.pop(name, None)


def _strip_account_host(request, **_: Any) -> None:
    parts = urlsplit(request.url)
    first, _, rest = parts.netloc.partition(".")
    if re.fullmatch(r"\d{12}", first) and rest:
        request.url = urlunsplit(parts._replace(netloc=rest))


def _dig(page: dict, path: str) -> Any:
    current: Any = page
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def _api_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))
