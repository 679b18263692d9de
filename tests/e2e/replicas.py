"""Several `controlplane.asgi` replicas (uvicorn) behind Debian's nginx, the README's "Past one machine" recipe,
for the replica test and bench/replicas_throughput.py. Everything runs on loopback, logs and nginx's files go
to a throwaway directory."""

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# The balancer's configuration: sessions go back to the replica named in their id (the others stand by for when it
# is gone, so the client gets the spec's 404 from a live replica); requests without a session id (initialize,
# stateless 2026-07-28 calls, the admin and the APIs) go round robin.
# nginx run in the foreground from a throwaway directory (its pid, log and temporary files there), around the
# `http` block's own lines.
NGINX_FILE = """\
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
{http}
}}
"""


def nginx_file(*, work: Path, connections: int, http: str) -> str:
    return NGINX_FILE.format(work=work, connections=connections, http=http)


NGINX_CONF = """\
    map $http_mcp_session_id $mcp_replicas {{
        default mcp_any;
{routes}
    }}
    upstream mcp_any {{
{any_servers}
        keepalive 64;
    }}
{replica_upstreams}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://$mcp_replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
    }}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_conf(*, port: int, replicas: dict[str, int], work: Path) -> str:
    servers = {name: f"server 127.0.0.1:{replica_port} max_fails=1 fail_timeout=10s;" for name, replica_port in replicas.items()}
    routes = "\n".join(f"        ~^{name}\\. mcp_{name};" for name in replicas)
    upstreams = []
    for name in replicas:
        standby = [servers[other].replace(" max_fails", " backup max_fails") for other in replicas if other != name]
        lines = "\n".join(f"        {line}" for line in [servers[name], *standby])
        upstreams.append(f"    upstream mcp_{name} {{\n{lines}\n        keepalive 16;\n    }}")
    http = NGINX_CONF.format(
        port=port,
        routes=routes,
        any_servers="\n".join(f"        {line}" for line in servers.values()),
        replica_upstreams="\n".join(upstreams),
    )
    return nginx_file(work=work, connections=4096, http=http)


def stop_process(process: subprocess.Popen, signum: int, *, grace: float) -> None:
    """Ask a server to stop with `signum`; kill it if it is still running after `grace` seconds."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_answering(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx2.get(url, timeout=2).status_code < 500:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} is not answering:\n{log.read_text()[-3000:]}")


class Replica:
    """`uvicorn controlplane.asgi:application` on a loopback port, named by MCP_REPLICA_ID."""

    def __init__(self, name: str, env: dict, work: Path):
        self.name = name
        self.port = free_port()
        self.log = work / f"replica-{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-access-log", "--timeout-graceful-shutdown", "5"],
            cwd=ROOT,
            env={**env, "MCP_REPLICA_ID": name},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),  # a pipe nobody reads would stall a chatty server
        )

    def wait(self) -> None:
        wait_until_answering(f"http://127.0.0.1:{self.port}/healthz", self.process, self.log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM, grace=15)


class Nginx:
    """Debian's nginx in the foreground with a configuration of its own in `work`."""

    def __init__(self, replicas: dict[str, int], work: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf = work / "nginx.conf"
        conf.write_text(nginx_conf(port=self.port, replicas=replicas, work=work))
        self.log = work / "nginx-error.log"
        self.log.touch()
        self.process = subprocess.Popen(
            [NGINX, "-p", str(work), "-c", str(conf), "-e", str(self.log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_until_answering(self.url + "/healthz", self.process, self.log)

    def stop(self) -> None:
        stop_process(self.process, signal.SIGQUIT, grace=10)  # nginx's graceful shutdown


class Deployment:
    """N replicas started together (they import Django in parallel), then nginx in front of them."""

    def __init__(self, count: int, env: dict, work: Path):
        self.replicas = [Replica(f"r{i + 1}", env, work) for i in range(count)]
        self.nginx = None
        try:
            for replica in self.replicas:
                replica.wait()
            self.nginx = Nginx({replica.name: replica.port for replica in self.replicas}, work)
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return self.nginx.url

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for replica in self.replicas:
            replica.stop()
