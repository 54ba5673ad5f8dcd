//! llama.cpp's `llama-server` as `cclocal setup` configures it: its command line (one
//! generator, [`serve_args`]), the systemd user unit (Linux) or LaunchAgent (macOS) that
//! runs it, finding and checking the binary, the `systemctl --user` lines that start,
//! stop and restart it, and the restart fix the doctor prints. It takes plain data
//! ([`LlamaServe`]); setup builds that from its choices in one place. Flag meanings and
//! defaults: docs/llama-server.md.

use crate::error::{Error, Result};
use crate::server::serve::{Restart, ServeParts, ServeSettings};
use std::path::{Path, PathBuf};

/// The systemd user unit's file name (`~/.config/systemd/user/<UNIT_NAME>`).
pub const UNIT_NAME: &str = "cclocal-llama-server.service";
/// The LaunchAgent label (`~/Library/LaunchAgents/<label>.plist`).
pub const LAUNCH_AGENT_LABEL: &str = "com.cclocal.llama-server";
/// llama-server's default port (`--port`, llama.cpp `common/arg.cpp`).
pub const DEFAULT_PORT: u16 = crate::server::ServerKind::LlamaServer.default_port();

/// KV cache types llama-server accepts for `-ctk`/`-ctv` (llama.cpp `common/arg.cpp`,
/// `kv_cache_types`).
pub const LLAMA_KV_TYPES: &[&str] = &[
    "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1",
];

/// What setup needs to run llama-server, besides the common choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlamaServer {
    /// The `llama-server` executable (absolute).
    pub binary: PathBuf,
    /// The GGUF file it serves (absolute on the machine that runs the server).
    pub model_path: PathBuf,
    /// Where the server writes its log (`--log-file`), read by `cclocal logs`.
    pub log_file: PathBuf,
}

impl LlamaServer {
    /// Checks what reaches the command line: absolute UTF-8 paths without control characters.
    pub fn validate(&self) -> Result<()> {
        for (what, p) in [
            ("the llama-server binary", &self.binary),
            ("the model file", &self.model_path),
            ("the log file", &self.log_file),
        ] {
            let s = p.to_str().ok_or_else(|| {
                Error::usage(format!("the path of {what} is not UTF-8"))
                    .with_subject(p.display().to_string())
            })?;
            if !p.is_absolute() || s.chars().any(char::is_control) {
                return Err(Error::usage(format!(
                    "the path of {what} must be absolute and free of control characters"
                ))
                .with_subject(p.display().to_string()));
            }
        }
        Ok(())
    }
}

/// The name llama-server serves the model under (`--alias`) when none is given: the GGUF
/// file's name without `.gguf`. Commas are replaced (`--alias` splits on them).
pub fn default_alias(model_path: &Path) -> String {
    let stem = model_path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem
        .strip_suffix(".gguf")
        .or_else(|| stem.strip_suffix(".GGUF"))
        .unwrap_or(&stem);
    let alias: String = stem
        .chars()
        .map(|c| if c == ',' || c.is_control() { '_' } else { c })
        .collect();
    if alias.trim().is_empty() {
        "local-model".into()
    } else {
        alias
    }
}

/// Splits a server root (`http://HOST:PORT`) into the address llama-server binds and its
/// port. A server on another machine binds all interfaces.
pub fn bind_address(server_url: &str, remote: bool) -> Result<(String, u16)> {
    let u = crate::server::ServerUrl::parse(server_url, DEFAULT_PORT)?;
    if !u.prefix.is_empty() {
        return Err(Error::usage(format!(
            "server {server_url:?} has a path, but llama-server serves at the root"
        ))
        .with_hint("pass --host http://127.0.0.1:8080"));
    }
    let host = if remote {
        "0.0.0.0".to_string()
    } else {
        u.host
    };
    Ok((host, u.port))
}

