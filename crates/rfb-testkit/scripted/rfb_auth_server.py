#!/usr/bin/env python3
"""A scripted RFB 3.8 server for security types no installable Debian server offers.

It offers exactly one security type, runs the server side of it, checks the credentials given
on the command line, answers SecurityResult (with a reason on failure), then serves a tiny
static framebuffer as Raw rectangles. Each server side is written from the published
description (rfbproto.rst: "Security Types", "RSA-AES Security Type", "xvp Authentication",
"Diffie-Hellman Authentication", "MSLogonII Authentication", "Tight Security Type",
"VeNCrypt"), with the crypto from Python's `cryptography` package. It is a test peer, so it
counts only once a third-party client (npm noVNC) authenticates against it too
(proxy/tests/scripted_security.rs); our own client is then tested against it
(cli/tests/scripted_security.rs).

Every outcome is one line on stdout, flushed at once, for tests to assert on:
    rsa key sha256=HEX:HEX:...   (RA2ne: SHA-256 of the key's wire form, before listening)
    listening on 127.0.0.1:PORT
    auth ok type=30 user='alice' ...
    auth failed type=30 user='alice' reason='...'
    xvp init sent
    update sent WxH bpp=32
    error: ...

Wire facts where the specification is silent or wrong (taken from how noVNC behaves):
  * xvp: the spec says the *server* sends username and target; every client (noVNC included)
    sends them, so this server reads them.
  * DES under the VNC key convention: each key byte's bits are reversed before standard DES
    (VNC Authentication note), for MSLogonII too ("the same as the one for VNC authentication").
"""

import argparse
import hashlib
import hmac
import os
import socket
import struct
import sys
import threading

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:  # cryptography >= 43 moved DES to the "decrepit" module.
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover - older cryptography
    TripleDES = algorithms.TripleDES

TYPES = {"ra2ne": 6, "tight": 16, "plain": 19, "xvp": 22, "ard": 30, "mslogon2": 113}

# RFC 2409 second Oakley group (1024-bit MODP), generator 2: a well-known safe prime, so the
# ARD key size is 128 bytes as Apple's servers send.
ARD_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)
# The largest prime below 2**64: MSLogonII's fields are 8 bytes, and a modulus this close to
# 2**64 catches a client whose modular multiplication overflows 64 bits.
MSLOGON_PRIME = 2**64 - 59

# Tight capabilities: (code, vendor, signature) as in the spec's registries.
CAP_NOTUNNEL = (0, b"TGHT", b"NOTUNNEL")
TIGHT_AUTH = {
    "none": (1, b"STDV", b"NOAUTH__"),
    "vnc": (2, b"STDV", b"VNCAUTH_"),
    "unix": (129, b"TGHT", b"ULGNAUTH"),
}

XVP_PSEUDO_ENCODING = -309
OUT_LOCK = threading.Lock()


def say(line):
    """One outcome line on stdout, whole and flushed, whatever thread writes it."""
    with OUT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Closed(Exception):
    """The client went away or broke the protocol."""


class Conn:
    def __init__(self, sock):
        self.sock = sock

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Closed(f"client closed after {len(buf)} of {n} bytes")
            buf += chunk
        return buf

    def u8(self):
        return self.recv(1)[0]

    def u16(self):
        return struct.unpack(">H", self.recv(2))[0]

    def u32(self):
        return struct.unpack(">I", self.recv(4))[0]

    def s32(self):
        return struct.unpack(">i", self.recv(4))[0]

    def send(self, data):
        self.sock.sendall(data)


# ---------------------------------------------------------------------------------------------
# Crypto helpers.


def vnc_des_key(key8):
    """The VNC key convention: the lowest bit of each byte is DES's first bit."""
    return bytes(int(f"{b:08b}"[::-1], 2) for b in key8)


def des(key8, mode):
    k = vnc_des_key(key8)
    return Cipher(TripleDES(k * 3), mode)


def vnc_password_key(password):
    """The password as an 8-byte DES key: truncated, or padded with zeroes."""
    return password.encode()[:8].ljust(8, b"\0")


