//! [`Rows`]: compact storage for large result sets (TONalytica query results, Serenytics
//! formatted data).
//!
//! Decoded into `serde_json::Value`s, a result takes six to ten times its body size in memory: a
//! heap node per cell and a `String` per key. [`Rows`] keeps every row as compact JSON text in
//! one buffer, without whitespace, and — when rows are objects with the same keys in the same
//! order, as query results are — without the keys, which are kept once. It decodes a row only
//! when asked, into `serde_json::Value` or straight into the caller's own type:
//!
//! ```
//! use analytics_auth::rows::Rows;
//!
//! #[derive(serde::Deserialize)]
//! struct User { id: u64, email: String }
//!
//! let rows: Rows = serde_json::from_str(r#"[{"id": 1, "email": "a@example.org"}]"#)?;
//! assert_eq!(rows.len(), 1);
//! assert_eq!(rows.get(0).unwrap().json(), r#"{"id":1,"email":"a@example.org"}"#);
//! let users: Vec<User> = rows.iter().map(|r| r.decode()).collect::<Result<_, _>>()?;
//! assert_eq!(users[0].email, "a@example.org");
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! Rows are read from any serde format (the transcoding is [`serde_transcode`]), so they also
//! work inside untagged enums, and serialize back as the same JSON array.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor,
};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use bytes::Bytes;

/// A JSON array of rows, kept as compact JSON text. Cheap to iterate; each row is decoded on
/// demand with [`Row::decode`].
#[derive(Clone, Default)]
pub struct Rows {
    /// Every row back to back, in segments of about [`SEGMENT`] bytes (no row spans two, and no
    /// buffer is ever copied to grow): a *keyed* row as the JSON array of its values
    /// (`[1,"a"]`), any other row as its compact JSON. Or, for rows read with
    /// [`Rows::from_array_in`], one segment: the rows as they are in the received body (shared with
    /// it), each after the `,` and whitespace that separate it from the one before. All UTF-8.
    segments: Vec<Bytes>,
    /// Offset of each segment's first byte in the concatenation of all segments.
    segment_starts: Vec<u32>,
    /// Where each row ends in that concatenation; the top bit marks keyed rows.
    ends: Vec<u32>,
    /// The keys of keyed rows, in order.
    keys: Vec<String>,
}

/// Marks a keyed row in `Rows::ends`.
const KEYED: u32 = 1 << 31;

/// Target size of a text segment (above glibc's default mmap threshold, so that segments map
/// pages of their own instead of fragmenting the heap).
const SEGMENT: usize = 256 * 1024;

/// One row of [`Rows`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    text: &'a str,
    /// The keys to put back in front of the values, for a keyed row.
    keys: Option<&'a [String]>,
}

impl Rows {
    /// Rows from any serializable values (for tests and for building requests).
    pub fn from_values<T: Serialize>(
        rows: impl IntoIterator<Item = T>,
    ) -> Result<Self, serde_json::Error> {
        let values: Vec<serde_json::Value> = rows
            .into_iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        serde_json::from_value(serde_json::Value::Array(values))
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<Row<'_>> {
        let end = *self.ends.get(index)?;
        let start = match index {
            0 => 0,
            i => (self.ends[i - 1] & !KEYED) as usize,
        };
        let end = (end & !KEYED) as usize;
        let segment = self
            .segment_starts
            .partition_point(|&s| s as usize <= start)
            .checked_sub(1)?;
        let base = self.segment_starts[segment] as usize;
        let text =
            std::str::from_utf8(self.segments[segment].get(start - base..end - base)?).ok()?;
        // Rows shared with a body keep what separated them from the row before.
        let text = text.trim_start_matches([',', ' ', '\t', '\n', '\r']);
        let keys = (self.ends[index] & KEYED != 0).then_some(self.keys.as_slice());
        Some(Row { text, keys })
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
        self.segments.iter().map(Bytes::len).sum()
    }

