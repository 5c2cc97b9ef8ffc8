//! The keyboard state machine: DOM key events in, `(keysym, scancode, down)` actions out.
//!
//! One shape with the other core crates: feed an event with its timestamp, then drain
//! [`Keyboard::poll_action`] until `None`; when [`Keyboard::poll_timeout`] says so, call
//! [`Keyboard::handle_timeout`]. The platform is an input ([`Platform`]), so every platform's
//! quirks run in tests on any machine.
//!
//! What it fixes that browsers get wrong (each rule names its platform in [`quirks`]):
//! AltGr as Ctrl+Alt on Windows, missing key releases (Windows Shift, macOS keys held with
//! Cmd, macOS Caps Lock, Windows IME keys, virtual keyboards), each release reusing its press's
//! keysym, releasing everything on blur, the macOS modifier convention, and Caps/Num Lock
//! resynchronisation from the server's LED state.
//!
//! ```
//! use std::time::Duration;
//! use rfb_keysym::keyboard::{KeyEvent, Keyboard, Platform};
//!
//! let mut kb = Keyboard::new(Platform::Linux);
//! let t = Duration::from_millis(10);
//! kb.key_down(&KeyEvent::new("A", "KeyA"), t);
//! kb.key_up(&KeyEvent::new("a", "KeyA"), t); // Shift released first: still releases 'A'
//! let actions: Vec<_> = std::iter::from_fn(|| kb.poll_action()).collect();
//! assert_eq!(actions.len(), 2);
//! assert_eq!((actions[0].keysym, actions[0].down), (0x41, true));
//! assert_eq!((actions[1].keysym, actions[1].down), (0x41, false));
//! assert_eq!(actions[0].scancode, Some(0x1e));
//! ```

mod quirks;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Duration;

use crate::dom::{self, DropReason, Location, Resolved};
use crate::generated::keysyms::*;
use crate::scancode::xt_scancode;

pub use quirks::{ALTGR_WAIT, ALTGR_WINDOW};

/// The platform the browser runs on; it selects which quirks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Platform {
    /// Windows (AltGr as Ctrl+Alt, lost Shift releases, IME keys without releases).
    Windows,
    /// macOS (Cmd swallows releases, Caps Lock reports only state changes, modifier swap).
    MacOs,
    /// iOS and iPadOS (treated as macOS for keyboards).
    Ios,
    /// Linux and the BSDs on X11/Wayland.
    Linux,
    /// ChromeOS.
    ChromeOs,
    /// Android (virtual keyboards rarely give `code`).
    Android,
    /// Anything else: no platform quirks.
    Other,
}

impl Platform {
    fn is_apple(self) -> bool {
        matches!(self, Self::MacOs | Self::Ios)
    }
}

/// Behaviour switches; [`Options::for_platform`] gives the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// On Apple platforms send Cmd as Alt/Super and Option as Mode_switch/ISO_Level3_Shift
    /// (the RealVNC/TigerVNC convention noVNC also uses), so Cmd+C is Alt+C on the server and
    /// Option types the third level. Off sends what the keys are called (Super, Alt).
    pub swap_mac_modifiers: bool,
    /// Cap on keys held at once; a press beyond it releases the oldest held key first, so a
    /// stream of presses without releases cannot grow memory.
    pub max_pressed: usize,
}

impl Options {
    /// Defaults for a platform.
    pub fn for_platform(platform: Platform) -> Self {
        Self {
            swap_mac_modifiers: platform.is_apple(),
            max_pressed: 64,
        }
    }
}

/// Caps Lock / Num Lock state: `Some(on)` when known, `None` when the source cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Locks {
    /// Caps Lock.
    pub caps: Option<bool>,
    /// Num Lock.
    pub num: Option<bool>,
}

/// One browser key event, as `keydown`/`keyup` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEvent<'a> {
    /// `KeyboardEvent.key` (a named key value, or the characters the key types).
    pub key: &'a str,
    /// `KeyboardEvent.code` (the physical key); `""` when the browser gives none.
    pub code: &'a str,
    /// `KeyboardEvent.location`.
    pub location: Location,
    /// `KeyboardEvent.repeat`.
    pub repeat: bool,
    /// `KeyboardEvent.isComposing`, or the legacy `keyCode` being 229 (IME processing).
    pub composing: bool,
    /// Lock state from `getModifierState("CapsLock" / "NumLock")` for this event.
    pub locks: Locks,
}

