//! The templates cclocal renders (`templates/`, embedded at build time) and the filters
//! that quote values for them.

use crate::error::{Error, Result};
use crate::shell::quote::{fish_quote, sh_quote, systemd_quote_assignment};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// The embedded templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "launcher.sh",
        include_str!("../../templates/launcher.sh.j2"),
    ),
    ("alias.sh", include_str!("../../templates/alias.sh.j2")),
    ("alias.fish", include_str!("../../templates/alias.fish.j2")),
    (
        "ollama-dropin.conf",
        include_str!("../../templates/ollama-dropin.conf.j2"),
    ),
    (
        "server-linux.sh",
        include_str!("../../templates/server-linux.sh.j2"),
    ),
    (
        "server-macos.sh",
        include_str!("../../templates/server-macos.sh.j2"),
    ),
    (
        "llama-server.service",
        include_str!("../../templates/llama-server.service.j2"),
    ),
];

/// Makes a value safe inside a `#` comment: control characters (a newline would end the
/// comment and start a command) become `?`.
pub fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("sh", |v: String| sh_quote(&v));
    env.add_filter("fish", |v: String| fish_quote(&v));
    env.add_filter("comment", |v: String| comment_safe(&v));
    env.add_filter("systemd", |k: String, v: String| {
        systemd_quote_assignment(&k, &v)
    });
    for (name, src) in TEMPLATES {
        env.add_template(name, src)
            .expect("embedded templates parse");
    }
    env
}

/// Renders template `name` with `ctx`.
pub fn render<S: Serialize>(name: &str, ctx: S) -> Result<String> {
    let env = environment();
    let tmpl = env
        .get_template(name)
        .map_err(|e| Error::parse(format!("template {name}: {e}")))?;
    tmpl.render(ctx)
        .map_err(|e| Error::parse(format!("could not render template {name}: {e}")))
}

/// A heredoc delimiter that does not occur as a line of `body`.
pub fn heredoc_delimiter(body: &str) -> String {
    let mut n = 0u32;
    loop {
        let d = if n == 0 {
            "CCLOCAL_EOF".to_string()
        } else {
            format!("CCLOCAL_EOF_{n}")
        };
        if !body.lines().any(|l| l == d) {
            return d;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_templates_parse() {
        let env = environment();
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn missing_variable_is_an_error() {
        assert!(render("alias.sh", minijinja::context! { name => "x" }).is_err());
    }

    #[test]
    fn comments_cannot_break_out() {
        assert_eq!(comment_safe("a\nrm -rf /"), "a?rm -rf /");
    }

    #[test]
    fn delimiter_avoids_body_lines() {
        assert_eq!(heredoc_delimiter("x\n"), "CCLOCAL_EOF");
        assert_eq!(heredoc_delimiter("CCLOCAL_EOF\n"), "CCLOCAL_EOF_1");
    }
}
