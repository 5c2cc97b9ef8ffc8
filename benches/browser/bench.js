// Replays one websockify/noVNC recording (VNC_frame_data) through a client in this page, as
// fast as the client takes it, and reports timings on `window.result`:
//   ?rec=NAME&client=ours|novnc|floor[&worker=0]
// The channel is an in-page fake (noVNC and rfb.js both accept an RTCDataChannel-like object),
// so no network is involved: the figures are decode + render.
//
// client=floor is no client: it times the work no client in this browser can avoid for the
// same recording (issue 12's "browser floor"): delivering the same messages, inflating the
// same zlib payloads with the browser's own zlib (DecompressionStream), decoding the same
// JPEG/PNG images with WebCodecs ImageDecoder, and one putImageData per damaged rectangle. Its input, floors/NAME.floor, is written by
// `floor-script` (benches/src/bin/floor_script.rs) from a replay of the same recording.

const q = new URLSearchParams(location.search);
const client = q.get('client');

function loadRecording(name) {
    return new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = `recordings/${name}.js`;
        s.onload = () => resolve(window.VNC_frame_data);
        s.onerror = reject;
        document.head.appendChild(s);
    });
}

/** Server → client frames as Uint8Arrays (client frames and the EOF marker skipped). */
function serverFrames(data) {
    const out = [];
    for (const f of data) {
        if (typeof f !== 'string' || f[0] !== '{') continue;
        const body = f.slice(f.indexOf('{', 1) + 1);
        const b = new Uint8Array(body.length);
        for (let i = 0; i < body.length; i++) b[i] = body.charCodeAt(i);
        out.push(b);
    }
    return out;
}

function fakeChannel() {
    return {
        readyState: 'open', binaryType: 'arraybuffer', protocol: 'binary',
        onopen: null, onmessage: null, onclose: null, onerror: null,
        send() {}, close() {},
    };
}

/** A client on a fresh channel and screen; `done()` resolves once every pixel is drawn. */
async function makeClient() {
    const screen = document.createElement('div');
    screen.style.cssText = 'width:1400px;height:900px';
    document.getElementById('screen').replaceChildren(screen);
    const ch = fakeChannel();
    let rfb;
    let done;
    if (client === 'novnc') {
        const { default: RFB } = await import('./novnc/core/rfb.js');
        rfb = new RFB(screen, ch, { shared: true });
        done = async () => {
            // Image-based decoders finish asynchronously; the display queue tells.
            while (rfb._display.pending()) await new Promise((r) => setTimeout(r, 1));
            rfb._display.flip();
        };
    } else {
        // dist=before: a saved build of an earlier version (`cargo xtask bench --baseline`).
        const dist = q.get('dist') === 'before' ? './before/rfb.js' : './rfb/rfb.js';
        const { default: RFB } = await import(dist);
        rfb = new RFB(screen, ch, { worker: q.get('worker') !== '0' });
        done = () => rfb.flush();
    }
    // Start timing only once the client is ready (our worker has instantiated its wasm).
    for (let i = 0; i < 500 && client === 'ours' && rfb.usingWorker && !rfb._workerConfirmed; i++) {
        await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 50));
    return { rfb, ch, done };
}


/** Parses a floor script (layout in benches/src/bin/floor_script.rs). */
function parseFloor(buf) {
    const v = new DataView(buf);
    const magic = new TextDecoder().decode(new Uint8Array(buf, 0, 8));
    if (magic !== 'RFBFLOOR' || v.getUint32(8, true) !== 1) throw new Error('not a floor script');
    let at = 12;
    const u32 = () => { const x = v.getUint32(at, true); at += 4; return x; };
    const width = u32();
    const height = u32();
    const rects = new Uint16Array(u32() * 4);
    for (let i = 0; i < rects.length; i++, at += 2) rects[i] = v.getUint16(at, true);
    const streams = [];
    for (let n = u32(); n > 0; n--) {
        const out = u32();
        const len = u32();
        streams.push({ out, bytes: new Uint8Array(buf, at, len) });
        at += len;
    }
    const images = [];
    for (let n = u32(); n > 0; n--) {
        const type = v.getUint8(at++) === 0 ? 'image/jpeg' : 'image/png';
        const len = u32();
        images.push({ type, bytes: new Uint8Array(buf, at, len) });
        at += len;
    }
    return { width, height, rects, streams, images };
}

