"""`report_command`, the body of ``leonet report RUN [-o FILE]``."""

from __future__ import annotations

import pytest

from leonet.cli_report import report_command
from leonet.errors import OutputPathError, RunDirectoryError


def test_writes_into_the_run_by_default(core_run, capsys):
    path = report_command(core_run, None)
    assert path == core_run / "report.html" and path.is_file()
    err = capsys.readouterr().err
    assert "report.html" in err and "MB" in err


def test_output_file_and_directory(core_run, tmp_path):
    assert report_command(core_run, tmp_path / "r.html", quiet=True) == tmp_path / "r.html"
    assert report_command(core_run, tmp_path, quiet=True) == tmp_path / "report.html"
    assert (tmp_path / "r.html").read_bytes()[:15] == b"<!DOCTYPE html>"


def test_quiet_prints_nothing(core_run, tmp_path, capsys):
    report_command(core_run, tmp_path / "q.html", quiet=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_quiet_follows_the_cli_flag(core_run, tmp_path, capsys):
    # report_command no longer reads the CLI's state (that was a module cycle): the CLI passes --quiet.
    from leonet.cli import main

    main(["report", str(core_run), "-o", str(tmp_path / "q.html"), "-q"])
    assert capsys.readouterr().err == ""
    assert (tmp_path / "q.html").is_file()


def test_errors_name_the_problem(core_run, tmp_path):
    with pytest.raises(RunDirectoryError, match="not a leonet run"):
        report_command(tmp_path, None, quiet=True)
    with pytest.raises(OutputPathError, match="does not exist"):
        report_command(core_run, tmp_path / "missing" / "r.html", quiet=True)
