"""VNC (RFB) client on a Rust core: blocking and asyncio clients, immutable screenshots with a
zero-copy buffer view, typing through keysyms, the decoders and the keysym tables."""

from os import PathLike
from typing import Callable, Literal, Self

__version__: str

Rect = tuple[int, int, int, int]
"""``(x, y, width, height)``."""

class Error(Exception):
    """Base class of every rfb error."""

class ConnectError(Error):
    """The TCP connection could not be made (refused, unreachable, name not found)."""

class RefusedError(Error):
    """The VNC server refused the connection during the handshake (its reason is the message)."""

class AuthError(Error):
    """Wrong password, or none given where the server needs one."""

class ProtocolError(Error):
    """The server broke the protocol, or a decoder rejected its data."""

class UnsupportedError(Error):
    """The server chose something this library does not implement."""

class ClosedError(Error):
    """The connection (or the client) is closed."""

class WaitTimeout(Error):
    """The server did not answer within the timeout."""

class StateError(Error):
    """The call is not valid in the current state (e.g. keys before the handshake finished)."""

class CertificateError(Error):
    """The server's TLS certificate was not trusted (not signed by the CA given, not the
    pinned fingerprint, or nothing given to trust it)."""

    fingerprint: str
    """Its SHA-256 (lower-case hex with colons): show it, then connect again with
    ``fingerprint=`` set to it to trust it (trust on first use)."""

class TlsError(Error):
    """The TLS layer failed (handshake, an alert from the server, a bad record)."""

