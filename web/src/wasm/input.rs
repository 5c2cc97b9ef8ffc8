//! The input side, on the main thread: `keydown` must learn synchronously whether to call
//! `preventDefault()`, so the keyboard, pointer and touch state machines live next to the DOM.
//! Their outputs are drained as flat integer quadruples and relayed to the session.

use std::time::Duration;

use rfb_input::{DeltaMode, Gestures, Output, Pointer, Transform};
use rfb_keysym::dom::Location;
use rfb_keysym::keyboard::{Disposition, KeyEvent, Keyboard, Locks, Platform};
use wasm_bindgen::prelude::*;

/// Output kind for [`Input::poll`]: a key (`keysym, scancode or -1, down`).
pub(crate) const OUT_KEY: i32 = 0;
/// Output kind for [`Input::poll`]: a pointer event (`x, y, mask`).
pub(crate) const OUT_POINTER: i32 = 1;

fn ms(now_ms: f64) -> Duration {
    Duration::from_secs_f64(now_ms.max(0.0) / 1000.0)
}

fn lock(v: i32) -> Option<bool> {
    match v {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

fn platform(name: &str) -> Platform {
    match name {
        "windows" => Platform::Windows,
        "mac" => Platform::MacOs,
        "ios" => Platform::Ios,
        "linux" => Platform::Linux,
        "chromeos" => Platform::ChromeOs,
        "android" => Platform::Android,
        _ => Platform::Other,
    }
}

/// Keyboard, mouse and touch for one canvas.
#[wasm_bindgen]
pub struct Input {
    keyboard: Keyboard,
    pointer: Pointer,
    gestures: Gestures,
    out: Vec<i32>,
}

#[wasm_bindgen]
impl Input {
    /// `platform` is `windows`, `mac`, `ios`, `linux`, `chromeos`, `android` or anything else.
    #[wasm_bindgen(constructor)]
    pub fn new(platform_name: &str, width: u16, height: u16) -> Self {
        Self {
            keyboard: Keyboard::new(platform(platform_name)),
            pointer: Pointer::new(width, height),
            gestures: Gestures::new(width, height),
            out: Vec::new(),
        }
    }

    /// The remote framebuffer size (pointer positions are clamped to it).
    pub fn set_size(&mut self, width: u16, height: u16) {
        self.pointer.set_size(width, height);
        self.gestures.set_size(width, height);
    }

    /// Element → framebuffer mapping: `fb = element * scale + offset`.
    pub fn set_transform(&mut self, scale: f64, offset_x: f64, offset_y: f64) {
        let t = Transform {
            scale,
            offset_x,
            offset_y,
        };
        let _ = self.pointer.set_transform(t);
        let _ = self.gestures.set_transform(t);
    }

    /// `keydown`; true means "consumed: call preventDefault()". Lock values: 1 on, 0 off,
    /// -1 unknown.
    #[allow(clippy::too_many_arguments)]
    pub fn key_down(
        &mut self,
        key: &str,
        code: &str,
        location: u32,
        repeat: bool,
        composing: bool,
        caps: i32,
        num: i32,
        now_ms: f64,
    ) -> bool {
        let ev = event(key, code, location, repeat, composing, caps, num);
        let d = self.keyboard.key_down(&ev, ms(now_ms));
        self.collect();
        d == Disposition::Consumed
    }

    /// `keyup`; true means consumed.
    pub fn key_up(&mut self, key: &str, code: &str, location: u32, now_ms: f64) -> bool {
        let ev = event(key, code, location, false, false, -1, -1);
        let d = self.keyboard.key_up(&ev, ms(now_ms));
        self.collect();
        d == Disposition::Consumed
    }

    /// Text from `beforeinput`/`compositionend` (IME, dictation, virtual keyboards).
    pub fn text(&mut self, text: &str, now_ms: f64) {
        self.keyboard.text(text, ms(now_ms));
        self.collect();
    }

    /// Focus lost: release every held key and button.
    pub fn blur(&mut self, now_ms: f64) {
        self.keyboard.blur(ms(now_ms));
        let _ = self.pointer.blur(ms(now_ms));
        let _ = self.gestures.cancel_all(ms(now_ms));
        self.collect();
    }

    /// The server's lock LEDs (1 on, 0 off, -1 unknown).
    pub fn set_remote_locks(&mut self, caps: i32, num: i32) {
        self.keyboard.set_remote_locks(Locks {
            caps: lock(caps),
            num: lock(num),
        });
    }

    /// `mousemove` / `pointermove` in element pixels.
    pub fn pointer_move(&mut self, x: f64, y: f64, now_ms: f64) {
        let _ = self.pointer.move_to(x, y, ms(now_ms));
        self.collect();
    }

    /// `mousedown` with the DOM `button` number.
    pub fn button_down(&mut self, button: i16, x: f64, y: f64, now_ms: f64) {
        let _ = self.pointer.button_down(button, x, y, ms(now_ms));
        self.collect();
    }

    /// `mouseup`.
    pub fn button_up(&mut self, button: i16, x: f64, y: f64, now_ms: f64) {
        let _ = self.pointer.button_up(button, x, y, ms(now_ms));
        self.collect();
    }

    /// `wheel` with `deltaMode` 0 (pixels), 1 (lines) or 2 (pages).
    pub fn wheel(&mut self, dx: f64, dy: f64, mode: u32, x: f64, y: f64, now_ms: f64) {
        let _ = self
            .pointer
            .wheel(dx, dy, DeltaMode::from_dom(mode), x, y, ms(now_ms));
        self.collect();
    }

    /// `touchstart` for one touch.
    pub fn touch_start(&mut self, id: i32, x: f64, y: f64, now_ms: f64) {
        let _ = self.gestures.touch_start(id, x, y, ms(now_ms));
        self.collect();
    }

    /// `touchmove` for one touch.
    pub fn touch_move(&mut self, id: i32, x: f64, y: f64, now_ms: f64) {
        let _ = self.gestures.touch_move(id, x, y, ms(now_ms));
        self.collect();
    }

    /// `touchend` for one touch.
    pub fn touch_end(&mut self, id: i32, x: f64, y: f64, now_ms: f64) {
        let _ = self.gestures.touch_end(id, x, y, ms(now_ms));
        self.collect();
    }

    /// `touchcancel` for one touch.
    pub fn touch_cancel(&mut self, id: i32, now_ms: f64) {
        let _ = self.gestures.touch_cancel(id, ms(now_ms));
        self.collect();
    }

    /// When `handle_timeout` is next due (ms), or -1.
    pub fn timeout_ms(&self) -> f64 {
        [
            self.keyboard.poll_timeout(),
            self.pointer.poll_timeout(),
            self.gestures.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map_or(-1.0, |d| d.as_secs_f64() * 1000.0)
    }

    /// The clock reached `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: f64) {
        let now = ms(now_ms);
        self.keyboard.handle_timeout(now);
        self.pointer.handle_timeout(now);
        self.gestures.handle_timeout(now);
        self.collect();
    }

    /// Everything to send, in order, as quadruples `[kind, a, b, c, ...]`:
    /// `[0, keysym, scancode or -1, down]` or `[1, x, y, mask]`.
    pub fn poll(&mut self) -> Vec<i32> {
        std::mem::take(&mut self.out)
    }

    fn collect(&mut self) {
        while let Some(a) = self.keyboard.poll_action() {
            self.out.extend([
                OUT_KEY,
                a.keysym as i32,
                a.scancode.map_or(-1, i32::from),
                i32::from(a.down),
            ]);
        }
        while let Some(o) = self.pointer.poll_output() {
            push_output(&mut self.out, o);
        }
        while let Some(o) = self.gestures.poll_output() {
            push_output(&mut self.out, o);
        }
    }
}

fn push_output(out: &mut Vec<i32>, o: Output) {
    match o {
        Output::Pointer(p) => out.extend([
            OUT_POINTER,
            i32::from(p.x),
            i32::from(p.y),
            i32::from(p.mask),
        ]),
        Output::Key(k) => out.extend([
            OUT_KEY,
            k.keysym as i32,
            k.scancode.map_or(-1, i32::from),
            i32::from(k.down),
        ]),
    }
}

fn event<'a>(
    key: &'a str,
    code: &'a str,
    location: u32,
    repeat: bool,
    composing: bool,
    caps: i32,
    num: i32,
) -> KeyEvent<'a> {
    KeyEvent {
        key,
        code,
        location: Location::from_dom(location),
        repeat,
        composing,
        locks: Locks {
            caps: lock(caps),
            num: lock(num),
        },
    }
}
