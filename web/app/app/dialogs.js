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
 * The server identity dialog for noVNC's `serververification` event (`detail.publickey`);
 * `onAnswer(true)` approves.
 */
export async function showVerify(detail, onAnswer) {
    hideAll();
    $('verify_fingerprint').textContent = await fingerprint(detail && detail.publickey);
    $('verify_dialog').hidden = false;
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
