//! [`Rows`]: compact storage for large result sets (TONalytica query results, Serenytics
//! formatted data).
//!
//! Decoded into `serde_json::Value`s, a result takes six to ten times its body size in memory: a
//! heap node per cell and a `String` per key. [`Rows`] keeps every row as compact JSON text in
//! one buffer (smaller than the body, since whitespace is dropped) and decodes a row only when
//! asked, into `serde_json::Value` or straight into the caller's own type:
//!
//! ```
//! use analytics_auth::rows::Rows;
//!
//! #[derive(serde::Deserialize)]
//! struct User { id: u64, email: String }
//!
//! let rows: Rows = serde_json::from_str(r#"[{"id": 1, "email": "a@example.org"}]"#)?;
//! assert_eq!(rows.len(), 1);
//! assert_eq!(rows.get(0).map(|r| r.json()), Some(r#"{"id":1,"email":"a@example.org"}"#));
//! let users: Vec<User> = rows.iter().map(|r| r.decode()).collect::<Result<_, _>>()?;
//! assert_eq!(users[0].email, "a@example.org");
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! Rows are read from any serde format (the transcoding is [`serde_transcode`]), so they also
//! work inside untagged enums, and serialize back as the same JSON array.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A JSON array of rows, each held as compact JSON text. Cheap to iterate; each row is decoded
/// on demand with [`Row::decode`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Rows {
    /// Every row's compact JSON, back to back.
    text: String,
    /// Where each row ends in `text` (rows start where the previous one ends).
    ends: Vec<u32>,
}

/// One row of [`Rows`]: its compact JSON text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Row<'a>(&'a str);

impl Rows {
    /// Rows from any serializable values (for tests and for building requests).
    pub fn from_values<T: Serialize>(
        rows: impl IntoIterator<Item = T>,
    ) -> Result<Self, serde_json::Error> {
        let mut text = Vec::new();
        let mut ends = Vec::new();
        for row in rows {
            serde_json::to_writer(&mut text, &row)?;
            ends.push(end_offset(text.len()).map_err(serde::ser::Error::custom)?);
        }
        Self::from_parts(text, ends).map_err(serde::ser::Error::custom)
    }

    fn from_parts(text: Vec<u8>, ends: Vec<u32>) -> Result<Self, String> {
        // serde_json writes UTF-8 only; the check is a cheap guard, not a code path.
        let text = String::from_utf8(text).map_err(|e| e.to_string())?;
        Ok(Rows { text, ends })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<Row<'_>> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            i => self.ends[i - 1] as usize,
        };
        self.text.get(start..end).map(Row)
    }

    pub fn iter(&self) -> RowsIter<'_> {
        RowsIter {
            rows: self,
            front: 0,
            back: self.len(),
        }
    }

    /// Bytes of row text held (the memory the rows take, less 4 bytes per row of offsets).
    pub fn text_len(&self) -> usize {
        self.text.len()
    }
}

impl<'a> Row<'a> {
    /// The row as compact JSON.
    pub fn json(&self) -> &'a str {
        self.0
    }

    /// Decodes the row into any type, e.g. a struct of the result's columns, a
    /// `Vec<serde_json::Value>` or a `serde_json::Map`.
    pub fn decode<T: Deserialize<'a>>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0)
    }

    /// The row as a `serde_json::Value`.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        self.decode()
    }
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("len", &self.len())
            .field("bytes", &self.text.len())
            .finish()
    }
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Row").field(&self.0).finish()
    }
}

/// Iterator over [`Rows`], in order.
#[derive(Debug, Clone)]
pub struct RowsIter<'a> {
    rows: &'a Rows,
    front: usize,
    back: usize,
}

impl<'a> Iterator for RowsIter<'a> {
    type Item = Row<'a>;

    fn next(&mut self) -> Option<Row<'a>> {
        if self.front >= self.back {
            return None;
        }
        self.front += 1;
        self.rows.get(self.front - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for RowsIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.rows.get(self.back)
    }
}

impl ExactSizeIterator for RowsIter<'_> {}

