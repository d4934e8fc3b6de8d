-- A stop asked for a running turn, seen by its runner on whichever replica holds it.
ALTER TABLE chat_turns ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
