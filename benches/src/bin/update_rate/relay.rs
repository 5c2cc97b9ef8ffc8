//! A userspace stand-in for `netem` (this kernel has none): a loopback TCP relay that delays
//! every chunk by a fixed one-way latency in both directions and paces the server-to-client
//! direction to a bit rate, with a bounded queue so a fast sender meets back-pressure as it
//! would on a real bottleneck link.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

/// Link characteristics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    /// Added one way (the round trip grows by twice this).
    pub(crate) one_way: Duration,
    /// Server-to-client rate in bits per second (`None`: unlimited).
    pub(crate) down_bps: Option<u64>,
}

/// Chunks queued per direction: with 64 KiB reads, at most 1 MiB in flight inside the relay.
const QUEUE: usize = 16;
const CHUNK: usize = 64 * 1024;

/// Listens on 127.0.0.1 (an ephemeral port) and relays every connection to `target`.
pub(crate) async fn start(target: SocketAddr, link: Link) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(target).await else {
                    return;
                };
                client.set_nodelay(true).ok();
                server.set_nodelay(true).ok();
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, link.one_way, None));
                pipe(sr, cw, link.one_way, link.down_bps).await;
            });
        }
    });
    Ok(addr)
}

/// Moves bytes from `r` to `w`: each chunk leaves when the link has finished serialising the
/// chunks before it (at `bps`) plus the one-way delay.
async fn pipe(mut r: OwnedReadHalf, mut w: OwnedWriteHalf, delay: Duration, bps: Option<u64>) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
    tokio::spawn(async move {
        loop {
            let mut buf = vec![0u8; CHUNK];
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.send((Instant::now(), buf)).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let mut link_free = Instant::now();
    while let Some((arrived, data)) = rx.recv().await {
        let start = link_free.max(arrived);
        let serialise = bps.map_or(Duration::ZERO, |b| {
            Duration::from_secs_f64(data.len() as f64 * 8.0 / b as f64)
        });
        link_free = start + serialise;
        sleep_until(link_free + delay).await;
        if w.write_all(&data).await.is_err() {
            return;
        }
    }
}
