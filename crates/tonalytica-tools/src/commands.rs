//! The four commands as library functions writing to any `Write` (the binaries pass stdout).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use futures::TryStreamExt;
use tonalytica::{types, ApiError, Client, ClientPagesExt};

use crate::common::{progress, server_datetime, ToolError};
use crate::tables::{details, extract_table_names, summary};

/// The page size the toolbelt's `paginate` uses.
const PAGE_SIZE: u64 = 100;

fn contains_any(haystack: &str, needles: &[String]) -> bool {
    let haystack = haystack.to_lowercase();
    needles.iter().any(|n| haystack.contains(n.as_str()))
}

/// `gdpr-scrub`: prints `{host}/queries/{id}` for every query whose text, name, description,
/// tags or latest result mention one of `emails`, then `{host}/dashboards/{slug}` for every
/// dashboard whose slug, name, tags or text widgets do. `host` is printed as given.
pub async fn gdpr_scrub(
    client: &Client,
    host: &str,
    emails: &[String],
    out: &mut impl Write,
) -> Result<(), ToolError> {
    let emails: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();

    writeln!(out, "Queries")?;
    out.flush()?;
    let bar = progress("Queries");
    let mut found = Vec::new();
    if !emails.is_empty() {
        let mut queries = std::pin::pin!(client.queries_stream(PAGE_SIZE));
        while let Some(query) = queries
            .try_next()
            .await
            .map_err(|e| ToolError::api("listing queries", e))?
        {
            bar.inc(1);
            let mut hit = [
                query.query.as_str(),
                query.name.as_str(),
                query.description.as_deref().unwrap_or(""),
            ]
            .into_iter()
            .chain(query.tags.iter().map(String::as_str))
            .any(|field| contains_any(field, &emails));
            if let (false, Some(result_id)) = (hit, query.latest_query_data_id) {
                let result = client
                    .get_query_result()
                    .query_result_id(result_id)
                    .send()
                    .await
                    .map_err(|e| {
                        ToolError::api(
                            &format!("reading result {result_id} of query {}", query.id),
                            ApiError::from(e),
                        )
                    })?
                    .into_inner();
                let text = serde_json::to_string(&result).unwrap_or_default();
                hit = contains_any(&text, &emails);
            }
            if hit {
                found.push(query.id);
            }
        }
    }
    bar.finish_and_clear();
    for id in found {
        writeln!(out, "{host}/queries/{id}")?;
    }

    writeln!(out, "Dashboards")?;
    out.flush()?;
    let bar = progress("Dashboards");
    let mut found = Vec::new();
    if !emails.is_empty() {
        let mut dashboards = std::pin::pin!(client.dashboards_stream(PAGE_SIZE));
        while let Some(dashboard) = dashboards
            .try_next()
            .await
            .map_err(|e| ToolError::api("listing dashboards", e))?
        {
            bar.inc(1);
            let mut hit = [dashboard.slug.as_str(), dashboard.name.as_str()]
                .into_iter()
                .chain(dashboard.tags.iter().map(String::as_str))
                .any(|field| contains_any(field, &emails));
            if !hit {
                // By id: the toolbelt's `GET /api/dashboards/<slug>` is a 500 on this server.
                let full = client
                    .get_dashboard()
                    .dashboard_id(dashboard.id)
                    .send()
                    .await
                    .map_err(|e| {
                        ToolError::api(
                            &format!("reading dashboard {}", dashboard.id),
                            ApiError::from(e),
                        )
                    })?
                    .into_inner();
                hit = full.widgets.unwrap_or_default().iter().any(|w| {
                    // Text widgets only; restricted widgets carry no text.
                    w.visualization.is_none()
                        && w.text.as_deref().is_some_and(|t| contains_any(t, &emails))
                });
            }
            if hit {
                found.push(dashboard.slug);
            }
        }
    }
    bar.finish_and_clear();
    for slug in found {
        writeln!(out, "{host}/dashboards/{slug}")?;
    }
    out.flush()?;
    Ok(())
}

