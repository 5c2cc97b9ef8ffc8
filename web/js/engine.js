// The protocol engine: one wasm `Session` (rfb-core + decoders) and the canvas it paints.
//
// It runs inside the dedicated worker (rfb-worker.js, with an OffscreenCanvas) or, with
// `worker: false`, on the main thread (with the page's canvas). Both talk to rfb.js through
// the same messages, so the two modes differ only in where this file runs.
//
// The wasm framebuffer is the only truth: after each batch of input, the damaged rectangles
// are copied to the canvas with putImageData from an ImageData that views wasm memory
// directly (rebuilt when memory grows, which detaches the old buffer).

export class Engine {
    /**
     * @param {object} wasm      the instance exports (`memory`)
     * @param {Function} Session the wasm-bindgen Session class
     * @param {object} options   session options (shared, repeaterID, qualityLevel, ...)
     * @param {OffscreenCanvas|HTMLCanvasElement} canvas
     * @param {(msg: object, transfer?: Transferable[]) => void} post  to rfb.js
     */
    constructor(wasm, Session, options, canvas, post) {
        this._wasm = wasm;
        this._post = post;
        this._canvas = canvas;
        this._ctx = canvas.getContext('2d', { alpha: false });
        this._session = new Session(options, performance.now());
        this._image = null; // ImageData over wasm memory
        this._dirty = []; // damage not painted yet: x, y, w, h, ...
        this._paintScheduled = false;
        this._flushQueued = false; // see _queueFlush
        this._timer = null;
        this._closed = false;
        // A wasm trap (a Rust panic) leaves the instance unusable: its worker is not reused.
        this.trapped = false;
        this._snapshotTimer = null;
        this._waitingSnapshots = [];
        this._video = new VideoContexts((id, rgba) => {
            if (this._closed) return;
            this._session.complete_video(id, rgba);
            this._flush();
        });
    }

    /** One message from rfb.js. */
    handle(m) {
        if (this._flushQueued && m.type !== 'data') {
            // Whatever comes next sees the effects of every byte received before it.
            this._flushQueued = false;
            this._flush();
        }
        if (this._closed && m.type !== 'snapshot' && m.type !== 'flush' && m.type !== 'eof') {
            return;
        }
        const s = this._session;
        switch (m.type) {
            case 'data':
                try {
                    s.feed(new Uint8Array(m.data), performance.now());
                } catch (e) {
                    this._flushQueued = false;
                    this._fatal(e);
                    return;
                }
                this._queueFlush();
                return;
            case 'eof':
                if (!this._closed) {
                    s.eof();
                    this._flush();
                }
                // Everything received before the close has been processed: rfb.js may end.
                this._post({ type: 'eof-done' });
                return;
            case 'input': {
                const ops = m.ops;
                for (let i = 0; i + 3 < ops.length; i += 4) {
                    if (ops[i] === 0) {
                        s.send_key(ops[i + 1] >>> 0, ops[i + 2], ops[i + 3] !== 0);
                    } else {
                        s.send_pointer(ops[i + 1], ops[i + 2], ops[i + 3]);
                    }
                }
                break;
            }
            case 'credentials':
                try {
                    s.send_credentials(m.username ?? undefined, m.password ?? undefined,
                                       m.target ?? undefined);
                } catch (e) {
                    this._post({ type: 'error', message: String(e && e.message || e) });
                }
                break;
            case 'approve':
                try {
                    s.approve_server(performance.now());
                } catch (e) {
                    this._fatal(e);
                    return;
                }
                break;
            case 'clipboard':
                s.clipboard_paste_from(m.text);
                break;
            case 'type':
                s.type_text(m.text);
                break;
            case 'quality':
                s.set_quality_level(m.level);
                break;
            case 'compression':
                s.set_compression_level(m.level);
                break;
            case 'resize':
                try {
                    if (m.screens) {
                        s.request_layout(m.width, m.height, Uint32Array.from(m.screens));
                    } else {
                        s.request_resize(m.width, m.height);
                    }
                } catch (e) {
                    this._post({ type: 'error', message: String(e && e.message || e) });
                }
                break;
            case 'xvp':
                s.xvp(m.op);
                break;
            case 'snapshot':
            case 'flush':
                // After everything received so far, including decodes still in flight.
                if (this._session.idle()) {
                    this._answer(m);
                } else {
                    this._waitingSnapshots.push(m);
                }
                return;
            case 'close':
                this._close(null);
                return;
            default:
                return;
        }
        this._flush();
    }

