// Settings with noVNC's names, from four places in this order of strength:
//   mandatory.json (forced; its controls are disabled)
//   > the URL (fragment over query string; for this page load only, never stored)
//   > localStorage (what the user last chose in the settings panel)
//   > defaults.json > the built-in defaults below.
// A value the user changes in a control is stored; URL values are not, so a shared link
// cannot silently rewrite someone's saved settings.

import { _ } from './l10n.js';

const STORAGE_PREFIX = 'rfb.app.';

/** name → [type, built-in default]. `host`/`port` default to the page's own. */
export const SCHEMA = {
    host: ['string', () => location.hostname],
    port: ['string', () => location.port || (location.protocol === 'https:' ? '443' : '80')],
    encrypt: ['bool', () => location.protocol === 'https:'],
    path: ['string', () => 'websockify'],
    repeaterID: ['string', () => ''],
    shared: ['bool', () => true],
    view_only: ['bool', () => false],
    view_clip: ['bool', () => false],
    resize: ['enum:off,scale,remote', () => 'off'],
    quality: ['int:0,9', () => 6],
    compression: ['int:0,9', () => 2],
    reconnect: ['bool', () => false],
    reconnect_delay: ['int:0,3600000', () => 5000],
    show_dot: ['bool', () => false],
    bell: ['bool', () => true],
    keep_device_awake: ['bool', () => false],
    logging: ['enum:error,warn,info,debug,none', () => 'warn'],
    autoconnect: ['bool', () => false],
    lang: ['string', () => ''],
};

/** Parameters read from the URL only (never stored, no control). */
const URL_ONLY = new Set(['autoconnect', 'password', 'lang']);

/**
 * Parses `raw` (a string from the URL or JSON value) as `type`; undefined when it does not
 * fit, so a bad parameter falls back to the next source instead of breaking the page.
 */
export function coerce(type, raw) {
    if (raw === undefined || raw === null) return undefined;
    if (type === 'bool') {
        if (typeof raw === 'boolean') return raw;
        const s = String(raw).toLowerCase();
        if (['1', 'true', 'yes', 'on'].includes(s)) return true;
        if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
        return undefined;
    }
    if (type.startsWith('int:')) {
        const [lo, hi] = type.slice(4).split(',').map(Number);
        const n = typeof raw === 'number' ? raw : Number.parseInt(String(raw), 10);
        if (!Number.isInteger(n) || n < lo || n > hi) return undefined;
        return n;
    }
    if (type.startsWith('enum:')) {
        const s = String(raw);
        return type.slice(5).split(',').includes(s) ? s : undefined;
    }
    return String(raw);
}

/** URL parameters: the query string, then the fragment, which wins (it never reaches a server). */
export function urlParams(href = location.href) {
    const u = new URL(href);
    const out = new Map(new URLSearchParams(u.search));
    for (const [k, v] of new URLSearchParams(u.hash.replace(/^#/, ''))) {
        out.set(k, v);
    }
    return out;
}

async function fetchJson(name) {
    try {
        const r = await fetch(name, { cache: 'no-cache' });
        if (!r.ok) return {};
        const j = await r.json();
        return j && typeof j === 'object' ? j : {};
    } catch {
        // A missing or broken file means "nothing configured", as in noVNC.
        return {};
    }
}

function readStored(name) {
    try {
        const v = localStorage.getItem(STORAGE_PREFIX + name);
        return v === null ? undefined : JSON.parse(v);
    } catch {
        return undefined;
    }
}

function writeStored(name, value) {
    try {
        localStorage.setItem(STORAGE_PREFIX + name, JSON.stringify(value));
    } catch {
        // Storage full or disabled (private mode): the setting applies to this page only.
    }
}

export class Settings extends EventTarget {
    constructor() {
        super();
        this.values = {};
        this.mandatory = new Set();
        this.url = urlParams();
    }

    /** Loads defaults.json and mandatory.json (next to the page) and resolves every value. */
    async load() {
        const [defaults, mandatory] = await Promise.all([fetchJson('defaults.json'),
                                                         fetchJson('mandatory.json')]);
        for (const [name, [type, builtin]] of Object.entries(SCHEMA)) {
            const candidates = [
                [coerce(type, mandatory[name]), 'mandatory'],
                [coerce(type, this.url.get(name)), 'url'],
                [URL_ONLY.has(name) ? undefined : coerce(type, readStored(name)), 'stored'],
                [coerce(type, defaults[name]), 'defaults'],
            ];
            const hit = candidates.find(([v]) => v !== undefined);
            this.values[name] = hit ? hit[0] : builtin();
            if (hit && hit[1] === 'mandatory') this.mandatory.add(name);
        }
        // The password comes from the URL (or mandatory.json) only and is never stored.
        this.password = mandatory.password ?? this.url.get('password');
    }

    get(name) { return this.values[name]; }

    /** A change from a control: stored and announced; refused for mandatory values. */
    set(name, raw) {
        const [type] = SCHEMA[name];
        const v = coerce(type, raw);
        if (v === undefined || this.mandatory.has(name)) return false;
        this.values[name] = v;
        if (!URL_ONLY.has(name)) writeStored(name, v);
        this.dispatchEvent(new CustomEvent('change', { detail: { name, value: v } }));
        return true;
    }

    /** Binds every `[data-setting]` control in `root`, both ways. */
    bind(root = document) {
        const controls = [...root.querySelectorAll('[data-setting]')];
        // A range shows its number in the <output> after it, while it is dragged too.
        const showRange = (el) => {
            const out = el.nextElementSibling;
            if (el.type === 'range' && out && out.tagName === 'OUTPUT') out.value = el.value;
        };
        const show = (el) => {
            const v = this.values[el.dataset.setting];
            if (el.type === 'checkbox') el.checked = !!v;
            else el.value = String(v);
            showRange(el);
            el.disabled = this.mandatory.has(el.dataset.setting);
            if (el.disabled) el.title = _('Set by the administrator');
        };
        for (const el of controls) el.addEventListener('input', () => showRange(el));
        controls.forEach(show);
        for (const el of controls) {
            el.addEventListener('change', () => {
                const name = el.dataset.setting;
                const raw = el.type === 'checkbox' ? el.checked : el.value;
                this.set(name, raw);
                // Show the stored value in every control of this name (or undo a bad edit).
                controls.filter((c) => c.dataset.setting === name).forEach(show);
            });
        }
    }
}
