//! Renderers: flutter-doctor style text and the JSON report. Formatting only.

use super::facts::Facts;
use super::rules::Section;
use crate::findings::{Finding, Severity};
use crate::server::ServerKind;
use crate::term::{clean, clean_text};
use crate::units::human;
use std::fmt::Write;

/// The `--json` document: `{"cclocal_version", "findings", "facts"}`.
pub fn json(facts: &Facts, findings: &[(Section, Finding)]) -> serde_json::Value {
    serde_json::json!({
        "cclocal_version": env!("CARGO_PKG_VERSION"),
        "findings": findings.iter().map(|(_, f)| f).collect::<Vec<_>>(),
        "facts": facts,
    })
}

fn paint(s: &str, sev: Severity, colour: bool) -> String {
    if !colour {
        return s.to_string();
    }
    let code = match sev {
        Severity::Ok | Severity::Info => "32",
        Severity::Warning => "33",
        Severity::Error => "31",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn section_line(s: Section, f: &Facts) -> Option<String> {
    Some(match s {
        Section::Machine => {
            let m = &f.machine;
            let budget = m
                .budget
                .as_ref()
                .map(|b| format!(", budget {} ({})", human(b.bytes), b.note))
                .unwrap_or_default();
            format!(
                "Machine ({} {}, {} CPUs, {} RAM{budget})",
                m.os,
                m.arch,
                m.cpus,
                human(m.ram_bytes)
            )
        }
        Section::Claude => {
            let c = f.claude.as_ref()?;
            let via = c
                .launcher
                .as_deref()
                .map(|l| format!(", started by the launcher {l}"))
                .unwrap_or_default();
            match (&c.path, c.version) {
                (None, _) => "Claude Code (not found)".into(),
                (Some(p), Some(v)) => format!("Claude Code {v} ({p}{via})"),
                (Some(p), None) => format!("Claude Code, version unknown ({p}{via})"),
            }
        }
        Section::Server => {
            let s = &f.server;
            let what = if !s.checked {
                "not checked".to_string()
            } else if !s.reachable {
                "unreachable".to_string()
            } else {
                match s.kind {
                    Some(ServerKind::Ollama) => format!(
                        "Ollama {}, {} model(s) installed, {} loaded",
                        s.version.clone().unwrap_or_else(|| "?".into()),
                        s.installed.len(),
                        s.loaded.len()
                    ),
                    Some(ServerKind::Unknown) | None => format!(
                        "not a known LLM server: {}",
                        s.answered.clone().unwrap_or_else(|| "unrecognised".into())
                    ),
                    Some(k) if s.loading => format!("{}, loading its model", k.label()),
                    Some(k) => {
                        let v = s
                            .version
                            .as_deref()
                            .map(|v| format!(" {v}"))
                            .unwrap_or_default();
                        match &s.backend {
                            Some(b) if k == ServerKind::LmStudio => format!(
                                "{}{v}, {} model(s) loaded of {}",
                                k.label(),
                                b.loaded().count(),
                                b.models.len()
                            ),
                            _ => {
                                format!("{}{v}, serving {} model(s)", k.label(), s.installed.len())
                            }
                        }
                    }
                }
            };
            format!(
                "Server {} ({what}{})",
                s.url,
                if s.local { "" } else { ", remote" }
            )
        }
        Section::Model => {
            let m = f.model.as_ref()?;
            let ctx = m
                .served_context
                .map(|c| format!(", served at {c} tokens"))
                .unwrap_or_default();
            let tr = m
                .trained_context
                .map(|c| format!(", trained {c}"))
                .unwrap_or_default();
            format!(
                "Model {} ({}{ctx}{tr})",
                m.name,
                m.architecture
                    .clone()
                    .or_else(|| m.format.clone())
                    .unwrap_or_else(|| "?".into())
            )
        }
        Section::ServerConfig => {
            let c = f.server_config.as_ref()?;
            let src = c
                .env_source
                .clone()
                .unwrap_or_else(|| "environment unknown".into());
            format!("Ollama service configuration ({src})")
        }
    })
}

fn facts_lines(s: Section, f: &Facts) -> Vec<String> {
    let mut v = Vec::new();
    match s {
        Section::Machine => {
            if let Some(d) = &f.machine.devices {
                v.extend(d.iter().map(|d| format!("device: {d}")));
            } else {
                v.push("devices: not inspected (built without the llama.cpp runtime)".into());
            }
        }
        Section::Claude => {
            if let Some(c) = &f.claude {
                v.extend(c.files.iter().map(|p| format!("read {p}")));
                // A file that could not be read is a finding (claude_config_unreadable),
                // shown once there.
                v.extend(c.env.iter().map(|(k, val)| match c.env_sources.get(k) {
                    Some(src) => format!("{k}={val}   (from {src})"),
                    None => format!("{k}={val}"),
                }));
                if let Some(m) = &c.model {
                    v.push(format!(
                        "model {m} (from {})",
                        c.model_source.clone().unwrap_or_default()
                    ));
                }
            }
        }
        Section::Server => {
            let s = &f.server;
            v.push(format!("URL from {}", s.url_source));
            if let Some(k) = s.kind {
                v.push(format!(
                    "kind {} ({})",
                    k.name(),
                    s.kind_source.clone().unwrap_or_default()
                ));
            }
            v.extend(s.detection.iter().map(|d| format!("detection: {d}")));
            if let Some(l) = &s.llama {
                v.push(format!(
                    "llama-server {}: {} slot(s) of {} tokens{}{}",
                    l.build_info.clone().unwrap_or_else(|| "?".into()),
                    l.total_slots
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into()),
                    l.slot_context
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into()),
                    l.model_path
                        .as_deref()
                        .map(|p| format!(", model {p}"))
                        .unwrap_or_default(),
                    if l.router { ", router mode" } else { "" }
                ));
                v.extend(
                    l.router_models
                        .iter()
                        .map(|(m, st)| format!("router model {m} ({st})")),
                );
            }
            if let Some(b) = &s.backend {
                v.push(format!("models from {}", b.sources.join(", ")));
                v.extend(b.models.iter().map(|m| {
                    format!(
                        "{} {}{}{}{}",
                        if m.loaded { "loaded" } else { "available" },
                        m.id,
                        m.context
                            .map(|c| format!(", context {c}"))
                            .unwrap_or_default(),
                        m.trained_context
                            .map(|c| format!(", trained {c}"))
                            .unwrap_or_default(),
                        m.format
                            .as_deref()
                            .map(|x| format!(", {x}"))
                            .unwrap_or_default()
                    )
                }));
            }
            if let Some(c) = &s.llama_command {
                v.push(format!("process {}: {}", c.pid, c.args.join(" ")));
                v.extend(
                    c.env
                        .iter()
                        .map(|(k, val)| format!("process env {k}={val}")),
                );
            }
            if let Some(ms) = s.latency_ms {
                v.push(format!("first byte after {ms} ms"));
            }
            v.extend(s.installed.iter().filter(|_| s.backend.is_none()).map(|m| {
                if m.size == 0 && m.quantization_level.is_empty() {
                    format!("serves {}", m.name)
                } else {
                    format!(
                        "installed {} ({}, {})",
                        m.name,
                        human(m.size),
                        m.quantization_level
                    )
                }
            }));
            v.extend(s.loaded.iter().map(|m| {
                format!(
                    "loaded {} (context {}, {} of {} on the GPU, until {})",
                    m.name,
                    m.context_length
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "?".into()),
                    human(m.size_vram),
                    human(m.size),
                    m.expires_at
                )
            }));
            v.extend(
                s.models
                    .iter()
                    .map(|m| format!("{} model {}: {:?} ({})", m.role, m.name, m.presence, m.why)),
            );
        }
        Section::Model => {
            if let Some(mem) = f.model.as_ref().and_then(|m| m.memory.as_ref()) {
                v.push(format!(
                    "memory at {} tokens: {} total, KV {} {} ({})",
                    mem.n_ctx,
                    human(mem.total_bytes),
                    human(mem.kv_bytes),
                    mem.kv_type,
                    if mem.measured {
                        "measured by the embedded llama.cpp"
                    } else {
                        "planned; compute buffers estimated"
                    }
                ));
            }
            if let Some(e) = f.model.as_ref().and_then(|m| m.error.as_ref()) {
                v.push(format!("could not describe the model: {e}"));
            }
        }
        Section::ServerConfig => {
            if let Some(c) = &f.server_config {
                v.extend(c.env.iter().map(|(k, val)| format!("{k}={val}")));
                if let Some(ctx) = c.app_context_length {
                    v.push(format!("Ollama app context_length {ctx}"));
                }
                v.extend(c.notes.iter().cloned());
            }
        }
    }
    v
}

