//! Subject and issuer of a server certificate (shown in the browser's identity dialog): DER
//! from an untrusted server, walked by rfb-tls's small reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((subject, issuer)) = rfb_tls::certificate_names(data) {
        // Capped at 512 characters plus the ellipsis.
        assert!(subject.chars().count() <= 513 && issuer.chars().count() <= 513);
    }
});
