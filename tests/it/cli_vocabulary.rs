//! One CLI vocabulary: every subcommand walked through clap's own description of it. A long
//! flag means one thing everywhere (one value parser, one placeholder), old spellings
//! still parse, and every command that reports has `--json`.

use cclocal::cli::{command, Cli};
use clap::{Arg, ArgAction, Command, CommandFactory, Parser};
use std::collections::BTreeMap;

#[test]
fn clap_debug_assert() {
    Cli::command().debug_assert();
    command().debug_assert();
}

/// Every (path, subcommand) pair, depth first.
fn walk(cmd: &Command, path: String, out: &mut Vec<(String, Command)>) {
    out.push((path.clone(), cmd.clone()));
    for sc in cmd.get_subcommands() {
        walk(sc, format!("{path} {}", sc.get_name()), out);
    }
}

fn all_commands() -> Vec<(String, Command)> {
    let mut cmd = command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, "cclocal".into(), &mut out);
    out
}

/// Values that tell parsers apart: context lengths, cache types, switches, addresses,
/// sizes, versions and garbage.
const PROBES: &[&str] = &[
    "32K",
    "32768",
    "1M",
    "0",
    "-1",
    "1.5",
    "abc",
    "on",
    "off",
    "yes",
    "both",
    "q8_0",
    "Q8_0",
    "q9",
    "127.0.0.1:11434",
    "http://127.0.0.1:11434",
    "https://box.lan",
    "box:99999",
    "http://box:11434/v1",
    "64GB",
    "24GiB",
    "2.1.332",
    "bash",
    "",
];

/// How one flag parses each probe (accepted or not), with its value type: two parsers that
/// differ on any probe are two meanings.
fn behaviour(arg: &Arg) -> (String, Vec<bool>) {
    let parser = arg.get_value_parser().clone();
    let ty = format!("{:?}", parser.type_id());
    let probe = Arg::new("x")
        .long("x")
        .action(ArgAction::Set)
        .num_args(1)
        .allow_hyphen_values(true)
        .ignore_case(arg.is_ignore_case_set())
        .value_parser(parser);
    let accepts = PROBES
        .iter()
        .map(|p| {
            Command::new("probe")
                .no_binary_name(true)
                .arg(probe.clone())
                .try_get_matches_from(["--x", p])
                .is_ok()
        })
        .collect();
    (ty, accepts)
}

#[derive(Debug, PartialEq)]
struct Meaning {
    takes_value: bool,
    value_names: Vec<String>,
    parser_type: String,
    accepts: Vec<bool>,
}

fn meaning(arg: &Arg) -> Meaning {
    let takes_value = arg.get_action().takes_values();
    let (parser_type, accepts) = if takes_value {
        behaviour(arg)
    } else {
        (String::new(), Vec::new())
    };
    Meaning {
        takes_value,
        value_names: if takes_value {
            arg.get_value_names()
                .unwrap_or_default()
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            Vec::new()
        },
        parser_type,
        accepts,
    }
}

