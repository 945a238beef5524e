"""Any province and the country (issue 13): the units of every 2025 province and of the
provinces it was formed from, the generator's volume factors and size classes, and a
configuration file that extends another."""
from __future__ import annotations

import datetime as dt

import pytest

from core import settings
from core.yaml_files import ConfigError
from simulators import core as sim_core
from simulators import population, sizes
from warehouse.units import crosswalk_frame, predecessor_codes, province_codes, unit_frame


def test_every_province_has_its_units_and_a_complete_crosswalk():
    """34 provinces; 696 legacy districts, 10,035 legacy communes and 3,321 2025 communes
    in all; every legacy commune has a 2025 successor in its province's crosswalk."""
    cfg = settings.get()
    codes = province_codes()
    assert len(codes) == 34 and codes[0] == "01"
    totals = {"huyen": 0, "legacy": 0, "2025": 0}
    for code in codes:
        units = unit_frame(cfg, province_code=code)
        assert units["unit_code"].notna().all() and not units["unit_key"].duplicated().any()
        communes = units[units["level"] == "xa"]
        totals["huyen"] += int((units["level"] == "huyen").sum())
        totals["legacy"] += int((communes["scheme"] == "legacy").sum())
        totals["2025"] += int((communes["scheme"] == "2025").sum())
        mapped = set(crosswalk_frame(code)["old_unit_key"])
        assert set(communes.loc[communes["scheme"] == "legacy", "unit_key"]) == mapped, code
    assert totals == {"huyen": 696, "legacy": 10035, "2025": 3321}


def test_a_merged_province_holds_the_units_of_the_provinces_it_was_formed_from():
    assert predecessor_codes("01") == ("01",)
    assert predecessor_codes("48") == ("48", "49")
    assert predecessor_codes("79") == ("74", "77", "79")
    units = unit_frame(settings.get(), province_code="48").set_index("unit_key")
    assert units.loc["legacy:503", "name"] == "Thành phố Hội An"          # of the former Tỉnh Quảng Nam
    assert units.loc["legacy:503", "parent_key"] == "province:48"
    assert units.loc["legacy:498", "level"] == "huyen"                   # Huyện Hoàng Sa: no commune
    assert not (units["parent_code"] == "498").any()


def test_hanoi_volumes_are_unchanged_and_the_country_is_about_twelve_hanois():
    hanoi = sim_core.province_units("01")
    assert {population.volume_factor(u, "01") for u in hanoi.values()} == {1.0}
    total = 0.0
    for code in province_codes():
        units = sim_core.province_units(code)
        total += population.volume_factor(units[f"province:{code}"], code)
    assert 11 < total < 12.5          # the provinces' services: Σ 0.44 × n2025 / 126 + Hà Nội's 1
    da_nang = sim_core.province_units("48")
    assert population.volume_factor(da_nang["legacy:492"], "48") == pytest.approx(0.44 * (94 / 25) / (126 / 30))


def test_use_province_switches_the_units_and_simulating_restores_them():
    assert sim_core.province_code() == settings.get().province.code == "01"
    with sim_core.simulating("48") as code:
        assert code == "48" and sim_core.province_key() == "province:48"
        assert {u.code for u in sim_core.populated_districts()} >= {"490", "503"}
        assert "498" not in {u.code for u in sim_core.populated_districts()}
        assert all(k.startswith(("legacy:", "2025:", "province:48")) for k in sim_core.all_units())
    assert sim_core.province_key() == "province:01" and "legacy:001" in sim_core.all_units()


