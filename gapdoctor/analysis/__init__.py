"""Shared measurements the rules weigh: curves, margins, feature shift, reference models."""
