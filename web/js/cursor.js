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
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), w, h), 0, 0);
    const hx = Math.min(c.hotx, w - 1);
    const hy = Math.min(c.hoty, h - 1);
    return `url(${canvas.toDataURL()}) ${hx} ${hy}, default`;
}
