// vnc.html's app: settings → connection → UI. One RFB object per connection attempt; every
// failure ends in a banner and either the connect dialog or a scheduled reconnect, so the page
// never stays stuck on "Connecting".

import { Settings } from './settings.js';
import { setup as setupL10n, _ } from './l10n.js';
import { ring } from './bell.js';
import { WakeLock } from './wakelock.js';
import { ControlBar } from './controlbar.js';
import { Status } from './status.js';
import { log, setLevel } from './log.js';
import * as dialogs from './dialogs.js';
import * as trust from './trust.js';

const $ = (id) => document.getElementById(id);
const PAGE_TITLE = 'rfb';

/** The WebSocket URL from the settings: `path` may be a full ws(s)/http(s) URL of its own. */
export function websocketUrl(s) {
    const path = s.get('path') || '';
    if (/^(wss?|https?):\/\//i.test(path)) {
        return path.replace(/^http/i, 'ws');
    }
    const scheme = s.get('encrypt') ? 'wss' : 'ws';
    let host = s.get('host') || location.hostname;
    if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`; // IPv6 literal
    const port = s.get('port') ? `:${s.get('port')}` : '';
    return `${scheme}://${host}${port}/${path.replace(/^\//, '')}`;
}

class App {
    constructor(RFB, settings, status) {
        this.RFB = RFB;
        this.settings = settings;
        this.status = status;
        this.rfb = null;
        this.state = 'disconnected';
        this.credentials = settings.password !== undefined && settings.password !== null
            ? { password: settings.password } : null;
        this.reconnectTimer = null;
        this.reconnecting = false;
        this.connectCount = 0; // successful connections (for tests and the console)
        this.lastDisconnect = null; // the last `disconnect` event's detail
        this.bells = 0; // bells rung (for tests and the console)
        this.wakeLock = new WakeLock();
        this.bar = new ControlBar(() => (this.state === 'connected' ? this.rfb : null));
        $('disconnect_button').addEventListener('click', () => this.disconnect());
        settings.addEventListener('change', (e) => this.applySetting(e.detail.name));
    }

    /** Applies a setting changed in the panel to the live connection. */
    applySetting(name) {
        const s = this.settings;
        if (name === 'logging') setLevel(s.get('logging'));
        if (name === 'keep_device_awake') this.wakeLock.set(this.state === 'connected' && s.get(name));
        const rfb = this.rfb;
        if (!rfb) return;
        switch (name) {
            case 'view_only':
                rfb.viewOnly = s.get(name);
                this.bar.setViewOnly(s.get(name));
                break;
            case 'view_clip': rfb.clipViewport = s.get(name); break;
            case 'resize':
                rfb.scaleViewport = s.get(name) === 'scale';
                rfb.resizeSession = s.get(name) === 'remote';
                break;
            case 'quality': rfb.qualityLevel = s.get(name); break;
            case 'compression': rfb.compressionLevel = s.get(name); break;
            case 'show_dot': rfb.showDotCursor = s.get(name); break;
            default: break; // host, port, shared, ...: used by the next connection
        }
    }

    connect() {
        clearTimeout(this.reconnectTimer);
        this.reconnectTimer = null;
        dialogs.hideAll();
        const s = this.settings;
        const url = websocketUrl(s);
        log.info('connecting to', url);
        this.status.show(_('Connecting…'));
        this.state = 'connecting';
        this.securityFailure = null;
        this.wasConnected = false;
        this.userDisconnect = false;
        $('disconnect_button').hidden = false;
        let rfb;
        try {
            rfb = new this.RFB($('screen'), url, {
                shared: s.get('shared'),
                repeaterID: s.get('repeaterID'),
                credentials: this.credentials || undefined,
            });
        } catch (e) {
            // A malformed URL throws here (SyntaxError from WebSocket).
            this.state = 'disconnected';
            this.failed(`${_('Failed to connect to server')}: ${e.message}`, false);
            return;
        }
        this.rfb = rfb;
        window.rfb = rfb; // for tests and the console
        for (const name of ['view_only', 'view_clip', 'resize', 'quality', 'compression',
                            'show_dot']) {
            this.applySetting(name);
        }
        rfb.addEventListener('connect', () => this.onConnect(rfb));
        rfb.addEventListener('disconnect', (e) => this.onDisconnect(rfb, e.detail));
        rfb.addEventListener('credentialsrequired', (e) => this.onCredentials(rfb, e.detail));
        rfb.addEventListener('securityfailure', (e) => {
            this.securityFailure = e.detail;
        });
        rfb.addEventListener('serververification', (e) => this.onVerify(rfb, url, e.detail));
        rfb.addEventListener('desktopname', (e) => {
            this.desktopName = e.detail.name;
            document.title = `${e.detail.name} - ${PAGE_TITLE}`;
        });
        rfb.addEventListener('clipboard', (e) => this.bar.setClipboard(e.detail.text));
        rfb.addEventListener('bell', () => {
            if (this.settings.get('bell')) {
                this.bells += 1;
                ring();
            }
        });
        rfb.addEventListener('clippingviewport', (e) => {
            if (rfb === this.rfb && this.state === 'connected') this.bar.setClipping(!!e.detail);
        });
        rfb.addEventListener('capabilities', (e) => {
            this.bar.setPower(!!e.detail.capabilities.power);
        });
    }

