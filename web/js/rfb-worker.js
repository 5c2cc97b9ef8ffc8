// The dedicated module worker: a single-threaded wasm instance running the protocol and the
// decoders, painting into an OffscreenCanvas. rfb.js sends the compiled module (compiled once
// on the main thread) and the canvas in the first message.

import init, { Session } from './pkg/rfb_web.js';
import { Engine, canDecodeH264 } from './engine.js';

let engine = null;
const early = [];

self.onmessage = async (e) => {
    const m = e.data;
    if (m.type === 'init') {
        const wasm = await init({ module_or_path: m.module });
        m.options.h264 = m.options.webcodecs && await canDecodeH264();
        m.options.webcodecs = m.options.webcodecs && typeof ImageDecoder !== 'undefined';
        engine = new Engine(wasm, Session, m.options, m.canvas,
                            (msg, transfer) => self.postMessage(msg, transfer || []));
        self.postMessage({ type: 'ready', inWorker: typeof WorkerGlobalScope !== 'undefined' });
        for (const q of early.splice(0)) {
            engine.handle(q);
        }
        return;
    }
    if (engine === null) {
        early.push(m);
    } else {
        engine.handle(m);
    }
};
