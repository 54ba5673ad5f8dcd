//! Finding what to run (the launcher's binary, environment and settings file, else the
//! `claude` on PATH), running it three times against the stub, and reading back.

use super::observe::{read_run, Observed};
use super::plan::{compare, margin, Expected, Mark, Report};
use super::stub::{Behaviour, Stub};
use crate::claude::max_tokens_for;
use crate::claude::settings::{global_config_path, read_json_object};
use crate::claude::{compute_window, gate_for, EnvMap, Version};
use crate::doctor::probe::{
    background_model, find_claude, probe_claude_config, probe_setup, read_launcher, HostEnv,
    Launcher,
};
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How verify runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The whole run's time limit (three Claude Code starts).
    pub timeout: Duration,
    /// `--claude PATH`: this Claude Code instead of the launcher's or PATH's.
    pub claude: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(60),
            claude: None,
        }
    }
}

/// What verify runs, and what it expects.
#[derive(Debug, Clone)]
pub struct Target {
    pub claude: PathBuf,
    pub launcher: Option<Launcher>,
    /// The launcher's `--settings` file and its content.
    pub settings: Option<(PathBuf, Map<String, Value>)>,
    pub expected: Expected,
    pub home: PathBuf,
    /// The environment Claude Code starts with (this process's, plus the launcher's exports).
    pub env: Vec<(String, String)>,
}

