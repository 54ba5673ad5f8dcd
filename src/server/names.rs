//! The one model-name matcher: whether two names mean the same model to a server.

use crate::ollama::parse_name;

/// `qwen3`, `QWEN3:latest` and `registry.ollama.ai/library/qwen3:latest` are the same
/// model: Ollama fills in its default host, namespace and tag `latest`, and compares
/// names case-insensitively (Ollama `types/model/name.go`, docs/servers.md). Names that
/// are not Ollama names (paths, `qwen/qwen3-coder-30b` with odd characters) are compared
/// case-insensitively as written.
pub fn same_model(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    match (parse_name(a), parse_name(b)) {
        (Some(x), Some(y)) => x.display().eq_ignore_ascii_case(&y.display()),
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// The first of `names` that is the same model as `want`.
pub fn find_model<'a>(names: impl IntoIterator<Item = &'a str>, want: &str) -> Option<&'a str> {
    names.into_iter().find(|n| same_model(n, want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_rules() {
        assert!(same_model("qwen3-coder-next", "qwen3-coder-next:latest"));
        assert!(same_model("Qwen3:8B", "qwen3:8b"));
        assert!(same_model(
            " llama3.2 ",
            "registry.ollama.ai/library/llama3.2:latest"
        ));
        assert!(same_model("user/m", "USER/m:latest"));
        assert!(!same_model("qwen3:8b", "qwen3:4b"));
        assert!(!same_model("user/m", "m"));
        assert!(same_model("/models/A.gguf", "/models/a.gguf"));
        assert_eq!(find_model(["a:1", "b"], "B:latest"), Some("b"));
        assert_eq!(find_model(["a:1"], "a"), None);
    }
}