def test_simulating_a_province_under_the_national_configuration(monkeypatch):
    """config/national.yaml names no province: simulating one and leaving it must not ask
    for the configured province (it crashed `make bench SCALE=national*` on a fresh machine)."""
    monkeypatch.setenv("TCD_CONFIG", str(settings.PROJECT_ROOT / "config" / "national.yaml"))
    assert settings.get().province is None
    with sim_core.simulating("48") as code:
        assert code == "48" and sim_core.province_key() == "province:48"
    with sim_core.simulating("79"):
        assert sim_core.province_code() == "79"
    with pytest.raises(RuntimeError, match="names none"):    # outside a province's block there is none
        sim_core.province_code()
    assert sizes.plan("national", None, None, sim_core.configured_province()).provinces == sizes.plan(
        "national", None, None, "01").provinces
    with pytest.raises(ValueError, match="names no province"):
        sizes.plan(None, None, None, sim_core.configured_province())


def test_size_classes():
    national = sizes.plan("national", None, None, "01")
    assert len(national.provinces) == 34 and national.per_province_folders
    assert national.districts["48"] is None and national.communes_per_district is None
    one = sizes.plan(None, "48", None, "01")
    assert one.provinces == ("48",) and not one.per_province_folders
    assert sizes.plan(None, None, None, "01").provinces == ("01",)
    sample = sizes.plan("sample", None, "48,1", "01")
    assert sample.provinces == ("01", "48") and sample.districts == {"01": ["001"], "48": ["490"]}
    assert sample.communes_per_district == 2
    for bad in (("national", "48", None), (None, "48", "01"), (None, "99", None), ("huge", None, None)):
        with pytest.raises(ValueError):
            sizes.plan(*bad, "01")


def test_a_configuration_file_extends_another(tmp_path, monkeypatch):
    base = settings.get()
    monkeypatch.setenv("TCD_CONFIG", str(settings.PROJECT_ROOT / "config" / "provinces" / "48.yaml"))
    da_nang = settings.get()
    assert (da_nang.province.code, da_nang.province.name) == ("48", "Thành phố Đà Nẵng")
    assert da_nang.regimes == base.regimes and da_nang.reform == base.reform
    overlay = tmp_path / "p.yaml"
    overlay.write_text(f'extends: {settings.PROJECT_ROOT / "config" / "pipeline.yaml"}\n'
                       'outliers: {z_threshold: 2.5}\n', encoding="utf-8")
    monkeypatch.setenv("TCD_CONFIG", str(overlay))
    merged = settings.get()
    assert merged.outliers.z_threshold == 2.5 and merged.outliers.min_history == base.outliers.min_history
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="extends it again"):
        settings.load_config_file(loop)


def test_another_province_is_simulated_from_its_own_units():
    """A unit of Đà Nẵng draws Đà Nẵng's citizens: the address ends with the province,
    the ID number starts with the code of a province it was formed from."""
    from simulators.citizens import CitizenFactory
    from simulators.core import Rng

    with sim_core.simulating("48"):
        unit = sim_core.all_units()["2025:20242"]
        citizen = CitizenFactory(unit).new(Rng(1, "test"), dt.date(2025, 8, 1))
    assert citizen.address.endswith("Phường Hải Châu, Thành phố Đà Nẵng")
    assert citizen.id_number[:3] in ("048", "049")


@pytest.mark.integration      # worker processes
def test_several_provinces_one_folder_each_whatever_the_workers(tmp_path):
    """--provinces 12,48 --size sample: each province under its own folder with its own
    truth, the national manifest over them; the same bytes one or two at a time."""
    import hashlib

    from simulators.generate import generate_provinces

    plan = sizes.plan("sample", None, "12,48", "01")
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        manifest = generate_provinces(out, plan.provinces, seed=3, end=dt.date(2022, 2, 1), districts=plan.districts,
                                      communes_per_district=plan.communes_per_district, workers=workers)
        assert set(manifest["provinces"]) == {"12", "48"} and manifest["totals"]["receptions"] > 0
        files = [p for p in sorted(out.rglob("*")) if p.is_file() and p != out / "manifest.json"]  # (its seconds vary)
        runs[workers] = {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    assert runs[1] == runs[2]
    assert {"12/ground_truth.sqlite", "48/ground_truth.sqlite", "48/district_db/490.sqlite"} <= set(runs[1])
    assert sim_core.province_code() == "01"
