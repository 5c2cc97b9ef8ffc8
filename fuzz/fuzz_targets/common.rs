//! Shared helpers: a fixed RNG and a chunked feeder that behaves like a driver.

use core::time::Duration;

use rfb_core::{Client, Config, Credentials, Event};
use rfb_encodings::Framebuffer;

pub struct FixedRng;

impl rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        7
    }
    fn next_u64(&mut self) -> u64 {
        7
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        d.fill(7)
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
        d.fill(7);
        Ok(())
    }
}

pub fn client(config: Config) -> Client {
    Client::new(config, Duration::ZERO, Box::new(FixedRng))
}

/// Feeds `data` in chunks whose sizes come from `sizes`, as a driver would: unconsumed bytes
/// are kept and offered again. Answers credential requests. Checks the consumed count never
/// exceeds what was offered and that the leftover stays bounded.
pub fn feed(client: &mut Client, fb: &mut Framebuffer, data: &[u8], sizes: &[u8]) {
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < data.len() {
        let n = usize::from(sizes.get(i % sizes.len().max(1)).copied().unwrap_or(255)).max(1);
        i += 1;
        let end = (pos + n).min(data.len());
        buf.extend_from_slice(&data[pos..end]);
        pos = end;
        match client.handle_input(&buf, fb) {
            Ok(used) => {
                assert!(used <= buf.len());
                buf.drain(..used);
            }
            Err(_) => return,
        }
        while client.poll_transmit().is_some() {}
        while let Some(ev) = client.poll_event() {
            // Turn QEMU audio on once the server allows it, so audio data is delivered (not
            // only dropped) under fuzzing too.
            if let Event::Audio(rfb_core::AudioEvent::Supported) = ev {
                let _ = client.set_audio_format(rfb_core::AudioFormat::CD);
                let _ = client.enable_audio();
            }
            // Approve server keys (RA2) so the fuzzer reaches the exchange after them.
            if let Event::ServerVerification(_) = ev {
                let _ = client.approve_server();
                let _ = client.handle_input(&buf, fb).map(|u| buf.drain(..u));
            }
            if let Event::CredentialsRequired(_) = ev {
                let _ = client.supply_credentials(&Credentials {
                    username: Some("u".into()),
                    password: Some("p".into()),
                    target: None,
                });
                let _ = client.handle_input(&buf, fb).map(|u| buf.drain(..u));
            }
        }
    }
    let _ = client.handle_eof(buf.len());
}
