//! The client's real address: `--trust-forwarded CIDR,…` takes it from `X-Forwarded-For` when
//! the connection comes from a trusted proxy, and `--proxy-protocol` hands it to the target in
//! a PROXY protocol v2 header before any RFB byte (websockify cannot do either: #334, #630).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use rfb_ws::Request;
use tokio::io::{AsyncWrite, AsyncWriteExt};

tokio::task_local! {
    /// The local address of the accepted client connection (the PROXY header's destination).
    pub(crate) static LOCAL_ADDR: Option<SocketAddr>;
}

/// An address range, `ADDR/PREFIX` or a bare address (a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("{s:?}: not an IP address or CIDR range"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix must be 0..={max}"))?,
            None => max,
        };
        Ok(Self { net, prefix })
    }
}

impl Cidr {
    /// Whether `ip` is in the range (IPv4-mapped IPv6 addresses count as IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

fn trusted(ranges: &[Cidr], ip: IpAddr) -> bool {
    ranges.iter().any(|c| c.contains(ip))
}

/// One `X-Forwarded-For` element: an address, optionally with a port (`1.2.3.4:5`,
/// `[::1]:5`).
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .map(|ip| ip.to_canonical())
}

/// The client address to log and announce: `peer` itself unless `peer` is a trusted proxy,
/// then the rightmost `X-Forwarded-For` hop that is not trusted (port 0: unknown). A malformed
/// hop stops the walk at the last address that is known good.
pub(crate) fn client_addr(ranges: &[Cidr], peer: SocketAddr, req: &Request) -> SocketAddr {
    if !trusted(ranges, peer.ip()) {
        return peer;
    }
    let hops: Vec<&str> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-forwarded-for"))
        .filter_map(|(_, v)| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut found = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            break;
        };
        found = SocketAddr::new(ip, 0);
        if !trusted(ranges, ip) {
            break;
        }
    }
    found
}

fn as_v6(a: SocketAddr) -> ([u8; 16], u16) {
    let ip = match a.ip() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    (ip.octets(), a.port())
}

/// A PROXY protocol v2 header (`PROXY` command, TCP over IPv4 or IPv6) for a connection from
/// `src` to `dst`; mixed families are both sent as IPv6 (IPv4-mapped).
pub(crate) fn proxy_v2_header(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.push(0x21); // version 2, PROXY
    let (src, dst) = (
        SocketAddr::new(src.ip().to_canonical(), src.port()),
        SocketAddr::new(dst.ip().to_canonical(), dst.port()),
    );
    match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            h.push(0x11); // AF_INET, STREAM
            h.extend_from_slice(&12u16.to_be_bytes());
            h.extend_from_slice(&s.ip().octets());
            h.extend_from_slice(&d.ip().octets());
            h.extend_from_slice(&s.port().to_be_bytes());
            h.extend_from_slice(&d.port().to_be_bytes());
        }
        _ => {
            let ((s, sp), (d, dp)) = (as_v6(src), as_v6(dst));
            h.push(0x21); // AF_INET6, STREAM
            h.extend_from_slice(&36u16.to_be_bytes());
            h.extend_from_slice(&s);
            h.extend_from_slice(&d);
            h.extend_from_slice(&sp.to_be_bytes());
            h.extend_from_slice(&dp.to_be_bytes());
        }
    }
    h
}

/// Sends the PROXY v2 header for `client` to a freshly connected target.
pub(crate) async fn announce<T: AsyncWrite + Unpin + ?Sized>(
    target: &mut T,
    client: SocketAddr,
) -> std::io::Result<()> {
    let local = LOCAL_ADDR.try_with(|l| *l).ok().flatten();
    let dst = local.unwrap_or_else(|| {
        let ip = match client.ip() {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(ip, 0)
    });
    target.write_all(&proxy_v2_header(client, dst)).await?;
    target.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(xff: &[&str]) -> Request {
        Request {
            method: "GET".into(),
            path: "/".into(),
            minor_version: 1,
            headers: xff
                .iter()
                .map(|v| ("X-Forwarded-For".to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    #[test]
    fn cidr_ranges() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        let c: Cidr = "fd00::/8".parse().unwrap();
        assert!(c.contains("fd12::1".parse().unwrap()));
        assert!(!c.contains("fe80::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope".parse::<Cidr>().is_err());
    }

    #[test]
    fn rightmost_untrusted_hop() {
        let t: Vec<Cidr> = vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let ip = |r: &Request| client_addr(&t, proxy, r).ip().to_string();
        assert_eq!(
            ip(&req(&["198.51.100.7, 203.0.113.9, 10.0.0.2"])),
            "203.0.113.9"
        );
        assert_eq!(ip(&req(&["198.51.100.7", "10.0.0.2"])), "198.51.100.7");
        assert_eq!(ip(&req(&["10.0.0.3, 10.0.0.2"])), "10.0.0.3");
        assert_eq!(ip(&req(&["garbage, 10.0.0.2"])), "10.0.0.2");
        assert_eq!(ip(&req(&["[2001:db8::1]:443"])), "2001:db8::1");
        assert_eq!(client_addr(&t, proxy, &req(&[])), proxy);
        // An untrusted peer's header is ignored.
        let outsider: SocketAddr = "192.0.2.1:7".parse().unwrap();
        assert_eq!(client_addr(&t, outsider, &req(&["1.1.1.1"])), outsider);
    }

    #[test]
    fn proxy_v2_bytes() {
        let h = proxy_v2_header(
            "192.0.2.1:5000".parse().unwrap(),
            "127.0.0.1:6080".parse().unwrap(),
        );
        assert_eq!(&h[..12], b"\r\n\r\n\0\r\nQUIT\n");
        assert_eq!(&h[12..16], &[0x21, 0x11, 0, 12]);
        assert_eq!(
            &h[16..],
            &[192, 0, 2, 1, 127, 0, 0, 1, 0x13, 0x88, 0x17, 0xc0]
        );
        let h = proxy_v2_header(
            "[2001:db8::1]:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
        );
        assert_eq!(&h[12..16], &[0x21, 0x21, 0, 36]);
        assert_eq!(h.len(), 16 + 36);
        assert_eq!(&h[16 + 16..16 + 32][10..], &[0xff, 0xff, 127, 0, 0, 1]);
    }
}
