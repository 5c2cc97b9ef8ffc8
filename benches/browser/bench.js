// Replays one websockify/noVNC recording (VNC_frame_data) through a client in this page, as
// fast as the client takes it, and reports timings on `window.result`:
//   ?rec=NAME&client=ours|novnc[&worker=0]
// The channel is an in-page fake (noVNC and rfb.js both accept an RTCDataChannel-like object),
// so no network is involved: the figures are decode + render.

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

async function run() {
    const frames = serverFrames(await loadRecording(q.get('rec')));
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    // warm=1: replay once untimed first, in the same page (JIT tiers and, for our wasm, the
    // optimised code are then warm, as in a session that has been running for a while), and
    // time a second replay through a new client.
    if (q.get('warm') === '1') {
        const w = await makeClient();
        for (const f of frames) w.ch.onmessage({ data: f.slice().buffer });
        await w.done();
        try { w.rfb.disconnect(); } catch (e) { /* a fake channel may complain */ }
    }
    const { ch, done } = await makeClient();
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
    };
}

run().catch((e) => { window.result = { error: String(e && e.stack || e) }; });
