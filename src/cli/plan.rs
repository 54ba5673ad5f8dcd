//! `cclocal plan MODEL`: memory per context length and cache type, the largest context
//! that fits, and the Claude Code settings that follow.

use super::args;
use crate::claude::Version;
use crate::error::{Error, Result};
use crate::memory::{parse_cache_type, Budget, CacheParams, PlanRow};
use crate::model::{ModelDesc, ModelSource};
use crate::planner::{self, ClaudeAdvice, Outcome, Planned, Problem};
use crate::runtime::detect_budget;
use crate::units::{human, mib, tokens};
use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// A .gguf file (split models: any shard) or an Ollama model name (qwen3-coder:30b).
    /// Optional with --host: the model that server serves (llama-server's `/props`
    /// `model_path`, when the file is on this machine).
    #[arg(required_unless_present = "host")]
    pub model: Option<String>,
    /// Context length to show (repeatable; 32768 or 32K). Default: 8K, 16K, … up to the
    /// trained context, plus the fitted value.
    #[arg(long, value_name = args::TOKENS, value_parser = args::ctx, value_delimiter = ',')]
    pub ctx: Vec<u64>,
    #[command(flatten)]
    pub kv: args::KvArgs,
    /// Parallel sequences (llama-server -np / OLLAMA_NUM_PARALLEL).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallel: u32,
    #[command(flatten)]
    pub ubatch: args::UbatchArgs,
    #[command(flatten)]
    pub budget: args::MemoryArgs,
    #[command(flatten)]
    pub claude: args::ClaudeVersionArgs,
    // The server to describe the model from when it is not in the local store (an
    // Ollama server's /api/show); an LM Studio or vLLM server there gets its own start line.
    #[command(flatten)]
    pub host: args::HostArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also measure every row with the embedded llama.cpp (model loaded without weights).
    #[arg(long)]
    pub measure: bool,
}

/// Everything `plan` computed, before formatting.
pub struct Plan {
    pub model: ModelDesc,
    /// The local files (None: described by the server).
    pub source: Option<ModelSource>,
    /// Where the description came from.
    pub described_from: String,
    pub budget: Budget,
    pub params: CacheParams,
    pub rows: Vec<PlanRow>,
    /// The planner's decision (`crate::planner`): the same one setup makes.
    pub planned: Planned,
    pub claude: Option<ClaudeAdvice>,
    pub claude_version: Version,
    pub claude_version_source: &'static str,
    /// llama.cpp's own figures per row (`--measure`), else empty.
    pub measured: Vec<crate::runtime::Measured>,
    /// `--host` names an LM Studio server: the `lms load … --context-length N` line setup's
    /// script runs for the planned context (the planner's one generator).
    pub server_command: Option<String>,
    /// The server asked about a model that is not local, and where its address came from
    /// (`crate::server::resolve`).
    pub server_url: Option<String>,
    pub server_url_source: &'static str,
}

impl Plan {
    /// The (n_ctx, kv type) to serve, when it fits.
    pub fn recommended(&self) -> Option<(u64, String)> {
        self.planned
            .choice()
            .map(|c| (c.row.n_ctx, c.row.kv_type.clone()))
    }
}

/// The server `plan` asks about a model that is not local: the one order every command uses
/// (`crate::server::resolve`: `--host`, `ANTHROPIC_BASE_URL`, config.toml, `OLLAMA_HOST`,
/// Ollama's default address).
fn server_url(args: &PlanArgs) -> Result<(Option<String>, &'static str)> {
    let (url, shown, source) = crate::setup::resolve::server(args.host.host.as_deref(), None, None);
    let url = url.map_err(|e| {
        let mut err =
            Error::new(e.kind, format!("{}: {}", source.name(), e.message)).with_subject(shown);
        err.hint = e.hint;
        err
    })?;
    crate::setup::choices::normalize_server(&url.to_url()).map(|(u, _)| (Some(u), source.name()))
}

