// Trust on first use: the server identities (TLS certificate or RSA key fingerprints) the
// user approved, remembered per server and kind in localStorage. A server presenting a
// different identity later is not approved silently: the app warns loudly instead.

const PREFIX = 'rfb.app.trust.';

/**
 * The storage key for one server and identity kind: the WebSocket URL without its scheme
 * (`host:port/path`, so two tokens on one proxy are two servers) and 'x509' or 'rsa'.
 */
export function trustKey(url, kind) {
    const where = String(url).replace(/^[a-z]+:\/\//i, '');
    return `${PREFIX}${where}|${String(kind).toLowerCase()}`;
}

/** The fingerprint remembered under `key`, or null (also when storage is unavailable). */
export function remembered(key) {
    try {
        return localStorage.getItem(key);
    } catch {
        return null;
    }
}

/** Remembers `fingerprint` under `key` (silently not, when storage is unavailable). */
export function remember(key, fingerprint) {
    try {
        localStorage.setItem(key, fingerprint);
    } catch {
        // Private browsing with storage disabled: the user is asked again next time.
    }
}

/** Normalises a fingerprint for comparison (case and separators do not matter). */
export function sameFingerprint(a, b) {
    const norm = (s) => String(s || '').toLowerCase().replace(/[^0-9a-f]/g, '');
    return norm(a) !== '' && norm(a) === norm(b);
}
