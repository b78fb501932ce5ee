"""A loopback MJPEG stream over HTTP (multipart/x-mixed-replace), as IP cameras serve it, that
a test can take away and bring back: OpenCV's FFmpeg backend reads it like a real camera's."""

from __future__ import annotations

import socket
import threading

FRAME_INTERVAL_S = 0.04  # 25 frames a second, like a camera (the client reads at this pace)


class MjpegServer:
    """Serves jpeg again and again to every connection, until drop() (the camera goes away:
    open connections are cut) or close(). While refusing, a new connection is closed at once
    (the camera is not back yet); refused counts those."""

    def __init__(self, jpeg: bytes):
        self.jpeg = jpeg
        self.refusing = False
        self.served = 0       # connections that got frames
        self.refused = 0
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/live.mjpg"
        self._drop = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def drop(self) -> None:
        """Cut every connection being served (new ones are served again unless refusing)."""
        with self._lock:
            connections, self._open = self._open, []
        for connection in connections:
            _close(connection)

    def close(self) -> None:
        self._closed.set()
        _close(self._socket)
        self.drop()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection = self._socket.accept()[0]
            except OSError:  # closed
                return
            if self.refusing:
                self.refused += 1
                _close(connection)
                continue
            with self._lock:
                self._open.append(connection)
            self.served += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        part = (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(self.jpeg)
                + self.jpeg + b"\r\n")
        try:
            connection.recv(65536)  # the request
            connection.sendall(b"HTTP/1.0 200 OK\r\n"
                               b"Content-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n")
            while not self._closed.wait(FRAME_INTERVAL_S):
                connection.sendall(part)
        except OSError:  # dropped, or the client went
            pass
        finally:
            _close(connection)


def _close(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()