/// The model to plan and its description: MODEL (a file, the Ollama store, or the server's
/// `/api/show`), else, or when the server serves it under that name, the GGUF the server at
/// `--host` serves from this machine (llama-server's `/props` `model_path`).
fn describe(args: &PlanArgs, server: Option<&str>) -> Result<(String, crate::model::Described)> {
    if let Some(m) = &args.model {
        let err = match crate::model::describe_model(m, server) {
            Ok(d) => return Ok((m.clone(), d)),
            Err(e) => e,
        };
        return match args.host.host.as_deref() {
            Some(host) => match from_served(host, Some(m)) {
                Ok(found) => Ok(found),
                Err(served_err) => Err(not_plannable(host, m, err, served_err)),
            },
            None => Err(err),
        };
    }
    let host = args.host.host.as_deref().ok_or_else(|| {
        Error::usage("no model given")
            .with_hint("pass MODEL (a .gguf file or an Ollama name), or --host URL to plan what that server serves")
    })?;
    from_served(host, None)
}

/// The error for MODEL that is neither a file here nor known to Ollama, with `--host` naming
/// a server: the Ollama error (`ollama pull …`) only where that server is Ollama; for any
/// other kind, what `plan` needs (the GGUF) and how to measure the model there instead
/// (`bench --host`), since `ollama pull` cannot work for it.
fn not_plannable(host: &str, model: &str, ollama_err: Error, served_err: Error) -> Error {
    use crate::server::ServerKind;
    let kind = crate::server::ServerUrl::parse_for(host, None)
        .ok()
        .map(|u| u.reachable())
        .and_then(|u| {
            let client = crate::server::http::Client::with_deadline(
                u,
                std::time::Instant::now() + std::time::Duration::from_secs(3),
            );
            crate::server::detect::detect(&client, None).kind
        });
    match kind {
        None | Some(ServerKind::Ollama) => ollama_err,
        Some(k) => Error::not_found(format!(
            "cannot plan {model}: it is not a .gguf file here, and {} does not serve it from a GGUF file on this machine ({})",
            k.label(),
            served_err.message
        ))
        .with_subject(host.to_string())
        .with_hint(format!(
            "pass the model's .gguf path to plan its memory; to measure how fast that server runs it: cclocal bench --host {host} --model {}",
            crate::shell::quote::sh_quote(model)
        )),
    }
}

/// The model a running server serves, read from its GGUF on this machine.
fn from_served(host: &str, model: Option<&str>) -> Result<(String, crate::model::Described)> {
    let s = crate::server::served_model(host, None, model, std::time::Duration::from_secs(5))?;
    let Some(path) = s.gguf_path.clone() else {
        return Err(Error::not_found(format!(
            "{} at {} serves {}, but its GGUF file is not on this machine",
            s.kind.label(),
            s.url,
            if s.name.is_empty() {
                "a model"
            } else {
                &s.name
            }
        ))
        .with_hint(
            "run `cclocal plan --host URL` on the server's machine, or pass the GGUF path as MODEL",
        ));
    };
    let (desc, source) = crate::model::load_model(&path.display().to_string())?;
    let name = if s.name.is_empty() {
        desc.name.clone()
    } else {
        s.name.clone()
    };
    Ok((
        name,
        crate::model::Described {
            desc,
            from: format!(
                "{} (served by {} at {})",
                path.display(),
                s.kind.label(),
                s.url
            ),
            source: Some(source),
        },
    ))
}

/// The kind of server `--host` names when it is one whose start line `plan` prints (LM
/// Studio, vLLM), with its address; `None` for Ollama, llama-server, or no answer.
fn backend_at(args: &PlanArgs) -> Option<(crate::server::ServerKind, crate::server::ServerUrl)> {
    use crate::server::ServerKind;
    let host = args.host.host.as_deref()?;
    let url = crate::server::ServerUrl::parse_for(host, None)
        .ok()?
        .reachable();
    let client = crate::server::http::Client::with_deadline(
        url.clone(),
        std::time::Instant::now() + std::time::Duration::from_secs(3),
    );
    let kind = crate::server::detect::detect(&client, None).kind?;
    matches!(
        kind,
        ServerKind::LmStudio | ServerKind::Vllm | ServerKind::VllmMlx
    )
    .then_some((kind, url))
}

