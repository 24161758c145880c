//! DER (X.690) as the Key Vault client reads and writes it: the framing of
//! private keys (PKCS#1, SEC1, PKCS#8), X.509 certificates and PKCS#12.
//!
//! The reader takes a slice and hands out sub-slices of it: every length is
//! checked against what is left, so a length past the end is an error, never
//! a read past it. It knows single-octet tags and definite lengths of up to
//! four octets (4 GiB); a high tag number (`0x1F`) and the indefinite length
//! of BER (`0x80`) are refused. It does not recurse: callers walk the
//! structures they know, so the depth of a walk is fixed by the code (the
//! one recursive structure, PKCS#12's nested SafeContents, bounds its own
//! depth). Errors are `None`: what is wrong is said by the caller.

/// The universal tags used here (X.680 §8.6), in their DER octet.
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// `[n]` context-specific, constructed (EXPLICIT tagging, or IMPLICIT of a
/// constructed type).
pub(crate) const fn context(n: u8) -> u8 {
    0xA0 | n
}

/// `[n]` context-specific, primitive (IMPLICIT of a primitive type).
pub(crate) const fn context_primitive(n: u8) -> u8 {
    0x80 | n
}

/// DER: tag, length, content.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | significant.len() as u8);
        out.extend(significant);
    }
    out.extend_from_slice(content);
    out
}

/// One TLV (X.690 §8.1): its tag, its content and what follows it.
pub(crate) fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1F == 0x1F {
        // High tag number form: nothing read here uses it.
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        // 0x80 alone is BER's indefinite length; more than four octets of
        // length would be over 4 GiB.
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 {
            return None;
        }
        let (len_bytes, rest) = rest.split_at_checked(count)?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    let (content, rest) = rest.split_at_checked(len)?;
    Some((tag, content, rest))
}

/// The content of `input` when `input` is exactly one element tagged `tag`.
pub(crate) fn single(input: &[u8], tag: u8) -> Option<&[u8]> {
    let (read, content, rest) = read_tlv(input)?;
    (read == tag && rest.is_empty()).then_some(content)
}

/// The content of an INTEGER (X.690 §8.3) as a non-negative number; one
/// too large for `u64` is `u64::MAX` (callers compare it with a limit).
/// Negative and empty integers are `None`.
#[cfg_attr(
    all(not(feature = "pkcs12"), not(test)),
    expect(dead_code, reason = "only the PKCS#12 reader reads integers' values")
)]
pub(crate) fn unsigned(content: &[u8]) -> Option<u64> {
    let (&first, _) = content.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    let significant = content.iter().skip_while(|b| **b == 0).count();
    if significant > 8 {
        return Some(u64::MAX);
    }
    Some(
        content
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    )
}

/// An element: its tag and its content.
pub(crate) type Element<'a> = (u8, &'a [u8]);

/// The elements of a constructed value, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads the elements of `content` (a SEQUENCE's or SET's content).
    pub(crate) fn new(content: &'a [u8]) -> Self {
        Self { rest: content }
    }

    /// Whether every element has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element: its tag and content.
    pub(crate) fn any(&mut self) -> Option<Element<'a>> {
        let (tag, content, rest) = read_tlv(self.rest)?;
        self.rest = rest;
        Some((tag, content))
    }

    /// The content of the next element, which must be tagged `tag`.
    pub(crate) fn take(&mut self, tag: u8) -> Option<&'a [u8]> {
        let (read, content) = self.any()?;
        (read == tag).then_some(content)
    }

    /// The content of the next element if it is tagged `tag` (an OPTIONAL
    /// or DEFAULT field); `Some(None)` when the next element is another
    /// one or there is none.
    pub(crate) fn optional(&mut self, tag: u8) -> Option<Option<&'a [u8]>> {
        if self.peek() == Some(tag) {
            self.take(tag).map(Some)
        } else {
            Some(None)
        }
    }

    /// Succeeds when nothing is left: no trailing element.
    pub(crate) fn end(&self) -> Option<()> {
        self.is_empty().then_some(())
    }
}

