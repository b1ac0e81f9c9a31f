-- Search ranks the whole corpus (issue 12). The vocabulary now keeps every word, short ones
-- too (their counts are the idf of a search), with its stem (the other forms of a word); it
-- is rebuilt at the next search.
DROP TABLE search_vocabulary;
CREATE TABLE search_vocabulary (
    term     TEXT    PRIMARY KEY,
    passages INTEGER NOT NULL,
    stem     TEXT    NOT NULL
) WITHOUT ROWID;
DELETE FROM corpus_meta WHERE key = 'vocabulary';

-- "Champion lists": for each word (and 2-3 letter prefix) in many passages, the passages
-- where it weighs most (its
-- bm25 without the idf, best first), as little-endian 64-bit rowids. A search for common words
-- ranks these candidates instead of every match. 'champions' in corpus_meta is the corpus
-- generation they were computed from.
CREATE TABLE search_champions (
    term     TEXT    PRIMARY KEY,  -- a word, or a prefix as 'th*'
    rowids   BLOB    NOT NULL,
    passages INTEGER NOT NULL      -- how many passages have it
) WITHOUT ROWID;
