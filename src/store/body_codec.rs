//! How the log keeps a body: byte-exact either way, as received or compressed with zstd against
//! a dictionary of the vendors' published example payloads (`assets/store/bodies-1.dict`).
//!
//! Bodies were over half of the database, and vendor JSON repeats itself: the same keys in every
//! event, myKaarma's JSON inside a JSON string. Compressed, a 4 KiB myKaarma delivery is about a
//! quarter of that, so the log writes, checkpoints and keeps a fraction of the pages. The
//! dictionary is what makes a single small body compress well (a frame alone cannot learn the
//! keys); its bytes are part of the stored data, so it is never edited: a new one is a new codec.

use anyhow::{Context, Result, bail};
use std::cell::RefCell;
use std::sync::LazyLock;
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// Codec 1's dictionary: the vendors' example payloads of `tests/fixtures`, as they were when it
/// was made, used as zstd raw content.
const DICTIONARY_1: &[u8] = include_bytes!("../../assets/store/bodies-1.dict");

/// zstd's fastest regular level: the receiver compresses on its request threads. On generated
/// vendor events, level 3 kept 3 % fewer bytes for an eighth more time, level 9 8 % for four times.
const LEVEL: i32 = 1;

/// Below this a frame's header and the lost chance of a shared page outweigh what it saves.
const SMALLEST: usize = 128;

/// Bodies above this are kept as received, so a stored frame that claims more is damaged (and
/// never makes a reader allocate what its header says).
const LARGEST: usize = 256 << 20;

static ENCODER_1: LazyLock<EncoderDictionary<'static>> = LazyLock::new(|| EncoderDictionary::copy(DICTIONARY_1, LEVEL));
static DECODER_1: LazyLock<DecoderDictionary<'static>> = LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_1));

thread_local! {
    // A context per thread: creating one costs more than compressing a body with it.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The `events.body_codec` column's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// The bytes as received.
    AsReceived = 0,
    /// A zstd frame (with its content size) against dictionary 1.
    ZstdDictionary1 = 1,
}

impl Codec {
    pub fn code(self) -> i64 {
        self as i64
    }

    fn from_code(code: i64) -> Result<Codec> {
        Ok(match code {
            0 => Codec::AsReceived,
            1 => Codec::ZstdDictionary1,
            other => bail!("stored with codec {other}, which this version of switchboard does not know"),
        })
    }
}

/// A body ready for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packed {
    /// Kept as received: the caller's bytes go in unchanged.
    AsReceived,
    Compressed(Vec<u8>),
}

impl Packed {
    pub fn codec(&self) -> Codec {
        match self {
            Packed::AsReceived => Codec::AsReceived,
            Packed::Compressed(_) => Codec::ZstdDictionary1,
        }
    }

    /// The bytes to store for `body`, which this was packed from.
    pub fn bytes<'a>(&'a self, body: &'a [u8]) -> &'a [u8] {
        match self {
            Packed::AsReceived => body,
            Packed::Compressed(bytes) => bytes,
        }
    }
}

/// Compress `body` when that makes it smaller; otherwise keep it as it is.
pub fn pack(body: &[u8]) -> Packed {
    if !(SMALLEST..=LARGEST).contains(&body.len()) {
        return Packed::AsReceived;
    }
    let compressed = COMPRESSOR.with_borrow_mut(|slot| {
        let compressor = match slot {
            Some(c) => c,
            None => {
                let mut c = Compressor::with_prepared_dictionary(&ENCODER_1).ok()?;
                // A damaged page must read as an error, never as a different body.
                c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true)).ok()?;
                slot.insert(c)
            }
        };
        compressor.compress(body).ok()
    });
    match compressed {
        Some(bytes) if bytes.len() < body.len() => Packed::Compressed(bytes),
        // zstd failing (it does not, short of memory) costs only the saving.
        _ => Packed::AsReceived,
    }
}

/// The body as received, from what the log holds.
pub fn unpack(codec: i64, stored: Vec<u8>) -> Result<Vec<u8>> {
    match Codec::from_code(codec)? {
        Codec::AsReceived => Ok(stored),
        Codec::ZstdDictionary1 => {
            let size = zstd::zstd_safe::get_frame_content_size(&stored)
                .ok()
                .flatten()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n <= LARGEST)
                .context("a stored body's zstd frame is damaged (no size)")?;
            DECOMPRESSOR
                .with_borrow_mut(|slot| {
                    let decompressor = match slot {
                        Some(d) => d,
                        None => slot.insert(Decompressor::with_prepared_dictionary(&DECODER_1)?),
                    };
                    decompressor.decompress(&stored, size)
                })
                .context("a stored body's zstd frame is damaged")
        }
    }
}

/// A zstd frame's header is at most this long, and tells the size it holds.
pub const HEADER_BYTES: usize = 18;

/// The size as received of a compressed body, from its first `HEADER_BYTES`.
pub fn size_from_header(header: &[u8]) -> Option<i64> {
    zstd::zstd_safe::get_frame_content_size(header)
        .ok()
        .flatten()
        .and_then(|n| i64::try_from(n).ok())
}

/// The body as received, from a row's codec and body columns.
pub fn read(row: &rusqlite::Row, codec: usize, body: usize) -> rusqlite::Result<Vec<u8>> {
    unpack(row.get(codec)?, row.get(body)?)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(body, rusqlite::types::Type::Blob, e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_dictionary_is_the_one_bodies_were_stored_with() {
        // Editing it would make every stored body of codec 1 unreadable.
        assert_eq!(
            hex::encode(Sha256::digest(DICTIONARY_1)),
            "d8d519b8d99c643f2d13b6e6cc4455fb8f73060ae5a1e06aa1502f8216b90c41"
        );
    }

    #[test]
    fn a_vendor_body_comes_back_byte_exact_and_smaller() {
        let body = include_bytes!("../../tests/fixtures/mykaarma/attachments.json");
        let packed = pack(body);
        assert_eq!(packed.codec(), Codec::ZstdDictionary1);
        let stored = packed.bytes(body).to_vec();
        assert!(stored.len() * 3 < body.len(), "{} of {}", stored.len(), body.len());
        assert_eq!(size_from_header(&stored[..HEADER_BYTES]), Some(body.len() as i64));
        assert_eq!(unpack(packed.codec().code(), stored).unwrap(), body);
    }

    #[test]
    fn what_does_not_compress_is_kept_as_received() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                // xorshift: bytes zstd finds nothing in.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        for body in [&b"{}"[..], &noise[..], b""] {
            let packed = pack(body);
            assert_eq!(packed, Packed::AsReceived);
            assert_eq!(unpack(0, packed.bytes(body).to_vec()).unwrap(), body);
        }
    }

    #[test]
    fn a_damaged_frame_or_an_unknown_codec_is_an_error_not_a_wrong_body() {
        let body = include_bytes!("../../tests/fixtures/partoo/created_doc_example.json");
        let Packed::Compressed(mut frame) = pack(body) else {
            panic!("a Partoo example compresses")
        };
        // A byte of the compressed content, and then of the checksum.
        for at in [frame.len() / 2, frame.len() - 1] {
            let mut damaged = frame.clone();
            damaged[at] ^= 0x20;
            assert!(unpack(1, damaged).is_err(), "byte {at} of {}", frame.len());
        }
        frame.truncate(frame.len() - 5);
        assert!(unpack(1, frame).is_err());
        assert!(unpack(7, body.to_vec()).is_err());
    }
}
