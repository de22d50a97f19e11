"""Answer pipeline: understand → retrieve → compose (or calculate) → grounded answer with citations."""
