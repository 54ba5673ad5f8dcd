//! Issue 21, "nothing accepted that makes no sense", and the wording it lists: every input
//! that is not what a flag or argument claims gets a clear error that names what was
//! expected and what was seen (nothing written), while real input, however short, is still
//! read. Each case here failed before its fix.

use crate::support;
use support::setup_home::{contents, llama_server_setup_args, text, TestHome};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `cclocal <args>` with HOME in `home`, no Claude or XDG variables.
fn run_in(home: &Path, args: &[&str]) -> Output {
    let mut c = support::cclocal();
    c.args(args)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CLAUDE_CODE_DEBUG_LOGS_DIR")
        .env_remove("XDG_STATE_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("OLLAMA_HOST")
        .env_remove("OLLAMA_MODELS")
        .env_remove("HOMEBREW_PREFIX")
        .stdin(std::process::Stdio::null());
    c.output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Files that are not logs: (name, bytes, what the error says was seen).
fn not_logs(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let passwd = dir.join("passwd");
    std::fs::write(
        &passwd,
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
    )
    .unwrap();
    let empty = dir.join("empty.log");
    std::fs::write(&empty, b"").unwrap();
    // Pseudo-random bytes (a fixed xorshift, so the case is the same every run).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let random = dir.join("random.bin");
    std::fs::write(&random, noise).unwrap();
    let gguf = dir.join("model.gguf");
    let mut g = b"GGUF\x03\0\0\0".to_vec();
    g.extend_from_slice(&[0u8; 16]);
    g.extend_from_slice(&[0xAB; 4096]);
    std::fs::write(&gguf, g).unwrap();
    vec![
        (passwd, "root:x:0:0"),
        (empty, "an empty file"),
        (random, "binary data"),
        (gguf, "a GGUF model file"),
    ]
}

#[test]
fn logs_refuses_files_that_are_not_debug_logs() {
    let d = tempfile::tempdir().unwrap();
    for (f, seen) in not_logs(d.path()) {
        let html = d.path().join("out.html");
        let o = run_in(d.path(), &["logs", s(&f), "--html", s(&html)]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(1), "{f:?}: {all}");
        assert!(all.contains("not a Claude Code debug log"), "{f:?}: {all}");
        assert!(all.contains("[DEBUG]"), "names what was expected: {all}");
        assert!(all.contains(seen), "{f:?} should say {seen:?}: {all}");
        assert!(!all.contains("nothing to fix"), "{all}");
        assert!(!html.exists(), "{f:?}: an HTML page was written");
    }
}

#[test]
fn logs_refuses_server_logs_that_are_not_server_logs() {
    let d = tempfile::tempdir().unwrap();
    for (f, seen) in not_logs(d.path()) {
        let o = run_in(d.path(), &["logs", "--server-log", s(&f)]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(1), "{f:?}: {all}");
        assert!(all.contains("not a server log"), "{f:?}: {all}");
        assert!(all.contains(seen), "{f:?} should say {seen:?}: {all}");
        let o = run_in(d.path(), &["logs", "--server-log", s(&f), "--what-if"]);
        assert!(text(&o).contains("not a server log"), "{}", text(&o));
    }
    // A debug log given as the server's: said so.
    let debug = repo("tests/fixtures/claude-debug-logs/v2.1.332-interactive-haiku-env.txt");
    let o = run_in(d.path(), &["logs", "--server-log", s(&debug)]);
    assert!(text(&o).contains("pass it as PATH"), "{}", text(&o));
    // And a server log given as the debug log.
    let server = repo("tests/fixtures/server-logs/llama-server-b11434-claude-session.log");
    let o = run_in(d.path(), &["logs", s(&server)]);
    assert!(text(&o).contains("--server-log FILE"), "{}", text(&o));
}

/// Every real debug log, cut to its first line or first five lines (a session just
/// started), and every real server log cut the same way, is still read.
#[test]
fn short_real_logs_are_still_read() {
    let d = tempfile::tempdir().unwrap();
    let mut debug: Vec<PathBuf> = Vec::new();
    for dir in [
        repo("tests/fixtures/claude-debug-logs"),
        PathBuf::from("/work/shared/fixtures/claude-debug-logs"),
    ] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            debug.extend(rd.map(|e| e.unwrap().path()));
        }
    }
    assert!(debug.len() >= 8, "{debug:?}");
    let cut = |f: &Path, n: usize| {
        let t = std::fs::read_to_string(f).unwrap();
        let head: String = t.lines().take(n).map(|l| format!("{l}\n")).collect();
        let p = d.path().join(format!("cut-{n}.txt"));
        std::fs::write(&p, head).unwrap();
        p
    };
    for f in &debug {
        for n in [1, 5, usize::MAX] {
            let p = cut(f, n);
            let o = run_in(d.path(), &["logs", s(&p)]);
            assert!(
                !text(&o).contains("not a Claude Code debug log"),
                "{f:?} ({n} lines): {}",
                text(&o)
            );
        }
    }
    let mut server: Vec<PathBuf> = std::fs::read_dir(repo("tests/fixtures/server-logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("llama-server") || n.starts_with("ollama")
        })
        .collect();
    // vLLM's and vllm-mlx's own first lines (their shapes: docs/servers.md "Their logs").
    let vllm = d.path().join("vllm.log");
    std::fs::write(
        &vllm,
        "(APIServer pid=29616) INFO 12-07 04:59:18 [model.py:2152] Using max model len 32768\n",
    )
    .unwrap();
    let mlx = d.path().join("vllm-mlx.log");
    std::fs::write(&mlx, "INFO:vllm_mlx.server:Max request tokens: 32768\n").unwrap();
    let ollama_journal = d.path().join("journal.log");
    std::fs::write(
        &ollama_journal,
        "Dec 07 08:00:00 box ollama[123]: [GIN] 2026/12/07 - 08:00:00 | 200 |  1.2s | 127.0.0.1 | POST \"/v1/messages\"\n",
    )
    .unwrap();
    server.extend([vllm, mlx, ollama_journal]);
    assert!(server.len() >= 8, "{server:?}");
    for f in &server {
        for n in [1, 5, usize::MAX] {
            let p = cut(f, n);
            let o = run_in(d.path(), &["logs", "--server-log", s(&p)]);
            assert!(
                !text(&o).contains("not a server log"),
                "{f:?} ({n} lines): {}",
                text(&o)
            );
        }
    }
}

