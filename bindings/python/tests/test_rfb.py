"""The rfb package against a real TigerVNC Xvnc started per test (conftest.py)."""

import asyncio
import os
import time

import numpy
import pytest

import rfb
from conftest import settle, wait_for


def desktop(xvnc_factory, **kw):
    x = xvnc_factory(**kw)
    x.run("xsetroot", "-solid", "#336699")
    x.spawn("xterm", "-geometry", "30x6+20+30", "-e", "sh", "-c", "echo 'rfb from Python: AZaz09'; exec sleep 600")
    x.run("xdotool", "mousemove", "5", "5")
    return x


def test_screenshot_equals_xwd_root(xvnc_factory):
    x = desktop(xvnc_factory)
    colours = lambda: len(numpy.unique(numpy.frombuffer(x.xwd_root()[0], dtype="<u4")))  # noqa: E731
    wait_for(lambda: colours() >= 3, "the xterm to draw its text")
    want, w, h = settle(x)
    with rfb.connect(x.addr) as c:
        img = c.screenshot()
        assert (img.width, img.height) == (w, h) == c.size
        assert bytes(img) == want
        # Zero-copy views: numpy reads the snapshot's own memory, read-only.
        a = numpy.frombuffer(img, dtype=numpy.uint8).reshape(img.height, img.width, 4)
        b = numpy.frombuffer(img, dtype=numpy.uint8)
        assert a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        assert not a.flags.writeable
        assert a[0, 0].tolist() == [0x33, 0x66, 0x99, 255]
        assert memoryview(img).readonly and memoryview(img).nbytes == w * h * 4
        # The snapshot is immutable: a later change does not alter it.
        x.run("xsetroot", "-solid", "#ff0000")
        changed = c.wait_for_change(timeout=20)
        assert changed
        assert bytes(img) == want
        assert c.screenshot().pixel(0, 0) == (255, 0, 0, 255)


def test_pillow_reads_the_buffer(xvnc_factory):
    PIL = pytest.importorskip("PIL.Image")
    x = xvnc_factory(width=64, height=48)
    x.run("xsetroot", "-solid", "#102030")
    with rfb.connect(x.addr) as c:
        img = c.screenshot()
        pic = PIL.frombuffer("RGBA", img.size, img, "raw", "RGBA", 0, 1)
        assert pic.getpixel((10, 10)) == (0x10, 0x20, 0x30, 255)


def test_type_text_reaches_xterm(xvnc_factory):
    x = xvnc_factory(width=640, height=400)
    out = os.path.join(x.dir, "typed.txt")
    ready = os.path.join(x.dir, "cat.ready")
    x.spawn("env", "LC_ALL=C.UTF-8", "LANG=C.UTF-8", "xterm", "-u8", "-geometry", "80x20+0+0",
            "-e", "sh", "-c", f": > '{ready}'; exec cat > '{out}'")
    wait_for(lambda: os.path.exists(ready), "xterm to start cat")
    x.run("xdotool", "mousemove", "200", "100")  # no window manager: focus follows the pointer
    text = "Hello, Python! ÄÖü ß € Привет ☃ 日本\n"
    with rfb.connect(x.addr) as c:
        assert c.type_text(text) == 0
        c.press("a", "b", "Return")
    wait_for(lambda: open(out, encoding="utf-8").read().count("\n") >= 2, "two typed lines")
    assert open(out, encoding="utf-8").read() == text + "ab\n"


def test_asyncio_connect_and_screenshot(xvnc_factory):
    x = xvnc_factory(width=100, height=80)
    x.run("xsetroot", "-solid", "#00ff00")
    want, _, _ = settle(x)

    async def main():
        async with await rfb.connect_async(x.addr) as c:
            assert c.size == (100, 80)
            img = await c.screenshot()
            assert bytes(img) == want
            await c.type_text("x")
            await c.click(5, 5)
        with pytest.raises(rfb.ClosedError):
            await c.screenshot()

    asyncio.run(main())


def test_password_right_wrong_and_missing(xvnc_factory):
    x = xvnc_factory(width=64, height=48, password="secret12")
    with rfb.connect(x.addr, password="secret12") as c:
        assert c.screenshot().size == (64, 48)
    with pytest.raises(rfb.AuthError, match="authentication failed"):
        rfb.connect(x.addr, password="nottheone")
    with pytest.raises(rfb.AuthError, match="requires a password"):
        rfb.connect(x.addr)


def test_refused_connection_is_connect_error():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(rfb.ConnectError, match="Connection refused"):
        rfb.connect(f"127.0.0.1:{port}", timeout=5)
    assert issubclass(rfb.ConnectError, rfb.Error)


def test_closed_client_refuses_calls(xvnc_factory):
    x = xvnc_factory(width=64, height=48)
    c = rfb.connect(x.addr)
    c.close()
    c.close()
    with pytest.raises(rfb.ClosedError):
        c.type_text("x")


