//! Rules about Claude Code's installation, environment and config files.

use super::{claude_env_fix, claude_version, push, window, window_settings_fix, Section};
use crate::claude::{gate_for, WindowSource};
use crate::doctor::facts::Facts;
use crate::doctor::knowledge::claude_reads;
use crate::findings::Finding;
use serde_json::Value;

/// Names no Claude Code version reads, though guides recommend them
/// (`docs/claude-code.md`, "Environment variables": absent from 2.1.88, 2.1.121, 2.1.197, 2.1.332).
const NEVER_READ: &[&str] = crate::claude::vars::NOT_READ;

fn truthy(v: Option<&String>) -> bool {
    v.is_some_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !v.is_empty() && !["0", "false", "no", "off"].contains(&v.as_str())
    })
}

pub fn rules(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let Some(c) = &f.claude else { return };
    let s = Section::Claude;
    if c.path.is_none() {
        push(
            out,
            s,
            Finding::of("claude_missing", "Claude Code is not installed (or not on PATH)")
                .detail("looked on PATH, in ~/.local/bin/claude and ~/.claude/local/claude")
                .fix("npm install -g @anthropic-ai/claude-code   (or: curl -fsSL https://claude.ai/install.sh | bash)"),
        );
    }
    // One finding per file, however many of the probes read it (the launcher's settings
    // and Claude Code's own files can name the same settings.json).
    let mut seen: Vec<&String> = Vec::new();
    for e in &c.file_errors {
        if seen.contains(&e) {
            continue;
        }
        seen.push(e);
        push(
            out,
            s,
            Finding::of("claude_config_unreadable", "a Claude Code config file cannot be read")
                .detail(format!("{e}; Claude Code ignores what it cannot parse (and may rewrite ~/.claude.json), so the settings in it do not apply, and this diagnosis is incomplete"))
                .fix("fix the JSON (e.g. `python3 -m json.tool FILE` shows where it breaks) or move the file away"),
        );
    }
    if let Some(e) = &c.launcher_error {
        push(
            out,
            s,
            Finding::of("launcher_missing", "the launcher `cclocal setup` wrote cannot be read")
                .detail(format!("{e}; config.toml names it, so this diagnosis falls back to Claude Code's own files and your shell"))
                .fix("cclocal setup   (writes the launcher again from config.toml)"),
        );
    }
    let env = &c.env;
    let set = |k: &str| env.get(k).is_some_and(|v| !v.trim().is_empty());
    if set("ANTHROPIC_BASE_URL") && !set("ANTHROPIC_AUTH_TOKEN") && !set("ANTHROPIC_API_KEY") {
        push(
            out,
            s,
            Finding::of("auth_token_missing", "ANTHROPIC_BASE_URL is set without ANTHROPIC_AUTH_TOKEN or ANTHROPIC_API_KEY")
                .detail("without a token, interactive Claude Code (2.1.332) asks you to /login to Anthropic before it talks to the local server; a local server accepts any token")
                .fix(claude_env_fix(f, "ANTHROPIC_AUTH_TOKEN=local", "")),
        );
    }
    if let Some(b) = env.get("ANTHROPIC_BASE_URL") {
        let t = b.trim().trim_end_matches('/');
        if t.ends_with("/v1") {
            push(
                out,
                s,
                Finding::of("base_url_v1_suffix", "ANTHROPIC_BASE_URL ends in /v1")
                    .detail(format!("Claude Code appends /v1/messages itself, so {b} makes it call {t}/v1/messages, which answers 404 page not found"))
                    .fix(format!("ANTHROPIC_BASE_URL={}", t.trim_end_matches("/v1"))),
            );
        }
    }
    let key = env.get("ANTHROPIC_API_KEY").filter(|k| !k.is_empty());
    if let (Some(k), true) = (key, env.contains_key("ANTHROPIC_BASE_URL")) {
        let anthropic = k.starts_with("sk-ant-api");
        let both = env
            .get("ANTHROPIC_AUTH_TOKEN")
            .is_some_and(|t| !t.is_empty());
        let mut d = String::from("ANTHROPIC_API_KEY is sent to the local server as x-api-key");
        if both {
            d.push_str(" next to ANTHROPIC_AUTH_TOKEN");
        }
        d.push_str("; interactive sessions ask whether to use this key (default: No)");
        if anthropic {
            d.push_str("; an Anthropic key also makes Claude Code send background calls to its Haiku model, which a local server does not have");
        }
        push(
            out,
            s,
            Finding::of("api_key_conflict", "an API key is set for a local server")
                .detail(d)
                .fix("ANTHROPIC_API_KEY=\"\" ANTHROPIC_AUTH_TOKEN=ollama"),
        );
    }
    if !c.overrides.is_empty() {
        let list: Vec<String> = c
            .overrides
            .iter()
            .map(|o| {
                format!(
                    "{} (shell {:?}, {} {:?})",
                    o.name, o.shell, o.source, o.value
                )
            })
            .collect();
        push(
            out,
            s,
            Finding::of(
                "settings_env_override",
                format!(
                    "{} shell variable(s) are replaced by Claude Code's settings",
                    list.len()
                ),
            )
            .detail(format!(
                "a settings file's \"env\" wins over the shell: {}",
                list.join("; ")
            ))
            .fix("change the value in the settings file named above, or remove it there"),
        );
    }
    if c.path.is_some() && c.has_completed_onboarding != Some(true) {
        push(
            out,
            s,
            Finding::of("onboarding_gate", "Claude Code will show its first-run onboarding and login screens")
                .detail("~/.claude.json has no \"hasCompletedOnboarding\": true; interactive sessions stop at onboarding even with ANTHROPIC_BASE_URL set (claude -p is not affected)")
                .fix("add \"hasCompletedOnboarding\": true to ~/.claude.json"),
        );
    }
    let Some(v) = claude_version(f) else { return };
    // Variables the installed version does not read.
    for name in env
        .keys()
        .filter(|k| k.starts_with("ANTHROPIC_") || k.starts_with("CLAUDE_"))
    {
        let never = NEVER_READ.contains(&name.as_str());
        if never || (c.version.is_some() && claude_reads(v, name) == Some(false)) {
            push(
                out,
                s,
                Finding::of(
                    "unknown_env_var",
                    format!("{name} is set but Claude Code {v} does not read it"),
                )
                .detail(if never {
                    format!("{name} appears in no Claude Code build; it does nothing")
                } else {
                    format!("{name} is not among the variables Claude Code {v} reads")
                })
                .fix(if name == "ANTHROPIC_MODEL_CONTEXT_LENGTH" {
                    format!("remove it; {}", window_settings_fix(f))
                } else {
                    format!("remove {name}")
                }),
            );
        }
    }
    // Prompt-cache busters (ollama PRs #14918, #17918): only where the version reads the switch.
    if c.version.is_some() {
        let mut missing = Vec::new();
        if claude_reads(v, "CLAUDE_CODE_ATTRIBUTION_HEADER") == Some(true)
            && !matches!(
                env.get("CLAUDE_CODE_ATTRIBUTION_HEADER").map(|s| s.trim()),
                Some("0" | "false")
            )
        {
            missing.push((
                "CLAUDE_CODE_ATTRIBUTION_HEADER=0",
                "the attribution header changes on every request",
            ));
        }
        if claude_reads(v, "CLAUDE_CODE_TOTAL_TOKENS_REMINDER") == Some(true)
            && env
                .get("CLAUDE_CODE_TOTAL_TOKENS_REMINDER")
                .map(|s| s.trim())
                != Some("off")
        {
            missing.push((
                "CLAUDE_CODE_TOTAL_TOKENS_REMINDER=off",
                "the \"tokens left\" reminder rewrites the start of the prompt",
            ));
        }
        if !missing.is_empty() {
            push(
                out,
                s,
                Finding::of("cache_buster", "the server's prompt cache is invalidated on every turn")
                    .detail(format!(
                        "{}; the local server then re-reads the whole prompt each turn, which costs minutes at long contexts",
                        missing.iter().map(|m| m.1).collect::<Vec<_>>().join("; ")
                    ))
                    .fix(if c.launcher.is_some() {
                        claude_env_fix(f, &missing.iter().map(|m| m.0).collect::<Vec<_>>().join(" "), "")
                    } else {
                        missing.iter().map(|m| m.0).collect::<Vec<_>>().join(" ")
                    }),
            );
        }
    }
    autocompact(f, out);
}