/// Variables verify sets for every run, in the process environment and in the settings
/// file it passes (which Claude Code's other settings files cannot override): the stub as
/// the base URL and as the proxy for every other host, and no non-essential traffic.
fn pinned(stub_url: &str) -> Vec<(String, String)> {
    [
        ("ANTHROPIC_BASE_URL", stub_url),
        ("HTTPS_PROXY", stub_url),
        ("HTTP_PROXY", stub_url),
        ("https_proxy", stub_url),
        ("http_proxy", stub_url),
        ("NO_PROXY", "127.0.0.1,localhost,::1"),
        ("no_proxy", "127.0.0.1,localhost,::1"),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// What verify gives Claude Code in place of the user's token or key: the stub needs none,
/// so the secret never reaches the stub, the scratch settings file or Claude Code's
/// process environment during verify. Claude Code still sees the variable set, so its
/// auth mode (and the header it sends) is the launcher's.
const STUB_CREDENTIAL: &str = "cclocal-verify-stub";

fn is_credential(k: &str) -> bool {
    matches!(k, "ANTHROPIC_AUTH_TOKEN" | "ANTHROPIC_API_KEY")
}

/// Looks `name` up on `PATH` (or takes it as a path when it has a `/`).
fn which(name: &str, host: &HostEnv) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    let path = host.vars.get("PATH")?;
    std::env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Finds the Claude Code to run and computes the plan for it.
pub fn resolve(host: &HostEnv, opts: &Options) -> Result<Target> {
    let home = host.home.clone().ok_or_else(|| {
        Error::not_found("HOME is not set").with_hint("set HOME to your home directory")
    })?;
    let setup = probe_setup(host);
    let config = setup.as_ref().and_then(|s| s.config.clone());
    let launcher = match config
        .as_ref()
        .filter(|c| c.wrote.iter().any(|w| w == "launcher"))
    {
        Some(c) => Some(
            read_launcher(Path::new(&c.claude.launcher_path)).map_err(|e| {
                Error::not_found(format!("the launcher setup wrote cannot be read: {e}"))
                    .with_hint("run `cclocal setup` again to write it")
            })?,
        ),
        None => None,
    };
    let claude = match (
        &opts.claude,
        launcher.as_ref().and_then(|l| l.program.clone()),
    ) {
        (Some(p), _) => p.clone(),
        (None, Some(prog)) => which(&prog, host).ok_or_else(|| {
            Error::not_found(format!("the launcher runs {prog}, which is not installed"))
                .with_hint("install Claude Code, or run `cclocal setup` again")
        })?,
        (None, None) => find_claude(host).ok_or_else(|| {
            Error::not_found("Claude Code is not installed (no `claude` on PATH)").with_hint(
                "install it (npm install -g @anthropic-ai/claude-code), or pass --claude PATH",
            )
        })?,
    };
    if !claude.is_file() {
        return Err(
            Error::not_found("Claude Code is not there").with_subject(claude.display().to_string())
        );
    }
    let version =
        crate::claude::claude_version(&claude, Duration::from_secs(10)).ok_or_else(|| {
            Error::not_found("`claude --version` did not answer with a version")
                .with_subject(claude.display().to_string())
        })?;
    let settings = match launcher.as_ref().and_then(|l| l.settings.clone()) {
        Some(p) => match read_json_object(&p) {
            Ok(Some(m)) => Some((p, m)),
            Ok(None) => {
                return Err(Error::not_found("the launcher's settings file is missing")
                    .with_subject(p.display().to_string())
                    .with_hint("run `cclocal setup` again to write it"))
            }
            Err(e) => {
                return Err(Error::parse(e).with_hint("run `cclocal setup` again to rewrite it"))
            }
        },
        None => None,
    };
    // The environment Claude Code will see, as the doctor computes it (no project
    // settings: verify runs in an empty directory).
    let probe_host = HostEnv {
        cwd: None,
        ..host.clone()
    };
    let facts = probe_claude_config(&probe_host, None, launcher.as_ref());
    let launch_env: EnvMap = match &launcher {
        Some(l) => {
            let mut env: EnvMap = l.exports.iter().cloned().collect();
            if let Some((_, m)) = &settings {
                env.extend(crate::claude::settings::env_of(m));
            }
            env
        }
        None => facts.env.clone(),
    };
    let model = facts.model.clone();
    let m = model.clone().unwrap_or_default();
    let planned = compute_window(version, &m, &launch_env);
    // The table's prediction with everything Claude Code reads, the settings that act like
    // variables included (the doctor's `window_env`).
    let all = crate::doctor::Facts {
        claude: Some(crate::doctor::facts::ClaudeFacts {
            version: Some(version),
            ..facts.clone()
        }),
        ..Default::default()
    };
    let predicted = compute_window(version, &m, &crate::doctor::rules::window_env(&all));
    let mut overrides = Vec::new();
    if launcher.is_some() {
        for (k, v) in &facts.env {
            let relevant = k.starts_with("CLAUDE_") || k.starts_with("DISABLE_");
            if relevant && launch_env.get(k) != Some(v) {
                let from = facts
                    .env_sources
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| "shell".into());
                overrides.push(format!("{k}={v} (from {from})"));
            }
        }
    }
    let (bg, bg_why) = background_model(&launch_env, model.as_deref(), Some(version));
    let set = |k: &str| launch_env.get(k).is_some_and(|v| !v.trim().is_empty());
    let gate = gate_for(version);
    let claude_name = m.trim().to_ascii_lowercase().starts_with("claude-");
    let b = margin(planned.autocompact_threshold);
    let expected = Expected {
        version,
        model,
        background_model: bg,
        background_why: bg_why,
        max_tokens: max_tokens_for(version, &launch_env),
        bearer: set("ANTHROPIC_AUTH_TOKEN"),
        api_key: set("ANTHROPIC_API_KEY"),
        window_told: gate.max_context_tokens
            && set("CLAUDE_CODE_MAX_CONTEXT_TOKENS")
            && !claude_name,
        overrides,
        served_context: config.as_ref().map(|c| c.model.context),
        planned_for: config
            .as_ref()
            .and_then(|c| c.claude.version.parse::<Version>().ok()),
        below: (planned.autocompact_threshold - b as i64).max(1) as u64,
        padding: 2 * b,
        observed_threshold: None,
        planned,
        predicted,
    };
    let mut env: Vec<(String, String)> = host.vars.clone().into_iter().collect();
    if let Some(l) = &launcher {
        env.extend(l.exports.iter().cloned());
    }
    Ok(Target {
        claude,
        launcher,
        settings,
        expected,
        home,
        env,
    })
}

/// A private directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch> {
        let base = std::env::temp_dir();
        for i in 0..20u32 {
            let p = base.join(format!(
                "cclocal-verify-{}-{:08x}",
                std::process::id(),
                rand32() ^ i
            ));
            let mut b = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            match b.create(&p) {
                Ok(()) => return Ok(Scratch(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&p, "create", e)),
            }
        }
        Err(Error::not_found("no scratch directory could be created"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand32() -> u32 {
    let mut b = [0u8; 4];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok()
    {
        return u32::from_le_bytes(b);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    t ^ std::process::id().rotate_left(16)
}

/// A random (version 4) UUID for the session.
fn uuid() -> String {
    let w: Vec<u32> = (0..4).map(|_| rand32()).collect();
    let hex = format!("{:08x}{:08x}{:08x}{:08x}", w[0], w[1], w[2], w[3]);
    let mut h: Vec<char> = hex.chars().collect();
    h[12] = '4';
    h[16] = ['8', '9', 'a', 'b'][(w[2] & 3) as usize];
    let s: String = h.into_iter().collect();
    format!(
        "{}-{}-{}-{}-{}",
        &s[..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..]
    )
}

/// The prompt padded with `tokens` tokens of filler (4 bytes a token: Claude Code estimates
/// a prompt at 3 or 4 bytes a token, so it counts at least that many).
pub fn padded_prompt(tokens: u64) -> String {
    let line = "This is filler text that only makes the prompt long; ignore it.\n";
    let mut s =
        String::from("Reply with the single word ok. The rest of this message is filler.\n");
    while (s.len() as u64) < tokens * 4 {
        s.push_str(line);
    }
    s
}

/// One Claude Code run: its exit, stderr, and whether it was killed at the deadline.
struct Ran {
    ok: bool,
    timed_out: bool,
    stderr: String,
}

fn run_claude(cmd: &mut Command, stdin: Option<String>, deadline: Instant) -> Result<Ran> {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::new(
                crate::error::ErrorKind::NotFound,
                format!("Claude Code could not be started: {e}"),
            )
        })?;
    if let (Some(text), Some(mut w)) = (stdin, child.stdin.take()) {
        std::thread::spawn(move || {
            let _ = w.write_all(text.as_bytes());
        });
    }
    let err = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut e) = err {
            let _ = std::io::Read::by_ref(&mut e)
                .take(1 << 20)
                .read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    });
    let (ok, timed_out) = loop {
        match child.try_wait() {
            Ok(Some(s)) => break (s.success(), false),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break (false, true);
            }
        }
    };
    Ok(Ran {
        ok,
        timed_out,
        stderr: reader.join().unwrap_or_default(),
    })
}

