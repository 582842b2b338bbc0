"""`dist --server URL …` against a real distd, from another directory, compared field by field with the same
commands on a local store; retries through a proxy that drops connections and answers 503; one clear error
line when the server cannot be reached or refuses the token; `dist login` and `dist logout`."""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dist.persistence.store import StoreLocation, open_store
from dist.services import audit, releases
from tests.cli.conftest import DIST, Result
from tests.support import free_port, start, stop, store_args

# Compared as text as well as JSON (every command is compared as JSON).
TEXT_TOO = {("release", "show"), ("release", "yank"), ("channel", "list"), ("app", "show")}
TABLES = {("release", "list"), ("channel", "list"), ("channel", "history"), ("app", "list"), ("app", "show")}
TIMESTAMP_KEYS = {"at", "created_at", "updated_at", "expires_at", "revoked_at", "last_used_at"}


class Runner:
    """`dist` in a fresh process from `cwd`, with only the environment given (no DIST_* of the test run)."""

    def __init__(self, cwd: Path, *options: str, env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        self.options = list(options)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")} | (env or {})

    def __call__(self, *args: str, stdin: str = "") -> Result:
        done = subprocess.run(
            [str(DIST), *self.options, *args],
            cwd=self.cwd,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def server(location: StoreLocation, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A distd over the store under test, and an admin token's secret."""
    process, port = start(location, tmp_path / "distd.log")
    try:
        made = subprocess.run(
            [str(DIST), *store_args(location), "token", "create", "--name", "ci", "--scope", "admin", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
        yield f"http://127.0.0.1:{port}", json.loads(made.stdout)["secret"]
    finally:
        stop(process)


def comparable(document: Any) -> Any:
    """A --json document less what differs between two stores by nature: times, secrets, and who acted."""
    if isinstance(document, dict):
        return {
            key: "<time>"
            if key in TIMESTAMP_KEYS and value is not None
            else "<secret>"
            if key == "secret"
            else comparable(value)
            for key, value in document.items()
            if key not in ("actor", "created_by", "id")
        }
    if isinstance(document, list):
        return [comparable(item) for item in document]
    return document


SEQUENCE: list[tuple[str, ...]] = [
    ("publish", "demo", "1.0.0", "a.bin=linux-x86_64", "--channel", "beta", "--notes", "first"),
    ("publish", "demo", "1.1.0", "b.bin=linux-x86_64", "a.bin", "--channel", "beta"),
    ("promote", "demo", "stable", "--from", "beta"),
    ("promote", "demo", "stable", "--from", "beta"),
    ("rollback", "demo", "beta"),
    ("rollback", "demo", "beta"),
    ("publish", "demo", "1.2.0", "b.bin"),
    ("release", "yank", "demo", "1.2.0"),
    ("release", "yank", "demo", "1.1.0"),
    ("publish", "demo", "1.0.0", "a.bin"),
    ("promote", "demo", "stable", "--version", "9.9.9"),
    ("promote", "demo", "stable", "--version", "x"),
    ("release", "show", "demo", "1.0"),
    ("release", "list", "demo"),
    ("release", "show", "demo", "1.1.0"),
    ("channel", "list", "demo"),
    ("channel", "history", "demo", "beta"),
    ("app", "list"),
    ("app", "show", "demo"),
    ("app", "show", "ghost"),
]


def same_answers(local: Runner, remote: Runner, sequence: list[tuple[str, ...]]) -> None:
    """Each command of `sequence` on the local store and over HTTP: the same exit code, error, and output."""
    for command in sequence:
        for json_flag in ((), ("--json",)) if command[:2] in TEXT_TOO else (("--json",),):
            here, there = local(*command, *json_flag), remote(*command, *json_flag)
            assert there.code == here.code, (command, here, there)
            assert "Traceback" not in there.err
            if here.code != 0:
                assert there.err == here.err and there.out == "", (command, here.err, there.err)
            elif json_flag:
                assert comparable(there.json()) == comparable(here.json()), command
            elif command[:2] not in TABLES:
                assert there.out.splitlines()[0] == here.out.splitlines()[0], (command, here.out, there.out)
            else:
                # Tables: the same rows, whose columns are as wide as who acted (cli:USER, token:N) makes them.
                assert len(there.out.splitlines()) == len(here.out.splitlines()), (command, here.out, there.out)


def runners(server: tuple[str, str], tmp_path: Path) -> tuple[Runner, Runner]:
    """`dist` on a local store of its own, and `dist --server` on the server's, each from a directory of its own
    holding the same files."""
    url, secret = server
    local_dir, remote_dir = tmp_path / "local", tmp_path / "elsewhere"
    for directory in (local_dir, remote_dir):
        directory.mkdir()
        (directory / "a.bin").write_bytes(b"a build\x00" * 1000)
        (directory / "b.bin").write_bytes(b"b build")
    local = Runner(local_dir, "--store", str(tmp_path / "local-store"))
    remote = Runner(remote_dir, "--server", url, env={"DIST_TOKEN": secret, "HOME": str(tmp_path / "home")})
    return local, remote


def test_remote_commands_match_local_ones(server: tuple[str, str], tmp_path: Path) -> None:
    local, remote = runners(server, tmp_path)
    same_answers(local, remote, SEQUENCE)
    # The audit logs tell the same story, the remote one with the token that created them.
    here_log = [(e["action"], e["target"]) for e in local("audit", "--json").json()["events"]]
    there_log = [(e["action"], e["target"]) for e in remote("audit", "--json").json()["events"]]
    assert there_log == [("token_created", there_log[0][1]), *here_log]
    assert {e["actor"] for e in remote("audit", "--app", "demo", "--json").json()["events"]} == {
        f"token:{there_log[0][1]}"
    }


WEBHOOKS: list[tuple[str, ...]] = [
    ("webhook", "list"),
    ("webhook", "create", "https://hooks.example/dist", "--event", "release_published", "--app", "demo"),
    ("webhook", "create", "https://hooks.example/all"),
    ("webhook", "create", "not a url"),
    ("webhook", "create", "https://hooks.example/x", "--event", "release_exploded"),
    ("webhook", "list"),
    ("webhook", "delete", "2"),
    ("webhook", "delete", "2"),
    ("webhook", "redeliver", "999"),
    ("webhook", "deliveries", "--limit", "0"),
    ("webhook", "list"),
]


def test_webhooks_over_http(server: tuple[str, str], tmp_path: Path) -> None:
    local, remote = runners(server, tmp_path)
    same_answers(local, remote, WEBHOOKS)
    # Secrets are shown once, by create, and never listed.
    created = remote("webhook", "create", "https://hooks.example/ci", "--json").json()
    assert created["secret"].startswith("whsec_") and created["secret"] not in remote("webhook", "list", "--json").out
    # A publish queues a delivery to each webhook it concerns; the server lists it with its state.
    for runner in (local, remote):
        assert runner("publish", "demo", "1.0.0", "a.bin").code == 0
    here = local("webhook", "deliveries", "--json").json()["deliveries"]
    there = remote("webhook", "deliveries", "--json").json()["deliveries"]
    # Webhook 1 takes demo's release_published; the one made above takes every event, its own creation first.
    assert [(d["webhook"], d["action"]) for d in there] == [
        (created["id"], "release_published"),
        (1, "release_published"),
        (created["id"], "app_created"),
        (created["id"], "webhook_created"),
    ]
    assert [d["action"] for d in here] == ["release_published"]
    only = remote("webhook", "deliveries", "--webhook", "1", "--json").json()["deliveries"]
    assert [d["id"] for d in only] == [there[1]["id"]]
    deleted = remote("webhook", "delete", "1", "--json")
    assert deleted.code == 0 and deleted.json()["url"] == "https://hooks.example/dist"
    assert [w["id"] for w in remote("webhook", "list", "--json").json()["webhooks"]] == [created["id"]]


def test_tokens_over_http(server: tuple[str, str], tmp_path: Path) -> None:
    url, secret = server
    remote = Runner(tmp_path, "--server", url, env={"DIST_TOKEN": secret, "HOME": str(tmp_path)})
    created = remote(
        "token", "create", "--name", "ci", "--scope", "publish", "--app", "demo", "--expires-in", "30d", "--json"
    )
    assert created.code == 0, created.err
    token = created.json()
    assert token["secret"].startswith("dist_") and token["scopes"] == ["publish"] and token["status"] == "active"
    listed = remote("token", "list", "--json").json()["tokens"]
    assert [t["id"] for t in listed] == [token["id"] - 1, token["id"]] and token["secret"] not in json.dumps(listed)
    revoked = remote("token", "revoke", str(token["id"]), "--json").json()
    assert revoked["status"] == "revoked"
    again = remote("token", "revoke", str(token["id"]))
    assert (again.code, again.err) == (1, f"error: token.already_revoked: token {token['id']} was already revoked\n")


def test_remote_mode_loads_no_sqlalchemy_nor_alembic(server: tuple[str, str], tmp_path: Path) -> None:
    url, secret = server
    (tmp_path / "x.bin").write_bytes(b"x")
    script = (
        "import sys\n"
        "from dist.cli import main\n"
        "url = sys.argv[1]\n"
        "for args in (['app', 'list'], ['publish', 'demo', '3.0.0', 'x.bin', '--json'], ['audit']):\n"
        "    sys.argv = ['dist', '--server', url, *args]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, (args, done.code)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'psycopg'))\n"
        "assert not loaded, loaded\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIST_")} | {"DIST_TOKEN": secret}
    done = subprocess.run(
        [sys.executable, "-c", script, url], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_clear_errors_without_tracebacks(server: tuple[str, str], tmp_path: Path) -> None:
    url, _ = server
    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = Runner(tmp_path, "--server", nowhere, env={"HOME": str(tmp_path)})("app", "list")
    assert unreachable.code == 1 and unreachable.out == ""
    assert (
        unreachable.err.startswith(f"error: server.unreachable: cannot reach {nowhere}")
        and unreachable.err.count("\n") == 1
    )
    bad_token = Runner(tmp_path, "--server", url, env={"DIST_TOKEN": "dist_" + "0" * 64, "HOME": str(tmp_path)})
    refused = bad_token("release", "yank", "demo", "1.0.0")
    assert (refused.code, refused.err) == (1, "error: auth.unknown: this token is not known to this server\n")
    tls = Runner(tmp_path, "--server", url.replace("http:", "https:"), env={"HOME": str(tmp_path)})("app", "list")
    assert tls.code == 1 and tls.err.startswith("error: server.tls_error: ") and tls.err.count("\n") == 1
    for command in (("store", "verify"), ("store", "gc"), ("store", "export", "out"), ("init",), ("serve",)):
        local_only = Runner(tmp_path, "--server", url, env={"HOME": str(tmp_path)})(*command)
        assert local_only.code == 2 and local_only.err.startswith("error: usage.local_only: "), (command, local_only)


class FlakyProxy:
    """Forwards connections to `port`, after dropping the first `drops` connections without a word and
    answering the next `unavailable` with 503."""

    def __init__(self, port: int, *, drops: int, unavailable: int) -> None:
        self.target = port
        self.drops, self.unavailable = drops, unavailable
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.seen = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.seen += 1
            if self.seen <= self.drops:
                client.recv(65536)
                client.close()
            elif self.seen <= self.drops + self.unavailable:
                client.recv(65536)
                body = b'{"error": {"code": "proxy.unavailable", "message": "try later"}}'
                head = f"HTTP/1.1 503 Service Unavailable\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                client.sendall(head.encode() + body)
                client.close()
            else:
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target))

        def pipe(source: socket.socket, sink: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                sink.close()
                source.close()

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self) -> None:
        self.listener.close()


def test_retries_through_dropped_connections_and_503(
    server: tuple[str, str], location: StoreLocation, tmp_path: Path
) -> None:
    url, secret = server
    proxy = FlakyProxy(int(url.rsplit(":", 1)[1]), drops=1, unavailable=2)
    try:
        (tmp_path / "a.bin").write_bytes(b"retried")
        via = Runner(
            tmp_path, "--server", f"http://127.0.0.1:{proxy.port}", env={"DIST_TOKEN": secret, "HOME": str(tmp_path)}
        )
        done = via("publish", "demo", "1.0.0", "a.bin", "--json")
        assert done.code == 0, done.err
        assert done.json()["version"] == "1.0.0" and proxy.seen > 3
    finally:
        proxy.close()
    store = open_store(location)
    try:
        assert [r.version for r in releases.list_releases(store.uow(), "demo")[0]] == ["1.0.0"]
        published = [e for e in audit.list_events(store.uow()) if e.action.value == "release_published"]
        assert len(published) == 1
    finally:
        store.close()


class AnswerDropper:
    """Forwards each request to `port`, but closes the connection without a word instead of passing on the
    answer to the first publish: the server published, the client never heard."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.publishes = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with client, client.makefile("rb") as incoming:
            while request_line := incoming.readline():
                method, path, _ = request_line.decode().split(" ", 2)
                headers = {}
                while (line := incoming.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip()] = value.strip()
                body = incoming.read(int(headers.get("Content-Length", "0")))
                upstream = http.client.HTTPConnection("127.0.0.1", self.target, timeout=60)
                upstream.request(method, path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                if method == "POST" and path.endswith("/releases"):
                    self.publishes += 1
                    if self.publishes == 1:
                        return
                head = f"HTTP/1.1 {answer.status} {answer.reason}\r\n"
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        head += f"{name}: {value}\r\n"
                client.sendall(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)

    def close(self) -> None:
        self.listener.close()


def test_a_publish_whose_answer_was_lost_is_retried_and_answered_once(
    server: tuple[str, str], location: StoreLocation, tmp_path: Path
) -> None:
    url, secret = server
    proxy = AnswerDropper(int(url.rsplit(":", 1)[1]))
    try:
        (tmp_path / "a.bin").write_bytes(b"published once")
        via = Runner(
            tmp_path, "--server", f"http://127.0.0.1:{proxy.port}", env={"DIST_TOKEN": secret, "HOME": str(tmp_path)}
        )
        done = via("publish", "demo", "1.0.0", "a.bin", "--json")
        # The retry carries the same Idempotency-Key: the first publish's answer, not 409 release.exists.
        assert done.code == 0, done.err
        assert done.json()["version"] == "1.0.0" and proxy.publishes == 2
    finally:
        proxy.close()
    store = open_store(location)
    try:
        assert [r.version for r in releases.list_releases(store.uow(), "demo")[0]] == ["1.0.0"]
        published = [e for e in audit.list_events(store.uow()) if e.action.value == "release_published"]
        assert len(published) == 1
    finally:
        store.close()


def test_login_keeps_the_token_for_the_user_alone(server: tuple[str, str], tmp_path: Path) -> None:
    url, secret = server
    config = tmp_path / "config"
    user = Runner(tmp_path, env={"XDG_CONFIG_HOME": str(config), "HOME": str(tmp_path)})
    logged = user("login", url, stdin=secret + "\n")
    assert logged.code == 0, logged.err
    saved = config / "dist" / "login.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert secret not in logged.out + logged.err
    (tmp_path / "a.bin").write_bytes(b"logged in")
    published = user("publish", "demo", "1.0.0", "a.bin", "--channel", "stable", "--json")
    assert published.code == 0, published.err
    assert user("channel", "list", "demo", "--json").json()["channels"][0]["release"] == "1.0.0"
    wrong = user("login", url, stdin="dist_" + "1" * 64 + "\n")
    assert wrong.code == 1 and wrong.err.startswith("error: auth.unknown: ")
    assert json.loads(saved.read_text())["token"] == secret
    assert user("logout").code == 0 and not saved.exists()
    # Logged out, with no store here either: a local store in ./dist-store, which has no app yet.
    assert user("app", "show", "demo").err.startswith("error: app.not_found: ")