/// llama-server's arguments for these settings (llama.cpp `tools/server/README.md`):
/// `-c` is the total context, shared by `-np` slots (an explicit `-np` keeps the cache
/// per slot, so each gets `-c / -np`); the cache type is given for K and V.
pub fn llama_server_args(s: &ServeSettings) -> Vec<String> {
    vec![
        "--ctx-size".to_string(),
        s.total_context().to_string(),
        "--parallel".to_string(),
        s.parallel.max(1).to_string(),
        "--cache-type-k".to_string(),
        s.kv_type.clone(),
        "--cache-type-v".to_string(),
        s.kv_type.clone(),
        "--flash-attn".to_string(),
        if s.flash_attn { "on" } else { "off" }.to_string(),
    ]
}

/// Everything the serve line, the unit and the LaunchAgent say: the files, the name the
/// model is served under, the server settings and the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlamaServe<'a> {
    pub files: &'a LlamaServer,
    /// `--alias`: the name Claude Code sends.
    pub alias: &'a str,
    pub settings: ServeSettings,
    /// The address it binds ([`bind_address`]).
    pub host: String,
    pub port: u16,
}

/// THE llama-server command line setup writes (without the program): the model and its
/// alias, then the server settings ([`llama_server_args`], the same words `cclocal plan`
/// prints: context, one slot, KV cache type, flash attention), then Jinja templates (tool
/// use), the address and the log file. The unit, the LaunchAgent and every printed hint
/// use it.
pub fn serve_args(s: &LlamaServe) -> Vec<String> {
    let mut v = vec![
        "-m".to_string(),
        s.files.model_path.display().to_string(),
        "--alias".into(),
        s.alias.to_string(),
    ];
    v.extend(llama_server_args(&s.settings));
    v.extend([
        "--jinja".to_string(),
        "--host".into(),
        s.host.clone(),
        "--port".into(),
        s.port.to_string(),
        "--log-file".into(),
        s.files.log_file.display().to_string(),
    ]);
    v
}

/// Quotes one word of a systemd command line (`ExecStart=`) so that systemd passes it to
/// the program unchanged (systemd.syntax(7) "Quoting", systemd.service(5) "Command
/// lines"): words of plain characters stay as they are; others are double-quoted with `\`
/// and `"` backslash-escaped, `%` (unit specifiers) doubled and `$` (variable expansion)
/// doubled. Control characters cannot be written and are refused.
pub fn systemd_quote_word(word: &str) -> Result<String> {
    if word.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "{word:?} contains a control character and cannot go on a systemd command line"
        )));
    }
    let plain = !word.is_empty()
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'-' | b'.' | b'/' | b':' | b'+' | b'=' | b',' | b'@'
                )
        });
    if plain {
        return Ok(word.to_string());
    }
    let mut out = String::from("\"");
    for c in word.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

/// Whether systemd runs a program at `path`: it refuses an executable name with a quote,
/// a backslash or a control character in it, however it is quoted or escaped ("Executable
/// name contains special characters", systemd's `string_is_safe()`; docs/llama-server.md).
pub fn systemd_can_run(path: &str) -> bool {
    !path
        .chars()
        .any(|c| c.is_control() || matches!(c, '"' | '\'' | '\\' | '\u{7f}'))
}

/// The `ExecStart=` value for `argv` (program first, which must be absolute).
pub fn exec_start(argv: &[String]) -> Result<String> {
    if let Some(program) = argv.first().filter(|p| !systemd_can_run(p)) {
        return Err(Error::usage(
            "systemd will not run a program whose path has a quote (' or \") or a backslash in it, however the unit quotes it; nothing was written",
        )
        .with_subject(program.clone())
        .with_hint(
            "move llama-server, or link it from a path without those characters (for example `ln -s PATH ~/.local/bin/llama-server`), and pass --llama-server with that path",
        ));
    }
    Ok(argv
        .iter()
        .map(|w| systemd_quote_word(w))
        .collect::<Result<Vec<_>>>()?
        .join(" "))
}

/// The full argv: the binary, then [`serve_args`].
pub fn argv(s: &LlamaServe) -> Vec<String> {
    let mut v = vec![s.files.binary.display().to_string()];
    v.extend(serve_args(s));
    v
}

