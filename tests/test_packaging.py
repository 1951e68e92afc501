"""The project's packaging promises: pyproject and environment.yml agree, the layout exists."""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import ROOT


def _req(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_mirrors_pyproject():

    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = dict(_req(s) for s in py["dependencies"] + py["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda, pip = {}, {}
    for d in env["dependencies"]:
        if isinstance(d, dict):
            for s in d["pip"]:
                if not s.startswith("-e"):
                    pip.update([_req(s)])
        else:
            conda.update([_req(d)])
    conda.pop("python", None)
    conda.pop("pip", None)
    have = {**conda, **pip}
    assert set(have) == set(wanted), (
        f"only in environment.yml: {set(have) - set(wanted)}; only in pyproject: {set(wanted) - set(have)}"
    )
    for name, bound in wanted.items():
        assert have[name] == bound, f"{name}: pyproject {bound!r} vs environment.yml {have[name]!r}"


def test_python_bound_agrees():

    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "requires-python"
    ]
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert f"python{py}" in env["dependencies"]


def test_layout_of_design_md_exists():
    for p in (
        "mentorlib",
        "mentorlib/io/codebooks",
        "notebooks",
        "data/sample",
        "tests",
        "benchmarks",
        "environment.yml",
        "pyproject.toml",
        "README.md",
        "Makefile",
        ".ci/run",
    ):
        assert (ROOT / p).exists(), p


def test_readme_gives_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_every_command_has_working_help():
    import subprocess
    import sys

    from mentorlib.cli import build_parser

    commands = list(build_parser()._subparsers._group_actions[0].choices)
    assert {"synth", "clean", "progress", "mentors", "groups", "report", "review", "demo"} <= set(
        commands
    )
    for cmd in [None, *commands]:
        args = [sys.executable, "-m", "mentorlib", *([cmd] if cmd else []), "--help"]
        r = subprocess.run(args, capture_output=True, text=True)
        assert r.returncode == 0 and "usage:" in r.stdout, (cmd, r.stderr)
