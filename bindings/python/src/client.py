"""Blocking and asyncio VNC clients: socket drivers over the sans-IO ``rfb.Session``.

This file is compiled into the ``rfb`` extension module and run when it is imported; the
native names it uses (``Session``, the exceptions, the keysym functions) are set on this
module by the extension before any function here runs.
"""

import asyncio
import socket
import time

_READ = 1 << 18


def parse_address(address, default_port=5900):
    """Splits ``"HOST:PORT"``, ``"HOST::PORT"``, ``"[V6ADDR]:PORT"`` or ``"HOST"``."""
    address = address.strip()
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = rest.lstrip(":")
    elif "::" in address and address.count(":") == 2:
        host, _, port = address.partition("::")
    elif address.count(":") == 1:
        host, _, port = address.partition(":")
    else:
        host, port = address, ""
    if not port:
        return host or "127.0.0.1", default_port
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"bad port in address {address!r}") from None
    if not 0 < number < 65536:
        raise ValueError(f"port {number} out of range in {address!r}")
    return host or "127.0.0.1", number


def _keysym(key):
    """A keysym from an int, a one-character string or a keysym name ("Return")."""
    if isinstance(key, int):
        return key
    if len(key) == 1:
        ks = keysym_from_char(key)  # noqa: F821 (set by the extension)
        if ks:
            return ks
    ks = keysym_from_name(key)  # noqa: F821
    if ks is None:
        raise ValueError(f"unknown key {key!r}: use a character, a keysym name or a number")
    return ks


def _covers(rects, x, y):
    return any(rx <= x < rx + rw and ry <= y < ry + rh for rx, ry, rw, rh in rects)


def _area(rects):
    return sum(w * h for _, _, w, h in rects)


class _Base:
    """State shared by both drivers: events taken from the session."""

    def _init(self, session, timeout):
        self._s = session
        self.timeout = timeout
        self._updates = []
        self.clipboard = None
        self.bells = 0
        self._closed = False
        self._verify = None

    def _collect(self):
        while True:
            ev = self._s.next_event()
            if ev is None:
                return
            kind, payload = ev
            if kind == "update":
                self._updates.append(payload)
            elif kind == "clipboard":
                self.clipboard = payload
            elif kind == "bell":
                self.bells += 1
            elif kind == "server_verification":
                # Only with verify_server=...: the callback decides; nothing has been sent
                # inside TLS yet. Rejecting raises CertificateError.
                if self._verify is not None and self._verify(payload):
                    self._s.approve_server()
                else:
                    self._s.reject_server()

    def _full_update_seen(self):
        need = self._s.width * self._s.height
        return self._s.connected and any(_area(u) >= need for u in self._updates)

    def _origin_seen(self):
        return any(_covers(u, 0, 0) for u in self._updates)

    def _check_open(self):
        if self._closed:
            raise ClosedError("the client is closed")  # noqa: F821

    @property
    def width(self):
        """Framebuffer width in pixels."""
        return self._s.width

    @property
    def height(self):
        """Framebuffer height in pixels."""
        return self._s.height

    @property
    def size(self):
        """``(width, height)``."""
        return (self._s.width, self._s.height)

    @property
    def name(self):
        """The desktop name."""
        return self._s.name

    def live_view(self):
        """A live ``rfb.LiveView`` of the framebuffer (current pixels on each access); it
        raises ``StateError`` after a resize. Use ``screenshot()`` for a stable picture."""
        return self._s.live_view()

    @property
    def session(self):
        """The underlying ``rfb.Session``."""
        return self._s


