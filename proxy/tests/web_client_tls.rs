//! VeNCrypt in the browser: the wasm client (`web/dist`) in headless Chromium runs TLS inside
//! RFB (rustls compiled to wasm) through `rfb-proxy --web` (plain websockify mode: the proxy
//! only relays bytes) to a real TigerVNC Xvnc with `-SecurityTypes X509*` and a certificate
//! made by the test. Covered: a CA given as an option (pixels equal `xwd -root`), no CA (the
//! `serververification` event with the certificate's SHA-256 fingerprint as `openssl x509
//! -fingerprint -sha256` prints it; approve connects, refusing sends no credentials), a wrong
//! pinned fingerprint, and anonymous TLS (TLSVnc), which the browser refuses with a reason.
//! X509Plain needs the PAM user `vnctest` that scripts/install-test-deps.sh creates.

// Tests wait on real processes, so they read the real clock; the ban is for core crates.
#![allow(clippy::disallowed_methods)]

mod common;
#[path = "web_app/pki.rs"]
mod pki;

use std::path::{Path, PathBuf};

use common::web::{browser, drive, eval, goto, js, op, wait};
use common::{Proc, copy_dir, start_proxy, temp_dir};
use pki::Pki;
use rfb_testkit::Image;
use rfb_testkit::net::free_port;
use rfb_testkit::pattern;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

const W: u32 = 480;
const H: u32 = 300;
const VNC_PW: &str = "tlspw123";
const PLAIN_USER: &str = "vnctest";
const PLAIN_PW: &str = "plainpw1";

/// The test page: an RFB object with the options from a JSON file, every security event
/// recorded in `window.log`, and `serververification` answered as the query says.
const PAGE: &str = r#"<!doctype html>
<html><body style="margin:0">
<div id="screen" style="width:600px;height:400px"></div>
<script type="module">
import RFB from './rfb.js';
const q = new URLSearchParams(location.search);
const opts = await (await fetch(q.get('opts'))).json();
opts.worker = q.get('worker') !== '0';
window.log = [];
const plain = (v) => JSON.parse(JSON.stringify(v ?? null,
    (k, x) => (x instanceof Uint8Array ? Array.from(x) : x)));
const rfb = new RFB(document.getElementById('screen'), `ws://${location.host}/websockify`, opts);
window.rfb = rfb;
for (const t of ['connect', 'disconnect', 'credentialsrequired', 'securityfailure',
                 'serververification']) {
    rfb.addEventListener(t, (e) => window.log.push({ type: t, detail: plain(e.detail) }));
}
rfb.addEventListener('serververification', () => {
    if (q.get('answer') === 'approve') rfb.approveServer();
    if (q.get('answer') === 'reject') rfb.disconnect();
});
window.has = (t) => window.log.some((e) => e.type === t);
</script></body></html>
"#;

/// `web/dist` copied with the test page, or `None` (skipped locally; a failure in CI).
fn site(dir: &Path) -> Option<PathBuf> {
    let dist = common::web::dist_with(&["rfb.js", "pkg/rfb_web_bg.wasm"])?;
    let site = dir.join("site");
    copy_dir(&dist, &site);
    std::fs::write(site.join("tls.html"), PAGE).unwrap();
    Some(site)
}

/// Xvnc offering `types` with the certificate of `pki`, VNC password [`VNC_PW`] and Plain for
/// [`PLAIN_USER`]; a photo-like image on it so pixel comparisons mean something.
fn server(types: &str, pki: &Pki) -> Option<Xvnc> {
    let x = Xvnc::start_or_skip(
        XvncOptions::new(W, H)
            .vnc_auth(VNC_PW)
            .arg("-SecurityTypes")
            .arg(types)
            .arg("-X509Cert")
            .arg(pki.path("cert.pem"))
            .arg("-X509Key")
            .arg(pki.path("key.pem"))
            .arg("-PlainUsers")
            .arg(PLAIN_USER)
            .arg("-PAMService")
            .arg("tigervnc"),
    )?;
    x.hide_pointer();
    x.set_root_solid("#336699");
    x.show_image(&pattern::photo_like(160, 100, 5), 20, 16);
    x.settle();
    Some(x)
}

fn proxy(x: &Xvnc, site: &Path, dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let p = start_proxy(
        &[
            "--web".into(),
            site.display().to_string(),
            format!("127.0.0.1:{port}"),
            x.addr(),
        ],
        port,
        &dir.join(format!("proxy-{port}.log")),
    );
    (p, port)
}