/// An AlgorithmIdentifier (RFC 5280 §4.1.1.2): the content of its OID and
/// its parameters as (tag, content), if any.
pub(crate) fn algorithm(content: &[u8]) -> Option<(&[u8], Option<Element<'_>>)> {
    let mut fields = Reader::new(content);
    let oid = fields.take(OID)?;
    let parameters = if fields.is_empty() {
        None
    } else {
        Some(fields.any()?)
    };
    fields.end()?;
    Some((oid, parameters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let content = vec![7u8; len];
            let encoded = tlv(0x04, &content);
            let (tag, read, rest) = read_tlv(&encoded).unwrap();
            assert_eq!((tag, read.len(), rest.len()), (0x04, len, 0));
        }
        assert!(read_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(read_tlv(&[0x30, 0x05, 1]).is_none());
    }

    #[test]
    fn ber_and_high_tags_are_refused() {
        // Indefinite length, as BER writes it.
        assert!(read_tlv(&[0x30, 0x80, 0x04, 0x00, 0x00, 0x00]).is_none());
        // A high tag number.
        assert!(read_tlv(&[0x1F, 0x81, 0x00, 0x00]).is_none());
        // A length of four octets that runs past the end.
        assert!(read_tlv(&[0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]).is_none());
        assert!(read_tlv(&[]).is_none());
        assert!(read_tlv(&[0x04]).is_none());
    }

    #[test]
    fn integers_are_read_unsigned_and_saturate() {
        assert_eq!(unsigned(&[0x00]), Some(0));
        assert_eq!(unsigned(&[0x08, 0x00]), Some(2048));
        assert_eq!(unsigned(&[0x00, 0x80]), Some(128));
        assert_eq!(unsigned(&[0x00, 0x00, 0x00, 0x01]), Some(1));
        assert_eq!(unsigned(&[0x7F; 9]), Some(u64::MAX));
        assert_eq!(unsigned(&[0x80]), None, "negative");
        assert_eq!(unsigned(&[]), None);
    }

    #[test]
    fn the_reader_walks_a_sequence() {
        let mut content = tlv(INTEGER, &[3]);
        content.extend(tlv(OCTET_STRING, b"ab"));
        content.extend(tlv(context(0), &tlv(NULL, &[])));
        let encoded = tlv(SEQUENCE, &content);
        let mut fields = Reader::new(single(&encoded, SEQUENCE).unwrap());
        assert_eq!(fields.take(INTEGER), Some(&[3u8][..]));
        assert_eq!(fields.optional(SET), Some(None));
        assert_eq!(fields.optional(OCTET_STRING), Some(Some(&b"ab"[..])));
        assert!(fields.end().is_none());
        assert_eq!(fields.any(), Some((context(0), &[0x05, 0x00][..])));
        assert!(fields.end().is_some());
        assert!(fields.any().is_none());
        // Trailing bytes after the one element.
        let mut trailing = encoded.clone();
        trailing.push(0);
        assert!(single(&trailing, SEQUENCE).is_none());
        assert!(single(&encoded, SET).is_none());
        // A field of the wrong type.
        assert!(Reader::new(&content).take(OCTET_STRING).is_none());
    }

    #[test]
    fn algorithm_identifiers_with_and_without_parameters() {
        let oid = [0x2B, 0x0E, 0x03, 0x02, 0x1A];
        let bare = tlv(OID, &oid);
        assert_eq!(algorithm(&bare), Some((&oid[..], None)));
        let mut with_null = bare.clone();
        with_null.extend(tlv(NULL, &[]));
        assert_eq!(
            algorithm(&with_null),
            Some((&oid[..], Some((NULL, &[][..]))))
        );
        let mut two = with_null.clone();
        two.extend(tlv(NULL, &[]));
        assert!(algorithm(&two).is_none());
        assert!(algorithm(&tlv(NULL, &[])).is_none());
    }
}
