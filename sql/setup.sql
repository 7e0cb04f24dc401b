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
