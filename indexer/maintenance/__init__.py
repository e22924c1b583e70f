"""Index upkeep: garbage collection (`gc`), consistency checks and repair (`doctor`)."""
