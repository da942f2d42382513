"""The Makefile itself: its virtual environment, and the warning filter of its long runs.

A copied or restored tree can carry `.venv` as a symbolic link to itself or to nowhere; `make`
then used to stop at `python3 -m venv` with "File exists": such a link is now replaced. `make
bench` and `make chaos` hide asyncssh's DSA deprecation warning; `make test` keeps pyproject's
filters. These tests run the real Makefile with a stand-in `python3` that makes an environment
in an instant and answers for the scripts it is asked to run, so only the Makefile's own logic
is under test.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A python3 stand-in: `-m venv DIR` makes DIR/bin/python (itself, so pip "installs" too); a
# script (bench/...) and pytest are answered with the warning filter they were given; anything
# else succeeds silently.
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
case "$1" in bench/*) echo "$1 PYTHONWARNINGS=${PYTHONWARNINGS:-}" ;; esac
[ "$1 $2" = "-m pytest" ] && echo "pytest PYTHONWARNINGS=${PYTHONWARNINGS:-}"
exit 0
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.fail("make is missing: the project's every command needs it")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    fake = tmp_path / "fake-python3"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def make(
    tree: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``make ARGS`` in ``tree`` with the stand-in ``python3``."""
    return subprocess.run(
        ["make", "--no-print-directory", *args, f"PYTHON={tree / 'fake-python3'}"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def installed_stamps(tree: Path) -> list[str]:
    return sorted(p.name for p in (tree / ".venv").glob(".installed-*"))


def test_a_venv_link_to_itself_is_replaced(tree: Path) -> None:
    (tree / ".venv").symlink_to(tree / ".venv")  # the loop a copied tree carried
    done = make(tree, "venv")
    assert done.returncode == 0, done.stderr
    assert not (tree / ".venv").is_symlink()
    assert os.access(tree / ".venv" / "bin" / "python", os.X_OK)
    assert len(installed_stamps(tree)) == 1
    assert ".venv is a link to no usable environment" in done.stderr
    assert "replacing it" in done.stderr


def test_a_dangling_venv_link_is_replaced(tree: Path) -> None:
    (tree / ".venv").symlink_to(tree / "gone")
    done = make(tree, "venv")
    assert done.returncode == 0, done.stderr
    assert not (tree / ".venv").is_symlink()
    assert len(installed_stamps(tree)) == 1
    assert not (tree / "gone").exists()


def test_a_venv_link_to_a_working_environment_is_kept(tree: Path) -> None:
    elsewhere = tree / "elsewhere"
    (elsewhere / "bin").mkdir(parents=True)
    shutil.copy(tree / "fake-python3", elsewhere / "bin" / "python")
    (tree / ".venv").symlink_to(elsewhere)
    done = make(tree, "venv")
    assert done.returncode == 0, done.stderr
    assert (tree / ".venv").is_symlink()
    assert "no usable environment" not in done.stderr
    assert len(list(elsewhere.glob(".installed-*"))) == 1


def test_a_second_make_reuses_the_environment(tree: Path) -> None:
    assert make(tree, "venv").returncode == 0
    again = make(tree, "venv")
    assert again.returncode == 0
    assert "Nothing to be done for 'venv'" in again.stdout
    assert len(installed_stamps(tree)) == 1


def test_the_repository_tracks_no_link_and_no_environment() -> None:
    """A `.venv` link was once committed by accident: CI's clone then carried a loop."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    links = [line.split("\t", 1)[1] for line in listed if line.startswith("120000 ")]
    assert links == []
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", ".venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == [".venv"]  # as a directory or as a link


@pytest.mark.parametrize("target", ["bench", "chaos"])
def test_the_long_runs_hide_asyncssh_dsa_warning_only(tree: Path, target: str) -> None:
    done = make(tree, "-s", target)
    assert done.returncode == 0, done.stderr
    scripts = [line for line in done.stdout.splitlines() if line.startswith("bench/")]
    assert scripts, done.stdout  # every script the target runs, each with the filter
    assert all(line.endswith(" PYTHONWARNINGS=ignore:DSA is deprecated") for line in scripts)
    unfiltered = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    suite = make(tree, "-s", "pytest", env=unfiltered)
    assert suite.stdout.splitlines() == ["pytest PYTHONWARNINGS="]  # pyproject's filters only