/// The systemd user unit that runs llama-server.
pub fn systemd_user_unit(s: &LlamaServe) -> Result<Vec<u8>> {
    let exec = exec_start(&argv(s))?;
    let text = crate::shell::templates::render(
        "llama-server.service",
        minijinja::context! {
            model => s.alias,
            description => format!(
                "llama-server for Claude Code ({}, cclocal)",
                crate::shell::templates::comment_safe(s.alias).replace('%', "%%")
            ),
            context => s.settings.context,
            exec_start => exec,
            unit => UNIT_NAME,
        },
    )?;
    Ok(text.into_bytes())
}

/// The LaunchAgent that runs llama-server at login and keeps it running.
pub fn launch_agent(s: &LlamaServe) -> Result<Vec<u8>> {
    let args = argv(s);
    let log = s.files.log_file.display().to_string();
    let mut dict = plist::Dictionary::new();
    dict.insert(
        "Label".into(),
        plist::Value::String(LAUNCH_AGENT_LABEL.into()),
    );
    dict.insert(
        "ProgramArguments".into(),
        plist::Value::Array(args.into_iter().map(plist::Value::String).collect()),
    );
    dict.insert("RunAtLoad".into(), plist::Value::Boolean(true));
    dict.insert("KeepAlive".into(), plist::Value::Boolean(true));
    // llama-server writes its own log to --log-file; launchd's copies of stdout/stderr go
    // next to it, so a crash before logging starts is visible too.
    dict.insert(
        "StandardOutPath".into(),
        plist::Value::String(format!("{log}.stdout")),
    );
    dict.insert(
        "StandardErrorPath".into(),
        plist::Value::String(format!("{log}.stderr")),
    );
    let mut out = Vec::new();
    plist::Value::Dictionary(dict)
        .to_writer_xml(&mut out)
        .expect("plist serializes to memory");
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    Ok(out)
}

/// The user unit's path under `xdg_config` (`$XDG_CONFIG_HOME` or `~/.config`).
pub fn unit_path(xdg_config: &Path) -> PathBuf {
    xdg_config.join("systemd/user").join(UNIT_NAME)
}

/// The llama-server binary: `explicit` (`--llama-server PATH`), else `llama-server` on
/// `path` (Homebrew's included). A clear error with install hints when there is none.
pub fn find_binary(explicit: Option<&Path>, path: Option<&std::ffi::OsStr>) -> Result<PathBuf> {
    let usable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if let Some(p) = explicit {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        if usable(&abs) {
            return Ok(abs);
        }
        return Err(Error::not_found(
            "the llama-server given with --llama-server is not an executable file",
        )
        .with_subject(p.display().to_string())
        .with_hint("pass the path of llama.cpp's llama-server binary"));
    }
    if let Some(path) = path {
        for dir in std::env::split_paths(path) {
            let p = dir.join("llama-server");
            if p.is_absolute() && usable(&p) {
                return Ok(p);
            }
        }
    }
    Err(Error::not_found("llama-server is not on PATH").with_hint(
        "install llama.cpp (macOS: `brew install llama.cpp`; Linux: a release from https://github.com/ggml-org/llama.cpp/releases or a build), or pass --llama-server PATH",
    ))
}

/// How long `llama-server --version` may take (it prints and exits at once; a program that
/// waits is not llama-server).
pub const VERSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether `--version` output is llama.cpp's: a `version: …` line and a `built with …`
/// line (docs/llama-server.md "Checking the binary").
pub fn is_llama_cpp_version(output: &str) -> bool {
    let has = |prefix: &str| output.lines().any(|l| l.trim_start().starts_with(prefix));
    has("version:") && has("built with")
}