#[test]
fn what_if_names_why_it_cannot_price() {
    let d = tempfile::tempdir().unwrap();
    // vLLM logs no per-request times: the reason is that, not "pass a server log".
    let vllm = d.path().join("vllm.log");
    std::fs::write(
        &vllm,
        "(APIServer pid=1) INFO 12-07 04:59:18 [model.py:2152] Using max model len 32768\n\
         (APIServer pid=1) INFO:     127.0.0.1:50000 - \"POST /v1/messages?beta=true HTTP/1.1\" 200 OK\n",
    )
    .unwrap();
    let o = run_in(d.path(), &["logs", "--server-log", s(&vllm), "--what-if"]);
    let all = text(&o);
    assert_ne!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("times no request") || all.contains("has no timing lines"),
        "{all}"
    );
    assert!(
        all.to_lowercase().contains("vllm"),
        "names the server log's kind: {all}"
    );
    // --help: a server log is enough; --bench is not "needed".
    let o = run_in(d.path(), &["logs", "--help"]);
    let help = text(&o);
    assert!(!help.contains("needed for --what-if"), "{help}");
    assert!(help.contains("--server-log"), "{help}");
}

/// `(argv, what the error must say)`: each number out of its range is a usage error (exit 2)
/// that names the flag and its range, negative numbers included (not clap's `-- -5` tip).
#[test]
fn every_number_has_a_range() {
    let d = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["plan", "m.gguf", "--mac-ram", "8"],
            &["--mac-ram", "8 bytes", "4 GB to 2 TB"],
        ),
        (
            &["plan", "m.gguf", "--memory", "24"],
            &["--memory", "256 MiB"],
        ),
        (
            &["bench", "m.gguf", "--rounds", "0"],
            &["--rounds", "1 to 10000"],
        ),
        (
            &["bench", "m.gguf", "--rounds", "-5"],
            &["--rounds", "1 to 10000"],
        ),
        (
            &["logs", "--what-if", "--turns", "100000000"],
            &["--turns", "1 to 10000"],
        ),
        (&["logs", "--what-if", "--turns", "-5"], &["--turns"]),
        (
            &["bench", "m.gguf", "--prompts", "0"],
            &["--prompts", "2.."],
        ),
        (
            &["bench", "m.gguf", "--prompts", "1"],
            &["--prompts", "2.."],
        ),
        (&["bench", "m.gguf", "--prompts", "512,-1"], &["--prompts"]),
        (
            &["bench", "m.gguf", "--turn-output", "0"],
            &["--turn-output", "number of tokens"],
        ),
        (
            &["logs", "--what-if", "--turns", "3", "--turn-output", "0"],
            &["--turn-output", "number of tokens"],
        ),
        (
            &["plan", "m.gguf", "--ctx", "-5"],
            &["--ctx", "context length"],
        ),
        (&["doctor", "--timeout", "-1"], &["--timeout", "3600"]),
        (&["doctor", "--timeout", "0"], &["--timeout"]),
        (&["logs", "x", "--limit", "-3"], &["--limit"]),
        (&["bench", "m.gguf", "--decode", "0"], &["--decode"]),
        (&["bench", "m.gguf", "--batch", "0"], &["--batch"]),
    ];
    for (argv, says) in cases {
        let o = run_in(d.path(), argv);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(2), "{argv:?}: {all}");
        for w in *says {
            assert!(all.contains(w), "{argv:?} should say {w:?}: {all}");
        }
        assert!(!all.contains("-- -"), "{argv:?}: clap's tip: {all}");
        assert!(
            !all.contains("is not a context length") || argv.contains(&"--ctx"),
            "{all}"
        );
    }
}