class Client(_Base):
    """A blocking VNC client. Create with ``rfb.connect()``; usable as a context manager."""

    def __init__(self, sock, session, timeout):
        self._init(session, timeout)
        self._sock = sock

    def _flush(self):
        data = self._s.data_to_send()
        if data:
            self._sock.sendall(data)

    def _read_once(self, deadline):
        self._flush()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout("the server did not answer in time")  # noqa: F821
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(_READ)
        except socket.timeout:
            raise WaitTimeout("the server did not answer in time") from None  # noqa: F821
        except OSError as e:
            raise ClosedError(f"connection lost: {e}") from e  # noqa: F821
        if not data:
            self._s.eof()
            self._collect()
            raise ClosedError("the server closed the connection")  # noqa: F821
        self._s.feed(data)
        self._collect()
        self._flush()

    def _wait(self, done, timeout=None):
        self._check_open()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._flush()
        while not done():
            self._read_once(deadline)

    def screenshot(self, refresh=True, timeout=None):
        """The screen as an immutable ``rfb.Screenshot``. With ``refresh`` (default) asks the
        server for the whole screen first and waits for it, so the picture is current."""
        if refresh:
            self._updates.clear()
            self._s.request_update(False)
            self._wait(self._full_update_seen, timeout)
        return self._s.screenshot()

    def sync(self, timeout=None):
        """Waits until the server has processed everything sent so far (a server handles a
        client's messages in order; this waits for the answer to a later request)."""
        self._updates.clear()
        self._s.request_update(False, 0, 0, 1, 1)
        self._wait(self._origin_seen, timeout)

    def type_text(self, text, sync=True):
        """Types ``text`` (any Unicode, through keysyms). Returns the number of characters
        skipped for lack of a keysym. With ``sync`` waits until the server has them."""
        self._check_open()
        skipped = self._s.type_text(text)
        self._flush()
        if sync:
            self.sync()
        return skipped

    def key_down(self, key):
        """Presses ``key``: a keysym number, a character or a keysym name ("Return")."""
        self._check_open()
        self._s.send_key(_keysym(key), True)
        self._flush()

    def key_up(self, key):
        """Releases ``key``."""
        self._check_open()
        self._s.send_key(_keysym(key), False)
        self._flush()

    def press(self, *keys):
        """Presses and releases each key in turn (``press("Return")``, ``press("a", "b")``)."""
        self._check_open()
        for key in keys:
            ks = _keysym(key)
            self._s.send_key(ks, True)
            self._s.send_key(ks, False)
        self._flush()

    def move(self, x, y, buttons=0):
        """Moves the pointer to (x, y) with ``buttons`` (a bit mask) held."""
        self._check_open()
        self._s.send_pointer(x, y, buttons)
        self._flush()

    def click(self, x, y, button=1):
        """Clicks ``button`` (1 left, 2 middle, 3 right, 4/5 wheel) at (x, y)."""
        self._check_open()
        mask = 1 << (button - 1)
        self._s.send_pointer(x, y, mask)
        self._s.send_pointer(x, y, 0)
        self._flush()

    def set_clipboard(self, text):
        """Sets the server's clipboard to ``text``."""
        self._check_open()
        self._s.send_clipboard_text(text)
        self._flush()

    def wait_for_change(self, timeout=None):
        """Waits for the next screen change; returns its rectangles ``[(x, y, w, h), ...]``,
        or None after ``timeout`` seconds (default: the client's timeout)."""
        self._updates.clear()
        try:
            self._wait(lambda: any(self._updates), timeout)
        except WaitTimeout:  # noqa: F821
            return None
        return [r for u in self._updates for r in u]

    def close(self):
        """Closes the connection (idempotent)."""
        if not self._closed:
            self._closed = True
            try:
                self._flush()
            except OSError:
                pass
            self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self._closed else f"{self.width}x{self.height}"
        return f"<rfb.Client {state} {self.name!r}>"


def _open(address, timeout):
    host, port = parse_address(address)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        reason = e.strerror or str(e) or type(e).__name__
        raise ConnectError(f"cannot connect to {host}:{port}: {reason}") from e  # noqa: F821
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _session(address, password, shared, encodings, kw):
    """A ``Session`` for ``connect``/``connect_async``: reads ``ca_file`` and names the TLS
    server after the address's host unless ``tls_server_name`` is given."""
    kw = dict(kw)
    ca_file = kw.pop("ca_file", None)
    if ca_file is not None:
        if kw.get("ca_pem") is not None:
            raise ValueError("give ca_file or ca_pem, not both")
        with open(ca_file, "rb") as f:
            kw["ca_pem"] = f.read()
    if kw.get("ca_pem") is not None and kw.get("tls_server_name") is None:
        kw["tls_server_name"] = parse_address(address)[0]
    return Session(password=password, shared=shared, encodings=encodings, **kw)  # noqa: F821


def connect(address, password=None, *, username=None, target=None, security=None, ca_file=None,
            ca_pem=None, fingerprint=None, tls_server_name=None, verify_server=None, timeout=10.0,
            shared=True, encodings=None):
    """Connects to ``"HOST:PORT"`` (also ``"HOST::PORT"``, ``"[V6]:PORT"``; default port
    5900), authenticates with ``password`` if the server asks, and waits for the first full
    picture. Returns a blocking ``rfb.Client``.

    Security keywords: ``username``, ``target`` (xvp), ``security`` (accepted types in order,
    ``"x509vnc,vncauth"`` or a list), ``ca_file`` / ``ca_pem`` (the CA the server's TLS
    certificate must chain to; the certificate must name the address's host, or
    ``tls_server_name``), ``fingerprint`` (pin one certificate's SHA-256 instead),
    ``verify_server`` (a callable given a dict for a certificate nothing above verifies, or an
    RA2 server key: ``kind``, ``fingerprint``, ...; True goes on, False raises
    ``CertificateError``).

    Raises ``ConnectError`` (TCP), ``AuthError`` (wrong or missing password),
    ``CertificateError`` (an untrusted certificate; its ``fingerprint`` attribute is what to
    pin), ``TlsError``, ``RefusedError``, ``ProtocolError`` or ``WaitTimeout`` (no answer
    within ``timeout``); ``ValueError`` for bad security options, before connecting."""
    session = _session(address, password, shared, encodings, dict(
        username=username, target=target, security=security, ca_file=ca_file, ca_pem=ca_pem,
        fingerprint=fingerprint, tls_server_name=tls_server_name,
        ask_server=verify_server is not None))
    sock = _open(address, timeout)
    client = Client(sock, session, timeout)
    client._verify = verify_server
    try:
        client._wait(client._full_update_seen)
    except BaseException:
        client.close()
        raise
    return client


