-- Button state is kept while buttons use it: each row records the day it was last saved or
-- read, and rows unused for longer than the retention period are pruned (bot/core/ui_state.py).
-- The corpus generation (corpus_meta 'generation') needs no schema: it is a row, bumped by every
-- corpus commit, that every process's caches are keyed on.
ALTER TABLE ui_state ADD COLUMN used_on TEXT;
UPDATE ui_state SET used_on = substr(created_at, 1, 10);
CREATE INDEX ui_state_by_use ON ui_state (used_on);
