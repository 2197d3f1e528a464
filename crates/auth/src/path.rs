//! [`PathSegment`]: a path parameter, percent-encoded as it is written into the URL.

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// What progenitor's `encode_path` escapes in a path parameter.
const PATH_SET: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// Displays a path parameter percent-encoded, with the same escapes as progenitor's
/// `encode_path(&value.to_string())`, but written straight into the URL being formatted: no
/// string for the value and none for its encoding. xtask puts it in place of `encode_path`.
#[derive(Debug, Clone, Copy)]
pub struct PathSegment<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Display + ?Sized> fmt::Display for PathSegment<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        write!(Encoder(f), "{}", self.0)
    }
}

/// Percent-encodes whatever is written through it. Encoding goes byte by byte (a multi-byte
/// character is escaped as a whole), so a value written in several pieces encodes the same.
struct Encoder<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Encoder<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        utf8_percent_encode(s, PATH_SET).try_for_each(|piece| self.0.write_str(piece))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_progenitor_does() {
        for value in [
            "5eb9ca210381f6f321022ae6",
            "a b/c?d#e%f",
            "{x}<y>\"z\"`",
            "tab\there\u{7f}",
            "école/データ",
            "",
            "plain-._~!$&'()*+,;=:@[]",
        ] {
            assert_eq!(
                PathSegment(value).to_string(),
                progenitor_client::encode_path(value),
                "{value:?}"
            );
        }
        let id = uuid_like();
        assert_eq!(
            format!("/jobs/{}", PathSegment(&id)),
            format!("/jobs/{}", progenitor_client::encode_path(&id.to_string()))
        );
    }

    /// A `Display` that writes its value in several pieces, as derived and generated ones do.
    fn uuid_like() -> impl fmt::Display {
        struct Pieces;
        impl fmt::Display for Pieces {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("9f0a5c1e/")?;
                f.write_str("3b7d 4c43")?;
                write!(f, "%{}", 42)
            }
        }
        Pieces
    }
}