/// Runs `binary --version` and checks that llama.cpp answered: a unit that runs `/bin/true`
/// or another program would "start" and serve nothing.
pub fn check_binary(binary: &Path) -> Result<()> {
    let hint = "pass the path of llama.cpp's llama-server binary (`llama-server --version` \
                prints `version: …` and `built with …`)";
    let out = crate::process::run_for(binary, &["--version"], VERSION_TIMEOUT).map_err(|e| {
        let why = match e {
            crate::process::RunError::TimedOut => format!(
                "`--version` did not finish within {} s",
                VERSION_TIMEOUT.as_secs()
            ),
            other => format!("`--version` could not run: {other}"),
        };
        Error::usage(format!("this is not llama-server: {why}"))
            .with_subject(binary.display().to_string())
            .with_hint(hint)
    })?;
    let text = format!("{}\n{}", out.stdout, out.stderr);
    if is_llama_cpp_version(&text) {
        return Ok(());
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| {
            let cut: String = l.chars().take(80).collect();
            format!("it printed {cut:?}")
        })
        .unwrap_or_else(|| "it printed nothing".to_string());
    Err(Error::usage(format!(
        "this is not llama-server: `--version` did not print llama.cpp's version ({first})"
    ))
    .with_subject(binary.display().to_string())
    .with_hint(hint))
}

/// What to run after the unit is written, as shell commands (printed when the user's
/// systemd does not answer).
pub fn systemd_start_commands() -> Vec<Vec<String>> {
    [
        &["systemctl", "--user", "daemon-reload"][..],
        &["systemctl", "--user", "enable", "--now", UNIT_NAME][..],
        &["systemctl", "--user", "restart", UNIT_NAME][..],
    ]
    .iter()
    .map(|c| c.iter().map(|s| s.to_string()).collect())
    .collect()
}

/// What to run before the unit is removed by undo.
pub fn systemd_stop_commands() -> Vec<Vec<String>> {
    vec![["systemctl", "--user", "disable", "--now", UNIT_NAME]
        .iter()
        .map(|s| s.to_string())
        .collect()]
}

/// What a setup run did to llama-server's user unit, as undo reads it from the run's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitChange {
    Created,
    Modified,
}

/// The `systemctl --user` commands undo runs for llama-server's unit when taking back a
/// run that made `changes` to it: before the files are restored (a unit the run created
/// is disabled and stopped while its file still exists) and after (a unit the run changed
/// is reloaded and restarted with its previous content).
pub fn undo_service_commands(changes: &[UnitChange]) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let words = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let mut before = Vec::new();
    let mut after = Vec::new();
    for c in changes {
        match c {
            UnitChange::Created => {
                before = systemd_stop_commands();
                after = vec![words(&["systemctl", "--user", "daemon-reload"])];
            }
            UnitChange::Modified => {
                after = vec![
                    words(&["systemctl", "--user", "daemon-reload"]),
                    words(&["systemctl", "--user", "restart", UNIT_NAME]),
                ];
            }
        }
    }
    (before, after)
}

/// The unit's path relative to the XDG config folder (`systemd/user/<UNIT_NAME>`).
pub fn unit_tail() -> PathBuf {
    Path::new("systemd/user").join(UNIT_NAME)
}

/// llama-server's row parts ([`crate::server::KINDS`]).
pub const PARTS: ServeParts = ServeParts {
    files: &[UNIT_NAME, "com.cclocal.llama-server.plist"],
    installed: |p| vec![unit_path(&p.xdg_config), p.launch_agent(LAUNCH_AGENT_LABEL)],
    restart: restart_fix,
};

