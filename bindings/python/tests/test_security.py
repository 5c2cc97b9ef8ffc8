"""Security through the Python package against TigerVNC Xvnc: VeNCrypt X509Vnc and X509Plain
over rustls with a CA file or PEM, a pinned fingerprint (trust on first use through
``CertificateError.fingerprint``), and the typed errors for wrong passwords, another CA, a
wrong fingerprint and bad options. Certificates are made here with the ``openssl`` command;
X509Plain logs in as the PAM user vnctest/plainpw1 that scripts/install-test-deps.sh creates."""

import asyncio
import os
import shutil
import subprocess

import pytest

import rfb
from conftest import settle

VNC_PW = "tlspw123"
PLAIN_USER = "vnctest"
PLAIN_PW = "plainpw1"


def make_pki(directory, ca_name):
    """A CA and a server certificate for 127.0.0.1 signed by it; returns the paths and the
    server certificate's SHA-256 fingerprint as librfb formats it."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    os.makedirs(directory, exist_ok=True)
    p = lambda name: os.path.join(directory, name)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "30",
        "-subj", f"/CN={ca_name}", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", p("key.pem"), "-out", p("req.csr"), "-subj", "/CN=127.0.0.1")
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", p("req.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
        "-CAcreateserial", "-out", p("cert.pem"), "-days", "30", "-extfile", p("ext.cnf"))
    out = subprocess.run(["openssl", "x509", "-in", p("cert.pem"), "-noout", "-fingerprint",
                          "-sha256"], check=True, capture_output=True, text=True).stdout
    fingerprint = out.strip().split("=", 1)[1].lower()
    return {"ca": p("ca.pem"), "cert": p("cert.pem"), "key": p("key.pem"), "fp": fingerprint}


@pytest.fixture
def tls_server(xvnc_factory, tmp_path):
    """Starts an Xvnc offering ``types`` with a fresh certificate; returns (xvnc, pki)."""

    def start(types):
        pki = make_pki(str(tmp_path / "pki"), "rfb-py test CA")
        x = xvnc_factory(width=96, height=64, password=VNC_PW, security=types, args=[
            "-X509Cert", pki["cert"], "-X509Key", pki["key"],
            "-PlainUsers", PLAIN_USER, "-PAMService", "tigervnc"])
        x.run("xsetroot", "-solid", "#336699")
        settle(x)
        return x, pki

    return start


def same_as_xwd(x, img):
    want, w, h = x.xwd_root()
    assert (img.width, img.height) == (w, h)
    assert bytes(img) == want


def test_x509vnc_and_x509plain_with_a_ca(tls_server):
    x, pki = tls_server("X509Vnc,X509Plain")
    with rfb.connect(x.addr, VNC_PW, security="x509vnc", ca_file=pki["ca"]) as c:
        same_as_xwd(x, c.screenshot())
    with open(pki["ca"], "rb") as f:
        ca_pem = f.read()
    with rfb.connect(x.addr, PLAIN_PW, security=["x509plain"], username=PLAIN_USER,
                     ca_pem=ca_pem) as c:
        same_as_xwd(x, c.screenshot())
    # With a CA and no list, X509Plain comes first, and it needs a username.
    with pytest.raises(rfb.AuthError, match="username"):
        rfb.connect(x.addr, PLAIN_PW, ca_file=pki["ca"])


def test_wrong_passwords_are_auth_errors(tls_server):
    x, pki = tls_server("X509Vnc,X509Plain")
    with pytest.raises(rfb.AuthError, match="authentication failed"):
        rfb.connect(x.addr, "wrongpw9", security="x509vnc", ca_file=pki["ca"])
    with pytest.raises(rfb.AuthError, match="authentication failed"):
        rfb.connect(x.addr, "wrongpw9", security="x509plain", username=PLAIN_USER,
                    ca_file=pki["ca"])


def test_fingerprint_trust_on_first_use(tls_server):
    x, pki = tls_server("X509Vnc")
    # Nothing trusted: the error carries the certificate's fingerprint...
    with pytest.raises(rfb.CertificateError) as e:
        rfb.connect(x.addr, VNC_PW)
    assert e.value.fingerprint == pki["fp"]
    assert pki["fp"] in str(e.value)
    # ...which, pinned, is accepted (any case, colons optional).
    with rfb.connect(x.addr, VNC_PW, fingerprint=e.value.fingerprint) as c:
        same_as_xwd(x, c.screenshot())
    with rfb.connect(x.addr, VNC_PW, fingerprint=pki["fp"].replace(":", "").upper()) as c:
        assert c.size == (96, 64)
    # Another certificate's fingerprint: rejected, and the error names the one seen.
    wrong = ("01" if pki["fp"].startswith("00") else "00") + pki["fp"][2:]
    with pytest.raises(rfb.CertificateError, match="does not match the pinned") as e:
        rfb.connect(x.addr, VNC_PW, fingerprint=wrong)
    assert e.value.fingerprint == pki["fp"]


def test_another_ca_is_a_certificate_error(tls_server, tmp_path):
    x, pki = tls_server("X509Vnc")
    other = make_pki(str(tmp_path / "other"), "some other CA")
    with pytest.raises(rfb.CertificateError, match="not trusted by the CA"):
        rfb.connect(x.addr, VNC_PW, ca_file=other["ca"])
    # The right CA but a name the certificate does not carry.
    with pytest.raises(rfb.CertificateError, match="not trusted by the CA") as e:
        rfb.connect(x.addr, VNC_PW, ca_file=pki["ca"], tls_server_name="vnc.example")
    assert "vnc.example" in str(e.value) or "name" in str(e.value).lower(), str(e.value)


def test_tls_required_refuses_a_server_without_it(xvnc_factory, tmp_path):
    pki = make_pki(str(tmp_path / "pki"), "rfb-py test CA")
    x = xvnc_factory(width=64, height=48, password=VNC_PW)  # VncAuth only
    with pytest.raises(rfb.UnsupportedError, match="no common security type"):
        rfb.connect(x.addr, VNC_PW, ca_file=pki["ca"])


def test_asyncio_with_a_pinned_certificate(tls_server):
    x, pki = tls_server("X509Vnc")

    async def main():
        async with await rfb.connect_async(x.addr, VNC_PW, fingerprint=pki["fp"]) as c:
            return await c.screenshot()

    same_as_xwd(x, asyncio.run(main()))


def test_bad_security_options_fail_before_connecting():
    # Port 1 is never dialled: each of these fails while the options are checked.
    with pytest.raises(ValueError, match="unknown security type"):
        rfb.connect("127.0.0.1:1", security="x509bogus")
    with pytest.raises(ValueError, match="invalid SHA-256 fingerprint"):
        rfb.connect("127.0.0.1:1", fingerprint="abc")
    with pytest.raises(ValueError, match="not both"):
        rfb.connect("127.0.0.1:1", fingerprint="00" * 32, ca_pem="x")
    with pytest.raises(ValueError, match="no PEM certificate"):
        rfb.connect("127.0.0.1:1", ca_pem="not a certificate")
    with pytest.raises(ValueError, match="server's name"):
        rfb.Session(ca_pem="-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")


XVP_SERVER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "crates", "rfb-testkit",
                          "scripted", "rfb_auth_server.py")


def start_scripted(*args):
    """The repository's scripted security server (noVNC authenticates against it too, see
    proxy/tests/scripted_security.rs) with ``args``; returns (process, address, log path)."""
    import sys
    import tempfile

    from conftest import _free_port, _wait_port

    try:
        import cryptography  # noqa: F401  (the script needs it)
    except ImportError:
        pytest.skip("the scripted server needs the cryptography package")
    port = _free_port()
    log = tempfile.NamedTemporaryFile(prefix="rfb-py-scripted-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, XVP_SERVER, "--port", str(port), *args],
                            stdout=log, stderr=subprocess.STDOUT)
    _wait_port(port)
    return proc, f"127.0.0.1:{port}", log.name


@pytest.fixture
def scripted():
    started = []

    def start(*args):
        proc, addr, log = start_scripted(*args)
        started.append((proc, log))
        return addr, log

    yield start
    for proc, log in started:
        proc.kill()
        proc.wait()
        os.unlink(log)


@pytest.fixture
def xvp_server(scripted):
    """The scripted xvp (22) server for user "ops", password "xvppw123", target "vm7"."""
    addr, _ = scripted("--type", "xvp", "--username", "ops", "--password", "xvppw123",
                       "--target", "vm7")
    return addr


def test_xvp_target(xvp_server):
    with rfb.connect(xvp_server, "xvppw123", username="ops", target="vm7",
                     security="xvp") as c:
        assert c.size == (64, 48)
    with pytest.raises(rfb.AuthError, match="target"):
        rfb.connect(xvp_server, "xvppw123", username="ops", security="xvp")
    with pytest.raises(rfb.AuthError, match="authentication failed"):
        rfb.connect(xvp_server, "xvppw123", username="ops", target="vm8", security=[22])


def test_verify_server_callback_decides(tls_server):
    x, pki = tls_server("X509Vnc")
    seen = []

    def trust(identity):
        seen.append(identity)
        return True

    with rfb.connect(x.addr, VNC_PW, verify_server=trust) as c:
        same_as_xwd(x, c.screenshot())
    assert len(seen) == 1
    assert seen[0]["kind"] == "x509"
    assert seen[0]["fingerprint"] == pki["fp"]
    assert seen[0]["subject"] == "CN=127.0.0.1"
    assert "rfb-py test CA" in seen[0]["issuer"]
    # Refused by the callback: CertificateError with the fingerprint, no password sent.
    with pytest.raises(rfb.CertificateError, match="did not approve") as e:
        rfb.connect(x.addr, VNC_PW, verify_server=lambda identity: False)
    assert e.value.fingerprint == pki["fp"]
    # A pin decides without asking.
    asked = []
    with rfb.connect(x.addr, VNC_PW, fingerprint=pki["fp"], verify_server=asked.append):
        pass
    assert asked == []


def test_ra2ne_server_key_goes_to_verify_server(scripted):
    addr, log = scripted("--type", "ra2ne", "--password", "ra2pw123")
    with open(log) as f:
        # Printed (and flushed) before the script listens.
        fp = [line for line in f if line.startswith("rsa key sha256=")][0].split("=", 1)[1].strip()
    # Nobody to ask: the key is refused at once with its fingerprint (no stall).
    with pytest.raises(rfb.CertificateError) as e:
        rfb.connect(addr, "ra2pw123", security="ra2ne", timeout=20)
    assert e.value.fingerprint == fp
    seen = []
    with rfb.connect(addr, "ra2pw123", security="ra2ne", timeout=20,
                     verify_server=lambda i: seen.append(i) or True) as c:
        assert c.size == (64, 48)
    assert seen[0]["kind"] == "rsa" and seen[0]["bits"] == 2048
    assert seen[0]["fingerprint"] == e.value.fingerprint
