"""Issue 13, point 6: the systemd units start what exists, with the documented settings."""

from __future__ import annotations

import configparser
import shlex

import pytest
from django.core.management import get_commands

from tests.servers import BASE_DIR

UNITS = BASE_DIR / "deploy" / "systemd"
INSTALLED_AT = "/srv/exams"


def unit(path):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


SERVICES = sorted(UNITS.glob("*.service"))


@pytest.mark.parametrize("path", SERVICES, ids=[p.name for p in SERVICES])
def test_each_service_runs_a_program_of_the_project_with_the_production_settings(path):
    service = unit(path)["Service"]
    assert service["EnvironmentFile"] == "/etc/exams/exams.env"  # deploy/exams.env, installed
    assert service["User"] == "exams" and service["WorkingDirectory"] == INSTALLED_AT
    argv = shlex.split(service["ExecStart"])
    program = BASE_DIR / argv[0].removeprefix(f"{INSTALLED_AT}/")
    assert program.exists(), f"{path.name}: {argv[0]} is not what the install makes ({program})"
    if argv[1:2] == ["manage.py"]:
        assert argv[2] in get_commands(), f"{path.name}: manage.py {argv[2]} does not exist"
    if "daphne" in argv[0]:
        assert argv[-1] == "config.asgi:application" and "--proxy-headers" not in argv


def test_the_target_starts_every_unit_there_is():
    wanted = unit(UNITS / "exams.target")["Unit"]["Wants"].split()
    for name in wanted:
        template = name.split("@")[0] + "@.service" if "@" in name else name
        assert (UNITS / template).exists(), name
    assert {p.name for p in SERVICES} == {
        n.split("@")[0] + "@.service" if "@" in n else n for n in wanted
    }
