//! `rfb-proxy`: a WebSocket-to-TCP proxy for VNC, a drop-in for websockify.
#![forbid(unsafe_code)]
// A driver measures real time; the workspace's clock ban is for the core crates.
#![allow(clippy::disallowed_methods)]

mod auth;
mod cli;
mod client_addr;
mod demo;
mod endpoints;
mod launcher;
mod recorder;
mod relay;
mod rfb_security;
mod session;
mod target;
mod tls;
mod token;
mod token_api;
mod token_jwt;
mod token_redis;
mod token_unix;
mod web;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use tokio::net::TcpListener;

use crate::cli::Args;
use crate::target::Target;
use crate::token::TokenPlugin;

/// State every session shares.
pub(crate) struct Shared {
    pub(crate) args: Args,
    pub(crate) fixed: Option<Target>,
    pub(crate) tokens: Option<Box<dyn TokenPlugin>>,
    /// `--auth-plugin`, checked after the token lookup (and on GET/HEAD with `--web-auth`).
    pub(crate) auth: Option<auth::AuthPlugin>,
    pub(crate) shutdown: tokio::sync::watch::Sender<bool>,
    /// `--cert`/`--ssl-only` and `--ssl-target` (tls.rs).
    pub(crate) tls: tls::Tls,
    pub(crate) active: AtomicUsize,
    pub(crate) metrics: Arc<endpoints::Metrics>,
    /// Files served on plain GET/HEAD: `--web DIR`, or the built-in app in the launcher form.
    pub(crate) web: Option<web::WebRoot>,
    /// `--vnc-security`: the RFB-aware security mode (rfb_security/).
    pub(crate) rfb_security: Option<Arc<rfb_security::SecurityMode>>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(&args);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rfb-proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("rfb-proxy: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(args: &Args) {
    let level = if args.verbose { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let file = args.log_file.as_ref().and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match (file, &args.syslog) {
        (Some(f), _) => builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(f))
            .init(),
        (None, Some(server)) => {
            let target = launcher::SyslogTarget::parse(server);
            builder
                .with_ansi(false)
                .with_writer(move || launcher::SyslogWriter::new(target.clone()))
                .init();
        }
        (None, None) => builder.with_writer(std::io::stderr).init(),
    }
}

async fn run(mut args: Args) -> anyhow::Result<()> {
    let listen = args.listen_addr()?;
    // Kept until `run` returns: the certificate files go when the proxy ends.
    let mut _self_signed = None;
    if args.self_signed {
        let made = launcher::self_signed()?;
        println!(
            "rfb-proxy: self-signed certificate, SHA-256 fingerprint {}",
            made.fingerprint
        );
        args.cert = Some(made.cert.clone());
        args.key = Some(made.key.clone());
        _self_signed = Some(made);
    }
    let fixed = args.fixed_target()?;
    anyhow::ensure!(
        !args.web_auth || args.auth_plugin.is_some(),
        "--web-auth needs --auth-plugin"
    );
    let auth = match &args.auth_plugin {
        Some(p) => Some(auth::AuthPlugin::new(p, args.auth_source.as_deref())?),
        None => None,
    };
    let tokens = match &args.token_plugin {
        Some(p) => Some(token::make_plugin(p, args.token_source.as_deref())?),
        None => None,
    };
    if let Some(web) = &args.web {
        anyhow::ensure!(web.is_dir(), "--web {}: not a directory", web.display());
    }
    let web = match &args.web {
        Some(dir) => Some(web::WebRoot::Dir(dir.clone())),
        None if args.launcher() && web::has_embedded_app() => Some(web::WebRoot::Embedded),
        None if args.launcher() => {
            tracing::warn!(
                "this rfb-proxy was built without the web app (RFB_PROXY_SKIP_WEB=1); pass --web DIR"
            );
            None
        }
        None => None,
    };
    let tls = tls::Tls::from_args(&args)?;
    let rfb_security = rfb_security::SecurityMode::from_args(&args)?;
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|e| launcher::bind_error(&listen, &e))?;
    let local = listener.local_addr()?;
    if args.launcher() {
        if let Some(t) = &fixed {
            launcher::check_vnc(t).await;
        }
        launcher::print_url(local, tls.serves(), fixed.as_ref());
    }
    if let (Some(port), Some(Target::Demo { animate })) = (args.demo_rfb_port, &fixed) {
        let addr = std::net::SocketAddr::new(local.ip(), port);
        let l = TcpListener::bind(addr)
            .await
            .with_context(|| format!("--demo-rfb-port: cannot listen on {addr}"))?;
        tracing::info!("serving the demo desktop as plain RFB on {addr}");
        tokio::spawn(demo::serve_tcp(l, *animate));
    }
    match &fixed {
        Some(t) => tracing::info!("proxying from {local} to {t}"),
        None => tracing::info!("proxying from {local} to targets chosen by token"),
    }
    let (tx, _) = tokio::sync::watch::channel(false);
    let shared = Arc::new(Shared {
        args,
        fixed,
        tokens,
        auth,
        shutdown: tx,
        tls,
        active: AtomicUsize::new(0),
        metrics: Arc::default(),
        web,
        rfb_security,
    });
    let started = Instant::now();
    let next_id = AtomicU64::new(1);
    let mut last_activity = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            r = listener.accept() => {
                let (stream, peer) = match r {
                    Ok(x) => x,
                    Err(e) => {
                        // EMFILE and friends: log and keep serving the others.
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                last_activity = Instant::now();
                let id = next_id.fetch_add(1, Ordering::Relaxed);
                if shared.active.load(Ordering::Relaxed) >= shared.args.max_connections {
                    tracing::warn!(%peer, id, "connection cap reached");
                    shared.metrics.refused_at_cap();
                    tokio::spawn(async move {
                        let mut s = stream;
                        let _ = tokio::io::AsyncWriteExt::write_all(&mut s, &rfb_ws::error_response(503, "Service Unavailable", &[])).await;
                    });
                    continue;
                }
                let sh = shared.clone();
                sh.active.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    session::handle(stream, peer, sh.clone(), id).await;
                    sh.active.fetch_sub(1, Ordering::Relaxed);
                });
            }
            _ = tick.tick() => {
                let t = shared.args.timeout;
                if t > 0 && started.elapsed() >= Duration::from_secs(t) {
                    tracing::info!("--timeout {t} reached");
                    break;
                }
                let idle = shared.args.idle_timeout;
                if shared.active.load(Ordering::Relaxed) > 0 {
                    last_activity = Instant::now();
                } else if idle > 0 && last_activity.elapsed() >= Duration::from_secs(idle) {
                    tracing::info!("--idle-timeout {idle} reached with no connection");
                    break;
                }
            }
            _ = &mut stop => {
                tracing::info!("shutting down: closing sessions");
                break;
            }
        }
    }
    drop(listener);
    // Graceful drain: tell sessions to close (close 1001), then wait a bounded time.
    let _ = shared.shutdown.send(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while shared.active.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
