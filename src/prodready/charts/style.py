"""One look for every figure: colours by meaning, a plain template, titles that say the point."""

from __future__ import annotations

import plotly.graph_objects as go

TRAINING = "#4C78A8"  # offline / training
SERVING = "#F58518"  # production / serving
GOOD = "#54A24B"
BAD = "#E45756"
NEUTRAL = "#9D9D9D"
SET_COLOURS = {"training": TRAINING, "offline": TRAINING, "serving": SERVING}


def layout(
    fig: go.Figure, *, title: str, subtitle: str | None = None, height: int = 380
) -> go.Figure:
    """Apply the house layout. The subtitle is the one-sentence reading of the figure."""
    text = f"{title}<br><sup>{subtitle}</sup>" if subtitle else title
    fig.update_layout(
        template="plotly_white",
        title={"text": text, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 30, "t": 80 if subtitle else 60, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
    )
    return fig
