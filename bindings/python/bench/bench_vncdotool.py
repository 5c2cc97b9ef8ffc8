"""rfb against vncdotool, side by side on one Xvnc (run by hand, not in CI).

    target/peers/venv/bin/python bindings/python/bench/bench_vncdotool.py [--size 1280x800]

Measures, for each library, the median of several runs of
  1. connect + one full-screen screenshot (pixels in memory: rfb.Screenshot, vncdotool's PIL
     image after refreshScreen) + disconnect, and
  2. typing N characters into an xterm running `cat`, timed until the server has processed
     them (rfb: type_text syncs; vncdotool: keyPress per character, then refreshScreen).
Both get the same desktop: a solid root and a full-screen xterm with text.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import rfb  # noqa: E402
from conftest import Xvnc, settle, wait_for  # noqa: E402
from vncdotool import api  # noqa: E402


def median_time(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--chars", type=int, default=2000)
    args = ap.parse_args()
    w, h = map(int, args.size.split("x"))

    x = Xvnc(width=w, height=h)
    try:
        out = os.path.join(x.dir, "typed.txt")
        ready = os.path.join(x.dir, "ready")
        x.run("xsetroot", "-solid", "#336699")
        x.spawn("xterm", "-geometry", "200x60+0+0", "-e", "sh", "-c",
                f"ls -lR /usr/share/doc | head -80; : > '{ready}'; exec cat > '{out}'")
        wait_for(lambda: os.path.exists(ready), "xterm")
        x.run("xdotool", "mousemove", "300", "300")
        settle(x)
        rfb_addr = x.addr
        vdt_addr = f"127.0.0.1::{x.port}"

        def rfb_shot():
            with rfb.connect(rfb_addr) as c:
                img = c.screenshot(refresh=False)  # connect already waited for a full picture
                assert img.size == (w, h)

        def vdt_shot():
            c = api.connect(vdt_addr)
            c.refreshScreen()
            assert c.screen.size == (w, h)
            c.disconnect()

        def vdt_capture_png():
            c = api.connect(vdt_addr)
            c.captureScreen(os.path.join(x.dir, "v.png"))
            c.disconnect()

        def rfb_shot_png():
            with rfb.connect(rfb_addr) as c:
                img = c.screenshot(refresh=False)
                from PIL import Image
                # RGB like vncdotool's image, so both save the same PNG kind.
                pic = Image.frombuffer("RGBA", img.size, img, "raw", "RGBA", 0, 1).convert("RGB")
                pic.save(os.path.join(x.dir, "r.png"))

        # Lines, because the xterm's tty passes text to `cat` a line at a time (and drops
        # what does not fit its line buffer).
        line = "the quick brown fox jumps over the lazy dog 0123456789\n"
        text = (line * (args.chars // len(line) + 1))[: args.chars - 1] + "\n"

        def rfb_type():
            with rfb.connect(rfb_addr) as c:
                t0 = time.perf_counter()
                c.type_text(text)
                return time.perf_counter() - t0

        def vdt_type():
            c = api.connect(vdt_addr)
            c.refreshScreen()
            t0 = time.perf_counter()
            for ch in text:
                c.keyPress("enter" if ch == "\n" else ch)
            c.refreshScreen()  # a round trip after the keys: the server has them
            took = time.perf_counter() - t0
            c.disconnect()
            return took

        results = []
        results.append(("connect + full screenshot (pixels in memory)",
                        median_time(rfb_shot, args.runs), median_time(vdt_shot, args.runs), "s"))
        results.append(("connect + screenshot saved as PNG",
                        median_time(rfb_shot_png, args.runs), median_time(vdt_capture_png, args.runs), "s"))
        rt = statistics.median(rfb_type() for _ in range(3))
        vt = statistics.median(vdt_type() for _ in range(3))
        results.append((f"typing {len(text)} characters", len(text) / rt, len(text) / vt, "keys/s"))

        print(f"Xvnc {w}x{h}, median of {args.runs} runs (typing: 3), same machine")
        print(f"{'measure':48} {'rfb':>12} {'vncdotool':>12}")
        for name, a, b, unit in results:
            fmt = "{:>10.3f} {}" if unit == "s" else "{:>10.0f} {}"
            print(f"{name:48} {fmt.format(a, unit):>12} {fmt.format(b, unit):>12}")
        # Every typed character must have arrived (3 runs each, all into one `cat`).
        want = len(text) * 6
        wait_for(lambda: len(open(out, encoding="utf-8").read()) >= want, "the typed text", 60)
        got = open(out, encoding="utf-8").read()
        assert got == text * 6, f"typed text differs ({len(got)} of {want} characters)"
        print(f"all {want} typed characters arrived in the xterm")
    finally:
        api.shutdown()
        x.stop()


if __name__ == "__main__":
    main()
