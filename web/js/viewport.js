// Viewport: how the remote framebuffer is laid out in the screen element (natural size with
// scrollbars, clipped, or scaled to fit), and the element → framebuffer transform the input
// state machines need. The canvas's pixel size is the framebuffer's (the engine sets it, even
// across the worker boundary); only CSS sizes are set here.

export class Viewport {
    constructor(screen, canvas, onChange) {
        this._screen = screen;
        this._canvas = canvas;
        this._onChange = onChange;
        this._fbW = 0;
        this._fbH = 0;
        this._scale = false;
        this._clip = false;
        this._drag = false;
        // Device pixels per framebuffer pixel when showing a session sized for this screen.
        this._hidpi = 1;
        this._observer = typeof ResizeObserver !== 'undefined'
            ? new ResizeObserver(() => this._layout()) : null;
        if (this._observer) this._observer.observe(screen);
    }

    get scale() { return this._scale; }
    set scale(v) { this._scale = v; this._layout(); }
    get clip() { return this._clip; }
    set clip(v) { this._clip = v; this._layout(); }
    get drag() { return this._drag; }
    set drag(v) { this._drag = v; }

    /** True when the framebuffer is larger than the visible area and clipped. */
    get clipping() {
        if (!this._clip || this._scale) return false;
        return this._fbW > this._screen.clientWidth || this._fbH > this._screen.clientHeight;
    }

    setFramebufferSize(w, h) {
        this._fbW = w;
        this._fbH = h;
        this._layout();
    }

    /** Use one device pixel per framebuffer pixel (a session resized to this screen). */
    setHiDpi(on) {
        this._hidpi = on ? (window.devicePixelRatio || 1) : 1;
        this._layout();
    }

    /** The size a remote resize should ask for: the container in device pixels. */
    availableSize() {
        const dpr = window.devicePixelRatio || 1;
        return {
            width: Math.floor(this._screen.clientWidth * dpr),
            height: Math.floor(this._screen.clientHeight * dpr),
        };
    }

    /** Element (canvas CSS) pixels → framebuffer pixels. */
    transform() {
        const r = this._canvas.getBoundingClientRect();
        const scale = r.width > 0 && this._fbW > 0 ? this._fbW / r.width : 1;
        return { scale, offsetX: 0, offsetY: 0 };
    }

    /** Pans a clipped viewport by (dx, dy) CSS pixels. */
    pan(dx, dy) {
        this._screen.scrollLeft += dx;
        this._screen.scrollTop += dy;
    }

    detach() {
        if (this._observer) this._observer.disconnect();
    }

    _layout() {
        const s = this._screen.style;
        const c = this._canvas.style;
        if (this._fbW === 0 || this._fbH === 0) {
            this._onChange();
            return;
        }
        if (this._scale) {
            const aw = this._screen.clientWidth;
            const ah = this._screen.clientHeight;
            const k = Math.min(aw / this._fbW, ah / this._fbH) || 1;
            c.width = `${Math.floor(this._fbW * k)}px`;
            c.height = `${Math.floor(this._fbH * k)}px`;
            s.overflow = 'hidden';
        } else {
            c.width = `${this._fbW / this._hidpi}px`;
            c.height = `${this._fbH / this._hidpi}px`;
            s.overflow = this._clip ? 'hidden' : 'auto';
        }
        this._onChange();
    }
}