    /**
     * Runs `_flush` once the messages already queued have been handled: a burst of WebSocket
     * messages (a large update arrives in many) then costs one round of events, replies,
     * damage and timer instead of one per message. A separate MessageChannel task, because a
     * microtask would run after every message and a timer may be clamped.
     */
    _queueFlush() {
        if (this._flushQueued) {
            return;
        }
        this._flushQueued = true;
        if (this._tick === undefined) {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => {
                if (this._flushQueued) {
                    this._flushQueued = false;
                    this._flush();
                }
            };
            this._tick = ch.port2;
        }
        this._tick.postMessage(null);
    }

    /** Sends queued bytes, dispatches events, paints damage, re-arms the timer. */
    _flush() {
        const s = this._session;
        for (const job of s.take_images()) {
            this._decode(job);
        }
        for (const job of s.take_video()) {
            this._video.submit(job);
        }
        const out = s.take_output();
        if (out) {
            const buf = out.buffer.byteLength === out.byteLength ? out.buffer : out.slice().buffer;
            this._post({ type: 'send', data: buf }, [buf]);
        }
        for (let ev = s.poll_event(); ev !== undefined; ev = s.poll_event()) {
            if (ev.type === 'connect' || ev.type === 'resize') {
                this._resize(ev.width, ev.height);
            }
            if (ev.type === 'cursor' || ev.type === 'audio') {
                const bytes = ev.type === 'cursor' ? ev.rgba : ev.pcm;
                this._post({ type: 'event', event: ev }, [bytes.buffer]);
                continue;
            }
            this._post({ type: 'event', event: ev });
            if (ev.type === 'disconnect') {
                this._closed = true;
            }
        }
        if (this._waitingSnapshots.length && s.idle()) {
            for (const m of this._waitingSnapshots.splice(0)) this._answer(m);
        }
        const damage = s.take_damage();
        if (damage.length) {
            this._paint(damage);
            this._post({ type: 'update', rects: damage.length / 4,
                         browserImages: s.images_decoded_by_browser(),
                         imageFallbacks: s.image_fallbacks() });
        }
        this._arm();
    }

    /**
     * Decodes one JPEG with WebCodecs' ImageDecoder and hands the RGBA back; the session keeps
     * later drawing queued until then, so wire order holds. Any failure falls back to the
     * Rust decoder for that image.
     */
    async _decode(job) {
        let rgba = null;
        try {
            rgba = await decodeWithImageDecoder(job);
        } catch (e) {
            rgba = null;
        }
        if (this._closed) return;
        if (rgba) {
            this._session.complete_image(job.id, rgba);
        } else {
            this._session.fail_image(job.id);
        }
        this._flush();
    }

    _resize(w, h) {
        if (this._canvas.width !== w || this._canvas.height !== h) {
            this._canvas.width = w;
            this._canvas.height = h;
        }
        this._image = null;
    }

    /** The ImageData over the framebuffer, rebuilt after a resize or memory growth. */
    _view() {
        const s = this._session;
        const w = s.fb_width();
        const h = s.fb_height();
        if (w === 0 || h === 0) {
            return null;
        }
        const buffer = this._wasm.memory.buffer;
        const ptr = s.fb_ptr();
        const img = this._image;
        if (!img || img.width !== w || img.height !== h || img.data.buffer !== buffer ||
            img.data.byteOffset !== ptr) {
            this._image = new ImageData(new Uint8ClampedArray(buffer, ptr, w * h * 4), w, h);
        }
        return this._image;
    }

    /**
     * Queues damage and paints it once per display frame: updates often arrive faster than
     * the screen refreshes (a scrolling terminal sends a full-screen CopyRect per line), and
     * each putImageData copies the whole rectangle, so painting per update did most of the
     * work for nothing. Snapshots and flushes paint what is queued first.
     */
    _paint(damage) {
        for (let i = 0; i < damage.length; i++) this._dirty.push(damage[i]);
        if (this._paintScheduled) {
            return;
        }
        this._paintScheduled = true;
        const run = () => {
            this._paintScheduled = false;
            this._paintNow();
        };
        if (typeof requestAnimationFrame === 'function') {
            requestAnimationFrame(run);
        } else {
            setTimeout(run, 16);
        }
    }

