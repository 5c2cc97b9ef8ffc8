// rfb.js: a drop-in for noVNC's `core/rfb.js`. `import RFB from './rfb.js'` and use it as
// noVNC documents (docs/EMBEDDING.md lists every difference).
//
// The module finishes compiling and instantiating the wasm before it exports RFB, so the
// constructor is synchronous as in noVNC. The compiled module is then handed to a dedicated
// worker that runs the protocol and decoding (`worker: false` keeps everything here).
// Assets resolve next to this file, or under `globalThis.RFB_ASSET_BASE` when set before the
// import.

import init, { Input, Session, genDES as wasmGenDES } from './pkg/rfb_web.js';
import { Engine, canDecodeH264 } from './engine.js';
import { DomInput, detectPlatform } from './input-dom.js';
import { Viewport } from './viewport.js';
import { messages } from './messages.js';
import { cursorUrl, CURSORS } from './cursor.js';
import { AudioPlayer } from './audio.js';

const assetBase = globalThis.RFB_ASSET_BASE
    ? new URL(globalThis.RFB_ASSET_BASE, globalThis.location ? location.href : import.meta.url)
    : new URL('./', import.meta.url);

async function compileWasm(url) {
    const response = await fetch(url);
    if (!response.ok) {
        throw new Error(`rfb.js: cannot load ${url}: HTTP ${response.status}`);
    }
    // Streaming needs application/wasm; fall back for servers that send something else.
    if (WebAssembly.compileStreaming &&
        (response.headers.get('Content-Type') || '').startsWith('application/wasm')) {
        return WebAssembly.compileStreaming(response);
    }
    return WebAssembly.compile(await response.arrayBuffer());
}

const wasmModule = await compileWasm(new URL('pkg/rfb_web_bg.wasm', assetBase));
const wasm = await init({ module_or_path: wasmModule });
const mainThreadH264 = await canDecodeH264();

const SECURITY_NAMES = { 1: 'None', 2: 'VncAuth' };

/**
 * One idle worker kept from a finished session: the next RFB in this page (a reconnect, a
 * second desktop) starts on a wasm instance that is already instantiated, sized and warm
 * instead of paying a worker's start-up again. Dropped after SPARE_WORKER_MS unused.
 */
const spare = { worker: null, timer: null };
const SPARE_WORKER_MS = 30000;

function takeSpareWorker() {
    const w = spare.worker;
    if (w !== null) {
        clearTimeout(spare.timer);
        spare.worker = null;
    }
    return w;
}

function keepSpareWorker(w) {
    if (spare.worker !== null) {
        w.terminate();
        return;
    }
    spare.worker = w;
    spare.timer = setTimeout(() => {
        if (spare.worker === w) {
            spare.worker = null;
            w.terminate();
        }
    }, SPARE_WORKER_MS);
}

/** The host of a ws:// or wss:// URL (the default TLS server name), or undefined. */
function hostOf(url) {
    if (typeof url !== 'string') {
        return undefined;
    }
    try {
        return new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
        return undefined;
    }
}