impl<'a> KeyEvent<'a> {
    /// An event with standard location, no repeat, no composition and unknown lock state.
    pub fn new(key: &'a str, code: &'a str) -> Self {
        Self {
            key,
            code,
            location: Location::Standard,
            repeat: false,
            composing: false,
            locks: Locks::default(),
        }
    }

    /// The same event at `location`.
    pub fn at(mut self, location: Location) -> Self {
        self.location = location;
        self
    }

    /// The same event with lock state.
    pub fn with_locks(mut self, locks: Locks) -> Self {
        self.locks = locks;
        self
    }

    /// The same event marked as an auto-repeat.
    pub fn repeated(mut self) -> Self {
        self.repeat = true;
        self
    }

    /// The same event marked as part of an IME composition.
    pub fn composing(mut self) -> Self {
        self.composing = true;
        self
    }
}

/// What the driver sends: a KeyEvent (`keysym`), or the QEMU Extended Key Event when the
/// server supports it and `scancode` is known (the keysym may then be 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyAction {
    /// The keysym; 0 (`NoSymbol`) when only the physical key is known (a dead key).
    pub keysym: u32,
    /// XT scancode of the physical key (`0xE0xx` for extended keys), when known.
    pub scancode: Option<u16>,
    /// Press or release.
    pub down: bool,
}

/// What happened to a key event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The event was turned into actions (or deliberately absorbed): the driver should
    /// `preventDefault()` so the browser does not also produce text for it.
    Consumed,
    /// Nothing was sent; the driver should let the browser's default happen (text then
    /// arrives through `beforeinput`/`compositionend`, see [`Keyboard::text`]). The reason
    /// is for logs.
    Dropped(DropReason),
}

/// A held key: its physical identity and what its press sent, so the release matches.
#[derive(Debug, Clone)]
struct Held {
    code: String,
    keysym: u32,
    scancode: Option<u16>,
}

/// A left Control press held back on Windows in case AltRight follows (fake AltGr).
#[derive(Debug, Clone)]
struct PendingCtrl {
    at: Duration,
    scancode: Option<u16>,
}

/// The keyboard state machine. See the module docs.
#[derive(Debug)]
pub struct Keyboard {
    platform: Platform,
    options: Options,
    held: Vec<Held>,
    pending_ctrl: Option<PendingCtrl>,
    /// Codes whose next release must be swallowed (the fake Ctrl of AltGr).
    swallow_release: Vec<String>,
    remote: Locks,
    actions: VecDeque<KeyAction>,
}

impl Keyboard {
    /// A keyboard with the platform's default [`Options`].
    pub fn new(platform: Platform) -> Self {
        Self::with_options(platform, Options::for_platform(platform))
    }

    /// A keyboard with explicit options.
    pub fn with_options(platform: Platform, options: Options) -> Self {
        Self {
            platform,
            options,
            held: Vec::new(),
            pending_ctrl: None,
            swallow_release: Vec::new(),
            remote: Locks::default(),
            actions: VecDeque::new(),
        }
    }

    /// The platform this machine models.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The next action to send, in order.
    pub fn poll_action(&mut self) -> Option<KeyAction> {
        self.actions.pop_front()
    }

