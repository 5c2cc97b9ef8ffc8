// Drives headless Chromium through a JSON list of steps (argv[2]) for the browser tests in
// proxy/tests/web_client.rs. Each step prints one `ok <op> ...` line; any failure exits 1.
// Steps:
//   {op:'goto', url}                       load a page
//   {op:'wait', expr, timeout?}           poll a JS expression in the page until truthy
//   {op:'eval', expr}                      print `ok eval <JSON of the result>`
//   {op:'canvas', out}                     PNG screenshot of the screen canvas (real pixels)
//   {op:'snapshot', out}                   rfb.snapshot() raw RGBA + `ok snapshot W H`
//   {op:'keys', events:[{type,key,code,text?,location?,modifiers?}]}  CDP key events
//   {op:'insertText', text}                CDP Input.insertText (IME commit / virtual keyboard)
//   {op:'touch', x, y | points:[[x,y],..], hold?}  a tap with one or more fingers (CDP)
//   {op:'type', text}                      page.keyboard.type (US layout)
//   {op:'mouse', action, x?, y?, button?, dx?, dy?}  move/down/up/click/wheel at canvas coords
//   {op:'sleep', ms}
//   {op:'resize', width, height}           set the page's viewport size
//   {op:'screenshot', out}                 full-page PNG (an artifact for people)
//   {op:'element', selector, out}          PNG screenshot of one element
//   {op:'click', selector}                 click an element (a button of the app)
//   {op:'click', selector}                 click an element of the page (the app's tests)
//   {op:'fill', selector, value}           type a value into an input or textarea
//   {op:'select', selector, value}         choose an <option>
//   {op:'emulate', touch?, acceptLanguage?, grant?, insecure?} a touch screen / browser
//                                          languages / granted permissions, e.g.
//                                          ['screen-wake-lock'] / accept self-signed TLS
//   {op:'exec', cmd, env?}                 run a shell command (e.g. xclip on the test display);
//                                          prints `ok exec <JSON of its stdout>`

import { chromium } from '@PLAYWRIGHT@';
import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';

const steps = JSON.parse(process.argv[2]);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
                                        args: ARGS });
let code = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 850 } });
  page.on('pageerror', (e) => console.log('[pageerror]', e.message));
  page.on('console', (m) => console.log('[console]', m.type(), m.text()));
  const cdp = await page.context().newCDPSession(page);
  const canvasBox = async () => {
    const b = await page.locator('#screen canvas').boundingBox();
    if (!b) throw new Error('no canvas');
    return b;
  };
  for (const s of steps) {
    switch (s.op) {
      case 'goto':
        await page.goto(s.url, { waitUntil: 'load', timeout: 20000 });
        break;
      case 'wait': {
        // Polled with evaluate, which awaits a promise the expression returns (waitForFunction
        // would take the promise object itself as truthy).
        const deadline = Date.now() + (s.timeout || 20000);
        for (;;) {
          let v = false;
          try {
            v = await page.evaluate(s.expr);
          } catch (e) {
            v = false; // the page may still be loading
          }
          if (v) break;
          if (Date.now() > deadline) throw new Error('timed out waiting for ' + s.expr);
          await page.waitForTimeout(50);
        }
        break;
      }
      case 'eval': {
        const v = await page.evaluate(s.expr);
        console.log('ok eval', JSON.stringify(v));
        continue;
      }
      case 'canvas':
        await page.locator('#screen canvas').screenshot({ path: s.out });
        break;
      case 'screenshot':
        await page.screenshot({ path: s.out });
        break;
      case 'click':
        await page.locator(s.selector).click({ timeout: s.timeout || 20000 });
        break;
      case 'element':
        await page.locator(s.selector).screenshot({ path: s.out });
        break;
      case 'snapshot': {
        const r = await page.evaluate(async () => {
          const img = await window.rfb.snapshot();
          const d = img.data;
          let str = '';
          for (let i = 0; i < d.length; i += 0x8000) {
            str += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
          }
          return { w: img.width, h: img.height, b64: btoa(str) };
        });
        writeFileSync(s.out, Buffer.from(r.b64, 'base64'));
        console.log('ok snapshot', r.w, r.h);
        continue;
      }
      case 'keys':
        for (const e of s.events) {
          const down = e.type === 'down';
          await cdp.send('Input.dispatchKeyEvent', {
            type: down ? (e.text ? 'keyDown' : 'rawKeyDown') : 'keyUp',
            key: e.key, code: e.code, text: down ? e.text : undefined,
            unmodifiedText: down ? e.text : undefined, location: e.location || 0,
            modifiers: e.modifiers || 0, windowsVirtualKeyCode: e.keyCode || 0,
          });
        }
        break;
      case 'touch': {
        // One-finger tap or a two-finger tap at canvas coordinates, through CDP touch events.
        const b = await canvasBox();
        const pts = (s.points || [[s.x || 0, s.y || 0]]).map(([x, y], id) => ({ x: b.x + x, y: b.y + y, id }));
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: pts });
        await page.waitForTimeout(s.hold || 50);
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
        break;
      }
      case 'insertText':
        await cdp.send('Input.insertText', { text: s.text });
        break;
      case 'type':
        await page.keyboard.type(s.text, { delay: 20 });
        break;
      case 'mouse': {
        const b = await canvasBox();
        const x = b.x + (s.x || 0);
        const y = b.y + (s.y || 0);
        if (s.action === 'move') await page.mouse.move(x, y);
        else if (s.action === 'down') await page.mouse.down({ button: s.button || 'left' });
        else if (s.action === 'up') await page.mouse.up({ button: s.button || 'left' });
        else if (s.action === 'click') await page.mouse.click(x, y, { button: s.button || 'left' });
        else if (s.action === 'wheel') {
          await page.mouse.move(x, y);
          await page.mouse.wheel(s.dx || 0, s.dy || 0);
        }
        break;
      }
      case 'exec': {
        const stdout = execSync(s.cmd, { env: { ...process.env, ...(s.env || {}) },
                                         timeout: 10000, stdio: ['ignore', 'pipe', 'inherit'] });
        console.log('ok exec', JSON.stringify(stdout.toString('utf8')));
        continue;
      }
      case 'sleep':
        await page.waitForTimeout(s.ms);
        break;
      case 'resize':
        await page.setViewportSize({ width: s.width, height: s.height });
        break;
      case 'click':
        await page.locator(s.selector).click({ timeout: 10000 });
        break;
      case 'fill':
        await page.locator(s.selector).fill(s.value, { timeout: 10000 });
        break;
      case 'emulate':
        if (s.touch) {
          await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
        }
        if (s.acceptLanguage) {
          const ua = await page.evaluate(() => navigator.userAgent);
          await cdp.send('Emulation.setUserAgentOverride',
                         { userAgent: ua, acceptLanguage: s.acceptLanguage });
        }
        if (s.insecure) {
          await cdp.send('Security.setIgnoreCertificateErrors', { ignore: true });
        }
        for (const name of s.grant || []) {
          await cdp.send('Browser.setPermission', { permission: { name }, setting: 'granted' });
        }
        break;
      case 'select':
        await page.locator(s.selector).selectOption(s.value, { timeout: 10000 });
        break;
      default:
        throw new Error('unknown step ' + s.op);
    }
    console.log('ok', s.op);
  }
} catch (e) {
  console.log('FAILED:', e && e.stack || e);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