export default class RFB extends EventTarget {
    /**
     * @param {HTMLElement} target  block element the screen is appended to
     * @param {string|WebSocket|RTCDataChannel} urlOrChannel
     * @param {object} [options]  noVNC's `shared`, `credentials`, `repeaterID`, `wsProtocols`;
     *   ours: `worker` (default true), `platform` (keyboard quirks; detected by default),
     *   `audio` (play QEMU audio, default true), `lossless` (never ask for JPEG),
     *   VeNCrypt TLS: `tlsServerName` (the name the certificate must carry; default: the
     *   WebSocket URL's host), `tlsCaCertificates` (PEM text), `tlsFingerprint` (SHA-256 of
     *   the certificate, hex). With neither a CA nor a fingerprint the certificate is shown
     *   as a `serververification` event; `approveServer()` goes on, `disconnect()` refuses.
     */
    constructor(target, urlOrChannel, options = {}) {
        if (!target) {
            throw new Error('Must specify target');
        }
        if (!urlOrChannel) {
            throw new Error('Must specify URL, WebSocket or RTCDataChannel');
        }
        super();
        this._target = target;
        this._options = options;
        this._credentials = options.credentials || {};
        this._rfbConnectionState = 'connecting';
        this._fbWidth = 0;
        this._fbHeight = 0;
        this._fbName = '';
        this._capabilities = { power: false };
        this._viewOnly = false;
        this._focusOnClick = true;
        this._showDotCursor = false;
        this._qualityLevel = 6;
        this._compressionLevel = 2;
        this._resizeSession = false;
        this._pointerLock = false;
        this._cursor = null;
        this._snapshots = new Map();
        this._audio = new AudioPlayer();
        this._nextSnapshot = 1;
        this._cleanDisconnect = false;
        this._disconnectReason = '';

        // The screen: a flex container holding the canvas, and the keyboard's text sink.
        this._screen = document.createElement('div');
        Object.assign(this._screen.style, {
            display: 'flex', width: '100%', height: '100%', overflow: 'auto',
            background: 'rgb(40, 40, 40)', position: 'relative',
        });
        this._canvas = document.createElement('canvas');
        this._canvas.width = 0;
        this._canvas.height = 0;
        Object.assign(this._canvas.style, { margin: 'auto', outline: 'none', flexShrink: '0' });
        this._canvas.tabIndex = -1;
        this._screen.appendChild(this._canvas);
        target.appendChild(this._screen);
        this._viewportDirty = false; // see _onViewport
        this._clipping = false;
        this._viewport = new Viewport(this._screen, this._canvas, () => this._onViewport());

        // The engine: in a worker by default.
        const sessionOptions = {
            shared: options.shared !== false,
            repeaterID: options.repeaterID || '',
            audio: options.audio !== false,
            // JPEG through WebCodecs' ImageDecoder where the browser has it (`webcodecs:
            // false` keeps the Rust decoder). Checked again in the worker, which may differ.
            webcodecs: options.webcodecs !== false,
            // `lossless: true` (ours) sends no quality level, so Tight never turns to JPEG.
            qualityLevel: options.lossless ? undefined : this._qualityLevel,
            compressionLevel: this._compressionLevel,
            tlsServerName: options.tlsServerName || hostOf(urlOrChannel),
            tlsCaCertificates: options.tlsCaCertificates || undefined,
            tlsFingerprint: options.tlsFingerprint || undefined,
            // Ours: the security types accepted, most preferred first (names as the `rfb` CLI
            // spells them, or numbers); by default every type this client runs.
            securityTypes: options.securityTypes || undefined,
        };
        const canOffscreen = typeof Worker !== 'undefined' &&
            typeof this._canvas.transferControlToOffscreen === 'function';
        this._usingWorker = options.worker !== false && canOffscreen;
        if (this._usingWorker) {
            this._worker = takeSpareWorker() ||
                new Worker(new URL('rfb-worker.js', assetBase), { type: 'module' });
            this._workerBroken = false;
            this._worker.onmessage = (e) => this._onEngine(e.data);
            this._worker.onerror = (e) => {
                this._workerBroken = true;
                // A load failure is a bare Event with no message.
                const what = e && e.message ? e.message : 'could not load rfb-worker.js';
                this._fail(`worker failed: ${what}`);
            };
            const offscreen = this._canvas.transferControlToOffscreen();
            this._worker.postMessage({ type: 'init', module: wasmModule, options: sessionOptions,
                                       canvas: offscreen }, [offscreen]);
        } else {
            sessionOptions.h264 = sessionOptions.webcodecs && mainThreadH264;
            sessionOptions.webcodecs = sessionOptions.webcodecs && typeof ImageDecoder !== 'undefined';
            this._engine = new Engine(wasm, Session, sessionOptions, this._canvas,
                                      (m) => this._onEngine(m));
        }

        // Input on the main thread (keydown must know at once whether to preventDefault).
        this._input = new Input(options.platform || detectPlatform(), 0, 0);
        this._domInput = new DomInput(this, this._input, this._canvas, this._screen);
        this._domInput.focusSoon();

        this._connect(urlOrChannel, options.wsProtocols);
    }

