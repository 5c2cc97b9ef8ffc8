// DOM events → the wasm Input state machines (rfb-keysym, rfb-input) → the engine.
//
// Keyboard: a focused, visually hidden textarea is the keyboard target. `keydown` goes to the
// keyboard state machine; when it consumes the key we preventDefault, so no text event
// follows. When it does not (Dead, Process, Unidentified), the browser's own text arrives
// through `beforeinput` (insertText: virtual keyboards, dictation) or `compositionend` (IME,
// macOS dead keys) and is typed from there. That is the one rule that keeps a character from
// being sent twice.

export function detectPlatform() {
    const p = (navigator.userAgentData && navigator.userAgentData.platform) ||
        navigator.platform || '';
    const ua = navigator.userAgent || '';
    if (/Win/i.test(p)) return 'windows';
    if (/iPhone|iPad|iPod/i.test(p) || (/Mac/i.test(p) && navigator.maxTouchPoints > 1)) {
        return 'ios';
    }
    if (/Mac/i.test(p)) return 'mac';
    if (/Android/i.test(ua)) return 'android';
    if (/CrOS/i.test(ua)) return 'chromeos';
    if (/Linux|X11|BSD/i.test(p)) return 'linux';
    return 'other';
}

function lockState(e, name) {
    if (typeof e.getModifierState !== 'function') return -1;
    return e.getModifierState(name) ? 1 : 0;
}

export class DomInput {
    constructor(rfb, input, canvas, screen) {
        this._rfb = rfb;
        this._input = input;
        this._canvas = canvas;
        this._screen = screen;
        this._attached = false;
        this._timer = null;
        this._listeners = [];
        this._drag = null;
        this._lockPos = null;

        const sink = document.createElement('textarea');
        sink.setAttribute('autocapitalize', 'off');
        sink.setAttribute('autocomplete', 'off');
        sink.setAttribute('spellcheck', 'false');
        sink.setAttribute('tabindex', '-1');
        sink.setAttribute('aria-label', 'Remote keyboard input');
        Object.assign(sink.style, {
            position: 'absolute', left: '0', top: '0', width: '1px', height: '1px',
            opacity: '0', border: '0', padding: '0', resize: 'none', overflow: 'hidden',
            pointerEvents: 'none', caretColor: 'transparent',
        });
        screen.appendChild(sink);
        this._sink = sink;
    }

    /** Starts listening (after ServerInit). */
    attach() {
        if (this._attached) return;
        this._attached = true;
        const on = (el, type, fn, opts) => {
            el.addEventListener(type, fn, opts);
            this._listeners.push([el, type, fn, opts]);
        };
        const sink = this._sink;
        on(sink, 'keydown', (e) => this._keyDown(e));
        on(sink, 'keyup', (e) => this._keyUp(e));
        on(sink, 'beforeinput', (e) => this._beforeInput(e));
        on(sink, 'compositionend', (e) => this._compositionEnd(e));
        on(sink, 'blur', () => this._blurred());
        on(window, 'blur', () => this._blurred());

        const c = this._canvas;
        on(c, 'mousedown', (e) => this._mouseDown(e));
        on(window, 'mouseup', (e) => this._mouseUp(e));
        on(c, 'mousemove', (e) => this._mouseMove(e));
        on(c, 'wheel', (e) => this._wheel(e), { passive: false });
        on(c, 'contextmenu', (e) => e.preventDefault());
        on(c, 'touchstart', (e) => this._touch(e, 'start'), { passive: false });
        on(c, 'touchmove', (e) => this._touch(e, 'move'), { passive: false });
        on(c, 'touchend', (e) => this._touch(e, 'end'), { passive: false });
        on(c, 'touchcancel', (e) => this._touch(e, 'cancel'), { passive: false });
        on(document, 'fullscreenchange', () => this._fullscreenChanged());
        on(document, 'pointerlockchange', () => this._pointerLockChanged());
        // Usually focused already (focusSoon at construction, while the connection opened);
        // anything typed into the sink before now was never sent.
        this._sink.value = '';
        if (document.activeElement !== this._sink) this.focusSoon();
    }

    /**
     * Focuses the keyboard sink from a task of its own. Focusing forces a style and layout
     * pass (1–4 ms on a small machine): rfb.js asks for it when the RFB is created, so it
     * happens while the connection opens instead of next to the first updates.
     */
    focusSoon() {
        setTimeout(() => {
            if (this._sink.isConnected && document.activeElement !== this._sink) this.focus();
        }, 0);
    }

    detach() {
        for (const [el, type, fn, opts] of this._listeners) {
            el.removeEventListener(type, fn, opts);
        }
        this._listeners = [];
        this._attached = false;
        if (this._timer !== null) {
            clearTimeout(this._timer);
            this._timer = null;
        }
    }

    focus(options) {
        this._sink.focus(options || { preventScroll: true });
    }

    blur() {
        this._sink.blur();
    }

    releaseAll() {
        this._input.blur(performance.now());
        this._flush();
    }

    _active() {
        return this._attached && !this._rfb._viewOnly;
    }

    _keyDown(e) {
        this._rfb._audio.resume();
        if (!this._active()) return;
        const consumed = this._input.key_down(
            e.key || '', e.code || '', e.location || 0, !!e.repeat,
            !!e.isComposing || e.keyCode === 229,
            lockState(e, 'CapsLock'), lockState(e, 'NumLock'), performance.now());
        if (consumed) {
            e.preventDefault();
            e.stopPropagation();
        }
        this._flush();
    }

    _keyUp(e) {
        if (!this._active()) return;
        if (this._input.key_up(e.key || '', e.code || '', e.location || 0, performance.now())) {
            e.preventDefault();
            e.stopPropagation();
        }
        this._flush();
    }

