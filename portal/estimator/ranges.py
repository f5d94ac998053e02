"""Interval arithmetic for quantities known as a low, an expected and a high value.

Every formula of the estimator only adds, multiplies and divides quantities that are zero or more, so the
low end of a result is the formula applied to the ends of its inputs that make it smallest (for a quotient,
the smallest numerator over the largest denominator) and the high end likewise.  The range of a result
therefore always holds the expected value, provided each input's range does.  Where an input makes a
result smaller as it grows (the share of cards the city's own services issue is 100 % less the county's),
:meth:`Range.complement` turns it round first.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """A quantity known to lie between ``low`` and ``high``, most likely ``expected``.

    A bound is None when it cannot be computed (a division by zero).
    """

    low: float | None
    expected: float | None
    high: float | None

    @classmethod
    def exactly(cls, value):
        return cls(value, value, value)

    def __iter__(self):
        return iter((self.low, self.expected, self.high))

    def _combine(self, other, op):
        other = other if isinstance(other, Range) else Range.exactly(other)
        return Range(*(_apply(op, a, b) for a, b in zip(self, other, strict=True)))

    def __add__(self, other):
        return self._combine(other, float.__add__)

    __radd__ = __add__

    def __mul__(self, other):
        return self._combine(other, float.__mul__)

    __rmul__ = __mul__

    def __truediv__(self, other):
        """The quotient's range: the smallest numerator over the largest denominator, and so on."""
        other = other if isinstance(other, Range) else Range.exactly(other)
        return Range(
            _divide(self.low, other.high),
            _divide(self.expected, other.expected),
            _divide(self.high, other.low),
        )

    def map(self, function):
        """Apply an increasing function to each bound."""
        return Range(*(None if value is None else function(value) for value in self))

    def complement(self, whole=100):
        """``whole`` less this quantity: its low end comes from this one's high end."""
        return Range(*(None if value is None else whole - value for value in reversed(tuple(self))))

    def at_expected(self):
        """The expected value as a range of its own (low = expected = high)."""
        return Range.exactly(self.expected)


def _apply(op, a, b):
    if a is None or b is None:
        return None
    return op(float(a), float(b))


def _divide(a, b):
    if a is None or b is None or b == 0:
        return None
    return float(a) / float(b)


def percent(value):
    return value / 100


def total(ranges):
    """The sum of ``ranges`` (an empty sum is exactly zero)."""
    result = Range.exactly(0.0)
    for value in ranges:
        result = result + value
    return result