    // ---- properties (noVNC's names) ----

    get viewOnly() { return this._viewOnly; }
    set viewOnly(v) {
        this._viewOnly = !!v;
        if (this._viewOnly) {
            this._domInput.releaseAll();
        }
    }

    get capabilities() { return this._capabilities; }

    get clippingViewport() { return this._viewport.clipping; }

    get touchButton() { return 0; }
    set touchButton(v) { console.warn('rfb.js: touchButton is deprecated and ignored'); }

    get clipViewport() { return this._viewport.clip; }
    set clipViewport(v) { this._viewport.clip = !!v; }

    get scaleViewport() { return this._viewport.scale; }
    set scaleViewport(v) { this._viewport.scale = !!v; }

    get dragViewport() { return this._viewport.drag; }
    set dragViewport(v) { this._viewport.drag = !!v; }

    get resizeSession() { return this._resizeSession; }
    set resizeSession(v) {
        this._resizeSession = !!v;
        // A session sized in device pixels is shown one framebuffer pixel per device pixel.
        this._viewport.setHiDpi(this._resizeSession);
        if (this._resizeSession) {
            this._requestRemoteResize();
        }
    }

    /**
     * Ours: which screen of a multi-screen desktop to show (an index into the server's
     * ExtendedDesktopSize layout), or null for all of them.
     */
    get screen() { return this._viewport.screenIndex; }
    set screen(v) { this._viewport.screenIndex = v === null || v === undefined ? null : v | 0; }

    /** Ours: the server's screen layout, `[{id, x, y, width, height}]`. */
    get screens() { return this._screens || []; }

    /**
     * Ours: asks the server for a desktop of `width` × `height` made of `screens`
     * (`[{id, x, y, width, height}]`); the answer arrives as a `screenlayout` event.
     */
    requestLayout(width, height, screens) {
        const flat = [];
        for (const sc of screens) flat.push(sc.id >>> 0, sc.x, sc.y, sc.width, sc.height);
        this._toEngine({ type: 'resize', width, height, screens: flat });
    }

    get showDotCursor() { return this._showDotCursor; }
    set showDotCursor(v) {
        this._showDotCursor = !!v;
        this._applyCursor();
    }

    get background() { return this._screen.style.background; }
    set background(v) { this._screen.style.background = v; }

    get focusOnClick() { return this._focusOnClick; }
    set focusOnClick(v) { this._focusOnClick = !!v; }

    get qualityLevel() { return this._qualityLevel; }
    set qualityLevel(v) {
        if (!Number.isInteger(v) || v < 0 || v > 9) {
            console.error('rfb.js: qualityLevel must be an integer between 0 and 9');
            return;
        }
        this._qualityLevel = v;
        this._toEngine({ type: 'quality', level: v });
    }

    get compressionLevel() { return this._compressionLevel; }
    set compressionLevel(v) {
        if (!Number.isInteger(v) || v < 0 || v > 9) {
            console.error('rfb.js: compressionLevel must be an integer between 0 and 9');
            return;
        }
        this._compressionLevel = v;
        this._toEngine({ type: 'compression', level: v });
    }

    /**
     * Ours: with `pointerLock` a click on the screen captures the mouse (relative movement,
     * for games and 3D applications); Escape releases it.
     */
    get pointerLock() { return this._pointerLock; }
    set pointerLock(v) {
        this._pointerLock = !!v;
        if (!this._pointerLock && document.pointerLockElement === this._canvas) {
            document.exitPointerLock();
        }
    }

    /** Ours: true when protocol and decoding run in the dedicated worker. */
    get usingWorker() { return this._usingWorker; }

    // ---- methods ----

    disconnect() {
        this._cleanDisconnect = true;
        this._closeSocket();
        this._finish();
    }

    sendCredentials(creds) {
        this._credentials = creds || {};
        this._toEngine({ type: 'credentials', username: creds.username, password: creds.password,
                         target: creds.target });
    }

