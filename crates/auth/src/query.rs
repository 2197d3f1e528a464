//! Adding a query parameter only when it has a value.
//!
//! progenitor adds every query parameter with `RequestBuilder::query`, and reqwest rewrites the
//! URL's query for each call even when an optional parameter is `None` and adds nothing (about
//! 750 instructions per absent parameter, measured with callgrind). xtask routes those calls
//! through [`query_param`], which skips absent values and is otherwise the same call.

use progenitor_client::QueryParam;
use reqwest::RequestBuilder;
use serde::ser::{Impossible, Serialize, Serializer};

/// `builder.query(&QueryParam::new(name, value))`, or `builder` unchanged when `value` is `None`.
pub fn query_param<T: Serialize>(builder: RequestBuilder, name: &str, value: &T) -> RequestBuilder {
    if is_none(value) {
        builder
    } else {
        builder.query(&QueryParam::new(name, value))
    }
}

/// Whether `value` serializes as `None` (looking no deeper than its outermost layer).
fn is_none<T: Serialize>(value: &T) -> bool {
    matches!(value.serialize(NoneProbe), Ok(true))
}

/// A serializer that answers "is this `None`?" and serializes nothing.
struct NoneProbe;

macro_rules! present {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<bool, std::fmt::Error> {
            Ok(false)
        })*
    };
}

impl Serializer for NoneProbe {
    type Ok = bool;
    type Error = std::fmt::Error;
    type SerializeSeq = Impossible<bool, std::fmt::Error>;
    type SerializeTuple = Impossible<bool, std::fmt::Error>;
    type SerializeTupleStruct = Impossible<bool, std::fmt::Error>;
    type SerializeTupleVariant = Impossible<bool, std::fmt::Error>;
    type SerializeMap = Impossible<bool, std::fmt::Error>;
    type SerializeStruct = Impossible<bool, std::fmt::Error>;
    type SerializeStructVariant = Impossible<bool, std::fmt::Error>;

    fn serialize_none(self) -> Result<bool, std::fmt::Error> {
        Ok(true)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<bool, std::fmt::Error> {
        Ok(false)
    }

    present! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<bool, std::fmt::Error> {
        Ok(false)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool, std::fmt::Error> {
        Ok(false)
    }

    // Compound values are present; the probe stops here (an error that `is_none` reads as
    // "not `None`").
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, std::fmt::Error> {
        Err(std::fmt::Error)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, std::fmt::Error> {
        Err(std::fmt::Error)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, std::fmt::Error> {
        Err(std::fmt::Error)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, std::fmt::Error> {
        Err(std::fmt::Error)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, std::fmt::Error> {
        Err(std::fmt::Error)
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, std::fmt::Error> {
        Err(std::fmt::Error)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, std::fmt::Error> {
        Err(std::fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(build: impl FnOnce(RequestBuilder) -> RequestBuilder) -> String {
        let client = match crate::ClientConfig::new().build() {
            Ok(client) => client,
            Err(e) => return format!("error: {e}"),
        };
        build(client.get("http://h/x"))
            .build()
            .map(|r| r.url().to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn absent_values_leave_the_url_alone() {
        let none: Option<Vec<String>> = None;
        assert_eq!(url(|b| query_param(b, "a", &none)), "http://h/x");
        assert_eq!(
            url(|b| query_param(query_param(b, "a", &none), "b", &Some(2))),
            "http://h/x?b=2"
        );
    }

    #[test]
    fn present_values_are_added_as_progenitor_adds_them() {
        let list = Some(vec!["x y".to_string(), "z".to_string()]);
        for (value, expected) in [
            (url(|b| query_param(b, "a", &list)), "http://h/x?a=x+y&a=z"),
            (url(|b| query_param(b, "n", &7)), "http://h/x?n=7"),
            (url(|b| query_param(b, "s", &"v")), "http://h/x?s=v"),
            (
                url(|b| query_param(b, "t", &Some(true))),
                "http://h/x?t=true",
            ),
        ] {
            assert_eq!(value, expected);
        }
        let empty: Option<Vec<String>> = Some(Vec::new());
        let progenitor = url(|b| b.query(&QueryParam::new("a", &empty)));
        assert_eq!(url(|b| query_param(b, "a", &empty)), progenitor);
    }
}
