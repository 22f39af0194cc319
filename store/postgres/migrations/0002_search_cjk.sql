-- Chinese and Japanese text becomes searchable by word: PostgreSQL's
-- parser takes a run of those scripts, and any Latin letters inside it,
-- for one word, so a search for one word of a headline found nothing.
-- storyline_search_text writes text the way the Go function
-- searchtext.Index does (in NFKC, each run as its overlapping character
-- pairs, then its characters, separated by spaces) and entries.search indexes
-- that form; Search rewrites a query's runs into pairs the same way.
-- The ranges of characters are those of searchtext.runeRanges, and a
-- test compares the two functions on the same strings.
--
-- Both functions are set-based: a loop appending to a string copies it at
-- every step, which took seconds for an article's text of 40,000
-- characters, on every save and for every row of this migration.
--
-- storyline_search_pairs is one run written as its pairs, then its
-- characters.
CREATE FUNCTION storyline_search_pairs(run TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN char_length(run) = 1 THEN run ELSE (
        SELECT string_agg(c || next, ' ' ORDER BY i)
        FROM (SELECT c, i, lead(c) OVER (ORDER BY i) AS next
              FROM unnest(regexp_split_to_array(run, '')) WITH ORDINALITY AS u (c, i)) AS p
        WHERE next IS NOT NULL
    ) || ' ' || array_to_string(regexp_split_to_array(run, ''), ' ') END
$$;

-- storyline_search_text folds the text to NFKC first, as searchtext.fold
-- does: full-width Latin and digits become ASCII, half-width katakana
-- full-width. PostgreSQL normalizes only in a UTF8 database; in another
-- encoding the text is left as it is, as its Chinese or Japanese was.
CREATE FUNCTION storyline_search_text(t TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN u !~ '[\u3005-\u3007\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]' THEN u ELSE (
        SELECT string_agg(CASE WHEN m[1] IS NULL THEN m[2] ELSE ' ' || storyline_search_pairs(m[1]) || ' ' END, '' ORDER BY n)
        FROM regexp_matches(u, '([\u3005-\u3007\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]+)|([^\u3005-\u3007\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]+)', 'g') WITH ORDINALITY AS x (m, n)
    ) END
    FROM (SELECT CASE WHEN current_setting('server_encoding') <> 'UTF8' THEN t
                      WHEN t IS NFKC NORMALIZED THEN t
                      ELSE normalize(t, NFKC) END AS u) AS folded
$$;

DROP INDEX entries_search;
ALTER TABLE entries DROP COLUMN search;
ALTER TABLE entries ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', storyline_search_text(title)), 'A') ||
    setweight(to_tsvector('simple', storyline_search_text(text)), 'B') ||
    setweight(to_tsvector(storyline_ts_config(language), storyline_search_text(title)), 'C') ||
    setweight(to_tsvector(storyline_ts_config(language), storyline_search_text(text)), 'D')) STORED;
CREATE INDEX entries_search ON entries USING GIN (search);
