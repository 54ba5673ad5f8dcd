//! The interactive wizard (dialoguer, on the terminal's stderr). Every question has a flag;
//! the wizard only runs when a terminal is attached and `--yes` was not given.

use super::choices::{check_keep_alive, normalize_server, Part, OLLAMA_KV_TYPES};
use super::context::{describe_model, table};
use crate::error::{Error, Result};
use crate::memory::Budget;
use crate::units::human;
use dialoguer::{theme::SimpleTheme, Confirm, Input, MultiSelect, Select};
use std::time::Duration;

/// The answers so far (pre-filled from flags and the previous configuration).
#[derive(Debug, Clone)]
pub struct Draft {
    pub server: String,
    pub model: Option<String>,
    pub context: Option<u64>,
    /// None: the planner's choice.
    pub kv_cache_type: Option<String>,
    pub flash_attention: bool,
    pub keep_alive: String,
    pub parts: Vec<Part>,
}

fn io(e: dialoguer::Error) -> Error {
    Error::new(
        crate::error::ErrorKind::Io,
        format!("the prompt failed: {e}"),
    )
    .with_hint("pass the answers as flags with --yes (see `cclocal setup --help`)")
}

/// Asks every question, with the draft's values as defaults.
pub fn ask(d: &mut Draft, budget: &Budget) -> Result<()> {
    let theme = SimpleTheme;
    loop {
        let s: String = Input::with_theme(&theme)
            .with_prompt("Ollama server URL")
            .default(d.server.clone())
            .interact_text()
            .map_err(io)?;
        match normalize_server(&s) {
            Ok((url, _)) => {
                d.server = url;
                break;
            }
            Err(e) => crate::teprintln!("{e}"),
        }
    }
    let installed =
        crate::server::api::list_models(&d.server, Duration::from_secs(3)).unwrap_or_default();
    if installed.is_empty() {
        crate::teprintln!("(no model list from {}/api/tags; type the name)", d.server);
        let m: String = Input::with_theme(&theme)
            .with_prompt("Model")
            .with_initial_text(d.model.clone().unwrap_or_default())
            .interact_text()
            .map_err(io)?;
        d.model = Some(m);
    } else {
        let mut items: Vec<String> = installed
            .iter()
            .map(|(n, s)| format!("{}  ({})", crate::term::clean(n), human(*s)))
            .collect();
        items.push("another name…".into());
        let default = d
            .model
            .as_ref()
            .and_then(|m| installed.iter().position(|(n, _)| n == m))
            .unwrap_or(0);
        let i = Select::with_theme(&theme)
            .with_prompt("Model")
            .items(&items)
            .default(default)
            .interact()
            .map_err(io)?;
        d.model = Some(if i < installed.len() {
            installed[i].0.clone()
        } else {
            Input::with_theme(&theme)
                .with_prompt("Model name")
                .interact_text()
                .map_err(io)?
        });
    }
    // The default is the planner's choice for this model and budget (`cclocal plan`).
    let picked = d.kv_cache_type.clone().or_else(|| {
        let m = describe_model(d.model.as_deref()?, Some(&d.server)).ok()?;
        let p = super::context::planned(&m.desc, None, d.flash_attention, budget, None).ok()?;
        p.choice().map(|c| c.row.kv_type.clone())
    });
    let kv_default = OLLAMA_KV_TYPES
        .iter()
        .position(|t| Some(*t) == picked.as_deref())
        .unwrap_or(1);
    let kv = Select::with_theme(&theme)
        .with_prompt("KV cache type (q8_0 halves the cache's memory at a small quality cost)")
        .items(OLLAMA_KV_TYPES)
        .default(kv_default)
        .interact()
        .map_err(io)?;
    d.kv_cache_type = Some(OLLAMA_KV_TYPES[kv].to_string());
    ask_context(d, budget, &theme)?;
    loop {
        let ka: String = Input::with_theme(&theme)
            .with_prompt("Keep the model loaded for (Go duration; -1 = forever)")
            .default(d.keep_alive.clone())
            .interact_text()
            .map_err(io)?;
        match check_keep_alive(&ka) {
            Ok(()) => {
                d.keep_alive = ka;
                break;
            }
            Err(e) => crate::teprintln!("{e}"),
        }
    }
    let labels = [
        "launcher (~/.local/bin) and Claude Code settings file",
        "Ollama server settings",
        "mark Claude Code's onboarding done in ~/.claude.json",
    ];
    let defaults: Vec<bool> = Part::ALL.iter().map(|p| d.parts.contains(p)).collect();
    let picked = MultiSelect::with_theme(&theme)
        .with_prompt("What to write (space toggles, enter accepts)")
        .items(&labels)
        .defaults(&defaults)
        .interact()
        .map_err(io)?;
    d.parts = picked.into_iter().map(|i| Part::ALL[i]).collect();
    Ok(())
}

fn ask_context(d: &mut Draft, budget: &Budget, theme: &SimpleTheme) -> Result<()> {
    let model = d.model.clone().unwrap_or_default();
    let rows = describe_model(&model, Some(&d.server)).and_then(|m| {
        let kv = d
            .kv_cache_type
            .as_deref()
            .unwrap_or(crate::planner::unknown_budget_kv_type(d.flash_attention).name());
        table(&m.desc, kv, d.flash_attention, budget)
    });
    let (rows, pick) = match rows {
        Ok(r) if !r.0.is_empty() => r,
        Ok(_) | Err(_) => {
            crate::teprintln!("(cclocal cannot read {model}'s metadata here, so it cannot plan the context; type it)");
            // The same parser as --ctx: 32768 or 32K.
            let n: String = Input::with_theme(theme)
                .with_prompt("Context length in tokens (32768 or 32K)")
                .default(d.context.unwrap_or(32_768).to_string())
                .validate_with(|s: &String| crate::units::context_tokens(s).map(|_| ()))
                .interact_text()
                .map_err(io)?;
            d.context = Some(crate::units::context_tokens(&n).map_err(Error::usage)?);
            return Ok(());
        }
    };
    let items: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "{:>7} tokens  KV {:>9}  total {:>9}  {}{}",
                r.n_ctx,
                human(r.kv_bytes),
                human(r.total_bytes),
                if r.fits { "fits" } else { "does not fit" },
                if Some(i) == pick {
                    "  (recommended)"
                } else {
                    ""
                }
            )
        })
        .collect();
    let default = d
        .context
        .and_then(|c| rows.iter().position(|r| r.n_ctx == c))
        .or(pick)
        .unwrap_or(0);
    let i = Select::with_theme(theme)
        .with_prompt(format!("Context (memory budget {})", human(budget.bytes)))
        .items(&items)
        .default(default)
        .interact()
        .map_err(io)?;
    d.context = Some(rows[i].n_ctx);
    Ok(())
}

/// Asks whether to write the plan.
pub fn confirm(prompt: &str) -> Result<bool> {
    Confirm::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .default(true)
        .interact()
        .map_err(io)
}
