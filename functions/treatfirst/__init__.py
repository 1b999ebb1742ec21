"""TreatFirst: an open reference implementation of a city "treat first, pay later" (先医后付) platform."""

__version__ = "0.1.0"
