"""A real webhook receiver for tests: an HTTP server on 127.0.0.1, in a thread, that records
each request (headers and body) and answers as the test tells it (a status, a slow answer,
a redirect, a huge body)."""

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"careslot-test-secret-32-bytes!!!").decode()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    # Each answer in turn (a status, or a callable taking the handler); the last repeats.
    answers: list = field(default_factory=lambda: [204])
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?source=careslot"

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def verified(self) -> list[dict]:
        """Each request's body, checked against its Standard Webhooks signature."""
        return [Webhook(SECRET).verify(r.body, r.headers) for r in self.requests()]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.received.append(
                    Received(path=self.path, headers=dict(self.headers.items()), body=body)
                )
                index = min(len(receiver.received), len(receiver.answers)) - 1
                answer = receiver.answers[index]
            if callable(answer):
                answer(self)
                return
            self.send_response(answer)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    return Handler


def slow(seconds: float):
    def answer(handler) -> None:
        time.sleep(seconds)
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def redirect(to: str):
    def answer(handler) -> None:
        handler.send_response(307)
        handler.send_header("Location", to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def endless(status: int = 500):
    """An answer whose body never ends (sent until the client stops reading)."""

    def answer(handler) -> None:
        handler.send_response(status)
        handler.end_headers()
        try:
            while True:
                handler.wfile.write(b"x" * 65536)
        except OSError:
            pass

    return answer


@contextmanager
def webhook_receiver(*answers) -> Iterator[Receiver]:
    receiver = Receiver(port=0, answers=list(answers) or [204])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
