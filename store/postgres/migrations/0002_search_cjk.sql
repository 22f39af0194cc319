-- Chinese and Japanese text becomes searchable by word: PostgreSQL's
-- parser takes a run of those scripts, and any Latin letters inside it,
-- for one word, so a search for one word of a headline found nothing.
-- storyline_search_text writes text the way the Go function
-- searchtext.Index does (each run as its overlapping character pairs,
-- then its characters, separated by spaces) and entries.search indexes
-- that form; Search rewrites a query's runs into pairs the same way.
-- The ranges of characters are those of searchtext.runeRanges, and a
-- test compares the two functions on the same strings.
CREATE FUNCTION storyline_search_text(t TEXT) RETURNS TEXT
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    cjk CONSTANT TEXT := '\u3005-\u3007\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f';
    m TEXT[];
    run TEXT;
    n INT;
    out TEXT := '';
BEGIN
    IF t !~ ('[' || cjk || ']') THEN
        RETURN t;
    END IF;
    FOR m IN SELECT regexp_matches(t, '([' || cjk || ']+)|([^' || cjk || ']+)', 'g') LOOP
        IF m[1] IS NULL THEN
            out := out || m[2];
            CONTINUE;
        END IF;
        run := m[1];
        n := char_length(run);
        out := out || ' ';
        IF n = 1 THEN
            out := out || run;
        ELSE
            FOR i IN 1 .. n - 1 LOOP
                IF i > 1 THEN
                    out := out || ' ';
                END IF;
                out := out || substr(run, i, 2);
            END LOOP;
            FOR i IN 1 .. n LOOP
                out := out || ' ' || substr(run, i, 1);
            END LOOP;
        END IF;
        out := out || ' ';
    END LOOP;
    RETURN out;
END
$$;

DROP INDEX entries_search;
ALTER TABLE entries DROP COLUMN search;
ALTER TABLE entries ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', storyline_search_text(title)), 'A') ||
    setweight(to_tsvector('simple', storyline_search_text(text)), 'B') ||
    setweight(to_tsvector(storyline_ts_config(language), storyline_search_text(title)), 'C') ||
    setweight(to_tsvector(storyline_ts_config(language), storyline_search_text(text)), 'D')) STORED;
CREATE INDEX entries_search ON entries USING GIN (search);
