//! Settings and their sources, translations, the control bar and its panels.

use std::collections::BTreeSet;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::common::{copy_dir, output_within, temp_dir};
use crate::support::*;
use rfb_testkit::peer;
use rfb_testkit::xvnc::{Xvnc, XvncOptions};

/// Every English string of the app (data-i18n in vnc.html, `_('…')` in app/*.js) has an
/// entry in every translation, and no translation has stale entries.
#[test]
fn translations_cover_every_string() {
    let app = peer::workspace_root().join("web/app");
    let mut keys = BTreeSet::new();
    let html = std::fs::read_to_string(app.join("vnc.html")).unwrap();
    for attr in ["data-i18n=\"", "data-i18n-title=\""] {
        for part in html.split(attr).skip(1) {
            keys.insert(part.split('"').next().unwrap().to_string());
        }
    }
    for entry in std::fs::read_dir(app.join("app")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "js") {
            let src = std::fs::read_to_string(&p).unwrap();
            for part in src.split("_('").skip(1) {
                keys.insert(part.split("')").next().unwrap().to_string());
            }
        }
    }
    assert!(keys.len() > 40, "{keys:?}");
    let l10n = std::fs::read_to_string(app.join("app/l10n.js")).unwrap();
    let mut langs = 0;
    for entry in std::fs::read_dir(app.join("app/locale")).unwrap() {
        let p = entry.unwrap().path();
        let lang = p.file_stem().unwrap().to_string_lossy().to_string();
        assert!(
            l10n.contains(&format!("'{lang}'")),
            "{lang} is missing from LANGUAGES"
        );
        let table: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let have: BTreeSet<String> = table.keys().cloned().collect();
        let missing: Vec<_> = keys.difference(&have).collect();
        let stale: Vec<_> = have.difference(&keys).collect();
        assert!(missing.is_empty(), "{lang}: missing {missing:?}");
        assert!(stale.is_empty(), "{lang}: stale {stale:?}");
        langs += 1;
    }
    assert!(langs >= 4);
}

