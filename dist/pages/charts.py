"""Adoption as an inline SVG: for each day, the share of update checks by the version the client ran, stacked;
the most common versions get a colour each and the rest are grouped. A legend in HTML says the same in text."""

from __future__ import annotations

from collections import Counter

from markupsafe import Markup, escape

from dist.domain.counts import Stats

WIDTH, HEIGHT = 360, 120
SHOWN_VERSIONS = 5
# Distinct in light and dark mode; "other" is grey.
COLOURS = ("#2563eb", "#16a34a", "#d97706", "#db2777", "#7c3aed")
OTHER_COLOUR = "#6b7280"
OTHER = "other"


def adoption_chart(stats: Stats) -> Markup:
    if stats.checks == 0:
        return Markup("<p>No update checks in the last {} days.</p>").format(len(stats.days))
    totals: Counter[str] = Counter({v.version: v.count for v in stats.checks_by_version})
    shown = [v for v, _ in totals.most_common(SHOWN_VERSIONS)]
    colour = {v: COLOURS[i] for i, v in enumerate(shown)}
    column = WIDTH / len(stats.days)
    shapes: list[str] = []
    for index, day in enumerate(stats.days):
        day_total = sum(day.checks.values())
        if not day_total:
            continue
        grouped: Counter[str] = Counter()
        for version, count in day.checks.items():
            grouped[version if version in colour else OTHER] += count
        y = float(HEIGHT)
        for version in [*shown, OTHER]:
            count = grouped.get(version, 0)
            if not count:
                continue
            height = HEIGHT * count / day_total
            y -= height
            shapes.append(
                f'<rect x="{index * column:.1f}" y="{y:.1f}" width="{max(column - 1, 1):.1f}" height="{height:.1f}" '
                f'fill="{colour.get(version, OTHER_COLOUR)}"><title>{escape(day.day.isoformat())}: '
                f"{escape(version)} {count} of {day_total}</title></rect>"
            )
    total = stats.checks
    summary = ", ".join(f"{v} {100 * totals[v] / total:.0f}%" for v in shown)
    label = f"Update checks per day by version, {stats.first_day} to {stats.last_day}: {summary}"
    legend = "".join(
        f'<li><span class="swatch" style="background:{colour[v]}"></span>{escape(v)}: '
        f"{100 * totals[v] / total:.1f}% ({totals[v]})</li>"
        for v in shown
    )
    rest = total - sum(totals[v] for v in shown)
    if rest:
        legend += (
            f'<li><span class="swatch" style="background:{OTHER_COLOUR}"></span>other versions: '
            f"{100 * rest / total:.1f}% ({rest})</li>"
        )
    return Markup(
        f'<figure class="chart"><svg role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>'
        f"<figcaption>Share of update checks per day, {stats.first_day} to {stats.last_day} (UTC)"
        f'<ul class="legend">{legend}</ul></figcaption></figure>'
    )
