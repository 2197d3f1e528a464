//! `ensure_file_contents`: the one place that writes generated files, or, in check mode, compares.

use std::path::Path;

/// What [`ensure_file_contents`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    UpToDate,
    /// The file was (re)written.
    Updated,
    /// Check mode: the file differs; the payload is a unified diff (old → new).
    Stale(String),
}

/// Makes `path` hold `contents`, or in `check` mode reports whether it does. Line endings are
/// compared after CRLF → LF normalisation, so a Windows checkout is not "stale". Writes go through a
/// temporary file and a rename, so a file is never half-written.
pub fn ensure_file_contents(path: &Path, contents: &str, check: bool) -> std::io::Result<Outcome> {
    let current = match std::fs::read_to_string(path) {
        Ok(s) => Some(s.replace("\r\n", "\n")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if current.as_deref() == Some(contents) {
        return Ok(Outcome::UpToDate);
    }
    if check {
        let old = current.unwrap_or_default();
        let diff = similar::TextDiff::from_lines(&old, contents)
            .unified_diff()
            .context_radius(2)
            .header(
                &format!("{} (checked in)", path.display()),
                &format!("{} (regenerated)", path.display()),
            )
            .to_string();
        return Ok(Outcome::Stale(diff));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)?;
    Ok(Outcome::Updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_mode_reports_a_diff_and_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("xtask-ensure-{}", std::process::id()));
        let file = dir.join("a.rs");
        assert_eq!(
            ensure_file_contents(&file, "one\n", true).unwrap(),
            Outcome::Stale(
                "--- ".to_string()
                    + &format!(
                        "{} (checked in)\n+++ {} (regenerated)\n@@ -0,0 +1 @@\n+one\n",
                        file.display(),
                        file.display()
                    )
            )
        );
        assert!(!file.exists());
        assert_eq!(
            ensure_file_contents(&file, "one\n", false).unwrap(),
            Outcome::Updated
        );
        assert_eq!(
            ensure_file_contents(&file, "one\n", true).unwrap(),
            Outcome::UpToDate
        );
        std::fs::write(&file, "one\r\n").unwrap();
        assert_eq!(
            ensure_file_contents(&file, "one\n", true).unwrap(),
            Outcome::UpToDate
        );
        match ensure_file_contents(&file, "two\n", true).unwrap() {
            Outcome::Stale(diff) => assert!(diff.contains("-one\n+two\n"), "{diff}"),
            other => panic!("expected a diff, got {other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
