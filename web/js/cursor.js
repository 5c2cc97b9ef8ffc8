// The local cursor: the server's shape (Cursor / XCursor / VMware pseudo-encodings) as a CSS
// cursor, and noVNC's RFB.cursors.

/** noVNC's built-in cursors: `none` (invisible) and `dot` (for an empty server cursor). */
export const CURSORS = {
    none: { rgbaPixels: new Uint8Array(), w: 0, h: 0, hotx: 0, hoty: 0 },
    dot: {
        rgbaPixels: new Uint8Array([
            255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255,
            0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255,
            255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255,
        ]),
        w: 3, h: 3, hotx: 1, hoty: 1,
    },
};

/** A CSS `cursor` value for an RGBA cursor image. */
export function cursorUrl(c) {
    const w = c.width ?? c.w;
    const h = c.height ?? c.h;
    const rgba = c.rgba ?? c.rgbaPixels;
    if (!w || !h) {
        return 'none';
    }
    const hx = Math.min(c.hotx, w - 1);
    const hy = Math.min(c.hoty, h - 1);
    return `url(data:image/png;base64,${btoa(pngBinary(rgba, w, h))}) ${hx} ${hy}, default`;
}

// A PNG written directly (RGBA, filter 0, stored deflate blocks): a canvas and `toDataURL`
// cost about 2 ms per cursor on a small machine (a 2D context for each, then a compressing
// encoder), inside the task that handles the update carrying the cursor. Cursors are small,
// so leaving them uncompressed costs nothing that matters. Format: PNG (ISO/IEC 15948) over
// zlib (RFC 1950) with stored deflate blocks (RFC 1951 §3.2.4).

const CRC_TABLE = (() => {
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        t[n] = c >>> 0;
    }
    return t;
})();

/** The PNG file as a binary string (one char per byte, for `btoa`). */
export function pngBinary(rgba, w, h) {
    const row = w * 4 + 1;
    const raw = new Uint8Array(row * h); // each row: filter type 0, then the pixels
    for (let y = 0; y < h; y++) raw.set(rgba.subarray(y * w * 4, (y + 1) * w * 4), y * row + 1);
    const blocks = Math.max(1, Math.ceil(raw.length / 65535));
    const z = new Uint8Array(2 + raw.length + 5 * blocks + 4);
    z[0] = 0x78; // deflate, 32 KiB window
    z[1] = 0x01; // check bits: 0x7801 % 31 === 0
    let at = 2;
    for (let i = 0; i < blocks; i++) {
        const len = Math.min(65535, raw.length - i * 65535);
        z[at] = i === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00 (stored)
        z[at + 1] = len & 0xff;
        z[at + 2] = len >>> 8;
        z[at + 3] = ~len & 0xff;
        z[at + 4] = (~len >>> 8) & 0xff;
        z.set(raw.subarray(i * 65535, i * 65535 + len), at + 5);
        at += 5 + len;
    }
    let a = 1;
    let b = 0;
    for (let i = 0; i < raw.length; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    be32(z, at, ((b << 16) | a) >>> 0);

    const ihdr = new Uint8Array(13);
    be32(ihdr, 0, w);
    be32(ihdr, 4, h);
    ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, filter 0, no interlace
    const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))];
    let out = '';
    for (const p of parts) {
        for (let i = 0; i < p.length; i += 8192) {
            out += String.fromCharCode.apply(null, p.subarray(i, i + 8192));
        }
    }
    return out;
}

function be32(buf, at, v) {
    buf[at] = v >>> 24;
    buf[at + 1] = (v >>> 16) & 0xff;
    buf[at + 2] = (v >>> 8) & 0xff;
    buf[at + 3] = v & 0xff;
}

/** Length, type, data, CRC-32 of type and data. */
function chunk(type, data) {
    const c = new Uint8Array(12 + data.length);
    be32(c, 0, data.length);
    for (let i = 0; i < 4; i++) c[4 + i] = type.charCodeAt(i);
    c.set(data, 8);
    let crc = 0xffffffff;
    for (let i = 4; i < 8 + data.length; i++) crc = CRC_TABLE[(crc ^ c[i]) & 0xff] ^ (crc >>> 8);
    be32(c, 8 + data.length, (crc ^ 0xffffffff) >>> 0);
    return c;
}