class Screenshot:
    """An immutable RGBA8 picture; ``bytes(img)`` is rows top to bottom, 4 bytes per pixel.

    Read-only buffer protocol (format "B"): ``numpy.frombuffer(img, numpy.uint8).reshape(
    img.height, img.width, 4)`` and ``PIL.Image.frombuffer("RGBA", img.size, img, "raw",
    "RGBA", 0, 1)`` use its memory without copying."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def size(self) -> tuple[int, int]: ...
    @property
    def stride(self) -> int: ...
    def pixel(self, x: int, y: int) -> tuple[int, int, int, int]:
        """``(r, g, b, a)`` at (x, y); IndexError outside."""
    def rgb(self) -> bytes:
        """The pixels without alpha, 3 bytes each."""
    def save_ppm(self, path: str | PathLike[str]) -> None:
        """Writes a binary PPM (P6)."""
    def __bytes__(self) -> bytes: ...
    def __len__(self) -> int: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...

class LiveView:
    """A live view of a client's framebuffer: reads the pixels as they are now on each
    access; raises StateError once the framebuffer has been resized."""

    @property
    def valid(self) -> bool: ...
    @property
    def size(self) -> tuple[int, int]: ...
    def pixel(self, x: int, y: int) -> tuple[int, int, int, int]: ...
    def snapshot(self) -> Screenshot: ...
    def __bytes__(self) -> bytes: ...

Event = (
    tuple[Literal["connected"], tuple[int, int, str]]
    | tuple[Literal["update"], list[Rect]]
    | tuple[Literal["resized"], tuple[int, int]]
    | tuple[Literal["bell"], None]
    | tuple[Literal["name"], str]
    | tuple[Literal["clipboard"], str]
    | tuple[Literal["disconnected"], str]
)

class Session:
    """The protocol state of one connection without I/O (sans-IO): ``feed()`` the server's
    bytes, send ``data_to_send()``, read ``next_event()``. Updates are requested
    automatically after the handshake and after each update."""

    def __init__(
        self,
        password: str | None = None,
        username: str | None = None,
        shared: bool = True,
        encodings: list[str] | None = None,
        continuous_updates: bool = False,
        *,
        target: str | None = None,
        security: str | list[str | int] | None = None,
        ca_pem: str | bytes | None = None,
        fingerprint: str | None = None,
        tls_server_name: str | None = None,
        ask_server: bool = False,
    ) -> None:
        """Security: ``security`` lists accepted types in order (names or numbers; VeNCrypt
        subtype names such as "x509vnc" select those subtypes); ``ca_pem`` with
        ``tls_server_name`` or ``fingerprint`` say which TLS certificate to trust. With
        ``ask_server`` an unverified certificate (or RA2 key) is a ``"server_verification"``
        event to answer with ``approve_server()``/``reject_server()``. Raises ValueError for
        bad values."""
    def approve_server(self) -> None:
        """Accepts the identity of the last ``server_verification`` event."""
    def reject_server(self) -> None:
        """Refuses it: raises CertificateError; the session is over."""
    def feed(self, data: bytes) -> None:
        """Raises AuthError, RefusedError, ProtocolError, ... on failure."""
    def eof(self) -> None:
        """The server closed the connection; ProtocolError if mid-message."""
    def data_to_send(self) -> bytes: ...
    def next_event(self) -> Event | None: ...
    @property
    def connected(self) -> bool: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def name(self) -> str: ...
    def screenshot(self) -> Screenshot: ...
    def live_view(self) -> LiveView: ...
    def send_key(self, keysym: int, down: bool) -> None: ...
    def type_text(self, text: str) -> int:
        """Queues key presses for ``text``; returns characters skipped (no keysym)."""
    def send_pointer(self, x: int, y: int, buttons: int) -> None: ...
    def send_clipboard_text(self, text: str) -> None: ...
    def request_update(
        self,
        incremental: bool = False,
        x: int = 0,
        y: int = 0,
        width: int | None = None,
        height: int | None = None,
    ) -> None: ...

Key = int | str
"""A keysym number, a single character, or a keysym name such as "Return"."""

class Client:
    """A blocking client from ``rfb.connect()``; a context manager."""

    timeout: float
    clipboard: str | None
    """The last text the server put on its clipboard."""
    bells: int
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def size(self) -> tuple[int, int]: ...
    @property
    def name(self) -> str: ...
    @property
    def session(self) -> Session: ...
    def screenshot(self, refresh: bool = True, timeout: float | None = None) -> Screenshot: ...
    def live_view(self) -> LiveView: ...
    def sync(self, timeout: float | None = None) -> None:
        """Waits until the server has processed everything sent so far."""
    def type_text(self, text: str, sync: bool = True) -> int: ...
    def key_down(self, key: Key) -> None: ...
    def key_up(self, key: Key) -> None: ...
    def press(self, *keys: Key) -> None: ...
    def move(self, x: int, y: int, buttons: int = 0) -> None: ...
    def click(self, x: int, y: int, button: int = 1) -> None: ...
    def set_clipboard(self, text: str) -> None: ...
    def wait_for_change(self, timeout: float | None = None) -> list[Rect] | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> Literal[False]: ...

class AsyncClient:
    """An asyncio client from ``await rfb.connect_async()``; an async context manager."""

    timeout: float
    clipboard: str | None
    bells: int
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def size(self) -> tuple[int, int]: ...
    @property
    def name(self) -> str: ...
    @property
    def session(self) -> Session: ...
    async def screenshot(self, refresh: bool = True, timeout: float | None = None) -> Screenshot: ...
    def live_view(self) -> LiveView: ...
    async def sync(self, timeout: float | None = None) -> None: ...
    async def type_text(self, text: str, sync: bool = True) -> int: ...
    async def key_down(self, key: Key) -> None: ...
    async def key_up(self, key: Key) -> None: ...
    async def press(self, *keys: Key) -> None: ...
    async def move(self, x: int, y: int, buttons: int = 0) -> None: ...
    async def click(self, x: int, y: int, button: int = 1) -> None: ...
    async def set_clipboard(self, text: str) -> None: ...
    async def wait_for_change(self, timeout: float | None = None) -> list[Rect] | None: ...
    async def close(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> Literal[False]: ...

def connect(
    address: str,
    password: str | None = None,
    *,
    username: str | None = None,
    target: str | None = None,
    security: str | list[str | int] | None = None,
    ca_file: str | PathLike[str] | None = None,
    ca_pem: str | bytes | None = None,
    fingerprint: str | None = None,
    tls_server_name: str | None = None,
    verify_server: Callable[[dict[str, object]], bool] | None = None,
    timeout: float = 10.0,
    shared: bool = True,
    encodings: list[str] | None = None,
) -> Client:
    """Connects to "HOST:PORT" (or "HOST::PORT", "[V6]:PORT"; default port 5900), logs in
    and waits for the first full picture."""

async def connect_async(
    address: str,
    password: str | None = None,
    *,
    username: str | None = None,
    target: str | None = None,
    security: str | list[str | int] | None = None,
    ca_file: str | PathLike[str] | None = None,
    ca_pem: str | bytes | None = None,
    fingerprint: str | None = None,
    tls_server_name: str | None = None,
    verify_server: Callable[[dict[str, object]], bool] | None = None,
    timeout: float = 10.0,
    shared: bool = True,
    encodings: list[str] | None = None,
) -> AsyncClient: ...
def parse_address(address: str, default_port: int = 5900) -> tuple[str, int]: ...

class Decoder:
    """The rectangle decoders without a connection, drawing into a width×height picture."""

    def __init__(
        self,
        width: int,
        height: int,
        pixel_format: tuple[int, int, bool, bool, int, int, int, int, int, int] | None = None,
    ) -> None: ...
    def decode(self, encoding: int, x: int, y: int, width: int, height: int, data: bytes) -> int:
        """Decodes one whole rectangle; returns bytes used."""
    def screenshot(self) -> Screenshot: ...

def keysym_from_char(ch: str) -> int:
    """The keysym typing one character (0 if none)."""

def char_from_keysym(keysym: int) -> str | None: ...
def keysym_from_name(name: str) -> int | None: ...
def name_of_keysym(keysym: int) -> str | None: ...
def xt_scancode(code: str) -> int | None:
    """DOM code ("KeyA") → XT scancode (0x1e)."""

def keysym_from_dom(key: str, code: str = "", location: int = 0) -> int | None: ...
