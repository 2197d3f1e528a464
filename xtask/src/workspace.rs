//! `regenerate`: every `specs/*.yaml` → `crates/<name>/`, all planned in memory before anything
//! is written, so a problem in any spec leaves every checked-in file untouched.

use std::path::{Path, PathBuf};

use crate::codegen::{self, Generated};
use crate::ensure::{ensure_file_contents, Outcome};
use crate::problem::Problem;
use crate::spec::{self, Spec};

/// One file the regeneration wants on disk.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    pub path: PathBuf,
    pub contents: String,
    /// Generated files are always kept equal to `contents`; scaffold files (a new crate's manifest,
    /// README and `lib.rs`) are written only when missing and are hand-edited afterwards.
    pub scaffold: bool,
}

/// One generated crate, fully computed.
#[derive(Debug, Clone)]
pub struct PlannedCrate {
    pub spec: Spec,
    pub generated: Generated,
    pub files: Vec<PlannedFile>,
}

/// What a regeneration did or, in check mode, found.
#[derive(Debug, Default)]
pub struct Summary {
    pub updated: Vec<PathBuf>,
    /// Check mode: stale files with their diffs.
    pub stale: Vec<(PathBuf, String)>,
    pub crates: Vec<String>,
}

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `specs/*.yaml`, sorted, as (absolute path, path shown to people).
pub fn spec_files(root: &Path) -> Result<Vec<(PathBuf, String)>, Vec<Problem>> {
    let dir = root.join("specs");
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        vec![Problem::new(
            "specs/",
            "",
            format!("cannot list specs: {e}"),
            "run from the workspace",
        )]
    })?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let shown = format!(
                "specs/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            (p, shown)
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Plans every crate; collects the problems of all specs before giving up.
pub fn plan(root: &Path) -> Result<Vec<PlannedCrate>, Vec<Problem>> {
    let mut planned = Vec::new();
    let mut problems = Vec::new();
    for (path, shown) in spec_files(root)? {
        match spec::load(&path, &shown).and_then(|spec| plan_crate(root, spec)) {
            Ok(c) => planned.push(c),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(planned)
    } else {
        Err(problems)
    }
}

fn plan_crate(root: &Path, spec: Spec) -> Result<PlannedCrate, Vec<Problem>> {
    let generated = codegen::generate(&spec)?;
    let dir = root.join("crates").join(&spec.name);
    let mut files = vec![PlannedFile {
        path: dir.join("src/generated.rs"),
        contents: generated.source.clone(),
        scaffold: false,
    }];
    if let Ok(readme) = std::fs::read_to_string(dir.join("README.md")) {
        check_readme(&spec, &readme)?;
    }
    let manifest = dir.join("Cargo.toml");
    match std::fs::read_to_string(&manifest) {
        Ok(text) => check_manifest(&spec, &generated, &text)?,
        Err(_) => files.push(PlannedFile {
            path: manifest,
            contents: scaffold_manifest(&spec, &generated),
            scaffold: true,
        }),
    }
    files.push(PlannedFile {
        path: dir.join("README.md"),
        contents: scaffold_readme(&spec),
        scaffold: true,
    });
    files.push(PlannedFile {
        path: dir.join("src/lib.rs"),
        contents: SCAFFOLD_LIB.to_string(),
        scaffold: true,
    });
    Ok(PlannedCrate {
        spec,
        generated,
        files,
    })
}

/// Regenerates (or checks) every crate. Returns the problems if any spec cannot be generated; then
/// nothing was written.
pub fn regenerate(root: &Path, check: bool) -> Result<Summary, Vec<Problem>> {
    let planned = plan(root)?;
    let mut summary = Summary::default();
    for c in &planned {
        summary.crates.push(c.spec.name.clone());
        for file in &c.files {
            if file.scaffold && file.path.exists() {
                continue;
            }
            let outcome = ensure_file_contents(&file.path, &file.contents, check).map_err(|e| {
                vec![Problem::new(
                    file.path.display().to_string(),
                    "",
                    format!("cannot write: {e}"),
                    "check permissions",
                )]
            })?;
            match outcome {
                Outcome::UpToDate => {}
                Outcome::Updated => summary.updated.push(file.path.clone()),
                Outcome::Stale(diff) => summary.stale.push((file.path.clone(), diff)),
            }
        }
    }
    Ok(summary)
}

/// The crate's README must say which spec, at which version, it was built from.
fn check_readme(spec: &Spec, readme: &str) -> Result<(), Vec<Problem>> {
    let text = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let version = &spec.openapi.info.version;
    let names_spec = text.contains(&format!("specs/{}.yaml", spec.name));
    let names_version = text.contains(&format!("spec version {version}"));
    if names_spec && names_version {
        Ok(())
    } else {
        Err(vec![Problem::new(
            format!("crates/{}/README.md", spec.name),
            "",
            format!(
                "the README must name `specs/{}.yaml` and `spec version {version}`",
                spec.name
            ),
            "say which spec and version the crate is generated from",
        )])
    }
}

/// The crate's manifest must carry the spec version as build metadata and every dependency the
/// generated types use.
fn check_manifest(spec: &Spec, generated: &Generated, text: &str) -> Result<(), Vec<Problem>> {
    let file = format!("crates/{}/Cargo.toml", spec.name);
    let mut problems = Vec::new();
    let want = format!("+{}\"", spec.openapi.info.version);
    let version_line = text.lines().find(|l| l.trim_start().starts_with("version"));
    if !version_line.is_some_and(|l| l.contains(&want)) {
        problems.push(Problem::new(
            &file,
            "",
            format!(
                "package version must end in `{}` (the spec's info.version)",
                want.trim_end_matches('"')
            ),
            format!(
                "set `version = \"<crate semver>+{}\"`",
                spec.openapi.info.version
            ),
        ));
    }
    for dep in generated.extra_dependencies.iter().chain(BASE_DEPENDENCIES) {
        let present = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with(&format!("{dep}."))
                || l.starts_with(&format!("{dep} "))
                || l.starts_with(&format!("{dep}="))
        });
        if !present {
            problems.push(Problem::new(
                &file,
                "",
                format!("the generated code uses `{dep}`, which is not a dependency"),
                format!("add `{dep}.workspace = true` under [dependencies]"),
            ));
        }
    }
    let optional = text
        .lines()
        .any(|l| l.trim_start().starts_with("schemars") && l.contains("optional = true"));
    if !optional || !text.contains(SCHEMARS_FEATURE) {
        problems.push(Problem::new(
            &file,
            "",
            "`schemars` must be optional and enabled by the feature `schemars` (the generated derives are gated on it)",
            format!("write `schemars = {{ workspace = true, optional = true }}` and, under [features], `{SCHEMARS_FEATURE}`"),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The manifest lines that put `schemars` behind the crate feature the generated code tests.
const SCHEMARS_FEATURE: &str = "schemars = [\"dep:schemars\", \"analytics-auth/schemars\"]";

const BASE_DEPENDENCIES: &[&str] = &[
    "analytics-auth",
    "progenitor-client",
    "reqwest",
    "serde",
    "serde_json",
    "schemars",
];

fn scaffold_manifest(spec: &Spec, generated: &Generated) -> String {
    let deps: String = BASE_DEPENDENCIES
        .iter()
        .chain(&generated.extra_dependencies)
        .map(|d| match *d {
            "schemars" => "schemars = { workspace = true, optional = true }\n".to_string(),
            d => format!("{d}.workspace = true\n"),
        })
        .collect();
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0+{version}\"\ndescription = \"Rust client for the {title}, generated from specs/{name}.yaml\"\nreadme = \"README.md\"\nedition.workspace = true\nlicense.workspace = true\nrust-version.workspace = true\npublish.workspace = true\n\n[dependencies]\n{deps}\n[features]\n# `schemars::JsonSchema` on every generated type.\n{SCHEMARS_FEATURE}\n\n[lints]\nworkspace = true\n",
        name = spec.name,
        version = spec.openapi.info.version,
        title = spec.openapi.info.title,
    )
}

fn scaffold_readme(spec: &Spec) -> String {
    let krate = spec.name.replace('-', "_");
    format!(
        "# {name}\n\nRust client for the {title} (spec version {version}), generated from \
         [`specs/{name}.yaml`](../../specs/{name}.yaml) by `cargo xtask regenerate`.\n\n\
         ```rust,no_run\nuse {krate}::{{Auth, Client}};\n\n# async fn run() -> Result<(), Box<dyn std::error::Error>> {{\n\
         let client = Client::new(\"https://host.example\", Auth::none());\n# let _ = client;\n# Ok(())\n# }}\n```\n\n\
         `src/generated.rs` is generated; everything else in `src/` is hand-written.\n",
        name = spec.name,
        title = spec.openapi.info.title,
        version = spec.openapi.info.version,
    )
}

const SCAFFOLD_LIB: &str = "#![doc = include_str!(\"../README.md\")]\n#![forbid(unsafe_code)]\n\n#[rustfmt::skip]\nmod generated;\n\npub use analytics_auth::{ApiError, Auth, ClientConfig};\npub use generated::*;\n";