    /// The rows of `array`, a JSON array that `serde_json` borrowed from `body`, kept where they
    /// are: the rows share `body`'s buffer instead of taking a copy of it, so a decoded answer
    /// costs 4 bytes per row on top of the body it came in. Rows keep their whitespace ([`Row::json`]
    /// gives them as received). An `array` that is not inside `body` is read as usual.
    pub fn from_array_in(body: &Bytes, array: &RawValue) -> Result<Rows, serde_json::Error> {
        let text = array.get();
        let start = (text.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
        if start > body.len() || body.len() - start < text.len() {
            return serde_json::from_str(text);
        }
        let mut reader = serde_json::Deserializer::from_str(text);
        let (first, ends) = reader.deserialize_seq(RowEnds(text.as_ptr() as usize))?;
        reader.end()?;
        let Some(last) = ends.last() else {
            return Ok(Rows::default());
        };
        let source = body.slice(start + first..start + first + *last as usize);
        Ok(Rows {
            segments: vec![source],
            segment_starts: vec![0],
            ends,
            keys: Vec::new(),
        })
    }
}

impl PartialEq for Rows {
    /// The same rows, as JSON: rows stored compactly and rows shared with a body compare equal when
    /// their values are.
    fn eq(&self, other: &Rows) -> bool {
        self.len() == other.len()
            && self.iter().zip(other).all(|(a, b)| {
                let (a, b) = (a.json(), b.json());
                a == b
                    || serde_json::from_str::<serde_json::Value>(&a).ok()
                        == serde_json::from_str::<serde_json::Value>(&b).ok()
            })
    }
}

impl Eq for Rows {}

/// Reads a JSON array of rows without copying them: where the first row starts and where each row
/// ends, as offsets from that start (the array's text starts at the given address).
struct RowEnds(usize);

impl<'de> Visitor<'de> for RowEnds {
    type Value = (usize, Vec<u32>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut first = None;
        let mut ends = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(row) = seq.next_element::<&'de RawValue>()? {
            let row = row.get();
            let at = (row.as_ptr() as usize).wrapping_sub(self.0);
            let first = *first.get_or_insert(at);
            let end = u32::try_from(at + row.len() - first)
                .ok()
                .filter(|end| end & KEYED == 0)
                .ok_or_else(|| de::Error::custom("rows larger than 2 GiB"))?;
            ends.push(end);
        }
        Ok((first.unwrap_or(0), ends))
    }
}

impl<'a> Row<'a> {
    /// The row as compact JSON (built on demand for rows stored without their keys).
    pub fn json(&self) -> Cow<'a, str> {
        let Some(keys) = self.keys else {
            return Cow::Borrowed(self.text);
        };
        // Stored by `Rows` itself as an array of exactly `keys.len()` values.
        let values: Vec<&RawValue> = serde_json::from_str(self.text).unwrap_or_default();
        let mut json = String::with_capacity(self.text.len() + keys.len() * 12);
        json.push('{');
        for (i, (key, value)) in keys.iter().zip(values).enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&serde_json::to_string(key).unwrap_or_default());
            json.push(':');
            json.push_str(value.get());
        }
        json.push('}');
        Cow::Owned(json)
    }

    /// Decodes the row into any type, e.g. a struct of the result's columns, a
    /// `Vec<serde_json::Value>` or a `serde_json::Map`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.json())
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
            .field("bytes", &self.text_len())
            .finish()
    }
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Row").field(&self.json()).finish()
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
        let mut builder = Builder {
            text: Vec::with_capacity(SEGMENT),
            segments: Vec::new(),
            segment_starts: vec![0],
            ends: Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16)),
            keys: None,
            value_starts: Vec::new(),
        };
        while let Some(keyed) = seq.next_element_seed(RowSeed(&mut builder))? {
            let base = *builder.segment_starts.last().unwrap_or(&0) as usize;
            let end = u32::try_from(base + builder.text.len())
                .ok()
                .filter(|end| end & KEYED == 0)
                .ok_or_else(|| de::Error::custom("rows larger than 2 GiB"))?;
            builder.ends.push(if keyed { end | KEYED } else { end });
            if builder.text.len() >= SEGMENT * 3 / 4 {
                builder.seal(SEGMENT).map_err(de::Error::custom)?;
                builder.segment_starts.push(end);
            }
        }
        builder.seal(0).map_err(de::Error::custom)?;
        builder.segment_starts.truncate(builder.segments.len());
        Ok(Rows {
            segments: builder.segments,
            segment_starts: builder.segment_starts,
            ends: builder.ends,
            keys: builder.keys.unwrap_or_default(),
        })
    }
}