/// Whether the doctor could look at a section at all (a section it could not look at shows
/// `[-]`, never `[✓]`).
fn section_checked(s: Section, f: &Facts) -> bool {
    match s {
        Section::Machine => true,
        Section::Claude => f.claude.as_ref().is_some_and(|c| c.path.is_some()),
        Section::Server => f.server.checked && f.server.reachable,
        Section::Model => f.model.as_ref().is_some_and(|m| m.error.is_none()),
        Section::ServerConfig => f.server_config.as_ref().is_some_and(|c| {
            c.env_source.is_some() || c.app_context_length.is_some() || c.app_expose.is_some()
        }),
    }
}

/// `cclocal setup` never ran here: no `config.toml` and no launcher in the environment.
fn setup_never_ran(f: &Facts) -> bool {
    f.setup.is_none() && !f.claude.as_ref().is_some_and(|c| c.launcher.is_some())
}

/// The typical turn's line (`predict::quote::sentence`), or how to get it when no rates are
/// known for the model; `None` without a model.
pub fn turn_line(f: &Facts) -> Option<String> {
    match &f.turn_time {
        Some(q) => Some(crate::predict::quote::sentence(q)),
        None => super::probe::bench_arg(f).map(|m| {
            let hint = crate::predict::quote::hint_for(&m, f.server.kind, Some(&f.server.url));
            match super::probe::log_rates_missing(f) {
                Some(why) => format!("turn time: {why}; {hint}"),
                None => format!("turn time: {hint}"),
            }
        }),
    }
}

