"""The curriculum: concepts, lessons and prerequisites, read from lessons/ and synced to the DB."""
