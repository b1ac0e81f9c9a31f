-- The search index's vocabulary (each term, the passages it is in), for "Did you mean".
CREATE VIRTUAL TABLE passages_vocab USING fts5vocab(passages_fts, 'row');
