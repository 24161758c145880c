//! A minimal DER writer: just what PKCS#12 needs.

/// A DER tag-length-value.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// SEQUENCE of already-encoded parts.
pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// SET of already-encoded parts (callers pass them in DER order).
pub(crate) fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

/// OCTET STRING.
pub(crate) fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

/// A small non-negative INTEGER.
pub(crate) fn integer(value: u32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(3);
    let mut content = bytes.get(skip..).unwrap_or_default().to_vec();
    if content.first().is_some_and(|b| b & 0x80 != 0) {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

/// Context-specific constructed `[n]` (explicit tagging).
pub(crate) fn explicit(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xA0 | n, content)
}

/// An OBJECT IDENTIFIER from its dotted arcs.
pub(crate) fn oid(arcs: &[u32]) -> Vec<u8> {
    let mut content = Vec::new();
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (a * 40 + b, rest),
        _ => (0, &[][..]),
    };
    for arc in std::iter::once(first).chain(rest.iter().copied()) {
        let mut stack = vec![(arc & 0x7f) as u8];
        let mut v = arc >> 7;
        while v > 0 {
            stack.push(((v & 0x7f) as u8) | 0x80);
            v >>= 7;
        }
        content.extend(stack.iter().rev());
    }
    tlv(0x06, &content)
}

/// BMPString (UTF-16BE), as PKCS#12 friendly names use.
pub(crate) fn bmp_string(text: &str) -> Vec<u8> {
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    tlv(0x1E, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_known_values() {
        // 1.2.840.113549 is rsadsi.
        assert_eq!(
            oid(&[1, 2, 840, 113549]),
            vec![0x06, 0x06, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]
        );
        assert_eq!(integer(3), vec![0x02, 0x01, 0x03]);
        assert_eq!(integer(128), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(tlv(0x04, &[0; 200]).get(..3), Some(&[0x04, 0x81, 200][..]));
        assert_eq!(
            tlv(0x04, &[0; 300]).get(..4),
            Some(&[0x04, 0x82, 0x01, 0x2c][..])
        );
    }
}
