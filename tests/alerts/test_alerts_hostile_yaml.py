"""Hostile or broken YAML: refused quickly as `file:line:col: ...`, never a traceback or a blow-up.

A "billion laughs" file is a few lines of anchors, each alias list naming the previous
one nine times; expanded, nine levels are 9**9 (387 million) values. PyYAML builds the
data with shared objects, so the damage is done by whatever walks it afterwards (our
position map, pydantic): the loader must refuse the expansion itself.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.alerts.yaml_source import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUES,
    Position,
    YamlSyntaxError,
    load_yaml,
    read_yaml,
)

VALID_RULE = (Path(__file__).parents[2] / "config" / "rules" / "access-reviews.yaml").read_text()


def laughs(levels: int, width: int = 9) -> str:
    """A billion-laughs document of `levels` alias levels, `width` aliases each."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    lines.append(f"rules: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def refusal(text: str) -> YamlSyntaxError:
    with pytest.raises(YamlSyntaxError) as raised:
        load_yaml(text)
    return raised.value


def test_aliases_that_expand_past_the_bound_are_refused_where_they_blow_up() -> None:
    # 9**5 = 59,049 values: past MAX_VALUES, yet small enough that the old loader survived it.
    problem = refusal(laughs(5))
    assert str(problem) == f"YAML: the aliases expand to more than {MAX_VALUES} values"
    assert problem.position == Position(5, 5)


def test_a_billion_laughs_is_refused_in_well_under_a_second() -> None:
    started = time.perf_counter()
    refusal(laughs(9))
    assert time.perf_counter() - started < 1.0


def test_a_few_shared_blocks_are_still_fine() -> None:
    document = load_yaml("base: &base {severity: 2}\nrules: [*base, *base, {x: *base}]\n")
    assert document.data["rules"][2] == {"x": {"severity": 2}}


def test_an_alias_inside_the_value_it_names_is_refused() -> None:
    problem = refusal("rules: &loop [1, *loop]\n")
    assert str(problem) == "YAML: an alias refers to a value that contains it"
    assert problem.position == Position(1, 8)


def test_deep_nesting_is_refused_at_the_first_level_too_deep() -> None:
    problem = refusal("rules: " + "[" * 5000 + "]" * 5000 + "\n")
    assert str(problem) == f"YAML: values nested more than {MAX_DEPTH} deep"
    assert problem.position == Position(1, 8 + MAX_DEPTH - 1)


def test_aliases_cannot_nest_deeper_than_the_file_may() -> None:
    half = MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}1{']' * half}\nrules: {'[' * half}*a{']' * half}\n"
    assert "nest values more than" in str(refusal(text))


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("rules:\n  - id: a\x00b\n", "YAML: character #x0000 is not allowed", Position(2, 10)),
        ("rules: 2026-13-45\n", "YAML: cannot read a value", Position(1, 1)),
        ("rules: " + "9" * 5000 + "\n", "YAML: cannot read a value", Position(1, 1)),
    ],
)
def test_characters_and_scalars_pyyaml_cannot_read_are_syntax_errors(
    text: str, message: str, position: Position
) -> None:
    problem = refusal(text)
    assert str(problem).startswith(message)
    assert problem.position == position


def test_a_file_over_the_size_cap_is_not_read_whole(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * MAX_FILE_BYTES + "\nrules: []\n")
    with pytest.raises(YamlSyntaxError, match="larger than 256 KB"):
        read_yaml(huge)


def _one_gigabyte() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A folder of hostile rule files (the security probe's cases)."""
    files = {
        "bomb.yaml": laughs(9),
        "loop.yaml": "rules: &loop [*loop]\n",
        "nested.yaml": "rules: " + "[" * 5000 + "]" * 5000 + "\n",
        "nul.yaml": VALID_RULE.replace("title: An access", "title: An \x00access"),
        "parens.yaml": VALID_RULE.replace(
            '| where ActivityDisplayName == "Delete access review"',
            "| where " + "(" * 1000 + "true" + ")" * 1000,
        ),
        **{
            f"threshold-{name}.yaml": VALID_RULE.replace("threshold: 0", f"threshold: {value}")
            for name, value in (("nan", ".nan"), ("inf", ".inf"), ("big", "1e400"))
        },
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_rules_validate_names_each_hostile_file_quickly_without_a_traceback(
    hostile: Path,
) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "rules", "validate", str(hostile)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_one_gigabyte,  # the old loader grew past this within seconds
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = {
        line.removeprefix(f"{hostile}/").split(":")[0]: line.removeprefix(f"{hostile}/")
        for line in (done.stdout + done.stderr).splitlines()
        if line.startswith(str(hostile))
    }
    finite = "access-review-deleted: threshold: Input should be a finite number"
    assert lines == {
        "bomb.yaml": f"bomb.yaml:5:5: -: YAML: the aliases expand to more than {MAX_VALUES} values",
        "loop.yaml": "loop.yaml:1:8: -: YAML: an alias refers to a value that contains it",
        "nested.yaml": f"nested.yaml:1:47: -: YAML: values nested more than {MAX_DEPTH} deep",
        "nul.yaml": "nul.yaml:12:15: -: YAML: character #x0000 is not allowed: "
        "special characters are not allowed",
        "parens.yaml": "parens.yaml:19:47: access-review-deleted: "
        "KQL syntax: brackets nested more than 32 deep",
        "threshold-big.yaml": f"threshold-big.yaml:27:16: {finite}",
        "threshold-inf.yaml": f"threshold-inf.yaml:27:16: {finite}",
        "threshold-nan.yaml": f"threshold-nan.yaml:27:16: {finite}",
    }
    assert done.returncode == 1
    assert elapsed < 20, f"{elapsed:.1f} s"
