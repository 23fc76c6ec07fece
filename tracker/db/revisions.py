"""The schema revisions this tracker knows, oldest first: the head is the last.

Standard library only, so `tracker status` can tell a current database from
one that needs an upgrade without loading SQLAlchemy. A test asserts this
list matches the migration scripts in migrations/versions.
"""

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")
HEAD_REVISION = REVISIONS[-1]