def aes_ecb(key):
    return Cipher(algorithms.AES(key), modes.ECB())


def omac(key, t, data):
    """OMAC^t_K(M) = CMAC_K([t]_16 || M), the tweaked MAC of EAX."""
    c = cmac.CMAC(algorithms.AES(key))
    c.update(t.to_bytes(16, "big") + data)
    return c.finalize()


def eax_encrypt(key, nonce, header, plaintext):
    """AES-EAX (Bellare, Rogaway, Wagner): returns ciphertext and 16-byte tag."""
    n = omac(key, 0, nonce)
    h = omac(key, 1, header)
    enc = Cipher(algorithms.AES(key), modes.CTR(n)).encryptor()
    ct = enc.update(plaintext) + enc.finalize()
    c = omac(key, 2, ct)
    return ct, bytes(a ^ b ^ d for a, b, d in zip(n, c, h))


def eax_decrypt(key, nonce, header, ct, tag):
    """AES-EAX decryption; `None` when the tag does not verify."""
    n = omac(key, 0, nonce)
    h = omac(key, 1, header)
    c = omac(key, 2, ct)
    want = bytes(a ^ b ^ d for a, b, d in zip(n, c, h))
    if not hmac_equal(want, tag):
        return None
    dec = Cipher(algorithms.AES(key), modes.CTR(n)).decryptor()
    return dec.update(ct) + dec.finalize()


def hmac_equal(a, b):
    return hmac.compare_digest(a, b)


def cstring(block):
    """The bytes before the first NUL (the rest is random padding)."""
    return block.split(b"\0", 1)[0]


# ---------------------------------------------------------------------------------------------
# Security types. Each returns (ok, user, detail) after reading the client's credentials.


def vnc_auth(c, password):
    """VNC Authentication: a random 16-byte challenge, DES-ECB under the password."""
    challenge = os.urandom(16)
    c.send(challenge)
    response = c.recv(16)
    enc = des(vnc_password_key(password), modes.ECB()).encryptor()
    want = enc.update(challenge) + enc.finalize()
    return hmac_equal(response, want)


def sec_xvp(c, a):
    ulen, tlen = c.u8(), c.u8()
    user = c.recv(ulen).decode("utf-8", "replace")
    target = c.recv(tlen).decode("utf-8", "replace")
    ok = vnc_auth(c, a.password)
    ok = ok and user == a.username and target == a.target
    return ok, user, f"target={target!r}"


def sec_ard(c, a):
    key_size = (ARD_PRIME.bit_length() + 7) // 8
    g = 2
    private = int.from_bytes(os.urandom(key_size), "big") % (ARD_PRIME - 2) + 1
    public = pow(g, private, ARD_PRIME)
    c.send(
        struct.pack(">HH", g, key_size)
        + ARD_PRIME.to_bytes(key_size, "big")
        + public.to_bytes(key_size, "big")
    )
    encrypted = c.recv(128)
    client_public = int.from_bytes(c.recv(key_size), "big")
    if not 1 < client_public < ARD_PRIME - 1:
        return False, "", "client public value out of range"
    shared = pow(client_public, private, ARD_PRIME).to_bytes(key_size, "big")
    key = hashlib.md5(shared).digest()
    dec = aes_ecb(key).decryptor()
    plain = dec.update(encrypted) + dec.finalize()
    user = cstring(plain[:64]).decode("utf-8", "replace")
    password = cstring(plain[64:]).decode("utf-8", "replace")
    return user == a.username and password == a.password, user, ""


