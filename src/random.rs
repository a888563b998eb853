//! Unguessable identifiers from the operating system's randomness, as lowercase hex.

use anyhow::Result;

/// `bytes` random bytes as hex (16 bytes: a 128-bit id or token).
pub fn hex(bytes: usize) -> Result<String> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    Ok(hex::encode(b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_have_the_length_asked_and_differ() {
        let (a, b) = (super::hex(16).unwrap(), super::hex(16).unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
