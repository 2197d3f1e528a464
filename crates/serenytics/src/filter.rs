//! Typed Flask-Restless search objects for the `q` parameter of the list operations.
//!
//! ```
//! use serenytics::{Op, Search};
//! use serde_json::json;
//!
//! let q = Search::new().filter("name", Op::Eq, "Sales").order_by("name", false).limit(10);
//! assert_eq!(
//!     q.to_json(),
//!     r#"{"filters":[{"name":"name","op":"eq","val":"Sales"}],"order_by":[{"field":"name","direction":"asc"}],"limit":10}"#
//! );
//! // Symbol operators are typed too:
//! let q = Search::new().filter("quantity", Op::GeSymbol, json!(5)).is_null("deleted_at");
//! assert_eq!(
//!     q.to_json(),
//!     r#"{"filters":[{"name":"quantity","op":">=","val":5},{"name":"deleted_at","op":"is_null"}]}"#
//! );
//! ```
//!
//! Apply it with [`SearchExt::search`] on `list_web_apps()`, `list_scripts()`,
//! `list_data_sources()`, `list_folders()`, `list_users()` or `list_user_groups()`.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::generated::builder;

/// The operators of the Flask-Restless search format (the spec's `SearchOperator`, all 29
/// values). Symbols and words are synonyms on the server; both are offered because both are
/// valid on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `==`
    EqSymbol,
    Eq,
    Equals,
    EqualTo,
    /// `!=`
    NeSymbol,
    Ne,
    Neq,
    NotEqualTo,
    DoesNotEqual,
    /// `>`
    GtSymbol,
    Gt,
    /// `<`
    LtSymbol,
    Lt,
    /// `>=`
    GeSymbol,
    Ge,
    Gte,
    Geq,
    /// `<=`
    LeSymbol,
    Le,
    Lte,
    Leq,
    In,
    NotIn,
    IsNull,
    IsNotNull,
    Like,
    Ilike,
    Has,
    Any,
}

impl Op {
    /// Every operator, in the spec's order.
    pub const ALL: [Op; 29] = [
        Op::EqSymbol,
        Op::Eq,
        Op::Equals,
        Op::EqualTo,
        Op::NeSymbol,
        Op::Ne,
        Op::Neq,
        Op::NotEqualTo,
        Op::DoesNotEqual,
        Op::GtSymbol,
        Op::Gt,
        Op::LtSymbol,
        Op::Lt,
        Op::GeSymbol,
        Op::Ge,
        Op::Gte,
        Op::Geq,
        Op::LeSymbol,
        Op::Le,
        Op::Lte,
        Op::Leq,
        Op::In,
        Op::NotIn,
        Op::IsNull,
        Op::IsNotNull,
        Op::Like,
        Op::Ilike,
        Op::Has,
        Op::Any,
    ];

    /// The operator as the server reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::EqSymbol => "==",
            Op::Eq => "eq",
            Op::Equals => "equals",
            Op::EqualTo => "equal_to",
            Op::NeSymbol => "!=",
            Op::Ne => "ne",
            Op::Neq => "neq",
            Op::NotEqualTo => "not_equal_to",
            Op::DoesNotEqual => "does_not_equal",
            Op::GtSymbol => ">",
            Op::Gt => "gt",
            Op::LtSymbol => "<",
            Op::Lt => "lt",
            Op::GeSymbol => ">=",
            Op::Ge => "ge",
            Op::Gte => "gte",
            Op::Geq => "geq",
            Op::LeSymbol => "<=",
            Op::Le => "le",
            Op::Lte => "lte",
            Op::Leq => "leq",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::IsNull => "is_null",
            Op::IsNotNull => "is_not_null",
            Op::Like => "like",
            Op::Ilike => "ilike",
            Op::Has => "has",
            Op::Any => "any",
        }
    }

    /// `is_null` and `is_not_null` take no value.
    pub fn is_unary(self) -> bool {
        matches!(self, Op::IsNull | Op::IsNotNull)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Op::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| format!("unknown search operator `{s}`"))
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One condition of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    name: String,
    op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    val: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct OrderBy {
    field: String,
    direction: &'static str,
}

