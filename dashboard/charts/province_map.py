"""The province map, drawn offline: bubbles at the 34 province centroids on plain axes.

No scattergeo, choropleth, mapbox, tiles or topojson: the operator's intranet has no
internet, and those fetch map data from a CDN. Plain x/y axes with longitude and
latitude at an equal ground scale still draw Vietnam's S shape from the centroids;
the Hoàng Sa and Trường Sa archipelagos are marked as on every Vietnamese map.

Colour shows the chosen KPI (a red–green scale oriented by whether up is good); size
shows the customer base, so a small province's extreme rate does not dominate.
"""

import math

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.axes import axis_format
from dashboard.charts.components import measure_label, style_figure
from dashboard.frame import session
from dashboard.frame.filter_options import FilterOptions
from dashboard.frame.section import section
from dashboard.text.formatting import format_number, format_value
from dashboard.text.strings import t

MAP_HEIGHT = 640
MAX_BUBBLE_PX = 38
MIN_BUBBLE_PX = 8
MID_LATITUDE = 16.0  # degrees; one degree of longitude is cos(16°) of a degree of latitude here
ARCHIPELAGOS = (
    # (Vietnamese name, English name, lon, lat): approximate centres, for orientation only
    ("Quần đảo Hoàng Sa", "Hoang Sa (Paracel) Islands", 112.0, 16.5),
    ("Quần đảo Trường Sa", "Truong Sa (Spratly) Islands", 114.0, 10.0),
)
GOOD_TO_BAD = ["#1E8E3E", "#F4B400", "#D93025"]
# Names written on the map: the six centrally-run cities (and the chosen provinces). Writing
# all 34 makes the Red River Delta unreadable; every bubble names itself on hover.
# code -> where the name sits, away from the crowded neighbours
LABELLED = {
    "01": "middle left",
    "31": "middle right",
    "46": "middle right",
    "48": "middle right",
    "79": "middle right",
    "92": "bottom left",
}


def colour_scale(direction: int) -> list[list]:
    """Green for good values, red for bad ones; neutral measures use one hue."""
    if direction == 0:
        return [[0.0, "#FDE0DD"], [1.0, "#D71920"]]
    colours = GOOD_TO_BAD if direction < 0 else list(reversed(GOOD_TO_BAD))
    return [[index / (len(colours) - 1), colour] for index, colour in enumerate(colours)]


def bubble_sizes(sizes: list[float | None]) -> list[float]:
    """Area proportional to size (diameter ∝ √size), clamped to a readable range."""
    largest = max((size for size in sizes if size), default=0)
    if not largest:
        return [MIN_BUBBLE_PX for _ in sizes]
    return [max(MIN_BUBBLE_PX, MAX_BUBBLE_PX * math.sqrt((size or 0) / largest)) for size in sizes]


