// The dedicated module worker: a single-threaded wasm instance running the protocol and the
// decoders, painting into an OffscreenCanvas. rfb.js sends the compiled module (compiled once
// on the main thread) and the canvas in the first message.
//
// A worker can serve several sessions one after the other: `reset` ends the current one and
// frees its memory, and a later `init` starts the next on the same, already instantiated and
// warmed-up, wasm instance (rfb.js keeps one idle worker for the next connection in the page).

import init, { Session } from './pkg/rfb_web.js';
import { Engine, canDecodeH264 } from './engine.js';

let engine = null;
let starting = false;
// Messages that arrive while `init` is still instantiating, handled right after it.
const early = [];

function dispatch(m) {
    if (m.type === 'reset') {
        const reusable = !(engine && engine.trapped);
        if (engine) engine.dispose();
        engine = null;
        self.postMessage({ type: 'reset-done', reusable });
    } else if (engine !== null) {
        engine.handle(m);
    }
    // Otherwise the session this was meant for has ended: dropped.
}

self.onmessage = async (e) => {
    const m = e.data;
    if (m.type === 'init') {
        starting = true;
        const wasm = await init({ module_or_path: m.module });
        m.options.h264 = m.options.webcodecs && await canDecodeH264();
        m.options.webcodecs = m.options.webcodecs && typeof ImageDecoder !== 'undefined';
        engine = new Engine(wasm, Session, m.options, m.canvas,
                            (msg, transfer) => self.postMessage(msg, transfer || []));
        starting = false;
        self.postMessage({ type: 'ready', inWorker: typeof WorkerGlobalScope !== 'undefined' });
        for (const q of early.splice(0)) {
            dispatch(q);
        }
        return;
    }
    if (starting) {
        early.push(m);
    } else {
        dispatch(m);
    }
};