/// Settings chosen in the panel are stored and survive a reload; URL parameters override
/// them for that load only; the live connection follows them.
#[test]
fn settings_persist_and_url_parameters_override() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-settings");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let state = "[document.getElementById('setting_view_only').checked, \
                 document.getElementById('setting_resize').value, \
                 document.getElementById('setting_quality').value]";
    let steps = vec![
        goto(&app_url(port, "")),
        wait("window.app"),
        eval(state),
        click("#settings_button"),
        click("#setting_view_only"),
        select("#setting_resize", "scale"),
        click("#advanced summary"),
        fill("#setting_quality", "3"),
        goto(&app_url(port, "")),
        wait("window.app"),
        eval(state),
        goto(&app_url(port, "?view_only=0&resize=remote")),
        wait("window.app"),
        eval(state),
        goto(&app_url(
            port,
            "#autoconnect=1&show_dot=1&compression=7&view_clip=1",
        )),
        wait(CONNECTED),
        eval(&format!(
            "[{state}, rfb.viewOnly, rfb.scaleViewport, rfb.qualityLevel, \
             rfb.showDotCursor, rfb.compressionLevel, rfb.clipViewport]"
        )),
        // A change in the panel reaches the live connection.
        click("#settings_button"),
        click("#setting_view_only"),
        eval("rfb.viewOnly"),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], r#"[false,"off","6"]"#, "defaults\n{out}");
    assert_eq!(ev[1], r#"[true,"scale","3"]"#, "stored\n{out}");
    assert_eq!(ev[2], r#"[false,"remote","3"]"#, "URL over stored\n{out}");
    assert_eq!(
        ev[3], r#"[[true,"scale","3"],true,true,3,true,7,true]"#,
        "URL values were not stored\n{out}"
    );
    assert_eq!(ev[4], "false", "{out}");
}

/// mandatory.json forces a value over the URL and storage and disables its control;
/// defaults.json supplies a default.
#[test]
fn mandatory_json_forces_and_disables() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-mandatory");
    let site = dir.join("site");
    copy_dir(&dist, &site);
    std::fs::write(
        site.join("mandatory.json"),
        r#"{"view_only": true, "resize": "scale"}"#,
    )
    .unwrap();
    std::fs::write(
        site.join("defaults.json"),
        r#"{"quality": 2, "view_only": false}"#,
    )
    .unwrap();
    let (_proxy, port) = proxy_to(&x.addr(), &site, &dir);
    let state = "[document.getElementById('setting_view_only').checked, \
                 document.getElementById('setting_view_only').disabled, \
                 document.getElementById('setting_resize').value, \
                 document.getElementById('setting_resize').disabled, \
                 document.getElementById('setting_quality').value, \
                 document.getElementById('setting_quality').disabled]";
    let steps = vec![
        goto(&app_url(port, "")),
        wait("window.app"),
        eval("localStorage.setItem('rfb.app.view_only', 'false')"),
        goto(&app_url(port, "?view_only=0&resize=off&autoconnect=1")),
        wait(CONNECTED),
        eval(&format!("[{state}, rfb.viewOnly, rfb.scaleViewport]")),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(
        ev.last().unwrap(),
        &r#"[[true,true,"scale",true,"2",false],true,true]"#,
        "{out}"
    );
}

/// The extra keys reach an xterm: Esc, Tab, Ctrl held by its toggle while `g` is typed, and
/// Ctrl-Alt-Del (`cat -v` shows ESC as `^[` and BEL as `^G`).
#[test]
fn extra_keys_reach_an_xterm() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = Xvnc::start_or_skip(XvncOptions::new(W, H)) else {
        return;
    };
    x.set_root_solid("#336699");
    let dir = temp_dir("app-keys");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let file = dir.join("keys.txt");
    xterm_running(&x, &format!("exec cat -v > '{}'", file.display()));
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        // No window manager: keyboard focus follows the pointer, so put it on the xterm.
        op("mouse", r#""action":"move","x":200,"y":100"#),
        op("sleep", r#""ms":300"#),
        click("#esc_button"),
        click("#tab_button"),
        op("type", r#""text":"a""#),
        click("#ctrl_button"),
        eval("document.getElementById('ctrl_button').getAttribute('aria-pressed')"),
        op("type", r#""text":"g""#),
        click("#ctrl_button"),
        op("type", r#""text":"b""#),
        // xterm turns Ctrl+Alt+Delete into CSI 3;7~ (7 = 1 + Alt 2 + Ctrl 4).
        click("#ctrlaltdel_button"),
        op("type", r#""text":"\n""#),
    ];
    drive(&node, &dir, &steps);
    let got = read_until(&file, |d| d.ends_with(b"\n"));
    assert_eq!(String::from_utf8_lossy(&got), "^[\ta^Gb^[[3;7~\n");
}

/// The clipboard panel: text sent from it lands in the X CLIPBOARD, and text put there with
/// xclip appears in it. Both while the page stays connected (Xvnc asks the client for the
/// text only when an X client pastes, and announces only changes).
#[test]
fn clipboard_panel_both_ways() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    if !peer::require("xclip") {
        return;
    }
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-clipboard");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let from_page = "from the page ✓ Grüße";
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        click("#clipboard_button"),
        fill("#clipboard_text", from_page),
        click("#clipboard_send"),
        // The test takes the clipboard back with xclip once it has read the page's text.
        wait("document.getElementById('clipboard_text').value === 'from X ✓'"),
    ];
    let mut seen = String::new();
    let mut owner: Option<Child> = None;
    let mut last = Instant::now();
    drive_while(&node, &dir, steps, || {
        if seen != from_page {
            seen = read_clipboard(&x);
        } else if owner.is_none() || last.elapsed() > Duration::from_millis(700) {
            // Taken anew now and then: the page must be connected when the change happens.
            if let Some(mut old) = owner.take() {
                let _ = old.kill();
                let _ = old.wait();
            }
            owner = Some(own_clipboard(&x, "from X ✓"));
            last = Instant::now();
        }
    });
    if let Some(mut old) = owner.take() {
        let _ = old.kill();
        let _ = old.wait();
    }
    assert_eq!(seen, from_page);
}

/// `?lang=de` translates the page; an unknown language leaves English.
#[test]
fn translation_is_applied() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let dir = temp_dir("app-lang");
    // No VNC server needed: the page is only loaded.
    let (_proxy, port) = proxy_to("127.0.0.1:1", &dist, &dir);
    let probe = "[document.documentElement.lang, \
                 document.getElementById('connect_button').textContent, \
                 document.getElementById('settings_button').title, \
                 document.getElementById('status').textContent]";
    let steps = vec![
        goto(&app_url(port, "?lang=de")),
        wait("window.app"),
        eval(probe),
        goto(&app_url(port, "?lang=xx")),
        wait("window.app"),
        eval(probe),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(
        ev[0], r#"["de","Verbinden","Einstellungen","Getrennt"]"#,
        "{out}"
    );
    assert_eq!(
        ev[1], r#"["en","Connect","Settings","Disconnected"]"#,
        "{out}"
    );
    // Without `lang`, the browser's languages choose (fr-CA falls back to fr).
    let steps = vec![
        op("emulate", r#""acceptLanguage":"fr-CA,fr;q=0.9,en;q=0.8""#),
        goto(&app_url(port, "")),
        wait("window.app"),
        eval(probe),
    ];
    let out = drive(&node, &dir, &steps);
    assert_eq!(
        evals(&out)[0],
        r#"["fr","Se connecter","Paramètres","Déconnecté"]"#,
        "{out}"
    );
}

/// On a touch screen the keyboard button shows, and it focuses the client's text field (which
/// brings up the on-screen keyboard); without touch it stays hidden.
#[test]
fn touch_keyboard_button() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-touch");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let focused = "(() => { const a = document.activeElement; \
                   return [a.tagName, document.getElementById('screen').contains(a)]; })()";
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        eval("document.getElementById('keyboard_button').hidden"),
    ];
    let out = drive(&node, &dir, &steps);
    assert_eq!(evals(&out)[0], "true", "{out}");
    let steps = vec![
        op("emulate", r#""touch":true"#),
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        // Take the focus away from the screen first.
        eval("document.activeElement.blur()"),
        eval("document.getElementById('keyboard_button').hidden"),
        eval(focused),
        click("#keyboard_button"),
        eval(focused),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[1], "false", "{out}");
    assert_eq!(ev[2], r#"["BODY",false]"#, "{out}");
    assert_eq!(ev[3], r#"["TEXTAREA",true]"#, "{out}");
}

/// The bar follows the session: view only hides the extra keys, a clipped view shows the drag
/// button (which turns dragging on), and `capabilities.power` shows the power panel. (No test
/// server here offers XVP, so the capability is announced by hand: this checks the app's side
/// only.)
#[test]
fn control_bar_follows_the_session() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-bar");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let visible =
        |id: &str| format!("getComputedStyle(document.getElementById('{id}')).display !== 'none'");
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1&view_only=1&view_clip=1")),
        wait(CONNECTED),
        eval(&format!(
            "[{}, {}]",
            visible("extra_keys"),
            visible("drag_button")
        )),
        op("resize", r#""width":500,"height":350"#),
        wait(&visible("drag_button")),
        click("#drag_button"),
        eval(
            "[rfb.dragViewport, document.getElementById('drag_button').getAttribute('aria-pressed')]",
        ),
        eval(&visible("power_button")),
        eval(
            "rfb.dispatchEvent(new CustomEvent('capabilities', \
             { detail: { capabilities: { power: true } } }))",
        ),
        click("#power_button"),
        eval(&visible("power_panel")),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], "[false,false]", "{out}");
    assert_eq!(ev[1], r#"[true,"true"]"#, "{out}");
    assert_eq!(ev[2], "false", "{out}");
    assert_eq!(ev[4], "true", "{out}");
}

/// The server's bell rings the app's bell (`bell` is on by default).
#[test]
fn bell_rings() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    if !peer::require("xkbbell") {
        return;
    }
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-bell");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        wait("app.bells >= 1"),
    ];
    let mut last = Instant::now() - Duration::from_secs(10);
    // Rung now and then until the page has heard one (it must be connected when it rings).
    drive_while(&node, &dir, steps, || {
        if last.elapsed() > Duration::from_millis(500) {
            last = Instant::now();
            let (ok, _, err) = output_within(x.command("xkbbell"), Duration::from_secs(5));
            assert!(ok, "xkbbell: {err}");
        }
    });
}

/// `keep_device_awake=1` holds a screen wake lock while connected and lets it go on
/// disconnect.
#[test]
fn keep_device_awake_holds_a_wake_lock() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-wakelock");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        op("emulate", r#""grant":["screen-wake-lock"]"#),
        goto(&app_url(port, "?autoconnect=1&keep_device_awake=1")),
        wait(CONNECTED),
        wait("app.wakeLock.held"),
        click("#disconnect_button"),
        wait("app.state === 'disconnected' && !app.wakeLock.held"),
        eval(STATUS),
    ];
    let out = drive(&node, &dir, &steps);
    assert_eq!(evals(&out)[0], r#"["Disconnected","normal"]"#, "{out}");
}
