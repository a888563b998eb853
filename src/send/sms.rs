//! How long a text is as the carrier counts it: GSM-7 (160 characters in one part, 153 per part of a
//! longer message, with `{}[]~\|^€` counting twice) unless any character needs UCS-2 (70, then 67).

/// The GSM 03.38 basic character set.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: each takes an escape plus the character.
const EXTENDED: &str = "^{}\\[~]|€\x0c";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Length {
    /// Units as the carrier counts them (GSM-7 septets or UCS-2 code units).
    pub units: usize,
    pub segments: usize,
    /// Units one segment holds at this length.
    pub per_segment: usize,
    pub unicode: bool,
}

/// The footer myKaarma appends to texts unless asked not to (`addTCPAFooter`).
pub const TCPA_FOOTER: &str = "\nText STOP to opt-out";

/// A text as the customer's phone receives it: the TCPA footer appended when it is on. (The
/// signature and dealership footer are the dealer's own texts, unknown here.)
pub fn as_delivered(body: &str, options: &crate::outbox::SendOptions) -> String {
    if options.tcpa_footer && !body.is_empty() {
        format!("{body}{TCPA_FOOTER}")
    } else {
        body.to_string()
    }
}

pub fn length(text: &str) -> Length {
    let gsm: Option<usize> = text
        .chars()
        .map(|c| {
            if BASIC.contains(c) {
                Some(1)
            } else if EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (units, single, multi, unicode) = match gsm {
        Some(n) => (n, 160, 153, false),
        None => (text.encode_utf16().count(), 70, 67, true),
    };
    let (segments, per_segment) = match units {
        0 => (0, single),
        n if n <= single => (1, single),
        n => (n.div_ceil(multi), multi),
    };
    Length {
        units,
        segments,
        per_segment,
        unicode,
    }
}

#[cfg(test)]
mod tests {
    use super::length;

    #[test]
    fn carrier_lengths() {
        assert_eq!(length("").segments, 0);
        assert_eq!(length(&"a".repeat(160)).segments, 1);
        assert_eq!(length(&"a".repeat(161)).segments, 2);
        assert_eq!(length(&"a".repeat(306)).segments, 2);
        assert_eq!(length(&"a".repeat(307)).segments, 3);
        assert_eq!(length("{}").units, 4, "extension characters count twice");
        let emoji = length("See you at 10 👍");
        assert!(emoji.unicode);
        assert_eq!(emoji.units, 16, "an emoji is two UCS-2 units");
        assert_eq!(length(&"é".repeat(70)).segments, 1, "é is in GSM-7");
        assert_eq!(length(&"ł".repeat(71)).segments, 2, "ł is not: 70 per part, then 67");
    }
}
