"""Is a database readable and sound? Used by diagnosis (S2.5) on the live database and by
the restore drill (S3.6) on the restored copy. Reads only; returns the problems found, one
line per table or index, so the caller can name what is damaged.
"""

from . import mariadb, pg_client
from .errors import BackupError
from .session import Connection

# Every table read page by page (a damaged page fails the read, an index-only count would
# not touch it); btree indexes checked by amcheck where the extension is installed. A
# function in pg_temp vanishes with the session: nothing is left in the database.
_PG_SCAN = r"""
SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off;
CREATE FUNCTION pg_temp.spo_scan() RETURNS TABLE(what text, problem text)
LANGUAGE plpgsql AS $scan$
DECLARE r record; n bigint; amcheck boolean;
BEGIN
  FOR r IN SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables
           WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 LOOP
    BEGIN
      EXECUTE 'SELECT count(*) FROM ' || r.t INTO n;
    EXCEPTION WHEN OTHERS THEN
      what := 'table ' || r.t; problem := SQLERRM; RETURN NEXT;
    END;
  END LOOP;
  SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'amcheck') INTO amcheck;
  IF NOT amcheck THEN RETURN; END IF;
  FOR r IN SELECT c.oid, c.oid::regclass::text AS i FROM pg_index x
           JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_am a ON a.oid = c.relam
           JOIN pg_namespace s ON s.oid = c.relnamespace
           WHERE a.amname = 'btree' AND c.relpersistence <> 't' AND x.indisvalid
             AND s.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 2 LOOP
    BEGIN
      EXECUTE 'SELECT bt_index_check($1, true)' USING r.oid;
    EXCEPTION WHEN OTHERS THEN
      what := 'index ' || r.i; problem := SQLERRM; RETURN NEXT;
    END;
  END LOOP;
END $scan$;
SELECT * FROM pg_temp.spo_scan();
"""
_MARIADB_FINE = ("OK", "Table is already up to date")


def postgresql(conn: Connection, database: str, with_amcheck: bool = False) -> list[str]:
    """Problems reading ``database`` (every table; every btree index with amcheck). With
    ``with_amcheck`` the extension is created first: only for a scratch copy, never live."""
    what = f"integrity check of PostgreSQL database {database}"
    with pg_client.env(conn) as env, pg_client.psql(conn, env, database, what) as session:
        if with_amcheck:
            session.query("CREATE EXTENSION IF NOT EXISTS amcheck;")
        return [f"{name}: {problem}" for name, problem in session.query(_PG_SCAN)]


def mariadb_tables(conn: Connection, database: str, extended: bool = False) -> list[str]:
    """Problems ``CHECK TABLE`` finds in every base table of ``database``."""
    what = f"integrity check of MariaDB database {database}"
    with mariadb.session(conn, database, what) as s:
        tables = sorted(mariadb._tables(s))
        if not tables:
            return []
        names = ", ".join(mariadb._ident(t) for t in tables)
        rows = s.query(f"CHECK TABLE {names}{' EXTENDED' if extended else ''};")
    problems = []
    for row in rows:
        table, _op, kind, text = [*row, "", "", ""][:4]
        if kind.lower() == "error" or (kind.lower() == "status" and text not in _MARIADB_FINE):
            problems.append(f"table {table}: {text}")
    return problems


def reachable(engine: str, conn: Connection, database: str) -> str | None:
    """None when the server answers a query on ``database``, else why not."""
    try:
        if engine == "postgresql":
            with pg_client.env(conn) as env, pg_client.psql(conn, env, database, "a query") as s:
                s.query("SELECT 1;")
        else:
            with mariadb.session(conn, database, "a query") as s:
                s.query("SELECT 1;")
    except BackupError as exc:
        return exc.what
    return None
