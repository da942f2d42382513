"""KSD, the benefit system that sends G68 payment deliveries: a realistic, seeded generator."""

from toekgw.simulators.ksd.g68 import (
    ERROR_KINDS,
    GenerationSummary,
    GeneratorSettings,
    Planted,
    generate_lines,
    write_deliveries,
    write_delivery,
)

__all__ = [
    "ERROR_KINDS",
    "GenerationSummary",
    "GeneratorSettings",
    "Planted",
    "generate_lines",
    "write_deliveries",
    "write_delivery",
]