def map_figure(
    frame: pl.DataFrame,
    measure,
    options: FilterOptions,
    lang: str,
    selected: tuple[str, ...] = (),
) -> go.Figure:
    """frame: [province_code, value] and optionally [size]; one bubble per visible province.

    customdata[0] of each point is the province code: the click handler reads it.
    """
    rows = {row["province_code"]: row for row in frame.iter_rows(named=True)}
    provinces = [option for option in options.provinces if option.code in rows]
    values = [rows[option.code]["value"] for option in provinces]
    sizes = [rows[option.code].get("size") for option in provinces]
    names = [option.name(lang) for option in provinces]
    hover = [
        f"<b>{name}</b><br>{measure_label(measure, lang)}: {format_value(value, measure.unit, lang)}"
        + (f"<br>{t('bubble_size_note', lang)}: {format_number(size, lang)}" if size is not None else "")
        for name, value, size in zip(names, values, sizes, strict=True)
    ]
    known = [value for value in values if value is not None]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[option.lon for option in provinces],
            y=[option.lat for option in provinces],
            mode="markers+text",
            text=[
                name if option.code in LABELLED or option.code in selected else ""
                for name, option in zip(names, provinces, strict=True)
            ],
            textposition=[LABELLED.get(option.code, "middle right") for option in provinces],
            textfont={"size": 10, "color": "#444"},
            customdata=[[option.code] for option in provinces],
            hovertext=hover,
            hoverinfo="text",
            marker={
                "size": bubble_sizes(sizes),
                "color": [value if value is not None else float("nan") for value in values],
                "colorscale": colour_scale(measure.direction),
                "cmin": min(known) if known else None,
                "cmax": max(known) if known else None,
                "line": {
                    "width": [3 if option.code in selected else 0.5 for option in provinces],
                    "color": ["#000" if option.code in selected else "#fff" for option in provinces],
                },
                "opacity": 0.9,
                "showscale": bool(known),
                "colorbar": {"title": {"text": ""}, "thickness": 12, "len": 0.6, **axis_format(measure.unit)},
            },
            name=measure_label(measure, lang),
            showlegend=False,
        )
    )
    for name_vi, name_en, lon, lat in ARCHIPELAGOS:
        figure.add_annotation(
            x=lon,
            y=lat,
            text=name_en if lang == "en" else name_vi,
            showarrow=False,
            font={"size": 10, "color": "#888"},
        )
        figure.add_trace(
            go.Scatter(
                x=[lon],
                y=[lat - 0.35],
                mode="markers",
                marker={"symbol": "circle-open", "size": 6, "color": "#888"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    hidden_axis = {"visible": False, "showgrid": False, "zeroline": False}
    figure.update_layout(
        title=f"{t('map_title', lang)}: {measure_label(measure, lang)}",
        xaxis={**hidden_axis, "range": [101.5, 116.0]},
        # Equal ground scale: a degree of latitude is longer than a degree of longitude.
        yaxis={
            **hidden_axis,
            "range": [8.0, 24.0],
            "scaleanchor": "x",
            "scaleratio": 1 / math.cos(math.radians(MID_LATITUDE)),
        },
        plot_bgcolor="#F5F8FB",
        dragmode=False,
        clickmode="event+select",
    )
    return style_figure(figure, lang, height=MAP_HEIGHT)


def selected_codes(selection_points: list[dict]) -> tuple[str, ...]:
    """Province codes of the clicked bubbles (plotly selection event from st.plotly_chart)."""
    codes: list[str] = []
    for point in selection_points:
        data = point.get("customdata")
        if isinstance(data, list | tuple) and data and isinstance(data[0], str) and data[0] not in codes:
            codes.append(data[0])
    return tuple(codes)


@section
def map_panel(view, measures: dict, measure_names: tuple[str, ...], default: str, load, *, key: str) -> None:
    """KPI chooser, the map, and a province picker; a click or a choice filters the dashboard.

    load(measure_name) -> frame for map_figure. Both the click and the picker go through
    dashboard.frame.session.choose_provinces (a callback, so the sidebar shows the new filter
    on the very next run).
    """
    import streamlit as st

    lang, options = view.lang, view.options
    measure_key, chart_key, picker_key = f"{key}_measure", f"{key}_chart", f"{key}_province"
    rejected = session.seed_page_choice(measure_key, "map", measure_names, default)
    if rejected:
        st.warning(t("notice_ignored_params", lang, items=rejected))
    measure_name = st.selectbox(
        t("map_measure", lang),
        measure_names,
        format_func=lambda name: measure_label(measures[name], lang),
        key=measure_key,
    )
    session.remember_page_choice("map", measure_name)
    measure = measures[measure_name]
    figure = map_figure(load(measure_name), measure, options, lang, selected=view.filters.provinces)
    st.plotly_chart(
        figure,
        key=chart_key,
        on_select=lambda: session.choose_provinces(selected_codes(st.session_state[chart_key].selection.points)),
        selection_mode="points",
        config={"displaylogo": False, "scrollZoom": False},
    )
    codes = ("",) + options.province_codes()
    names = {option.code: option.name(lang) for option in options.provinces}
    session.sync_province_picker(picker_key, view.filters.provinces)
    st.selectbox(
        t("map_pick_province", lang),
        codes,
        format_func=lambda code: names.get(code, t("map_no_province", lang)),
        key=picker_key,
        on_change=lambda: session.choose_provinces(tuple(code for code in [st.session_state[picker_key]] if code)),
    )
    st.caption(t("map_hint", lang))