#[test]
fn a_long_flag_has_one_parser_and_one_placeholder() {
    let mut seen: BTreeMap<String, (String, Meaning)> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut flags = 0;
    for (path, cmd) in all_commands() {
        for arg in cmd.get_arguments() {
            let Some(long) = arg.get_long() else {
                continue;
            };
            if matches!(long, "help" | "version") {
                continue;
            }
            flags += 1;
            let m = meaning(arg);
            if m.takes_value && m.value_names.is_empty() {
                problems.push(format!("{path} --{long} has no placeholder (value_name)"));
            }
            match seen.get(long) {
                None => {
                    seen.insert(long.to_string(), (path.clone(), m));
                }
                Some((first, m0)) if *m0 != m => problems.push(format!(
                    "--{long} means two things:\n  {first}: {m0:?}\n  {path}: {m:?}"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(flags > 40, "walked only {flags} flags");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn shared_flags_are_on_every_command_that_needs_them() {
    let cmds = all_commands();
    let has = |name: &str, long: &str| {
        cmds.iter()
            .find(|(p, _)| p == &format!("cclocal {name}"))
            .unwrap_or_else(|| panic!("no command {name}"))
            .1
            .get_arguments()
            .any(|a| a.get_long() == Some(long))
    };
    for (long, commands) in [
        ("ctx", &["plan", "setup", "bench"][..]),
        ("server-ctx", &["logs"]),
        ("kv-type", &["plan", "setup", "bench"]),
        ("flash-attn", &["plan", "setup", "bench"]),
        ("host", &["doctor", "setup", "logs", "status"]),
        ("memory", &["plan", "setup"]),
        ("mac-ram", &["plan", "setup"]),
        ("claude-version", &["plan", "setup"]),
    ] {
        for c in commands {
            assert!(has(c, long), "cclocal {c} lacks --{long}");
        }
    }
    // Every command that reports has --json (setup, undo and alias included).
    for (path, cmd) in &cmds {
        let Some(name) = path.strip_prefix("cclocal ") else {
            continue;
        };
        if name.starts_with("help") {
            continue;
        }
        if matches!(name, "completions" | "help") {
            continue;
        }
        assert!(
            cmd.get_arguments().any(|a| a.get_long() == Some("json")),
            "{path} reports but has no --json"
        );
    }
    // The old spellings are aliases nobody sees in --help.
    for (path, cmd) in &cmds {
        for arg in cmd.get_arguments() {
            let visible = arg.get_visible_aliases().unwrap_or_default();
            assert!(
                visible.is_empty(),
                "{path} --{:?} shows aliases {visible:?}",
                arg.get_long()
            );
            if let Some(long) = arg.get_long() {
                assert!(
                    !matches!(long, "kv-cache-type" | "kv" | "flash-attention"),
                    "{path} still names a flag --{long}; it is an alias of one flag now"
                );
            }
        }
    }
}

#[test]
fn old_spellings_and_32k_parse_everywhere() {
    let ok = |argv: &[&str]| {
        let mut v = vec!["cclocal"];
        v.extend_from_slice(argv);
        if let Err(e) = Cli::try_parse_from(&v) {
            panic!("{argv:?} rejected: {e}");
        }
    };
    ok(&[
        "setup",
        "--ctx",
        "32K",
        "--kv-type",
        "q8_0",
        "--flash-attn",
        "on",
    ]);
    ok(&[
        "setup",
        "--kv-cache-type",
        "q8_0",
        "--flash-attention",
        "off",
    ]);
    ok(&[
        "plan",
        "m.gguf",
        "--ctx",
        "32K",
        "--kv",
        "q4_0",
        "--flash-attn",
        "off",
    ]);
    ok(&[
        "bench",
        "m.gguf",
        "--ctx",
        "4K",
        "--kv",
        "f16,q8_0",
        "--flash-attn",
        "on,off",
    ]);
    ok(&["bench", "m.gguf", "--kv-type", "q8_0"]);
    ok(&["logs", "x.txt", "--server-ctx", "32K"]);
    ok(&["doctor", "--host", "http://127.0.0.1:11434"]);
    let bad = |argv: &[&str], says: &str| {
        let mut v = vec!["cclocal"];
        v.extend_from_slice(argv);
        match Cli::try_parse_from(&v) {
            Ok(_) => panic!("{argv:?} accepted"),
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains(says), "{argv:?}: {text}");
            }
        }
    };
    // Port 99999 is refused by every command that takes --host.
    for c in ["doctor", "setup", "logs", "status"] {
        bad(&[c, "--host", "box:99999"], "65535");
    }
    bad(&["setup", "--ctx", "lots"], "32K");
    bad(&["logs", "x", "--server-ctx", "0"], "32K");
    bad(&["setup", "--kv-type", "q9"], "q8_0");
}

#[test]
fn ctx_32k_means_32768_in_every_command() {
    let v = |argv: &[&str]| {
        let mut a = vec!["cclocal"];
        a.extend_from_slice(argv);
        command().try_get_matches_from(a).unwrap()
    };
    let m = v(&["setup", "--ctx", "32K"]);
    let (_, sub) = m.subcommand().unwrap();
    assert_eq!(sub.get_one::<u64>("ctx"), Some(&32768));
    let m = v(&["plan", "x.gguf", "--ctx", "32K"]);
    let (_, sub) = m.subcommand().unwrap();
    assert_eq!(sub.get_one::<u64>("ctx"), Some(&32768));
    let m = v(&["logs", "x", "--server-ctx", "32K"]);
    let (_, sub) = m.subcommand().unwrap();
    assert_eq!(sub.get_one::<u64>("server_ctx"), Some(&32768));
    let m = v(&["bench", "x", "--ctx", "32K"]);
    let (_, sub) = m.subcommand().unwrap();
    assert_eq!(sub.get_one::<u64>("ctx"), Some(&32768));
}

/// Round trips are `--turns` in every command (bench said `--rounds`, what-if `--turns`);
/// the old spelling still parses, hidden, and `--turn-new` has one default rule
/// (`predict::default_turn_new`), so no command gives it a fixed default of its own.
#[test]
fn round_trips_are_turns() {
    for (path, cmd) in all_commands() {
        let has = |id: &str| cmd.get_arguments().find(|a| a.get_id() == id).cloned();
        if let Some(r) = has("rounds") {
            assert!(
                r.is_hide_set(),
                "{path}: --rounds should be a hidden old name"
            );
            assert!(has("turns").is_some(), "{path}: --rounds without --turns");
        }
        if let Some(n) = has("turn_new") {
            assert!(
                n.get_default_values().is_empty(),
                "{path}: --turn-new has a default of its own"
            );
        }
    }
    let old = Cli::try_parse_from(["cclocal", "bench", "m.gguf", "--rounds", "3"]);
    assert!(old.is_ok(), "{:?}", old.err());
    let both = Cli::try_parse_from([
        "cclocal", "bench", "m.gguf", "--rounds", "3", "--turns", "4",
    ]);
    assert!(both.is_err());
    assert_eq!(cclocal::predict::default_turn_new(15_000), 2000);
    assert_eq!(cclocal::predict::default_turn_new(4096), 1024);
}

/// Flags several commands take on purpose with their own definition, and why. Every other
/// flag two commands share is one `clap::Args` group in src/cli/args.rs, flattened.
const OWN_DEFINITIONS: &[(&str, &str)] = &[
    (
        "json",
        "each command's --json help names its own JSON shape",
    ),
    (
        "ctx",
        "one parser (args::ctx) in three shapes: plan lists rows, setup configures one, bench sizes its runs",
    ),
    (
        "force",
        "a different override per command: setup writes anyway, undo restores later edits, bench --host loads a model",
    ),
    (
        "timeout",
        "doctor and status share args::ProbeArgs; verify waits for a whole Claude Code run (60 s)",
    ),
    (
        "measure",
        "plan measures every row, doctor the one context it checks",
    ),
    (
        "system-root",
        "hidden packaging flag: setup installs under it, undo --system (which it requires) takes back from under it",
    ),
    (
        "verbose",
        "global; the commands that run llama.cpp say more in its help (cli::command)",
    ),
];

/// The `clap::Args` fields declared in a file: `(field id, line)`, leaving out flattened
/// groups (`#[command(flatten)]`).
fn declared_fields(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut in_args = false;
    let mut attrs = String::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("#[derive(") && t.contains("clap::Args")
            || t.contains("Parser") && t.starts_with("#[derive(")
        {
            in_args = true;
            attrs.clear();
            continue;
        }
        if !in_args {
            continue;
        }
        if line.starts_with('}') {
            in_args = false;
            continue;
        }
        if t.starts_with("#[")
            || t.starts_with("///")
            || t.starts_with("//")
            || !t.starts_with("pub ")
        {
            attrs.push_str(t);
            attrs.push('\n');
            continue;
        }
        let name = t
            .trim_start_matches("pub ")
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        // A positional argument (no `long`) is no flag.
        let flag = attrs.contains("long");
        if flag && !attrs.contains("#[command(flatten)]") {
            let id = attrs
                .split("id = \"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map_or(name, str::to_string);
            out.push((id, n + 1));
        }
        attrs.clear();
    }
    out
}

fn cli_sources() -> Vec<(std::path::PathBuf, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli"),
        &mut out,
    );
    out
}

/// A flag two commands share is defined once: in a group in src/cli/args.rs, flattened
/// into each (or it is in [`OWN_DEFINITIONS`], with the reason). Its help is then the same
/// text in every command, which this checks too.
#[test]
fn a_shared_flag_is_defined_once() {
    let mut by_long: BTreeMap<String, Vec<(String, Arg)>> = BTreeMap::new();
    for (path, cmd) in all_commands() {
        if path == "cclocal" {
            continue;
        }
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                if !matches!(long, "help" | "version") {
                    by_long
                        .entry(long.to_string())
                        .or_default()
                        .push((path.clone(), arg.clone()));
                }
            }
        }
    }
    let sources = cli_sources();
    let mut problems = Vec::new();
    let mut shared = 0;
    for (long, uses) in &by_long {
        if uses.len() < 2 || OWN_DEFINITIONS.iter().any(|(l, _)| l == long) {
            continue;
        }
        shared += 1;
        let id = uses[0].1.get_id().as_str().to_string();
        let defs: Vec<String> = sources
            .iter()
            .flat_map(|(p, text)| {
                declared_fields(text)
                    .into_iter()
                    .filter(|(f, _)| *f == id)
                    .map(move |(_, n)| format!("{}:{n}", p.display()))
            })
            .collect();
        let commands: Vec<&str> = uses.iter().map(|(p, _)| p.as_str()).collect();
        if defs.len() != 1 || !defs[0].contains("src/cli/args.rs") {
            problems.push(format!(
                "--{long} ({}) is defined {} time(s): {defs:?}; define it once in a group in src/cli/args.rs and flatten it",
                commands.join(", "),
                defs.len()
            ));
        }
        let help = |a: &Arg| a.get_help().map(|h| h.to_string());
        if let Some((p, _)) = uses.iter().find(|(_, a)| help(a) != help(&uses[0].1)) {
            problems.push(format!(
                "--{long} has another help in {p} than in {}",
                uses[0].0
            ));
        }
    }
    assert!(shared >= 10, "only {shared} shared flags walked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The scanner itself: a second definition of a grouped flag is found.
    let twice = "#[derive(clap::Args, Debug)]\npub struct X {\n    #[arg(long)]\n    pub strict: bool,\n    #[command(flatten)]\n    pub host: args::HostArgs,\n}\n";
    assert_eq!(declared_fields(twice), vec![("strict".to_string(), 4)]);
}
