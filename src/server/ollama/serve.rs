//! Ollama as `cclocal setup` configures it: the server variables (one generator, [`env`],
//! the lines `cclocal plan` prints), the systemd drop-in for `ollama.service` (Linux), the
//! LaunchAgent that sets them at login (macOS), the script that installs either on another
//! machine, and what restarts Ollama so that it reads them (docs/ollama.md).

use crate::error::Result;
use crate::server::serve::{env_words, Restart, ServeParts, ServeSettings};
use crate::shell::quote::sh_quote;
use crate::shell::templates::{heredoc_delimiter, render};

/// The LaunchAgent label (the plist is `<label>.plist`).
pub const LAUNCH_AGENT_LABEL: &str = "com.cclocal.ollama-env";
/// The drop-in's file name (`/etc/systemd/system/ollama.service.d/<DROPIN>`).
pub const DROPIN: &str = "cclocal.conf";
/// The drop-in's folder on a Linux server.
pub const DROPIN_DIR: &str = "/etc/systemd/system/ollama.service.d";

/// The script that applies the settings on another machine running `os` (`linux`,
/// `macos`).
pub fn script_name(os: &str) -> String {
    format!("ollama-{os}.sh")
}

/// Ollama's row parts ([`crate::server::KINDS`]).
pub const PARTS: ServeParts = ServeParts {
    files: &[
        DROPIN,
        "ollama-linux.sh",
        "ollama-macos.sh",
        "com.cclocal.ollama-env.plist",
    ],
    installed: |p| vec![p.launch_agent(LAUNCH_AGENT_LABEL)],
    restart: restart_fix,
};

/// The Ollama server variables, in a fixed order. Only variables that exist (Ollama's
/// `envconfig`; there is no `OLLAMA_NUM_BATCH`): `OLLAMA_CONTEXT_LENGTH` is the context of
/// one request, Ollama multiplies it by `OLLAMA_NUM_PARALLEL` itself.
pub fn env(s: &ServeSettings) -> Vec<(String, String)> {
    let mut v = vec![
        ("OLLAMA_CONTEXT_LENGTH".to_string(), s.context.to_string()),
        (
            "OLLAMA_FLASH_ATTENTION".to_string(),
            if s.flash_attn { "1" } else { "0" }.to_string(),
        ),
        ("OLLAMA_KV_CACHE_TYPE".to_string(), s.kv_type.clone()),
    ];
    if s.parallel > 1 {
        v.push(("OLLAMA_NUM_PARALLEL".to_string(), s.parallel.to_string()));
    }
    if let Some(k) = &s.keep_alive {
        v.push(("OLLAMA_KEEP_ALIVE".to_string(), k.clone()));
    }
    v
}

/// The systemd drop-in for `ollama.service`.
pub fn systemd_dropin(s: &ServeSettings) -> Result<Vec<u8>> {
    Ok(render("ollama-dropin.conf", minijinja::context! { env => env(s) })?.into_bytes())
}

/// The LaunchAgent that runs `launchctl setenv` for each variable at login (RunAtLoad).
pub fn launch_agent(s: &ServeSettings) -> Vec<u8> {
    let script = env(s)
        .iter()
        .map(|(k, v)| format!("/bin/launchctl setenv {k} {}", sh_quote(v)))
        .collect::<Vec<_>>()
        .join("; ");
    let mut dict = plist::Dictionary::new();
    dict.insert(
        "Label".into(),
        plist::Value::String(LAUNCH_AGENT_LABEL.into()),
    );
    dict.insert(
        "ProgramArguments".into(),
        plist::Value::Array(vec![
            "/bin/sh".into(),
            "-c".into(),
            plist::Value::String(script),
        ]),
    );
    dict.insert("RunAtLoad".into(), plist::Value::Boolean(true));
    let mut out = Vec::new();
    plist::Value::Dictionary(dict)
        .to_writer_xml(&mut out)
        .expect("plist serializes to memory");
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

/// A self-contained script that applies the server settings on the server host (`macos`:
/// a Mac, else Linux; the file content is embedded in a quoted heredoc, so nothing in it
/// is expanded).
pub fn server_script(s: &ServeSettings, macos: bool, run_hint: &str) -> Result<Vec<u8>> {
    let summary = env_words(&env(s));
    let text = if macos {
        let plist = String::from_utf8(launch_agent(s)).expect("plist XML is UTF-8");
        render(
            "server-macos.sh",
            minijinja::context! {
                run_hint => run_hint,
                label => LAUNCH_AGENT_LABEL,
                delimiter => heredoc_delimiter(&plist),
                plist => plist,
                done_message => format!("Set {summary}. Quit Ollama from the menu bar and open it again so that it reads them."),
            },
        )?
    } else {
        let dropin = String::from_utf8(systemd_dropin(s)?).expect("utf-8");
        render(
            "server-linux.sh",
            minijinja::context! {
                run_hint => run_hint,
                dropin_dir => DROPIN_DIR,
                dropin_path => format!("{DROPIN_DIR}/{DROPIN}"),
                delimiter => heredoc_delimiter(&dropin),
                dropin => dropin,
                done_message => format!("Ollama restarted with {summary}"),
            },
        )?
    };
    Ok(text.into_bytes())
}

/// What restarts Ollama so that it reads the variables setup set.
pub fn restart_fix(r: &Restart) -> String {
    if r.macos {
        return "quit the Ollama app and open it again (with brew services: `brew services restart ollama`): Ollama reads the variables setup set only when it starts".into();
    }
    format!(
        "sudo systemctl daemon-reload && sudo systemctl restart ollama   (Ollama reads setup's drop-in only when it restarts; an `ollama serve` started by hand: stop it and run OLLAMA_CONTEXT_LENGTH={} OLLAMA_KV_CACHE_TYPE={} OLLAMA_FLASH_ATTENTION={} OLLAMA_KEEP_ALIVE={} ollama serve)",
        r.settings.context,
        r.settings.kv_type,
        if r.settings.flash_attn { "1" } else { "0" },
        r.settings.keep_alive.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_names_the_files_setup_writes() {
        for f in [
            DROPIN.to_string(),
            script_name("linux"),
            script_name("macos"),
            format!("{LAUNCH_AGENT_LABEL}.plist"),
        ] {
            assert!(PARTS.files.contains(&f.as_str()), "{f}");
        }
    }

    #[test]
    fn variables_in_order() {
        let mut s = ServeSettings::new(65_536, "q8_0");
        s.parallel = 2;
        s.keep_alive = Some("30m".into());
        assert_eq!(
            env_words(&env(&s)),
            "OLLAMA_CONTEXT_LENGTH=65536 OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=q8_0 \
             OLLAMA_NUM_PARALLEL=2 OLLAMA_KEEP_ALIVE=30m"
        );
        let s = ServeSettings {
            flash_attn: false,
            ..ServeSettings::new(32_768, "f16")
        };
        assert_eq!(
            env_words(&env(&s)),
            "OLLAMA_CONTEXT_LENGTH=32768 OLLAMA_FLASH_ATTENTION=0 OLLAMA_KV_CACHE_TYPE=f16"
        );
    }
}