/** Inflates one stream with the browser's zlib; stops at the known output length. */
async function inflateNative(s) {
    const reader = new Blob([s.bytes]).stream()
        .pipeThrough(new DecompressionStream('deflate')).getReader();
    let got = 0;
    while (got < s.out) {
        const { value, done } = await reader.read();
        if (done) break;
        got += value.byteLength;
    }
    reader.cancel().catch(() => {});
    if (got !== s.out) throw new Error(`native inflate gave ${got} bytes, want ${s.out}`);
}

/** The floor: the same work as a client's, minus everything a client could do better. */
async function makeFloor(frames) {
    const f = parseFloor(await (await fetch(`floors/${q.get('rec')}.floor`)).arrayBuffer());
    const canvas = document.createElement('canvas');
    canvas.width = f.width;
    canvas.height = f.height;
    document.getElementById('screen').replaceChildren(canvas);
    const ctx = canvas.getContext('2d', { alpha: false });
    const img = new ImageData(Math.max(1, f.width), Math.max(1, f.height));
    const total = frames.reduce((n, x) => n + x.length, 0);
    const stats = {};
    return async () => {
        // Delivery: the same messages into a receive buffer, as any client's parser reads them.
        const ch = fakeChannel();
        const rx = new Uint8Array(total);
        let off = 0;
        ch.onmessage = (e) => { const u = new Uint8Array(e.data); rx.set(u, off); off += u.length; };
        let a = performance.now();
        for (const x of frames) ch.onmessage({ data: x.slice().buffer });
        stats.deliver_ms = performance.now() - a;
        a = performance.now();
        await Promise.all(f.streams.map(inflateNative));
        stats.inflate_ms = performance.now() - a;
        a = performance.now();
        for (const im of f.images) {
            const d = new ImageDecoder({ data: im.bytes, type: im.type });
            (await d.decode()).image.close();
            d.close();
        }
        stats.images_ms = performance.now() - a;
        a = performance.now();
        const r = f.rects;
        for (let i = 0; i < r.length; i += 4) {
            if (r[i + 2] > 0 && r[i + 3] > 0) ctx.putImageData(img, 0, 0, r[i], r[i + 1], r[i + 2], r[i + 3]);
        }
        stats.put_ms = performance.now() - a;
        return stats;
    };
}

async function run() {
    const frames = serverFrames(await loadRecording(q.get('rec')));
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    if (client === 'floor') {
        const floor = await makeFloor(frames);
        if (q.get('warm') === '1') await floor();
        await new Promise((r) => setTimeout(r, 50));
        const t0 = performance.now();
        const parts = await floor();
        const t1 = performance.now();
        window.result = { client, frames: frames.length, bytes, total_ms: t1 - t0,
                          busy_ms: t1 - t0, ...parts };
        return;
    }
    // warm=1: replay once untimed first, in the same page (JIT tiers and, for our wasm, the
    // optimised code are then warm, as in a session that has been running for a while), and
    // time a second replay through a new client.
    // Our worker mode then runs on the first client's worker (rfb.js keeps one for the next
    // connection in the page); `reused_worker` in the result says whether it did.
    let firstWorker;
    if (q.get('warm') === '1') {
        const w = await makeClient();
        for (const f of frames) w.ch.onmessage({ data: f.slice().buffer });
        await w.done();
        firstWorker = w.rfb._worker;
        try { w.rfb.disconnect(); } catch (e) { /* a fake channel may complain */ }
        // The worker is handed over once it confirms the end of the first session.
        await new Promise((r) => setTimeout(r, 50));
    }
    const { rfb, ch, done } = await makeClient();
    // Main-thread time inside message handlers is "busy"; the rest of the wall time is
    // decoding elsewhere (our worker) or waiting.
    let busy = 0;
    const t0 = performance.now();
    for (const f of frames) {
        const a = performance.now();
        ch.onmessage({ data: f.slice().buffer });
        busy += performance.now() - a;
    }
    const fed = performance.now();
    await done();
    const t1 = performance.now();
    window.result = {
        client: client + (client === 'ours' && q.get('worker') === '0' ? '-main' : '')
            + (q.get('dist') === 'before' ? '-before' : ''),
        frames: frames.length, bytes, total_ms: t1 - t0, feed_ms: fed - t0, busy_ms: busy,
        reused_worker: !!firstWorker && rfb._worker === firstWorker,
    };
}

run().catch((e) => { window.result = { error: String(e && e.stack || e) }; });