fn autocompact(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let (Some(c), Some(v), Some(calc)) = (&f.claude, claude_version(f), window(f)) else {
        return;
    };
    let s = Section::Claude;
    let gate = gate_for(v);
    let env = &c.env;
    let ineffective = |title: String, detail: String, fix: String| {
        Finding::of("autocompact_ineffective", title)
            .detail(detail)
            .fix(fix)
    };
    if let Some(p) = env.get("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE") {
        match p.trim().parse::<f64>() {
            Ok(x) if x > 0.0 && x <= 100.0 => {
                let eff = calc.effective_window;
                if crate::claude::pct_threshold(eff, x) >= eff as i64 - 13_000 {
                    push(out, s, ineffective(
                        format!("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE={p} has no effect"),
                        format!("{p}% of the window Claude Code plans with ({} tokens, its effectiveWindow) is above the default threshold {}; the percentage can only make compaction earlier", calc.effective_window, calc.effective_window as i64 - 13_000),
                        window_settings_fix(f),
                    ));
                }
            }
            _ => push(out, s, ineffective(
                format!("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE={p} is ignored"),
                "Claude Code only honours a number above 0 and at most 100 (a percentage, not a fraction)".into(),
                "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE=<percent of the effective window, e.g. 75>".into(),
            )),
        }
    }
    if gate.needs_window_source
        && calc.window_source == WindowSource::Auto
        && !calc.proactive
        && !truthy(env.get("DISABLE_AUTO_COMPACT"))
    {
        push(out, s, ineffective(
            format!("Claude Code {v} never compacts proactively here"),
            format!("versions {}–{} compact before the limit only when a window is configured; without CLAUDE_CODE_AUTO_COMPACT_WINDOW, CLAUDE_CODE_MAX_CONTEXT_TOKENS and CLAUDE_AUTOCOMPACT_PCT_OVERRIDE do nothing and Claude Code waits for the server to reject the prompt, which Ollama never does (it drops old messages instead)", gate.from, gate.to),
            "CLAUDE_CODE_AUTO_COMPACT_WINDOW=100000 together with CLAUDE_CODE_MAX_CONTEXT_TOKENS=<served context>".into(),
        ));
    }
    match &c.auto_compact_enabled {
        Some(Value::Bool(false)) => push(out, s, ineffective(
            "autocompaction is switched off".into(),
            format!("autoCompactEnabled is false in {}; long sessions overflow the server's context", c.auto_compact_enabled_source.clone().unwrap_or_default()),
            "set \"autoCompactEnabled\": true in ~/.claude/settings.json".into(),
        )),
        Some(Value::String(t)) => push(out, s, ineffective(
            format!("autoCompactEnabled is the string {t:?}"),
            "old `claude config set` wrote a string; Claude Code only honours a boolean, so this does not do what it says".into(),
            "write a boolean (true or false) in ~/.claude/settings.json and remove the string".into(),
        )),
        _ => {}
    }
    for k in ["DISABLE_AUTO_COMPACT", "DISABLE_COMPACT"] {
        if truthy(env.get(k)) {
            push(
                out,
                s,
                ineffective(
                    format!("{k} switches autocompaction off"),
                    "long sessions will overflow the server's context".into(),
                    format!("unset {k}"),
                ),
            );
        }
    }
    if let Some(w) = c
        .auto_compact_window
        .as_ref()
        .and_then(Value::as_u64)
        .filter(|w| *w < 100_000)
    {
        push(
            out,
            s,
            ineffective(
                format!("autoCompactWindow {w} is ignored"),
                "the settings schema requires at least 100000; smaller values are dropped silently"
                    .into(),
                window_settings_fix(f),
            ),
        );
    }
    if let (Some(w), Some(floor)) = (
        env.get("CLAUDE_CODE_AUTO_COMPACT_WINDOW"),
        gate.auto_compact_window_floor,
    ) {
        if w.trim().parse::<u64>().is_ok_and(|n| n > 0 && n < floor) {
            push(
                out,
                s,
                ineffective(
                    format!("CLAUDE_CODE_AUTO_COMPACT_WINDOW={w} reads as {floor}"),
                    format!("Claude Code {v} raises the value to its {floor}-token minimum"),
                    window_settings_fix(f),
                ),
            );
        }
    }
}