class AsyncClient(_Base):
    """An asyncio VNC client. Create with ``await rfb.connect_async()``; usable as an async
    context manager. Methods mirror ``rfb.Client`` and are coroutines."""

    def __init__(self, reader, writer, session, timeout):
        self._init(session, timeout)
        self._reader = reader
        self._writer = writer

    async def _flush(self):
        data = self._s.data_to_send()
        if data:
            self._writer.write(data)
            await self._writer.drain()

    async def _wait(self, done, timeout=None):
        self._check_open()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        await self._flush()
        while not done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout("the server did not answer in time")  # noqa: F821
            try:
                data = await asyncio.wait_for(self._reader.read(_READ), remaining)
            except asyncio.TimeoutError:
                raise WaitTimeout("the server did not answer in time") from None  # noqa: F821
            if not data:
                self._s.eof()
                self._collect()
                raise ClosedError("the server closed the connection")  # noqa: F821
            self._s.feed(data)
            self._collect()
            await self._flush()

    async def screenshot(self, refresh=True, timeout=None):
        """As ``Client.screenshot``."""
        if refresh:
            self._updates.clear()
            self._s.request_update(False)
            await self._wait(self._full_update_seen, timeout)
        return self._s.screenshot()

    async def sync(self, timeout=None):
        """As ``Client.sync``."""
        self._updates.clear()
        self._s.request_update(False, 0, 0, 1, 1)
        await self._wait(self._origin_seen, timeout)

    async def type_text(self, text, sync=True):
        """As ``Client.type_text``."""
        self._check_open()
        skipped = self._s.type_text(text)
        await self._flush()
        if sync:
            await self.sync()
        return skipped

    async def press(self, *keys):
        """As ``Client.press``."""
        self._check_open()
        for key in keys:
            ks = _keysym(key)
            self._s.send_key(ks, True)
            self._s.send_key(ks, False)
        await self._flush()

    async def key_down(self, key):
        """As ``Client.key_down``."""
        self._check_open()
        self._s.send_key(_keysym(key), True)
        await self._flush()

    async def key_up(self, key):
        """As ``Client.key_up``."""
        self._check_open()
        self._s.send_key(_keysym(key), False)
        await self._flush()

    async def move(self, x, y, buttons=0):
        """As ``Client.move``."""
        self._check_open()
        self._s.send_pointer(x, y, buttons)
        await self._flush()

    async def click(self, x, y, button=1):
        """As ``Client.click``."""
        self._check_open()
        mask = 1 << (button - 1)
        self._s.send_pointer(x, y, mask)
        self._s.send_pointer(x, y, 0)
        await self._flush()

    async def set_clipboard(self, text):
        """As ``Client.set_clipboard``."""
        self._check_open()
        self._s.send_clipboard_text(text)
        await self._flush()

    async def wait_for_change(self, timeout=None):
        """As ``Client.wait_for_change``."""
        self._updates.clear()
        try:
            await self._wait(lambda: any(self._updates), timeout)
        except WaitTimeout:  # noqa: F821
            return None
        return [r for u in self._updates for r in u]

    async def close(self):
        """Closes the connection (idempotent)."""
        if not self._closed:
            self._closed = True
            try:
                await self._flush()
            except OSError:
                pass
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()
        return False


async def connect_async(address, password=None, *, username=None, target=None, security=None, ca_file=None,
                        ca_pem=None, fingerprint=None, tls_server_name=None, verify_server=None,
                        timeout=10.0, shared=True, encodings=None):
    """As ``rfb.connect`` (same security keywords) but for asyncio: returns an
    ``rfb.AsyncClient``."""
    session = _session(address, password, shared, encodings, dict(
        username=username, target=target, security=security, ca_file=ca_file, ca_pem=ca_pem,
        fingerprint=fingerprint, tls_server_name=tls_server_name,
        ask_server=verify_server is not None))
    host, port = parse_address(address)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except asyncio.TimeoutError:
        raise WaitTimeout(f"connecting to {host}:{port} timed out") from None  # noqa: F821
    except OSError as e:
        reason = e.strerror or str(e) or type(e).__name__
        raise ConnectError(f"cannot connect to {host}:{port}: {reason}") from e  # noqa: F821
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client = AsyncClient(reader, writer, session, timeout)
    client._verify = verify_server
    try:
        await client._wait(client._full_update_seen)
    except BaseException:
        await client.close()
        raise
    return client