/// Writes the RFB options as `name.json` in the site; returns the page URL using them.
fn page(site: &Path, port: u16, name: &str, opts: &str, query: &str) -> String {
    std::fs::write(site.join(format!("{name}.json")), opts).unwrap();
    format!("http://127.0.0.1:{port}/tls.html?opts={name}.json{query}")
}

/// The `ok eval` results in order.
fn evals(out: &str) -> Vec<&str> {
    out.lines()
        .filter_map(|l| l.strip_prefix("ok eval "))
        .collect()
}

/// The event types recorded by the page, in order.
const TYPES: &str = "window.log.map((e) => e.type)";

/// Waits until two framebuffer snapshots 300 ms apart are equal (the first update is in).
fn settled() -> String {
    wait(
        "(async () => { const a = await rfb.snapshot(); await new Promise(r => setTimeout(r, 300)); \
         const b = await rfb.snapshot(); if (!a || !b || a.width === 0) return false; \
         const x = a.data, y = b.data; for (let i = 0; i < x.length; i += 97) if (x[i] !== y[i]) return false; \
         return true; })()",
    )
}

fn assert_same(got: &Image, want: &Image, what: &str) {
    assert_eq!((got.width, got.height), (want.width, want.height), "{what}");
    let n = got.diff_count(want);
    assert_eq!(
        n,
        0,
        "{what}: {n} pixels differ, first {:?}",
        got.first_diff(want)
    );
}