#[test]
fn an_ipv6_host_is_a_url_with_brackets() {
    let d = tempfile::tempdir().unwrap();
    let o = run_in(
        d.path(),
        &["doctor", "--host", "::1", "--server-only", "--timeout", "1"],
    );
    let all = text(&o);
    assert!(!all.contains("127.0.0.1::1"), "{all}");
    assert!(all.contains("http://[::1]:11434"), "{all}");
    let o = run_in(d.path(), &["status", "--host", "::1", "--offline"]);
    assert_ne!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_directory_is_named_as_one() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("models")).unwrap();
    for cmd in ["plan", "bench"] {
        for arg in ["models", "./models", "models/"] {
            let o = support::cclocal()
                .args([cmd, arg])
                .current_dir(d.path())
                .env("HOME", d.path())
                .env_remove("OLLAMA_MODELS")
                .output()
                .unwrap();
            let all = text(&o);
            if all.contains("needs the embedded llama.cpp") {
                continue;
            }
            assert!(!o.status.success(), "{cmd} {arg}: {all}");
            assert!(all.contains("directory"), "{cmd} {arg}: {all}");
            assert!(!all.contains("ollama pull"), "{cmd} {arg}: {all}");
            assert!(!all.contains("download it again"), "{cmd} {arg}: {all}");
        }
    }
}

#[test]
fn an_unknown_shell_is_told_the_shells_there_are() {
    let t = TestHome::new();
    let o = t
        .command(&["alias"])
        .env("SHELL", "/usr/bin/tcsh")
        .output()
        .unwrap();
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(all.contains("bash, zsh and fish"), "{all}");
    assert!(all.contains("/usr/bin/tcsh"), "{all}");
}

#[test]
fn alias_remove_takes_the_blank_line_write_added() {
    let t = TestHome::new();
    let rc = t.home().join(".bashrc");
    std::fs::write(&rc, "export A=1\n").unwrap();
    let o = t.run(&["alias", "--write"]);
    assert!(o.status.success(), "{}", text(&o));
    // Something the user (or an installer) appends after the block since.
    let mut now = std::fs::read_to_string(&rc).unwrap();
    now.push_str("export B=2\n");
    std::fs::write(&rc, &now).unwrap();
    let o = t.run(&["alias", "--remove"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&rc).unwrap(),
        "export A=1\nexport B=2\n"
    );
}

