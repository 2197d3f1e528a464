//! Typed stats filters: `month__gt=2` written as `StatsFilter::new().month(Cmp::Gt(2))`.
//!
//! Each condition maps to one generated query-parameter setter, so a filter the spec does not
//! declare does not compile.

use crate::generated::builder::ListStats;

/// A condition on an integer field (`day`, `week`, `month`, `year`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `field=v` (the server's shortcut for `__exact`).
    Eq(i64),
    /// `field__exact=v`.
    Exact(i64),
    Gt(i64),
    Gte(i64),
    Lt(i64),
    Lte(i64),
    Ne(i64),
    /// `field__in=d`: a single digit only; the server reads the value character by character.
    In(u8),
}

/// A condition on the free-text `type` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// `type=v` (case-sensitive).
    Eq(String),
    Exact(String),
    /// Case-insensitive equality.
    IExact(String),
    Contains(String),
    IContains(String),
    StartsWith(String),
    Ne(String),
}

/// A condition on the organization name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Org {
    Eq(String),
    Exact(String),
    Ne(String),
}

/// A condition on `created_at`, a naive UTC timestamp such as `2020-05-12T22:29:42.362000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Time {
    Eq(String),
    Exact(String),
    Gt(String),
    Gte(String),
    Lt(String),
    Lte(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntField {
    Day,
    Week,
    Month,
    Year,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Int(IntField, Cmp),
    Type(Text),
    Organization(Org),
    CreatedAt(Time),
}

/// A set of stats filters, combined with AND. Apply it to a `list_stats()` call with
/// [`ListStatsFilterExt::filter`], or pass it to the stats stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsFilter {
    conditions: Vec<Condition>,
}

impl StatsFilter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn day(self, cmp: Cmp) -> Self {
        self.with(Condition::Int(IntField::Day, cmp))
    }

    pub fn week(self, cmp: Cmp) -> Self {
        self.with(Condition::Int(IntField::Week, cmp))
    }

    pub fn month(self, cmp: Cmp) -> Self {
        self.with(Condition::Int(IntField::Month, cmp))
    }

    pub fn year(self, cmp: Cmp) -> Self {
        self.with(Condition::Int(IntField::Year, cmp))
    }

    pub fn type_(self, text: Text) -> Self {
        self.with(Condition::Type(text))
    }

    pub fn organization(self, org: Org) -> Self {
        self.with(Condition::Organization(org))
    }

    pub fn created_at(self, time: Time) -> Self {
        self.with(Condition::CreatedAt(time))
    }

    fn with(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// Sets the matching query parameters on a `list_stats()` builder. A later condition on the
    /// same parameter replaces an earlier one (the server reads one value per parameter).
    pub fn apply<'a>(&self, mut b: ListStats<'a>) -> ListStats<'a> {
        for condition in &self.conditions {
            b = match condition.clone() {
                Condition::Int(field, cmp) => apply_int(b, field, cmp),
                Condition::Type(t) => match t {
                    Text::Eq(v) => b.type_(v),
                    Text::Exact(v) => b.type_exact(v),
                    Text::IExact(v) => b.type_iexact(v),
                    Text::Contains(v) => b.type_contains(v),
                    Text::IContains(v) => b.type_icontains(v),
                    Text::StartsWith(v) => b.type_startswith(v),
                    Text::Ne(v) => b.type_ne(v),
                },
                Condition::Organization(o) => match o {
                    Org::Eq(v) => b.organization(v),
                    Org::Exact(v) => b.organization_exact(v),
                    Org::Ne(v) => b.organization_ne(v),
                },
                Condition::CreatedAt(t) => match t {
                    Time::Eq(v) => b.created_at(v),
                    Time::Exact(v) => b.created_at_exact(v),
                    Time::Gt(v) => b.created_at_gt(v),
                    Time::Gte(v) => b.created_at_gte(v),
                    Time::Lt(v) => b.created_at_lt(v),
                    Time::Lte(v) => b.created_at_lte(v),
                },
            };
        }
        b
    }
}

fn apply_int(b: ListStats<'_>, field: IntField, cmp: Cmp) -> ListStats<'_> {
    use Cmp::*;
    use IntField::*;
    match (field, cmp) {
        (Day, Eq(v)) => b.day(v),
        (Day, Exact(v)) => b.day_exact(v),
        (Day, Gt(v)) => b.day_gt(v),
        (Day, Gte(v)) => b.day_gte(v),
        (Day, Lt(v)) => b.day_lt(v),
        (Day, Lte(v)) => b.day_lte(v),
        (Day, Ne(v)) => b.day_ne(v),
        (Day, In(d)) => b.day_in(i64::from(d)),
        (Week, Eq(v)) => b.week(v),
        (Week, Exact(v)) => b.week_exact(v),
        (Week, Gt(v)) => b.week_gt(v),
        (Week, Gte(v)) => b.week_gte(v),
        (Week, Lt(v)) => b.week_lt(v),
        (Week, Lte(v)) => b.week_lte(v),
        (Week, Ne(v)) => b.week_ne(v),
        (Week, In(d)) => b.week_in(i64::from(d)),
        (Month, Eq(v)) => b.month(v),
        (Month, Exact(v)) => b.month_exact(v),
        (Month, Gt(v)) => b.month_gt(v),
        (Month, Gte(v)) => b.month_gte(v),
        (Month, Lt(v)) => b.month_lt(v),
        (Month, Lte(v)) => b.month_lte(v),
        (Month, Ne(v)) => b.month_ne(v),
        (Month, In(d)) => b.month_in(i64::from(d)),
        (Year, Eq(v)) => b.year(v),
        (Year, Exact(v)) => b.year_exact(v),
        (Year, Gt(v)) => b.year_gt(v),
        (Year, Gte(v)) => b.year_gte(v),
        (Year, Lt(v)) => b.year_lt(v),
        (Year, Lte(v)) => b.year_lte(v),
        (Year, Ne(v)) => b.year_ne(v),
        (Year, In(d)) => b.year_in(i64::from(d)),
    }
}

/// `client.list_stats().filter(&f)`.
pub trait ListStatsFilterExt<'a> {
    fn filter(self, filter: &StatsFilter) -> ListStats<'a>;
}

impl<'a> ListStatsFilterExt<'a> for ListStats<'a> {
    fn filter(self, filter: &StatsFilter) -> ListStats<'a> {
        filter.apply(self)
    }
}
