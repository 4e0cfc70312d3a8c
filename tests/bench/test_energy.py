"""Energy from RAPL counters: read per package, wrap-around undone, unknown with the reason
where nothing is readable. The counters are a sysfs tree of plain files, built here as the
kernel lays it out (this machine has none)."""

from __future__ import annotations

from pathlib import Path

from whichmodel.bench.energy import domains, joules


def _domain(root: Path, folder: str, name: str, uj: int, max_uj: int = 2**32) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "name").write_text(f"{name}\n")
    (path / "energy_uj").write_text(f"{uj}\n")
    (path / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return path / "energy_uj"


def test_packages_are_summed_subdomains_left_out_and_a_wrap_undone(tmp_path: Path) -> None:
    p0 = _domain(tmp_path, "intel-rapl:0", "package-0", 1_000_000)
    p1 = _domain(tmp_path, "intel-rapl:1", "package-1", 999_000, max_uj=1_000_000)
    _domain(tmp_path, "intel-rapl:0:0", "core", 5)  # inside package-0: counted there already
    found, why = domains(tmp_path)
    assert why is None and [d.name for d in found] == ["package-0", "package-1"]

    def work() -> str:
        p0.write_text("3500000\n")  # +2.5 J
        p1.write_text("500000\n")  # wrapped at 1 J: +0.001 J to the top, then +0.5 J
        return "done"

    result, used = joules(work, found)
    assert result == "done"
    assert abs(used - (2.5 + 0.001 + 0.5)) < 1e-9


def test_no_counters_is_unknown_with_the_reason(tmp_path: Path) -> None:
    found, why = domains(tmp_path / "absent")
    assert found == [] and why is not None and "does not exist here" in why
    (tmp_path / "empty").mkdir()
    found, why = domains(tmp_path / "empty")
    assert found == [] and why == f"no RAPL package domain under {tmp_path / 'empty'}"


def test_a_profile_says_what_its_energy_is_or_why_not() -> None:
    from whichmodel.bench.base import CostProfile
    from whichmodel.bench.timing import Latency
    from whichmodel.report.bench import notes

    lat = Latency.from_samples([1e-3] * 20)
    base = dict(framework="torch", architecture="CNN", parameters=10, size_on_disk_bytes=1,
                load_time_s=0.1, first_call_s=0.01, latency={1: lat}, peak_rss_bytes=1,
                model_memory_bytes=1, threads=1)  # fmt: skip
    unknown = CostProfile(**base, energy_note="no RAPL energy counters: /x does not exist here")
    assert "Energy: unknown (no RAPL energy counters: /x does not exist here)." in notes(unknown)
    known = CostProfile(**base, energy_j_per_example={1: 0.0123}, energy_note="RAPL counters")
    assert "Energy per example: batch 1: 0.0123 J (RAPL counters)." in notes(known)
    again = CostProfile.from_dict(known.to_dict())
    assert again.energy_j_per_example == {1: 0.0123} and again.energy_note == "RAPL counters"
