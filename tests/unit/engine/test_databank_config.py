"""The ``databank`` section of backup.json: the units of the central data bank (S0.1) whose
integrity ``spo-backup databank verify`` monitors (S0.3)."""

from pathlib import Path

import pytest

from spo_backup import config, databank
from spo_backup.config import ConfigError, Databank, Unit

UNITS = [
    {"name": "rekam-medis", "path": "/srv/databank/rekam-medis", "quota_bytes": 50 * 2**30},
    {"name": "keuangan", "path": "/srv/databank/keuangan", "quota_bytes": None},
]


def test_the_units_and_the_state_folder_load(backup_json, tmp_path) -> None:
    cfg = config.load(backup_json(databank={"units": UNITS, "state_dir": "/var/lib/spo/bank"}))
    assert cfg.databank == Databank(
        units=(
            Unit("rekam-medis", Path("/srv/databank/rekam-medis"), quota_bytes=50 * 2**30),
            Unit("keuangan", Path("/srv/databank/keuangan")),
        ),
        state_dir=Path("/var/lib/spo/bank"),
    )
    assert databank.state_dir(cfg) == Path("/var/lib/spo/bank")
    assert [u.name for u in databank.units(cfg, ["keuangan"])] == ["keuangan"]
    assert [u.name for u in databank.units(cfg)] == ["rekam-medis", "keuangan"]


@pytest.mark.parametrize("section", [None, {}, {"units": []}, {"state_dir": None}], ids=str)
def test_no_section_or_no_units_is_a_data_bank_without_units(backup_json, tmp_path, section):
    keys = {} if section is None else {"databank": section}
    cfg = config.load(backup_json(**keys))
    assert cfg.databank == Databank() and cfg.databank.units == ()
    assert databank.state_dir(cfg) == tmp_path / "state" / "databank"
    with pytest.raises(ConfigError, match=r"databank\.units: no data bank unit to check"):
        databank.units(cfg)


def test_the_rest_of_the_file_loads_as_before(backup_json) -> None:
    with_bank = config.load(backup_json(databank={"units": UNITS}))
    without = config.load(backup_json())
    assert {**vars(with_bank), "databank": None} == {**vars(without), "databank": None}


def test_an_unknown_unit_is_refused_with_the_known_ones(backup_json) -> None:
    cfg = config.load(backup_json(databank={"units": UNITS}))
    with pytest.raises(ConfigError) as err:
        databank.units(cfg, ["rekam-medis", "radiologi"])
    assert "no data bank unit named 'radiologi'" in str(err.value)
    assert "use one of: rekam-medis, keuangan" in str(err.value)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("/srv/databank", 'databank: expected an object, found "/srv/databank"'),
        ({"unit": []}, "databank: unknown key(s) unit; expected only units, state_dir"),
        ({"units": {"name": "x"}}, "databank.units: expected a list of objects"),
        ({"units": ["/srv/x"]}, 'databank.units[0]: expected an object, found "/srv/x"'),
        ({"units": [{"name": "x"}]}, "databank.units[0].path: missing; expected an absolute path"),
        ({"units": [{"path": "/srv/x"}]}, "databank.units[0].name: missing; expected a name"),
        (
            {"units": [{"name": "x", "path": "srv/x"}]},
            'databank.units[0].path: expected an absolute path, found "srv/x"',
        ),
        (
            {"units": [UNITS[0], {"name": "rekam medis", "path": "/srv/y"}]},
            "databank.units[1].name: expected a name of letters, digits, dots and dashes, found",
        ),
        (
            {"units": [{"name": "x", "path": "/srv/x", "owner": "rm"}]},
            "databank.units[0]: unknown key(s) owner; expected only name, path, quota_bytes",
        ),
        (
            {"units": [{"name": "x", "path": "/srv/x", "quota_bytes": "50G"}]},
            'databank.units[0].quota_bytes: expected an int >= 0 or null, found "50G"',
        ),
        (
            {"units": [UNITS[0], {**UNITS[1], "name": "rekam-medis"}]},
            "databank.units: the name(s) rekam-medis repeat",
        ),
        (
            {"units": [UNITS[0], {**UNITS[1], "path": UNITS[0]["path"]}]},
            "databank.units: the path(s) /srv/databank/rekam-medis repeat",
        ),
        (
            {"units": UNITS, "state_dir": "state"},
            'databank.state_dir: expected an absolute path or null, found "state"',
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_errors_name_the_file_the_key_and_what_was_expected(backup_json, section, message):
    path = backup_json(databank=section)
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "backup role" in str(err.value)