    _beforeInput(e) {
        if (!this._active()) return;
        // Composition text is taken once, at compositionend.
        if (e.isComposing || e.inputType === 'insertCompositionText') return;
        if ((e.inputType === 'insertText' || e.inputType === 'insertReplacementText') && e.data) {
            this._input.text(e.data, performance.now());
            this._flush();
        } else if (e.inputType === 'insertLineBreak' || e.inputType === 'insertParagraph') {
            this._input.text('\n', performance.now());
            this._flush();
        } else if (e.inputType === 'deleteContentBackward') {
            this._input.text('\b', performance.now());
            this._flush();
        }
        e.preventDefault();
        this._sink.value = '';
    }

    _compositionEnd(e) {
        if (!this._active()) return;
        if (e.data) {
            this._input.text(e.data, performance.now());
            this._flush();
        }
        this._sink.value = '';
    }

    _blurred() {
        if (!this._attached) return;
        this._input.blur(performance.now());
        this._flush();
    }

    _mouseDown(e) {
        this._rfb._audio.resume();
        if (this._rfb._focusOnClick) this.focus();
        if (this._rfb._pointerLock && document.pointerLockElement !== this._canvas &&
            typeof this._canvas.requestPointerLock === 'function') {
            this._lockPos = this._pos(e);
            this._canvas.requestPointerLock();
        }
        // dragViewport: a drag pans the clipped view; a press without movement still clicks.
        if (this._rfb._viewport.drag && this._rfb._viewport.clipping && e.button === 0) {
            e.preventDefault();
            this._drag = { x: e.clientX, y: e.clientY, moved: false, event: e };
            return;
        }
        if (!this._active()) return;
        e.preventDefault();
        const [x, y] = this._pos(e);
        this._input.button_down(e.button, x, y, performance.now());
        this._flush();
    }

    _mouseUp(e) {
        if (this._drag && e.button === 0) {
            const d = this._drag;
            this._drag = null;
            if (!d.moved && this._active()) {
                // It was a click after all.
                const [x, y] = this._pos(d.event);
                const now = performance.now();
                this._input.button_down(0, x, y, now);
                this._input.button_up(0, x, y, now);
                this._flush();
            }
            return;
        }
        if (!this._active()) return;
        const [x, y] = this._pos(e);
        this._input.button_up(e.button, x, y, performance.now());
        this._flush();
    }

    _mouseMove(e) {
        if (this._drag) {
            const dx = e.clientX - this._drag.x;
            const dy = e.clientY - this._drag.y;
            const threshold = 10 * (window.devicePixelRatio || 1);
            if (this._drag.moved || Math.abs(dx) > threshold || Math.abs(dy) > threshold) {
                this._drag.moved = true;
                this._rfb._viewport.pan(-dx, -dy);
                this._drag.x = e.clientX;
                this._drag.y = e.clientY;
            }
            return;
        }
        if (!this._active()) return;
        const [x, y] = this._pos(e);
        this._input.pointer_move(x, y, performance.now());
        this._flush();
    }

    /** Keyboard Lock in fullscreen, so Escape, Alt+Tab, Cmd+W… reach the server. */
    _fullscreenChanged() {
        const kb = navigator.keyboard;
        if (!kb || typeof kb.lock !== 'function') return;
        if (document.fullscreenElement && document.fullscreenElement.contains(this._screen)) {
            kb.lock().catch(() => {});
        } else {
            kb.unlock();
        }
    }

    _pointerLockChanged() {
        if (document.pointerLockElement !== this._canvas) {
            this._lockPos = null;
        }
    }

    _wheel(e) {
        if (!this._active()) return;
        e.preventDefault();
        const [x, y] = this._pos(e);
        this._input.wheel(e.deltaX, e.deltaY, e.deltaMode, x, y, performance.now());
        this._flush();
    }

    _touch(e, phase) {
        if (this._rfb._focusOnClick && phase === 'start') this.focus();
        if (!this._active()) return;
        e.preventDefault();
        const now = performance.now();
        for (const t of e.changedTouches) {
            const [x, y] = this._pos(t);
            if (phase === 'start') this._input.touch_start(t.identifier, x, y, now);
            else if (phase === 'move') this._input.touch_move(t.identifier, x, y, now);
            else if (phase === 'end') this._input.touch_end(t.identifier, x, y, now);
            else this._input.touch_cancel(t.identifier, now);
        }
        this._flush();
    }

    /**
     * Client coordinates → element pixels of the canvas (the Input transform does the rest).
     * Under pointer lock the pointer is relative: movements move a virtual position, kept on
     * the canvas.
     */
    _pos(e) {
        // A layout change not yet applied (it waits for the next frame) must not misplace this.
        this._rfb._syncViewport();
        const r = this._canvas.getBoundingClientRect();
        if (this._lockPos && document.pointerLockElement === this._canvas &&
            typeof e.movementX === 'number') {
            const p = this._lockPos;
            p[0] = Math.min(Math.max(p[0] + e.movementX, 0), Math.max(r.width - 1, 0));
            p[1] = Math.min(Math.max(p[1] + e.movementY, 0), Math.max(r.height - 1, 0));
            return [p[0], p[1]];
        }
        return [e.clientX - r.left, e.clientY - r.top];
    }

    /** Relays what the state machines produced, and re-arms their timer. */
    _flush() {
        const ops = this._input.poll();
        if (ops.length) {
            this._rfb._sendInput(ops);
        }
        if (this._timer !== null) {
            clearTimeout(this._timer);
            this._timer = null;
        }
        const due = this._input.timeout_ms();
        if (due >= 0) {
            this._timer = setTimeout(() => {
                this._timer = null;
                this._input.handle_timeout(performance.now());
                this._flush();
            }, Math.max(0, due - performance.now()));
        }
    }
}