    approveServer() {
        // Only meaningful after `serververification`; the engine ignores it otherwise.
        if (this._rfbConnectionState !== 'connecting') {
            return;
        }
        this._toEngine({ type: 'approve' });
    }

    sendCtrlAltDel() {
        if (this._rfbConnectionState !== 'connected' || this._viewOnly) {
            return;
        }
        const keys = [[0xffe3, 0x1d], [0xffe9, 0x38], [0xffff, 0xe053]];
        const ops = [];
        for (const [k, sc] of keys) {
            ops.push(0, k, sc, 1);
        }
        for (const [k, sc] of keys.reverse()) {
            ops.push(0, k, sc, 0);
        }
        this._sendInput(Int32Array.from(ops));
    }

    sendKey(keysym, code, down) {
        if (this._rfbConnectionState !== 'connected' || this._viewOnly) {
            return;
        }
        const sc = code ? wasmXt(code) : -1;
        if (down === undefined) {
            this._sendInput(Int32Array.from([0, keysym, sc, 1, 0, keysym, sc, 0]));
        } else {
            this._sendInput(Int32Array.from([0, keysym, sc, down ? 1 : 0]));
        }
    }

    focus(options) { this._domInput.focus(options); }

    blur() { this._domInput.blur(); }

    clipboardPasteFrom(text) {
        if (this._rfbConnectionState !== 'connected' || this._viewOnly) {
            return;
        }
        this._toEngine({ type: 'clipboard', text: String(text) });
    }

    /**
     * Ours: types `text` as key presses (paste as keystrokes, for servers without a clipboard
     * such as QEMU). Characters a US keyboard shifts are wrapped in Shift.
     */
    typeText(text) {
        if (this._rfbConnectionState !== 'connected' || this._viewOnly) {
            return;
        }
        this._toEngine({ type: 'type', text: String(text) });
    }

    machineShutdown() { this._xvp(2); }
    machineReboot() { this._xvp(3); }
    machineReset() { this._xvp(4); }

    getImageData() {
        if (!this._usingWorker) {
            if (this._fbWidth === 0 || this._fbHeight === 0) {
                return new ImageData(1, 1);
            }
            return this._canvas.getContext('2d').getImageData(0, 0, this._fbWidth,
                                                              this._fbHeight);
        }
        // The picture lives in the worker: return the latest copy, and from now on keep
        // copies coming after updates (at most two a second) for later calls.
        this._autoSnapshot = true;
        const snap = this._lastSnapshot;
        if (!snap) {
            this.snapshot();
            return new ImageData(Math.max(this._fbWidth, 1), Math.max(this._fbHeight, 1));
        }
        return new ImageData(new Uint8ClampedArray(snap.data), snap.width, snap.height);
    }

    toDataURL(type, encoderOptions) {
        return this._readableCanvas().toDataURL(type, encoderOptions);
    }

    toBlob(callback, type, quality) {
        if (!this._usingWorker) {
            this._canvas.toBlob(callback, type, quality);
            return;
        }
        this.snapshot().then(() => this._readableCanvas().toBlob(callback, type, quality));
    }

    /**
     * Ours: resolves with the framebuffer as ImageData once the worker has sent a copy, and
     * refreshes what getImageData()/toDataURL() return in worker mode.
     */
    snapshot() {
        const id = this._nextSnapshot++;
        return new Promise((resolve) => {
            this._snapshots.set(id, resolve);
            this._toEngine({ type: 'snapshot', id });
        });
    }

    /**
     * Ours: resolves once everything received so far is decoded and painted (a round trip
     * to the engine without copying pixels; for benchmarks and tests).
     */
    flush() {
        const id = this._nextSnapshot++;
        return new Promise((resolve) => {
            this._snapshots.set(id, resolve);
            this._toEngine({ type: 'flush', id });
        });
    }

    // ---- internals ----

    _readableCanvas() {
        if (!this._usingWorker) {
            return this._canvas;
        }
        const c = document.createElement('canvas');
        const img = this.getImageData();
        c.width = img.width;
        c.height = img.height;
        c.getContext('2d').putImageData(img, 0, 0);
        return c;
    }

