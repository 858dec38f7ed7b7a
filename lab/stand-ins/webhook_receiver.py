"""The lab's stand-in for the departments' webhook endpoints (port 8026): each POST body is
saved as <folder>/<n>.json with the path it was sent to, for the demo and the tests to read."""

import http.server
import json
import os
import sys

FOLDER = sys.argv[1]


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        name = os.path.join(FOLDER, f"{len(os.listdir(FOLDER)):04d}.json")
        with open(name, "w") as out:
            json.dump({"path": self.path, "body": json.loads(body)}, out)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


os.makedirs(FOLDER, exist_ok=True)
# The lab network only: the container is reachable from the lab's own bridge alone.
http.server.HTTPServer(("0.0.0.0", 8026), Hook).serve_forever()  # noqa: S104
