"""Storage: engine setup, typed models, and the schema check that runs migrations when due."""