    /** Paints the queued damage: its bounding box once when the rectangles mostly cover it. */
    _paintNow() {
        const damage = this._dirty;
        if (!damage.length) {
            return;
        }
        this._dirty = [];
        const img = this._view();
        if (!img) {
            return;
        }
        if (this._canvas.width !== img.width || this._canvas.height !== img.height) {
            this._resize(img.width, img.height);
            this._ctx.putImageData(this._view(), 0, 0);
            return;
        }
        let [x0, y0, x1, y1, area] = [Infinity, Infinity, 0, 0, 0];
        for (let i = 0; i + 3 < damage.length; i += 4) {
            x0 = Math.min(x0, damage[i]);
            y0 = Math.min(y0, damage[i + 1]);
            x1 = Math.max(x1, damage[i] + damage[i + 2]);
            y1 = Math.max(y1, damage[i + 1] + damage[i + 3]);
            area += damage[i + 2] * damage[i + 3];
        }
        if (x1 > x0 && y1 > y0 && (x1 - x0) * (y1 - y0) <= 2 * area) {
            this._ctx.putImageData(img, 0, 0, x0, y0, x1 - x0, y1 - y0);
            return;
        }
        for (let i = 0; i + 3 < damage.length; i += 4) {
            const w = damage[i + 2];
            const h = damage[i + 3];
            if (w > 0 && h > 0) {
                this._ctx.putImageData(img, 0, 0, damage[i], damage[i + 1], w, h);
            }
        }
    }

    /** Answers a `snapshot` (with the pixels) or a `flush` (just "done"). */
    _answer(m) {
        this._paintNow();
        if (m.type === 'flush') {
            this._post({ type: 'flushed', id: m.id });
        } else {
            this._sendSnapshot(m.id);
        }
    }

    /** The whole framebuffer as an RGBA copy (for getImageData/toDataURL in worker mode). */
    _sendSnapshot(id) {
        const img = this._view();
        if (!img) {
            this._post({ type: 'snapshot', id, width: 0, height: 0, data: null });
            return;
        }
        const copy = img.data.slice();
        this._post({ type: 'snapshot', id, width: img.width, height: img.height,
                     data: copy.buffer }, [copy.buffer]);
    }

    _arm() {
        if (this._timer !== null) {
            clearTimeout(this._timer);
            this._timer = null;
        }
        if (this._closed) {
            return;
        }
        const due = this._session.timeout_ms();
        if (due >= 0) {
            this._timer = setTimeout(() => {
                this._timer = null;
                this._session.handle_timeout(performance.now());
                this._flush();
            }, Math.max(0, due - performance.now()));
        }
    }

    /** The session ended with an error: show what was decoded, then report the reason. */
    _fatal(e) {
        if (e instanceof WebAssembly.RuntimeError) {
            this.trapped = true;
        } else {
            this._flush();
        }
        this._close(String(e && e.message || e));
    }

    /**
     * Ends the session and frees its wasm memory, so that the instance can serve another
     * session (rfb-worker.js keeps one idle worker for the next connection in the page).
     */
    dispose() {
        this._flushQueued = false;
        if (this._tick !== undefined) {
            this._tick.close();
        }
        this._close(null);
        clearTimeout(this._snapshotTimer);
        this._waitingSnapshots = [];
        this._dirty = [];
        this._image = null;
        if (!this.trapped) {
            this._session.free();
        }
        this._session = null;
    }

    _close(reason) {
        if (this._closed) {
            return;
        }
        this._closed = true;
        this._video.closeAll();
        if (this._timer !== null) {
            clearTimeout(this._timer);
        }
        if (reason !== null) {
            this._post({ type: 'event', event: { type: 'disconnect', clean: false, reason } });
        }
    }
}

/** Most H.264 contexts kept open; the least recently used is closed beyond this. */
const MAX_VIDEO_CONTEXTS = 16;
/** A rectangle whose pictures have not all come out by then is skipped (never a stall). */
const VIDEO_TIMEOUT_MS = 2000;

/**
 * Open H.264 contexts, one VideoDecoder per rectangle (x, y, w, h) as the spec keys them.
 * Jobs of one context run in order; each produces the rectangle's last picture, cropped to the
 * rectangle, or null. Pictures are counted rather than flushed: a flush would make the next
 * chunk require a key frame, and Open H.264 servers send baseline streams (one picture out
 * per access unit, no reordering).
 */
class VideoContexts {
    constructor(done) {
        this._done = done;
        this._contexts = new Map();
    }

    submit(job) {
        if (job.flags & 2) {
            this.closeAll();
        }
        const key = `${job.x},${job.y},${job.width},${job.height}`;
        if (job.flags & 1) {
            this._drop(key);
        }
        let ctx = this._contexts.get(key);
        if (!ctx) {
            ctx = { decoder: null, chain: Promise.resolve(), last: null, outputs: 0,
                    waiters: [], needKey: true, timestamp: 0 };
            this._contexts.set(key, ctx);
            while (this._contexts.size > MAX_VIDEO_CONTEXTS) {
                this._drop(this._contexts.keys().next().value);
            }
        } else {
            // Most recently used goes last.
            this._contexts.delete(key);
            this._contexts.set(key, ctx);
        }
        ctx.chain = ctx.chain.then(() => this._run(ctx, job)).then(
            (rgba) => this._done(job.id, rgba),
            () => this._done(job.id, undefined));
    }

