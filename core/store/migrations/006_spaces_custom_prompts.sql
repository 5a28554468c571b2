-- Facilitators and channel limits per space, a poll duration and "members may post" per channel,
-- and the questions facilitators type in chat. No table here holds a vote; the only member ids are
-- the Slack members named as facilitators (role data, like an admin list).

-- NULL: the bot's default duration. Whole seconds.
ALTER TABLE channel_settings ADD COLUMN poll_duration_s INTEGER CHECK (poll_duration_s > 0);
ALTER TABLE channel_settings ADD COLUMN members_post INTEGER NOT NULL DEFAULT 0 CHECK (members_post IN (0, 1));

-- One row per member of a space's sets; a space with no rows has the default (empty) sets.
CREATE TABLE space_settings (
    space_id TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('facilitator_role', 'facilitator', 'channel')),
    value    TEXT NOT NULL,
    PRIMARY KEY (space_id, kind, value)
) WITHOUT ROWID;

-- A facilitator's own question. Its prompt id is 'custom-<id>'; AUTOINCREMENT so an id, which
-- polls keep, can never name a different question later. Nothing records who wrote it.
CREATE TABLE custom_prompts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    space_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    question   TEXT NOT NULL,
    options    TEXT NOT NULL,  -- JSON list of {id, label, emoji, meaning, lean}
    uses_scale INTEGER NOT NULL CHECK (uses_scale IN (0, 1)),
    low_means  TEXT NOT NULL DEFAULT '',  -- scale questions: what -2 and +2 mean here
    high_means TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX custom_prompts_by_space ON custom_prompts (space_id);
