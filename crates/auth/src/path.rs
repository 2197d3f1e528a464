//! How the generated code writes a request's URL: [`url`] into one buffer, each path parameter as a
//! [`PathSegment`], percent-encoded as it is written.

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

/// Room for a base URL, a path and its parameters: `format!` would start from the length of the
/// path's literal parts (often none) and grow the string several times per request.
const URL_CAPACITY: usize = 192;

/// `format!` for a request URL (xtask puts it in place of the generated `format!`): one
/// allocation for a URL of usual length.
pub fn url(args: fmt::Arguments<'_>) -> String {
    use fmt::Write;
    let mut url = String::with_capacity(URL_CAPACITY);
    // Only a `Display` that reports an error fails this; `format!` would panic, the URL is cut.
    let _ = url.write_fmt(args);
    url
}

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

/// Whether `utf8_percent_encode(_, PATH_SET)` escapes `byte` (every byte of a non-ASCII character).
fn needs_escape(byte: u8) -> bool {
    ESCAPED[usize::from(byte)]
}

/// [`needs_escape`] as a table: one load per byte.
static ESCAPED: [bool; 256] = {
    let mut table = [true; 256];
    let mut b = 0x20;
    while b < 0x7f {
        table[b] = matches!(
            b as u8,
            b' ' | b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | b'/' | b'%'
        );
        b += 1;
    }
    table
};

/// Percent-encodes whatever is written through it. Encoding goes byte by byte (a multi-byte
/// character is escaped as a whole), so a value written in several pieces encodes the same.
struct Encoder<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Encoder<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Most values (ids, UUIDs, names) need no escape: one check, one write.
        if !s.bytes().any(needs_escape) {
            return self.0.write_str(s);
        }
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

    #[test]
    fn the_escape_check_agrees_with_the_set() {
        for c in (0..=127u8).map(char::from).chain(['é', 'デ']) {
            let text = c.to_string();
            let escaped = utf8_percent_encode(&text, PATH_SET).to_string() != text;
            assert_eq!(text.bytes().any(needs_escape), escaped, "{c:?}");
        }
    }

    #[test]
    fn urls_are_formatted_as_format_does() {
        let base = "http://127.0.0.1:8080/api/v2";
        let id = "5eb9ca210381f6f321022ae6";
        assert_eq!(
            url(format_args!("{}/stats/{}/", base, PathSegment(id))),
            format!("{}/stats/{}/", base, progenitor_client::encode_path(id))
        );
        let long = "x".repeat(500);
        assert_eq!(url(format_args!("{base}/{long}")), format!("{base}/{long}"));
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