    /// When [`Keyboard::handle_timeout`] must be called (a held-back Ctrl on Windows).
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.pending_ctrl.as_ref().map(|p| p.at + ALTGR_WAIT)
    }

    /// Time passed: a held-back Ctrl whose wait is over is sent.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            self.flush_pending_ctrl();
        }
    }

    /// The server's lock state (QEMU LED State or VMware LED pseudo-encoding), so the next
    /// key press can bring the server in line with the local keyboard. `None` = unknown.
    pub fn set_remote_locks(&mut self, locks: Locks) {
        self.remote = locks;
    }

    /// The keys currently held, as (code, keysym) in press order.
    pub fn held(&self) -> impl Iterator<Item = (&str, u32)> {
        self.held.iter().map(|h| (h.code.as_str(), h.keysym))
    }

    /// A `keydown` event.
    pub fn key_down(&mut self, event: &KeyEvent<'_>, now: Duration) -> Disposition {
        if event.composing {
            return Disposition::Dropped(DropReason::Composing);
        }
        let code = physical_code(event.code);
        // A held-back Ctrl is resolved by whatever comes next.
        if self.pending_ctrl.is_some() {
            if code == "AltRight" && self.altgr_in_window(now) {
                self.pending_ctrl = None;
                self.swallow_release.push("ControlLeft".to_string());
                let scancode = xt_scancode("AltRight");
                self.press(code, XK_ISO_Level3_Shift, scancode);
                return Disposition::Consumed;
            }
            self.flush_pending_ctrl();
        }
        if self.platform == Platform::Windows && code == "ControlLeft" && !event.repeat {
            self.pending_ctrl = Some(PendingCtrl {
                at: now,
                scancode: xt_scancode(code),
            });
            return Disposition::Consumed;
        }

        let scancode = xt_scancode(code);
        let resolved = match self.resolve(event, code) {
            Ok(r) => r,
            Err(reason) => return self.scancode_only(code, scancode, reason),
        };
        let keysym = match resolved {
            Resolved::Keysym(k) => k,
            Resolved::Text(keysyms) => {
                for k in keysyms {
                    self.tap(k, None);
                }
                return Disposition::Consumed;
            }
            Resolved::Dead => return self.scancode_only(code, scancode, DropReason::DeadKey),
            Resolved::Composing => return Disposition::Dropped(DropReason::Composing),
        };
        self.sync_locks(event, keysym);

        // Keys whose release never arrives are sent as a press and release at once.
        if code.is_empty() || quirks::no_release(self.platform, event.key, keysym, self.cmd_held())
        {
            self.tap(keysym, scancode);
            return Disposition::Consumed;
        }
        self.press(code, keysym, scancode);
        Disposition::Consumed
    }

    /// A `keyup` event.
    pub fn key_up(&mut self, event: &KeyEvent<'_>, now: Duration) -> Disposition {
        let _ = now;
        let code = physical_code(event.code);
        if self.pending_ctrl.is_some() {
            // Ctrl released (or anything else) before AltGr was decided: it was a real Ctrl.
            self.flush_pending_ctrl();
        }
        if let Some(i) = self.swallow_release.iter().position(|c| c == code) {
            self.swallow_release.swap_remove(i);
            return Disposition::Consumed;
        }
        if code.is_empty() {
            return Disposition::Dropped(DropReason::AlreadyReleased);
        }
        // macOS Caps Lock reports each state change as one event: both became a tap.
        if self.platform.is_apple() && code == "CapsLock" {
            self.tap(XK_Caps_Lock, xt_scancode(code));
            return Disposition::Consumed;
        }
        // Windows sends no release for the first Shift while the other is held: a Shift
        // release ends both.
        if self.platform == Platform::Windows && (code == "ShiftLeft" || code == "ShiftRight") {
            let before = self.held.len();
            self.release_matching(|h| h.code == "ShiftLeft" || h.code == "ShiftRight");
            return if self.held.len() < before {
                Disposition::Consumed
            } else {
                Disposition::Dropped(DropReason::NotPressed)
            };
        }
        let before = self.held.len();
        self.release_matching(|h| h.code == code);
        if self.held.len() < before {
            Disposition::Consumed
        } else {
            Disposition::Dropped(DropReason::NotPressed)
        }
    }

    /// Text that arrived without usable key events: `compositionend` data (IMEs, dead-key
    /// composition on macOS), `beforeinput`/`input` `insertText` from virtual keyboards and
    /// dictation. Each character is typed as press+release of its keysym.
    ///
    /// The driver calls this only for text whose keydown was [`Disposition::Dropped`] (or
    /// had none): a consumed keydown was `preventDefault`ed, so no text follows it, which is
    /// the one rule that keeps a character from being sent twice.
    pub fn text(&mut self, text: &str, now: Duration) -> Disposition {
        let _ = now;
        self.flush_pending_ctrl();
        if text.is_empty() {
            return Disposition::Dropped(DropReason::EmptyText);
        }
        for c in text.chars() {
            if c == '\u{fffd}' {
                continue; // a lone surrogate's replacement: nothing meaningful to type
            }
            self.tap(crate::keysym_from_char(c), None);
        }
        Disposition::Consumed
    }

    /// Focus left (window `blur`, tab hidden): every held key is released, newest first, so
    /// the server is not left with a stuck modifier.
    pub fn blur(&mut self, now: Duration) {
        let _ = now;
        self.pending_ctrl = None;
        self.swallow_release.clear();
        while let Some(h) = self.held.pop() {
            self.emit(h.keysym, h.scancode, false);
        }
    }

    fn resolve(&self, event: &KeyEvent<'_>, code: &str) -> Result<Resolved, DropReason> {
        // macOS reports the Num Lock key (Clear on Mac keyboards) as `Clear`.
        if self.platform.is_apple() && code == "NumLock" {
            return Ok(Resolved::Keysym(XK_Num_Lock));
        }
        let mut resolved = dom::resolve(event.key, code, event.location)?;
        if let Resolved::Keysym(k) = &mut resolved {
            if self.platform == Platform::Windows {
                *k = quirks::merge_windows_ime_key(*k);
            }
            if self.options.swap_mac_modifiers && self.platform.is_apple() {
                *k = quirks::mac_modifier(*k);
            }
        }
        Ok(resolved)
    }

    /// A key with no keysym: its physical key alone can still be sent (QEMU).
    fn scancode_only(&mut self, code: &str, scancode: Option<u16>, why: DropReason) -> Disposition {
        match scancode {
            Some(_) if why == DropReason::DeadKey => {
                self.press(code, 0, scancode);
                // Consumed would stop the browser composing; the keysym path needs that text.
                Disposition::Dropped(why)
            }
            Some(_) if why != DropReason::DeadKey && why != DropReason::Composing => {
                self.press(code, 0, scancode);
                Disposition::Consumed
            }
            _ => Disposition::Dropped(why),
        }
    }

    fn cmd_held(&self) -> bool {
        self.platform.is_apple()
            && self
                .held
                .iter()
                .any(|h| h.code == "MetaLeft" || h.code == "MetaRight")
    }

    fn altgr_in_window(&self, now: Duration) -> bool {
        self.pending_ctrl
            .as_ref()
            .is_some_and(|p| now.saturating_sub(p.at) <= ALTGR_WINDOW)
    }

    fn flush_pending_ctrl(&mut self) {
        if let Some(p) = self.pending_ctrl.take() {
            self.press("ControlLeft", XK_Control_L, p.scancode);
        }
    }

    /// Lock keys out of step with the server are toggled there before the key goes out.
    fn sync_locks(&mut self, event: &KeyEvent<'_>, keysym: u32) {
        if keysym != XK_Caps_Lock
            && let (Some(local), Some(remote)) = (event.locks.caps, self.remote.caps)
            && local != remote
        {
            self.tap(XK_Caps_Lock, xt_scancode("CapsLock"));
            self.remote.caps = Some(local);
        }
        // macOS has no Num Lock state to compare (its Clear key is not a lock).
        if keysym != XK_Num_Lock
            && !self.platform.is_apple()
            && let (Some(local), Some(remote)) = (event.locks.num, self.remote.num)
            && local != remote
        {
            self.tap(XK_Num_Lock, xt_scancode("NumLock"));
            self.remote.num = Some(local);
        }
    }

    fn press(&mut self, code: &str, keysym: u32, scancode: Option<u16>) {
        if let Some(i) = self.held.iter().position(|h| h.code == code) {
            // Auto-repeat: the same press again, unless the key now means something else
            // (a modifier changed mid-repeat), which releases the old meaning first.
            if self.held[i].keysym != keysym {
                let old = self.held.remove(i);
                self.emit(old.keysym, old.scancode, false);
            } else {
                self.emit(keysym, scancode, true);
                return;
            }
        }
        if self.held.len() >= self.options.max_pressed.max(1) {
            let oldest = self.held.remove(0);
            self.emit(oldest.keysym, oldest.scancode, false);
        }
        self.held.push(Held {
            code: code.to_string(),
            keysym,
            scancode,
        });
        self.emit(keysym, scancode, true);
    }

    fn release_matching(&mut self, matches: impl Fn(&Held) -> bool) {
        let mut i = self.held.len();
        while i > 0 {
            i -= 1;
            if matches(&self.held[i]) {
                let h = self.held.remove(i);
                self.emit(h.keysym, h.scancode, false);
            }
        }
    }

    fn tap(&mut self, keysym: u32, scancode: Option<u16>) {
        self.emit(keysym, scancode, true);
        self.emit(keysym, scancode, false);
    }

    fn emit(&mut self, keysym: u32, scancode: Option<u16>, down: bool) {
        self.actions.push_back(KeyAction {
            keysym,
            scancode,
            down,
        });
    }
}

/// `code` with `Unidentified` treated as absent.
fn physical_code(code: &str) -> &str {
    if code == "Unidentified" { "" } else { code }
}
