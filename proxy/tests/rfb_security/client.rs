//! Our rfb-core client over a raw WebSocket (rfb-ws), no browser: pictures, failures and
//! option checks.

use super::*;

/// A WebSocket to the proxy carrying an RFB session.
pub(crate) struct Ws {
    s: TcpStream,
    ws: WsConnection,
    buf: Vec<u8>,
    /// The close code received, once a close came.
    close: Option<Option<rfb_ws::CloseCode>>,
}

impl Ws {
    pub(crate) fn connect(port: u16, path: &str) -> Self {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let key = rfb_ws::client_key([9; 16]);
        s.write_all(&rfb_ws::client_request(
            "127.0.0.1",
            path,
            &key,
            &["binary"],
        ))
        .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).expect("upgrade response");
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
            if let Some((n, _)) =
                rfb_ws::client_verify_response(&buf, &key, &HeadLimits::default()).unwrap()
            {
                buf.drain(..n);
                let ws = WsConnection::new(
                    Role::Client,
                    Limits::default(),
                    Some(Box::new(TestRng::default())),
                );
                return Self {
                    s,
                    ws,
                    buf,
                    close: None,
                };
            }
        }
    }

    pub(crate) fn send(&mut self, data: &[u8]) {
        self.ws.send_binary(data);
        while let Some(b) = self.ws.poll_transmit() {
            self.s.write_all(&b).unwrap();
        }
    }

    /// The next data payload (empty at a close or EOF).
    pub(crate) fn recv(&mut self) -> Vec<u8> {
        let mut chunk = vec![0u8; 65536];
        loop {
            let n = self.ws.handle_input(&self.buf).unwrap_or(self.buf.len());
            self.buf.drain(..n);
            let mut data = Vec::new();
            let mut closed = false;
            while let Some(ev) = self.ws.poll_event() {
                match ev {
                    WsEvent::Data { data: d, .. } => data.extend(d),
                    WsEvent::Close { code, .. } => {
                        self.close = Some(code);
                        closed = true;
                    }
                    _ => {}
                }
            }
            while let Some(b) = self.ws.poll_transmit() {
                let _ = self.s.write_all(&b);
            }
            if !data.is_empty() || closed {
                return data;
            }
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return Vec::new(),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// Runs rfb-core's client through the proxy until updates have covered the whole framebuffer
/// (TigerVNC may answer SetEncodings with pseudo-rectangles first); the framebuffer, or the
/// client's error (a SecurityResult failure's reason) as text.
pub(crate) fn rfb_through_proxy(port: u16, password: Option<&str>) -> Result<Image, String> {
    rfb_through_proxy_at(port, "/websockify", password)
}

/// [`rfb_through_proxy`] with a WebSocket path (`?token=`).
pub(crate) fn rfb_through_proxy_at(
    port: u16,
    path: &str,
    password: Option<&str>,
) -> Result<Image, String> {
    let mut ws = Ws::connect(port, path);
    rfb_session(&mut ws, password)
}

/// Runs the RFB session on `ws` until the first complete picture.
fn rfb_session(ws: &mut Ws, password: Option<&str>) -> Result<Image, String> {
    let mut client = Client::new(
        Config::default(),
        Duration::ZERO,
        Box::new(TestRng::default()),
    );
    let mut fb = Framebuffer::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut covered: u64 = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no update within 60 s");
        let used = client
            .handle_input(&pending, &mut fb)
            .map_err(|e| e.to_string())?;
        pending.drain(..used);
        let mut again = false;
        let mut updated = false;
        while let Some(ev) = client.poll_event() {
            match ev {
                Event::CredentialsRequired(_) => {
                    let c = Credentials {
                        password: password.map(str::to_string),
                        ..Default::default()
                    };
                    client.supply_credentials(&c).map_err(|e| e.to_string())?;
                    again = true;
                }
                Event::FramebufferUpdated { damage } => {
                    // A full update request: its rectangles tile the screen once.
                    covered += damage
                        .iter()
                        .map(|r| u64::from(r.width) * u64::from(r.height))
                        .sum::<u64>();
                    let (w, h) = client.framebuffer_size();
                    updated = w > 0 && covered >= u64::from(w) * u64::from(h);
                }
                _ => {}
            }
        }
        while let Some(out) = client.poll_transmit() {
            ws.send(&out);
        }
        if updated {
            return Ok(Image {
                width: u32::from(fb.width()),
                height: u32::from(fb.height()),
                rgba: fb.data().to_vec(),
            });
        }
        if again {
            continue;
        }
        let data = ws.recv();
        if data.is_empty() {
            client
                .handle_eof(pending.len())
                .map_err(|e| e.to_string())?;
            return Err("closed".into());
        }
        pending.extend_from_slice(&data);
    }
}

#[test]
fn rfb_core_client_through_the_proxy_matches_xwd_with_either_browser_auth() {
    let dir = temp_dir("rfbsec-client");
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Plain,X509Vnc", &pki) else {
        return;
    };
    let want = x.xwd_root();
    let vnc_pw = file(&dir, "vncpw", VNC_PW);
    let ca = pki.path("ca.pem");
    // The server offers X509Plain and X509Vnc; the proxy's list picks X509Vnc.
    let (p, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-ca-file",
            &ca,
        ]),
    );
    let got = rfb_through_proxy(port, None).expect("session through the proxy");
    assert_same(&got, &want, "rfb-core client through the proxy (None)");
    drop(p);
    // Browser side VncAuth with the proxy's password: right, then wrong.
    let (_p, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-ca-file",
            &ca,
            "--browser-auth",
            "vncauth",
            "--browser-password-file",
            &file(&dir, "webpw", BROWSER_PW),
        ]),
    );
    let got = rfb_through_proxy(port, Some(BROWSER_PW)).expect("right proxy password");
    assert_same(&got, &want, "rfb-core client through the proxy (VncAuth)");
    let e = rfb_through_proxy(port, Some("wrong")).unwrap_err();
    assert!(e.contains("Authentication failed: wrong password"), "{e}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn wrong_ca_and_missing_tls_fail_with_a_reason_and_no_session() {
    let dir = temp_dir("rfbsec-fail");
    let pki = Pki::new(&dir, "rfb test CA");
    let other = Pki::new(&dir, "some other CA");
    let vnc_pw = file(&dir, "vncpw", VNC_PW);
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    // The server's certificate does not chain to the configured CA.
    let (_p, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-ca-file",
            &other.path("ca.pem"),
        ]),
    );
    let e = rfb_through_proxy(port, None).unwrap_err();
    assert!(
        e.contains("VNC server: server certificate rejected"),
        "wrong CA: {e}"
    );
    assert!(!log_of(&dir, port).contains("authenticated to the VNC server"));
    // A pinned fingerprint that is not the server's.
    let (_p2, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-fingerprint",
            &other.fingerprint(),
        ]),
    );
    let e = rfb_through_proxy(port, None).unwrap_err();
    assert!(e.contains("certificate rejected"), "wrong fingerprint: {e}");
    // A server without TLS when the proxy is configured for it: no downgrade.
    let Some(plain) = server("VncAuth", &pki) else {
        return;
    };
    let (_p3, port) = proxy(
        &dir,
        None,
        &plain,
        &args(&[
            "--vnc-security",
            "x509vnc,tlsvnc",
            "--vnc-password-file",
            &vnc_pw,
            "--vnc-ca-file",
            &pki.path("ca.pem"),
        ]),
    );
    let e = rfb_through_proxy(port, None).unwrap_err();
    assert!(e.contains("no common security type"), "no TLS offered: {e}");
    // And VncAuth itself, when configured, works with that server.
    let (_p4, port) = proxy(
        &dir,
        None,
        &plain,
        &args(&["--vnc-security", "vncauth", "--vnc-password-file", &vnc_pw]),
    );
    let got = rfb_through_proxy(port, None).expect("vncauth to the server");
    assert_same(&got, &plain.xwd_root(), "VncAuth server through the proxy");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bad_option_combinations_fail_at_start() {
    let dir = temp_dir("rfbsec-opts");
    let pw = file(&dir, "pw", "x");
    for (bad, why) in [
        (vec!["--vnc-security", "x509vnc"], "--vnc-ca-file"),
        (vec!["--vnc-security", "tight"], "tight"),
        (
            vec!["--vnc-password-file", pw.as_str()],
            "need --vnc-security",
        ),
        (
            vec!["--vnc-security", "vncauth", "--browser-auth", "vncauth"],
            "--browser-password-file",
        ),
    ] {
        let out = common::proxy_bin()
            .args(["127.0.0.1:1", "127.0.0.1:2"])
            .args(&bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{bad:?}: {err}");
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_closes_a_security_mode_session_with_1001_and_the_proxy_exits() {
    let dir = temp_dir("rfbsec-term");
    let pki = Pki::new(&dir, "rfb test CA");
    let Some(x) = server("X509Vnc", &pki) else {
        return;
    };
    let (mut p, port) = proxy(
        &dir,
        None,
        &x,
        &args(&[
            "--vnc-security",
            "x509vnc",
            "--vnc-password-file",
            &file(&dir, "vncpw", VNC_PW),
            "--vnc-ca-file",
            &pki.path("ca.pem"),
        ]),
    );
    let mut ws = Ws::connect(port, "/websockify");
    rfb_session(&mut ws, None).expect("a running session");
    let ok = Command::new("kill")
        .args(["-TERM", &p.pid().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    // Updates may still be in flight; the close comes after them.
    let deadline = Instant::now() + Duration::from_secs(20);
    while ws.close.is_none() && Instant::now() < deadline {
        if ws.recv().is_empty() && ws.close.is_none() {
            break;
        }
    }
    assert_eq!(ws.close, Some(Some(rfb_ws::CloseCode::Away)), "close 1001");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = p.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the proxy did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let _ = fs::remove_dir_all(&dir);
}
