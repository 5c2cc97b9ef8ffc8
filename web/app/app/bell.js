// The bell: a short tone made with WebAudio, so the app needs no sound file. Browsers only let
// audio start after a user gesture; before that a bell is silently dropped.

let ctx = null;

/** Plays a 0.15 s, 880 Hz tone with a quick fade so it does not click. */
export function ring() {
    try {
        ctx ||= new (globalThis.AudioContext || globalThis.webkitAudioContext)();
        if (ctx.state === 'suspended') ctx.resume().catch(() => {});
        const t = ctx.currentTime;
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.2, t + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.15);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t);
        osc.stop(t + 0.16);
    } catch (e) {
        console.debug('app: bell not played', e);
    }
}