/// What restarts llama-server with the unit setup wrote.
pub fn restart_fix(r: &Restart) -> String {
    format!(
        "systemctl --user restart {UNIT_NAME}   (llama-server serves what setup's unit says only once restarted; without a user systemd, stop the llama-server that runs and start the ExecStart= line of {} directly)",
        r.shown(&unit_path(&r.paths.xdg_config))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// systemd's own unquoting (systemd.syntax(7)), for the round trip: whitespace splits
    /// words, double or single quotes group, `\` escapes inside and outside quotes,
    /// `%%` is `%` and `$$` is `$`.
    fn systemd_split(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut cur = String::new();
        let mut in_word = false;
        let mut quote: Option<char> = None;
        let mut it = line.chars().peekable();
        while let Some(c) = it.next() {
            match (quote, c) {
                (None, ' ') => {
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                (None, '"' | '\'') => {
                    quote = Some(c);
                    in_word = true;
                }
                (Some(q), c) if c == q => quote = None,
                (_, '\\') => {
                    cur.push(it.next().unwrap());
                    in_word = true;
                }
                (_, '%') | (_, '$') => {
                    assert_eq!(it.next(), Some(c), "a lone {c} in {line}");
                    cur.push(c);
                    in_word = true;
                }
                (_, c) => {
                    cur.push(c);
                    in_word = true;
                }
            }
        }
        assert!(quote.is_none(), "unterminated quote in {line}");
        if in_word {
            words.push(cur);
        }
        words
    }

    #[test]
    fn the_row_names_the_files_setup_writes() {
        assert!(PARTS.files.contains(&UNIT_NAME));
        assert!(PARTS
            .files
            .contains(&format!("{LAUNCH_AGENT_LABEL}.plist").as_str()));
    }

    #[test]
    fn quoting_round_trips() {
        let words: Vec<String> = [
            "/usr/bin/llama-server",
            "/home/me/My Models/gemma 3.gguf",
            "50%",
            "$HOME",
            "${X}",
            "a\"b",
            "back\\slash",
            "it's",
            "",
            "é ü",
            ";",
            "plain-word_1.0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let line = exec_start(&words).unwrap();
        assert_eq!(systemd_split(&line), words, "{line}");
        assert_eq!(
            systemd_quote_word("/m/My Models/a.gguf").unwrap(),
            "\"/m/My Models/a.gguf\""
        );
        assert_eq!(systemd_quote_word("50%").unwrap(), "\"50%%\"");
        assert_eq!(systemd_quote_word("$HOME").unwrap(), "\"$$HOME\"");
        assert_eq!(systemd_quote_word("-c").unwrap(), "-c");
        assert!(systemd_quote_word("a\nb").is_err());
    }

    #[test]
    fn a_program_path_systemd_refuses_is_refused() {
        // systemd 252 `systemd-analyze verify`: "Executable name contains special
        // characters" for each of these, quoted or not; arguments may hold them.
        for bad in [
            "/opt/it's/llama-server",
            "/opt/a\"b/llama-server",
            "/opt/a\\b/llama-server",
        ] {
            let e = exec_start(&[bad.to_string(), "-m".into()]).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::Usage, "{bad}");
            assert!(e.message.contains("systemd will not run"), "{e}");
            assert_eq!(e.subject.as_deref(), Some(bad));
        }
        let ok = exec_start(&["/opt/llama-server".into(), "/m/it's \"x\"\\.gguf".into()]).unwrap();
        assert!(ok.starts_with("/opt/llama-server "), "{ok}");
    }

    #[test]
    fn bind_addresses() {
        assert_eq!(
            bind_address("http://127.0.0.1:8080", false).unwrap(),
            ("127.0.0.1".into(), 8080)
        );
        assert_eq!(
            bind_address("http://[::1]:9000", false).unwrap(),
            ("::1".into(), 9000)
        );
        assert_eq!(
            bind_address("http://gpu-box:8081", true).unwrap(),
            ("0.0.0.0".into(), 8081)
        );
        assert_eq!(
            bind_address("127.0.0.1", false).unwrap(),
            ("127.0.0.1".into(), DEFAULT_PORT)
        );
        assert!(bind_address("http://h:8080/proxy", false).is_err());
        assert!(bind_address("https://h", false).is_err());
        assert!(bind_address("http://h:0", false).is_err());
    }

    #[test]
    fn aliases() {
        assert_eq!(
            default_alias(Path::new("/m/gemma-3-270m-q4_k_m.gguf")),
            "gemma-3-270m-q4_k_m"
        );
        assert_eq!(default_alias(Path::new("/m/a,b.GGUF")), "a_b");
        assert_eq!(default_alias(Path::new("/")), "local-model");
    }

    #[test]
    fn missing_binary_says_how_to_install() {
        let d = tempfile::tempdir().unwrap();
        let e = find_binary(None, Some(d.path().as_os_str())).unwrap_err();
        assert!(e.message.contains("not on PATH"), "{}", e.message);
        assert!(e
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("brew install llama.cpp"));
        let f = d.path().join("llama-server");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        // Not executable yet.
        assert!(find_binary(Some(&f), None).is_err());
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_binary(None, Some(d.path().as_os_str())).unwrap(), f);
        assert_eq!(find_binary(Some(&f), None).unwrap(), f);
    }
}
