// `node benches/browser/run.mjs [RUNS] [DIR…]`: replays every recording (default: the committed
// corpus, benches/recordings) through noVNC (npm) and our client (worker and main-thread modes)
// in the same headless Chromium, runs interleaved, and prints a Markdown table of medians
// (min–max) with ratios to noVNC and the targets. Serves web/dist, noVNC's core and
// the recordings from a loopback HTTP server it starts.
// RFB_BENCH_FLOORS=DIR: floor scripts (`floor-script DIR …`) for the recordings; each recording
// that has one also gets its browser floor measured (bench.js, client=floor) in the same runs.

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
const floors = process.env.RFB_BENCH_FLOORS;
const hasFloor = (rec) => !!floors && existsSync(join(floors, `${rec}.floor`));
const MOUNTS = [
    ...(floors ? [['/floors/', floors]] : []),
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
const clients = [['novnc', ''], ['floor', ''], ['ours', ''], ['ours-main', '&worker=0'],
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
try {
    for (const rec of recordings) {
        results[rec] = {};
        for (let i = 0; i < runs; i++) {
            // Interleaved: each run visits every client before the next run.
            for (const [client, extra] of clients) {
                if (client === 'novnc' && NOVNC_LACKS.test(rec)) continue;
                if (client === 'floor' && !hasFloor(rec)) continue;
                const r = await once(rec, client, extra);
                if (r.error) throw new Error(`${rec} ${client}: ${r.error}`);
                (results[rec][client] ||= []).push(r);
            }
        }
    }
} finally {
    // Also on a failed replay: Chromium removes its profile directory only when closed.
    await browser.close();
    server.close();
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const f1 = (x) => x.toFixed(1);
const fmt = (xs) => `${f1(Math.min(...xs))} / **${f1(median(xs))}** / ${f1(Math.max(...xs))}`;
// Issue 12's targets: per recording, at least the smaller of 3× noVNC and 60 % of the browser
// floor (floor time ÷ ours ≥ 0.6), and on scrolling text (CopyRect) at least 10× noVNC too.
const scrolling = (rec) => /scroll/.test(rec);
function meets(rec, nv, fl, ours) {
    const vsNovnc = nv ? median(nv) / ours : null;
    const vsFloor = fl ? median(fl) / ours : null;
    const base = (vsNovnc !== null && vsNovnc >= 3) || (vsFloor !== null && vsFloor >= 0.6);
    if (vsNovnc === null && vsFloor === null) return '—';
    return base && (!scrolling(rec) || (vsNovnc !== null && vsNovnc >= 10)) ? 'yes' : 'no';
}
const cpu = os.cpus();
console.log(`Machine: ${cpu.length} × ${cpu[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${os.loadavg().map(f1).join(' ')} at the end; headless Chromium ${chromiumVersion} via playwright-core; ${runs} interleaved runs, ${warm ? 'warm (the second replay in the page)' : 'cold (the first replay in a fresh page)'}; ms as min / **median** / max.\n`);
console.log('| recording | noVNC | browser floor | ours, worker | ours, main thread | noVNC ÷ ours (worker / main) | floor ÷ ours (worker / main) | target | met (worker / main) | main-thread busy: noVNC | main-thread busy: ours, worker |');
console.log('|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|');
let metW = 0;
let metM = 0;
let judged = 0;
for (const rec of recordings) {
    const r = results[rec];
    const t = (c) => r[c] ? r[c].map((x) => x.total_ms) : null;
    const nv = t('novnc');
    const fl = t('floor');
    const w = t('ours');
    const m = t('ours-main');
    const busy = (c) => r[c] ? fmt(r[c].map((x) => x.busy_ms)) : '—';
    const ratio = nv ? `${(median(nv) / median(w)).toFixed(1)}× / ${(median(nv) / median(m)).toFixed(1)}×`
        : 'noVNC cannot decode it';
    const pct = (x) => `${Math.round(100 * median(fl) / median(x))} %`;
    const floorRatio = fl ? `${pct(w)} / ${pct(m)}` : '—';
    const tgt = `min(3× noVNC, 60 % floor)${scrolling(rec) ? ' and 10× noVNC' : ''}`;
    const [mw, mm] = [meets(rec, nv, fl, median(w)), meets(rec, nv, fl, median(m))];
    if (mw !== '—') {
        judged++;
        metW += mw === 'yes';
        metM += mm === 'yes';
    }
    console.log(`| ${rec} | ${nv ? fmt(nv) : '—'} | ${fl ? fmt(fl) : '—'} | ${fmt(w)} | ${fmt(m)} | ${ratio} | ${floorRatio} | ${tgt} | ${mw} / ${mm} | ${busy('novnc')} | ${busy('ours')} |`);
}
console.log(`\nTargets met by ${metW} of ${judged} recordings in worker mode, ${metM} of ${judged} on the main thread.`);
if (warm) {
    const ours = recordings.flatMap((rec) => results[rec].ours || []);
    console.log(`\nWorker mode ran on the first client's worker (kept by rfb.js for the next connection) in ${ours.filter((x) => x.reused_worker).length} of ${ours.length} timed replays.`);
}
if (floors) {
    console.log('\nWhere the floor goes (medians, ms): delivery of the messages, native inflate, ImageDecoder, putImageData.\n');
    console.log('| recording | deliver | inflate | images | putImageData |');
    console.log('|---|---:|---:|---:|---:|');
    for (const rec of recordings) {
        const fr = results[rec].floor;
        if (!fr) continue;
        const part = (k) => f1(median(fr.map((x) => x[k])));
        console.log(`| ${rec} | ${part('deliver_ms')} | ${part('inflate_ms')} | ${part('images_ms')} | ${part('put_ms')} |`);
    }
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
