//! `cclocal logs --follow`: the running session, live (docs/follow.md).
//!
//! Every [`POLL`] the debug log and the server log are read for what they gained
//! (`predict::follow`), llama-server's `/slots` is asked where a prefill stands (with
//! `--host`), and the newest session's log is looked up again (without a PATH). Events
//! are printed as they come: on a terminal as lines above one redrawn status line, on a
//! pipe as plain lines, with `--json` as one JSON object per line. Ctrl-C (or SIGTERM)
//! ends it with the summary `cclocal logs` prints for the same files.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::LogsArgs;
use crate::error::Result;
use crate::logs::time::format_iso_ms;
use crate::logs::{self, DebugEnv};
use crate::predict::follow::{human_line, FollowEvent, Follower};

/// How often the logs are read.
pub const POLL: Duration = Duration::from_millis(200);
/// How often the newest session is looked up again (a readlink and a stat), and `/slots`
/// asked.
const LOOKUP: Duration = POLL;
const SLOTS: Duration = Duration::from_millis(500);

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_handlers() {
    // SAFETY: the handler only stores to an atomic (async-signal-safe).
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How events are shown.
struct Out {
    json: bool,
    tty: bool,
    status: String,
    requests: u64,
    /// How much later than planned the current poll began (the machine was busy), shown
    /// with `--json` so a reader can tell cclocal's delay from the machine's.
    late_ms: u64,
    /// The last prefill figures shown (task, tokens, whole prompt known): `/slots` and the
    /// server log say the same thing, and once is enough.
    last_prefill: Option<(Option<u64>, u64, bool)>,
}

impl Out {
    fn write(&mut self, text: &str) -> Result<()> {
        let mut o = std::io::stdout().lock();
        o.write_all(text.as_bytes())
            .and_then(|_| o.flush())
            .map_err(|e| crate::error::Error::io(std::path::Path::new("stdout"), "write", e))
    }

    fn event(&mut self, e: &FollowEvent) -> Result<()> {
        if let FollowEvent::Prefill {
            task, done, total, ..
        } = e
        {
            let key = (*task, *done, total.is_some());
            match self.last_prefill {
                Some((t, d, known)) if t == *task && d == *done && (known || total.is_none()) => {
                    return Ok(())
                }
                _ => self.last_prefill = Some(key),
            }
        }
        if matches!(e, FollowEvent::Request { .. }) {
            self.requests += 1;
        }
        if self.json {
            let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
            v["seen_at"] = json!(format_iso_ms(now_ms()));
            v["late_ms"] = json!(self.late_ms);
            let line = format!("{}\n", serde_json::to_string(&v).unwrap_or_default());
            return self.write(&line);
        }
        let raw = human_line(e);
        let line = crate::term::clean_text(&raw);
        if !self.tty {
            return self.write(&format!("{line}\n"));
        }
        // A terminal: progress only redraws the status line; everything else goes above it.
        match e {
            FollowEvent::Prefill { .. } => self.status = line.trim_start().to_string(),
            FollowEvent::FirstByte { .. } | FollowEvent::Failed { .. } => {
                self.status = format!("{} requests; waiting", self.requests)
            }
            FollowEvent::Request { .. } => {
                self.status = format!(
                    "{} requests; request sent, waiting for the server",
                    self.requests
                )
            }
            _ => {}
        }
        let above = if matches!(e, FollowEvent::Prefill { .. }) {
            String::new()
        } else {
            format!("{line}\n")
        };
        let status = self.status.clone();
        self.write(&format!("\r\x1b[2K{above}{status}"))
    }

    fn clear_status(&mut self) -> Result<()> {
        if self.tty && !self.json {
            self.write("\r\x1b[2K")?;
        }
        Ok(())
    }
}

/// The debug log to follow: the PATH given, else the newest session's.
fn target(args: &LogsArgs, env: &DebugEnv) -> Option<PathBuf> {
    match &args.path {
        Some(p) => Some(p.clone()),
        None => logs::latest(env).ok(),
    }
}

pub fn run(args: &LogsArgs, verbose: bool) -> Result<i32> {
    install_handlers();
    let env = DebugEnv::from_process();
    let mut out = Out {
        json: args.json,
        tty: std::io::stdout().is_terminal(),
        status: String::new(),
        requests: 0,
        late_ms: 0,
        last_prefill: None,
    };
    let mut fo = Follower::new();
    fo.server_ctx = args.server_ctx;
    let mut ev = Vec::new();
    if let Some(p) = args.server_log.last() {
        fo.set_server_log(p, &mut ev);
    }
    let slots_url = match &args.host.host {
        Some(h) => Some(
            crate::server::ServerUrl::parse_for(h, None)?
                .reachable()
                .to_url(),
        ),
        None => None,
    };
    // The server's context for one request, asked once as `logs --host` asks it (any
    // kind); llama-server's /slots keeps it current.
    if let (None, Some(url)) = (fo.server_ctx, &slots_url) {
        if let logs::server::LiveContext::Loaded { context, .. } =
            logs::server::fetch(url, None, Duration::from_secs(3))
        {
            fo.server_ctx = Some(context);
        }
    }
    let mut slots_ok = slots_url.is_some();
    let mut waiting_said = false;
    let mut first = true;
    let mut last_lookup = Instant::now() - LOOKUP;
    let mut last_slots = Instant::now() - SLOTS;
    let mut due = Instant::now();
    loop {
        let stopping = STOP.load(Ordering::SeqCst);
        let start = Instant::now();
        out.late_ms = u64::try_from(start.saturating_duration_since(due).as_millis()).unwrap_or(0);
        due = start + POLL;
        // A PATH given is followed as it is; without one, the newest session's log.
        let fixed = args.path.is_some() && fo.claude.is_some();
        if !fixed && last_lookup.elapsed() >= LOOKUP {
            last_lookup = Instant::now();
            if let Some(p) = target(args, &env) {
                if fo.claude_path() != Some(p.as_path()) {
                    // Rotated parts of it come first, read whole (as `logs` reads them).
                    fo.set_claude(&p, &mut ev);
                    if let Some(c) = fo.claude.as_mut() {
                        for part in logs::parts(&p).iter().filter(|x| **x != p) {
                            if let Ok(f) = logs::read::open_log(part) {
                                let _ = logs::read::feed(&mut c.an, f);
                            }
                        }
                    }
                }
            } else if !waiting_said {
                waiting_said = true;
                let dir = logs::debug_dir(&env)
                    .map(|d| d.display().to_string())
                    .unwrap_or_default();
                crate::teprintln!(
                    "waiting for a Claude Code debug log in {dir} (start Claude Code with the \
                     launcher `cclocal setup` wrote, or with --debug-file)"
                );
            }
        }
        // What the logs held when the follow began is read quietly: counted, not replayed
        // (a session that begins later is shown from its start).
        fo.quiet = first;
        fo.poll(&mut ev)?;
        fo.quiet = false;
        if let (Some(url), true) = (&slots_url, slots_ok && last_slots.elapsed() >= SLOTS) {
            last_slots = Instant::now();
            match crate::server::http::Client::new(url, Duration::from_millis(800))
                .and_then(|c| c.get("/slots"))
            {
                Ok(r) if r.status == 404 || r.status == 501 => slots_ok = false,
                Ok(r) if r.is_success() => {
                    if let Ok(v) = r.json() {
                        fo.slots(&v, &mut ev);
                    }
                }
                _ => {}
            }
        }
        if first {
            first = false;
            let before = fo.claude.as_ref().map_or(0, |c| c.an.summary().requests);
            for e in ev.drain(..) {
                out.event(&e)?;
            }
            out.requests = before;
            if before > 0 && !out.json {
                out.write(&format!("({before} requests before now)\n"))?;
            }
        }
        for e in ev.drain(..) {
            out.event(&e)?;
        }
        if stopping {
            break;
        }
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    out.clear_status()?;
    summary(args, &mut fo, verbose)
}

/// The session so far, as `cclocal logs` reports the same files.
fn summary(args: &LogsArgs, fo: &mut Follower, verbose: bool) -> Result<i32> {
    let path = fo.claude_path().map(|p| p.to_path_buf());
    let Some(analysis) = fo.finish() else {
        if !args.json {
            crate::tprintln!("No Claude Code debug log was followed.");
        }
        return Ok(0);
    };
    let parts = path.as_deref().map(logs::parts).unwrap_or_default();
    let server_ctx = fo.server_ctx;
    let findings = super::findings_of(&analysis, server_ctx);
    if args.json {
        let full = super::to_json(&analysis, &findings, &parts);
        let v = json!({
            "event": "summary",
            "seen_at": format_iso_ms(now_ms()),
            "summary": full["summary"],
            "findings": full["findings"],
            "files": full["files"],
        });
        println!("{}", serde_json::to_string(&v).unwrap_or_default());
    } else {
        crate::tprint!(
            "\n{}",
            super::human::human(&analysis, &findings, &parts, args.limit, verbose)
        );
    }
    Ok(crate::findings::exit_code(&findings, args.strict.strict))
}
