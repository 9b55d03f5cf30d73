"""A small synchronous face over Debian's python3-websockets (10.4) for
the relay tests: connect through Apache, send frames, collect messages."""
import asyncio
import json

import websockets

TIMEOUT = 15.0      # generous: a loaded CI machine; silence is quiet()


class Refused(Exception):
    """The upgrade was answered with an HTTP status instead."""

    def __init__(self, status):
        super().__init__("upgrade refused with %d" % status)
        self.status = status


def text_frames(texts):
    """Client text frames for `texts`, masked with a zero key (payload
    bytes unchanged), concatenated."""
    out = bytearray()
    for t in texts:
        b = t.encode()
        assert len(b) < 126
        out += bytes([0x81, 0x80 | len(b), 0, 0, 0, 0]) + b
    return bytes(out)


class WS:
    """One WebSocket, driven from synchronous test code through a private
    event loop."""

    def __init__(self, url, headers=None):
        self.loop = asyncio.new_event_loop()
        self.url = url
        async def connect():
            # created inside the running loop: websockets binds to it
            return await websockets.connect(
                url, extra_headers=headers or {}, open_timeout=TIMEOUT,
                max_size=2 ** 22, ping_interval=None)
        try:
            self.ws = self._run(connect())
        except websockets.exceptions.InvalidStatusCode as e:
            self.loop.close()
            raise Refused(e.status_code)

    def _run(self, coro, timeout=TIMEOUT):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def send(self, obj):
        self._run(self.ws.send(obj if isinstance(obj, (str, bytes))
                               else json.dumps(obj)))

    def recv(self, timeout=TIMEOUT):
        return json.loads(self._run(self.ws.recv(), timeout))

    def recv_n(self, n, timeout=TIMEOUT):
        return [self.recv(timeout) for _ in range(n)]

    def idle(self, seconds):
        """Stays silent for `seconds` while the client's event loop runs,
        so it answers PINGs as a real client does."""
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def quiet(self, timeout=0.5):
        """True when nothing arrives within `timeout`."""
        try:
            self.recv(timeout)
        except asyncio.TimeoutError:
            return True
        return False

    def send_raw(self, data):
        """Writes bytes as they are (frames made by text_frames()), in one
        write, bypassing the library's framing."""
        self.ws.transport.write(data)
        self.idle(0)

    def close_code(self, timeout=TIMEOUT):
        """Waits for the server to close; returns the close code."""
        try:
            while True:
                self._run(self.ws.recv(), timeout)
        except websockets.exceptions.ConnectionClosed as e:
            return e.code

    def close(self):
        try:
            self._run(self.ws.close())
        except Exception:
            pass
        self.loop.close()