def sec_mslogon2(c, a):
    p = MSLOGON_PRIME
    g = 5
    private = int.from_bytes(os.urandom(8), "big") % (p - 2) + 1
    public = pow(g, private, p)
    c.send(g.to_bytes(8, "big") + p.to_bytes(8, "big") + public.to_bytes(8, "big"))
    client_public = int.from_bytes(c.recv(8), "big")
    enc_user = c.recv(256)
    enc_pass = c.recv(64)
    if not 1 < client_public < p - 1:
        return False, "", "client public value out of range"
    secret = pow(client_public, private, p).to_bytes(8, "big")
    # The shared secret is both the DES key and the CBC IV; username and password are each
    # encrypted from that same IV.
    user_dec = des(secret, modes.CBC(secret)).decryptor()
    pass_dec = des(secret, modes.CBC(secret)).decryptor()
    user = cstring(user_dec.update(enc_user) + user_dec.finalize()).decode("utf-8", "replace")
    password = cstring(pass_dec.update(enc_pass) + pass_dec.finalize()).decode(
        "utf-8", "replace"
    )
    return user == a.username and password == a.password, user, ""


def sec_plain(c, a):
    """VeNCrypt 0.2 offering only Plain (256): no TLS, so no second ack."""
    c.send(bytes([0, 2]))
    major, minor = c.u8(), c.u8()
    if (major, minor) != (0, 2):
        c.send(b"\xff")
        raise Closed(f"client asked for VeNCrypt {major}.{minor}")
    c.send(b"\0" + bytes([1]) + struct.pack(">I", 256))
    chosen = c.u32()
    if chosen != 256:
        raise Closed(f"client chose VeNCrypt subtype {chosen}, offered only 256")
    ulen, plen = c.u32(), c.u32()
    if ulen > 4096 or plen > 4096:
        raise Closed("credentials too long")
    user = c.recv(ulen).decode("utf-8", "replace")
    password = c.recv(plen).decode("utf-8", "replace")
    return user == a.username and password == a.password, user, "subtype=256"


def cap(code, vendor, signature):
    return struct.pack(">i", code) + vendor + signature


def sec_tight(c, a):
    if a.tight_tunnels:
        c.send(struct.pack(">I", 1) + cap(*CAP_NOTUNNEL))
        tunnel = c.s32()
        if tunnel != 0:
            raise Closed(f"client chose tunnel {tunnel}, offered only NOTUNNEL (0)")
    else:
        c.send(struct.pack(">I", 0))
    auth = TIGHT_AUTH[a.tight_auth]
    c.send(struct.pack(">I", 1) + cap(*auth))
    chosen = c.s32()
    if chosen != auth[0]:
        raise Closed(f"client chose Tight auth {chosen}, offered only {auth[0]}")
    if a.tight_auth == "none":
        return True, "", "auth=none"
    if a.tight_auth == "vnc":
        return vnc_auth(c, a.password), "", "auth=vnc"
    ulen, plen = c.u32(), c.u32()
    if ulen > 4096 or plen > 4096:
        raise Closed("credentials too long")
    user = c.recv(ulen).decode("utf-8", "replace")
    password = c.recv(plen).decode("utf-8", "replace")
    return user == a.username and password == a.password, user, "auth=unix"


class Eax:
    """One direction of the RA2 channel: a session key and the message counter (the nonce,
    16 bytes little-endian, from zero)."""

    def __init__(self, key):
        self.key = key
        self.counter = 0

    def nonce(self):
        n = self.counter.to_bytes(16, "little")
        self.counter += 1
        return n

    def seal(self, plaintext):
        header = struct.pack(">H", len(plaintext))
        ct, tag = eax_encrypt(self.key, self.nonce(), header, plaintext)
        return header + ct + tag

    def open(self, c):
        header = c.recv(2)
        length = struct.unpack(">H", header)[0]
        body = c.recv(length + 16)
        plain = eax_decrypt(self.key, self.nonce(), header, body[:length], body[length:])
        if plain is None:
            raise Closed("RA2: a message failed its MAC check")
        return plain


def rsa_public_blob(bits, n, e):
    size = (bits + 7) // 8
    return struct.pack(">I", bits) + n.to_bytes(size, "big") + e.to_bytes(size, "big")


