"""The man page (docs/fpshim.1) against the command: it names every subcommand and every option that
`fpshim --help` prints and that the option table of collector/cli/main.cc accepts, and no option that
neither knows; groff renders it without a warning."""
import os
import re
import subprocess

from harness import FPSHIM, SOURCE, expect, expect_eq, main

MAN_PAGE = os.path.join(SOURCE, "docs", "fpshim.1")
MAIN_CC = os.path.join(SOURCE, "collector", "cli", "main.cc")
OPTION = re.compile(r"--[a-z][a-z-]*[a-z]")


def rendered():
    """The page as `man` shows it, without highlighting; groff's warnings must be none."""
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-P-cbou", "-ww", "-rLL=200n", MAN_PAGE],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"})
    expect_eq(proc.returncode, 0, proc.stderr.decode())
    expect_eq(proc.stderr.decode(), "", "groff warnings")
    # groff writes '-' as U+2010 (hyphen) or U+2212 (minus) depending on the source; compare ASCII.
    return proc.stdout.decode().replace("\u2010", "-").replace("\u2212", "-")


def section(text, title):
    """The lines of one section of the rendered page (from its heading to the next heading)."""
    lines = text.splitlines()
    start = lines.index(title)
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()), len(lines))
    return "\n".join(lines[start + 1:end])


def help_text():
    proc = subprocess.run([FPSHIM, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    expect_eq(proc.returncode, 0, proc.stderr)
    return proc.stdout


def option_table():
    """The option names and the verbs of collector/cli/main.cc (kOptions, kVerbs, and baseline)."""
    source = open(MAIN_CC, encoding="utf-8").read()
    table = source[source.index("constexpr Option kOptions[]"):]
    table = table[:table.index("\n};")]
    options = set(re.findall(r'\{"(--[a-z-]+)"', table))
    verbs = source[source.index("constexpr VerbName kVerbs[]"):]
    verbs = set(re.findall(r'\{"([a-z-]+)", k[A-Za-z]+\}', verbs[:verbs.index(";")]))
    expect(len(options) > 20 and len(verbs) >= 6, f"the tables were not found: {options} {verbs}")
    return options, verbs | {"baseline"}


def test_every_option_is_described():
    page = rendered()
    described = set(OPTION.findall(section(page, "OPTIONS")))
    options, _ = option_table()
    from_help = set(OPTION.findall(help_text()))
    expect_eq(sorted(from_help - described - {"--version", "--help"}), [], "options of --help missing from OPTIONS")
    expect_eq(sorted(options - described), [], "options of main.cc missing from OPTIONS")
    expect_eq(sorted(set(OPTION.findall(page)) - options - {"--version", "--help"}), [],
              "options in the man page that fpshim does not accept")


def test_every_command_is_described():
    page = rendered()
    commands = section(page, "COMMANDS")
    listed = set(re.findall(r"^       ([a-z][a-z-]*)", commands, re.M))
    _, verbs = option_table()
    from_help = set(re.findall(r"^ *(?:usage: )?fpshim ([a-z][a-z-]*)", help_text(), re.M))
    expect_eq(sorted(from_help - listed), [], "commands of --help missing from COMMANDS")
    expect_eq(sorted(verbs - listed), [], "commands of main.cc missing from COMMANDS")
    synopsis = section(page, "SYNOPSIS")
    expect_eq(sorted(v for v in verbs if f"fpshim {v}" not in synopsis), [], "commands missing from SYNOPSIS")


def test_the_version_is_the_commands():
    version = subprocess.run([FPSHIM, "--version"], stdout=subprocess.PIPE, text=True).stdout.split()[-1]
    header = next(line for line in open(MAN_PAGE, encoding="utf-8") if line.startswith(".TH "))
    expect(f'"fpshim {version}"' in header, f"{header!r} does not name fpshim {version}")


if __name__ == "__main__":
    main(globals())