/// The human report.
pub fn human_report(
    facts: &Facts,
    findings: &[(Section, Finding)],
    verbose: bool,
    colour: bool,
) -> String {
    let mut out = String::new();
    if !verbose {
        out.push_str("Doctor summary (to see all details, run cclocal doctor -v):\n");
    }
    let sections = [
        Section::Machine,
        Section::Claude,
        Section::Server,
        Section::Model,
        Section::ServerConfig,
    ];
    let mut problem_sections = 0;
    for s in sections {
        let mine: Vec<&Finding> = findings
            .iter()
            .filter(|(x, _)| *x == s)
            .map(|(_, f)| f)
            .collect();
        let line = match section_line(s, facts) {
            Some(l) => l,
            None if mine.is_empty() => continue,
            None => format!("{s:?}"),
        };
        let worst = mine
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok);
        if worst >= Severity::Warning {
            problem_sections += 1;
        }
        // ✓ only for a section that was checked: "environment unknown" is not a pass.
        let glyph = if worst == Severity::Ok && !section_checked(s, facts) {
            "-"
        } else {
            worst.glyph()
        };
        let _ = writeln!(out, "[{}] {}", paint(glyph, worst, colour), clean(&line));
        if verbose {
            for l in facts_lines(s, facts) {
                let _ = writeln!(out, "    • {}", clean(&l));
            }
        }
        for f in mine {
            let g = if f.severity == Severity::Info {
                "•"
            } else {
                f.severity.glyph()
            };
            let _ = writeln!(
                out,
                "    {} {} [{}]",
                paint(g, f.severity, colour),
                clean(&f.title),
                clean(f.id)
            );
            if verbose || f.severity >= Severity::Warning {
                if !f.detail.is_empty() {
                    let _ = writeln!(out, "        {}", clean_text(&f.detail));
                }
                if !f.fix.is_empty() {
                    let _ = writeln!(out, "        fix: {}", clean_text(&f.fix));
                }
            }
        }
    }
    if let Some(line) = turn_line(facts) {
        let _ = writeln!(
            out,
            "{} {}",
            paint("•", Severity::Info, colour),
            clean(&line)
        );
    }
    let errors = findings
        .iter()
        .filter(|(_, f)| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|(_, f)| f.severity == Severity::Warning)
        .count();
    // Nothing of cclocal's on this machine yet: one command applies the fixes as a whole.
    if errors + warnings > 0 && setup_never_ran(facts) {
        let _ = writeln!(
            out,
            "{} cclocal has not set this machine up yet: `cclocal setup` writes the launcher, Claude Code settings and server configuration for this server and model (`cclocal setup --dry-run` shows every change first)",
            paint("•", Severity::Info, colour)
        );
    }
    out.push('\n');
    if errors + warnings == 0 {
        out.push_str("• No issues found!\n");
    } else {
        let sev = if errors > 0 {
            Severity::Error
        } else {
            Severity::Warning
        };
        let _ = writeln!(
            out,
            "{} Doctor found issues in {problem_sections} categor{}: {errors} error(s), {warnings} warning(s).",
            paint("!", sev, colour),
            if problem_sections == 1 { "y" } else { "ies" }
        );
    }
    out
}