/// With the CA as an option the certificate is verified in wasm and no question is asked:
/// X509Vnc connects and the framebuffer equals `xwd -root`, in worker and main-thread mode.
#[test]
fn ca_option_connects_and_pixels_match() {
    let Some(node) = browser() else { return };
    let dir = temp_dir("web-tls-ca");
    let Some(site) = site(&dir) else { return };
    let pki = Pki::new(&dir.join("pki"), "rfb browser CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let (_p, port) = proxy(&x, &site, &dir);
    let opts = format!(
        r#"{{"tlsCaCertificates":{},"tlsServerName":"127.0.0.1","lossless":true,
            "credentials":{{"password":{}}}}}"#,
        js(&pki.ca_pem()),
        js(VNC_PW)
    );
    let want = x.xwd_root();
    for (mode, flag) in [("worker", "1"), ("main", "0")] {
        let fb = dir.join(format!("fb-{mode}.rgba"));
        let steps = vec![
            goto(&page(&site, port, "ca", &opts, &format!("&worker={flag}"))),
            wait("window.has && has('connect')"),
            settled(),
            op(
                "snapshot",
                &format!(r#""out":{}"#, js(&fb.display().to_string())),
            ),
            eval(TYPES),
            eval("rfb.usingWorker"),
        ];
        let out = drive(&node, &dir, &steps);
        let ev = evals(&out);
        assert_eq!(ev[0], r#"["connect"]"#, "{mode}: {out}");
        assert_eq!(ev[1], if flag == "1" { "true" } else { "false" }, "{mode}");
        let got = Image {
            width: W,
            height: H,
            rgba: std::fs::read(&fb).unwrap(),
        };
        assert_same(&got, &want, &format!("{mode}: framebuffer vs xwd -root"));
    }
}

/// X509None and X509Plain (user name and password inside TLS) with the CA.
#[test]
fn x509_none_and_plain_with_the_ca() {
    let Some(node) = browser() else { return };
    let dir = temp_dir("web-tls-subtypes");
    let Some(site) = site(&dir) else { return };
    let pki = Pki::new(&dir.join("pki"), "rfb browser CA");
    for (types, creds) in [
        ("X509None", String::new()),
        (
            "X509Plain",
            format!(
                r#","credentials":{{"username":{},"password":{}}}"#,
                js(PLAIN_USER),
                js(PLAIN_PW)
            ),
        ),
    ] {
        let Some(x) = server(types, &pki) else {
            return;
        };
        let (_p, port) = proxy(&x, &site, &dir);
        let opts = format!(
            r#"{{"tlsCaCertificates":{},"tlsServerName":"127.0.0.1"{creds}}}"#,
            js(&pki.ca_pem())
        );
        let steps = vec![
            goto(&page(&site, port, types, &opts, "")),
            wait("window.has && (has('connect') || has('disconnect'))"),
            eval(TYPES),
            eval("[rfb._fbWidth, rfb._fbHeight]"),
        ];
        let out = drive(&node, &dir, &steps);
        let ev = evals(&out);
        assert_eq!(ev[0], r#"["connect"]"#, "{types}: {out}");
        assert_eq!(ev[1], format!("[{W},{H}]"), "{types}");
    }
}

/// Without a CA or a pin the session stops at the certificate: `serververification` carries
/// its SHA-256 fingerprint; `approveServer()` goes on to the VNC password and the desktop.
#[test]
fn unverified_certificate_is_shown_and_approval_connects() {
    let Some(node) = browser() else { return };
    let dir = temp_dir("web-tls-approve");
    let Some(site) = site(&dir) else { return };
    let pki = Pki::new(&dir.join("pki"), "rfb browser CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let (_p, port) = proxy(&x, &site, &dir);
    let opts = format!(r#"{{"credentials":{{"password":{}}}}}"#, js(VNC_PW));
    for (mode, flag) in [("worker", "1"), ("main", "0")] {
        let steps = vec![
            goto(&page(
                &site,
                port,
                "ask",
                &opts,
                &format!("&answer=approve&worker={flag}"),
            )),
            wait("window.has && (has('connect') || has('disconnect'))"),
            eval(TYPES),
            eval("window.log[0].detail"),
        ];
        let out = drive(&node, &dir, &steps);
        let ev = evals(&out);
        assert_eq!(
            ev[0], r#"["serververification","connect"]"#,
            "{mode}: {out}"
        );
        let detail: serde_json::Value = serde_json::from_str(ev[1]).unwrap();
        assert_eq!(detail["type"], "x509", "{mode}: {detail}");
        assert_eq!(detail["fingerprint"], pki.fingerprint().as_str(), "{mode}");
        // RFC 4514 order: the last RDN first.
        assert_eq!(
            detail["subject"], "CN=rfb browser test server,O=rfb tests",
            "{mode}"
        );
        assert_eq!(detail["issuer"], "CN=rfb browser CA", "{mode}");
    }
}

/// Refusing (`disconnect()` on `serververification`) ends the connection before any
/// authentication: no credentials were asked for, so none could be sent.
#[test]
fn refusing_the_certificate_sends_no_credentials() {
    let Some(node) = browser() else { return };
    let dir = temp_dir("web-tls-reject");
    let Some(site) = site(&dir) else { return };
    let pki = Pki::new(&dir.join("pki"), "rfb browser CA");
    let Some(x) = server("X509Plain", &pki) else {
        return;
    };
    let (_p, port) = proxy(&x, &site, &dir);
    let steps = vec![
        goto(&page(&site, port, "reject", "{}", "&answer=reject")),
        wait("window.has && has('disconnect')"),
        eval(TYPES),
        eval("rfb._rfbConnectionState"),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], r#"["serververification","disconnect"]"#, "{out}");
    assert_eq!(ev[1], r#""disconnected""#, "{out}");
}

/// A pinned fingerprint that does not match: `securityfailure` says so and names the
/// certificate's real fingerprint; nothing is asked.
#[test]
fn wrong_pinned_fingerprint_is_a_security_failure() {
    let Some(node) = browser() else { return };
    let dir = temp_dir("web-tls-pin");
    let Some(site) = site(&dir) else { return };
    let pki = Pki::new(&dir.join("pki"), "rfb browser CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let (_p, port) = proxy(&x, &site, &dir);
    let wrong = ["ab"; 32].join(":");
    let opts = format!(
        r#"{{"tlsFingerprint":{},"credentials":{{"password":{}}}}}"#,
        js(&wrong),
        js(VNC_PW)
    );
    // The right pin connects, so the failure below is the pin's doing.
    let right = format!(
        r#"{{"tlsFingerprint":{},"credentials":{{"password":{}}}}}"#,
        js(&pki.fingerprint().to_uppercase()),
        js(VNC_PW)
    );
    let steps = vec![
        goto(&page(&site, port, "wrong", &opts, "")),
        wait("window.has && has('disconnect')"),
        eval(TYPES),
        eval("window.log.find((e) => e.type === 'securityfailure').detail.reason"),
        goto(&page(&site, port, "right", &right, "")),
        wait("window.has && (has('connect') || has('disconnect'))"),
        eval(TYPES),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], r#"["securityfailure","disconnect"]"#, "{out}");
    assert!(ev[1].contains("does not match the pinned"), "{}", ev[1]);
    assert!(ev[1].contains(&pki.fingerprint()), "{}", ev[1]);
    assert_eq!(ev[2], r#"["connect"]"#, "{out}");
}

/// Anonymous TLS (TLSVnc) cannot run in the browser: the failure says why and what to use.
#[test]
fn anonymous_tls_is_refused_with_a_reason() {
    let Some(node) = browser() else { return };
    let dir = temp_dir("web-tls-anon");
    let Some(site) = site(&dir) else { return };
    let pki = Pki::new(&dir.join("pki"), "rfb browser CA");
    let Some(x) = server("TLSVnc", &pki) else {
        return;
    };
    let (_p, port) = proxy(&x, &site, &dir);
    let opts = format!(r#"{{"credentials":{{"password":{}}}}}"#, js(VNC_PW));
    let steps = vec![
        goto(&page(&site, port, "anon", &opts, "")),
        wait("window.has && has('disconnect')"),
        eval(TYPES),
        eval("window.log.find((e) => e.type === 'securityfailure').detail.reason"),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], r#"["securityfailure","disconnect"]"#, "{out}");
    for needle in [
        "anonymous TLS",
        "rustls",
        "rfb-proxy",
        "RFB-aware security mode",
    ] {
        assert!(ev[1].contains(needle), "{needle:?} in {}", ev[1]);
    }
}

/// RA2ne (a scripted server from the RSA-AES description, which npm noVNC also authenticates
/// against): the server's RSA key arrives as noVNC's `serververification` detail
/// (`type: 'RSA'`, `publickey`) plus its SHA-256 `fingerprint`; approving connects.
#[test]
fn ra2ne_server_key_is_shown_as_novnc_does() {
    use rfb_testkit::scripted::{Credentials, Scheme, ScriptedServer};
    let Some(node) = browser() else { return };
    let dir = temp_dir("web-ra2ne");
    let Some(site) = site(&dir) else { return };
    let creds = Credentials {
        password: "ra2pass1".into(),
        ..Default::default()
    };
    let Some(server) = ScriptedServer::start_or_skip(Scheme::Ra2ne, &creds) else {
        return;
    };
    let port = free_port();
    let _p = start_proxy(
        &[
            "--web".into(),
            site.display().to_string(),
            format!("127.0.0.1:{port}"),
            server.addr(),
        ],
        port,
        &dir.join("proxy.log"),
    );
    let opts = r#"{"credentials":{"password":"ra2pass1"}}"#;
    let steps = vec![
        goto(&page(&site, port, "ra2ne", opts, "&answer=approve")),
        wait("window.has && (has('connect') || has('disconnect'))"),
        eval(TYPES),
        eval(
            "(({type, fingerprint, publickey}) => [type, fingerprint, publickey.length])\
             (window.log[0].detail)",
        ),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], r#"["serververification","connect"]"#, "{out}");
    let detail: serde_json::Value = serde_json::from_str(ev[1]).unwrap();
    let fp = server.rsa_fingerprint().expect("the script prints its key");
    assert_eq!(detail[0], "RSA", "{detail}");
    assert_eq!(detail[1], fp.as_str(), "{detail}");
    // U32 bits, then modulus and exponent of the key's byte length each.
    assert!(detail[2].as_u64().unwrap() >= 4 + 2 * 128, "{detail}");
}

/// A CA given as an option is binding: a certificate from another CA, or one that does not
/// name `tlsServerName`, ends in `securityfailure` with the reason, never in a question.
#[test]
fn ca_mismatches_are_security_failures() {
    let Some(node) = browser() else { return };
    let dir = temp_dir("web-tls-ca-fail");
    let Some(site) = site(&dir) else { return };
    let pki = Pki::new(&dir.join("pki"), "rfb browser CA");
    let other = Pki::new(&dir.join("other"), "some other CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let (_p, port) = proxy(&x, &site, &dir);
    let opts = |ca: &Pki, name: &str| {
        format!(
            r#"{{"tlsCaCertificates":{},"tlsServerName":{},"credentials":{{"password":{}}}}}"#,
            js(&ca.ca_pem()),
            js(name),
            js(VNC_PW)
        )
    };
    let reason = "window.log.find((e) => e.type === 'securityfailure').detail.reason";
    let steps = vec![
        goto(&page(&site, port, "other", &opts(&other, "127.0.0.1"), "")),
        wait("window.has && has('disconnect')"),
        eval(TYPES),
        eval(reason),
        goto(&page(
            &site,
            port,
            "name",
            &opts(&pki, "vnc.example.org"),
            "",
        )),
        wait("window.has && has('disconnect')"),
        eval(TYPES),
        eval(reason),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    for (types, why, needle) in [
        (ev[0], ev[1], "UnknownIssuer"),
        (ev[2], ev[3], "NotValidForName"),
    ] {
        assert_eq!(types, r#"["securityfailure","disconnect"]"#, "{out}");
        assert!(why.contains("not trusted by the CA file"), "{why}");
        assert!(why.contains(needle), "{needle:?} in {why}");
        assert!(why.contains(&pki.fingerprint()), "{why}");
    }
}
