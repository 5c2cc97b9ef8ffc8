// With a bundler this would be `import RFB from '@rfb/client';`; a plain page names the file.
import RFB from './node_modules/@rfb/client/dist/rfb.js';

const q = new URLSearchParams(location.search);
const url = q.get('url') || `ws://${location.host}/websockify`;
const rfb = new RFB(document.getElementById('screen'), url, { lossless: true });
rfb.addEventListener('connect', () => {
    document.getElementById('status').textContent = 'Connected';
});
rfb.addEventListener('disconnect', (e) => {
    document.getElementById('status').textContent = 'Disconnected: ' + (e.detail.reason || '');
});
window.rfb = rfb;
