"""The Kaikukortti cost-benefit estimator's arithmetic, with nothing of the web in it.

- :mod:`portal.estimator.ranges`: low / expected / high quantities and their arithmetic;
- :mod:`portal.estimator.model`: the inputs, the volumes, the cost lines and who pays them;
- :mod:`portal.estimator.analysis`: sensitivity one input at a time, break-even and scenarios.

The package was one module until the cost model grew past what one room holds.
"""

from portal.estimator.analysis import Scenario, Swing, break_even_activation, scenarios, sensitivity
from portal.estimator.model import (
    DEFAULT_PAYERS,
    LINE_NAMES,
    LINES,
    PAYERS,
    SECTORS,
    Inputs,
    Result,
    estimate,
    funding_split,
    rates_from_statistics,
    uses_by_sector,
)
from portal.estimator.ranges import Range, percent, total

__all__ = [
    'DEFAULT_PAYERS',
    'LINES',
    'LINE_NAMES',
    'PAYERS',
    'SECTORS',
    'Inputs',
    'Range',
    'Result',
    'Scenario',
    'Swing',
    'break_even_activation',
    'estimate',
    'funding_split',
    'percent',
    'rates_from_statistics',
    'scenarios',
    'sensitivity',
    'total',
    'uses_by_sector',
]
