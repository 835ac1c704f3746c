"""Loopback TCP helpers of the fault tests: a delaying proxy, a silent server.

`DelayProxy` forwards connections from a loopback address to a server and
delivers every chunk of data, in both directions, `delay` seconds after it
arrived: a node "far away" (its round trip costs 2 x delay).  It runs an
asyncio loop in a daemon thread.

`SilentServer` accepts TCP connections and never answers: a client waits
until its own timeout.  It counts the connections, so a test can tell how
many times a host was tried.
"""

import asyncio
import socket
import threading
from typing import List, Optional, Tuple


class DelayProxy:
    """Forward ``listen`` to ``target`` adding `delay` seconds each way."""

    def __init__(self, listen: Tuple[str, int], target: Tuple[str, int],
                 delay: float):
        self.listen = listen
        self.target = target
        self.delay = delay
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: Optional[asyncio.AbstractServer] = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="DelayProxy %s:%d" % listen)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("cannot listen on %s:%d: %s"
                               % (listen + (self._error,)))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, *self.listen))
        except OSError as e:
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pump(reader, up_w),
                             self._pump(up_r, writer),
                             return_exceptions=True)

    async def _pump(self, src: asyncio.StreamReader,
                    dst: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await src.read(65536)
                if not data:
                    break
                loop.call_later(self.delay, self._deliver, dst, data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        loop.call_later(self.delay, dst.close)

    @staticmethod
    def _deliver(dst: asyncio.StreamWriter, data: bytes) -> None:
        if not dst.is_closing():
            dst.write(data)

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class SilentServer:
    """Accept connections on `listen` and never send a byte."""

    def __init__(self, listen: Tuple[str, int]):
        self.listen = listen
        self.accepted = 0
        self._socks: List[socket.socket] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(listen)
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="SilentServer %s:%d" % listen)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            with self._lock:
                self.accepted += 1
                self._socks.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._sock.close()
        with self._lock:
            for s in self._socks:
                s.close()
            self._socks.clear()
