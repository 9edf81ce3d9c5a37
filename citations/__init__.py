"""Everything that knows bibliographies, ranking, models and resolution."""
