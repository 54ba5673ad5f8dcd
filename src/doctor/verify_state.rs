//! The last verify result, kept in cclocal's state directory (`verify-last.json`) so that
//! `doctor` can show it and its age. `cclocal verify` writes it (`crate::verify::last`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What is kept of a verify run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Last {
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub version: String,
    pub claude: String,
    pub ok: bool,
    /// `label: observed (planned …)` for each mismatch.
    pub mismatches: Vec<String>,
    /// `item: table row VERSIONS predicted P, observed O`.
    pub table: Vec<String>,
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("verify-last.json")
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Last {
    /// How long ago, in words (`3 min ago`, `2 h ago`, `5 days ago`).
    pub fn age(&self, now_s: u64) -> String {
        let d = now_s.saturating_sub(self.at);
        match d {
            0..=172_799 => format!("{} ago", crate::duration::human_secs(d as f64)),
            _ => format!("{} days ago", d / 86_400),
        }
    }

    pub fn age_now(&self) -> String {
        self.age(now())
    }
}

/// Saves the result in cclocal's private state folder, atomically (`crate::fs`).
pub fn save(state_dir: &Path, last: &Last) -> crate::error::Result<()> {
    crate::fs::private_dir(state_dir)?;
    let json = serde_json::to_vec_pretty(last).expect("json");
    crate::fs::write_atomic(&path(state_dir), &json, 0o600)
}

/// The last result; `None` when there is none or it cannot be read.
pub fn load(state_dir: &Path) -> Option<Last> {
    let text = std::fs::read(path(state_dir)).ok()?;
    if text.len() > 1 << 20 {
        return None;
    }
    serde_json::from_slice(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_age() {
        let d = std::env::temp_dir().join(format!("cclocal-verify-state-{}", std::process::id()));
        let l = Last {
            at: 1000,
            version: "2.1.332".into(),
            claude: "/x/claude".into(),
            ok: false,
            mismatches: vec!["effectiveWindow: 980000 (planned 57344)".into()],
            table: vec![],
        };
        save(&d, &l).unwrap();
        assert_eq!(load(&d), Some(l.clone()));
        assert_eq!(l.age(1030), "30 s ago");
        assert_eq!(l.age(1000 + 7200), "2 h ago");
        std::fs::write(path(&d), "not json").unwrap();
        assert_eq!(load(&d), None);
        let _ = std::fs::remove_dir_all(&d);
    }
}
