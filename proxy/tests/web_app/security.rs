//! The app's security dialogs against Xvnc with VeNCrypt X509Plain (TLS inside RFB, run in
//! wasm): the server identity dialog shows the certificate's fingerprint, an approved
//! identity is remembered per server (trust on first use, across a reload), a changed one is
//! a loud warning with Reject focused, and the credentials dialog asks for exactly the fields
//! the server needs (user name and password for Plain).

#[path = "pki.rs"]
#[allow(dead_code)] // ca_pem is for web_client_tls.rs
mod pki;

use pki::Pki;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

use super::support::*;
use crate::common::{copy_dir, start_proxy, temp_dir};

const PLAIN_USER: &str = "vnctest";
const PLAIN_PW: &str = "plainpw1";
/// The subject of the test certificates (pki.rs), as the dialog shows it (RFC 4514).
const SUBJECT: &str = "CN=rfb browser test server,O=rfb tests";

fn tls_desktop(pki: &Pki) -> Option<Xvnc> {
    desktop(
        XvncOptions::new(W, H)
            .arg("-SecurityTypes")
            .arg("X509Plain")
            .arg("-X509Cert")
            .arg(pki.path("cert.pem"))
            .arg("-X509Key")
            .arg(pki.path("key.pem"))
            .arg("-PlainUsers")
            .arg(PLAIN_USER)
            .arg("-PAMService")
            .arg("tigervnc"),
    )
}

const VERIFY_SHOWN: &str = "!document.getElementById('verify_dialog').hidden";
const CREDS_SHOWN: &str = "!document.getElementById('credentials_dialog').hidden";

/// What the identity dialog shows: kind, fingerprint, previous fingerprint, subject, issuer,
/// whether the change warning is up, and which button has the focus.
const VERIFY_VIEW: &str = "['verify_kind', 'verify_fingerprint', 'verify_previous', \
     'verify_subject', 'verify_issuer']\
     .map((id) => document.getElementById(id).textContent)\
     .concat([!document.getElementById('verify_changed').hidden, document.activeElement.id])";

/// The credentials dialog's visible rows, then the answers.
fn credentials_steps() -> Vec<String> {
    vec![
        wait(CREDS_SHOWN),
        eval(
            "['username', 'password', 'target'].map(t => \
             !document.getElementById('credentials_' + t + '_row').hidden)",
        ),
        fill("#credentials_username", PLAIN_USER),
        fill("#credentials_password", PLAIN_PW),
        click("#credentials_button"),
    ]
}

