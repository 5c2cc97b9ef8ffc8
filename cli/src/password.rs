//! Reading `--password-file`: plain text, or the obfuscated 8-byte file `vncpasswd` writes.

use std::path::Path;

use anyhow::Context;
use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, KeyInit};

/// The fixed key VNC tools use to obfuscate stored passwords (public knowledge; this is not
/// security, only what lets us read the files TigerVNC's `vncpasswd` writes). VNC's DES takes
/// key bytes bit-reversed, hence `reverse_bits` below.
const OBFUSCATION_KEY: [u8; 8] = [23, 82, 107, 6, 35, 78, 88, 7];

/// Reads a password file. A file of exactly 8 bytes that is not printable text is taken as a
/// `vncpasswd` file; anything else is text whose first line is the password.
pub(crate) fn read(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read password file {}", path.display()))?;
    let printable = |b: &u8| b.is_ascii_graphic() || *b == b' ' || *b == b'\n' || *b == b'\r';
    if bytes.len() == 8 && !bytes.iter().all(printable) {
        return Ok(deobfuscate(&bytes));
    }
    let text = String::from_utf8(bytes)
        .with_context(|| format!("password file {} is not UTF-8 text", path.display()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

fn deobfuscate(b: &[u8]) -> String {
    let key = OBFUSCATION_KEY.map(u8::reverse_bits);
    let cipher = Des::new(GenericArray::from_slice(&key));
    let mut block = [0u8; 8];
    block.copy_from_slice(&b[..8]);
    cipher.decrypt_block(GenericArray::from_mut_slice(&mut block));
    let end = block.iter().position(|&c| c == 0).unwrap_or(8);
    String::from_utf8_lossy(&block[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use des::cipher::BlockEncrypt;

    #[test]
    fn obfuscation_round_trip() {
        let key = OBFUSCATION_KEY.map(u8::reverse_bits);
        let cipher = Des::new(GenericArray::from_slice(&key));
        let mut block = *b"pw\0\0\0\0\0\0";
        cipher.encrypt_block(GenericArray::from_mut_slice(&mut block));
        assert_eq!(deobfuscate(&block), "pw");
    }
}
