//! Snapshot tests of generated output, kept small enough to review: each real crate's operation
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! inventory, and for each purpose-built fixture spec what progenitor does with and without the
//! generation view. `cargo insta review` (or `INSTA_UPDATE=always`) accepts intended changes;
//! with `CI` set, a changed snapshot fails.

use std::path::{Path, PathBuf};

use xtask::{codegen, inventory, spec, workspace};

fn root() -> PathBuf {
    workspace::root()
}

/// Each spec in `specs/`: what its crate offers, operation by operation.
#[test]
fn crate_inventories() {
    let crates = workspace::plan(&root()).unwrap_or_else(|p| panic!("{p:?}"));
    assert!(!crates.is_empty(), "no specs found");
    for c in crates {
        insta::assert_snapshot!(
            format!("inventory-{}", c.spec.name),
            inventory::render(&c.spec, &c.generated)
        );
    }
}

/// Each fixture in `tests/fixtures/view/`: progenitor on the spec as written, then through the view.
#[test]
fn generation_view_rules() {
    let dir = root().join("tests/fixtures/view");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 6);
    for path in fixtures {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("view-{name}"), fixture_report(&path, &name));
    }
}

fn fixture_report(path: &Path, name: &str) -> String {
    let shown = format!("tests/fixtures/view/{name}.yaml");
    let spec = spec::load(path, &shown).unwrap_or_else(|p| panic!("{p:?}"));
    let raw = match codegen::progenitor_without_view(&spec) {
        Ok(()) => "generates".to_string(),
        Err(e) => e,
    };
    let viewed = match codegen::generate(&spec) {
        Ok(g) => inventory::render(&spec, &g),
        Err(problems) => problems.iter().map(|p| format!("error: {p}\n")).collect(),
    };
    format!("without the view: {raw}\n\nwith the view:\n{viewed}")
}

/// Bad input: one clear line per problem, and nothing written anywhere.
#[test]
fn bad_specs_write_nothing() {
    let dir = std::env::temp_dir().join(format!("xtask-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    let good =
        std::fs::read_to_string(root().join("tests/fixtures/view/default-response.yaml")).unwrap();
    std::fs::write(dir.join("specs/good.yaml"), good).unwrap();
    std::fs::write(
        dir.join("specs/bad-yaml.yaml"),
        "openapi: 3.0.3\ninfo: [oops\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("specs/newer.yaml"),
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("specs/refs.yaml"),
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: {operationId: a, responses: {'200': {$ref: '#/components/responses/Gone'}}}\n  /b:\n    get: {operationId: a, responses: {'200': {description: ok}}}\n",
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/fixtures/view/multipart.yaml"),
        dir.join("specs/multipart.yaml"),
    )
    .unwrap();

    let problems = workspace::regenerate(&dir, false).expect_err("bad specs must fail");
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(
        "bad-specs",
        lines
            .join("\n")
            .replace(&dir.display().to_string(), "<tmp>")
    );
    assert!(
        !dir.join("crates").exists(),
        "nothing may be written when any spec fails"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
