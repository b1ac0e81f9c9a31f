-- Search by meaning (issue 12): each document's passage vectors, in seq order, as DIMS int8
-- values each (see bot/corpus/meaning.py), with the content hash and model they were made
-- from. Built in the background; a document whose hash moved on is embedded again.
CREATE TABLE document_vectors (
    document_id  INTEGER PRIMARY KEY,
    content_hash TEXT    NOT NULL,
    model        TEXT    NOT NULL,
    vectors      BLOB    NOT NULL
);
