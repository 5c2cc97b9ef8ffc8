// The app's logging, filtered by the `logging` setting (error < warn < info < debug; `none`
// silences it). rfb.js has no logging switch of its own, so this covers the app's messages.

const LEVELS = ['none', 'error', 'warn', 'info', 'debug'];
let level = 2;

/** Sets the level by name; unknown names leave it unchanged. */
export function setLevel(name) {
    const i = LEVELS.indexOf(name);
    if (i >= 0) level = i;
}

export const log = {
    error: (...a) => { if (level >= 1) console.error('app:', ...a); },
    warn: (...a) => { if (level >= 2) console.warn('app:', ...a); },
    info: (...a) => { if (level >= 3) console.info('app:', ...a); },
    debug: (...a) => { if (level >= 4) console.debug('app:', ...a); },
};
