//! noVNC (npm core) in headless Chromium through the proxy.

use super::*;

/// A page around npm `@novnc/novnc` `core/rfb.js`: answers `credentialsrequired` with
/// `?password=`, shows the outcome in `#status` (a security failure with noVNC's status and
/// reason), and offers `stableDump()`: the canvas once two dumps 400 ms apart agree. QualityLevel
/// pseudo-encodings are left out of SetEncodings (TigerVNC would send lossy JPEG otherwise).
const PAGE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>rfb-proxy security mode test</title></head>
<body style="margin:0">
<div id="status">loading</div>
<div id="screen"></div>
<script type="module">
import RFB from './node_modules/@novnc/novnc/core/rfb.js';
const q = new URLSearchParams(location.search);
const send = RFB.messages.clientEncodings;
RFB.messages.clientEncodings = (sock, encs) => send(sock, encs.filter(e => e < -32 || e > -23));
const status = document.getElementById('status');
const rfb = new RFB(document.getElementById('screen'), `ws://${location.host}/websockify`, {});
rfb.scaleViewport = false;
rfb.addEventListener('credentialsrequired', () => rfb.sendCredentials({ password: q.get('password') || '' }));
rfb.addEventListener('connect', () => { status.textContent = 'connected'; });
rfb.addEventListener('securityfailure', e => {
  status.textContent = 'securityfailure: ' + e.detail.status + ': ' + e.detail.reason;
});
rfb.addEventListener('disconnect', e => {
  if (!status.textContent.startsWith('securityfailure')) status.textContent = 'disconnected: clean=' + e.detail.clean;
});
window.stableDump = async () => {
  const one = () => {
    const c = document.querySelector('#screen canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
    return { w: c.width, h: c.height, b64: btoa(s) };
  };
  const pause = ms => new Promise(r => setTimeout(r, ms));
  await pause(1000);
  let prev = one(), cur = prev;
  for (let i = 0; i < 25; i++) {
    await pause(400);
    cur = one();
    if (cur.b64 === prev.b64 && cur.w > 0) break;
    prev = cur;
  }
  return cur;
};
window.rfb = rfb;
</script></body></html>
"#;

/// The node project (noVNC, playwright-core) and a web root with the page and a copy of noVNC
/// (a copy: rfb-proxy refuses symlinks leading out of its root).
fn novnc_root(tag: &str) -> Option<(PathBuf, TempDir)> {
    let node = require_node_package("@novnc/novnc")?;
    let node = browser().map(|_| node)?;
    let dir = temp_dir(tag);
    copy_dir(
        &node.join("node_modules/@novnc/novnc"),
        &dir.join("web/node_modules/@novnc/novnc"),
    );
    fs::write(dir.join("web/novnc.html"), PAGE).unwrap();
    Some((node, dir))
}

const STATUS: &str = "document.getElementById('status').textContent";

/// The `ok eval` value printed by drive.mjs.
fn eval_value(stdout: &str) -> serde_json::Value {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ok eval "))
        .unwrap_or_else(|| panic!("no eval result in:\n{stdout}"));
    serde_json::from_str(line).expect("JSON from drive.mjs")
}

/// noVNC connects through the proxy; returns its canvas once stable.
fn novnc_canvas(node: &Path, dir: &Path, port: u16, query: &str) -> Image {
    let url = format!("http://127.0.0.1:{port}/novnc.html?{query}");
    let out = drive(
        node,
        dir,
        &[
            goto(&url),
            wait(&format!("{STATUS} === 'connected'")),
            eval("stableDump()"),
        ],
    );
    let v = eval_value(&out);
    let rgba = base64::engine::general_purpose::STANDARD
        .decode(v["b64"].as_str().expect("b64"))
        .expect("base64");
    Image {
        width: v["w"].as_u64().expect("w") as u32,
        height: v["h"].as_u64().expect("h") as u32,
        rgba,
    }
}

/// noVNC's final status text once it is not connecting any more.
fn novnc_outcome(node: &Path, dir: &Path, port: u16, query: &str) -> String {
    let url = format!("http://127.0.0.1:{port}/novnc.html?{query}");
    let out = drive(
        node,
        dir,
        &[
            goto(&url),
            wait(&format!("{STATUS} !== 'loading' && {STATUS} !== ''")),
            eval(STATUS),
        ],
    );
    eval_value(&out).as_str().unwrap_or_default().to_string()
}

#[test]
fn novnc_through_x509vnc_x509plain_and_tlsvnc_matches_xwd() {
    let Some((node, dir)) = novnc_root("rfbsec-novnc") else {
        return;
    };
    let pki = Pki::new(&dir, "rfb test CA");
    let vnc_pw = file(&dir, "vncpw", VNC_PW);
    let plain_pw = file(&dir, "plainpw", PLAIN_PW);
    let web = dir.join("web");
    let cases: [(&str, Vec<String>); 3] = [
        (
            "X509Vnc",
            args(&[
                "--vnc-security",
                "x509vnc",
                "--vnc-password-file",
                &vnc_pw,
                "--vnc-ca-file",
                &pki.path("ca.pem"),
            ]),
        ),
        (
            "X509Plain",
            args(&[
                "--vnc-security",
                "x509plain",
                "--vnc-username",
                PLAIN_USER,
                "--vnc-password-file",
                &plain_pw,
                "--vnc-fingerprint",
                &pki.fingerprint(),
            ]),
        ),
        (
            "TLSVnc",
            args(&["--vnc-security", "tlsvnc", "--vnc-password-file", &vnc_pw]),
        ),
    ];
    for (types, extra) in cases {
        // Each Xvnc offers only this subtype, so the picture proves the proxy spoke it.
        let Some(x) = server(types, &pki) else {
            return;
        };
        let (p, port) = proxy(&dir, Some(&web), &x, &extra);
        let want = x.xwd_root();
        let got = novnc_canvas(&node, &dir, port, "");
        assert_same(&got, &want, &format!("noVNC through the proxy to {types}"));
        drop(p);
        let log = log_of(&dir, port);
        assert!(
            log.contains("authenticated to the VNC server with vencrypt(19)"),
            "{types}: {log}"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn novnc_sees_the_servers_refusal_as_a_security_failure() {
    let Some((node, dir)) = novnc_root("rfbsec-refusal") else {
        return;
    };
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let wrong = file(&dir, "wrongpw", "not-the-password");
    let (_p, port) = proxy(
        &dir,
        Some(&dir.join("web")),
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &wrong,
            "--vnc-ca-file",
            &pki.path("ca.pem"),
        ]),
    );
    let status = novnc_outcome(&node, &dir, port, "");
    assert!(
        status.starts_with("securityfailure: 1: VNC server: authentication failed"),
        "{status}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn novnc_with_a_proxy_password_right_and_wrong() {
    let Some((node, dir)) = novnc_root("rfbsec-webauth") else {
        return;
    };
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let (_p, port) = proxy(
        &dir,
        Some(&dir.join("web")),
        &x,
        &args(&[
            "--vnc-security",
            "vencrypt",
            "--vnc-password-file",
            &file(&dir, "vncpw", VNC_PW),
            "--vnc-ca-file",
            &pki.path("ca.pem"),
            "--browser-auth",
            "vncauth",
            "--browser-password-file",
            &file(&dir, "webpw", BROWSER_PW),
        ]),
    );
    let status = novnc_outcome(&node, &dir, port, "password=wrong");
    assert_eq!(
        status, "securityfailure: 1: Authentication failed: wrong password",
        "wrong browser password"
    );
    // The server was never contacted for that browser: only the right password gets a session.
    assert!(!log_of(&dir, port).contains("authenticated to the VNC server"));
    let got = novnc_canvas(&node, &dir, port, &format!("password={BROWSER_PW}"));
    assert_same(&got, &x.xwd_root(), "noVNC with the proxy's password");
    let _ = fs::remove_dir_all(&dir);
}
