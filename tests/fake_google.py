"""A local stand-in for the Google Geocoding API: a real HTTP server on 127.0.0.1.

Each test scripts the answers, in order, and reads back the requests the code made. The
answers follow Google's format (https://developers.google.com/maps/documentation/geocoding):
HTTP 200 with a JSON `status` for both success and API errors, 5xx when Google is down.
"""

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    payload: dict | bytes
    http_status: int = 200
    delay: float = 0.0


def ok(latitude: float, longitude: float, formatted: str = "St. Louis, MO, USA") -> Answer:
    return Answer(
        {
            "results": [
                {
                    "formatted_address": formatted,
                    "geometry": {
                        "location": {"lat": latitude, "lng": longitude},
                        "location_type": "ROOFTOP",
                    },
                    "place_id": "ChIJfake",
                    "types": ["premise"],
                }
            ],
            "status": "OK",
        }
    )


def error(status: str, message: str | None = None) -> Answer:
    """An API-level error: HTTP 200, `status` set, no results (as Google answers them)."""
    payload: dict = {"results": [], "status": status}
    if message:
        payload["error_message"] = message
    return Answer(payload)


def http_error(code: int = 500) -> Answer:
    return Answer(b"<html><body>Server Error</body></html>", http_status=code)


def slow(seconds: float, answer: Answer) -> Answer:
    return Answer(answer.payload, answer.http_status, delay=seconds)


@dataclass
class FakeGoogle:
    url: str = ""
    answers: list[Answer] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *answers: Answer) -> None:
        with self.lock:
            self.answers.extend(answers)

    def next_answer(self, query: dict[str, str]) -> Answer:
        with self.lock:
            self.requests.append(query)
            if self.answers:
                return self.answers.pop(0)
        # Unscripted: a request the test did not expect fails loudly, not quietly.
        return Answer({"results": [], "status": "UNSCRIPTED"}, http_status=418)


def serve(fake: FakeGoogle) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            query["_path"] = parts.path
            answer = fake.next_answer(query)
            if answer.delay:
                time.sleep(answer.delay)
            body = (
                answer.payload
                if isinstance(answer.payload, bytes)
                else json.dumps(answer.payload).encode()
            )
            try:
                self.send_response(answer.http_status)
                content_type = "text/html" if isinstance(answer.payload, bytes) else "json"
                self.send_header("Content-Type", f"application/{content_type}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request line holds the key; the tests read `fake.requests` instead

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    fake.url = f"http://{host}:{port}/maps/api/geocode/json"
    # A short poll interval keeps shutdown() (each test's teardown) quick.
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return server