#[test]
fn trust_on_first_use_and_a_changed_certificate() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let dir = temp_dir("app-tofu");
    let first = Pki::new(&dir.join("pki1"), "rfb app CA one");
    let second = Pki::new(&dir.join("pki2"), "rfb app CA two");
    let (Some(x1), Some(x2)) = (tls_desktop(&first), tls_desktop(&second)) else {
        return;
    };
    // A copy of the app: the test drops a file into it to tell the page the proxy changed.
    let site = dir.join("site");
    copy_dir(&dist, &site);
    let (proxy, port) = proxy_to(&x1.addr(), &site, &dir);
    let url = app_url(port, "?autoconnect=1");
    let marker = Marker::new();
    let mut steps = vec![goto(&url), wait(VERIFY_SHOWN), eval(VERIFY_VIEW)];
    steps.push(screenshot("vnc-verify-certificate.png"));
    steps.push(click("#verify_approve"));
    steps.extend(credentials_steps());
    steps.extend([
        wait(CONNECTED),
        eval(
            "Object.keys(localStorage).filter((k) => k.startsWith('rfb.app.trust.'))\
             .map((k) => [k, localStorage.getItem(k)])",
        ),
        // Reload: the remembered certificate is approved without a question.
        goto(&url),
    ]);
    steps.extend(credentials_steps());
    steps.extend([
        wait(CONNECTED),
        eval(&format!(
            "[{VERIFY_SHOWN}, app.status.history.some((h) => String(h).includes('identity'))]"
        )),
        // The same address now leads to a server with another certificate.
        marker.step(),
        wait(
            "(async () => { try { return (await fetch('/restarted.txt')).ok; } \
             catch { return false; } })()",
        ),
        goto(&url),
        wait(VERIFY_SHOWN),
        eval(VERIFY_VIEW),
        screenshot("vnc-verify-changed.png"),
        click("#verify_reject"),
        wait("app.state === 'disconnected'"),
        eval(&format!(
            "[{CREDS_SHOWN}, Object.keys(localStorage).filter((k) => \
             k.startsWith('rfb.app.trust.')).map((k) => localStorage.getItem(k))]"
        )),
    ]);
    let mut proxy = Some(proxy);
    let args = [
        "--web".to_string(),
        site.display().to_string(),
        format!("127.0.0.1:{port}"),
        x2.addr(),
    ];
    let mut restarted = None;
    let out = drive_while(&node, &dir, steps, || {
        if proxy.is_some() && marker.hit() {
            drop(proxy.take());
            restarted = Some(start_proxy(&args, port, &dir.join("proxy2.log")));
            std::fs::write(site.join("restarted.txt"), "yes").unwrap();
        }
    });
    let ev = evals(&out);
    let fp1 = first.fingerprint();
    let fp2 = second.fingerprint();
    assert_ne!(fp1, fp2);
    // First use: the certificate and its fingerprint, no warning, Approve focused.
    assert_eq!(
        ev[0],
        format!(
            r#"["TLS certificate (X.509)","{fp1}","","{SUBJECT}","CN=rfb app CA one",false,"verify_approve"]"#
        ),
        "{out}"
    );
    // Plain asks for a user name and a password, not for a target.
    assert_eq!(ev[1], "[true,true,false]", "{out}");
    // Remembered under the server's address and the kind.
    assert_eq!(
        ev[2],
        format!(r#"[["rfb.app.trust.127.0.0.1:{port}/websockify|x509","{fp1}"]]"#),
        "{out}"
    );
    // After the reload: credentials again (never stored), but no identity question.
    assert_eq!(ev[3], "[true,true,false]", "{out}");
    assert_eq!(ev[4], "[false,false]", "{out}");
    // (ev[5] is the marker step.) The other certificate: the loud warning with both
    // fingerprints, Reject focused.
    assert_eq!(
        ev[6],
        format!(
            r#"["TLS certificate (X.509)","{fp2}","{fp1}","{SUBJECT}","CN=rfb app CA two",true,"verify_reject"]"#
        ),
        "{out}"
    );
    // Rejected: no credentials asked, the remembered fingerprint unchanged.
    assert_eq!(ev[7], format!(r#"[false,["{fp1}"]]"#), "{out}");
}

/// The same dialog serves RealVNC's RSA-AES: an RA2ne server (scripted from the published
/// description, validated by noVNC) shows its RSA key's fingerprint; once approved the
/// credentials dialog asks for the password only.
#[test]
fn rsa_server_key_in_the_same_dialog() {
    use rfb_testkit::scripted::{Credentials, Scheme, ScriptedServer};
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let creds = Credentials {
        password: "ra2pass1".into(),
        ..Default::default()
    };
    let Some(server) = ScriptedServer::start_or_skip(Scheme::Ra2ne, &creds) else {
        return;
    };
    let dir = temp_dir("app-rsa");
    let (_proxy, port) = proxy_to(&server.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(VERIFY_SHOWN),
        eval(VERIFY_VIEW),
        click("#verify_approve"),
        wait(CREDS_SHOWN),
        eval(
            "['username', 'password', 'target'].map(t => \
             !document.getElementById('credentials_' + t + '_row').hidden)",
        ),
        fill("#credentials_password", "ra2pass1"),
        click("#credentials_button"),
        wait(CONNECTED),
        eval(
            "Object.keys(localStorage).filter((k) => k.startsWith('rfb.app.trust.'))\
             .map((k) => [k, localStorage.getItem(k)])",
        ),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    let fp = server.rsa_fingerprint().expect("the script prints its key");
    assert_eq!(
        ev[0],
        format!(r#"["RSA public key","{fp}","","","",false,"verify_approve"]"#),
        "{out}"
    );
    assert_eq!(ev[1], "[false,true,false]", "{out}");
    assert_eq!(
        ev[2],
        format!(r#"[["rfb.app.trust.127.0.0.1:{port}/websockify|rsa","{fp}"]]"#),
        "{out}"
    );
}
