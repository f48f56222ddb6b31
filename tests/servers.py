"""Real local servers for tests, bound to 127.0.0.1 only: moto's server (AWS APIs)."""

from __future__ import annotations

import socket
import urllib.request
from contextlib import closing

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
