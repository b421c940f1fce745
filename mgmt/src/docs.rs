//! Shell completions and man pages, made from the clap definitions of
//! `pfd`, `pfctl` and `ifctl` so that they say what `--help` says. The
//! binaries print completions themselves (`pfd completions SHELL`,
//! `pfctl --completions SHELL`); `cargo run -p mgmt --example gendocs`
//! writes the man pages and completions under `doc/` for packaging,
//! and `mgmt/tests/docs_uptodate.rs` fails when they are stale.

use clap::Command;
use clap_complete::Shell;
use std::path::PathBuf;

/// The shells completions are made and packaged for.
pub const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// The man pages' section: system administration commands.
pub const SECTION: &str = "8";

/// `cmd`'s completion script for `shell`.
pub fn completion(mut cmd: Command, shell: Shell) -> Vec<u8> {
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    out
}

/// The name the shell looks the script up by (bash `pfd`, zsh `_pfd`,
/// fish `pfd.fish`), under `doc/completions/` with bash's given a
/// `.bash` suffix.
pub fn completion_file(name: &str, shell: Shell) -> String {
    match shell {
        Shell::Zsh => format!("_{name}"),
        Shell::Fish => format!("{name}.fish"),
        _ => format!("{name}.{shell}"),
    }
}

/// `cmd`'s man page, and one per subcommand (`pfd-run.8`), as
/// (file name, roff).
pub fn man_pages(cmd: Command) -> Vec<(String, Vec<u8>)> {
    let name = cmd.get_name().to_string();
    let version = cmd.get_version().map(str::to_string);
    let mut out = Vec::new();
    let subs: Vec<Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .cloned()
        .collect();
    out.push((format!("{name}.{SECTION}"), render(cmd)));
    for s in subs {
        let sub = s.get_name().to_string();
        let full = format!("{name}-{sub}");
        let mut page = s.name(full.clone()).bin_name(format!("{name} {sub}"));
        if let Some(v) = &version {
            page = page.version(v.clone());
        }
        out.push((format!("{full}.{SECTION}"), render(page)));
    }
    out
}

fn render(cmd: Command) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd).section(SECTION).render(&mut out);
    out
}

/// Every generated file, by its path from the workspace root.
pub fn generated(commands: &[Command]) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for cmd in commands {
        for (file, page) in man_pages(cmd.clone()) {
            out.push((PathBuf::from("doc/man").join(file), page));
        }
        for shell in SHELLS {
            out.push((
                PathBuf::from("doc/completions").join(completion_file(cmd.get_name(), shell)),
                completion(cmd.clone(), shell),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Command {
        Command::new("toy")
            .about("A toy.")
            .arg(clap::Arg::new("verbose").short('v').help("Say more."))
            .subcommand(
                Command::new("run").about("Run it.").arg(
                    clap::Arg::new("etc")
                        .long("etc")
                        .value_name("DIR")
                        .help("Where."),
                ),
            )
    }

    #[test]
    fn pages_for_the_command_and_each_subcommand() {
        let pages = man_pages(toy());
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["toy.8", "toy-run.8"]);
        let top = String::from_utf8(pages[0].1.clone()).unwrap();
        assert!(top.contains(".TH toy 8"), "{top}");
        assert!(top.contains("A toy."), "{top}");
        let run = String::from_utf8(pages[1].1.clone()).unwrap();
        assert!(run.contains(".TH toy-run 8"), "{run}");
        assert!(run.contains("\\-\\-etc"), "{run}");
    }

    #[test]
    fn completions_name_the_command_and_its_options() {
        for shell in SHELLS {
            let c = String::from_utf8(completion(toy(), shell)).unwrap();
            assert!(c.contains("toy"), "{shell}: {c}");
            assert!(c.contains("etc"), "{shell}: {c}");
        }
        assert_eq!(completion_file("pfd", Shell::Bash), "pfd.bash");
        assert_eq!(completion_file("pfd", Shell::Zsh), "_pfd");
        assert_eq!(completion_file("pfd", Shell::Fish), "pfd.fish");
    }
}
