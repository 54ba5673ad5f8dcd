//! Findings: what `doctor` and `logs` report. A finding has a stable id (part of the JSON
//! contract), a severity, a one-line title, detail, and a fix (a command or a setting).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Ok,
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The flutter-doctor glyph: ✓ ok/info, ! warning, ✗ error.
    pub fn glyph(self) -> &'static str {
        match self {
            Severity::Ok | Severity::Info => "✓",
            Severity::Warning => "!",
            Severity::Error => "✗",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier, e.g. `context_mismatch`.
    pub id: &'static str,
    pub severity: Severity,
    pub title: String,
    pub detail: String,
    /// A command to run or a setting to change; empty for `ok` findings.
    pub fix: String,
}

impl Finding {
    pub fn new(id: &'static str, severity: Severity, title: impl Into<String>) -> Self {
        Finding {
            id,
            severity,
            title: title.into(),
            detail: String::new(),
            fix: String::new(),
        }
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }
    pub fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = f.into();
        self
    }
}

/// The highest severity among `findings` (`Ok` when empty).
pub fn worst(findings: &[Finding]) -> Severity {
    findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_and_json() {
        let f = vec![
            Finding::new("a", Severity::Info, "x"),
            Finding::new("b", Severity::Warning, "y").fix("do z"),
        ];
        assert_eq!(worst(&f), Severity::Warning);
        let j = serde_json::to_value(&f[1]).unwrap();
        assert_eq!(j["severity"], "warning");
        assert_eq!(j["id"], "b");
        assert_eq!(j["fix"], "do z");
    }
}