def sec_ra2ne(c, a):
    key = a.rsa_key
    numbers = key.public_key().public_numbers()
    bits = key.key_size
    server_blob = rsa_public_blob(bits, numbers.n, numbers.e)
    c.send(server_blob)
    client_bits = c.u32()
    if not 1024 <= client_bits <= 8192:
        raise Closed(f"RA2: client key of {client_bits} bits is outside 1024-8192")
    size = (client_bits + 7) // 8
    cn = int.from_bytes(c.recv(size), "big")
    ce = int.from_bytes(c.recv(size), "big")
    client_blob = rsa_public_blob(client_bits, cn, ce)
    client_key = rsa.RSAPublicNumbers(ce, cn).public_key()
    server_random = os.urandom(16)
    enc = client_key.encrypt(server_random, padding.PKCS1v15())
    c.send(struct.pack(">H", len(enc)) + enc)
    length = c.u16()
    if length != (bits + 7) // 8:
        raise Closed(f"RA2: encrypted client random of {length} bytes")
    client_random = key.decrypt(c.recv(length), padding.PKCS1v15())
    if len(client_random) != 16:
        raise Closed("RA2: client random is not 16 bytes")
    client_session = hashlib.sha1(server_random + client_random).digest()[:16]
    server_session = hashlib.sha1(client_random + server_random).digest()[:16]
    to_client, from_client = Eax(server_session), Eax(client_session)
    c.send(to_client.seal(hashlib.sha1(server_blob + client_blob).digest()))
    client_hash = from_client.open(c)
    if client_hash != hashlib.sha1(client_blob + server_blob).digest():
        raise Closed("RA2: wrong client hash")
    subtype = 1 if a.username else 2
    c.send(to_client.seal(bytes([subtype])))
    creds = from_client.open(c)
    ulen = creds[0]
    user = creds[1 : 1 + ulen].decode("utf-8", "replace")
    plen = creds[1 + ulen]
    password = creds[2 + ulen : 2 + ulen + plen].decode("utf-8", "replace")
    ok = password == a.password and (subtype == 2 or user == a.username)
    return ok, user, f"subtype={subtype} client_key_bits={client_bits}"


SECURITY = {
    "ra2ne": sec_ra2ne,
    "tight": sec_tight,
    "plain": sec_plain,
    "xvp": sec_xvp,
    "ard": sec_ard,
    "mslogon2": sec_mslogon2,
}

# ---------------------------------------------------------------------------------------------
# After authentication: ServerInit, then Raw updates of a fixed pattern.


