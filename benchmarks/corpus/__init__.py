"""A wide corpus of real Keras trainings with known faults (see README.md)."""
