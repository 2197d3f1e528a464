//! `find-tables`' table-name extraction, exactly as redash-toolbelt 0.1.9's
//! `find_table_names.extract_table_names` (including its quirks: the second pass is
//! case-sensitive and greedy, duplicates are kept, order is significant).

use std::sync::OnceLock;

use regex::Regex;

fn pattern() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    // Python: re.compile(r"(?:FROM|JOIN)(?:\s+)([^\s\(\)]+)", re.IGNORECASE | re.UNICODE)
    P.get_or_init(|| Regex::new(r"(?i)(?:FROM|JOIN)(?:\s+)([^\s\(\)]+)").expect("valid regex"))
}

fn whitespace() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    P.get_or_init(|| Regex::new(r"\s+").expect("valid regex"))
}

fn comma() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    P.get_or_init(|| Regex::new(r"(\s*,\s*)").expect("valid regex"))
}

fn from_segment() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    // Python: re.findall(r"(?:FROM)(.*)(?:WHERE|JOIN)", fmt_sql): case-sensitive, greedy.
    P.get_or_init(|| Regex::new(r"(?:FROM)(.*)(?:WHERE|JOIN)").expect("valid regex"))
}

/// `format_query`: newlines to spaces, whitespace runs to one space, trimmed, no spaces around
/// commas.
pub fn format_query(sql: &str) -> String {
    let stage1 = sql.replace('\n', " ");
    let stage2 = whitespace().replace_all(&stage1, " ");
    let stage2 = stage2.trim();
    comma().replace_all(stage2, ",").into_owned()
}

fn pattern_matches(sql: &str) -> Vec<String> {
    pattern()
        .captures_iter(sql)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().to_string())
        .collect()
}

/// The table names a query's SQL refers to, in the toolbelt's order.
pub fn extract_table_names(sql: &str) -> Vec<String> {
    let formatted = format_query(sql);
    let first: Vec<String> = pattern_matches(&formatted)
        .iter()
        .flat_map(|m| m.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    let second: Vec<String> = from_segment()
        .captures_iter(&formatted)
        .filter_map(|c| c.get(1))
        .flat_map(|segment| {
            pattern_matches(&format_query(&segment.as_str().replace(',', " FROM ")))
        })
        .filter(|t| !first.contains(t))
        .collect();
    first.into_iter().chain(second).collect()
}

/// `print_summary`'s text: table names with the number of queries whose list contains them,
/// most used first (ties in first-seen order). `None` when there are no tables at all (the
/// Python script crashes there).
pub fn summary(tables_by_query: &[(i64, Vec<String>)]) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (_, tables) in tables_by_query {
        for table in tables {
            if !counts.iter().any(|(t, _)| t == table) {
                let n = tables_by_query
                    .iter()
                    .filter(|(_, ts)| ts.contains(table))
                    .count();
                counts.push((table, n));
            }
        }
    }
    let align = counts.iter().map(|(t, _)| t.chars().count()).max()?;
    // Stable sort, like Python's `sorted(..., reverse=True)` on the count.
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let mut out = String::from("\n\n");
    out.push_str(&format!(
        "{:>align$} | {:>17}\n",
        "table", "number of queries"
    ));
    out.push_str(&format!("{} | {}\n", "-".repeat(align), "-".repeat(17)));
    for (table, n) in counts {
        out.push_str(&format!("{table:>align$} | {n:>17}\n"));
    }
    out.push_str("\n\n");
    Some(out)
}

/// `print_details`' text: one `query_id,table` line per pair.
pub fn details(tables_by_query: &[(i64, Vec<String>)]) -> String {
    let mut out = String::new();
    for (id, tables) in tables_by_query {
        for table in tables {
            out.push_str(&format!("{id},{table}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str, expected: &[&str]) {
        assert_eq!(extract_table_names(sql), expected, "for {sql:?}");
    }

    // Every example of api-notes §7.2 (the nine upstream tests and the edge cases).
    #[test]
    fn upstream_examples() {
        check(
            "SELECT field FROM table0 LEFT JOIN table1 ON table0.field = table1.field",
            &["table0", "table1"],
        );
        check(
            "\n    SELECT field FROM table0 as a LEFT JOIN table1 as b ON a.field = b.field\n    ",
            &["table0", "table1"],
        );
        check(
            "SELECT field FROM table0 a LEFT JOIN table1 b ON a.field = b.field",
            &["table0", "table1"],
        );
        check(
            "SELECT field FROM schema.table0 a LEFT JOIN schema.table1 b ON a.field = b.field",
            &["schema.table0", "schema.table1"],
        );
        check(
            "\n    SELECT field\n    FROM\n        table0\n    LEFT JOIN\n        table1\n    ",
            &["table0", "table1"],
        );
        check(
            "SELECT field FROM table1,table2, table3 ,table4 , table5\n , table6\nWHERE table0.field = table1.field",
            &["table1", "table2", "table3", "table4", "table5", "table6"],
        );
        check(
            "SELECT field FROM [table0] LEFT JOIN [table1] ON [table0].field = [table1].field",
            &["[table0]", "[table1]"],
        );
        check(
            "SELECT field FROM table1 AS t1, table2 AS t2, table3 t3, table4 t4 WHERE t1.field = 'value'",
            &["table1", "table2", "table3", "table4"],
        );
        check(
            "SELECT field FROM table1 AS t1, table2 AS t2, table3 t3, table4 t4\nLEFT JOIN table5 ON t1.field = table5.field\nWHERE t1.field = t2.field AND t2.field = t3.field AND t3.field=t4.field",
            &["table1", "table5", "table2", "table3", "table4"],
        );
    }

    #[test]
    fn edge_cases() {
        // The second pass is case-sensitive: lower-case SQL loses the aliased comma list.
        check("select x from a as t1, b as t2 where 1=1", &["a"]);
        check(
            "SELECT * FROM (SELECT id FROM users) u JOIN orders o ON o.uid = u.id",
            &["users", "orders"],
        );
        check(
            "SELECT EXTRACT(YEAR FROM created_at) FROM events",
            &["created_at", "events"],
        );
        check(
            "SELECT * FROM \"public\".\"users\"",
            &["\"public\".\"users\""],
        );
        check("SELECT * FROM a JOIN a ON true", &["a", "a"]);
        check("", &[]);
        // Without the later toolbelt's `rstrip(";")`, the semicolon stays (0.1.9 behaviour).
        check("SELECT field FROM table1;", &["table1;"]);
    }

    #[test]
    fn summary_and_details_formats() {
        let data = vec![
            (1, vec!["users".to_string()]),
            (2, vec!["events".to_string(), "users".to_string()]),
            (3, vec![]),
        ];
        assert_eq!(
            summary(&data).unwrap_or_default(),
            "\n\n table | number of queries\n------ | -----------------\n users |                 2\nevents |                 1\n\n\n"
        );
        assert_eq!(details(&data), "1,users\n2,events\n2,users\n");
        // The notes' example: one query each, ties keep first-seen order.
        let data = vec![
            (1, vec!["users".to_string()]),
            (2, vec!["events".to_string()]),
        ];
        assert_eq!(
            summary(&data).unwrap_or_default(),
            "\n\n table | number of queries\n------ | -----------------\n users |                 1\nevents |                 1\n\n\n"
        );
        assert_eq!(summary(&[(1, vec![])]), None);
    }
}
