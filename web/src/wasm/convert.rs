//! Core events as plain JS objects (`{type: "connect", ...}`), posted as-is from the worker.

use js_sys::{Array, Object, Reflect, Uint8Array};
use rfb_core::clipboard::ClipboardEvent;
use rfb_core::security::ServerIdentity;
use rfb_core::{AudioEvent, Event, SampleFormat, XvpMessage};
use wasm_bindgen::JsValue;

/// A JS object from key/value pairs.
pub(crate) fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

fn n(v: impl Into<f64>) -> JsValue {
    JsValue::from_f64(v.into())
}

/// The event as a JS object, or `None` for events the page does not need.
pub(crate) fn event(ev: Event) -> Option<JsValue> {
    Some(match ev {
        Event::Connected(info) => obj(&[
            ("type", s("connect")),
            ("name", s(&info.name)),
            ("width", n(info.width)),
            ("height", n(info.height)),
            ("security", n(info.security.to_u8())),
            ("version", s(&info.server_version)),
        ]),
        Event::CredentialsRequired(need) => {
            let types = Array::new();
            for (field, wanted) in [
                ("username", need.username),
                ("password", need.password),
                ("target", need.target),
            ] {
                if wanted {
                    types.push(&s(field));
                }
            }
            obj(&[("type", s("credentialsrequired")), ("types", types.into())])
        }
        Event::SecurityTypes(types) => {
            let list = Array::new();
            for t in types {
                list.push(&n(t.to_u8()));
            }
            obj(&[("type", s("securitytypes")), ("types", list.into())])
        }
        Event::Resized { width, height } => obj(&[
            ("type", s("resize")),
            ("width", n(width)),
            ("height", n(height)),
        ]),
        Event::Cursor(c) => obj(&[
            ("type", s("cursor")),
            ("width", n(c.width)),
            ("height", n(c.height)),
            ("hotx", n(c.hotspot_x)),
            ("hoty", n(c.hotspot_y)),
            ("rgba", Uint8Array::from(c.rgba.as_slice()).into()),
        ]),
        Event::Bell => obj(&[("type", s("bell"))]),
        Event::ClipboardText(text) => obj(&[("type", s("clipboard")), ("text", s(&text))]),
        Event::DesktopName(name) => obj(&[("type", s("desktopname")), ("name", s(&name))]),
        Event::Clipboard(ClipboardEvent::Provide(data)) => {
            let text = data.text?;
            obj(&[("type", s("clipboard")), ("text", s(&text))])
        }
        Event::ScreenLayout(change) => {
            let screens = Array::new();
            for sc in &change.screens {
                screens.push(&obj(&[
                    ("id", n(sc.id)),
                    ("x", n(sc.x)),
                    ("y", n(sc.y)),
                    ("width", n(sc.width)),
                    ("height", n(sc.height)),
                ]));
            }
            obj(&[
                ("type", s("screenlayout")),
                ("reason", s(&format!("{:?}", change.reason))),
                ("status", s(&format!("{:?}", change.status))),
                ("applies", JsValue::from_bool(change.applies())),
                ("width", n(change.width)),
                ("height", n(change.height)),
                ("screens", screens.into()),
            ])
        }
        Event::Xvp(XvpMessage::Init { .. }) => obj(&[
            ("type", s("capabilities")),
            ("capabilities", obj(&[("power", JsValue::TRUE)])),
        ]),
        Event::Xvp(XvpMessage::Fail { .. }) => obj(&[("type", s("xvpfailed"))]),
        Event::LedState { state, .. } => obj(&[
            ("type", s("leds")),
            ("caps", n(i32::from(state.caps_lock))),
            ("num", n(i32::from(state.num_lock))),
            ("scroll", n(i32::from(state.scroll_lock))),
        ]),
        Event::Audio(AudioEvent::Data {
            format: Some(f),
            bytes,
        }) if f.sample == SampleFormat::S16 => obj(&[
            ("type", s("audio")),
            ("channels", n(f.channels)),
            ("rate", n(f.frequency)),
            ("pcm", Uint8Array::from(bytes.as_slice()).into()),
        ]),
        // noVNC's detail: `type` is 'RSA' with `publickey` for RA2; ours adds 'x509'.
        Event::ServerVerification(ServerIdentity::X509 {
            fingerprint,
            subject,
            issuer,
            reason,
        }) => obj(&[
            ("type", s("serververification")),
            ("kind", s("x509")),
            ("fingerprint", s(&fingerprint)),
            ("subject", subject.as_deref().map_or(JsValue::NULL, s)),
            ("issuer", issuer.as_deref().map_or(JsValue::NULL, s)),
            ("reason", s(&reason)),
        ]),
        Event::ServerVerification(ServerIdentity::Rsa {
            bits,
            fingerprint,
            short_fingerprint,
            public_key,
            ..
        }) => obj(&[
            ("type", s("serververification")),
            ("kind", s("RSA")),
            ("fingerprint", s(&fingerprint)),
            ("shortFingerprint", s(&short_fingerprint)),
            ("bits", n(bits)),
            ("publickey", Uint8Array::from(public_key.as_slice()).into()),
        ]),
        Event::Disconnected { reason } => obj(&[
            ("type", s("disconnect")),
            ("clean", JsValue::FALSE),
            ("reason", s(&reason)),
        ]),
        _ => return None,
    })
}
