"""The generator's phases, one module per area; seed/generator.py runs them in order."""