def pattern_rgb(x, y):
    """The framebuffer: red grows with x, green with y, blue in 8x8 checks. Tests compute the
    same function (rfb_testkit::scripted::pattern_rgb)."""
    return (x * 4) & 0xFF, (y * 5) & 0xFF, 240 if (x // 8 + y // 8) % 2 else 40


class PixelFormat:
    def __init__(self, raw):
        (self.bpp, self.depth, self.big, self.true, self.rmax, self.gmax, self.bmax,
         self.rshift, self.gshift, self.bshift) = struct.unpack(">BBBBHHHBBB3x", raw)

    def pack(self, r, g, b):
        v = (
            (r * self.rmax // 255) << self.rshift
            | (g * self.gmax // 255) << self.gshift
            | (b * self.bmax // 255) << self.bshift
        )
        return v.to_bytes(self.bpp // 8, "big" if self.big else "little")


# 32 bpp, depth 24, little-endian, red at bit 16: the format most servers announce.
NATIVE = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)


def serve_session(c, a, tight):
    c.u8()  # ClientInit shared flag: one client at a time anyway
    name = f"scripted {a.type}".encode()
    init = struct.pack(">HH", a.width, a.height) + NATIVE + struct.pack(">I", len(name)) + name
    if tight:
        # The interaction capabilities Tight adds to ServerInit: one of each list, so a client
        # that skips them wrongly is caught.
        init += struct.pack(">HHHH", 1, 1, 1, 0)
        init += cap(150, b"TGHT", b"CUS_EOCU")
        init += cap(150, b"TGHT", b"CUC_ENCU")
        init += cap(0, b"STDV", b"RAW_____")
    c.send(init)
    pf = PixelFormat(NATIVE)
    while True:
        t = c.u8()
        if t == 0:  # SetPixelFormat
            c.recv(3)
            pf = PixelFormat(c.recv(16))
            if not pf.true or pf.bpp not in (8, 16, 32):
                raise Closed(f"unsupported pixel format bpp={pf.bpp} true={pf.true}")
        elif t == 2:  # SetEncodings
            c.recv(1)
            n = c.u16()
            encodings = [c.s32() for _ in range(n)]
            if XVP_PSEUDO_ENCODING in encodings and a.type == "xvp":
                c.send(bytes([250, 0, 1, 1]))  # xvp message, version 1, XVP_INIT
                say("xvp init sent")
        elif t == 3:  # FramebufferUpdateRequest
            incremental = c.u8()
            c.recv(8)
            if incremental:
                continue  # nothing ever changes
            pixels = b"".join(
                pf.pack(*pattern_rgb(x, y)) for y in range(a.height) for x in range(a.width)
            )
            c.send(
                struct.pack(">BxH", 0, 1)
                + struct.pack(">HHHHi", 0, 0, a.width, a.height, 0)
                + pixels
            )
            say(f"update sent {a.width}x{a.height} bpp={pf.bpp}")
        elif t == 4:  # KeyEvent
            c.recv(7)
        elif t == 5:  # PointerEvent
            c.recv(5)
        elif t == 6:  # ClientCutText
            c.recv(3)
            n = c.u32()
            if n > 1 << 20:
                raise Closed("cut text too long")
            c.recv(n)
        elif t == 250:  # xvp client message: this server cannot shut anything down
            _, version, code = c.recv(3)
            c.send(bytes([250, 0, version, 0]))  # XVP_FAIL
            say(f"xvp request {code} refused")
        else:
            raise Closed(f"unknown client message type {t}")


def handle(sock, a):
    c = Conn(sock)
    number = TYPES[a.type]
    try:
        c.send(b"RFB 003.008\n")
        version = c.recv(12)
        if version != b"RFB 003.008\n":
            raise Closed(f"client version {version!r}; this server speaks only 3.8")
        c.send(bytes([1, number]))
        chosen = c.u8()
        if chosen != number:
            raise Closed(f"client chose type {chosen}, offered only {number}")
        ok, user, detail = SECURITY[a.type](c, a)
        if ok:
            c.send(struct.pack(">I", 0))
            say(f"auth ok type={number} user={user!r} {detail}".rstrip())
            serve_session(c, a, a.type == "tight")
        else:
            reason = b"authentication failed"
            c.send(struct.pack(">II", 1, len(reason)) + reason)
            say(f"auth failed type={number} user={user!r} reason={reason.decode()!r} {detail}".rstrip())
    except Closed as e:
        say(f"closed: {e}")
    except (OSError, ValueError) as e:
        say(f"error: {type(e).__name__}: {e}")
    finally:
        sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--type", choices=sorted(TYPES), required=True)
    p.add_argument("--username", default="")
    p.add_argument("--password", default="")
    p.add_argument("--target", default="")
    p.add_argument("--tight-auth", choices=sorted(TIGHT_AUTH), default="vnc")
    p.add_argument("--tight-tunnels", type=int, choices=[0, 1], default=1)
    p.add_argument("--rsa-bits", type=int, default=2048)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--height", type=int, default=48)
    a = p.parse_args()
    a.rsa_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=a.rsa_bits)
        if a.type == "ra2ne"
        else None
    )
    if a.rsa_key is not None:
        # SHA-256 of the key as RA2 puts it on the wire, for clients that pin it.
        n = a.rsa_key.public_key().public_numbers()
        digest = hashlib.sha256(rsa_public_blob(a.rsa_key.key_size, n.n, n.e)).hexdigest()
        say("rsa key sha256=" + ":".join(digest[i : i + 2] for i in range(0, 64, 2)))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        srv.bind(("127.0.0.1", a.port))
    except OSError as e:
        say(f"error: bind: {e}")
        sys.exit(3)
    srv.listen(8)
    say(f"listening on 127.0.0.1:{a.port} type={a.type}")
    while True:
        sock, _ = srv.accept()
        threading.Thread(target=handle, args=(sock, a), daemon=True).start()


if __name__ == "__main__":
    main()
