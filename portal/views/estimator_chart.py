"""The estimator's sensitivity chart, drawn on the server as SVG.

A strict Content-Security-Policy forbids inline style and script, so the chart is plain SVG with
presentation attributes, and the page shows the same figures in a table beside it (as the registry's
statistics do).  Each input gets a bar from the cost per use at one end of its range to the cost per use at
the other; a vertical line marks the cost per use with every input at its expected value.
"""

from html import escape

#: Percent of the width left and right of the bars for their figures, and pixels above the rows.
VALUE_ROOM = 20
TOP = 26


def _attr(text):
    return escape(text, quote=True)


def _shorten(name, length=40):
    """A label that fits beside the bars; the table beside the chart has it whole."""
    return name if len(name) <= length else name[: length - 1].rstrip() + '…'


def swing_chart_svg(title, rows, base, label, row_height=48):
    """``rows``: (input's title, cost per use at its low end, at its high end); ``label`` formats a value.

    Each row is the input's title on a line of its own, then its bar, so that a long title needs no room
    beside the bars.  Across, the chart is drawn in percentages of its width and, down, in pixels, with no
    ``viewBox``: its text keeps the page's size at any width (scaled to its width, it wrote 8 px text on a
    phone), and only the bars grow and shrink.
    """
    rows = [(name, low, high) for name, low, high in rows if low is not None and high is not None]
    height = TOP + row_height * max(1, len(rows)) + 8
    values = [base] + [v for _name, low, high in rows for v in (low, high)]
    values = [v for v in values if v is not None]
    smallest, biggest = (min(values), max(values)) if values else (0, 1)
    span = (biggest - smallest) or 1
    plot = 100 - 2 * VALUE_ROOM

    def x(value):
        return VALUE_ROOM + (value - smallest) / span * plot

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" role="img" '
        f'class="chart sensitivity-chart" aria-label="{_attr(title)}">'
    ]
    if base is not None:
        parts.append(
            f'<line x1="{x(base):.2f}%" y1="{TOP - 6}" x2="{x(base):.2f}%" y2="{height - 4}" '
            f'stroke="#000" stroke-dasharray="4 3"/>'
            f'<text x="{x(base):.2f}%" y="{TOP - 10}" text-anchor="middle">{escape(label(base))}</text>'
        )
    for i, (name, low, high) in enumerate(rows):
        y = TOP + i * row_height
        left, right = sorted((low, high))
        bar = max(0.3, x(right) - x(left))
        bar_y = y + row_height / 2
        middle = f'y="{bar_y + (row_height / 2 - 4) / 2:.1f}" dominant-baseline="central"'
        parts.append(
            f'<text class="label" x="0" y="{y + 4}" dominant-baseline="hanging">'
            f'{escape(_shorten(name))}</text>'
            f'<rect x="{x(left):.2f}%" y="{bar_y}" width="{bar:.2f}%" height="{row_height / 2 - 4}" '
            'fill="#4b2882"/>'
            f'<text x="{x(left):.2f}%" dx="-6" {middle} text-anchor="end">{escape(label(left))}</text>'
            f'<text x="{x(left) + bar:.2f}%" dx="6" {middle}>{escape(label(right))}</text>'
        )
    parts.append('</svg>')
    return ''.join(parts)