    onConnect(rfb) {
        if (rfb !== this.rfb) return;
        this.state = 'connected';
        this.wasConnected = true;
        this.reconnecting = false;
        this.connectCount += 1;
        dialogs.hideAll();
        const secure = this.rfb && /^wss:/.test(websocketUrl(this.settings));
        const name = this.desktopName || '';
        this.status.show(secure ? `${_('Connected (encrypted) to')} ${name}`
            : `${_('Connected (unencrypted) to')} ${name}`, 'ok');
        this.bar.setConnected(true);
        this.bar.setPower(!!rfb.capabilities.power);
        this.bar.setClipping(!!rfb.clippingViewport);
        this.wakeLock.set(this.settings.get('keep_device_awake'));
        rfb.focus();
    }

    /**
     * Trust on first use: an identity remembered for this server is approved without asking;
     * a new one is shown (and remembered once approved); a different one is a loud warning.
     */
    async onVerify(rfb, url, detail) {
        if (rfb !== this.rfb) return;
        const key = trust.trustKey(url, detail && detail.type);
        const fp = await dialogs.identityFingerprint(detail);
        const known = trust.remembered(key);
        if (known && trust.sameFingerprint(known, fp)) {
            log.info('server identity matches the remembered one', fp);
            rfb.approveServer();
            return;
        }
        if (known) {
            this.status.show(_('The server’s identity has changed'), 'error');
        } else {
            this.status.show(_('Check the server identity'), 'warn');
        }
        dialogs.showVerify(detail, known, (ok) => {
            if (!ok) {
                this.disconnect();
                return;
            }
            trust.remember(key, fp);
            this.status.show(_('Connecting…'));
            rfb.approveServer();
        });
    }

    onCredentials(rfb, detail) {
        if (rfb !== this.rfb) return;
        this.status.show(_('Credentials are required'), 'warn');
        dialogs.showCredentials(detail.types || ['password'], (creds) => {
            // Kept for automatic reconnects of this page, never stored.
            this.credentials = creds;
            this.status.show(_('Connecting…'));
            rfb.sendCredentials(creds);
        });
    }

    disconnect() {
        this.userDisconnect = true;
        clearTimeout(this.reconnectTimer);
        this.reconnectTimer = null;
        if (this.rfb && this.state !== 'disconnected') {
            this.status.show(_('Disconnecting…'));
            this.rfb.disconnect();
        } else {
            this.state = 'disconnected';
            this.bar.setConnected(false);
            this.status.show(_('Disconnected'));
            dialogs.showConnect(() => this.connect());
        }
    }

    onDisconnect(rfb, detail) {
        if (rfb !== this.rfb) return;
        this.state = 'disconnected';
        this.lastDisconnect = detail;
        this.wakeLock.set(false);
        this.bar.setConnected(false);
        document.title = PAGE_TITLE;
        const reason = detail && detail.reason ? String(detail.reason) : '';
        if (this.userDisconnect) {
            this.status.show(_('Disconnected'));
            dialogs.showConnect(() => this.connect());
            return;
        }
        if (this.securityFailure) {
            // A wrong password stays wrong: no reconnect, and ask again on the next attempt.
            this.credentials = null;
            const why = this.securityFailure.reason || reason;
            this.failed(`${_('Authentication failed')}${why ? `: ${why}` : ''}`, false);
            return;
        }
        // Per attempt: a retry that cannot reach the server says so, not "closed".
        const what = this.wasConnected
            ? _('Something went wrong, connection is closed') : _('Failed to connect to server');
        this.failed(reason ? `${what}: ${reason}` : what, true);
    }

    /** An error banner, then a reconnect (when enabled and `retry`) or the connect dialog. */
    failed(message, retry) {
        log.error(message);
        $('disconnect_button').hidden = true;
        // As noVNC: with `reconnect` on, a first attempt that fails is retried too (a server
        // still starting); only a wrong password or the user's own disconnect stop it.
        if (retry && this.settings.get('reconnect')) {
            const delay = this.settings.get('reconnect_delay');
            this.reconnecting = true;
            this.status.show(`${message}. ${_('Reconnecting…')}`, 'warn');
            // The disconnect button cancels the pending reconnect.
            $('disconnect_button').hidden = false;
            this.reconnectTimer = setTimeout(() => this.connect(), delay);
            return;
        }
        this.reconnecting = false;
        this.status.show(message, 'error');
        dialogs.showConnect(() => this.connect());
    }
}

async function main() {
    const status = new Status($('status'));
    const settings = new Settings();
    await settings.load();
    setLevel(settings.get('logging'));
    await setupL10n(settings.get('lang'));
    settings.bind();

    if (location.protocol === 'http:') {
        $('https_warning').hidden = false;
        $('https_warning_close').addEventListener('click', () => {
            $('https_warning').hidden = true;
        });
    }

    status.show(_('Loading…'));
    let RFB;
    try {
        ({ default: RFB } = await import('../rfb.js'));
    } catch (e) {
        // No wasm support, a blocked fetch, a CSP without 'wasm-unsafe-eval': say so.
        status.show(`${_('The client could not be loaded')}: ${e.message || e}`, 'error');
        log.error(e);
        return;
    }
    const app = new App(RFB, settings, status);
    window.app = app; // for tests and the console
    if (settings.get('autoconnect')) {
        app.connect();
    } else {
        // Nothing happened yet: the dialog says enough, no banner.
        status.quiet(_('Disconnected'));
        dialogs.showConnect(() => app.connect());
    }
}

main().catch((e) => {
    const el = $('status');
    el.hidden = false;
    el.className = 'banner banner-error';
    el.textContent = `app: ${e.message || e}`;
    console.error(e);
});
