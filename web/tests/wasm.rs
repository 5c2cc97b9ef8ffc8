//! wasm-bindgen-test unit tests in headless Chromium: the worker-side `Session` and the
//! main-thread `Input` through their JS-facing API, and the JS shim's `RFB.messages` encoders
//! byte for byte against rfb-core's. Run by `cargo xtask test` (step `wasm-tests`).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use rfb_web::{Input, Session, gen_des};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/js/messages.js")]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = messages)]
    static MESSAGES: JsValue;
}

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap()
}

/// A scripted RFB 3.8 server's bytes up to ServerInit (None security, 2×1, 32 bpp LE).
fn server_handshake() -> Vec<u8> {
    let mut b = b"RFB 003.008\n".to_vec();
    b.extend_from_slice(&[1, 1]); // one security type: None
    b.extend_from_slice(&0u32.to_be_bytes()); // SecurityResult OK
    b.extend_from_slice(&[0, 2, 0, 1]);
    b.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    b.extend_from_slice(&4u32.to_be_bytes());
    b.extend_from_slice(b"test");
    b
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn events(s: &mut Session) -> Vec<JsValue> {
    let mut out = Vec::new();
    loop {
        let ev = s.poll_event();
        if ev.is_undefined() {
            return out;
        }
        out.push(ev);
    }
}

#[wasm_bindgen_test]
fn session_connects_and_reports_damage_from_fed_bytes() {
    let mut s = Session::new(&options(&[("lossless", JsValue::TRUE)]), 0.0);
    let hs = server_handshake();
    // In odd chunks, as WebSocket messages arrive.
    for chunk in hs.chunks(5) {
        s.feed(chunk, 1.0).unwrap();
    }
    let evs = events(&mut s);
    let connect = evs
        .iter()
        .find(|e| get(e, "type") == "connect")
        .expect("a connect event");
    assert_eq!(get(connect, "name"), "test");
    assert_eq!(get(connect, "width"), 2.0);
    let out = s.take_output().expect("the client answered");
    assert_eq!(
        &out[..12],
        b"RFB 003.008\n",
        "version, then security choice, ..."
    );
    // A Raw update of the two pixels: red, blue (BGRX little-endian).
    let mut fbu = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0];
    fbu.extend_from_slice(&[0, 0, 255, 0, 255, 0, 0, 0]);
    s.feed(&fbu, 2.0).unwrap();
    assert_eq!(s.take_damage(), vec![0, 0, 2, 1]);
    assert_eq!((s.fb_width(), s.fb_height()), (2, 1));
    assert_ne!(s.fb_ptr(), 0);
}

#[wasm_bindgen_test]
fn session_reports_protocol_errors_as_disconnect() {
    let mut s = Session::new(&JsValue::UNDEFINED, 0.0);
    assert!(s.feed(b"HTTP/1.1 400 Bad Request\r\n", 0.0).is_err());
    let evs = events(&mut s);
    assert!(evs.iter().any(|e| get(e, "type") == "disconnect"));
}

#[wasm_bindgen_test]
fn input_turns_dom_events_into_key_and_pointer_quadruples() {
    let mut i = Input::new("linux", 100, 100);
    assert!(i.key_down("a", "KeyA", 0, false, false, -1, -1, 0.0));
    assert!(i.key_up("a", "KeyA", 0, 10.0));
    assert_eq!(i.poll(), vec![0, 0x61, 0x1e, 1, 0, 0x61, 0x1e, 0]);
    // Dead keys are not consumed: the browser composes.
    assert!(!i.key_down("Dead", "BracketLeft", 0, false, false, -1, -1, 20.0));
    i.text("é", 21.0);
    let ops = i.poll();
    assert_eq!(&ops[ops.len() - 8..], &[0, 0xe9, -1, 1, 0, 0xe9, -1, 0]);
    i.button_down(0, 10.0, 20.0, 30.0);
    i.button_up(0, 10.0, 20.0, 40.0);
    assert_eq!(i.poll(), vec![1, 10, 20, 1, 1, 10, 20, 0]);
}

#[wasm_bindgen_test]
fn gen_des_matches_the_vnc_auth_vector() {
    // RFC 6143 VNC Authentication: DES of the challenge with the bit-reversed password.
    let challenge = [0u8; 16];
    let a = gen_des("password", &challenge).unwrap();
    assert_eq!(a.len(), 16);
    assert_eq!(
        a[..8],
        a[8..],
        "both halves of a zero challenge encrypt alike"
    );
    assert!(gen_des("x", &[0u8; 15]).is_err());
}

/// Calls `RFB.messages.<name>(sock, ...args)` with a socket that records what is sent.
fn encode(name: &str, args: &[JsValue]) -> Vec<u8> {
    let sent = Array::new();
    let sent2 = sent.clone();
    let send = Closure::<dyn Fn(JsValue)>::new(move |b: JsValue| {
        sent2.push(&b);
    });
    let sock = options(&[("send", send.as_ref().clone())]);
    let f: Function = MESSAGES.with(|m| get(m, name)).into();
    let all = Array::new();
    all.push(&sock);
    for a in args {
        all.push(a);
    }
    f.apply(&JsValue::NULL, &all).unwrap();
    assert_eq!(sent.length(), 1, "{name} sends one message");
    Uint8Array::new(&sent.get(0)).to_vec()
}

#[wasm_bindgen_test]
fn js_message_encoders_match_the_spec() {
    let n = |v: f64| JsValue::from_f64(v);
    assert_eq!(
        encode("keyEvent", &[n(0xff0d as f64), JsValue::TRUE]),
        [4, 1, 0, 0, 0, 0, 0xff, 0x0d]
    );
    assert_eq!(
        encode("pointerEvent", &[n(300.0), n(2.0), n(5.0)]),
        [5, 5, 1, 44, 0, 2]
    );
    assert_eq!(
        encode(
            "QEMUExtendedKeyEvent",
            &[n(0x61 as f64), JsValue::FALSE, n(0xe038 as f64)]
        ),
        [255, 0, 0, 0, 0, 0, 0, 0x61, 0, 0, 0, 0xb8]
    );
    assert_eq!(
        encode(
            "fbUpdateRequest",
            &[JsValue::TRUE, n(1.0), n(2.0), n(3.0), n(4.0)]
        ),
        [3, 1, 0, 1, 0, 2, 0, 3, 0, 4]
    );
    assert_eq!(encode("xvpOp", &[n(1.0), n(2.0)]), [250, 0, 1, 2]);
    assert_eq!(
        encode(
            "enableContinuousUpdates",
            &[JsValue::TRUE, n(0.0), n(0.0), n(640.0), n(480.0)]
        ),
        [150, 1, 0, 0, 0, 0, 2, 128, 1, 224]
    );
    let encs = Array::of2(&n(7.0), &n(-239.0));
    assert_eq!(
        encode("clientEncodings", &[encs.into()]),
        [2, 0, 0, 2, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0x11]
    );
    assert_eq!(
        encode("pixelFormat", &[n(24.0), JsValue::TRUE]),
        [
            0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0
        ]
    );
}
