// `node benches/browser/run.mjs [RUNS] [DIR…]`: replays every recording (default: the committed
// corpus, benches/recordings) through noVNC (npm) and our client (worker and main-thread modes)
// in the same headless Chromium, runs interleaved, and prints a Markdown table of medians
// (min–max) with ratios to noVNC and the targets. Serves web/dist, noVNC's core and
// the recordings from a loopback HTTP server it starts.

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
// RFB_BENCH_WARM=1: time a second replay in the same page, after an untimed one (see bench.js).
const warm = process.env.RFB_BENCH_WARM === '1';
const dirs = process.argv.length > 3 ? process.argv.slice(3) : [join(root, 'benches/recordings')];
// Recording name → file, over every directory (later directories win on a name clash).
const recFiles = {};
for (const d of dirs) {
    for (const f of readdirSync(d).filter((f) => f.endsWith('.js'))) recFiles[f.slice(0, -3)] = join(d, f);
}

// RFB_BENCH_BASELINE=DIR: DIR/dist is an earlier build of web/dist, run as a fourth client.
const baseline = process.env.RFB_BENCH_BASELINE;
const MOUNTS = [
    ...(baseline ? [['/before/', join(baseline, 'dist')]] : []),
    ['/rfb/', join(root, 'web/dist')],
    ['/novnc/', join(nodeDir, '@novnc/novnc')],
    ['/', here],
];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm',
                '.json': 'application/json', '.css': 'text/css' };
const server = http.createServer((req, res) => {
    const path = decodeURIComponent(req.url.split('?')[0]);
    const rec = path.match(/^\/recordings\/(.+)\.js$/);
    if (rec && recFiles[rec[1]]) {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end(readFileSync(recFiles[rec[1]]));
        return;
    }
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
const chromiumVersion = browser.version();
const recordings = Object.keys(recFiles).sort();
// noVNC has no decoder for these encodings.
const NOVNC_LACKS = /corre|zywrle|trle|zlibhex/;
const clients = [['novnc', ''], ['ours', ''], ['ours-main', '&worker=0'],
    ...(baseline ? [['ours-before', '&dist=before']] : [])];

async function once(rec, client, extra) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
        const name = client.startsWith('ours') ? 'ours' : client;
        const w = warm ? '&warm=1' : '';
        await page.goto(`http://127.0.0.1:${port}/bench.html?rec=${rec}&client=${name}${extra}${w}`);
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
const f1 = (x) => x.toFixed(1);
const fmt = (xs) => `${f1(Math.min(...xs))} / **${f1(median(xs))}** / ${f1(Math.max(...xs))}`;
// Issue 12's targets: 10× noVNC on scrolling text (CopyRect), 3× elsewhere.
const target = (rec) => (/scroll|copyrect/.test(rec) ? 10 : 3);
const cpu = os.cpus();
console.log(`Machine: ${cpu.length} × ${cpu[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${os.loadavg().map(f1).join(' ')} at the end; headless Chromium ${chromiumVersion} via playwright-core; ${runs} interleaved runs, ${warm ? 'warm (the second replay in the page)' : 'cold (the first replay in a fresh page)'}; ms as min / **median** / max.\n`);
console.log('| recording | noVNC | ours, worker | ours, main thread | noVNC ÷ ours (worker / main) | target | met (worker / main) | main-thread busy: noVNC | main-thread busy: ours, worker |');
console.log('|---|---:|---:|---:|---:|---:|---|---:|---:|');
for (const rec of recordings) {
    const r = results[rec];
    const t = (c) => r[c] ? r[c].map((x) => x.total_ms) : null;
    const nv = t('novnc');
    const w = t('ours');
    const m = t('ours-main');
    const busy = (c) => r[c] ? fmt(r[c].map((x) => x.busy_ms)) : '—';
    const rw = nv ? median(nv) / median(w) : null;
    const rm = nv ? median(nv) / median(m) : null;
    const ratio = nv ? `${rw.toFixed(1)}× / ${rm.toFixed(1)}×` : 'noVNC cannot decode it';
    const tgt = target(rec);
    const met = nv ? `${rw >= tgt ? 'yes' : 'no'} / ${rm >= tgt ? 'yes' : 'no'}` : '—';
    console.log(`| ${rec} | ${nv ? fmt(nv) : '—'} | ${fmt(w)} | ${fmt(m)} | ${ratio} | ${nv ? tgt + '×' : '—'} | ${met} | ${busy('novnc')} | ${busy('ours')} |`);
}
if (baseline) {
    console.log(`\nBefore / after, worker mode, same runs: "before" is the build saved in ${baseline}.\n`);
    console.log('| recording | ours before | ours after | after speed-up | noVNC ÷ ours, before | noVNC ÷ ours, after |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const rec of recordings) {
        const r = results[rec];
        const t = (c) => r[c] ? r[c].map((x) => x.total_ms) : null;
        const [nv, a, b] = [t('novnc'), t('ours'), t('ours-before')];
        const vs = (x) => nv ? `${(median(nv) / median(x)).toFixed(1)}×` : '—';
        console.log(`| ${rec} | ${fmt(b)} | ${fmt(a)} | ${(median(b) / median(a)).toFixed(2)}× | ${vs(b)} | ${vs(a)} |`);
    }
}
