"""``startref lsp --tcp PORT``: the same server on a TCP socket (for debugging with a client that connects)."""

from __future__ import annotations

import json
import socket
import subprocess
import time

from lspcase import server_command, server_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _message(sock: socket.socket) -> dict:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    header, rest = data.split(b"\r\n\r\n", 1)
    length = int(next(l for l in header.decode().split("\r\n") if l.lower().startswith("content-length")).split(":")[1])
    while len(rest) < length:
        rest += sock.recv(4096)
    return json.loads(rest[:length])


def test_tcp_mode_answers_initialize_with_the_features() -> None:
    port = _free_port()
    proc = subprocess.Popen([*server_command(), "--tcp", str(port)], env=server_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=60)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.time() < deadline, "the server did not listen"
                time.sleep(0.2)
        with sock:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                               "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
            sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            reply = _message(sock)
        caps = reply["result"]["capabilities"]
        assert reply["result"]["serverInfo"]["name"] == "startref"
        assert caps["completionProvider"]["triggerCharacters"] == ["{", ","] and caps["completionProvider"]["resolveProvider"]
        assert caps["hoverProvider"] and caps["definitionProvider"] and caps["codeActionProvider"]
        assert sorted(caps["executeCommandProvider"]["commands"]) == ["startref.addToBib", "startref.suggest"]
        assert caps["positionEncoding"] == "utf-16" and caps["textDocumentSync"]["change"] == 2  # incremental
    finally:
        proc.kill()
        proc.wait(timeout=30)