/// `find-tables`: the tables each query of `data_source_id` uses, as the summary table or
/// (`detail`) `query_id,table` lines.
pub async fn find_tables(
    client: &Client,
    data_source_id: i64,
    detail: bool,
    out: &mut impl Write,
) -> Result<(), ToolError> {
    let schema = client
        .get_data_source_schema()
        .data_source_id(data_source_id)
        .send()
        .await
        .map_err(|e| {
            ToolError::api(
                &format!("reading the schema of data source {data_source_id}"),
                ApiError::from(e),
            )
        })?
        .into_inner();
    // A schema job (schema not cached) means no filtering, as in the toolbelt.
    let schema_tables: Vec<String> = match schema {
        types::DataSourceSchemaResponse::SchemaEnvelope(s) => {
            s.schema.into_iter().map(|t| t.name).collect()
        }
        types::DataSourceSchemaResponse::JobEnvelope(_) => Vec::new(),
    };

    let bar = progress("Queries");
    let mut tables_by_query: Vec<(i64, Vec<String>)> = Vec::new();
    let mut queries = std::pin::pin!(client.queries_stream(PAGE_SIZE));
    while let Some(query) = queries
        .try_next()
        .await
        .map_err(|e| ToolError::api("listing queries", e))?
    {
        bar.inc(1);
        if query.data_source_id != Some(data_source_id) {
            continue;
        }
        let tables = extract_table_names(&query.query)
            .into_iter()
            .filter(|t| schema_tables.is_empty() || schema_tables.contains(t))
            .collect();
        match tables_by_query.iter_mut().find(|(id, _)| *id == query.id) {
            Some(entry) => entry.1 = tables,
            None => tables_by_query.push((query.id, tables)),
        }
    }
    bar.finish_and_clear();

    if detail {
        out.write_all(details(&tables_by_query).as_bytes())?;
    } else {
        let text = summary(&tables_by_query).ok_or_else(|| {
            ToolError(format!(
                "no table names found in the {} queries of data source {data_source_id}",
                tables_by_query.len()
            ))
        })?;
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// The dashboard `slug_or_id` names: a number is an id; otherwise the dashboard whose `slug`
/// is `slug_or_id` (this server looks dashboards up by id only).
async fn find_dashboard(client: &Client, slug_or_id: &str) -> Result<types::Dashboard, ToolError> {
    let id = match slug_or_id.parse::<i64>() {
        Ok(id) => id,
        Err(_) => {
            let mut dashboards = std::pin::pin!(client.dashboards_stream(PAGE_SIZE));
            let mut found = None;
            while let Some(d) = dashboards
                .try_next()
                .await
                .map_err(|e| ToolError::api("listing dashboards", e))?
            {
                if d.slug == slug_or_id {
                    found = Some(d.id);
                    break;
                }
            }
            found.ok_or_else(|| {
                ToolError(format!(
                    "no dashboard with the slug `{slug_or_id}` (pass the slug shown in the dashboard's URL, or its numeric id)"
                ))
            })?
        }
    };
    Ok(client
        .get_dashboard()
        .dashboard_id(id)
        .send()
        .await
        .map_err(|e| ToolError::api(&format!("reading dashboard {id}"), ApiError::from(e)))?
        .into_inner())
}

/// `clone-dashboard-and-queries`: copies the dashboard as `Copy of: <name>`, forks each of its
/// queries (renamed `prefix + name`) and recreates every widget on the copy, pointing at the
/// forked queries' visualizations. Prints nothing.
pub async fn clone_dashboard_and_queries(
    client: &Client,
    slug_or_id: &str,
    prefix: &str,
) -> Result<(), ToolError> {
    let current = find_dashboard(client, slug_or_id).await?;
    let widgets = current.widgets.clone().unwrap_or_default();
    let restricted = widgets
        .iter()
        .filter(|w| w.restricted == Some(true) || (w.visualization.is_none() && w.text.is_none()))
        .count();
    if restricted > 0 {
        return Err(ToolError(format!(
            "dashboard {} has {restricted} widget(s) on queries this key cannot view; nothing was copied",
            current.id
        )));
    }

    let created = client
        .create_dashboard()
        .body(types::DashboardCreate {
            name: format!("Copy of: {}", current.name),
        })
        .send()
        .await
        .map_err(|e| ToolError::api("creating the dashboard", ApiError::from(e)))?
        .into_inner();
    if !current.tags.is_empty() {
        client
            .update_dashboard()
            .dashboard_id(created.id)
            .body(types::DashboardUpdate {
                tags: current.tags.clone(),
                ..Default::default()
            })
            .send()
            .await
            .map_err(|e| ToolError::api("tagging the new dashboard", ApiError::from(e)))?;
    }

    // Queries in first-seen widget order, each once.
    let mut query_ids: Vec<i64> = Vec::new();
    for w in &widgets {
        if let Some(v) = &w.visualization {
            if !query_ids.contains(&v.query.id) {
                query_ids.push(v.query.id);
            }
        }
    }
    let bar = progress("Queries");
    bar.set_length(query_ids.len() as u64);
    let mut viz_map: BTreeMap<i64, i64> = BTreeMap::new();
    for old_id in query_ids {
        let old = client
            .get_query()
            .query_id(old_id)
            .send()
            .await
            .map_err(|e| ToolError::api(&format!("reading query {old_id}"), ApiError::from(e)))?
            .into_inner();
        let fork = client
            .fork_query()
            .query_id(old_id)
            .send()
            .await
            .map_err(|e| ToolError::api(&format!("forking query {old_id}"), ApiError::from(e)))?
            .into_inner();
        client
            .update_query()
            .query_id(fork.id)
            .body(types::QueryUpdate {
                name: Some(format!("{prefix}{}", old.name)),
                ..Default::default()
            })
            .send()
            .await
            .map_err(|e| {
                ToolError::api(&format!("renaming query {}", fork.id), ApiError::from(e))
            })?;
        for old_viz in &old.visualizations {
            for new_viz in &fork.visualizations {
                if old_viz.options == new_viz.options {
                    viz_map.insert(old_viz.id, new_viz.id);
                }
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    for w in &widgets {
        let visualization_id = w
            .visualization
            .as_ref()
            .and_then(|v| viz_map.get(&v.id).copied());
        client
            .create_widget()
            .body(types::WidgetCreate {
                dashboard_id: created.id,
                visualization_id,
                text: w.text.clone(),
                options: w.options.clone(),
                width: Some(1),
            })
            .send()
            .await
            .map_err(|e| ToolError::api("creating a widget", ApiError::from(e)))?;
    }
    Ok(())
}

/// The `query_<id>.sql` text export-queries writes.
pub fn query_file(query: &types::QueryListItem) -> String {
    let data_source = query
        .data_source_id
        .map_or_else(|| "None".to_string(), |id| id.to_string());
    format!(
        "/*\nName: {}\nData source: {}\nCreated By: {}\nLast Updated At: {}\n*/\n{}",
        query.name,
        data_source,
        query.user.name,
        server_datetime(&query.updated_at),
        query.query
    )
}

/// `export-queries`: writes `query_<id>.sql` for every query into `dir` (overwriting).
pub async fn export_queries(client: &Client, dir: &Path) -> Result<usize, ToolError> {
    let bar = progress("Queries");
    let queries: Vec<types::QueryListItem> = client
        .queries_stream(PAGE_SIZE)
        .inspect_ok(|_| bar.inc(1))
        .try_collect()
        .await
        .map_err(|e| ToolError::api("listing queries", e))?;
    bar.finish_and_clear();
    for query in &queries {
        let path = dir.join(format!("query_{}.sql", query.id));
        std::fs::write(&path, query_file(query))
            .map_err(|e| ToolError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(queries.len())
}
