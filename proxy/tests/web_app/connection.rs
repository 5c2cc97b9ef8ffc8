//! Connecting, credentials, reconnect and the failure banners.

use std::time::Duration;

use crate::common::{copy_dir, start_proxy, temp_dir};
use crate::support::*;
use rfb_testkit::net::free_port;
use rfb_testkit::xvnc::XvncOptions;

/// `autoconnect=1`: the app connects, the title and the status name the desktop, the HTTPS
/// warning shows (the page is on http), and the settings panel opens (screenshot).
#[test]
fn autoconnect_shows_the_desktop_name() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H).arg("-desktop").arg("App Test Desk")) else {
        return;
    };
    let dir = temp_dir("app-autoconnect");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        eval(&format!(
            "[document.title, {STATUS}, \
             !document.getElementById('https_warning').hidden, \
             document.getElementById('connect_dialog').hidden, \
             getComputedStyle(document.getElementById('connected_controls')).display !== 'none']"
        )),
        // The screen fills the window below the control bar.
        eval(
            "(() => { const s = document.getElementById('screen').getBoundingClientRect(); \
             const b = document.getElementById('control_bar').getBoundingClientRect(); \
             return [Math.round(s.top - b.bottom), Math.round(s.bottom) === innerHeight, \
                     Math.round(s.width) === innerWidth]; })()",
        ),
        click("#settings_button"),
        click("#advanced summary"),
        wait("!document.getElementById('settings_panel').hidden"),
        op("sleep", r#""ms":500"#),
        screenshot("vnc-connected-settings.png"),
        click("#fullscreen_button"),
        wait("document.fullscreenElement === document.documentElement"),
        click("#fullscreen_button"),
        wait("document.fullscreenElement === null"),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert!(
        ev[0].starts_with(r#"["App Test Desk - rfb",["Connected (unencrypted) to App Test Desk","ok"],true,true,true]"#),
        "{out}"
    );
    assert_eq!(ev[1], "[0,true,true]", "{out}");
}

/// The connect dialog: fields prefilled from the URL (a wrong port), corrected by typing, then
/// Connect.
#[test]
fn connect_dialog_connects() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-dialog");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let steps = vec![
        goto(&app_url(port, "?host=localhost&port=1")),
        wait("window.app && !document.getElementById('connect_dialog').hidden"),
        eval(
            "[document.getElementById('connect_host').value, \
             document.getElementById('connect_port').value]",
        ),
        screenshot("vnc-connect-dialog.png"),
        fill("#connect_host", "127.0.0.1"),
        fill("#connect_port", &port.to_string()),
        click("#connect_button"),
        wait(CONNECTED),
        eval(
            "[document.getElementById('connect_dialog').hidden, \
             document.getElementById('setting_port').value]",
        ),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], r#"["localhost","1"]"#, "{out}");
    assert_eq!(ev[1], format!(r#"[true,"{port}"]"#), "{out}");
    // `path` as a full WebSocket URL wins over host and port.
    let steps = vec![
        goto(&app_url(
            port,
            &format!(
                "?autoconnect=1&host=nowhere.invalid&port=1&path=ws://127.0.0.1:{port}/websockify"
            ),
        )),
        wait(CONNECTED),
    ];
    drive(&node, &dir, &steps);
}

/// VncAuth: the credentials dialog asks for the password only; a wrong one ends in an error
/// banner naming the failure (and the `disconnect` event carries the reason); the right one
/// connects.
#[test]
fn credentials_dialog_and_wrong_password() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H).vnc_auth("secret12")) else {
        return;
    };
    let dir = temp_dir("app-credentials");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let dialog = "!document.getElementById('credentials_dialog').hidden";
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(dialog),
        eval(
            "['username', 'password', 'target'].map(t => \
             !document.getElementById('credentials_' + t + '_row').hidden)",
        ),
        fill("#credentials_password", "wrong123"),
        click("#credentials_button"),
        wait("document.getElementById('status').dataset.level === 'error'"),
        eval(&format!(
            "[{STATUS}, app.lastDisconnect, \
             !document.getElementById('connect_dialog').hidden]"
        )),
        screenshot("vnc-error-banner.png"),
        // Connect again from the dialog: asked again, and the right password works.
        click("#connect_button"),
        wait(dialog),
        fill("#credentials_password", "secret12"),
        click("#credentials_button"),
        wait(CONNECTED),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert_eq!(ev[0], "[false,true,false]", "{out}");
    assert!(
        ev[1].starts_with(
            r#"[["Authentication failed: Authentication failure","error"],{"clean":false,"reason":"#
        ),
        "{out}"
    );
    assert!(ev[1].ends_with(",true]"), "{out}");
    // `password` in the URL (here the fragment) answers without the dialog.
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1#password=secret12")),
        wait(CONNECTED),
        eval("document.getElementById('credentials_dialog').hidden"),
    ];
    let out = drive(&node, &dir, &steps);
    assert_eq!(evals(&out)[0], "true", "{out}");
}

