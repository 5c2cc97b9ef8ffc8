//! Loopback ports for test servers.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use crate::time::Deadline;

/// How long to sleep between connection attempts in [`wait_for_port`].
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// The port is bound and released at once, so another process may take it before the caller
/// does; servers started on it must be retried on "address in use" (as [`crate::xvnc`] does).
///
/// # Panics
/// If the loopback interface cannot be bound at all, which means no test could run.
pub fn free_port() -> u16 {
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
        if TcpStream::connect_timeout(&addr, attempt).is_ok() {
            return true;
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
        assert!(!wait_for_port(port, Duration::from_millis(60)));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        assert!(wait_for_port(port, Duration::from_secs(2)));
        drop(listener);
    }
}
