"""The estimator's sensitivity chart, drawn on the server as SVG.

A strict Content-Security-Policy forbids inline style and script, so the chart is plain SVG with
presentation attributes, and the page shows the same figures in a table beside it (as the registry's
statistics do).  Each input gets a bar from the cost per use at one end of its range to the cost per use at
the other; a vertical line marks the cost per use with every input at its expected value.
"""

from html import escape

LABEL_WIDTH = 250
VALUE_WIDTH = 80
TOP = 24


def _attr(text):
    return escape(text, quote=True)


def _shorten(name, length=40):
    """A label that fits beside the bars; the table beside the chart has it whole."""
    return name if len(name) <= length else name[: length - 1].rstrip() + '…'


def swing_chart_svg(title, rows, base, label, width=680, bar_height=24):
    """``rows``: (input's title, cost per use at its low end, at its high end); ``label`` formats a value."""
    rows = [(name, low, high) for name, low, high in rows if low is not None and high is not None]
    height = TOP + bar_height * max(1, len(rows)) + 8
    values = [base] + [v for _name, low, high in rows for v in (low, high)]
    values = [v for v in values if v is not None]
    smallest, biggest = (min(values), max(values)) if values else (0, 1)
    span = (biggest - smallest) or 1
    plot = width - LABEL_WIDTH - 2 * VALUE_WIDTH

    def x(value):
        return LABEL_WIDTH + VALUE_WIDTH + (value - smallest) / span * plot

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart sensitivity-chart" aria-label="{_attr(title)}">'
    ]
    if base is not None:
        parts.append(
            f'<line x1="{x(base):.1f}" y1="{TOP - 6}" x2="{x(base):.1f}" y2="{height - 4}" '
            f'stroke="#000" stroke-dasharray="4 3"/>'
            f'<text x="{x(base):.1f}" y="{TOP - 10}" text-anchor="middle">{escape(label(base))}</text>'
        )
    for i, (name, low, high) in enumerate(rows):
        y = TOP + i * bar_height
        left, right = sorted((low, high))
        bar = max(1.0, x(right) - x(left))
        text_y = f'{y + bar_height * 0.68:.1f}'
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{text_y}" text-anchor="end">{escape(_shorten(name))}</text>'
            f'<rect x="{x(left):.1f}" y="{y + 4}" width="{bar:.1f}" height="{bar_height - 8}" '
            'fill="#4b2882"/>'
            f'<text x="{x(left) - 6:.1f}" y="{text_y}" text-anchor="end">{escape(label(left))}</text>'
            f'<text x="{x(left) + bar + 6:.1f}" y="{text_y}">{escape(label(right))}</text>'
        )
    parts.append('</svg>')
    return ''.join(parts)
