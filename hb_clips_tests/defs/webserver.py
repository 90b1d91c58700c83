"""A real `dagster dev` (webserver, daemon and code server) for tests that talk to
Dagster the way its users do: GraphQL, the Python GraphQL client, the CLI."""
from __future__ import annotations

import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from hb_clips_tests.automation_support import log_tail, start_session, stop_session

ROOT = Path(__file__).resolve().parents[2]

LOCATIONS_QUERY = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DagsterDev:
    proc: object
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        """The query's ``data``; a GraphQL error fails loudly with the server's message."""
        reply = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60)
        reply.raise_for_status()
        body = reply.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def wait_loaded(self, timeout_s: float) -> None:
        """Until the webserver answers and its one code location has loaded (or failed: then raise)."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"dagster dev exited with {self.proc.returncode}:\n{log_tail(self.log)}"
            try:
                entries = self.graphql(LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
            except (httpx.HTTPError, KeyError, AssertionError) as exc:
                last = repr(exc)
            else:
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    errors = [e["locationOrLoadError"] for e in entries
                              if e["locationOrLoadError"]["__typename"] == "PythonError"]
                    assert not errors, f"the code location failed to load: {errors}"
                    return
                last = repr(entries)
            time.sleep(1)
        raise AssertionError(f"dagster dev not ready after {timeout_s} s ({last}):\n{log_tail(self.log)}")

    def stop(self) -> list[int]:
        return stop_session(self.proc)


def start_dagster_dev(env: dict, log: Path, workspace: Path = ROOT / "workspace.yaml") -> DagsterDev:
    """`dagster dev -w workspace.yaml` on a free port of 127.0.0.1, in its own session (stop() ends it all)."""
    port = free_port()
    dagster = Path(sys.executable).with_name("dagster")
    proc = start_session([str(dagster), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
                         log, env, ROOT)
    return DagsterDev(proc=proc, port=port, log=log)
