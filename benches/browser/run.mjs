// `node benches/browser/run.mjs [RUNS]`: replays every committed recording through noVNC
// (npm) and our client (worker and main-thread modes) in the same headless Chromium, runs
// interleaved, and prints a Markdown table of medians (min–max) with ratios to noVNC.
// Serves web/dist, noVNC's core and the recordings from a loopback HTTP server it starts.

import http from 'node:http';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, extname, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const nodeDir = join(root, 'target/peers/node/node_modules');
const { chromium } = await import(join(nodeDir, 'playwright-core/index.mjs'));
const runs = Number(process.argv[2] || 5);

const MOUNTS = [
    ['/rfb/', join(root, 'web/dist')],
    ['/novnc/', join(nodeDir, '@novnc/novnc')],
    ['/recordings/', join(root, 'benches/recordings')],
    ['/', here],
];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm',
                '.json': 'application/json', '.css': 'text/css' };
const server = http.createServer((req, res) => {
    const path = decodeURIComponent(req.url.split('?')[0]);
    for (const [prefix, dir] of MOUNTS) {
        if (!path.startsWith(prefix)) continue;
        const file = join(dir, path.slice(prefix.length));
        if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory()) break;
        res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' });
        res.end(readFileSync(file));
        return;
    }
    res.writeHead(404);
    res.end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
const recordings = readdirSync(join(root, 'benches/recordings'))
    .filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
// noVNC has no decoder for these encodings.
const NOVNC_LACKS = /corre|zywrle|trle|zlibhex/;
const clients = [['novnc', ''], ['ours', ''], ['ours-main', '&worker=0']];

async function once(rec, client, extra) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
        const name = client.startsWith('ours') ? 'ours' : client;
        await page.goto(`http://127.0.0.1:${port}/bench.html?rec=${rec}&client=${name}${extra}`);
        await page.waitForFunction(() => window.result, null, { timeout: 120000, polling: 20 });
        return await page.evaluate(() => window.result);
    } finally {
        await page.close();
    }
}

const results = {};
for (const rec of recordings) {
    results[rec] = {};
    for (let i = 0; i < runs; i++) {
        // Interleaved: each run visits every client before the next run.
        for (const [client, extra] of clients) {
            if (client === 'novnc' && NOVNC_LACKS.test(rec)) continue;
            const r = await once(rec, client, extra);
            if (r.error) throw new Error(`${rec} ${client}: ${r.error}`);
            (results[rec][client] ||= []).push(r);
        }
    }
}
await browser.close();
server.close();

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
console.log(`Machine: ${os.cpus().length} × ${os.cpus()[0].model}; Chromium via playwright-core; ${runs} interleaved runs; ms, median (min–max).\n`);
console.log('| recording | noVNC total | ours (worker) total | main-thread busy (ours, worker) | ours (main thread) total | speed-up worker / main vs noVNC |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const rec of recordings) {
    const r = results[rec];
    const t = (c) => r[c] ? r[c].map((x) => x.total_ms) : null;
    const nv = t('novnc');
    const w = t('ours');
    const m = t('ours-main');
    const busy = r.ours.map((x) => x.busy_ms);
    const ratio = nv ? `${(median(nv) / median(w)).toFixed(1)}× / ${(median(nv) / median(m)).toFixed(1)}×` : 'noVNC cannot decode it';
    console.log(`| ${rec} | ${nv ? fmt(nv) : '—'} | ${fmt(w)} | ${fmt(busy)} | ${fmt(m)} | ${ratio} |`);
}
