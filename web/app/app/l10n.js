// Translations: app/locale/<lang>.json maps the English text to the translated text. The
// English text in the markup (elements with data-i18n / data-i18n-title) and in `_()` calls
// is the key, so a missing entry or a missing file simply leaves English.

/** Languages with a file in app/locale/. */
export const LANGUAGES = ['de', 'es', 'fr', 'ja'];

let table = {};
let current = 'en';

/** The translation of `text`, or `text` itself. */
export function _(text) {
    return Object.prototype.hasOwnProperty.call(table, text) ? table[text] : text;
}

/** The language in use ('en' when nothing matched). */
export function language() { return current; }

/**
 * Picks the first of `wanted` (BCP 47 tags, most preferred first) that we have, matching
 * `de-AT` to `de` too.
 */
export function pick(wanted, available = LANGUAGES) {
    for (const tag of wanted) {
        if (!tag) continue;
        const t = tag.toLowerCase();
        if (t === 'en' || t.startsWith('en-')) return 'en';
        if (available.includes(t)) return t;
        const base = t.split('-')[0];
        if (available.includes(base)) return base;
    }
    return 'en';
}

/** Loads the language for `override` (the `lang` parameter) or the browser's languages. */
export async function setup(override) {
    const wanted = override ? [override] : (navigator.languages || [navigator.language]);
    const lang = pick(wanted);
    if (lang !== 'en') {
        try {
            const r = await fetch(new URL(`locale/${lang}.json`, import.meta.url));
            if (r.ok) {
                table = await r.json();
                current = lang;
            }
        } catch (e) {
            console.warn('app: no translation for', lang, e);
        }
    }
    document.documentElement.lang = current;
    translate(document);
}

/** Translates the marked elements below `root`. */
export function translate(root) {
    for (const el of root.querySelectorAll('[data-i18n]')) {
        el.textContent = _(el.dataset.i18n);
    }
    for (const el of root.querySelectorAll('[data-i18n-title]')) {
        el.title = _(el.dataset.i18nTitle);
    }
}