/// A llama-server binary stand-in that answers `--version` as llama.cpp does.
fn fake_llama_server(dir: &Path) -> PathBuf {
    let bin = dir.join("llama.cpp/bin/llama-server");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(
        &bin,
        "#!/bin/sh\necho 'version: 1 (fake)'; echo 'built with sh for tests'\n",
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn llama_setup(t: &TestHome, model: &Path, bin: &Path, extra: &[&str]) -> Output {
    let mut a = llama_server_setup_args(
        model,
        bin,
        &[
            "--host",
            "http://127.0.0.1:18080",
            "--claude-version",
            "2.1.332",
        ],
    );
    a.extend(extra.iter().map(|s| s.to_string()));
    t.command_of(&a).output().unwrap()
}

#[test]
fn setup_refuses_a_model_that_is_not_a_gguf() {
    let t = TestHome::new();
    let bin = fake_llama_server(t.dir.path());
    let passwd = t.dir.path().join("passwd");
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let before = contents(&t.home());
    let o = llama_setup(&t, &passwd, &bin, &["--ctx", "32K", "--kv-type", "q8_0"]);
    let all = text(&o);
    assert!(!o.status.success(), "{all}");
    assert!(all.contains("not a GGUF model file"), "{all}");
    assert!(all.contains("root"), "says what it starts with: {all}");
    assert_eq!(contents(&t.home()), before, "something was written");
}

#[test]
fn setup_refuses_a_binary_that_is_not_llama_server() {
    let t = TestHome::new();
    let model = t.dir.path().join("m.gguf");
    std::fs::write(&model, b"GGUF\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap();
    let before = contents(&t.home());
    for bin in ["/bin/true", "/bin/echo"] {
        let o = llama_setup(
            &t,
            &model,
            Path::new(bin),
            &["--ctx", "32K", "--kv-type", "q8_0"],
        );
        let all = text(&o);
        assert!(!o.status.success(), "{bin}: {all}");
        assert!(all.contains("this is not llama-server"), "{bin}: {all}");
        assert!(all.contains("--version"), "{bin}: {all}");
    }
    assert_eq!(contents(&t.home()), before, "something was written");
}

#[test]
fn an_unreadable_model_is_an_error_not_another_kv_policy() {
    let t = TestHome::new();
    let bin = fake_llama_server(t.dir.path());
    // A GGUF header with no keys: a GGUF, but nothing says what model it is.
    let model = t.dir.path().join("m.gguf");
    std::fs::write(&model, b"GGUF\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap();
    let before = contents(&t.home());
    let o = llama_setup(&t, &model, &bin, &["--ctx", "32K", "--memory", "16GiB"]);
    let all = text(&o);
    assert!(!o.status.success(), "{all}");
    assert!(all.contains("cannot read the model"), "{all}");
    assert!(all.contains("--kv-type"), "{all}");
    assert_eq!(contents(&t.home()), before, "something was written");
    // Choosing the cache oneself is the way on.
    let o = llama_setup(
        &t,
        &model,
        &bin,
        &[
            "--ctx",
            "32K",
            "--memory",
            "16GiB",
            "--kv-type",
            "f16",
            "--dry-run",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_server_that_never_answers_is_named_as_timed_out() {
    use support::fake_ollama::{FakeOllama, Scenario};
    let srv = FakeOllama::start(Scenario::hanging());
    let t = TestHome::new();
    for argv in [
        vec!["plan", "qwen3:8b", "--host", srv.base_url.as_str()],
        vec![
            "setup",
            "--yes",
            "--dry-run",
            "--model",
            "qwen3:8b",
            "--host",
            srv.base_url.as_str(),
            "--claude-version",
            "2.1.332",
        ],
    ] {
        let o = t.run(&argv);
        let all = text(&o);
        assert!(!o.status.success(), "{argv:?}: {all}");
        assert!(all.contains("timed out"), "{argv:?}: {all}");
        assert!(all.contains(&srv.base_url), "{argv:?}: {all}");
        assert!(!all.contains("ollama pull"), "{argv:?}: {all}");
        assert!(!all.contains("Ollama store"), "{argv:?}: {all}");
    }
}

/// `bench --host` took the old `--rounds` silently (the embedded bench printed a note of
/// its own): it warns once, as every old spelling does, whichever path runs.
#[test]
fn rounds_warns_as_an_old_spelling_on_every_bench_path() {
    let d = tempfile::tempdir().unwrap();
    for argv in [
        &["bench", "--host", "127.0.0.1:9", "--rounds", "3"][..],
        &["bench", "/nonexistent/m.gguf", "--rounds", "3"],
    ] {
        let o = run_in(d.path(), argv);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(
            err.matches("--rounds is an old spelling of --turns")
                .count(),
            1,
            "{argv:?}: {err}"
        );
        assert!(!err.contains("note: --rounds"), "{argv:?}: {err}");
    }
}

/// `undo --yes` was a usage error while `setup --yes` is how scripts run setup: undo and
/// alias never ask, and take it.
#[test]
fn undo_and_alias_take_yes() {
    let d = tempfile::tempdir().unwrap();
    for argv in [&["undo", "--yes", "--list"][..], &["alias", "bash", "-y"]] {
        let o = run_in(d.path(), argv);
        let all = text(&o);
        assert!(o.status.success(), "{argv:?}: {all}");
    }
}

/// setup configures one KV cache type: a list (which plan and bench compare) is a usage
/// error naming the values, and nothing is written.
#[test]
fn setup_takes_one_kv_type() {
    let d = tempfile::tempdir().unwrap();
    let o = run_in(
        d.path(),
        &["setup", "--yes", "--model", "m", "--kv-type", "f16,q8_0"],
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("--kv-type takes one value here, not f16,q8_0"),
        "{all}"
    );
    assert!(!d.path().join(".local").exists(), "{all}");
}

#[test]
fn old_spellings_warn_and_hints_use_current_names() {
    let d = tempfile::tempdir().unwrap();
    let o = run_in(
        d.path(),
        &[
            "plan",
            "/nonexistent/m.gguf",
            "--kv-cache-type",
            "q8_0",
            "--flash-attention",
            "on",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("--kv-cache-type is an old spelling of --kv-type"),
        "{err}"
    );
    assert!(
        err.contains("--flash-attention is an old spelling of --flash-attn"),
        "{err}"
    );
    assert_eq!(err.matches("old spelling").count(), 2, "{err}");
    // setup's "does not fit" hint names --kv-type.
    let Some(gemma) = support::gemma_path() else {
        return;
    };
    let t = TestHome::new();
    let bin = fake_llama_server(t.dir.path());
    let o = llama_setup(&t, &gemma, &bin, &["--ctx", "1M", "--memory", "2GiB"]);
    let all = text(&o);
    assert!(!o.status.success(), "{all}");
    assert!(all.contains("--kv-type"), "{all}");
    assert!(!all.contains("--kv-cache-type"), "{all}");
}

#[test]
fn plan_prints_a_context_once() {
    let Some(gemma) = support::gemma_path() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let o = run_in(d.path(), &["plan", s(&gemma), "--memory", "1860MiB"]);
    let out = text(&o);
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("Largest context that fits"))
        .collect();
    assert!(!lines.is_empty(), "{out}");
    for l in lines {
        let n = l.rsplit(": ").next().unwrap();
        let mut words = n.split(' ');
        let first = words.next().unwrap();
        if let Some(second) = words.next() {
            assert_ne!(second, format!("({first})"), "{l}");
        }
    }
}

#[test]
fn completion_offers_values_not_files() {
    let d = tempfile::tempdir().unwrap();
    let o = run_in(d.path(), &["completions", "bash"]);
    let script = String::from_utf8_lossy(&o.stdout).into_owned();
    let case = |flag: &str| -> Vec<String> {
        let key = format!("{flag})");
        script
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim() == key)
            .map(|(i, _)| {
                script
                    .lines()
                    .nth(i + 1)
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            })
            .collect()
    };
    for (flag, word) in [("--server", "llama-server"), ("--kv-type", "q8_0")] {
        let cases = case(flag);
        assert!(!cases.is_empty(), "{flag}");
        for c in cases {
            assert!(c.contains("compgen -W") && c.contains(word), "{flag}: {c}");
        }
    }
    for flag in ["--rounds", "--ctx", "--timeout"] {
        for c in case(flag) {
            assert!(!c.contains("compgen -f"), "{flag}: {c}");
        }
    }
}

#[test]
fn help_names_every_server_kind() {
    let d = tempfile::tempdir().unwrap();
    let top = text(&run_in(d.path(), &["--help"]));
    for kind in ["Ollama", "llama-server", "LM Studio", "vLLM", "vllm-mlx"] {
        assert!(top.contains(kind), "{kind}: {top}");
    }
    let setup = text(&run_in(d.path(), &["help"]));
    let line = setup
        .lines()
        .find(|l| l.trim_start().starts_with("setup"))
        .unwrap();
    assert!(!line.contains("Ollama or llama-server"), "{line}");
    let setup_help = text(&run_in(d.path(), &["setup", "--help"]));
    assert!(setup_help.contains("vllm-mlx"), "{setup_help}");
}

#[test]
fn html_and_text_agree_and_a_passed_check_reads_as_passed() {
    let d = tempfile::tempdir().unwrap();
    let claude = repo("tests/fixtures/server-logs/claude-2.1.332-session-against-llama-server.txt");
    let server = repo("tests/fixtures/server-logs/llama-server-b11434-claude-session.log");
    let html = d.path().join("t.html");
    let o = run_in(
        d.path(),
        &[
            "logs",
            s(&claude),
            "--server-log",
            s(&server),
            "--server-ctx",
            "300000",
            "--html",
            s(&html),
        ],
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("session ") && l.contains("idle"))
        .unwrap_or_else(|| panic!("{out}"));
    let text_idle = line
        .split("idle ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let page = std::fs::read_to_string(&html).unwrap();
    let legend = page
        .lines()
        .find(|l| l.contains("class=\"legend\""))
        .unwrap();
    let html_idle = legend
        .rsplit("idle ")
        .next()
        .unwrap()
        .trim_end_matches("</p>");
    assert_eq!(text_idle, html_idle, "{line}\n{legend}");
    // The passed context check: a ✓ row marked ok, as the text shows it.
    assert!(out.contains("✓ context_mismatch"), "{out}");
    let row = page
        .lines()
        .find(|l| l.contains(">context_mismatch<"))
        .unwrap();
    assert!(
        row.contains("data-severity=\"ok\"") && row.contains('✓'),
        "{row}"
    );
}

#[test]
fn status_marks_each_compared_item_by_its_own_comparison() {
    use support::fake_vllm::{start, Config};
    let name = "Qwen/Qwen3-Coder-30B-A3B-Instruct";
    let srv = start(&Config::new("0.11.0", &[name], 16384));
    let t = TestHome::new();
    let o = t.run(&[
        "setup",
        "--yes",
        "--server",
        "vllm",
        "--model",
        name,
        "--ctx",
        "32768",
        "--claude-version",
        "2.1.332",
        "--host",
        &srv.base_url,
        "--force",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = t.run(&["status", "--timeout", "5"]);
    let out = text(&o);
    let live: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != "Live:")
        .skip(1)
        .take_while(|l| l.starts_with("  ["))
        .collect();
    assert!(!live.is_empty(), "{out}");
    let answers = live.iter().find(|l| l.contains("answers at")).unwrap();
    assert!(answers.contains("[✓]"), "{out}");
    let ctx = live.iter().find(|l| l.contains("served context")).unwrap();
    assert!(!ctx.contains("[✓]") && !ctx.contains("[·]"), "{out}");
    assert!(ctx.contains("differs"), "{out}");
    assert!(!out.contains("[·]"), "{out}");
}

/// An Ollama model whose blob in the store is not a model: setup with `--ctx` stops and asks
/// for `--kv-type` (it used to fall back to q8_0 without a word).
#[test]
fn a_damaged_ollama_blob_is_an_error_not_another_kv_policy() {
    let t = TestHome::new();
    let store = t.home().join(".ollama/models");
    let blob_hex = "ab".repeat(32);
    std::fs::create_dir_all(store.join("blobs")).unwrap();
    std::fs::write(
        store.join(format!("blobs/sha256-{blob_hex}")),
        "root:x:0:0:root:/root:/bin/bash\n",
    )
    .unwrap();
    let mdir = store.join("manifests/registry.ollama.ai/library/qwen3");
    std::fs::create_dir_all(&mdir).unwrap();
    std::fs::write(
        mdir.join("8b"),
        format!(
            r#"{{"schemaVersion":2,"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{blob_hex}","size":1}}]}}"#
        ),
    )
    .unwrap();
    let before = contents(&t.home());
    let o = t.run(&[
        "setup",
        "--yes",
        "--model",
        "qwen3:8b",
        "--ctx",
        "32K",
        "--memory",
        "16GiB",
        "--host",
        "http://127.0.0.1:9",
        "--claude-version",
        "2.1.332",
    ]);
    let all = text(&o);
    assert!(!o.status.success(), "{all}");
    assert!(all.contains("cannot read the model"), "{all}");
    assert!(all.contains("--kv-type"), "{all}");
    assert_eq!(contents(&t.home()), before, "something was written");
}
