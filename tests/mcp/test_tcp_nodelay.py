"""Every HTTP server the project starts sets TCP_NODELAY on the connections it accepts; without it each SSE
answer waits ~40 ms for a plain client's delayed ACK. Checked on the server's side of a real connection
opened by a plain HTTP client (a raw socket), for `runmcp --transport http` and for uvicorn serving the main
ASGI app the way `make run` does."""

import socket
import threading
import time

import pytest
import uvicorn

from mcpbridge.transports.http import http_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _serve_in_thread(server: uvicorn.Server, **run_kwargs) -> threading.Thread:
    thread = threading.Thread(target=server.run, kwargs=run_kwargs, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    return thread


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(15)


def _plain_get(port: int, path: str) -> socket.socket:
    """One HTTP/1.1 request on a kept-alive connection, the answer read; the connection stays open."""
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client.recv(65536)
        assert chunk, "the server closed the connection"
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return client


def _accepted_nodelay(server: uvicorn.Server) -> list[int]:
    connections = list(server.server_state.connections)
    assert connections, "the server holds no accepted connection"
    return [
        conn.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        for conn in connections
    ]


def test_runmcp_http_sets_tcp_nodelay_on_accepted_connections(mcp_db):
    server, sock = http_server(host="127.0.0.1", port=0)
    thread = _serve_in_thread(server, sockets=[sock])
    try:
        client = _plain_get(sock.getsockname()[1], "/.well-known/oauth-protected-resource/mcp")
        try:
            assert all(_accepted_nodelay(server))
        finally:
            client.close()
    finally:
        _stop(server, thread)


def test_main_asgi_app_under_uvicorn_sets_tcp_nodelay_on_accepted_connections(mcp_db):
    # As `make run` starts it: uvicorn binds host and port itself.
    # Lifespan off: its startup would make the test process a serving process (kept connections, drain loop).
    config = uvicorn.Config(
        "controlplane.asgi:application", host="127.0.0.1", port=0, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = _serve_in_thread(server)
    try:
        port = server.servers[0].sockets[0].getsockname()[1]
        client = _plain_get(port, "/.well-known/oauth-protected-resource/mcp")
        try:
            assert all(_accepted_nodelay(server))
        finally:
            client.close()
    finally:
        _stop(server, thread)