    _xvp(op) {
        if (!this._capabilities.power) {
            return;
        }
        this._toEngine({ type: 'xvp', op });
    }

    _connect(urlOrChannel, wsProtocols) {
        let sock;
        if (typeof urlOrChannel === 'string') {
            sock = new WebSocket(urlOrChannel, wsProtocols || ['binary']);
        } else {
            sock = urlOrChannel;
        }
        sock.binaryType = 'arraybuffer';
        this._sock = sock;
        sock.onmessage = (e) => this._onSocketData(e.data);
        sock.onclose = (e) => this._onSocketClose(e);
        sock.onerror = () => { this._disconnectReason ||= 'connection error'; };
        if (sock.readyState === 1 || sock.readyState === 'open') {
            this._onSocketOpen();
        } else {
            sock.onopen = () => this._onSocketOpen();
        }
    }

    _onSocketOpen() {
        this._rfbConnectionState = 'connecting';
    }

    _onSocketData(data) {
        if (typeof data === 'string') {
            this._fail('the server sent text frames; RFB needs binary');
            return;
        }
        if (this._usingWorker) {
            this._worker.postMessage({ type: 'data', data }, [data]);
        } else {
            this._toEngine({ type: 'data', data });
        }
    }

    _onSocketClose(e) {
        if (this._rfbConnectionState === 'disconnected') {
            return;
        }
        // The engine may still hold bytes that arrived before the close (a security failure
        // and its reason): let it finish them, then end with the best reason known.
        this._closeReason = e && e.reason ? e.reason : 'connection closed';
        this._toEngine({ type: 'eof' });
        this._eofTimer = setTimeout(() => this._onEngine({ type: 'eof-done' }), 2000);
    }

    _closeSocket() {
        const s = this._sock;
        if (s && (s.readyState === 0 || s.readyState === 1 || s.readyState === 'open' ||
                  s.readyState === 'connecting')) {
            s.onclose = null;
            s.close();
        }
    }

    _fail(reason) {
        this._disconnectReason = reason;
        this._closeSocket();
        this._finish();
    }

    _finish() {
        if (this._rfbConnectionState === 'disconnected') {
            return;
        }
        const clean = this._cleanDisconnect;
        this._rfbConnectionState = 'disconnected';
        this._domInput.detach();
        this._toEngine({ type: 'close' });
        if (this._worker) {
            const w = this._worker;
            if (this._workerBroken || !this._workerConfirmed) {
                setTimeout(() => w.terminate(), 0);
            } else {
                // Reused once the worker confirms the session's end ('reset-done'): nothing
                // of this session can reach the next one after that, as messages keep order.
                w.postMessage({ type: 'reset' });
            }
        }
        this._viewport.detach();
        this._audio.close();
        if (this._screen.parentNode) {
            this._screen.parentNode.removeChild(this._screen);
        }
        this.dispatchEvent(new CustomEvent('disconnect', {
            detail: { clean, reason: clean ? undefined : this._disconnectReason },
        }));
    }

    _toEngine(m) {
        if (this._usingWorker) {
            this._worker.postMessage(m);
        } else if (this._engine) {
            // Never re-enter the engine from inside one of its own callbacks.
            queueMicrotask(() => this._engine.handle(m));
        }
    }

    /** Input quadruples from the Input state machines, relayed to the engine. */
    _sendInput(ops) {
        if (ops.length === 0 || this._rfbConnectionState !== 'connected') {
            return;
        }
        if (this._usingWorker) {
            this._worker.postMessage({ type: 'input', ops }, [ops.buffer]);
        } else {
            this._toEngine({ type: 'input', ops });
        }
    }

