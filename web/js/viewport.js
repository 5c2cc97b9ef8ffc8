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
        this._screens = [];
        this._screenIndex = null;
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

    /** Which screen of the layout is shown (null: the whole framebuffer). */
    get screenIndex() { return this._screenIndex; }
    set screenIndex(v) { this._screenIndex = v; this._layout(); }

    setScreens(screens) {
        this._screens = screens || [];
        this._layout();
    }

    /** The framebuffer region shown: one screen, or everything. */
    _region() {
        const s = this._screenIndex !== null ? this._screens[this._screenIndex] : null;
        if (s && s.width > 0 && s.height > 0) {
            return { x: s.x, y: s.y, w: s.width, h: s.height };
        }
        return { x: 0, y: 0, w: this._fbW, h: this._fbH };
    }

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
        const r = this._region();
        const whole = r.w === this._fbW && r.h === this._fbH;
        let k;
        if (this._scale) {
            const aw = this._screen.clientWidth;
            const ah = this._screen.clientHeight;
            k = Math.min(aw / r.w, ah / r.h) || 1;
        } else {
            k = 1 / this._hidpi;
        }
        c.width = `${this._fbW * k}px`;
        c.height = `${this._fbH * k}px`;
        if (whole) {
            // The whole desktop: centred, scrollbars unless scaled or clipped.
            s.display = 'flex';
            c.position = '';
            c.left = '';
            c.top = '';
            c.margin = 'auto';
            s.overflow = this._scale || this._clip ? 'hidden' : 'auto';
        } else {
            // One screen: the canvas is shifted so that screen's corner is at the top left
            // and everything else is cut off.
            s.display = 'block';
            s.overflow = 'hidden';
            c.margin = '0';
            c.position = 'relative';
            c.left = `${-r.x * k}px`;
            c.top = `${-r.y * k}px`;
        }
        this._onChange();
    }
}