impl<'a> IntoIterator for &'a Rows {
    type Item = Row<'a>;
    type IntoIter = RowsIter<'a>;

    fn into_iter(self) -> RowsIter<'a> {
        self.iter()
    }
}

fn end_offset(len: usize) -> Result<u32, &'static str> {
    u32::try_from(len).map_err(|_| "rows larger than 4 GiB")
}

impl<'de> Deserialize<'de> for Rows {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(RowsVisitor)
    }
}

struct RowsVisitor;

impl<'de> Visitor<'de> for RowsVisitor {
    type Value = Rows;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rows, A::Error> {
        let mut text = Vec::new();
        let mut ends = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while seq.next_element_seed(RowText(&mut text))?.is_some() {
            ends.push(end_offset(text.len()).map_err(de::Error::custom)?);
        }
        Rows::from_parts(text, ends).map_err(de::Error::custom)
    }
}

/// Appends one row, re-encoded as compact JSON, to the buffer.
struct RowText<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for RowText<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let mut writer = serde_json::Serializer::new(&mut *self.0);
        serde_transcode::transcode(deserializer, &mut writer).map_err(de::Error::custom)
    }
}

impl Serialize for Rows {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for row in self {
            seq.serialize_element(&row)?;
        }
        seq.end()
    }
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut reader = serde_json::Deserializer::from_str(self.0);
        serde_transcode::transcode(&mut reader, serializer)
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for Rows {
    fn schema_name() -> String {
        "Rows".to_string()
    }

    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <Vec<serde_json::Value>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn keeps_each_row_as_compact_json_and_round_trips() {
        let body = r#"[ {"id": 1, "name": "Zoë \"Z\"", "x": 1.25, "n": null},
                        [1, "a", true, {"k": []}],
                        "bare", 18446744073709551615, -3 ]"#;
        let rows: Rows = serde_json::from_str(body).unwrap();
        let texts: Vec<&str> = rows.iter().map(|r| r.json()).collect();
        assert_eq!(
            texts,
            [
                r#"{"id":1,"name":"Zoë \"Z\"","x":1.25,"n":null}"#,
                r#"[1,"a",true,{"k":[]}]"#,
                r#""bare""#,
                "18446744073709551615",
                "-3",
            ]
        );
        let original: Value = serde_json::from_str(body).unwrap();
        assert_eq!(serde_json::to_value(&rows).unwrap(), original);
        assert_eq!(rows.iter().rev().next().map(|r| r.json()), Some("-3"));
        assert_eq!(rows.get(5), None);
        assert_eq!(
            rows.get(0).unwrap().to_value().unwrap()["name"],
            json!("Zoë \"Z\"")
        );
    }

    #[test]
    fn reads_from_buffered_content_too() {
        // An untagged enum buffers its input before trying each variant.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Rows { data: Rows },
            Other { error: String },
        }
        let Either::Rows { data } = serde_json::from_str(r#"{"data": [[1, 2.5, "x"]]}"#).unwrap()
        else {
            panic!("not rows")
        };
        assert_eq!(data.get(0).unwrap().json(), r#"[1,2.5,"x"]"#);
        assert!(matches!(
            serde_json::from_str(r#"{"error": "no"}"#).unwrap(),
            Either::Other { error } if error == "no"
        ));
    }

    #[test]
    fn bad_input_is_an_error() {
        for bad in [r#"{"a": 1}"#, "[1, 2", "[1e400]", r#"["\ud800"]"#, "[tru]"] {
            assert!(serde_json::from_str::<Rows>(bad).is_err(), "{bad}");
        }
        let deep = format!("[{}{}]", "[".repeat(200), "]".repeat(200));
        assert!(serde_json::from_str::<Rows>(&deep).is_err());
    }

    #[test]
    fn builds_from_values() {
        let rows = Rows::from_values([json!({"a": 1}), json!([2])]).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(format!("{rows:?}"), "Rows { len: 2, bytes: 10 }");
        assert_eq!(Rows::default().iter().count(), 0);
    }
}