/// A Flask-Restless search object (`{"filters": [...], "order_by": [...], "limit": n, ...}`).
/// Filters are combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Search {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    filters: Vec<Condition>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    order_by: Vec<OrderBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    single: Option<bool>,
}

impl Search {
    pub fn new() -> Self {
        Self::default()
    }

    /// `name op val`. For a unary operator (`is_null`, `is_not_null`) the value is not sent.
    pub fn filter(mut self, name: impl Into<String>, op: Op, val: impl Into<Value>) -> Self {
        let val = (!op.is_unary()).then(|| val.into());
        self.filters.push(Condition {
            name: name.into(),
            op,
            val,
            field: None,
        });
        self
    }

    /// `name == val` (`op: eq`, what the official client sends to find by name).
    pub fn eq(self, name: impl Into<String>, val: impl Into<Value>) -> Self {
        self.filter(name, Op::Eq, val)
    }

    /// `name in [values]`.
    pub fn in_(self, name: impl Into<String>, values: impl IntoIterator<Item = Value>) -> Self {
        self.filter(name, Op::In, Value::Array(values.into_iter().collect()))
    }

    pub fn is_null(mut self, name: impl Into<String>) -> Self {
        self.filters.push(Condition {
            name: name.into(),
            op: Op::IsNull,
            val: None,
            field: None,
        });
        self
    }

    pub fn is_not_null(mut self, name: impl Into<String>) -> Self {
        self.filters.push(Condition {
            name: name.into(),
            op: Op::IsNotNull,
            val: None,
            field: None,
        });
        self
    }

    /// `name op other_field`: compares two fields of the same object.
    pub fn compare_fields(
        mut self,
        name: impl Into<String>,
        op: Op,
        other_field: impl Into<String>,
    ) -> Self {
        self.filters.push(Condition {
            name: name.into(),
            op,
            val: None,
            field: Some(other_field.into()),
        });
        self
    }

    /// Sorts on `field`, ascending unless `descending`.
    pub fn order_by(mut self, field: impl Into<String>, descending: bool) -> Self {
        self.order_by.push(OrderBy {
            field: field.into(),
            direction: if descending { "desc" } else { "asc" },
        });
        self
    }

    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Asks the server for exactly one result.
    pub fn single(mut self, single: bool) -> Self {
        self.single = Some(single);
        self
    }

    /// The JSON text sent as `q` (compact).
    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and JSON values always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `.search(&q)` on the list builders: sets `q` to the search's JSON.
pub trait SearchExt: Sized {
    fn search(self, search: &Search) -> Self;
}

macro_rules! search_ext {
    ($($builder:ident),*) => {$(
        impl SearchExt for builder::$builder<'_> {
            fn search(self, search: &Search) -> Self {
                self.q(search.to_json())
            }
        }
    )*};
}

search_ext!(
    ListWebApps,
    ListScripts,
    ListDataSources,
    ListFolders,
    ListUsers,
    ListUserGroups
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_round_trips_and_is_distinct() {
        let mut seen = std::collections::HashSet::new();
        for op in Op::ALL {
            assert_eq!(op.as_str().parse::<Op>(), Ok(op));
            assert!(seen.insert(op.as_str()));
        }
        assert_eq!(seen.len(), 29);
        assert!("=~".parse::<Op>().is_err());
    }

    #[test]
    fn unary_operators_send_no_value_and_fields_compare() {
        let q = Search::new()
            .filter("a", Op::IsNotNull, 1)
            .compare_fields("b", Op::LtSymbol, "c")
            .in_("d", [Value::from(1), Value::from(2)])
            .offset(20)
            .single(true);
        assert_eq!(
            q.to_json(),
            r#"{"filters":[{"name":"a","op":"is_not_null"},{"name":"b","op":"<","field":"c"},{"name":"d","op":"in","val":[1,2]}],"offset":20,"single":true}"#
        );
        assert_eq!(Search::new().to_json(), "{}");
    }
}
