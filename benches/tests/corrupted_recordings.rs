//! Robustness of the client core against damaged input (issue 12, "recordings cut at random
//! points and bit-flipped"): every committed recording in `benches/recordings`, replayed with
//! seeded damage, ends in `Ok` or a typed error — never a panic — and an error is sticky.
//!
//! The damage: the server's byte stream cut at a random point (then end of stream), single
//! and burst bit flips, and a 4-byte window overwritten with 0xFF (the shape of a huge length
//! field, which must hit a `Limits` check before any allocation). The stream is fed in chunks
//! of random size, so every parser also sees its input split at arbitrary points.
//!
//! Bounded: a fixed number of seeds per recording and damage kind; the seeds are printed on
//! failure so a finding replays exactly.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use rand_core::RngCore;
use rfb_benches::{Recording, corpus_dir, load};
use rfb_core::record::Direction;
use rfb_core::{Client, Config, Credentials, Error, Event};
use rfb_encodings::Framebuffer;
use rfb_testkit::harness::TestRng;

/// Seeds per recording and damage kind: 11 recordings × 3 kinds × this many replays (about
/// 2 s in the optimised test profile).
const SEEDS: u64 = 64;

/// The kinds of damage.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// The stream ends early, at a random byte.
    Cut,
    /// One to eight random bits flipped anywhere in the stream.
    Flip,
    /// Four consecutive bytes set to 0xFF.
    Huge,
}

/// Every byte the server sent, in order.
fn server_stream(r: &Recording) -> Vec<u8> {
    r.frames
        .iter()
        .filter(|f| f.direction == Direction::FromServer)
        .flat_map(|f| f.data.iter().copied())
        .collect()
}

fn below(rng: &mut TestRng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

fn damage(stream: &[u8], kind: Damage, rng: &mut TestRng) -> Vec<u8> {
    let mut s = stream.to_vec();
    match kind {
        Damage::Cut => s.truncate(below(rng, s.len())),
        Damage::Flip => {
            for _ in 0..1 + below(rng, 8) {
                let i = below(rng, s.len());
                s[i] ^= 1 << below(rng, 8);
            }
        }
        Damage::Huge => {
            let i = below(rng, s.len().saturating_sub(4));
            for b in s.iter_mut().skip(i).take(4) {
                *b = 0xFF;
            }
        }
    }
    s
}

/// Feeds `stream` in random chunks, then the end of stream; returns how the session ended.
fn run(stream: &[u8], rng: &mut TestRng) -> Result<(), Error> {
    run_client(stream, rng).1
}

/// [`run`], also returning the client for a look at its state afterwards.
fn run_client(stream: &[u8], rng: &mut TestRng) -> (Client, Result<(), Error>) {
    let mut client = Client::new(
        Config::default(),
        Duration::ZERO,
        Box::new(TestRng::default()),
    );
    let mut fb = Framebuffer::default();
    let result = feed(&mut client, &mut fb, stream, rng);
    (client, result)
}

fn feed(
    client: &mut Client,
    fb: &mut Framebuffer,
    stream: &[u8],
    rng: &mut TestRng,
) -> Result<(), Error> {
    let mut pending: Vec<u8> = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let n = 1 + below(rng, 64 * 1024);
        let end = (at + n).min(stream.len());
        pending.extend_from_slice(&stream[at..end]);
        at = end;
        loop {
            let used = client.handle_input(&pending, fb)?;
            pending.drain(..used);
            while client.poll_transmit().is_some() {}
            let mut asked = false;
            while let Some(ev) = client.poll_event() {
                if let Event::CredentialsRequired(_) = ev {
                    client.supply_credentials(&Credentials::default())?;
                    asked = true;
                }
            }
            if used == 0 && !asked {
                break;
            }
        }
    }
    client.handle_eof(pending.len())
}

#[test]
fn damaged_recordings_end_in_typed_errors_never_panics() {
    let recordings = load(&corpus_dir());
    assert!(
        recordings.len() >= 10,
        "the committed corpus is missing ({} recordings)",
        recordings.len()
    );
    let (mut ok, mut errors) = (0u32, 0u32);
    for r in &recordings {
        let stream = server_stream(r);
        // The undamaged stream must replay: otherwise damage proves nothing.
        let clean = run(&stream, &mut TestRng::seeded(0));
        assert!(
            clean.is_ok(),
            "{}: undamaged replay failed: {clean:?}",
            r.name
        );
        for kind in [Damage::Cut, Damage::Flip, Damage::Huge] {
            for seed in 1..=SEEDS {
                let mut rng = TestRng::seeded(seed);
                let damaged = damage(&stream, kind, &mut rng);
                let outcome = catch_unwind(AssertUnwindSafe(|| run(&damaged, &mut rng)));
                match outcome {
                    Err(_) => panic!("{}: {kind:?} seed {seed} panicked the client", r.name),
                    Ok(Ok(())) => ok += 1,
                    Ok(Err(e)) => {
                        assert!(
                            !e.to_string().is_empty(),
                            "an error must say what went wrong"
                        );
                        errors += 1;
                    }
                }
            }
        }
    }
    eprintln!("damaged replays: {ok} ended cleanly, {errors} with a typed error");
    // Damage that never produces an error would mean the damage is not reaching the parsers.
    assert!(errors > 0, "no damaged replay produced an error");
}

#[test]
fn an_error_is_sticky() {
    let r = load(&corpus_dir())
        .into_iter()
        .find(|r| r.name == "xvnc-zrle")
        .expect("xvnc-zrle in the corpus");
    let stream = server_stream(&r);
    // Find a damage that errors, then check the client refuses further input with it.
    for seed in 1..=200 {
        let mut rng = TestRng::seeded(seed);
        let damaged = damage(&stream, Damage::Huge, &mut rng);
        let (mut client, result) = run_client(&damaged, &mut rng);
        let Err(first) = result else { continue };
        let mut fb = Framebuffer::default();
        let again = client.handle_input(&stream, &mut fb);
        assert_eq!(again, Err(first.clone()), "seed {seed}: error not sticky");
        assert_eq!(client.error(), Some(&first));
        return;
    }
    panic!("no seed in 1..=200 produced an error");
}
