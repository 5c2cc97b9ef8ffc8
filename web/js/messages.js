// RFB.messages: noVNC's static client-message encoders. Each takes a socket-like object and
// sends one message: anything with `send(Uint8Array)`, or noVNC's Websock (`sQpushBytes` /
// `flush`). Byte layouts are RFC 6143 §7.5 and the rfbproto extensions.

function out(sock, bytes) {
    const b = Uint8Array.from(bytes);
    if (typeof sock.sQpushBytes === 'function') {
        sock.sQpushBytes(b);
        if (typeof sock.flush === 'function') sock.flush();
    } else {
        sock.send(b);
    }
}

const u16 = (v) => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

export const messages = {
    keyEvent(sock, keysym, down) {
        out(sock, [4, down ? 1 : 0, 0, 0, ...u32(keysym)]);
    },
    QEMUExtendedKeyEvent(sock, keysym, down, keycode) {
        // XT scancodes with the 0xE0 prefix become 0x80 | low byte (rfbproto).
        const hi = keycode >> 8;
        const lo = keycode & 0xff;
        const rfbKeycode = hi === 0xe0 && lo < 0x7f ? lo | 0x80 : keycode;
        out(sock, [255, 0, ...u16(down ? 1 : 0), ...u32(keysym), ...u32(rfbKeycode)]);
    },
    pointerEvent(sock, x, y, mask) {
        out(sock, [5, mask & 0xff, ...u16(x), ...u16(y)]);
    },
    extendedPointerEvent(sock, x, y, mask) {
        // ExtendedMouseButtons: bit 7 of the first mask byte set, the high bits follow.
        out(sock, [5, (mask & 0x7f) | 0x80, ...u16(x), ...u16(y), (mask >> 7) & 0xff]);
    },
    clientCutText(sock, data, extended = false) {
        if (extended) {
            out(sock, [6, 0, 0, 0, ...u32(-data.length >>> 0), ...data]);
            return;
        }
        out(sock, [6, 0, 0, 0, ...u32(data.length), ...data]);
    },
    setDesktopSize(sock, width, height, id, flags) {
        out(sock, [251, 0, ...u16(width), ...u16(height), 1, 0,
                   ...u32(id), ...u16(0), ...u16(0), ...u16(width), ...u16(height), ...u32(flags)]);
    },
    clientFence(sock, flags, payload) {
        out(sock, [248, 0, 0, 0, ...u32(flags), payload.length, ...payload]);
    },
    enableContinuousUpdates(sock, enable, x, y, width, height) {
        out(sock, [150, enable ? 1 : 0, ...u16(x), ...u16(y), ...u16(width), ...u16(height)]);
    },
    pixelFormat(sock, depth, trueColor) {
        let bpp;
        if (depth > 16) bpp = 32;
        else if (depth > 8) bpp = 16;
        else bpp = 8;
        const bits = Math.floor(depth / 3);
        const max = (1 << bits) - 1;
        out(sock, [0, 0, 0, 0, bpp, depth, 0, trueColor ? 1 : 0,
                   ...u16(max), ...u16(max), ...u16(max), bits * 2, bits, 0, 0, 0, 0]);
    },
    clientEncodings(sock, encodings) {
        const body = [];
        for (const e of encodings) body.push(...u32(e >>> 0));
        out(sock, [2, 0, ...u16(encodings.length), ...body]);
    },
    fbUpdateRequest(sock, incremental, x, y, w, h) {
        out(sock, [3, incremental ? 1 : 0, ...u16(x), ...u16(y), ...u16(w), ...u16(h)]);
    },
    xvpOp(sock, ver, op) {
        out(sock, [250, 0, ver, op]);
    },
};