use std::io::Read as _;

/// Reads at most 16 MiB of a debug log.
fn read_log(p: &Path) -> String {
    let mut buf = Vec::new();
    if let Ok(f) = crate::fsread::open_regular(p, "Claude Code's debug log") {
        let _ = f.take(16 << 20).read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Runs the three exchanges and compares.
pub fn verify(t: &Target, opts: &Options) -> Result<Report> {
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let stub = Stub::start().map_err(|e| {
        Error::new(
            crate::error::ErrorKind::Io,
            format!("the stub could not listen on 127.0.0.1: {e}"),
        )
    })?;
    let url = stub.base_url();
    let scratch = Scratch::new()?;
    let cwd = scratch.0.join("work");
    std::fs::create_dir(&cwd).map_err(|e| Error::io(&cwd, "create", e))?;
    // The settings file: the launcher's, with the stub pinned.
    let mut settings = t
        .settings
        .as_ref()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    let mut env_obj = match settings.remove("env") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in pinned(&url) {
        env_obj.insert(k, Value::String(v));
    }
    for (k, v) in env_obj.iter_mut() {
        if is_credential(k) && v.as_str().is_some_and(|s| !s.trim().is_empty()) {
            *v = Value::String(STUB_CREDENTIAL.into());
        }
    }
    settings.insert("env".into(), Value::Object(env_obj));
    let settings_path = scratch.0.join("settings.json");
    std::fs::write(
        &settings_path,
        serde_json::to_vec_pretty(&Value::Object(settings)).expect("json"),
    )
    .map_err(|e| Error::io(&settings_path, "write", e))?;
    let mut env = t.env.clone();
    for (k, v) in env.iter_mut() {
        if is_credential(k) && !v.trim().is_empty() {
            *v = STUB_CREDENTIAL.into();
        }
    }
    env.extend(pinned(&url));
    let child_env: EnvMap = env.iter().cloned().collect();
    let config_dir = crate::claude::settings::config_dir(&t.home, &child_env);
    let projects = config_dir.join("projects");
    let unique = scratch
        .0
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let session = uuid();
    let mut e = t.expected.clone();
    stub.set_behaviour(Behaviour {
        input_tokens: Some(e.below),
    });
    let runs: [(&str, Option<&str>); 3] = [
        ("short", Some("Reply with the single word ok.")),
        ("under the threshold", Some("Reply with ok again.")),
        ("past the threshold", None),
    ];
    let mut observed = Observed::default();
    for (i, (name, arg)) in runs.into_iter().enumerate() {
        // The padded prompt goes on stdin (no argument can hold 100s of KB).
        let stdin = arg.is_none().then(|| padded_prompt(e.padding));
        let log = scratch.0.join(format!("debug-{}.txt", i + 1));
        let mut cmd = Command::new(&t.claude);
        cmd.env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&cwd)
            .arg("--settings")
            .arg(&settings_path);
        if let Some(m) = t.launcher.as_ref().and_then(|l| l.model.clone()) {
            cmd.arg("--model").arg(m);
        }
        cmd.arg("-p");
        if let Some(a) = &arg {
            cmd.arg(a);
        }
        cmd.arg("--debug-file").arg(&log);
        if i == 0 {
            cmd.arg("--session-id").arg(&session);
        } else {
            cmd.arg("--resume").arg(&session);
        }
        let from = stub.now_ms();
        let ran = run_claude(&mut cmd, stdin, deadline)?;
        let to = stub.now_ms();
        let took = to.saturating_sub(from);
        let records: Vec<_> = stub
            .records()
            .into_iter()
            .filter(|r| r.at_ms >= from && r.at_ms <= to)
            .collect();
        let mut r = read_run(name, &read_log(&log), &ran.stderr, &records);
        r.exit_ok = ran.ok;
        r.timed_out = ran.timed_out;
        r.ms = took;
        let stop = !ran.ok || r.calls.is_empty();
        if i == 0 {
            // The observed value wins: where the first exchange shows a window (or a logged
            // threshold) other than the plan's, the last exchange is padded past the
            // threshold that window implies.
            if let Some(t_obs) = observed_threshold(&e, &r) {
                e.observed_threshold = Some(t_obs);
                let m = margin(t_obs);
                e.padding = ((t_obs + m as i64) - e.below as i64).max(m as i64) as u64;
            }
        }
        observed.runs.push(r);
        if stop {
            break;
        }
    }
    observed.requests = stub.records();
    let gc = global_config_path(&t.home, &child_env);
    observed.onboarding_completed = read_json_object(&gc)
        .ok()
        .flatten()
        .and_then(|m| m.get("hasCompletedOnboarding").and_then(Value::as_bool));
    observed.global_config = Some(gc.display().to_string());
    // The session Claude Code saved for the scratch directory is verify's own: remove it.
    if let Ok(rd) = std::fs::read_dir(&projects) {
        for d in rd.flatten() {
            if !unique.is_empty() && d.file_name().to_string_lossy().contains(&unique) {
                let _ = std::fs::remove_dir_all(d.path());
            }
        }
    }
    observed.elapsed_ms = start.elapsed().as_millis() as u64;
    let e = &e;
    let (items, table) = compare(e, &observed);
    let mut causes = Vec::new();
    if items.iter().any(|i| i.mark == Mark::Mismatch) {
        for o in &e.overrides {
            causes.push(format!(
                "your own configuration changes what the launcher set: {o}"
            ));
        }
        if let Some(r) = observed.runs.iter().find(|r| r.timed_out) {
            causes.push(format!(
                "the {} exchange did not finish within the time limit",
                r.name
            ));
        }
    }
    let ok = !items.iter().any(|i| i.mark == Mark::Mismatch);
    let mut report = Report {
        claude: t.claude.display().to_string(),
        version: e.version,
        launcher: t.launcher.as_ref().map(|l| l.path.display().to_string()),
        settings: t.settings.as_ref().map(|(p, _)| p.display().to_string()),
        model: e.model.clone(),
        items,
        table,
        causes,
        fixes: Vec::new(),
        ok,
        elapsed_ms: observed.elapsed_ms,
        expected: e.clone(),
        observed,
    };
    report.fixes = fixes(t, &report);
    Ok(report)
}

/// The threshold the first exchange shows, when it is not the plan's: the logged one (up
/// to 2.1.121), else the one the logged effective window implies with the planned
/// percentage override.
fn observed_threshold(e: &Expected, first: &super::observe::RunObs) -> Option<i64> {
    let a = first.autocompact.first()?;
    let t = match (a.threshold, a.effective_window) {
        (Some(t), _) => t as i64,
        (None, Some(w)) if w != e.planned.effective_window => {
            super::plan::threshold_for(w, e.planned.pct_override)
        }
        _ => return None,
    };
    (t != e.planned.autocompact_threshold).then_some(t)
}

/// What to change, for a mismatch: remove the user's variables that override the
/// launcher; where the table is wrong for this build and its window does not fit, the
/// settings of [`super::plan::observed_fix`] (`cclocal setup` writes them itself).
fn fixes(t: &Target, r: &Report) -> Vec<String> {
    let e = &t.expected;
    let mut out = Vec::new();
    if r.ok {
        return out;
    }
    for ov in &e.overrides {
        if let Some((name, rest)) = ov.split_once('=') {
            let from = rest
                .rsplit_once("(from ")
                .map(|(_, f)| f.trim_end_matches(')'));
            out.push(match from {
                Some(f) if f != "shell" => {
                    format!("remove {name} from the env of {f} (the launcher does not set it)")
                }
                _ => format!("unset {name} in the shell that starts Claude Code"),
            });
        }
    }
    if let Some(env) = super::plan::observed_fix(r) {
        let file = t
            .settings
            .as_ref()
            .map(|(p, _)| p.display().to_string())
            .unwrap_or_else(|| "~/.claude/settings.json".into());
        out.push(format!(
            "Claude Code {} uses an effective window of {} tokens: run `cclocal setup` again: it adds {} to the env of {file} (the observed value wins), then verifies again",
            e.version,
            r.observed.effective_window().unwrap_or(0),
            crate::claude::env_line(&env)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_ne!(uuid(), u);
    }

    #[test]
    fn padding() {
        let p = padded_prompt(1000);
        assert!(p.len() >= 4000 && p.len() < 4100);
    }
}
