//! Rules for llama.cpp's llama-server: slots dividing the context, tool use without
//! Jinja, a build older than the prompt-cache fix for Claude Code's billing header, the
//! KV cache type and flash attention. Fixes are llama-server flags, `LLAMA_ARG_*` values,
//! or the cclocal command that writes them (docs/servers.md "llama-server facts").

use super::{claude_env_fix, push, Section};
use crate::doctor::facts::Facts;
use crate::findings::{Finding, Severity};
use crate::server::ServerKind;

/// The first llama.cpp build whose `/v1/messages` keeps the prompt cache across Claude
/// Code's per-request billing header (llama.cpp PR #21793,
/// https://github.com/ggml-org/llama.cpp/pull/21793).
pub const BILLING_HEADER_FIX_BUILD: u64 = 8906;

pub fn rules(f: &Facts, out: &mut Vec<(Section, Finding)>) {
    let sv = &f.server;
    if sv.kind != Some(ServerKind::LlamaServer) || !sv.reachable || sv.loading {
        return;
    }
    let Some(l) = &sv.llama else { return };
    let cmd = sv.llama_command.as_ref();
    let s = Section::Server;
    // Slots.
    let slots = l.total_slots.unwrap_or(1);
    if let (Some(c), true) = (l.slot_context, slots > 1) {
        let unified = cmd.map(|c| c.unified());
        match unified {
            Some(false) => push(
                out,
                s,
                Finding::graded("llama_slots_split", Severity::Warning, format!("llama-server's {slots} slots divide its context: each Claude Code session gets {c} tokens"))
                    .detail(format!("started with -np {slots}, so -c {} is split into {slots} slots of {c}; one Claude Code session uses one slot", c * slots))
                    .fix(format!("start llama-server with --parallel 1 --ctx-size {}   (LLAMA_ARG_N_PARALLEL=1), or `cclocal setup --server llama-server{}`", c * slots, super::setup_host_arg(f))),
            ),
            Some(true) => push(
                out,
                s,
                Finding::graded("llama_slots_split", Severity::Info, format!("llama-server's {slots} slots share one {c}-token cache"))
                    .detail("with automatic slots (no -np) the slots share one unified KV cache: a session sees the whole context, but parallel requests (subagents, other clients) compete for it")
                    .fix(format!("start llama-server with --parallel 1 --ctx-size {c} to give one session the whole cache")),
            ),
            None => push(
                out,
                s,
                Finding::graded("llama_slots_split", Severity::Info, format!("llama-server has {slots} slots of {c} tokens"))
                    .detail(format!("if it was started with -np {slots}, the context given with -c is divided among the slots (each {c}); without -np the slots share one cache. Its command line is not readable from here"))
                    .fix("start llama-server with --parallel 1 so one Claude Code session gets the whole context"),
            ),
        }
    }
    // Tool use.
    if let Some(c) = cmd.filter(|c| !c.jinja_on()) {
        let how = if c.jinja == Some(false)
            && c.env.contains_key("LLAMA_ARG_JINJA")
            && !c.args.iter().any(|a| a == "--no-jinja")
        {
            "LLAMA_ARG_JINJA turns Jinja off"
        } else {
            "it was started with --no-jinja"
        };
        push(
            out,
            s,
            Finding::of("llama_no_jinja", "llama-server runs without Jinja templates: Claude Code's tool calls fail")
                .detail(format!("{how}; every Claude Code request carries tools, which llama-server then refuses with HTTP 500 \"tools param requires --jinja flag\""))
                .fix("start llama-server with --jinja (and without --no-jinja / LLAMA_ARG_JINJA=false)"),
        );
    } else if l.template_supports_tools == Some(false) {
        push(
            out,
            s,
            Finding::of("llama_template_no_tools", "the model's chat template has no tool support")
                .detail("/props chat_template_caps.supports_tools is false: llama-server drops Claude Code's tool definitions without an error, so the model cannot read files or run commands")
                .fix("start llama-server with --chat-template-file FILE (a template with tool support for this model family), or use a GGUF whose template supports tools"),
        );
    }
    // Build.
    if let Some(b) = l.build.filter(|b| *b < BILLING_HEADER_FIX_BUILD) {
        let env = f.claude_env();
        let off = matches!(
            env.get("CLAUDE_CODE_ATTRIBUTION_HEADER").map(|v| v.trim()),
            Some("0" | "false")
        );
        if !off {
            push(
                out,
                s,
                Finding::of("llama_build_old", format!("llama-server b{b} re-reads the whole prompt on every Claude Code request"))
                    .detail(format!("builds before b{BILLING_HEADER_FIX_BUILD} do not normalise Claude Code's per-request billing header (cch=…), so the prompt cache misses on every turn"))
                    .fix(format!("{}   (or upgrade llama.cpp to b{BILLING_HEADER_FIX_BUILD} or newer)", claude_env_fix(f, "CLAUDE_CODE_ATTRIBUTION_HEADER=0", ""))),
            );
        }
    }
    // KV cache type and flash attention.
    if let (Some(m), Some(c)) = (&f.model, cmd) {
        let kv = crate::planner::kv::name_or_default(m.kv_type.as_deref());
        let fa_off = m.flash_attn.as_deref() == Some("off");
        if let Some(mem) = &m.memory {
            if kv == crate::planner::KvType::DEFAULT.name() && !super::planner_chose_f16(mem) {
                if let Some((t, title, takes)) = super::quantized_kv(mem) {
                    let sev = if mem.fits {
                        Severity::Info
                    } else {
                        Severity::Warning
                    };
                    push(
                        out,
                        Section::Model,
                        Finding::graded("kv_cache_f16", sev, title)
                            .detail(format!("{takes}; the memory saved buys context"))
                            .fix(format!("start llama-server with --cache-type-k {t} --cache-type-v {t}{}   (LLAMA_ARG_CACHE_TYPE_K={t} LLAMA_ARG_CACHE_TYPE_V={t}), or `cclocal setup --server llama-server{} --kv-type {t}`", if fa_off { " --flash-attn on" } else { "" }, super::setup_host_arg(f))),
                    );
                }
            }
        }
        let v_quant = c
            .cache_type_v
            .as_deref()
            .is_some_and(crate::planner::kv::is_quantized);
        if fa_off && v_quant {
            push(
                out,
                Section::Model,
                Finding::graded("kv_quant_without_flash_attention", Severity::Error, "a quantised V cache needs flash attention, which is off")
                    .detail(format!("llama-server was started with -fa off and -ctv {}; llama.cpp refuses a quantised V cache without flash attention", c.cache_type_v.clone().unwrap_or_default()))
                    .fix("start llama-server with --flash-attn on (or --flash-attn auto)"),
            );
        }
    }
}
