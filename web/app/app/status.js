// The status banner at the top of the screen: `normal` and `ok` messages fade after a few
// seconds, `warn` and `error` stay until the next message (or a click on them).

const HIDE_AFTER_MS = 3000;

export class Status {
    constructor(el) {
        this._el = el;
        this._timer = null;
        /** The last messages shown, oldest first, as [text, level] (for tests and the console). */
        this.history = [];
        el.addEventListener('click', () => { el.hidden = true; });
    }

    /** Shows `text` at `level` ('normal' | 'ok' | 'warn' | 'error'). */
    show(text, level = 'normal') {
        clearTimeout(this._timer);
        const el = this._el;
        this.history.push([text, level]);
        if (this.history.length > 50) this.history.shift();
        el.textContent = text;
        el.className = `banner banner-${level}`;
        el.dataset.level = level;
        el.hidden = false;
        if (level === 'normal' || level === 'ok') {
            this._timer = setTimeout(() => { el.hidden = true; }, HIDE_AFTER_MS);
        }
    }

    /** Sets the text and level without showing the banner (the idle state). */
    quiet(text, level = 'normal') {
        clearTimeout(this._timer);
        this._el.textContent = text;
        this._el.dataset.level = level;
        this._el.hidden = true;
    }

    /** The current text and level (for tests and the console). */
    get current() { return { text: this._el.textContent, level: this._el.dataset.level || '' }; }
}
