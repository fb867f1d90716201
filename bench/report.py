"""The printed table and the JSON file of a benchmark run."""

import json
import platform
from datetime import datetime
from pathlib import Path

from bench.config import RESULTS_DIR

# Targets of issue 8 (seconds, per page: all its selects together).
TARGETS = {
    ("duckdb", "cold"): 1.0,
    ("duckdb", "change"): 0.3,
    ("postgresql", "cold"): 2.0,
    ("demo", "cold"): 0.5,
}
MEMORY_TARGET_MB = 2048


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": None, "memory_gb": None}
    try:
        import os

        info["cpus"] = os.cpu_count()
        with open("/proc/meminfo") as handle:
            total_kb = int(handle.readline().split()[1])
        info["memory_gb"] = round(total_kb / 1024 / 1024, 1)
        with open("/proc/cpuinfo") as handle:
            models = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        info["cpu"] = models[0] if models else None
    except OSError:
        pass
    return info


def target_for(warehouse: dict, kind: str) -> float | None:
    if warehouse["customers"] <= 200_000 and kind == "cold":
        return TARGETS[("demo", "cold")]
    return TARGETS.get((warehouse["backend"], kind))


# What the user waits for in the browser (issue 17): first screen of a page, a filter change
# until every chart is redrawn (p95), a section's own control (p95).
FIRST_SCREEN_TARGET_S, FILTER_CHANGE_TARGET_S, SECTION_TARGET_S = 1.0, 0.6, 0.3


def _mark(value: float, target: float | None) -> str:
    if target is None:
        return " "
    return "✓" if value <= target else "✗"


def table(results: dict) -> str:
    lines = []
    header = (
        f"{'warehouse':<22} {'page':<11} {'filters':<10} {'sel':>4} {'rows':>6} "
        f"{'cold p50':>9} {'cold p95':>9}   {'warm p50':>9} {'warm p95':>9}   {'render':>7}"
    )
    for warehouse in results["warehouses"]:
        lines += ["", header, "-" * len(header)]
        label = f"{warehouse['backend']} {warehouse['customers']:,}" + (" raw" if warehouse.get("raw") else "")
        cold_target = target_for(warehouse, "cold")
        change_target = target_for(warehouse, "change")
        for row in warehouse["pages"]:
            cold, warm = row["cold"], row["warm"]
            after_change = row["variant"] != "default"
            lines.append(
                f"{label:<22} {row['page']:<11} {row['variant']:<10} {row['statements']:>4} {row['rows']:>6} "
                f"{cold['p50']:>9.3f} {cold['p95']:>9.3f}{_mark(cold['p95'], cold_target)}  "
                f"{warm['p50']:>9.3f} {warm['p95']:>9.3f}{_mark(warm['p95'], change_target) if after_change else ' '}  "
                f"{row['render_s']:>7.2f}" + ("  ERRORS" if row["errors"] else "")
            )
        memory = warehouse.get("peak_rss_mb")
        if memory:
            lines.append(
                f"{label:<22} peak memory of the process that rendered the pages: {memory:,.0f} MB "
                f"{_mark(memory, MEMORY_TARGET_MB)}"
            )
        for row in warehouse.get("lists", ()):
            lines.append(
                f"{label:<22} customer list (count + first page) {row['case']:<32} "
                f"cold p95 {row['cold']['p95']:6.3f} s, warm p95 {row['warm']['p95']:6.3f} s"
            )
        browser = warehouse.get("browser")
        if browser:
            for page, timing in browser["pages"].items():
                change, section = timing["filter_change"], timing.get("section")
                lines.append(
                    f"{label:<22} browser {page:<11} first screen {timing['first_screen_s']:5.2f} s"
                    f"{_mark(timing['first_screen_s'], FIRST_SCREEN_TARGET_S)}, "
                    f"whole page {timing['open_s']:5.2f} s ({timing['open_bytes'] / 1024:,.0f} KB); "
                    f"filter change p50 {change['p50_s']:5.2f} p95 {change['p95_s']:5.2f} s"
                    f"{_mark(change['p95_s'], FILTER_CHANGE_TARGET_S)} ({change['mean_bytes'] / 1024:,.0f} KB)"
                    + (
                        f"; section control p50 {section['p50_s']:5.2f} p95 {section['p95_s']:5.2f} s"
                        f"{_mark(section['p95_s'], SECTION_TARGET_S)} ({section['mean_bytes'] / 1024:,.0f} KB)"
                        if section
                        else ""
                    )
                )
            if browser.get("server_peak_rss_mb"):
                lines.append(
                    f"{label:<22} streamlit server peak memory {browser['server_peak_rss_mb']:,.0f} MB "
                    f"{_mark(browser['server_peak_rss_mb'], MEMORY_TARGET_MB)}"
                )
    lines.append("")
    lines.append(
        "seconds, all of a page's selects run one after another; cold = fresh engine, warm = repeated "
        "(what a filter change costs); ✓/✗ against the targets of issue 8; browser lines: "
        "✓/✗ against 1.0 s first screen, 0.6 s filter change p95, 0.3 s section control p95 (issue 17)"
    )
    return "\n".join(lines)


def write(results: dict) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"bench-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return path
