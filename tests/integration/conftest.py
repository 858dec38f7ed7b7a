"""The integration tests' fixtures, defined in dbhelpers beside their helpers.

Test files import helpers from dbhelpers, never from conftest: several test
folders have a conftest.py, and a plain `import conftest` would get whichever
pytest loaded last.
"""

from dbhelpers import dest, khanza_db, mariadb_db, pg_db
from hosthelpers import nas_dir, smtp, webhook

__all__ = ["dest", "khanza_db", "mariadb_db", "nas_dir", "pg_db", "smtp", "webhook"]
