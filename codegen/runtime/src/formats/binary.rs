//! `binary` (beta5): raw bytes that bypass conversion, with their media type and size cap.
//!
//! A consumed operation with `outputRawFormat: binary` hands its body on untouched: no
//! UTF-8 decoding, no JSON tree, no output mappings. What travels with it is a media type
//! (the operation's `outputMediaType` when declared, else the upstream `Content-Type`) and
//! a size cap, `maxBinarySize` (`512KiB`, `5MiB`, `1GiB`; default 10 MiB), parsed by
//! [`parse_binary_size`].

use bytes::Bytes;

use super::FormatError;

/// The default `maxBinarySize` of the beta5 schema: 10 MiB.
pub const DEFAULT_MAX_BINARY_SIZE: usize = 10 * 1024 * 1024;

/// The media type used when neither the spec nor the upstream gives one.
const OCTET_STREAM: &str = "application/octet-stream";

/// A binary upstream body, ready to be relayed (REST body, MCP blob).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryBody {
    /// The bytes as the upstream sent them.
    pub bytes: Bytes,
    /// `outputMediaType` if declared, else the upstream `Content-Type`, else
    /// `application/octet-stream`.
    pub media_type: String,
}

/// Checks a binary body against `max_size` (from [`parse_binary_size`], or
/// [`DEFAULT_MAX_BINARY_SIZE`]) and settles its media type: the operation's declared
/// `outputMediaType` wins over the upstream's `Content-Type`.
pub fn binary_body(
    bytes: Bytes,
    upstream_content_type: Option<&str>,
    output_media_type: Option<&str>,
    max_size: usize,
) -> Result<BinaryBody, FormatError> {
    if bytes.len() > max_size {
        return Err(FormatError::BinaryTooLarge {
            size: bytes.len(),
            max: max_size,
        });
    }
    let media_type = [output_media_type, upstream_content_type]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|media_type| !media_type.is_empty())
        .unwrap_or(OCTET_STREAM)
        .to_owned();
    Ok(BinaryBody { bytes, media_type })
}

/// Parses a `maxBinarySize` (schema pattern `^\d+(\.\d+)?(B|KiB|MiB|GiB)$`) into bytes,
/// rounding a fractional size down: `"10MiB"` is 10485760, `"1.5KiB"` 1536.
pub fn parse_binary_size(value: &str) -> Result<usize, FormatError> {
    let invalid = |reason| FormatError::BinarySize {
        value: value.to_owned(),
        reason,
    };
    let (number, unit): (&str, u128) = [
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ]
    .into_iter()
    .find_map(|(suffix, unit)| value.strip_suffix(suffix).map(|number| (number, unit)))
    .ok_or_else(|| invalid("expected a number followed by B, KiB, MiB or GiB"))?;
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(invalid("expected a number followed by B, KiB, MiB or GiB"));
    }
    let too_large = || invalid("the size does not fit in memory addresses");
    let whole: u128 = whole.parse().map_err(|_| too_large())?;
    let mut bytes = whole.checked_mul(unit).ok_or_else(too_large)?;
    if let Some(fraction) = fraction {
        // 30 digits keep the product within u128 and the rounding exact for these units.
        let digits = &fraction[..fraction.len().min(30)];
        let numerator: u128 = digits.parse().map_err(|_| too_large())?;
        let denominator = 10u128.pow(digits.len() as u32);
        bytes = bytes
            .checked_add(numerator * unit / denominator)
            .ok_or_else(too_large)?;
    }
    usize::try_from(bytes).map_err(|_| too_large())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_binary_size("0B").unwrap(), 0);
        assert_eq!(parse_binary_size("512B").unwrap(), 512);
        assert_eq!(parse_binary_size("512KiB").unwrap(), 512 * 1024);
        assert_eq!(parse_binary_size("5MiB").unwrap(), 5 * 1024 * 1024);
        assert_eq!(parse_binary_size("10MiB").unwrap(), DEFAULT_MAX_BINARY_SIZE);
        assert_eq!(parse_binary_size("25MiB").unwrap(), 25 << 20);
        assert_eq!(parse_binary_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_binary_size("007KiB").unwrap(), 7 * 1024);
    }

    #[test]
    fn fractional_sizes_round_down() {
        assert_eq!(parse_binary_size("1.5KiB").unwrap(), 1536);
        assert_eq!(parse_binary_size("0.5MiB").unwrap(), 512 * 1024);
        assert_eq!(parse_binary_size("1.0001KiB").unwrap(), 1024);
        assert_eq!(parse_binary_size("2.9B").unwrap(), 2);
        assert_eq!(
            parse_binary_size("1.123456789012345678901234567890123GiB").unwrap(),
            1_206_302_541
        );
    }

    #[test]
    fn sizes_outside_the_schema_pattern_are_errors() {
        for bad in [
            "", "10", "10mib", "10 MiB", "10MB", "10KB", "-1KiB", "1.KiB", ".5KiB", "1e3B",
            "1,5KiB", "KiB", " 1B", "1B ", "١KiB",
        ] {
            let err = parse_binary_size(bad).unwrap_err();
            assert!(
                matches!(err, FormatError::BinarySize { .. }),
                "{bad}: {err}"
            );
        }
        let err = parse_binary_size("10MB").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid maxBinarySize `10MB`: expected a number followed by B, KiB, MiB or GiB"
        );
    }

    #[test]
    fn absurd_sizes_are_errors_not_overflows() {
        let err = parse_binary_size("99999999999999999999999999999999999999999GiB").unwrap_err();
        assert!(matches!(err, FormatError::BinarySize { .. }), "{err}");
        assert!(parse_binary_size("18446744073709551616GiB").is_err());
    }

    #[test]
    fn declared_media_type_wins_over_upstream() {
        let body = Bytes::from_static(b"\xFF\xD8\xFF");
        let out = binary_body(
            body.clone(),
            Some("application/octet-stream"),
            Some("image/jpeg"),
            10,
        )
        .unwrap();
        assert_eq!(out.media_type, "image/jpeg");
        assert_eq!(out.bytes, body);
        let out = binary_body(body.clone(), Some("image/png"), None, 10).unwrap();
        assert_eq!(out.media_type, "image/png");
        let out = binary_body(body.clone(), None, Some(" "), 10).unwrap();
        assert_eq!(out.media_type, "application/octet-stream");
    }

    #[test]
    fn bodies_over_the_cap_are_refused() {
        let body = Bytes::from(vec![0u8; 2049]);
        let max = parse_binary_size("2KiB").unwrap();
        let err = binary_body(body, None, None, max).unwrap_err();
        assert_eq!(
            err.to_string(),
            "binary body of 2049 bytes exceeds maxBinarySize (2048 bytes)"
        );
        assert!(binary_body(Bytes::from(vec![0u8; 2048]), None, None, max).is_ok());
    }
}