/// Rows being read.
struct Builder {
    /// The segment being written.
    text: Vec<u8>,
    segments: Vec<Bytes>,
    segment_starts: Vec<u32>,
    ends: Vec<u32>,
    /// The keys of the first row, when it is an object; later objects with the same keys in the
    /// same order are stored keyed.
    keys: Option<Vec<String>>,
    /// Where each value of the current keyed row starts in `text` (reused between rows).
    value_starts: Vec<usize>,
}

impl Builder {
    /// Ends the current segment (if it holds anything) and starts a new one of `capacity` bytes
    /// (none after the last row).
    fn seal(&mut self, capacity: usize) -> Result<(), std::string::FromUtf8Error> {
        if !self.text.is_empty() {
            let mut full = std::mem::replace(&mut self.text, Vec::with_capacity(capacity));
            full.shrink_to_fit();
            self.segments.push(Bytes::from(String::from_utf8(full)?));
        }
        Ok(())
    }
}

/// Reads one row; yields whether it was stored keyed.
struct RowSeed<'a>(&'a mut Builder);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Writes any JSON value, compactly, to the buffer.
struct Compact<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for Compact<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let mut writer = serde_json::Serializer::new(&mut *self.0);
        serde_transcode::transcode(deserializer, &mut writer).map_err(de::Error::custom)
    }
}

/// A key, compared with the key expected at its position without allocating when it matches.
struct KeySeed<'k>(Option<&'k str>);

enum Key {
    Expected,
    Other(String),
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match self.0 {
            Some(expected) if expected == key => Key::Expected,
            _ => Key::Other(key.to_string()),
        })
    }
}

fn write_json<E: de::Error>(text: &mut Vec<u8>, value: &impl Serialize) -> Result<(), E> {
    serde_json::to_writer(text, value).map_err(E::custom)
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let b = self.0;
        let first_row = b.ends.is_empty();
        if first_row {
            b.keys = Some(Vec::new());
        }
        let Some(keys) = b.keys.as_mut() else {
            return write_object(&mut b.text, map, 0).map(|()| false);
        };
        let row_start = b.text.len();
        b.value_starts.clear();
        b.text.push(b'[');
        let mut position = 0;
        loop {
            let expected = if first_row {
                None
            } else {
                keys.get(position).map(String::as_str)
            };
            let key = match map.next_key_seed(KeySeed(expected))? {
                None if first_row || position == keys.len() => break,
                None => {
                    // Fewer keys than the others: store this row with its keys.
                    rekey(&mut b.text, row_start, &b.value_starts, keys, position);
                    b.text.push(b'}');
                    return Ok(false);
                }
                Some(key) => key,
            };
            match key {
                Key::Expected => {}
                Key::Other(key) if first_row => keys.push(key),
                Key::Other(key) => {
                    // Another key, or another order: store this row with its keys.
                    rekey(&mut b.text, row_start, &b.value_starts, keys, position);
                    if position > 0 {
                        b.text.push(b',');
                    }
                    write_json(&mut b.text, &key)?;
                    b.text.push(b':');
                    map.next_value_seed(Compact(&mut b.text))?;
                    return write_object(&mut b.text, map, position + 1).map(|()| false);
                }
            }
            if position > 0 {
                b.text.push(b',');
            }
            b.value_starts.push(b.text.len());
            map.next_value_seed(Compact(&mut b.text))?;
            position += 1;
        }
        b.text.push(b']');
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let text = &mut self.0.text;
        text.push(b'[');
        let mut first = true;
        loop {
            let start = text.len();
            if !first {
                text.push(b',');
            }
            if seq.next_element_seed(Compact(text))?.is_none() {
                text.truncate(start);
                break;
            }
            first = false;
        }
        text.push(b']');
        Ok(false)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        write_json(&mut self.0.text, &v).map(|()| false)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        write_json(&mut self.0.text, &v).map(|()| false)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        write_json(&mut self.0.text, &v).map(|()| false)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        write_json(&mut self.0.text, &v).map(|()| false)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        write_json(&mut self.0.text, &v).map(|()| false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.0.text.extend_from_slice(b"null");
        Ok(false)
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        Compact(&mut self.0.text)
            .deserialize(deserializer)
            .map(|()| false)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        self.visit_some(deserializer)
    }
}