    _onEngine(m) {
        switch (m.type) {
            case 'send':
                if (this._sock && (this._sock.readyState === 1 || this._sock.readyState === 'open')) {
                    this._sock.send(m.data);
                }
                break;
            case 'event':
                this._onSessionEvent(m.event);
                break;
            case 'snapshot': {
                const snap = m.data ? { width: m.width, height: m.height, data: m.data } : null;
                this._lastSnapshot = snap;
                const resolve = this._snapshots.get(m.id);
                this._snapshots.delete(m.id);
                if (resolve) {
                    resolve(snap ? new ImageData(new Uint8ClampedArray(snap.data), snap.width,
                                                 snap.height) : null);
                }
                break;
            }
            case 'flushed': {
                const resolve = this._snapshots.get(m.id);
                this._snapshots.delete(m.id);
                if (resolve) resolve();
                break;
            }
            case 'update':
                // Ours, for diagnostics and tests: how images were decoded.
                this._imageStats = { browser: m.browserImages, fallbacks: m.imageFallbacks };
                if (this._autoSnapshot && !this._snapshotPending) {
                    this._snapshotPending = true;
                    setTimeout(() => this.snapshot().then(() => {
                        this._snapshotPending = false;
                    }), 500);
                }
                this.dispatchEvent(new CustomEvent('framebufferupdate', { detail: { rects: m.rects } }));
                break;
            case 'eof-done':
                clearTimeout(this._eofTimer);
                if (!this._cleanDisconnect && !this._disconnectReason) {
                    this._disconnectReason = this._closeReason || 'connection closed';
                }
                this._finish();
                break;
            case 'ready':
                this._workerConfirmed = m.inWorker === true;
                break;
            case 'reset-done': {
                const w = this._worker;
                w.onmessage = null;
                w.onerror = null;
                if (m.reusable && !this._workerBroken) {
                    keepSpareWorker(w);
                } else {
                    w.terminate();
                }
                break;
            }
            case 'error':
                console.error('rfb.js:', m.message);
                break;
            default:
                break;
        }
    }

    _onSessionEvent(ev) {
        switch (ev.type) {
            case 'connect':
                this._rfbConnectionState = 'connected';
                this._fbName = ev.name;
                this._setSize(ev.width, ev.height);
                this.dispatchEvent(new CustomEvent('desktopname', { detail: { name: ev.name } }));
                this.dispatchEvent(new CustomEvent('connect'));
                this._domInput.attach();
                if (this._resizeSession) {
                    this._requestRemoteResize();
                }
                break;
            case 'resize':
                this._setSize(ev.width, ev.height);
                break;
            case 'screenlayout':
                this.dispatchEvent(new CustomEvent('screenlayout', { detail: ev }));
                if (ev.applies) {
                    this._screens = ev.screens;
                    this._viewport.setScreens(ev.screens);
                }
                if (ev.reason === 'ThisClient') {
                    this._resizeAnswered();
                }
                break;
            case 'credentialsrequired': {
                const c = this._credentials;
                const have = ev.types.every((t) => c[t] !== undefined);
                if (have) {
                    this.sendCredentials(c);
                } else {
                    this.dispatchEvent(new CustomEvent('credentialsrequired',
                                                       { detail: { types: ev.types } }));
                }
                break;
            }
            case 'serververification':
                // noVNC's detail for RA2 (`type: 'RSA'`, `publickey`); ours adds 'x509' with
                // the certificate, and a SHA-256 `fingerprint` for both.
                this.dispatchEvent(new CustomEvent('serververification', {
                    detail: ev.kind === 'RSA'
                        ? { type: 'RSA', publickey: ev.publickey, fingerprint: ev.fingerprint,
                            shortFingerprint: ev.shortFingerprint, bits: ev.bits }
                        : { type: 'x509', fingerprint: ev.fingerprint, subject: ev.subject,
                            issuer: ev.issuer, reason: ev.reason },
                }));
                break;
            case 'securityfailure':
                this.dispatchEvent(new CustomEvent('securityfailure', {
                    detail: { status: ev.status, reason: ev.reason },
                }));
                break;
            case 'clipboard':
                this.dispatchEvent(new CustomEvent('clipboard', { detail: { text: ev.text } }));
                break;
            case 'bell':
                this.dispatchEvent(new CustomEvent('bell'));
                break;
            case 'desktopname':
                this._fbName = ev.name;
                this.dispatchEvent(new CustomEvent('desktopname', { detail: { name: ev.name } }));
                break;
            case 'cursor':
                this._cursor = ev;
                this._applyCursor();
                break;
            case 'capabilities':
                this._capabilities = { ...this._capabilities, ...ev.capabilities };
                this.dispatchEvent(new CustomEvent('capabilities',
                                                   { detail: { capabilities: this._capabilities } }));
                break;
            case 'audio':
                this._audio.play(ev.pcm, ev.channels, ev.rate);
                break;
            case 'leds':
                this._input.set_remote_locks(ev.caps, ev.num);
                break;
            case 'disconnect':
                this._disconnectReason = ev.reason || this._disconnectReason;
                this._closeSocket();
                this._finish();
                break;
            default:
                break;
        }
    }

