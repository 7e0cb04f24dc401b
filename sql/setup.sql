CREATE EXTENSION pg_exporter;

-- Helpers that take the exposition text apart, so tests can assert on
-- metric names, types and label sets without depending on volatile values.
CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;

-- One row per sample: family-less metric name, sorted label names, value.
CREATE FUNCTION regress.samples(collectors text[] DEFAULT NULL)
RETURNS TABLE(metric text, labels text, value text)
LANGUAGE sql AS $$
  SELECT m[1],
         coalesce((SELECT string_agg(l[1], ',' ORDER BY l[1])
                   FROM regexp_matches(coalesce(m[2], ''), '([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"', 'g') AS l), ''),
         m[3]
  FROM regexp_split_to_table(pgexporter.metrics(collectors), E'\n') AS line,
       regexp_match(line, '^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$') AS m
  WHERE line <> '' AND line NOT LIKE '#%'
$$;

-- One row per family: name and type from the # TYPE lines.
CREATE FUNCTION regress.families(collectors text[] DEFAULT NULL)
RETURNS TABLE(family text, type text)
LANGUAGE sql AS $$
  SELECT m[1], m[2]
  FROM regexp_split_to_table(pgexporter.metrics(collectors), E'\n') AS line,
       regexp_match(line, '^# TYPE (\S+) (\S+)$') AS m
  WHERE m IS NOT NULL
$$;

-- Distinct (metric, label set) pairs: the shape of a collector's output.
CREATE FUNCTION regress.shape(collectors text[])
RETURNS TABLE(metric text, labels text)
LANGUAGE sql AS $$
  SELECT DISTINCT metric, labels FROM regress.samples(collectors) ORDER BY 1, 2
$$;

-- Sends this session's statistics on: 15+ flush them on request; 13 and 14
-- send them to the statistics collector when a transaction ends at least
-- 500 ms (PGSTAT_STAT_INTERVAL) after the last send, which the end of this
-- statement is.
CREATE FUNCTION regress.flush_stats() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('server_version_num')::int >= 150000 THEN
    EXECUTE 'SELECT pg_stat_force_next_flush()';
  ELSE
    PERFORM pg_sleep(0.6);
  END IF;
END $$;

-- Makes the next statement read statistics that include what earlier
-- statements sent: 15+ read the shared store; 13 and 14 read the collector's
-- file, which a backend takes while it is under 500 ms old, so wait for one
-- written after this statement began (polled, at most 30 s).
CREATE FUNCTION regress.fresh_stats() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_stat_clear_snapshot();
  IF current_setting('server_version_num')::int >= 150000 THEN
    RETURN;
  END IF;
  FOR i IN 1..600 LOOP
    IF pg_stat_get_snapshot_timestamp() > statement_timestamp() THEN
      RETURN;
    END IF;
    PERFORM pg_sleep(0.05);
    PERFORM pg_stat_clear_snapshot();
  END LOOP;
  RAISE EXCEPTION 'no statistics snapshot newer than %', statement_timestamp();
END $$;

-- A collector's families on this server compared with a list: one line per
-- family, "name type [versions]", versions "17+" (17 and later), "-16" (up to
-- 16) or "16-17" (16 and 17), none: every version. One row per family
-- missing, unexpected or of another type; self-metrics and pg_up left out.
CREATE FUNCTION regress.family_diff(collectors text[], expected text)
RETURNS TABLE(family text, expected_type text, exported_type text)
LANGUAGE sql AS $$
  WITH e AS (
    SELECT f[1] AS family, f[2] AS type, nullif(f[3], '')::int AS since,
           CASE WHEN f[4] = '-' THEN nullif(f[5], '')::int ELSE NULL END AS until
    FROM regexp_split_to_table(expected, E'\n') AS line,
         regexp_match(line, '^\s*(\S+)\s+(counter|gauge|histogram|summary|untyped)(?:\s+(\d*)([-+])(\d*))?\s*$') AS f
    WHERE f IS NOT NULL
  ), want AS (
    SELECT e.family, e.type FROM e
    WHERE coalesce(current_setting('server_version_num')::int / 10000 >= e.since, true)
      AND coalesce(current_setting('server_version_num')::int / 10000 <= e.until, true)
  ), got AS (
    SELECT g.family, g.type FROM regress.families(collectors) g
    WHERE g.family <> 'pg_up' AND g.family NOT LIKE 'pg\_exporter\_collector\_%'
      AND g.family NOT LIKE 'pg\_scrape\_collector\_%'
  )
  SELECT coalesce(w.family, g.family), w.type, g.type
  FROM want w FULL JOIN got g ON g.family = w.family
  WHERE w.type IS DISTINCT FROM g.type ORDER BY 1
$$;
