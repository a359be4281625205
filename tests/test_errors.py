"""One user-error family (STYLE rule 12): every exception class of appliance/, export/, anonymize/ and cli/ derives
from `UserError` (`AnonymizeUserError` in anonymize/) unless it is listed below as internal, found with ast so that
no module has to be imported; and the CLI prints any of them as one `error:` line with exit status 2, and a bug as one
`internal error:` line with a crash report.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from anonymize.errors import AnonymizeUserError
from appliance.errors import UserError
from cli.failures import EXIT_INTERNAL
from cli.main import EXIT_USER_ERROR, _Group

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("appliance", "export", "anonymize", "cli")
BASES = {"UserError": "appliance/errors.py", "AnonymizeUserError": "anonymize/errors.py"}
# Exceptions that are not user errors: each one is caught inside the project (or is a bug), never shown by the CLI.
INTERNAL = {
    # one bad row: ingest counts it in the file's report and goes on; the file as a whole fails with IngestError
    "RowError",
    # a value outside canonical JSON: audit chain, log and export re-raise it as AuditVerificationError/AuditWriteError
    "CanonicalJSONError",
    # raised inside an httptools parser callback to stop a request head over 16 KiB: the server answers it with a 400
    "_HeadTooLargeError",
}


def _classes() -> dict[str, tuple[str, set[str]]]:
    """Class name -> (file, base names) for every class defined in PACKAGES; names must be unique."""
    found: dict[str, tuple[str, set[str]]] = {}
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ClassDef):
                    continue
                bases = {b.attr if isinstance(b, ast.Attribute) else b.id
                         for b in node.bases if isinstance(b, ast.Attribute | ast.Name)}
                where = str(file.relative_to(ROOT))
                assert node.name not in found or not node.name.endswith(("Error", "Exception")), (
                    f"{node.name} is defined in {found[node.name][0]} and {where}: one name per failure domain")
                found.setdefault(node.name, (where, bases))
    return found


def _derives(name: str, targets: set[str], classes: dict[str, tuple[str, set[str]]]) -> bool:
    """Whether project class `name` has one of `targets` among its ancestors (bases followed by name)."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in targets:
            return True
        if current not in seen and current in classes:
            seen.add(current)
            todo.extend(classes[current][1])
    return False


def _is_exception(name: str, classes: dict[str, tuple[str, set[str]]]) -> bool:
    builtin_errors = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    return _derives(name, builtin_errors, classes)


def test_user_error_bases_are_where_the_cli_expects_them() -> None:
    classes = _classes()
    assert {name: classes[name][0] for name in BASES} == BASES


def test_every_exception_is_a_user_error_or_listed_as_internal() -> None:
    classes = _classes()
    wrong = []
    for name, (where, _) in sorted(classes.items()):
        if name in BASES or name in INTERNAL or not _is_exception(name, classes):
            continue
        expected = "AnonymizeUserError" if where.startswith("anonymize/") else "UserError"
        if not _derives(name, {expected}, classes):
            wrong.append(f"{where}: {name} (subclass {expected}, or list it in INTERNAL with the reason)")
    assert not wrong, "\n".join(wrong)


def test_internal_list_names_existing_non_user_exceptions() -> None:
    classes = _classes()
    for name in INTERNAL:
        assert name in classes and _is_exception(name, classes), f"{name} no longer exists: drop it from INTERNAL"
        assert not _derives(name, set(BASES), classes), f"{name} is a user error now: drop it from INTERNAL"


class _StandInError(UserError, ValueError):
    """A stand-in domain error."""


class _StandInPolicyError(AnonymizeUserError, ValueError):
    """A stand-in anonymizer error."""


def _app(exc: Exception) -> typer.Typer:
    """A two-command app on the CLI's root group whose `boom` command raises `exc`."""
    app = typer.Typer(cls=_Group)

    @app.command()
    def boom() -> None:
        raise exc

    @app.command()
    def calm() -> None:
        """A second command, so that typer builds a group."""

    return app


@pytest.mark.parametrize("error", [_StandInError, _StandInPolicyError])
def test_cli_prints_a_user_error_as_one_line(cli_runner: CliRunner, error: type[Exception]) -> None:
    result = cli_runner.invoke(_app(error("run `tanaban init` first")), ["boom"])
    assert result.exit_code == EXIT_USER_ERROR
    assert result.output.strip().splitlines() == ["error: run `tanaban init` first"]


def test_cli_reports_a_bug_as_one_line_and_a_crash_report(cli_runner: CliRunner, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANABAN_PATHS__DATA_DIR", str(tmp_path))
    result = cli_runner.invoke(_app(RuntimeError("a bug")), ["boom"])
    assert result.exit_code == EXIT_INTERNAL
    (line,) = result.output.strip().splitlines()
    assert line.startswith("internal error: RuntimeError (report written to ") and "a bug" not in line
    report = next((tmp_path / "crash").iterdir())
    assert "exception: RuntimeError" in report.read_text(encoding="utf-8")


def test_typer_usage_errors_stay_usage_errors(cli_runner: CliRunner, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """typer ships its own click: its BadParameter is a usage error (exit 2), not an internal error."""
    monkeypatch.setenv("TANABAN_PATHS__DATA_DIR", str(tmp_path))
    result = cli_runner.invoke(_app(typer.BadParameter("cannot read in.jsonl")), ["boom"])
    assert result.exit_code == 2 and "cannot read in.jsonl" in result.output
    assert not (tmp_path / "crash").exists()