/// Writes the remaining entries of an object whose first `written` entries (and the opening
/// brace) are already in `text`, and the closing brace.
fn write_object<'de, A: MapAccess<'de>>(
    text: &mut Vec<u8>,
    mut map: A,
    written: usize,
) -> Result<(), A::Error> {
    if written == 0 {
        text.push(b'{');
    }
    let mut position = written;
    while let Some(key) = map.next_key::<Cow<'de, str>>()? {
        if position > 0 {
            text.push(b',');
        }
        write_json(text, &key)?;
        text.push(b':');
        map.next_value_seed(Compact(text))?;
        position += 1;
    }
    text.push(b'}');
    Ok(())
}

/// Turns the keyed start of a row (`[v1,v2` from `row_start`) back into an object with its keys
/// (`{"k1":v1,"k2":v2`), for a row that turned out not to match the shared keys.
fn rekey(text: &mut Vec<u8>, row_start: usize, value_starts: &[usize], keys: &[String], n: usize) {
    let end = text.len();
    let mut object = vec![b'{'];
    for (i, key) in keys.iter().take(n).enumerate() {
        let from = value_starts[i];
        let to = value_starts.get(i + 1).map_or(end, |next| next - 1);
        if i > 0 {
            object.push(b',');
        }
        // A `String` always serializes.
        let _ = serde_json::to_writer(&mut object, key);
        object.push(b':');
        object.extend_from_slice(&text[from..to]);
    }
    text.truncate(row_start);
    text.extend_from_slice(&object);
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
        let json = self.json();
        let mut reader = serde_json::Deserializer::from_str(&json);
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
        let texts: Vec<String> = rows.iter().map(|r| r.json().into_owned()).collect();
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
        assert_eq!(rows.iter().next_back().unwrap().json(), "-3");
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
        let Either::Rows { data } =
            serde_json::from_str(r#"{"data": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]}"#).unwrap()
        else {
            panic!("not rows")
        };
        assert_eq!(data.get(1).unwrap().json(), r#"{"a":2,"b":"y"}"#);
        assert!(matches!(
            serde_json::from_str(r#"{"error": "no"}"#).unwrap(),
            Either::Other { error } if error == "no"
        ));
    }

    #[test]
    fn objects_with_the_first_rows_keys_are_stored_without_them() {
        let body = r#"[{"id": 1, "name": "a"}, {"id": 2, "name": "b\"c"},
                       {"name": "swapped", "id": 3}, {"id": 4}, {"id": 5, "name": "e", "extra": true},
                       {"id": 6, "other": 0}, [7], {"id": 8, "name": null}, {}]"#;
        let rows: Rows = serde_json::from_str(body).unwrap();
        let texts: Vec<String> = rows.iter().map(|r| r.json().into_owned()).collect();
        assert_eq!(
            texts,
            [
                r#"{"id":1,"name":"a"}"#,
                r#"{"id":2,"name":"b\"c"}"#,
                r#"{"name":"swapped","id":3}"#,
                r#"{"id":4}"#,
                r#"{"id":5,"name":"e","extra":true}"#,
                r#"{"id":6,"other":0}"#,
                "[7]",
                r#"{"id":8,"name":null}"#,
                "{}",
            ]
        );
        let original: Value = serde_json::from_str(body).unwrap();
        assert_eq!(serde_json::to_value(&rows).unwrap(), original);
        // Keyed rows hold their values only: `[1,"a"]`, `[2,"b\"c"]`, `[8,null]`.
        let keyed = [1, 2, 8]
            .iter()
            .map(|i| rows.get(*i - 1).unwrap().text.len())
            .sum::<usize>();
        assert_eq!(keyed, r#"[1,"a"][2,"b\"c"][8,null]"#.len());
        #[derive(Deserialize, PartialEq, Debug)]
        struct Person {
            id: u32,
            name: Option<String>,
        }
        let people: Vec<Person> = rows.iter().take(2).map(|r| r.decode().unwrap()).collect();
        assert_eq!(
            people[1],
            Person {
                id: 2,
                name: Some("b\"c".into())
            }
        );
    }

    #[test]
    fn many_rows_span_segments_without_loss() {
        let values: Vec<Value> = (0..20_000)
            .map(|i| match i % 3 {
                0 => json!({"id": i, "name": format!("user {i}")}),
                1 => json!([i, "x".repeat(i % 50)]),
                _ => json!({"name": i, "id": null}),
            })
            .collect();
        let body = serde_json::to_string(&values).unwrap();
        let rows: Rows = serde_json::from_str(&body).unwrap();
        assert!(rows.segments.len() > 1, "{} segments", rows.segments.len());
        assert_eq!(rows.len(), values.len());
        for (i, value) in values.iter().enumerate() {
            assert_eq!(&rows.get(i).unwrap().to_value().unwrap(), value, "row {i}");
        }
        assert_eq!(serde_json::to_string(&rows).unwrap(), body);
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
        assert_eq!(format!("{rows:?}"), "Rows { len: 2, bytes: 6 }");
        assert_eq!(Rows::default().iter().count(), 0);
    }

    #[test]
    fn rows_read_in_place_share_the_body() {
        #[derive(Deserialize)]
        struct Answer<'a> {
            #[serde(borrow)]
            data: &'a RawValue,
        }
        let body = Bytes::from_static(
            b"{\"data\": [ [1, \"a\"] ,\n {\"k\": 2},\t\"x\", null ], \"more\": 1}",
        );
        let answer: Answer<'_> = serde_json::from_slice(&body).unwrap();
        let rows = Rows::from_array_in(&body, answer.data).unwrap();
        let texts: Vec<String> = rows.iter().map(|r| r.json().into_owned()).collect();
        assert_eq!(texts, [r#"[1, "a"]"#, r#"{"k": 2}"#, r#""x""#, "null"]);
        let shared = rows.segments[0].as_ptr() as usize;
        let start = body.as_ptr() as usize;
        assert!(shared >= start && shared < start + body.len());
        // The same rows as the compact form, and the same JSON out.
        let compact: Rows = serde_json::from_str(answer.data.get()).unwrap();
        assert_eq!(rows, compact);
        assert_eq!(
            serde_json::to_string(&rows).unwrap(),
            serde_json::to_string(&compact).unwrap()
        );
        assert_eq!(
            rows.get(3).unwrap().to_value().unwrap(),
            serde_json::Value::Null
        );

        let empty = Bytes::from_static(b"{\"data\": [ ]}");
        let answer: Answer<'_> = serde_json::from_slice(&empty).unwrap();
        assert!(Rows::from_array_in(&empty, answer.data).unwrap().is_empty());

        // An array from elsewhere is copied as usual.
        let elsewhere: Box<RawValue> = serde_json::from_str("[[1,2]]").unwrap();
        let copied = Rows::from_array_in(&body, &elsewhere).unwrap();
        assert_eq!(copied.get(0).unwrap().json(), "[1,2]");
        assert!(
            Rows::from_array_in(&body, &serde_json::from_str::<Box<RawValue>>("{}").unwrap())
                .is_err()
        );
    }
}
