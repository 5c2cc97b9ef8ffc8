// The modal dialogs: connect, credentials (only the fields the server asks for), and server
// identity. Each resolves through a callback; none blocks the page.

const $ = (id) => document.getElementById(id);

export function hideAll() {
    for (const d of document.querySelectorAll('.dialog')) d.hidden = true;
}

/** The connect dialog; `onConnect()` runs on submit (settings are bound to its fields). */
export function showConnect(onConnect) {
    hideAll();
    const dlg = $('connect_dialog');
    dlg.hidden = false;
    $('connect_form').onsubmit = (e) => {
        e.preventDefault();
        // Commit a field still being edited: `change` fires on blur, which may not have come.
        for (const el of dlg.querySelectorAll('[data-setting]')) {
            el.dispatchEvent(new Event('change'));
        }
        dlg.hidden = true;
        onConnect();
    };
    $('connect_button').focus();
}

/**
 * Asks for `types` (noVNC's names: 'username', 'password', 'target'); `onSend(creds)` gets
 * an object with exactly those keys.
 */
export function showCredentials(types, onSend) {
    hideAll();
    const rows = { username: 'credentials_username', password: 'credentials_password',
                   target: 'credentials_target' };
    let first = null;
    for (const [type, id] of Object.entries(rows)) {
        const want = types.includes(type);
        $(`${id}_row`).hidden = !want;
        $(id).value = '';
        if (want && !first) first = $(id);
    }
    $('credentials_dialog').hidden = false;
    $('credentials_form').onsubmit = (e) => {
        e.preventDefault();
        const creds = {};
        for (const type of types) {
            if (rows[type]) creds[type] = $(rows[type]).value;
        }
        $('credentials_dialog').hidden = true;
        onSend(creds);
    };
    if (first) first.focus();
}

/** SHA-256 of `bytes` as colon-separated hex (what people compare out of band). */
async function fingerprint(bytes) {
    if (!bytes || !crypto.subtle) return '?';
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The identity's SHA-256 fingerprint: given by our client for both kinds, computed from
 * `publickey` for noVNC's RSA detail.
 */
export async function identityFingerprint(detail) {
    if (detail && detail.fingerprint) return detail.fingerprint;
    return fingerprint(detail && detail.publickey);
}

/**
 * The server identity dialog for the `serververification` event: a TLS certificate
 * (`type: 'x509'`, with subject and issuer) or an RSA key (`type: 'RSA'`). With `previous`
 * (a fingerprint remembered for this server) it is the loud warning that the identity
 * changed, and Reject has the focus. `onAnswer(true)` approves.
 */
export async function showVerify(detail, previous, onAnswer) {
    hideAll();
    const x509 = detail && detail.type === 'x509';
    $('verify_kind').textContent = x509 ? 'TLS certificate (X.509)' : 'RSA public key';
    $('verify_fingerprint').textContent = await identityFingerprint(detail);
    for (const field of ['subject', 'issuer']) {
        const v = x509 ? detail[field] : null;
        $(`verify_${field}_row`).hidden = !v;
        $(`verify_${field}`).textContent = v || '';
    }
    const changed = !!previous;
    $('verify_changed').hidden = !changed;
    $('verify_previous').textContent = previous || '';
    $('verify_form').classList.toggle('verify-changed', changed);
    $('verify_dialog').hidden = false;
    (changed ? $('verify_reject') : $('verify_approve')).focus();
    const answer = (ok) => {
        $('verify_dialog').hidden = true;
        onAnswer(ok);
    };
    $('verify_form').onsubmit = (e) => {
        e.preventDefault();
        answer(true);
    };
    $('verify_reject').onclick = () => answer(false);
}
