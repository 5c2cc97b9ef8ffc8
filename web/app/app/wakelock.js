// "Keep device awake": a Screen Wake Lock while connected. The browser drops the lock when the
// page is hidden, so it is taken again when the page becomes visible.

export class WakeLock {
    constructor() {
        this._wanted = false;
        this._lock = null;
        document.addEventListener('visibilitychange', () => {
            if (this._wanted && document.visibilityState === 'visible') this._acquire();
        });
    }

    /** True while the browser holds the lock for us. */
    get held() { return this._lock !== null; }

    /** Asks for (true) or gives up (false) the lock. */
    set(wanted) {
        this._wanted = wanted;
        if (wanted) {
            this._acquire();
        } else if (this._lock) {
            this._lock.release().catch(() => {});
            this._lock = null;
        }
    }

    async _acquire() {
        if (this._lock || !navigator.wakeLock) return;
        try {
            const lock = await navigator.wakeLock.request('screen');
            this._lock = lock;
            lock.addEventListener('release', () => {
                if (this._lock === lock) this._lock = null;
            });
            if (!this._wanted) this.set(false);
        } catch (e) {
            // Denied (no user activation, battery saver, unsupported): nothing else to do.
            console.info('app: wake lock refused:', e.message || e);
        }
    }
}