/// `reconnect=1`: when the proxy goes away and comes back on the same port, the app says so
/// and connects again by itself.
#[test]
fn reconnects_after_the_proxy_restarts() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-reconnect");
    let (proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let marker = Marker::new();
    let steps = vec![
        goto(&app_url(
            port,
            "?autoconnect=1&reconnect=1&reconnect_delay=300",
        )),
        wait(CONNECTED),
        marker.step(),
        wait("app.state === 'connected' && app.connectCount === 2"),
        eval(STATUS),
        eval("app.status.history"),
    ];
    let mut proxy = Some(proxy);
    let args = [
        "--web".to_string(),
        dist.display().to_string(),
        format!("127.0.0.1:{port}"),
        x.addr(),
    ];
    let mut restarted = None;
    let out = drive_while(&node, &dir, steps, || {
        if proxy.is_some() && marker.hit() {
            // Connected once: the proxy goes away (its connections with it) and comes back.
            drop(proxy.take());
            std::thread::sleep(Duration::from_millis(1500));
            restarted = Some(start_proxy(&args, port, &dir.join("proxy2.log")));
        }
    });
    let ev = evals(&out);
    assert!(
        ev[1].starts_with(r#"["Connected (unencrypted) to"#),
        "{out}"
    );
    // The banners in order: connected, closed and reconnecting, (retries), connected again.
    let history = ev[2];
    let closed = history
        .find(r#"["Something went wrong, connection is closed: "#)
        .unwrap_or_else(|| panic!("no closed banner: {history}"));
    assert!(
        history[closed..]
            .split(']')
            .next()
            .unwrap()
            .contains("Reconnecting"),
        "{history}"
    );
    assert!(
        history[closed..].contains(r#"["Connected (unencrypted) to"#),
        "{history}"
    );
}

/// Failures end in a clear error banner and the connect dialog: the VNC server is not there
/// (the proxy cannot reach it), and the proxy is not there.
#[test]
fn failures_show_a_clear_error() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let dir = temp_dir("app-failures");
    let dead = free_port();
    let (_proxy, port) = proxy_to(&format!("127.0.0.1:{dead}"), &dist, &dir);
    let no_proxy = free_port();
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait("document.getElementById('status').dataset.level === 'error'"),
        eval(&format!(
            "[{STATUS}, !document.getElementById('connect_dialog').hidden, app.lastDisconnect.clean]"
        )),
        goto(&app_url(port, &format!("?autoconnect=1&port={no_proxy}"))),
        wait("document.getElementById('status').dataset.level === 'error'"),
        eval(&format!(
            "[{STATUS}, !document.getElementById('connect_dialog').hidden, app.lastDisconnect.clean]"
        )),
    ];
    let out = drive(&node, &dir, &steps);
    for ev in evals(&out) {
        assert!(
            ev.starts_with(r#"[["Failed to connect to server"#)
                && ev.ends_with(r#""error"],true,false]"#),
            "{out}"
        );
    }
}

/// When the client cannot load (here: its wasm is missing), the page says so instead of
/// hanging on "Loading".
#[test]
fn missing_client_shows_an_error() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let dir = temp_dir("app-nowasm");
    let site = dir.join("site");
    copy_dir(&dist, &site);
    std::fs::remove_file(site.join("pkg/rfb_web_bg.wasm")).unwrap();
    let (_proxy, port) = proxy_to("127.0.0.1:1", &site, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait("document.getElementById('status').dataset.level === 'error'"),
        eval(STATUS),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert!(
        ev[0].starts_with(r#"["The client could not be loaded: "#) && ev[0].contains("404"),
        "{out}"
    );
}

/// vnc.html works under the strict CSP docs/EMBEDDING.md documents (its scripts are all
/// files, no inline script or style attribute in the markup).
#[test]
fn app_under_a_strict_csp() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-csp");
    let site = dir.join("site");
    copy_dir(&dist, &site);
    let html = std::fs::read_to_string(site.join("vnc.html")).unwrap();
    let csp = r#"<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'">"#;
    std::fs::write(
        site.join("vnc.html"),
        html.replacen(
            "<meta charset=\"utf-8\">",
            &format!("<meta charset=\"utf-8\">\n{csp}"),
            1,
        ),
    )
    .unwrap();
    let (_proxy, port) = proxy_to(&x.addr(), &site, &dir);
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        click("#settings_button"),
        eval("getComputedStyle(document.getElementById('control_bar')).zIndex"),
    ];
    let out = drive(&node, &dir, &steps);
    assert!(
        !out.contains("Content Security Policy"),
        "CSP violation\n{out}"
    );
    // The stylesheet applied (a style blocked by the CSP would leave `auto`).
    assert_eq!(evals(&out)[0], r#""50""#, "{out}");
}

/// The VNC server going away mid-session (no reconnect): an error banner saying the
/// connection closed, and the connect dialog.
#[test]
fn server_gone_while_connected() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-server-gone");
    let (_proxy, port) = proxy_to(&x.addr(), &dist, &dir);
    let marker = Marker::new();
    let steps = vec![
        goto(&app_url(port, "?autoconnect=1")),
        wait(CONNECTED),
        marker.step(),
        wait("app.state === 'disconnected'"),
        eval(&format!(
            "[{STATUS}, !document.getElementById('connect_dialog').hidden, \
             app.lastDisconnect.clean, document.title]"
        )),
    ];
    let mut server = Some(x);
    let out = drive_while(&node, &dir, steps, || {
        if server.is_some() && marker.hit() {
            // Connected: the server goes away.
            drop(server.take());
        }
    });
    let ev = evals(&out);
    assert!(
        ev[1].starts_with(r#"[["Something went wrong, connection is closed"#)
            && ev[1].ends_with(r#""error"],true,false,"rfb"]"#),
        "{out}"
    );
}

/// Served over https (rfb-proxy --self-signed): `encrypt` follows the page, so the app
/// connects over wss, says "encrypted", and shows no HTTPS warning.
#[test]
fn https_page_connects_over_wss() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-https");
    let port = free_port();
    let _proxy = start_proxy(
        &[
            "--self-signed".into(),
            "--web".into(),
            dist.display().to_string(),
            format!("127.0.0.1:{port}"),
            x.addr(),
        ],
        port,
        &dir.join("proxy.log"),
    );
    let steps = vec![
        op("emulate", r#""insecure":true"#),
        goto(&format!("https://127.0.0.1:{port}/vnc.html?autoconnect=1")),
        wait(CONNECTED),
        eval(&format!(
            "[{STATUS}, document.getElementById('https_warning').hidden, \
             document.getElementById('setting_encrypt').checked]"
        )),
    ];
    let out = drive(&node, &dir, &steps);
    let ev = evals(&out);
    assert!(
        ev[0].starts_with(r#"[["Connected (encrypted) to"#)
            && ev[0].ends_with(r#""ok"],true,true]"#),
        "{out}"
    );
}

/// `reconnect=1` retries a first attempt that fails too (as noVNC): the proxy the page points
/// at starts only after the page has failed once.
#[test]
fn reconnect_retries_a_first_failure() {
    let (Some(dist), Some(node)) = (dist(), browser()) else {
        return;
    };
    let Some(x) = desktop(XvncOptions::new(W, H)) else {
        return;
    };
    let dir = temp_dir("app-reconnect-first");
    let (_page_server, port) = proxy_to(&x.addr(), &dist, &dir);
    let late = free_port();
    let marker = Marker::new();
    let steps = vec![
        goto(&app_url(
            port,
            &format!("?autoconnect=1&reconnect=1&reconnect_delay=300&port={late}"),
        )),
        wait("window.app && app.reconnecting === true"),
        marker.step(),
        wait(CONNECTED),
        eval("app.status.history"),
    ];
    let args = [
        "--web".to_string(),
        dist.display().to_string(),
        format!("127.0.0.1:{late}"),
        x.addr(),
    ];
    let mut started = None;
    let out = drive_while(&node, &dir, steps, || {
        if started.is_none() && marker.hit() {
            started = Some(start_proxy(&args, late, &dir.join("late-proxy.log")));
        }
    });
    let history = evals(&out)[1];
    assert!(
        history.contains(r#"["Failed to connect to server: "#)
            && history.contains(r#"Reconnecting…","warn"]"#)
            && !history.contains("Something went wrong")
            && history.ends_with(r#""ok"]]"#),
        "{out}"
    );
}
