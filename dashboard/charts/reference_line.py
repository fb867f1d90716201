"""A dashed reference line on a chart: a regulatory threshold, a target, an SLA limit.

Horizontal on a chart whose values run up the y axis (lines over months), vertical on
horizontal bars. The label sits at the line's end, in the line's colour.
"""

import plotly.graph_objects as go

REFERENCE_COLOUR = "#5F6368"


def add_reference(figure: go.Figure, value: float, label: str, *, vertical: bool = False) -> go.Figure:
    line = {"dash": "dash", "color": REFERENCE_COLOUR, "width": 1.5}
    font = {"color": REFERENCE_COLOUR, "size": 11}
    if vertical:
        figure.add_vline(x=value, line=line, annotation_text=label, annotation_position="top", annotation_font=font)
    else:
        figure.add_hline(
            y=value, line=line, annotation_text=label, annotation_position="top left", annotation_font=font
        )
    return figure