/// LM Studio's model `key` as a GGUF file to plan from: the file the running server names,
/// else the folder named by the key in LM Studio's models folder (as setup finds it).
fn lmstudio_gguf(url: &crate::server::ServerUrl, key: &str) -> Option<String> {
    let served = crate::server::served_model(
        &url.to_url(),
        Some(crate::server::ServerKind::LmStudio),
        Some(key),
        std::time::Duration::from_secs(3),
    )
    .ok();
    if served
        .as_ref()
        .and_then(|s| s.format.as_deref())
        .is_some_and(|f| f == "mlx")
    {
        return None;
    }
    let home = crate::paths::Paths::from_env().ok()?.home;
    served
        .and_then(|s| s.gguf_path)
        .or_else(|| {
            url.is_local()
                .then(|| crate::server::lmstudio::serve::local_gguf(&home, key))
                .flatten()
        })
        .map(|p| p.display().to_string())
}

/// Computes the plan; `backend` is the LM Studio or vLLM server `--host` names.
pub fn compute(
    args: &PlanArgs,
    backend: Option<(crate::server::ServerKind, crate::server::ServerUrl)>,
) -> Result<Plan> {
    let (server, server_url_source) = server_url(args)?;
    // LM Studio: plan from the key's GGUF, with LM Studio's default f16 KV cache (as setup).
    let lmstudio = backend
        .as_ref()
        .filter(|(k, _)| *k == crate::server::ServerKind::LmStudio)
        .map(|(_, u)| u.clone());
    let mut kv_type: Vec<String> = args.kv.kv_type.iter().map(|k| k.name().into()).collect();
    let (model_name, described) = match (&lmstudio, &args.model) {
        (Some(u), Some(m)) => {
            let model_arg = if std::path::Path::new(m).is_file() {
                m.clone()
            } else {
                lmstudio_gguf(u, m).ok_or_else(|| {
                    Error::usage(format!(
                        "cannot plan {m}: no GGUF for it in LM Studio's models folder, and LM Studio does not name one"
                    ))
                    .with_hint("pass the model's .gguf path, or run the plan on the machine LM Studio runs on")
                })?
            };
            if let (true, Some(t)) = (
                kv_type.is_empty(),
                crate::planner::kinds::planned_kv_type(crate::server::ServerKind::LmStudio),
            ) {
                kv_type.push(t.name().into());
            }
            (
                m.clone(),
                crate::model::describe_model(&model_arg, server.as_deref())?,
            )
        }
        _ => describe(args, server.as_deref())?,
    };
    let model = described.desc;
    let budget = detect_budget(args.budget.memory, args.budget.mac_ram);
    let mut params = CacheParams::new(0);
    params.n_seq = args.parallel;
    params.n_ubatch = args.ubatch.ubatch;
    params.flash_attn = args.kv.one_flash_attn()?.unwrap_or(true);

    // The context to serve: the one named, the largest named one that fits, or the
    // largest that fits.
    let mut named: Vec<u64> = args.ctx.clone();
    named.sort_unstable();
    named.dedup();
    let request = |ctx: Option<u64>| planner::Request {
        params,
        kv_types: kv_type.clone(),
        ctx,
    };
    let planned = match named.as_slice() {
        [] => planner::plan(&model, &budget, &request(None))?,
        [one] => planner::plan(&model, &budget, &request(Some(*one)))?,
        many => {
            let mut first = None;
            let mut found = None;
            for c in many.iter().rev() {
                let p = planner::plan(&model, &budget, &request(Some(*c)))?;
                if p.choice().is_some() {
                    found = Some(p);
                    break;
                }
                first.get_or_insert(p);
            }
            match found.or(first) {
                Some(p) => p,
                None => planner::plan(&model, &budget, &request(None))?,
            }
        }
    };
    let rows = planner::rows(&model, &budget, &params, &planned, &named)?;
    let row_params = rows
        .iter()
        .map(|r| {
            Ok(CacheParams {
                n_ctx: r.n_ctx,
                ..params.with_cache_type(parse_cache_type(&r.kv_type)?)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let measured = match (&described.source, args.measure) {
        (Some(source), true) => super::plan_measure::measure_rows(source, &row_params)?,
        (None, true) => {
            return Err(Error::usage(format!(
                "--measure needs the model's file, and {} is not on this machine",
                model_name
            ))
            .with_hint("run the plan on the server host, or pass a .gguf path"))
        }
        _ => Vec::new(),
    };
    let (claude_version, source) =
        crate::setup::resolve::claude_version(args.claude.claude_version)?;
    let claude_version_source = source.name();
    // Each sequence (server slot) gets n_ctx / n_seq tokens.
    let claude = planned
        .choice()
        .map(|c| planner::advise_version(claude_version, c.per_sequence(), &model_name));
    let server_command = lmstudio.and_then(|_| {
        let c = planned.choice()?;
        let gpu = budget.gpu || cfg!(target_os = "macos");
        Some(planner::lms_load_line(&model_name, c.per_sequence(), gpu))
    });
    Ok(Plan {
        server_command,
        server_url: server.clone(),
        server_url_source,
        model,
        source: described.source,
        described_from: described.from,
        budget,
        params,
        rows,
        planned,
        claude,
        claude_version,
        claude_version_source,
        measured,
    })
}

fn problem_json(p: &Option<Problem>) -> serde_json::Value {
    p.as_ref()
        .map(|p| json!({"what": p.what, "would": p.would}))
        .unwrap_or(serde_json::Value::Null)
}

/// The JSON document (the contract other tools read: add fields, never rename).
pub fn to_json(plan: &Plan) -> serde_json::Value {
    let m = &plan.model;
    let choice = plan.planned.choice();
    let does_not_fit = match &plan.planned.outcome {
        Outcome::DoesNotFit { requested, largest } => json!({
            "n_ctx": requested,
            "largest_that_fits": largest.as_ref().map(|c| json!({"n_ctx": c.row.n_ctx, "kv_type": c.row.kv_type})),
        }),
        _ => serde_json::Value::Null,
    };
    let claude = match &plan.claude {
        Some(ClaudeAdvice::Settings { env, rec, .. }) => json!({
            "version": rec.version,
            "version_source": plan.claude_version_source,
            "served_context": rec.served_context,
            "env": env,
            "effective_window": rec.calc.effective_window,
            "autocompact_threshold": rec.calc.autocompact_threshold,
            "blocking_limit": rec.calc.blocking_limit,
            "proactive": rec.calc.proactive,
            "notes": planner::context_notes(rec, Some(m.context_length)),
        }),
        _ => serde_json::Value::Null,
    };
    let claude_problem = match &plan.claude {
        Some(ClaudeAdvice::Impossible { why, would, .. }) => json!({"what": why, "would": would}),
        _ => serde_json::Value::Null,
    };
    let mut v = json!({
        "model": {
            "name": m.name,
            "architecture": m.architecture,
            "context_length": m.context_length,
            "block_count": m.block_count,
            "weights_bytes": m.weights_bytes,
            "token_embd_bytes": m.token_embd_bytes,
            "kv_layers": m.kv_layers(),
            "recurrent_layers": m.recurrent_layers(),
            "swa_layers": m.layers.iter().filter(|l| l.kv && l.swa).count(),
            "sliding_window": m.sliding_window,
            "mla": m.is_mla,
            "approximate": m.approximate,
            "source": plan.source,
            "described_from": plan.described_from,
        },
        "budget": plan.budget,
        "params": {
            "parallel": plan.params.n_seq,
            "ubatch": plan.params.n_ubatch,
            "flash_attn": plan.params.flash_attn,
            "margin_bytes": crate::memory::MARGIN_BYTES,
        },
        "rows": plan.rows.iter().map(|r| json!({
            "n_ctx": r.n_ctx,
            "kv_type": r.kv_type,
            "kv_bytes": r.kv_bytes,
            "recurrent_bytes": r.recurrent_bytes,
            "compute_bytes": r.compute_bytes,
            "output_bytes": r.output_bytes,
            "weights_bytes": r.weights_bytes,
            "total_bytes": r.total_bytes,
            "fits": r.fits,
            "caches": r.kv.caches,
        })).collect::<Vec<_>>(),
        "fitted": plan.planned.fitted.iter().map(|f| json!({"kv_type": f.kv_type, "n_ctx": f.row.as_ref().map(|r| r.n_ctx)})).collect::<Vec<_>>(),
        "recommended": choice.map(|c| json!({"n_ctx": c.row.n_ctx, "kv_type": c.row.kv_type})),
        "does_not_fit": does_not_fit,
        "server": choice.filter(|_| plan.planned.problem.is_none()).map(|c| {
            let s = server_settings(c);
            json!({
                "ollama_env": ollama_takes(c).then(|| planner::ollama_env(&s).into_iter().collect::<std::collections::BTreeMap<_, _>>()),
                "llama_server_args": planner::llama_server_args(&s),
            })
        }),
        "server_command": plan.server_command,
        "server_url": plan.server_url,
        "server_url_source": plan.server_url_source,
        "warnings": plan.planned.warnings,
        "problem": problem_json(&plan.planned.problem),
        "claude": claude,
        "claude_problem": claude_problem,
    });
    super::plan_measure::add_json(&mut v, &plan.measured);
    v
}

/// Whether Ollama takes the choice's cache type (setup refuses the others for Ollama).
fn ollama_takes(c: &planner::Choice) -> bool {
    c.row
        .kv_type
        .parse::<planner::KvType>()
        .is_ok_and(planner::KvType::ollama_takes)
}

/// The settings setup would write for a choice (with setup's default keep-alive).
fn server_settings(c: &planner::Choice) -> planner::ServerSettings {
    planner::ServerSettings {
        keep_alive: Some(planner::DEFAULT_KEEP_ALIVE.into()),
        ..c.settings.clone()
    }
}

/// The human report.
pub fn to_text(plan: &Plan) -> String {
    use std::fmt::Write;
    let m = &plan.model;
    let mut s = String::new();
    let mut layers = format!("{} layers", m.block_count);
    let mut parts = vec![format!("{} KV", m.kv_layers())];
    let swa = m.layers.iter().filter(|l| l.kv && l.swa).count();
    if swa > 0 {
        parts.push(format!("{swa} of them sliding-window {}", m.sliding_window));
    }
    if m.recurrent_layers() > 0 {
        parts.push(format!("{} recurrent", m.recurrent_layers()));
    }
    if m.is_mla {
        parts.push("MLA".into());
    }
    let _ = write!(layers, " ({})", parts.join(", "));
    let _ = writeln!(
        s,
        "Model   {} · {} · {layers} · trained context {}",
        m.name, m.architecture, m.context_length
    );
    if plan.source.is_none() {
        let _ = writeln!(s, "        described by {}", plan.described_from);
    }
    let _ = writeln!(
        s,
        "Weights {} ({} on the GPU when fully offloaded)",
        human(m.weights_bytes),
        human(m.weights_on_device())
    );
    let est = if plan.budget.estimated {
        ", estimated"
    } else {
        ""
    };
    let source = serde_json::to_value(plan.budget.source)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "Budget  {} ({source}{est}: {})",
        human(plan.budget.bytes),
        plan.budget.note
    );
    if let Some(a) = &m.approximate {
        let _ = writeln!(s, "Note    {a}");
    }
    let _ = writeln!(
        s,
        "        {} sequence(s), n_ubatch {}, flash attention {}, {} safety margin\n",
        plan.params.n_seq,
        plan.params.n_ubatch,
        if plan.params.flash_attn { "on" } else { "off" },
        human(crate::memory::MARGIN_BYTES)
    );
    let _ = writeln!(
        s,
        "{:>9}  {:<6} {:>12} {:>12} {:>12} {:>11}  fits",
        "context", "KV", "KV cache", "recurrent", "compute*", "total"
    );
    let recommended = plan.recommended();
    for r in &plan.rows {
        let mark = if recommended.as_ref() == Some(&(r.n_ctx, r.kv_type.clone())) {
            " ← recommended"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{:>9}  {:<6} {:>12} {:>12} {:>12} {:>11}  {}{mark}",
            r.n_ctx,
            r.kv_type,
            mib(r.kv_bytes),
            mib(r.recurrent_bytes),
            mib(r.compute_bytes),
            human(r.total_bytes),
            if r.fits { "✓" } else { "✗" }
        );
    }
    let _ = writeln!(s, "  * compute and output buffers are estimates; total = weights + KV + recurrent + compute + output");
    s += &super::plan_measure::text(&plan.rows, &plan.measured);
    let _ = writeln!(s);
    for f in &plan.planned.fitted {
        match &f.row {
            Some(r) => {
                // The short form only where it says something else (32768 (32K), not
                // 55808 (55808)).
                let short = tokens(r.n_ctx);
                let short = if short == r.n_ctx.to_string() {
                    String::new()
                } else {
                    format!(" ({short})")
                };
                let _ = writeln!(
                    s,
                    "Largest context that fits with {}: {}{short}",
                    f.kv_type, r.n_ctx
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "With {} not even 256 tokens fit: the weights alone exceed the budget",
                    f.kv_type
                );
            }
        }
    }
    for w in &plan.planned.warnings {
        let _ = writeln!(s, "\nwarning: {w}");
    }
    match &plan.planned.outcome {
        // No settings for what cannot work: setup refuses them (see "No setting can work").
        Outcome::Serve(c) if plan.planned.problem.is_some() => {
            let _ = writeln!(
                s,
                "\nIt fits: n_ctx {}, KV cache {}, but no setting can work (below), so none is printed",
                c.row.n_ctx, c.row.kv_type
            );
        }
        Outcome::Serve(c) => {
            let settings = server_settings(c);
            let _ = writeln!(
                s,
                "\nRecommended: n_ctx {}, KV cache {}",
                c.row.n_ctx, c.row.kv_type
            );
            if let Some(line) = &plan.server_command {
                // The server --host names: its own line only.
                let _ = writeln!(s, "  LM Studio:    {line}");
            } else {
                if ollama_takes(c) {
                    let _ = writeln!(
                        s,
                        "  Ollama:       {}",
                        planner::env_words(&planner::ollama_env(&settings))
                    );
                } else {
                    let _ = writeln!(
                        s,
                        "  Ollama:       none: Ollama takes only KV cache types {}",
                        planner::KvType::OLLAMA.map(|t| t.name()).join(", ")
                    );
                }
                let _ = writeln!(
                    s,
                    "  llama-server: {}",
                    planner::llama_server_args(&settings).join(" ")
                );
            }
        }
        Outcome::DoesNotFit { requested, largest } => {
            let _ = writeln!(
                s,
                "\nn_ctx {requested} does not fit in {} with any of {}.",
                human(plan.budget.bytes),
                plan.planned
                    .fitted
                    .iter()
                    .map(|f| f.kv_type.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(l) = largest {
                let _ = writeln!(
                    s,
                    "What fits: n_ctx {} with KV cache {} (`cclocal plan {} --ctx {}` shows its settings).",
                    l.row.n_ctx, l.row.kv_type, m.name, l.row.n_ctx
                );
            }
        }
        Outcome::NothingFits => {}
    }
    match &plan.claude {
        Some(ClaudeAdvice::Settings { rec, .. }) => {
            let _ = writeln!(
                s,
                "\nClaude Code {} ({}): window {} tokens, compacts at {} (effectiveWindow={}: the window minus the output reserve)",
                rec.version,
                plan.claude_version_source,
                rec.calc.window,
                rec.calc.autocompact_threshold,
                rec.calc.effective_window
            );
            for (k, v) in &rec.env {
                let _ = writeln!(s, "  export {k}={v}");
            }
            for n in planner::context_notes(rec, Some(m.context_length)) {
                let _ = writeln!(s, "  note: {n}");
            }
        }
        Some(ClaudeAdvice::Impossible { why, would, .. }) if plan.planned.problem.is_none() => {
            let _ = writeln!(
                s,
                "\nClaude Code {}: no setting can work: {why}; {would}.",
                plan.claude_version
            );
        }
        _ => {}
    }
    if let Some(p) = &plan.planned.problem {
        let _ = writeln!(
            s,
            "\nNo setting can work: {}.\nWhat would: {}.",
            p.what, p.would
        );
    } else if matches!(plan.planned.outcome, Outcome::NothingFits) {
        let _ = writeln!(s, "\nNothing fits this budget: use a smaller quantisation of the model, or plan for a machine with more memory (--memory, --mac-ram).");
    }
    s
}

pub fn run(args: &PlanArgs, _verbose: bool) -> Result<i32> {
    crate::runtime::set_verbose(_verbose);
    if let Some(h) = &args.host.host {
        // A server that never answers is named as timed out (not "not in the Ollama store").
        crate::server::check_answers(h, None, crate::server::ANSWER_TIMEOUT)?;
    }
    let backend = backend_at(args);
    if let Some((k @ (crate::server::ServerKind::Vllm | crate::server::ServerKind::VllmMlx), url)) =
        &backend
    {
        return vllm(args, *k, url);
    }
    let plan = compute(args, backend)?;
    if args.json {
        let text = serde_json::to_string_pretty(&to_json(&plan)).map_err(|e| {
            Error::new(
                crate::error::ErrorKind::Io,
                format!("could not encode JSON: {e}"),
            )
        })?;
        crate::tprintln!("{text}");
    } else {
        crate::tprint!("{}", to_text(&plan));
    }
    Ok(0)
}

/// `plan` for a vLLM or vllm-mlx server: they size their KV cache themselves, so cclocal
/// makes no memory plan for them; the serve line setup writes (`--ctx`, else the context
/// the model and server allow) and Claude Code's settings for that context.
fn vllm(
    args: &PlanArgs,
    kind: crate::server::ServerKind,
    url: &crate::server::ServerUrl,
) -> Result<i32> {
    let served = crate::server::served_model(
        &url.to_url(),
        Some(kind),
        args.model.as_deref(),
        std::time::Duration::from_secs(3),
    )
    .ok();
    let model = match &args.model {
        Some(m) => m.clone(),
        None => served
            .as_ref()
            .map(|s| s.name.clone())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                Error::usage("no model given")
                    .with_hint(format!("pass MODEL, the model {} serves", kind.label()))
            })?,
    };
    if args.ctx.len() > 1 {
        return Err(Error::usage(format!(
            "{} is served at one context: give one --ctx",
            kind.label()
        ))
        .with_hint("e.g. --ctx 65536"));
    }
    let serve = crate::planner::serve_line(
        kind,
        served
            .as_ref()
            .and_then(|s| s.model_path.as_deref())
            .unwrap_or(&model),
        &model,
        args.ctx.first().copied(),
        served.as_ref().and_then(|s| s.context),
        url,
    );
    let context = serve.context;
    let line = serve.line.clone();
    let (version, source) = crate::setup::resolve::claude_version(args.claude.claude_version)?;
    let version_source = source.name();
    let advice = planner::advise_version(version, context, &model);
    let notes = serve.notes.clone();
    if args.json {
        let claude = match &advice {
            ClaudeAdvice::Settings { env, rec, .. } => json!({
                "version": rec.version,
                "version_source": version_source,
                "served_context": rec.served_context,
                "env": env,
                "effective_window": rec.calc.effective_window,
                "autocompact_threshold": rec.calc.autocompact_threshold,
            }),
            _ => serde_json::Value::Null,
        };
        let v = json!({
            "model": {"name": args.model},
            "server_kind": kind.name(),
            "server_command": line,
            "context": context,
            "notes": notes,
            "claude": claude,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    crate::tprintln!(
        "{} on {} at {}: context {context} tokens",
        model,
        kind.label(),
        url.to_url()
    );
    for n in &notes {
        crate::tprintln!("note: {n}");
    }
    crate::tprintln!(
        "\nServer command:\n  {:<13} {line}",
        format!("{}:", kind.label())
    );
    match &advice {
        ClaudeAdvice::Settings { rec, .. } => {
            crate::tprintln!(
                "\nClaude Code {} ({version_source}): window {} tokens, compacts at {}",
                rec.version,
                rec.calc.window,
                rec.calc.autocompact_threshold
            );
            for (k, v) in &rec.env {
                crate::tprintln!("  export {k}={v}");
            }
        }
        ClaudeAdvice::Impossible { why, would, .. } => {
            crate::tprintln!("\nClaude Code {version}: no setting can work: {why}; {would}.");
        }
    }
    Ok(0)
}
