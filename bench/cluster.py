"""Several app instances behind nginx, on loopback: what the scale test (tests/scale) and the
benchmark's cluster run (bench/run.py) serve.

    with Cluster(database_url, redis_url, folder) as cluster:
        cluster.base                 # nginx, round robin over every instance
        cluster.pinned[0]            # nginx again, sending everything to instance 0 only
        cluster.served()             # requests each instance has answered so far
        cluster.command("send-reminders")  # a job as a server's timer runs it: a Popen

`command` works before the block too (`cluster.command("db", "upgrade")`: the schema first).

Each instance is gunicorn (two workers) on a free port, with the same SECRET_KEY,
DATABASE_URL, REDIS_URL and SERVICEIDEAS_PROXY_HOPS=1. nginx serves deploy/nginx/serviceideas.conf
itself, rendered for loopback (`render_site`): the upstream's servers, the listen address and
the static folder replaced, TLS and the port-80 redirect left out. The site is rendered once with
every instance in its upstream (`base`) and once per instance with only that one (`pinned`), so
a check can choose which instance answers and still go through the real site.

Everything started is stopped on leaving the `with` block, when a check fails too, and at exit
should the block never be left (each process is killed with its whole process group).
`Throwaway` starts and stops PostgreSQL and Redis through scripts/throwaway-postgres and
scripts/throwaway-redis.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "serviceideas.conf"
STATIC_IN_SITE = "/srv/serviceideas/static/"
SECRET_KEY = "cluster-" + "k" * 40  # the one key every instance shares
START_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_binary() -> str | None:
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    found = subprocess.run(["sh", "-c", "command -v nginx"], capture_output=True, text=True)
    return found.stdout.strip() or None


class Throwaway:
    """A server from scripts/throwaway-postgres or scripts/throwaway-redis (`kind`)."""

    def __init__(self, kind: str, environment: Mapping[str, str] | None = None) -> None:
        self.script = str(ROOT / "scripts" / f"throwaway-{kind}")
        started = subprocess.run(
            [self.script, "start"],
            env={**os.environ, **(environment or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if started.returncode != 0:
            raise RuntimeError(f"throwaway {kind} did not start:\n{started.stderr}")
        lines = started.stdout.strip().splitlines()
        self.folder, self.url = lines[0], lines[-1]
        self._stopped = False
        atexit.register(self.stop)

    def _run(self, *args: str) -> None:
        subprocess.run([self.script, *args], check=True, capture_output=True, timeout=120)

    def down(self) -> None:
        self._run("down", self.folder)

    def up(self) -> None:
        self._run("up", self.folder)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            subprocess.run([self.script, "stop", self.folder], capture_output=True, timeout=120)


def render_site(site: str, *, upstream: str, servers: list[int], listen: int, static: Path) -> str:
    """deploy/nginx/serviceideas.conf served over plain HTTP on 127.0.0.1:`listen`, sending to
    the gunicorn instances on `servers` (ports), under the upstream name `upstream`."""

    def replace(pattern: str, new: str, text: str, flags: int = 0) -> str:
        changed, count = re.subn(pattern, new, text, flags=flags)
        if count == 0:
            raise ValueError(f"deploy/nginx/serviceideas.conf: no {pattern!r} to replace")
        return changed

    lines = "".join(
        f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in servers
    )
    site = replace(
        r"^upstream serviceideas \{\n.*?^\}\n",
        f"upstream {upstream} {{\n{lines}}}\n",
        site,
        re.M | re.S,
    )
    site = replace(r"proxy_pass http://serviceideas;", f"proxy_pass http://{upstream};", site)
    site = replace(r"^server \{\n\s*listen 80;.*?^\}\n", "", site, re.M | re.S)  # the redirect
    site = replace(r"^\s*listen 443 ssl[^;]*;\n", f"    listen 127.0.0.1:{listen};\n", site, re.M)
    site = replace(r"^\s*listen \[::\]:443[^;]*;\n", "", site, re.M)
    site = replace(r"^\s*ssl_\w+ [^;]*;\n", "", site, re.M)
    return site.replace(STATIC_IN_SITE, f"{static}/")


def nginx_conf(folder: Path, sites: str) -> str:
    """A whole nginx.conf around the rendered sites, keeping every file in `folder`."""
    # As root nginx's workers would become `nobody`, who may not read a checkout's static
    # folder or this temporary one: here (and only here) they stay root.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {folder}/{kind}_temp;\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 2;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/nginx-error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log {folder}/nginx-access.log;\n{temp}    sendfile on;\n"
        f"{sites}\n}}\n"
    )


class Process:
    """A process of its own group, its output in a log file."""

    def __init__(
        self, command: list[str], log: Path, environment: Mapping[str, str] | None = None
    ) -> None:
        self.log = log
        with log.open("ab") as output:
            self.popen = subprocess.Popen(
                command,
                cwd=ROOT,
                env=dict(environment) if environment is not None else None,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=15)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class Cluster:
    """`instances` gunicorn instances of `app` and nginx in front of them, in `folder`."""

    def __init__(
        self,
        database_url: str,
        redis_url: str,
        folder: Path,
        *,
        instances: int = 2,
        app: str = "wsgi:app",
        workers: int = 2,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.app = app
        self.workers = workers
        self.ports = [free_port() for _ in range(instances)]
        self.nginx_port = free_port()
        self.pinned_ports = [free_port() for _ in range(instances)]
        self.base = f"http://127.0.0.1:{self.nginx_port}"
        self.pinned = [f"http://127.0.0.1:{port}" for port in self.pinned_ports]
        self.environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": SECRET_KEY,
            "SERVICEIDEAS_PROXY_HOPS": "1",
            "SERVICEIDEAS_BASE_URL": self.base,
            "SERVICEIDEAS_ASSETS": "local",
            **(environment or {}),
        }
        self.environment.pop("SERVICEIDEAS_ENV", None)
        self.processes: list[Process] = []
        self.instances: list[Process] = []
        self.nginx: Process | None = None
        self.commands: list[subprocess.Popen[str]] = []  # jobs, stopped with the rest if running

    def __enter__(self) -> Cluster:
        atexit.register(self.stop)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for n, port in enumerate(self.ports):
            command = [sys.executable, "-m", "gunicorn", self.app, "--workers", str(self.workers)]
            command += ["--bind", f"127.0.0.1:{port}", "--timeout", "30", "--no-control-socket"]
            command += ["--access-logfile", str(self.access_log(n))]
            self.access_log(n).touch()
            instance = Process(command, self.folder / f"gunicorn-{n}.log", self.environment)
            self.processes.append(instance)
            self.instances.append(instance)
        self._start_nginx()
        for n, port in enumerate(self.ports):
            self._wait(f"http://127.0.0.1:{port}/healthz", self.instances[n], f"instance {n}")
        for base in (self.base, *self.pinned):
            assert self.nginx is not None
            self._wait(base + "/healthz", self.nginx, f"nginx at {base}")

    def _start_nginx(self) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        site = SITE.read_text()
        static = ROOT / "static"
        sites = [
            render_site(
                site,
                upstream="every_instance",
                servers=self.ports,
                listen=self.nginx_port,
                static=static,
            )
        ]
        for n, (port, listen) in enumerate(zip(self.ports, self.pinned_ports, strict=True)):
            sites.append(
                render_site(
                    site, upstream=f"instance_{n}", servers=[port], listen=listen, static=static
                )
            )
        conf = self.folder / "nginx.conf"
        conf.write_text(nginx_conf(self.folder, "\n".join(sites)))
        arguments = [
            "-p",
            str(self.folder),
            "-c",
            str(conf),
            "-e",
            str(self.folder / "nginx-error.log"),
        ]
        checked = subprocess.run([binary, "-t", *arguments], capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(
                f"nginx -t refused the rendered site:\n{checked.stderr}\n{conf.read_text()}"
            )
        self.nginx = Process([binary, *arguments], self.folder / "nginx.log")
        self.processes.append(self.nginx)

    def _wait(self, url: str, process: Process, what: str) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not answers(url):
            if not process.running():
                raise RuntimeError(f"{what} stopped:\n{process.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer {url}:\n{process.log_tail()}")
            time.sleep(0.1)

    def access_log(self, n: int) -> Path:
        return self.folder / f"gunicorn-{n}.access.log"

    def served(self) -> list[int]:
        """How many requests each instance has answered so far (its access log's lines).

        gunicorn logs a request just after answering it: a moment's wait lets the last lines in."""
        time.sleep(0.3)
        return [
            len(self.access_log(n).read_text(errors="replace").splitlines())
            for n in range(len(self.ports))
        ]

    def command(self, *args: str) -> subprocess.Popen[str]:
        """`flask --app wsgi <args>` as a server's timer runs it: same environment, started now."""
        command = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.commands.append(command)
        return command

    def logs(self) -> str:
        """The end of every instance's and nginx's log, for a failure's message."""
        parts = [f"--- {p.log.name}\n{p.log_tail()}" for p in self.processes]
        error_log = self.folder / "nginx-error.log"
        if error_log.exists():
            parts.append(f"--- nginx-error.log\n{error_log.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for command in self.commands:
            if command.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(command.pid, signal.SIGKILL)
                command.wait(timeout=15)
        self.commands.clear()
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