    _setSize(w, h) {
        this._fbWidth = w;
        this._fbHeight = h;
        this._input.set_size(w, h);
        this._viewport.setFramebufferSize(w, h);
    }

    /**
     * The layout changed. The input transform and the `clippingviewport` event follow on the
     * next animation frame: reading the layout now would force a synchronous one in the
     * middle of the session's start (about a millisecond each time), and the frame lays out
     * anyway. A pointer event before then syncs first (`_syncViewport`).
     */
    _onViewport() {
        if (this._viewportDirty) {
            return;
        }
        this._viewportDirty = true;
        if (typeof requestAnimationFrame === 'function') {
            requestAnimationFrame(() => this._syncViewport());
        } else {
            setTimeout(() => this._syncViewport(), 16);
        }
    }

    /** Applies a pending layout change: the transform, the event (on change, as noVNC), resize. */
    _syncViewport() {
        if (!this._viewportDirty || this._rfbConnectionState === 'disconnected') {
            return;
        }
        this._viewportDirty = false;
        const t = this._viewport.transform();
        this._input.set_transform(t.scale, t.offsetX, t.offsetY);
        const clipping = this._viewport.clipping;
        if (clipping !== this._clipping) {
            this._clipping = clipping;
            this.dispatchEvent(new CustomEvent('clippingviewport', { detail: clipping }));
        }
        if (this._resizeSession) {
            this._requestRemoteResize();
        }
    }

    /**
     * Remote resize, debounced (a window drag fires many resizes) with at most one request
     * in flight: the next waits for the server's answer (or 2 s), then asks for the latest.
     */
    _requestRemoteResize() {
        clearTimeout(this._resizeTimer);
        this._resizeTimer = setTimeout(() => this._sendRemoteResize(), 100);
    }

    _sendRemoteResize() {
        if (this._rfbConnectionState !== 'connected' || !this._resizeSession) {
            return;
        }
        if (this._resizeInFlight) {
            this._resizeWanted = true;
            return;
        }
        const { width, height } = this._viewport.availableSize();
        if (width > 0 && height > 0 && (width !== this._fbWidth || height !== this._fbHeight)) {
            this._resizeInFlight = true;
            this._resizeWanted = false;
            this._resizeGuard = setTimeout(() => this._resizeAnswered(), 2000);
            this._toEngine({ type: 'resize', width, height });
        }
    }

    _resizeAnswered() {
        clearTimeout(this._resizeGuard);
        this._resizeInFlight = false;
        if (this._resizeWanted) {
            this._resizeWanted = false;
            this._sendRemoteResize();
        }
    }

    _applyCursor() {
        // The dot replaces a cursor the server made invisible (empty or fully transparent).
        const invisible = !this._cursor || this._cursor.width === 0 || this._cursor.height === 0 ||
            !this._cursor.rgba.some((v, i) => i % 4 === 3 && v !== 0);
        const c = this._showDotCursor && invisible ? CURSORS.dot : this._cursor;
        this._canvas.style.cursor = c ? cursorUrl(c) : 'default';
    }
}

function wasmXt(code) {
    return wasmModuleXt(code);
}

import { xtScancode as wasmModuleXt } from './pkg/rfb_web.js';

RFB.messages = messages;
RFB.genDES = (password, challenge) => Array.from(wasmGenDES(password, Uint8Array.from(challenge)));
RFB.cursors = CURSORS;
RFB.securityNames = SECURITY_NAMES;
