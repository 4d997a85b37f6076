"""A small RESP2 client for the Python parts of the benches (repl_measure.py,
snapshot_compare.py): encode() a command, Conn to talk to a server on a
loopback port. Not a general client: no RESP3, no errors raised (an error
reply is returned as its line)."""
import socket


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _fill(self):
        chunk = self.s.recv(1 << 16)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def read_reply(self):
        """Bulk: bytes (None if null); array: list; integer: int; status
        or error: the line as bytes (with its + or -)."""
        line = self.read_line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if line[:1] == b"*":
            return [self.read_reply() for _ in range(int(line[1:]))]
        if line[:1] == b":":
            return int(line[1:])
        return line

    def call(self, *args):
        self.s.sendall(encode(*args))
        return self.read_reply()

    def info(self, section):
        """INFO `section` as a dict of its fields."""
        fields = {}
        for line in self.call("INFO", section).decode().split("\r\n"):
            k, sep, v = line.partition(":")
            if sep:
                fields[k] = v
        return fields
