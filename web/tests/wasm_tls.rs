//! wasm-bindgen-test unit tests of the session's TLS options in headless Chromium: mistakes in
//! `tlsFingerprint`/`tlsCaCertificates` fail the connection with a clear `securityfailure`, a
//! CA or pin makes TLS required (a server without VeNCrypt is refused), and approving with
//! nothing to approve is an error, not a state change. The TLS itself runs against Xvnc in
//! proxy/tests/web_client_tls.rs. Run by `cargo xtask test` (step `wasm-tests`).
#![cfg(target_arch = "wasm32")]

use js_sys::{Object, Reflect};
use rfb_web::Session;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap()
}

fn options(pairs: &[(&str, &str)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v)).unwrap();
    }
    o.into()
}

/// The `securityfailure` reason after feeding `bytes`, which must fail.
fn failure(options: &JsValue, bytes: &[u8]) -> String {
    let mut s = Session::new(options, 0.0);
    assert!(s.feed(bytes, 1.0).is_err());
    let mut reasons = Vec::new();
    loop {
        let ev = s.poll_event();
        if ev.is_undefined() {
            break;
        }
        if get(&ev, "type") == "securityfailure" {
            reasons.push(get(&ev, "reason").as_string().unwrap());
        }
    }
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    reasons.remove(0)
}

#[wasm_bindgen_test]
fn malformed_tls_options_fail_with_a_clear_reason() {
    let r = failure(&options(&[("tlsFingerprint", "ab:cd")]), b"RFB 003.008\n");
    assert!(r.contains("fingerprint"), "{r}");
    let r = failure(
        &options(&[("tlsCaCertificates", "not a certificate")]),
        b"RFB 003.008\n",
    );
    assert!(r.contains("CA"), "{r}");
    let both = options(&[
        ("tlsCaCertificates", "x"),
        ("tlsFingerprint", &["ab"; 32].join(":")),
    ]);
    let r = failure(&both, b"RFB 003.008\n");
    assert!(r.contains("not both"), "{r}");
}

#[wasm_bindgen_test]
fn a_pin_makes_tls_required() {
    let pin = options(&[("tlsFingerprint", &["ab"; 32].join(""))]);
    let mut s = Session::new(&pin, 0.0);
    // A server offering only VNC Authentication: refused, nothing weaker is chosen.
    let r = s.feed(b"RFB 003.008\n\x01\x02", 1.0);
    let e = r.err().map(|e| format!("{:?}", JsValue::from(e)));
    assert!(e.is_some_and(|e| e.contains("no common security type")));
}

#[wasm_bindgen_test]
fn approving_nothing_is_an_error() {
    let mut s = Session::new(&JsValue::UNDEFINED, 0.0);
    assert!(s.approve_server(0.0).is_err());
    // The session is unharmed: the handshake still starts.
    s.feed(b"RFB 003.008\n", 1.0).unwrap();
    assert_eq!(s.take_output().as_deref(), Some(&b"RFB 003.008\n"[..]));
}
