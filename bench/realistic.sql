-- The realistic schema of bench/scale.sh (its default mode): loaded once
-- into the bench's database, then bench_create(from, to) per batch.
--
-- Table i (public.t<i>) has id, v, a text and a jsonb column (so a TOAST
-- table and its index), a primary key and two more indexes: 3 indexes, 6
-- relations with storage per table. In every block of 80 tables the last 8
-- are the partitions of one partitioned parent public.p<block> (so a tenth
-- of the tables are partitions; the parent and its partitioned indexes have
-- no storage). Each table gets 3 rows; every third is read by a sequential
-- scan, every fifth by an index scan.

CREATE FUNCTION bench_create(first int, last int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n int;
  blk int;
  part int;
BEGIN
  SET LOCAL enable_seqscan = off;
  FOR i IN first..last LOOP
    blk := (i - 1) / 80;
    part := (i - 1) % 80 - 72;  -- 0..7: a partition of p<blk>
    IF part < 0 THEN
      EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v int, note text, doc jsonb)', i);
      EXECUTE format('CREATE INDEX t%s_v ON public.t%s (v)', i, i);
      EXECUTE format('CREATE INDEX t%s_note ON public.t%s (note)', i, i);
    ELSE
      IF part = 0 OR i = first THEN
        IF to_regclass(format('public.p%s', blk)) IS NULL THEN
          EXECUTE format('CREATE TABLE public.p%s (id int PRIMARY KEY, v int, note text, doc jsonb) '
                         'PARTITION BY RANGE (id)', blk);
          EXECUTE format('CREATE INDEX p%s_v ON public.p%s (v)', blk, blk);
          EXECUTE format('CREATE INDEX p%s_note ON public.p%s (note)', blk, blk);
        END IF;
      END IF;
      EXECUTE format('CREATE TABLE public.t%s PARTITION OF public.p%s FOR VALUES FROM (%s) TO (%s)',
                     i, blk, part * 1000, (part + 1) * 1000);
    END IF;
    EXECUTE format('INSERT INTO public.t%s SELECT g, g, md5(g::text), jsonb_build_object(''k'', g) '
                   'FROM generate_series(%s, %s) g', i, greatest(part, 0) * 1000 + 1,
                   greatest(part, 0) * 1000 + 3);
    IF i % 3 = 0 THEN
      EXECUTE format('SELECT count(*) FROM public.t%s', i) INTO n;
    END IF;
    IF i % 5 = 0 THEN
      EXECUTE format('SELECT count(*) FROM public.t%s WHERE v = 2', i) INTO n;
    END IF;
  END LOOP;
END $$;

-- One write of the light workload (pgbench calls it at a fixed rate): an
-- update of a text value, and now and then an insert and a delete, so that
-- autovacuum and autoanalyze come by the hot tables.
CREATE FUNCTION bench_write(i int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('UPDATE public.t%s SET v = v + 1, note = md5(random()::text) '
                 'WHERE id = (SELECT min(id) FROM public.t%s)', i, i);
  IF random() < 0.2 THEN
    EXECUTE format('INSERT INTO public.t%s SELECT max(id) + 1, 0, md5(random()::text), ''{}'' '
                   'FROM public.t%s', i, i);
    EXECUTE format('DELETE FROM public.t%s WHERE id = (SELECT max(id) FROM public.t%s) AND v = 0', i, i);
  END IF;
END $$;
