//! `lint`, `bundle` and `diff` over every spec in `specs/`, returning printable lines.

use std::path::Path;

use crate::problem::Problem;
use crate::spec::{self, Spec};
use crate::workspace;

type Lines = Result<Vec<String>, Vec<String>>;

fn load_all(root: &Path) -> Result<Vec<Result<Spec, Vec<Problem>>>, Vec<String>> {
    let files = workspace::spec_files(root)
        .map_err(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    Ok(files
        .iter()
        .map(|(path, shown)| spec::load(path, shown))
        .collect())
}

/// Every problem of every spec, one line each.
pub fn lint(root: &Path) -> Lines {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for loaded in load_all(root)? {
        match loaded {
            Err(problems) => failed.extend(problems.iter().map(|p| format!("error: {p}"))),
            Ok(spec) => {
                let problems = crate::lint::lint(&spec);
                if problems.is_empty() {
                    ok.push(format!("{}: clean", spec.file));
                } else {
                    failed.extend(problems.iter().map(|p| format!("error: {p}")));
                }
            }
        }
    }
    if failed.is_empty() {
        Ok(ok)
    } else {
        failed.push(format!("{} problem(s)", failed.len()));
        Err(failed)
    }
}

/// `dist/<name>-<version>.{yaml,json}` for each lint-clean spec; nothing for a spec that fails.
pub fn bundle(root: &Path) -> Lines {
    let dist = root.join("dist");
    let mut written = Vec::new();
    let mut failed = Vec::new();
    for loaded in load_all(root)? {
        let spec = match loaded {
            Ok(spec) => spec,
            Err(problems) => {
                failed.extend(problems.iter().map(|p| format!("error: {p} (not bundled)")));
                continue;
            }
        };
        let problems = crate::lint::lint(&spec);
        if !problems.is_empty() {
            failed.extend(problems.iter().map(|p| format!("error: {p}")));
            failed.push(format!(
                "{}: not bundled ({} lint problem(s))",
                spec.file,
                problems.len()
            ));
            continue;
        }
        // Our specs have only local `$ref`s (regenerate and lint reject external ones), so the
        // document is already self-contained; bundling writes it in both formats under its version.
        let stem = format!("{}-{}", spec.name, spec.openapi.info.version);
        let yaml =
            serde_yaml_ng::to_string(&spec.raw).map_err(|e| vec![format!("{}: {e}", spec.file)])?;
        let json = serde_json::to_string_pretty(&spec.raw)
            .map_err(|e| vec![format!("{}: {e}", spec.file)])?
            + "\n";
        std::fs::create_dir_all(&dist).map_err(|e| vec![format!("dist/: {e}")])?;
        for (ext, text) in [("yaml", yaml), ("json", json)] {
            let path = dist.join(format!("{stem}.{ext}"));
            std::fs::write(&path, text).map_err(|e| vec![format!("{}: {e}", path.display())])?;
            written.push(format!("wrote dist/{stem}.{ext}"));
        }
    }
    if failed.is_empty() {
        Ok(written)
    } else {
        failed.extend(written);
        Err(failed)
    }
}

/// Compares every spec with its version at `rev`.
pub fn diff(root: &Path, rev: &str) -> Lines {
    let mut lines = Vec::new();
    let mut blocking = false;
    for loaded in load_all(root)? {
        let new = loaded.map_err(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        let Some(old_text) = git_show(root, rev, &new.file)? else {
            lines.push(format!("{}: new spec (not at {rev})", new.file));
            continue;
        };
        let old = spec::parse(
            old_text.as_bytes(),
            &format!("{rev}:{}", new.file),
            &new.name,
        )
        .map_err(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        let report = crate::diff::compare(&old.raw, &new.raw);
        let verdict = crate::diff::verdict(
            &report,
            &old.openapi.info.version,
            &new.openapi.info.version,
        );
        lines.push(format!(
            "{}: {} → {}: {}",
            new.file,
            old.openapi.info.version,
            new.openapi.info.version,
            verdict.summary()
        ));
        lines.extend(report.changes.iter().map(|c| format!("  {c}")));
        blocking |= verdict.blocks();
    }
    if blocking {
        Err(lines)
    } else {
        Ok(lines)
    }
}

fn git_show(root: &Path, rev: &str, file: &str) -> Result<Option<String>, Vec<String>> {
    let out = std::process::Command::new("git")
        .current_dir(root)
        .args(["show", &format!("{rev}:{file}")])
        .output()
        .map_err(|e| vec![format!("cannot run git: {e}")])?;
    if out.status.success() {
        Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()))
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("does not exist") || err.contains("exists on disk, but not in") {
            Ok(None)
        } else {
            Err(vec![format!("git show {rev}:{file}: {}", err.trim())])
        }
    }
}
