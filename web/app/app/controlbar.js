// The control bar: extra keys, the clipboard/power/settings panels, fullscreen, the touch
// keyboard button. `getRfb()` returns the live RFB object or null.

const $ = (id) => document.getElementById(id);

/** Keysyms and `code`s of the extra keys (X11 keysymdef.h). */
const KEYS = {
    ctrl: [0xffe3, 'ControlLeft'],
    alt: [0xffe9, 'AltLeft'],
    win: [0xffeb, 'MetaLeft'],
    tab: [0xff09, 'Tab'],
    esc: [0xff1b, 'Escape'],
};

export function isTouchDevice() {
    return navigator.maxTouchPoints > 0 ||
        (typeof matchMedia === 'function' && matchMedia('(any-pointer: coarse)').matches);
}

export class ControlBar {
    constructor(getRfb) {
        this._getRfb = getRfb;
        this._toggles = new Map();

        // Buttons that act on the remote side must not take the keyboard focus away from the
        // screen: a blur makes the client release every held key.
        for (const b of document.querySelectorAll('#connected_controls button')) {
            b.addEventListener('mousedown', (e) => e.preventDefault());
        }

        for (const name of ['ctrl', 'alt', 'win']) {
            const btn = $(`${name}_button`);
            btn.addEventListener('click', () => this._toggle(name, btn));
            this._toggles.set(name, btn);
        }
        $('tab_button').addEventListener('click', () => this._tap('tab'));
        $('esc_button').addEventListener('click', () => this._tap('esc'));
        $('ctrlaltdel_button').addEventListener('click', () => {
            const rfb = this._getRfb();
            if (rfb) {
                rfb.sendCtrlAltDel();
                rfb.focus();
            }
        });

        for (const btn of document.querySelectorAll('.panel-button')) {
            btn.addEventListener('click', () => this.togglePanel(btn.dataset.panel));
        }
        // Escape outside the screen closes an open panel (inside, it belongs to the remote).
        document.addEventListener('keydown', (e) => {
            if (e.key === 'Escape' && this.openPanel() && !$('screen').contains(e.target)) {
                this.closePanels();
            }
        });

        // Shown while the remote screen is larger than the window (clipped): dragging then
        // moves the view instead of sending mouse events.
        const drag = $('drag_button');
        drag.addEventListener('click', () => {
            const rfb = this._getRfb();
            if (!rfb) return;
            rfb.dragViewport = !rfb.dragViewport;
            drag.setAttribute('aria-pressed', String(rfb.dragViewport));
        });

        const fs = $('fullscreen_button');
        if (!document.fullscreenEnabled) {
            fs.hidden = true;
        }
        fs.addEventListener('click', () => this._fullscreen());
        document.addEventListener('fullscreenchange', () => {
            fs.setAttribute('aria-pressed', String(!!document.fullscreenElement));
        });

        const kb = $('keyboard_button');
        kb.hidden = !isTouchDevice();
        kb.addEventListener('click', () => {
            // Focusing the client's hidden text field brings up the on-screen keyboard.
            const rfb = this._getRfb();
            if (rfb) rfb.focus({ preventScroll: true });
        });

        const text = $('clipboard_text');
        const send = () => {
            const rfb = this._getRfb();
            if (rfb) rfb.clipboardPasteFrom(text.value);
        };
        text.addEventListener('change', send);
        $('clipboard_send').addEventListener('click', send);
        $('clipboard_clear').addEventListener('click', () => {
            text.value = '';
            send();
        });

        $('power_shutdown').addEventListener('click', () => this._power('machineShutdown'));
        $('power_reboot').addEventListener('click', () => this._power('machineReboot'));
        $('power_reset').addEventListener('click', () => this._power('machineReset'));
    }

    /** Shows the controls that need a connection (or hides them and resets the toggles). */
    setConnected(connected) {
        $('connected_controls').hidden = !connected;
        $('disconnect_button').hidden = !connected;
        if (!connected) {
            for (const btn of this._toggles.values()) btn.setAttribute('aria-pressed', 'false');
            this.setPower(false);
            $('drag_button').hidden = true;
            $('drag_button').setAttribute('aria-pressed', 'false');
            for (const p of ['clipboard_panel', 'power_panel']) $(p).hidden = true;
        }
    }

    /** View only: no keys to send, so the extra keys go away. */
    setViewOnly(viewOnly) {
        $('extra_keys').hidden = viewOnly;
    }

    /** The drag button follows the client's `clippingviewport` event. */
    setClipping(clipping) {
        const drag = $('drag_button');
        drag.hidden = !clipping;
        const rfb = this._getRfb();
        if (!clipping && rfb && rfb.dragViewport) {
            rfb.dragViewport = false;
        }
        if (!clipping) drag.setAttribute('aria-pressed', 'false');
    }

    /** The power button follows `capabilities.power`. */
    setPower(available) {
        $('power_button').hidden = !available;
        if (!available) $('power_panel').hidden = true;
    }

    /** Text from the server's clipboard. */
    setClipboard(text) { $('clipboard_text').value = text; }

    openPanel() {
        const open = document.querySelector('.panel:not([hidden])');
        return open ? open.id : null;
    }

    togglePanel(id) {
        const panel = $(id);
        const show = panel.hidden;
        this.closePanels();
        panel.hidden = !show;
        document.querySelector(`[data-panel="${id}"]`).setAttribute('aria-pressed', String(show));
        if (!show) {
            const rfb = this._getRfb();
            if (rfb) rfb.focus();
        }
    }

    closePanels() {
        for (const p of document.querySelectorAll('.panel')) p.hidden = true;
        for (const b of document.querySelectorAll('.panel-button')) {
            b.setAttribute('aria-pressed', 'false');
        }
    }

    _toggle(name, btn) {
        const rfb = this._getRfb();
        if (!rfb) return;
        const down = btn.getAttribute('aria-pressed') !== 'true';
        const [keysym, code] = KEYS[name];
        rfb.sendKey(keysym, code, down);
        btn.setAttribute('aria-pressed', String(down));
        rfb.focus();
    }

    _tap(name) {
        const rfb = this._getRfb();
        if (!rfb) return;
        const [keysym, code] = KEYS[name];
        rfb.sendKey(keysym, code);
        rfb.focus();
    }

    _power(method) {
        const rfb = this._getRfb();
        if (rfb) rfb[method]();
        this.closePanels();
    }

    _fullscreen() {
        if (document.fullscreenElement) {
            document.exitFullscreen().catch(() => {});
        } else {
            document.documentElement.requestFullscreen().catch(() => {});
        }
    }
}
