// QEMU audio on the main thread: signed 16-bit little-endian PCM chunks from the engine are
// scheduled back to back on a WebAudio context. The context starts on the first user gesture
// (browsers refuse to start audio without one); chunks that would queue more than MAX_AHEAD
// seconds of sound are dropped, so a slow tab never builds up delay.

const MAX_AHEAD = 0.5;
const START_DELAY = 0.05;

export class AudioPlayer {
    constructor() {
        this._ctx = null;
        this._next = 0;
        // For tests and diagnostics: what arrived and what was played or dropped.
        this.stats = { chunks: 0, frames: 0, dropped: 0, peak: 0 };
    }

    /** Call from a user gesture (click, key) so the context may start. */
    resume() {
        if (this._ctx && this._ctx.state === 'suspended') {
            this._ctx.resume().catch(() => {});
        }
    }

    /** One chunk: `pcm` is interleaved S16LE with `channels` channels at `rate` Hz. */
    play(pcm, channels, rate) {
        const frames = Math.floor(pcm.byteLength / (2 * channels));
        this.stats.chunks += 1;
        this.stats.frames += frames;
        if (frames === 0) return;
        const view = new DataView(pcm.buffer, pcm.byteOffset, frames * 2 * channels);
        let peak = this.stats.peak;
        const planes = [];
        for (let c = 0; c < channels; c++) planes.push(new Float32Array(frames));
        for (let i = 0; i < frames; i++) {
            for (let c = 0; c < channels; c++) {
                const v = view.getInt16((i * channels + c) * 2, true);
                if (Math.abs(v) > peak) peak = Math.abs(v);
                planes[c][i] = v / 32768;
            }
        }
        this.stats.peak = peak;
        if (typeof AudioContext === 'undefined') return;
        if (!this._ctx) {
            this._ctx = new AudioContext({ sampleRate: rate });
        }
        const ctx = this._ctx;
        const now = ctx.currentTime;
        if (this._next < now) this._next = now + START_DELAY;
        if (this._next - now > MAX_AHEAD) {
            this.stats.dropped += 1;
            return;
        }
        const buffer = ctx.createBuffer(channels, frames, rate);
        planes.forEach((p, c) => buffer.copyToChannel(p, c));
        const src = ctx.createBufferSource();
        src.buffer = buffer;
        src.connect(ctx.destination);
        src.start(this._next);
        this._next += frames / rate;
    }

    close() {
        if (this._ctx) this._ctx.close().catch(() => {});
        this._ctx = null;
    }
}