    closeAll() {
        for (const key of [...this._contexts.keys()]) this._drop(key);
    }

    _drop(key) {
        const ctx = this._contexts.get(key);
        if (!ctx) return;
        this._contexts.delete(key);
        if (ctx.decoder && ctx.decoder.state !== 'closed') ctx.decoder.close();
        if (ctx.last) ctx.last.close();
        ctx.last = null;
    }

    async _run(ctx, job) {
        const units = job.units.filter((u, i) => !(ctx.needKey && !u.key &&
            !job.units.slice(0, i).some((p) => p.key)));
        if (units.length === 0) return undefined;
        if (!ctx.decoder || ctx.decoder.state === 'closed') {
            ctx.decoder = new VideoDecoder({
                output: (frame) => {
                    if (ctx.last) ctx.last.close();
                    ctx.last = frame;
                    ctx.outputs += 1;
                    ctx.waiters = ctx.waiters.filter((w) => !w());
                },
                error: () => { ctx.broken = true; ctx.waiters = ctx.waiters.filter((w) => !w()); },
            });
            ctx.decoder.configure({ codec: job.codec || 'avc1.42E01E', optimizeForLatency: true });
        }
        const target = ctx.outputs + units.length;
        for (const u of units) {
            ctx.decoder.decode(new EncodedVideoChunk({ type: u.key ? 'key' : 'delta',
                                                       timestamp: ctx.timestamp++, data: u.data }));
        }
        ctx.needKey = false;
        await new Promise((resolve) => {
            const check = () => {
                if (ctx.outputs >= target || ctx.broken) { resolve(); return true; }
                return false;
            };
            if (!check()) {
                ctx.waiters.push(check);
                setTimeout(() => { ctx.broken = ctx.broken || ctx.outputs < target; resolve(); },
                           VIDEO_TIMEOUT_MS);
            }
        });
        if (ctx.broken || !ctx.last) {
            // The decoder is unusable now; the next rectangle starts again from a key frame.
            if (ctx.decoder.state !== 'closed') ctx.decoder.close();
            ctx.decoder = null;
            ctx.broken = false;
            ctx.needKey = true;
            return undefined;
        }
        return frameToRgba(ctx.last, job.width, job.height);
    }
}

/** The top-left `w` × `h` of a frame as RGBA (pictures may be larger than the rectangle). */
async function frameToRgba(frame, w, h) {
    const cw = Math.min(w, frame.displayWidth);
    const ch = Math.min(h, frame.displayHeight);
    const c = new OffscreenCanvas(w, h);
    const ctx = c.getContext('2d');
    ctx.drawImage(frame, 0, 0, cw, ch, 0, 0, cw, ch);
    return new Uint8Array(ctx.getImageData(0, 0, w, h).data.buffer);
}

/** RGBA pixels of a JPEG via ImageDecoder; null when the size is not the rectangle's. */
async function decodeWithImageDecoder(job) {
    const decoder = new ImageDecoder({ data: job.data, type: 'image/jpeg' });
    try {
        const { image } = await decoder.decode();
        try {
            if (image.displayWidth !== job.width || image.displayHeight !== job.height) {
                return null;
            }
            const out = new Uint8Array(job.width * job.height * 4);
            try {
                await image.copyTo(out, { format: 'RGBA' });
                return out;
            } catch (e) {
                // Older engines cannot convert in copyTo: let a canvas do the conversion.
                const c = new OffscreenCanvas(job.width, job.height);
                const ctx = c.getContext('2d');
                ctx.drawImage(image, 0, 0);
                return new Uint8Array(ctx.getImageData(0, 0, job.width, job.height).data.buffer);
            }
        } finally {
            image.close();
        }
    } finally {
        decoder.close();
    }
}

/** Whether this context can decode H.264 with WebCodecs (then Open H.264 is offered). */
export async function canDecodeH264() {
    if (typeof VideoDecoder === 'undefined' || typeof OffscreenCanvas === 'undefined') {
        return false;
    }
    try {
        const r = await VideoDecoder.isConfigSupported({ codec: 'avc1.42E01E' });
        return r.supported === true;
    } catch (e) {
        return false;
    }
}
