"""A minimal RESP2 client for the measuring scripts (standard library only).

    from resp import Conn          # with scripts/ on sys.path (the default
    c = Conn(6379)                 # when running scripts/<name>.py)
    c.call("SET", "k", "v")        # one command; an error reply raises
    c.send([("GET", "k"), ...])    # pipelined; replies in order, errors
                                   # as RespError values
"""

import socket


class RespError(Exception):
    """An error reply (also returned as a value by Conn.send)."""


class Conn:
    def __init__(self, port, host="127.0.0.1"):
        self.s = socket.create_connection((host, port))
        self.buf = b""

    def send(self, cmds):
        out = []
        for args in cmds:
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                if isinstance(a, (int, float)):
                    a = str(a)
                if isinstance(a, str):
                    a = a.encode()
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return [self.reply() for _ in cmds]

    def call(self, *args):
        r = self.send([args])[0]
        if isinstance(r, RespError):
            raise r
        return r

    def close(self):
        self.s.close()

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill(len(self.buf) + 1)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind in (b"+", b":"):
            return rest
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            self._fill(n + 2)
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("unexpected reply %r" % line)
