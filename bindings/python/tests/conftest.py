"""Test harness: a TigerVNC Xvnc per test on its own display and port (loopback only), the
way rfb-testkit starts it for the Rust tests, and an `xwd -root` reader to compare against."""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import numpy
import pytest

NEEDED = ["Xvnc", "xwd", "xsetroot", "xterm", "xdotool", "vncpasswd"]


# Below Linux's ephemeral range (32768-60999): a port from bind(0) can become the source port
# of an outgoing connection (or of the readiness poll itself) before the server binds it.
_PORTS = range(20000, 32000)
_next = [(os.getpid() * 7919 + 5000) % len(_PORTS)]


def _free_port():
    for _ in range(len(_PORTS)):
        port = _PORTS[_next[0] % len(_PORTS)]
        _next[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port in 20000-32000")


def _wait_port(port, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                # A self-connection (source port == port) is not a server.
                if c.getsockname()[1] != port:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"Xvnc did not accept on port {port}")


def wait_for(done, what, seconds=20):
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def parse_xwd(data):
    """RGBA bytes, width, height of a 32 bpp TrueColor XWD dump (what Xvnc -depth 24 gives)."""
    f = struct.unpack(">25I", data[:100])
    header_size, width, height = f[0], f[4], f[5]
    byte_order, bpp, bpl, visual_class = f[7], f[11], f[12], f[13]
    masks, ncolors = f[14:17], f[19]
    assert bpp == 32 and visual_class == 4, f"only 32 bpp TrueColor dumps: {bpp} bpp, class {visual_class}"
    start = header_size + ncolors * 12
    dtype = numpy.dtype("<u4" if byte_order == 0 else ">u4")
    rows = numpy.frombuffer(data, dtype=dtype, count=height * bpl // 4, offset=start)
    pixels = rows.reshape(height, bpl // 4)[:, :width]
    out = numpy.empty((height, width, 4), dtype=numpy.uint8)
    for i, m in enumerate(masks):
        shift = (m & -m).bit_length() - 1
        out[:, :, i] = (pixels & m) >> shift
    out[:, :, 3] = 255
    return out.tobytes(), width, height


class Xvnc:
    def __init__(self, width=320, height=240, password=None, security=None, args=()):
        """``security``: the -SecurityTypes value (default VncAuth with a password, else
        None); ``args``: more Xvnc arguments (certificates, -PlainUsers)."""
        self.dir = tempfile.mkdtemp(prefix="rfb-py-xvnc-")
        self.port = _free_port()
        self.password = password
        extra = args
        args = [
            "Xvnc", "-displayfd", "1", "-geometry", f"{width}x{height}", "-depth", "24",
            "-localhost=1", "-UseBlacklist=0", "-AlwaysShared", "-rfbport", str(self.port),
        ]
        if password:
            pwfile = os.path.join(self.dir, "passwd")
            with open(pwfile, "wb") as fh:
                fh.write(subprocess.run(["vncpasswd", "-f"], input=(password + "\n").encode(),
                                        capture_output=True, check=True).stdout)
            args += ["-SecurityTypes", security or "VncAuth", "-PasswordFile", pwfile]
        else:
            args += ["-SecurityTypes", security or "None"]
        args += list(extra)
        self.log = open(os.path.join(self.dir, "xvnc.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"Xvnc printed {line!r}, not a display number")
        self.display = f":{line}"
        self.children = []
        _wait_port(self.port)
        self.addr = f"127.0.0.1:{self.port}"

    def env(self):
        return dict(os.environ, DISPLAY=self.display)

    def run(self, *args):
        return subprocess.run(list(args), env=self.env(), capture_output=True, check=True).stdout

    def spawn(self, *args):
        p = subprocess.Popen(list(args), env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.children.append(p)
        return p

    def xwd_root(self):
        return parse_xwd(self.run("xwd", "-root", "-silent"))

    def stop(self):
        for p in getattr(self, "children", []):
            p.kill()
            p.wait()
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def xvnc_factory():
    missing = [t for t in NEEDED if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and missing {missing} (run scripts/install-test-deps.sh)")
        pytest.skip(f"missing {missing} (run scripts/install-test-deps.sh)")
    started = []

    def start(**kw):
        x = Xvnc(**kw)
        started.append(x)
        return x

    yield start
    for x in started:
        x.stop()


def settle(x):
    """Waits until the X server has drawn everything asked so far (two equal dumps)."""
    last = None
    for _ in range(50):
        now = x.xwd_root()
        if now == last:
            return now
        last = now
        time.sleep(0.1)
    return last