def test_keysym_functions():
    assert rfb.keysym_from_char("a") == 0x61
    assert rfb.keysym_from_char("é") == 0xE9
    assert rfb.keysym_from_char("€") == 0x20AC
    assert rfb.keysym_from_char("😀") == 0x0101F600
    assert rfb.char_from_keysym(0x6C1) == "а"
    assert rfb.char_from_keysym(0xFFE1) is None
    assert rfb.keysym_from_name("Return") == 0xFF0D
    assert rfb.keysym_from_name("nope") is None
    assert rfb.name_of_keysym(0xFF0D) == "Return"
    assert rfb.xt_scancode("KeyA") == 0x1E
    assert rfb.xt_scancode("ArrowUp") == 0xE048
    assert rfb.xt_scancode("Nope") is None
    assert rfb.keysym_from_dom("Enter", "Enter") == 0xFF0D
    with pytest.raises(ValueError):
        rfb.keysym_from_char("ab")


def test_parse_address():
    assert rfb.parse_address("h:5901") == ("h", 5901)
    assert rfb.parse_address("h::5902") == ("h", 5902)
    assert rfb.parse_address("[::1]:5903") == ("::1", 5903)
    assert rfb.parse_address("h") == ("h", 5900)
    with pytest.raises(ValueError):
        rfb.parse_address("h:x")


def test_decoder_alone():
    d = rfb.Decoder(4, 2)
    raw = bytes([1, 2, 3, 0, 4, 5, 6, 0])
    assert d.decode(0, 1, 1, 2, 1, raw + b"extra") == 8
    img = d.screenshot()
    assert img.pixel(1, 1) == (1, 2, 3, 255) and img.pixel(2, 1) == (4, 5, 6, 255)
    with pytest.raises(ValueError, match="needs more"):
        d.decode(0, 0, 0, 2, 1, raw[:5])
    with pytest.raises(rfb.ProtocolError):
        d.decode(0, 3, 1, 2, 1, raw)


def test_session_protocol_errors_are_exceptions():
    s = rfb.Session()
    with pytest.raises(rfb.ProtocolError):
        s.feed(b"HTTP/1.1 400 Bad Request\r\n")
    s = rfb.Session()
    s.feed(b"RFB 003.008\n")
    assert s.data_to_send() == b"RFB 003.008\n"
    with pytest.raises(rfb.RefusedError, match="go away"):
        s.feed(b"\0\0\0\0\x07go away")
    with pytest.raises(rfb.StateError):
        rfb.Session().send_key(0x61, True)


def test_live_view_refuses_to_survive_a_resize(xvnc_factory):
    x = xvnc_factory(width=320, height=240)
    x.run("xsetroot", "-solid", "#336699")
    with rfb.connect(x.addr) as c:
        shot = c.screenshot()
        view = c.live_view()
        assert view.valid and view.size == (320, 240)
        assert view.pixel(3, 3) == (0x33, 0x66, 0x99, 255)
        x.run("xsetroot", "-solid", "#ffffff")
        c.wait_for_change(timeout=20)
        assert view.pixel(3, 3) == (255, 255, 255, 255)  # live: follows the screen
        x.run("xrandr", "--fb", "400x300")
        for _ in range(20):
            if c.size == (400, 300):
                break
            c.wait_for_change(timeout=5)
        assert c.size == (400, 300)
        assert not view.valid
        with pytest.raises(rfb.StateError, match="resized to 400x300"):
            view.pixel(3, 3)
        assert shot.size == (320, 240) and shot.pixel(3, 3) == (0x33, 0x66, 0x99, 255)
        assert c.live_view().size == (400, 300)
        assert c.screenshot().size == (400, 300)


def test_clipboard_both_ways(xvnc_factory):
    import subprocess
    import shutil as sh
    if sh.which("xclip") is None:
        pytest.skip("xclip missing")
    x = xvnc_factory(width=64, height=48)
    text = "Grüße ✓ 日本\nline two"
    with rfb.connect(x.addr) as c:
        # Server to client: an X client takes the clipboard; Xvnc announces it, rfb fetches it.
        owner = subprocess.Popen(["xclip", "-i", "-quiet", "-selection", "clipboard", "-t", "UTF8_STRING"],
                                 env=x.env(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        owner.stdin.write(text.encode())
        owner.stdin.close()
        for _ in range(100):
            if c.clipboard == text:
                break
            c.sync()
        owner.kill()
        owner.wait()
        assert c.clipboard == text
        # Client to server: Xvnc asks us for the data when an X client reads it, so keep the
        # connection serviced (sync) while xclip waits.
        c.set_clipboard("from rfb: ✓")
        got = None
        for _ in range(100):
            reader = subprocess.Popen(["xclip", "-o", "-selection", "clipboard", "-t", "UTF8_STRING"],
                                      env=x.env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while reader.poll() is None:
                assert time.monotonic() < deadline, "xclip -o did not finish"
                c.sync()
            got = reader.stdout.read().decode()
            if got == "from rfb: ✓":
                break
        assert got == "from rfb: ✓"
