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

/// Each lint fixture breaks exactly the rule it is named after; `clean.yaml` breaks none.
#[test]
fn lint_rules_each_seen_failing() {
    let dir = root().join("tests/fixtures/lint");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    let mut report = String::new();
    for path in fixtures {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let shown = format!("tests/fixtures/lint/{name}.yaml");
        let problems: Vec<String> = match spec::load(&path, &shown) {
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
            Ok(spec) => xtask::lint::lint(&spec)
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        if name == "clean" {
            assert!(
                problems.is_empty(),
                "clean fixture has problems: {problems:?}"
            );
        } else if let Some(rule) = name.strip_prefix("structure-") {
            assert!(
                !problems.is_empty(),
                "{name}: no structural problem ({rule})"
            );
        } else if name == "servers-and-security" {
            assert!(
                problems.iter().any(|p| p.contains("[servers]"))
                    && problems.iter().any(|p| p.contains("[security]")),
                "{problems:?}"
            );
        } else {
            assert!(!problems.is_empty(), "{name}: rule not seen failing");
            assert!(
                problems.iter().all(|p| p.contains(&format!("[{name}]"))),
                "{name}: other rules fired too: {problems:?}"
            );
        }
        report.push_str(&format!("## {name}\n"));
        for p in problems {
            report.push_str(&p);
            report.push('\n');
        }
    }
    insta::assert_snapshot!("lint-rules", report);
}

/// Each pair in `tests/fixtures/diff/` is one kind of change; the verdict says whether it blocks.
#[test]
fn diff_classifies_each_change() {
    let dir = root().join("tests/fixtures/diff");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|f| f.strip_suffix(".old.yaml").map(str::to_string))
        .collect();
    cases.sort();
    assert!(cases.len() >= 9);
    let mut report = String::new();
    for case in cases {
        let load = |side: &str| {
            let text = std::fs::read(dir.join(format!("{case}.{side}.yaml"))).unwrap();
            spec::parse(&text, &format!("{case}.{side}.yaml"), &case).unwrap()
        };
        let (old, new) = (load("old"), load("new"));
        let changes = xtask::diff::compare(&old.raw, &new.raw);
        let verdict = xtask::diff::verdict(
            &changes,
            &old.openapi.info.version,
            &new.openapi.info.version,
        );
        let expected_breaking = !matches!(
            case.as_str(),
            "added-operation" | "new-optional-parameter" | "added-response-field"
        );
        assert_eq!(
            changes.breaking(),
            expected_breaking,
            "{case}: {:?}",
            changes.changes
        );
        assert_eq!(
            verdict.blocks(),
            expected_breaking && case != "major-bump",
            "{case}"
        );
        report.push_str(&format!("## {case}: {}\n", verdict.summary()));
        for c in &changes.changes {
            report.push_str(&format!("{c}\n"));
        }
    }
    insta::assert_snapshot!("diff-cases", report);
}

/// `bundle` writes both formats for a clean spec and nothing for a spec that fails lint.
#[test]
fn bundle_skips_specs_that_fail_lint() {
    let dir = std::env::temp_dir().join(format!("xtask-bundle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    let fixtures = root().join("tests/fixtures/lint");
    std::fs::copy(fixtures.join("clean.yaml"), dir.join("specs/good.yaml")).unwrap();
    std::fs::copy(
        fixtures.join("unused-component.yaml"),
        dir.join("specs/bad.yaml"),
    )
    .unwrap();

    let lines = xtask::commands::bundle(&dir).expect_err("a failing spec fails the command");
    assert!(
        lines
            .iter()
            .any(|l| l == "specs/bad.yaml: not bundled (1 lint problem(s))"),
        "{lines:?}"
    );
    let mut written: Vec<String> = std::fs::read_dir(dir.join("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["good-1.0.0.json", "good-1.0.0.yaml"]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("dist/good-1.0.0.json")).unwrap())
            .unwrap();
    assert_eq!(
        json["paths"]["/items/{id}"]["get"]["operationId"],
        "get_item"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
