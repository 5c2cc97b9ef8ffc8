//! Loopback ports for test servers.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use crate::time::Deadline;

/// How long to sleep between connection attempts in [`wait_for_port`].
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Where [`free_port`] looks: below Linux's ephemeral range (32768–60999), so no outgoing
/// connection's source port can collide with a test server's port, and well above the X
/// (6000+n) and RFB (5900+n) ports the test servers pick for themselves.
const TEST_PORTS: std::ops::Range<u32> = 20_000..32_000;

/// How many ports this process has handed out; threads of one test binary walk the range
/// together instead of racing each other for the same port.
static HANDED_OUT: AtomicU32 = AtomicU32::new(0);

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// The port is bound and released at once, so another process may take it before the caller
/// does; servers started on it must be retried on "address in use" (as [`crate::xvnc`] does).
///
/// Ports come from [`TEST_PORTS`], not from the kernel's ephemeral range: a port from
/// `bind(0)` can meanwhile become the source port of some outgoing connection, or — when
/// [`wait_for_port`] polls a port nobody listens on yet — of the poll itself (a TCP
/// self-connection), and then the server cannot bind. Each process starts at its own offset
/// (from its PID) so concurrent test binaries rarely probe the same ports.
///
/// # Panics
/// If the loopback interface cannot be bound at all, which means no test could run.
pub fn free_port() -> u16 {
    let span = TEST_PORTS.end - TEST_PORTS.start;
    let offset = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let n = HANDED_OUT.fetch_add(1, Ordering::Relaxed);
        let port = TEST_PORTS.start + (offset + n) % span;
        let port = u16::try_from(port).expect("TEST_PORTS lies within u16");
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    // Every port in the range is taken: fall back to the kernel's choice.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("local_addr of a bound listener")
        .port()
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`, trying every 20 ms.
///
/// Returns `false` once `timeout` has passed without a successful connection.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Deadline::after(timeout);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        // Cap each attempt by the time left so the whole wait stays bounded; a refused
        // connection on loopback returns immediately anyway.
        let attempt = deadline
            .remaining()
            .clamp(Duration::from_millis(1), Duration::from_secs(1));
        if let Ok(stream) = TcpStream::connect_timeout(&addr, attempt) {
            // A connect to a port nobody listens on can land on itself when the kernel picks
            // that same port as the source (TCP simultaneous open); that is not a server.
            let self_connected = stream.local_addr().is_ok_and(|a| a.port() == port);
            if !self_connected {
                return true;
            }
        }
        if deadline.expired() {
            return false;
        }
        thread::sleep(POLL_INTERVAL.min(deadline.remaining()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_is_bindable_and_waitable() {
        let port = free_port();
        assert_ne!(port, 0);
        assert!(
            TEST_PORTS.contains(&u32::from(port)),
            "{port} outside the test range"
        );
        assert_ne!(free_port(), port, "two calls hand out two ports");
        assert!(!wait_for_port(port, Duration::from_millis(60)));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        assert!(wait_for_port(port, Duration::from_secs(2)));
        drop(listener);
    }
}
