//! `cclocal setup` and `cclocal undo` end to end in a throwaway HOME: what is written, that
//! a second run touches nothing, that undo restores every byte, that a dry run writes
//! nothing, and that failures leave no half-written file.
use crate::support::setup_home;

use cclocal::claude::Version;
use cclocal::setup::{apply, build_plan, Choices, Host, Part, Paths, TargetOs};
use setup_home::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn setup_writes_then_second_run_touches_nothing_then_undo_restores_bytes() {
    let t = TestHome::new();
    let home = t.home();
    let original_json = realistic_claude_json();
    std::fs::write(home.join(".claude.json"), &original_json).unwrap();
    std::fs::set_permissions(
        home.join(".claude.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let before = contents(t.dir.path());

    let o = t.setup(&["--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("wrote 5 file(s)"), "{}", text(&o));
    let launcher = home.join(".local/bin/claude-local");
    assert_eq!(
        std::fs::metadata(&launcher).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let dropin = t
        .root()
        .join("etc/systemd/system/ollama.service.d/cclocal.conf");
    assert!(std::fs::read_to_string(&dropin)
        .unwrap()
        .contains("Environment=\"OLLAMA_CONTEXT_LENGTH=65536\""));
    assert!(!std::fs::read_to_string(&dropin)
        .unwrap()
        .contains("NUM_BATCH"));

    // ~/.claude.json: one line added at the top, every other byte as it was, mode kept.
    let new_json = std::fs::read_to_string(home.join(".claude.json")).unwrap();
    assert_eq!(
        new_json,
        format!(
            "{{\n  \"hasCompletedOnboarding\": true,\n{}",
            &original_json[2..]
        )
    );
    assert_eq!(
        std::fs::metadata(home.join(".claude.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let old: serde_json::Value = serde_json::from_str(&original_json).unwrap();
    let new: serde_json::Value = serde_json::from_str(&new_json).unwrap();
    let old_keys: Vec<&String> = old.as_object().unwrap().keys().collect();
    let new_keys: Vec<&String> = new.as_object().unwrap().keys().collect();
    assert_eq!(new_keys[0], "hasCompletedOnboarding");
    assert_eq!(&new_keys[1..], &old_keys[..]);
    for k in old_keys {
        assert_eq!(old[k], new[k], "{k}");
    }

    // Second identical run: nothing to change, no file touched (mtimes too), no new run.
    let after_first = tree(t.dir.path());
    let o = t.setup(&["--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("nothing to change"), "{}", text(&o));
    assert_eq!(tree(t.dir.path()), after_first);

    // Undo: byte-for-byte the tree before setup (apart from cclocal's own history).
    let o = t.run(&["undo"]);
    assert!(o.status.success(), "{}", text(&o));
    let mut now = contents(t.dir.path());
    now.retain(|k, _| !k.starts_with("home/.local/state/") && k != "home/.local/");
    let mut want = before.clone();
    want.retain(|k, _| k != "home/.local/");
    assert_eq!(
        now.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    assert_eq!(now, want);
    let list = t.run(&["undo", "--list"]);
    assert!(text(&list).contains("(undone "), "{}", text(&list));
    // Nothing left to undo.
    assert!(text(&t.run(&["undo"])).contains("nothing to undo"));
}

#[test]
fn dry_run_writes_nothing_and_shows_diffs() {
    let t = TestHome::new();
    std::fs::write(
        t.home().join(".claude.json"),
        "{\n  \"numStartups\": 1\n}\n",
    )
    .unwrap();
    let before = tree(t.dir.path());
    let o = t.setup(&["--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("+++ ") && out.contains("+export CLAUDE_CODE_MAX_CONTEXT_TOKENS=65536"),
        "{out}"
    );
    assert!(
        out.contains("+  \"hasCompletedOnboarding\": true,"),
        "{out}"
    );
    assert!(out.contains("dry run: nothing was written"));
    assert_eq!(tree(t.dir.path()), before);
}

#[test]
fn no_terminal_without_yes_never_waits_and_says_which_flags() {
    let t = TestHome::new();
    let before = tree(t.dir.path());
    let o = t.setup(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("--yes") && out.contains("--model qwen3-coder:30b --ctx 65536"),
        "{out}"
    );
    assert_eq!(tree(t.dir.path()), before);
    // Without a model and no way to ask: a clear usage error.
    let o = t.run(&["setup", "--yes", "--ctx", "65536"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--model"), "{}", text(&o));
}

#[test]
fn invalid_claude_json_is_reported_and_left_alone() {
    let t = TestHome::new();
    std::fs::write(t.home().join(".claude.json"), "{\"numStartups\": 1,,}").unwrap();
    let before = tree(t.dir.path());
    let o = t.setup(&["--yes"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("is not valid JSON") && text(&o).contains("--skip onboarding"),
        "{}",
        text(&o)
    );
    assert_eq!(tree(t.dir.path()), before);
    // Skipping that part works and leaves the file alone.
    let o = t.setup(&["--yes", "--skip", "onboarding"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read(t.home().join(".claude.json")).unwrap(),
        b"{\"numStartups\": 1,,}"
    );
}

#[test]
fn unreadable_config_is_refused() {
    let t = TestHome::new();
    let cfg = t.home().join(".config/cclocal/config.toml");
    std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    std::fs::write(&cfg, "model = [").unwrap();
    let before = tree(t.dir.path());
    let o = t.setup(&["--yes"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("cannot be read"), "{}", text(&o));
    assert_eq!(tree(t.dir.path()), before);
}

#[test]
fn config_lets_a_later_run_change_one_value() {
    let t = TestHome::new();
    assert!(t.setup(&["--yes"]).status.success());
    // Only the context changes; model, server, version come from config.toml.
    let o = t.run(&[
        "setup",
        "--yes",
        "--ctx",
        "32768",
        "--claude-version",
        "2.1.332",
        "--system-root",
        t.root().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let launcher = std::fs::read_to_string(t.home().join(".local/bin/claude-local")).unwrap();
    assert!(
        launcher.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS=32768"),
        "{launcher}"
    );
    assert!(launcher.contains("--model qwen3-coder:30b"));
    assert!(launcher.contains("ANTHROPIC_BASE_URL=http://127.0.0.1:9\n"));
    // Two runs recorded; undo takes back only the second.
    assert!(t.run(&["undo"]).status.success());
    let launcher = std::fs::read_to_string(t.home().join(".local/bin/claude-local")).unwrap();
    assert!(
        launcher.contains("CLAUDE_CODE_MAX_CONTEXT_TOKENS=65536"),
        "{launcher}"
    );
}

#[test]
fn undo_leaves_an_edited_owned_file_names_it_and_takes_back_the_rest() {
    let t = TestHome::new();
    assert!(t.setup(&["--yes", "--only", "launcher"]).status.success());
    let settings = t.home().join(".config/cclocal/claude-settings.json");
    std::fs::write(&settings, "{\"env\": {}}\n").unwrap();
    let o = t.run(&["undo"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("changed after cclocal wrote it") && text(&o).contains("rm "),
        "{}",
        text(&o)
    );
    assert!(
        !t.home().join(".local/bin/claude-local").exists(),
        "the rest of the run is undone"
    );
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        "{\"env\": {}}\n",
        "the user's edit is kept"
    );
    // --force takes back an owned file regardless.
    assert!(t.setup(&["--yes", "--only", "launcher"]).status.success());
    std::fs::write(&settings, "{\"env\": {\"A\": \"1\"}}\n").unwrap();
    let o = t.run(&["undo", "--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        "{\"env\": {}}\n",
        "restored to what the forced run replaced"
    );
}

/// Issue 21 (ghost undo hint): the "(or `cclocal undo --force` now)" an undo prints for an
/// edited owned file works: the forced undo takes that file back instead of saying "nothing
/// to undo", and then there is nothing left.
#[test]
fn undo_force_after_an_undo_that_left_a_file_takes_it_back() {
    let t = TestHome::new();
    assert!(t.setup(&["--yes", "--only", "launcher"]).status.success());
    let settings = t.home().join(".config/cclocal/claude-settings.json");
    std::fs::write(&settings, "{\"env\": {}}\n").unwrap();
    let o = t.run(&["undo"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("cclocal undo --force"), "{}", text(&o));
    let o = t.run(&["undo", "--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("nothing to undo"), "{}", text(&o));
    assert!(
        !settings.exists(),
        "the forced undo removed the settings file setup created"
    );
    assert!(
        !t.home().join(".local/bin/claude-local").exists(),
        "the launcher stays undone"
    );
    let o = t.run(&["undo", "--force"]);
    assert!(text(&o).contains("nothing to undo"), "{}", text(&o));
    let o = t.run(&["undo"]);
    assert!(text(&o).contains("nothing to undo"), "{}", text(&o));
}

#[test]
fn read_only_directory_gives_a_clear_error_and_no_half_written_file() {
    let t = TestHome::new();
    let bin = t.home().join(".local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(t.home().join(".claude.json"), "{}\n").unwrap();
    let args = t.setup_args(&["--yes"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let cmd = unprivileged(t.command(&refs), t.dir.path());
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = contents(t.dir.path());
    let o = { cmd }.output().unwrap();
    assert!(!o.status.success());
    let out = text(&o);
    assert!(
        out.contains("could not create a temporary file") && out.contains(".local/bin"),
        "{out}"
    );
    assert!(out.contains("nothing was changed"), "{out}");
    // Every file as before; at most cclocal's (empty) history directory is new.
    let mut now = contents(t.dir.path());
    now.retain(|k, _| !k.starts_with("home/.local/state/"));
    assert_eq!(now, before);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn choices() -> Choices {
    Choices {
        server_url: "http://127.0.0.1:11434".into(),
        remote: false,
        model: "m".into(),
        context: 32768,
        kv_cache_type: "f16".into(),
        flash_attention: true,
        keep_alive: "5m".into(),
        launcher_name: "claude-local".into(),
        auth_token: "ollama".into(),
        claude_version: Version(2, 1, 332),
        target: TargetOs::Linux,
        parts: vec![Part::Launcher, Part::Onboarding],
        llama_server: None,
        chosen: Default::default(),
    }
}

#[test]
fn a_concurrent_change_is_detected_and_nothing_is_left_half_done() {
    let t = TestHome::new();
    let home = t.home();
    std::fs::write(home.join(".claude.json"), "{\n  \"numStartups\": 1\n}\n").unwrap();
    let paths = Paths::under(&home);
    let host = Host {
        os: TargetOs::Linux,
        is_root: false,
        uid: 1000,
        system_root: t.root(),
        app_context_length: None,
        brew_service: None,
    };
    let built = build_plan(&paths, &choices(), &host).unwrap();
    // Someone writes cclocal's own settings file between plan and apply.
    let settings = paths.claude_settings();
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, "{}\n").unwrap();
    let before = contents(t.dir.path());
    let runs = paths.runs_dir();
    let err = apply(
        &built.plan,
        Some(cclocal::setup::Record {
            runs_dir: &runs,
            command: "setup",
        }),
    )
    .unwrap_err();
    assert!(
        err.message.contains("changed after cclocal read it"),
        "{err}"
    );
    assert_eq!(err.subject.as_deref(), Some(settings.to_str().unwrap()));
    let mut now = contents(t.dir.path());
    now.retain(|k, _| !k.starts_with("home/.local/state/") && k != "home/.local/");
    assert_eq!(
        now, before,
        "the launcher written before the conflict was taken back"
    );
    assert!(
        cclocal::setup::manifest::list_runs(&runs)
            .unwrap()
            .is_empty(),
        "no run recorded"
    );
}

#[test]
fn a_claude_code_write_between_plan_and_apply_is_kept_and_the_key_added_to_it() {
    let t = TestHome::new();
    let home = t.home();
    std::fs::write(home.join(".claude.json"), "{\n  \"numStartups\": 1\n}\n").unwrap();
    let paths = Paths::under(&home);
    let host = Host {
        os: TargetOs::Linux,
        is_root: false,
        uid: 1000,
        system_root: t.root(),
        app_context_length: None,
        brew_service: None,
    };
    let built = build_plan(&paths, &choices(), &host).unwrap();
    // Claude Code rewrites its file between plan and apply.
    std::fs::write(
        home.join(".claude.json"),
        "{\n  \"numStartups\": 2,\n  \"x\": 1\n}\n",
    )
    .unwrap();
    let runs = paths.runs_dir();
    apply(
        &built.plan,
        Some(cclocal::setup::Record {
            runs_dir: &runs,
            command: "setup",
        }),
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(home.join(".claude.json")).unwrap(),
        "{\n  \"hasCompletedOnboarding\": true,\n  \"numStartups\": 2,\n  \"x\": 1\n}\n"
    );
    // The backup is the content that was replaced, not the stale first read.
    let m = &cclocal::setup::manifest::list_runs(&runs).unwrap()[0];
    let e = m
        .entries
        .iter()
        .find(|e| e.path.ends_with(".claude.json"))
        .unwrap();
    assert_eq!(
        cclocal::setup::manifest::saved_bytes(&runs, m, e.before.as_deref().unwrap()).unwrap(),
        b"{\n  \"numStartups\": 2,\n  \"x\": 1\n}\n"
    );
}

/// A relative CLAUDE_CONFIG_DIR is taken from the current directory, as Claude Code takes
/// it (setup wrote ~/.claude.json while the doctor and Claude Code read the relative
/// folder): setup writes the `.claude.json` Claude Code started here reads.
#[test]
fn a_relative_claude_config_dir_is_taken_from_the_current_directory() {
    let t = TestHome::new();
    let work = t.dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let args = t.setup_args(&["--yes", "--only", "onboarding"]);
    let o = t
        .command(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .env("CLAUDE_CONFIG_DIR", "cfg")
        .current_dir(&work)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(work.join("cfg/.claude.json").is_file(), "{}", text(&o));
    assert!(!t.home().join(".claude.json").exists());
}
