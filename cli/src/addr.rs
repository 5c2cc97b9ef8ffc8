//! Server addresses as VNC users write them.

use anyhow::{Context, bail};

/// Parses `HOST:PORT`, `HOST::PORT`, `HOST:DISPLAY` (0–99 → port 5900 + N, as vncviewer
/// does), `[V6]:PORT` or a bare `HOST` (port 5900) into `host:port` for `TcpStream::connect`.
pub(crate) fn parse(s: &str) -> anyhow::Result<String> {
    if s.is_empty() {
        bail!("empty server address");
    }
    if s.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(join(s, 5900));
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, tail) = rest
            .split_once(']')
            .with_context(|| format!("{s:?}: missing ']' after an IPv6 address"))?;
        (h, tail.strip_prefix(':').unwrap_or(tail))
    } else if let Some((h, p)) = s.split_once("::") {
        return Ok(join(
            h,
            p.parse::<u16>()
                .with_context(|| format!("{s:?}: bad port {p:?}"))?,
        ));
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p),
            // Several colons without brackets: a bare IPv6 address.
            Some(_) => (s, ""),
            None => (s, ""),
        }
    };
    if port.is_empty() {
        return Ok(join(host, 5900));
    }
    if let Some(p) = port.strip_prefix(':') {
        return Ok(join(
            host,
            p.parse()
                .with_context(|| format!("{s:?}: bad port {p:?}"))?,
        ));
    }
    let n: u16 = port
        .parse()
        .with_context(|| format!("{s:?}: bad port or display {port:?}"))?;
    Ok(join(host, if n < 100 { 5900 + n } else { n }))
}

fn join(host: &str, port: u16) -> String {
    let host = if host.is_empty() { "localhost" } else { host };
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn forms() {
        assert_eq!(parse("127.0.0.1:5905").unwrap(), "127.0.0.1:5905");
        assert_eq!(parse("host:1").unwrap(), "host:5901");
        assert_eq!(parse("host::1").unwrap(), "host:1");
        assert_eq!(parse("host").unwrap(), "host:5900");
        assert_eq!(parse("[::1]:6000").unwrap(), "[::1]:6000");
        assert_eq!(parse("[::1]").unwrap(), "[::1]:5900");
        assert_eq!(parse("::1").unwrap(), "[::1]:5900");
        assert_eq!(parse(":3").unwrap(), "localhost:5903");
        assert!(parse("host:x").is_err());
        assert!(parse("host:70000").is_err());
        assert!(parse("").is_err());
    }
}
