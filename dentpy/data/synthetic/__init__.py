"""The synthetic dental world: seeded panoramic radiographs and CBCT-like volumes with labels.

Item ``index`` of a world with ``seed`` is a pure function of ``(seed, index)``, generated on
demand (no disk), identical on every call.
"""

from dentpy.data.synthetic.panoramic import (
    DAC_CLASS_RANGES,
    FRAMINGS,
    MIN_PANORAMIC_SIZE,
    OSTEOPOROSIS_T_SCORE,
    PanoramicSample,
    Positioning,
    make_panoramic,
    restoration_class,
)
from dentpy.data.synthetic.volume import MIN_VOLUME_SIZE, VolumeSample, make_volume

__all__ = [
    "DAC_CLASS_RANGES",
    "FRAMINGS",
    "MIN_PANORAMIC_SIZE",
    "MIN_VOLUME_SIZE",
    "OSTEOPOROSIS_T_SCORE",
    "PanoramicSample",
    "Positioning",
    "VolumeSample",
    "make_panoramic",
    "make_volume",
    "restoration_class",
]
